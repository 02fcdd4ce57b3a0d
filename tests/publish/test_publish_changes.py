"""A published unit changes: metadata is updated in place, a changed video file is refused (or --replace)."""
from __future__ import annotations

from sqlalchemy import select

from publish.models import PublishedVideo, PublishRecord
from publish_support import BRAND_COSMOS, COSMOS, assert_published

UPLOAD = "/upload/youtube/v3/videos"


def published(world):
    world.build()
    world.approve()
    report = world.publish()
    assert report.ok, world.text
    return world.videos()[0]


def test_metadata_change_is_read_modify_write_of_whole_parts(world):
    v = published(world)
    publish_at = v["status"]["publishAt"]
    # someone changed settings in YouTube Studio that we never send
    v["status"].update(embeddable=False, license="creativeCommon", publicStatsViewable=False)
    world.build(title="Dark skies, explained again", tags=("astronomy", "light pollution"),
                description="New description")
    world.approve()
    before = len(world.fake.requests)
    report = world.publish()
    assert report.by_status() == {"updated": ["cosmos/dark-sky"]}, world.text
    v = assert_published(world)
    assert v["snippet"]["title"] == "Dark skies, explained again"
    assert v["status"]["embeddable"] is False and v["status"]["license"] == "creativeCommon"
    assert v["status"]["publicStatsViewable"] is False
    assert v["status"]["publishAt"] == publish_at and v["status"]["privacyStatus"] == "private"
    new = world.fake.requests[before:]
    assert [r[:2] for r in new if r[1] != "/token"] == [
        ("GET", "/youtube/v3/channels"), ("GET", "/youtube/v3/videos"), ("PUT", "/youtube/v3/videos")]
    assert len(world.fake.sessions) == 1, "metadata changes never re-upload"


def test_changed_build_needs_a_new_approval(world):
    published(world)
    world.build(title="A new title")
    before = len(world.fake.requests)
    report = world.publish()
    assert report.ok and report.by_status() == {"not-approved": ["cosmos/dark-sky"]}
    assert "changed since alice approved" in world.text
    assert len(world.fake.requests) == before


def test_thumbnail_and_captions_changes(world):
    v = published(world)
    track = next(iter(world.fake.captions.values()))
    world.build(thumb=world.media["thumb2"], captions="1\n00:00:00,000 --> 00:00:02,000\nNew words.\n")
    world.approve()
    report = world.publish()
    assert report.by_status() == {"updated": ["cosmos/dark-sky"]}, world.text
    assert_published(world)
    assert len(world.fake.thumbnails[v["id"]]) == 2
    assert list(world.fake.captions) == [track["id"]] and track["versions"] == 2, "captions.update, not a 2nd track"
    assert not world.fake.calls("PUT", "/youtube/v3/videos"), "metadata did not change, so no videos.update"


def test_brand_settings_change_playlists_and_disclosure(world):
    v = published(world)
    (world.root / "brands" / "cosmos.yaml").write_text(
        BRAND_COSMOS.replace("[PLcosmos1]", "[PLcosmos1, PLcosmos2]") + "  synthetic_media: false\n")
    before = len(world.fake.requests)
    refused = world.publish()  # brand settings are part of what is approved: the old approval does not cover them
    assert refused.by_status() == {"not-approved": ["cosmos/dark-sky"]}, world.text
    assert "status.containsSyntheticMedia (channel.synthetic_media): true -> false" in refused.outcomes[0].message
    assert len(world.fake.requests) == before
    assert world.fake.videos[v["id"]]["status"]["containsSyntheticMedia"] is True
    world.approve()
    report = world.publish()
    assert report.by_status() == {"updated": ["cosmos/dark-sky"]}, world.text
    assert world.fake.videos[v["id"]]["status"]["containsSyntheticMedia"] is False
    items = [(i["snippet"]["playlistId"], i["snippet"]["resourceId"]["videoId"]) for i in world.fake.playlist_items]
    assert sorted(items) == [("PLcosmos1", v["id"]), ("PLcosmos2", v["id"])]


