"""Plan: a built unit + the brand's channel settings + what is already on YouTube -> API calls.

The calls are data (`ApiCall`): a dry run prints them, the publisher executes exactly them.
Only two things are filled in while executing: the new video's id (unknown until the upload
finishes) and, for videos.update, the parts as read back from YouTube (updates replace whole
parts, so the planned changes are merged into a fresh read; research doc 1.3).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import BuildError
from .schedule import rfc3339
from .units import BuildUnit

NEW_VIDEO = "<id of the new video>"
TAGS_MAX = 500
CAPTION_NAME = "Subtitles"
MARKER_PREFIX = "showrunner-"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def marker_for(unit_key: str, video_sha: str) -> str:
    """A tag that identifies this unit's video file on YouTube, so a crash after the upload
    (before the ledger heard about it) is reconciled by finding the video instead of uploading again."""
    return MARKER_PREFIX + hashlib.sha256(f"{unit_key}\n{video_sha}".encode()).hexdigest()[:16]


def tags_length(tags: list[str]) -> int:
    """YouTube's count: commas between tags count, and a tag with a space counts as if quoted."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


@dataclass
class ApiCall:
    method: str
    params: dict
    body: dict | None = None
    media: dict | None = None
    note: str = ""

    def to_json(self) -> dict:
        out: dict[str, Any] = {"method": self.method, "params": self.params}
        if self.body is not None:
            out["body"] = self.body
        if self.media is not None:
            out["media"] = self.media
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Desired:
    """What the unit should look like on YouTube."""

    unit: BuildUnit
    channel_id: str | None
    snippet: dict
    flags: dict
    privacy: str
    publish_at: dt.datetime | None
    marker: str
    playlists: list[str]
    caption_language: str
    requested_privacy: str = "private"  # the brand's channel.privacy (sent when there is no schedule)
    schedule: str | None = None  # the brand's channel.schedule, the rule publishAt slots come from
    warnings: list[str] = field(default_factory=list)

    @property
    def video_sha(self) -> str:
        return self.unit.digests["video.mp4"]

    @property
    def thumbnail_sha(self) -> str:
        return self.unit.digests["thumbnail.jpg"]

    @property
    def captions_sha(self) -> str:
        return self.unit.digests["captions.srt"]

    @property
    def metadata_sha(self) -> str:
        return hashlib.sha256(canonical({"snippet": self.snippet, "flags": self.flags}).encode()).hexdigest()

    def status(self) -> dict:
        status: dict[str, Any] = {"privacyStatus": self.privacy}
        if self.publish_at is not None:
            status["publishAt"] = rfc3339(self.publish_at)
        status.update(self.flags)
        return status

    def insert_body(self) -> dict:
        return {"snippet": dict(self.snippet), "status": self.status()}

    def approval_state(self) -> dict:
        """Everything publishing sends for this unit, as a reviewer approves it (see `publish_digest`).

        The build (its digest and the three media files) plus every field of every call: the channel,
        the whole snippet, the status settings, the caption track's settings and the playlists. The
        one thing not fixed here is the exact publishAt slot, which depends on when the upload runs;
        what is approved is the rule it comes from (`channel.schedule`) and the privacy setting.
        A field added to what is sent must be added here too (tests/publish check the calls).
        """
        captions = {k: v for k, v in caption_snippet(self, NEW_VIDEO).items() if k != "videoId"}
        return {
            "build_digest": self.unit.build_digest,
            "channel": self.channel_id,
            "video": {"sha256": self.video_sha},
            "snippet": dict(self.snippet),
            "status": {"privacyStatus": self.requested_privacy, "schedule": self.schedule, **self.flags},
            "thumbnail": {"sha256": self.thumbnail_sha},
            "captions": {"sha256": self.captions_sha, **captions},
            "playlists": list(self.playlists),
        }


def publish_digest(state: dict) -> str:
    """sha256 of the canonical JSON of an approval state (`Desired.approval_state()`)."""
    return hashlib.sha256(canonical(state).encode()).hexdigest()


def approval_state(unit: BuildUnit, channel, publish_at: dt.datetime | None = None) -> dict:
    """What a reviewer approves for the unit's current build under the brand's current channel settings; with
    `publish_at`, the explicit publish time chosen for it (the studio's Schedule, `--publish-at`) as
    `status.publishAt`, so an approval covers that exact time and no other. Without one the state has no such
    field, so approvals recorded before it existed keep their digest."""
    state = desired_state(unit, channel, publish_at=None).approval_state()
    if publish_at is not None:
        state["status"]["publishAt"] = rfc3339(publish_at)
    return state


