"""One retry policy for every external service: LLM providers, HeyGen and YouTube.

The usual cloud-API rules: exponential backoff that starts at `base_s` and doubles per retry up to
`cap_s`; every wait gets jitter (each step is multiplied by a random factor in `jitter`, e.g.
(0, 1) "full jitter", (0.5, 1) "equal jitter") so parallel builds do not retry in lockstep; a
delay the server asks for (HTTP Retry-After, Gemini's RetryInfo.retryDelay) wins over the backoff,
plus `server_jitter` of it (at most 1 s); no single wait is longer than `max_wait_s`.

Waits go through the injected `sleep` and random numbers through `random`, so tests record delays
instead of sleeping: `policy.replace(sleep=delays.append)`. `on_retry(attempt, delay, reason)`
is told about every wait before it starts (for progress lines and accounting).

A call that failed in a way worth retrying raises `Transient`; `RetryPolicy.run` retries it and,
once no attempt is left, raises the `error` the Transient carries (or the Transient itself).
"""
from __future__ import annotations

import dataclasses
import random as _random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Callable, TypeVar

T = TypeVar("T")
OnRetry = Callable[[int, float, str], None]


class Transient(Exception):
    """One attempt failed in a way worth retrying (rate limit, server error, timeout, dropped connection).

    retry_after: the delay the server asked for, in seconds; status: the HTTP status (None for a timeout
    or a network error); reason: the short text `on_retry` gets (default: the message); error: what to
    raise when no attempt is left (default: this exception).
    """

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None,
                 reason: str | None = None, error: BaseException | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.reason = reason if reason is not None else message
        self.error = error


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries in all, the first one included
    base_s: float = 1.0  # backoff step of the first retry; doubles per retry
    cap_s: float = 60.0  # largest backoff step (before jitter)
    jitter: tuple[float, float] = (0.5, 1.0)  # each step is multiplied by a random factor in this range
    server_jitter: float = 0.0  # a server-given delay gets up to this fraction more (at most 1 s)
    max_wait_s: float = 300.0  # never sleep longer than this on one retry, whatever the server asks
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = _random.random
    on_retry: OnRetry | None = None

    def replace(self, **changes) -> RetryPolicy:
        return dataclasses.replace(self, **changes)

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt 1, 2, 3 ...: base_s, 2 base_s, 4 base_s ... capped, times the jitter."""
        step = min(self.cap_s, self.base_s * (2 ** (attempt - 1)))
        lo, hi = self.jitter
        return step * (lo + (hi - lo) * self.random())

    def delay(self, attempt: int, server_delay: float | None = None) -> float:
        """The server's delay when it gave one (plus its jitter), else the backoff; never over max_wait_s."""
        if server_delay is not None and server_delay >= 0:
            extra = min(1.0, server_delay * self.server_jitter) * self.random() if self.server_jitter else 0.0
            return min(self.max_wait_s, server_delay + extra)
        return min(self.max_wait_s, self.backoff(attempt))

    def pause(self, attempt: int, reason: str, server_delay: float | None = None,
              on_retry: OnRetry | None = None) -> float:
        """Wait before retrying after failed attempt `attempt`; tells on_retry first. Returns the delay."""
        delay = self.delay(attempt, server_delay)
        for callback in (self.on_retry, on_retry):
            if callback is not None:
                callback(attempt, delay, reason)
        self.sleep(delay)
        return delay

    def run(self, call: Callable[[], T], *, on_retry: OnRetry | None = None) -> T:
        """Run `call`, retrying it while it raises Transient, at most `attempts` times in all."""
        for attempt in range(1, self.attempts + 1):
            try:
                return call()
            except Transient as exc:
                if attempt >= self.attempts:
                    if exc.error is not None:
                        raise exc.error from None
                    raise
                self.pause(attempt, exc.reason, exc.retry_after, on_retry)
        raise AssertionError("unreachable")


def parse_retry_after(value: str | None) -> float | None:
    """HTTP Retry-After: delta-seconds or an HTTP date (a date in the past: 0)."""
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
