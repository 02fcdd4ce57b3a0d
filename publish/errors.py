"""Errors a user can act on, and the mapping from Google's error replies onto them.

Every terminal failure seen in the field (quota, per-channel upload cap, expired refresh tokens,
unverified channels, unaudited API projects) gets one class with a message that says what
happened and what to do next. Retryable failures (5xx, 429, rate limits, network) never become
one of these unless the retries run out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

AUDIT_FORM = "https://support.google.com/youtube/contact/yt_api_form"
VERIFY_URL = "https://www.youtube.com/verify"


class PublishError(Exception):
    """A problem the user can act on. Rendered as `error: <unit>: message` plus a hint, never a traceback."""

    kind = "publish"
    video_id: str | None = None  # set when the unit's video is on YouTube although this error stopped the run

    def __init__(self, message: str, *, hint: str | None = None, unit: str | None = None):
        self.message = message
        self.hint = hint
        self.unit = unit
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{self.unit}: {self.message}" if self.unit else self.message
        return head if not self.hint else f"{head}\n  hint: {self.hint}"

    def for_unit(self, unit: str) -> "PublishError":
        if self.unit is None:
            self.unit = unit
            self.args = (self.render(),)
        return self


class ConfigError(PublishError):
    kind = "config"


class BuildError(PublishError):
    """The build directory is missing, incomplete or does not match its manifest."""

    kind = "build"


class NotApproved(PublishError):
    kind = "approval"


class QCRejected(PublishError):
    """The build's quality gate (qc.json) rejected it: it never publishes, whatever a person approved."""

    kind = "qc"


class VideoChanged(PublishError):
    """The video file differs from the one already on YouTube; YouTube cannot swap a video's file."""

    kind = "changed"


class ChannelMismatch(PublishError):
    kind = "channel"


class ReauthRequired(PublishError):
    kind = "auth"


class QuotaRefused(PublishError):
    """Refused locally, before sending anything, because the day's quota would be exceeded."""

    kind = "quota"


class QuotaExceeded(PublishError):
    """YouTube answered quotaExceeded: the cloud project's daily quota is used up."""

    kind = "quota"


class UploadLimitExceeded(PublishError):
    """YouTube answered uploadLimitExceeded: the channel's own 24 h upload cap, separate from quota."""

    kind = "upload-limit"


class ThumbnailForbidden(PublishError):
    """Custom thumbnails need a verified channel. Non-fatal: the video is published without it."""

    kind = "thumbnail"


class ApiError(PublishError):
    kind = "api"


class OnHold(PublishError):
    """A previous run learned that this brand or channel cannot proceed yet (re-auth, upload cap)."""

    kind = "hold"


class Busy(PublishError):
    """Another process is publishing the same unit right now."""

    kind = "busy"


class SessionExpired(Exception):
    """The resumable session is gone (404/410): the upload must start again. Internal, never shown."""


# ------------------------------------------------------------- replies ----

@dataclass(frozen=True)
class ErrorReply:
    status: int
    reason: str
    domain: str
    message: str


def parse_reply(status: int, content: bytes | str | None) -> ErrorReply:
    """Read Google's JSON error envelope: {"error": {"code", "message", "errors": [{reason, domain}]}}."""
    reason = domain = message = ""
    try:
        data = json.loads(content.decode("utf-8") if isinstance(content, bytes) else (content or ""))
        err = data.get("error", {}) if isinstance(data, dict) else {}
        if isinstance(err, dict):
            message = str(err.get("message", ""))
            details = err.get("errors") or []
            if details and isinstance(details[0], dict):
                reason = str(details[0].get("reason", ""))
                domain = str(details[0].get("domain", ""))
                message = message or str(details[0].get("message", ""))
            elif isinstance(err.get("status"), str):
                reason = err["status"]
        elif isinstance(err, str):  # OAuth style: {"error": "invalid_grant", ...}
            reason = err
            message = str(data.get("error_description", ""))
    except (ValueError, AttributeError, UnicodeDecodeError):
        message = (content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content or ""))[:200]
    return ErrorReply(status, reason, domain, message)


def reply_of(exc: BaseException) -> ErrorReply | None:
    """The ErrorReply of a googleapiclient HttpError (duck-typed, so this module imports no google code)."""
    resp = getattr(exc, "resp", None)
    if resp is None or not hasattr(exc, "content"):
        return None
    return parse_reply(int(getattr(resp, "status", 0) or 0), exc.content)


RETRYABLE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"}


