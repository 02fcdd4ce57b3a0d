"""Login token, sessions, CSRF on every mutation (127.0.0.1 included), LAN refusal, headers, body limit."""
from __future__ import annotations

import os
import stat

import pytest

from studio_support import TOKEN, login
from server import security
from server.__main__ import main
from server.security import StudioRefused, check_start, ensure_token


def test_token_is_created_once_0600_outside_the_repo(tmp_path):
    path = tmp_path / "cfg" / "studio-token"
    token, created = ensure_token(path)
    assert created and len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created2 = ensure_token(path)
    assert again == token and not created2
    with pytest.raises(StudioRefused, match="outside the project"):
        check_start("127.0.0.1", tmp_path / "proj" / "studio-token", tmp_path / "proj")


def test_token_path_follows_config_dir(tmp_path):
    assert security.token_path({"SHOWRUNNER_CONFIG_DIR": str(tmp_path)}) == tmp_path / "studio-token"
    assert security.token_path({"HOME": "/h"}).name == "studio-token"


def test_lan_host_refuses_without_a_token(tmp_path):
    path = tmp_path / "cfg" / "studio-token"
    with pytest.raises(StudioRefused, match="refusing to listen on 0.0.0.0"):
        check_start("0.0.0.0", path)
    assert not path.exists()  # a LAN start never creates the token
    ensure_token(path)
    token, created = check_start("0.0.0.0", path)
    assert token and not created
    os.chmod(path, 0o644)
    with pytest.raises(StudioRefused, match="readable by other users"):
        check_start("0.0.0.0", path)


def test_main_prints_the_login_link_once_and_refuses_lan(tmp_path, mini, monkeypatch):
    monkeypatch.setenv("SHOWRUNNER_CONFIG_DIR", str(tmp_path / "cfg"))
    lines: list[str] = []
    assert main(["--host", "0.0.0.0", "--root", str(mini)], run=lambda: None, out=lines.append) == 2
    assert "refusing" in lines[0]
    lines.clear()
    assert main(["--root", str(mini), "--no-watch"], run=lambda: None, out=lines.append) == 0
    text = "\n".join(lines)
    assert "http://127.0.0.1:8000/" in text and "/login?token=" in text
    lines.clear()
    assert main(["--root", str(mini), "--no-watch"], run=lambda: None, out=lines.append) == 0
    assert "/login?token=" not in "\n".join(lines)  # shown once


def test_mutations_need_session_and_csrf_on_loopback(make_client, mini):
    c = make_client(mini)
    url = "/api/videos/test/alpha/build"
    assert c.post(url).status_code == 401                      # no session
    csrf = login(c)
    assert c.post(url).status_code == 403                      # session, no CSRF
    assert c.post(url, headers={"X-CSRF-Token": "x" * 64}).status_code == 403
    assert c.post(url, headers={"X-CSRF-Token": csrf}).status_code == 202
    # the form field works too (the logout form)
    r = c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303


def test_bad_login_and_forged_cookie(make_client, mini):
    c = make_client(mini)
    r = c.get("/login?token=wrong", follow_redirects=False)
    assert r.status_code == 401 and TOKEN not in r.text
    c.cookies.set("studio_session", "abc.def")
    assert c.post("/api/videos/test/alpha/build", headers={"X-CSRF-Token": "x"}).status_code == 401
    ok = c.get(f"/login?token={TOKEN}", follow_redirects=False)
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_lan_host_needs_login_for_reads(make_client, mini):
    c = make_client(mini, host="0.0.0.0")
    assert c.get("/").status_code == 401
    assert c.get("/api/videos").status_code == 401
    assert c.get("/static/app.css").status_code == 200
    login(c)
    assert c.get("/api/videos").status_code == 200


def test_headers_body_limit_and_no_secrets(make_client, mini):
    c = make_client(mini)
    for path in ("/", "/api/videos", "/static/app.js", "/nope"):
        r = c.get(path)
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert TOKEN not in r.text
    csrf = login(c)
    page = c.get("/").text
    assert TOKEN not in page and "<script>" not in page  # no inline script; JS is served as a file
    r = c.post("/api/videos/test/alpha/reviews", content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
               headers={"X-CSRF-Token": csrf, "content-type": "application/json"})
    assert r.status_code == 413
