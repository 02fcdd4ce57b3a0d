"""Gemini through google-genai: structured output with a JSON response schema, key from the environment.

The response schema goes in `response_json_schema` (JSON Schema): the OpenAPI subset behind
`response_schema` cannot say "one of these visual kinds" or carry a template's own param model.
The SDK's own retries stay off: clients.llm.common retries with the server's RetryInfo delay. Requests go
to the v1beta Generative Language API (POST /v1beta/models/{model}:generateContent).
String lengths (minLength/maxLength) are sent; an endpoint that refuses them gets the schema once more
without them (the limits are also in the field descriptions, and the script step trims locally).
"""
from __future__ import annotations

import os
import re
from typing import Any

from clients.retry import Transient, parse_retry_after
from core.errors import StepError

from .common import Message, Reply

DEFAULT_KEY_ENVS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
RETRYABLE = {408, 429, 500, 502, 503, 504}
API_VERSION = "v1beta"  # the Generative Language API version with JSON-schema structured output


def transport_errors() -> tuple[type[BaseException], ...]:
    """Timeouts and dropped connections of whichever HTTP stack the SDK runs on (httpx or httpx2)."""
    out: list[type[BaseException]] = []
    for name in ("httpx", "httpx2"):
        try:
            mod = __import__(name)
        except ImportError:
            continue
        out.append(mod.TransportError)
    return tuple(out)


def parse_duration(value: Any) -> float | None:
    """google.protobuf.Duration as JSON: '7s', '1.5s', or {'seconds': 7, 'nanos': 0}."""
    if isinstance(value, dict):
        return float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)s\s*", value)
        return float(m.group(1)) if m else None
    return None


def without_lengths(node: Any) -> Any:
    """The schema without minLength/maxLength, for an endpoint whose JSON-schema subset lacks them."""
    if isinstance(node, list):
        return [without_lengths(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in ("minLength", "maxLength"):
            continue
        # under `properties` the keys are field names (a field may be called maxLength), the values schemas
        out[k] = ({n: without_lengths(sub) for n, sub in v.items()} if k == "properties" and isinstance(v, dict)
                  else without_lengths(v))
    return out


def retry_after_of(exc: Any) -> float | None:
    """google.rpc.RetryInfo in the error details, else an HTTP Retry-After header."""
    details = exc.details if isinstance(getattr(exc, "details", None), dict) else {}
    error = details.get("error", details) if isinstance(details, dict) else {}
    for d in (error.get("details") or []) if isinstance(error, dict) else []:
        if isinstance(d, dict) and str(d.get("@type", "")).endswith("google.rpc.RetryInfo"):
            delay = parse_duration(d.get("retryDelay"))
            if delay is not None:
                return delay
    headers = getattr(getattr(exc, "response", None), "headers", None)
    return parse_retry_after(headers.get("retry-after")) if headers is not None else None


class GeminiClient:
    def __init__(self, llm: Any):
        from google import genai
        from google.genai import types

        self.llm = llm
        names = (llm.api_key_env,) if llm.api_key_env else DEFAULT_KEY_ENVS
        key = next((os.environ[n] for n in names if os.environ.get(n)), None)
        if not key:
            raise StepError(f"no Gemini API key: the environment variable {names[0]} is not set",
                            hint=f"export {names[0]}=... (get a key at https://aistudio.google.com/apikey), "
                                 "or set llm.api_key_env to the variable that holds it")
        self.types = types
        self.errors = genai.errors
        self.transport = transport_errors()
        options = types.HttpOptions(timeout=int(llm.timeout_s * 1000), base_url=llm.base_url or None,
                                    api_version=API_VERSION)
        self.client = genai.Client(api_key=key, vertexai=False, http_options=options)
        self.lengths_ok = True

    def complete(self, system: str, messages: list[Message], schema: dict | None) -> Reply:
        types = self.types
        sent = schema if schema is None or self.lengths_ok else without_lengths(schema)
        contents = [types.Content(role="user" if m.role == "user" else "model", parts=[types.Part(text=m.text)])
                    for m in messages]
        config = types.GenerateContentConfig(
            system_instruction=system or None, temperature=self.llm.temperature,
            max_output_tokens=self.llm.max_output_tokens,
            response_mime_type="application/json" if sent else None,
            response_json_schema=sent if sent else None)
        try:
            resp = self.client.models.generate_content(model=self.llm.model, contents=contents, config=config)
        except self.errors.APIError as exc:
            code = int(exc.code or 0)
            msg = exc.message or exc.status or str(exc)
            if code in RETRYABLE or code >= 500:
                raise Transient(f"HTTP {code} {exc.status or ''}: {msg}".strip(), retry_after=retry_after_of(exc),
                                status=code) from None
            if code == 400 and schema is not None and self.lengths_ok and re.search(r"(?i)(max|min)_?length", msg):
                self.lengths_ok = False  # this endpoint's schema subset has no string lengths: send it without
                return self.complete(system, messages, schema)
            hint = {400: "check llm.model and the request (is the model name right?)",
                    401: "the API key was rejected: check the key in $" + (self.llm.api_key_env or DEFAULT_KEY_ENVS[0]),
                    403: "the API key may not have access to this model",
                    404: f"no model named {self.llm.model!r} at this endpoint"}.get(code)
            raise StepError(f"Gemini refused the request: HTTP {code} {exc.status or ''}: {msg}", hint=hint) from None
        except self.transport as exc:
            raise Transient(f"{type(exc).__name__}: {exc or 'no response'}") from None
        usage = resp.usage_metadata
        tokens_in = (usage.prompt_token_count or 0) if usage else 0
        tokens_out = ((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)) if usage else 0
        finish = ""
        if resp.candidates:
            fr = resp.candidates[0].finish_reason
            finish = getattr(fr, "value", str(fr or ""))
        elif resp.prompt_feedback and resp.prompt_feedback.block_reason:
            raise StepError(f"Gemini blocked the prompt: {resp.prompt_feedback.block_reason}",
                            hint="rephrase the topic or notes")
        return Reply(text=resp.text or "", input_tokens=tokens_in, output_tokens=tokens_out, finish=finish)
