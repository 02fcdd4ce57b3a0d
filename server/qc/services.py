"""QC in the studio, the ledger side: each build's `qc.json` stored in `qc_results`, and read back for the pages.

`QCSync` stores a build's QC report (`publish.qcstore.save_qc`, with the brand's `qc.sample_share`) when the studio
sees the build: the scan at start, each final build the worker runs, and any read that finds a `qc.json` it has
not stored yet (a `doit build` run beside the studio). A report is stored again when its file changes (a threshold
change re-judges a build without changing its digest). Every store sends a `queue` message on the broker, so the
review queue and its count in the nav update live.

Findings name their spec field by (scene, field path); `locate` turns that into file:line:col through the loaded
project at read time, as core/qc.py asks readers to.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from pydantic import ValidationError
from sqlalchemy import select

from core.qc import SEVERITY_RANK, Finding, QCReport, reason_label
from core.records import SceneEntry
from core.spec import QC
from publish.ledger import Ledger
from publish.models import QCResult
from publish.qcstore import QCRecord, get_qc, review_queue, save_qc
from publish.reviews import review_history
from publish.units import discover
from ..broker import Broker
from ..previews.services import read_build_digest
from .schemas import VERDICT_LABEL, FindingView, PublishGate, QCBadge, QCView

QC_FILE = "qc.json"
TOP_FINDINGS = 3
DEFAULT_SHARE = QC().sample_share


def unit_folder(unit: str) -> str:
    """build/-relative folder of a unit: "b/s" or "b/s/fmt" for "b/s@fmt"."""
    video, _, fmt = unit.partition("@")
    return f"{video}/{fmt}" if fmt else video


class BuildDigests:
    """Build digests of build/'s units, each read again only when its manifest.json changes (stat): the nav's queue
    count and the reads' look for new QC reports run on every page, and a manifest is tens of KB of JSON."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._memo: dict[str, tuple[int, int, str]] = {}
        self._lock = threading.Lock()

    def of(self, unit: str) -> str:
        folder = unit_folder(unit)
        try:
            st = (self.root / "build" / folder / "manifest.json").stat()
        except OSError:
            return ""
        with self._lock:
            hit = self._memo.get(unit)
        if hit is not None and hit[:2] == (st.st_mtime_ns, st.st_size):
            return hit[2]
        digest = read_build_digest(self.root / "build", folder)
        with self._lock:
            self._memo[unit] = (st.st_mtime_ns, st.st_size, digest)
        return digest

    def current(self) -> dict[str, str]:
        """unit -> build digest of every build in build/ now (what the queue keeps)."""
        out = {}
        for unit in discover(self.root):
            digest = self.of(unit)
            if digest:
                out[unit] = digest
        return out


def current_builds(root: Path) -> dict[str, str]:
    return BuildDigests(root).current()


def read_report(path: Path) -> QCReport | None:
    try:
        return QCReport.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, ValidationError):
        return None


def brand_shares(project: Any) -> Callable[[str], float]:
    """brand -> its `qc.sample_share` in a loaded project (the default for a brand that does not load)."""
    def share(brand: str) -> float:
        try:
            return float(project.brands[brand].model.qc.sample_share)
        except Exception:  # a brand mid-edit or gone: the documented default
            return DEFAULT_SHARE
    return share


def brand_autopublish(project: Any, brand: str) -> bool:
    try:
        return bool(project.brands[brand].model.qc.autopublish)
    except Exception:
        return False


