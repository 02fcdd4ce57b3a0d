"""QC of the caption files (issue 11): coverage of the narration, timing against the spoken sentences, line
length, lines per caption and reading speed; the SRT and WebVTT files must carry the same cues.

The narration's words and sentence times come from the timeline (timeline.json holds every scene's sentences
on the final video's clock, the same data captions.subtitles made the files from), so the check compares the
files people will see with what is said, not with the code that wrote them.
"""
from __future__ import annotations

import difflib
import html
import json
import re
from pathlib import Path

from pydantic import Field

from core.qc import Finding

from .base import Context, Params, Renderer
from ._lib.qc_media import mmss, write_findings

_TIME = re.compile(r"(\d+):(\d\d):(\d\d)[,.](\d{3})\s*-->\s*(\d+):(\d\d):(\d\d)[,.](\d{3})")


def parse_cues(text: str, vtt: bool) -> list[dict]:
    """[{"start", "end", "lines"}] from SRT or WebVTT text (cue settings and identifiers ignored)."""
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = block.split("\n")
        at = next((i for i, ln in enumerate(lines) if _TIME.search(ln)), None)
        if at is None:
            continue
        m = _TIME.search(lines[at])
        assert m is not None
        g = [int(x) for x in m.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        body = [ln for ln in lines[at + 1:]]
        if vtt:
            body = [html.unescape(re.sub(r"<[^>]*>", "", ln)) for ln in body]
        cues.append({"start": start, "end": end, "lines": body})
    return cues


def words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"\w+", text)]


