"""OpenAI-compatible chat completions (Ollama, llama.cpp server, LM Studio, vLLM, OpenAI) via `openai`.

Structured output uses `response_format: {type: json_schema}`; servers that reject it (older
llama.cpp builds, some LM Studio versions) get one fallback to `json_object` with the schema in the
prompt. Local servers need no key; the client's own retries stay off (clients.llm.common retries).
"""
from __future__ import annotations

import json
import os
from typing import Any

from clients.retry import Transient, parse_retry_after
from core.errors import StepError

from .common import Message, Reply

OPENAI_URL = "https://api.openai.com/v1"
RETRYABLE = {408, 409, 429}


def key_env(llm: Any) -> str | None:
    """Which environment variable holds the key: explicit, or OPENAI_API_KEY for api.openai.com only."""
    if llm.api_key_env:
        return llm.api_key_env
    return "OPENAI_API_KEY" if not llm.base_url or "api.openai.com" in llm.base_url else None


def retry_after_of(exc: Any) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    return parse_retry_after(headers.get("retry-after"))


class OpenAIClient:
    def __init__(self, llm: Any):
        import openai

        self.llm = llm
        self.openai = openai
        env = key_env(llm)
        key = os.environ.get(env) if env else None
        if env and not key:
            raise StepError(f"no API key: the environment variable {env} is not set",
                            hint=f"export {env}=..., or for a local server (Ollama, llama.cpp, LM Studio, vLLM) "
                                 "set llm.base_url and leave llm.api_key_env unset")
        self.client = openai.OpenAI(api_key=key or "no-key-needed", base_url=llm.base_url or OPENAI_URL,
                                    timeout=llm.timeout_s, max_retries=0)
        self.json_schema_ok = True

    def complete(self, system: str, messages: list[Message], schema: dict | None) -> Reply:
        chat = ([{"role": "system", "content": system}] if system else []) + \
               [{"role": m.role, "content": m.text} for m in messages]
        kwargs: dict[str, Any] = {"model": self.llm.model, "messages": chat, "temperature": self.llm.temperature}
        if self.llm.max_output_tokens:
            kwargs["max_tokens"] = self.llm.max_output_tokens
        if schema is not None:
            if self.json_schema_ok:
                kwargs["response_format"] = {"type": "json_schema",
                                             "json_schema": {"name": "script", "schema": schema, "strict": False}}
            else:
                chat[-1] = {**chat[-1], "content": chat[-1]["content"] + "\n\nReply with one JSON object that follows "
                            "this JSON Schema:\n" + json.dumps(schema)}
                kwargs["response_format"] = {"type": "json_object"}
        try:
            resp = self.client.chat.completions.create(**kwargs)
        except self.openai.APITimeoutError:
            raise Transient(f"no reply within {self.llm.timeout_s:g} s") from None
        except self.openai.APIConnectionError as exc:
            raise Transient(f"cannot reach {self.llm.base_url or OPENAI_URL}: {exc.__cause__ or exc}") from None
        except self.openai.APIStatusError as exc:
            code = exc.status_code
            if code in RETRYABLE or code >= 500:
                raise Transient(f"HTTP {code}: {_message(exc)}", retry_after=retry_after_of(exc), status=code) from None
            if code in (400, 422) and schema is not None and self.json_schema_ok and "response_format" in _message(exc):
                self.json_schema_ok = False  # this server has no JSON-schema mode: ask for a JSON object instead
                return self.complete(system, messages, schema)
            hint = {401: f"the API key was rejected (${key_env(self.llm)})",
                    404: f"no model {self.llm.model!r} at {self.llm.base_url or OPENAI_URL} "
                         "(for Ollama: `ollama pull <model>`)"}.get(code)
            raise StepError(f"the LLM server refused the request: HTTP {code}: {_message(exc)}", hint=hint) from None
        choice = resp.choices[0] if resp.choices else None
        text = (choice.message.content or "") if choice else ""
        usage = resp.usage
        return Reply(text=text, input_tokens=(usage.prompt_tokens or 0) if usage else 0,
                     output_tokens=(usage.completion_tokens or 0) if usage else 0,
                     finish=(choice.finish_reason or "") if choice else "")


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
    return str(getattr(exc, "message", exc))
