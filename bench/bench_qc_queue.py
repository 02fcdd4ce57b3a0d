"""Benchmark: what the quality gate costs the studio's pages (issue 11): storing every build's qc.json at start, and
the reads that now look for new reports and count the review queue on every page.

    .venv/bin/python bench/bench_qc_queue.py [--units 200] [--repeat 5]

In a temporary project with `--units` builds in build/ (manifest, metadata and a qc.json each, no media: the
pages read only those) and an SQLite ledger, it starts the studio app in-process (litestar's TestClient, the fake
build function) and times: the start (the scan stores every report), then the median of `--repeat` GETs of Home,
/queue, /api/queue and a Video page. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "server"))

BRAND = "name: Bench\nchannel: {id: UCbench}\nniche: bench\nvoices: {robot: {engine: espeak}}\n"


def make_project(root: Path, units: int) -> None:
    from core.qc import Finding, QCReport, verdict_of

    (root / "brands").mkdir(parents=True)
    (root / "brands" / "bench.yaml").write_text(BRAND)
    for i in range(units):
        d = root / "build" / "bench" / f"v{i:04d}"
        d.mkdir(parents=True)
        digest = f"{i:064x}"
        (d / "manifest.json").write_text(json.dumps({"video": f"bench/v{i:04d}", "format": "long", "build_digest": digest,
                                                     "duration_s": 60.0, "assets": {}, "steps": {},
                                                     "scenes": [{"index": k, "start_s": k * 10.0,
                                                                 "end_s": k * 10.0 + 10} for k in range(6)]}))
        (d / "metadata.json").write_text(json.dumps({"title": f"Video {i}"}))
        sev = ("info", "warning", "error")[i % 3]
        fs = [Finding(check="audio.silence", scene=k, at_s=k * 10.0 + 2, severity=sev, reason="audio.pacing",
                      message=f"{k} s of silence", field=["narration"]) for k in range(i % 5)]
        report = QCReport(video=f"bench/v{i:04d}", format="long", verdict=verdict_of(fs), findings=fs)
        (d / "qc.json").write_text(json.dumps(report.to_json(), sort_keys=True))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from litestar.testing import TestClient

    from server.app import create_app
    from studio_support import TOKEN, FakeBuild, settings_for

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        make_project(root, args.units)
        t0 = time.perf_counter()
        app = create_app(settings_for(root, Path(tmp)), token=TOKEN, watch=False, build_fn=FakeBuild())
        with TestClient(app, base_url="http://127.0.0.1:8000") as c:
            assert app.state.queue.wait_idle(600)
            start = time.perf_counter() - t0
            stored = app.state.qc.saved
            out = {"units": args.units, "stored_at_start": stored, "start_s": round(start, 3)}
            for name, path in (("home", "/"), ("queue_page", "/queue"), ("queue_api", "/api/queue"),
                               ("video_page", "/videos/bench/v0004")):
                times = []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    r = c.get(path)
                    times.append(time.perf_counter() - t)
                    assert r.status_code == 200, (path, r.status_code)
                out[f"{name}_ms"] = round(statistics.median(times) * 1000, 1)
            out["queued"] = c.get("/api/queue").json()["count"]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
