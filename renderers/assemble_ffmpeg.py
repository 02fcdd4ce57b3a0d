"""Final assembly: segments joined by stream copy, music ducked under the narration, loudness
normalised (two-pass loudnorm) to the brand target, -14 LUFS integrated and -1 dBTP by default.

Only the audio is encoded here; the video stream is copied, so assembly costs seconds even for
long videos and re-encodes nothing when one scene changes. A crossfade boundary is spliced in
the same way: the segments' crossfaded edges are cut off at forced IDR frames and the separately
rendered crossfade piece (transition_ffmpeg.py) goes between them.
"""
from __future__ import annotations

import math
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.errors import StepError

from .base import Context, Params, ProfileParams, Renderer, ffmpeg_version, ffprobe, pad_filter, run_ffmpeg
from ._lib.aac_dual import dual_mono_mp4
from ._lib.qc_media import MUSIC_RATE, music_levels
from .segment_ffmpeg import cut_head, open_pcm, write_padded


def concat_list(paths: list[Path], out: Path) -> Path:
    out.write_text("".join(f"file '{str(p)}'\n" for p in paths))
    return out


def measure_loudness(path: Path) -> dict:
    """Integrated loudness (LUFS) and true peak (dBTP) with ffmpeg's EBU R128 meter."""
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:a:0", "-af",
                           "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True)
    return parse_loudness(proc.stderr)


PART_MUSIC_FADE_S = 0.25  # a soundtrack part's music fades in and out over this, next to its silent edges
AAC_PRIMING = 1024  # samples of encoder delay ffmpeg's AAC encoder puts first (the MP4 edit list hides them)


