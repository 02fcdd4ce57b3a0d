"""Every renderer module is registered; every renderer honours the contract."""
from __future__ import annotations

import ast
from pathlib import Path

import renderers
from renderers.base import Renderer

HEAVY = {"torch", "diffusers", "manim", "playwright", "google", "openai", "transformers", "sentence_transformers",
         "onnxruntime", "piper", "numpy", "moviepy"}


def test_every_module_is_registered_or_a_helper():
    folder = Path(renderers.__file__).parent
    registered = {cls.__module__.rsplit(".", 1)[1] for cls in renderers.RENDERERS.values()}
    for mod in folder.glob("*.py"):
        name = mod.stem
        if name == "__init__":
            continue
        assert name in registered or name in renderers.HELPER_MODULES, (
            f"renderers/{name}.py is neither registered in renderers/__init__.py nor listed in HELPER_MODULES")


def test_renderer_contract():
    for kind, cls in renderers.RENDERERS.items():
        assert issubclass(cls, Renderer) and cls.kind == kind
        assert isinstance(cls.version, int) and cls.version >= 1
        assert cls.outputs, f"{kind} declares no outputs"
        assert cls.Params.model_config.get("extra") == "forbid", f"{kind}.Params must forbid unknown fields"


def test_heavy_imports_stay_inside_functions():
    """`doit list` must stay fast: no heavy library at module top level of a renderer."""
    folder = Path(renderers.__file__).parent
    for mod in folder.glob("*.py"):
        tree = ast.parse(mod.read_text())
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in HEAVY, f"renderers/{mod.name} imports {n} at module level"
