"""The tag format: parse, export, round trips, and errors with line numbers."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from core.errors import SpecError  # noqa: E402
from compiler.load import load_project  # noqa: E402
from core.spec import Script  # noqa: E402
from compiler.tagformat import export, parse, parse_duration  # noqa: E402

PASTED = """\
[title]The Maillard Reaction, Explained[/title]
[alt_title]Why Seared Steak Tastes Better[/alt_title]
[alt_title]Brown Means Flavour[/alt_title]
[thumbnail]BROWN = FLAVOUR[/thumbnail]
[description]
Why browned food tastes so good.
And how to get more of it.
[/description]
[tags]maillard reaction, searing, food science[/tags]
[length]1:30[/length]

[chapter]The question[/chapter]
[narration]Why does a seared steak [pause] taste better than a boiled one?[/narration]
[image]media/crust.jpg[/image]

[narration]
The Maillard reaction happens when proteins and sugars meet high heat.
[/narration]
[slide template=bold]
# Maillard reaction
- Proteins plus sugars
- High, dry heat

Hundreds of new flavours.
![](media/crust.jpg)
[/slide]

[narration]Here is what it looks like up close.[/narration]
[image seed=3 motion=pan_left]a macro photo of a sizzling steak crust, warm light[/image]

[narration]Bubbles mean water is still boiling off.[/narration]
[clip start=1.5 loop=false]media/bubbles.mp4[/clip]

[chapter]Do it yourself[/chapter]
[narration]Three rules.[/narration]
[manim]
template: bullet_reveal
params:
  title: Three rules
  bullets: [Dry, Hot, Patient]
[/manim]

