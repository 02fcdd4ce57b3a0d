"""One scene as a segment: visual + narration padded to an exact number of frames.

Every segment is encoded with identical parameters (codec, profile, level, fps, GOP, pixel
format, timescale) so the final assembly concatenates them by stream copy. Audio stays PCM
(audio.wav, exact sample count) so joining scenes is sample-exact; it is encoded once, at the end.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from core.errors import StepError
from core.timeline import SAMPLE_RATE, frames_to_samples, scene_frames

from .base import (Context, EncodeParams, EncodingRenderer, Renderer, ffmpeg_version, ffprobe, pad_filter,
                   run_ffmpeg, video_encoder_args)
from ._lib.caption_text import ass_text, cues, wrap
from ._lib.qc_media import PICTURE_FILE, picture_branch, read_pictures

X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-profile:v", "high",
        "-level:v", "4.2", "-bf", "2", "-x264-params", "threads=1:scenecut=0:open-gop=0",
        "-video_track_timescale", "90000", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"]
# One thread per final encode: a build's parallelism is its steps (`doit -n N`, the studio's two jobs), and a
# scene's 100-500 frames are too few for x264's frame threads to pay for their ramp-up and drain. On the 12-clip
# benchmark, threads=1 took 11 % less CPU than threads=2 for the same SSIM (bench/perf_bench.py --only clips,
# docs/benchmarks.md). The thread count is part of x264's output, so it is fixed, never taken from the machine.
# Steps whose clip is an intermediate (pip_ffmpeg, video_diffusers) keep threads=2: their keys and bytes as before.
X264_INTERMEDIATE = [a.replace("threads=1:", "threads=2:") for a in X264]
# A final segment's clip is decoded on one thread as well: H.264's frame threads cost 7 % more CPU on the 12-clip
# benchmark (12 segments one after the other: 41.1 s with ffmpeg's threads, 38.1 s with one; docs/benchmarks.md).
# Decoding is exact whatever the threads, so the frames, the video bytes and the keys are the same.
DECODE_FINAL = ["-threads", "1"]


# the preview profile: same stream layout (so pieces still join by stream copy), a fraction of the encoding work
X264_PREVIEW = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "26", "-pix_fmt", "yuv420p", "-profile:v", "high",
                "-level:v", "4.2", "-x264-params", "threads=2:scenecut=0:open-gop=0",
                "-video_track_timescale", "90000", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"]


# x264 codes the first frames of a stream worse than the same frames in the middle of one: a standalone encode of the
# sample's pan scored SSIM 0.98961 on its first 30 frames and 0.99306 on its last 30; the same frames after another
# scene (an IDR frame forced where the pan starts, so nothing refers back) 0.99305. So a final x264 segment is encoded
# after PREROLL_FRAMES copies of its own first picture, an IDR frame is forced where the scene starts, and the
# copies are cut away by stream copy: 0.993058 against 0.992568 on the whole pan (the one command, coding it in
# context: 0.99303), for 15 frames more to encode. The segment still depends on its own scene only.
PREROLL_FRAMES = 15


def encode_graph(chain: list[str], pictures_fps: int | None, freeze: bool, preroll: int) -> list[str]:
    """The encode's filter arguments: `chain`, the picture detectors on a branch of their own when `pictures_fps`
    (the same video bytes, and no second decode by QC), and `preroll` copies of the first picture on the encoded
    branch only."""
    lead_in = [f"tpad=start={preroll}:start_mode=clone"] if preroll else []
    if pictures_fps is None:
        return ["-vf", ",".join(chain + lead_in)]
    encoded = f";[v]{lead_in[0]}[e]" if lead_in else ""
    return ["-filter_complex", f"[0:v]{','.join(chain)},{picture_branch(pictures_fps, freeze)}{encoded}",
            "-map", "[e]" if lead_in else "[v]"]


def cut_head(video: Path, head: int, scratch: Path, label: str) -> Path:
    """`video` from its frame `head` on (an IDR frame forced there), by stream copy: the segment muxer starts its
    second file there, timestamps reset. Returns that file (scratch/cut<label>_1.mp4)."""
    run_ffmpeg(["-i", str(video), "-map", "0:v", "-c", "copy", "-f", "segment", "-segment_frames", str(head),
                "-reset_timestamps", "1", "-segment_format", "mp4", "-segment_format_options",
                "video_track_timescale=90000", str(scratch / f"cut{label}_%d.mp4")], what=f"cutting scene {label}")
    return scratch / f"cut{label}_1.mp4"


def drop_preroll(encoded: Path, preroll: int, frames: int, scratch: Path, out: Path) -> None:
    """`encoded` without its first `preroll` frames (`cut_head`); the frame count is checked."""
    from ._lib.mp4info import video_track

    body = cut_head(encoded, preroll, scratch, "preroll")
    got = video_track(body).frames if body.is_file() else 0
    if got != frames:
        raise StepError(f"cutting the encoder's pre-roll left {got} frames, expected {frames}")
    body.replace(out)


# A still scene (an image without motion or burned captions) repeats one picture, and x264 spends 5-6 ms a 1080p
# frame on it all the same (look-ahead, motion search, macroblock tree). Its GOPs after the second are the same
# bytes but for their timestamps, so such a scene of at least STILL_REPEAT_GOPS whole GOPs is encoded as two GOPs
# and its last partial one (with the frames around the IDR frames its crossfades force), and the second GOP is
# repeated by stream copy. The packets' timestamps and flags are those of the whole encode and the frames look the
# same (SSIM against the image within 0.00001 of it, tested): the first GOP is the whole encode's first, and the
# whole encode's later GOPs all match its second.
STILL_REPEAT_GOPS = 4


def still_repeats(p, frames: int) -> tuple[int, int, int] | None:
    """(whole GOPs, frames left over, GOP length) of the scene's body (between the IDR frames its crossfades force,
    `split_head` frames in and `split_tail` frames before the end) when the scene is a still the encoder may repeat
    (see STILL_REPEAT_GOPS), else None. x264's final encode only."""
    if (p.visual_type != "image" or p.motion != "none" or p.burn_captions or p.profile != "final"
            or p.encoder != "x264"):
        return None
    gop = 2 * p.fps  # video_encoder_args' -g: after an IDR frame, the next comes `gop` frames later
    whole, rest = divmod(frames - p.split_head - p.split_tail, gop)
    return (whole, rest, gop) if whole >= STILL_REPEAT_GOPS else None


