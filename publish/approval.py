"""The publish gate: a unit publishes only with an approval recorded for its *current* build.

An approval is (unit, build_digest, reviewer, time, approved/rejected, reason). Any change to
the build (a new narration, a new thumbnail, an edited title) changes build_digest and needs
a new approval; a flag in a spec is never enough on its own. The latest decision for a build
wins, so a rejection after an approval stops it. The review UI writes the same record through
`record_decision`.
"""
from __future__ import annotations

from dataclasses import dataclass
import datetime as dt

from sqlalchemy import select

from .errors import NotApproved
from .ledger import Ledger
from .models import Approval, utcnow


@dataclass(frozen=True)
class Decision:
    unit: str
    build_digest: str
    reviewer: str
    decided_at: dt.datetime
    approved: bool
    reason: str


def _decision(row: Approval) -> Decision:
    return Decision(row.unit, row.build_digest, row.reviewer, row.decided_at, row.approved, row.reason)


def record_decision(ledger: Ledger, unit: str, build_digest: str, *, reviewer: str, approved: bool,
                    reason: str = "") -> Decision:
    if not reviewer.strip():
        raise ValueError("an approval needs a reviewer name")
    if not approved and not reason.strip():
        raise ValueError("a rejection needs a reason, so the author knows what to change")
    with ledger.session() as s:
        row = Approval(unit=unit, build_digest=build_digest, reviewer=reviewer.strip(), decided_at=utcnow(),
                       approved=approved, reason=reason.strip())
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


def require_approval(ledger: Ledger, unit: str, build_digest: str) -> Decision:
    decision = latest_decision(ledger, unit, build_digest)
    if decision is not None and decision.approved:
        return decision
    approve = f"doit approve --unit {unit} --reviewer <your name>"
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
