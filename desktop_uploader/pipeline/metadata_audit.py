"""The last look before upload: does an output carry anything but pixels?

Every file the app writes (``encode``) is walked here by its own container structure, without a
decoder and independently of the code that wrote it, against an allow-list per format: the blocks
that hold pixels, the few that say how to read them, and our standard sRGB profile when the preset
embeds one. Anything else (EXIF, XMP, IPTC, comments, text chunks, a foreign ICC profile, a JFIF
thumbnail, data after the end) raises ``MetadataLeft``: a bug in our code, and the job fails
instead of publishing it.

The structure walks are small because each format's framing is simple and the outputs are ours;
exiftool (Perl) reads these formats too, and the tests use it as the independent reader, but the
app does not depend on it.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from desktop_uploader.pipeline.structure import NEXT_MARKER


class MetadataLeft(RuntimeError):
    """An output would carry metadata: never upload it (a bug in the encoding code)."""


def check_file(path: Path, fmt: str, srgb_icc: bytes | None) -> None:
    """Raise ``MetadataLeft`` if ``path`` (written as ``fmt``) holds anything not allowed;
    ``srgb_icc``: the one ICC profile allowed (None: no profile at all)."""
    found = find_metadata(path.read_bytes(), fmt, srgb_icc)
    if found:
        raise MetadataLeft(f"the {fmt} output would carry {', '.join(found)}; not uploaded")


def find_metadata(data: bytes, fmt: str, srgb_icc: bytes | None) -> list[str]:
    """What ``data`` carries beyond pixels and the allowed profile (empty: nothing)."""
    walk = {
        "JPEG": _jpeg,
        "PNG": _png,
        "WEBP": _webp,
        "GIF": _gif,
        "TIFF": _tiff,
        "AVIF": _avif,
    }.get(fmt)
    if walk is None:
        return [f"an unchecked format ({fmt})"]
    try:
        return walk(data, srgb_icc)
    except (IndexError, struct.error, ValueError, zlib.error) as e:
        return [f"a structure that could not be checked ({e})"]


def _icc_ok(profile: bytes, srgb_icc: bytes | None) -> bool:
    return srgb_icc is not None and profile == srgb_icc


# -- JPEG: markers ------------------------------------------------------------------------------
_JPEG_FRAME = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_TABLES = {0xC4, 0xCC, 0xDB, 0xDD, 0xDC}  # DHT, DAC, DQT, DRI, DNL
JFIF_LENGTH = 16  # APP0 "JFIF\0", version, units, density: no thumbnail


def _jpeg(b: bytes, srgb_icc: bytes | None) -> list[str]:
    found: list[str] = []
    icc = b""
    if b[:2] != b"\xff\xd8":
        return ["no JPEG start marker"]
    i = 2
    while True:
        if b[i] != 0xFF:
            return [*found, "bytes outside any segment"]
        while b[i] == 0xFF:
            i += 1
        marker = b[i]
        i += 1
        if marker == 0xD9:  # EOI
            if b[i:].strip(b"\x00"):
                found.append(f"{len(b) - i} bytes after the image end")
            break
        length = int.from_bytes(b[i : i + 2], "big")
        body = b[i + 2 : i + length]
        if marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00"):
            icc += body[14:]
        elif (note := _jpeg_segment(marker, length, body)) is not None:
            found.append(note)
        i += length
        if marker == 0xDA:  # entropy-coded data up to the next real marker
            m = NEXT_MARKER.search(b, i)
            if m is None:
                return [*found, "entropy-coded data without an end"]
            i = m.start()
    if icc and not _icc_ok(icc, srgb_icc):
        found.append("an ICC profile that is not our sRGB profile")
    return found


def _jpeg_segment(marker: int, length: int, body: bytes) -> str | None:
    """What a JPEG segment (other than an ICC profile's) carries that an output must not."""
    if marker == 0xE0 and body.startswith(b"JFIF\x00"):
        if length != JFIF_LENGTH or body[12:14] != b"\x00\x00":
            return "a JFIF header with extra data (a thumbnail)"
        return None
    if marker == 0xEE and body.startswith(b"Adobe") and length == 14:
        return None  # colour transform flag only
    if 0xE0 <= marker <= 0xEF:
        name = bytes(body[:12]).split(b"\x00")[0]
        return f"an APP{marker - 0xE0} block ({name!r})"
    if marker == 0xFE:
        return "a comment (COM)"
    if marker not in _JPEG_FRAME | _JPEG_TABLES | {0xDA}:
        return f"an unexpected marker 0x{marker:02X}"
    return None


# -- PNG: chunks ----------------------------------------------------------------------------------
_PNG_ALLOWED = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"acTL", b"fcTL", b"fdAT"}