def encode_measured(pcm: Path, samples: int, out_name: str, bitrate: str, cwd: Path, progress=None,
                    total_s: float | None = None, level: list[str] | None = None, *, raw: bool = False,
                    dual: bool = True, blocks: bool = False) -> dict:
    """Encode mono PCM to dual-mono AAC in `cwd / out_name` and measure the encoded stream's integrated loudness and
    true peak while it is encoded: the encoder's packets go, through ffmpeg's tee muxer, both into the MP4 and down
    a pipe to a second ffmpeg that decodes and meters them, on another core, instead of a decode after the encode.
    The encoder codes the one channel once, at half the bit rate; `dual_mono_mp4` then writes each frame's channel
    twice (a stereo track whose channels decode to exactly the mono decode): half the encoder's and the meter's work
    of a stereo encode with the mid/side search off, which coded the two equal channels separately anyway.
    The meter drops the encoder's priming and padding as the MP4's edit list does, so it measures the `samples`
    samples a player plays, exactly what a decode of the MP4 would measure (tested).

    The PCM is the file `pcm`, or, with `level` (the filters of a levelling pass), `pcm` levelled by a third ffmpeg
    whose samples stream straight into the encoder: levelling, encoding and metering run at once. The levelled PCM
    is not metered itself: the encoded stream's loudness is the one delivered, and differs from it by the coding
    noise (well under 0.1 LU), so one meter serves both the level check and the facts.
    Returns the encoded stream's integrated loudness (LUFS, as stereo) and true peak (dBTP).

    `raw`: `pcm` is headerless mono float32 at 48 kHz. `dual=False` leaves the mono MP4 as ffmpeg wrote it (a
    soundtrack part, joined later). `blocks` adds "blocks", the coded channel's 400 ms block loudnesses (mono)."""
    procs: list[subprocess.Popen] = []
    if level is not None:
        procs.append(subprocess.Popen(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(pcm),
                                       "-af", ",".join(level), "-c:a", "pcm_f32le", "-f", "f32le", "pipe:1"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        source = ["-f", "f32le", "-ar", "48000", "-ac", "1", "-i", "pipe:0"]
    elif raw:
        source = ["-f", "f32le", "-ar", "48000", "-ac", "1", "-i", str(pcm)]
    else:
        source = ["-i", str(pcm)]
    enc_cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    if progress and total_s:
        enc_cmd += ["-progress", "pipe:2", "-stats_period", "1"]
    mono = f"mono-{out_name}"
    enc_cmd += source + ["-map", "0:a", "-ac", "1", "-c:a", "aac", "-aac_coder", "fast", "-aac_pns", "0",
                         "-b:a", str(bitrate_bps(bitrate) // 2), "-map_metadata", "-1", "-fflags", "+bitexact",
                         "-flags:a", "+bitexact+global_header", "-f", "tee", f"[f=mp4]{mono}|[f=adts]pipe:1"]
    procs.append(subprocess.Popen(enc_cmd, stdin=procs[0].stdout if procs else None, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, cwd=cwd))
    procs.append(subprocess.Popen(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "verbose" if blocks else "info",
                                   "-f", "aac", "-i", "pipe:0", "-af",
                                   f"atrim=start_sample={AAC_PRIMING}:end_sample={AAC_PRIMING + samples},"
                                   f"ebur128=peak=true{':framelog=verbose' if blocks else ''}", "-f", "null", "-"],
                                  stdin=procs[-1].stdout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for proc in procs[:-1]:
        proc.stdout.close()  # the next process holds the read end: a writer sees a broken pipe if its reader dies
    enc, logs = procs[-2], {}
    with ThreadPoolExecutor(2, thread_name_prefix="ffmpeg-log") as pool:
        others = {i: pool.submit(procs[i].stderr.read) for i in range(len(procs)) if procs[i] is not enc}
        enc_log = []
        for raw in enc.stderr:
            line = raw.decode(errors="replace")
            if line.startswith("out_time_us="):
                try:
                    progress(min(1.0, int(line.split("=", 1)[1]) / 1e6 / total_s), "encoding audio")
                except (TypeError, ValueError):
                    pass
            elif "=" not in line or " " in line.split("=", 1)[0]:
                enc_log.append(line)
        logs = {i: f.result().decode(errors="replace") for i, f in others.items()}
    logs[procs.index(enc)] = "".join(enc_log)
    for i, (proc, what) in enumerate(zip(procs, (["levelling audio"] if level is not None else [])
                                         + ["encoding audio", "measuring the encoded audio"])):
        if proc.wait() != 0:
            raise StepError(f"ffmpeg failed while {what}: " + "\n".join(logs[i].strip().splitlines()[-6:]))
    if dual:
        try:
            dual_mono_mp4(cwd / mono, cwd / out_name)
        except ValueError as e:
            raise StepError(f"could not make the dual-mono AAC track: {e}") from e
        (cwd / mono).unlink()
    else:
        (cwd / mono).replace(cwd / out_name)
    facts = parse_loudness(logs[len(procs) - 1])  # of the one coded channel: both channels carry it, +3.01 dB
    if blocks:
        facts["blocks"] = block_loudness(logs[len(procs) - 1])
    if facts["integrated_lufs"] is not None:
        facts["integrated_lufs"] = round(facts["integrated_lufs"] + 3.0103, 1)
    return facts


def bitrate_bps(rate: str | int) -> int:
    """'192k', '0.192M' or 192000 -> 192000 (an ffmpeg-style bit rate)."""
    text = str(rate).strip()
    scale = {"k": 1000, "K": 1000, "m": 1000000, "M": 1000000}.get(text[-1:], 1)
    try:
        value = float(text[:-1] if scale != 1 else text) * scale
    except ValueError:
        raise StepError(f"audio bit rate {rate!r} is not a number of bits per second such as '192k'") from None
    if not 16000 <= value <= 1000000:
        raise StepError(f"audio bit rate {rate!r} is outside 16k to 1M")
    return int(value)


def run_metered(args: list[str], what: str, feed=None, blocks: bool = False) -> dict:
    """Run ffmpeg whose filters end in `ebur128` (`=peak=true` when the true peak is wanted): filter and meter in one
    pass (saves a decode). With `feed`, a thread calls feed(write) to stream ffmpeg's `pipe:0` input. With `blocks`
    (the meter has `framelog=verbose`) the result also has "blocks", the meter's 400 ms block loudnesses."""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "verbose" if blocks else "info"] + args
    if feed is None:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        stderr = proc.stderr
    else:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def pump() -> None:
            try:
                feed(proc.stdin.write)
            except (BrokenPipeError, OSError):  # ffmpeg stopped reading: its own error says why
                pass
            finally:
                try:
                    proc.stdin.close()
                except OSError:
                    pass

        with ThreadPoolExecutor(1, thread_name_prefix="ffmpeg-feed") as pool:
            fed = pool.submit(pump)
            stderr = proc.stderr.read().decode(errors="replace")
            proc.wait()
            fed.result()
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-6:])
        raise StepError(f"ffmpeg failed while {what}: {tail}")
    found = parse_loudness(stderr)
    if blocks:
        found["blocks"] = block_loudness(stderr)
    return found


def parse_loudness(stderr: str) -> dict:
    summary = stderr[stderr.rfind("Summary:"):]
    i = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    tp = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    return {"integrated_lufs": float(i.group(1)) if i else None, "true_peak_dbtp": float(tp.group(1)) if tp else None}


BLOCK_LINE = re.compile(r"\] t: *[\d.]+ +TARGET:-?\d+ LUFS +M: *(-?[\d.]+|-inf) ")


def block_loudness(stderr: str) -> list[float]:
    """The loudness of each 400 ms gating block (BS.1770: one every 100 ms) from ebur128's `framelog=verbose` lines,
    leaving out the first three (the meter's window not yet full)."""
    return [float(m.group(1)) for m in BLOCK_LINE.finditer(stderr)][3:]


def gated_loudness(blocks: list[float]) -> float | None:
    """BS.1770 integrated loudness (LUFS) from 400 ms block loudnesses: the mean energy of the blocks above the
    absolute gate (-70 LUFS), then of those also within 10 LU of that mean. The blocks of pieces played one after
    another merge into the whole's (up to the few blocks that straddle a join, silent in a soundtrack's parts)."""
    energy = [10 ** ((b + 0.691) / 10) for b in blocks if b > -70.0]
    if not energy:
        return None
    gate = sum(energy) / len(energy) * 10 ** (-10 / 10)
    kept = [e for e in energy if e > gate]
    return -0.691 + 10 * math.log10(sum(kept) / len(kept))


def merged_loudness(pieces: list[dict]) -> float | None:
    """The integrated loudness (LUFS) of pieces played one after another, from each piece's own gated
    integrated loudness and duration: the duration-weighted mean of their energies. BS.1770's integrated
    loudness is a gated mean of 400 ms block energies; merging per-piece gated means is exact up to the
    relative gate (computed per piece instead of over the whole) and the blocks straddling a boundary,
    well under 1 LU for a narration-led soundtrack (tests/renderers/test_audio_preview.py checks it)."""
    energy = seconds = 0.0
    for f in pieces:
        d, lufs = f.get("duration_s") or 0.0, f.get("integrated_lufs")
        seconds += d
        if lufs is not None and math.isfinite(lufs):
            energy += d * 10 ** ((lufs + 0.691) / 10)
    if not seconds or not energy:
        return None
    return -0.691 + 10 * math.log10(energy / seconds)


class Crossfade(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: int = Field(ge=1, description="index of the scene that begins with the crossfade")
    tail: int = Field(ge=1, description="frames the crossfade takes from the end of scene at-1")
    head: int = Field(ge=1, description="frames it takes from the start of scene at")


def cut_body(video: Path, head: int, tail: int, frames: int, scratch: Path, label: str = "0") -> Path:
    """`video` without its first `head` and last `tail` frames, by stream copy at the IDR frames the segment forced
    there (`frames`: the segment's frame count); the frame count is checked."""
    body = video
    if head:
        body = cut_head(video, head, scratch, label)
    if tail:  # the first n packets in decode order are exactly the first n frames (closed GOPs)
        out = scratch / f"body{label}.mp4"
        run_ffmpeg(["-i", str(body), "-map", "0:v", "-c", "copy", "-frames:v", str(frames - head - tail),
                    "-video_track_timescale", "90000", "-map_metadata", "-1", "-fflags", "+bitexact", str(out)],
                   what=f"cutting scene {label}")
        body = out
    got = int(next(st for st in ffprobe(body)["streams"] if st.get("codec_type") == "video")["nb_frames"])
    if got != frames - head - tail:
        raise StepError(f"cutting scene {label} for its crossfades gave {got} frames, expected {frames - head - tail}",
                        hint="the segment lacks IDR frames at its crossfade edges; rebuild it")
    return body


def segment_frames(video: Path, facts: dict | None) -> int:
    frames = facts.get("frames") if facts else None
    if not isinstance(frames, int):
        frames = int(next(st for st in ffprobe(video)["streams"] if st.get("codec_type") == "video")["nb_frames"])
    return frames


def video_pieces(videos: list[Path], transitions: list[Path], crossfades: list[Crossfade], facts: list[dict],
                 scratch: Path, bodies: bool = False) -> list[Path]:
    """Segments with crossfaded edges cut off (by stream copy, at the IDR frames the segments forced
    there), interleaved with the crossfade pieces. The frame count is the timeline's. `bodies`: the videos are
    already cut (segment.cut steps, cached per segment), so they are only interleaved."""
    if len(transitions) != len(crossfades):
        raise StepError(f"{len(crossfades)} crossfades but {len(transitions)} transition pieces")
    if not crossfades:
        return list(videos)
    by_at = {c.at: (c, t) for c, t in zip(crossfades, transitions)}
    pieces: list[Path] = []
    for i, video in enumerate(videos):
        head = by_at[i][0].head if i in by_at else 0
        tail = by_at[i + 1][0].tail if i + 1 in by_at else 0
        if i in by_at:
            pieces.append(by_at[i][1])
        if bodies or (not head and not tail):
            pieces.append(video)
            continue
        frames = segment_frames(video, facts[i] if i < len(facts) else None)
        pieces.append(cut_body(video, head, tail, frames, scratch, f"{i:03d}"))
    return pieces


class SegmentCut(Renderer):
    """A segment without the edges its crossfades replace, cut by stream copy: a step of its own, cached by the
    segment's key, so an edit re-cuts only the segments it re-encodes instead of the assembly re-cutting every
    crossfaded segment on every build."""

    kind = "segment.cut"
    version = 1
    needs = ("ffmpeg",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("video",)
    outputs = ("video.mp4",)

    class Params(Params):
        head: int = Field(0, ge=0, description="frames the crossfade at the segment's start replaces")
        tail: int = Field(0, ge=0, description="frames the crossfade at its end replaces")

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        p, video = ctx.params, Path(ctx.inputs["video"])
        frames = segment_frames(video, ctx.input_facts.get("video"))
        if p.head + p.tail >= frames:
            raise StepError(f"crossfades of {p.head} + {p.tail} frames leave nothing of a {frames}-frame scene",
                            hint="use a shorter transition_s, or a cut")
        scene = ctx.step_id.rsplit("/", 1)[-1]  # <prefix>/cut/<scene>: errors name the scene
        body = cut_body(video, p.head, p.tail, frames, ctx.scratch, scene if scene.isdigit() else "0")
        shutil.copyfile(body, ctx.out("video.mp4"))
        return {"frames": frames - p.head - p.tail, "head": p.head, "tail": p.tail}


class FfmpegAssemble(Renderer):
    kind = "assemble.ffmpeg"
    version = 7  # 4: the soundtrack (when mixed here) as audio.final v2; 5: as audio.final v3; `bodies`; 6: v4; 7: v5
    needs = ("ffmpeg",)  # capabilities a render worker must have (compiler/remote routes by them)
    inputs = ("videos",)
    # `audios` (the segments' padded narration, mixed here) or `audio` (the finished soundtrack of audio.final,
    # which the final plan renders beside the segments' video encodes; then this step only cuts and muxes)
    optional_inputs = ("audios", "audio", "music", "transitions")
    outputs = ("video.mp4",)

    class Params(ProfileParams):
        IMPLICIT: ClassVar[dict[str, Any]] = {**ProfileParams.IMPLICIT, "premixed": 0, "bodies": False}
        fps: int
        loudness_lufs: float = -14.0
        true_peak_db: float = -1.0
        music_volume_db: float = -20.0
        music_duck_db: float = 10.0
        audio_bitrate: str = "192k"
        crossfades: list[Crossfade] = Field(default_factory=list, description="boundaries replaced by `transitions`")
        premixed: Literal[0, 2] = Field(0, description="preview only: `audios` are audio.preview pieces, each scene "
                                        "mixed, levelled and encoded on its own (2: FLAC in MP4), joined by stream copy")
        bodies: bool = Field(False, description="`videos` are already cut where crossfades replace their edges "
                                                "(segment.cut steps): they are only interleaved with the transitions")

    def tool_fingerprint(self) -> dict:
        return {"ffmpeg": ffmpeg_version()}

    def run(self, ctx: Context) -> dict:
        p = ctx.params
        s = ctx.scratch
        if p.premixed:
            return self._premixed(ctx)
        # the video pieces (stream-copy cuts at the crossfades) are cut while the audio is mixed: they share no
        # file, and the same commands run either way (same bytes), in about the time of the audio alone
        with ThreadPoolExecutor(1, thread_name_prefix="assemble-video") as pool:
            video = pool.submit(lambda: concat_list(video_pieces(ctx.inputs["videos"], ctx.inputs.get("transitions") or [],
                                                                 p.crossfades, ctx.input_facts.get("videos") or [], s,
                                                                 p.bodies),
                                                    s / "videos.txt"))
            if ctx.inputs.get("audio") is not None:
                audio, made = ctx.inputs["audio"], dict(ctx.input_facts.get("audio") or {})
                facts = {k: made.get(k) for k in ("integrated_lufs", "true_peak_dbtp")}
                facts.update({k: made[k] for k in ("music_db", "gap_music_db") if k in made})
                gain, total = made["gain_db"], made["duration_s"]
            elif ctx.inputs.get("audios"):
                audio, facts, gain, total = self._audio(ctx)
            else:
                raise StepError("the assembly needs the scenes' audio (`audios`) or a finished soundtrack (`audio`)")
            vlist = video.result()
        run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(vlist), "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0",
                    "-c", "copy", "-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact",
                    str(ctx.out("video.mp4"))], what="muxing the final video")
        facts["gain_db"] = round(gain, 2)
        facts["duration_s"] = round(total, 4)
        facts["segments"] = len(ctx.inputs["videos"])
        facts["crossfades"] = len(p.crossfades)
        return facts

    def _premixed(self, ctx: Context) -> dict:
        """The preview's assembly from finished per-scene pieces (audio_preview.py: each scene mixed, levelled and
        encoded to FLAC in MP4 on its own): the pieces and the segments are joined by stream copy in one mux, so
        nothing is decoded or encoded and the cost does not grow with what did not change. FLAC has no encoder
        priming, so the joined track is sample-exact; its STREAMINFO (copied from the first piece) is then marked
        "length and checksum unknown" so no player trusts the first piece's values for the whole track."""
        p, s = ctx.params, ctx.scratch
        pieces = ctx.inputs["audios"]
        facts_in = ctx.input_facts.get("audios") or []
        if len(facts_in) != len(pieces) or not all("duration_s" in f for f in facts_in):
            raise StepError("the preview assembly needs the audio.preview pieces' facts (duration, loudness)")
        total = sum(f["duration_s"] for f in facts_in)
        vlist = concat_list(video_pieces(ctx.inputs["videos"], ctx.inputs.get("transitions") or [], p.crossfades,
                                         ctx.input_facts.get("videos") or [], s, p.bodies), s / "videos.txt")
        muxed = s / "video.mp4"
        run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(vlist), "-f", "concat", "-safe", "0",
                    "-i", str(concat_list(pieces, s / "audios.txt")), "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
                    "-strict", "experimental", "-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact",
                    str(muxed)], what="joining the preview")
        ctx.out("video.mp4").write_bytes(flac_length_unknown(muxed.read_bytes()))
        # each piece sits at the target on its own (audio_preview.py); what the whole reads, from their energies
        levelled = [{"duration_s": f["duration_s"], "integrated_lufs": None if f.get("integrated_lufs") is None
                     else f["integrated_lufs"] + f.get("gain_db", 0.0)} for f in facts_in]
        estimate = merged_loudness(levelled)
        return {"integrated_lufs": None, "true_peak_dbtp": None, "preview": True, "premixed": p.premixed,
                "estimated_lufs": None if estimate is None else round(estimate + 3.0103, 2),
                "duration_s": round(total, 4), "segments": len(ctx.inputs["videos"]), "crossfades": len(p.crossfades)}

    def _audio(self, ctx: Context) -> tuple[Path, dict, float, float]:
        return soundtrack(ctx.inputs["audios"], ctx.inputs.get("music"), ctx.params, ctx.scratch, ctx.progress)


