"""Schemathesis over the studio's OpenAPI schema (Litestar's, at /schema/openapi.json): no 5xx, logged in with
the CSRF header so the mutations run their handlers too. Bounded examples; the fake build function."""
from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings as hsettings  # noqa: E402

from studio_support import login  # noqa: E402


def test_no_5xx_over_the_schema(make_client, built):
    c = make_client(built)
    csrf = login(c)
    cookie = c.cookies.get("studio_session")
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", c.app)
    failures: list[str] = []
    statuses: set[int] = set()
    ops = [r.ok() for r in schema.get_all_operations()]
    assert len(ops) >= 8

    for op in ops:
        strategy = op.as_strategy()

        @hsettings(max_examples=15, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            resp = case.call(headers={"X-CSRF-Token": csrf}, cookies={"studio_session": cookie})
            statuses.add(resp.status_code)
            if resp.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {resp.status_code}: {resp.text[:300]}")

        run()
    assert not failures, "\n".join(failures[:10])
    assert any(200 <= s < 300 for s in statuses) and statuses & {400, 404, 409}, statuses
