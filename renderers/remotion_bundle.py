"""The Remotion bundle: recipes/remotion/src compiled by webpack once and stored as an archive.

Bundling costs about ten seconds; every Remotion scene of every video renders from the same
bundle, which re-builds only when a source file or the package lock changes.
"""
from __future__ import annotations

from pathlib import Path

from .base import Context, Params, Renderer
from ._lib.browser import chromium_path
from ._lib.remotion_common import pack, remotion_versions, run_node

PROJECT = Path(__file__).resolve().parents[1] / "recipes" / "remotion"


class RemotionBundle(Renderer):
    kind = "remotion.bundle"
    version = 1
    needs = ("chromium", "node")  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("script", "sources")
    outputs = ("bundle.tar.gz",)

    class Params(Params):
        pass

    def tool_fingerprint(self) -> dict:
        return remotion_versions(str(PROJECT))

    def run(self, ctx: Context) -> dict:
        script = Path(ctx.inputs["script"])
        folder = ctx.scratch / "bundle"
        run_node(script, {"bundle_only": True, "bundle_dir": str(folder), "browser": chromium_path()}, ctx.scratch,
                 "bundling the Remotion compositions", ctx.progress)
        if not (folder / "index.html").is_file():
            from core.errors import StepError

            raise StepError("the Remotion bundle has no index.html")
        size = pack(folder, ctx.out("bundle.tar.gz"))
        return {"files": sum(1 for p in folder.rglob("*") if p.is_file()), "bytes": size}