def is_retryable(reply: ErrorReply) -> bool:
    """5xx, 429 and rate limits are retried; quotaExceeded, uploadLimitExceeded, invalid*, forbidden never."""
    if reply.status >= 500 or reply.status == 429:
        return True
    return reply.status == 403 and reply.reason in RETRYABLE_REASONS


def from_reply(reply: ErrorReply, *, brand: str, method: str) -> PublishError:
    """Turn a terminal API error into the message a user needs."""
    r = reply.reason
    if r in ("quotaExceeded", "dailyLimitExceeded"):
        return QuotaExceeded(
            f"YouTube refused {method}: the cloud project's daily API quota is used up ({r})",
            hint="quota resets at midnight Pacific time; nothing more is sent today. All brands share one "
                 "project's quota. For more, apply for a quota extension (YouTube API Services audit): "
                 f"{AUDIT_FORM}")
    if r == "uploadLimitExceeded":
        return UploadLimitExceeded(
            f"YouTube refused the upload: channel of brand '{brand}' reached its own upload limit "
            "for the last 24 hours (uploadLimitExceeded; separate from API quota)",
            hint="uploads to this channel are paused for 24 hours; other channels continue. "
                 "The limit matches YouTube's web upload limit and rises with channel standing.")
    if reply.status == 403 and (reply.domain == "youtube.thumbnail" or method == "thumbnails.set"):
        return ThumbnailForbidden(
            "custom thumbnail refused: the channel is not allowed to set custom thumbnails (403 forbidden)",
            hint=f"verify the channel by phone at {VERIFY_URL} (sign in as the brand account), then run "
                 "`doit publish:<unit>` again to set the thumbnail. The video itself is published.")
    if r == "accountDelegationForbidden":
        return ApiError("YouTube refused to act on behalf of another account (accountDelegationForbidden)",
                        hint="onBehalfOfContentOwner is for YouTube CMS partners only; authorise the brand "
                             f"account itself with `doit auth:{brand}`")
    if r in ("insufficientPermissions", "forbidden", "ACCESS_TOKEN_SCOPE_INSUFFICIENT") or reply.status == 403:
        return ApiError(f"YouTube refused {method}: {reply.message or r} (403 {r})",
                        hint=f"the saved authorisation may lack a scope; run `doit auth:{brand}` again")
    if reply.status == 401:
        return ReauthRequired(f"YouTube rejected the credentials of brand '{brand}' (401)",
                              hint=f"run `doit auth:{brand}`")
    if r in ("invalidTitle", "invalidDescription", "invalidTags", "invalidCategoryId", "invalidPublishAt",
             "invalidVideoMetadata", "invalidRecordingDetails", "invalidVideoGameRating"):
        return ApiError(f"YouTube rejected the metadata of {method}: {reply.message or r} ({r})",
                        hint="fix the spec (title <= 100 characters, description <= 5000 bytes, no < or >, "
                             "tags <= 500 characters) and rebuild")
    if reply.status in (404,) and method != "videos.insert":
        return ApiError(f"YouTube says the target of {method} does not exist: {reply.message or r}",
                        hint="the video or playlist may have been deleted in YouTube Studio; check the ids in "
                             "the brand spec (channel.playlists) and the ledger")
    return ApiError(f"YouTube refused {method}: {reply.message or 'no message'} ({reply.status} {r or 'unknown'})")


def from_refresh_error(exc: BaseException, *, brand: str) -> ReauthRequired:
    """google.auth RefreshError (invalid_grant and friends) -> how to re-authorise."""
    text = str(exc)
    reason = "invalid_grant" if "invalid_grant" in text else text.split(":")[0][:60] or "refresh failed"
    return ReauthRequired(
        f"the saved YouTube authorisation of brand '{brand}' no longer works ({reason}: the refresh token "
        "was revoked or expired)",
        hint=f"run `doit auth:{brand}` and pick the brand's channel in the account chooser. If this "
             "happens about every 7 days, the OAuth consent screen is in 'Testing': set it to "
             "'In production' (Google Cloud console > Google Auth Platform > Audience) so tokens last.")


def locked_private_warning(video_id: str, requested: str) -> str:
    return (f"YouTube kept https://youtu.be/{video_id} private although {requested} was requested: "
            "videos uploaded through an unaudited API project (created after 2020-07-28) are locked "
            "private, and making them public re-locks them. Apply for the YouTube API compliance audit: "
            f"{AUDIT_FORM}")
