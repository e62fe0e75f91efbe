"""libvips as the second decoder, for files Pillow cannot read.

Pillow is the first decoder (its checks and messages are the reference). Some valid files it
does not read are common enough to matter: a 16-bit CIELab LZW TIFF from a scanner, TIFFs with
layouts Pillow's reader does not know. libvips (the library sharp is built on; pyvips-binary
ships it) reads those. It is asked only for the formats it shares with the allow-list (JPEG,
PNG, WebP, TIFF, GIF, HEIF/AVIF), only after the file's format was identified from its bytes,
and it must agree on that format: its SVG loader, for one, is never reached.

Files are opened as sources, never by file name: libvips reads ``name[options]`` in a file
name as load options, and users' file names may hold brackets. Loaders libvips marks untrusted
are blocked. Decoding fails on the first decoder error (``fail_on="error"``): a truncated file
is reported, not filled with grey.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from desktop_uploader.pipeline.resample import target_size

log = logging.getLogger(__name__)

# The formats libvips may decode in place of Pillow, by the class names of its loaders.
_LOADERS = {
    "JPEG": ("VipsForeignLoadJpeg", "VipsForeignLoadUhdr"),
    "PNG": ("VipsForeignLoadPng", "VipsForeignLoadSpng"),
    "WEBP": ("VipsForeignLoadWebp",),
    "TIFF": ("VipsForeignLoadTiff",),
    "GIF": ("VipsForeignLoadNsgif", "VipsForeignLoadGif"),
    "HEIF": ("VipsForeignLoadHeif",),
    "AVIF": ("VipsForeignLoadHeif",),
}
_vips = None


class VipsFailed(Exception):  # noqa: N818 - what libvips said, for the user's message and log
    """libvips could not read the file (its message in ``str()``)."""


def _load():
    """pyvips, set up once: no cache (every file is seen once), one thread per worker, and
    untrusted loaders blocked. None when libvips is unavailable."""
    global _vips
    if _vips is None:
        try:
            import pyvips

            pyvips.cache_set_max(0)
            pyvips.concurrency_set(1)
            if hasattr(pyvips, "block_untrusted_set"):
                pyvips.block_untrusted_set(True)
            _vips = pyvips
        except Exception as e:  # not installed, or libvips failed to load
            log.debug("libvips unavailable: %s", e)
            _vips = False
    return _vips


def can_decode(fmt: str) -> bool:
    """True if libvips is there and may decode ``fmt`` when Pillow cannot."""
    return fmt in _LOADERS and bool(_load())


def find_loader(path: Path) -> str | None:
    """The class name of the libvips loader that recognises the file's bytes, or None."""
    vips = _load()
    if not vips:
        return None
    try:
        source = vips.Source.new_from_file(str(path))
        pointer = vips.vips_lib.vips_foreign_find_load_source(source.pointer)
    except Exception:  # unreadable, or an older binding: no opinion
        return None
    if pointer == vips.ffi.NULL:
        vips.vips_lib.vips_error_clear()
        return None
    return vips.ffi.string(pointer).decode()


@dataclass(frozen=True)
class Header:
    width: int
    height: int
    pages: int
    had_gps: bool


def _open(path: Path, fmt: str, **options):
    vips = _load()
    if not vips or fmt not in _LOADERS:
        raise VipsFailed("libvips does not read this format here")
    loader = find_loader(path)
    if loader is None or not loader.startswith(_LOADERS[fmt]):
        raise VipsFailed(f"libvips does not recognise it as {fmt} (loader: {loader or 'none'})")
    try:
        source = vips.Source.new_from_file(str(path))
        return vips.Image.new_from_source(source, "", **options)
    except vips.Error as e:
        raise VipsFailed(_said(e)) from None


def header(path: Path, fmt: str) -> Header:
    """Size and page count from the headers only; raises ``VipsFailed``."""
    im = _open(path, fmt, access="sequential")
    fields = _fields(im)
    pages = im.get("n-pages") if "n-pages" in fields else 1
    gps = any(f.startswith("exif-ifd3-") for f in fields)
    return Header(im.width, im.height, max(1, int(pages)), gps)


def _fields(im) -> list[str]:
    """The image's metadata field names. pyvips decodes them as UTF-8 and raises
    ``UnicodeDecodeError`` on a damaged file's (a PNG text chunk keyword of stray bytes, found
    by tests/test_no_internal_error.py): that file is damaged, not our bug."""
    try:
        return im.get_fields()
    except UnicodeDecodeError as e:
        raise VipsFailed(f"unreadable metadata field names ({e.reason})") from None


def decode(path: Path, fmt: str, max_size: int) -> Image.Image:
    """The first page, oriented, in sRGB, 8 bits per sample, fitted into ``max_size`` (Lanczos,
    never enlarged; 0: full size), as a Pillow image in RGB or RGBA; raises ``VipsFailed``."""
    vips = _load()
    im = _open(path, fmt, access="sequential", fail_on="error")
    try:
        im = im.autorot()
        if "icc-profile-data" in _fields(im):
            # the embedded profile is applied, never copied (it can carry data)
            im = im.icc_transform("srgb", embedded=True, intent="relative")
        if im.interpretation != "srgb" or im.format != "uchar":
            im = im.colourspace("srgb")  # CIELab, 16-bit, grey, CMYK ... to 8-bit sRGB
        if im.format != "uchar":
            im = im.cast("uchar")
        if im.bands > 4:
            im = im.extract_band(0, n=4)
        size = target_size(im.width, im.height, max_size)
        if (im.width, im.height) != size:
            im = im.resize(size[0] / im.width, vscale=size[1] / im.height, kernel="lanczos3")
        mode = "RGBA" if im.bands == 4 else "RGB"
        data = im.write_to_memory()  # decoding happens here: a damaged file fails here
    except vips.Error as e:
        raise VipsFailed(_said(e)) from None
    out = Image.frombytes(mode, (im.width, im.height), data)
    if out.size != size:  # libvips's rounding: one pixel off at most
        out = out.resize(size, Image.Resampling.LANCZOS)
    return out


def _said(e: Exception) -> str:
    """libvips's message in one line, without its internal prefixes."""
    text = " ".join(str(getattr(e, "detail", "") or e).split())
    return text[:300] or type(e).__name__
