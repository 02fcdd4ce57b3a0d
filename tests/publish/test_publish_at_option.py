"""PublishOptions.publish_at: an explicit publishAt chosen at publish time (the studio's Schedule) replaces the
channel.schedule slot for a new upload, is shown by the dry run, and still needs the approval."""
from __future__ import annotations

import datetime as dt

import pytest

from publish.publisher import PublishOptions, Publisher


def run(world, **opts):
    led = world.ledger()
    try:
        return Publisher(world.root, led, options=PublishOptions(**opts), out=world.out).run(["cosmos/dark-sky"])[0]
    finally:
        led.close()


def test_publish_at_is_shown_by_the_dry_run_and_sent(world):
    at = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).replace(minute=7, second=0, microsecond=0)
    world.build()
    assert run(world, dry_run=True, publish_at=at).status == "not-approved"  # the gate comes first
    world.approve(publish_at=at)  # the approval covers the publish time (test_publish_env_and_gates.py)
    dry = run(world, dry_run=True, publish_at=at)
    assert dry.status == "dry-run", dry.message
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert dry.calls[1]["body"]["status"]["publishAt"] == stamp
    assert dry.calls[1]["body"]["status"]["privacyStatus"] == "private"
    assert f"private until publishAt {stamp}" in world.text and world.fake.requests == []
    out = run(world, publish_at=at)
    assert out.status == "published", out.message
    (v,) = world.videos()
    assert v["status"]["publishAt"] == stamp and v["status"]["privacyStatus"] == "private"
    assert run(world, dry_run=True, publish_at=at + dt.timedelta(days=1)).status == "not-approved"  # not this time
    world.approve(publish_at=at + dt.timedelta(days=1))
    again = run(world, dry_run=True, publish_at=at + dt.timedelta(days=1))
    assert again.status == "failed" and "new upload only" in again.message


@pytest.mark.parametrize("at", [dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1),
                                dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=2),
                                dt.datetime(2099, 1, 1, 12, 0)])
def test_publish_at_must_be_aware_and_in_the_future(world, at):
    world.build()
    world.approve()
    out = run(world, dry_run=True, publish_at=at)
    assert out.status == "failed" and "publishAt" in out.message
    assert world.videos() == []