def _png(b: bytes, srgb_icc: bytes | None) -> list[str]:
    found: list[str] = []
    if b[:8] != b"\x89PNG\r\n\x1a\n":
        return ["no PNG signature"]
    i = 8
    while i < len(b):
        length = int.from_bytes(b[i : i + 4], "big")
        kind = b[i + 4 : i + 8]
        body = b[i + 8 : i + 8 + length]
        i += 12 + length
        if kind == b"iCCP":
            name_end = body.index(b"\x00")
            if not _icc_ok(zlib.decompress(body[name_end + 2 :]), srgb_icc):
                found.append("an ICC profile that is not our sRGB profile")
        elif kind not in _PNG_ALLOWED:
            found.append(f"a {kind.decode('latin-1')} chunk")
        if kind == b"IEND":
            if b[i:]:
                found.append(f"{len(b) - i} bytes after the image end")
            break
    return found


# -- WebP: RIFF chunks ----------------------------------------------------------------------------
_WEBP_ALLOWED = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}


def _webp(b: bytes, srgb_icc: bytes | None) -> list[str]:
    found: list[str] = []
    if b[:4] != b"RIFF" or b[8:12] != b"WEBP":
        return ["no WebP header"]
    end = 8 + int.from_bytes(b[4:8], "little")
    if len(b) > end + (end & 1):
        found.append(f"{len(b) - end} bytes after the image end")
    i = 12
    while i + 8 <= min(end, len(b)):
        kind = b[i : i + 4]
        length = int.from_bytes(b[i + 4 : i + 8], "little")
        body = b[i + 8 : i + 8 + length]
        i += 8 + length + (length & 1)
        if kind == b"VP8X" and body[0] & 0x0C:  # the EXIF (0x08) and XMP (0x04) flags
            found.append("EXIF/XMP flags in the WebP header")
        if kind == b"ICCP":
            if not _icc_ok(body, srgb_icc):
                found.append("an ICC profile that is not our sRGB profile")
        elif kind not in _WEBP_ALLOWED:
            found.append(f"a {kind.decode('latin-1').strip()} chunk")
    return found


# -- GIF: blocks ----------------------------------------------------------------------------------
def _gif(b: bytes, _srgb: bytes | None) -> list[str]:
    found: list[str] = []
    flags = b[10]
    i = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while b[i] != 0x3B:
        kind = b[i]
        if kind == 0x21:
            label = b[i + 1]
            if label == 0xFE:
                found.append("a comment")
            elif label == 0xFF and b[i + 3 : i + 14] != b"NETSCAPE2.0":
                found.append(f"an application block ({bytes(b[i + 3 : i + 14])!r})")
            elif label not in (0xF9, 0xFF):
                found.append(f"an extension block 0x{label:02X}")
            i += 2
        elif kind == 0x2C:
            lflags = b[i + 9]
            i += 11 + (3 * 2 ** ((lflags & 7) + 1) if lflags & 0x80 else 0)
        else:
            return [*found, "a broken block chain"]
        while b[i]:  # sub-blocks
            i += 1 + b[i]
        i += 1
    if b[i + 1 :].strip(b"\x00"):
        found.append(f"{len(b) - i - 1} bytes after the image end")
    return found


