"""Publishable units: one (video, format) build directory under build/.

`build/<brand>/<slug>/` holds the first format of a video and is the unit `<brand>/<slug>`;
`build/<brand>/<slug>/<format>/` holds any further format as the unit `<brand>/<slug>@<format>`.
Reading a unit verifies the files against manifest.json, so a half-written or hand-edited
build is refused instead of uploaded. qc.json (the quality gate's report, outside the build digest)
is verified against the manifest's `qc` summary when it is read (`BuildUnit.qc`, the publish gate).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from core.qc import QCReport
from core.records import BuildManifest, SceneEntry
from core.store import file_digest

from .errors import BuildError

FILES = ("video.mp4", "thumbnail.jpg", "captions.srt", "metadata.json", "manifest.json")
UNIT_RE = re.compile(r"^(?P<brand>[A-Za-z0-9_.-]+)/(?P<slug>[a-z0-9][a-z0-9-]*)(?:@(?P<format>[A-Za-z0-9_-]+))?$")


@dataclass
class BuildUnit:
    key: str  # "<brand>/<slug>" or "<brand>/<slug>@<format>"
    brand: str
    slug: str
    format: str
    dir: Path
    manifest: BuildManifest
    metadata: dict
    digests: dict[str, str] = field(default_factory=dict)  # file name -> sha256

    @property
    def build_digest(self) -> str:
        return self.manifest.build_digest

    @property
    def video(self) -> Path:
        return self.dir / "video.mp4"

    @property
    def thumbnail(self) -> Path:
        return self.dir / "thumbnail.jpg"

    @property
    def captions(self) -> Path:
        return self.dir / "captions.srt"

    @property
    def scenes(self) -> list[SceneEntry]:
        return list(self.manifest.scenes)

    @property
    def qc(self) -> QCReport | None:
        """The build's QC report, or None for a build made before QC existed. qc.json is outside the build
        digest; it must be the one manifest.json names (BuildError otherwise), so a half-written or hand-edited
        report never decides what publishes."""
        if self.manifest.qc is None:
            return None
        path = self.dir / "qc.json"
        try:
            got = file_digest(path)
        except FileNotFoundError:
            raise BuildError(f"qc.json is missing in {self.dir} (manifest.json has a QC verdict)", unit=self.key,
                             hint="rebuild with doit build, or re-judge with doit qc") from None
        if got != self.manifest.qc.digest:
            raise BuildError(f"qc.json does not match manifest.json (sha256 {got[:12]}, manifest says "
                             f"{self.manifest.qc.digest[:12]})", unit=self.key,
                             hint="the QC report was modified; re-judge with doit qc (or rebuild with doit build)")
        return QCReport.model_validate_json(path.read_text(encoding="utf-8"))


def parse_key(key: str) -> tuple[str, str, str | None]:
    m = UNIT_RE.match(key)
    if not m:
        raise BuildError(f"'{key}' is not a unit name", hint="units are <brand>/<slug> or <brand>/<slug>@<format>")
    return m["brand"], m["slug"], m["format"]


def unit_dir(root: Path, key: str) -> Path:
    brand, slug, fmt = parse_key(key)
    base = root / "build" / brand / slug
    return base / fmt if fmt else base


def discover(root: Path) -> list[str]:
    """Unit keys of every build directory that has a manifest, sorted."""
    keys: list[str] = []
    build = root / "build"
    for manifest in sorted(build.glob("*/*/manifest.json")):
        keys.append(f"{manifest.parent.parent.name}/{manifest.parent.name}")
    for manifest in sorted(build.glob("*/*/*/manifest.json")):
        d = manifest.parent
        keys.append(f"{d.parent.parent.name}/{d.parent.name}@{d.name}")
    # dot folders are not units: build/.preview/ holds the studio's previews, never published
    return sorted(k for k in keys if UNIT_RE.match(k) and not k.startswith("."))


def _read_json(path: Path, key: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildError(f"{path.name} is missing in {path.parent}", unit=key,
                         hint=f"build it first: doit build (the unit is {key})") from None
    except ValueError as exc:
        raise BuildError(f"{path} is not valid JSON ({exc})", unit=key, hint="rebuild with doit build") from None
    if not isinstance(data, dict):
        raise BuildError(f"{path} should hold a JSON object", unit=key, hint="rebuild with doit build")
    return data


def _read_manifest(path: Path, key: str) -> BuildManifest:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildError(f"{path.name} is missing in {path.parent}", unit=key,
                         hint=f"build it first: doit build (the unit is {key})") from None
    try:
        return BuildManifest.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        if err["type"] == "json_invalid":
            problem = f"is not valid JSON ({err['ctx'].get('error', err['msg'])})"
        elif not err["loc"]:
            problem = "should hold a JSON object"
        else:
            problem = f"is not a build manifest ({'.'.join(map(str, err['loc']))}: {err['msg']})"
        raise BuildError(f"{path} {problem}", unit=key, hint="rebuild with doit build") from None


def load_unit(root: Path, key: str, *, verify: bool = True) -> BuildUnit:
    brand, slug, fmt = parse_key(key)
    d = unit_dir(root, key)
    if not d.is_dir():
        raise BuildError(f"no build at {d}", unit=key, hint=f"run doit build first (unit {key})")
    manifest = _read_manifest(d / "manifest.json", key)
    metadata = _read_json(d / "metadata.json", key)
    for name in FILES:
        if not (d / name).is_file():
            raise BuildError(f"{name} is missing in {d}", unit=key, hint="the build is incomplete; run doit build")
    if not manifest.build_digest:
        raise BuildError(f"{d / 'manifest.json'} has no build_digest", unit=key, hint="rebuild with doit build")
    if manifest.video not in (None, f"{brand}/{slug}"):
        raise BuildError(f"{d / 'manifest.json'} belongs to {manifest.video}, not {brand}/{slug}", unit=key)
    unit = BuildUnit(key=key, brand=brand, slug=slug, format=fmt or str(manifest.format or "long"),
                     dir=d, manifest=manifest, metadata=metadata)
    for name in ("video.mp4", "thumbnail.jpg", "captions.srt"):
        unit.digests[name] = file_digest(d / name)
        asset = manifest.assets.get(name)
        expected = asset.digest if verify and asset is not None else None
        if expected and expected != unit.digests[name]:
            raise BuildError(f"{name} does not match manifest.json (sha256 {unit.digests[name][:12]}, manifest "
                             f"says {expected[:12]})", unit=key,
                             hint="the build was modified or is half-written; rebuild with doit build")
    return unit
