"""Validate stage: is this file an image we accept, judged from its bytes, within our limits?

Type comes from the file's first bytes, never its name. Only allow-listed formats are opened, and
Pillow is told to try only the sniffed one. Pixel limits are checked from headers before any
decode, for every frame, and Pillow's own decompression-bomb warning is an error here.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from desktop_uploader.config import Limits
from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline.intake import not_regular, open_regular, unreadable
from desktop_uploader.pipeline.structure import inspect_bytes

# A bomb warning must stop the job, not scroll past in a log.
warnings.simplefilter("error", Image.DecompressionBombWarning)

ALLOWED = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "HEIF", "AVIF")
_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def register_openers() -> None:
    """Register the optional openers (HEIF/AVIF) now rather than on the first such file."""
    _register_heif()


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


def sniff(head: bytes) -> str | None:
    """Name of the format the bytes are in (allowed or not), or None if unrecognised."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        box_len = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(box_len, len(head)) - 3, 4)}
        if brands & _AVIF_BRANDS:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return "HEIF"
        return "MP4/QuickTime video"
    if head.startswith(b"%PDF"):
        return "PDF"
    if head.startswith((b"%!PS", b"\xc5\xd0\xd3\xc6")):
        return "EPS/PostScript"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"SIMPLE  ="):
        return "FITS"
    if head.startswith(b"BM"):
        return "BMP"
    if head.startswith(b"\x00\x00\x01\x00"):
        return "ICO"
    if head.startswith((b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51")):
        return "JPEG 2000"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml")) and b"<svg" in head.lower():
        return "SVG"
    return None


_NOT_ALLOWED_WHY = {
    "SVG": "SVG images are not accepted: they can carry scripts that run in viewers' browsers.",
    "PDF": "PDF documents are not accepted; export the page as PNG or JPEG first.",
    "EPS/PostScript": "EPS/PostScript files are not accepted: opening them runs a PostScript "
    "interpreter.",
}


@dataclass(frozen=True)
class Probe:
    """What validation learned about an accepted file."""

    format: str
    width: int
    height: int
    frames: int
    had_gps: bool
    # Things the user should hear about although the file was accepted (e.g. trailing data).
    warnings: tuple[str, ...] = ()


def _mp(pixels: int) -> str:
    return f"{pixels / 1e6:.0f} MP" if pixels >= 10e6 else f"{pixels / 1e6:.1f} MP"


def _human_bytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def check_file(path: Path, limits: Limits) -> int:
    """The checks that need no content: the file exists, is readable, not empty, not too
    large. Returns its size; raises ``Rejected``."""
    return _read_head(path, limits)[0]


def _read_head(path: Path, limits: Limits) -> tuple[int, bytes]:
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            raise not_regular(Path(path), st.st_mode)  # a FIFO or device is never opened
        size = st.st_size
        with open_regular(path) as f:
            head = f.read(4096)
    except OSError as e:
        raise unreadable(Path(path), e) from None
    if size == 0:
        raise Rejected("The file is empty (0 bytes).", code="empty")
    if size > limits.max_bytes:
        raise Rejected(
            f"The file is {_human_bytes(size)}; the limit is {_human_bytes(limits.max_bytes)}.",
            code="file_too_large",
        )
    return size, head


def probe(path: Path, limits: Limits) -> Probe:
    """Check ``path`` against the allow-list and limits from its headers; raise ``Rejected``."""
    _size, head = _read_head(path, limits)
    fmt = sniff(head)
    if fmt is None:
        raise Rejected(
            "This is not an image: its contents match no known image format, whatever its "
            "name says.",
            code="not_an_image",
        )
    if fmt not in ALLOWED:
        why = _NOT_ALLOWED_WHY.get(fmt) or (
            f"{fmt} files are not accepted. Accepted formats: {', '.join(ALLOWED)}."
        )
        raise Rejected(why, code="format_not_allowed")
    if fmt == "WEBP" and head[12:16] == b"VP8X":
        # Pillow's animated-WebP decoder allocates the whole canvas when the file is opened:
        # check the canvas size from the header first.
        canvas = (
            int.from_bytes(head[24:27], "little") + 1,
            int.from_bytes(head[27:30], "little") + 1,
        )
        _check_pixels(*canvas, limits, frame=None)
    warnings_ = _check_structure(path, fmt)
    if fmt == "HEIF":
        _register_heif()
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        with Image.open(path, formats=[fmt]) as im:
            width, height = im.size
            _check_pixels(width, height, limits, frame=None)
            frames = getattr(im, "n_frames", 1)
            if frames > limits.max_frames:
                raise Rejected(
                    f"The animation has {frames} frames; the limit is {limits.max_frames}.",
                    code="too_many_frames",
                )
            if frames * width * height > limits.max_pixels * 4:
                raise Rejected(
                    f"The animation's {frames} frames of {width} × {height} add up to too many "
                    "pixels to process safely.",
                    code="too_many_pixels",
                )
            if frames > 1:
                _check_every_frame(im, frames, limits)
            had_gps = _has_gps(im)
    except Rejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        # Pillow stops such files inside open(), before we see the size; its message has it.
        m = re.search(r"\((\d+) pixels\)", str(e))
        declared = f" ({_mp(int(m.group(1)))})" if m else ""
        raise Rejected(
            f"The image declares more pixels{declared} than the limit of "
            f"{_mp(limits.max_pixels)}. Files like this can exhaust memory "
            "(a decompression bomb).",
            code="too_many_pixels",
        ) from None
    except Image.UnidentifiedImageError:
        raise Rejected(
            f"The file starts like a {fmt} image but its header is damaged.", code="corrupt"
        ) from None
    except ValueError as e:
        if "too large" in str(e).lower():  # PNG text/ICC chunks that inflate past Pillow's cap
            raise Rejected(
                "The image carries a compressed metadata block that inflates to an unsafe size "
                "(a zlib bomb).",
                code="metadata_bomb",
            ) from None
        raise Rejected(f"The {fmt} image could not be read: {e}.", code="corrupt") from None
    except (OSError, SyntaxError, EOFError) as e:
        if "truncated" in str(e).lower():
            raise Rejected(
                f"The {fmt} image ends inside its header (the file is truncated).",
                code="truncated",
            ) from None
        raise Rejected(f"The {fmt} image could not be read: {e}.", code="corrupt") from None
    return Probe(fmt, width, height, frames, had_gps, warnings_)


def _check_structure(path: Path, fmt: str) -> tuple[str, ...]:
    """Reject polyglots; return a warning for harmless trailing data (see ``structure``)."""
    with open_regular(path) as f:
        found = inspect_bytes(f.read(), fmt)
    if found.active:
        where = "after the end of" if found.active_where == "after the image end" else "inside"
        raise Rejected(
            f"The file is an image with {found.active} hidden {where} it (a polyglot file, "
            "a way to smuggle code past upload filters); it was not uploaded.",
            code="polyglot",
        )
    if found.trailing:
        return (
            f"trailing_data: {_human_bytes(found.trailing)} after the end of the image "
            "were dropped (the uploaded copy is re-encoded from the pixels only).",
        )
    return ()


def _check_every_frame(im: Image.Image, frames: int, limits: Limits) -> None:
    """A bomb can hide in a later frame (GIF frames may grow the canvas; TIFF pages have
    their own size): look at every frame's declared size before anything decodes it."""
    for i in range(1, frames):
        im.seek(i)
        _check_pixels(*im.size, limits, frame=i)
    im.seek(0)


def _check_pixels(width: int, height: int, limits: Limits, frame: int | None) -> None:
    if width <= 0 or height <= 0:
        raise Rejected("The image has no pixels (zero width or height).", code="corrupt")
    if width * height > limits.max_pixels:
        where = f"Frame {frame + 1} is" if frame is not None else "The image is"
        raise Rejected(
            f"{where} {width} × {height} pixels ({_mp(width * height)}); the limit is "
            f"{_mp(limits.max_pixels)}. Files like this can exhaust memory "
            "(a decompression bomb).",
            code="too_many_pixels",
        )


def _has_gps(im: Image.Image) -> bool:
    try:
        exif = im.getexif()
        return bool(exif.get_ifd(0x8825))
    except Exception:  # malformed EXIF is not our problem here; it is dropped anyway
        return False
