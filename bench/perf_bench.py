"""Performance benchmarks (issue 12). One command, baselines measured in the same run, ratios reported:

    .venv/bin/python bench/perf_bench.py [--only NAME ...] [--seconds S] [--cache DIR]

  clips     a video of 12 local 1080p clips with recorded narration and no music (generated with ffmpeg test
            sources, deterministic) built cold with `python -m compiler build -j 2`, against one hand-written
            ffmpeg command producing the same composition with the same encoder settings; wall and CPU time,
            SSIM of both against the unencoded source frames
  sample    the same for the 3-minute sample cosmos/dark-sky (its composition: segments + assembly from the same
            narration, slides and manim clips; the one-command baseline of bench/compiler_bench.py, fixed)
  noop      no-op rebuild of 100 and 1,000 videos (`python -m compiler build`, whole process)
  memory    peak memory of the whole process tree building a long 1080p video with -j 2, split by process kind
  scaling   cold build of videos with 1 and 2 jobs; the critical path from the action manifests' timings and the
            speed-up it predicts on more cores

Every row notes the load average (the 2 cores are shared). Raw results: bench/out/perf.json and perf.md.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from compiler_bench import X264_SAME, project_copy, write_report  # noqa: E402

RESULTS: list[dict] = []
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def load() -> str:
    return "load %.1f" % os.getloadavg()[0]


def record(name: str, value: str, target: str, ok: bool | None, detail: str = "") -> None:
    detail = f"{detail} ({load()})".strip()
    RESULTS.append({"name": name, "value": value, "target": target, "ok": ok, "detail": detail})
    mark = "" if ok is None else ("PASS" if ok else "MISS")
    print(f"[{mark:4}] {name}: {value} (target {target}) {detail}", flush=True)


def run_timed(cmd: list[str], **kw) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the whole process tree, result). CPU time comes from the children's rusage:
    every descendant that was waited for is counted, which is steadier than wall time on a shared box."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, **kw)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), res


def ffmpeg(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error"] + args, check=True, **kw)


def probe(path: Path) -> dict:
    return json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
                                      "-show_streams", str(path)], capture_output=True, text=True, check=True).stdout)


def describe(path: Path) -> str:
    info = probe(path)
    parts = [f"{float(info['format']['duration']):.2f} s"]
    for st in info["streams"]:
        if st["codec_type"] == "video":
            parts.append(f"{st['codec_name']} {st['width']}x{st['height']} {st['pix_fmt']} {st['r_frame_rate']} "
                         f"{st.get('nb_frames', '?')} frames")
        elif st["codec_type"] == "audio":
            parts.append(f"{st['codec_name']} {st['sample_rate']} Hz {st['channels']} ch")
    return ", ".join(parts)


def build_cmd(root: Path, jobs: int, targets: list[str] = ()) -> list[str]:
    return [sys.executable, "-m", "compiler", "--root", str(root), "build", "-j", str(jobs), *targets]


# -------------------------------------------------------------- the clips --



def make_clip_project(root: Path, n: int, seconds: float) -> str:
    """n local 1080p30 clips (x264, as a camera would give them) and n recorded narrations (44.1 kHz stereo WAV,
    to be normalised), all from ffmpeg's test sources, so every run sees the same bytes."""
    media = root / "videos/cosmos/media"
    media.mkdir(parents=True, exist_ok=True)
    speech = max(1.0, seconds - 0.8)  # the segment adds lead 0.2 s + pad 0.6 s around the narration
    scenes = []
    for i in range(n):
        clip, voice = media / f"clip-{i:02d}.mp4", media / f"voice-{i:02d}.wav"
        src = (f"testsrc2=size=1920x1080:rate=30:duration={seconds + 1:.2f},hue=h={i * 30}" if i % 2 == 0 else
               f"gradients=size=1920x1080:rate=30:seed={i}:speed=0.03:duration={seconds + 1:.2f},"
               f"drawgrid=w=160:h=90:t=2:c=white@0.4")
        ffmpeg(["-f", "lavfi", "-i", src, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-pix_fmt", "yuv420p",
                "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", str(clip)])
        # speech-like: a voiced tone with syllable-rate amplitude and short pauses, 0.15 s of silence at the edges
        expr = (f"0.25*sin(2*PI*{140 + 10 * i}*t)*(0.6+0.4*sin(2*PI*{3 + i % 3}*t))*gt(sin(2*PI*0.7*t)+0.9\\,0)"
                f"*between(t\\,0.15\\,{speech - 0.15:.2f})")
        ffmpeg(["-f", "lavfi", "-i", f"aevalsrc=exprs={expr}|{expr}:s=44100:d={speech:.2f}", "-c:a", "pcm_s16le",
                "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact", str(voice)])
        scenes.append(f"  - narration: This is scene {i + 1} of the clip test, spoken over its own clip.\n"
                      f"    audio: media/{voice.name}\n    visual: {{kind: clip, file: media/{clip.name}}}\n")
    (root / "videos/cosmos/clips.yaml").write_text(
        "title: Twelve clips\nformat: long\nmusic: false\nthumbnail: {text: Twelve clips}\nscenes:\n" + "".join(scenes))
    return "cosmos/clips"


