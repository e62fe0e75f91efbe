"""The ``original`` preset for JPEG sources: metadata removed without re-encoding the pixels.

A JPEG is a list of segments. The picture is in the coding segments (quantisation and Huffman
tables, frame and scan headers) and the entropy-coded data after each scan header; everything
else is metadata: APPn blocks (EXIF with GPS and maker notes, XMP, IPTC/Photoshop, ICC profiles,
MPF), comments, and whatever follows the end marker. ``rewrite`` keeps the coding segments and the
entropy-coded data byte for byte and drops the rest, as ``jpegtran -copy none`` does, but without
re-coding the Huffman data: the output decodes to exactly the source's pixels. Two tiny headers
that say how to read the colours are written afresh when the source had them (a JFIF header
without its optional thumbnail; Adobe's colour-transform flag), and our standard sRGB profile when
the preset embeds one.

EXIF orientation is applied losslessly by ``jpegtran -perfect`` (Debian libjpeg-turbo-progs),
which refuses when the image's edge blocks would not survive the turn; then, or without jpegtran,
the caller decodes and re-encodes instead. Sources whose colours need converting (CMYK, a profile
other than sRGB) are re-encoded too: copying their pixels would show wrong colours.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop_uploader.pipeline.structure import NEXT_MARKER

log = logging.getLogger(__name__)

JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"  # 1.01, 1:1, no thumbnail
ICC_CHUNK = 65519  # profile bytes per APP2 segment
# What jpegtran does for each EXIF orientation to show the picture upright.
JPEGTRAN = {
    2: ["-flip", "horizontal"],
    3: ["-rotate", "180"],
    4: ["-flip", "vertical"],
    5: ["-transpose"],
    6: ["-rotate", "90"],
    7: ["-transverse"],
    8: ["-rotate", "270"],
}
# Frame (SOFn) markers of the non-hierarchical processes; DHT, DAC, DQT, DRI, DNL.
_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_TABLES = {0xC4, 0xCC, 0xDB, 0xDD, 0xDC}


def rewrite(data: bytes, srgb_icc: bytes | None, is_srgb: Callable[[bytes], bool]) -> bytes | None:
    """``data`` with every metadata segment dropped and the picture's bytes untouched (see the
    module). ``srgb_icc``: embed this profile. None when this JPEG cannot be copied losslessly
    (colours to convert, an unusual structure): re-encode it instead."""
    if data[:2] != b"\xff\xd8":
        return None
    kept = _Kept()
    try:
        _walk(data, kept)
    except _NotCopyable:
        return None
    if kept.components not in (1, 3) or (kept.adobe is not None and kept.adobe not in (0, 1)):
        return None  # CMYK/YCCK: the colours must be converted
    if kept.icc and not is_srgb(kept.icc):
        return None  # a wide-gamut or custom profile: the colours must be converted
    out = [b"\xff\xd8"]
    if kept.jfif:
        out.append(JFIF)
    if kept.adobe is not None:  # how to read the three channels (RGB or YCbCr): keep only that
        out.append(b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00" + bytes([kept.adobe]))
    if srgb_icc:
        out += _icc_segments(srgb_icc)
    out += kept.coding
    out.append(b"\xff\xd9")  # and nothing after it
    return b"".join(out)


class _NotCopyable(Exception):
    """Lost sync, no end marker, or a segment we do not copy: re-encode instead."""


@dataclass
class _Kept:
    """What a walk over the segments keeps: the coding segments byte for byte, and the facts
    the new header needs."""

    coding: list[bytes] = field(default_factory=list)
    adobe: int | None = None
    jfif: bool = False
    icc: bytes = b""
    components: int = 0

    def take(self, marker: int, segment: bytes, body: bytes) -> None:
        if marker == 0xE0 and body.startswith(b"JFIF\x00"):
            self.jfif = True
        elif marker == 0xEE and body.startswith(b"Adobe") and len(body) >= 12:
            self.adobe = body[11]
        elif marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00"):
            self.icc += body[14:]
        elif 0xE0 <= marker <= 0xEF or marker == 0xFE:
            return  # metadata: dropped
        elif marker in _FRAMES:
            if body[0] != 8:  # 12-bit samples
                raise _NotCopyable
            self.components = body[5]
            self.coding.append(segment)
        elif marker in _TABLES:
            self.coding.append(segment)
        else:
            raise _NotCopyable  # hierarchical, JPEG-LS or reserved markers: not ours to copy


def _walk(data: bytes, kept: _Kept) -> None:
    """Every segment from after SOI to EOI into ``kept``; the scans byte for byte."""
    i, n = 2, len(data)
    while True:
        if i + 2 > n or data[i] != 0xFF:
            raise _NotCopyable  # lost sync, or no end marker: let the decoder judge it
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            raise _NotCopyable
        marker = data[i]
        i += 1
        if marker == 0xD9:
            return
        if i + 2 > n:
            raise _NotCopyable
        length = int.from_bytes(data[i : i + 2], "big")
        segment = data[i - 2 : i + length]
        body = data[i + 2 : i + length]
        if length < 2 or i + length > n:
            raise _NotCopyable
        i += length
        if marker == 0xDA:
            m = NEXT_MARKER.search(data, i)
            if m is None:
                raise _NotCopyable
            kept.coding.append(segment + data[i : m.start()])  # the scan, byte for byte
            i = m.start()
        else:
            kept.take(marker, segment, body)


def _icc_segments(profile: bytes) -> list[bytes]:
    parts = [profile[i : i + ICC_CHUNK] for i in range(0, len(profile), ICC_CHUNK)]
    return [
        b"\xff\xe2"
        + (len(p) + 16).to_bytes(2, "big")
        + b"ICC_PROFILE\x00"
        + bytes([k, len(parts)])
        + p
        for k, p in enumerate(parts, 1)
    ]


def jpegtran() -> str | None:
    """The jpegtran program, if installed."""
    return shutil.which("jpegtran")


def orient(data: bytes, orientation: int, timeout: float = 60.0) -> bytes | None:
    """``data`` turned upright without re-encoding (``jpegtran -perfect``), or None when that is
    not possible losslessly (edge blocks) or jpegtran is not installed."""
    if orientation not in JPEGTRAN:
        return data
    program = jpegtran()
    if program is None:
        return None
    cmd = [program, "-copy", "none", "-perfect", *JPEGTRAN[orientation]]
    try:
        done = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        log.info("jpegtran failed (%s); the image is re-encoded", e)
        return None
    if done.returncode != 0 or not done.stdout:
        log.debug("jpegtran refused: %s", done.stderr.decode(errors="replace").strip())
        return None
    return done.stdout
