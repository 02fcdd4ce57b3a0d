"""Hostile specs (issue 9 items 5, 6, 7, 10, 11) are stopped at load with file:line:col, and the
other videos of the project still load and compile. Limits are asserted by construction (node
counts, sizes), never by wall time."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from support import write
from compiler import yamlpos
from compiler.load import load_project
from compiler.plan import compile_plan
from compiler.yamlpos import parse_yaml
from core.errors import SpecError

GAMMA = "videos/test/gamma.yaml"


def gamma_error(root: Path, text: str | bytes) -> str:
    """Write gamma.yaml, load the project: gamma fails, alpha and beta still load and compile."""
    path = root / GAMMA
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    project = load_project(root)
    plan = compile_plan(project)
    assert {"test/alpha", "test/beta"} <= set(plan.videos), plan.errors
    assert "test/gamma" not in project.videos
    err = project.errors["test/gamma"]
    assert all(d.line >= 1 and d.col >= 1 for d in err.diagnostics), err.render()
    return err.render()


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG that claims width x height: header only, a few bytes on disk (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


# ------------------------------------------------------------- item 5 --

def billion_laughs(depth: int) -> str:
    lines = ['format: tiny', 'l0: &l0 "lol"']
    for i in range(1, depth + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    lines.append("scenes: [{narration: boom}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_its_first_anchor_and_siblings_compile(mini):
    bomb = billion_laughs(9)  # 9**9 = 387 million strings once expanded; ~400 bytes on disk
    assert len(bomb) < 600
    text = gamma_error(mini, bomb)
    assert text.startswith(f"{GAMMA}:2:5: YAML anchors and aliases (&name, *name) are not allowed in specs")


def test_recursive_alias_and_merge_of_aliases_are_refused(mini):
    assert "anchors and aliases" in gamma_error(mini, "format: tiny\nx: &a [*a]\nscenes: [{narration: hi}]\n")
    text = gamma_error(mini, "base: &b {voice: robot}\nformat: tiny\nscenes:\n  - <<: *b\n    narration: hi\n")
    assert text.startswith(f"{GAMMA}:1:7: YAML anchors and aliases")


def test_every_node_counts_and_the_count_is_bounded(mini, monkeypatch):
    monkeypatch.setattr(yamlpos, "MAX_NODES", 150)  # the test brand has about 50
    items = ", ".join(["x"] * 200)
    text = gamma_error(mini, f"format: tiny\ntags: [{items}]\nscenes: [{{narration: hi}}]\n")
    assert "too many values in one file (more than 150)" in text


def test_deep_nesting_and_oversized_files_are_refused(mini):
    text = gamma_error(mini, "format: tiny\ntags: " + "[" * 70 + "]" * 70 + "\n")
    assert text.startswith(f"{GAMMA}:2:70: nested more than 64 levels deep")
    big = "format: tiny\nscenes: [{narration: hi}]\n#" + "x" * yamlpos.MAX_FILE_BYTES + "\n"
    text = gamma_error(mini, big)
    assert text.startswith(f"{GAMMA}:1:1: file is larger than 1024 KiB")


def test_a_spec_that_is_not_a_regular_file_is_not_read(mini):
    (mini / "videos" / "test" / "gamma.yaml").symlink_to("/dev/zero")
    project = load_project(mini)
    text = project.errors["test/gamma"].render()  # refused by the confinement (it leads out) before being read
    assert "leads outside the project" in text or "not a regular file" in text
    assert {"test/alpha", "test/beta"} <= set(project.videos)


# ------------------------------------------------------------- item 6 --

def test_empty_scenes_is_a_spec_error_not_a_traceback(mini):
    text = gamma_error(mini, "format: tiny\nscenes: []\n")
    assert text.startswith(f"{GAMMA}:2:9: scenes: must not be empty (give at least 1)")


@pytest.mark.parametrize("spec, where", [
    ("format: tiny\nscenes:\n  - narration: hi\n    visual: {kind: clip, file: media/clip.mp4, start: .inf}\n",
     "4:55: scenes[0].visual.start"),
    ("format: tiny\nmusic: {file: media/clip.mp4, volume_db: -.inf}\nscenes: [{narration: hi}]\n",
     "2:42: music.volume_db"),
    ("format: tiny\nscenes:\n  - narration: hi\n    pad: .nan\n", "4:10: scenes[0].pad"),
    ("format: tiny\nscenes:\n  - narration: hi\n    visual: {kind: remotion, props: {x: [1, .NaN]}}\n",
     "4:45: scenes[0].visual.props.x[1]"),
])
def test_non_finite_numbers_are_refused_with_a_clear_message(mini, spec, where):
    text = gamma_error(mini, spec)
    assert text.startswith(f"{GAMMA}:{where}: must be a finite number (not .nan or .inf)"), text


@pytest.mark.parametrize("value, code", [('"Hello\\0world."', "0000"), ('"Red \\e[31malert"', "001B"),
                                         ('"Bell\\a"', "0007"), ('"CSI \\x9b is a C1 control"', "009B")])
def test_control_characters_in_text_are_refused(mini, value, code):
    text = gamma_error(mini, f"format: tiny\nscenes:\n  - narration: {value}\n")
    assert text.startswith(f"{GAMMA}:3:16: scenes[0].narration: control character U+{code} "), text


def test_tabs_and_newlines_are_text(mini):
    write(mini / GAMMA, 'format: tiny\nscenes:\n  - narration: "One.\\tTwo.\\nThree."\n')
    assert "test/gamma" in load_project(mini).videos


def test_models_refuse_the_same_values_from_other_sources():
    """An LLM reply is validated by the same models: NaN and NUL are refused there too."""
    from pydantic import ValidationError

    from core.spec import Script

    with pytest.raises(ValidationError, match="finite number"):
        Script.model_validate({"scenes": [{"narration": "x", "pad": float("nan")}]})
    with pytest.raises(ValidationError, match="control character U\\+0000"):
        Script.model_validate({"scenes": [{"narration": "x\x00"}]})
    with pytest.raises(ValidationError, match="finite number"):
        Script.model_validate({"scenes": [{"narration": "x", "visual": {"kind": "manim", "template": "t",
                                                                         "params": {"a": {"b": float("inf")}}}}]})


# ------------------------------------------------------------- item 7 --

def test_image_bombs_are_refused_from_their_header(mini):
    png_header(mini / "videos/test/media/huge.png", 20000, 20000)  # Pillow's own guard fires first
    png_header(mini / "videos/test/media/big.png", 8000, 8000)  # 64 MP: over our 50 MP limit
    text = gamma_error(mini, """\
        format: tiny
        thumbnail: {image: media/huge.png}
        scenes:
          - narration: hi
            visual: {kind: slide, image: media/big.png}
          - narration: ho
            visual: {kind: image, file: media/big.png}
        """.replace("        ", ""))
    assert f"{GAMMA}:2:20: thumbnail.image: 'media/huge.png': the image has more than 50 megapixels" in text
    assert (f"{GAMMA}:5:34: scenes[0].visual.image: 'media/big.png': the image is 8000x8000 pixels (64 megapixels); "
            "the limit is 50 megapixels") in text
    assert f"{GAMMA}:7:33: scenes[1].visual.file: 'media/big.png': the image is 8000x8000" in text


def test_a_fake_image_is_refused_at_load(mini):
    (mini / "videos/test/media/fake.png").write_text("not a picture")
    text = gamma_error(mini, "format: tiny\nscenes:\n  - narration: hi\n    visual: {kind: image, file: media/fake.png}\n")
    assert "'media/fake.png': not a readable png/jpeg/webp/bmp image" in text


def test_a_huge_logo_fails_the_brands_videos_at_the_logo(mini):
    png_header(mini / "brands/media/big.png", 9000, 9000)
    brand = mini / "brands/test.yaml"
    brand.write_text(brand.read_text().replace("logo: media/logo.svg", "logo: media/big.png"))
    project = load_project(mini)
    assert not project.videos
    text = project.errors["test/alpha"].render()
    assert "brands/test.yaml:8:7: logo: 'media/big.png': the image is 9000x9000 pixels" in text


def test_a_huge_library_still_fails_the_genimage_scene(mini):
    png_header(mini / "brands/media/stills/galaxy-lake.png", 9000, 9000)
    brand = mini / "brands/test.yaml"
    brand.write_text(brand.read_text() + "images: {fallback: media, library: media/stills}\n")
    text = gamma_error(mini, "format: tiny\nscenes:\n  - narration: hi\n    visual: {kind: genimage, prompt: a galaxy}\n")
    assert (f"{GAMMA}:4:38: scenes[0].visual.prompt: 'brands/media/stills/galaxy-lake.png': the image is 9000x9000"
            in text)


# ------------------------------------------------------------ item 10 --

def test_duplicate_formats_are_refused(mini):
    text = gamma_error(mini, "format: [tiny, tiny]\nscenes: [{narration: hi}]\n")
    assert text.startswith(f"{GAMMA}:1:9: format: format 'tiny' is listed twice")
    write(mini / "recipes/explainer.yaml", "formats: [tiny, tinyshort, tiny]\n")
    project = load_project(mini)
    assert "recipes/explainer.yaml:1:10: formats: format 'tiny' is listed twice" in \
        project.errors["recipes/explainer.yaml"].render()


@pytest.mark.parametrize("tagged, at", [
    ("!!python/object/apply:os.system [touch pwned]", "2:7"),
    ("!!python/object:builtins.dict {a: 1}", "2:7"),
    ("!!python/name:os.system x", "2:7"),
    ("!include ../../../etc/passwd", "2:7"),
    ("!!binary aGVsbG8=", "2:7"),
    ("[a, !!python/tuple [b]]", "2:11"),
])
def test_non_core_tags_are_refused_on_every_node(mini, tagged, at):
    text = gamma_error(mini, f"format: tiny\ntags: {tagged}\nscenes: [{{narration: hi}}]\n")
    assert text.startswith(f"{GAMMA}:{at}: YAML tag '"), text
    assert "is not allowed in specs (plain values only)" in text


def test_core_tags_are_fine():
    data, _ = parse_yaml("a: !!str 12\nb: !!int '7'\nc: !!seq [1]\nd: !!map {x: 1}\ne: !!null ''\n", "f.yaml")
    assert data == {"a": "12", "b": 7, "c": [1], "d": {"x": 1}, "e": None}


# ------------------------------------------------------------ item 11 --

def test_nan_says_finite_not_a_bound(mini):
    text = gamma_error(mini, "format: tiny\nscenes:\n  - narration: hi\n    pad: .nan\n")
    assert "finite number" in text and "<= 10" not in text


def test_a_clip_start_beyond_a_day_is_refused_at_load(mini):
    text = gamma_error(mini, "format: tiny\nscenes:\n  - narration: hi\n"
                             "    visual: {kind: clip, file: media/clip.mp4, start: 1e308}\n")
    assert text.startswith(f"{GAMMA}:4:55: scenes[0].visual.start: Input should be less than or equal to 86400")


@pytest.mark.parametrize("raw, at, byte", [
    (b"format: tiny\ntitle: Caf\xe9 au lait\nscenes: [{narration: hi}]\n", "2:11", "0xe9"),
    (b"\xff\xfef\x00o\x00", "1:1", "0xff"),
    ("format: tiny\ntitle: \u00e9t\u00e9 ".encode() + b"\x80\n", "2:12", "0x80"),
])
def test_non_utf8_files_are_reported_at_the_first_bad_byte(mini, raw, at, byte):
    text = gamma_error(mini, raw)
    assert text.startswith(f"{GAMMA}:{at}: file is not valid UTF-8 text (byte {byte}; save it as UTF-8)"), text


def test_unprintable_characters_in_the_file_are_reported_where_they_are(mini):
    text = gamma_error(mini, "format: tiny\nscenes:\n  - narration: a\x00b\n")
    assert text.startswith(f"{GAMMA}:3:17: character U+0000 is not allowed in a YAML file")


def test_huge_integers_and_bad_dates_are_errors_not_tracebacks(mini):
    text = gamma_error(mini, "format: tiny\nscenes:\n  - narration: hi\n    visual: {kind: genimage, prompt: x, seed: "
                       + "9" * 5000 + "}\n")
    assert f"{GAMMA}:4:47: scenes[0].visual.seed: cannot read '9999" in text
    text = gamma_error(mini, "format: tiny\nscenes:\n  - narration: hi\n    visual: {kind: genimage, prompt: x, seed: "
                       + "9" * 30 + "}\n")
    assert "integer out of range" in text
    assert "month must be in 1..12" in gamma_error(mini, "format: tiny\ntitle: 2024-13-45\nscenes: [{narration: hi}]\n")


def test_a_broken_formats_file_is_an_error_not_a_traceback(mini):
    write(mini / "recipes/formats.yaml", "- tiny\n")
    project = load_project(mini)
    assert project.errors["recipes/formats.yaml"].render().startswith(
        "recipes/formats.yaml:1:1: expected a mapping of format names to presets")


def test_sample_specs_have_no_aliases_or_tags():
    """The rule holds for what ships: every sample spec still loads (see also tests/test_samples.py)."""
    from support import REPO

    for f in sorted(REPO.glob("videos/*/*.yaml")) + sorted(REPO.glob("brands/*.yaml")) + sorted(
            REPO.glob("recipes/*.yaml")):
        try:
            yamlpos.load_yaml(f, str(f.relative_to(REPO)))
        except SpecError as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(exc.render())


def test_image_limit_reads_only_the_header(tmp_path):
    """A 400-megapixel claim costs nothing: no pixel data is decoded."""
    from compiler.imagesize import image_problem

    assert "more than 50 megapixels" in image_problem(png_header(tmp_path / "x.png", 20000, 20000))
    Image.new("RGB", (64, 32)).save(tmp_path / "ok.png")
    assert image_problem(tmp_path / "ok.png") is None


def test_snippets_of_huge_lines_are_clipped_around_the_caret(mini):
    text = gamma_error(mini, "format: tiny\nscenes: [{narration: hi}]\ntags: [" + "a, " * 30_000 + ".nan]\n")
    assert len(text) < 1000, len(text)
    line = next(ln for ln in text.splitlines() if ln.startswith("  3 | "))
    caret = text.splitlines()[text.splitlines().index(line) + 1]
    assert line[caret.index("^"):].startswith(".nan]")