class QCSync:
    """Stores each build's qc.json in the ledger once per version of the file (thread-safe)."""

    def __init__(self, root: Path, ledger: Ledger, broker: Broker | None = None) -> None:
        self.root, self.ledger, self.broker = root, ledger, broker
        self.digests = BuildDigests(root)
        self._seen: dict[str, tuple[str, int, int]] = {}  # unit -> (build digest, mtime_ns, size) stored
        self._lock = threading.Lock()
        self.saved = 0  # reports stored (tests)

    def sync(self, units: Iterable[str] | None = None, *, shares: Callable[[str], float] | None = None,
             video: str | None = None, force: bool = False) -> list[str]:
        """Store the QC of `units` (default: every build in build/, or those of `video`) whose qc.json is new or
        changed (`force`: every one, e.g. after a build, when the brand's sample share may have changed); returns
        the units stored. `shares`: brand -> sample share (default: the documented default)."""
        if units is None:
            units = [u for u in discover(self.root) if video is None or u.partition("@")[0] == video]
        saved = []
        with self._lock:
            for unit in units:
                folder = self.root / "build" / unit_folder(unit)
                digest = self.digests.of(unit)
                try:
                    st = (folder / QC_FILE).stat()
                except OSError:
                    continue
                stamp = (digest, st.st_mtime_ns, st.st_size)
                if not digest or (self._seen.get(unit) == stamp and not force):
                    continue
                report = read_report(folder / QC_FILE)
                if report is None:  # half-written or not a report: looked at again when it changes
                    self._seen[unit] = stamp
                    continue
                share = (shares or (lambda b: DEFAULT_SHARE))(unit.partition("/")[0])
                save_qc(self.ledger, unit, digest, report, sample_share=share)
                self._seen[unit] = stamp
                self.saved += 1
                saved.append(unit)
        if saved:
            self.announce(saved)
        return saved

    def announce(self, units: Sequence[str] = ()) -> None:
        """The queue may have changed (a QC stored, a review recorded): tell every page, with the new count."""
        if self.broker is not None:
            self.broker.publish("queue", {"count": self.count(), "units": list(units)})

    def count(self) -> int:
        """The review queue's length (the nav's count)."""
        try:
            return len(review_queue(self.ledger, current=self.digests.current()))
        except Exception:  # the nav count is a nicety: a ledger problem shows on the queue page itself
            return 0


def queue_records(ledger: Ledger, root: Path, digests: BuildDigests | None = None) -> list[QCRecord]:
    return review_queue(ledger, current=(digests or BuildDigests(root)).current())


def counts_of(findings: Sequence[Finding]) -> dict[str, int]:
    out = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        out[f.severity] = out.get(f.severity, 0) + 1
    return out


def badge(ledger: Ledger, unit: str, build_digest: str) -> QCBadge | None:
    rec = get_qc(ledger, unit, build_digest) if build_digest else None
    if rec is None:
        return None
    c = counts_of(rec.findings)
    return QCBadge(verdict=rec.verdict, label=VERDICT_LABEL[rec.verdict], errors=c["error"], warnings=c["warning"],
                   sampled=rec.sampled)


def badges(ledger: Ledger, units: Sequence[str]) -> dict[tuple[str, str], QCBadge]:
    """(unit, build digest) -> badge for every stored QC of these units, in one query (the Home page's cards)."""
    out: dict[tuple[str, str], QCBadge] = {}
    if not units:
        return out
    with ledger.session() as s:
        rows = s.execute(select(QCResult.unit, QCResult.build_digest, QCResult.verdict, QCResult.sampled,
                                QCResult.findings).where(QCResult.unit.in_(list(units)))).all()
    for unit, digest, verdict, sampled, findings in rows:
        try:
            sev = [f.get("severity") for f in json.loads(findings or "[]")]
        except (ValueError, AttributeError):
            sev = []
        out[(unit, digest)] = QCBadge(verdict=verdict, label=VERDICT_LABEL.get(verdict, verdict),
                                      errors=sev.count("error"), warnings=sev.count("warning"), sampled=bool(sampled))
    return out


def _where_field(f: Finding) -> str:
    """A location the finding carries itself (`where`: "file:line:col" or {file, line, col}), if any."""
    where = (f.model_extra or {}).get("where")
    if isinstance(where, str):
        return where.strip()[:500]
    if isinstance(where, dict) and where.get("file"):
        parts = [str(where["file"])] + [str(where[k]) for k in ("line", "col") if isinstance(where.get(k), int)]
        return ":".join(parts)[:500]
    return ""