def clip_graph(scenes: list[dict], fps: int, width: int, height: int, lead: float) -> tuple[list[str], str]:
    """The hand-written composition: every input normalised in its own chain (size, SAR, pixel format, frame
    rate; sample rate, layout) to one shape before concat, so the graph never needs to be reconfigured."""
    args, parts = [], []
    for i, sc in enumerate(scenes):
        frames = sc["frames"]
        samples = frames * 48000 // fps
        args += ["-i", str(sc["clip"]), "-i", str(sc["voice"])]
        parts.append(f"[{2 * i}:v]fps={fps},scale={width}:{height}:force_original_aspect_ratio=increase:flags=lanczos,"
                     f"crop={width}:{height},setsar=1,format=yuv420p,trim=end_frame={frames},setpts=PTS-STARTPTS[v{i}]")
        parts.append(f"[{2 * i + 1}:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=mono,"
                     f"adelay={int(lead * 1000)}:all=1,apad=whole_len={samples},atrim=end_sample={samples},"
                     f"asetpts=PTS-STARTPTS[a{i}]")
    k = len(scenes)
    graph = ";".join(parts) + ";" + "".join(f"[v{i}][a{i}]" for i in range(k)) + f"concat=n={k}:v=1:a=1[v][an]"
    return args, graph


def ssim_against_source(outputs: list[Path], src_args: list[str], graph: str, step: int = 3) -> list[float]:
    """SSIM (all planes) of each encoded output against the unencoded frames of the same composition, every
    `step`-th frame, in one pass (the source graph is decoded and filtered once)."""
    return _ssim(outputs, src_args, graph, step)


def ssim_per_frame(outputs: list[Path], src_args: list[str], graph: str, step: int = 3) -> list[dict[int, float]]:
    """ssim_against_source frame by frame: for each output, {source frame number: SSIM (all planes)}."""
    with tempfile.TemporaryDirectory() as tmp:
        stats = [Path(tmp) / f"ssim{j}.log" for j in range(len(outputs))]
        _ssim(outputs, src_args, graph, step, stats=stats)
        return [{(int(n) - 1) * step: float(v)
                 for n, v in re.findall(r"^n:(\d+) .*?All:([\d.]+)", path.read_text(), re.M)} for path in stats]


def _ssim(outputs: list[Path], src_args: list[str], graph: str, step: int, stats: list[Path] | None = None):
    k = len(outputs)
    n_src = sum(1 for a in src_args if a == "-i")
    ins = sum((["-i", str(o)] for o in outputs), [])
    shifted = re.sub(r"\[(\d+):([va])\]", lambda m: f"[{int(m.group(1)) + k}:{m.group(2)}]", graph)
    # frames are paired by index (the encoded files' time bases differ from the graph's)
    norm = f"settb=1/30,setpts=N,framestep={step}"
    g = shifted + f";[v]{norm},split={k}" + "".join(f"[r{j}]" for j in range(k))
    maps = ["-map", "[an]"] if "[an]" in graph else []  # the clip graph's audio is mapped (and thrown away)
    for j in range(k):
        g += f";[{j}:v]{norm}[o{j}];[o{j}][r{j}]ssim" + (f"=stats_file={stats[j]}" if stats else "") + f"[s{j}]"
        maps += ["-map", f"[s{j}]"]
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info"] + ins + src_args +
                          ["-filter_complex", g] + maps + ["-f", "null", "-"], capture_output=True, text=True)
    assert n_src and proc.returncode == 0, proc.stderr[-2000:]
    found = re.findall(r"Parsed_ssim_(\d+) .*? All:([\d.]+)", proc.stderr)
    return [float(v) for _, v in sorted(found, key=lambda x: int(x[0]))]


