"""What an MP4 or QuickTime file's first video track is, read from its `moov` box alone (issue 12, clip copy).

A clip can go into the final video by stream copy, without a decode or an encode, only when its H.264 stream is
what the video's other pieces are: the same parameter sets, the frame size and rate of the format, square pixels,
no rotation, and frames whose decode order is their display order (no B-frames), so that its first n packets are
its first n frames. All of that is in the track's sample table and sample entry, so the compiler reads it while it
plans, without an ffprobe per clip: the header boxes only, found by seeking past `mdat` (a camera's MOV keeps its
`moov` at the end). The file is the project's own media; a file this reader cannot follow gives None, and the clip
is encoded as before.
"""
from __future__ import annotations

import os
import struct
from itertools import accumulate, islice
from dataclasses import dataclass
from pathlib import Path

from .aac_dual import _boxes

MAX_MOOV = 64 << 20  # a sample table this big is a long recording; such a clip is encoded, not copied
_IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


@dataclass(frozen=True)
class VideoTrack:
    codec: str  # the sample entry's four characters: avc1, avc3, hvc1, ...
    config: bytes  # the decoder configuration record (avcC's payload); b"" when absent
    width: int
    height: int
    timescale: int
    frames: int
    deltas: frozenset[int]  # every sample duration in the track (stts), in `timescale` units
    reordered: bool  # a composition offset differs between samples (B-frames): decode order is not display order
    first_sync: bool  # the first sample is a sync sample (an IDR frame)
    entries: int  # sample entries in stsd: more than one means the parameters change inside the track
    square: bool  # no pixel aspect box, or 1:1
    upright: bool  # the track's matrix is the identity (no rotation or flip)
    plain_edits: bool  # no edit list, or one edit that shows the whole media from its first frame at normal rate
    data_bytes: int  # the sum of the sample sizes

    @property
    def profile(self) -> int:
        return self.config[1] if len(self.config) > 1 else 0

    @property
    def bit_rate(self) -> float:
        """Bits per second over the track's duration."""
        rate = self.frame_rate()
        return self.data_bytes * 8 * rate / self.frames if rate and self.frames else float("inf")

    def frame_rate(self) -> float | None:
        """Frames per second when every frame lasts the same, else None (variable frame rate)."""
        return self.timescale / next(iter(self.deltas)) if len(self.deltas) == 1 else None


def _read_moov(path: Path) -> bytes | None:
    import stat

    if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or a device would block or never end
        return None
    with open(path, "rb") as f:
        size_all = os.fstat(f.fileno()).st_size
        off = 0
        while off + 8 <= size_all:
            f.seek(off)
            head = f.read(16)
            size, typ = struct.unpack_from(">I4s", head)
            hdr = 8
            if size == 1:
                if len(head) < 16:
                    return None
                size, hdr = struct.unpack_from(">Q", head, 8)[0], 16
            elif size == 0:
                size = size_all - off
            if size < hdr or off + size > size_all:
                return None
            if typ == b"moov":
                if size > MAX_MOOV:
                    return None
                f.seek(off)
                return f.read(size)
            off += size
    return None


def _children(b: bytes, box: tuple) -> dict[bytes, list[tuple]]:
    _, off, hdr, size = box
    found: dict[bytes, list[tuple]] = {}
    for child in _boxes(b, off + hdr, off + size):
        found.setdefault(child[0], []).append(child)
    return found


def _one(b: bytes, box: tuple, *path: bytes) -> tuple | None:
    for typ in path:
        kids = _children(b, box).get(typ)
        if not kids or len(kids) != 1:
            return None
        box = kids[0]
    return box


def _payload(b: bytes, box: tuple) -> tuple[int, int]:
    _, off, hdr, size = box
    return off + hdr, off + size


def _table(b: bytes, box: tuple, entry: int, header: int = 8) -> tuple[int, int]:
    """(payload offset, entry count) of a full box holding a count at +4 and `entry`-byte entries from `header`;
    ValueError when the count runs past the box (a damaged or hostile file is refused, never read past)."""
    at, end = _payload(b, box)
    n = struct.unpack_from(">I", b, at + 4)[0]
    if at + header + n * entry > end:
        raise ValueError(f"box {box[0]!r} claims {n} entries that do not fit in it")
    return at, n


