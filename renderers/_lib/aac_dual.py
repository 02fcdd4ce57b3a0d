"""Dual-mono AAC-LC from a mono encode, without encoding the channel twice (issue 12).

The final soundtrack is mono until the encoder and delivered as stereo with two identical channels. Encoding it
as stereo runs the AAC encoder's analysis, quantisation and bit search on both channels: twice the work for one
signal. An AAC-LC frame of a mono stream is a single channel element (SCE: a 3-bit id, a 4-bit tag, one
`individual_channel_stream`) and an END element; a channel pair element (CPE) with `common_window = 0` is its 3-bit
id, a tag, that flag and two `individual_channel_stream`s, one per channel, coded independently (ISO/IEC 14496-3,
4.4.2.1). So a dual-mono frame is the mono frame's channel stream written twice inside a CPE, bit for bit. A decoder
gives each channel exactly the mono decode (tested: same float samples). Perceptual noise substitution must be off
in the mono encode: its noise is drawn per channel by the decoder, so the two channels would differ.

The channel stream needs no parsing: ffmpeg's encoder (with `+bitexact`, so no signature FIL element) writes a
frame as SCE, END ('111'), then zero bits up to the byte. The frame's last set bit is END's last bit, so the channel
stream is everything between the 7-bit SCE header and END. Anything else in a frame is refused.

`dual_mono_mp4` rewrites ffmpeg's mono MP4: every sample becomes its CPE (the sizes and chunk offsets follow), the
AudioSpecificConfig says two channels, and the decoder config's buffer size and bit rates are recomputed. Timing,
the edit list that hides the encoder's priming, and every other box stay as ffmpeg wrote them.
"""
from __future__ import annotations

import struct
from pathlib import Path

