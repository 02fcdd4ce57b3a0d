"""No secret (client secret, refresh or access token) ends up in the repo, the ledger, build/, cache/ or logs."""
from __future__ import annotations

import base64
import json
import logging
import threading
import urllib.request
import webbrowser

import pytest

from publish import auth, cli, publisher
from publish_support import COSMOS, SECRETS


def _follow(url: str) -> None:
    with urllib.request.urlopen(url, timeout=10) as resp:
        resp.read()


def test_secrets_stay_out_of_repo_ledger_build_and_logs(world, monkeypatch, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    # 1. a real consent flow, so a brand-new refresh token exists
    secrets_file = world.config / "client_secret.json"
    auth.write_private(secrets_file, json.dumps({"installed": {
        "client_id": world.fake.client_id, "client_secret": world.fake.client_secret,
        "auth_uri": world.fake.url + "o/oauth2/auth", "token_uri": world.fake.url + "token",
        "redirect_uris": ["http://localhost"]}}).encode())
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")

    class Browser:
        def open(self, url, new=0, autoraise=True):
            threading.Thread(target=_follow, args=(url,), daemon=True).start()
            return True

    monkeypatch.setattr(webbrowser, "get", lambda using=None: Browser())
    world.fake.consent_channel = COSMOS
    cli.auth("cosmos", root=world.root, out=world.out, host="127.0.0.1")
    # 2. a publish that crashes after the upload (a session is persisted), then completes
    (world.root / "cache").mkdir()
    (world.root / "cache" / "note.txt").write_text("cache contents")
    world.build()
    world.approve()

    def boom(unit, video):
        raise RuntimeError("crash")

    monkeypatch.setattr(publisher, "after_upload_hook", boom)
    with pytest.raises(RuntimeError):
        world.publish()
    monkeypatch.setattr(publisher, "after_upload_hook", lambda unit, video: None)
    world.fake.expire_access_tokens()  # force a refresh mid-run as well
    assert world.publish().ok, world.text
    world.analytics()

    basic = base64.b64encode(f"{world.fake.client_id}:{world.fake.client_secret}".encode()).decode()
    secrets = {world.fake.client_secret, SECRETS["cosmos_refresh"], SECRETS["garden_refresh"], basic,
               *world.fake.refresh_tokens, *world.fake.access_tokens}
    assert len(secrets) >= 5
    captured = capsys.readouterr()
    texts = {"output": world.text, "logs": caplog.text, "stdout": captured.out, "stderr": captured.err}
    files = [p for p in world.root.rglob("*") if p.is_file()]
    assert any(p.name == "ledger.db" for p in files) and any(p.parent.name == "build" or "build" in p.parts
                                                             for p in files)
    leaks = [(name, s) for name, text in texts.items() for s in secrets if s in text]
    leaks += [(str(p.relative_to(world.root)), s) for p in files for s in secrets
              if s.encode() in p.read_bytes()]
    assert leaks == []
    # the tokens themselves live outside the repository, private
    for token in (world.config / "tokens").glob("*.json"):
        assert not token.resolve().is_relative_to(world.root.resolve())
        assert token.stat().st_mode & 0o077 == 0