def join_repeated_still(encoded: Path, whole: int, rest: int, gop: int, head: int, tail: int, scratch: Path,
                        out: Path) -> None:
    """`encoded` (a still's `head` frames before its first crossfade IDR, two GOPs, `rest` frames and the `tail`
    frames after its last crossfade IDR) to `out`: the head and the first GOP, the second GOP `whole - 1` times,
    and the rest with the tail, by stream copy. The start is cut by packet count (closed GOPs: the first n packets
    in decode order are the first n frames), the others by the segment muxer, whose later files start at 0 (its
    first file keeps the B-frame delay, which the concat demuxer would turn into a gap)."""
    copy = ["-map", "0:v", "-c", "copy", "-map_metadata", "-1", "-fflags", "+bitexact"]
    run_ffmpeg(["-i", str(encoded)] + copy + ["-frames:v", str(head + gop), "-video_track_timescale", "90000",
                                               str(scratch / "still_first.mp4")], what="repeating the still")
    run_ffmpeg(["-i", str(encoded)] + copy + ["-f", "segment", "-segment_frames", f"{head + gop},{head + 2 * gop}",
                                               "-reset_timestamps", "1", "-segment_format", "mp4",
                                               "-segment_format_options", "video_track_timescale=90000",
                                               str(scratch / "still_%d.mp4")], what="repeating the still")
    pieces = ["still_first.mp4"] + ["still_1.mp4"] * (whole - 1) + (["still_2.mp4"] if rest + tail else [])
    (scratch / "still.txt").write_text("".join(f"file '{name}'\n" for name in pieces))
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", "still.txt", "-c", "copy", "-video_track_timescale", "90000",
                "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", str(out.absolute())],
               what="repeating the still", cwd=scratch)
    from core.errors import StepError

    got = int(next(st for st in ffprobe(out)["streams"] if st.get("codec_type") == "video")["nb_frames"])
    if got != head + whole * gop + rest + tail:
        raise StepError(f"repeating the still scene gave {got} frames, expected {head + whole * gop + rest + tail}")


