"""`doit learn`: choose each new video's variant arms from what earlier videos earned, and turn retention drops
into notes and proposals.

Arms. A brand or recipe declares `variants:` (core/spec.py): per dimension (voice, slide template, thumbnail
template, title style) two or more arms. Every video of the brand with an arm in its `variant:` block is one
observation of that arm's reward, per dimension (a factorised bandit: dimensions are learned independently).

Reward of a video, in [0, 1]-ish units of "share of the video watched":
- analytics: the average view percentage over all its days and formats, weighted by views, divided by 100;
- review outcomes: minus REVIEW_PENALTY times the share of its human decisions that rejected or sent a build
  back (from the feedback records: studio reviews and `doit approve`);
- a video without analytics yet counts only when a person sent a build back: it is scored at the channel's
  average view fraction minus the penalty, so an arm that people keep rejecting loses before it is published.
(YouTube's thumbnail click-through is not pulled by `doit analytics` yet, so it is not part of the reward.)

Each arm's reward has a Normal-Gamma posterior (unknown mean and variance; prior centred on the dimension's pooled
mean, worth one video). For a new video (not built, not published, no human decision yet) and each dimension it does not
fix itself, top-two Thompson sampling (`choose`) picks the arm; the random generator is seeded by the video id
and the dimension, so the same data give the same arm on every machine. The choice is written into
the video spec's `variant:` block (a minimal, atomic text edit), so the build reads it like any other setting.

Retention. `doit analytics` maps YouTube's retention curve onto the build's scenes. A scene whose viewers leave at
least DROP_RATE_FACTOR times faster than the video's average (and at least MIN_DROP of the audience) gets a note
(shown by `doit learn`, written to build/learn/<brand>.json for the studio), and the notes become a proposal for
the next topic-only video: its `notes:` (which the script writer reads) extended with the evidence, as a diff.
A dimension whose leading arm is best with probability >= WIN_PROB becomes a proposal to make it the brand default.
"""
from __future__ import annotations

import hashlib
import json
import math
import random
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import yaml
from sqlalchemy import select

from compiler.load import load_project
from compiler.project import LoadedVideo, Project, is_topic_video
from compiler.resolve import Resolver
from core.store import atomic_write_json, atomic_write_text

from .ledger import Ledger
from .models import AnalyticsDaily, PublishedVideo, RetentionPoint
from .qcstore import feedback
from .specedit import SpecEditError, set_values, unified_diff

REVIEW_PENALTY = 0.2
WIN_PROB = 0.95
MIN_DROP = 0.05
DROP_RATE_FACTOR = 2.0
TOP_TWO_BETA = 0.5
TOP_TWO_TRIES = 100
PRIOR_SD = 0.1  # how far apart rewards of videos are believed to be before any data (a share of the video)
REJECTING = ("reject", "request-changes")
# the brand field a winning arm of a dimension would become the default of (title_style has none)
BRAND_FIELD = {"voice": ("defaults", "voice"), "template": ("defaults", "template"),
               "thumbnail_template": ("thumbnail_template",)}


# ------------------------------------------------------------ the bandit --

@dataclass(frozen=True)
class Posterior:
    """Normal-Gamma posterior of an arm's mean reward."""

    mu: float
    kappa: float
    alpha: float
    beta: float

    @property
    def sd_of_mean(self) -> float:
        return math.sqrt(self.beta / (self.alpha * self.kappa)) if self.alpha > 0 else float("inf")

    def draw(self, rng: random.Random) -> float:
        tau = rng.gammavariate(self.alpha, 1.0 / self.beta)
        return rng.gauss(self.mu, 1.0 / math.sqrt(self.kappa * tau))


def posterior(rewards: list[float], prior_mean: float, prior_sd: float = PRIOR_SD) -> Posterior:
    kappa0, alpha0 = 1.0, 1.0
    beta0 = alpha0 * prior_sd ** 2
    n = len(rewards)
    if n == 0:
        return Posterior(prior_mean, kappa0, alpha0, beta0)
    mean = sum(rewards) / n
    ss = sum((x - mean) ** 2 for x in rewards)
    kappa = kappa0 + n
    return Posterior((kappa0 * prior_mean + n * mean) / kappa, kappa, alpha0 + n / 2,
                     beta0 + ss / 2 + kappa0 * n * (mean - prior_mean) ** 2 / (2 * kappa))


