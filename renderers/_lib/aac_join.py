"""One AAC-LC track from soundtrack parts encoded one by one, joined by copying their frames (issue 12, goal 2).

A soundtrack built in parts (renderers/audio_parts.py) encodes each part on its own: an edit re-encodes the parts it
touched, not the whole video. The parts are joined here without decoding. AAC-LC decodes a frame by overlap-adding
the second half of the previous frame's inverse MDCT with the first half of its own, so a frame copied from another
encode decodes as it did there as long as its predecessor is the one it had there, or both predecessors code
silence. Every join is in digital silence by construction: each part but the first starts with, and each but the
last ends with, at least `PART_EDGE_ZEROS` zero samples, and every part but the last is a whole number of
1024-sample frames. ffmpeg's encoder puts one frame of priming before a part's samples (hidden by the MP4's edit
list) and codes the part's last 1024 samples in its last frame together with what follows (zeros). So the joined
track is: the first part's frames, then each later part's frames without its priming frame; its decode is exactly
the parts' decodes one after the other (tests/renderers/test_audio_parts.py compares the samples). A part's
last frame may also be left out where it codes silence only (its last three frames do), to keep each part's start
near its pictures' (audio_parts.frame_placement).

`join_aac_mp4` writes the joined mono MP4 from ffmpeg's part MP4s: the first part's boxes with the sample tables
(stts, stsc, stsz, stco, the roll group's sbgp), the durations (mvhd, tkhd, mdhd) and the edit list rebuilt for all
frames; every other box (the sample entry and its decoder config, handler, dinf) is the first part's, byte for byte.
"""
from __future__ import annotations

import struct
from pathlib import Path

from .aac_dual import _boxes

FRAME = 1024  # samples per AAC-LC frame
PART_EDGE_ZEROS = 3 * FRAME  # zero samples at each inner edge of a part: the frame cut there codes silence on both sides
CONTAINERS = {b"moov", b"trak", b"edts", b"mdia", b"minf", b"stbl"}


def _tree(b: bytes, off: int, end: int) -> list:
    """[(type, header+payload bytes or children), ...] of the boxes in b[off:end]; containers are parsed."""
    out = []
    for typ, at, hdr, size in _boxes(b, off, end):
        if typ in CONTAINERS:
            out.append([typ, _tree(b, at + hdr, at + size)])
        else:
            out.append([typ, bytes(b[at + hdr:at + size])])
    return out


def _write(tree: list) -> bytes:
    out = bytearray()
    for typ, body in tree:
        payload = _write(body) if isinstance(body, list) else body
        if 8 + len(payload) > 0xFFFFFFFF:
            raise ValueError(f"box {typ!r} is too large")
        out += struct.pack(">I4s", 8 + len(payload), typ) + payload
    return bytes(out)


def _find(tree: list, *path: bytes):
    node = tree
    for typ in path:
        found = [x for x in node if x[0] == typ]
        if len(found) != 1:
            raise ValueError(f"expected one {typ.decode()} box, found {len(found)}")
        node = found[0][1]
    return found[0]


def _samples(b: bytes) -> tuple[list[bytes], list[int], list, int]:
    """The AAC frames of ffmpeg's one-track MP4, their durations, its box tree (no mdat) and media timescale."""
    top = list(_boxes(b, 0, len(b)))
    if [t for t, *_ in top].count(b"moov") != 1:
        raise ValueError("expected one moov box")
    moov = next(x for x in top if x[0] == b"moov")
    tree = [[typ, _tree(b, at + hdr, at + size) if typ == b"moov" else bytes(b[at + hdr:at + size])]
            for typ, at, hdr, size in top]
    stbl = _find(tree, b"moov", b"trak", b"mdia", b"minf", b"stbl")[1]
    tables = {t: body for t, body in stbl if not isinstance(body, list)}
    if b"stco" not in tables:
        raise ValueError("expected a 32-bit chunk offset table")
    fixed, count = struct.unpack_from(">II", tables[b"stsz"], 4)
    # every frame the same size (a silent part) is written as one size for all
    sizes = [fixed] * count if fixed else struct.unpack_from(f">{count}I", tables[b"stsz"], 12)
    runs = [struct.unpack_from(">III", tables[b"stsc"], 8 + 12 * i)
            for i in range(struct.unpack_from(">I", tables[b"stsc"], 4)[0])]
    chunks = struct.unpack_from(">I", tables[b"stco"], 4)[0]
    offsets = struct.unpack_from(f">{chunks}I", tables[b"stco"], 8)
    per_chunk = []
    for i, (first, spc, _) in enumerate(runs):
        per_chunk += [spc] * ((runs[i + 1][0] if i + 1 < len(runs) else chunks + 1) - first)
    if len(per_chunk) != chunks or sum(per_chunk) != count:
        raise ValueError("the sample-to-chunk table does not match the sample and chunk counts")
    frames, k = [], 0
    for off, n in zip(offsets, per_chunk):
        for size in sizes[k:k + n]:
            if off + size > len(b):
                raise ValueError("a sample runs past the end of the file")
            frames.append(bytes(b[off:off + size]))
            off += size
        k += n
    durations = []
    stts = tables[b"stts"]
    for i in range(struct.unpack_from(">I", stts, 4)[0]):
        n, d = struct.unpack_from(">II", stts, 8 + 8 * i)
        durations += [d] * n
    if len(durations) != count:
        raise ValueError("the time-to-sample table does not match the sample count")
    mdhd = _find(tree, b"moov", b"trak", b"mdia", b"mdhd")[1]
    timescale = struct.unpack_from(">I", mdhd, 20 if mdhd[0] == 1 else 12)[0]
    return frames, durations, tree, timescale