# A looped clip shows the same pictures every P frames (P: the clip's length), and x264 would code each repeat in
# full. A scene that loops a clip at least LOOP_REPEAT_MIN whole times (between the IDR frames its crossfades
# force) is encoded in pieces that start with IDR frames: the frames before the first crossfade IDR, one period
# from there, the frames left after the last whole period, and the frames after the last crossfade IDR. The
# period is then repeated by stream copy. Every frame is the same picture as in the whole encode (the same
# decode, scale and trim: tested), coded by the same encoder settings; the bytes differ from one long encode only
# where x264's rate control would have carried its history across a period's IDR frame.
LOOP_REPEAT_MIN = 2


def loop_pieces(p, frames: int, clip: Path) -> tuple[int, list[tuple[int, int, int]]] | None:
    """(the clip's length in frames, [(first frame, frames, times)]) that make the scene when it loops `clip` at
    least LOOP_REPEAT_MIN whole times between its crossfade IDR frames, else None. The clip must be constant-rate
    at the scene's rate with nothing hidden by an edit list, so its pictures repeat every `frames` of it
    (renderers/_lib/mp4info.py)."""
    from ._lib.mp4info import video_track

    if (p.visual_type != "video" or not p.loop or p.start or p.burn_captions or p.profile != "final"
            or p.encoder != "x264" or p.stream_copy):
        return None
    track = video_track(clip)
    if track is None or track.frame_rate() != p.fps or not track.plain_edits or not track.frames:
        return None
    period, body_start, body_end = track.frames, p.split_head, frames - p.split_tail
    whole, rest = divmod(body_end - body_start, period)
    if whole < LOOP_REPEAT_MIN:
        return None
    pieces = [(0, p.split_head, 1), (body_start, period, whole), (body_start + whole * period, rest, 1),
              (body_end, p.split_tail, 1)]
    return period, [x for x in pieces if x[1]]


def encode_loop_pieces(pieces: list[tuple[int, int, int]], period: int, p, visual: str, ctx: Context,
                       total: int) -> dict | None:
    """Encode each piece once (its own ffmpeg, in its own folder, with the picture detectors when asked), join them
    with the repeats by stream copy into video.mp4, and return the pictures of the whole scene (or None)."""
    from core.errors import StepError

    from ._lib.mp4info import video_track

    names, found = [], []
    for i, (first, n, times) in enumerate(pieces):
        work = ctx.scratch / f"piece{i}"
        work.mkdir(exist_ok=True)
        skip = first % period  # the looped clip's pictures repeat every `period` frames
        chain = [f"fps={p.fps}", f"trim=start_frame={skip}:end_frame={skip + n}", "setpts=PTS-STARTPTS",
                 fit_filter(p.fit, p.width, p.height), "format=yuv420p"]
        preroll = PREROLL_FRAMES if p.encoder == "x264" else 0  # each piece, as a whole encode (see PREROLL_FRAMES)
        graph = encode_graph(chain, p.fps if p.pictures else None, True, preroll)
        target = work / ("preroll.mp4" if preroll else "piece.mp4")
        run_ffmpeg(["-stream_loop", "-1"] + DECODE_FINAL + ["-i", visual, "-an"] + graph
                   + ["-frames:v", str(n + preroll)] + x264_args(p.fps, p.profile, p.encoder)
                   + split_args(n, 0, 0, preroll) + [str(target.absolute())],
                   what="encoding the scene", progress=ctx.progress, total_s=(n + preroll) / p.fps, cwd=work)
        if preroll:
            drop_preroll(target, preroll, n, work, work / "piece.mp4")
        names += [f"piece{i}/piece.mp4"] * times
        if p.pictures:
            found.append(read_pictures(work / PICTURE_FILE, n / p.fps, freeze=True))
    (ctx.scratch / "pieces.txt").write_text("".join(f"file '{name}'\n" for name in names))
    out = ctx.out("video.mp4").absolute()
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", "pieces.txt", "-c", "copy", "-video_track_timescale", "90000",
                "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", str(out)],
               what="repeating the looped clip", cwd=ctx.scratch)
    made = video_track(out)
    if made is None or made.frames != total:
        raise StepError(f"repeating the looped clip gave {made.frames if made else 'no'} frames, expected {total}")
    return merge_piece_pictures(pieces, found, p.fps) if p.pictures else None


