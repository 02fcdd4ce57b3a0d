"""Helpers shared by the publish tests (imported by conftest.py and the test modules)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from fake_youtube import FakeYouTube

from publish import auth

CHUNK = 256 * 1024
COSMOS = "UCcosmos00000000000000001"
GARDEN = "UCgarden00000000000000002"
SECRETS = {
    "client_secret": "fake-client-secret-Zq81",
    "cosmos_refresh": "1//rt-cosmos-SECRET-7f3a",
    "garden_refresh": "1//rt-garden-SECRET-91bc",
}
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# ----------------------------------------------------------- builds ----

SRT = "1\n00:00:00,000 --> 00:00:01,000\nHello from the stars.\n\n2\n00:00:01,000 --> 00:00:02,000\nGoodbye.\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_build(root: Path, key: str, *, video: Path, thumb: Path, title: str = "Dark skies, explained",
                description: str = "Why the night is dark.\n\n0:00 Intro\n0:01 Outro", tags=("astronomy", "night sky"),
                captions: str = SRT, category: str = "28", language: str = "en", duration: float = 2.0,
                scenes: list[dict] | None = None) -> Path:
    """What the compiler leaves in build/<brand>/<slug>[/<format>]/ (files + metadata + manifest)."""
    brand, rest = key.split("/", 1)
    slug, _, fmt = rest.partition("@")
    d = root / "build" / brand / slug / fmt if fmt else root / "build" / brand / slug
    d.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(video, d / "video.mp4")
    shutil.copyfile(thumb, d / "thumbnail.jpg")
    (d / "captions.srt").write_text(captions)
    (d / "captions.vtt").write_text("WEBVTT\n\n" + captions.replace(",", "."))
    scenes = scenes if scenes is not None else [
        {"index": 0, "start_s": 0.0, "end_s": 1.0, "title": "Intro"},
        {"index": 1, "start_s": 1.0, "end_s": duration, "title": "Outro"}]
    metadata = {"title": title, "description": description, "tags": list(tags), "category": category,
                "language": language, "chapters": [{"start_s": s["start_s"], "title": s["title"]} for s in scenes],
                "duration_s": duration}
    (d / "metadata.json").write_text(json.dumps(metadata, indent=2))
    assets = {}
    for name in ("video.mp4", "thumbnail.jpg", "captions.srt", "captions.vtt", "metadata.json"):
        assets[name] = {"digest": sha((d / name).read_bytes()), "step": f"{key}/{name}", "key": "k" * 64,
                        "kind": "test", "version": 1, "params": {}}
    build_digest = sha(json.dumps({k: v["digest"] for k, v in assets.items()}, sort_keys=True).encode())
    manifest = {"video": f"{brand}/{slug}", "format": fmt or "long", "build_digest": build_digest,
                "assets": assets, "scenes": scenes}
    (d / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return d


# --------------------------------------------------------- the world ----

@dataclass
class World:
    root: Path
    fake: FakeYouTube
    media: dict[str, Path]
    config: Path
    log: list[str] = field(default_factory=list)
    db_url: str | None = None

    def out(self, line: str) -> None:
        self.log.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.log)

    def build(self, key: str = "cosmos/dark-sky", **kw) -> Path:
        kw.setdefault("video", self.media["a"])
        kw.setdefault("thumb", self.media["thumb"])
        return write_build(self.root, key, **kw)

    def approve(self, key: str = "cosmos/dark-sky", reviewer: str = "alice", **kw):
        from publish import cli

        return cli.approve(key, reviewer, root=self.root, db_url=self.db_url, out=self.out, **kw)

    def publish(self, units=None, **kw):
        from publish import cli

        kw.setdefault("chunk", CHUNK)
        return cli.publish(units, root=self.root, db_url=self.db_url, out=self.out, **kw)

    def analytics(self, units=None):
        from publish import cli

        return cli.analytics(units, root=self.root, db_url=self.db_url, out=self.out)

    def ledger(self):
        from publish.ledger import Ledger

        return Ledger.open(self.db_url, root=self.root)

    def videos(self, channel: str = COSMOS) -> list[dict]:
        return [v for v in self.fake.videos.values() if v["channel"] == channel]


def write_token(config: Path, brand: str, fake: FakeYouTube, *, refresh: str, channel: str, title: str) -> Path:
    info = {"token": "ya29.stale-token", "refresh_token": refresh, "token_uri": fake.url + "token",
            "client_id": fake.client_id, "client_secret": fake.client_secret, "scopes": auth.SCOPES,
            "expiry": "2020-01-01T00:00:00Z", "channel_id": channel, "channel_title": title, "brand": brand}
    path = config / "tokens" / f"{brand}.json"
    auth.write_private(path, json.dumps(info).encode())
    return path


BRAND_COSMOS = f"""name: Cosmos Daily
channel:
  id: {COSMOS}
  category: "28"
  language: en
  privacy: public
  playlists: [PLcosmos1]
  schedule: daily 15:00 America/New_York