def test_reverting_to_an_earlier_build_updates_back(world):
    published(world)
    world.build(title="Second title")
    world.approve()
    assert world.publish().ok
    world.build()  # back to the first build
    report = world.publish()  # its approval still stands
    assert report.by_status() == {"updated": ["cosmos/dark-sky"]}, world.text
    assert world.videos()[0]["snippet"]["title"] == "Dark skies, explained"


def test_changed_video_is_refused_with_the_options(world):
    v = published(world)
    world.build(video=world.media["b"])
    world.approve()
    before = len(world.fake.requests)
    report = world.publish()
    assert not report.ok and report.by_status() == {"refused": ["cosmos/dark-sky"]}
    msg = report.outcomes[0].message
    assert "video.mp4 changed" in msg and v["id"] in msg
    assert "--replace" in msg and "NEW video" in msg and "revert" in msg
    assert len(world.fake.requests) == before, "a refusal sends nothing"


def test_replace_uploads_a_new_video_and_supersedes_the_old(world):
    old = published(world)
    world.build(video=world.media["b"])
    world.approve()
    report = world.publish(["cosmos/dark-sky"], replace=True)
    assert report.by_status() == {"published": ["cosmos/dark-sky"]}, world.text
    new_id = report.outcomes[0].video_id
    assert new_id != old["id"] and set(world.fake.videos) == {old["id"], new_id}
    new = world.fake.videos[new_id]
    assert new["content"] == (world.root / "build/cosmos/dark-sky/video.mp4").read_bytes()
    assert world.fake.thumbnails[new_id] and any(t["snippet"]["videoId"] == new_id for t in world.fake.captions.values())
    with world.ledger().session() as s:
        rows = {r.youtube_video_id: (r.status, r.superseded_by) for r in s.scalars(select(PublishedVideo))}
    assert rows == {old["id"]: ("superseded", new_id), new_id: ("live", None)}
    # and from now on, without --replace, it is up to date
    assert world.publish().by_status() == {"up-to-date": ["cosmos/dark-sky"]}


def test_thumbnail_forbidden_is_not_fatal_and_retried_when_named(world):
    world.fake.inject("status", method="POST", path="/upload/youtube/v3/thumbnails", code=403, reason="forbidden",
                      domain="youtube.thumbnail",
                      message="The authenticated user doesnt have permissions to upload and set custom video "
                              "thumbnails.")
    world.build()
    world.approve()
    report = world.publish()
    assert report.ok and report.by_status() == {"published": ["cosmos/dark-sky"]}, world.text
    warning = " ".join(report.outcomes[0].warnings)
    assert "youtube.com/verify" in warning and "not allowed to set custom thumbnails" in warning
    vid = world.videos()[0]["id"]
    assert vid not in world.fake.thumbnails
    assert world.fake.captions and world.fake.playlist_items  # the rest went on
    # `doit publish` does not spend 50 units on it every run ...
    assert world.publish().by_status() == {"up-to-date": ["cosmos/dark-sky"]}
    assert "refused earlier" in world.text
    # ... but naming the unit (after verifying the channel) tries again
    report = world.publish(["cosmos/dark-sky"])
    assert report.by_status() == {"updated": ["cosmos/dark-sky"]}
    assert_published(world)


def test_metadata_update_after_video_deleted_in_studio(world):
    v = published(world)
    del world.fake.videos[v["id"]]
    world.build(title="Retitled")
    world.approve()
    report = world.publish()
    assert report.by_status() == {"failed": ["cosmos/dark-sky"]}
    assert "not on YouTube any more" in report.outcomes[0].message and "--replace" in report.outcomes[0].message


def test_records_keep_the_history(world):
    published(world)
    world.build(title="Second title")
    world.approve()
    world.publish()
    with world.ledger().session() as s:
        recs = [(r.action, r.state) for r in s.scalars(select(PublishRecord).order_by(PublishRecord.id))]
    assert recs == [("upload", "complete"), ("update", "complete")]
    assert len(world.videos(COSMOS)) == 1
