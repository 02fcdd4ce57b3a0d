"""User mistakes become compiler-style diagnostics with file:line:col, and never stop other videos."""
from __future__ import annotations

import re

from support import session, write
from compiler.load import load_project


def errors_for(root, vid):
    project = load_project(root)
    assert vid not in project.videos
    return project.errors[vid].render(), project


def test_unknown_voice_points_at_the_field(mini):
    write(mini / "videos/test/gamma.yaml", """\
        format: tiny
        scenes:
          - narration: Fine.
          - narration: Also fine.
            voice: jo
        """)
    text, project = errors_for(mini, "test/gamma")
    assert text.splitlines()[0] == ("videos/test/gamma.yaml:5:12: scenes[1].voice: unknown voice 'jo' "
                                    "(brand voices: joe, robot) [spec]")
    assert "5 |     voice: jo" in text and "^" in text
    assert {"test/alpha", "test/beta"} <= set(project.videos)  # the others still load


def test_unknown_field_points_at_the_key(mini):
    write(mini / "videos/test/gamma.yaml", """\
        format: tiny
        scenes:
          - narration: Hi.
            visual: {kind: slide, titel: Oops}
        """)
    text, _ = errors_for(mini, "test/gamma")
    assert re.match(r"videos/test/gamma.yaml:4:27: scenes\[0\]\.visual\.titel: unknown field", text)


def test_malformed_yaml(mini):
    write(mini / "videos/test/gamma.yaml", "format: tiny\nscenes:\n  - narration: [unclosed\n")
    text, _ = errors_for(mini, "test/gamma")
    assert text.startswith("videos/test/gamma.yaml:") and "malformed YAML" in text and "[yaml]" in text


def test_duplicate_key(mini):
    write(mini / "videos/test/gamma.yaml", "format: tiny\nformat: tiny\nscenes: []\n")
    text, _ = errors_for(mini, "test/gamma")
    assert text.startswith("videos/test/gamma.yaml:2:1: format: duplicate key 'format'")


def test_unknown_brand_template_kind_and_missing_media(mini):
    write(mini / "videos/nobrand/x.yaml", "scenes: [{narration: hi}]\n")
    text, _ = errors_for(mini, "nobrand/x")
    assert "unknown brand 'nobrand': create brands/nobrand.yaml (known brands: test)" in text
    write(mini / "videos/test/gamma.yaml", """\
        format: tiny
        scenes:
          - narration: One.
            visual: {kind: slide, template: nope}
          - narration: Two.
            visual: {kind: image, file: media/missing.png}
        """)
    text, _ = errors_for(mini, "test/gamma")
    assert "videos/test/gamma.yaml:4:37: scenes[0].visual.template: unknown slide template 'nope'" in text
    assert "videos/test/gamma.yaml:6:33: scenes[1].visual.file: media file 'media/missing.png' not found" in text
    write(mini / "videos/test/gamma.yaml", "format: tiny\nscenes:\n  - narration: Three.\n    visual: {kind: hologram}\n")
    text, _ = errors_for(mini, "test/gamma")
    assert text.startswith("videos/test/gamma.yaml:4:20: scenes[0].visual.kind: unknown kind 'hologram' (expected one of:")


def test_unreadable_and_wrong_type_media(mini):
    (mini / "videos/test/media/notes.txt").write_text("not an image")
    write(mini / "videos/test/gamma.yaml", """\
        format: tiny
        scenes:
          - narration: One.
            visual: {kind: image, file: media/notes.txt}
        """)
    text, _ = errors_for(mini, "test/gamma")
    assert "is not a supported image file" in text


def test_empty_narration(mini):
    write(mini / "videos/test/gamma.yaml", """\
        format: tiny
        scenes:
          - narration: "   "
        """)
    text, _ = errors_for(mini, "test/gamma")
    assert text.startswith("videos/test/gamma.yaml:3:16: scenes[0].narration: narration is empty")


def test_narration_too_long_for_format(mini):
    long = " ".join(["word"] * 200)
    write(mini / "videos/test/gamma.yaml", f"format: tinyshort\nscenes:\n  - narration: {long}\n")
    text, _ = errors_for(mini, "test/gamma")
    assert "narration is too long for format 'tinyshort'" in text and "limit 20 s" in text


def test_bad_brand_fails_only_its_videos(mini):
    write(mini / "brands/other.yaml", "name: Other\npalette: {background: red}\n")
    write(mini / "videos/other/x.yaml", "format: tiny\nscenes: [{narration: hi}]\n")
    project = load_project(mini)
    assert "brands/other.yaml" in project.errors
    assert "brands/other.yaml:2:23: palette.background:" in project.errors["brands/other.yaml"].render()
    assert "brand 'other' has errors in brands/other.yaml" in project.errors["other/x"].render()
    assert {"test/alpha", "test/beta"} <= set(project.videos)


def test_check_cli_reports_without_traceback(mini, capsys):
    from compiler.cli import check

    write(mini / "videos/test/gamma.yaml", "format: tiny\nscenes:\n  - narration: hi\n    voice: jo\n")
    assert check(mini) == 1
    err = capsys.readouterr()
    assert "Traceback" not in err.err and "unknown voice 'jo'" in err.err
    assert "2 video(s) OK, 1 with errors" in err.out


def test_plan_has_errors_and_other_videos(mini):
    write(mini / "videos/test/gamma.yaml", "format: nope\nscenes: [{narration: hi}]\n")
    s = session(mini)
    assert "test/gamma" in s.plan().errors and "unknown format 'nope'" in s.plan().errors["test/gamma"]
    assert set(s.plan().videos) == {"test/alpha", "test/beta"}


def test_text_that_cannot_fit_its_box_points_at_the_field(mini):
    """Thumbnail text, slide titles and bullets have limits: longer text is clipped or runs into the logo."""
    write(mini / "videos/test/gamma.yaml", """\
        format: tiny
        thumbnail: {text: This thumbnail text has far too many words to be readable at all}
        scenes:
          - narration: Hi.
            visual:
              kind: slide
              title: A slide heading that goes on and on far past what fits the slide
              bullets: [short, "a bullet that rambles on and on, far longer than the ninety characters a slide line pair holds"]
        """)
    text, _ = errors_for(mini, "test/gamma")
    assert ("videos/test/gamma.yaml:2:19: thumbnail.text: thumbnail text has 13 words and 64 characters; at most "
            "6 words and 40 characters") in text
    assert "videos/test/gamma.yaml:7:14: scenes[0].visual.title: the slide title has 64 characters; at most 60" in text
    assert "videos/test/gamma.yaml:8:24: scenes[0].visual.bullets[1]: this bullet has 94 characters; at most 90" in text
    write(mini / "videos/test/gamma.yaml", """\
        format: tiny
        scenes:
          - narration: Hi.
            visual: {kind: slide, title: Seven, bullets: [a, b, c, d, e, f, g]}
        """)
    text, _ = errors_for(mini, "test/gamma")
    assert "videos/test/gamma.yaml:4:50: scenes[0].visual.bullets: 7 bullets; at most 6 fit on a slide" in text
