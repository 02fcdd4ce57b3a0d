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
            out.append(f"  {n:>{width}} | {lines[n - 1]}")
            if n == self.line:
                out.append(f"  {'':>{width}} | {' ' * max(0, self.col - 1)}^")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render(snippet=False)


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
