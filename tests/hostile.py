"""A generated corpus of hostile and broken inputs, each with the outcome the app must reach.

Nothing here is a committed binary: every file is built from a few bytes of code. The EICAR
test string is assembled at run time so the repository itself never holds it verbatim.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from imagegen import animated_gif_bytes, jpeg_bytes, png_bytes, scene
from PIL import Image

# The EICAR anti-virus test file (harmless by definition), split so no file here *is* it.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
TEST_PATTERN = b"DESKTOP-UPLOADER-TEST-MALWARE-PATTERN"  # tests/signatures/du-test.ndb


@dataclass(frozen=True)
class Case:
    name: str  # file name, extension included (often a lie on purpose)
    data: bytes
    status: str  # done | rejected
    code: str | None  # expected code; a trailing "*" means "starts with"

    def matches(self, code: str | None) -> bool:
        if self.code and self.code.endswith("*"):
            return bool(code) and code.startswith(self.code[:-1])
        return code == self.code


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with a correct CRC."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_with_chunks(extra: list[bytes], size: tuple[int, int] = (64, 48)) -> bytes:
    """A small valid PNG with ``extra`` chunks inserted before IDAT."""
    w, h = size
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    rows = b"".join(
        b"\x00" + bytes(v for x in range(w) for v in (x * 4 % 256, y * 5 % 256, 90))
        for y in range(h)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + b"".join(extra)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def png_header_bomb(width: int, height: int) -> bytes:
    """Declares a huge canvas, carries almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )


def black_png(width: int, height: int) -> bytes:
    """A real, fully decodable PNG that is tiny on disk and large in memory (all black)."""
    comp = zlib.compressobj(6)
    row = b"\x00" * (1 + 3 * width)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def zlib_bomb(size: int = 200 << 20) -> bytes:
    """``size`` zero bytes compressed (about 1000:1), streamed so we never hold them."""
    comp = zlib.compressobj(9)
    block = b"\x00" * (1 << 20)
    out = [comp.compress(block) for _ in range(size >> 20)]
    return b"".join(out) + comp.flush()


def gif_later_frame_bomb() -> bytes:
    """Frame 1 is 16 × 16; frame 2's descriptor claims 65535 × 65535 (the canvas grows)."""
    data = bytearray(animated_gif_bytes(frames=2, size=(16, 16)))
    flags = data[10]
    i = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    descriptors = []
    while data[i] != 0x3B:
        if data[i] == 0x21:
            i += 2
        else:
            descriptors.append(i)
            lflags = data[i + 9]
            i += 10 + (3 * 2 ** ((lflags & 7) + 1) if lflags & 0x80 else 0) + 1
        while data[i]:
            i += 1 + data[i]
        i += 1
    data[descriptors[1] + 5 : descriptors[1] + 9] = struct.pack("<HH", 65535, 65535)
    return bytes(data)


def tiff_later_page_bomb() -> bytes:
    """Page 1 is 32 × 32; page 2 declares 100000 × 100000."""
    buf = io.BytesIO()
    a = Image.new("RGB", (32, 32), (10, 20, 30))
    b = Image.new("RGB", (32, 32), (30, 20, 10))
    a.save(buf, "TIFF", save_all=True, append_images=[b])
    data = bytearray(buf.getvalue())
    # patch every ImageWidth/ImageLength entry of the *second* IFD
    first_ifd = struct.unpack("<I", data[4:8])[0]
    n = struct.unpack("<H", data[first_ifd : first_ifd + 2])[0]
    second_ifd = struct.unpack("<I", data[first_ifd + 2 + 12 * n : first_ifd + 6 + 12 * n])[0]
    m = struct.unpack("<H", data[second_ifd : second_ifd + 2])[0]
    for i in range(m):
        e = second_ifd + 2 + 12 * i
        tag, typ = struct.unpack("<HH", data[e : e + 4])
        if tag in (256, 257):
            if typ == 3:
                data[e + 8 : e + 10] = struct.pack("<H", 60000)
            else:
                data[e + 8 : e + 12] = struct.pack("<I", 100000)
    return bytes(data)


