"""A generated corpus of every image format users bring, written with Pillow or libvips (nothing
committed), with what the app must make of each: converted (``done``), or refused as
``format_not_allowed`` with the format named in the reason.

Every accepted picture shows a known colour in a known place, so a decoder that swaps channels
or flips rows is caught, not only one that fails.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

from imagegen import heic_bytes
from PIL import Image, ImageDraw

GROUND = (200, 100, 50)  # the background colour
SPOT = (20, 120, 220)  # a disc in the left half
SIZE = (96, 64)


@dataclass(frozen=True)
class Sample:
    name: str
    data: bytes
    status: str  # done | rejected
    named: str | None = None  # rejected: the format's name the reason must give
    exact_colour: bool = True  # False for lossy or palette formats: colours are near


def picture(mode: str = "RGB") -> Image.Image:
    im = Image.new("RGB", SIZE, GROUND)
    ImageDraw.Draw(im).ellipse((8, 8, 48, 56), fill=SPOT)
    return im.convert(mode) if mode != "RGB" else im


def saved(im: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():  # writing old formats (IM) is deprecated in Pillow
        warnings.simplefilter("ignore", DeprecationWarning)
        im.save(buf, fmt, **options)
    return buf.getvalue()


def grey16() -> Image.Image:
    """The picture in 16-bit grey, using the whole 16-bit range."""
    return picture("L").point(lambda v: v * 257, "I").convert("I;16")


def psd_bytes() -> bytes:
    """A minimal valid Photoshop document (Pillow cannot write PSD): 2 × 2 RGB, raw data."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 2, 2, 8, 3)
    sections = struct.pack(">III", 0, 0, 0)  # colour mode data, resources, layers: empty
    return header + sections + struct.pack(">H", 0) + bytes([200] * 4 + [100] * 4 + [50] * 4)


def _vips_picture():
    import pyvips

    return pyvips.Image.new_from_memory(picture().tobytes(), *SIZE, 3, "uchar").copy(
        interpretation="srgb"
    )


def lab16_tiff() -> bytes:
    """A 16-bit CIELab LZW TIFF (Pillow cannot read its headers; libvips can)."""
    return _vips_picture().colourspace("labs").tiffsave_buffer(compression="lzw")


def webp_tiff() -> bytes:
    """A WebP-compressed TIFF: Pillow reads its headers, but its libtiff cannot decode the
    pixels (and says so on stderr); libvips's can."""
    return _vips_picture().tiffsave_buffer(compression="webp", lossless=True)


def corpus() -> list[Sample]:
    """Every format of issue 15, each as a user would have it."""
    rgb, rgba = picture(), picture("RGBA")
    icon = picture().resize((64, 64))
    return [
        Sample("targa.tga", saved(rgb, "TGA"), "done"),
        Sample("targa-rle.tga", saved(rgb, "TGA", compression="tga_rle"), "done"),
        Sample("targa-alpha.tga", saved(rgba, "TGA"), "done"),
        Sample("netpbm.ppm", saved(rgb, "PPM"), "done"),
        Sample("netpbm.pgm", saved(picture("L"), "PPM"), "done"),
        Sample("netpbm.pbm", saved(picture("1"), "PPM"), "done", exact_colour=False),
        Sample("netpbm-16bit.pgm", saved(grey16(), "PPM"), "done"),
        Sample("quite-ok.qoi", saved(rgb, "QOI"), "done"),
        Sample("paintbrush.pcx", saved(rgb, "PCX"), "done"),
        Sample("silicon.sgi", saved(rgb, "SGI"), "done"),
        Sample("texture.dds", saved(rgba, "DDS"), "done"),
        Sample("dxt1.dds", saved(rgb, "DDS", pixel_format="DXT1"), "done", exact_colour=False),
        Sample("app.icns", saved(icon, "ICNS"), "done"),
        Sample("photo.jp2", saved(rgb, "JPEG2000"), "done", exact_colour=False),
        Sample("codestream.j2k", saved(rgb, "JPEG2000", no_jp2=True), "done", exact_colour=False),
        Sample("bitmap.bmp", saved(rgb, "BMP"), "done"),
        Sample("favicon.ico", saved(icon, "ICO"), "done"),
        Sample("scanner-lab16.tif", lab16_tiff(), "done", exact_colour=False),
        Sample("webp-compressed.tif", webp_tiff(), "done"),
        Sample("layers.psd", psd_bytes(), "rejected", "PSD"),
        Sample("vector.eps", saved(rgb, "EPS"), "rejected", "EPS"),
        Sample("page.pdf", saved(rgb, "PDF"), "rejected", "PDF"),
        Sample("blizzard.blp", saved(picture("P"), "BLP"), "rejected", "BLP"),
        Sample("paint.msp", saved(picture("1"), "MSP"), "rejected", "MSP"),
        Sample("cursor.xbm", saved(picture("1"), "XBM"), "rejected", "XBM"),
        Sample("ifunc.im", saved(rgb, "IM"), "rejected", "IM"),
        Sample("microscope.spi", saved(picture("F"), "SPIDER"), "rejected", "SPIDER"),
    ]


