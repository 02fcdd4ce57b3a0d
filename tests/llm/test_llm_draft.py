"""The structured form: built from pydantic models per video, a schema providers accept, precise problems."""
from __future__ import annotations

import json
import textwrap

from compiler.catalogue import remotion_props
from renderers._lib.script_draft import (Catalog, check_reply, draft_model, fit_reply, llm_schema, load_manim_template,
                                        script_json, shorten)

TEMPLATE = '''\
"""Steps: a numbered list revealed one by one.

More text that the prompt does not need.
"""
from pydantic import BaseModel, ConfigDict, Field


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = ""
    steps: list[str] = Field(min_length=1, max_length=5)


def construct(scene, p, sr):
    import manim  # never imported just to read the params
'''

ROOT_TSX = """
export const Root = () => (<>
  <Composition id="Card" component={Card} defaultProps={{...defaultBase, title: 'x'}} />
</>);
"""
CARD_TSX = "export type CardProps = BaseProps & {title: string; subtitle?: string; n?: number};\n"


def catalog(tmp_path) -> Catalog:
    tpl = tmp_path / "recipes/manim/steps.py"
    tpl.parent.mkdir(parents=True)
    tpl.write_text(TEMPLATE)
    src = tmp_path / "recipes/remotion/src"
    src.mkdir(parents=True)
    (src / "Root.tsx").write_text(ROOT_TSX)
    (src / "Card.tsx").write_text(CARD_TSX)
    return Catalog(kinds=["slide", "manim", "remotion", "image", "clip"], media=["media/pic.png"],
                   manim={"steps": load_manim_template(tpl)}, remotion=remotion_props(tmp_path))


def reply(*visuals, **top) -> str:
    data = {"title": "Toast", "alt_titles": ["A", "B"], "description": "d", "tags": ["t"], "thumbnail_text": "T",
            "thumbnail_prompt": "p", "scenes": [{"narration": f"Scene {i}.", "chapter": "", "visual": v}
                                                 for i, v in enumerate(visuals)]}
    data.update(top)
    return json.dumps(data)


def test_catalog_reads_templates_and_compositions(tmp_path):
    cat = catalog(tmp_path)
    assert cat.remotion == {"Card": {"title": {"type": "string", "required": True},
                                     "subtitle": {"type": "string", "required": False},
                                     "n": {"type": "number", "required": False}}}
    menu = {(m["kind"], m["name"]): m for m in cat.menu()}
    assert menu[("manim", "steps")]["doc"] == "Steps: a numbered list revealed one by one."
    assert menu[("manim", "steps")]["params"] == "title?, steps"
    assert ("clip", "") not in menu and menu[("image", "")]["params"] == "file: one of media/pic.png"


def test_schema_is_inlined_and_conservative(tmp_path):
    schema = llm_schema(draft_model(catalog(tmp_path)))
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text and "oneOf" not in text and "discriminator" not in text
    assert "const" not in text and "default" not in text
    visual = schema["properties"]["scenes"]["items"]["properties"]["visual"]
    kinds = [v["properties"]["kind"]["enum"][0] for v in visual["anyOf"]]
    assert sorted(kinds) == ["image", "manim", "remotion", "slide"]
    manim = next(v for v in visual["anyOf"] if v["properties"]["kind"]["enum"] == ["manim"])
    assert manim["properties"]["template"]["enum"] == ["steps"]
    assert manim["properties"]["params"]["properties"]["steps"]["maxItems"] == 5
    assert schema["required"] == list(schema["properties"])


def test_valid_reply_becomes_a_script(tmp_path):
    form = draft_model(catalog(tmp_path))
    problems, script = check_reply("```json\n" + reply(
        {"kind": "slide", "title": "Hi", "bullets": ["a"]},
        {"kind": "manim", "template": "steps", "params": {"steps": ["one", "two"]}},
        {"kind": "remotion", "composition": "Card", "props": {"title": "Toast"}},
        {"kind": "image", "file": "media/pic.png"}) + "\n```", form, [])
    assert problems == []
    kinds = [sc.visual.kind for sc in script.scenes]
    assert kinds == ["slide", "manim", "remotion", "image"]
    assert script.scenes[1].visual.params == {"steps": ["one", "two"]}
    assert script.scenes[2].visual.props == {"title": "Toast"}
    assert json.loads(json.dumps(script_json(script)))["scenes"][0]["visual"] == {"kind": "slide", "title": "Hi", "bullets": ["a"]}


