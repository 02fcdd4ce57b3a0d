"""YouTube chapter rules, shared by the metadata step (real durations) and script generation (estimates).

YouTube shows chapters only when the description lists at least 3, the first at 0:00, each at least
10 s long; otherwise it ignores the whole list. Both steps apply the same rules, so a generated script
lock never lists chapters that the metadata would merge away, and every chapter that is dropped says why.
"""
from __future__ import annotations

CHAPTER_MIN_S, CHAPTERS_MIN = 10.0, 3


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def plan_chapters(scenes: list[dict], duration: float) -> tuple[list[dict], list[dict]]:
    """(kept, dropped) chapter marks for timeline scenes ({start_s, chapter, title}).

    Chapters start at scenes with `chapter:`; without any, at each new slide title. A chapter under
    10 s joins the previous one (the opening chapter absorbs the next instead: it must stay at 0:00);
    with fewer than 3 left, none are kept. Marks are {start_s, title, scene}; dropped marks add `reason`.
    """
    explicit = any(sc.get("chapter") for sc in scenes)
    marks: list[dict] = []
    for i, sc in enumerate(scenes):
        name = sc.get("chapter") if explicit else sc.get("title")
        if not marks:
            marks.append({"start_s": 0.0, "title": name or "Intro", "scene": i})
        elif name and name != marks[-1]["title"]:
            marks.append({"start_s": sc["start_s"], "title": name, "scene": i})
    kept = list(marks)
    dropped: list[dict] = []
    i = 0
    while i < len(kept):
        end = kept[i + 1]["start_s"] if i + 1 < len(kept) else duration
        length = end - kept[i]["start_s"]
        if length >= CHAPTER_MIN_S or len(kept) == 1:
            i += 1
        elif i == 0:  # the opening chapter must stay at 0:00: it absorbs the next one
            gone = kept.pop(1)
            dropped.append({**gone, "reason": f"the opening chapter {kept[0]['title']!r} would last only "
                                              f"{length:.1f} s (YouTube needs {CHAPTER_MIN_S:g} s): "
                                              f"merged into it"})
        else:  # too short: its scenes join the previous chapter
            gone = kept.pop(i)
            dropped.append({**gone, "reason": f"it would last only {length:.1f} s (YouTube needs "
                                              f"{CHAPTER_MIN_S:g} s): merged into {kept[i - 1]['title']!r}"})
            i = max(0, i - 1)
    if len(kept) < CHAPTERS_MIN:
        reason = (f"only {len(kept)} chapter(s) of at least {CHAPTER_MIN_S:g} s remain; YouTube needs "
                  f"{CHAPTERS_MIN}, so no chapters are listed")
        dropped += [{**m, "reason": reason} for m in kept]
        kept = []
    dropped.sort(key=lambda m: m["start_s"])
    return kept, dropped


def dropped_messages(dropped: list[dict]) -> list[str]:
    """One line per dropped chapter, for warnings."""
    return [f"chapter {m['title']!r} at {clock(m['start_s'])} dropped: {m['reason']}" for m in dropped]
