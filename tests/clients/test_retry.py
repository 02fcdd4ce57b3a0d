"""clients/retry.py: one retry policy; delays are asserted as numbers through the injected sleep."""
from __future__ import annotations

import pytest

from clients.retry import RetryPolicy, Transient, parse_retry_after


def policy(**kw) -> tuple[RetryPolicy, list[float]]:
    slept: list[float] = []
    return RetryPolicy(**{"sleep": slept.append, "random": lambda: 1.0, **kw}), slept


def test_backoff_doubles_from_base_up_to_cap_with_jitter_in_range():
    p, _ = policy(base_s=2.0, cap_s=60.0, jitter=(1.0, 1.0))
    assert [p.delay(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert p.replace(jitter=(0.5, 1.0), random=lambda: 0.0).delay(3) == 4.0  # equal jitter: at least half
    assert p.replace(jitter=(0.0, 1.0), random=lambda: 0.5).delay(3) == 4.0  # full jitter
    assert p.replace(jitter=(1.0, 1.25), random=lambda: 1.0).delay(6) == 75.0  # up to a quarter more, over the cap


def test_the_servers_delay_wins_with_its_own_jitter_and_the_overall_cap():
    p, _ = policy(server_jitter=0.1, max_wait_s=300.0)
    assert p.delay(5, server_delay=7.0) == pytest.approx(7.7)
    assert p.delay(1, server_delay=30.0) == 31.0  # the extra is at most 1 s
    assert p.delay(1, server_delay=9999.0) == 300.0
    assert p.replace(server_jitter=0.0).delay(1, server_delay=7.0) == 7.0


def test_run_retries_transient_failures_then_returns():
    p, slept = policy(attempts=4, base_s=1.0, jitter=(1.0, 1.0))
    seen = []
    answers = iter([Transient("503", status=503), Transient("429", retry_after=5.0, reason="rate limit"), "ok"])

    def call():
        a = next(answers)
        if isinstance(a, Exception):
            raise a
        return a

    assert p.run(call, on_retry=lambda n, d, why: seen.append((n, d, why))) == "ok"
    assert slept == [1.0, 5.0]
    assert seen == [(1, 1.0, "503"), (2, 5.0, "rate limit")]


def test_run_gives_up_with_the_carried_error_after_all_attempts():
    told = []
    p, slept = policy(attempts=3, on_retry=lambda n, d, why: told.append(n))
    calls = []

    def call():
        calls.append(1)
        raise Transient("down", error=ValueError("gave up"))

    with pytest.raises(ValueError, match="gave up") as e:
        p.run(call)
    assert len(calls) == 3 and len(slept) == 2 and told == [1, 2]
    assert e.value.__suppress_context__
    with pytest.raises(Transient, match="down"):
        p.replace(attempts=1).run(lambda: (_ for _ in ()).throw(Transient("down")))


def test_other_errors_are_not_retried():
    p, slept = policy()
    with pytest.raises(KeyError):
        p.run(lambda: {}["x"])
    assert slept == []


def test_parse_retry_after():
    assert parse_retry_after("12") == 12 and parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: now