def frame_grabs(paths: dict[str, Path], at: float, out: Path) -> None:
    """One frame of each output, side by side, for a person to look at."""
    ins = sum((["-ss", f"{at:.2f}", "-i", str(p)] for p in paths.values()), [])
    k = len(paths)
    g = "".join(f"[{j}:v]scale=960:-2[s{j}];" for j in range(k)) + "".join(f"[s{j}]" for j in range(k)) + f"hstack={k}"
    ffmpeg(ins + ["-filter_complex", g, "-frames:v", "1", str(out)])


def bench_clips(a) -> None:
    """The clip video built twice, against one hand-written ffmpeg command: as the product builds it (its clips are
    already the format's H.264, so they go in by stream copy: renderers/_lib/mp4info.py), and with the brand's
    `quality.clip_copy: false` (every clip decoded and encoded, the command's own work)."""
    root = project_copy([])
    vid = make_clip_project(root, 12, a.seconds)
    out = REPO / "bench/out"
    out.mkdir(exist_ok=True)
    builds = {}
    for name in ("copy", "encode"):  # each from an empty cache of its own
        env = {**ENV, "SHOWRUNNER_CACHE": str(root / f"cache-{name}")}
        if name == "encode":
            brand = root / "brands/cosmos.yaml"
            brand.write_text(brand.read_text().replace("\nquality:\n", "\nquality:\n  clip_copy: false\n", 1))
            assert "clip_copy: false" in brand.read_text()
        wall, cpu, res = run_timed(build_cmd(root, 2, [vid]), env=env, capture_output=True, text=True)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        made = root / "build" / vid / "video.mp4"
        manifest = json.loads((made.parent / "manifest.json").read_text())
        copied = sum(bool(manifest["steps"][sc["segment"]]["facts"].get("copied")) for sc in manifest["scenes"])
        assert copied == (len(manifest["scenes"]) if name == "copy" else 0), (name, copied)
        kept = root / f"{name}.mp4"
        shutil.copyfile(made, kept)
        builds[name] = (wall, cpu, kept, manifest)
    manifest = builds["copy"][3]
    scenes = []
    for sc in manifest["scenes"]:
        facts = manifest["steps"][sc["segment"]]["facts"]
        scenes.append({"frames": facts["frames"], "clip": root / f"videos/cosmos/media/clip-{sc['index']:02d}.mp4",
                       "voice": root / f"videos/cosmos/media/voice-{sc['index']:02d}.wav"})
    seg = manifest["steps"][manifest["scenes"][0]["segment"]]["params"]
    src_args, graph = clip_graph(scenes, seg["fps"], seg["width"], seg["height"], seg["lead"])
    base = root / "ffmpeg.mp4"
    full = graph + ";[an]loudnorm=I=-14:TP=-1:LRA=11,aresample=48000[a]"
    bwall, bcpu, bres = run_timed(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error"] + src_args +
                                  ["-filter_complex", full, "-map", "[v]", "-map", "[a]"] + X264_SAME +
                                  ["-c:a", "aac", "-b:a", "192k", "-ac", "2", str(base)], capture_output=True, text=True)
    assert bres.returncode == 0, bres.stderr[-2000:]
    s_copy, s_enc, s_base = ssim_against_source([builds["copy"][2], builds["encode"][2], base], src_args, graph)
    frame_grabs({"ours": builds["copy"][2], "encoded": builds["encode"][2], "ffmpeg": base}, a.seconds * 6.5,
                out / "clips-frame.png")
    for name, path in (("ours", builds["copy"][2]), ("encoded", builds["encode"][2]), ("ffmpeg", base)):
        print(f"{name + ':':9}", describe(path), f"{path.stat().st_size / 1e6:.1f} MB", flush=True)
    total = sum(s["frames"] for s in scenes) / seg["fps"]
    mb = {k: v[2].stat().st_size / 1e6 for k, v in builds.items()}
    for name, ssim, label in (("copy", s_copy, "clips copied (the default)"),
                              ("encode", s_enc, "clip_copy: false, every clip encoded")):
        wall, cpu, path, man = builds[name]
        record(f"cold build, {total:.0f} s video of 12 local 1080p clips, {label}, vs one ffmpeg command",
               f"wall {wall:.1f}s vs {bwall:.1f}s = {wall / bwall:.2f}x; CPU {cpu:.1f}s vs {bcpu:.1f}s = "
               f"{cpu / bcpu:.2f}x", "<= 1.0x", wall / bwall <= 1.0,
               f"(SSIM vs source: ours {ssim:.4f}, ffmpeg {s_base:.4f}; file {mb[name]:.1f} MB vs "
               f"{base.stat().st_size / 1e6:.1f} MB; our steps by kind: {kinds_of(man)})")
    if a.profile:
        record("clip video (clip_copy: false): CPU by step kind, each kind re-run alone with -j 1",
               cpu_by_kind(root, vid), "", None, f"(the one command: {bcpu:.1f}s CPU)")


def cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def cpu_by_kind(root: Path, vid: str) -> str:
    """Where the CPU goes: each kind's steps re-run on their own (their cache entries dropped), one at a time,
    CPU seconds of this process (the engine, Python renderers, Chromium's driver) and of its children (ffmpeg,
    Chromium) counted apart. Run after a build of `vid`."""
    from compiler.workspace import Workspace

    os.environ["SHOWRUNNER_CACHE"] = str(root / "cache-encode")
    s = Workspace.open(root)
    ids = s.plan().closure(s.plan().videos[vid].steps)
    kinds: dict[str, list[str]] = {}
    for sid in ids:
        kinds.setdefault(s.plan().steps[sid].kind, []).append(sid)
    rows = []
    for kind, sids in kinds.items():
        for sid in sids:
            s.store.drop_manifest(s.engine.key(sid)[0])
        own, kids, t0 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
        assert not s.engine.build(sids, jobs=1)
        rows.append((kind, len(sids), cpu(resource.RUSAGE_SELF) - own, cpu(resource.RUSAGE_CHILDREN) - kids,
                     time.perf_counter() - t0))
    rows.sort(key=lambda r: -(r[2] + r[3]))
    return ", ".join(f"{k} x{n}: {a + b:.1f}s CPU ({b:.1f} in tools)" for k, n, a, b, _ in rows if a + b >= 0.05)


def kinds_of(manifest: dict) -> str:
    by: dict[str, list[float]] = {}
    for st in manifest["steps"].values():
        if st.get("timing"):
            by.setdefault(st["kind"], []).append(st["timing"]["seconds"])
    rows = sorted(by.items(), key=lambda kv: -sum(kv[1]))
    return ", ".join(f"{k} x{len(v)} {sum(v):.1f}s" for k, v in rows if sum(v) >= 0.05)


# ------------------------------------------------------------- the sample --