# -- TIFF: tags -----------------------------------------------------------------------------------
_TIFF_ALLOWED = {
    254,
    256,
    257,
    258,
    259,
    262,
    273,
    277,
    278,
    279,
    282,
    283,
    284,
    296,
    317,
    320,
    322,
    323,
    324,
    325,
    338,
    339,
}  # fmt: skip  (image structure; 282/283/296: resolution)
_TIFF_ICC = 34675


def _tiff(b: bytes, srgb_icc: bytes | None) -> list[str]:
    found: list[str] = []
    order = {b"II": "<", b"MM": ">"}[b[:2]]
    offset = struct.unpack(order + "I", b[4:8])[0]
    seen: set[int] = set()
    while offset and offset not in seen:
        seen.add(offset)
        (count,) = struct.unpack(order + "H", b[offset : offset + 2])
        for n in range(count):
            e = offset + 2 + 12 * n
            tag, typ, num, value = struct.unpack(order + "HHII", b[e : e + 12])
            if tag == _TIFF_ICC:
                if not _icc_ok(b[value : value + num], srgb_icc):
                    found.append("an ICC profile that is not our sRGB profile")
            elif tag not in _TIFF_ALLOWED:
                found.append(f"TIFF tag {tag}")
        offset = struct.unpack(order + "I", b[offset + 2 + 12 * count : offset + 6 + 12 * count])[0]
    return found


# -- AVIF (ISO BMFF): boxes ------------------------------------------------------------------------
def _boxes(b: bytes, start: int, end: int):
    i = start
    while i + 8 <= end:
        size = int.from_bytes(b[i : i + 4], "big")
        kind = b[i + 4 : i + 8]
        header = 8
        if size == 1:
            size, header = int.from_bytes(b[i + 8 : i + 16], "big"), 16
        elif size == 0:
            size = end - i
        if size < header:
            raise ValueError("a box shorter than its header")
        yield kind, i + header, i + size
        i += size


def _avif(b: bytes, srgb_icc: bytes | None) -> list[str]:
    found: list[str] = []
    for kind, start, end in _boxes(b, 0, len(b)):
        if kind == b"meta":
            found += _avif_meta(b, start + 4, end, srgb_icc)  # a full box: version + flags
        elif kind not in (b"ftyp", b"mdat", b"free", b"skip"):
            found.append(f"a {kind.decode('latin-1')} box")
    return found


def _avif_items(b: bytes, s: int, e: int) -> list[str]:
    """Items in an ``iinf`` box other than the image's own (``av01``, ``grid``): Exif, XMP …"""
    found = []
    first = s + 4 + (2 if b[s] == 0 else 4)  # version 0: a 16-bit count, else 32-bit
    for sub, ss, _se in _boxes(b, first, e):
        if sub == b"infe" and b[ss] >= 2:
            id_len = 2 if b[ss] == 2 else 4
            item_type = b[ss + 4 + id_len + 2 : ss + 8 + id_len + 2]
            if item_type not in (b"av01", b"grid"):
                found.append(f"an {item_type.decode('latin-1')} item")
    return found


def _avif_properties(b: bytes, s: int, e: int, srgb_icc: bytes | None) -> list[str]:
    """An ICC profile among the ``iprp`` properties that is not our sRGB one."""
    found = []
    for sub, ss, se in _boxes(b, s, e):
        if sub != b"ipco":
            continue
        for prop, ps, pe in _boxes(b, ss, se):
            icc = prop == b"colr" and b[ps : ps + 4] in (b"prof", b"rICC")
            if icc and not _icc_ok(b[ps + 4 : pe], srgb_icc):
                found.append("an ICC profile that is not our sRGB profile")
    return found


def _avif_meta(b: bytes, start: int, end: int, srgb_icc: bytes | None) -> list[str]:
    found: list[str] = []
    for kind, s, e in _boxes(b, start, end):
        if kind == b"iinf":
            found += _avif_items(b, s, e)
        elif kind == b"iprp":
            found += _avif_properties(b, s, e, srgb_icc)
        elif kind not in (b"hdlr", b"pitm", b"iloc", b"iref", b"idat", b"dinf"):
            found.append(f"a {kind.decode('latin-1')} box in meta")
    return found
