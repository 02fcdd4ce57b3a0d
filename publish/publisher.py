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
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from . import auth
from .approval import require_approval
from .errors import (ApiError, ChannelMismatch, ConfigError, NotApproved, OnHold, PublishError,
                     QuotaRefused, SessionExpired, ThumbnailForbidden, UploadLimitExceeded, VideoChanged,
                     locked_private_warning)
from .ledger import Ledger, LockLease
from .models import Hold, PublishedVideo, PublishRecord, VideoStep, utcnow
from .plan import (NEW_VIDEO, ApiCall, Desired, PlannedStep, StepState, canonical, captions_update_call,
                   desired_state, insert_call, merge_update, plan_converge, verify_call)
from .quota import QuotaBook, estimate
from .schedule import next_slot, parse_schedule
from .units import BuildUnit, discover, load_unit
from .youtube import MIB, Client, chunk_size
from .youtube import session_json as session_of

REFUSED = (QuotaRefused, VideoChanged, OnHold, ChannelMismatch)


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


@dataclass
class PublishOptions:
    dry_run: bool = False
    replace: bool = False
    chunk: int | None = None
    retry_failed: bool = False  # units named explicitly: try steps that failed before (thumbnails)


def _parse_time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


class Publisher:
    def __init__(self, root: Path, ledger: Ledger, *, options: PublishOptions | None = None,
                 out: Callable[[str], None] = print, clock: Callable[[], dt.datetime] = utcnow):
        self.root = root.resolve()
        self.ledger = ledger
        self.options = options or PublishOptions()
        self.out = out
        self.clock = clock
        self._project = None
        self._clients: dict[str, Client] = {}
        self._token_info: dict[str, dict] = {}
        self._credentials: dict[str, object] = {}
        self._all_clients: list[Client] = []

    # ------------------------------------------------------------ brands --

    def channel_of(self, brand: str):
        if self._project is None:
            from compiler.load import load_project

            self._project = load_project(self.root, only=set())
        project = self._project
        if brand not in project.brands:
            key = f"brands/{brand}.yaml"
            if key in project.errors:
                raise ConfigError(f"{key} has errors:\n{project.errors[key].render()}")
            raise ConfigError(f"unknown brand '{brand}': there is no {key}")
        return project.brands[brand].model.channel

    def client_for(self, brand: str, channel) -> Client:
        """Credentials of the brand, checked against the brand's channel before anything is uploaded."""
        if brand in self._clients:
            return self._clients[brand]
        info = auth.load_token_info(brand)
        authorised = info.get("channel_id")
        if not channel.id:
            raise ConfigError(f"brands/{brand}.yaml: channel.id is not set",
                              hint=f"the authorised channel is {authorised} ({info.get('channel_title', '?')}); "
                                   f"add `id: {authorised}` under `channel:`")
        if authorised and authorised != channel.id:
            raise ChannelMismatch(f"the saved authorisation of brand '{brand}' is for channel {authorised} "
                                  f"({info.get('channel_title', '?')}), but brands/{brand}.yaml says {channel.id}",
                                  hint=f"run `doit auth:{brand}` and pick the brand's channel in the chooser")
        client = Client(brand, auth.credentials_from_info(info), QuotaBook(self.ledger, auth.project_of(info),
                                                                           clock=self.clock), out=self.out)
        self._token_info[brand] = info
        self._credentials[brand] = client.credentials  # saved at the end even if the check below fails
        self._all_clients.append(client)
        mine = client.execute(ApiCall("channels.list", {"part": "id,snippet,contentDetails", "mine": True}))
        items = mine.get("items") or []
        if not items or items[0].get("id") != channel.id:
            got = (f"channel {items[0].get('id')} ({items[0].get('snippet', {}).get('title', '?')})" if items
                   else "an account without a YouTube channel")
            raise ChannelMismatch(f"the token of brand '{brand}' acts as {got}, not {channel.id} from "
                                  f"brands/{brand}.yaml; nothing was uploaded",
                                  hint=f"run `doit auth:{brand}` and choose the brand account in Google's chooser")
        ch = items[0]
        client.uploads_playlist = ch.get("contentDetails", {}).get("relatedPlaylists", {}).get("uploads")
        self._hold_clear(f"auth:{brand}")
        self._clients[brand] = client
        self.out(f"  channel {ch['id']} ({ch.get('snippet', {}).get('title', '?')}) verified for brand {brand}")
        return client

    def quota_summaries(self) -> list[str]:
        return sorted({c.quota.summary() for c in self._clients.values()})

    def save_tokens(self) -> None:
        """Persist refreshed or rotated tokens (a rotated refresh token must never be lost); close connections."""
        for brand, credentials in self._credentials.items():
            auth.save_if_rotated(brand, credentials, self._token_info[brand])
        for client in self._all_clients:
            client.close()

    # --------------------------------------------------------------- run --

    def run(self, keys: list[str] | None = None) -> list[Outcome]:
        keys = list(keys) if keys else discover(self.root)
        if not keys:
            self.out("nothing to publish: build/ has no videos (run doit build first)")
            return []
        outcomes: list[Outcome] = []
        try:
            for key in keys:
                outcome = self._run_one(key)
                self._report(outcome)
                outcomes.append(outcome)
        finally:
            self.save_tokens()
        return outcomes

    def _run_one(self, key: str) -> Outcome:
        try:
            return self.publish_unit(key)
        except NotApproved as exc:
            return Outcome(key, "not-approved", message=exc.for_unit(key).render())
        except REFUSED as exc:
            return Outcome(key, "refused", message=exc.for_unit(key).render())
        except PublishError as exc:
            if exc.kind == "auth":
                self._hold_set(f"auth:{key.split('/')[0]}", None, exc.message)
            self._note_error(key, exc)
            return Outcome(key, "failed", message=exc.for_unit(key).render())

    def _note_error(self, key: str, exc: PublishError) -> None:
        """Keep the reason on the unfinished record, for whoever looks at the ledger later."""
        with self.ledger.session() as s:
            for rec in s.scalars(select(PublishRecord).where(
                    PublishRecord.unit == key, PublishRecord.state.in_(("intent", "uploading", "uploaded")))):
                rec.last_error = exc.message

    def _report(self, o: Outcome) -> None:
        link = f" https://youtu.be/{o.video_id}" if o.video_id else ""
        head = {"published": "published", "updated": "updated", "up-to-date": "up to date",
                "not-approved": "skipped", "dry-run": "dry run", "refused": "REFUSED", "failed": "FAILED"}[o.status]
        if o.status in ("not-approved", "refused", "failed"):
            self.out(f"{head}: {o.message}")
        else:
            self.out(f"{head}: {o.unit}{link}")
        for w in o.warnings:
            self.out(f"  warning: {w}")

    # -------------------------------------------------------------- unit --

    def publish_unit(self, key: str) -> Outcome:
        unit = load_unit(self.root, key)
        channel = self.channel_of(unit.brand)
        require_approval(self.ledger, key, unit.build_digest)
        live, pending = self._state(key)
        video_sha = unit.digests["video.mp4"]
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

        self.out(f"publish {key} (build {unit.build_digest[:12]})")
        client = self.client_for(unit.brand, channel)
        with self.ledger.lock(f"publish:{key}") as lease:
            return self._publish_locked(unit, channel, client, lease)

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
            need = ["videos.insert", "videos.list"] + [c.method for s in self._new_video_steps(desired)
                                                       for c in s.calls]
            client.quota.check(estimate(need), f"publishing {key}")
            if same is None:
                same = self._intent(unit, desired, "replace" if live is not None else "upload")
            video = self._upload(same, desired, client, lease, channel)
            client.quota.count(f"uploads:{channel.id}")  # per-channel count, for the record
            video_row = self._register(same, video, unit, replaced=live)
            self._verify(client, video_row, warnings)
            record = same
            uploaded = True
        else:
            video_row = live
            record = self._open_record(key, live.youtube_video_id)
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
            record = self._intent(unit, desired, "update", video_id=video_row.youtube_video_id)
        else:
            self._set_record(record.id, build_digest=unit.build_digest)
        for step in planned:
            self._apply(step, desired, video_row.youtube_video_id, client, warnings)
        self._set_record(record.id, state="complete", last_error=None)
        return Outcome(key, "published" if uploaded else "updated", video_row.youtube_video_id, warnings=warnings)

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

    def _state(self, key: str) -> tuple[PublishedVideo | None, list[PublishRecord]]:
        with self.ledger.session() as s:
            live = s.scalars(select(PublishedVideo).where(PublishedVideo.unit == key, PublishedVideo.status == "live")
                             .order_by(PublishedVideo.created_at.desc())).first()
            pending = list(s.scalars(select(PublishRecord).where(
                PublishRecord.unit == key, PublishRecord.action.in_(("upload", "replace")),
                PublishRecord.state.in_(("intent", "uploading"))).order_by(PublishRecord.id)))
            return live, pending

    def _open_record(self, key: str, video_id: str) -> PublishRecord | None:
        with self.ledger.session() as s:
            return s.scalars(select(PublishRecord).where(
                PublishRecord.unit == key, PublishRecord.youtube_video_id == video_id,
                PublishRecord.state.in_(("uploaded", "intent"))).order_by(PublishRecord.id.desc())).first()

    def _steps(self, video_id: str) -> dict[str, StepState]:
        with self.ledger.session() as s:
            rows = s.scalars(select(VideoStep).where(VideoStep.youtube_video_id == video_id))
            return {r.step: StepState(r.state, r.digest, json.loads(r.detail or "{}")) for r in rows}

    def _set_step(self, video_id: str, step: str, state: str, digest: str | None, *, detail: dict | None = None,
                  message: str | None = None) -> None:
        with self.ledger.session() as s:
            row = s.get(VideoStep, (video_id, step))
            if row is None:
                row = VideoStep(youtube_video_id=video_id, step=step)
                s.add(row)
            old = json.loads(row.detail or "{}")
            row.state, row.digest, row.message = state, digest, message
            row.detail = json.dumps({**old, **(detail or {})}, sort_keys=True)
            row.updated_at = utcnow()

    def _set_record(self, record_id: int, **values) -> None:
        with self.ledger.session() as s:
            rec = s.get(PublishRecord, record_id)
            for k, v in values.items():
                setattr(rec, k, v)
            rec.updated_at = utcnow()

    def _intent(self, unit: BuildUnit, desired: Desired, action: str, *, video_id: str | None = None) -> PublishRecord:
        """Write down what is about to happen, before anything is sent."""
        with self.ledger.session() as s:
            rec = PublishRecord(unit=unit.key, brand=unit.brand, channel_id=desired.channel_id,
                                build_digest=unit.build_digest, video_sha256=desired.video_sha,
                                metadata_sha256=desired.metadata_sha, marker=desired.marker, action=action,
                                state="intent", youtube_video_id=video_id, bytes_sent=0,
                                total_bytes=unit.video.stat().st_size,
                                request_json=canonical(desired.insert_body()) if action != "update" else None)
            s.add(rec)
            s.flush()
            return rec

    def _hold_set(self, scope: str, until: dt.datetime | None, reason: str) -> None:
        with self.ledger.session() as s:
            row = s.get(Hold, scope) or Hold(scope=scope)
            row.until, row.reason, row.created_at = until, reason, utcnow()
            s.merge(row)

    def _hold_clear(self, scope: str) -> None:
        with self.ledger.session() as s:
            row = s.get(Hold, scope)
            if row is not None:
                s.delete(row)

    def _check_upload_hold(self, channel_id: str) -> None:
        with self.ledger.session() as s:
            row = s.get(Hold, f"uploads:{channel_id}")
        if row is not None and row.until is not None and row.until > self.clock():
            raise OnHold(f"uploads to channel {channel_id} are paused until {row.until:%Y-%m-%d %H:%M} UTC: "
                         f"{row.reason}", hint="YouTube's per-channel upload limit; metadata updates still run, "
                                               "and the upload happens on the first `doit publish` after that time")

    def _slot(self, channel, unit: BuildUnit, *, exclude: int | None = None) -> dt.datetime | None:
        where = f"brands/{unit.brand}.yaml: channel.schedule"
        sched = parse_schedule(channel.schedule, where=where)
        if sched is None:
            return None
        now = self.clock()
        with self.ledger.session() as s:
            taken = {r for r in s.scalars(select(PublishedVideo.publish_at).where(
                PublishedVideo.channel_id == channel.id, PublishedVideo.format == unit.format,
                PublishedVideo.status == "live", PublishedVideo.publish_at.is_not(None)))}
            for body in s.scalars(select(PublishRecord.request_json).where(
                    PublishRecord.channel_id == channel.id, PublishRecord.state.in_(("intent", "uploading")),
                    PublishRecord.id != (exclude or -1))):
                at = json.loads(body or "{}").get("status", {}).get("publishAt")
                if at:
                    taken.add(_parse_time(at))
        return next_slot(sched, now, {t for t in taken if t is not None}, where=where)

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
            self.out(f"  an unfinished upload of build {rec.build_digest[:12]} never became a video; dropped it")
            return
        self.out(f"  an earlier run's upload of build {rec.build_digest[:12]} did finish: https://youtu.be/"
                 f"{video['id']}; adopting it")
        with self.ledger.session() as s:
            prev = s.scalars(select(PublishedVideo).where(PublishedVideo.unit == rec.unit,
                                                          PublishedVideo.status == "live")).first()
        self._set_record(rec.id, youtube_video_id=video["id"], state="uploaded", session_json=None)
        self._register(rec, video, unit, replaced=prev if rec.action == "replace" else None)

    def _upload(self, rec: PublishRecord, desired: Desired, client: Client, lease: LockLease, channel) -> dict:
        chunk = chunk_size(self.options.chunk)
        total = desired.unit.video.stat().st_size
        progress = _Progress(self.out, total)
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
                    self.out(f"  resuming the upload of record #{rec.id} from where YouTube stopped")
                    progress.reset(req.resumable_progress)
                    on_session = None
                else:
                    call = insert_call(desired, chunk)
                    call.body = self._fresh_body(rec, desired, channel)
                    req = client.insert_request(call, chunk)

                    def on_session(uri: str, req=req) -> None:
                        self._set_record(rec.id, session_json=session_of(req, uri), state="uploading")

                    self.out(f"  uploading video.mp4 ({total / MIB:.1f} MiB in {chunk // 1024} KiB chunks)")
                video = self._guard_upload(client, rec, req, on_session=on_session, on_progress=on_progress)
                break
            except SessionExpired:
                video = client.find_marked(rec.marker)
                if video is not None:
                    self.out(f"  the upload session expired, but the video exists: https://youtu.be/{video['id']}")
                    break
                self.out("  the upload session expired before the upload finished; starting a new one")
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
        at = _parse_time(body.get("status", {}).get("publishAt"))
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
            self._hold_set(f"uploads:{rec.channel_id}", self.clock() + dt.timedelta(hours=24), exc.message)
            raise

    def _register(self, rec: PublishRecord, video: dict, unit: BuildUnit, *,
                  replaced: PublishedVideo | None) -> PublishedVideo:
        sent = json.loads(rec.request_json or "{}").get("status", {})
        with self.ledger.session() as s:
            row = s.get(PublishedVideo, video["id"])
            if row is None:
                row = PublishedVideo(youtube_video_id=video["id"], unit=rec.unit, brand=rec.brand,
                                     channel_id=rec.channel_id or "", format=unit.format,
                                     video_sha256=rec.video_sha256, marker=rec.marker or "", record_id=rec.id,
                                     privacy=sent.get("privacyStatus", "private"),
                                     publish_at=_parse_time(sent.get("publishAt")),
                                     duration_s=unit.metadata.get("duration_s"), status="live")
                s.add(row)
            if replaced is not None and replaced.youtube_video_id != video["id"]:
                old = s.get(PublishedVideo, replaced.youtube_video_id)
                old.status, old.superseded_by = "superseded", video["id"]
            s.flush()
        # videos.insert sent the metadata of the record's build: note it as applied.
        self._set_step(video["id"], "metadata", "done", rec.metadata_sha256)
        return row

    def _verify(self, client: Client, row: PublishedVideo, warnings: list[str]) -> None:
        """Read the status back: YouTube may have rejected the upload or locked it private."""
        found = client.execute(verify_call(row.youtube_video_id)).get("items") or []
        if not found:
            return
        status = found[0].get("status", {})
        msg = None
        if status.get("uploadStatus") in ("rejected", "failed"):
            why = status.get("rejectionReason") or status.get("failureReason") or "no reason given"
            msg = f"YouTube {status['uploadStatus']} the upload https://youtu.be/{row.youtube_video_id} ({why})"
        elif (row.privacy != "private" or row.publish_at is not None) and status.get("privacyStatus") == "private" \
                and not status.get("publishAt"):
            requested = f"publishAt {row.publish_at:%Y-%m-%d %H:%M} UTC" if row.publish_at else row.privacy
            msg = locked_private_warning(row.youtube_video_id, requested)
        with self.ledger.session() as s:
            r = s.get(PublishedVideo, row.youtube_video_id)
            r.upload_status = status.get("uploadStatus")
            r.warning = msg
        if msg:
            warnings.append(msg)

    # ---------------------------------------------------------- converge --

    def _new_video_steps(self, desired: Desired) -> list[PlannedStep]:
        planned, _ = plan_converge(desired, NEW_VIDEO, {"metadata": StepState("done", desired.metadata_sha, {})},
                                   retry_failed=True)
        return planned

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
            self.out("  metadata updated (title, description, tags, category, language, disclosure)")
        elif step.name == "thumbnail":
            try:
                client.execute(step.calls[0])
            except ThumbnailForbidden as exc:
                self._set_step(video_id, "thumbnail", "failed", step.digest, message=exc.message)
                warnings.append(exc.render())
                return
            self._set_step(video_id, "thumbnail", "done", step.digest)
            self.out("  thumbnail set")
        elif step.name == "captions":
            self._apply_captions(step, d, video_id, client)
        elif step.name.startswith("playlist:"):
            self._apply_playlist(step, video_id, client)
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
                    self.out("  captions were added by the interrupted run; kept them")
                    return
                calls = [captions_update_call(d, track)]
        call = calls[0]
        self._set_step(video_id, "captions", "started", step.digest)
        result = client.execute(call)
        track = result.get("id") or (call.body or {}).get("id")
        self._set_step(video_id, "captions", "done", step.digest, detail={"track_id": track})
        self.out(f"  captions {'updated' if call.method == 'captions.update' else 'added'} ({track})")

    def _apply_playlist(self, step: PlannedStep, video_id: str, client: Client) -> None:
        calls = list(step.calls)
        if calls[0].method == "playlistItems.list":
            if client.execute(calls.pop(0)).get("items"):
                self._set_step(video_id, step.name, "done", step.digest)
                return
        self._set_step(video_id, step.name, "started", step.digest)
        item = client.execute(calls[0])
        self._set_step(video_id, step.name, "done", step.digest, detail={"item_id": item.get("id")})
        self.out(f"  added to playlist {step.digest}")

    # ----------------------------------------------------------- dry run --

    def _dry_run(self, unit: BuildUnit, channel, live: PublishedVideo | None,
                 pending: list[PublishRecord]) -> Outcome:
        calls: list[ApiCall] = [ApiCall("channels.list", {"part": "id,snippet,contentDetails", "mine": True},
                                        note=f"check that the token acts as channel {channel.id}")]
        notes: list[str] = []
        for rec in pending:
            notes.append(f"first: record #{rec.id} (build {rec.build_digest[:12]}) has an unfinished upload "
                         f"({rec.bytes_sent}/{rec.total_bytes} bytes); it is "
                         + ("resumed from YouTube's Range" if rec.video_sha256 == unit.digests["video.mp4"]
                            else "checked and adopted or dropped"))
        if live is None or live.video_sha256 != unit.digests["video.mp4"]:
            desired = desired_state(unit, channel, publish_at=self._slot(channel, unit))
            calls.append(insert_call(desired, chunk_size(self.options.chunk)))
            calls.append(verify_call(NEW_VIDEO))
            steps = self._new_video_steps(desired)
            if live is not None:
                notes.append(f"--replace: https://youtu.be/{live.youtube_video_id} is left as it is and marked "
                             "superseded")
        else:
            desired = desired_state(unit, channel, publish_at=live.publish_at)
            steps, more = plan_converge(desired, live.youtube_video_id, self._steps(live.youtube_video_id),
                                        retry_failed=self.options.retry_failed)
            notes += more
        calls += [c for s in steps for c in s.calls]
        need = estimate([c.method for c in calls])
        self.out(f"dry run: {unit.key} (build {unit.build_digest[:12]}) -> channel {channel.id}; nothing is sent")
        for note in notes:
            self.out(f"  note: {note}")
        for call in calls:
            self.out("  " + json.dumps(call.to_json(), indent=2, ensure_ascii=False).replace("\n", "\n  "))
        self.out("  quota: " + ", ".join(f"{v} {'units' if k == 'shared' else k + ' call(s)'}"
                                         for k, v in sorted(need.items())))
        return Outcome(unit.key, "dry-run", live.youtube_video_id if live else None, warnings=desired.warnings,
                       calls=[c.to_json() for c in calls])


class _Progress:
    def __init__(self, out: Callable[[str], None], total: int):
        self.out, self.total = out, total
        self.start = time.monotonic()
        self.base = 0

    def reset(self, done: int) -> None:
        self.base, self.start = done, time.monotonic()

    def show(self, done: int) -> None:
        elapsed = max(time.monotonic() - self.start, 1e-6)
        rate = (done - self.base) / elapsed / MIB
        pct = 100.0 * done / self.total if self.total else 100.0
        self.out(f"  upload {done / MIB:7.1f}/{self.total / MIB:.1f} MiB {pct:5.1f}%  {rate:6.1f} MiB/s")
