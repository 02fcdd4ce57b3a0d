"""The committed JSON Schemas match the spec models (run `doit schema` after changing core/spec.py)."""
from __future__ import annotations

import json

from support import REPO
from compiler.schema import write_schemas


def test_committed_schemas_are_current(tmp_path):
    for fresh in write_schemas(tmp_path):
        committed = REPO / "schemas" / fresh.name
        assert committed.exists(), f"schemas/{fresh.name} is missing: run `doit schema`"
        assert json.loads(committed.read_text()) == json.loads(fresh.read_text()), (
            f"schemas/{fresh.name} is stale: run `doit schema` and commit it")