def merge_piece_pictures(pieces: list[tuple[int, int, int]], found: list[dict], fps: int) -> dict:
    """The scene's pictures from each piece's (placed at each of its repeats). Black is a property of each frame, so
    black stretches that meet at a piece's edge are one. A freeze is measured against its first frame, so frozen
    stretches that meet at an edge are one only when the period is frozen throughout: it holds every frame of the
    clip, so the whole clip is one picture. A freeze that runs across an edge of a moving clip's pieces is
    reported as two."""
    static = any(times > 1 and pics["frozen"] == [[0.0, round(n / fps, 3)]]
                 for (_, n, times), pics in zip(pieces, found))
    black, frozen = [], []
    for (first, n, times), pics in zip(pieces, found):
        for k in range(times):
            at = (first + k * n) / fps
            black += [[round(s + at, 3), round(e + at, 3)] for s, e in pics["black"]]
            frozen += [[round(s + at, 3), round(e + at, 3)] for s, e in pics["frozen"]]

    def joined(spans: list[list[float]]) -> list[list[float]]:
        out: list[list[float]] = []
        for s, e in sorted(spans):
            if out and s <= out[-1][1] + 1e-6:
                out[-1][1] = max(out[-1][1], e)
            else:
                out.append([s, e])
        return out

    return {**found[0], "black": joined(black), "frozen": joined(frozen) if static else sorted(frozen)}


def x264_args(fps: int, profile: str = "final", encoder: str = "x264", intermediate: bool = False) -> list[str]:
    """The video encoder's arguments: x264 (the default; the preview always) or the brand's hardware encoder."""
    software = X264_PREVIEW if profile == "preview" else X264_INTERMEDIATE if intermediate else X264
    return video_encoder_args(fps, profile, encoder, software)


