"""The approval gate, and the dry run that prints exactly what would be sent and sends nothing."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from publish import cli
from publish.approval import latest_decision, record_decision, require_approved_build
from publish.errors import ConfigError, NotApproved
from publish.models import Approval, PublishRecord
from publish_support import assert_published


def test_unapproved_units_are_skipped_without_touching_youtube(world):
    world.build()
    report = world.publish()
    assert report.ok and report.by_status() == {"not-approved": ["cosmos/dark-sky"]}
    assert "has no review yet" in report.outcomes[0].message
    assert "doit approve --unit cosmos/dark-sky" in report.outcomes[0].message
    assert world.fake.requests == []


def test_a_spec_flag_is_not_an_approval(world):
    # whatever a spec or metadata says, only a ledger record for this build counts
    world.build(title="Approved: true")
    meta = world.root / "build/cosmos/dark-sky/metadata.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "approved": True}))
    report = world.publish()
    assert report.by_status() == {"not-approved": ["cosmos/dark-sky"]}


def test_approval_is_for_one_build_and_the_latest_decision_wins(world, db_url):
    world.db_url = db_url
    world.build()
    first = world.approve(reason="looks good")
    ledger = world.ledger()
    assert require_approved_build(ledger, "cosmos/dark-sky", first.build_digest).reviewer == "alice"
    world.approve(reviewer="bob", approved=False, reason="typo in scene 2")
    with pytest.raises(NotApproved, match="rejected by bob.*typo in scene 2"):
        require_approved_build(ledger, "cosmos/dark-sky", first.build_digest)
    world.build(title="Fixed the typo")
    with pytest.raises(NotApproved, match="no review yet"):
        require_approved_build(ledger, "cosmos/dark-sky", json.loads(
            (world.root / "build/cosmos/dark-sky/manifest.json").read_text())["build_digest"])
    second = world.approve(reviewer="bob", reason="fixed")
    assert second.build_digest != first.build_digest
    assert latest_decision(ledger, "cosmos/dark-sky").reviewer == "bob"
    with ledger.session() as s:
        assert s.scalar(select(func.count()).select_from(Approval)) == 3
    assert world.publish().ok
    assert_published(world)


def test_rejection_needs_a_reason_and_approval_a_reviewer(world):
    world.build()
    with pytest.raises(ConfigError, match="rejection needs a reason"):
        world.approve(approved=False)
    with pytest.raises(ValueError, match="reviewer"):
        record_decision(world.ledger(), "cosmos/dark-sky", "x" * 64, reviewer=" ", approved=True)


def test_approving_something_not_built_says_so(world):
    with pytest.raises(Exception, match="doit build"):
        world.approve("cosmos/nothing-here")


def test_dry_run_sends_nothing_and_shows_exactly_what_the_real_run_sends(world):
    world.build()
    world.approve()
    dry = world.publish(dry_run=True)
    assert dry.by_status() == {"dry-run": ["cosmos/dark-sky"]}
    assert world.fake.requests == [], "a dry run must not touch the network (not even the token endpoint)"
    with world.ledger().session() as s:
        assert s.scalar(select(func.count()).select_from(PublishRecord)) == 0
    calls = dry.outcomes[0].calls
    assert [c["method"] for c in calls] == ["channels.list", "videos.insert", "videos.list", "thumbnails.set",
                                            "captions.insert", "playlistItems.insert"]
    insert = calls[1]
    assert insert["media"]["bytes"] == (world.root / "build/cosmos/dark-sky/video.mp4").stat().st_size
    assert json.dumps(insert["body"], indent=2).splitlines()[1] in world.text  # printed, not just returned
    assert "quota: 502 units, 1 videos.insert call(s)" in world.text  # incl. the channel check

    real = world.publish()
    assert real.ok, world.text
    session = next(iter(world.fake.sessions.values()))
    assert session["meta"] == insert["body"], "the dry run showed exactly the body that was sent"
    assert calls[4]["body"]["snippet"]["videoId"] == "<id of the new video>"
    track = next(iter(world.fake.captions.values()))["snippet"]
    assert {k: track[k] for k in ("language", "name", "isDraft")} == \
        {k: calls[4]["body"]["snippet"][k] for k in ("language", "name", "isDraft")}


def test_dry_run_of_a_metadata_change_shows_the_update(world):
    world.build()
    world.approve()
    assert world.publish().ok
    world.build(title="New title for the dry run")
    world.approve()
    before = len(world.fake.requests)
    dry = world.publish(dry_run=True)
    assert len(world.fake.requests) == before
    methods = [c["method"] for c in dry.outcomes[0].calls]
    assert methods == ["channels.list", "videos.list", "videos.update"]
    assert dry.outcomes[0].calls[2]["body"]["snippet"]["title"] == "New title for the dry run"
    assert world.videos()[0]["snippet"]["title"] == "Dark skies, explained"


def test_dry_run_of_a_refused_change_is_refused_too(world):
    world.build()
    world.approve()
    assert world.publish().ok
    world.build(video=world.media["b"])
    world.approve()
    dry = world.publish(dry_run=True)
    assert dry.by_status() == {"refused": ["cosmos/dark-sky"]}
    replace = world.publish(dry_run=True, replace=True)
    assert [c["method"] for c in replace.outcomes[0].calls][:2] == ["channels.list", "videos.insert"]
    assert "left as it is and marked superseded" in world.text
    assert len(world.fake.videos) == 1


def test_cli_units_lists_what_is_built(world):
    world.build("cosmos/dark-sky")
    world.build("cosmos/dark-sky@short", video=world.media["b"])
    world.build("garden/tomatoes")
    assert cli.units(world.root) == ["cosmos/dark-sky", "cosmos/dark-sky@short", "garden/tomatoes"]
