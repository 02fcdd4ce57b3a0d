"""Script commands behind `python -m compiler import-script|export-script`.

Writing generated locks (`script`, `regen`, stage 1 of every build) is `Workspace.script_stage`.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from core.errors import SpecError
from core.settings import Settings
from .load import SCRIPT_SUFFIX, load_project
from .locks import write_lock
from .tagformat import export, parse
from .workspace import UnknownTarget, select_targets


def import_script(file: str, target: str, force: bool = False, root: Path | None = None) -> int:
    """Tag-format file (or - for stdin) -> videos/<brand>/<slug>.script.yaml, a hand-owned lock."""
    root = Settings.load(root).root
    brand, _, slug = target.partition("/")
    if not brand or not slug or "/" in slug:
        raise SystemExit(f"give the video as <brand>/<slug>, not {target!r}")
    if not (root / "brands" / f"{brand}.yaml").exists():
        raise SystemExit(f"unknown brand {brand!r}: create brands/{brand}.yaml first")
    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    try:
        script = parse(text, "<stdin>" if file == "-" else file)
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    spec = root / "videos" / brand / f"{slug}.yaml"
    lock = spec.with_name(f"{slug}{SCRIPT_SUFFIX}")
    if lock.exists() and not force:
        print(f"{lock.relative_to(root)} exists; pass --force to replace it (git keeps the old one)", file=sys.stderr)
        return 1
    if spec.exists():
        project = load_project(root, only={target})
        lv = project.videos.get(target)
        model = lv.spec.model if lv else None
        if model is not None and (model.scenes is not None or model.script):
            print(f"{spec.relative_to(root)} has inline `scenes:` or a `script:` file, so a lock would be ignored; "
                  "remove them first", file=sys.stderr)
            return 1
    else:
        spec.parent.mkdir(parents=True, exist_ok=True)
        spec.write_text(f"# {target}: the script is in {lock.name} (imported); the video's settings go here\n"
                        "# (format:, voice:, music: ...), as for any video.\n{}\n", encoding="utf-8")
        print(f"  wrote {spec.relative_to(root)}")
    day = dt.date.today().isoformat()
    src = "standard input" if file == "-" else Path(file).name
    write_lock(lock, script, [f"Script for videos/{brand}/{slug}.yaml, imported from {src} on {day} "
                              "(python -m compiler import-script).",
                              "Hand-owned: builds use it as it is and never re-roll it. Edit freely.", ""])
    print(f"  wrote {lock.relative_to(root)} ({len(script.scenes)} scene(s))")
    project = load_project(root, only={target})
    if target in project.errors:
        print(project.errors[target].render(), file=sys.stderr)
        print("the script was imported, but the video has the errors above", file=sys.stderr)
        return 1
    return 0


def export_script(target: str, out: str | None = None, root: Path | None = None) -> int:
    """A video's script (lock, script file or inline scenes) in the tag format."""
    project = load_project(Settings.load(root).root)
    try:
        vids = select_targets(set(project.videos) | set(project.errors), [target])  # file errors drop out
    except UnknownTarget:
        vids = []
    if len(vids) != 1:
        raise SystemExit(f"no single video matches {target!r}")
    vid = vids[0]
    if vid in project.errors:
        print(project.errors[vid].render(), file=sys.stderr)
        return 1
    lv = project.videos[vid]
    if lv.script is None:
        print(f"{vid} has no script yet (build it, or write one by hand)", file=sys.stderr)
        return 1
    text = export(lv.script, header=f"{vid} in the tag format; import with: "
                                    f"python -m compiler import-script FILE {vid} --force")
    if out and out != "-":
        Path(out).write_text(text, encoding="utf-8")
        print(f"  wrote {out}")
    else:
        sys.stdout.write(text)
    return 0
