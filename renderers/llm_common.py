"""Shared by the LLM provider clients: one request/reply shape, retries, token and cost accounting.

Retries follow the usual cloud-API rules: 408, 429, 5xx, timeouts and dropped connections are
transient; the server's own retry delay (Gemini's RetryInfo.retryDelay, HTTP Retry-After) wins
over our exponential backoff; every wait gets jitter so parallel builds do not retry in lockstep.
Other errors (bad key, unknown model, bad request) fail at once with a hint. Secrets never enter
a message: errors name the environment variable, never its value.
"""
from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Literal

from core.errors import StepError

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 60.0
MAX_WAIT_S = 300.0  # never sleep longer than this on one retry, whatever the server asks


@dataclass
class Message:
    role: Literal["user", "assistant"]
    text: str


@dataclass
class Reply:
    text: str
    input_tokens: int
    output_tokens: int
    finish: str = ""  # provider's finish reason, e.g. STOP / stop / length


class Transient(Exception):
    """A failure worth retrying (rate limit, server error, timeout)."""

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


@dataclass
class Usage:
    """Everything a script step spent, for usage.json and the build manifest."""

    provider: str
    model: str
    price_input_per_1m: float = 0.0
    price_output_per_1m: float = 0.0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    retries: int = 0
    waited_s: float = 0.0
    failures: list[str] = field(default_factory=list)  # transient errors seen, in order

    def add(self, reply: Reply) -> None:
        self.calls += 1
        self.input_tokens += reply.input_tokens
        self.output_tokens += reply.output_tokens

    @property
    def cost_usd(self) -> float:
        return round(self.input_tokens / 1e6 * self.price_input_per_1m
                     + self.output_tokens / 1e6 * self.price_output_per_1m, 6)

    def summary(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model, "calls": self.calls,
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens, "cost_usd": self.cost_usd,
                "retries": self.retries, "waited_s": round(self.waited_s, 3), "transient_errors": self.failures}


def sleep(seconds: float) -> None:
    """The one place retries wait; tests patch it to record delays instead of sleeping."""
    time.sleep(seconds)


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with 'equal jitter': half fixed, half random (1 s, 2 s, 4 s ... capped)."""
    r = (rng or random).random()
    step = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** attempt))
    return step / 2 + step / 2 * r


def retry_delay(retry_after: float | None, attempt: int, rng: random.Random | None = None) -> float:
    """Honour the server's delay (plus up to 10 % jitter, at most 1 s); else back off exponentially."""
    if retry_after is not None and retry_after >= 0:
        r = (rng or random).random()
        return min(MAX_WAIT_S, retry_after + min(1.0, retry_after * 0.1) * r)
    return min(MAX_WAIT_S, backoff_delay(attempt, rng))


def parse_retry_after(value: str | None) -> float | None:
    """HTTP Retry-After: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_duration(value: Any) -> float | None:
    """google.protobuf.Duration as JSON: '7s', '1.5s', or {'seconds': 7, 'nanos': 0}."""
    if isinstance(value, dict):
        return float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)s\s*", value)
        return float(m.group(1)) if m else None
    return None


def with_retries(call: Callable[[], Reply], *, max_retries: int, usage: Usage, what: str,
                 progress: Callable[[str], None] | None = None) -> Reply:
    """Run `call`, retrying Transient failures up to `max_retries` times; account for the reply."""
    for attempt in range(max_retries + 1):
        try:
            reply = call()
        except Transient as exc:
            usage.failures.append(f"{exc.status or 'timeout'}: {str(exc)[:160]}")
            if attempt >= max_retries:
                raise StepError(f"{usage.provider} ({usage.model}) failed while {what}: {exc} "
                                f"(gave up after {attempt + 1} attempt(s))",
                                hint="try again later, raise llm.max_retries or llm.timeout_s, or check the server") from None
            delay = retry_delay(exc.retry_after, attempt)
            usage.retries += 1
            usage.waited_s += delay
            if progress:
                progress(f"{exc.status or 'timeout'}; retrying in {delay:.1f}s")
            sleep(delay)
            continue
        usage.add(reply)
        return reply
    raise AssertionError("unreachable")


def make_client(llm: Any):
    """The provider client for an `Llm` config (heavy SDK imports happen here, at run time)."""
    if llm.provider == "gemini":
        from .llm_gemini import GeminiClient

        return GeminiClient(llm)
    if llm.provider == "openai":
        from .llm_openai import OpenAIClient

        return OpenAIClient(llm)
    raise StepError(f"unknown LLM provider {llm.provider!r}", hint="use gemini or openai")