def bench_sample(a) -> None:
    """Composition of cosmos/dark-sky (segments + assembly) vs the one-command baseline, fixed: every input now
    carries `-reinit_filter 0` and is normalised in its own chain (see compiler_bench.handwritten_ffmpeg)."""
    from compiler.workspace import Workspace
    from compiler_bench import handwritten_ffmpeg, steps_of
    from core.events import ListReporter

    vid = "cosmos/dark-sky"
    root = project_copy([vid])
    if a.cache:
        os.environ["SHOWRUNNER_CACHE"] = str(Path(a.cache).resolve())
    s = Workspace.open(root, reporter=ListReporter())
    comp_kinds = {"segment.ffmpeg", "assemble.ffmpeg", "transition.ffmpeg"}
    prep = [x for x in steps_of(s, vid, exclude=comp_kinds) if s.plan().steps[x].kind.split(".")[0] in
            ("tts", "slide", "manim", "timeline")]
    assert not s.engine.build(prep, jobs=2), "preparing narration, slides and animations failed"
    comp = steps_of(s, vid, kinds=comp_kinds)
    for sid in comp:  # the composition is measured cold even with a shared --cache
        try:
            s.store.drop_manifest(s.engine.key(sid)[0])
        except Exception:
            pass
    s = Workspace.open(root, reporter=ListReporter())
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    assert not s.engine.build(comp, jobs=2)
    ours_wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours_cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime  # ffmpeg children; the engine's own is tiny
    print(f"ours: {ours_wall:.1f}s wall, {ours_cpu:.1f}s CPU ({load()})", flush=True)
    final = next(x for x in comp if s.plan().steps[x].kind == "assemble.ffmpeg")
    ours = s.store.blob_path(s.store.get_manifest(s.engine.key(final)[0])["outputs"]["video.mp4"]["digest"])
    scenes = sample_scenes(s, root, vid)
    music = root / "music.flac"
    ffmpeg(["-i", str(root / "brands/media/calm-pad.ogg"), "-ac", "2", str(music)])
    base = root / "ffmpeg.mp4"
    bwall, bcpu, _ = run_timed([sys.executable, "-c", "import sys, pathlib, json; sys.path[:0] = [sys.argv[1], "
                                "sys.argv[1] + '/bench']; from compiler_bench import handwritten_ffmpeg as h; "
                                "h(json.loads(sys.argv[2]), pathlib.Path(sys.argv[3]), pathlib.Path(sys.argv[4]))",
                                str(REPO), json.dumps(scenes, default=str), str(music), str(base)], check=True)
    print("ours:  ", describe(ours), "\nffmpeg:", describe(base), flush=True)
    out = REPO / "bench/out"
    out.mkdir(exist_ok=True)
    frame_grabs({"ours": ours, "ffmpeg": base}, 20.0, out / "sample-frame-20s.png")
    frame_grabs({"ours": ours, "ffmpeg": base}, 100.0, out / "sample-frame-100s.png")
    record("composition of cosmos/dark-sky vs one ffmpeg command",
           f"wall {ours_wall:.1f}s vs {bwall:.1f}s = {ours_wall / bwall:.2f}x; CPU {ours_cpu:.1f}s vs {bcpu:.1f}s = "
           f"{ours_cpu / bcpu:.2f}x", "<= 1.0x", ours_wall / bwall <= 1.0,
           f"(segments + transitions + assembly, 2 jobs; {describe(ours)})")


def sample_scenes(s, root: Path, vid: str) -> list[dict]:
    from compiler_bench import steps_of

    scenes = []
    for sid in steps_of(s, vid, kinds={"segment.ffmpeg"}):
        st = s.plan().steps[sid]
        m = s.store.get_manifest(s.engine.key(sid)[0])
        paths = {}
        for name in ("audio", "timings", "visual"):
            ref = st.inputs[name]
            if ref.file:
                paths[name] = str(root / ref.file)
            else:
                k, _ = s.engine.key(ref.step)
                paths[name] = str(s.store.blob_path(s.store.get_manifest(k)["outputs"][ref.output]["digest"]))
        scenes.append({"params": st.params, "frames": m["facts"]["frames"], **paths})
    return scenes


# ------------------------------------------------------------------- noop --

def make_same(root: Path, n: int) -> None:
    """n videos that differ in their title only: a real cold build runs each shared scene once (the store is
    content-addressed), so 1,000 videos can be built cold here; the no-op still loads, compiles and checks the
    key of every step of every video."""
    d = root / "videos" / "cosmos"
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (d / f"gen-{i:04d}.yaml").write_text(
            f"title: Generated video {i}\nformat: tiny\nmusic: false\nvoice: robot\nthumbnail: {{text: Same}}\n"
            "scenes:\n"
            "  - narration: Every generated video opens the same way.\n    visual: {kind: slide, title: Shared}\n"
            "  - narration: Its second scene is the same in every video.\n    visual: {kind: slide, title: Also}\n"
            "  - narration: And so is the third one.\n    visual: {kind: slide, title: The end}\n")
    fm = root / "recipes/formats.yaml"
    if "tiny:" not in fm.read_text():
        fm.write_text(fm.read_text() + "tiny: {width: 320, height: 180, fps: 10, max_duration_s: 600}\n")


