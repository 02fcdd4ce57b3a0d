"""OAuth: one consent per brand channel, tokens kept outside the repository, readable only by the user.

`doit auth:<brand>` runs Google's installed-app flow (a browser opens, you pick the brand's
channel in the account chooser). The token goes to `$SHOWRUNNER_CONFIG_DIR/tokens/<brand>.json`
(default `~/.config/showrunner/tokens/`), mode 0600, written atomically. The OAuth client file
(a "Desktop app" client) is read from `$SHOWRUNNER_CLIENT_SECRETS` (default
`$SHOWRUNNER_CONFIG_DIR/client_secret.json`). Neither may live inside the repository.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Mapping

from core import settings

from .errors import ConfigError, ReauthRequired

SCOPES = [
    "https://www.googleapis.com/auth/youtube.upload",        # videos.insert
    "https://www.googleapis.com/auth/youtube",               # update, playlists, thumbnails
    "https://www.googleapis.com/auth/youtube.force-ssl",     # captions
    "https://www.googleapis.com/auth/yt-analytics.readonly",  # Analytics reports
]
PROMPT = "select_account consent"  # chooser so a brand account can be picked; consent so a refresh token comes back


# requests-oauthlib logs the token response and the Basic auth header at DEBUG level.
SECRET_LOGGERS = ("requests_oauthlib", "oauthlib")


@contextmanager
def _quiet(names: tuple[str, ...]):
    """Keep loggers that print credentials at WARNING while they run, whatever the app's log level."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


# Every function that finds a file (the config folder, the client secrets) takes the caller's environment
# (`Settings.env`), so a caller that loaded Settings with its own env (the studio, tests, a second project in one
# process) is obeyed; None means this process's os.environ. Endpoint overrides for the fakes
# (SHOWRUNNER_TOKEN_URI here, the API roots in youtube.py) stay process-wide.
Env = Mapping[str, str] | None


def _env(env: Env) -> Mapping[str, str]:
    return os.environ if env is None else env


def config_dir(env: Env = None) -> Path:
    return settings.config_dir(env)


def token_path(brand: str, env: Env = None) -> Path:
    return config_dir(env) / "tokens" / f"{brand}.json"


def client_secrets_path(env: Env = None) -> Path:
    return Path(_env(env).get("SHOWRUNNER_CLIENT_SECRETS") or config_dir(env) / "client_secret.json").expanduser()


def ensure_outside(path: Path, root: Path | None, what: str) -> None:
    if root is None:
        return
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return
    raise ConfigError(f"{what} would be inside the repository ({path})",
                      hint="secrets stay outside the repo: set SHOWRUNNER_CONFIG_DIR / SHOWRUNNER_CLIENT_SECRETS "
                           "to a folder such as ~/.config/showrunner")


def write_private(path: Path, data: bytes) -> None:
    """Atomic write readable only by the owner: temp file (0600 from birth) + fsync + os.replace."""
    from core.store import atomic_write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    atomic_write_bytes(path, data, mode=0o600)


def save_token(brand: str, credentials, *, channel_id: str, channel_title: str, root: Path | None = None,
               env: Env = None) -> Path:
    path = token_path(brand, env)
    ensure_outside(path, root, "the token file")
    info = json.loads(credentials.to_json())
    info.update({"brand": brand, "channel_id": channel_id, "channel_title": channel_title,
                 "obtained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    write_private(path, json.dumps(info, indent=2, sort_keys=True).encode())
    return path


def load_token_info(brand: str, env: Env = None) -> dict:
    path = token_path(brand, env)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReauthRequired(f"brand '{brand}' is not authorised yet (no token at {path})",
                             hint=f"run `doit auth:{brand}` and pick the brand's channel") from None
    except ValueError:
        raise ReauthRequired(f"the token file {path} is damaged", hint=f"run `doit auth:{brand}` again") from None
    if not info.get("refresh_token"):
        raise ReauthRequired(f"the token of brand '{brand}' has no refresh token (offline access was not granted)",
                             hint=f"run `doit auth:{brand}` again; it asks for offline access with prompt=consent")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)  # tighten a token someone copied in with a loose mode
    return info


def credentials_from_info(info: dict):
    """google-auth (2.62) ignores the file's token_uri and always refreshes at Google, so a tampered
    token file cannot send the refresh token elsewhere; SHOWRUNNER_TOKEN_URI (tests: the fake) is
    the one deliberate override."""
    from google.oauth2.credentials import Credentials

    creds = Credentials.from_authorized_user_info(info, info.get("scopes") or SCOPES)
    override = os.environ.get("SHOWRUNNER_TOKEN_URI")
    if override:
        expiry = creds.expiry
        creds = creds.with_token_uri(override)
        creds.expiry = expiry  # the copy forgets it, and would send a stale token first
    return creds


def save_if_rotated(brand: str, credentials, info: dict, env: Env = None) -> None:
    """Persist whatever Google handed back on refresh (a rotated refresh token must not be lost)."""
    if credentials.token == info.get("token") and credentials.refresh_token == info.get("refresh_token"):
        return
    fresh = json.loads(credentials.to_json())
    merged = {**info, **fresh}
    write_private(token_path(brand, env), json.dumps(merged, indent=2, sort_keys=True).encode())
    info.update(merged)


def project_of(info: dict, env: Env = None) -> str:
    """The Google Cloud project whose quota the calls spend: the OAuth client id's project number."""
    if _env(env).get("SHOWRUNNER_CLOUD_PROJECT"):
        return _env(env)["SHOWRUNNER_CLOUD_PROJECT"]
    client_id = str(info.get("client_id") or "")
    head = client_id.split("-", 1)[0]
    return head if head.isdigit() else (client_id.split(".", 1)[0] or "default")


def run_flow(*, open_browser: bool = True, host: str = "localhost", port: int = 0, root: Path | None = None,
             timeout_s: int | None = 600, env: Env = None):
    """The installed-app flow with offline access and the account chooser; returns Credentials."""
    secrets = client_secrets_path(env)
    ensure_outside(secrets, root, "the OAuth client file")
    if not secrets.is_file():
        raise ConfigError(f"no OAuth client file at {secrets}",
                          hint="create a 'Desktop app' OAuth client in Google Cloud console (APIs & Services > "
                               "Credentials), download its JSON there or point SHOWRUNNER_CLIENT_SECRETS at it; "
                               "see docs/publishing.md")
    from google_auth_oauthlib.flow import InstalledAppFlow

    flow = InstalledAppFlow.from_client_secrets_file(str(secrets), SCOPES)
    with _quiet(SECRET_LOGGERS):
        creds = flow.run_local_server(host=host, port=port, open_browser=open_browser, access_type="offline",
                                      prompt=PROMPT, timeout_seconds=timeout_s)
    if not creds.refresh_token:
        raise ConfigError("Google returned no refresh token, so the authorisation would stop working within the hour",
                          hint="remove the app's access at https://myaccount.google.com/permissions and run "
                               "the auth task again")
    return creds
