"""Byte-level checks of an image file: where the image really ends, and what hides in or after it.

No decoder is involved: JPEG, PNG, GIF and WebP are walked by their segment/chunk/block framing to
find the true end of the image. Bytes after it are *trailing data*; recognisable active content
(a ZIP archive, HTML or script markup, PHP, a program) anywhere in the file makes it a *polyglot*.

Why the two are treated differently: the re-encoded output never carries either (it is made from
pixels only), so neither can reach the CDN. But an image that is also an archive or a web page was
built to get past an upload filter; the user should hear about it and the file is rejected
(``polyglot``). Plain trailing data is common and harmless (phone "motion photos" append a video,
some cameras append maker data, editors leave padding), so it is accepted, dropped by the
re-encode, and recorded as a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


# Each pattern is specific enough that random compressed image data does not hit it by chance
# (about one false hit in 10^6 files of 5 MB). Every one starts with a literal byte, which
# keeps the search fast (a few ms for a 12-MP photo).
def _any_case(word: bytes) -> bytes:
    return b"".join(
        b"[%s%s]" % (bytes([c]).lower(), bytes([c]).upper()) if chr(c).isalpha() else bytes([c])
        for c in word
    )


_TAGS = b"|".join(_any_case(t) for t in (b"script", b"iframe", b"object", b"embed"))
_ACTIVE = (
    # ZIP local file header with a plausible "version needed" (1.0 … 6.3) and flags byte
    (re.compile(rb"PK\x03\x04[\x0a-\x3f]\x00"), "a ZIP archive"),
    (re.compile(rb"\x7fELF[\x01\x02][\x01\x02]\x01"), "a Linux program"),
    (
        re.compile(rb"<(?:%s|(?:%s|%s)[\s>])" % (_TAGS, _any_case(b"html"), _any_case(b"body"))),
        "HTML or script markup",
    ),
    (re.compile(rb"<\?%s\s" % _any_case(b"php")), "PHP code"),
)


@dataclass(frozen=True)
class Structure:
    """What the byte walk found. ``end`` is None when the format's end is not walkable here."""

    end: int | None
    trailing: int  # bytes after the end that are not padding
    active: str | None  # what active content was found, if any
    active_where: str | None  # "inside the image" or "after the image end"


def inspect_bytes(data: bytes | memoryview, fmt: str) -> Structure:
    """Walk ``data`` (a whole file in the sniffed format ``fmt``) and report its structure."""
    buf = bytes(data) if isinstance(data, memoryview) else data
    finder = {"JPEG": jpeg_end, "PNG": png_end, "GIF": gif_end, "WEBP": webp_end}.get(fmt)
    end = finder(buf) if finder else None
    trailing = 0
    if end is not None and end < len(buf):
        tail = buf[end:]
        # Zero bytes or whitespace after the end are padding some writers add; not worth a word.
        if tail.strip(b"\x00\r\n\t \xff"):
            trailing = len(tail)
    active, at = _active_content(buf, fmt)
    where = None
    if active:
        where = "after the image end" if end is not None and at >= end else "inside"
    return Structure(end, trailing, active, where)


def _active_content(buf: bytes, fmt: str) -> tuple[str | None, int]:
    """What active content (a script, an archive, a program) ``buf`` carries, and where."""
    active, at = None, -1
    if fmt == "GIF" and buf[6:8] == b"/*":
        # width bytes that open a JavaScript comment: the classic GIF/JS polyglot, where the
        # whole file also runs as a script (<script src="x.gif">)
        active, at = "JavaScript (the GIF header doubles as a script)", 6
    elif buf[-22:-18] == b"PK\x05\x06":  # a ZIP's end-of-central-directory record, no comment
        active, at = "a ZIP archive", len(buf) - 22
    elif (dos := buf.find(b"This program cannot be run in DOS mode")) >= 0:
        active, at = "a Windows program", dos
    for pattern, what in _ACTIVE:
        if active:
            break
        m = pattern.search(buf)
        if m:
            active, at = what, m.start()
    return active, at


def jpeg_end(b: bytes) -> int | None:
    """Offset just past the EOI marker of the JPEG starting at 0, or None if it never ends."""
    i, n = 2, len(b)
    while i + 2 <= n:
        if b[i] != 0xFF:
            return None  # lost sync: damaged file, let the decoder judge it
        while i < n and b[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            return None
        marker = b[i]
        i += 1
        if marker == 0xD9:
            return i
        if 0xD0 <= marker <= 0xD8 or marker == 0x01:
            continue
        if i + 2 > n:
            return None
        i += int.from_bytes(b[i : i + 2], "big")
        if marker == 0xDA:  # entropy-coded data follows: up to the next real marker
            m = NEXT_MARKER.search(b, i)
            if m is None:
                return None
            i = m.start()
    return None


# In entropy-coded data 0xFF is followed by 0x00 (a stuffed byte), by a restart marker
# (0xD0-0xD7) or by more 0xFF fill; any other byte after 0xFF is the next real marker.
NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def png_end(b: bytes) -> int | None:
    """Offset just past the IEND chunk, or None if the chunk chain breaks first."""
    i, n = 8, len(b)
    while i + 12 <= n:
        length = int.from_bytes(b[i : i + 4], "big")
        kind = b[i + 4 : i + 8]
        i += 12 + length
        if kind == b"IEND":
            return i if i <= n else None
    return None


def _skip_sub_blocks(b: bytes, i: int) -> int | None:
    n = len(b)
    while i < n:
        size = b[i]
        i += 1 + size
        if size == 0:
            return i
    return None


def gif_end(b: bytes) -> int | None:
    """Offset just past the GIF trailer (0x3B), or None if the block chain breaks first."""
    n = len(b)
    if n < 13:
        return None
    flags = b[10]
    i = 13 + (3 * (2 ** ((flags & 7) + 1)) if flags & 0x80 else 0)
    while i < n:
        kind = b[i]
        if kind == 0x3B:
            return i + 1
        if kind == 0x21:  # extension: label, then sub-blocks
            nxt = _skip_sub_blocks(b, i + 2)
        elif kind == 0x2C:  # image descriptor, optional local colour table, LZW size, data
            if i + 10 > n:
                return None
            lflags = b[i + 9]
            j = i + 10 + (3 * (2 ** ((lflags & 7) + 1)) if lflags & 0x80 else 0)
            nxt = _skip_sub_blocks(b, j + 1)
        else:
            return None
        if nxt is None:
            return None
        i = nxt
    return None


def webp_end(b: bytes) -> int | None:
    """Offset just past the RIFF container (its declared size, padded to even)."""
    if len(b) < 12:
        return None
    size = int.from_bytes(b[4:8], "little") + 8
    size += size & 1
    return size if size <= len(b) else None