[narration]That is the whole secret.[/narration]
[remotion]
TitleCard
title: Dry, hot, patient
[/remotion]
[settings]
voice: chef
pad: 1.0
[/settings]
"""


def test_parse_pasted_script():
    s = parse(PASTED, "pasted.txt")
    assert s.title == "The Maillard Reaction, Explained"
    assert s.alt_titles == ["Why Seared Steak Tastes Better", "Brown Means Flavour"]
    assert s.thumbnail.text == "BROWN = FLAVOUR" and s.length_s == 90
    assert s.description == "Why browned food tastes so good.\nAnd how to get more of it."
    assert s.tags == ["maillard reaction", "searing", "food science"]
    assert len(s.scenes) == 6
    a, b, c, d, e, f = s.scenes
    assert a.chapter == "The question" and a.narration.endswith("[pause] taste better than a boiled one?")
    assert a.visual.kind == "image" and a.visual.file == "media/crust.jpg"
    assert b.visual.kind == "slide" and b.visual.title == "Maillard reaction" and b.visual.template == "bold"
    assert b.visual.bullets == ["Proteins plus sugars", "High, dry heat"] and b.visual.body == "Hundreds of new flavours."
    assert b.visual.image == "media/crust.jpg"
    assert c.visual.kind == "genimage" and c.visual.seed == 3 and c.visual.motion == "pan_left"
    assert c.visual.prompt.startswith("a macro photo")
    assert d.visual.kind == "clip" and d.visual.start == 1.5 and d.visual.loop is False
    assert e.chapter == "Do it yourself" and e.visual.kind == "manim" and e.visual.template == "bullet_reveal"
    assert e.visual.params == {"title": "Three rules", "bullets": ["Dry", "Hot", "Patient"]}
    assert f.visual.kind == "remotion" and f.visual.composition == "TitleCard"
    assert f.visual.props == {"title": "Dry, hot, patient"} and f.voice == "chef" and f.pad == 1.0


def test_export_round_trips():
    s = parse(PASTED)
    text = export(s, header="exported")
    assert text.startswith("# exported\n[title]")
    assert parse(text) == s
    assert parse(export(parse(text))) == s


@pytest.mark.parametrize("vid", ["cosmos/dark-sky", "cosmos/moon-phases-short", "kitchenlab/maillard"])
def test_sample_scripts_round_trip(vid):
    lv = load_project(REPO, only={vid}).videos[vid]
    assert parse(export(lv.script)) == lv.script.model_copy(update={"generated": None})


def test_round_trip_of_a_generated_lock_drops_only_provenance():
    s = Script.model_validate({"title": "T", "scenes": [{"narration": "Hi there.", "visual": {"kind": "slide"}}],
                               "generated": {"provider": "gemini", "model": "m", "key": "k", "at": "2026-01-01T00:00:00Z"}})
    assert parse(export(s)) == s.model_copy(update={"generated": None})


@pytest.mark.parametrize("text, line, message", [
    ("[title]x[/title]\n[narration]hi[/narration]\n[bogus]x[/bogus]\n", 3, "unknown tag [bogus]"),
    ("[title]x[/title]\n\n[narration]hi\n", 3, "[narration] is never closed"),
    ("[slide]# x[/slide]\n[narration]hi[/narration]\n", 1, "before the first [narration]"),
    ("[narration]a[/narration]\n[slide][/slide]\n[image]media/x.png[/image]\n", 3, "a second visual"),
    ("[narration]a[/narration]\n[length]soon[/length]\n", 2, "not a duration"),
    ("[narration]a[/narration]\nhello there\n", 2, "text outside a tag"),
    ("[narration]a[/narration]\n[/slide]\n", 2, "never opened"),
    ("[narration]a[/narration]\n[manim]\ntemplate: [unclosed\n[/manim]\n", 3, "invalid YAML"),
    ("[narration]a[/narration]\n[image wat=1]media/x.png[/image]\n", 2, "unknown attribute"),
    ("[narration]a[/narration]\n[title]one[/title]\n[title]two[/title]\n", 3, "a second [title]"),
    ("[title]only a title[/title]\n", 1, "no [narration]"),
    ("[title]x[/title]\n[thumbnail]far too many words for a thumbnail to hold here[/thumbnail]\n[narration]a[/narration]\n", 2,
     "thumbnail.text: thumbnail text has 10 words"),
    ("[narration]a[/narration]\n[slide]\n# " + "long " * 15 + "\n[/slide]\n", 2, "the slide title has 74 characters"),
])
def test_errors_point_at_lines(text, line, message):
    with pytest.raises(SpecError) as err:
        parse(text, "my.txt")
    d = next(d for d in err.value.diagnostics if message in d.message)
    assert d.file == "my.txt" and d.line == line, err.value.render()
    assert f"my.txt:{line}:" in err.value.render()


def test_a_forgotten_closing_tag_never_swallows_the_next_scenes():
    text = ("[narration]One.[/narration]\n"
            "[slide]\n# First\n- a point\n\n"  # [/slide] forgotten
            "[narration]Two.[/narration]\n[image]media/x.png[/image]\n\n"
            "[narration]Three.[/narration]\n[slide]\n# Second\n[/slide]\n")
    with pytest.raises(SpecError) as err:
        parse(text, "my.txt")
    d = err.value.diagnostics[0]
    assert (d.line, d.col) == (2, 1), err.value.render()
    assert d.message == "[slide] is not closed before the next [slide] at line 10:1: add [/slide] after its text"
    assert err.value.render().startswith("my.txt:2:1: [slide] is not closed")
    assert len(err.value.diagnostics) == 1  # the scenes after it parse as usual
    with pytest.raises(SpecError) as err:  # the same for narration
        parse("[narration]One.\n\n[narration]Two.[/narration]\n", "my.txt")
    assert "my.txt:1:1: [narration] is not closed before the next [narration] at line 3:1" in err.value.render()
    # brackets of other tags inside a block stay text
    s = parse("[narration]Say [slide] and [pause] aloud.[/narration]\n", "my.txt")
    assert s.scenes[0].narration == "Say [slide] and [pause] aloud."
    with pytest.raises(ValueError, match="cannot be exported"):
        export(Script.model_validate({"scenes": [{"narration": "a [narration] inside"}]}))


def test_durations():
    assert [parse_duration(x) for x in ("90", "90s", "1:30", "2 min", "2m30s", "1.5 minutes", "later")] == \
           [90, 90, 90, 120, 150, 90, None]


def test_import_and_export_commands(tmp_path, capsys):
    import shutil

    from compiler.cli import main

    root = tmp_path / "proj"
    for d in ("brands", "recipes"):
        shutil.copytree(REPO / d, root / d, ignore=shutil.ignore_patterns("node_modules"))
    (root / "videos" / "kitchenlab" / "media").mkdir(parents=True)
    for f in ("crust.jpg", "bubbles.mp4"):
        shutil.copy(REPO / "videos/kitchenlab/media" / f, root / "videos/kitchenlab/media" / f)
    pasted = tmp_path / "pasted.txt"
    pasted.write_text(textwrap.dedent("""\
        [title]Searing, Explained[/title]
        [narration]Dry the steak first.[/narration]
        [image]media/crust.jpg[/image]
        [narration]Then a hot pan.[/narration]
        [slide]
        # Hot pan
        - Very hot
        [/slide]
        """))
    assert main(["--root", str(root), "import-script", str(pasted), "kitchenlab/searing"]) == 0
    lock = root / "videos/kitchenlab/searing.script.yaml"
    assert "imported from pasted.txt" in lock.read_text() and (root / "videos/kitchenlab/searing.yaml").is_file()
    lv = load_project(root, only={"kitchenlab/searing"}).videos["kitchenlab/searing"]
    assert lv.script.title == "Searing, Explained" and lv.script.generated is None and len(lv.script.scenes) == 2
    assert main(["--root", str(root), "import-script", str(pasted), "kitchenlab/searing"]) == 1  # exists
    capsys.readouterr()
    assert main(["--root", str(root), "export-script", "kitchenlab/searing"]) == 0
    out = capsys.readouterr().out
    assert "[narration]Dry the steak first.[/narration]" in out and parse(out) == lv.script
    bad = tmp_path / "bad.txt"
    bad.write_text("[title]x[/title]\n[narration]hi\n")
    assert main(["--root", str(root), "import-script", str(bad), "kitchenlab/other", "--force"]) == 1
    assert "bad.txt:2:1: [narration] is never closed" in capsys.readouterr().err


def test_yaml_inside_tag_blocks_follows_the_spec_rules():
    """An alias bomb or a python tag pasted into a [manim] or [settings] block is refused like in a spec."""
    from compiler.tagformat import parse

    laughs = "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]"
    text = ("[narration]One.[/narration]\n[manim]\ntemplate: bullet_reveal\nparams:\n  " + laughs.replace("\n", "\n  ")
            + "\n[/manim]\n[narration]Two.[/narration]\n[settings]\nvoice: !!python/name:os.system\n[/settings]\n")
    with pytest.raises(SpecError) as exc:
        parse(text, "pasted.txt")
    rendered = exc.value.render()
    assert "[manim] holds invalid YAML: YAML anchors and aliases" in rendered
    assert "is not allowed in specs" in rendered and "[settings]" in rendered
