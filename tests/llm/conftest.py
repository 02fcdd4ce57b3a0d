"""Fixtures for script generation: fake Gemini / OpenAI-compatible servers and a tiny topic-video project."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
for p in (str(REPO), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from llmfakes import DRAFT, GEMINI_KEY, Brain, FakeServer, GeminiHandler, OpenAIHandler, script_dict  # noqa: E402
from llmproject import FORMATS, HAND, TOPIC, make_project, write  # noqa: E402


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("SHOWRUNNER_LLM_PROVIDER", "SHOWRUNNER_LLM_MODEL", "SHOWRUNNER_LLM_BASE_URL", "GEMINI_API_KEY",
                 "GOOGLE_API_KEY", "OPENAI_API_KEY", "LOCAL_LLM_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def sleeps(monkeypatch):
    """Retries record their waits here instead of sleeping."""
    import clients.llm.common as common

    waits: list[float] = []
    monkeypatch.setattr(common, "RETRY", common.RETRY.replace(sleep=waits.append))
    return waits


@pytest.fixture
def brain() -> Brain:
    return Brain(draft=DRAFT, script=script_dict())


@pytest.fixture
def gemini(brain, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    srv = FakeServer(GeminiHandler, brain)
    yield srv
    srv.close()


@pytest.fixture
def openai_server(brain):
    srv = FakeServer(OpenAIHandler, brain)
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def _llm_base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("llm-base")
    shutil.copytree(REPO / "recipes" / "templates", root / "recipes" / "templates")
    shutil.copytree(REPO / "recipes" / "prompts", root / "recipes" / "prompts")
    write(root / "recipes" / "formats.yaml", FORMATS)
    write(root / "recipes" / "explainer.yaml", "formats: [tiny]\n")
    (root / "brands" / "media").mkdir(parents=True)
    shutil.copy(REPO / "brands" / "media" / "cosmos-logo.svg", root / "brands" / "media" / "logo.svg")
    media = root / "videos" / "toast" / "media"
    media.mkdir(parents=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=400x300:d=1", "-frames:v", "1",
                    str(media / "pic.png")], check=True)
    write(root / "videos" / "toast" / "research" / "toast.md",
          "# Toast\n\nToasting browns bread through the Maillard reaction above about 140 C.\n"
          "Source: a kitchen chemistry book.\n")
    write(root / "videos" / "toast" / "toast.yaml", TOPIC)
    write(root / "videos" / "toast" / "hand.yaml", HAND)
    write(root / "brands" / "examples" / "toast-1.md",
          "Here's the thing about breakfast: it is chemistry you can eat. Short sentences. Big flavour.\n")
    return root


@pytest.fixture
def gemini_project(tmp_path, _llm_base, gemini) -> Path:
    llm = (f"{{provider: gemini, model: gemini-test, base_url: '{gemini.url}', timeout_s: 5, "
           "price_input_per_1m: 0.3, price_output_per_1m: 2.5}")
    return make_project(_llm_base, tmp_path / "proj", llm)


@pytest.fixture
def openai_project(tmp_path, _llm_base, openai_server) -> Path:
    llm = f"{{provider: openai, model: qwen-test, base_url: '{openai_server.url}/v1', timeout_s: 5}}"
    return make_project(_llm_base, tmp_path / "proj", llm)
