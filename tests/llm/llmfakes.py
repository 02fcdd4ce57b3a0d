"""Fake LLM servers on 127.0.0.1 that speak the real protocols, so google-genai and openai run for real.

Both share a `Brain`: a queue of scripted turns (a reply text, an HTTP error, a hang) served in
order, then a default: the draft for free-form requests and the script JSON for structured ones.
Every request is recorded (path, headers, body) for the tests to inspect.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GEMINI_KEY = "test-gemini-key-0000"


@dataclass
class Turn:
    text: str | None = None  # reply with this text
    status: int | None = None  # or fail with this HTTP status
    retry_after: float | None = None  # Gemini: RetryInfo.retryDelay; OpenAI: Retry-After header
    hang: float = 0.0  # sleep this long first (longer than the client's timeout: a timeout)
    finish: str | None = None  # finish reason (default STOP / stop); MAX_TOKENS / length: cut at the output limit


@dataclass
class Brain:
    draft: str
    script: dict
    queue: list[Turn] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    refuse_lengths: bool = False  # Gemini: answer 400 to a response schema with minLength/maxLength
    lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, *turns: Turn | str) -> None:
        self.queue.extend(Turn(text=t) if isinstance(t, str) else t for t in turns)

    def next(self, structured: bool) -> Turn:
        with self.lock:
            if self.queue:
                return self.queue.pop(0)
        return Turn(text=json.dumps(self.script) if structured else self.draft)

    @property
    def calls(self) -> int:
        return len(self.requests)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # a client that timed out and left: not our problem
        pass


class _Handler(BaseHTTPRequestHandler):
    brain: Brain

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")


class GeminiHandler(_Handler):
    """POST /v1beta/models/{model}:generateContent (the Generative Language REST API)."""

    def do_POST(self) -> None:
        body = self._body()
        with self.brain.lock:
            self.brain.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        if self.headers.get("x-goog-api-key") != GEMINI_KEY:
            return self._send(400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                              "status": "INVALID_ARGUMENT"}})
        if not self.path.startswith("/v1beta/models/") or not self.path.endswith(":generateContent"):
            return self._send(404, {"error": {"code": 404, "message": f"no route {self.path}", "status": "NOT_FOUND"}})
        cfg = body.get("generationConfig", {})
        lengths = re.search(r'"(min|max)Length": \d', json.dumps(cfg.get("responseJsonSchema")))
        if self.brain.refuse_lengths and lengths:
            return self._send(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message":
                                              "Invalid JSON payload received. Unknown name \"maxLength\" at "
                                              "'generation_config.response_json_schema': Cannot find field."}})
        turn = self.brain.next(cfg.get("responseMimeType") == "application/json")
        if turn.hang:
            time.sleep(turn.hang)
        if turn.status:
            details = []
            if turn.retry_after is not None:
                details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{turn.retry_after:g}s"}]
            status = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}.get(turn.status, "UNKNOWN")
            return self._send(turn.status, {"error": {"code": turn.status, "message": "fake failure", "status": status,
                                                      "details": details}})
        prompt = json.dumps(body.get("contents", []))
        self._send(200, {
            "candidates": [{"content": {"parts": [{"text": turn.text}], "role": "model"},
                            "finishReason": turn.finish or "STOP",
                            "index": 0}],
            "usageMetadata": {"promptTokenCount": len(prompt) // 4, "candidatesTokenCount": len(turn.text) // 4,
                              "totalTokenCount": len(prompt) // 4 + len(turn.text) // 4},
            "modelVersion": self.path.split("/")[-1].split(":")[0]})


class OpenAIHandler(_Handler):
    """POST /v1/chat/completions (the OpenAI-compatible API of Ollama, llama.cpp, LM Studio, vLLM)."""

    def do_POST(self) -> None:
        body = self._body()
        with self.brain.lock:
            self.brain.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
        turn = self.brain.next("response_format" in body)
        if turn.hang:
            time.sleep(turn.hang)
        if turn.status:
            headers = {"Retry-After": f"{turn.retry_after:g}"} if turn.retry_after is not None else {}
            return self._send(turn.status, {"error": {"message": "fake failure", "type": "server_error"}}, headers)
        prompt = json.dumps(body.get("messages", []))
        self._send(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": body.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": turn.text},
                         "finish_reason": turn.finish or "stop"}],
            "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(turn.text) // 4,
                      "total_tokens": len(prompt) // 4 + len(turn.text) // 4}})


class FakeServer:
    def __init__(self, handler: type[_Handler], brain: Brain):
        cls = type(handler.__name__, (handler,), {"brain": brain})
        self.brain = brain
        self.httpd = _Server(("127.0.0.1", 0), cls)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


DRAFT = """Ever wondered why toast smells so good? Heat is turning sugar and protein into flavour.
Visual: slide

Inside the pan, hundreds of new molecules form in seconds.
Visual: picture of a pan

So next time, let it brown. Your taste buds will thank you.
Visual: slide"""


def script_dict(n_scenes: int = 3, words_per_scene: int = 0, visual: str = "slide") -> dict:
    """A valid processed script; `words_per_scene` pads the narration to make it long."""
    base = ["Ever wondered why toast smells so good? Heat turns sugar and protein into flavour.",
            "Inside the pan, hundreds of new molecules form in seconds.",
            "So next time, let it brown. Your taste buds will thank you."]
    scenes = []
    for i in range(n_scenes):
        text = base[i % len(base)]
        if words_per_scene:
            text = " ".join(["Brown food tastes better."] * (words_per_scene // 4))
        vis = ({"kind": "slide", "title": f"Point {i + 1}", "bullets": ["Heat", "Sugar"]} if visual == "slide" or i % 2 == 0
               else {"kind": "image", "file": "media/pic.png"})
        scenes.append({"narration": text, "chapter": "Why it browns" if i == 0 else "", "visual": vis})
    return {"title": "Why Toast Tastes Good", "alt_titles": ["The Science of Brown", "Toast, Explained"],
            "description": "Why browned food tastes so good.", "tags": ["toast", "maillard"],
            "thumbnail_text": "BROWN = FLAVOUR", "thumbnail_prompt": "golden toast on a dark table",
            "scenes": scenes}
