"""Closest setting wins, in one place: scene > video > recipe > brand > built-in."""
from __future__ import annotations

from support import write
from compiler.load import load_project
from compiler.resolve import AVATAR_MAX_S, BUILTIN, Resolver


def resolver(root, vid="test/alpha"):
    project = load_project(root)
    return Resolver(project, project.videos[vid]), project.videos[vid]


def test_closest_layer_wins(mini):
    write(mini / "recipes/explainer.yaml", "formats: [tiny]\ndefaults: {pad: 0.4, transition: crossfade}\n")
    write(mini / "videos/test/gamma.yaml", """\
        format: tiny
        pad: 0.3
        scenes:
          - narration: One.
            pad: 0.1
            voice: joe
          - narration: Two.
        """)
    res, lv = resolver(mini, "test/gamma")
    one, two = lv.script.scenes
    assert res.setting("pad", one) == (0.1, "scene")
    assert res.setting("pad", two) == (0.3, "video")
    assert res.setting("transition", two) == ("crossfade", "recipe")
    assert res.setting("voice", two) == ("robot", "brand")
    assert res.setting("transition_s", two) == (BUILTIN["transition_s"], "builtin")
    assert res.voice(one).engine == "piper" and res.voice(two).engine == "espeak"
    assert res.voice().engine == "espeak"  # without a scene: the video's layers only
    assert res.slide_template(two) == "default" and res.slide_template(two, "dark") == "dark"
    assert res.motion(two) == "zoom_in" and res.motion(two, "pan_left") == "pan_left"


def test_limits_name_their_source(mini):
    assert resolver(mini)[0].script_limit([]).label == "the default limit"  # no format known, no brand cap
    write(mini / "brands/test.yaml", (mini / "brands/test.yaml").read_text() + "quality: {max_duration_s: 600}\n")
    res, lv = resolver(mini)
    # a tie between the format and the brand: the timeline names the format, the script prompt the brand
    assert res.limit("tiny", lv.script).source == "format 'tiny' (recipes/formats.yaml)"
    assert res.script_limit(["tiny"]).label == "brand 'test' quality.max_duration_s"
    assert res.script_limit(["tiny", "tinyshort"]).seconds == 20
    assert [lim.seconds for lim in res.limits(["tiny"], avatar=True)] == [600, 600, AVATAR_MAX_S]
