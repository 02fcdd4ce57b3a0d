"""Issue 10 leftovers in publish/: the Publisher finds tokens through the caller's Settings.env (not os.environ),
a dry run says "not approved" once per unit, and an explicit publishAt must be what the approval covers."""
from __future__ import annotations

import datetime as dt
import os
import shutil

from core.settings import Settings
from publish.publisher import PublishOptions, Publisher


def test_the_publisher_reads_the_config_dir_from_the_callers_settings(world, tmp_path, monkeypatch):
    world.build()
    world.approve()
    elsewhere = tmp_path / "elsewhere"
    shutil.move(str(world.config), elsewhere)  # the tokens now live only where the caller's env says
    monkeypatch.setenv("SHOWRUNNER_CONFIG_DIR", str(tmp_path / "empty"))  # the process env points elsewhere
    settings = Settings.load(world.root, env={**os.environ, "SHOWRUNNER_CONFIG_DIR": str(elsewhere)})
    led = world.ledger()
    try:
        blind = Publisher(world.root, led, options=PublishOptions(chunk=256 * 1024), out=world.out)
        (out,) = blind.run(["cosmos/dark-sky"])
        assert out.status == "failed" and "not authorised" in out.message  # os.environ's (empty) folder
        led.close()
        led = world.ledger()
        seeing = Publisher(world.root, led, options=PublishOptions(chunk=256 * 1024), out=world.out, env=settings.env)
        (out,) = seeing.run(["cosmos/dark-sky"])
        assert out.status == "published", out.message
    finally:
        led.close()
    assert len(world.videos()) == 1
    assert not (tmp_path / "empty").exists()  # nothing was written where the process env points


def test_a_dry_run_says_not_approved_once_per_unit(world):
    from server.publish.services import dry_run

    world.build()
    world.build("garden/tomatoes")
    world.publish(dry_run=True)
    assert world.text.count(": not approved:") == 2  # one per unit, in `doit publish --dry-run`
    led = world.ledger()
    try:
        out = dry_run(world.root, led, "cosmos/dark-sky")  # what the studio shows: message + lines
    finally:
        led.close()
    assert out.status == "not-approved"
    assert (out.message + "\n".join(out.lines)).count("not approved") == 1, out


def at_days(days: int) -> dt.datetime:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)).replace(minute=7, second=0, microsecond=0)


def publish_with(world, **opts):
    led = world.ledger()
    try:
        return Publisher(world.root, led, options=PublishOptions(chunk=256 * 1024, **opts),
                         out=world.out).run(["cosmos/dark-sky"])[0]
    finally:
        led.close()


def test_an_explicit_publish_at_must_be_the_approved_one(world):
    world.build()
    world.approve()  # covers the schedule rule (channel.schedule), not a chosen time
    at, other = at_days(3), at_days(4)
    refused = publish_with(world, publish_at=at)
    assert refused.status == "not-approved" and world.videos() == []
    assert "not at publishAt " + at.strftime("%Y-%m-%dT%H:%M:%SZ") in refused.message
    assert "the approval covers the publish time too" in refused.message and "--publish-at" in refused.message
    assert publish_with(world, dry_run=True).status == "dry-run"  # the schedule rule is still approved

    world.approve(publish_at=at)
    assert "publishAt " + at.strftime("%Y-%m-%dT%H:%M:%SZ") in world.text  # `doit approve` says what it covers
    other_out = publish_with(world, dry_run=True, publish_at=other)
    assert other_out.status == "not-approved"
    assert f"to publish at publishAt {at:%Y-%m-%dT%H:%M:%SZ}, not at publishAt {other:%Y-%m-%dT%H:%M:%SZ}" \
        in other_out.message
    assert publish_with(world, dry_run=True).status == "not-approved"  # the approved time, not "now / the rule"
    # the same instant in another zone is the same time
    local = at.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert publish_with(world, dry_run=True, publish_at=local).status == "dry-run"
    out = publish_with(world, publish_at=at)
    assert out.status == "published", out.message
    (v,) = world.videos()
    assert v["status"]["publishAt"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_doit_approve_takes_a_publish_time(world):
    from publish import tasks

    world.build()
    at = at_days(2)
    assert tasks._approve("cosmos/dark-sky", "bob", "", False, "tomorrow") is not True  # not a time: refused
    import publish.cli as cli
    d = cli.approve("cosmos/dark-sky", "bob", root=world.root, db_url=world.db_url, out=world.out, publish_at=at)
    assert d.publish_state["status"]["publishAt"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")
