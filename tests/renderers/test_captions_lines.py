"""A cue never wraps to more than two lines: 84 characters can take three lines of 42 when the words fall badly
(QC found one in the cosmos/dark-sky sample); the splitter now also checks the wrapped line count."""
from __future__ import annotations

from renderers._lib.caption_text import cues, wrap


def test_a_cue_that_would_wrap_to_three_lines_is_split():
    # 83 characters: under the 84-character cue limit, but 3 lines at 42 (each break lands after a long word)
    text = "Astronomers measure skyglow brightness everywhere, comparing dark rural sites today"
    assert len(text) <= 84 and len(wrap(text, 42)) == 3
    sentence = [{"text": text, "start": 0.0, "end": 4.0}]
    assert len(cues(sentence, 84)) == 1  # the old rule: one cue, three lines
    split = cues(sentence, 84, 42)
    assert len(split) == 2 and all(len(wrap(c["text"], 42)) <= 2 for c in split)
    assert " ".join(c["text"] for c in split) == text
    assert split[0]["start"] == 0.0 and abs(split[-1]["end"] - 4.0) < 1e-9


def test_cues_that_fit_are_unchanged():
    sentence = [{"text": "A short line that fits.", "start": 1.0, "end": 2.0}]
    assert cues(sentence, 84, 42) == cues(sentence, 84)
