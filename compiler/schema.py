"""JSON Schemas for the specs, so editors complete and check them (schemas/*.json)."""
from __future__ import annotations

import json
from pathlib import Path

from core.spec import Brand, FormatPreset, Recipe, Script, Video


def write_schemas(root: Path) -> list[Path]:
    out_dir = root / "schemas"
    out_dir.mkdir(exist_ok=True)
    written = []
    for name, model in (("brand", Brand), ("video", Video), ("recipe", Recipe), ("script", Script), ("format", FormatPreset)):
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = f"Showrunner {name} spec"
        p = out_dir / f"{name}.schema.json"
        p.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(p)
    return written
