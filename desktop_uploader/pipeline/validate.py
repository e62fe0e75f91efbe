"""Validate stage: is this file an image we accept, judged from its bytes, within our limits?

Type comes from the file's first bytes, never its name. Only allow-listed formats are opened, and
Pillow is told to try only the sniffed one. Pixel limits are checked from headers before any
decode, for every frame, and Pillow's own decompression-bomb warning is an error here.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from desktop_uploader.config import Limits
from desktop_uploader.errors import Rejected
from desktop_uploader.format_names import ALLOWED, display_name
from desktop_uploader.pipeline import libvips_decoder
from desktop_uploader.pipeline.boundary import raised_in
from desktop_uploader.pipeline.formats import identify, sniff
from desktop_uploader.pipeline.intake import not_regular, open_regular, unreadable
from desktop_uploader.pipeline.structure import inspect_bytes

__all__ = ["ALLOWED", "Probe", "check_file", "probe", "register_openers", "sniff"]

log = logging.getLogger(__name__)

# A bomb warning must stop the job, not scroll past in a log.
warnings.simplefilter("error", Image.DecompressionBombWarning)

_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        # pi-heif: pillow-heif's decode-only twin (same API), without the x265 encoder that
        # made pillow-heif 27 MB of the frozen app against 4 MB (docs/packaging.md)
        import pi_heif

        pi_heif.register_heif_opener()
        _heif_registered = True


def register_openers() -> None:
    """Register the optional openers (HEIF/AVIF) now rather than on the first such file."""
    _register_heif()


_NOT_ALLOWED_WHY = {
    "SVG": "SVG images are not accepted: they can carry scripts that run in viewers' browsers.",
    "PDF": "PDF documents are not accepted; export the page as PNG or JPEG first.",
    "EPS/PostScript": "EPS/PostScript files are not accepted: opening them runs a PostScript "
    "interpreter.",
    "PSD": "Photoshop documents (PSD) are not accepted; export the picture as PNG or JPEG first.",
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
    # which library reads it: "pillow", or "libvips" for files Pillow cannot read
    decoder: str = "pillow"


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


def _accepted(limits: Limits) -> str:
    return ", ".join(display_name(f) for f in limits.formats) or "none"


def _allowed_format(path: Path, head: bytes, limits: Limits) -> str:
    """The format from the bytes, if it is on the allow-list (an animated WebP's canvas is
    checked against the pixel limit before Pillow allocates it); else ``Rejected``."""
    fmt = identify(path, head)
    if fmt is None:
        raise Rejected(
            "This is not an image: its contents match no known image format, whatever its "
            "name says.",
            code="not_an_image",
        )
    if fmt not in ALLOWED:
        why = _NOT_ALLOWED_WHY.get(fmt) or (
            f"{display_name(fmt)} files are not accepted. Accepted formats: {_accepted(limits)}."
        )
        raise Rejected(why, code="format_not_allowed")
    if fmt not in limits.formats:  # one the app reads, turned off in the settings
        raise Rejected(
            f"{display_name(fmt)} files are turned off in the settings ([limits] formats). "
            f"Accepted formats: {_accepted(limits)}.",
            code="format_not_allowed",
        )
    if fmt == "WEBP" and head[12:16] == b"VP8X":
        # Pillow's animated-WebP decoder allocates the whole canvas when the file is opened:
        # check the canvas size from the header first.
        canvas = (
            int.from_bytes(head[24:27], "little") + 1,
            int.from_bytes(head[27:30], "little") + 1,
        )
        _check_pixels(*canvas, limits, frame=None)
    return fmt


def probe(path: Path, limits: Limits) -> Probe:
    """Check ``path`` against the allow-list and limits from its headers; raise ``Rejected``.

    The format comes from the bytes (``formats.identify``). Pillow reads the headers; when it
    cannot, libvips is asked (for the formats it reads), and the file is "damaged" only when
    neither can read it."""
    _size, head = _read_head(path, limits)
    _register_heif()  # every opener, so identification knows every format
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    fmt = _allowed_format(path, head, limits)
    warnings_ = _check_structure(path, fmt)
    try:
        return _pillow_probe(path, fmt, limits, warnings_)
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
    except ValueError as e:
        if "too large" not in str(e).lower():
            pillow_said = said(e)
        else:  # PNG text/ICC chunks that inflate past Pillow's cap: never read around it
            raise Rejected(
                "The image carries a compressed metadata block that inflates to an unsafe size "
                "(a zlib bomb).",
                code="metadata_bomb",
            ) from None
    except MemoryError:
        raise
    except Exception as e:  # whatever Pillow raises on a file it cannot read: ask libvips
        if raised_in(e) is None or (isinstance(e, OSError) and e.errno is not None):
            raise  # our own bug, or the file system: pipeline/boundary.py says which
        pillow_said = said(e)
    try:
        return _libvips_probe(path, fmt, limits, warnings_)
    except libvips_decoder.VipsFailed as e:
        raise damaged(fmt, pillow_said, str(e), path) from None


def _pillow_probe(path: Path, fmt: str, limits: Limits, warnings_: tuple[str, ...]) -> Probe:
    with Image.open(path, formats=[fmt]) as im:
        width, height = im.size
        _check_pixels(width, height, limits, frame=None)
        try:
            frames = _check_frames(im, width, height, limits)
        except (Rejected, MemoryError, Image.DecompressionBombError):
            raise
        except Exception as e:
            # the first frame is readable, a later one is not: a damaged animation or page
            # list is reported, never cut down to its first frame by the second decoder
            raise later_frames_damaged(fmt, said(e), path) from None
        had_gps = _has_gps(im)
    return Probe(fmt, width, height, frames, had_gps, warnings_)


def _check_frames(im: Image.Image, width: int, height: int, limits: Limits) -> int:
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
    return frames


def _libvips_probe(path: Path, fmt: str, limits: Limits, warnings_: tuple[str, ...]) -> Probe:
    """Pillow could not read the headers; libvips can: its first page is what is processed."""
    if not libvips_decoder.can_decode(fmt):
        raise libvips_decoder.VipsFailed("libvips does not read this format here")
    h = libvips_decoder.header(path, fmt)
    _check_pixels(h.width, h.height, limits, frame=None)
    log.info("%s: Pillow cannot read this %s; libvips can and decodes it", path, fmt)
    return Probe(fmt, h.width, h.height, 1, h.had_gps, warnings_, decoder="libvips")


_TRUNCATED = (
    "truncat",
    "premature end",
    "unexpected end",
    "end of file",
    "read error",
    "not enough image data",
)


def ends_early(*said_: str) -> bool:
    """Whether what a decoder said means the data ends before the picture does."""
    return any(w in " ".join(said_).lower() for w in _TRUNCATED)


def damaged(fmt: str, pillow_said: str, vips_said: str | None, path: Path) -> Rejected:
    """The rejection for a file the decoders cannot read (``truncated`` when one says the data
    ends early, else ``corrupt``); what they said goes to the log. ``vips_said`` None: only
    Pillow was asked (an animation, which libvips does not decode for us)."""
    if vips_said is None:
        log.warning("%s: Pillow cannot decode this %s: %s", path, fmt, pillow_said)
    else:
        log.warning(
            "%s: neither decoder reads this %s: Pillow: %s; libvips: %s",
            path,
            fmt,
            pillow_said,
            vips_said,
        )
    name = display_name(fmt)
    # two decoders tried, or Pillow the only one (for this format, or for animations)
    two = vips_said is not None and libvips_decoder.can_decode(fmt)
    log_note = "(what they said is in the log)" if two else "(what it said is in the log)"
    how = "neither image decoder could read it" if two else "the image decoder could not read it"
    if ends_early(pillow_said, vips_said or ""):
        return Rejected(
            f"The {name} image ends early (the file is truncated or still being written): "
            f"{how} {log_note}.",
            code="truncated",
        )
    if fmt == "TIFF" and "cannot identify" in pillow_said:
        # TIFF is a container of many kinds (sample formats, layouts, compressions); one Pillow
        # does not know at all and libvips cannot read either (a scientific TIFF of 64-bit float
        # samples, say) may well be valid, so "damaged" is not said for sure
        return Rejected(
            "The TIFF file cannot be read: it is damaged, or a kind of TIFF neither image "
            f"decoder supports {log_note}.",
            code="corrupt",
        )
    return Rejected(f"The {name} image is damaged: {how} {log_note}.", code="corrupt")


def later_frames_damaged(fmt: str, pillow_said: str, path: Path) -> Rejected:
    """The rejection for a file whose first frame or page reads and a later one does not; what
    Pillow said goes to the log (people read plain words, not a library's exceptions)."""
    log.warning("%s: a later frame or page of this %s cannot be read: %s", path, fmt, pillow_said)
    name = display_name(fmt)
    if ends_early(pillow_said):
        return Rejected(
            f"The {name} file ends early (it is truncated or still being written): its first "
            "frame or page can be read, a later one is cut off (what the decoder said is in the "
            "log).",
            code="truncated",
        )
    return Rejected(
        f"The {name} file is damaged: its first frame or page can be read, a later one cannot "
        "(what the decoder said is in the log).",
        code="corrupt",
    )


def said(e: BaseException) -> str:
    """What a decoder said, in one short line."""
    text = " ".join(str(e).split())[:300]
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


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