def _rng(*parts: str) -> random.Random:
    return random.Random(int(hashlib.sha256(":".join(("learn",) + parts).encode()).hexdigest()[:16], 16))


def posteriors(arms: list[str], obs: dict[str, list[float]]) -> dict[str, Posterior]:
    pooled = [x for a in arms for x in obs.get(a, [])]
    prior = sum(pooled) / len(pooled) if pooled else 0.5
    return {a: posterior(obs.get(a, []), prior) for a in arms}


def choose(arms: list[str], obs: dict[str, list[float]], seed: str) -> str:
    """Top-two Thompson sampling: draw a mean per arm from its posterior and take the largest; with probability
    1 - TOP_TWO_BETA draw again until another arm wins and take that challenger instead. Plain Thompson sampling
    soon stops trying the worse-looking arm, so it takes long to be sure which arm is best; top-two keeps
    measuring the runner-up and identifies the best arm in far fewer videos (Russo 2016), at a modest cost."""
    rng = _rng(seed)
    post = posteriors(arms, obs)

    def winner() -> str:
        draws = [(post[a].draw(rng), -i, a) for i, a in enumerate(arms)]
        return max(draws)[2]

    first = winner()
    if len(arms) < 2 or rng.random() < TOP_TWO_BETA:
        return first
    for _ in range(TOP_TWO_TRIES):
        other = winner()
        if other != first:
            return other
    return first  # the posterior is all but certain: keep the leader


def prob_best(arms: list[str], obs: dict[str, list[float]], *, draws: int = 2000, seed: str = "") -> dict[str, float]:
    """P(each arm has the highest mean), by Monte Carlo over the posteriors (seeded: the same every run)."""
    rng = _rng("prob_best", seed)
    post = posteriors(arms, obs)
    wins = dict.fromkeys(arms, 0)
    for _ in range(draws):
        best = max(arms, key=lambda a: post[a].draw(rng))
        wins[best] += 1
    return {a: wins[a] / draws for a in arms}


# ------------------------------------------------------------ the data --

@dataclass
class Outcome:
    video: str
    variant: dict[str, str]
    views: int = 0
    view_fraction: float | None = None  # views-weighted average view percentage / 100
    decisions: int = 0
    sent_back: int = 0
    reward: float | None = None


def outcomes(ledger: Ledger, brand: str, variants: dict[str, dict[str, str]]) -> dict[str, Outcome]:
    """Every video of the brand (id -> its `variant:`) with what it earned (analytics over all its formats, human
    decisions)."""
    out = {vid: Outcome(vid, dict(v)) for vid, v in variants.items()}

    def video_of(unit: str) -> str:
        return unit.split("@", 1)[0]

    watched: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    with ledger.session() as s:
        mine = AnalyticsDaily.unit.startswith(f"{brand}/", autoescape=True)  # '_' in a brand is no wildcard
        for row in s.scalars(select(AnalyticsDaily).where(mine)):
            w = watched[video_of(row.unit)]
            w[0] += row.views
            w[1] += row.views * row.average_view_percentage
    for vid, (views, weighted) in watched.items():
        if vid in out and views > 0:
            out[vid].views, out[vid].view_fraction = int(views), weighted / views / 100.0
    for fb in feedback(ledger, brand):
        o = out.get(video_of(fb.unit))
        if o is not None:
            o.decisions += 1
            o.sent_back += fb.decision in REJECTING
    known = [o.view_fraction for o in out.values() if o.view_fraction is not None]
    baseline = sum(known) / len(known) if known else 0.5
    for o in out.values():
        o.reward = reward(o.view_fraction, o.decisions, o.sent_back, baseline)
    return out


def reward(view_fraction: float | None, decisions: int, sent_back: int, baseline: float) -> float | None:
    """A video's reward (module docstring); None: nothing known about it yet."""
    penalty = REVIEW_PENALTY * sent_back / decisions if decisions else 0.0
    if view_fraction is not None:
        return view_fraction - penalty
    return baseline - penalty if sent_back else None