def noop_runs(root: Path, runs: int = 3) -> tuple[list[float], list[float], int]:
    env = {**ENV, "SHOWRUNNER_CACHE": str(root / "cache")}
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu, res = run_timed([sys.executable, "-m", "compiler", "--root", str(root), "build"], env=env,
                                   capture_output=True, text=True)
        assert res.returncode == 0 and " 0 step(s) ran" in res.stdout, res.stdout[-2000:] + res.stderr[-2000:]
        walls.append(wall)
        cpus.append(cpu)
    steps = int(re.search(r"(\d+) cached", res.stdout).group(1)) if re.search(r"(\d+) cached", res.stdout) else -1
    return walls, cpus, steps


def bench_noop(a) -> None:
    for n, target in ((100, 2.0), (1000, 10.0)):
        root = project_copy([])
        make_same(root, n)
        env = {**ENV, "SHOWRUNNER_CACHE": str(root / "cache")}
        cold, _, res = run_timed(build_cmd(root, 2), env=env, capture_output=True, text=True)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        walls, cpus, steps = noop_runs(root)
        record(f"no-op rebuild of {n} videos", f"{min(walls):.2f}s (CPU {min(cpus):.2f}s)", f"<= {target:g} s",
               min(walls) <= target, f"(runs {', '.join(f'{w:.2f}' for w in walls)}; {steps} steps cached; "
                                     f"cold build {cold:.0f}s)")
        if a.keep:
            print("kept", root)
        else:
            shutil.rmtree(root.parent, ignore_errors=True)


# ----------------------------------------------------------------- memory --

def classify(pid: int) -> str:
    try:
        exe = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        # Chromium's zygote children rewrite their command line; a forked child before exec has none yet
        name = Path(exe.split(" ")[0]).name or Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"
    if "chrom" in name or "headless_shell" in name:
        return "chromium"
    if name.startswith("python"):
        return "python"
    if name in ("ffmpeg", "ffprobe", "node", "espeak-ng"):
        return name
    return name or "?"


def pss(pid: int) -> int | None:
    """Proportional set size (shared pages divided among the processes sharing them), bytes: summing RSS over
    Chromium's processes, or over two ffmpeg processes, counts their shared libraries several times."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def tree_split(pid: int, use_pss: bool = False) -> dict[str, int]:
    """Resident memory (RSS, or PSS) of a process tree by process kind, bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(parts[1]), []).append(int(d))
        rss[int(d)] = int(parts[21]) * page
    split: dict[str, int] = {}
    stack = [pid]
    while stack:
        p = stack.pop()
        stack += children.get(p, [])
        v = pss(p) if use_pss else rss.get(p, 0)
        if v is None:  # exited since the scan (its memory is being freed): its RSS would mix units, and it is gone
            continue
        k = classify(p)
        split[k] = split.get(k, 0) + v
    return split


def long_video(root: Path, minutes: float) -> str:
    d = root / "videos" / "cosmos"
    d.mkdir(parents=True, exist_ok=True)
    sentence = ("The night sky has guided travellers, farmers and poets for as long as there have been people to "
                "look up at it, and it still has plenty to teach us. ")
    n_scenes = max(1, round(minutes * 4))  # ~15 s each with espeak at rate 1.0
    scenes = "".join(f"  - narration: {sentence}{sentence}\n    visual: {{kind: slide, title: 'Part {i + 1}', "
                     f"bullets: [one, two, three]}}\n    voice: robot\n" for i in range(n_scenes))
    (d / "long-video.yaml").write_text(f"title: A long video\nformat: long\nscenes:\n{scenes}")
    return "cosmos/long-video"


