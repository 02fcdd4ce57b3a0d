"""Records serialise to the JSON the engine always wrote, and read manifests older versions wrote."""
from __future__ import annotations

import json

from core.records import ActionManifest, BuildManifest


def test_action_manifest_round_trips_exactly():
    data = {"key": "k" * 64, "step": "b/v/narration/00", "kind": "tts.espeak", "version": 3,
            "params": {"text": "Hi.", "rate": 1.3}, "inputs": {"model": "d" * 64, "list": ["a", "b"]},
            "fingerprint": {"espeak": "1.51"}, "salt": "", "outputs": {"audio.wav": {"digest": "e" * 64, "size": 10}},
            "facts": {"duration_s": 1.5, "sentences": [[0, 1.5]]}, "timing": {"started": 1.5, "seconds": 0.25}}
    assert ActionManifest.model_validate(data).to_json() == data


def test_old_and_partial_build_manifests_still_parse():
    old = {"video": "b/v", "format": "long", "build_digest": "f" * 64,
           "assets": {"video.mp4": {"digest": "a" * 64, "step": "b/v/long/assemble", "key": "k", "kind": "x",
                                    "version": 1, "params": {}}},
           "scenes": [{"index": 0, "start_s": 0.0, "end_s": 1.0, "title": "Intro"}], "someday": "kept"}
    m = BuildManifest.model_validate_json(json.dumps(old))
    assert m.assets["video.mp4"].digest == "a" * 64 and m.scenes[0].segment is None and m.steps == {}
    assert m.to_json() == old  # nothing invented, nothing lost
