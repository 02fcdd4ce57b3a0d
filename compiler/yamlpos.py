"""YAML loading that remembers where every node came from (like Dagster's marked loader).

`load_yaml` returns plain Python data plus a `Positions` map from field path tuples
(`("scenes", 2, "voice")`) to 1-based (line, col), so pydantic errors can point at the file;
`validate` turns a pydantic model's errors into such file:line:col diagnostics.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from core.errors import Diagnostic, SpecError

Loc = tuple[int, int]
M = TypeVar("M", bound=BaseModel)


@dataclass
class Positions:
    file: str
    source: str
    at: dict[tuple, Loc] = field(default_factory=dict)
    keys: dict[tuple, Loc] = field(default_factory=dict)

    def locate(self, path: tuple, *, prefer_key: bool = False) -> Loc:
        """Closest known position for `path`, walking up to the parent if needed."""
        p = tuple(path)
        while True:
            if prefer_key and p in self.keys:
                return self.keys[p]
            if p in self.at:
                return self.at[p]
            if not p:
                return (1, 1)
            p = p[:-1]

    def diag(self, path: tuple, message: str, *, prefer_key: bool = False, category: str = "spec") -> Diagnostic:
        line, col = self.locate(path, prefer_key=prefer_key)
        return Diagnostic(self.file, line, col, format_path(path), message, category, self.source)


def format_path(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# libyaml's composer is ~10x faster than the pure-Python one and keeps the same marks
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _construct(loader: yaml.SafeLoader, node: yaml.Node, path: tuple, pos: Positions) -> Any:
    pos.at[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict = {}
        for knode, vnode in node.value:
            key = loader.construct_object(knode, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise SpecError([pos.diag(path, "mapping keys must be plain scalars")])
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                line, col = knode.start_mark.line + 1, knode.start_mark.column + 1
                raise SpecError([Diagnostic(pos.file, line, col, format_path(path + (key,)),
                                            f"duplicate key '{key}'", "yaml", pos.source)])
            pos.keys[path + (key,)] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
            out[key] = _construct(loader, vnode, path + (key,), pos)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, child, path + (i,), pos) for i, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def parse_yaml(source: str, file: str) -> tuple[Any, Positions]:
    pos = Positions(file=file, source=source)
    try:
        loader = _Loader(source)
        try:
            node = loader.get_single_node()
            data = {} if node is None else _construct(loader, node, (), pos)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        raise SpecError([Diagnostic(file, line, col, "", f"malformed YAML: {problem}", "yaml", source)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(file, 0, 0, "", f"malformed YAML: {exc}", "yaml", source)]) from None
    return data, pos


def load_yaml(path: Path, display: str) -> tuple[Any, Positions]:
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError([Diagnostic(display, 0, 0, "", "file is not valid UTF-8 text", "yaml")]) from None
    except OSError as exc:
        raise SpecError([Diagnostic(display, 0, 0, "", f"cannot read file: {exc.strerror}", "io")]) from None
    return parse_yaml(source, display)


# ----------------------------------------------------------- validation ----

def _data_path(data: Any, loc: tuple) -> tuple:
    """Map a pydantic error location onto the data path, dropping union tags."""
    out: list = []
    cur = data
    items = list(loc)
    i = 0
    while i < len(items):
        part = items[i]
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and i + 1 < len(items) and items[i + 1] in cur:
            pass  # discriminator tag such as 'slide' in ('visual', 'slide', 'title')
        elif isinstance(cur, dict) and part == cur.get("kind"):
            pass  # the tag itself, for a model-level error such as ('visual', 'manim')
        elif isinstance(part, str) and ("[" in part or part.startswith("function-")):
            pass  # pydantic's union member names
        else:
            out.append(part)
            cur = None
        i += 1
    return tuple(out)


def _message(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see the JSON Schema in schemas/)"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown kind {ctx.get('tag')!r} (expected one of: {ctx.get('expected_tags')})"
    if kind == "union_tag_not_found":
        return "missing 'kind' (e.g. kind: slide)"
    msg = err["msg"]
    return msg[len("Value error, "):] if msg.startswith("Value error, ") else msg


def validate(model: type[M], data: Any, pos: Positions, prefix: tuple = ()) -> M:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError([pos.diag(prefix, f"expected a mapping of fields, got {type(data).__name__}")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        diags = []
        for err in exc.errors():
            path = _data_path(data, tuple(err["loc"]))
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                path = path + ("kind",)
            missing = err["type"] == "missing"
            extra = err["type"] == "extra_forbidden"
            diags.append(pos.diag(prefix + (path[:-1] if missing else path), _message(err), prefer_key=extra))
            if missing:
                diags[-1].path = pos.diag(prefix + path, "").path
        raise SpecError(diags) from None
