"""Compiler-style diagnostics for user mistakes: file:line:col, field path, message, snippet."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Diagnostic:
    """One user-facing problem in a spec. `line`/`col` are 1-based; 0 means unknown."""

    file: str
    line: int
    col: int
    path: str
    message: str
    category: str = "spec"
    source: str | None = field(default=None, repr=False)

    def render(self, snippet: bool = True) -> str:
        loc = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        where = f" {self.path}:" if self.path else ""
        head = f"{loc}:{where} {self.message} [{self.category}]"
        if not snippet or not self.line or self.source is None:
            return head
        lines = self.source.splitlines()
        out = [head]
        first = max(1, self.line - 1)
        last = min(len(lines), self.line + 1)
        width = len(str(last))
        for n in range(first, last + 1):
            text, caret = _window(lines[n - 1], self.col)
            out.append(f"  {n:>{width}} | {text}")
            if n == self.line:
                out.append(f"  {'':>{width}} | {' ' * caret}^")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render(snippet=False)


SNIPPET_WIDTH = 120


def _window(text: str, col: int) -> tuple[str, int]:
    """At most SNIPPET_WIDTH characters of a source line around `col` (a spec may hold a 1 MB line),
    and the caret's offset in what is shown."""
    at = max(0, col - 1)
    if len(text) <= SNIPPET_WIDTH:
        return text, at
    start = max(0, min(at - SNIPPET_WIDTH // 2, len(text) - SNIPPET_WIDTH))
    head = "..." if start else ""
    tail = "..." if start + SNIPPET_WIDTH < len(text) else ""
    return head + text[start:start + SNIPPET_WIDTH] + tail, at - start + len(head)


class SpecError(Exception):
    """Raised for one or more problems in user specs. Never shown as a traceback."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.render(snippet=False) for d in diagnostics))

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)


class StepError(Exception):
    """A renderer failed for a reason the user can act on (missing file, limits, bad media)."""

    def __init__(self, message: str, *, hint: str | None = None):
        self.hint = hint
        super().__init__(message if not hint else f"{message} ({hint})")


def rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