def test_problems_are_precise_and_actionable(tmp_path):
    form = draft_model(catalog(tmp_path))
    problems, script = check_reply(reply(
        {"kind": "manim", "template": "steps", "params": {}},
        {"kind": "video", "file": "x"},
        {"kind": "image", "file": "media/other.png"},
        {"kind": "slide", "title": "Try this hack", "bullets": []}), form, ["hack"])
    assert script is None
    text = "\n".join(problems)
    assert "scenes[0].visual.params.steps: Field required" in text
    assert "scenes[1].visual: unknown visual; use one of:" in text
    assert "scenes[2].visual.file: Input should be 'media/pic.png'" in text
    long = "word " * 130
    problems, _ = check_reply(reply({"kind": "slide", "title": "x", "bullets": []}, title="Toast <b>",
                                    scenes=[{"narration": long + " hack", "chapter": "", "visual": {"kind": "slide", "title": "x"}}]),
                              form, ["hack"])
    text = "\n".join(problems)
    assert "title must be at most 100 characters" in text and "scenes[0].narration has 131 words" in text
    assert "scenes[0].narration uses the banned phrase 'hack'" in text
    assert check_reply("", form, [])[0] == ["the reply was empty; reply with the JSON object"]
    assert "not valid JSON" in check_reply('{"title": ', form, [])[0][0]


def test_a_broken_template_is_left_out(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text(textwrap.dedent("import not_a_module_anywhere\n"))
    assert load_manim_template(bad) is None


def test_schema_carries_the_length_limits(tmp_path):
    """A model that follows the schema cannot overshoot: the limits are in it, not only checked afterwards."""
    schema = llm_schema(draft_model(catalog(tmp_path)))
    top = schema["properties"]
    assert top["title"]["maxLength"] == 100
    assert top["alt_titles"]["maxItems"] == 5 and top["alt_titles"]["items"]["maxLength"] == 100
    assert top["thumbnail_text"]["maxLength"] == 40 and "at most 6 words" in top["thumbnail_text"]["description"]
    slide = next(v for v in top["scenes"]["items"]["properties"]["visual"]["anyOf"]
                 if v["properties"]["kind"]["enum"] == ["slide"])
    assert slide["properties"]["title"]["maxLength"] == 60
    bullets = slide["properties"]["bullets"]
    assert bullets["maxItems"] == 6 and bullets["items"]["maxLength"] == 90


def test_over_long_fields_are_shortened_locally(tmp_path):
    form = draft_model(catalog(tmp_path))
    long_title = "Why Toast Tastes So Much Better Than Bread: " + "the chemistry of browning, explained slowly " * 3
    fixed: list[str] = []
    problems, script = check_reply(reply(
        {"kind": "slide", "title": "A heading far too long for any slide to hold on one or two lines",
         "bullets": ["one", "two", "three", "four", "five", "six", "seven", "a " + "very " * 30 + "long bullet"]},
        title=long_title, alt_titles=["A", "B", "C", "D", "E", "F", "G"],
        thumbnail_text="THIS IS WHY YOUR TOAST TASTES BETTER THAN BREAD"), form, [], fixed)
    assert problems == [], problems
    assert len(script.title) <= 100 and script.title.endswith("…") and script.title.startswith("Why Toast")
    assert not script.title[:-1].endswith((" ", ",", "the"))
    assert script.alt_titles == ["A", "B", "C", "D", "E"]
    assert script.thumbnail.text == "THIS IS WHY YOUR TOAST TASTES"  # whole words, no ellipsis on a thumbnail
    vis = script.scenes[0].visual
    assert vis.title == "A heading far too long for any slide to hold on one or two" and len(vis.title) <= 60
    assert vis.bullets == ["one", "two", "three", "four", "five", "six"]
    assert any(f.startswith("title shortened to fit") for f in fixed) and "alt_titles: kept the first 5 of 7" in fixed
    # one over-long bullet among few: cut at a word with an ellipsis
    data = {"scenes": [{"visual": {"kind": "slide", "title": "x", "bullets": ["a " + "very " * 30 + "long bullet"]}}]}
    assert fit_reply(data) and data["scenes"][0]["visual"]["bullets"][0].endswith("very…")
    assert len(data["scenes"][0]["visual"]["bullets"][0]) <= 90
    assert shorten("Fine as it is", 40) == "Fine as it is"
    assert shorten("Toast tastes better than bread", 20) == "Toast tastes better…"
    assert shorten("One sentence. And a second one that is long", 20) == "One sentence."  # no dangling "And a"


def test_cut_off_drafts_are_recognised_and_joined():
    from renderers.script_llm import ends_mid_sentence, join_draft

    assert not ends_mid_sentence("Toast is great.\nVisual: slide")
    assert not ends_mid_sentence("Toast is great!\n**Visual:** a pan")
    assert not ends_mid_sentence("トーストは美味しい。")
    assert ends_mid_sentence("Toast is great.\nVisual: slide\n\nAnd then the sugar")
    assert ends_mid_sentence("Heat turns sugar and protein into,")
    assert join_draft("Inside the pa", "n, hundreds") == "Inside the pan, hundreds"
    assert join_draft("Inside the pan,", "hundreds") == "Inside the pan, hundreds"
    assert join_draft("Inside the pan", " hundreds") == "Inside the pan hundreds"
