"""Script commands behind `python -m compiler script|regen|import-script|export-script` (and doit).

`generate_scripts` is stage 1 of every build: it writes the script locks of topic-only videos that
need one (no lock yet, or a salt that differs from the lock's), before stage 2 compiles them.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from core.errors import SpecError
from .load import SCRIPT_SUFFIX, load_project
from .locks import ScriptSession, matching, write_lock
from .tagformat import export, parse


def generate_scripts(targets: list[str] | None, jobs: int = 1, root: Path | None = None, reroll: bool = False,
                     quiet: bool = False) -> dict[str, str]:
    """Stage 1: write the locks that are missing or stale; returns {video: error} for failures."""
    from .cli import ROOT, print_event

    s = ScriptSession(root or ROOT, targets=targets or None, reroll=reroll, quiet=quiet,
                      on_event=None if quiet else print_event)
    if reroll and s.unmatched:
        raise SystemExit(f"no video matches {', '.join(s.unmatched)}")
    if not s.plan.steps and not s.plan.errors:
        return {}
    failed = s.run(jobs=jobs)
    for vid, path in sorted(s.written.items()):
        if not quiet:
            print(f"  wrote {s.project.display(path)}", flush=True)
    for vid, err in sorted(failed.items()):
        print(f"FAILED {vid} (script): {err}", file=sys.stderr)
    if not quiet:
        calls = sum(1 for e in s.engine.events if e.type == "executed")
        print(f"{len(s.written)} script lock(s) written ({calls} generated, {len(s.written) - calls} from the cache), "
              f"{len(failed)} failed", flush=True)
    return failed


def import_script(file: str, target: str, force: bool = False, root: Path | None = None) -> int:
    """Tag-format file (or - for stdin) -> videos/<brand>/<slug>.script.yaml, a hand-owned lock."""
    from .cli import ROOT

    root = Path(root or ROOT)
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
    from .cli import ROOT

    project = load_project(Path(root or ROOT))
    vids = sorted(matching(project.videos, [target]) | ({target} & set(project.errors)))
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
