"""Pure parts: schedules, YouTube's metadata limits, the update merge, error mapping, build verification."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from core.spec import Channel
from publish import errors, plan
from publish.errors import BuildError, ConfigError
from publish.schedule import next_slot, parse_schedule, rfc3339
from publish.units import discover, load_unit
from publish_support import write_build

UTC = dt.timezone.utc


# ------------------------------------------------------------ schedule ----

def test_daily_schedule_in_a_zone_with_dst():
    s = parse_schedule("daily 15:00 America/New_York")
    now = dt.datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # 07:00 EST: DST ended at 02:00 that morning
    first = next_slot(s, now, set())
    assert rfc3339(first) == "2026-11-01T20:00:00Z"  # 15:00 EST
    second = next_slot(s, now, {first})
    assert rfc3339(second) == "2026-11-02T20:00:00Z"
    summer = next_slot(s, dt.datetime(2026, 7, 1, 12, 0, tzinfo=UTC), set())
    assert rfc3339(summer) == "2026-07-01T19:00:00Z"  # 15:00 EDT


def test_schedule_forms_and_lead_time():
    now = dt.datetime(2026, 11, 20, 14, 45, tzinfo=UTC)  # a Friday
    assert rfc3339(next_slot(parse_schedule("daily 15:00 UTC"), now, set())) == "2026-11-21T15:00:00Z"  # < 30 min lead
    assert rfc3339(next_slot(parse_schedule("weekdays 12:00 UTC"), now, set())) == "2026-11-23T12:00:00Z"
    assert rfc3339(next_slot(parse_schedule("mon,wed 09:00,18:30 Europe/Berlin"), now, set())) == \
        "2026-11-23T08:00:00Z"
    fixed = parse_schedule("2026-12-01T15:00:00+01:00")
    assert rfc3339(next_slot(fixed, now, set())) == "2026-12-01T14:00:00Z"
    with pytest.raises(ConfigError, match="past or already used"):
        next_slot(fixed, now, {dt.datetime(2026, 12, 1, 14, 0, tzinfo=UTC)})
    assert parse_schedule(None) is None and parse_schedule("  ") is None


@pytest.mark.parametrize("text,msg", [
    ("hourly 15:00", "unknown day"), ("daily 25:00", "not a time"), ("daily 15:00 Mars/Olympus", "time zone"),
    ("2026-12-01T15:00:00", "no UTC offset"), ("daily", "cannot read"),
])
def test_bad_schedules_say_what_is_wrong(text, msg):
    with pytest.raises(ConfigError, match=msg):
        parse_schedule(text, where="brands/x.yaml: channel.schedule")


# ------------------------------------------------------------ metadata ----

def test_tag_length_uses_youtubes_counting():
    assert plan.tags_length(["Foo-Baz"]) == 7
    assert plan.tags_length(["Foo Baz"]) == 9
    assert plan.tags_length(["a", "b"]) == 3


def test_tags_are_trimmed_to_500_and_the_marker_survives():
    tags = [f"tag number {i:03d}" for i in range(60)]  # 16 characters each with quotes
    kept, dropped = plan.fit_tags(tags + ["bad<tag>"], "showrunner-0123456789abcdef")
    assert kept[-1] == "showrunner-0123456789abcdef"
    assert plan.tags_length(kept) <= 500 and "bad<tag>" in dropped and len(dropped) > 1
    assert kept[:-1] == tags[:len(kept) - 1]


@pytest.fixture
def unit(tmp_path, media):
    write_build(tmp_path, "cosmos/x", video=media["b"], thumb=media["thumb"])
    return tmp_path


def _meta(root, **changes):
    path = root / "build/cosmos/x/metadata.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


@pytest.mark.parametrize("changes,msg", [
    ({"title": "x" * 101}, "101 characters"), ({"title": "a <b>"}, "< or >"), ({"title": "  "}, "title is empty"),
    ({"description": "é" * 2501}, "5002 bytes"), ({"tags": "a,b"}, "tags must be a list"),
])
def test_metadata_limits_are_checked_before_sending(unit, changes, msg):
    _meta(unit, **changes)
    with pytest.raises(BuildError, match=msg):
        plan.desired_state(load_unit(unit, "cosmos/x", verify=False), Channel(), publish_at=None)


def test_desired_state_bodies(unit):
    u = load_unit(unit, "cosmos/x")
    at = dt.datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    d = plan.desired_state(u, Channel(id="UCx", privacy="public", made_for_kids=True, playlists=["P1", "P1"]),
                           publish_at=at)
    body = d.insert_body()
    assert body["status"] == {"privacyStatus": "private", "publishAt": "2026-12-01T20:00:00Z",
                              "selfDeclaredMadeForKids": True, "containsSyntheticMedia": True}
    assert body["snippet"]["categoryId"] == "28" and d.playlists == ["P1"]
    assert plan.desired_state(u, Channel(privacy="unlisted"), publish_at=None).insert_body()["status"][
        "privacyStatus"] == "unlisted"
    # the marker is stable for the same unit and file, different for another unit
    assert d.marker == plan.marker_for("cosmos/x", u.digests["video.mp4"]) != plan.marker_for("cosmos/y", u.digests["video.mp4"])
    # metadata digest ignores the schedule (that is decided once, at upload)
    assert d.metadata_sha == plan.desired_state(u, Channel(id="UCx", made_for_kids=True), publish_at=None).metadata_sha


def test_merge_update_keeps_what_we_do_not_own(unit):
    d = plan.desired_state(load_unit(unit, "cosmos/x"), Channel(), publish_at=None)
    current = {"id": "v1", "snippet": {"title": "old", "channelId": "UC", "publishedAt": "x", "thumbnails": {},
                                       "localized": {}, "defaultLanguage": "de", "categoryId": "22"},
               "status": {"privacyStatus": "private", "publishAt": "2026-12-01T20:00:00Z", "embeddable": False,
                          "license": "creativeCommon", "uploadStatus": "processed", "madeForKids": False,
                          "selfDeclaredMadeForKids": True}}
    body = plan.merge_update(current, d)
    assert body["snippet"]["title"] == d.snippet["title"] and body["snippet"]["categoryId"] == "28"
    assert not {"channelId", "publishedAt", "thumbnails", "localized"} & set(body["snippet"])
    assert body["status"]["embeddable"] is False and body["status"]["license"] == "creativeCommon"
    assert body["status"]["publishAt"] == "2026-12-01T20:00:00Z" and body["status"]["privacyStatus"] == "private"
    assert body["status"]["selfDeclaredMadeForKids"] is False and "uploadStatus" not in body["status"]
    published = {**current, "status": {**current["status"], "privacyStatus": "public"}}
    assert "publishAt" not in plan.merge_update(published, d)["status"]


# -------------------------------------------------------------- builds ----

def test_a_tampered_build_is_refused(unit):
    (unit / "build/cosmos/x/video.mp4").write_bytes(b"not the video")
    with pytest.raises(BuildError, match="does not match manifest.json"):
        load_unit(unit, "cosmos/x")
    (unit / "build/cosmos/x/captions.srt").unlink()
    with pytest.raises(BuildError, match="captions.srt is missing"):
        load_unit(unit, "cosmos/x", verify=False)


def test_discover_units(tmp_path, media):
    write_build(tmp_path, "a/one", video=media["b"], thumb=media["thumb"])
    write_build(tmp_path, "a/one@short", video=media["b"], thumb=media["thumb"])
    (tmp_path / "build/a/half").mkdir(parents=True)  # no manifest: not a unit
    assert discover(tmp_path) == ["a/one", "a/one@short"]
    assert load_unit(tmp_path, "a/one@short").format == "short"
    with pytest.raises(BuildError, match="not a unit name"):
        load_unit(tmp_path, "no-slash")


# -------------------------------------------------------------- errors ----

@pytest.mark.parametrize("status,reason,domain,kind,words", [
    (403, "quotaExceeded", "youtube.quota", errors.QuotaExceeded, ["midnight Pacific", "yt_api_form"]),
    (400, "uploadLimitExceeded", "youtube.video", errors.UploadLimitExceeded, ["24 hours"]),
    (403, "forbidden", "youtube.thumbnail", errors.ThumbnailForbidden, ["youtube.com/verify"]),
    (403, "accountDelegationForbidden", "youtube.common", errors.ApiError, ["onBehalfOfContentOwner"]),
    (400, "invalidTitle", "youtube.video", errors.ApiError, ["100 characters"]),
])
def test_terminal_errors_are_explained(status, reason, domain, kind, words):
    body = json.dumps({"error": {"code": status, "message": "m", "errors": [{"reason": reason, "domain": domain}]}})
    reply = errors.parse_reply(status, body.encode())
    assert not errors.is_retryable(reply)
    err = errors.from_reply(reply, brand="cosmos", method="thumbnails.set" if "thumb" in domain else "videos.insert")
    assert isinstance(err, kind)
    assert all(w in err.render() for w in words), err.render()


def test_retryable_replies():
    for status, reason in [(500, ""), (503, "backendError"), (429, ""), (403, "rateLimitExceeded"),
                           (403, "userRateLimitExceeded")]:
        assert errors.is_retryable(errors.ErrorReply(status, reason, "", ""))
    assert errors.parse_reply(400, b'{"error": "invalid_grant", "error_description": "revoked"}').reason == \
        "invalid_grant"
    assert errors.parse_reply(502, b"<html>bad gateway</html>").status == 502


def test_refresh_error_message():
    err = errors.from_refresh_error(Exception("invalid_grant: Token has been expired or revoked."), brand="b")
    assert "doit auth:b" in err.render() and "In production" in err.render()
