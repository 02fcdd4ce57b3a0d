"""Variants (issue 11): a video's `variant:` picks declared arms; the compiler applies them like any setting."""
from __future__ import annotations

from support import BRAND, session, write
from compiler.load import load_project
from compiler.resolve import Resolver
from compiler.scriptplan import notes_for_writer

VARIANTS = """\
variants:
  voice: [robot, joe]
  template:
    - {name: plain, value: default}
    - {name: loud, value: bold}
  thumbnail_template:
    - {name: classic, value: default}
    - {name: missing, value: nope}
  title_style:
    - {name: question, value: Phrase the title as a question.}
    - {name: statement, value: Phrase the title as a plain statement.}
"""


def _project(mini, variant: str):
    write(mini / "brands/test.yaml", BRAND + VARIANTS)
    write(mini / "videos/test/beta.yaml", (mini / "videos/test/beta.yaml").read_text() + variant)
    return mini


def test_assigned_arms_reach_the_steps(mini):
    _project(mini, "variant: {voice: joe, template: loud, thumbnail_template: classic, title_style: question}\n")
    project = load_project(mini)
    res = Resolver(project, project.videos["test/beta"])
    assert res.setting("voice") == ("joe", "variant")  # beats the brand default (robot)
    assert res.setting("template") == ("bold", "variant")
    assert res.thumbnail_template(res.thumbnail(project.videos["test/beta"].script)) == "default"
    assert res.title_style() == "Phrase the title as a question."
    plan = session(mini).plan()
    assert not plan.errors, plan.errors
    assert plan.steps["test/beta/narration/00"].kind == "tts.piper"  # the joe voice
    other = plan.steps["test/alpha/narration/00"].kind  # no assignment: the brand's robot
    assert other == "tts.espeak"


def test_a_video_setting_beats_its_arm(mini):
    _project(mini, "voice: robot\nvariant: {voice: joe}\n")
    project = load_project(mini)
    assert Resolver(project, project.videos["test/beta"]).setting("voice") == ("robot", "video")


def test_unknown_arms_and_bad_values_are_spec_errors(mini):
    _project(mini, "variant: {voice: alto, thumbnail_template: missing}\n")
    errors = session(mini).check().errors
    text = errors["test/beta"]
    assert "unknown voice arm 'alto' (declared: robot, joe)" in text and "videos/test/beta.yaml:" in text
    assert "unknown thumbnail template 'nope'" in text and "brands/test.yaml:" in text


def test_an_undeclared_dimension_is_an_error(mini):
    write(mini / "videos/test/beta.yaml", (mini / "videos/test/beta.yaml").read_text() + "variant: {voice: joe}\n")
    assert "variant dimension 'voice' is not declared" in session(mini).check().errors["test/beta"]


def test_variants_need_two_distinct_arms(mini):
    write(mini / "brands/test.yaml", BRAND + "variants: {voice: [joe]}\n")
    text = "\n".join(session(mini).check().errors.values())
    assert "needs at least two arms" in text
    write(mini / "brands/test.yaml", BRAND + "variants: {voice: [joe, joe]}\n")
    assert "appear twice" in "\n".join(session(mini).check().errors.values())


def test_the_title_style_goes_to_the_script_writer():
    assert notes_for_writer("Upbeat.", None) == "Upbeat."
    assert notes_for_writer("Upbeat.", "Ask a question.") == "Upbeat.\n\nTitle style: Ask a question."
    assert notes_for_writer("", "Ask a question.") == "Title style: Ask a question."


def test_a_prompt_template_arm_replaces_the_prompts_its_folder_holds(mini):
    import shutil

    from support import REPO
    from compiler.scriptplan import compile_script_plan

    shutil.copytree(REPO / "recipes/prompts", mini / "recipes/prompts")
    write(mini / "recipes/prompts/punchy/create.md.j2", "Write a punchy script about {{ topic }}.\n")
    write(mini / "brands/test.yaml", BRAND + "variants:\n  prompt_template:\n    - {name: plain, value: plain}\n"
                                            "    - {name: punchy, value: punchy}\n    - default\n")
    topic = "topic: why the sky is dark\nformat: tiny\n"
    write(mini / "videos/test/topic.yaml", topic + "variant: {prompt_template: punchy}\n")
    env = {"SHOWRUNNER_LLM_PROVIDER": "ollama", "SHOWRUNNER_LLM_MODEL": "m"}
    plan = compile_script_plan(load_project(mini), env=env)
    step = plan.steps["test/topic/script"]
    assert step.inputs["prompt_create"].file == "recipes/prompts/punchy/create.md.j2"
    assert step.inputs["prompt_system"].file == "recipes/prompts/system.md.j2"  # not in the folder: the default
    write(mini / "videos/test/topic.yaml", topic + "variant: {prompt_template: default}\n")
    plan = compile_script_plan(load_project(mini), env=env)
    assert plan.steps["test/topic/script"].inputs["prompt_create"].file == "recipes/prompts/create.md.j2"
    # an arm whose folder holds no prompt template is an error where the arm is declared
    write(mini / "videos/test/topic.yaml", topic + "variant: {prompt_template: plain}\n")
    text = session(mini).check().errors["test/topic"]
    assert "recipes/prompts/plain/ holds none of the prompt templates" in text and "brands/test.yaml:" in text
