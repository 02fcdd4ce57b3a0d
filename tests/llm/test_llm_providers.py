"""Provider clients against fake servers that speak the real protocols (the real SDKs run)."""
from __future__ import annotations

import json

import pytest

from core.errors import StepError
from core.spec import Llm
from llmfakes import GEMINI_KEY, Turn
from clients.llm import make_client
from clients.llm.common import RETRY, Message, Usage, with_retries
from clients.retry import parse_retry_after

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}


def ask(llm: Llm, schema=None, retries: int = 4) -> tuple[str, Usage]:
    client = make_client(llm)
    usage = Usage(llm.provider, llm.model, llm.price_input_per_1m, llm.price_output_per_1m)
    reply = with_retries(lambda: client.complete("be brief", [Message("user", "hello")], schema),
                         max_retries=retries, usage=usage, what="testing")
    return reply.text, usage


def gem(server, **kw) -> Llm:
    return Llm(provider="gemini", model="gemini-test", base_url=server.url, timeout_s=kw.pop("timeout_s", 5), **kw)


def oai(server, **kw) -> Llm:
    return Llm(provider="openai", model="qwen-test", base_url=server.url + "/v1", timeout_s=kw.pop("timeout_s", 5), **kw)


# ---------------------------------------------------------------- gemini --

def test_gemini_structured_success_sends_schema_and_counts_tokens(gemini, brain, sleeps):
    brain.push('{"title": "ok"}')
    text, usage = ask(gem(gemini, price_input_per_1m=1.0, price_output_per_1m=2.0), SCHEMA)
    assert json.loads(text) == {"title": "ok"}
    req = brain.requests[0]
    assert req["path"] == "/v1beta/models/gemini-test:generateContent"
    cfg = req["body"]["generationConfig"]
    assert cfg["responseMimeType"] == "application/json" and cfg["responseJsonSchema"] == SCHEMA
    assert req["body"]["systemInstruction"]["parts"][0]["text"] == "be brief"
    assert req["body"]["contents"][0] == {"parts": [{"text": "hello"}], "role": "user"}
    assert usage.calls == 1 and usage.input_tokens > 0 and usage.output_tokens > 0 and sleeps == []
    assert usage.cost_usd == pytest.approx(usage.input_tokens / 1e6 + 2 * usage.output_tokens / 1e6)


def test_gemini_429_honours_retry_info_delay(gemini, brain, sleeps):
    brain.push(Turn(status=429, retry_after=7), "fine")
    text, usage = ask(gem(gemini))
    assert text == "fine" and usage.retries == 1 and brain.calls == 2
    assert len(sleeps) == 1 and 7.0 <= sleeps[0] <= 8.0  # the server's delay, plus a little jitter


def test_gemini_500s_back_off_exponentially_then_succeed(gemini, brain, sleeps):
    brain.push(Turn(status=500), Turn(status=503), Turn(status=500), "third time lucky")
    text, usage = ask(gem(gemini))
    assert text == "third time lucky" and usage.retries == 3
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0 and 2.0 <= sleeps[2] <= 4.0
    assert [f.split(":")[0] for f in usage.failures] == ["500", "503", "500"]


def test_gemini_gives_up_after_max_retries(gemini, brain, sleeps):
    brain.push(*[Turn(status=500)] * 3)
    with pytest.raises(StepError, match=r"gave up after 3 attempt"):
        ask(gem(gemini), retries=2)
    assert brain.calls == 3 and len(sleeps) == 2


def test_gemini_timeout_is_retried(gemini, brain, sleeps):
    brain.push(Turn(text="late", hang=2.5), "on time")
    text, usage = ask(gem(gemini, timeout_s=1))
    assert text == "on time" and usage.retries == 1 and usage.failures[0].startswith("timeout")


def test_gemini_bad_request_fails_at_once_without_leaking_the_key(gemini, brain, sleeps, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "wrong-key-123")
    with pytest.raises(StepError) as err:
        ask(gem(gemini))
    assert "HTTP 400" in str(err.value) and "wrong-key-123" not in str(err.value)
    assert brain.calls == 1 and sleeps == []