def bench_memory(a) -> None:
    rows = []
    for minutes in a.minutes:
        root = project_copy([])
        vid = long_video(root, minutes)
        env = {**ENV, "SHOWRUNNER_CACHE": str(root / "cache")}
        peak, at_peak, by_kind, peak_pss, at_pss = [0], [{}], {}, [0], [{}]
        proc = subprocess.Popen(build_cmd(root, 2, [vid]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)

        def sample():
            while proc.poll() is None:
                split = tree_split(proc.pid)
                total = sum(split.values())
                for k, v in split.items():
                    by_kind[k] = max(by_kind.get(k, 0), v)
                if total > peak[0]:
                    peak[0], at_peak[0] = total, split
                split = tree_split(proc.pid, use_pss=True)
                if sum(split.values()) > peak_pss[0]:
                    peak_pss[0], at_pss[0] = sum(split.values()), split
                time.sleep(0.1)

        th = threading.Thread(target=sample)
        t0 = time.perf_counter()
        th.start()
        rc = proc.wait()
        th.join()
        took = time.perf_counter() - t0
        out = root / "build" / vid / "video.mp4"
        dur = float(probe(out)["format"]["duration"]) if rc == 0 else 0.0
        mb = lambda d: ", ".join(f"{k} {v / 1e6:.0f} MB" for k, v in sorted(d.items(), key=lambda kv: -kv[1]))  # noqa: E731
        rows.append((dur, peak_pss[0]))
        record(f"peak memory, {dur / 60:.1f}-minute 1080p video, -j 2", f"RSS sum {peak[0] / 1e9:.2f} GB, PSS sum "
               f"{peak_pss[0] / 1e9:.2f} GB", "<= 1 GB", rc == 0 and peak_pss[0] <= 1e9,
               f"(PSS at its peak: {mb(at_pss[0])}; RSS at its peak: {mb(at_peak[0])}; each kind's own RSS peak: "
               f"{mb(by_kind)}; build took {took:.0f}s)")
        shutil.rmtree(root.parent, ignore_errors=True)
    if len(rows) > 1:
        (d0, p0), (d1, p1) = rows[0], rows[-1]
        # flat: the longer video may not peak more than 10 % higher (a lower peak is the sampling's spread)
        record("peak memory growth with video length", f"{(p1 - p0) / 1e6 / max(1e-9, (d1 - d0) / 60):+.1f} MB per minute",
               "flat", p1 - p0 < 0.1 * p0, f"({d0 / 60:.1f} min: {p0 / 1e9:.2f} GB, {d1 / 60:.1f} min: {p1 / 1e9:.2f} GB)")


# ---------------------------------------------------------------- scaling --

def step_seconds(root: Path, videos: list[str]) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Every step's recorded seconds (its action manifest's timing) and its dependencies, from the plan."""
    from compiler.workspace import Workspace

    s = Workspace.open(root)
    plan = s.plan()
    ids = plan.closure([sid for v in videos for sid in plan.videos[v].steps])
    secs = {}
    for sid in ids:
        m = s.engine.manifest(s.engine.key(sid)[0])
        if m and m.get("timing"):
            secs[sid] = m["timing"]["seconds"]
    step_seconds.kinds = {sid: plan.steps[sid].kind for sid in ids}
    return secs, {sid: list(plan.steps[sid].deps()) for sid in ids}


def critical_path(secs: dict[str, float], deps: dict[str, list[str]]) -> tuple[float, float, list[str]]:
    """(total step seconds, critical-path seconds, the chain): the longest chain of dependent steps."""
    finish: dict[str, tuple[float, list[str]]] = {}
    for sid in deps:  # closure order: dependencies first
        best = max((finish[d] for d in deps[sid] if d in finish), default=(0.0, []), key=lambda x: x[0])
        finish[sid] = (best[0] + secs.get(sid, 0.0), best[1] + [sid])
    end = max(finish.values(), key=lambda x: x[0])
    return sum(secs.values()), end[0], end[1]


def print_critical(root: Path, videos: list[str]) -> tuple[float, float]:
    secs, deps = step_seconds(root, videos)
    work, crit, chain = critical_path(secs, deps)
    by_kind: dict[str, float] = {}
    for sid, t in secs.items():
        k = step_seconds.kinds[sid]
        by_kind[k] = by_kind.get(k, 0.0) + t
    print(f"  step seconds {work:.1f} ({', '.join(f'{k} {v:.1f}' for k, v in sorted(by_kind.items(), key=lambda kv: -kv[1])[:8])})")
    print(f"  critical path {crit:.1f}s:")
    for sid in chain:
        print(f"    {secs.get(sid, 0.0):7.2f}s  {sid}")
    return work, crit


def copy_videos(videos: list[str]) -> Path:
    """project_copy, plus the research notes a locked script's spec names."""
    root = project_copy(videos)
    for brand in {v.split("/")[0] for v in videos}:
        if (REPO / "videos" / brand / "research").exists():
            shutil.copytree(REPO / "videos" / brand / "research", root / "videos" / brand / "research")
    return root