def apng_later_frame_bomb() -> bytes:
    """Frame 2's fcTL claims 60000 × 60000 on a 16 × 16 canvas (APNG frames must fit it)."""
    buf = io.BytesIO()
    first, second = Image.new("RGB", (16, 16), (255, 0, 0)), Image.new("RGB", (16, 16))
    first.save(buf, "PNG", save_all=True, append_images=[second], duration=100)
    data = bytearray(buf.getvalue())
    i = data.index(b"fcTL", data.index(b"fcTL") + 4)  # type, then seq, width, height …
    data[i + 8 : i + 16] = struct.pack(">II", 60000, 60000)
    crc = zlib.crc32(bytes(data[i : i + 30])) & 0xFFFFFFFF  # type + 26 data bytes
    data[i + 30 : i + 34] = struct.pack(">I", crc)
    return bytes(data)


def webp_canvas_bomb() -> bytes:
    """An animated WebP whose VP8X canvas claims 16384 × 16384 around two 16 × 16 frames."""
    buf = io.BytesIO()
    frames = [Image.new("RGB", (16, 16)), Image.new("RGB", (16, 16), (9, 200, 9))]
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    data = bytearray(buf.getvalue())
    i = data.index(b"VP8X")  # canvas width-1 and height-1, 24-bit little-endian
    data[i + 12 : i + 18] = (16383).to_bytes(3, "little") * 2
    return bytes(data)


def gif_js_polyglot() -> bytes:
    """A GIF that is also valid JavaScript: its width bytes open a comment (``/*``)."""
    data = bytearray(animated_gif_bytes(frames=1, size=(8, 8)))
    data[6:8] = b"/*"  # logical screen width 0x2A2F: still a valid GIF
    return bytes(data[:-1]) + b"*/=1;alert(document.domain);//" + data[-1:]


def jpeg_with_segment(marker: int, payload: bytes, base: bytes | None = None) -> bytes:
    """Insert an APPn/COM segment right after SOI."""
    base = base or jpeg_bytes(scene(160, 120), gps=False, xmp=False, iptc=False, comment=False)
    seg = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return base[:2] + seg + base[2:]


