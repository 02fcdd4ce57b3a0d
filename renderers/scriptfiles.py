"""Per-module script files of the original design: what each scene asks of each module."""
from __future__ import annotations

from .base import Context, Params, Renderer

FILES = {"narration.txt": None, "slides.txt": "slide", "images.txt": "image", "clips.txt": "clip",
         "manim.txt": "manim", "remotion.txt": "remotion"}


def describe(visual: dict) -> list[str]:
    kind = visual.get("kind")
    lines = []
    for k, v in visual.items():
        if k == "kind" or v in (None, "", [], {}):
            continue
        if isinstance(v, list):
            lines.append(f"{k}:")
            lines += [f"  - {x}" for x in v]
        else:
            lines.append(f"{k}: {v}")
    return lines or [f"({kind})"]


class ScriptFiles(Renderer):
    kind = "doc.scriptfiles"
    version = 1
    outputs = tuple(FILES)

    class Params(Params):
        title: str
        scenes: list[dict]

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        for name, kind in FILES.items():
            out = [f"# {p.title}: {name[:-4]}", ""]
            n = 0
            for i, sc in enumerate(p.scenes, 1):
                if kind is None:
                    out += [f"[{i}]", sc["narration"], ""]
                    n += 1
                elif sc["visual"].get("kind") == kind:
                    out += [f"[{i}]"] + describe(sc["visual"]) + [""]
                    n += 1
            if n == 0:
                out.append(f"(no {kind} scenes)")
            ctx.out(name).write_text("\n".join(out).rstrip() + "\n", encoding="utf-8")
        return {"scenes": len(p.scenes)}
