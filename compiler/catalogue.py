"""What a spec may name and script generation may offer: slide and thumbnail templates, manim
templates, Remotion compositions and prompt templates, found in one place.

`check` (checks.py), `plan` and the script stage all ask this module, so the LLM is never offered
a template or composition id that `check` would then reject. Listing reads the file system only;
nothing here runs manim or node.

Names are resolved here and only here, and only inside their own folder: a name must match
core.spec.NAME_PATTERN (no '/', '\\' or '.'), and the file it names, symlinks resolved, must lie in
that folder. The spec models check the pattern too; this is the second wall, for names that reach
the catalogue some other way (a script lock written by an LLM, a plan built in a test).
"""
from __future__ import annotations

import re
from pathlib import Path

import renderers
from core.spec import NAME_PATTERN

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
_NAME = re.compile(NAME_PATTERN)


class NotInCatalogue(ValueError):
    """A template or prompt name that is not a name, or a file that lies outside its recipes folder."""


def checked_name(name: str, what: str) -> str:
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise NotInCatalogue(f"{what} {name!r} is not a template name: give the name of a file in its recipes "
                             "folder, without folder or suffix (letters, digits, '_' and '-'; no '/', '\\' or '.')")
    return name


def inside(root: Path, folder: str, rel: str) -> Path:
    """root/rel with symlinks resolved, if it stays inside root/folder (else NotInCatalogue)."""
    real = (root / rel).resolve()
    if not real.is_relative_to((root / folder).resolve()):
        raise NotInCatalogue(f"{rel} leads outside {folder}/ (a symlink?): templates must live in {folder}/")
    return real


# ------------------------------------------------- slide/thumbnail HTML --

def template_path(kind: str, name: str) -> str:
    """Repo-relative path of a slide or thumbnail template (`kind` is "slide" or "thumbnail")."""
    return f"{TEMPLATE_DIRS[kind]}/{checked_name(name, kind + ' template')}{TEMPLATE_SUFFIX}"


def template_file(root: Path, kind: str, name: str) -> Path:
    """The template's file, confined to its folder (it may not exist: callers check)."""
    return inside(root, TEMPLATE_DIRS[kind], template_path(kind, name))


def html_templates(root: Path, kind: str) -> list[str]:
    names = (t.name[:-len(TEMPLATE_SUFFIX)] for t in (root / TEMPLATE_DIRS[kind]).glob(f"*{TEMPLATE_SUFFIX}"))
    return sorted(n for n in names if _NAME.fullmatch(n))


# ---------------------------------------------------------------- manim --

def manim_template_path(name: str) -> str:
    return f"{MANIM_DIR}/{checked_name(name, 'manim template')}.py"


def manim_template_file(root: Path, name: str) -> Path:
    """The template's file, confined to recipes/manim/ (it may not exist: callers check). Importing it
    runs its code, so only a name can choose it."""
    return inside(root, MANIM_DIR, manim_template_path(name))


def manim_template_files(root: Path) -> list[Path]:
    """`recipes/manim/<name>.py`, sorted; files starting with `_` are helpers, not templates, and so
    are files whose names are not template names or that are symlinks leading out of the folder."""
    d = root / MANIM_DIR
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.glob("*.py")):
        if p.name.startswith("_") or _NAME.fullmatch(p.stem) is None:
            continue
        try:
            inside(root, MANIM_DIR, f"{MANIM_DIR}/{p.name}")
        except NotInCatalogue:
            continue
        out.append(p)
    return out


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


def prompt_path(name: str, variant: str | None = None) -> str:
    """recipes/prompts/<name>.md.j2, or recipes/prompts/<variant>/<name>.md.j2 for a `prompt_template` arm."""
    folder = f"{PROMPT_DIR}/{checked_name(variant, 'prompt template folder')}" if variant else PROMPT_DIR
    return f"{folder}/{checked_name(name, 'prompt')}.md.j2"


def prompt_rel(root: Path, name: str, variant: str | None) -> str:
    """The prompt template a script step reads: the variant folder's own file when it has one, else the default."""
    if variant:
        rel = prompt_path(name, variant)
        if inside(root, PROMPT_DIR, rel).is_file():
            return rel
    return prompt_path(name)


def prompt_variant_files(root: Path, variant: str) -> list[str]:
    """The prompt templates a `prompt_template` arm's folder replaces (empty: the folder is missing or useless)."""
    return [n for n in prompt_names() if inside(root, PROMPT_DIR, prompt_path(n, variant)).is_file()]
