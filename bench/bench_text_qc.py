"""Benchmark: what measuring on-screen text costs a slide, and what judging it costs.

    .venv/bin/python bench/bench_text_qc.py [--video cosmos/dark-sky] [--rounds 3]

For every slide of the video's first format (and its thumbnail), renders the same HTML with shrink-to-fit
only (`render_html(measure=False)`: the screenshot the slide needs anyway) and with the text measured as
the renderers now do (`measure=True`: DOM read-out, a second, text-less screenshot at half size, pixel
sampling), alternating the two, in one Chromium. Then times `qc.text`'s judging of all the measurements.
Medians per frame. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import renderers  # noqa: E402
from compiler.workspace import Workspace  # noqa: E402
from core.spec import QCText  # noqa: E402
from renderers._lib.browser import data_uri, render_html  # noqa: E402
from renderers.qc_text import judge  # noqa: E402
from renderers.slide_html import render_template  # noqa: E402


def frames(vid: str) -> list[tuple[str, str, int, int, float]]:
    """(step id, html, width, height, caption_safe) of every slide and the thumbnail of the video's first format."""
    plan = Workspace.open(REPO).plan()
    out = []
    for sid, st in sorted(plan.steps.items()):
        if not sid.startswith(vid + "/") or st.kind not in ("slide.html", "thumbnail.html"):
            continue
        p = renderers.get(st.kind).Params(**st.params)
        files = {k: REPO / r.file for k, r in st.inputs.items() if r.file}
        data = {"palette": p.palette, "fonts": p.fonts, "brand": p.brand, "width": p.width, "height": p.height,
                "logo": data_uri(files.get("logo")), "image": data_uri(files.get("image")),
                "portrait": p.height > p.width}
        if st.kind == "slide.html":
            data.update(title=p.title, bullets=p.bullets, body=p.body, caption_safe=p.caption_safe)
        else:
            data.update(text=p.text, words=p.text.split())
        out.append((sid, render_template(files["template"], **data), p.width, p.height, getattr(p, "caption_safe", 0.0)))
    fmt = out[0][0].split("/")[2]
    return [f for f in out if f[0].split("/")[2] == fmt]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default="cosmos/dark-sky")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    todo = frames(args.video)
    plain: dict[str, list[float]] = {}
    measured: dict[str, list[float]] = {}
    facts: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "frame.png"
        render_html(todo[0][1], png, todo[0][2], todo[0][3])  # Chromium started outside the timings
        for _ in range(args.rounds):
            for sid, html, w, h, safe in todo:
                t = time.perf_counter()
                render_html(html, png, w, h)
                plain.setdefault(sid, []).append(time.perf_counter() - t)
                t = time.perf_counter()
                facts[sid] = render_html(html, png, w, h, measure=True, caption_safe=safe)
                measured.setdefault(sid, []).append(time.perf_counter() - t)
    t = time.perf_counter()
    found = 0
    for sid, text in facts.items():
        thumb = sid.endswith("/thumbnail")
        found += len(judge(text, QCText(), scene=None, at_s=None, fields={}, thumbnail=thumb)[0])
    judging = time.perf_counter() - t
    print(f"{args.video}: {len(todo)} frames ({sum(not s.endswith('thumbnail') for s, *_ in todo)} slides + thumbnail), "
          f"{args.rounds} rounds, medians")
    for sid, *_ in todo:
        a, b = statistics.median(plain[sid]), statistics.median(measured[sid])
        print(f"  {sid:45} fit only {a * 1000:6.0f} ms   fit + measure {b * 1000:6.0f} ms   (+{(b - a) * 1000:.0f} ms)")
    total_a = sum(statistics.median(v) for v in plain.values())
    total_b = sum(statistics.median(v) for v in measured.values())
    print(f"  total: {total_a:.2f} s -> {total_b:.2f} s (+{(total_b - total_a):.2f} s); judging all frames "
          f"{judging * 1000:.1f} ms, {found} findings")


if __name__ == "__main__":
    main()
