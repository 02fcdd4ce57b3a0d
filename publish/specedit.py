"""Minimal text edits of a YAML spec: set a few values, keep every comment, blank line and key order.

`doit calibrate` proposes thresholds and `doit learn` writes a video's arms this way. Re-dumping the YAML would
drop the comments people wrote and reorder keys; instead each value is located through PyYAML's node marks and
only its characters are replaced, and a missing key is inserted as new lines after its mapping's last line, at
that mapping's indentation. The result is parsed again and must equal the old data plus exactly the new values.
"""
from __future__ import annotations

import copy
import difflib
from typing import Any, Iterable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

INDENT = 2  # for new nested blocks; existing blocks keep their own indentation
Path = tuple[str, ...]


class SpecEditError(ValueError):
    """The edit cannot be made without rewriting the file (e.g. a value that is itself a mapping)."""


def scalar_text(value: Any) -> str:
    """A YAML scalar on one line: 3.5, true, "a: b" (quoted when needed)."""
    if isinstance(value, float):
        value = float(f"{value:.6g}")
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6).strip()
    return text[:-4].rstrip() if text.endswith(("\n...", " ...")) else text


def _value_text(value: Any, indent: int) -> str:
    """What follows `key:`: ` 3.5`, or a literal block for text with line breaks."""
    if isinstance(value, str) and "\n" in value:
        pad = " " * (indent + INDENT)
        return " |-\n" + "\n".join(pad + line if line else "" for line in value.split("\n"))
    return " " + scalar_text(value)


def _block(path: Path, value: Any, indent: int) -> list[str]:
    """Lines that create `path` = value at `indent` columns."""
    lines = []
    for depth, key in enumerate(path[:-1]):
        lines.append(" " * (indent + depth * INDENT) + f"{scalar_text(key)}:")
    last = indent + (len(path) - 1) * INDENT
    lines.append(" " * last + f"{scalar_text(path[-1])}:" + _value_text(value, last))
    return lines


def _flow(path: Path, value: Any) -> str:
    out = scalar_text(value)
    for key in reversed(path[1:]):
        out = f"{{{scalar_text(key)}: {out}}}"
    return f"{scalar_text(path[0])}: {out}"


def _last_index(node: Node) -> int:
    """The text index just after the last character that belongs to `node` (block collections end where the next
    token begins, which may be lines later; their last scalar does not)."""
    while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return node.end_mark.index


def _is_empty(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag.endswith(":null") and node.start_mark.index == node.end_mark.index


def _line_end(text: str, index: int) -> int:
    """Index of the newline ending the line that holds the character before `index` (or the text's end)."""
    at = max(index - 1, 0)
    nl = text.find("\n", at)
    return len(text) if nl < 0 else nl


def _insert_into(text: str, mapping: MappingNode | None, path: Path, value: Any, comment: str | None) -> str:
    """Add `path` = value to `mapping` (None: the document is empty)."""
    if mapping is None:
        head = [f"# {comment}"] if comment else []
        sep = "" if not text or text.endswith("\n") else "\n"
        return text + sep + "\n".join(head + _block(path, value, 0)) + "\n"
    if mapping.flow_style:
        close = mapping.end_mark.index - 1  # the '}'
        inner = text[mapping.start_mark.index + 1:close].strip()
        return text[:close].rstrip() + (", " if inner else "") + _flow(path, value) + text[close:]
    indent = mapping.value[0][0].start_mark.column if mapping.value else 0
    end = _line_end(text, _last_index(mapping))
    lines = ([" " * indent + f"# {comment}"] if comment else []) + _block(path, value, indent)
    return text[:end] + "\n" + "\n".join(lines) + text[end:] if end < len(text) else \
        text + ("" if text.endswith("\n") else "\n") + "\n".join(lines) + "\n"


def set_value(text: str, path: Path, value: Any, *, comment: str | None = None) -> str:
    """`text` with the scalar at `path` (mapping keys from the document root) set to `value`; missing mappings
    are created. `comment` is written above a newly created top-level block."""
    root = yaml.compose(text)
    if root is not None and not isinstance(root, MappingNode):
        raise SpecEditError("the file does not hold a mapping at its top")
    node: Node | None = root
    for i, key in enumerate(path):
        assert node is None or isinstance(node, MappingNode)
        found = next(((k, v) for k, v in (node.value if node else []) if isinstance(k, ScalarNode) and k.value == key),
                     None)
        if found is None:
            return _insert_into(text, node, path[i:], value, comment if i == 0 else None)
        k, v = found
        rest = path[i + 1:]
        if _is_empty(v):  # `key:` with nothing after it
            colon = text.index(":", k.end_mark.index) + 1
            if not rest:
                return text[:colon] + _value_text(value, k.start_mark.column) + text[colon:]
            lines = _block(rest, value, k.start_mark.column + INDENT)
            return text[:colon] + "\n" + "\n".join(lines) + text[colon:]
        if not rest:
            if not isinstance(v, ScalarNode):
                raise SpecEditError(f"{'.'.join(path)} holds a {'list' if isinstance(v, SequenceNode) else 'mapping'}"
                                    ", not a single value")
            if v.style in ("|", ">"):  # a block scalar: replace it with the new value (kept as a block)
                start, end = v.start_mark.index, _line_end(text, v.end_mark.index)
                if v.end_mark.column == 0:
                    end = v.end_mark.index - 1
                return text[:start].rstrip(" ") + _value_text(value, k.start_mark.column) + text[end:]
            if isinstance(value, str) and "\n" in value:
                head = text[:v.start_mark.index].rstrip(" ")
                return head + _value_text(value, k.start_mark.column) + text[v.end_mark.index:]
            return text[:v.start_mark.index] + scalar_text(value) + text[v.end_mark.index:]
        if not isinstance(v, MappingNode):
            raise SpecEditError(f"{'.'.join(path[:i + 1])} is not a mapping")
        node = v
    raise SpecEditError("an empty path")  # pragma: no cover - path is never empty


def _apply(data: Any, path: Path, value: Any) -> Any:
    data = {} if data is None else data
    node = data
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return data


def set_values(text: str, updates: Iterable[tuple[Path, Any]], *, comment: str | None = None) -> str:
    """Apply every update in turn; the result must parse to the old data plus the updates, nothing else."""
    updates = list(updates)
    try:
        expected = copy.deepcopy(yaml.safe_load(text))
        new = text
        for path, value in updates:
            new = set_value(new, path, value, comment=comment)
            expected = _apply(expected, path, value)
        got = yaml.safe_load(new)
    except yaml.YAMLError as exc:
        raise SpecEditError(f"not a single YAML document this can edit ({str(exc).splitlines()[0]})") from None
    if got != expected:
        raise SpecEditError("the edited file does not read back as intended (an unusual layout?); edit it by hand")
    return new


def unified_diff(old: str, new: str, rel: str) -> str:
    """A diff `git apply` takes, with paths a/<rel> and b/<rel>."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{rel}", f"b/{rel}"))
