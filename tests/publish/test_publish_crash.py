"""Crashes: between upload and ledger, mid-upload (a real SIGKILL), and in the middle of non-idempotent steps."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from publish import publisher
from publish.models import Lock, PublishRecord, VideoStep
from publish_support import CHUNK, assert_published

REPO = Path(__file__).resolve().parents[2]
UPLOAD = "/upload/youtube/v3/videos"


class Crash(Exception):
    pass


def crash_after_upload(monkeypatch):
    def boom(unit, video):
        raise Crash(f"process died after YouTube created {video['id']}")

    monkeypatch.setattr(publisher, "after_upload_hook", boom)


def test_crash_between_upload_and_ledger_is_adopted_via_the_session(world, monkeypatch):
    world.build()
    world.approve()
    crash_after_upload(monkeypatch)
    with pytest.raises(Crash):
        world.publish()
    assert len(world.fake.videos) == 1
    with world.ledger().session() as s:
        rec = s.scalars(select(PublishRecord)).one()
        assert rec.state == "uploading" and rec.youtube_video_id is None and rec.session_json
        saved = json.loads(rec.session_json)
        assert "authorization" not in {k.lower() for k in saved["headers"]}
    monkeypatch.setattr(publisher, "after_upload_hook", lambda unit, video: None)

    report = world.publish()
    assert report.ok and report.by_status() == {"published": ["cosmos/dark-sky"]}, world.text
    v = assert_published(world)  # still exactly one video, and it got its thumbnail, captions, playlist
    assert report.outcomes[0].video_id == v["id"]
    assert len(world.fake.sessions) == 1 and len(world.fake.calls("POST", UPLOAD)) == 1
    session = next(iter(world.fake.sessions.values()))
    assert session["wire_bytes"] == len(session["data"]), "no byte was sent twice"


def test_crash_then_expired_session_is_reconciled_by_the_marker(world, monkeypatch):
    world.build()
    world.approve()
    crash_after_upload(monkeypatch)
    with pytest.raises(Crash):
        world.publish()
    monkeypatch.setattr(publisher, "after_upload_hook", lambda unit, video: None)
    for s in world.fake.sessions.values():
        s["gone"] = True  # a week later: the session URI has expired

    report = world.publish()
    assert report.ok, world.text
    assert_published(world)
    assert len(world.fake.calls("POST", UPLOAD)) == 1, "must not upload again"
    assert world.fake.calls("GET", "/youtube/v3/playlistItems"), "reconciled through the uploads playlist"


def test_expired_session_without_a_video_starts_over(world, monkeypatch):
    world.fake.inject("status", method="PUT", path=UPLOAD, when=lambda r: r.is_chunk and r.chunk_start == CHUNK,
                      times=0, code=503)
    world.build()
    world.approve()
    assert not world.publish().ok  # gave up mid-way, session saved
    world.fake.faults.clear()
    for s in world.fake.sessions.values():
        s["gone"] = True
    assert world.publish().ok, world.text
    assert_published(world)
    assert len(world.fake.sessions) == 2


KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from publish import cli
    cli.publish(root={root!r}, chunk={chunk})
""")


@pytest.mark.parametrize("stored", [1, 3])
def test_sigkill_mid_upload_resumes_from_the_servers_range(world, stored):
    world.build()
    world.approve()
    # chunk n is stored by the server, then its response is held until we have killed the process;
    # n = 1: the session URI must already be in the ledger before the first byte goes out
    world.fake.inject("stall", method="PUT", path=UPLOAD,
                      when=lambda r: r.is_chunk and r.chunk_start == (stored - 1) * CHUNK)
    script = KILL_SCRIPT.format(repo=str(REPO), root=str(world.root), chunk=CHUNK)
    proc = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        reached = world.fake.stalled.wait(30)
        proc.send_signal(signal.SIGKILL)
        child_output = proc.communicate(timeout=10)[0].decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        world.fake.released.set()
    assert reached, f"the child never reached chunk {stored}:\n{child_output}"
    assert proc.returncode == -signal.SIGKILL
    assert world.fake.videos == {}
    with world.ledger().session() as s:
        rec = s.scalars(select(PublishRecord)).one()
        assert rec.state == "uploading" and rec.session_json
        assert s.scalars(select(Lock)).one().owner.split(":")[1] == str(proc.pid)  # left behind by the dead process

    report = world.publish()
    assert report.ok, world.text
    assert "resuming the upload" in world.text
    assert_published(world)
    session = next(iter(world.fake.sessions.values()))
    assert len(world.fake.sessions) == 1 and session["probes"] >= 1
    assert session["ranges"][stored].startswith(f"bytes {stored * CHUNK}-"), "resumed after what the server had"
    assert session["wire_bytes"] == len(session["data"]), "nothing was sent twice"
    with world.ledger().session() as s:
        assert s.scalars(select(Lock)).all() == []  # the stale lease was taken over and released


