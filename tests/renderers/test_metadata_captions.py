"""YouTube limits, chapters and caption formats."""
from __future__ import annotations

import json
import subprocess

from helpers import run_renderer
from renderers._lib.caption_text import cues
from renderers.captions import Captions
from renderers.metadata import Metadata, chapters, fit_tags, fit_title, tags_length


def timeline(tmp_path, scenes, duration):
    p = tmp_path / "timeline.json"
    p.write_text(json.dumps({"fps": 30, "width": 1920, "height": 1080, "total_frames": int(duration * 30),
                             "duration_s": duration, "scenes": scenes}))
    return p


def scene(i, start, end, title=None, chapter=None, sentences=()):
    return {"index": i, "start_s": start, "end_s": end, "title": title, "chapter": chapter, "sentences": list(sentences)}


def test_title_and_tags_limits():
    assert fit_title("a <b> " + "x" * 200) .startswith("a ‹b›") and len(fit_title("x" * 200)) == 100
    tags = [f"tag number {i}" for i in range(100)]
    kept = fit_tags(tags + ["dup", "DUP"])
    assert tags_length(kept) <= 500 and kept[0] == "tag number 0"
    assert tags_length(["Foo Baz", "ab"]) == 9 + 1 + 2  # a tag with a space counts as quoted


def test_chapters_need_three_and_ten_seconds():
    sc = [scene(0, 0, 12, "Intro"), scene(1, 12, 15, "Short"), scene(2, 15, 40, "Middle"), scene(3, 40, 60, "End")]
    marks = chapters(sc, 60)
    assert [(m["start_s"], m["title"]) for m in marks] == [(0.0, "Intro"), (15, "Middle"), (40, "End")]
    assert chapters(sc[:2], 15) == []
    explicit = [scene(0, 0, 20, "A", "Part one"), scene(1, 20, 40, "B"), scene(2, 40, 60, "C", "Part two"),
                scene(3, 60, 80, "D", "Part three")]
    assert [m["title"] for m in chapters(explicit, 80)] == ["Part one", "Part two", "Part three"]


def test_metadata_description_bytes_and_chapters(tmp_path):
    sc = [scene(0, 0, 30, "One"), scene(1, 30, 70, "Two"), scene(2, 70, 100, "Three")]
    out, facts = run_renderer(Metadata, tmp_path, {"title": "T", "description": "é" * 4000, "tags": ["x"],
                                                   "footer": "Footer"}, {"timeline": timeline(tmp_path, sc, 100)})
    meta = json.loads((out / "metadata.json").read_text())
    assert len(meta["description"].encode()) <= 5000
    assert "0:00 One\n0:30 Two\n1:10 Three" in meta["description"] and meta["description"].endswith("Footer")


def test_captions_srt_and_vtt(tmp_path):
    sents = [{"text": "Hello world.", "start": 0.2, "end": 1.5}, {"text": "A " + "very " * 30 + "long one.", "start": 1.8, "end": 9.0}]
    out, facts = run_renderer(Captions, tmp_path, {}, {"timeline": timeline(tmp_path, [scene(0, 0, 10, sentences=sents)], 10)})
    srt = (out / "captions.srt").read_text()
    assert srt.startswith("1\n00:00:00,200 --> 00:00:01,500\nHello world.\n")
    vtt = (out / "captions.vtt").read_text()
    assert vtt.startswith("WEBVTT\n\n00:00:00.200 --> 00:00:01.500\nHello world.")
    assert facts["cues"] >= 3
    pieces = cues(sents, 84)
    assert all(len(c["text"]) <= 84 for c in pieces) and abs(pieces[-1]["end"] - 9.0) < 1e-6