# -- cut short: damaged, never "not an image" --------------------------------------------------
# where a copy is cut: half the file, the first 128 bytes (the whole header of a DDS or PCX and
# nothing after it), 40, 12 and 8 bytes (a signature and little more: inside a Netpbm or SGI
# header) …
CUTS = ("half", 128, 40, 12, 8)
# … but for formats whose signature takes 12 bytes (JPEG 2000's box, RIFF's and ISO media's
# brand): cut there, no decoder can tell them from other files
SIGNATURE_OF_12 = (".jp2", ".webp", ".avif", ".heic")


def everyday() -> list[Sample]:
    """The formats most pictures come in, each saved whole."""
    rgb = picture()
    return [
        Sample("photo.jpg", saved(rgb, "JPEG", quality=90), "done", exact_colour=False),
        Sample("graphic.png", saved(rgb, "PNG"), "done"),
        Sample("anim.gif", saved(rgb, "GIF"), "done", exact_colour=False),
        Sample("web.webp", saved(rgb, "WEBP", quality=90), "done", exact_colour=False),
        Sample("phone.avif", saved(rgb, "AVIF", quality=60), "done", exact_colour=False),
        Sample("phone.heic", heic_bytes(rgb), "done", exact_colour=False),
    ]


def cut_short() -> list[Sample]:
    """Copies of every accepted format that has a signature (all but TGA), cut at each of
    ``CUTS``: each must be rejected as truncated or damaged (``status``, ``named``: the code)."""
    whole = [s for s in corpus() + everyday() if s.status == "done" and s.name[-4:] != ".tga"]
    out = []
    for s in whole:
        for cut in CUTS:
            end = len(s.data) // 2 if cut == "half" else cut
            if end < len(s.data) and not (cut == 8 and s.name.endswith(SIGNATURE_OF_12)):
                out.append(Sample(f"{cut}-{s.name}", s.data[:end], "rejected"))
    return out


# -- broken TIFFs: rejected with a reason, never an internal error ---------------------------
def _ifd(entries: list[tuple[int, int, int, int]], next_ifd: int) -> bytes:
    out = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<I", value) if kind == 4 else struct.pack("<HH", value, 0)
        out += struct.pack("<HHI", tag, kind, count) + packed
    return out + struct.pack("<I", next_ifd)


def tiff_missing_dimensions(truncated: bool = True) -> bytes:
    """A two-page grey TIFF whose second page has no ImageWidth (Pillow: ``TypeError: Missing
    dimensions``), cut short inside the first page's pixel data when ``truncated``."""
    pixels = bytes(range(0, 256, 16))  # 4 × 4
    first = [
        (256, 3, 1, 4),  # ImageWidth
        (257, 3, 1, 4),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: black is zero
        (273, 4, 1, 8),  # StripOffsets
        (278, 3, 1, 4),  # RowsPerStrip
        (279, 4, 1, 16),  # StripByteCounts
    ]
    second = [e for e in first if e[0] != 256]
    ifd1 = 8 + len(pixels)
    ifd2 = ifd1 + 2 + 12 * len(first) + 4
    data = b"II*\x00" + struct.pack("<I", ifd1) + pixels + _ifd(first, ifd2) + _ifd(second, 0)
    if truncated:  # the IFDs moved to the front, the pixel data cut off
        ifd1 = 8
        ifd2 = ifd1 + 2 + 12 * len(first) + 4
        offset = ifd2 + 2 + 12 * len(second) + 4
        first = [(t, k, c, offset if t == 273 else v) for t, k, c, v in first]
        second = [(t, k, c, offset if t == 273 else v) for t, k, c, v in second]
        data = b"II*\x00" + struct.pack("<I", ifd1) + _ifd(first, ifd2) + _ifd(second, 0)
        data += pixels[:5]
    return data


def tiff_without_any_width() -> bytes:
    """A one-page TIFF with no ImageWidth at all: no decoder can size it."""
    entries = [(257, 3, 1, 4), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1)]
    return b"II*\x00" + struct.pack("<I", 8) + _ifd(entries, 0)


def tiff_with_oversized_tag() -> bytes:
    """A readable 4 × 4 grey TIFF with an ImageDescription that claims more bytes than the
    file has: Pillow warns ("Tag data larger than file") and reads the picture."""
    pixels = bytes(range(0, 256, 16))
    entries = [
        (256, 3, 1, 4),
        (257, 3, 1, 4),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (270, 4, 50_000, 8),  # ImageDescription, as LONGs: 200,000 bytes
        (273, 4, 1, 8),
        (278, 3, 1, 4),
        (279, 4, 1, 16),
    ]
    return b"II*\x00" + struct.pack("<I", 8 + len(pixels)) + pixels + _ifd(entries, 0)
