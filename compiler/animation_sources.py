"""Manim templates, user manim scene files and Remotion compositions, as load and compile see them.

No manim and no node here. A manim template is `recipes/manim/<name>.py` with a pydantic `Params`
model at module level and a `construct(scene, p, sr)` function that imports manim inside itself,
so loading a template for its `Params` costs a pydantic import, not manim. A user scene file is
only parsed (`ast`), never executed, at load time.
"""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from pydantic import BaseModel

MANIM_DIR = "recipes/manim"
REMOTION_DIR = "recipes/remotion"

_models: dict[tuple, type[BaseModel]] = {}


class TemplateLoadError(Exception):
    pass


def template_file(root: Path, name: str) -> Path:
    return root / MANIM_DIR / f"{name}.py"


def known_templates(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / MANIM_DIR).glob("*.py") if not p.name.startswith("_"))


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


def remotion_compositions(root: Path) -> list[str]:
    """Composition ids registered in recipes/remotion/src/Root.tsx."""
    import re

    root_tsx = root / REMOTION_DIR / "src" / "Root.tsx"
    if not root_tsx.is_file():
        return []
    return re.findall(r"""<Composition\b[^>]*?\bid=["']([A-Za-z0-9-]+)["']""", root_tsx.read_text(encoding="utf-8"), re.S)


def remotion_sources(root: Path) -> list[str]:
    """Every file the Remotion bundle is built from, repo-relative and sorted (they key the bundle)."""
    base = root / REMOTION_DIR
    files = [p for p in (base / "src").rglob("*") if p.is_file()]
    files += [base / n for n in ("package.json", "package-lock.json", "tsconfig.json") if (base / n).is_file()]
    return sorted(str(p.relative_to(root)) for p in files)


def check_visual(project, vis, pos, at: tuple, base: Path) -> list:
    """Load-time checks for manim and remotion visuals: template names, params against the
    template's own model (so a typo is a file:line:col error), user scene files and classes,
    composition ids. Returns diagnostics."""
    from core.errors import SpecError
    from .load import resolve_media, validate

    root = project.root
    diags = []
    if vis.kind == "manim" and vis.template:
        path = template_file(root, vis.template)
        if not path.is_file():
            known = ", ".join(known_templates(root)) or "none"
            return [pos.diag(at + ("template",), f"unknown manim template '{vis.template}' ({MANIM_DIR}: {known})")]
        try:
            model = params_model(path)
        except TemplateLoadError as exc:
            return [pos.diag(at + ("template",), f"manim template {MANIM_DIR}/{path.name} cannot be loaded: {exc}")]
        try:
            validate(model, vis.params, pos, at + ("params",))
        except SpecError as exc:
            for d in exc.diagnostics:
                if d.message.startswith("unknown field") and d.path.rsplit(".", 1)[0].endswith(".params"):
                    names = ", ".join(f.alias or n for n, f in model.model_fields.items())
                    d.message = f"unknown field (template {vis.template} takes: {names})"
                else:
                    d.message = f"{d.message} (template {vis.template})"
            diags += exc.diagnostics
    elif vis.kind == "manim":
        f = resolve_media(base, vis.file, project)
        if not f.is_file() or f.suffix != ".py":
            what = "not found (paths are relative to the spec's folder)" if not f.is_file() else "is not a .py file"
            return [pos.diag(at + ("file",), f"manim scene file '{vis.file}' {what}", category="media")]
        try:
            f.resolve().relative_to(root.resolve())
        except ValueError:
            return [pos.diag(at + ("file",), f"manim scene file '{vis.file}' must be inside the project (it keys the cache)")]
        try:
            classes = scene_classes(f)
        except TemplateLoadError as exc:
            return [pos.diag(at + ("file",), f"manim scene file '{vis.file}': {exc}")]
        if vis.scene not in classes:
            return [pos.diag(at + ("scene",), f"no class '{vis.scene}' in {vis.file} (classes: {', '.join(classes) or 'none'})")]
    elif vis.kind == "remotion":
        known = remotion_compositions(root)
        if vis.composition not in known:
            diags.append(pos.diag(at + ("composition",), f"unknown Remotion composition '{vis.composition}' "
                                  f"({REMOTION_DIR}/src/Root.tsx: {', '.join(known) or 'none'})"))
    return diags
