"""Manim templates and user manim scene files, as the load checks see them.

No manim here. A manim template is `recipes/manim/<name>.py` with a pydantic `Params` model at
module level and a `construct(scene, p, sr)` function that imports manim inside itself, so
loading a template for its `Params` costs a pydantic import, not manim. A user scene file is only
parsed (`ast`), never executed, at load time. Which templates and compositions exist is the
catalogue's business (catalogue.py).
"""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from pydantic import BaseModel

from .catalogue import manim_template_file

_models: dict[tuple, type[BaseModel]] = {}


class TemplateLoadError(Exception):
    pass


def template_file(root: Path, name: str) -> Path:
    """recipes/manim/<name>.py, confined to that folder (catalogue.NotInCatalogue otherwise)."""
    return manim_template_file(root, name)


def params_model(path: Path) -> type[BaseModel]:
    """The template's `Params` model; re-imported only when the file changes."""
    st = path.stat()
    sig = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if sig in _models:
        return _models[sig]
    spec = importlib.util.spec_from_file_location(f"showrunner_template_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise TemplateLoadError("not a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken template is a spec problem for every scene that uses it
        raise TemplateLoadError(f"{type(exc).__name__}: {exc}") from None
    model = getattr(module, "Params", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)) or not callable(getattr(module, "construct", None)):
        raise TemplateLoadError("a template must define a pydantic `Params` model and `construct(scene, p, sr)`")
    _models[sig] = model
    return model


def scene_classes(path: Path) -> list[str]:
    """Top-level class names in a user's manim file (parsed, not run)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise TemplateLoadError(f"syntax error at line {exc.lineno}: {exc.msg}") from None
    return [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