class CaptionsQC(Renderer):
    kind = "qc.captions"
    version = 1
    inputs = ("srt", "vtt", "timeline")
    outputs = ("findings.json",)

    class Params(Params):
        max_line_chars: int = Field(42, ge=1)
        max_lines: int = Field(2, ge=1)
        min_coverage: float = 0.98
        min_coverage_error: float = 0.9
        timing_tolerance_s: float = 0.5
        timing_error_s: float = 1.5
        max_chars_per_s: float = 25.0

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        tl = json.loads(Path(ctx.inputs["timeline"]).read_text())
        srt = parse_cues(Path(ctx.inputs["srt"]).read_text(encoding="utf-8"), vtt=False)
        vtt = parse_cues(Path(ctx.inputs["vtt"]).read_text(encoding="utf-8"), vtt=True)
        bounds = [(sc["start_s"], sc["end_s"]) for sc in tl["scenes"]]

        def scene_at(t: float) -> int | None:
            return next((i for i, (s, e) in enumerate(bounds) if s <= t < e), len(bounds) - 1 if bounds else None)

        findings: list[Finding] = []
        scores: dict[str, float] = {"captions.cues": float(len(srt))}

        # the two files must agree (the same cues, the same times)
        if [(round(c["start"], 3), round(c["end"], 3)) for c in srt] != \
                [(round(c["start"], 3), round(c["end"], 3)) for c in vtt]:
            findings.append(Finding(check="captions.format", severity="error", reason="other",
                                    message=f"captions.srt ({len(srt)} cues) and captions.vtt ({len(vtt)} cues) "
                                            "disagree on their cues"))

        # coverage: the narration's words, in order, found in the captions
        sentences = [(i, s) for i, sc in enumerate(tl["scenes"]) for s in sc["sentences"]]
        spoken: list[str] = []
        sentence_of: list[int] = []
        span_of: list[range] = []  # each sentence's word positions in `spoken`
        for k, (_, s) in enumerate(sentences):
            ws = words(s["text"])
            span_of.append(range(len(spoken), len(spoken) + len(ws)))
            spoken += ws
            sentence_of += [k] * len(ws)
        shown: list[str] = []
        cue_of: list[int] = []
        for k, c in enumerate(srt):
            ws = words(" ".join(c["lines"]))
            shown += ws
            cue_of += [k] * len(ws)
        match = difflib.SequenceMatcher(None, spoken, shown, autojunk=False)
        shown_at: dict[int, int] = {}
        for a, b, size in match.get_matching_blocks():
            for j in range(size):
                shown_at[a + j] = b + j
        coverage = len(shown_at) / len(spoken) if spoken else 1.0
        scores["captions.coverage"] = coverage
        if coverage < p.min_coverage:
            first_missing = next((i for i in range(len(spoken)) if i not in shown_at), None)
            k = sentence_of[first_missing] if first_missing is not None else 0
            scene, s = sentences[k] if sentences else (None, {"start": None})
            findings.append(Finding(
                check="captions.coverage", scene=scene, at_s=s["start"], field=["narration"],
                severity="error" if coverage < p.min_coverage_error else "warning", reason="other",
                value=round(coverage, 3), limit=p.min_coverage,
                message=f"the captions carry {coverage * 100:.0f}% of the narration's words (at least "
                        f"{p.min_coverage * 100:.0f}%); the first missing word is '{spoken[first_missing]}'"
                        if first_missing is not None else f"the captions carry {coverage * 100:.0f}% of the words"))
        speech = sum(s["end"] - s["start"] for _, s in sentences)
        if speech > 0:
            covered = sum(max(0.0, min(s["end"], c["end"]) - max(s["start"], c["start"]))
                          for _, s in sentences for c in srt)
            scores["captions.time_coverage"] = min(1.0, covered / speech)

        # timing: each sentence's captions start and end with the spoken sentence
        worst = 0.0
        for k, (scene, s) in enumerate(sentences):
            idx = span_of[k]
            if not idx or idx[0] not in shown_at or idx[-1] not in shown_at:
                continue
            first, last = srt[cue_of[shown_at[idx[0]]]], srt[cue_of[shown_at[idx[-1]]]]
            off = max(abs(first["start"] - s["start"]), abs(last["end"] - s["end"]))
            worst = max(worst, off)
            if off > p.timing_tolerance_s:
                findings.append(Finding(
                    check="captions.timing", scene=scene, at_s=round(s["start"], 3), field=["narration"],
                    severity="error" if off > p.timing_error_s else "warning", reason="other",
                    value=round(off, 2), limit=p.timing_tolerance_s,
                    message=f"the caption of \"{_short(s['text'])}\" is {off:.2f} s off the spoken sentence "
                            f"({first['start']:.2f}-{last['end']:.2f} s shown, {s['start']:.2f}-{s['end']:.2f} s "
                            "spoken)"))
        scores["captions.max_offset_s"] = worst

        # layout and reading speed, cue by cue
        longest = most = 0
        fastest = 0.0
        for c in srt:
            text = " ".join(c["lines"])
            longest = max(longest, max((len(ln) for ln in c["lines"]), default=0))
            most = max(most, len(c["lines"]))
            shown_s = c["end"] - c["start"]
            cps = len(text) / shown_s if shown_s > 0 else float(len(text)) * 100
            fastest = max(fastest, cps)
            where = {"scene": scene_at(c["start"]), "at_s": round(c["start"], 3), "field": ["narration"]}
            over = [ln for ln in c["lines"] if len(ln) > p.max_line_chars]
            if over:
                findings.append(Finding(
                    check="captions.line_length", severity="warning", reason="visual.text_overflow", **where,
                    value=float(max(map(len, over))), limit=float(p.max_line_chars),
                    message=f"a caption line at {mmss(c['start'])} has {max(map(len, over))} characters (at most "
                            f"{p.max_line_chars}): \"{_short(over[0])}\""))
            if len(c["lines"]) > p.max_lines:
                findings.append(Finding(
                    check="captions.lines", severity="warning", reason="visual.text_overflow", **where,
                    value=float(len(c["lines"])), limit=float(p.max_lines),
                    message=f"the caption at {mmss(c['start'])} has {len(c['lines'])} lines (at most {p.max_lines})"))
            if shown_s <= 0 or cps > p.max_chars_per_s:
                findings.append(Finding(
                    check="captions.reading_speed", severity="warning", reason="other", **where,
                    value=round(cps, 1), limit=p.max_chars_per_s,
                    message=f"the caption at {mmss(c['start'])} asks for {cps:.0f} characters a second (at most "
                            f"{p.max_chars_per_s:g}): \"{_short(text)}\""))
        scores.update({"captions.max_line_chars": float(longest), "captions.max_lines": float(most),
                       "captions.max_chars_per_s": fastest})
        return write_findings(ctx.out("findings.json"), findings, scores)


def _short(text: str, n: int = 48) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"
