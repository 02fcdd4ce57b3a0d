"""The publish gate: a unit publishes only with an approval that covers *everything* publishing sends.

An approval is (unit, build_digest, publish_digest, publish_state, reviewer, time, approved/rejected,
reason). `publish_state` is `Desired.approval_state()`: the build digest plus every field the API
receives (channel, title, description, tags, category, language, privacy, schedule, made-for-kids,
the AI-content disclosure, caption settings, playlists), and `publish_digest` is its sha256. Some of
these come from the brand's `channel:` settings at publish time, not from the build, so a changed
brand setting needs a new approval just like a changed build does. The refusal names each field that
changed since the approval (old -> new).

The latest decision for a build wins, so a rejection after an approval stops it. The review UI
writes the same record through `record_decision`. Approvals recorded before the ledger knew about
publish settings (migration 0002) have no publish state: they never count as covering the current
settings, and the refusal says to approve again.
"""
from __future__ import annotations

from dataclasses import dataclass
import datetime as dt
import json

from sqlalchemy import select

from .errors import NotApproved
from .ledger import Ledger
from .models import Approval, utcnow
from .plan import canonical, publish_digest

# Where a publish-state field comes from, for the refusal message.
SOURCES = {
    "build_digest": "the build",
    "channel": "channel.id",
    "video.sha256": "video.mp4",
    "thumbnail.sha256": "thumbnail.jpg",
    "captions.sha256": "captions.srt",
    "captions.language": "metadata.json language or channel.language",
    "snippet.title": "metadata.json title",
    "snippet.description": "metadata.json description",
    "snippet.tags": "metadata.json tags",
    "snippet.categoryId": "metadata.json category or channel.category",
    "snippet.defaultLanguage": "metadata.json language or channel.language",
    "snippet.defaultAudioLanguage": "metadata.json language or channel.language",
    "status.privacyStatus": "channel.privacy",
    "status.schedule": "channel.schedule",
    "status.publishAt": "the publish time chosen at publish time (Schedule, --publish-at)",
    "status.selfDeclaredMadeForKids": "channel.made_for_kids",
    "status.containsSyntheticMedia": "channel.synthetic_media",
    "playlists": "channel.playlists",
}


@dataclass(frozen=True)
class Decision:
    unit: str
    build_digest: str
    reviewer: str
    decided_at: dt.datetime
    approved: bool
    reason: str
    publish_digest: str | None = None  # None: recorded before approvals covered the publish settings
    publish_state: dict | None = None


def _decision(row: Approval) -> Decision:
    state = json.loads(row.publish_state) if row.publish_state else None
    return Decision(row.unit, row.build_digest, row.reviewer, row.decided_at, row.approved, row.reason,
                    row.publish_digest, state)


def record_decision(ledger: Ledger, unit: str, build_digest: str, *, reviewer: str, approved: bool,
                    reason: str = "", publish_state: dict | None = None) -> Decision:
    """Record a review decision. An approval must carry the publish state the reviewer saw
    (`publish.plan.approval_state(unit, channel)`); a rejection may leave it out."""
    if not reviewer.strip():
        raise ValueError("an approval needs a reviewer name")
    if not approved and not reason.strip():
        raise ValueError("a rejection needs a reason, so the author knows what to change")
    if approved and publish_state is None:
        raise ValueError("an approval needs the publish state the reviewer saw (publish.plan.approval_state)")
    if publish_state is not None and publish_state.get("build_digest") != build_digest:
        raise ValueError(f"the publish state is of build {str(publish_state.get('build_digest'))[:12]}, "
                         f"not of build {build_digest[:12]}")
    with ledger.session() as s:
        row = Approval(unit=unit, build_digest=build_digest, reviewer=reviewer.strip(), decided_at=utcnow(),
                       approved=approved, reason=reason.strip(),
                       publish_digest=publish_digest(publish_state) if publish_state is not None else None,
                       publish_state=canonical(publish_state) if publish_state is not None else None)
        s.add(row)
        s.flush()
        return _decision(row)


def latest_decision(ledger: Ledger, unit: str, build_digest: str | None = None) -> Decision | None:
    """The newest decision for this build (or for any build of the unit when build_digest is None)."""
    with ledger.session() as s:
        q = select(Approval).where(Approval.unit == unit)
        if build_digest is not None:
            q = q.where(Approval.build_digest == build_digest)
        row = s.scalars(q.order_by(Approval.decided_at.desc(), Approval.id.desc()).limit(1)).first()
        return _decision(row) if row else None


