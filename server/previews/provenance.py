"""A build manifest in readable form: what the video cost, and where each of its files came from."""
from __future__ import annotations

import datetime as dt
from typing import Any

from core.records import BuildManifest, Timing
from .schemas import AssetProvenance, AvatarUse, CostView, LlmCost

AVATAR_KINDS = ("avatar.heygen",)
PROVENANCE_ASSETS = ("video.mp4", "thumbnail.jpg", "captions.vtt", "captions.srt", "metadata.json")


def short(digest: str | None, n: int = 12) -> str:
    return (digest or "")[:n]


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def llm_price(brand_llm: Any, video_llm: Any) -> tuple[float, float]:
    """The price per 1M input/output tokens: the video's `llm:` where it sets one, else the brand's."""
    out = []
    for name in ("price_input_per_1m", "price_output_per_1m"):
        value = 0.0
        for llm in (brand_llm, video_llm):
            if llm is not None and name in getattr(llm, "model_fields_set", ()):
                value = float(getattr(llm, name) or 0.0)
        out.append(value)
    return out[0], out[1]


def llm_cost(script: dict[str, Any] | None, price: tuple[float, float]) -> LlmCost | None:
    """The script lock's usage (the manifest's `script` provenance: the lock's `generated.usage`, or the script
    step's facts) x `price`."""
    if not script:
        return None
    usage = script.get("usage") or {}
    facts = script.get("facts") or {}
    src = usage if ("input_tokens" in usage or "output_tokens" in usage) else facts
    tin, tout = int(_num(src.get("input_tokens")) or 0), int(_num(src.get("output_tokens")) or 0)
    recorded = _num(src.get("cost_usd"))
    pin, pout = price
    priced = round(tin / 1e6 * pin + tout / 1e6 * pout, 6) if (pin or pout) else recorded
    calls = _num(src.get("calls"))
    return LlmCost(provider=str(script.get("provider") or ""), model=str(script.get("model") or ""),
                   calls=int(calls) if calls is not None else None, input_tokens=tin, output_tokens=tout,
                   price_input_per_1m=pin, price_output_per_1m=pout, cost_usd=priced, recorded_usd=recorded)


def scene_of(step: str) -> int | None:
    last = step.rsplit("/", 1)[-1]
    return int(last) if last.isdigit() else None


def video_cost(m: BuildManifest, price: tuple[float, float] = (0.0, 0.0)) -> CostView:
    cost = CostView(llm=llm_cost(m.script, price))
    for sid, st in sorted(m.steps.items()):
        if st.kind in AVATAR_KINDS:
            facts = st.facts or {}
            seconds = _num(facts.get("duration_s")) or _num(facts.get("reported_duration_s")) or 0.0
            cost.avatar.append(AvatarUse(step=sid, scene=scene_of(sid), seconds=round(seconds, 3)))
    cost.avatar_minutes = round(sum(a.seconds for a in cost.avatar) / 60, 2)
    cost.total_usd = cost.llm.cost_usd if cost.llm is not None else None
    return cost


def _started(t: Timing | None) -> str:
    if t is None or not t.started:
        return ""
    return dt.datetime.fromtimestamp(t.started, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def tool_lines(tools: dict[str, Any] | None) -> list[str]:
    """A tool fingerprint as short "name version" lines (nested dicts flattened, digests shortened)."""
    lines: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k in sorted(value):
                walk(f"{prefix}.{k}" if prefix else str(k), value[k])
        elif isinstance(value, (list, tuple)):
            lines.append(f"{prefix} {', '.join(map(str, value))}")
        else:
            text = str(value)
            if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
                text = short(text)
            name = prefix.rsplit(".", 1)[-1]
            lines.append(text if not prefix or text.lower().startswith(name.lower()) else f"{prefix} {text}")

    walk("", tools or {})
    return lines[:20]


def asset_provenance(m: BuildManifest) -> list[AssetProvenance]:
    names = [n for n in PROVENANCE_ASSETS if n in m.assets] + sorted(n for n in m.assets if n not in PROVENANCE_ASSETS)
    out = []
    for name in names:
        a = m.assets[name]
        step = m.steps.get(a.step)
        tools = a.tools if a.tools is not None else (step.tools if step else None)
        timing = a.timing or (step.timing if step else None)
        out.append(AssetProvenance(name=name, digest=short(a.digest), size=a.size, step=a.step,
                                   kind=a.kind or (step.kind if step else None),
                                   version=a.version if a.version is not None else (step.version if step else None),
                                   key=short(a.key or (step.key if step else "")), tools=tool_lines(tools),
                                   seconds=round(timing.seconds, 2) if timing else None, started=_started(timing)))
    return out
