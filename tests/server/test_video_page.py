"""The Video page's cost, provenance and scene thumbnails, over a really built video."""
from __future__ import annotations

import json


def seed_cost(root):
    """A generated script's provenance and two HeyGen avatar scenes in the manifest, and a price on the brand."""
    mpath = root / "build" / "test" / "beta" / "manifest.json"
    m = json.loads(mpath.read_text())
    m["script"] = {"by": "script.llm", "provider": "gemini", "model": "gemini-2.5-flash", "key": "ab" * 32,
                   "at": "2026-11-30T10:00:00Z",
                   "usage": {"calls": 3, "input_tokens": 120_000, "output_tokens": 8_000, "cost_usd": 0.05}}
    for i, secs in ((0, 42.0), (1, 48.0)):
        m["steps"][f"test/beta/avatar/{i:02d}"] = {"key": f"{i}" * 64, "kind": "avatar.heygen", "version": 1,
                                                   "facts": {"duration_s": secs}, "timing": {"seconds": 95.0}}
    mpath.write_text(json.dumps(m))
    brand = root / "brands" / "test.yaml"
    brand.write_text(brand.read_text() + "llm: {provider: gemini, model: gemini-2.5-flash, "
                                         "price_input_per_1m: 0.30, price_output_per_1m: 2.50}\n")


def test_cost_is_tokens_times_the_brand_price_and_avatar_minutes(make_client, built):
    seed_cost(built)
    c = make_client(built)
    cost = c.get("/api/videos/test/beta").json()["cost"]
    llm = cost["llm"]
    assert (llm["input_tokens"], llm["output_tokens"], llm["calls"]) == (120_000, 8_000, 3)
    assert llm["cost_usd"] == round(0.12 * 0.30 + 0.008 * 2.50, 6) == 0.056 and llm["recorded_usd"] == 0.05
    assert [a["scene"] for a in cost["avatar"]] == [0, 1] and cost["avatar_minutes"] == 1.5
    assert cost["total_usd"] == 0.056
    page = c.get("/videos/test/beta").text
    assert "$0.056" in page and "1.5 min" in page and "120,000" in page


def test_cost_without_a_script_or_avatar_is_zero(make_client, built):
    c = make_client(built)
    cost = c.get("/api/videos/test/beta").json()["cost"]
    assert cost == {"llm": None, "avatar": [], "avatar_minutes": 0.0, "total_usd": None}


def test_provenance_per_asset_and_step_table(make_client, built):
    c = make_client(built)
    d = c.get("/api/videos/test/beta").json()
    prov = {p["name"]: p for p in d["provenance"]}
    assert {"video.mp4", "thumbnail.jpg", "captions.vtt", "metadata.json"} <= set(prov)
    v = prov["video.mp4"]
    m = json.loads((built / "build" / "test" / "beta" / "manifest.json").read_text())
    assert v["step"] == m["assets"]["video.mp4"]["step"] and v["kind"] == m["assets"]["video.mp4"]["kind"]
    assert v["key"] == m["assets"]["video.mp4"]["key"][:12] and v["version"] >= 1
    assert any(t.startswith("ffmpeg") for t in v["tools"]) and v["seconds"] is not None and v["started"]
    assert all(s["key"] and len(s["key"]) == 12 for s in d["steps"])
    page = c.get("/videos/test/beta").text
    assert "Provenance" in page and v["key"] in page and "<details" in page


def test_scene_thumbnails_are_made_once_and_served_as_jpeg(make_client, built):
    c = make_client(built)
    d = c.get("/api/videos/test/beta").json()
    urls = [s["thumb_url"] for s in d["scenes"]]
    digest = d["assets"]["video.mp4"]
    assert urls == [f"/thumbs/{digest}/0.jpg", f"/thumbs/{digest}/1.jpg"]
    thumbs = c.app.state.thumbs
    bodies = []
    for u in urls:
        r = c.get(u)
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", r.text
        assert r.content[:3] == b"\xff\xd8\xff" and "immutable" in r.headers["cache-control"]
        bodies.append(r.content)
    assert bodies[0] != bodies[1]  # two different slides
    assert thumbs.made == 2
    cached = sorted((built / "cache" / "studio" / "thumbs" / digest[:2]).iterdir())
    assert [p.name for p in cached] == [f"{digest}-000.jpg", f"{digest}-001.jpg"]  # no temp files left
    page = c.get("/videos/test/beta").text
    assert f'src="{urls[0]}"' in page
    assert c.get(urls[1]).content == bodies[1] and thumbs.made == 2  # not made again
    c2 = make_client(built)  # a new app instance serves the cached frames without ffmpeg
    c2.get("/api/videos/test/beta")
    assert c2.get(urls[0]).status_code == 200 and c2.app.state.thumbs.made == 0
    for bad in (f"/thumbs/{digest}/9.jpg", f"/thumbs/{'0' * 64}/0.jpg", f"/thumbs/{digest}/..%2f0.jpg",
                f"/thumbs/{digest}/0.png", "/thumbs/abc/0.jpg"):
        assert c.get(bad).status_code == 404, bad


def test_the_build_worker_queues_the_scene_thumbnails(make_client, built):
    c = make_client(built)
    q = c.app.state.queue
    q.request(["test/beta"], profiles=("final",))
    assert q.wait_idle(30)
    digest = json.loads((built / "build" / "test" / "beta" / "manifest.json").read_text())["assets"]["video.mp4"]["digest"]
    thumbs = c.app.state.thumbs
    assert thumbs.get(digest, 1, timeout=30) is not None and thumbs.made == 2