def _set_duration(body: bytes, duration: int, at_v0: int, at_v1: int) -> bytes:
    b = bytearray(body)
    if b[0] == 1:
        struct.pack_into(">Q", b, at_v1, duration)
    else:
        if duration > 0xFFFFFFFF:
            raise ValueError("a duration too long for a version-0 box")
        struct.pack_into(">I", b, at_v0, duration)
    return bytes(b)


def join_aac_mp4(parts: list[Path], out: Path, samples: int, drop_last: list[bool] | None = None) -> None:
    """Join ffmpeg's mono AAC-LC MP4s `parts` (see the module's note) into the MP4 `out` playing `samples` samples;
    `drop_last[i]`: leave out part i's last frame (it must code silence: the part's last 3 frames are silent).
    Raises ValueError on a part that is not such an MP4 or on parts that cannot be joined (a part but the last whose
    frames are not its priming frame and whole frames of samples)."""
    frames: list[bytes] = []
    durations: list[int] = []
    template = timescale = None
    for i, part in enumerate(parts):
        f, d, tree, ts = _samples(Path(part).read_bytes())
        if template is None:
            template, timescale = tree, ts
        elif ts != timescale:
            raise ValueError(f"part {i} has the time scale {ts}, part 0 {timescale}")
        if i + 1 < len(parts) and any(x != FRAME for x in d):
            raise ValueError(f"part {i} is not a whole number of {FRAME}-sample frames")
        if i > 0:
            f, d = f[1:], d[1:]  # its priming frame: the previous part's last frame takes its place
        if drop_last and drop_last[i]:
            if i + 1 == len(parts) or len(f) < 4:
                raise ValueError(f"part {i}'s last frame cannot be left out")
            f, d = f[:-1], d[:-1]
        frames += f
        durations += d
    if template is None:
        raise ValueError("no parts to join")
    media = sum(durations)
    if not 0 < samples <= media - FRAME:
        raise ValueError(f"{samples} samples do not fit the {media - FRAME} samples the frames carry")
    moov = _find(template, b"moov")[1]
    mvhd = _find(moov, b"mvhd")[1]
    movie_ts = struct.unpack_from(">I", mvhd, 20 if mvhd[0] == 1 else 12)[0]
    shown = (samples * movie_ts + timescale // 2) // timescale  # the edit's length in the movie's time scale, rounded as ffmpeg does
    trak = _find(moov, b"trak")[1]
    stbl = _find(trak, b"mdia", b"minf", b"stbl")[1]
    runs: list[list[int]] = []
    for d in durations:
        if runs and runs[-1][1] == d:
            runs[-1][0] += 1
        else:
            runs.append([1, d])
    new = {
        b"stts": struct.pack(">II", 0, len(runs)) + b"".join(struct.pack(">II", n, d) for n, d in runs),
        b"stsc": struct.pack(">IIIII", 0, 1, 1, len(frames), 1),
        b"stsz": struct.pack(">III", 0, 0, len(frames)) + struct.pack(f">{len(frames)}I", *map(len, frames)),
        b"stco": struct.pack(">III", 0, 1, 0),  # the offset is written below, once the moov's size is known
    }
    for node in stbl:
        if node[0] in new:
            node[1] = new[node[0]]
        elif node[0] == b"sbgp":  # the roll group (every frame needs its predecessor): one run over all frames
            body = bytearray(node[1])
            if struct.unpack_from(">I", body, 8 if body[0] == 0 else 12)[0] != 1:
                raise ValueError("a sample-to-group box with more than one run")
            struct.pack_into(">I", body, len(body) - 8, len(frames))
            node[1] = bytes(body)
    mdhd = _find(trak, b"mdia", b"mdhd")
    mdhd[1] = _set_duration(mdhd[1], media, 16, 24)
    tkhd = _find(trak, b"tkhd")
    tkhd[1] = _set_duration(tkhd[1], shown, 20, 28)
    mvhd_node = _find(moov, b"mvhd")
    mvhd_node[1] = _set_duration(mvhd, shown, 16, 24)
    elst = _find(trak, b"edts", b"elst")
    body = bytearray(elst[1])
    if struct.unpack_from(">I", body, 4)[0] != 1:
        raise ValueError("an edit list with more than one edit")
    if body[0] == 1:
        struct.pack_into(">Q", body, 8, shown)
    else:
        struct.pack_into(">I", body, 8, shown)
    elst[1] = bytes(body)
    payload = b"".join(frames)
    head = [node for node in template if node[0] not in (b"mdat", b"moov")]
    before = _write(head)
    moov_bytes = _write([[b"moov", moov]])  # sized with a placeholder offset: the offset does not change its size
    offset = len(before) + len(moov_bytes) + 8
    new[b"stco"] = struct.pack(">III", 0, 1, offset)
    for node in stbl:
        if node[0] == b"stco":
            node[1] = new[b"stco"]
    moov_bytes = _write([[b"moov", moov]])
    data = before + moov_bytes + struct.pack(">I4s", 8 + len(payload), b"mdat") + payload
    tmp = Path(out).with_name(Path(out).name + ".part")
    tmp.write_bytes(data)
    tmp.replace(out)