def video_track(path: Path) -> VideoTrack | None:
    """The first video track of the MP4/MOV at `path`, or None if there is none or the file is not one this reader
    follows (fragmented files, a truncated or oversized header)."""
    try:
        moov = _read_moov(Path(path))
        if moov is None:
            return None
        return _video_track(moov)
    except (OSError, ValueError, struct.error, IndexError, StopIteration):
        return None


def _video_track(b: bytes) -> VideoTrack | None:
    root = (b"moov", 0, 16 if struct.unpack_from(">I", b)[0] == 1 else 8, len(b))
    mvhd = _one(b, root, b"mvhd")
    if mvhd is None:
        return None
    at, _ = _payload(b, mvhd)
    movie_scale = struct.unpack_from(">I", b, at + (20 if b[at] == 1 else 12))[0]
    for trak in _children(b, root).get(b"trak", []):
        hdlr = _one(b, trak, b"mdia", b"hdlr")
        if hdlr is None or b[_payload(b, hdlr)[0] + 8:_payload(b, hdlr)[0] + 12] != b"vide":
            continue
        return _track(b, trak, movie_scale)
    return None


def _track(b: bytes, trak: tuple, movie_scale: int) -> VideoTrack | None:
    tkhd = _one(b, trak, b"tkhd")
    mdhd = _one(b, trak, b"mdia", b"mdhd")
    stbl = _one(b, trak, b"mdia", b"minf", b"stbl")
    if tkhd is None or mdhd is None or stbl is None:
        return None
    at, _ = _payload(b, tkhd)
    version = b[at]
    matrix = struct.unpack_from(">9i", b, at + (52 if version == 1 else 40))
    at, _ = _payload(b, mdhd)
    timescale, media_duration = struct.unpack_from(">IQ" if b[at] == 1 else ">II", b, at + (20 if b[at] == 1 else 12))
    kids = _children(b, stbl)

    stsd = kids.get(b"stsd", [None])[0]
    if stsd is None or not timescale:
        return None
    at, end = _payload(b, stsd)
    entries = struct.unpack_from(">I", b, at + 4)[0]
    entry = next(_boxes(b, at + 8, end))
    typ, eoff, ehdr, esize = entry
    width, height = struct.unpack_from(">HH", b, eoff + ehdr + 24)
    config, square = b"", True
    for child in _boxes(b, eoff + ehdr + 78, eoff + esize):
        if child[0] in (b"avcC", b"hvcC"):
            config = bytes(b[slice(*_payload(b, child))])
        elif child[0] == b"pasp":
            h_spacing, v_spacing = struct.unpack_from(">II", b, _payload(b, child)[0])
            square = h_spacing == v_spacing

    stts = kids.get(b"stts", [None])[0]
    if stts is None:
        return None
    at, n = _table(b, stts, 8)
    runs = [struct.unpack_from(">II", b, at + 8 + 8 * i) for i in range(n)]
    frames = sum(count for count, _ in runs)
    deltas = frozenset(delta for count, delta in runs if count)

    reordered, first_offset = False, 0
    if b"ctts" in kids:
        at, n = _table(b, kids[b"ctts"][0], 8)
        fmt = ">Ii" if b[at] == 1 else ">II"
        runs_c = [struct.unpack_from(fmt, b, at + 8 + 8 * i) for i in range(n)]
        reordered = len({offset for count, offset in runs_c if count}) > 1
        # the first frame shown: the earliest composition time (decode time + offset) among the first samples
        # (a decoder shows one of the first GOP's frames first; 64 samples cover any real reorder depth)
        decode_times = accumulate((d for count, d in runs for _ in range(count)), initial=0)
        offsets = islice((offset for count, offset in runs_c for _ in range(count)), 64)
        first_offset = min((t + o for t, o in zip(decode_times, offsets)), default=0)

    first_sync = True
    if b"stss" in kids:
        at, n = _table(b, kids[b"stss"][0], 4)
        first_sync = n > 0 and struct.unpack_from(">I", b, at + 8)[0] == 1

    stsz = kids.get(b"stsz", [None])[0]
    if stsz is None:
        return None
    at, end = _payload(b, stsz)
    fixed, count = struct.unpack_from(">II", b, at + 4)
    if count != frames or (not fixed and at + 12 + 4 * count > end):
        return None
    data = fixed * count if fixed else sum(struct.unpack_from(f">{count}I", b, at + 12))

    plain_edits = True
    if b"edts" in _children(b, trak):
        elst = _one(b, trak, b"edts", b"elst")
        if elst is None:
            return None
        v1 = b[_payload(b, elst)[0]] == 1
        at, n = _table(b, elst, 20 if v1 else 12)
        edits = [struct.unpack_from(">QqI" if v1 else ">IiI", b, at + 8 + (20 if v1 else 12) * i) for i in range(n)]
        # one edit at rate 1 from the first frame's presentation time (0, or the B-frame delay) that lasts (to the
        # movie timescale's rounding) the whole media
        plain_edits = (n == 1 and edits[0][1] == first_offset and edits[0][2] == 0x10000 and movie_scale > 0
                       and edits[0][0] * timescale >= media_duration * movie_scale - timescale)

    return VideoTrack(codec=typ.decode("latin-1"), config=config, width=width, height=height, timescale=timescale,
                      frames=frames, deltas=deltas, reordered=reordered, first_sync=first_sync, entries=entries,
                      square=square, upright=matrix == _IDENTITY, plain_edits=plain_edits, data_bytes=data)


