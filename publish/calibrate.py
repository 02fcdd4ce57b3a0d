"""`doit calibrate`: fit the brand's QC thresholds to what people decided, and propose them as a spec diff.

Training data are the feedback records (`publish.qcstore.feedback`): each human decision on a build with the QC
scores it was made against. A decision is a "reject" when a person rejected or requested changes, an "approve"
otherwise; the latest decision per build counts. The model is the QC's own shape: a build is rejected when any
score crosses its threshold. Thresholds are fitted by coordinate descent on the number of disagreements (each
check in turn gets the cut that best separates the decisions the other checks do not already explain; a check
is switched on only when it removes a disagreement; a cut lies midway between neighbouring scores). Agreement,
precision and recall of "reject" are measured on held-out decisions (stratified k-fold cross-validation).

Nothing changes silently: the proposal is a unified diff of brands/<brand>.yaml (its `qc:` block edited in
place, comments and order kept) for a person to read and commit; the spec itself is never written.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import ValidationError

from core.spec import QC
from core.store import atomic_write_text

from .qcstore import FeedbackRecord
from .specedit import SpecEditError, set_values, unified_diff

Direction = Literal["above", "below"]  # a build is rejected when its score is above (below) the threshold
REJECTING = ("reject", "request-changes")


@dataclass(frozen=True)
class ThresholdField:
    """Where a score's threshold lives in the brand's `qc:` block, and which side of it is bad. The fit predicts
    what people send back, so it sets the *error* level (QC "reject"); `warn` names the warning level of the same
    check, moved along only where the new error level would pass it (the spec refuses a warning beyond its error)."""

    path: tuple[str, ...]  # under `qc:`, e.g. ("audio", "silence_error_s")
    direction: Direction
    warn: tuple[str, ...] | None = None


# score name (core.qc: QCFindings.scores, as the qc.* renderers write them) -> the brand spec field holding its
# threshold (core/spec.py QCAudio, QCPicture, ...). Extend it when a check gains a threshold. A score with no entry
# is still fitted and reported (its direction learned from the data), but has nowhere to go in the diff; an entry
# whose field the spec model does not have (yet) is reported the same way.
CALIBRATED: dict[str, ThresholdField] = {
    "audio.max_silence_s": ThresholdField(("audio", "silence_error_s"), "above", ("audio", "silence_s")),
    "audio.true_peak_dbtp": ThresholdField(("audio", "true_peak_error_db"), "above"),
    "audio.clipped_runs": ThresholdField(("audio", "clipping_error_runs"), "above", ("audio", "clipping_runs")),
    "picture.max_black_s": ThresholdField(("picture", "black_error_s"), "above", ("picture", "black_s")),
    "picture.max_freeze_s": ThresholdField(("picture", "freeze_error_s"), "above", ("picture", "freeze_s")),
    "picture.av_mismatch_s": ThresholdField(("picture", "av_mismatch_error_s"), "above",
                                            ("picture", "av_mismatch_s")),
    "captions.coverage": ThresholdField(("captions", "min_coverage_error"), "below", ("captions", "min_coverage")),
    "captions.max_offset_s": ThresholdField(("captions", "timing_error_s"), "above",
                                            ("captions", "timing_tolerance_s")),
    "text.min_contrast": ThresholdField(("text", "reject_contrast"), "below", ("text", "min_contrast")),
    "script.reading_grade": ThresholdField(("script", "reading_grade_error"), "above",
                                           ("script", "reading_grade_warn")),
    "policy.similarity_max": ThresholdField(("policy", "similarity_error"), "above", ("policy", "similarity_warn")),
}


def _field(path: tuple[str, ...]) -> Any:
    """The pydantic field at `path` in the brand's `qc:` model, or None (other checks add theirs over time)."""
    model: Any = QC
    info = None
    for key in path:
        fields = getattr(model, "model_fields", {})
        if key not in fields:
            return None
        info = fields[key]
        model = info.annotation
    return info


def spec_has(path: tuple[str, ...]) -> bool:
    return _field(path) is not None


def _is_int(path: tuple[str, ...]) -> bool:
    ann = _field(path).annotation
    return ann is int or (int in get_args(ann) and float not in get_args(ann))


def field_value(path: tuple[str, ...], x: float, direction: Direction) -> float | int:
    """The fitted cut as the field's type: counts become whole numbers on the same side of the cut."""
    if _is_int(path):
        return math.floor(x) if direction == "above" else math.ceil(x)
    return _round(x)