def test_dropped_chapters_are_listed_with_the_reason(tmp_path):
    """A `chapter:` that YouTube would ignore is never dropped silently (issue 9 item 17)."""
    from renderers.base import Context

    notices = []
    sc = [scene(0, 0, 20, chapter="Hook"), scene(1, 20, 26, chapter="Blink"), scene(2, 26, 50, chapter="Middle"),
          scene(3, 50, 80, chapter="End")]
    (tmp_path / "out").mkdir()
    ctx = Context(params=Metadata.Params(title="T"), inputs={"timeline": timeline(tmp_path, sc, 80)}, input_facts={},
                  out_dir=tmp_path / "out", scratch=tmp_path, step_id="m")
    ctx.notice = lambda type, message: notices.append((type, message))  # the engine's always-shown warnings
    facts = Metadata().run(ctx)
    out = ctx.out_dir
    meta = json.loads((out / "metadata.json").read_text())
    assert [c["title"] for c in meta["chapters"]] == ["Hook", "Middle", "End"]
    assert meta["chapters_dropped"] == [{"start_s": 20, "title": "Blink",
                                         "reason": "it would last only 6.0 s (YouTube needs 10 s): merged into 'Hook'"}]
    assert facts["warnings"] == ["chapter 'Blink' at 0:20 dropped: it would last only 6.0 s (YouTube needs 10 s): "
                                 "merged into 'Hook'"]
    assert notices == [("warning", facts["warnings"][0])]

    # a short with two chapters: YouTube needs three, so none are listed, and each one says so
    sc = [scene(0, 0, 25, chapter="One"), scene(1, 25, 50, chapter="Two")]
    out, facts = run_renderer(Metadata, tmp_path, {"title": "T"}, {"timeline": timeline(tmp_path, sc, 50)}, name="s")
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["chapters"] == [] and [d["title"] for d in meta["chapters_dropped"]] == ["One", "Two"]
    assert all("YouTube needs 3" in w for w in facts["warnings"]) and len(facts["warnings"]) == 2

    # chapters from slide titles (no `chapter:` anywhere) fall away quietly
    sc = [scene(0, 0, 25, "A"), scene(1, 25, 50, "B")]
    out, facts = run_renderer(Metadata, tmp_path, {"title": "T"}, {"timeline": timeline(tmp_path, sc, 50)}, name="q")
    assert facts["warnings"] == [] and json.loads((out / "metadata.json").read_text())["chapters_dropped"] == []


def dialogue_text(path, tmp_path):
    """What ffmpeg's own SRT/WebVTT reader makes of a caption file (as ASS dialogue text)."""
    ass = tmp_path / (path.name + ".ass")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(path), str(ass)], check=True)
    return [line.split(",,0,0,0,,", 1)[1] for line in ass.read_text().splitlines() if line.startswith("Dialogue:")]


def test_caption_text_is_data_in_every_format(tmp_path):
    said = r"Q&A: <script>alert(1)</script> <b>x</b> {\an8}top \N split --> end"
    sents = [{"text": said, "start": 0.0, "end": 4.0}]
    out, _ = run_renderer(Captions, tmp_path, {"max_chars": 200, "line_chars": 200},
                          {"timeline": timeline(tmp_path, [scene(0, 0, 5, sentences=sents)], 5)})
    vtt = (out / "captions.vtt").read_text()
    cue = vtt.split("\n")[3]
    assert cue == r"Q&amp;A: &lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;x&lt;/b&gt; {\an8}top \N split --&gt; end"
    # a WebVTT reader gets the text back as typed: one cue, the tags as text (ffmpeg escapes braces for ASS)
    [text] = dialogue_text(out / "captions.vtt", tmp_path)
    assert text.startswith("Q&A: <script>alert(1)</script> <b>x</b> ") and text.endswith("split --> end")
    srt = (out / "captions.srt").read_text()
    assert "<" not in srt and "{" not in srt and "\\N" not in srt and "‹script›alert(1)‹/script›" in srt
    # an SRT reader finds no tags, overrides or line breaks in it: bold/position/break never appear
    text = dialogue_text(out / "captions.srt", tmp_path)[0]
    assert "{\\b1}" not in text and "{\\an8}" not in text and "\\N" not in text.replace("\\\u2060N", "")
    assert "‹b›x‹/b›" in text and "❴\\" in text
