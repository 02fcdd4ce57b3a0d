"""Turning sentence timings into readable caption cues (shared by captions and burn-in)."""
from __future__ import annotations

import re

WORD_JOINER = "\u2060"  # invisible, zero width (default-ignorable, so no tofu even where a font lacks it)


def cues(sentences: list[dict], max_chars: int = 84, line_chars: int | None = None, max_lines: int = 2) -> list[dict]:
    """Split long sentences into balanced cues of at most `max_chars`, timed by length; with `line_chars`, also
    so that each cue wraps to at most `max_lines` lines of that width (84 characters can take 3 lines of 42)."""
    import math

    out = []
    for s in sentences:
        words = s["text"].split()
        n = max(1, math.ceil(len(s["text"]) / max_chars))
        while True:
            target = len(s["text"]) / n
            chunks, cur = [], ""
            for w in words:
                if cur and len(cur) + 1 + len(w) > target * 1.15 and len(chunks) < n - 1:
                    chunks.append(cur)
                    cur = w
                else:
                    cur = f"{cur} {w}" if cur else w
            chunks.append(cur)
            if all(len(c) <= max_chars and (line_chars is None or len(wrap(c, line_chars)) <= max_lines)
                   for c in chunks) or n > len(words):
                break
            n += 1
        span = s["end"] - s["start"]
        total = sum(len(c) for c in chunks) or 1
        t = s["start"]
        for c in chunks:
            d = span * len(c) / total
            out.append({"text": c, "start": t, "end": t + d})
            t += d
    return out


def wrap(text: str, width: int) -> list[str]:
    lines, cur = [], ""
    for w in text.split():
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        lines.append(cur)
    return lines


def stamp(t: float, sep: str) -> str:
    ms = int(round(max(0.0, t) * 1000))
    h, ms = divmod(ms, 3600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


# ------------------------------------------- cue text, escaped for its format --
# Narration is data: whatever it contains must show as typed and never become markup.

def vtt_text(text: str) -> str:
    """WebVTT cue text: `&`, `<` and `>` as character references, as WebVTT requires (so `-->` cannot end a cue either)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def srt_text(text: str) -> str:
    """SRT has no escapes, so the characters that start markup in common readers become look-alikes:
    `<b>`-style tags (`<` `>` -> `‹` `›`, as in titles), `{\\an8}`/`{y:i}` overrides (`{` `}` -> `❴` `❵`) and
    `\\N`/`\\h` breaks (a word joiner after the backslash)."""
    text = text.replace("<", "‹").replace(">", "›").replace("{", "❴").replace("}", "❵")
    return re.sub(r"\\(?=[Nnh])", "\\\\" + WORD_JOINER, text)


def ass_text(text: str) -> str:
    """ASS dialogue text shown literally by libass: braces escaped as `\\{` `\\}`, and a backslash that would
    start `\\N`, `\\n`, `\\h`, `\\{` or `\\}` kept apart from it by an invisible word joiner."""
    text = re.sub(r"\\(?=[Nnh{}])", "\\\\" + WORD_JOINER, text)
    return text.replace("{", "\\{").replace("}", "\\}")