"""

BRAND_GARDEN = f"""name: Garden Hours
channel:
  id: {GARDEN}
  privacy: unlisted
"""




NEW_YORK = ZoneInfo("America/New_York")


def unit_dir(world: World, key: str) -> Path:
    brand, rest = key.split("/", 1)
    slug, _, fmt = rest.partition("@")
    base = world.root / "build" / brand / slug
    return base / fmt if fmt else base


def assert_published(world: World, key: str = "cosmos/dark-sky", *, channel: str = COSMOS,
                     playlists: tuple[str, ...] = ("PLcosmos1",), scheduled: bool = True) -> dict:
    """The video is on the fake exactly once, whole, with the build's metadata, thumbnail, captions, schedule."""
    d = unit_dir(world, key)
    vids = world.videos(channel)
    assert len(vids) == 1, f"expected exactly one video on {channel}, found {len(vids)}"
    v = vids[0]
    assert sha(v["content"]) == sha((d / "video.mp4").read_bytes()), "uploaded bytes differ from video.mp4"
    assert v["mimetype"] == "video/mp4"
    md = json.loads((d / "metadata.json").read_text())
    sn, st = v["snippet"], v["status"]
    assert sn["title"] == md["title"]
    assert sn["description"] == md["description"]
    markers = [t for t in sn["tags"] if t.startswith("showrunner-")]
    assert len(markers) == 1 and [t for t in sn["tags"] if t not in markers] == md["tags"]
    assert sn["categoryId"] == md["category"]
    assert sn["defaultLanguage"] == sn["defaultAudioLanguage"] == md["language"]
    assert st["selfDeclaredMadeForKids"] is False and st["containsSyntheticMedia"] is True
    if scheduled:
        assert st["privacyStatus"] == "private"
        at = dt.datetime.fromisoformat(st["publishAt"].replace("Z", "+00:00")).astimezone(NEW_YORK)
        assert (at.hour, at.minute) == (15, 0), st["publishAt"]
        assert at > dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=29)
    thumbs = world.fake.thumbnails.get(v["id"], [])
    assert thumbs and thumbs[-1] == (d / "thumbnail.jpg").read_bytes()
    tracks = [t for t in world.fake.captions.values() if t["snippet"]["videoId"] == v["id"]]
    assert len(tracks) == 1, f"{len(tracks)} caption tracks"
    assert tracks[0]["content"] == (d / "captions.srt").read_bytes()
    assert tracks[0]["snippet"]["language"] == md["language"]
    for pid in playlists:
        items = [i for i in world.fake.playlist_items
                 if i["snippet"]["playlistId"] == pid and i["snippet"]["resourceId"]["videoId"] == v["id"]]
        assert len(items) == 1, f"{len(items)} items in {pid}"
    assert world.fake.violations == []
    return v