def huge_icc_jpeg(size: int = 4 << 20) -> bytes:
    """A JPEG whose ICC profile (split over APP2 segments, as the spec does) is ``size`` bytes
    of junk: it must be ignored or applied, never copied."""
    icc = (b"junkICCprofile" * (size // 14 + 1))[:size]
    parts = [icc[i : i + 65519] for i in range(0, len(icc), 65519)]
    out = jpeg_bytes(scene(160, 120), gps=False, xmp=False, iptc=False, comment=False)
    segs = b""
    for i, p in enumerate(parts):
        payload = b"ICC_PROFILE\x00" + bytes([i + 1, len(parts)]) + p
        segs += b"\xff\xe2" + struct.pack(">H", len(payload) + 2) + payload
    return out[:2] + segs + out[2:]


def malformed_exif_jpeg() -> bytes:
    """An EXIF block whose IFD points outside itself and loops back on itself."""
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 2)
    tiff += struct.pack("<HHII", 0x0112, 3, 1, 6)  # orientation 6
    tiff += struct.pack("<HHII", 0x8769, 4, 1, 0x7FFFFFF0)  # Exif IFD far outside
    tiff += struct.pack("<I", 8)  # next IFD: itself (a loop)
    return jpeg_with_segment(0xE1, b"Exif\x00\x00" + tiff)


def eicar_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("readme.txt", EICAR)
    return buf.getvalue()


def small_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("payload.html", "<p>hello</p>")
    return buf.getvalue()


def malware_cases() -> list[Case]:
    """EICAR four ways (the issue's list), plus the test pattern in an otherwise broken file."""
    jpg = jpeg_bytes(scene(200, 150, seed=9), gps=False)
    return [
        Case("eicar-renamed.jpg", EICAR, "rejected", "malware:DU.Test.EICAR*"),
        Case("eicar-appended.jpg", jpg + EICAR, "rejected", "malware:DU.Test.EICAR*"),
        Case(
            "eicar-in-comment.jpg",
            jpeg_with_segment(0xFE, EICAR),
            "rejected",
            "malware:DU.Test.EICAR*",
        ),
        Case("eicar-in-zip.jpg", eicar_zip(), "rejected", "malware:DU.Test.EICAR*"),
        # infected *and* truncated: the scan runs first, so malware is what is reported
        Case(
            "pattern-truncated.jpg",
            jpg[: len(jpg) // 2] + TEST_PATTERN,
            "rejected",
            "malware:DU.Test.Pattern*",
        ),
    ]


def corpus() -> list[Case]:
    """The hostile corpus (malware aside): what each input must end as."""
    jpg = jpeg_bytes(scene(240, 160, seed=5))
    png = png_bytes(scene(120, 80, seed=6))
    many_frames = animated_gif_bytes(frames=12, size=(8, 8))
    text_bomb = chunk(b"zTXt", b"Comment\x00\x00" + zlib_bomb(64 << 20))
    itxt_bomb = chunk(b"iTXt", b"Comment\x00\x01\x00\x00\x00" + zlib_bomb(64 << 20))
    icc_bomb = chunk(b"iCCP", b"icc\x00\x00" + zlib_bomb(64 << 20))
    html_text = chunk(b"tEXt", b"Comment\x00<html><script>alert(document.cookie)</script>")
    return [
        Case("zero-byte.jpg", b"", "rejected", "empty"),
        Case("truncated.jpg", jpg[: len(jpg) // 2], "rejected", "truncated"),
        Case("truncated.png", png[: len(png) * 2 // 3], "rejected", "truncated"),
        Case("header-only.jpg", jpg[:200], "rejected", "truncated"),
        Case("png-named.jpg", png, "done", None),
        Case("text-named.png", b"just some text, not a picture\n" * 10, "rejected", "not_an_image"),
        Case("script.jpg", b"#!/bin/sh\nrm -rf ~\n", "rejected", "not_an_image"),
        Case(
            "svg-with-script.png",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
            b"<script>alert(document.domain)</script></svg>",
            "rejected",
            "format_not_allowed",
        ),
        Case(
            "document.jpg",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
            "rejected",
            "format_not_allowed",
        ),
        Case(
            "postscript.gif",
            b"%!PS-Adobe-3.0 EPSF-3.0\n(x) print\n",
            "rejected",
            "format_not_allowed",
        ),
        Case("photoshop.png", b"8BPS\x00\x01" + b"\x00" * 40, "rejected", "format_not_allowed"),
        Case("pixel-bomb.png", png_header_bomb(60_000, 60_000), "rejected", "too_many_pixels"),
        Case("pixel-bomb-frame2.gif", gif_later_frame_bomb(), "rejected", "too_many_pixels"),
        Case("pixel-bomb-page2.tiff", tiff_later_page_bomb(), "rejected", "too_many_pixels"),
        Case("too-many-frames.gif", many_frames, "rejected", "too_many_frames"),
        Case("frame2-outside-canvas.png", apng_later_frame_bomb(), "rejected", "corrupt"),
        Case("canvas-bomb.webp", webp_canvas_bomb(), "rejected", "too_many_pixels"),
        Case("ztxt-bomb.png", png_with_chunks([text_bomb]), "rejected", "metadata_bomb"),
        Case("itxt-bomb.png", png_with_chunks([itxt_bomb]), "rejected", "metadata_bomb"),
        Case("iccp-bomb.png", png_with_chunks([icc_bomb]), "rejected", "metadata_bomb"),
        Case("huge-icc.jpg", huge_icc_jpeg(), "done", None),
        Case("malformed-exif.jpg", malformed_exif_jpeg(), "done", None),
        Case("zip-appended.jpg", jpg + small_zip(), "rejected", "polyglot"),
        Case(
            "html-in-comment.jpg",
            jpeg_with_segment(0xFE, b"<script>alert(1)</script>"),
            "rejected",
            "polyglot",
        ),
        Case("html-in-text.png", png_with_chunks([html_text]), "rejected", "polyglot"),
        Case(
            "php-appended.gif",
            animated_gif_bytes(frames=2) + b"<?php system($_GET['c']); ?>",
            "rejected",
            "polyglot",
        ),
        Case("gif-js-polyglot.gif", gif_js_polyglot(), "rejected", "polyglot"),
        Case(
            "motion-photo-like.jpg",
            jpg + b"\x00\x00\x00\x18ftypmp42" + b"\x11" * 4000,
            "done",
            None,
        ),
    ]


def write(cases: list[Case], folder: Path) -> dict[Path, Case]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for c in cases:
        p = folder / c.name
        p.write_bytes(c.data)
        out[p] = c
    return out