def test_gemini_missing_key_names_the_variable(gemini, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(StepError, match=r"GEMINI_API_KEY is not set"):
        make_client(gem(gemini))
    monkeypatch.setenv("MY_GEMINI_API_KEY", GEMINI_KEY)
    make_client(gem(gemini, api_key_env="MY_GEMINI_API_KEY"))


# ---------------------------------------------------------------- openai --

def test_openai_structured_success_uses_json_schema_format(openai_server, brain, sleeps):
    brain.push('{"title": "ok"}')
    text, usage = ask(oai(openai_server), SCHEMA)
    assert json.loads(text) == {"title": "ok"}
    body = brain.requests[0]["body"]
    assert body["response_format"] == {"type": "json_schema",
                                       "json_schema": {"name": "script", "schema": SCHEMA, "strict": False}}
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert brain.requests[0]["path"] == "/v1/chat/completions"
    assert usage.input_tokens > 0 and usage.output_tokens > 0


def test_openai_429_honours_retry_after(openai_server, brain, sleeps):
    brain.push(Turn(status=429, retry_after=3), "ok")
    text, usage = ask(oai(openai_server))
    assert text == "ok" and len(sleeps) == 1 and 3.0 <= sleeps[0] <= 3.31


def test_openai_500_then_timeout_then_success(openai_server, brain, sleeps):
    brain.push(Turn(status=502), Turn(text="slow", hang=2.5), "ok")
    text, usage = ask(oai(openai_server, timeout_s=1))
    assert text == "ok" and usage.retries == 2
    assert usage.failures[0].startswith("502") and usage.failures[1].startswith("timeout")


def test_openai_local_server_needs_no_key_but_openai_does(openai_server, brain, monkeypatch):
    brain.push("ok")
    assert ask(oai(openai_server))[0] == "ok"
    assert brain.requests[0]["headers"].get("authorization") == "Bearer no-key-needed"
    with pytest.raises(StepError, match="OPENAI_API_KEY is not set"):
        make_client(Llm(provider="openai", model="gpt-test"))
    monkeypatch.setenv("LOCAL_LLM_API_KEY", "sekrit-local")
    brain.push("ok")
    ask(oai(openai_server, api_key_env="LOCAL_LLM_API_KEY"))
    assert brain.requests[-1]["headers"].get("authorization") == "Bearer sekrit-local"


def test_unreachable_server_is_transient_then_fails(sleeps):
    llm = Llm(provider="openai", model="m", base_url="http://127.0.0.1:9/v1", timeout_s=2)
    with pytest.raises(StepError, match="cannot reach"):
        ask(llm, retries=1)
    assert len(sleeps) == 1


# ---------------------------------------------------------------- helpers --

def test_backoff_and_retry_after_parsing():
    import random

    rng = random.Random(1)
    policy = RETRY.replace(random=rng.random)
    delays = [policy.delay(i + 1) for i in range(8)]
    assert all(2 ** i / 2 <= d <= 2 ** i for i, d in enumerate(delays[:6]))
    assert max(delays) <= 60
    assert parse_retry_after("12") == 12 and parse_retry_after(None) is None
    assert 0 <= parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") < 1  # a date in the past: now


def test_gemini_endpoint_without_string_lengths_gets_the_schema_without_them(gemini, brain, sleeps):
    """String lengths are sent; an endpoint whose schema subset refuses them is asked once more without."""
    brain.refuse_lengths = True
    schema = {"type": "object", "properties": {"title": {"type": "string", "maxLength": 100},
                                               "maxLength": {"type": "string", "minLength": 1}},
              "required": ["title", "maxLength"]}
    brain.push('{"title": "ok", "maxLength": "x"}', '{"title": "again", "maxLength": "y"}')
    llm = gem(gemini)
    client = make_client(llm)
    usage = Usage(llm.provider, llm.model)
    reply = with_retries(lambda: client.complete("", [Message("user", "hi")], schema), max_retries=0, usage=usage,
                         what="testing")
    assert json.loads(reply.text)["title"] == "ok" and brain.calls == 2 and usage.retries == 0
    sent = [r["body"]["generationConfig"]["responseJsonSchema"] for r in brain.requests]
    assert sent[0] == schema
    assert sent[1] == {"type": "object", "properties": {"title": {"type": "string"}, "maxLength": {"type": "string"}},
                       "required": ["title", "maxLength"]}
    client.complete("", [Message("user", "hi")], schema)  # remembered: no refused request any more
    assert brain.calls == 3 and "maxLength" not in json.dumps(brain.requests[2]["body"]["generationConfig"]
                                                              ["responseJsonSchema"]["properties"]["title"])
