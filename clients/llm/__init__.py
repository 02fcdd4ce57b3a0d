"""LLM provider clients: Gemini (google-genai) and OpenAI-compatible servers (openai).

`make_client(llm)` picks the provider's client; `common` holds the request/reply shape, the retry
policy and the usage accounting that every provider shares. common never imports a provider.
"""
from __future__ import annotations

from typing import Any

from core.errors import StepError


def make_client(llm: Any):
    """The provider client for an `Llm` config (heavy SDK imports happen here, at run time)."""
    if llm.provider == "gemini":
        from .gemini import GeminiClient

        return GeminiClient(llm)
    if llm.provider == "openai":
        from .openai_compat import OpenAIClient

        return OpenAIClient(llm)
    raise StepError(f"unknown LLM provider {llm.provider!r}", hint="use gemini or openai")
