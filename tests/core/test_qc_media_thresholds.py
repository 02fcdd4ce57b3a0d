"""The brand's audio, picture and caption QC thresholds (core/spec.py QCAudio, QCPicture, QCCaptions)."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.spec import QC, Brand, QCAudio, QCCaptions, QCPicture


def test_defaults_are_a_careful_editors():
    qc = Brand(name="b").qc
    assert (qc.audio.silence_s, qc.audio.silence_error_s) == (3.0, 5.0)
    assert (qc.picture.black_s, qc.picture.freeze_s) == (0.5, 2.0)
    assert (qc.captions.max_line_chars, qc.captions.max_lines) == (42, 2)
    qc = QC.model_validate({"audio": {"silence_s": 2}, "captions": {"max_line_chars": 37}})
    assert (qc.audio.silence_s, qc.captions.max_line_chars) == (2, 37)


@pytest.mark.parametrize("model, data, words", [
    (QCAudio, {"silence_s": 8}, "silence_s (8) is beyond silence_error_s (5)"),
    (QCAudio, {"music_ratio_db": -3}, "music_ratio_db (-3) is beyond music_error_ratio_db (-8)"),
    (QCPicture, {"black_s": 3}, "black_s (3) is beyond black_error_s (2)"),
    (QCCaptions, {"min_coverage": 0.5}, "min_coverage_error (0.9) is above min_coverage (0.5)"),
    (QCCaptions, {"max_lines": 0}, "greater than or equal to 1"),
    (QCAudio, {"silence": 3}, "Extra inputs are not permitted"),
])
def test_a_warning_level_past_its_error_level_is_refused(model, data, words):
    with pytest.raises(ValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        model.model_validate(data)