def _check_text(key: str, name: str, value: Any, *, max_chars: int | None = None, max_bytes: int | None = None,
                required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BuildError(f"metadata.json: {name} must be text", unit=key, hint="rebuild with doit build")
    if required and not value.strip():
        raise BuildError(f"metadata.json: {name} is empty", unit=key, hint="give the video a title in its spec")
    if re.search(r"[<>]", value):
        raise BuildError(f"metadata.json: {name} contains < or >, which YouTube rejects", unit=key,
                         hint="remove them from the spec and rebuild")
    if max_chars is not None and len(value) > max_chars:
        raise BuildError(f"metadata.json: {name} has {len(value)} characters; YouTube allows {max_chars}",
                         unit=key, hint="shorten it in the spec and rebuild")
    if max_bytes is not None and len(value.encode("utf-8")) > max_bytes:
        raise BuildError(f"metadata.json: {name} is {len(value.encode('utf-8'))} bytes of UTF-8; YouTube allows "
                         f"{max_bytes}", unit=key, hint="shorten it in the spec and rebuild")
    return value


def fit_tags(tags: list[str], marker: str) -> tuple[list[str], list[str]]:
    """Keep the marker, then as many tags as fit into 500 characters; return (tags, dropped)."""
    out, dropped = [marker], []
    seen = {marker.lower()}
    for tag in tags:
        t = str(tag).strip()
        if not t or t.lower() in seen:
            continue
        if re.search(r"[<>,]", t) or tags_length(out + [t]) > TAGS_MAX:
            dropped.append(t)
            continue
        seen.add(t.lower())
        out.append(t)
    return out[1:] + [marker], dropped


def desired_state(unit: BuildUnit, channel, *, publish_at: dt.datetime | None) -> Desired:
    """`channel` is the brand's core.spec.Channel."""
    md, key = unit.metadata, unit.key
    title = _check_text(key, "title", md.get("title"), max_chars=100, required=True)
    description = _check_text(key, "description", md.get("description"), max_bytes=5000)
    marker = marker_for(key, unit.digests["video.mp4"])
    raw_tags = md.get("tags") or []
    if not isinstance(raw_tags, list):
        raise BuildError("metadata.json: tags must be a list", unit=key, hint="rebuild with doit build")
    tags, dropped = fit_tags([str(t) for t in raw_tags], marker)
    language = str(md.get("language") or channel.language)
    snippet = {
        "title": title,
        "description": description,
        "tags": tags,
        "categoryId": str(md.get("category") or channel.category),
        "defaultLanguage": language,
        "defaultAudioLanguage": language,
    }
    flags = {
        "selfDeclaredMadeForKids": bool(channel.made_for_kids),
        "containsSyntheticMedia": bool(channel.synthetic_media),
    }
    privacy = "private" if publish_at is not None else channel.privacy
    d = Desired(unit=unit, channel_id=channel.id, snippet=snippet, flags=flags, privacy=privacy,
                publish_at=publish_at, marker=marker, playlists=list(dict.fromkeys(channel.playlists)),
                caption_language=language, requested_privacy=channel.privacy,
                schedule=str(channel.schedule).strip() if channel.schedule else None)
    if dropped:
        d.warnings.append(f"tags over YouTube's 500-character limit (or containing < > ,) were left out: "
                          f"{', '.join(dropped)}")
    thumb_size = unit.thumbnail.stat().st_size
    if thumb_size > 2 * 1024 * 1024:
        d.warnings.append(f"thumbnail.jpg is {thumb_size / 1048576:.1f} MiB; keep thumbnails under 2 MiB "
                          "(older channels refuse larger ones)")
    return d


# ----------------------------------------------------------------- calls ---

def media_of(path, mimetype: str, sha: str, *, chunk: int | None = None) -> dict:
    out = {"file": str(path), "bytes": path.stat().st_size, "mimetype": mimetype, "sha256": sha}
    if chunk:
        out["upload"] = f"resumable, {chunk // 1024} KiB chunks"
    return out


def insert_call(d: Desired, chunk: int) -> ApiCall:
    return ApiCall("videos.insert", {"part": "snippet,status"}, d.insert_body(),
                   media_of(d.unit.video, "video/mp4", d.video_sha, chunk=chunk))


def verify_call(video_id: str) -> ApiCall:
    return ApiCall("videos.list", {"part": "status", "id": video_id},
                   note="read back the status: locked-private or rejected uploads are reported")


def thumbnail_call(d: Desired, video_id: str) -> ApiCall:
    return ApiCall("thumbnails.set", {"videoId": video_id}, None,
                   media_of(d.unit.thumbnail, "image/jpeg", d.thumbnail_sha))


def caption_snippet(d: Desired, video_id: str) -> dict:
    return {"videoId": video_id, "language": d.caption_language, "name": CAPTION_NAME, "isDraft": False}


def captions_insert_call(d: Desired, video_id: str) -> ApiCall:
    return ApiCall("captions.insert", {"part": "snippet"}, {"snippet": caption_snippet(d, video_id)},
                   media_of(d.unit.captions, "application/octet-stream", d.captions_sha))


def captions_update_call(d: Desired, track_id: str) -> ApiCall:
    return ApiCall("captions.update", {"part": "snippet"}, {"id": track_id, "snippet": {"isDraft": False}},
                   media_of(d.unit.captions, "application/octet-stream", d.captions_sha))


def playlist_call(playlist_id: str, video_id: str) -> ApiCall:
    return ApiCall("playlistItems.insert", {"part": "snippet"},
                   {"snippet": {"playlistId": playlist_id, "resourceId": {"kind": "youtube#video", "videoId": video_id}}})


def update_calls(d: Desired, video_id: str) -> list[ApiCall]:
    """Read-modify-write: the update sends the whole snippet and status parts as read, with these set."""
    return [
        ApiCall("videos.list", {"part": "snippet,status", "id": video_id},
                note="read the whole snippet and status parts (updates replace whole parts)"),
        ApiCall("videos.update", {"part": "snippet,status"},
                {"id": video_id, "snippet": dict(d.snippet), "status": dict(d.flags)},
                note="fields shown are set on top of the parts as read; everything else is sent back unchanged"),
    ]


def merge_update(current: dict, d: Desired) -> dict:
    """The body of videos.update: the parts as read, with our fields set (privacy/publishAt kept)."""
    snippet = dict(current.get("snippet") or {})
    for readonly in ("publishedAt", "channelId", "thumbnails", "channelTitle", "liveBroadcastContent",
                     "localized"):
        snippet.pop(readonly, None)
    snippet.update(d.snippet)
    status = dict(current.get("status") or {})
    for readonly in ("uploadStatus", "failureReason", "rejectionReason", "madeForKids"):
        status.pop(readonly, None)
    status.update(d.flags)
    if "publishAt" in status and status.get("privacyStatus") != "private":
        status.pop("publishAt")
    return {"id": current["id"], "snippet": snippet, "status": status}


# -------------------------------------------------------------- converge ---

@dataclass(frozen=True)
class StepState:
    state: str  # started | done | failed
    digest: str | None
    detail: dict


@dataclass
class PlannedStep:
    name: str  # metadata | thumbnail | captions | playlist:<id>
    digest: str
    calls: list[ApiCall]


def plan_converge(d: Desired, video_id: str, steps: dict[str, StepState], *, retry_failed: bool) -> tuple[
        list[PlannedStep], list[str]]:
    """What to send so the video matches the build; also notes about steps deliberately skipped.

    A step whose state is `started` was interrupted mid-call in an earlier run: for the two calls
    that are not idempotent (captions.insert, playlistItems.insert) the plan looks first.
    """
    out: list[PlannedStep] = []
    notes: list[str] = []
    meta = steps.get("metadata")
    if meta is None or meta.state != "done" or meta.digest != d.metadata_sha:
        out.append(PlannedStep("metadata", d.metadata_sha, update_calls(d, video_id)))
    thumb = steps.get("thumbnail")
    if thumb is None or thumb.state != "done" or thumb.digest != d.thumbnail_sha:
        if thumb is not None and thumb.state == "failed" and thumb.digest == d.thumbnail_sha and not retry_failed:
            notes.append("thumbnail: refused earlier (channel not verified?); name the unit explicitly "
                         "(doit publish:<unit>) to try again")
        else:
            out.append(PlannedStep("thumbnail", d.thumbnail_sha, [thumbnail_call(d, video_id)]))
    cap = steps.get("captions")
    if cap is None or cap.state != "done" or cap.digest != d.captions_sha:
        track = (cap.detail if cap else {}).get("track_id")
        calls = []
        if cap is not None and cap.state == "started" and not track:
            calls.append(ApiCall("captions.list", {"part": "snippet", "videoId": video_id},
                                 note="an earlier run stopped during captions.insert; look for its track first"))
        calls.append(captions_update_call(d, track) if track else captions_insert_call(d, video_id))
        out.append(PlannedStep("captions", d.captions_sha, calls))
    for pid in d.playlists:
        st = steps.get(f"playlist:{pid}")
        if st is not None and st.state == "done":
            continue
        calls = []
        if st is not None and st.state == "started":
            calls.append(ApiCall("playlistItems.list", {"part": "id", "playlistId": pid, "videoId": video_id},
                                 note="an earlier run stopped during playlistItems.insert; look first"))
        calls.append(playlist_call(pid, video_id))
        out.append(PlannedStep(f"playlist:{pid}", pid, calls))
    return out, notes


def new_video_steps(d: Desired) -> list[PlannedStep]:
    """What follows videos.insert: the metadata went with the insert, the rest is sent afterwards."""
    planned, _ = plan_converge(d, NEW_VIDEO, {"metadata": StepState("done", d.metadata_sha, {})}, retry_failed=True)
    return planned
