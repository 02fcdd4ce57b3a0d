"""The studio's login token, sessions, CSRF and the headers every response carries.

One secret: a token generated on first start and stored 0600 outside the repo
(`$SHOWRUNNER_CONFIG_DIR/studio-token`, else `~/.config/showrunner/studio-token`). `/login?token=...`
turns it into a session cookie (HttpOnly, SameSite=Strict). Sessions and CSRF tokens are HMACs keyed by the
token, so they survive a restart and die when the token file is replaced. Every mutation needs the session
and the CSRF token (header `X-CSRF-Token` or form field `csrf_token`), on 127.0.0.1 too: any web page can
POST to localhost. Secrets are compared with `hmac.compare_digest` and never written into a response.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from core.settings import config_dir

TOKEN_FILE = "studio-token"
SESSION_COOKIE = "studio_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


class StudioRefused(RuntimeError):
    """The studio will not start as asked (a LAN host without a token, an unreadable token file)."""


def token_path(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / TOKEN_FILE


def worker_token_path(env: Mapping[str, str] | None = None) -> Path:
    """The render workers' bearer token for the shared store (/cas, /ac): its own secret, so a worker machine
    never holds the studio's login token. Copy this file to each worker (or set SHOWRUNNER_WORKER_TOKEN there)."""
    from core.remote_store import WORKER_TOKEN_FILE

    return config_dir(env) / WORKER_TOKEN_FILE


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(path: Path) -> str:
    """The stored token; StudioRefused if it is missing, unreadable, empty or readable by others."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise StudioRefused(f"cannot read the studio token at {path} ({exc.__class__.__name__})") from None
    if mode & 0o077:
        raise StudioRefused(f"the studio token at {path} is readable by other users (chmod 600 {path})")
    if len(text) < 32:
        raise StudioRefused(f"the studio token at {path} is empty or too short; delete it to make a new one")
    return text


def ensure_token(path: Path, *, create: bool = True) -> tuple[str, bool]:
    """(token, created). Creates it (0600, exclusive) when missing and `create` is true."""
    if not path.exists() and create:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = secrets.token_urlsafe(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another studio made it first
            return read_token(path), False
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(token + "\n")
        return token, True
    return read_token(path), False


def check_start(host: str, path: Path, root: Path | None = None) -> tuple[str, bool]:
    """The token to run with, refusing what must not start: a non-loopback host needs an existing token
    (run once on 127.0.0.1 to create it), and the token never lives inside the project folder."""
    if root is not None and path.resolve().is_relative_to(root.resolve()):
        raise StudioRefused(f"the studio token must live outside the project ({path}); "
                            "set SHOWRUNNER_CONFIG_DIR to a folder outside it")
    if not is_loopback(host):
        if not path.is_file():
            raise StudioRefused(f"refusing to listen on {host} without a login token: start the studio once on "
                                f"127.0.0.1 to create {path}, then start it again with --host {host}")
        return read_token(path), False
    return ensure_token(path)


@dataclass(frozen=True)
class Sessions:
    """Stateless sessions: cookie = `<id>.<hmac(token, id)>`; CSRF = hmac(token, "csrf:" + id)."""

    token: str

    def _mac(self, text: str) -> str:
        return hmac.new(self.token.encode(), text.encode(), hashlib.sha256).hexdigest()

    def check_token(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    def new_session(self) -> str:
        sid = secrets.token_hex(16)
        return f"{sid}.{self._mac('session:' + sid)}"

    def session_id(self, cookie: str | None) -> str | None:
        """The session id of a valid cookie, else None."""
        if not cookie or cookie.count(".") != 1:
            return None
        sid, mac = cookie.split(".")
        return sid if hmac.compare_digest(mac.encode(), self._mac("session:" + sid).encode()) else None

    def csrf_for(self, sid: str) -> str:
        return self._mac("csrf:" + sid)

    def check_csrf(self, sid: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.csrf_for(sid).encode())
