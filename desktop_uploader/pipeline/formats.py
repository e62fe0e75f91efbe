"""Which image format a file is in, judged from its bytes only; which formats are accepted; what
they are called in messages.

Three judges, in order: our own table of signatures (the formats we accept or refuse on purpose,
so those never depend on a library's guess), then Pillow's format plugins (their signature
checks and header parsers: TGA, for one, has no signature), then libvips's loaders. "Not an
image" is said only when none of them recognises the bytes. Every accepted format that has a
signature is in our table, because a Pillow plugin recognises only the files it can open: a
file cut short must be called damaged, not "not an image".

Nothing here decodes pixels: identification reads headers.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

from PIL import Image

log = logging.getLogger(__name__)

# File name endings of the accepted formats (file pickers, watched folders' default globs);
# the name never decides anything, the bytes do.
IMAGE_SUFFIXES = (
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".apng", ".gif", ".webp", ".tif", ".tiff",
    ".heic", ".heif", ".avif", ".bmp", ".dib", ".ico", ".tga", ".icb", ".vda", ".vst",
    ".ppm", ".pgm", ".pbm", ".pnm", ".pfm", ".qoi", ".pcx", ".sgi", ".rgb", ".rgba", ".bw",
    ".dds", ".icns", ".jp2", ".j2k", ".j2c", ".jpc", ".jpf", ".jpx",
)  # fmt: skip
# Formats whose pixels are stored exactly: the "original" preset keeps them lossless (as PNG).
LOSSLESS = ("PNG", "GIF", "TIFF", "BMP", "ICO", "TGA", "PPM", "QOI", "PCX", "SGI", "ICNS")

_HEIF_BRANDS = {
    b"heic",
    b"heix",
    b"hevc",
    b"hevx",
    b"heim",
    b"heis",
    b"hevm",
    b"hevs",
    b"mif1",
    b"msf1",
}
_AVIF_BRANDS = {b"avif", b"avis"}


# Signatures at the start of the file: these before an ISO media ``ftyp`` box at byte 4 …
_FIRST: tuple[tuple[tuple[bytes, ...], str], ...] = (
    ((b"\xff\xd8\xff",), "JPEG"),
    ((b"\x89PNG\r\n\x1a\n",), "PNG"),
    ((b"GIF87a", b"GIF89a"), "GIF"),
    ((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), "TIFF"),
)
# … and these after it, in the order they are tried
_THEN: tuple[tuple[tuple[bytes, ...], str], ...] = (
    ((b"%PDF",), "PDF"),
    ((b"%!PS", b"\xc5\xd0\xd3\xc6"), "EPS/PostScript"),
    ((b"8BPS",), "PSD"),
    ((b"BLP1", b"BLP2"), "BLP"),
    ((b"SIMPLE  =",), "FITS"),
    ((b"BM",), "BMP"),
    ((b"\x00\x00\x01\x00",), "ICO"),
    ((b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51"), "JPEG2000"),
    ((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n"), "JPEG XL"),
    ((b"gimp xcf",), "XCF (GIMP document)"),
    ((b"\x76\x2f\x31\x01",), "OpenEXR"),
    ((b"#?RADIANCE", b"#?RGBE"), "Radiance HDR"),
    # accepted formats Pillow alone knows: in this table too, so that a file of theirs cut
    # short (which Pillow's opener then refuses) is called damaged, not "not an image"
    ((b"icns",), "ICNS"),
    ((b"DDS ",), "DDS"),
    ((b"qoif",), "QOI"),
)


def sniff(head: bytes) -> str | None:
    """The format named by the file's signature (allowed or not), or None if our table does
    not know it (``identify`` then asks the libraries)."""
    if name := _by_prefix(head, _FIRST):
        return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if name := _by_prefix(head, _THEN) or _by_header(head):
        return name
    if head[_XML_PROLOGUE.match(head).end() :].lower().startswith(b"<svg"):
        return "SVG"  # the root element, after whatever XML allows before it
    return None


# what may come before an XML document's root element: a byte-order mark, white space, the XML
# declaration, comments (an icon set's licence), a DOCTYPE and processing instructions
_XML_PROLOGUE = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*",
    re.S | re.I,
)


def _by_prefix(head: bytes, table: tuple[tuple[tuple[bytes, ...], str], ...]) -> str | None:
    return next((name for prefixes, name in table if head.startswith(prefixes)), None)


# a Netpbm header's fields (width, height, largest value) and what may follow the last one
# read when the file ends: white space and "#" comments
_NETPBM_FIELD = re.compile(rb"(?:\s|#[^\n]*\n)+\d+")
_NETPBM_REST = re.compile(rb"(?:\s|#[^\n]*(?:\n|\Z))*")


def _by_header(head: bytes) -> str | None:
    """PCX, SGI and Netpbm, whose signatures are too short to trust alone (a text file can
    start with "P1", a newline and a NUL can start anything): the fields after them must make
    sense too. Checked here, and not only by Pillow, so that a file cut inside its header or
    pixel data is called damaged rather than "not an image"."""
    return next((fmt for fmt, check in _HEADERS if check(head)), None)


def _pcx_header(head: bytes) -> bool:
    """Magic 10, a version Pillow reads, RLE encoding, bits per pixel; the picture's box if
    the head reaches it."""
    if len(head) < 4 or head[0] != 0x0A or head[1] not in (0, 2, 3, 5):
        return False
    if head[2] != 1 or head[3] not in (1, 2, 4, 8):
        return False
    x0, y0, x1, y1 = (int.from_bytes(head[i : i + 2], "little") for i in (4, 6, 8, 10))
    return len(head) < 12 or (x1 >= x0 and y1 >= y0)


def _sgi_header(head: bytes) -> bool:
    """Magic 474, storage (verbatim or RLE), bytes per channel (1 or 2)."""
    return len(head) >= 4 and head[:2] == b"\x01\xda" and head[2] in (0, 1) and head[3] in (1, 2)


def _netpbm(head: bytes) -> bool:
    """P1 … P6, then its header's fields (width, height and, but for bitmaps, the largest
    value)."""
    if head[:1] != b"P" or head[1:2] not in (b"1", b"2", b"3", b"4", b"5", b"6"):
        return False
    return _netpbm_header(head, fields=2 if head[1:2] in b"14" else 3)


def _netpbm_header(head: bytes, fields: int) -> bool:
    """A whole Netpbm header (pixels or the end of the file next), or one cut short."""
    at = 2
    for _ in range(fields):
        m = _NETPBM_FIELD.match(head, at)
        if m is None:  # cut inside the header, or not Netpbm at all
            started = head[2:3].isspace() or head[2:3] == b"#"
            return started and _NETPBM_REST.fullmatch(head, at) is not None
        at = m.end()
    return at == len(head) or head[at : at + 1].isspace()


_HEADERS = (("PCX", _pcx_header), ("SGI", _sgi_header), ("PPM", _netpbm))


def _iso_media(head: bytes) -> str:
    """An ISO base media file (``ftyp`` box): AVIF, HEIF or a video, by its brands."""
    box_len = int.from_bytes(head[:4], "big")
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(box_len, len(head)) - 3, 4)}
    if brands & _AVIF_BRANDS:
        return "AVIF"
    if brands & _HEIF_BRANDS:
        return "HEIF"
    return "MP4/QuickTime video"


def identify(path: Path, head: bytes) -> str | None:
    """The format of the file at ``path`` (``head``: its first bytes), or None when neither our
    table, nor Pillow, nor libvips recognises it."""
    return sniff(head) or pillow_format(path, head) or libvips_format(path)


def pillow_format(path: Path, head: bytes) -> str | None:
    """The format a Pillow plugin recognises, from its signature check and header parser only
    (no pixel is decoded; the size is not judged here, so a huge image is still named)."""
    Image.init()
    # plugins with a signature check first: a lenient header parser (TGA has no signature)
    # must not claim a file another plugin knows by its signature
    plugins = sorted(Image.ID, key=lambda fmt: Image.OPEN[fmt][1] is None)
    with warnings.catch_warnings(record=True) as caught, open(path, "rb") as f:
        warnings.simplefilter("always")
        for fmt in plugins:
            factory, accept = Image.OPEN[fmt]
            if accept is not None and not accept(head):
                continue
            f.seek(0)
            try:
                im = factory(f, str(path))
            except Exception:  # this plugin does not recognise it (or cannot parse it)
                continue
            name = im.format or fmt
            im.close()
            for w in caught:
                log.info("%s: Pillow (%s): %s", path, name, w.message)
            return name
    return None


# libvips's loaders (by class name) and the formats they read; loaders of things that are not
# pictures (CSV and matrix text, raw bytes) are no evidence that a file is an image.
_LIBVIPS_LOADERS = {
    "Jpeg": "JPEG",
    "Uhdr": "JPEG",
    "Png": "PNG",
    "Webp": "WEBP",
    "Tiff": "TIFF",
    "Gif": "GIF",
    "Heif": "HEIF",
    "Svg": "SVG",
    "Jp2k": "JPEG2000",
    "Jxl": "JPEG XL",
    "Ppm": "PPM",
    "Pdf": "PDF",
    "Magick": "ImageMagick-readable file",
    "Fits": "FITS",
    "Openexr": "OpenEXR",
    "Rad": "Radiance HDR",
    "Vips": "VIPS",
}


def libvips_format(path: Path) -> str | None:
    """The format libvips's loaders recognise in the file's bytes, or None."""
    from desktop_uploader.pipeline import libvips_decoder

    loader = libvips_decoder.find_loader(path)
    if loader is None:
        return None
    for key, fmt in _LIBVIPS_LOADERS.items():
        if loader.startswith(f"VipsForeignLoad{key}"):
            return fmt
    return None


def webp_is_lossless(path: Path) -> bool:
    """Whether a WebP file's pixels are stored exactly: every image chunk, of a still or of
    each animation frame, is VP8L (lossless) and none is VP8 (lossy). Reads chunk headers only."""
    kinds: set[bytes] = set()
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
            return False
        end = 8 + int.from_bytes(head[4:8], "little")
        _webp_chunk_kinds(f, 12, end, kinds)
    return b"VP8L" in kinds and b"VP8 " not in kinds


def _webp_chunk_kinds(f, start: int, end: int, kinds: set[bytes]) -> None:
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        header = f.read(8)
        if len(header) < 8:
            return
        kind, length = header[:4], int.from_bytes(header[4:8], "little")
        kinds.add(kind)
        if kind == b"ANMF":  # a frame: 16 bytes of placement and timing, then its own chunks
            _webp_chunk_kinds(f, pos + 8 + 16, min(pos + 8 + length, end), kinds)
        pos += 8 + length + (length & 1)