def test_crash_after_captions_insert_does_not_add_a_second_track(world, monkeypatch):
    world.build()
    world.approve()
    real = publisher.Publisher._set_step

    def dying(self, video_id, step, state, digest, **kw):
        if step == "captions" and state == "done":
            raise Crash("died right after captions.insert")
        return real(self, video_id, step, state, digest, **kw)

    monkeypatch.setattr(publisher.Publisher, "_set_step", dying)
    with pytest.raises(Crash):
        world.publish()
    assert len(world.fake.captions) == 1
    monkeypatch.setattr(publisher.Publisher, "_set_step", real)
    assert world.publish().ok, world.text
    assert_published(world)  # one track, one playlist item, one video
    assert len(world.fake.calls("GET", "/youtube/v3/captions")) == 1  # it looked before inserting
    assert len(world.fake.calls("POST", "/upload/youtube/v3/captions")) == 1


def test_crash_after_playlist_insert_does_not_add_twice(world, monkeypatch):
    world.build()
    world.approve()
    real = publisher.Publisher._set_step

    def dying(self, video_id, step, state, digest, **kw):
        if step.startswith("playlist:") and state == "done":
            raise Crash("died right after playlistItems.insert")
        return real(self, video_id, step, state, digest, **kw)

    monkeypatch.setattr(publisher.Publisher, "_set_step", dying)
    with pytest.raises(Crash):
        world.publish()
    monkeypatch.setattr(publisher.Publisher, "_set_step", real)
    assert world.publish().ok, world.text
    assert_published(world)
    with world.ledger().session() as s:
        assert s.get(VideoStep, (world.videos()[0]["id"], "playlist:PLcosmos1")).state == "done"


def test_a_newer_build_abandons_an_unfinished_upload_that_never_finished(world):
    world.fake.inject("status", method="PUT", path=UPLOAD, when=lambda r: r.is_chunk and r.chunk_start == CHUNK,
                      times=0, code=503)
    world.build()
    world.approve()
    assert not world.publish().ok
    world.fake.faults.clear()
    world.build(video=world.media["b"])  # the video changed before the first upload ever finished
    world.approve()
    assert world.publish().ok, world.text
    assert_published(world)
    assert "never became a video" in world.text
    with world.ledger().session() as s:
        states = sorted(r.state for r in s.scalars(select(PublishRecord)))
    assert states == ["abandoned", "complete"]


def test_a_newer_build_adopts_an_upload_that_did_finish(world, monkeypatch):
    world.build()
    world.approve()
    crash_after_upload(monkeypatch)
    with pytest.raises(Crash):
        world.publish()
    monkeypatch.setattr(publisher, "after_upload_hook", lambda unit, video: None)
    world.build(video=world.media["b"])
    world.approve()
    report = world.publish()
    # the first upload did happen; the changed file is refused instead of silently uploaded twice
    assert report.by_status() == {"refused": ["cosmos/dark-sky"]}, world.text
    assert "did finish" in world.text and "--replace" in world.text
    assert len(world.fake.videos) == 1


def test_a_restarted_upload_whose_slot_has_passed_gets_a_new_one(world):
    world.fake.inject("status", method="PUT", path=UPLOAD, when=lambda r: r.is_chunk and r.chunk_start == CHUNK,
                      times=0, code=503)
    world.build()
    world.approve()
    assert not world.publish().ok
    world.fake.faults.clear()
    with world.ledger().session() as s:  # the run stalled for days: its slot is in the past now
        rec = s.scalars(select(PublishRecord)).one()
        body = json.loads(rec.request_json)
        body["status"]["publishAt"] = "2020-01-01T20:00:00Z"
        rec.request_json = json.dumps(body)
    for sess in world.fake.sessions.values():
        sess["gone"] = True
    assert world.publish().ok, world.text
    assert_published(world)  # asserts a future 15:00 New York publishAt