def bench_scaling(a) -> None:
    videos = a.videos
    rows = {}
    for jobs in (1, 2):
        root = copy_videos(videos)
        env = {**ENV, "SHOWRUNNER_CACHE": str(root / "cache")}
        wall, cpu, res = run_timed(build_cmd(root, jobs, videos), env=env, capture_output=True, text=True)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        print(f"-j {jobs}: wall {wall:.1f}s, CPU {cpu:.1f}s ({load()})")
        os.environ["SHOWRUNNER_CACHE"] = str(root / "cache")
        rows[jobs] = (wall, cpu, load()) + print_critical(root, videos)
        shutil.rmtree(root.parent, ignore_errors=True)
    (w1, c1, l1, work1, crit1), (w2, c2, l2, work2, crit2) = rows[1], rows[2]
    record(f"cold build of {', '.join(videos)}, 1 vs 2 jobs", f"{w1:.1f}s vs {w2:.1f}s = {w1 / w2:.2f}x speed-up",
           "", None, f"(CPU {c1:.0f}s / {c2:.0f}s; -j 1 at {l1}, -j 2 at {l2})")
    # Brent's bound: T_p <= work / p + critical path (the -j 1 timings: no two steps compete for the cores)
    pred = {p: work1 / p + crit1 for p in (2, 4, 8, 16)}
    record("critical path (longest chain of steps, -j 1 timings)",
           f"{crit1:.1f}s of {work1:.1f}s step time: at most {work1 / crit1:.1f}x faster on any number of cores",
           "", None, "(T_p <= work/p + critical path: " + ", ".join(f"{p} cores <= {t:.0f}s" for p, t in pred.items())
           + "; final encodes run x264 on one thread, so p jobs keep p cores busy)")


BENCHES = {"clips": bench_clips, "sample": bench_sample, "noop": bench_noop, "memory": bench_memory,
           "scaling": bench_scaling}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", choices=list(BENCHES))
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each of the 12 clip scenes (default 5: 60 s)")
    ap.add_argument("--minutes", type=float, nargs="*", default=[2.0, 10.0], help="memory: video lengths to compare")
    ap.add_argument("--videos", nargs="*", default=["cosmos/dark-sky", "cosmos/moon-phases-short", "kitchenlab/maillard",
                                                    "kitchenlab/pasta-water"], help="scaling: the videos to build")
    ap.add_argument("--cache", help="sample: a store kept between runs for the narration/slides/manim it prepares")
    ap.add_argument("--keep", action="store_true", help="noop: keep the generated projects")
    ap.add_argument("--profile", action="store_true", help="clips: then re-run each step kind alone for its CPU time")
    a = ap.parse_args()
    for name in a.only or list(BENCHES):
        BENCHES[name](a)
    out = REPO / "bench/out"
    out.mkdir(exist_ok=True)
    try:  # rows of earlier runs of other benchmarks stay; this run's rows replace those of the same name
        kept = [r for r in json.loads((out / "perf.json").read_text()) if r["name"] not in {x["name"] for x in RESULTS}]
    except (FileNotFoundError, json.JSONDecodeError):
        kept = []
    write_report(kept + RESULTS, "perf")
    return 0


if __name__ == "__main__":
    sys.exit(main())