def pad_narration(audio: Path, timings: Path, pad: float, lead: float, fps: int, out: Path) -> int:
    """The scene's narration padded to the scene's exact frames (lead silence first), as 16-bit mono PCM; returns
    the sample count. audio.final pads the same way inside its one ffmpeg (tests compare the two)."""
    frames = scene_frames(json.loads(Path(timings).read_text())["duration_s"], pad, fps, lead)
    samples = frames_to_samples(frames, fps)
    delay_ms = int(round(lead * 1000))
    if not _pad_pcm(Path(audio), delay_ms * SAMPLE_RATE // 1000, samples, out):
        run_ffmpeg(["-i", str(audio), "-af", pad_filter(SAMPLE_RATE, delay_ms, samples), "-ac", "1",
                    "-c:a", "pcm_s16le", "-map_metadata", "-1",
                    "-fflags", "+bitexact", "-flags", "+bitexact", str(out)], what="padding narration")
    return samples


def open_pcm(audio: Path):
    """`audio` opened with the `wave` module when it is 16-bit mono PCM at SAMPLE_RATE (what every voice step writes),
    else None: such a narration is padded in Python (write_padded), anything else by ffmpeg's filter."""
    import wave

    try:
        src = wave.open(str(audio), "rb")
    except (wave.Error, EOFError, OSError):
        return None
    if (src.getnchannels(), src.getsampwidth(), src.getframerate(), src.getcomptype()) != (1, 2, SAMPLE_RATE, "NONE"):
        src.close()
        return None
    return src


def write_padded(src, delay: int, samples: int, write) -> None:
    """What ffmpeg's padding filter (base.pad_filter) makes of the 16-bit PCM `src` (open_pcm), as raw samples to
    `write`: `delay` zero samples, the narration, zeros up to exactly `samples` (the narration cut there if longer)."""
    write(b"\0\0" * min(delay, samples))
    left = samples - min(delay, samples)
    while left > 0:
        data = src.readframes(min(left, 1 << 16))
        if not data:
            break
        write(data)
        left -= len(data) // 2
    write(b"\0\0" * left)


def _pad_pcm(audio: Path, delay: int, samples: int, out: Path) -> bool:
    """Pad a 16-bit mono narration at SAMPLE_RATE without an ffmpeg: the bytes are ffmpeg's (the same 44-byte header,
    the same samples; tested), and a process start per scene is saved. False, with nothing written, for any other
    input: ffmpeg resamples and mixes it down."""
    import wave

    src = open_pcm(audio)
    if src is None:
        return False
    with src, wave.open(str(out), "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(SAMPLE_RATE)
        dst.setnframes(samples)  # the header is written once, right: no seek back to patch the sizes
        write_padded(src, delay, samples, dst.writeframesraw)
    return True


def split_args(frames: int, head: int, tail: int, preroll: int = 0) -> list[str]:
    """Force IDR frames where crossfades cut this segment, so assembly can cut it by stream copy; with `preroll`
    frames before the scene (PREROLL_FRAMES), also where the scene starts, every frame number after it."""
    if head + tail >= frames and (head or tail):
        raise StepError(f"the crossfades at this scene's edges ({head} + {tail} frames) are longer than the scene "
                        f"({frames} frames)", hint="use a shorter transition_s, or a cut")
    at = ([preroll] if preroll else []) + [preroll + n for n in (head, frames - tail) if 0 < n < frames]
    if not at:
        return []
    return ["-force_key_frames", "expr:" + "+".join(f"eq(n,{n})" for n in at), "-forced-idr", "1"]


def motion_filter(motion: str, w: int, h: int, frames: int, fps: int) -> str:
    """Ken Burns-style motion on a still that was pre-scaled to 112% of the frame."""
    T = max(1, frames - 1)
    if motion in ("zoom_in", "zoom_out"):
        z = f"(1+0.10*n/{T})" if motion == "zoom_in" else f"(1.10-0.10*n/{T})"
        return (f"scale=w='trunc({w}*{z}/2)*2':h='trunc({h}*{z}/2)*2':eval=frame:flags=bicubic,"
                f"crop={w}:{h}:'(iw-{w})/2':'(ih-{h})/2'")
    pans = {"pan_left": (f"(iw-{w})*(1-n/{T})", f"(ih-{h})/2"), "pan_right": (f"(iw-{w})*n/{T}", f"(ih-{h})/2"),
            "pan_up": (f"(iw-{w})/2", f"(ih-{h})*(1-n/{T})"), "pan_down": (f"(iw-{w})/2", f"(ih-{h})*n/{T}")}
    if motion in pans:
        x, y = pans[motion]
        return f"crop={w}:{h}:'{x}':'{y}'"
    return f"crop={w}:{h}"


def fit_filter(fit: str, w: int, h: int, over: float = 1.0) -> str:
    W, H = int(round(w * over / 2)) * 2, int(round(h * over / 2)) * 2
    if fit == "contain":
        return (f"scale={W}:{H}:force_original_aspect_ratio=decrease:flags=lanczos,"
                f"pad={W}:{H}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1")
    return f"scale={W}:{H}:force_original_aspect_ratio=increase:flags=lanczos,crop={W}:{H},setsar=1"


def ass_file(path: Path, sentences: list[dict], offset: float, w: int, h: int, font: str, text: str, accent: str) -> None:
    def col(hexc: str) -> str:  # ASS colours are &HBBGGRR
        return f"&H00{hexc[5:7]}{hexc[3:5]}{hexc[1:3]}"

    size = int(h * 0.045) if h > w else int(h * 0.055)
    width_chars = 24 if h > w else 42

    def ts(t: float) -> str:
        cs = int(round(max(0.0, t) * 100))
        return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"

    lines = ["[Script Info]", "ScriptType: v4.00+", f"PlayResX: {w}", f"PlayResY: {h}", "WrapStyle: 2", "",
             "[V4+ Styles]",
             "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
             "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
             "MarginR, MarginV, Encoding",
             # an opaque, half-transparent box behind the text: readable over any slide or picture
             f"Style: Default,{font},{size},{col(text)},{col(accent)},&H50000000,&H50000000,1,0,0,0,100,100,0,0,3,"
             f"{max(4, size // 5)},0,2,{int(w * 0.06)},{int(w * 0.06)},{int(h * (0.22 if h > w else 0.08))},1",
             "", "[Events]", "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"]
    for c in cues(sentences, max_chars=width_chars * 2):
        body = r"\N".join(ass_text(line) for line in wrap(c["text"], width_chars))
        lines.append(f"Dialogue: 0,{ts(c['start'] + offset)},{ts(c['end'] + offset)},Default,,0,0,0,,{body}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def check_clip(path: Path, start: float) -> None:
    """Raise a clear StepError if the clip has no video stream or `start` is at or past its end. Run before the
    encode only when start > 0, and after a failed encode: a probe per clip segment is a process start saved on
    the common path."""
    from core.errors import StepError

    info = ffprobe(path)
    if not any(s.get("codec_type") == "video" for s in info["streams"]):
        raise StepError(f"clip {path.name} has no video stream")
    length = float(info.get("format", {}).get("duration") or 0)
    if length and start >= length:
        raise StepError(f"clip {path.name} is {length:.2f} s long, so `start: {start:g}` is at or past its end",
                        hint="give a start below the clip's length")


def copy_clip(clip: Path, frames: int, samples: int, p, ctx: Context) -> dict:
    """The scene as the clip's first `frames` packets (the clip repeated as often as the scene needs), by stream
    copy: no B-frames, so the first n packets in decode order are the first n frames, and every repeat starts with
    the clip's IDR frame. When the segment measures pictures, the same ffmpeg decodes those packets for the
    detectors (one process, one read of the clip). The result is checked: its frame count, and one frame duration
    throughout (a repeat that left a gap would show as a second one)."""
    from core.errors import StepError

    from ._lib.mp4info import refusal, video_track

    track = video_track(clip)
    why = refusal(track, p.width, p.height, p.fps, float("inf"))
    if why:  # the plan read these very bytes (they are in the key); a changed reader or a corrupt file lands here
        raise StepError(f"clip {clip.name} cannot be stream-copied: {why}",
                        hint="set `quality: {clip_copy: false}` on the brand to encode its clips")
    repeats = -(-frames // track.frames)
    if repeats == 1:
        src = ["-i", str(clip)]
    else:  # the concat demuxer, told each repeat's exact length (a longer audio track must not delay the next)
        link = ctx.scratch / "clip.mp4"
        link.unlink(missing_ok=True)
        link.symlink_to(clip)
        seconds = track.frames * next(iter(track.deltas)) / track.timescale
        (ctx.scratch / "clips.txt").write_text(f"file 'clip.mp4'\nduration {seconds:.6f}\n" * repeats)
        src = ["-f", "concat", "-safe", "0", "-auto_convert", "0", "-i", "clips.txt"]  # packets as they are
    out = ctx.out("video.mp4").absolute()
    cmd = DECODE_FINAL + src + ["-map", "0:v:0", "-c", "copy", "-frames:v", str(frames), "-video_track_timescale",
                                "90000", "-map_metadata", "-1", "-fflags", "+bitexact", str(out)]
    if p.pictures:
        cmd += ["-filter_complex", f"[0:v:0]{picture_branch(p.fps, True)}", "-map", "[v]", "-frames:v", str(frames),
                "-f", "null", "-"]
    run_ffmpeg(cmd, what="copying the clip", progress=ctx.progress, total_s=frames / p.fps, cwd=ctx.scratch)
    made = video_track(out)
    if made is None or made.frames != frames or len(made.deltas) != 1 or made.config != track.config:
        raise StepError(f"copying clip {clip.name} gave {made.frames if made else 'no'} frames "
                        f"(expected {frames}) or uneven frame times",
                        hint="set `quality: {clip_copy: false}` on the brand to encode its clips")
    facts = {"frames": frames, "fps": p.fps, "duration_s": frames / p.fps, "samples": samples, "copied": True}
    if p.pictures:
        facts["pictures"] = read_pictures(ctx.scratch / PICTURE_FILE, frames / p.fps, freeze=True)
    return facts


class FfmpegSegment(EncodingRenderer, Renderer):
    kind = "segment.ffmpeg"
    version = 7  # 5: x264 on one thread (X264); 6: a long still scene repeats its second GOP (STILL_REPEAT_GOPS);
    # 7: the final x264 encode starts after a pre-roll of its first picture, cut away (PREROLL_FRAMES)
    needs = ("ffmpeg",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("audio", "timings", "visual")
    outputs = ("video.mp4", "audio.wav")

    class Params(EncodeParams):
        IMPLICIT: ClassVar[dict[str, Any]] = {**EncodeParams.IMPLICIT, "pictures": False, "stream_copy": False,
                                              "repeat_loops": False}
        width: int
        height: int
        fps: int
        visual_type: Literal["image", "video"]
        fit: Literal["cover", "contain"] = "cover"
        motion: str = "none"
        pad: float = 0.6
        lead: float = 0.2
        start: float = 0.0
        loop: bool = True
        burn_captions: bool = False
        caption_font: str = "DejaVu Sans"
        caption_color: str = "#ffffff"
        caption_accent: str = "#ffcc00"
        split_head: int = Field(0, ge=0, description="frames a crossfade takes from the start (IDR forced after them)")
        split_tail: int = Field(0, ge=0, description="frames a crossfade takes from the end (IDR forced before them)")
        pictures: bool = Field(False, description="final only: black and frozen stretches measured on the frames as "
                                                  "they are encoded (facts `pictures`, read by qc.scene: no decode)")
        repeat_loops: bool = Field(False, description="final x264 only: a clip looped at least LOOP_REPEAT_MIN whole "
                                                      "times is encoded once per piece and its period repeated")
        stream_copy: bool = Field(False, description="the clip's own packets, by stream copy (the plan decides for a "
                                                     "whole video; renderers/_lib/mp4info.py): its first frames, the "
                                                     "clip repeated if it is shorter than the scene")

    # CPU seconds per 1080p frame of the final encode, by what the scene shows (cosmos/dark-sky on a 2-core VM,
    # docs/benchmarks.md): a still (repeated GOPs), a flat-colour animation (Manim, Remotion), a picture or clip
    # in motion (Ken Burns, camera footage), the clip's own packets
    COST_PER_FRAME = {"still": 0.004, "animation": 0.009, "moving": 0.018, "copy": 0.001}

    @classmethod
    def cost_hint(cls, params: dict, upstream) -> float:
        """The encode's CPU seconds, guessed from the narration's words (2.5 a second) and what the scene shows:
        the Ken Burns zoom or the looped star field start before the slides, not after them."""
        narration = upstream("timings")
        words = len(str(narration.params.get("text") or "").split()) if narration is not None else 0
        frames = (words / 2.5 + params.get("pad", 0.6) + params.get("lead", 0.2)) * params.get("fps", 30)
        if params.get("stream_copy"):
            what = "copy"
        elif params.get("visual_type") == "image":
            what = "still" if params.get("motion", "none") == "none" else "moving"
        else:
            visual = upstream("visual")
            what = "animation" if visual is not None and visual.kind in ("manim.scene", "remotion.clip") else "moving"
        area = params.get("width", 1920) * params.get("height", 1080) / (1920 * 1080)
        return frames * area * cls.COST_PER_FRAME[what] * (1.2 if params.get("burn_captions") else 1.0)

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        timings = json.loads(Path(ctx.inputs["timings"]).read_text())
        frames = scene_frames(timings["duration_s"], p.pad, p.fps, p.lead)
        samples = pad_narration(Path(ctx.inputs["audio"]), Path(ctx.inputs["timings"]), p.pad, p.lead, p.fps,
                                ctx.out("audio.wav"))
        # absolute paths: with burned captions ffmpeg runs in the scratch folder (see below)
        w, h, visual = p.width, p.height, str(Path(ctx.inputs["visual"]).absolute())
        if p.stream_copy:
            return copy_clip(Path(visual), frames, samples, p, ctx)
        looped = loop_pieces(p, frames, Path(visual)) if p.repeat_loops else None
        if looped:  # a clip looped at least LOOP_REPEAT_MIN times: each piece encoded once, the period repeated
            pictures = encode_loop_pieces(looped[1], looped[0], p, visual, ctx, frames)
            facts = {"frames": frames, "fps": p.fps, "duration_s": frames / p.fps, "samples": samples}
            if pictures is not None:
                facts["pictures"] = pictures
            return facts
        repeat = still_repeats(p, frames)
        scene_total = frames  # the scene; `frames` is what this encode makes
        if repeat:  # two GOPs and the last partial one are encoded; join_repeated_still makes the scene of them
            frames = p.split_head + 2 * repeat[2] + repeat[1] + p.split_tail
        if p.visual_type == "image":
            moving = p.motion != "none"
            # a still: decode and scale it once, then repeat that frame in memory (2.5x faster than
            # re-reading the image per frame). Ken Burns motion works on the picture as decoded (a JPEG's full
            # 4:2:0, a PNG's RGB) and is turned into 4:2:0 after it, as one would write it by hand: the moving
            # chroma is scaled once, not scaled after subsampling (the sample's zoom: SSIM against the hand-written
            # graph's pictures -0.00024 -> see docs/benchmarks.md, eighth pass)
            chain = [fit_filter(p.fit, w, h, 1.12 if moving else 1.0)] + ([] if moving else ["format=yuv420p"]) + [
                f"loop=loop={frames - 1}:size=1:start=0", f"setpts=N/{p.fps}/TB"]
            if moving:
                chain.append(motion_filter(p.motion, w, h, frames, p.fps))
            src = ["-framerate", str(p.fps), "-i", visual]
        else:
            if p.start > 0:  # a start past the end must be caught before ffmpeg loops or waits on it
                check_clip(Path(visual), p.start)
            # the final encode decodes its clip on one thread too (DECODE_FINAL); the preview keeps ffmpeg's threads
            dec = DECODE_FINAL if p.profile == "final" else []
            src = (["-stream_loop", "-1"] if p.loop else []) + dec + ["-ss", f"{p.start:.3f}", "-i", visual]
            chain = [f"fps={p.fps}", fit_filter(p.fit, w, h)]
        if p.burn_captions:
            # the filtergraph names the subtitles by a fixed relative name and ffmpeg runs in the scratch
            # folder: no path (with its quotes, commas, colons or backslashes) ever enters the filtergraph
            ass_file(ctx.scratch / "captions.ass", timings["sentences"], p.lead, w, h, p.caption_font,
                     p.caption_color, p.caption_accent)
            chain.append("subtitles=filename=captions.ass")
        chain += ["format=yuv420p", f"tpad=stop_mode=clone:stop={frames}"]
        preroll = PREROLL_FRAMES if p.profile == "final" and p.encoder == "x264" else 0
        graph = encode_graph(chain, p.fps if p.pictures else None, p.visual_type == "video", preroll)
        encoded = ctx.scratch / "still.mp4" if repeat else ctx.out("video.mp4")
        target = ctx.scratch / "preroll.mp4" if preroll else encoded
        try:
            run_ffmpeg(src + ["-an"] + graph + ["-frames:v", str(frames + preroll)]
                       + x264_args(p.fps, p.profile, p.encoder)
                       + split_args(frames, p.split_head, p.split_tail, preroll)
                       + [str(target.absolute())], what="encoding the scene", progress=ctx.progress,
                       total_s=(frames + preroll) / p.fps, cwd=ctx.scratch)
        except Exception:
            if p.visual_type == "video":  # a clear reason (no video stream...) rather than ffmpeg's last lines
                check_clip(Path(visual), p.start)
            raise
        if preroll:
            drop_preroll(target, preroll, frames, ctx.scratch, encoded)
        pictures = (read_pictures(ctx.scratch / PICTURE_FILE, frames / p.fps, freeze=p.visual_type == "video")
                    if p.pictures else None)
        if repeat:
            join_repeated_still(encoded, *repeat, p.split_head, p.split_tail, ctx.scratch, ctx.out("video.mp4"))
            frames = scene_total
            if pictures is not None:  # one picture throughout: black everywhere or nowhere
                pictures["black"] = [[0.0, round(frames / p.fps, 3)]] if pictures["black"] else []
        facts = {"frames": frames, "fps": p.fps, "duration_s": frames / p.fps, "samples": samples}
        if pictures is not None:
            facts["pictures"] = pictures
        return facts
