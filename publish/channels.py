"""Which channel a brand publishes to, and a YouTube client proven to act as that channel.

The channel comes from `brands/<brand>.yaml` (`channel:`), the credentials from the brand's saved
token (publish/auth.py). Before anything is uploaded both are checked: the token must have been
authorised for the brand's channel, and `channels.list mine=true` must answer with that channel.
A brand whose token fails gets an `auth:<brand>` hold in the ledger until `doit auth:<brand>`.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable, Mapping

from core.events import Event, Reporter

from . import auth
from .errors import ChannelMismatch, ConfigError
from .ledger import Ledger
from .models import utcnow
from .plan import ApiCall
from .printer import LinePrinter, lines_to
from .quota import QuotaBook
from .repository import transaction
from .youtube import Client



def mine_call(note: str = "") -> ApiCall:
    """`channels.list mine=true`: which channel the token acts as (and its uploads playlist)."""
    return ApiCall("channels.list", {"part": "id,snippet,contentDetails", "mine": True}, note=note)


def auth_hold(brand: str) -> str:
    return f"auth:{brand}"


def check_authorised_channel(brand: str, channel, info: dict) -> None:
    """The brand spec names its channel, and the saved token was authorised for that channel."""
    authorised = info.get("channel_id")
    if not channel.id:
        raise ConfigError(f"brands/{brand}.yaml: channel.id is not set",
                          hint=f"the authorised channel is {authorised} ({info.get('channel_title', '?')}); "
                               f"add `id: {authorised}` under `channel:`")
    if authorised and authorised != channel.id:
        raise ChannelMismatch(f"the saved authorisation of brand '{brand}' is for channel {authorised} "
                              f"({info.get('channel_title', '?')}), but brands/{brand}.yaml says {channel.id}",
                              hint=f"run `doit auth:{brand}` and pick the brand's channel in the chooser")


def check_acting_channel(brand: str, channel, items: list[dict]) -> dict:
    """The channel `channels.list mine=true` answered is the brand's; returns it."""
    if not items or items[0].get("id") != channel.id:
        got = (f"channel {items[0].get('id')} ({items[0].get('snippet', {}).get('title', '?')})" if items
               else "an account without a YouTube channel")
        raise ChannelMismatch(f"the token of brand '{brand}' acts as {got}, not {channel.id} from "
                              f"brands/{brand}.yaml; nothing was uploaded",
                              hint=f"run `doit auth:{brand}` and choose the brand account in Google's chooser")
    return items[0]


class Channels:
    """Brand -> channel settings and brand -> verified client, for one run; `save_tokens()` ends it."""

    def __init__(self, root: Path, ledger: Ledger, *, reporter: Reporter | None = None,
                 clock: Callable[[], dt.datetime] = utcnow, env: Mapping[str, str] | None = None):
        self.root = root.resolve()
        self.env = env  # where tokens and OAuth settings are found (Settings.env); None: os.environ
        self.ledger = ledger
        self.reporter = reporter or LinePrinter()
        self.clock = clock
        self._project = None
        self._clients: dict[str, Client] = {}
        self._token_info: dict[str, dict] = {}
        self._credentials: dict[str, object] = {}
        self._all_clients: list[Client] = []

    def channel_of(self, brand: str):
        """The brand spec's `channel:` settings (id, privacy, schedule, playlists, ...)."""
        return self.brand_of(brand).channel

    def brand_of(self, brand: str):
        """The brand spec (core.spec.Brand): `channel:` for uploads, `qc:` for the quality gate."""
        if self._project is None:
            from compiler.load import load_project

            self._project = load_project(self.root, only=set())
        project = self._project
        if brand not in project.brands:
            key = f"brands/{brand}.yaml"
            if key in project.errors:
                raise ConfigError(f"{key} has errors:\n{project.errors[key].render()}")
            raise ConfigError(f"unknown brand '{brand}': there is no {key}")
        return project.brands[brand].model

    def client_for(self, brand: str, channel) -> Client:
        """Credentials of the brand, checked against the brand's channel before anything is uploaded."""
        if brand in self._clients:
            return self._clients[brand]
        info = auth.load_token_info(brand, self.env)
        check_authorised_channel(brand, channel, info)
        client = Client(brand, auth.credentials_from_info(info),
                        QuotaBook(self.ledger, auth.project_of(info, self.env), clock=self.clock),
                        out=lines_to(self.reporter, brand, "retry"))
        self._token_info[brand] = info
        self._credentials[brand] = client.credentials  # saved at the end even if the check below fails
        self._all_clients.append(client)
        ch = check_acting_channel(brand, channel, client.execute(mine_call()).get("items") or [])
        client.uploads_playlist = ch.get("contentDetails", {}).get("relatedPlaylists", {}).get("uploads")
        with transaction(self.ledger) as repo:
            repo.clear_hold(auth_hold(brand))
        self._clients[brand] = client
        self.reporter.emit(Event(type="publish", step=brand, detail=f"channel {ch['id']} "
                                 f"({ch.get('snippet', {}).get('title', '?')}) verified for brand {brand}"))
        return client

    def needs_auth(self, brand: str, reason: str) -> None:
        """The brand's token was refused: hold its uploads until `doit auth:<brand>` clears this."""
        with transaction(self.ledger) as repo:
            repo.set_hold(auth_hold(brand), None, reason)

    def quota_summaries(self) -> list[str]:
        return sorted({c.quota.summary() for c in self._clients.values()})

    def save_tokens(self) -> None:
        """Persist refreshed or rotated tokens (a rotated refresh token must never be lost); close connections."""
        for brand, credentials in self._credentials.items():
            auth.save_if_rotated(brand, credentials, self._token_info[brand], self.env)
        for client in self._all_clients:
            client.close()