def mix_pass(audios: list[Path], music: Path | None, p, s: Path, pads: list[tuple[int, int]] | None = None,
             edges: tuple[int, int] | None = None, blocks: bool = False) -> tuple[Path, float | None, bool, float, list]:
    """The soundtrack's mix: the scenes' padded narration joined, music ducked under it, metered -> (mix.wav in `s`,
    its integrated loudness (LUFS, mono), whether the music check's stems ns.f32/ms.f32 were written, seconds, the
    meter's 400 ms block loudnesses when `blocks`). `p` carries music_volume_db, music_duck_db and profile. With
    `pads` ((delay ms, samples) per scene) `audios` are the raw narrations, padded exactly as the segments pad them
    (segment_ffmpeg.py): 48 kHz mono 16-bit ones in Python and streamed in as one input, any other format by the
    segments' filter inside the same ffmpeg. The same samples either way, without a file and a process per scene.
    With `edges` (head, tail) the music (which starts from the top of its file) is silent for the first `head` and
    the last `tail` samples and fades in and out next to them (a soundtrack part, audio_parts.py)."""
    feed = None
    if pads is None:
        total = sum(_wav_seconds(a) for a in audios)
        # the scenes' narration, read in order by the concat demuxer straight into the mix (no joined copy)
        inputs = ["-f", "concat", "-safe", "0", "-i", str(concat_list(audios, s / "audios.txt"))]
        narration, mi = "[0:a]anull[nar];", 1
    else:
        if len(pads) != len(audios):
            raise StepError(f"{len(audios)} narrations but {len(pads)} paddings")
        total = sum(n / 48000 for _, n in pads)
        sources = [open_pcm(Path(a)) for a in audios]
        if all(sources):
            # every narration is 16-bit mono at 48 kHz (what the voice steps write): padded and joined here and
            # streamed into the mix as one raw input. The same samples as the filters below; an input per scene cost
            # an ffmpeg input thread and a filter chain each (a quarter of the mix's CPU on a 10-minute video).
            def feed(write, sources=sources) -> None:
                try:
                    for src, (d, n) in zip(sources, pads):
                        write_padded(src, d * 48000 // 1000, n, write)
                finally:
                    for src in sources:
                        src.close()

            inputs = ["-f", "s16le", "-ar", "48000", "-ac", "1", "-i", "pipe:0"]
            narration, mi = "[0:a]aformat=sample_fmts=s16:channel_layouts=mono[nar];", 1
        else:
            for src in sources:
                if src:
                    src.close()
            inputs = [x for a in audios for x in ("-i", str(a))]
            narration = "".join(f"[{i}:a]{pad_filter(48000, d, n)},aformat=sample_fmts=s16:channel_layouts=mono[p{i}];"
                                for i, (d, n) in enumerate(pads))
            narration += "".join(f"[p{i}]" for i in range(len(pads))) + f"concat=n={len(pads)}:v=0:a=1[nar];"
            mi = len(audios)
    stems = int(bool(music) and p.profile == "final")
    outputs: list[str] = []
    fades = ""
    if edges is not None:
        n, (head, tail), fade = int(round(total * 48000)), edges, int(PART_MUSIC_FADE_S * 48000)
        if head:
            fades += f",afade=t=in:ss={head}:ns={fade}"
        if tail:
            fades += f",afade=t=out:ss={max(0, n - tail - fade)}:ns={fade}"
    if music:
        # duck: the music is compressed with the narration as side chain, then mixed under it
        inputs += ["-stream_loop", "-1", "-i", str(music)]
        graph = (f"{narration}[{mi}:a]aresample=48000,aformat=channel_layouts=mono,volume={p.music_volume_db}dB,"
                 f"atrim=0:{total:.4f}{fades}[m];"
                 f"[nar]asplit={2 + stems}[n][sc]{'[ns]' if stems else ''};"
                 f"[m][sc]sidechaincompress=threshold=0.015:ratio={max(2.0, 10 ** (p.music_duck_db / 20)):.2f}:"
                 f"attack=15:release=350:makeup=1{',asplit=2[md][ms]' if stems else '[md]'};"
                 f"[n][md]amix=inputs=2:duration=first:normalize=0[mix]")
        if stems:  # the two stems for the music check (qc_master.music_levels), as qc.master would hear them
            graph += "".join(f";[{a}]aresample={MUSIC_RATE},highpass=f=100[{a}o]" for a in ("ns", "ms"))
            outputs = [x for a in ("ns", "ms") for x in ("-map", f"[{a}o]", "-c:a", "pcm_f32le", "-f", "f32le",
                                                         str(s / f"{a}.f32"))]
    else:
        graph = f"{narration}[nar]anull[mix]"
    mix = s / "mix.wav"
    meter = "ebur128=framelog=verbose" if blocks else "ebur128"
    found = run_metered(inputs + ["-filter_complex", graph + f";[mix]{meter}[st]", "-map", "[st]",
                                  "-c:a", "pcm_f32le", str(mix)] + outputs, "mixing audio", feed, blocks=blocks)
    return mix, found["integrated_lufs"], bool(stems), total, found.get("blocks", [])


def soundtrack(audios: list[Path], music: Path | None, p, s: Path, progress,
               pads: list[tuple[int, int]] | None = None) -> tuple[Path, dict, float, float]:
    """The soundtrack in one piece: `mix_pass`, then levelled and encoded -> (audio.m4a in `s`, facts, gain,
    seconds). `p` carries loudness_lufs, true_peak_db, music_volume_db, music_duck_db, audio_bitrate and profile
    (the assembly's params or audio.final's)."""
    # Loudness: measure the mix, apply the gain that reaches the target and catch peaks with a limiter at 4x
    # oversampling (so it limits true peaks, not just samples). The soundtrack is mono until the encoder (the
    # narration and the music bed are mixed down to one channel; the final is dual mono), so the mix, the meter and
    # the limiter work on one channel: BS.1770 weighs dual-mono stereo 3.01 dB above its one channel.
    import numpy as np

    mix, measured, stems, total = mix_pass(audios, music, p, s, pads)[:4]
    levels = music_levels(*(np.fromfile(s / f"{a}.f32", dtype="<f4") for a in ("ns", "ms"))) if stems else None
    progress(0.2, "normalising loudness")
    if measured is None or measured == float("-inf"):
        raise StepError("the narration is silent; cannot normalise loudness")
    measured += 3.0103
    gain = p.loudness_lufs - measured
    ceiling = 10 ** ((p.true_peak_db - 0.6) / 20)
    audio = s / "audio.m4a"
    if p.profile == "preview":
        # one pass, about 1/5 of the final's audio work: the measured gain and a sample-peak limiter straight
        # into mono AAC at 24 kHz. The level is the final's to within a fraction of a LU; the oversampled
        # true-peak limiter and the loop that proves the level to 0.2 LU are left to the final.
        chain = (f"volume={gain:.3f}dB,alimiter=limit={ceiling:.5f}:attack=2:release=60:level=disabled:asc=1,"
                 "aresample=24000")
        run_ffmpeg(["-i", str(mix), "-af", chain, "-ac", "1", "-c:a", "aac", "-aac_coder", "fast", "-b:a", "64k",
                    "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact", str(audio)],
                   what="encoding audio", progress=progress, total_s=total)
        return audio, {"integrated_lufs": None, "true_peak_dbtp": None, "preview": True}, gain, total
    # The final: gain and a true-peak limiter (4x oversampled) on the mono PCM, until the loudness is within 0.2 LU
    # of the target, then AAC as dual mono. The limiter eats part of any gain, so the gain is first found with the
    # same limiter without oversampling (the same loudness to 0.1 LU on a 10-minute narration, a third of the
    # cost); then one pass levels with the oversampled limiter straight into the encoder, whose packets a third
    # ffmpeg meters as they come (loudness and true peak), so levelling, encoding and metering run at once. A miss
    # or an encoder overshoot (limited harder) is corrected and encoded again. The oversampling is not only for the
    # true peak: with the limiter at 2x or 1x, what qc.master's music check reads under a limited tone (the music
    # plus the limiter's distortion) came 4.8 or 9.6 dB above the music itself, against under 2.5 dB at 4x
    # (tests/renderers/test_audio_final.py), so it stays at 4x.
    samples = int(round(total * 48000))
    gain = find_gain(mix, gain, ceiling, p.loudness_lufs - 3.0103)
    for attempt in range(6):
        facts = encode_measured(mix, samples, audio.name, p.audio_bitrate, s, progress, total,
                                level=limited(gain, ceiling))
        if facts["integrated_lufs"] is None or facts["true_peak_dbtp"] is None:
            raise StepError("the encoded soundtrack could not be metered")
        again = next_try(facts, p.loudness_lufs, p.true_peak_db, gain, ceiling)
        if again is None or attempt == 5:
            break
        gain, ceiling = again
    if levels:
        facts.update({k: round(v, 2) for k, v in levels.items()})
    return audio, facts, gain, total


GAIN_BRACKET_DB = 2.5  # the second gain of the bracketing pass: above the unlimited estimate by this much


def next_try(facts: dict, target: float | None, limit: float, gain: float, ceiling: float) -> tuple[float, float] | None:
    """After a levelled, coded and metered attempt: the (gain, limiter ceiling) to try next, or None when the coded
    stream is within 0.2 LU of `target` (None: any loudness, a silent part) and its true peak under `limit`. A miss
    moves the gain (the limiter eats about a third of it near the target); an encoder overshoot limits harder."""
    lufs, peak = facts["integrated_lufs"], facts["true_peak_dbtp"]
    if target is not None and lufs is not None and abs(target - lufs) > 0.2:
        return gain + (target - lufs) * 1.5, ceiling
    if peak is not None and peak > limit:
        return gain, ceiling * 10 ** (-0.5 / 20)
    return None


def limited(gain: float, ceiling: float, oversample: bool = True) -> list[str]:
    """The final's levelling filters: `gain`, then a limiter at `ceiling` (linear) at 4x oversampling (true peaks);
    without `oversample` at 1x and metered (the gain search's cheaper stand-in, the same loudness to 0.1 LU)."""
    limiter = f"alimiter=limit={ceiling:.5f}:attack=2:release=60:level=disabled:asc=1"
    if not oversample:
        return [f"volume={gain:.3f}dB", limiter, "ebur128"]
    return [f"volume={gain:.3f}dB", "aresample=192000", limiter, "aresample=48000"]


def find_gain(mix: Path, gain: float, ceiling: float, target: float) -> float:
    """The gain that brings `mix` (starting from the unlimited estimate `gain`) through the limiter to `target` LUFS
    (mono). One pass measures two gains, the estimate and GAIN_BRACKET_DB above it (one decode, two limiters); a
    target between them is interpolated. Outside the bracket (a limiter working very hard) a single-gain search goes
    on from there, to 0.1 LU."""
    found = bracket_gain(mix, gain, ceiling, target)
    if found is not None:
        return found
    for _ in range(3):
        lufs = run_metered(["-i", str(mix), "-af", ",".join(limited(gain, ceiling, False)), "-f", "null", "-"],
                           "levelling audio")["integrated_lufs"]
        if lufs is None:
            raise StepError("the soundtrack is silent; cannot normalise loudness")
        miss = target - lufs
        if abs(miss) <= 0.1:
            break
        gain += miss * 1.5  # the limiter eats about a third of any gain added near the target
    return gain


def bracket_gain(mix: Path, gain: float, ceiling: float, target: float) -> float | None:
    """The gain that brings `mix` through the (1x) limiter to `target` LUFS, interpolated between the loudness at
    `gain` and at `gain + GAIN_BRACKET_DB`, measured at once by two ffmpeg processes (one core each; in one process
    ffmpeg 5's filters run on one thread); None when the target lies outside them."""
    limiter = f"alimiter=limit={ceiling:.5f}:attack=2:release=60:level=disabled:asc=1"
    gains = (gain, gain + GAIN_BRACKET_DB)
    procs = [subprocess.Popen(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info", "-i", str(mix), "-af",
                               f"volume={g:.3f}dB,{limiter},ebur128", "-f", "null", "-"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for g in gains]
    with ThreadPoolExecutor(2, thread_name_prefix="ffmpeg-log") as pool:  # read both: neither blocks on its log
        logs = [log.decode(errors="replace") for _, log in pool.map(lambda proc: proc.communicate(), procs)]
    levels = []
    for proc, log in zip(procs, logs):
        if proc.returncode != 0:
            raise StepError("ffmpeg failed while levelling audio: " + "\n".join(log.strip().splitlines()[-6:]))
        levels.append(parse_loudness(log)["integrated_lufs"])
    lo, hi = levels
    if lo is not None and abs(lo - target) <= 0.1:
        # the limiter left the level alone (ebur128 logs it to 0.1 LU: the target -17.01 reads -17.0, just above
        # it): the gain is right, within what the search below accepts
        return gains[0]
    if lo is None or hi is None or not (lo <= target <= hi) or hi - lo < 0.05:
        return None
    return gains[0] + (target - lo) / (hi - lo) * GAIN_BRACKET_DB


def flac_length_unknown(mp4: bytes) -> bytes:
    """`mp4` with its FLAC track's STREAMINFO saying "frame sizes, total samples and MD5 unknown" (all zero, as
    the FLAC format allows). A stream-copy join keeps the first piece's STREAMINFO, whose values describe that
    piece alone. The box path is walked (moov/trak/mdia/minf/stbl/stsd/fLaC/dfLa), never searched for."""
    data = bytearray(mp4)
    skip = {b"stsd": 8, b"fLaC": 28}  # bytes before the children: version+count; the audio sample entry

    def walk(start: int, end: int, path: tuple) -> bool:
        at = start
        while at + 8 <= end:
            size, name = int.from_bytes(data[at:at + 4], "big"), bytes(data[at + 4:at + 8])
            if size < 8 or at + size > end:
                return False
            if name == b"dfLa" and path[-1:] == (b"fLaC",):
                info = at + 8 + 4 + 4  # box header, version+flags, metadata block header (STREAMINFO first)
                if data[at + 12] & 0x7F != 0 or int.from_bytes(data[at + 13:at + 16], "big") != 34:
                    return False
                data[info + 4:info + 10] = bytes(6)  # min/max frame size
                data[info + 13] &= 0xF0  # total samples: the low 36 bits of bytes 10..17
                data[info + 14:info + 18] = bytes(4)
                data[info + 18:info + 34] = bytes(16)  # MD5
                return True
            if name in (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd", b"fLaC"):
                if walk(at + 8 + skip.get(name, 0), at + size, path + (name,)):
                    return True
            at += size
        return False

    if not walk(0, len(data), ()):
        raise StepError("the joined preview has no FLAC track header where one was expected")
    return bytes(data)


def _wav_seconds(path: Path) -> float:
    import wave

    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()
