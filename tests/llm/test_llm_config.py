"""LLM configuration and stage-1 compiling: layering, environment, checks, pending reasons (pure, fast)."""
from __future__ import annotations

import json

import pytest

from compiler.load import load_project
from compiler.plan import compile_plan
from compiler.scriptplan import compile_script_plan, llm_config
from llmproject import make_project, write

VID = "toast/toast"
BRAND_LLM = "{provider: gemini, model: gemini-brand, temperature: 0.3, api_key_env: MY_GEMINI_API_KEY}"


def project(tmp_path, base, llm=BRAND_LLM, extra=""):
    return make_project(base, tmp_path / "proj", llm, extra)


def test_video_overrides_brand_field_by_field(tmp_path, _llm_base):
    root = project(tmp_path, _llm_base)
    spec = root / "videos/toast/toast.yaml"
    spec.write_text(spec.read_text() + "llm: {model: gemini-video, max_repairs: 4}\n")
    p = load_project(root)
    cfg = llm_config(p, p.videos[VID], env={})
    assert (cfg.provider, cfg.model, cfg.temperature, cfg.max_repairs, cfg.api_key_env) == \
           ("gemini", "gemini-video", 0.3, 4, "MY_GEMINI_API_KEY")


def test_environment_is_the_fallback_and_knows_local_servers(tmp_path, _llm_base):
    root = project(tmp_path, _llm_base, llm=None)
    p = load_project(root)
    lv = p.videos[VID]
    assert llm_config(p, lv, env={}) is None
    cfg = llm_config(p, lv, env={"SHOWRUNNER_LLM_PROVIDER": "lmstudio", "SHOWRUNNER_LLM_MODEL": "llama-3.1-8b"})
    assert (cfg.provider, cfg.base_url, cfg.model) == ("openai", "http://localhost:1234/v1", "llama-3.1-8b")
    root2 = make_project(_llm_base, tmp_path / "p2", BRAND_LLM)
    p2 = load_project(root2)
    assert llm_config(p2, p2.videos[VID], env={"SHOWRUNNER_LLM_PROVIDER": "ollama"}).model == "gemini-brand"
    bad = compile_script_plan(p, env={"SHOWRUNNER_LLM_PROVIDER": "chatgpt-web"})
    assert "invalid LLM configuration" in bad.errors[VID]


def test_script_step_params_have_the_brand_voice_and_no_secret(tmp_path, _llm_base, monkeypatch):
    monkeypatch.setenv("MY_GEMINI_API_KEY", "AIza-very-secret")
    root = project(tmp_path, _llm_base, extra="creator_examples: [examples/toast-1.md]\n")
    plan = compile_script_plan(load_project(root), env={})
    step = plan.steps[f"{VID}/script"]
    assert step.kind == "script.llm" and step.video == VID
    p = step.params
    assert p["brand"]["niche"] == "the science of breakfast" and p["brand"]["banned_phrases"] == ["hack"]
    assert p["words_per_minute"] == 170 * 1.3 and p["limit_s"] == 600 and p["target_s"] == 240
    assert "slide" in p["kinds"] and p["media"] == ["media/pic.png"] and "clip" not in p["kinds"]
    assert step.inputs["research"][0].file == "videos/toast/research/toast.md"
    assert step.inputs["examples"][0].file == "brands/examples/toast-1.md"
    assert step.inputs["prompt_create"].file == "recipes/prompts/create.md.j2"
    assert "AIza-very-secret" not in plan.model_dump_json() and p["llm"]["api_key_env"] == "MY_GEMINI_API_KEY"


def test_visual_kinds_can_be_restricted(tmp_path, _llm_base):
    root = project(tmp_path, _llm_base, llm="{provider: openai, model: m, base_url: 'http://127.0.0.1:1/v1', visuals: [slide]}")
    step = compile_script_plan(load_project(root), env={}).steps[f"{VID}/script"]
    assert step.params["kinds"] == ["slide"]


def test_pending_reasons_in_stage_two(tmp_path, _llm_base, monkeypatch):
    monkeypatch.delenv("SHOWRUNNER_LLM_PROVIDER", raising=False)
    plan = compile_plan(load_project(project(tmp_path, _llm_base)))
    assert "doit script" in plan.pending[VID] and "toast/hand" in plan.videos
    plan = compile_plan(load_project(make_project(_llm_base, tmp_path / "none", None)))
    assert "no LLM provider is configured" in plan.pending[VID]


def test_spec_checks_for_generation(tmp_path, _llm_base):
    root = project(tmp_path, _llm_base)
    write(root / "videos/toast/toast.yaml", "topic: Toast\nformat: tiny\ntarget_length: 900\nresearch: [nope.md]\n")
    p = load_project(root)
    err = p.errors[VID].render()
    assert "videos/toast/toast.yaml:4:" in err and "research file 'nope.md' not found" in err
    write(root / "videos/toast/toast.yaml", "topic: Toast\nformat: tiny\ntarget_length: 900\n")
    plan = compile_script_plan(load_project(root), env={})
    assert "videos/toast/toast.yaml:3:" in plan.errors[VID] and "over the 600 s limit of format 'tiny'" in plan.errors[VID]
    write(root / "brands/toast.yaml", (root / "brands/toast.yaml").read_text().replace(
        "api_key_env: MY_GEMINI_API_KEY", "api_key_env: AIzaSyDUMMYDUMMY"))
    err = load_project(root).errors["brands/toast.yaml"].render()
    assert "never the key itself" in err and "brands/toast.yaml:" in err


