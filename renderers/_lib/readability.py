"""Reading level of English narration: the Flesch-Kincaid grade, with a rule-based syllable count.

grade = 0.39 * (words / sentences) + 11.8 * (syllables / words) - 15.59  (Kincaid et al., 1975)

Syllables are counted from vowel groups with the usual English corrections (a silent final "e", "-le",
"-ed" and "-es" endings); on ordinary prose this lands within about one syllable in ten of a dictionary,
which moves the grade by well under one. Numbers count as one word of two syllables.
"""
from __future__ import annotations

import re

WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+(?:[.,]\d+)*")
SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
VOWELS = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    w = word.lower()
    if w[0].isdigit():
        return 2
    w = w.split("'")[0]
    if len(w) <= 3:
        return 1
    n = len(VOWELS.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")):
        n -= 1  # silent e: "make", "time"
    elif w.endswith(("ed", "es")) and not w.endswith(("ted", "ded", "ses", "zes", "ces", "ges", "xes", "shes",
                                                       "ches")):
        n -= 1  # "jumped", "makes" (but "wanted", "boxes" keep theirs)
    return max(1, n)


def counts(text: str) -> tuple[int, int, int]:
    """(sentences, words, syllables); a text without end punctuation is one sentence."""
    words = WORD.findall(text)
    sentences = max(1, len(SENTENCE_END.findall(text.strip())) + (0 if re.search(r"[.!?]\s*$", text.strip()) else 1))
    return sentences, len(words), sum(syllables(w) for w in words)


def fk_grade(text: str) -> float | None:
    """Flesch-Kincaid grade level of `text`, or None for a text without words."""
    s, w, syl = counts(text)
    if w == 0:
        return None
    return round(0.39 * (w / s) + 11.8 * (syl / w) - 15.59, 2)
