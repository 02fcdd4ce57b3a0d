"""One checker per visual kind, in step with the compiler's `visual_<kind>` methods."""
from __future__ import annotations

import typing

from compiler.checks import VISUAL_CHECKS
from compiler.plan import Compiler
from core.spec import Visual


def test_every_visual_kind_has_a_checker_and_a_compiler_method():
    union = typing.get_args(Visual)[0]
    spec_kinds = {m.model_fields["kind"].default for m in typing.get_args(union)}
    compiled = {name[len("visual_"):] for name in dir(Compiler) if name.startswith("visual_")}
    assert set(VISUAL_CHECKS) == compiled == spec_kinds
