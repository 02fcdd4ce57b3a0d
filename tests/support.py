"""Helpers shared by the tests (import as `from support import ...`; fixtures live in conftest.py)."""
from __future__ import annotations

import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BRAND = """\
name: Test Brand
channel: {id: UCtest, category: "27"}
niche: testing
voices:
  robot: {engine: espeak, rate: 1.3, sentence_pause: 0.1}
  joe: {engine: piper, rate: 1.2, sentence_pause: 0.1}
palette: {background: "#102030", surface: "#203040", text: "#ffffff", accent: "#ff8800", muted: "#aaaaaa"}
logo: media/logo.svg
tags: [test]
defaults: {voice: robot, pad: 0.2}
"""

FORMATS = """\
tiny: {width: 320, height: 180, fps: 10, max_duration_s: 600}
tinyshort: {width: 180, height: 320, fps: 10, max_duration_s: 20, burn_captions: true}
"""

ALPHA = """\
title: Alpha Video
format: tiny
scenes:
  - narration: First scene. It has two sentences.
    visual: {kind: slide, title: Hello, bullets: [one, two]}
  - narration: Second scene shows a picture.
    visual: {kind: image, file: media/pic.png, motion: zoom_in}
  - narration: Third scene plays a clip.
    visual: {kind: clip, file: media/clip.mp4}
"""

BETA = """\
title: Beta Video
format: tiny
scenes:
  - narration: Beta has one slide.
    visual: {kind: slide, title: Beta}
  - narration: And a second slide to finish.
    visual: {kind: slide, title: End, body: Thanks}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def session(root: Path):
    """A Workspace on `root` whose events are collected (`ws.reporter.of("executed")`)."""
    from compiler.workspace import Workspace
    from core.events import ListReporter

    return Workspace.open(root, reporter=ListReporter())


def executed(ws) -> list[str]:
    return [e.step for e in ws.reporter.of("executed")]


def build_all(root: Path):
    """Build every video; returns (workspace, failures, executed step ids)."""
    s = session(root)
    return s, s.build().failed_steps, executed(s)


class HttpCollector:
    """A fake telemetry collector on 127.0.0.1 (OTLP/HTTP, Sentry envelopes): records every POST
    as (path, content type, body), answers 200 `{}`. Use as a context manager."""

    def __init__(self):
        import gzip
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        bodies: list = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                bodies.append((self.path, self.headers.get("Content-Type"), body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *a):
                pass

        self.bodies = bodies
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> "HttpCollector":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def spans(self) -> list:
        """Every span in the OTLP/HTTP trace exports received so far."""
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        out = []
        for path, _, body in self.bodies:
            if path == "/v1/traces":
                req = ExportTraceServiceRequest.FromString(body)
                out += [s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
        return out
