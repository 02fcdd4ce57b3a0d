"""Action keys: sha256 over canonical JSON of everything that determines a step's output.

Never paths, timestamps, thread counts, secrets or log levels (Bazel's action key).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

KEY_SCHEMA = 1


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def action_key(material: dict) -> str:
    """`material` = {kind, version, params, inputs (name -> digest or [digests]), fingerprint, salt}."""
    return sha256_text(canonical_json({"key_schema": KEY_SCHEMA, **material}))


def diff_material(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Human-readable list of what differs between two key materials (for explain mode)."""
    out: list[str] = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        name = f"{prefix}.{k}" if prefix else str(k)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(diff_material(a, b, name))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    if isinstance(x, dict) and isinstance(y, dict):
                        out.extend(diff_material(x, y, f"{name}[{i}]"))
                    else:
                        out.append(f"{name}[{i}]: {_short(x)} -> {_short(y)}")
        else:
            out.append(f"{name}: {_short(a)} -> {_short(b)}")
    return out


def _short(v: Any) -> str:
    s = canonical_json(v) if not isinstance(v, str) else v
    return s if len(s) <= 60 else s[:28] + "..." + s[-28:]