ID_SCE, ID_CPE, ID_END = 0, 1, 7
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def sce_to_cpe(frame: bytes) -> bytes:
    """One raw AAC-LC frame of a mono stream (SCE + END) -> the dual-mono frame (CPE of the same channel twice +
    END), byte aligned."""
    n, bits = int.from_bytes(frame, "big"), len(frame) * 8
    if n == 0:
        raise ValueError("an empty AAC frame")
    last = bits - (n & -n).bit_length()  # index of the frame's last set bit, counted from the first bit
    end_at = last - 2  # END ('111') ends at that bit
    if n >> (bits - 3) != ID_SCE:
        raise ValueError(f"the AAC frame starts with element {n >> (bits - 3)}, not a single channel element")
    if end_at < 7 or (n >> (bits - end_at - 3)) & 7 != ID_END:
        raise ValueError("the AAC frame does not end with an END element")
    ics_bits = end_at - 7
    if ics_bits <= 0:
        raise ValueError("the AAC frame's channel stream is empty")
    tag = (n >> (bits - 7)) & 0xF
    ics = (n >> (bits - end_at)) & ((1 << ics_bits) - 1)
    out = (((((ID_CPE << 4 | tag) << 1) << ics_bits | ics) << ics_bits | ics) << 3) | ID_END
    used = 3 + 4 + 1 + 2 * ics_bits + 3
    pad = -used % 8
    return (out << pad).to_bytes((used + pad) // 8, "big")


def _boxes(b: bytes | bytearray, off: int, end: int):
    while off < end:
        if off + 8 > end:
            raise ValueError(f"a truncated MP4 box at byte {off}")
        size, typ = struct.unpack_from(">I4s", b, off)
        hdr = 8
        if size == 1:
            size, hdr = struct.unpack_from(">Q", b, off + 8)[0], 16
        elif size == 0:
            size = end - off
        if size < hdr or off + size > end:
            raise ValueError(f"MP4 box {typ!r} at byte {off} has a bad size {size}")
        yield typ, off, hdr, size
        off += size


def _child(b, parent: tuple, typ: bytes, start: int = 0) -> tuple:
    _, off, hdr, size = parent
    found = [x for x in _boxes(b, off + hdr + start, off + size) if x[0] == typ]
    if len(found) != 1:
        raise ValueError(f"expected one {typ.decode()} box in {parent[0].decode()}, found {len(found)}")
    return found[0]


def _descriptor(b, at: int) -> tuple[int, int, int]:
    """An MPEG-4 descriptor at `at` -> (tag, payload offset, payload size)."""
    tag, size, at = b[at], 0, at + 1
    for _ in range(4):
        byte = b[at]
        at += 1
        size = size << 7 | (byte & 0x7F)
        if not byte & 0x80:
            break
    return tag, at, size


def dual_mono_mp4(src: Path, dst: Path) -> None:
    """Rewrite ffmpeg's mono AAC-LC MP4 `src` as the dual-mono stereo MP4 `dst` (same timing, same decoded samples
    in both channels). Raises ValueError on anything else."""
    b = bytearray(Path(src).read_bytes())
    top = list(_boxes(b, 0, len(b)))
    mdat = [x for x in top if x[0] == b"mdat"]
    moov = [x for x in top if x[0] == b"moov"]
    if len(mdat) != 1 or len(moov) != 1:
        raise ValueError("expected one mdat and one moov box")
    mdat, moov = mdat[0], moov[0]
    trak = _child(b, moov, b"trak")
    mdia = _child(b, trak, b"mdia")
    stbl = _child(b, _child(b, mdia, b"minf"), b"stbl")
    stsz, stsc = _child(b, stbl, b"stsz"), _child(b, stbl, b"stsc")
    stco = [x for x in _boxes(b, stbl[1] + stbl[2], stbl[1] + stbl[3]) if x[0] in (b"stco", b"co64")]
    if len(stco) != 1:
        raise ValueError("expected one chunk offset box")
    stco = stco[0]
    wide = stco[0] == b"co64"

    p = stsz[1] + stsz[2]
    fixed, count = struct.unpack_from(">II", b, p + 4)
    if fixed:
        raise ValueError("a constant sample size cannot hold AAC frames of different sizes")
    sizes = list(struct.unpack_from(f">{count}I", b, p + 12))
    p = stsc[1] + stsc[2]
    runs = [struct.unpack_from(">III", b, p + 8 + 12 * i) for i in range(struct.unpack_from(">I", b, p + 4)[0])]
    p = stco[1] + stco[2]
    chunks = struct.unpack_from(">I", b, p + 4)[0]
    offsets = list(struct.unpack_from(f">{chunks}{'Q' if wide else 'I'}", b, p + 8))

    per_chunk = []
    for i, (first, spc, _) in enumerate(runs):
        until = runs[i + 1][0] if i + 1 < len(runs) else chunks + 1
        per_chunk += [spc] * (until - first)
    if len(per_chunk) != chunks or sum(per_chunk) != count:
        raise ValueError("the sample-to-chunk table does not match the sample and chunk counts")

    payload, new_sizes, new_offsets, k = bytearray(), [], [], 0
    start = mdat[1] + 8  # the rewritten mdat gets an 8-byte header where the old one began
    for off, n in zip(offsets, per_chunk):
        new_offsets.append(start + len(payload))
        for size in sizes[k:k + n]:
            frame = sce_to_cpe(bytes(b[off:off + size]))
            payload += frame
            new_sizes.append(len(frame))
            off += size
        k += n
    if 8 + len(payload) > 0xFFFFFFFF or (not wide and start + len(payload) > 0xFFFFFFFF):
        raise ValueError("the soundtrack is too large for this rewrite")

    # the sample table and chunk offsets, in place (same entry counts, so no box changes size)
    p = stsz[1] + stsz[2]
    struct.pack_into(f">{count}I", b, p + 12, *new_sizes)
    struct.pack_into(f">{chunks}{'Q' if wide else 'I'}", b, stco[1] + stco[2] + 8, *new_offsets)

    # the sample entry and its decoder config: two channels, the new buffer size and bit rates
    stsd = _child(b, stbl, b"stsd")
    mp4a = _child(b, stsd, b"mp4a", start=8)
    struct.pack_into(">H", b, mp4a[1] + 24, 2)
    esds = _child(b, mp4a, b"esds", start=28)
    tag, at, _ = _descriptor(b, esds[1] + esds[2] + 4)
    if tag != 0x03:
        raise ValueError("the esds box holds no ES descriptor")
    flags = b[at + 2]
    at += 3 + (2 if flags & 0x80 else 0)  # ES_ID, flags, dependsOn_ES_ID
    if flags & 0x40:
        at += 1 + b[at]  # URL
    at += 2 if flags & 0x20 else 0  # OCR_ES_ID
    tag, dcd, dcd_size = _descriptor(b, at)
    if tag != 0x04:
        raise ValueError("the ES descriptor holds no decoder config")
    mdhd = _child(b, mdia, b"mdhd")
    v = b[mdhd[1] + mdhd[2]]
    timescale, duration = struct.unpack_from(">IQ" if v == 1 else ">II", b, mdhd[1] + mdhd[2] + (20 if v == 1 else 12))
    per_second = max(1, -(-timescale // 1024))
    window = peak = sum(new_sizes[:per_second])
    for i in range(per_second, len(new_sizes)):
        window += new_sizes[i] - new_sizes[i - per_second]
        peak = max(peak, window)
    avg = int(sum(new_sizes) * 8 * timescale / duration) if duration else 0
    b[dcd + 2:dcd + 5] = min(max(new_sizes, default=0), 0xFFFFFF).to_bytes(3, "big")
    struct.pack_into(">II", b, dcd + 5, peak * 8, avg)
    tag, asc, asc_size = _descriptor(b, dcd + 13)
    if tag != 0x05 or asc_size < 2:
        raise ValueError("the decoder config holds no AudioSpecificConfig")
    word = int.from_bytes(b[asc:asc + 2], "big")
    aot, freq = word >> 11, (word >> 7) & 0xF
    if aot != 2 or freq == 15 or (word >> 3) & 0xF != 1:
        raise ValueError(f"not mono AAC-LC (object type {aot}, channel configuration {(word >> 3) & 0xF})")
    b[asc:asc + 2] = ((word & ~(0xF << 3)) | 2 << 3).to_bytes(2, "big")

    out = b[:mdat[1]] + struct.pack(">I4s", 8 + len(payload), b"mdat") + payload + b[mdat[1] + mdat[3]:]
    tmp = Path(dst).with_name(Path(dst).name + ".part")
    tmp.write_bytes(out)
    tmp.replace(dst)