# ---- clip copy: whether a clip can go into the final video as its own packets ----
#
# A video made only of clips, each already H.264 at the format's size and frame rate, needs no pixel of them changed:
# the segment's scale, fps and pixel-format filters are no-ops on such frames, so the encode would only re-compress
# them (and lose a little). Copying the packets instead is the same picture, exactly, for a fraction of the work.
#
# The decision is the whole video's and is made while planning, because the final video is joined by stream copy
# and an MP4's video track has one codec setup (one avcC): either every segment is the clips' own packets, all with
# one parameter-set record, or every segment is our x264's (compiler/plan.py, `clip_copy`; segment.ffmpeg's
# `stream_copy`). The clips are read with video_track, once per file in a compile. Anything it cannot vouch for
# is encoded as before:
#
# - a scene that is not a clip, a clip that starts later than 0 or does not loop (the encode holds its last frame,
#   which a copy cannot), burned captions, or a crossfade anywhere (its frames are blended);
# - a clip that is not AVC 8-bit 4:2:0 (profile baseline, main, extended or high), has more than one sample entry,
#   B-frames (decode order would not be display order, so its first n packets would not be its first n frames),
#   a first frame that is not an IDR frame, non-square pixels, a rotation, an edit list that hides or delays part of
#   it, a variable frame rate or another rate than the format's, or a bit rate above the brand's
#   `quality.clip_copy_max_mbps`;
# - clips whose codec setups differ.

COPYABLE_PROFILES = {66, 77, 88, 100}  # AVC baseline, main, extended, high: 8-bit 4:2:0


def refusal(t: VideoTrack | None, width: int, height: int, fps: int, max_mbps: float) -> str | None:
    """Why the clip `t` cannot be copied into a width x height, fps video, or None when it can."""
    if t is None:
        return "not an MP4/MOV file whose header could be read"
    if t.codec != "avc1" or len(t.config) < 4 or t.config[0] != 1:
        return f"codec {t.codec}, not H.264 (avc1)"
    if t.profile not in COPYABLE_PROFILES:
        return f"H.264 profile {t.profile}, not 8-bit 4:2:0"
    if t.entries != 1 or not t.frames:
        return "no frames, or more than one codec setup in the track"
    if (t.width, t.height) != (width, height):
        return f"{t.width}x{t.height}, not {width}x{height}"
    if t.frame_rate() != fps:
        return f"frame rate {t.frame_rate() or 'variable'}, not {fps}"
    if t.reordered:
        return "B-frames"
    if not t.first_sync:
        return "does not start with an IDR frame"
    if not (t.square and t.upright and t.plain_edits):
        return "non-square pixels, a rotation or an edit list"
    if t.bit_rate > max_mbps * 1e6:
        return f"{t.bit_rate / 1e6:.1f} Mbit/s, above quality.clip_copy_max_mbps ({max_mbps:g})"
    return None
