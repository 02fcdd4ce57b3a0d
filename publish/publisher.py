"""Execute publishing: for each unit, gate -> settle what an earlier run left -> upload -> converge.

Idempotence rests on two rules:
1. An intent is committed to the ledger before anything is sent, and the resumable session URI
   is committed before the first byte. After any crash the next run finds the record and asks
   YouTube (session probe, then the channel's uploads carrying the unit's marker tag) whether a
   video came of it, adopting it instead of uploading again.
2. What is on YouTube is described per video in `video_steps` with the digest of what was
   applied, so a new build only sends what changed: metadata -> videos.update (read, modify,
   write whole parts), thumbnail -> thumbnails.set, captions -> captions.update, new playlists
   -> playlistItems.insert. A changed video file is refused unless --replace.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Mapping

from core.events import Event, EventType, Reporter

from .approval import require_approval, require_approved_build
from .channels import Channels
from .dryrun import DryRun
from .errors import (AUDIT_FORM, ApiError, ChannelMismatch, ConfigError, NotApproved, OnHold, PublishError, QCRejected,
                     QuotaExceeded, QuotaRefused, SessionExpired, ThumbnailForbidden, UploadLimitExceeded, VideoChanged,
                     locked_private_warning)
from .ledger import Ledger, LockLease
from .models import PublishedVideo, PublishRecord, utcnow
from .plan import (ApiCall, Desired, PlannedStep, StepState, approval_state, canonical, captions_update_call,
                   desired_state, insert_call, merge_update, new_video_steps, plan_converge, verify_call)
from .printer import LinePrinter
from .qcgate import qc_gate
from .quota import estimate, until_reset
from .repository import parse_time, transaction
from .schedule import next_slot, parse_schedule, rfc3339
from .units import BuildUnit, discover, load_unit
from .youtube import MIB, Client, chunk_size
from .youtube import session_json as session_of

REFUSED = (QuotaRefused, VideoChanged, OnHold, ChannelMismatch, QCRejected)
STEP_NAMES = {"metadata": "the metadata update (title, description, tags, settings)", "thumbnail": "the thumbnail",
              "captions": "the captions"}


def after_upload_hook(unit: str, video: dict) -> None:
    """Called after YouTube confirmed an upload and before the ledger records it (tests crash here)."""


@dataclass
class Outcome:
    unit: str
    status: str  # published | updated | up-to-date | not-approved | dry-run | refused | failed
    video_id: str | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status in ("refused", "failed")

    @property
    def line(self) -> str:
        link = f" https://youtu.be/{self.video_id}" if self.video_id else ""
        head = {"published": "published", "updated": "updated", "up-to-date": "up to date",
                "not-approved": "skipped", "dry-run": "dry run", "refused": "REFUSED", "failed": "FAILED"}[self.status]
        if self.status in ("not-approved", "refused", "failed"):
            return f"{head}: {self.message}"
        return f"{head}: {self.unit}{link}"


@dataclass
class PublishOptions:
    dry_run: bool = False
    replace: bool = False
    chunk: int | None = None
    retry_failed: bool = False  # units named explicitly: try steps that failed before (thumbnails)
    # an explicit publishAt for a new upload (the studio's Schedule), instead of the next slot of channel.schedule;
    # aware, at least MIN_LEAD ahead. The approval still gates the build and every field sent; privacy becomes
    # private until then, exactly as for a schedule slot.
    publish_at: dt.datetime | None = None


MIN_LEAD = dt.timedelta(minutes=10)  # _fresh_body moves a publishAt closer than this to a new slot


def check_publish_at(at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """`at` as aware UTC, or ConfigError when it has no zone or is not at least MIN_LEAD in the future."""
    if at.tzinfo is None:
        raise ConfigError(f"publishAt {at.isoformat()} has no UTC offset", hint="give it as RFC 3339, e.g. "
                          "2026-12-01T15:00:00Z")
    at = at.astimezone(dt.timezone.utc).replace(microsecond=0)
    if at < now + MIN_LEAD:
        raise ConfigError(f"publishAt {at:%Y-%m-%d %H:%M} UTC is not in the future (at least "
                          f"{int(MIN_LEAD.total_seconds() // 60)} minutes from now)", hint="pick a later time")
    return at


class Publisher:
    """Runs units through gate -> settle -> upload -> converge, reporting each transition as an event.

    Events: `publish` (step = the unit; without a step: a unit's first line and its outcome),
    `progress` (upload fraction), `retry` (an upload session started again; the client's retries,
    step = the brand), `warning` (after the outcome). Without a `reporter` they are printed through
    `out` as the lines `doit publish` shows (publish/printer.py).
    """

    def __init__(self, root: Path, ledger: Ledger, *, options: PublishOptions | None = None,
                 out: Callable[[str], None] = print, reporter: Reporter | None = None,
                 clock: Callable[[], dt.datetime] = utcnow, env: Mapping[str, str] | None = None):
        self.root = root.resolve()
        self.ledger = ledger
        self.options = options or PublishOptions()
        self.reporter = reporter or LinePrinter(out)
        self.clock = clock
        # tokens and OAuth settings come from the caller's Settings.env (None: this process's os.environ)
        self.channels = Channels(self.root, ledger, reporter=self.reporter, clock=clock, env=env)

    def _emit(self, unit: str, detail: str, type_: EventType = "publish", **kw) -> None:
        self.reporter.emit(Event(type=type_, step=unit, video=unit, detail=detail, **kw))

    def _frame(self, unit: str, detail: str) -> None:
        """A line that opens or closes a unit (no `step`: it prints flush left)."""
        self.reporter.emit(Event(type="publish", video=unit, detail=detail))

    def quota_summaries(self) -> list[str]:
        return self.channels.quota_summaries()

    # --------------------------------------------------------------- run --

    def run(self, keys: list[str] | None = None) -> list[Outcome]:
        keys = list(keys) if keys else discover(self.root)
        if not keys:
            self._frame("", "nothing to publish: build/ has no videos (run doit build first)")
            return []
        outcomes: list[Outcome] = []
        try:
            for key in keys:
                outcome = self._run_one(key)
                self._frame(key, outcome.line)
                for w in outcome.warnings:
                    self._emit(key, w, "warning")
                outcomes.append(outcome)
        finally:
            self.channels.save_tokens()
        return outcomes

    def _run_one(self, key: str) -> Outcome:
        try:
            return self.publish_unit(key)
        except NotApproved as exc:
            return Outcome(key, "not-approved", message=exc.for_unit(key).render())
        except REFUSED as exc:
            return Outcome(key, "refused", exc.video_id, message=exc.for_unit(key).render())
        except PublishError as exc:
            if exc.kind == "auth":
                self.channels.needs_auth(key.split("/")[0], exc.message)
            with transaction(self.ledger) as repo:
                repo.note_error(key, exc.message)
            return Outcome(key, "failed", exc.video_id, message=exc.for_unit(key).render())

    # -------------------------------------------------------------- unit --

    def publish_unit(self, key: str) -> Outcome:
        unit = load_unit(self.root, key)
        brand = self.channels.brand_of(unit.brand)
        channel = brand.channel
        # The quality gate first: a rejected build never publishes; an auto-approved one skips the human
        # approval where the brand opts in (publish/qcgate.py). Otherwise the build (an unapproved unit is
        # skipped whatever its metadata says), then everything that would be sent, brand settings included:
        # the approval must cover exactly that.
        gate = qc_gate(self.ledger, unit, brand.qc)
        publish_at = None
        if self.options.publish_at is not None:
            publish_at = check_publish_at(self.options.publish_at, self.clock())
        if not gate.autopublish:
            require_approved_build(self.ledger, key, unit.build_digest)
            # an explicit publishAt is part of what is approved: an approval of another time (or of the schedule
            # rule) does not cover it
            require_approval(self.ledger, key, approval_state(unit, channel, publish_at=publish_at))
        outcome = self._publish_approved(unit, channel, publish_at)
        if gate.note and outcome.status in ("published", "updated", "dry-run"):
            outcome.warnings.append(gate.note)
        return outcome

    def _publish_approved(self, unit: BuildUnit, channel, publish_at) -> Outcome:
        key = unit.key
        live, pending = self._state(key)
        video_sha = unit.digests["video.mp4"]
        if publish_at is not None:
            if live is not None and live.video_sha256 == video_sha:
                raise ConfigError(f"{key} is already on YouTube (https://youtu.be/{live.youtube_video_id}): a "
                                  "publishAt applies to a new upload only", hint="publish without a schedule")
        if not pending and live is not None and live.video_sha256 == video_sha:
            desired = desired_state(unit, channel, publish_at=live.publish_at)
            planned, notes = plan_converge(desired, live.youtube_video_id, self._steps(live.youtube_video_id),
                                           retry_failed=self.options.retry_failed)
            if not planned:
                return Outcome(key, "up-to-date", live.youtube_video_id, warnings=notes)
        if (not pending and live is not None and live.video_sha256 != video_sha and not self.options.replace):
            raise self._changed(unit, live)
        if self.options.dry_run:
            return self._dry_run(unit, channel, live, pending)

        self._frame(key, f"publish {key} (build {unit.build_digest[:12]})")
        try:
            client = self.channels.client_for(unit.brand, channel)
            with self.ledger.lock(f"publish:{key}") as lease:
                return self._publish_locked(unit, channel, client, lease)
        except (QuotaExceeded, QuotaRefused) as exc:
            raise self._quota_with_video(exc, unit, channel, before=live) from None

    def _publish_locked(self, unit: BuildUnit, channel, client: Client, lease: LockLease) -> Outcome:
        key, video_sha = unit.key, unit.digests["video.mp4"]
        warnings: list[str] = []
        live, pending = self._state(key)  # again, under the lock
        for rec in pending:
            if rec.video_sha256 != video_sha:
                self._settle(rec, client, unit)
        live, pending = self._state(key)
        same = next((r for r in pending if r.video_sha256 == video_sha), None)
        uploaded = False
        if live is None or live.video_sha256 != video_sha:
            continuing_replace = same is not None and same.action == "replace"
            if live is not None and not (self.options.replace or continuing_replace):
                raise self._changed(unit, live)
            self._check_upload_hold(channel.id)
            desired = desired_state(unit, channel, publish_at=self._slot(channel, unit) if same is None else None)
            warnings += desired.warnings
            need = ["videos.insert", "videos.list"] + [c.method for s in new_video_steps(desired) for c in s.calls]
            client.quota.check(estimate(need), f"publishing {key}")
            if same is None:
                with transaction(self.ledger) as repo:
                    same = repo.add_intent(unit, desired, "replace" if live is not None else "upload")
            video = self._upload(same, desired, client, lease, channel)
            client.quota.count(f"uploads:{channel.id}")  # per-channel count, for the record
            video_row = self._register(same, video, unit, replaced=live)
            record = same
            uploaded = True
        else:
            video_row = live
            with transaction(self.ledger) as repo:
                record = repo.open_record(key, live.youtube_video_id)
        return self._converge(unit, channel, client, video_row, record, uploaded, warnings)

    def _converge(self, unit: BuildUnit, channel, client: Client, video_row: PublishedVideo,
                  record: PublishRecord | None, uploaded: bool, warnings: list[str]) -> Outcome:
        """The video is on YouTube: read its status back (after an upload), then send what is missing."""
        key = unit.key
        if uploaded:
            self._verify(client, video_row, record, warnings)
        desired = desired_state(unit, channel, publish_at=video_row.publish_at)
        if not uploaded:
            warnings += desired.warnings
        planned, notes = plan_converge(desired, video_row.youtube_video_id, self._steps(video_row.youtube_video_id),
                                       retry_failed=self.options.retry_failed)
        warnings += notes
        if not planned and not uploaded:
            if record is not None:
                self._set_record(record.id, state="complete")
            return Outcome(key, "up-to-date", video_row.youtube_video_id, warnings=warnings)
        if planned:
            client.quota.check(estimate([c.method for s in planned for c in s.calls]), f"updating {key}")
        if record is None:
            with transaction(self.ledger) as repo:
                record = repo.add_intent(unit, desired, "update", video_id=video_row.youtube_video_id)
        else:
            self._set_record(record.id, build_digest=unit.build_digest)
        for step in planned:
            self._apply(step, desired, video_row.youtube_video_id, client, warnings)
        self._set_record(record.id, state="complete", last_error=None)
        return Outcome(key, "published" if uploaded else "updated", video_row.youtube_video_id, warnings=warnings)

    def _quota_with_video(self, exc: QuotaExceeded | QuotaRefused, unit: BuildUnit, channel,
                          before: PublishedVideo | None) -> PublishError:
        """Quota ran out while this build's video is already on YouTube (uploaded now or in an earlier
        run): say so, with its link and what is left to do after the reset."""
        row, _ = self._state(unit.key)
        if row is None or row.video_sha256 != unit.digests["video.mp4"]:
            return exc  # nothing of this build is on YouTube: the quota message says it all
        vid = row.youtube_video_id
        desired = desired_state(unit, channel, publish_at=row.publish_at)
        planned, _ = plan_converge(desired, vid, self._steps(vid), retry_failed=self.options.retry_failed)
        todo = [STEP_NAMES.get(p.name) or f"adding it to playlist {p.name.split(':', 1)[1]}" for p in planned]
        uploaded = before is None or before.youtube_video_id != vid
        state = f"uploaded {'just now' if uploaded else 'earlier'}; YouTube reports it {row.privacy}" + (
            f", to go public at {row.publish_at:%Y-%m-%d %H:%M} UTC" if row.publish_at else "")
        left = f"; still to do: {', '.join(todo)}" if todo else ""
        err = type(exc)(
            f"{exc.message}. The video itself is already on YouTube: https://youtu.be/{vid} ({state}){left}",
            hint=f"quota resets at midnight Pacific (00:00 America/Los_Angeles, in {until_reset(self.clock())}); "
                 "the first `doit publish` after that applies the rest to the same video (nothing is uploaded "
                 f"again). All brands share the cloud project's quota; for more, apply for a quota extension: "
                 f"{AUDIT_FORM}")
        err.video_id = vid
        return err

    def _changed(self, unit: BuildUnit, live: PublishedVideo) -> VideoChanged:
        return VideoChanged(
            f"video.mp4 changed since it was published as https://youtu.be/{live.youtube_video_id} "
            f"(sha256 {live.video_sha256[:12]} -> {unit.digests['video.mp4'][:12]}); YouTube cannot replace the "
            "file of an existing video, so nothing was sent",
            hint=f"either (1) `doit publish:{unit.key} --replace` uploads the new file as a NEW video (new link; "
                 "views and comments stay with the old one, which is left as it is: unlist or delete it in "
                 "YouTube Studio), or (2) restore the previous video (revert the spec change and rebuild); "
                 "changes to title, description, tags, thumbnail or captions alone are applied in place")

    # ------------------------------------------------------------ ledger --
    # Each call commits on its own (publish/repository.py says why).

    def _state(self, key: str) -> tuple[PublishedVideo | None, list[PublishRecord]]:
        with transaction(self.ledger) as repo:
            return repo.live_video(key), repo.pending_uploads(key)

    def _steps(self, video_id: str) -> dict[str, StepState]:
        with transaction(self.ledger) as repo:
            return repo.steps(video_id)

    def _set_step(self, video_id: str, step: str, state: str, digest: str | None, *, detail: dict | None = None,
                  message: str | None = None) -> None:
        with transaction(self.ledger) as repo:
            repo.set_step(video_id, step, state, digest, detail=detail, message=message)

    def _set_record(self, record_id: int, **values) -> None:
        with transaction(self.ledger) as repo:
            repo.update_record(record_id, **values)

    def _check_upload_hold(self, channel_id: str) -> None:
        with transaction(self.ledger) as repo:
            row = repo.hold(f"uploads:{channel_id}")
        if row is not None and row.until is not None and row.until > self.clock():
            raise OnHold(f"uploads to channel {channel_id} are paused until {row.until:%Y-%m-%d %H:%M} UTC: "
                         f"{row.reason}", hint="YouTube's per-channel upload limit; metadata updates still run, "
                                               "and the upload happens on the first `doit publish` after that time")

    def _slot(self, channel, unit: BuildUnit, *, exclude: int | None = None) -> dt.datetime | None:
        if self.options.publish_at is not None:  # chosen at publish time (checked in publish_unit)
            return check_publish_at(self.options.publish_at, self.clock())
        where = f"brands/{unit.brand}.yaml: channel.schedule"
        sched = parse_schedule(channel.schedule, where=where)
        if sched is None:
            return None
        now = self.clock()
        with transaction(self.ledger) as repo:
            taken = repo.taken_slots(channel.id, unit.format, exclude_record=exclude)
        return next_slot(sched, now, taken, where=where)

    # ------------------------------------------------------------ upload --

    def _settle(self, rec: PublishRecord, client: Client, unit: BuildUnit) -> None:
        """An unfinished upload of a file that is no longer the build's: did it create a video?"""
        video = None
        if rec.session_json:
            state, video = client.probe(rec.session_json)
            if state == "gone":
                video = client.find_marked(rec.marker)
        elif rec.state == "uploading":
            video = client.find_marked(rec.marker)
        if video is None:
            self._set_record(rec.id, state="abandoned", session_json=None,
                             last_error="superseded by a newer build before its upload finished")
            self._emit(rec.unit, f"an unfinished upload of build {rec.build_digest[:12]} never became a video; "
                                 "dropped it")
            return
        self._emit(rec.unit, f"an earlier run's upload of build {rec.build_digest[:12]} did finish: "
                             f"https://youtu.be/{video['id']}; adopting it")
        with transaction(self.ledger) as repo:
            prev = repo.any_live_video(rec.unit)
        self._set_record(rec.id, youtube_video_id=video["id"], state="uploaded", session_json=None)
        self._register(rec, video, unit, replaced=prev if rec.action == "replace" else None)

    def _upload(self, rec: PublishRecord, desired: Desired, client: Client, lease: LockLease, channel) -> dict:
        chunk = chunk_size(self.options.chunk)
        total = desired.unit.video.stat().st_size
        progress = _Progress(partial(self._emit, rec.unit), total)
        video = None
        req = None

        def on_progress(sent: int, size: int) -> None:
            progress.show(sent)
            self._set_record(rec.id, bytes_sent=sent, session_json=session_of(req), state="uploading")
            lease.heartbeat()

        for _attempt in range(3):
            try:
                if rec.session_json:
                    req = client.restore_upload(rec.session_json)
                    self._emit(rec.unit, f"resuming the upload of record #{rec.id} from where YouTube stopped")
                    progress.reset(req.resumable_progress)
                    on_session = None
                else:
                    call = insert_call(desired, chunk)
                    call.body = self._fresh_body(rec, desired, channel)
                    req = client.insert_request(call, chunk)

                    def on_session(uri: str, req=req) -> None:
                        self._set_record(rec.id, session_json=session_of(req, uri), state="uploading")

                    self._emit(rec.unit, f"uploading video.mp4 ({total / MIB:.1f} MiB in {chunk // 1024} KiB chunks)")
                video = self._guard_upload(client, rec, req, on_session=on_session, on_progress=on_progress)
                break
            except SessionExpired:
                video = client.find_marked(rec.marker)
                if video is not None:
                    self._emit(rec.unit, "the upload session expired, but the video exists: "
                                         f"https://youtu.be/{video['id']}")
                    break
                self._emit(rec.unit, "the upload session expired before the upload finished; starting a new one",
                           "retry")
                self._set_record(rec.id, session_json=None, bytes_sent=0, state="intent")
                rec.session_json = None
        if video is None:
            raise ApiError("YouTube kept expiring the upload session", hint="run `doit publish` again later")
        after_upload_hook(rec.unit, video)
        self._set_record(rec.id, youtube_video_id=video["id"], state="uploaded", session_json=None, bytes_sent=total)
        return video

    def _fresh_body(self, rec: PublishRecord, desired: Desired, channel) -> dict:
        """The body recorded with the intent; a publishAt that has come too close is moved to a new slot."""
        body = json.loads(rec.request_json) if rec.request_json else desired.insert_body()
        at = parse_time(body.get("status", {}).get("publishAt"))
        if at is not None and at < self.clock() + dt.timedelta(minutes=10):
            slot = self._slot(channel, desired.unit, exclude=rec.id)
            if slot is not None:
                body["status"]["publishAt"] = slot.strftime("%Y-%m-%dT%H:%M:%SZ")
                self._set_record(rec.id, request_json=canonical(body))
                rec.request_json = canonical(body)
        return body

    def _guard_upload(self, client: Client, rec: PublishRecord, req, **kw) -> dict:
        try:
            return client.upload(req, **kw)
        except UploadLimitExceeded as exc:
            with transaction(self.ledger) as repo:
                repo.set_hold(f"uploads:{rec.channel_id}", self.clock() + dt.timedelta(hours=24), exc.message)
            raise

    def _register(self, rec: PublishRecord, video: dict, unit: BuildUnit, *,
                  replaced: PublishedVideo | None) -> PublishedVideo:
        with transaction(self.ledger) as repo:
            row = repo.register_video(rec, video, unit, replaced=replaced)
        # videos.insert sent the metadata of the record's build: note it as applied.
        self._set_step(video["id"], "metadata", "done", rec.metadata_sha256)
        return row

    def _verify(self, client: Client, row: PublishedVideo, record: PublishRecord | None,
                warnings: list[str]) -> None:
        """Read the status back: YouTube may have rejected the upload or locked it private.

        The ledger row gets the privacy and publishAt YouTube reports, not the ones requested.
        """
        found = client.execute(verify_call(row.youtube_video_id)).get("items") or []
        if not found:
            return
        status = found[0].get("status", {})
        sent = json.loads(record.request_json or "{}").get("status", {}) if record is not None else {}
        asked_privacy, asked_at = sent.get("privacyStatus", row.privacy), parse_time(sent.get("publishAt"))
        msg = None
        if status.get("uploadStatus") in ("rejected", "failed"):
            why = status.get("rejectionReason") or status.get("failureReason") or "no reason given"
            msg = f"YouTube {status['uploadStatus']} the upload https://youtu.be/{row.youtube_video_id} ({why})"
        elif (asked_privacy != "private" or asked_at is not None) and status.get("privacyStatus") == "private" \
                and not status.get("publishAt"):
            requested = f"publishAt {asked_at:%Y-%m-%d %H:%M} UTC" if asked_at else asked_privacy
            msg = locked_private_warning(row.youtube_video_id, requested)
        with transaction(self.ledger) as repo:
            updated = repo.record_upload_status(row.youtube_video_id, status, msg)
        row.privacy, row.publish_at = updated.privacy, updated.publish_at
        if msg:
            warnings.append(msg)

    # ---------------------------------------------------------- converge --

    def _apply(self, step: PlannedStep, d: Desired, video_id: str, client: Client, warnings: list[str]) -> None:
        if step.name == "metadata":
            read, write = step.calls
            items = client.execute(read).get("items") or []
            if not items:
                raise ApiError(f"video https://youtu.be/{video_id} is not on YouTube any more (or not on this "
                               "channel)", hint="if it was deleted on purpose, publish again with --replace")
            body = merge_update(items[0], d)
            client.execute(ApiCall(write.method, write.params, body))
            self._set_step(video_id, "metadata", "done", step.digest)
            self._emit(d.unit.key, "metadata updated (title, description, tags, category, language, disclosure)")
        elif step.name == "thumbnail":
            try:
                client.execute(step.calls[0])
            except ThumbnailForbidden as exc:
                self._set_step(video_id, "thumbnail", "failed", step.digest, message=exc.message)
                warnings.append(exc.render())
                return
            self._set_step(video_id, "thumbnail", "done", step.digest)
            self._emit(d.unit.key, "thumbnail set")
        elif step.name == "captions":
            self._apply_captions(step, d, video_id, client)
        elif step.name.startswith("playlist:"):
            self._apply_playlist(step, d.unit.key, video_id, client)
        else:  # pragma: no cover
            raise AssertionError(step.name)

    def _apply_captions(self, step: PlannedStep, d: Desired, video_id: str, client: Client) -> None:
        calls = list(step.calls)
        if calls[0].method == "captions.list":
            found = [t for t in client.execute(calls.pop(0)).get("items", [])
                     if t.get("snippet", {}).get("name") == calls[0].body["snippet"].get("name")
                     and t.get("snippet", {}).get("language") == calls[0].body["snippet"].get("language")]
            if found:
                track = found[0]["id"]
                started = self._steps(video_id).get("captions")
                if started and started.digest == step.digest:
                    self._set_step(video_id, "captions", "done", step.digest, detail={"track_id": track})
                    self._emit(d.unit.key, "captions were added by the interrupted run; kept them")
                    return
                calls = [captions_update_call(d, track)]
        call = calls[0]
        self._set_step(video_id, "captions", "started", step.digest)
        result = client.execute(call)
        track = result.get("id") or (call.body or {}).get("id")
        self._set_step(video_id, "captions", "done", step.digest, detail={"track_id": track})
        self._emit(d.unit.key, f"captions {'updated' if call.method == 'captions.update' else 'added'} ({track})")

    def _apply_playlist(self, step: PlannedStep, unit: str, video_id: str, client: Client) -> None:
        calls = list(step.calls)
        if calls[0].method == "playlistItems.list":
            if client.execute(calls.pop(0)).get("items"):
                self._set_step(video_id, step.name, "done", step.digest)
                return
        self._set_step(video_id, step.name, "started", step.digest)
        item = client.execute(calls[0])
        self._set_step(video_id, step.name, "done", step.digest, detail={"item_id": item.get("id")})
        self._emit(unit, f"added to playlist {step.digest}")

    # ----------------------------------------------------------- dry run --

    def _dry_run(self, unit: BuildUnit, channel, live: PublishedVideo | None,
                 pending: list[PublishRecord]) -> Outcome:
        if live is None or live.video_sha256 != unit.digests["video.mp4"]:
            desired = desired_state(unit, channel, publish_at=self._slot(channel, unit))
            plan = DryRun.upload(unit, channel.id, desired, pending=pending, replacing=live,
                                 chunk=chunk_size(self.options.chunk))
        else:
            desired = desired_state(unit, channel, publish_at=live.publish_at)
            planned, notes = plan_converge(desired, live.youtube_video_id, self._steps(live.youtube_video_id),
                                           retry_failed=self.options.retry_failed)
            plan = DryRun.update(unit, channel.id, desired, pending=pending, planned=planned, notes=notes)
        self._frame(unit.key, plan.head)
        if self.options.publish_at is not None:
            self._emit(unit.key, f"note: scheduled: private until publishAt {rfc3339(desired.publish_at)}, then "
                                 "public (chosen at publish time, instead of channel.schedule)")
        for line in plan.lines():
            self._emit(unit.key, line)
        return Outcome(unit.key, "dry-run", live.youtube_video_id if live else None, warnings=desired.warnings,
                       calls=[c.to_json() for c in plan.calls])


class _Progress:
    """Upload progress as `progress` events: fraction done, and the line with MiB and rate."""

    def __init__(self, emit: Callable[..., None], total: int):
        self.emit, self.total = emit, total
        self.start = time.monotonic()
        self.base = 0

    def reset(self, done: int) -> None:
        self.base, self.start = done, time.monotonic()

    def show(self, done: int) -> None:
        elapsed = max(time.monotonic() - self.start, 1e-6)
        rate = (done - self.base) / elapsed / MIB
        pct = 100.0 * done / self.total if self.total else 100.0
        self.emit(f"upload {done / MIB:7.1f}/{self.total / MIB:.1f} MiB {pct:5.1f}%  {rate:6.1f} MiB/s", "progress",
                  fraction=done / self.total if self.total else 1.0)
