from studio_support import login


def test_home_and_api_answer(make_client, mini):
    c = make_client(mini)
    c.app.state.queue.wait_idle(30)
    r = c.get("/")
    assert r.status_code == 200, r.text
    assert "Alpha" in r.text or "alpha" in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    r = c.get("/api/videos")
    assert r.status_code == 200, r.text
    vids = [v["video"] for b in r.json()["brands"] for v in b["videos"]]
    assert vids == ["test/alpha", "test/beta"]
    assert c.get("/schema/openapi.json").status_code == 200
    csrf = login(c)
    assert csrf