def _approve_command(unit: str) -> str:
    return f"doit approve --unit {unit} --reviewer <your name>"


def require_approved_build(ledger: Ledger, unit: str, build_digest: str) -> Decision:
    """The first half of the gate: the latest decision on this build is an approval.

    `require_approval` calls it; the publisher also calls it on its own before it reads a unit's
    metadata, so an unapproved unit is skipped (with this message) whatever its metadata says.
    """
    decision = latest_decision(ledger, unit, build_digest)
    if decision is not None and decision.approved:
        return decision
    approve = _approve_command(unit)
    if decision is not None:
        raise NotApproved(f"rejected by {decision.reviewer} on {decision.decided_at:%Y-%m-%d %H:%M} UTC: "
                          f"{decision.reason}", unit=unit,
                          hint=f"change the spec and rebuild (a new build needs a new review), or approve this "
                               f"build after all: {approve}")
    older = latest_decision(ledger, unit)
    if older is not None and older.approved:
        raise NotApproved(f"not approved: build {build_digest[:12]} changed since {older.reviewer} approved "
                          f"build {older.build_digest[:12]}", unit=unit,
                          hint=f"review the new build, then: {approve}")
    raise NotApproved(f"not approved: build {build_digest[:12]} has no review yet", unit=unit,
                      hint=f"review build/{unit.replace('@', '/')}/, then: {approve}")


def require_approval(ledger: Ledger, unit: str, publish_state: dict) -> Decision:
    """The gate: the build is approved, and the approval covers exactly this publish state."""
    decision = require_approved_build(ledger, unit, publish_state["build_digest"])
    if decision.publish_digest == publish_digest(publish_state):
        return decision
    brand = unit.split("/", 1)[0]
    when = f"{decision.reviewer} approved build {decision.build_digest[:12]} on {decision.decided_at:%Y-%m-%d %H:%M} UTC"
    if decision.publish_state is None:
        raise NotApproved(f"not approved: {when}, before approvals covered the publish settings (privacy, "
                          "schedule, made for kids, AI-content disclosure, playlists, category, language); "
                          "that approval does not cover what would be sent now", unit=unit,
                          hint=f"check build/{unit.replace('@', '/')}/ and the `channel:` settings in "
                               f"brands/{brand}.yaml, then approve again: {_approve_command(unit)}")
    changed = changed_fields(decision.publish_state, publish_state)
    if [name for name, _, _ in changed] == ["status.publishAt"]:
        _, approved_at, asked_at = changed[0]
        covered = f"publishAt {approved_at}" if approved_at else f"the schedule rule ({_schedule_of(decision)})"
        asked = f"publishAt {asked_at}" if asked_at else "no explicit publishAt (the schedule rule)"
        raise NotApproved(f"not approved: {when} to publish at {covered}, not at {asked}; the approval covers the "
                          "publish time too", unit=unit,
                          hint="publish at the approved time, or approve this time: in the studio, Schedule and then "
                               f"'Approve this time'; or {_approve_command(unit)}"
                               + (f" --publish-at {asked_at}" if asked_at else ""))
    changes = describe_changes(decision.publish_state, publish_state)
    raise NotApproved(f"not approved: what would be sent changed since {when}: {changes}", unit=unit,
                      hint=f"check the new settings (brands/{brand}.yaml `channel:`, build/{unit.replace('@', '/')}/"
                           f"metadata.json), then approve them: {_approve_command(unit)}")


def _schedule_of(decision: Decision) -> str:
    schedule = ((decision.publish_state or {}).get("status") or {}).get("schedule")
    return f"channel.schedule {schedule}" if schedule else "no schedule: publish now"


def _flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict) and value:
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _show(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def changed_fields(old: dict, new: dict) -> list[tuple[str, object, object]]:
    """(dotted field, old value, new value) for every field that differs, in field order."""
    a, b = _flatten(old), _flatten(new)
    missing = object()
    out = []
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name, missing), b.get(name, missing)
        if x != y:
            out.append((name, None if x is missing else x, None if y is missing else y))
    return out


def describe_changes(old: dict, new: dict) -> str:
    """`status.containsSyntheticMedia (channel.synthetic_media): true -> false; ...`."""
    parts = []
    for name, x, y in changed_fields(old, new):
        source = SOURCES.get(name)
        label = f"{name} ({source})" if source else name
        parts.append(f"{label}: {_show(x)} -> {_show(y)}")
    return "; ".join(parts) or "nothing the approval recorded (it was recorded differently); approve again"