# ------------------------------------------------------------ the data --

@dataclass(frozen=True)
class Example:
    key: str  # unit@digest
    scores: dict[str, float]
    reject: bool
    qc_verdict: str | None


def examples(records: list[FeedbackRecord]) -> tuple[list[Example], int]:
    """The latest decision per build that has QC scores; and how many builds had none (not usable)."""
    latest: dict[str, FeedbackRecord] = {}
    for r in records:  # oldest first: later decisions replace earlier ones
        latest[f"{r.unit}@{r.build_digest}"] = r
    out, skipped = [], 0
    for key, r in latest.items():
        scores = {k: float(v) for k, v in r.qc_scores.items() if isinstance(v, (int, float)) and math.isfinite(v)}
        if not scores:
            skipped += 1
            continue
        out.append(Example(key, scores, r.decision in REJECTING, r.qc_verdict))
    return out, skipped


# ------------------------------------------------------------- the fit --

@dataclass(frozen=True)
class Cut:
    score: str
    direction: Direction
    threshold: float | None  # None: the check does not reject anything

    def rejects(self, x: float | None) -> bool:
        if self.threshold is None or x is None:
            return False
        return x > self.threshold if self.direction == "above" else x < self.threshold


def _best_cut(score: str, directions: tuple[Direction, ...], rows: list[tuple[float | None, bool]],
              base_errors: int) -> tuple[Cut, int]:
    """The cut on `score` that minimises disagreements over `rows` (value, human says reject) that no other check
    rejects; `base_errors` is the count with the check off. Midway between neighbours; ties: the middle one."""
    best, best_err = Cut(score, directions[0], None), base_errors
    present = sorted((x, y) for x, y in rows if x is not None)
    values = sorted({x for x, _ in present})
    if len(values) < 2:
        return best, best_err
    mids = [(a + b) / 2 for a, b in zip(values, values[1:])]
    # per distinct value: how many rows hold it and how many of those people rejected
    count: dict[float, list[int]] = {}
    for x, y in present:
        c = count.setdefault(x, [0, 0])
        c[0] += 1
        c[1] += y
    n_at = [count[v][0] for v in values]
    r_at = [count[v][1] for v in values]
    for direction in directions:
        # catching a row that people rejected removes a disagreement; catching an approved one adds one
        errs = []
        if direction == "above":  # mid j catches values[j+1:]
            n = r = 0
            for j in range(len(mids) - 1, -1, -1):
                n, r = n + n_at[j + 1], r + r_at[j + 1]
                errs.append(base_errors - r + (n - r))
            errs.reverse()
        else:  # mid j catches values[:j+1]
            n = r = 0
            for j in range(len(mids)):
                n, r = n + n_at[j], r + r_at[j]
                errs.append(base_errors - r + (n - r))
        low = min(errs)
        if low < best_err:
            ties = [t for t, e in zip(mids, errs) if e == low]
            best, best_err = Cut(score, direction, ties[len(ties) // 2]), low
    return best, best_err


def fit(data: list[Example], *, passes: int = 6) -> dict[str, Cut]:
    """Per-score thresholds for the rule "reject when any score crosses its threshold"."""
    scores = sorted({s for e in data for s in e.scores})
    cuts = {s: Cut(s, CALIBRATED[s].direction if s in CALIBRATED else "above", None) for s in scores}
    for _ in range(passes):
        changed = False
        for s in scores:
            others = [any(c.rejects(e.scores.get(o)) for o, c in cuts.items() if o != s) for e in data]
            free = [(e.scores.get(s), e.reject) for e, taken in zip(data, others) if not taken]
            base = sum(1 for e, taken in zip(data, others) if taken and not e.reject) + sum(y for _, y in free)
            dirs: tuple[Direction, ...] = (CALIBRATED[s].direction,) if s in CALIBRATED else ("above", "below")
            cut, _ = _best_cut(s, dirs, free, base)
            if cut != cuts[s]:
                cuts[s], changed = cut, True
        if not changed:
            break
    return cuts


def predict(cuts: dict[str, Cut], e: Example) -> bool:
    return any(c.rejects(e.scores.get(s)) for s, c in cuts.items())


# ------------------------------------------------------------ the measure --

@dataclass
class Metrics:
    n: int = 0
    agree: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        self.n += 1
        self.agree += predicted == actual
        self.tp += predicted and actual
        self.fp += predicted and not actual
        self.fn += actual and not predicted

    @property
    def agreement(self) -> float | None:
        return self.agree / self.n if self.n else None

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def to_json(self) -> dict:
        return {"decisions": self.n, "agreement": self.agreement, "precision_reject": self.precision,
                "recall_reject": self.recall}


def _fold_of(key: str) -> int:
    return int(hashlib.sha256(f"calibrate:{key}".encode()).hexdigest()[:8], 16)


def cross_validate(data: list[Example], k: int = 5) -> Metrics:
    """Held-out metrics: stratified k folds, assigned by a hash of each build (the same on every run)."""
    m = Metrics()
    folds: list[list[Example]] = [[] for _ in range(k)]
    for label in (True, False):  # stratified: each fold gets its share of rejects and approves
        group = sorted((e for e in data if e.reject == label), key=lambda e: _fold_of(e.key))
        for i, e in enumerate(group):
            folds[i % k].append(e)
    for i in range(k):
        train = [e for j, f in enumerate(folds) if j != i for e in f]
        if not folds[i] or not train:
            continue
        cuts = fit(train)
        for e in folds[i]:
            m.add(predict(cuts, e), e.reject)
    return m


def current_qc(data: list[Example]) -> Metrics:
    """How the QC verdicts the people saw agree with them ("reject" verdict vs a rejecting person)."""
    m = Metrics()
    for e in data:
        if e.qc_verdict is not None:
            m.add(e.qc_verdict == "reject", e.reject)
    return m


# ------------------------------------------------------------ the result --

MIN_DECISIONS = 10  # fewer cannot say anything about a threshold


@dataclass
class Calibration:
    brand: str
    decisions: int
    rejects: int
    skipped: int
    cuts: dict[str, Cut] = field(default_factory=dict)
    held_out: Metrics = field(default_factory=Metrics)
    in_sample: Metrics = field(default_factory=Metrics)
    current: Metrics = field(default_factory=Metrics)
    proposed: dict[str, float] = field(default_factory=dict)  # "qc.audio.max_silence_s" -> value
    unmapped: list[str] = field(default_factory=list)  # fitted scores with no spec field
    dropped: list[str] = field(default_factory=list)  # proposals the spec model would refuse, and why
    diff: str = ""
    diff_path: str | None = None
    problem: str | None = None

    def to_json(self) -> dict:
        return {"brand": self.brand, "decisions": self.decisions, "rejects": self.rejects, "skipped": self.skipped,
                "problem": self.problem, "held_out": self.held_out.to_json(), "in_sample": self.in_sample.to_json(),
                "current_qc": self.current.to_json(),
                "thresholds": {s: {"direction": c.direction, "threshold": c.threshold,
                                   "field": "qc." + ".".join(CALIBRATED[s].path) if s in CALIBRATED else None}
                               for s, c in sorted(self.cuts.items())},
                "proposed": self.proposed, "unmapped": self.unmapped, "dropped": self.dropped, "diff": self.diff, "diff_path": self.diff_path}


def calibrate(brand: str, records: list[FeedbackRecord], *, k: int = 5) -> Calibration:
    data, skipped = examples(records)
    cal = Calibration(brand, len(data), sum(e.reject for e in data), skipped)
    if len(data) < MIN_DECISIONS:
        cal.problem = (f"only {len(data)} reviewed build(s) with QC scores; calibration needs at least "
                       f"{MIN_DECISIONS} (review more builds in the studio's queue)")
        return cal
    if cal.rejects in (0, len(data)):
        cal.problem = f"every reviewed build was {'rejected' if cal.rejects else 'approved'}: nothing to separate"
        return cal
    cal.cuts = fit(data)
    cal.held_out = cross_validate(data, k=min(k, cal.rejects, len(data) - cal.rejects))
    for e in data:
        cal.in_sample.add(predict(cal.cuts, e), e.reject)
    cal.current = current_qc(data)
    cal.unmapped = [s for s, c in sorted(cal.cuts.items())
                    if c.threshold is not None and (s not in CALIBRATED or not spec_has(CALIBRATED[s].path))]
    return cal


def _round(x: float) -> float:
    """Four significant digits: a threshold is a judgement, not a measurement."""
    return float(f"{x:.4g}")


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _with(data: dict, updates: dict[tuple[str, ...], Any]) -> dict:
    out = copy.deepcopy(data)
    for path, value in updates.items():
        node = out
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = value
    return out


def proposed_groups(cal: Calibration, current: dict) -> list[tuple[str, dict[tuple[str, ...], Any]]]:
    """Per fitted score with a spec field: its error level, plus its warning level where the new error level
    would pass the current warning (`current`: the brand's qc settings, defaults included)."""
    groups = []
    for s, c in sorted(cal.cuts.items()):
        f = CALIBRATED.get(s)
        if c.threshold is None or f is None or not spec_has(f.path):
            continue
        value = field_value(f.path, c.threshold, f.direction)
        group = {f.path: value}
        if f.warn and spec_has(f.warn):
            warn = _get(current, f.warn)
            if warn is not None and (warn > value if f.direction == "above" else warn < value):
                group[f.warn] = field_value(f.warn, c.threshold, f.direction)
        groups.append((s, group))
    return groups


def propose_diff(cal: Calibration, root: Path, *, out: Path | None = None) -> Calibration:
    """The proposed thresholds as a diff of brands/<brand>.yaml, written to `out` (default
    build/.calibrate/<brand>.diff: a dot folder, as build/<brand>/ belongs to the builds); the spec is never
    touched. Every proposed value is checked against the spec model first (ranges, warning before error): one
    the spec would refuse is left out and said why."""
    if not cal.cuts:
        return cal
    rel = f"brands/{cal.brand}.yaml"
    text = (root / rel).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        qc_data = (data or {}).get("qc") or {}
        current = QC.model_validate(qc_data).model_dump()
    except (yaml.YAMLError, AttributeError, ValidationError):
        cal.problem = f"{rel}: its qc: block does not load (run doit check); no proposal"
        return cal
    kept: dict[tuple[str, ...], Any] = {}
    for score, group in proposed_groups(cal, current):
        try:
            QC.model_validate(_with(qc_data, {**kept, **group}))
        except ValidationError as exc:
            err = exc.errors()[0]
            values = ", ".join(f"qc.{'.'.join(p)} = {v:g}" for p, v in group.items())
            cal.dropped.append(f"{score}: {values} left out: the spec refuses it ({err['msg']})")
            continue
        kept.update(group)
    cal.proposed = {"qc." + ".".join(p): v for p, v in kept.items()}
    if not kept:
        return cal
    try:
        new = set_values(text, [(("qc",) + p, v) for p, v in kept.items()])
    except SpecEditError as exc:
        cal.problem = f"{rel}: cannot write the proposal as a diff ({exc})"
        return cal
    cal.diff = unified_diff(text, new, rel)
    if cal.diff:
        path = out or root / "build" / ".calibrate" / f"{cal.brand}.diff"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, cal.diff)
        cal.diff_path = str(path)
    return cal


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f} %"


