"""OAuth: the installed-app flow end to end, token storage, channel checks, invalid_grant and rotation."""
from __future__ import annotations

import json
import stat
import threading
import urllib.request
import webbrowser

import pytest

from publish import auth, cli
from publish.errors import ChannelMismatch, ConfigError
from publish_support import BRAND_COSMOS, COSMOS, GARDEN, SECRETS


def _follow(url: str) -> None:
    """What the user's browser does: open the consent URL and follow the redirect to the local server."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        resp.read()


@pytest.fixture
def consent(world, monkeypatch):
    """A client_secret.json for the fake, and a 'browser' that follows the consent redirect."""
    secrets = {"installed": {"client_id": world.fake.client_id, "client_secret": world.fake.client_secret,
                             "project_id": "showrunner-test", "auth_uri": world.fake.url + "o/oauth2/auth",
                             "token_uri": world.fake.url + "token", "redirect_uris": ["http://localhost"]}}
    path = world.config / "client_secret.json"
    auth.write_private(path, json.dumps(secrets).encode())
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake speaks http; Google is https
    opened = []

    class Browser:
        def open(self, url, new=0, autoraise=True):
            opened.append(url)
            threading.Thread(target=_follow, args=(url,), daemon=True).start()
            return True

    monkeypatch.setattr(webbrowser, "get", lambda using=None: Browser())
    (world.config / "tokens" / "cosmos.json").unlink()
    return opened


def test_installed_app_flow_stores_a_private_token_for_the_right_channel(world, consent):
    world.fake.consent_channel = COSMOS
    result = cli.auth("cosmos", root=world.root, out=world.out, host="127.0.0.1")
    assert result["channel_id"] == COSMOS
    q = world.fake.auth_requests[0]
    assert q["access_type"] == "offline" and q["prompt"] == "select_account consent"
    assert q["response_type"] == "code" and set(q["scope"].split()) == set(auth.SCOPES)
    assert not any("userinfo" in s for s in q["scope"].split()), "userinfo scopes make brand-account consent hang"
    path = world.config / "tokens" / "cosmos.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not str(path.resolve()).startswith(str(world.root.resolve()))
    info = json.loads(path.read_text())
    assert info["refresh_token"].startswith("1//fake-refresh-") and info["channel_id"] == COSMOS
    assert not list(path.parent.glob(".*.tmp")), "no temp files left behind"
    # and the new token publishes
    world.build()
    world.approve()
    assert world.publish().ok, world.text


def test_choosing_the_wrong_channel_saves_nothing(world, consent):
    world.fake.consent_channel = GARDEN
    with pytest.raises(ChannelMismatch) as err:
        cli.auth("cosmos", root=world.root, out=world.out, host="127.0.0.1")
    assert GARDEN in err.value.message and COSMOS in err.value.message and "chooser" in err.value.hint
    assert not (world.config / "tokens" / "cosmos.json").exists()


def test_brand_without_channel_id_is_told_what_to_add(world, consent):
    (world.root / "brands" / "cosmos.yaml").write_text(BRAND_COSMOS.replace(f"  id: {COSMOS}\n", ""))
    world.fake.consent_channel = COSMOS
    cli.auth("cosmos", root=world.root, out=world.out, host="127.0.0.1")
    assert f"add `id: {COSMOS}` under `channel:`" in world.text
    world.build()
    world.approve()
    report = world.publish()
    assert report.by_status() == {"failed": ["cosmos/dark-sky"]}
    assert "channel.id is not set" in report.outcomes[0].message


def test_secrets_inside_the_repo_are_refused(world, consent, monkeypatch):
    monkeypatch.setenv("SHOWRUNNER_CONFIG_DIR", str(world.root / ".config"))
    with pytest.raises(ConfigError, match="inside the repository"):
        cli.auth("cosmos", root=world.root, out=world.out, host="127.0.0.1")


def test_missing_client_secrets_explains_setup(world, monkeypatch):
    monkeypatch.setenv("SHOWRUNNER_CLIENT_SECRETS", str(world.config / "nope.json"))
    with pytest.raises(ConfigError) as err:
        cli.auth("cosmos", root=world.root, out=world.out)
    assert "Desktop app" in err.value.hint and "docs/publishing.md" in err.value.hint


def test_invalid_grant_says_how_to_reauthorise(world, sleeps):
    world.fake.revoked.add(SECRETS["cosmos_refresh"])
    world.build()
    world.approve()
    report = world.publish()
    assert report.by_status() == {"failed": ["cosmos/dark-sky"]}
    msg = report.outcomes[0].message
    assert "invalid_grant" in msg and "doit auth:cosmos" in msg and "In production" in msg
    assert not sleeps and world.fake.api_calls() == []
    status = cli.auth_status(root=world.root, out=world.out)
    assert status["cosmos"].startswith("needs `doit auth:cosmos`")
    assert status["garden"] == f"authorised as {GARDEN} (Garden Hours)"


def test_refreshed_and_rotated_tokens_are_saved(world, monkeypatch):
    path = world.config / "tokens" / "cosmos.json"
    real = world.fake._token

    def rotating(form):
        status, payload, headers = real(form)
        if status == 200:
            payload["refresh_token"] = "1//rotated-" + payload["access_token"][-6:]
            world.fake.refresh_tokens[payload["refresh_token"]] = COSMOS
        return status, payload, headers

    monkeypatch.setattr(world.fake, "_token", rotating)
    world.build()
    world.approve()
    assert world.publish().ok, world.text
    info = json.loads(path.read_text())
    assert info["refresh_token"].startswith("1//rotated-") and info["token"] in world.fake.access_tokens
    assert info["channel_id"] == COSMOS and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_token_for_another_channel_is_refused_before_upload(world):
    # the token file says cosmos, but the refresh token really acts as the garden channel
    world.fake.refresh_tokens[SECRETS["cosmos_refresh"]] = GARDEN
    world.build()
    world.approve()
    report = world.publish()
    assert report.by_status() == {"refused": ["cosmos/dark-sky"]}
    assert f"acts as channel {GARDEN}" in report.outcomes[0].message
    assert world.fake.sessions == {}


def test_loose_token_permissions_are_tightened(world):
    path = world.config / "tokens" / "cosmos.json"
    path.chmod(0o644)
    auth.load_token_info("cosmos")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
