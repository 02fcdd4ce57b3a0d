"""Opt-in hardware video encoders (issue 13): the brand's `encoder:` reaches the final's segments and crossfades
as a key-bearing param (x264 keys unchanged), adds a routing need `encoder:<ffmpeg name>`, and a machine whose
ffmpeg cannot really encode with it fails the step with what to do, while other videos still build."""
from __future__ import annotations

import re

from compiler.remote.registry import needs_of, queue_for, queues_for_caps
from renderers.base import hw_encoder_works
from support import session


def _use_encoder(root, name: str) -> None:
    brand = root / "brands" / "test.yaml"
    brand.write_text(brand.read_text() + f"encoder: {name}\n")


def test_the_probe_really_encodes():
    assert hw_encoder_works("libx264") is True  # software: always there
    assert hw_encoder_works("no_such_encoder") is False


def test_encoder_param_keys_and_routing(mini):
    before = session(mini).plan()
    _use_encoder(mini, "nvenc")
    ws = session(mini)
    plan = ws.plan()
    preview = ws.plan("preview")
    for sid, step in plan.steps.items():
        if step.kind in ("segment.ffmpeg", "transition.ffmpeg"):
            assert step.params["encoder"] == "nvenc"
            assert needs_of(step.kind, step.params) == ("encoder:h264_nvenc", "ffmpeg")
        else:
            assert "encoder" not in step.params
            assert before.steps[sid] == step  # nothing else changed
    assert all("encoder" not in s.params for s in preview.steps.values())  # the preview stays x264
    assert all("encoder" not in s.params for s in before.steps.values())  # x264: the params (keys) of before
    # a worker only consumes the hardware queue when it has that encoder
    plain = queues_for_caps("ns", ["ffmpeg"])
    gpu = queues_for_caps("ns", ["ffmpeg", "encoder:h264_nvenc"])
    hw_queue = queue_for("ns", ("encoder:h264_nvenc", "ffmpeg"))
    assert hw_queue in gpu and hw_queue not in plain


def test_a_machine_without_the_encoder_fails_the_step_clearly(mini):
    if hw_encoder_works("h264_nvenc"):  # pragma: no cover - a machine with an NVIDIA GPU
        import pytest

        pytest.skip("this machine has a working h264_nvenc")
    _use_encoder(mini, "nvenc")
    ws = session(mini)
    res = ws.build(["test/beta"])
    failed = res.failed_steps
    segs = [s for s in failed if "/segment/" in s]
    assert segs and all(re.search(r"cannot encode with h264_nvenc", failed[s]) for s in segs)
    assert any("encoder: x264" in e.detail for e in ws.reporter.of("failed"))  # says how to fix it
    assert not [s for s in failed if "/narration/" in s or "/slide/" in s]  # the rest of the video still ran
