"""The preview profile (the studio's watch mode): its own step ids and keys at the reduced size, narration
shared with the final profile, the final plan untouched (test_plan.py's snapshot), never a publish unit."""
from __future__ import annotations

from support import session, write
from renderers.assemble_ffmpeg import FfmpegAssemble, measure_loudness
from renderers.base import ffprobe
from renderers.segment_ffmpeg import FfmpegSegment, x264_args
from renderers.transition_ffmpeg import FfmpegTransition

SHARED_KINDS = {"tts.espeak", "tts.piper", "tts.recorded", "doc.scriptfiles", "thumbnail.html", "remotion.bundle",
                "image.diffusers", "avatar.heygen", "video.diffusers"}


def test_profile_param_is_absent_from_final_params():
    """`profile` only enters the resolved params (and so the key) of a preview step."""
    seg = {"width": 320, "height": 180, "fps": 10, "visual_type": "image"}
    assert "profile" not in FfmpegSegment.Params(**seg).model_dump(mode="json")
    assert "profile" not in FfmpegSegment.Params(**seg, profile="final").model_dump(mode="json")
    assert FfmpegSegment.Params(**seg, profile="preview").model_dump(mode="json")["profile"] == "preview"
    assert FfmpegSegment.Params(**FfmpegSegment.Params(**seg, profile="preview").model_dump()).profile == "preview"
    assert "profile" not in FfmpegAssemble.Params(fps=10).model_dump(mode="json")
    assert "profile" not in FfmpegTransition.Params(fps=10, width=2, height=2, tail=1, head=1).model_dump(mode="json")
    assert "veryfast" in x264_args(30) and "ultrafast" in x264_args(30, "preview")


def test_preview_plan_ids_and_shared_narration(mini):
    write(mini / "videos/test/both.yaml", "format: [tiny, tinyshort]\nscenes:\n"
          "  - {narration: Hello both., visual: {kind: slide, title: A}}\n"
          "  - {narration: Second., visual: {kind: slide, title: B}, transition: crossfade}\n")
    s = session(mini)
    final, preview = s.plan(), s.plan("preview")
    assert set(final.videos) == set(preview.videos) and not preview.errors
    shared = set(final.steps) & set(preview.steps)
    # the only ids both plans hold are frame-independent steps, identical in both (same params, same key)
    assert shared and all(preview.steps[i] == final.steps[i] for i in shared)
    assert {preview.steps[i].kind for i in shared} <= SHARED_KINDS
    for vid, vp in preview.videos.items():
        narrations = [i for i in final.videos[vid].steps if "/narration/" in i]
        assert narrations and set(narrations) <= shared
        for sid in vp.steps:
            if sid not in shared:
                assert sid.startswith(f"{vid}/preview/"), sid
    # every format at half size, fps kept, into build/.preview/
    both = preview.videos["test/both"]
    assert [(f.format, f.dir) for f in both.formats] == [("tiny", "build/.preview/test/both"),
                                                         ("tinyshort", "build/.preview/test/both/tinyshort")]
    seg = preview.steps["test/both/preview/tinyshort/segment/00"]
    assert (seg.params["width"], seg.params["height"], seg.params["fps"], seg.params["profile"]) == (90, 160, 10, "preview")
    assert preview.steps["test/both/preview/tiny/slide/00"].params["width"] == 160
    assert preview.steps["test/both/preview/tiny/transition/01"].params["profile"] == "preview"
    assert preview.steps["test/both/preview/tiny/assemble"].params["profile"] == "preview"
    # the preview's soundtrack is mixed per scene (an edit re-mixes one scene) and joined by the assembly
    asm = preview.steps["test/both/preview/tiny/assemble"]
    assert asm.params["premixed"] == 2
    assert [r.step for r in asm.inputs["audios"]] == ["test/both/preview/tiny/audio/00", "test/both/preview/tiny/audio/01"]
    piece = preview.steps["test/both/preview/tiny/audio/01"]
    assert piece.kind == "audio.preview" and [r.output for r in asm.inputs["audios"]] == ["audio.mp4"] * 2
    # a piece reads the narration (not the segment), so it renders beside the segment's video encode, padded
    # to the same frames with the segment's own pad and lead
    seg1 = preview.steps["test/both/preview/tiny/segment/01"]
    assert piece.inputs["audio"] == seg1.inputs["audio"] and piece.inputs["timings"] == seg1.inputs["timings"]
    assert (piece.params["pad"], piece.params["lead"], piece.params["fps"]) == (seg1.params["pad"], seg1.params["lead"],
                                                                                 seg1.params["fps"])
    assert not any(st.kind == "audio.preview" or "premixed" in st.params for st in final.steps.values())
    assert not any("profile" in st.params for st in final.steps.values())


def test_preview_builds_reduced_size_and_shares_narration_keys(mini):
    s = session(mini)
    res = s.build(["test/alpha"], profile="preview")
    assert res.ok, res
    assert res.outcome("test/alpha").folders == ["build/.preview/test/alpha"]
    video = mini / "build/.preview/test/alpha/video.mp4"
    v = next(st for st in ffprobe(video)["streams"] if st["codec_type"] == "video")
    assert (v["width"], v["height"], v["r_frame_rate"]) == (160, 90, "10/1")
    assert not (mini / "build/test/alpha").exists()
    # the cheap loudness pass still lands at the brand's level (the final proves it to 0.2 LU); the preview's
    # audio is mono, which BS.1770 reads 3.01 dB below the same sound on both speakers (how players play it)
    a = next(st for st in ffprobe(video)["streams"] if st["codec_type"] == "audio")
    assert a["channels"] == 1
    assert abs(measure_loudness(video)["integrated_lufs"] + 3.01 + 14.0) <= 1.0
    # the final build reuses the narration the preview made: those steps are cache hits, the frames are not
    rows = {r.step: r.status for r in session(mini).explain(["test/alpha"])}
    assert [st for st, status in rows.items() if "/narration/" in st] and all(
        status == "hit" for st, status in rows.items() if "/narration/" in st)
    assert rows["test/alpha/tiny/segment/00"] != "hit"
    # a preview is never a publish unit
    from publish.units import discover

    assert discover(mini) == []
