"""YAML loading that remembers where every node came from (like Dagster's marked loader).

`load_yaml` returns plain Python data plus a `Positions` map from field path tuples
(`("scenes", 2, "voice")`) to 1-based (line, col), so pydantic errors can point at the file;
`validate` turns a pydantic model's errors into such file:line:col diagnostics.
"""
from __future__ import annotations

import math
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.resolver import Resolver

try:  # libyaml's parser is ~10x faster than the pure-Python one and keeps the same marks
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

from core.errors import Diagnostic, SpecError
from core.spec import control_problem

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


# ------------------------------------------------------------- limits ----
# A spec is reviewed like code but may be hostile: these bound what one file can cost, by construction.
MAX_FILE_BYTES = 1 << 20  # 1 MiB; the longest real spec or script lock is a few tens of KB
MAX_DEPTH = 64  # nested lists/mappings; real specs nest about 6 deep
MAX_NODES = 100_000  # values in one file; a 200-scene script has about 2,000
MAX_INT = 2**63  # integers are counts, seeds and sizes: nothing needs more than 64 bits
# explicit tags a spec may carry: YAML's core types only (never !!python/..., !!binary, custom tags)
CORE_TAGS = {"!"} | {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")}
# characters YAML forbids in a file (its c-printable set, inverted); reported here with their position
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Refused(Exception):
    """A YAML construct specs may not use, at the node's start mark."""

    def __init__(self, mark, message: str):
        self.mark, self.message = mark, message


class _Composer(Composer):
    """PyYAML's composer over libyaml's events, refusing anchors, aliases, non-core tags and deep
    nesting as it goes: an alias bomb ("billion laughs") or a `!!python/object` never becomes a node."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(event.start_mark, "YAML anchors and aliases (&name, *name) are not allowed in specs; "
                                             "write the value out, or set it once as a brand, recipe or video "
                                             "default")
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in CORE_TAGS:
            raise _Refused(event.start_mark, f"YAML tag '{tag}' is not allowed in specs (plain values only)")
        self._nodes = getattr(self, "_nodes", 0) + 1
        if self._nodes > MAX_NODES:
            raise _Refused(event.start_mark, f"too many values in one file (more than {MAX_NODES:,})")
        self._depth = getattr(self, "_depth", 0) + 1
        if self._depth > MAX_DEPTH:
            raise _Refused(event.start_mark, f"nested more than {MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


if CParser is not None:
    class _Loader(_Composer, CParser, SafeConstructor, Resolver):
        """libyaml's parser, the screening composer above, the safe constructor."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)
else:  # pragma: no cover
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Loader(_Composer, Reader, Scanner, Parser, SafeConstructor, Resolver):  # type: ignore[no-redef]
        def __init__(self, stream: str):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)


