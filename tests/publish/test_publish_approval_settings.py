"""An approval covers everything publishing sends: brand settings, hand-edited metadata, not just the build.

Regression for issue 9 item 18: `channel.synthetic_media: true -> false` in the brand updated the
live video under the old approval, because brand settings were not part of what was approved.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from publish.approval import record_decision, require_approval
from publish.errors import NotApproved
from publish.ledger import MIGRATIONS
from publish.plan import approval_state, desired_state
from publish.units import load_unit
from publish_support import BRAND_COSMOS, BRAND_GARDEN, COSMOS, GARDEN, NEW_YORK, unit_dir


def brand(world, name: str, text_: str) -> None:
    (world.root / "brands" / f"{name}.yaml").write_text(text_)


def edit_metadata(world, key: str, **fields) -> None:
    """A hand edit of metadata.json after the build (the manifest, and so build_digest, stay as they were)."""
    path = unit_dir(world, key) / "metadata.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))


def publish_at_ny(video: dict) -> tuple[int, int]:
    at = dt.datetime.fromisoformat(video["status"]["publishAt"].replace("Z", "+00:00")).astimezone(NEW_YORK)
    return at.hour, at.minute


# (id, unit, build kwargs, change, field named in the refusal, check of the video once re-approved)
CHANGES = [
    ("synthetic_media", "cosmos/dark-sky", {},
     lambda w: brand(w, "cosmos", BRAND_COSMOS + "  synthetic_media: false\n"),
     "status.containsSyntheticMedia (channel.synthetic_media): true -> false",
     lambda v: v["status"]["containsSyntheticMedia"] is False),
    ("made_for_kids", "cosmos/dark-sky", {},
     lambda w: brand(w, "cosmos", BRAND_COSMOS + "  made_for_kids: true\n"),
     "status.selfDeclaredMadeForKids (channel.made_for_kids): false -> true",
     lambda v: v["status"]["selfDeclaredMadeForKids"] is True),
    ("privacy", "garden/tomatoes", {"title": "Tomatoes"},
     lambda w: brand(w, "garden", BRAND_GARDEN.replace("privacy: unlisted", "privacy: public")),
     'status.privacyStatus (channel.privacy): "unlisted" -> "public"',
     lambda v: v["status"]["privacyStatus"] == "public"),
    ("playlist", "cosmos/dark-sky", {},
     lambda w: brand(w, "cosmos", BRAND_COSMOS.replace("[PLcosmos1]", "[PLcosmos2]")),
     'playlists (channel.playlists): ["PLcosmos1"] -> ["PLcosmos2"]',
     None),
    ("schedule", "cosmos/dark-sky", {},
     lambda w: brand(w, "cosmos", BRAND_COSMOS.replace("daily 15:00", "daily 17:30")),
     'status.schedule (channel.schedule): "daily 15:00 America/New_York" -> "daily 17:30 America/New_York"',
     lambda v: publish_at_ny(v) == (17, 30)),
    ("category", "cosmos/dark-sky", {"category": ""},  # metadata without a category: the brand's is sent
     lambda w: brand(w, "cosmos", BRAND_COSMOS.replace('category: "28"', 'category: "27"')),
     'snippet.categoryId (metadata.json category or channel.category): "28" -> "27"',
     lambda v: v["snippet"]["categoryId"] == "27"),
    ("metadata", "cosmos/dark-sky", {},
     lambda w: edit_metadata(w, "cosmos/dark-sky", title="Edited after review"),
     'snippet.title (metadata.json title): "Dark skies, explained" -> "Edited after review"',
     lambda v: v["snippet"]["title"] == "Edited after review"),
]


@pytest.mark.parametrize("case", CHANGES, ids=[c[0] for c in CHANGES])
def test_each_publish_setting_change_needs_a_new_approval(world, case):
    _, key, build_kw, change, named, check = case
    world.build(key, **build_kw)
    world.approve(key)
    change(world)
    report = world.publish()
    assert report.ok and report.by_status() == {"not-approved": [key]}, world.text
    msg = report.outcomes[0].message
    assert named in msg, msg
    assert "changed since alice approved" in msg and f"doit approve --unit {key}" in msg
    assert world.fake.requests == [], "a refusal at the gate sends nothing, not even a token refresh"

    world.approve(key, reviewer="bob")
    report = world.publish()
    assert report.by_status() == {"published": [key]}, world.text
    video = world.videos(GARDEN if key.startswith("garden") else COSMOS)[0]
    if check is not None:
        assert check(video), video
    else:  # the playlist: the video went into the newly approved one only
        assert [i["snippet"]["playlistId"] for i in world.fake.playlist_items] == ["PLcosmos2"]


def test_a_brand_change_does_not_reach_the_live_video_without_approval(world):
    world.build()
    world.approve()
    assert world.publish().ok
    vid = world.videos()[0]["id"]
    brand(world, "cosmos", BRAND_COSMOS + "  made_for_kids: true\n  synthetic_media: false\n")
    before = len(world.fake.requests)
    report = world.publish()
    assert report.by_status() == {"not-approved": ["cosmos/dark-sky"]}
    msg = report.outcomes[0].message
    assert "channel.made_for_kids" in msg and "channel.synthetic_media" in msg
    assert len(world.fake.requests) == before
    status = world.fake.videos[vid]["status"]
    assert status["containsSyntheticMedia"] is True and status["selfDeclaredMadeForKids"] is False
    # reverting the brand file makes the old approval cover it again
    brand(world, "cosmos", BRAND_COSMOS)
    assert world.publish().by_status() == {"up-to-date": ["cosmos/dark-sky"]}


def test_unchanged_reruns_stay_approved(world):
    world.build()
    world.approve()
    assert world.publish().by_status() == {"published": ["cosmos/dark-sky"]}, world.text
    # the publishAt slot was chosen at upload time; the approval covers the schedule rule, not the slot
    before = len(world.fake.requests)
    for _ in range(2):
        assert world.publish().by_status() == {"up-to-date": ["cosmos/dark-sky"]}, world.text
    assert len(world.fake.requests) == before


def test_approve_prints_what_it_covers(world):
    world.build()
    d = world.approve()
    assert d.publish_state["status"] == {"privacyStatus": "public", "schedule": "daily 15:00 America/New_York",
                                         "selfDeclaredMadeForKids": False, "containsSyntheticMedia": True}
    assert d.publish_state["build_digest"] == d.build_digest and len(d.publish_digest) == 64
    assert "covers: channel UCcosmos00000000000000001, privacy public, schedule daily 15:00" in world.text
    assert "AI-content disclosure true, playlists PLcosmos1" in world.text


def test_approval_state_covers_every_field_that_is_sent(world):
    """Whatever the dry run shows going out must be in what the reviewer approved."""
    world.build()
    world.approve()
    calls = world.publish(dry_run=True).outcomes[0].calls
    unit = load_unit(world.root, "cosmos/dark-sky")
    from publish.channels import Channels

    channel = Channels(world.root, world.ledger()).channel_of("cosmos")
    state = approval_state(unit, channel)
    by = {c["method"]: c for c in calls}
    insert = by["videos.insert"]["body"]
    assert insert["snippet"] == state["snippet"]
    derived = {"privacyStatus", "publishAt"}  # from status.privacyStatus and status.schedule
    assert {k: v for k, v in insert["status"].items() if k not in derived} == \
        {k: v for k, v in state["status"].items() if k not in ("privacyStatus", "schedule")}
    assert set(insert["status"]) - set(state["status"]) <= derived
    assert by["videos.insert"]["media"]["sha256"] == state["video"]["sha256"]
    assert by["thumbnails.set"]["media"]["sha256"] == state["thumbnail"]["sha256"]
    cap = by["captions.insert"]
    assert cap["media"]["sha256"] == state["captions"]["sha256"]
    assert {k: v for k, v in cap["body"]["snippet"].items() if k != "videoId"} == \
        {k: v for k, v in state["captions"].items() if k != "sha256"}
    assert [c["body"]["snippet"]["playlistId"] for c in calls if c["method"] == "playlistItems.insert"] == \
        state["playlists"]
    assert by["channels.list"]["params"]["mine"] is True and state["channel"] == COSMOS
    # and the update of a published video sends a subset of the same snippet and status
    update = desired_state(unit, channel, publish_at=None)
    assert update.snippet == state["snippet"] and set(update.flags.items()) <= set(state["status"].items())


def test_an_approval_must_carry_the_publish_state(world):
    world.build()
    unit = load_unit(world.root, "cosmos/dark-sky")
    ledger = world.ledger()
    with pytest.raises(ValueError, match="publish state"):
        record_decision(ledger, unit.key, unit.build_digest, reviewer="alice", approved=True)
    from publish.channels import Channels

    state = approval_state(unit, Channels(world.root, ledger).channel_of("cosmos"))
    with pytest.raises(ValueError, match="not of build"):
        record_decision(ledger, unit.key, "0" * 64, reviewer="alice", approved=True, publish_state=state)
    record_decision(ledger, unit.key, unit.build_digest, reviewer="alice", approved=True, publish_state=state)
    assert require_approval(ledger, unit.key, state).reviewer == "alice"
    with pytest.raises(NotApproved, match=r"status.containsSyntheticMedia .*true -> false"):
        require_approval(ledger, unit.key, {**state, "status": {**state["status"], "containsSyntheticMedia": False}})


def test_approvals_from_before_the_migration_never_cover_the_settings(world, db_url):
    """A ledger at revision 0001 with an approval: after the upgrade it asks for a new approval."""
    world.db_url = db_url
    d = world.build()
    build_digest = json.loads((d / "manifest.json").read_text())["build_digest"]
    engine = create_engine(db_url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
            conn.execute(text("INSERT INTO approvals (unit, build_digest, reviewer, decided_at, approved, reason) "
                              "VALUES ('cosmos/dark-sky', :d, 'alice', :t, :yes, 'old ledger')"),
                         {"d": build_digest, "t": dt.datetime(2026, 11, 1, 12, 0), "yes": True})
    finally:
        engine.dispose()
    report = world.publish()  # opening the ledger migrates it to head
    assert report.ok and report.by_status() == {"not-approved": ["cosmos/dark-sky"]}, world.text
    msg = report.outcomes[0].message
    assert "alice approved build" in msg and "before approvals covered the publish settings" in msg
    assert "approve again: doit approve --unit cosmos/dark-sky" in msg
    assert world.fake.requests == []
    world.approve()
    assert world.publish().by_status() == {"published": ["cosmos/dark-sky"]}, world.text