def test_avatar_scripts_are_limited_to_five_minutes(tmp_path, _llm_base):
    root = project(tmp_path, _llm_base)
    long = " ".join(["word"] * 1200)
    write(root / "videos/toast/talk.yaml", "format: tiny\nscenes:\n  - narration: " + long + "\n    visual: {kind: avatar}\n")
    err = load_project(root).errors["toast/talk"].render()
    assert "too long for avatar videos" in err and "limit 300 s" in err


def test_plan_json_of_stage_one_is_printable(tmp_path, _llm_base):
    plan = compile_script_plan(load_project(project(tmp_path, _llm_base)), env={})
    data = json.loads(plan.model_dump_json())
    assert list(data["steps"]) == [f"{VID}/script"]


# ------------------------------------------- where requests go (issue 9.4) --

def test_a_video_cannot_choose_the_endpoint_or_the_key(tmp_path, _llm_base):
    """A video's `llm:` may tune the run, never redirect it: with `base_url` it could send its research
    files, with any environment variable as the Bearer token, to a server of its choosing."""
    root = project(tmp_path, _llm_base)
    spec = root / "videos/toast/toast.yaml"
    topic = spec.read_text()
    spec.write_text(topic + "llm: {model: m, base_url: 'http://evil.example/v1'}\n")
    err = load_project(root).errors[VID].render()
    assert "videos/toast/toast.yaml:5:" in err and "llm.base_url: llm.base_url is machine or brand configuration" in err
    assert "brands/<brand>.yaml" in err and "SHOWRUNNER_LLM_BASE_URL" in err
    spec.write_text(topic + "llm:\n  model: m\n  api_key_env: OPENAI_API_KEY\n")
    err = load_project(root).errors[VID].render()
    assert "videos/toast/toast.yaml:7:16: llm.api_key_env:" in err and "never set by a video" in err
    plan = compile_script_plan(load_project(root), env={})
    assert f"{VID}/script" not in plan.steps


def test_the_brand_and_the_machine_choose_the_endpoint(tmp_path, _llm_base):
    root = project(tmp_path, _llm_base, llm="{provider: openai, model: m, base_url: 'http://127.0.0.1:9/v1', "
                                            "api_key_env: LOCAL_LLM_API_KEY}")
    p = load_project(root)
    cfg = llm_config(p, p.videos[VID], env={})
    assert (cfg.base_url, cfg.api_key_env) == ("http://127.0.0.1:9/v1", "LOCAL_LLM_API_KEY")
    root = project(tmp_path / "env", _llm_base, llm=None)
    p = load_project(root)
    cfg = llm_config(p, p.videos[VID], env={"SHOWRUNNER_LLM_PROVIDER": "openai",
                                            "SHOWRUNNER_LLM_BASE_URL": "http://127.0.0.1:8/v1"})
    assert cfg.base_url == "http://127.0.0.1:8/v1"


@pytest.mark.parametrize("name", ["HOME", "PATH", "AWS_SECRET_ACCESS_KEY", "my_api_key", "API_KEY", "X_API_KEY_2"])
def test_key_variables_must_be_api_keys(tmp_path, _llm_base, name):
    root = project(tmp_path, _llm_base, llm=f"{{provider: gemini, model: m, api_key_env: {name}}}")
    err = load_project(root).errors["brands/toast.yaml"].render()
    assert "brands/toast.yaml:" in err and "llm.api_key_env:" in err and "ends in _API_KEY" in err
    root = make_project(_llm_base, tmp_path / "avatar", None, f"avatar: {{avatar_id: a1, api_key_env: {name}}}\n")
    err = load_project(root).errors["brands/toast.yaml"].render()
    assert "brands/toast.yaml:" in err and "avatar.api_key_env:" in err and "ends in _API_KEY" in err


@pytest.mark.parametrize("ref", ["/etc/passwd", "../../../../../../etc/passwd", "research/link.md"])
def test_research_outside_the_project_is_refused(tmp_path, _llm_base, ref):
    root = project(tmp_path, _llm_base)
    (root / "videos/toast/research/link.md").symlink_to("/etc/passwd")
    write(root / "videos/toast/toast.yaml", f"topic: Toast\nformat: tiny\nresearch: ['{ref}']\n")
    p = load_project(root)
    err = p.errors[VID].render()
    assert "videos/toast/toast.yaml:3:" in err and "research[0]:" in err
    assert "must be inside the project" in err or "absolute path" in err
    plan = compile_script_plan(p, env={})
    assert "/etc/passwd" not in plan.model_dump_json(exclude={"errors"})