def locate(project: Any, video: str, f: Finding) -> str:
    """file:line:col of the spec field a finding comes from ("" when it names none or the project lacks it)."""
    where = _where_field(f)
    if where or not f.field or project is None:
        return where
    try:
        lv = project.videos.get(video)
        if lv is None:
            return ""
        path = tuple(f.field)
        if f.scene is not None:
            if not 0 <= f.scene < len(lv.scene_origins):
                return ""
            origin = lv.scene_origins[f.scene]
            pos, path = origin.pos, tuple(origin.prefix) + path
        else:
            pos = lv.spec.pos
            if path[:1] not in pos.at and path[:1] not in pos.keys:  # not in this file (e.g. a generated title)
                return ""
        line, col = pos.locate(path)
        return f"{pos.file}:{line}:{col}"
    except Exception:  # a project mid-edit: the finding still shows, without its location
        return ""


def finding_view(f: Finding, scenes: Sequence[SceneEntry], where: str = "") -> FindingView:
    seek = f.at_s
    if seek is None and f.scene is not None:
        seek = next((s.start_s for s in scenes if s.index == f.scene), None)
    try:
        label = reason_label(f.reason)
    except (KeyError, ValueError):
        label = f.reason
    return FindingView(check=f.check, severity=f.severity, reason=f.reason, reason_label=label, message=f.message,
                       scene=f.scene, at_s=f.at_s, seek_s=seek, where=where, value=f.value, limit=f.limit)


def worst_first(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), f.scene if f.scene is not None else -1,
                                           f.at_s if f.at_s is not None else -1.0, f.check))


def qc_view(ledger: Ledger, unit: str, build_digest: str, scenes: Sequence[SceneEntry] = (),
            project: Any = None) -> QCView | None:
    rec = get_qc(ledger, unit, build_digest) if build_digest else None
    if rec is None:
        return None
    video = unit.partition("@")[0]
    reviewed = any(r.build_digest == build_digest for r in review_history(ledger, unit))
    return QCView(unit=unit, build_digest=build_digest, verdict=rec.verdict, label=VERDICT_LABEL[rec.verdict],
                  sampled=rec.sampled, reviewed=reviewed, risk=rec.risk, counts=counts_of(rec.findings),
                  findings=[finding_view(f, scenes, locate(project, video, f)) for f in worst_first(rec.findings)],
                  checked_at=rec.created_at)


def publish_gate(qc: QCView | None, autopublish: bool) -> PublishGate:
    if qc is None:
        return PublishGate(state="none", message="")
    if qc.verdict == "reject":
        reasons = sorted({f.reason_label for f in qc.findings if f.severity == "error"})
        n = qc.counts.get("error", 0)
        return PublishGate(state="rejected", reasons=reasons,
                           message=f"QC rejected this build ({n} error{'s' if n != 1 else ''}): it cannot be "
                                   "published. Fix what Quality check lists and rebuild.")
    if qc.verdict == "auto-approve" and autopublish:
        return PublishGate(state="autopublish",
                           message="QC auto-approved this build and the brand sets qc.autopublish: it publishes "
                                   "without a person's approval.")
    if qc.verdict == "auto-approve":
        return PublishGate(state="human", message="QC auto-approved this build; a person approves it before "
                                                  "publishing (the brand does not set qc.autopublish).")
    return PublishGate(state="human", message="QC flagged this build: a person reviews and approves it before "
                                              "publishing.")


def sync_for_read(qc: QCSync, workspace: Any, video: str | None = None) -> None:
    """A page or API read: store any qc.json the studio has not seen (a build made beside it); the project is
    loaded only when there is something to store."""
    try:
        qc.sync(video=video, shares=lambda brand: brand_shares(workspace.project)(brand))
    except Exception:  # a read never fails on the ledger's account; the worker's scan stores it again
        pass