def _scalar(loader: _Loader, node: yaml.Node, pos: Positions, path: tuple) -> Any:
    """A scalar's value; a value no spec may hold (NaN, a NUL, a 5,000-digit integer, 2024-13-45)
    is an error at the node."""
    def refuse(message: str):
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        return SpecError([Diagnostic(pos.file, line, col, format_path(path), message, "yaml", pos.source)])

    try:
        value = loader.construct_object(node, deep=True)
    except (ValueError, OverflowError) as exc:
        raise refuse(f"cannot read {node.value[:40]!r}: {str(exc).split(';')[0]}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise refuse("must be a finite number (not .nan or .inf)")
    if isinstance(value, int) and not isinstance(value, bool) and not -MAX_INT <= value < MAX_INT:
        raise refuse(f"integer out of range (at most {MAX_INT - 1})")
    if isinstance(value, str) and (problem := control_problem(value)):
        raise refuse(problem)
    return value


def _construct(loader: _Loader, node: yaml.Node, path: tuple, pos: Positions) -> Any:
    pos.at[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                raise SpecError([pos.diag(path, "mapping keys must be plain scalars")])
            key = _scalar(loader, knode, pos, path)
            if key is None:
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
    return _scalar(loader, node, pos, path)


def _line_col(text: str, index: int) -> Loc:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def parse_yaml(source: str, file: str) -> tuple[Any, Positions]:
    """Plain data ({} for an empty file) and where each node came from; SpecError for anything refused."""
    pos = Positions(file=file, source=source)
    data = _parse(source, file, pos)
    return ({} if data is None else data), pos


def _parse(source: str, file: str, pos: Positions) -> Any:
    bad = _UNPRINTABLE.search(source)
    if bad is not None:
        line, col = _line_col(source, bad.start())
        raise SpecError([Diagnostic(file, line, col, "", f"character U+{ord(bad.group()):04X} is not allowed in a "
                                    "YAML file (write it as an escape in double quotes if you really need it)",
                                    "yaml", source)])
    try:
        loader = _Loader(source)
        try:
            node = loader.get_single_node()
            data = None if node is None else _construct(loader, node, (), pos)
        finally:
            loader.dispose()
    except _Refused as exc:
        line, col = exc.mark.line + 1, exc.mark.column + 1
        raise SpecError([Diagnostic(file, line, col, "", exc.message, "yaml", source)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        lines = source.split("\n")
        if source.endswith("\n"):
            lines.pop()
        if line > len(lines) >= 1:  # libyaml marks an unexpected end after the last line: point at its end
            line, col = len(lines), len(lines[-1]) + 1
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        raise SpecError([Diagnostic(file, line, col, "", f"malformed YAML: {problem}", "yaml", source)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(file, 1, 1, "", f"malformed YAML: {exc}", "yaml", source)]) from None
    return data


def safe_load(text: str) -> Any:
    """`yaml.safe_load` under the same rules as spec files (no aliases, core tags, limits), for YAML
    embedded elsewhere (the tag format's [manim]/[settings] blocks). Refusals are `yaml.MarkedYAMLError`s
    so callers keep one `except yaml.YAMLError`."""
    try:
        return _parse(text, "<yaml>", Positions(file="<yaml>", source=text))
    except SpecError as exc:
        d = exc.diagnostics[0]
        mark = yaml.Mark("<yaml>", 0, max(0, d.line - 1), max(0, d.col - 1), None, None)
        message = d.message.removeprefix("malformed YAML: ")
        raise yaml.MarkedYAMLError(problem=f"{d.path}: {message}" if d.path else message,
                                   problem_mark=mark) from None


def decode_text(raw: bytes, display: str, what: str = "file") -> str:
    """UTF-8 text, or a SpecError at the line and column of the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = raw[:exc.start]
        line = head.count(b"\n") + 1
        col = len(head[head.rfind(b"\n") + 1:].decode("utf-8")) + 1
        text = head.decode("utf-8") + raw[exc.start:].decode("utf-8", errors="replace")
        raise SpecError([Diagnostic(display, line, col, "", f"{what} is not valid UTF-8 text (byte "
                                    f"0x{raw[exc.start]:02x}; save it as UTF-8)", "yaml", text)]) from None


def load_yaml(path: Path, display: str) -> tuple[Any, Positions]:
    """Read at most MAX_FILE_BYTES of a regular file (never a device or a pipe) and parse it."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise SpecError([Diagnostic(display, 1, 1, "", "not a regular file", "io")])
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SpecError([Diagnostic(display, 1, 1, "", f"cannot read file: {exc.strerror}", "io")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError([Diagnostic(display, 1, 1, "", f"file is larger than {MAX_FILE_BYTES // 1024} KiB; "
                                    "split it up (a spec or script is a few KB)", "yaml")])
    return parse_yaml(decode_text(raw, display), display)


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
    if kind == "finite_number":
        return "must be a finite number (not .nan or .inf)"
    if kind == "too_short" and err.get("ctx", {}).get("actual_length") == 0:
        return f"must not be empty (give at least {err['ctx'].get('min_length', 1)})"
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
