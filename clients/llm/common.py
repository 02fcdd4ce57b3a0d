"""Shared by the LLM provider clients: one request/reply shape, retries, token and cost accounting.

Retries follow clients.retry: 408, 429, 5xx, timeouts and dropped connections are transient (the
providers raise `Transient`); the server's own retry delay (Gemini's RetryInfo.retryDelay, HTTP
Retry-After) wins over the exponential backoff; every wait gets jitter so parallel builds do not
retry in lockstep. Other errors (bad key, unknown model, bad request) fail at once with a hint.
Secrets never enter a message: errors name the environment variable, never its value.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from clients.retry import RetryPolicy, Transient
from core.errors import StepError

# Equal jitter (1 s, 2 s, 4 s ... capped at 60 s, each between half and all of it); the server's delay
# plus up to 10 % (at most 1 s). `attempts` comes from llm.max_retries. Tests replace this policy's sleep.
RETRY = RetryPolicy(base_s=1.0, cap_s=60.0, jitter=(0.5, 1.0), server_jitter=0.1, max_wait_s=300.0)


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


def with_retries(call: Callable[[], Reply], *, max_retries: int, usage: Usage, what: str,
                 progress: Callable[[str], None] | None = None, policy: RetryPolicy | None = None) -> Reply:
    """Run `call`, retrying Transient failures up to `max_retries` times; account for the reply."""
    policy = (policy or RETRY).replace(attempts=max_retries + 1)

    def attempt() -> Reply:
        try:
            return call()
        except Transient as exc:
            reason = f"{exc.status or 'timeout'}"
            usage.failures.append(f"{reason}: {str(exc)[:160]}")
            error = StepError(f"{usage.provider} ({usage.model}) failed while {what}: {exc} "
                              f"(gave up after {policy.attempts} attempt(s))",
                              hint="try again later, raise llm.max_retries or llm.timeout_s, or check the server")
            raise Transient(str(exc), retry_after=exc.retry_after, status=exc.status, reason=reason,
                            error=error) from None

    def on_retry(n: int, delay: float, reason: str) -> None:
        usage.retries += 1
        usage.waited_s += delay
        if progress:
            progress(f"{reason}; retrying in {delay:.1f}s")

    reply = policy.run(attempt, on_retry=on_retry)
    usage.add(reply)
    return reply
