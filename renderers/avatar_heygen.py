"""A HeyGen avatar presenter for one scene, through HeyGen's v3 REST API (clients/heygen.py).

Two voices:
- HeyGen's own (default): the scene text goes out as `script` with the brand's `voice_id`; the
  compiler then takes this clip's audio as the scene's narration (tts.recorded), so lips, voice
  and captions agree.
- Our narration (`avatar.voice: narration`, or a scene with recorded `audio:`): the narration
  audio.wav is uploaded with POST /v3/assets and lip-synced through `audio_asset_id`. HeyGen
  cannot read a local file, and this needs no public URL.

A render costs money, so: the action key caches it for good; a journal remembers the video id
per request, so a crash, a timeout or a cache eviction resumes the same video; a cross-process
slot counter keeps at most SHOWRUNNER_HEYGEN_CONCURRENCY (default 10) jobs rendering at once;
the length limit is checked before anything is sent. Status is polled with backoff and the
presigned URL is downloaded at once, with retries that fetch a fresh URL when one has expired.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field

from clients import heygen
from clients.heygen import Client, HeyGenError, Journal, Slots, base_url
from core.errors import StepError
from core.spec import API_KEY_ENV_PATTERN
from core.store import file_digest

from .base import Context, Params, Renderer, ffmpeg_version, ffprobe

API = "heygen v3"
FIRST_POLL_S = 45.0  # a render takes minutes: no point asking at once
POLL_NEXT_S = 20.0  # then every 20 s, growing by a quarter each time, up to a minute
POLL_MAX_S = 60.0
POLL_TIMEOUT_S = float(os.environ.get("SHOWRUNNER_HEYGEN_TIMEOUT_S", 45 * 60))
DOWNLOAD_TRIES = 6


def state_dir(ctx: Context) -> Path:
    """cache/heygen/ next to the store (slots and journal), or $SHOWRUNNER_HEYGEN_STATE."""
    env = os.environ.get("SHOWRUNNER_HEYGEN_STATE")
    if env:
        return Path(env)
    for parent in ctx.scratch.parents:
        if parent.name == "tmp" and (parent.parent / "actions").is_dir():
            return parent.parent / "heygen"
    return Path(tempfile.gettempdir()) / "showrunner-heygen"


def words_seconds(text: str, wpm: float, speed: float) -> float:
    import re

    return len(re.findall(r"\w+", text)) / (wpm * speed) * 60.0


class HeyGenAvatar(Renderer):
    kind = "avatar.heygen"
    version = 1
    needs = ("ffmpeg", "heygen")  # capabilities a render worker must have (compiler/remote routes by them)
    optional_inputs = ("audio",)
    outputs = ("clip.mp4",)

    class Params(Params):
        avatar_id: str = Field(min_length=1)
        voice_id: str | None = None
        script: str | None = Field(None, description="text HeyGen speaks; None when lip-syncing the `audio` input")
        speed: float = Field(1.0, ge=0.5, le=1.5)
        resolution: Literal["720p", "1080p"] = "1080p"
        aspect_ratio: Literal["16:9", "9:16"] = "16:9"
        background: str | None = None
        api_key_env: str = Field("HEYGEN_API_KEY", pattern=API_KEY_ENV_PATTERN,
                                 description="the variable read for the key: only *_API_KEY names, never HOME or PATH")
        max_duration_s: float = Field(300.0, gt=0)
        salt: str = Field("", description="the scene's salt: a new salt asks HeyGen for a new video")

    def tool_fingerprint(self) -> dict:
        return {"api": API, "ffmpeg": ffmpeg_version()}

    def payload(self, p) -> dict:
        body: dict = {"type": "avatar", "avatar_id": p.avatar_id, "resolution": p.resolution,
                      "aspect_ratio": p.aspect_ratio}
        if p.script:
            body["script"] = p.script
            if p.voice_id:
                body["voice_id"] = p.voice_id
            if p.speed != 1.0:
                body["voice_settings"] = {"speed": p.speed}
        if p.background:
            body["background"] = {"type": "color", "value": p.background}
        return body

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        audio = ctx.inputs.get("audio")
        if bool(p.script) == bool(audio):
            raise StepError("avatar.heygen needs either a script (HeyGen's voice) or an audio input (lip-sync)")
        key = os.environ.get(p.api_key_env, "").strip()
        if not key:
            raise StepError(f"no HeyGen API key: set the environment variable {p.api_key_env}",
                            hint="keys come from HeyGen > Settings > API; never put them in YAML")
        seconds = (float(ffprobe(Path(audio))["format"]["duration"]) if audio
                   else words_seconds(p.script, 150.0, p.speed))
        if seconds > p.max_duration_s:
            raise StepError(f"this avatar scene is about {seconds:.0f} s long; HeyGen renders at most "
                            f"{p.max_duration_s:g} s per video (avatar.max_duration_s): split the scene")
        state = state_dir(ctx)
        journal = Journal(state / "jobs")
        body = self.payload(p)
        rid = Journal.request_id({"url": base_url(), "body": body, "audio": file_digest(Path(audio)) if audio else None,
                                  "salt": p.salt})
        retry = heygen.RETRY  # its sleep also paces the slot wait, the status polls and the download retries
        slots = Slots(state / "slots", int(os.environ.get("SHOWRUNNER_HEYGEN_CONCURRENCY", "10")), sleep=retry.sleep)
        client = Client(key, p.api_key_env, retry=retry,
                        on_retry=lambda attempt, delay, reason: ctx.notice("retry", f"HeyGen: {reason}; retrying in {delay:.1f}s"))
        facts: dict = {"api": API, "lipsync": bool(audio), "aspect_ratio": p.aspect_ratio, "resolution": p.resolution}
        try:
            with slots.hold(on_wait=lambda: ctx.notice("wait", "waiting for a free HeyGen slot")):
                video_id, resumed = self.start(client, journal, rid, body, audio, ctx)
                facts.update(video_id=video_id, resumed=resumed)
                data, polls = self.wait(client, video_id, ctx)
            facts["polls"] = polls
            raw = ctx.scratch / "heygen.mp4"
            self.fetch(client, video_id, data, raw, ctx)
        finally:
            client.close()
        info = ffprobe(raw)
        video = next((s for s in info["streams"] if s.get("codec_type") == "video"), None)
        if video is None or not any(s.get("codec_type") == "audio" for s in info["streams"]):
            raise StepError(f"HeyGen video {facts['video_id']} has no video or no audio stream")
        shutil.move(str(raw), ctx.out("clip.mp4"))
        duration = float(info["format"].get("duration") or 0)
        facts.update(duration_s=round(duration, 3), width=video.get("width"), height=video.get("height"),
                     reported_duration_s=data.get("duration"), backoff_s=round(client.waited_s, 1))
        if duration > p.max_duration_s + 1:
            facts["over_limit"] = True
        return facts

    def start(self, client: Client, journal: Journal, rid: str, body: dict, audio, ctx: Context) -> tuple[str, bool]:
        """Resume the video this request already created, or create it (uploading the narration first)."""
        video_id = journal.get(rid)
        if video_id:
            data = client.video(video_id, ok404=True)
            if data is not None and data.get("status") != "failed":
                return video_id, True
            journal.drop(rid)
        body = dict(body)
        if audio:
            ctx.progress(0.0, "uploading the narration to HeyGen")
            body["audio_asset_id"] = client.upload_audio(Path(audio))
        body["title"] = f"showrunner {ctx.step_id}"[:200]
        video_id = client.create_video(body)
        journal.put(rid, video_id)
        return video_id, False

    def wait(self, client: Client, video_id: str, ctx: Context) -> tuple[dict, int]:
        waited, delay, polls = 0.0, FIRST_POLL_S, 0
        status = "pending"
        while waited < POLL_TIMEOUT_S:
            client.retry.sleep(delay)
            waited += delay
            polls += 1
            data = client.video(video_id) or {}
            status = data.get("status", "")
            if status == "completed":
                return data, polls
            if status == "failed":
                code, msg = data.get("failure_code"), data.get("failure_message") or "no reason given"
                raise HeyGenError(f"HeyGen could not render video {video_id}: {msg}" + (f" ({code})" if code else ""),
                                  code=code, hint="fix the avatar/voice ids or the text, then build again")
            ctx.progress(min(0.9, waited / 600.0), f"HeyGen {status or 'pending'}")
            delay = POLL_NEXT_S if polls == 1 else min(POLL_MAX_S, delay * 1.25)
        raise HeyGenError(f"HeyGen video {video_id} is still '{status}' after {POLL_TIMEOUT_S / 60:.0f} min",
                          hint="build again later: the same video is resumed, not paid for twice")

    def fetch(self, client: Client, video_id: str, data: dict, dst: Path, ctx: Context) -> None:
        """Download at once; on failure back off and ask for a fresh presigned URL (they expire)."""
        delay, last = 2.0, None
        for attempt in range(DOWNLOAD_TRIES):
            url = data.get("video_url")
            if url:
                ctx.progress(0.95, "downloading the avatar video")
                last = client.download(url, dst)
                if last == 200:
                    try:
                        ffprobe(dst)
                        return
                    except StepError:
                        last = "unreadable file"
            client.retry.sleep(delay)
            delay = min(delay * 2, 60.0)
            data = client.video(video_id) or {}
        raise HeyGenError(f"could not download HeyGen video {video_id} after {DOWNLOAD_TRIES} tries (last: {last})",
                          hint="build again: the finished video is resumed and downloaded, not rendered again")