def raw_variant(path: Path) -> dict[str, str]:
    """The `variant:` block of a spec that does not load (errors elsewhere in it), read as plain YAML."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    v = data.get("variant") if isinstance(data, dict) else None
    return {k: a for k, a in v.items() if isinstance(k, str) and isinstance(a, str)} if isinstance(v, dict) else {}


def published_videos(ledger: Ledger, brand: str) -> set[str]:
    with ledger.session() as s:
        return {u.split("@", 1)[0] for u in s.scalars(select(PublishedVideo.unit).where(PublishedVideo.brand == brand))}


def open_dimensions(project: Project, lv: LoadedVideo) -> list[str]:
    """The declared dimensions this video has no arm for and does not fix itself."""
    res = Resolver(project, lv)
    v = lv.spec.model
    scenes = lv.script.scenes if lv.script else []
    fixed = {"voice": bool(v.voice) or any(sc.voice for sc in scenes), "template": bool(v.template),
             "thumbnail_template": bool(v.thumbnail.template),
             "title_style": not (is_topic_video(lv) and lv.script is None)}  # only a script still to write
    fixed["prompt_template"] = fixed["title_style"]
    return [d for d in res.variants() if d not in v.variant and not fixed.get(d, False)]


# ------------------------------------------------------------ retention --

@dataclass
class SceneNote:
    unit: str
    scene: int
    title: str
    start_s: float  # the retention point before the scene's first one (where its drop is counted from)
    end_s: float
    before: float  # audience ratio when the scene starts (end of the previous scene)
    after: float  # audience ratio when it ends
    drop: float
    rate_factor: float  # how many times the video's average leaving rate
    message: str


def retention_notes(ledger: Ledger, brand: str) -> list[SceneNote]:
    """Scenes that lose viewers much faster than the rest of their video (from the retention points that
    `doit analytics` mapped onto scenes)."""
    by_unit: dict[str, list[RetentionPoint]] = defaultdict(list)
    with ledger.session() as s:
        for p in s.scalars(select(RetentionPoint).where(RetentionPoint.unit.startswith(f"{brand}/", autoescape=True))):
            if p.scene_index is not None and p.at_s is not None:
                by_unit[p.unit].append(p)
    notes = []
    for unit, points in sorted(by_unit.items()):
        points.sort(key=lambda p: p.elapsed_ratio)
        scenes: dict[int, list[RetentionPoint]] = defaultdict(list)
        for p in points:
            scenes[p.scene_index].append(p)
        first, last = points[0], points[-1]
        span = (last.at_s or 0) - (first.at_s or 0)
        if span <= 0:
            continue
        avg_rate = max(first.audience_watch_ratio - last.audience_watch_ratio, 0.0) / span
        step = span / max(len(points) - 1, 1)  # a scene seen by one point still lasts about one step
        before, since = first.audience_watch_ratio, first.at_s or 0.0
        for index in sorted(scenes):
            pts = scenes[index]
            end = pts[-1].at_s or 0.0
            after = pts[-1].audience_watch_ratio
            # from the last point before the scene (its start) to its last point: the drop and the time it took
            drop, length = before - after, max(end - since, step)
            factor = (drop / length) / avg_rate if avg_rate > 0 else float("inf")
            if drop >= MIN_DROP and factor >= DROP_RATE_FACTOR:
                title = pts[0].scene_title or ""
                notes.append(SceneNote(unit, index, title, round(since, 2), round(end, 2), round(before, 4),
                                       round(after, 4), round(drop, 4), round(factor, 2),
                                       f"viewers leave here: {before:.0%} -> {after:.0%} of the audience in "
                                       f"{length:.0f} s ({factor:.1f}x the video's average rate)"))
            before, since = after, end
    return notes


# ------------------------------------------------------------ the report --

@dataclass
class ArmReport:
    name: str
    value: str
    videos: int
    mean_reward: float | None
    prob_best: float


@dataclass
class Proposal:
    file: str
    why: str
    evidence: list[str]
    diff: str
    path: str | None = None  # where write_outputs put the diff


@dataclass
class LearnReport:
    brand: str
    dimensions: dict[str, list[ArmReport]] = field(default_factory=dict)
    assigned: dict[str, dict[str, str]] = field(default_factory=dict)  # video -> dimension -> arm
    skipped: dict[str, str] = field(default_factory=dict)  # video -> why it got no arm
    notes: list[SceneNote] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"brand": self.brand,
                "dimensions": {d: [asdict(a) for a in arms] for d, arms in self.dimensions.items()},
                "assigned": self.assigned, "skipped": self.skipped, "notes": [asdict(n) for n in self.notes],
                "proposals": [asdict(p) for p in self.proposals]}


ASSIGN_COMMENT = "arms chosen by `doit learn` (Thompson sampling, seeded by the video id); edit to fix one by hand"


def learn(root: Path, ledger: Ledger, brand: str, *, write: bool = True, project: Project | None = None) -> LearnReport:
    project = project or load_project(root)
    report = LearnReport(brand)
    videos = {vid: lv for vid, lv in sorted(project.videos.items()) if lv.brand == brand}
    variants = {vid: dict(lv.spec.model.variant) for vid, lv in videos.items()}
    for vid in sorted(project.errors):  # a video with spec errors still earned what it earned
        if vid.startswith(f"{brand}/") and vid.count("/") == 1 and vid not in videos:
            variants[vid] = raw_variant(root / "videos" / f"{vid}.yaml")
    got = outcomes(ledger, brand, variants)
    published = published_videos(ledger, brand)
    for vid in variants:
        if vid not in videos and vid not in published and not got[vid].decisions:
            report.skipped[vid] = "has spec errors (see doit check)"
    brand_model = project.brands[brand].model
    # arms and observations per dimension, over every recipe's and the brand's declarations
    declared: dict[str, dict[str, str]] = {}
    for lv in videos.values():
        for dim, arms in Resolver(project, lv).variants().items():
            declared.setdefault(dim, {}).update({a.name: a.value for a in arms})
    for dim, arms in brand_model.variants.items():
        declared.setdefault(dim, {}).update({a.name: a.value for a in arms})
    obs: dict[str, dict[str, list[float]]] = {d: defaultdict(list) for d in declared}
    for o in got.values():
        if o.reward is None:
            continue
        for dim, arm in o.variant.items():
            if dim in declared and arm in declared[dim]:
                obs[dim][arm].append(o.reward)
    for dim, arms in sorted(declared.items()):
        names = list(arms)
        p = prob_best(names, obs[dim], seed=f"{brand}:{dim}")
        report.dimensions[dim] = [ArmReport(a, arms[a], len(obs[dim][a]),
                                            statistics.fmean(obs[dim][a]) if obs[dim][a] else None, p[a])
                                  for a in names]
    # assign arms to new videos
    for vid, lv in videos.items():
        if vid in published or got[vid].decisions:
            continue
        dims = open_dimensions(project, lv)
        if not dims:
            continue
        if (root / "build" / lv.brand / lv.slug / "manifest.json").is_file():
            report.skipped[vid] = (f"already built (build/{vid}/): an arm would change the build under review; "
                                   "write `variant:` by hand if you mean it")
            continue
        if lv.spec.file.suffix not in (".yaml", ".yml"):
            report.skipped[vid] = f"{lv.spec.display} is not a YAML file; write `variant:` by hand"
            continue
        arms_of = Resolver(project, lv).variants()
        chosen = {d: choose([a.name for a in arms_of[d]], obs.get(d, {}), f"{vid}:{d}") for d in dims}
        text = lv.spec.file.read_text(encoding="utf-8")
        try:
            new = set_values(text, [(("variant", d), a) for d, a in chosen.items()], comment=ASSIGN_COMMENT)
        except SpecEditError as exc:
            report.skipped[vid] = f"{lv.spec.display}: {exc}"
            continue
        if write:
            atomic_write_text(lv.spec.file, new)
        report.assigned[vid] = chosen
    report.notes = retention_notes(ledger, brand)
    report.proposals = proposals(project, brand, report, videos, published, got)
    return report


def proposals(project: Project, brand: str, report: LearnReport, videos: dict[str, LoadedVideo],
              published: set[str], got: dict[str, Outcome]) -> list[Proposal]:
    out = []
    rel = f"brands/{brand}.yaml"
    brand_file = project.root / rel
    for dim, arms in report.dimensions.items():
        best = max(arms, key=lambda a: a.prob_best)
        if dim not in BRAND_FIELD or best.prob_best < WIN_PROB or any(a.videos < 3 for a in arms):
            continue
        text = brand_file.read_text(encoding="utf-8")
        try:
            new = set_values(text, [(BRAND_FIELD[dim], best.value)])
        except SpecEditError:
            continue
        diff = unified_diff(text, new, rel)
        if diff:
            out.append(Proposal(rel, f"make the {dim} arm '{best.name}' the brand default "
                                     f"(best with probability {best.prob_best:.0%})",
                                [f"{a.name}: {a.videos} video(s), mean reward "
                                 f"{'n/a' if a.mean_reward is None else f'{a.mean_reward:.3f}'}, P(best) "
                                 f"{a.prob_best:.0%}" for a in arms], diff))
    if report.notes:
        evidence = [f"{n.unit} scene {n.scene + 1} '{n.title}' ({n.start_s:.0f}-{n.end_s:.0f} s): {n.message}"
                    for n in report.notes]
        for vid, lv in videos.items():  # the next topic-only video whose script is still to be written
            if vid in published or got[vid].decisions or not (is_topic_video(lv) and lv.script is None):
                continue
            if lv.spec.file.suffix not in (".yaml", ".yml"):
                continue
            text = lv.spec.file.read_text(encoding="utf-8")
            parts = [f"- {n.title or f'scene {n.scene + 1}'} ({n.unit}): lost {n.drop:.0%} of the audience in "
                     f"{n.end_s - n.start_s:.0f} s" for n in report.notes[:5]]
            addition = ("Viewers of earlier videos left quickly during these parts; keep similar material short, "
                        "concrete and after the payoff:\n" + "\n".join(parts))
            notes = lv.spec.model.notes.rstrip()
            try:
                new = set_values(text, [(("notes",), f"{notes}\n\n{addition}" if notes else addition)])
            except SpecEditError:
                continue
            out.append(Proposal(lv.spec.display, f"brief the script writer of {vid} with the retention drops",
                                evidence, unified_diff(text, new, lv.spec.display)))
            break
    return out


def write_outputs(root: Path, report: LearnReport) -> Path:
    """build/.learn/<brand>.json (the studio can show the notes on their scenes) and one .diff per proposal
    (a dot folder: build/<brand>/ belongs to the builds)."""
    base = root / "build" / ".learn"
    folder = base / report.brand
    for old in folder.glob("proposal-*.diff") if folder.is_dir() else []:
        old.unlink()  # proposals of an earlier run that no longer hold
    for i, p in enumerate(report.proposals):
        path = folder / f"proposal-{i + 1}.diff"
        atomic_write_text(path, p.diff)
        p.path = str(path)
    path = base / f"{report.brand}.json"
    atomic_write_json(path, report.to_json())
    return path


def render(report: LearnReport, out: Callable[[str], None]) -> None:
    out(f"{report.brand}:")
    if not report.dimensions:
        out("  no variants declared (add `variants:` to brands/" + report.brand + ".yaml)")
    for dim, arms in report.dimensions.items():
        out(f"  {dim}:")
        for a in arms:
            mean = "      n/a" if a.mean_reward is None else f"{a.mean_reward:9.3f}"
            out(f"    {a.name:<16} {a.videos:>3} video(s)  mean reward {mean}  P(best) {a.prob_best:4.0%}")
    for vid, chosen in report.assigned.items():
        out(f"  assigned {vid}: " + ", ".join(f"{d} = {a}" for d, a in chosen.items()))
    for vid, why in report.skipped.items():
        out(f"  not assigned {vid}: {why}")
    for n in report.notes:
        out(f"  note {n.unit} scene {n.scene + 1} '{n.title}' ({n.start_s:.1f}-{n.end_s:.1f} s): {n.message}")
    for p in report.proposals:
        applied = f" (not applied; review, then `git apply {p.path}`)" if p.path else ""
        out(f"  proposal for {p.file}: {p.why}{applied}")
        for line in p.evidence:
            out(f"    evidence: {line}")
        out(p.diff.rstrip("\n"))


def dumps(reports: list[LearnReport]) -> str:
    return json.dumps([r.to_json() for r in reports], indent=2, sort_keys=True)
