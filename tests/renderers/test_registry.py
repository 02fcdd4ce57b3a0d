"""Every renderer module is registered; every renderer honours the contract."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import renderers
from renderers.base import Renderer

HEAVY = {"torch", "diffusers", "manim", "playwright", "google", "openai", "transformers", "sentence_transformers",
         "onnxruntime", "piper", "numpy", "moviepy"}


def test_every_module_is_registered():
    """renderers/ holds renderer modules, base.py and _lib/ only; each renderer module has a registry line."""
    folder = Path(renderers.__file__).parent
    registered = {target.split(":")[0] for target in renderers.REGISTRY.values()}
    modules = {mod.stem for mod in folder.glob("*.py")} - {"__init__", "base"}
    assert modules - registered == set(), "renderer modules missing from renderers/__init__.py REGISTRY"
    assert registered - modules == set(), "REGISTRY names modules that do not exist"
    extra = {p.name for p in folder.iterdir() if p.is_dir() and p.name not in ("_lib", "__pycache__")}
    assert not extra, f"renderers/ holds renderer modules and _lib/ only, not {sorted(extra)}"


def test_renderer_contract():
    assert renderers.kinds() == list(renderers.REGISTRY)
    for kind in renderers.kinds():
        cls = renderers.get(kind)
        assert issubclass(cls, Renderer) and cls.kind == kind, f"{renderers.REGISTRY[kind]} has kind {cls.kind!r}"
        assert cls.__module__ == f"renderers.{renderers.REGISTRY[kind].split(':')[0]}"
        assert renderers.get(kind) is cls
        assert isinstance(cls.version, int) and cls.version >= 1
        assert cls.outputs, f"{kind} declares no outputs"
        assert cls.Params.model_config.get("extra") == "forbid", f"{kind}.Params must forbid unknown fields"


def test_importing_the_registry_loads_no_renderer():
    """`import renderers` (and the compiler's plan) stays light: renderer modules load on first get()."""
    code = ("import sys, renderers, compiler.plan; "
            "print(sorted(m for m in sys.modules if m.startswith('renderers.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(renderers.__file__).resolve().parents[1]).stdout
    assert out.strip() == "['renderers.base']"


def test_heavy_imports_stay_inside_functions():
    """`doit list` must stay fast: no heavy library at module top level of a renderer."""
    folder = Path(renderers.__file__).parent
    for mod in [*folder.glob("*.py"), *folder.glob("_lib/*.py")]:
        tree = ast.parse(mod.read_text())
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in HEAVY, f"{mod.relative_to(folder.parent)} imports {n} at module level"