def render(cal: Calibration) -> str:
    lines = [f"{cal.brand}: {cal.decisions} reviewed build(s) with QC scores, {cal.rejects} rejected or sent back"
             + (f" ({cal.skipped} without QC scores left out)" if cal.skipped else "")]
    if cal.problem and not cal.cuts:
        return "\n".join(lines + [f"  {cal.problem}"])
    h = cal.held_out
    lines.append(f"  held out ({h.n} decisions, cross-validated): agreement {_pct(h.agreement)}, reject precision "
                 f"{_pct(h.precision)}, recall {_pct(h.recall)}")
    if cal.current.n:
        c = cal.current
        lines.append(f"  the QC verdicts people saw: agreement {_pct(c.agreement)}, reject precision "
                     f"{_pct(c.precision)}, recall {_pct(c.recall)}")
    for s, c in sorted(cal.cuts.items()):
        rule = "never rejects" if c.threshold is None else \
            f"reject when {'>' if c.direction == 'above' else '<'} {_round(c.threshold):g}"
        where = "qc." + ".".join(CALIBRATED[s].path) if s in CALIBRATED else "no spec field"
        lines.append(f"    {s:<32} {rule:<28} ({where})")
    if cal.unmapped:
        lines.append(f"  no threshold field in the brand spec for: {', '.join(cal.unmapped)} "
                     "(publish/calibrate.py CALIBRATED, core/spec.py QC*)")
    for line in cal.dropped:
        lines.append(f"  {line}")
    if cal.problem:
        lines.append(f"  {cal.problem}")
    if cal.diff:
        lines.append(f"  proposal (not applied; review, then `git apply {cal.diff_path}`):")
        lines.append(cal.diff.rstrip("\n"))
    elif cal.proposed:
        lines.append("  the brand spec already holds these thresholds")
    return "\n".join(lines)


def dumps(cals: list[Calibration]) -> str:
    return json.dumps([c.to_json() for c in cals], indent=2, sort_keys=True)
