"""What a spec may name and script generation may offer: slide and thumbnail templates, manim
templates, Remotion compositions and prompt templates, found in one place.

`check` (checks.py), `plan` and the script stage all ask this module, so the LLM is never offered
a template or composition id that `check` would then reject. Listing reads the file system only;
nothing here runs manim or node.
"""
from __future__ import annotations

import re
from pathlib import Path

import renderers

TEMPLATE_DIRS = {"slide": "recipes/templates/slide", "thumbnail": "recipes/templates/thumbnail"}
TEMPLATE_SUFFIX = ".html.j2"
MANIM_DIR = "recipes/manim"
REMOTION_DIR = "recipes/remotion"
PROMPT_DIR = "recipes/prompts"

# Remotion's own rule for composition ids (validateCompositionId in remotion/src/validation/
# validate-composition-id.ts: /^([a-zA-Z0-9-\u4E00-\u9FFF])+$/): letters, digits, CJK and '-', no '_'.
COMPOSITION_ID = re.compile(r"[A-Za-z0-9\u4e00-\u9fff-]+")
_COMPOSITION_TAG = re.compile(r"<Composition\b[^>]*?\bid=[\"'](" + COMPOSITION_ID.pattern + r")[\"']", re.S)
_PROPS_TYPES = ("string", "number", "boolean", "string[]", "number[]")


# ------------------------------------------------- slide/thumbnail HTML --

def template_path(kind: str, name: str) -> str:
    """Repo-relative path of a slide or thumbnail template (`kind` is "slide" or "thumbnail")."""
    return f"{TEMPLATE_DIRS[kind]}/{name}{TEMPLATE_SUFFIX}"


def html_templates(root: Path, kind: str) -> list[str]:
    return sorted(t.name[:-len(TEMPLATE_SUFFIX)] for t in (root / TEMPLATE_DIRS[kind]).glob(f"*{TEMPLATE_SUFFIX}"))


# ---------------------------------------------------------------- manim --

def manim_template_path(name: str) -> str:
    return f"{MANIM_DIR}/{name}.py"


def manim_template_files(root: Path) -> list[Path]:
    """`recipes/manim/<name>.py`, sorted; files starting with `_` are helpers, not templates."""
    d = root / MANIM_DIR
    return sorted(p for p in d.glob("*.py") if not p.name.startswith("_")) if d.is_dir() else []


def manim_templates(root: Path) -> list[str]:
    return [p.stem for p in manim_template_files(root)]


# ------------------------------------------------------------- Remotion --

def is_composition_id(name: str) -> bool:
    return COMPOSITION_ID.fullmatch(name) is not None


def remotion_compositions(root: Path) -> list[str]:
    """Composition ids registered in recipes/remotion/src/Root.tsx (only ids Remotion accepts)."""
    root_tsx = root / REMOTION_DIR / "src" / "Root.tsx"
    try:
        text = root_tsx.read_text(encoding="utf-8")
    except OSError:
        return []
    return _COMPOSITION_TAG.findall(text)


def remotion_props(root: Path) -> dict[str, dict[str, dict]]:
    """Each composition id with the props its `<Id>Props` type adds to BaseProps (name -> {type,
    required}); what the compiler fills in (size, palette...) is left out."""
    src = root / REMOTION_DIR / "src"
    out: dict[str, dict[str, dict]] = {}
    for cid in remotion_compositions(root):
        props: dict[str, dict] = {}
        try:
            text = (src / f"{cid}.tsx").read_text(encoding="utf-8")
        except OSError:
            text = ""
        m = re.search(r"type\s+" + re.escape(cid) + r"Props\s*=\s*BaseProps\s*&\s*\{(.*?)\};", text, re.S)
        for name, opt, typ in re.findall(r"(\w+)(\??)\s*:\s*([^;,}]+)", m.group(1) if m else ""):
            t = typ.strip().replace("Array<string>", "string[]")
            props[name] = {"type": t if t in _PROPS_TYPES else "any", "required": not opt}
        out[cid] = props
    return out


def remotion_sources(root: Path) -> list[str]:
    """Every file the Remotion bundle is built from, repo-relative and sorted (they key the bundle)."""
    base = root / REMOTION_DIR
    files = [p for p in (base / "src").rglob("*") if p.is_file()]
    files += [base / n for n in ("package.json", "package-lock.json", "tsconfig.json") if (base / n).is_file()]
    return sorted(str(p.relative_to(root)) for p in files)


# -------------------------------------------------------------- prompts --

def prompt_names() -> tuple[str, ...]:
    """The prompt templates script generation needs, as the `script.llm` renderer declares them
    (its inputs `prompt_<name>`): defined once, in the renderer that reads them."""
    return tuple(n[len("prompt_"):] for n in renderers.get("script.llm").inputs if n.startswith("prompt_"))


def prompt_path(name: str) -> str:
    return f"{PROMPT_DIR}/{name}.md.j2"
