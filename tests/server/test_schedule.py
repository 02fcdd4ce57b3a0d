"""Schedule (publish_at): validated (RFC 3339, at least 10 minutes ahead), shown by the dry run first, then run by
the real publisher with PublishOptions.publish_at."""
from __future__ import annotations

import datetime as dt
import json

from studio_support import login


def approve(c, root, h, publish_at=None):
    digest = json.loads((root / "build" / "test" / "beta" / "manifest.json").read_text())["build_digest"]
    body = {"verdict": "approve", "build_digest": digest, **({"publish_at": publish_at} if publish_at else {})}
    r = c.post("/api/videos/test/beta/reviews", json=body, headers=h)
    assert r.status_code == 201, r.text


def test_schedule_needs_a_future_time_and_a_dry_run_first(make_client, built):
    c = make_client(built)
    h = {"X-CSRF-Token": login(c)}
    dry, pub = "/api/videos/test/beta/publish/dry-run", "/api/videos/test/beta/publish"
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for bad in (past, "2099-01-01T12:00:00", "tomorrow", "2099-13-01T12:00:00Z"):
        r = c.post(dry, json={"publish_at": bad}, headers=h)
        assert r.status_code == 400, (bad, r.text)
        assert c.post(pub, json={"publish_at": bad}, headers=h).status_code == 400
    approve(c, built, h)
    at = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    local = at.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()  # any offset; converted to UTC
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert c.post(pub, json={"publish_at": stamp}, headers=h).status_code == 409  # no dry run shown yet
    # the approval above covers publishing by the schedule rule, not this time: the dry run says so, once
    r = c.post(dry, json={"publish_at": local}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "not-approved", r.text
    assert "publish time" in r.json()["message"] and "--publish-at" in r.json()["message"]
    assert c.post(pub, json={"publish_at": stamp}, headers=h).status_code == 409  # still no dry run shown
    approve(c, built, h, publish_at=local)  # the studio's "Approve this time"
    r = c.post(dry, json={"publish_at": local}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "dry-run" and out["publish_at"] == stamp, out
    insert = next(x for x in out["calls"] if x["method"] == "videos.insert")
    assert insert["body"]["status"] == {**insert["body"]["status"], "publishAt": stamp, "privacyStatus": "private"}
    assert any(f"private until publishAt {stamp}" in line for line in out["lines"])
    other = (at + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert c.post(pub, json={"publish_at": other}, headers=h).status_code == 409  # not the time shown
    r = c.post(pub, json={"publish_at": stamp}, headers=h)
    assert r.status_code == 202, r.text
    c.app.state.jobs.wait(r.json()["id"], 30)
    job = c.get(f"/api/jobs/{r.json()['id']}").json()
    assert job["state"] in ("done", "failed") and job["status"], job  # no token here: the message says so


def test_jobs_pass_publish_at_to_the_publisher(tmp_path):
    from publish.ledger import Ledger
    from server.publish.services import Jobs

    seen = []

    class Fake:
        def __init__(self, replace, publish_at=None):
            seen.append((replace, publish_at))

        def run(self, units):
            from publish.publisher import Outcome
            return [Outcome(units[0], "published", "vid123")]

    led = Ledger.open(f"sqlite:///{tmp_path / 'l.db'}")
    try:
        jobs = Jobs(tmp_path, led, publisher_factory=lambda rep, replace, publish_at=None: Fake(replace, publish_at))
        at = dt.datetime(2099, 1, 1, 12, tzinfo=dt.timezone.utc)
        jobs.shown("test/beta", at)
        job = jobs.start("test/beta", publish_at=at)
        jobs.wait(job.id)
        assert seen == [(False, at)] and jobs.get(job.id).url == "https://youtu.be/vid123"
    finally:
        led.close()
