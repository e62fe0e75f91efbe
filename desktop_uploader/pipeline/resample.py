"""Lanczos downscaling: libvips's reducer when it is installed, else Pillow's.

Pillow's Lanczos resampler is plain C; libvips (the library sharp is built on) has vectorised
reducers that give the same image about three times faster (a 12-MP photo to 2048 px: ~45 ms
instead of ~150 ms of CPU, same output bytes and SSIM after WebP encoding; see
``docs/benchmarks.md``). It is used only where the two agree exactly in meaning: 8-bit images
without an alpha channel (Pillow premultiplies alpha while it resamples, libvips does not), and
only when the result has exactly the size asked for, and only for images up to 40 MP when
the pixels are already decoded (the copy into libvips would cost too much memory for more).
Everything else goes through Pillow.

libvips runs with one thread here: the callers are the decoder worker processes, one per
core, so a second thread per worker would only compete with the other worker. Only while the
other worker has nothing to do (one image dropped: ``threads``) does it get more.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from PIL import Image

log = logging.getLogger(__name__)

_VIPS_MODES = {"RGB": 3, "L": 1}
# Handing decoded pixels to libvips copies them (Pillow keeps RGB as 4 bytes a pixel, libvips
# wants 3). Above this size the copy would cost more memory than the speed is worth: a 100-MP
# PNG would need 300 MB more at its peak (bench/memory.py), so Pillow resamples those.
COPY_MAX_PIXELS = 40_000_000
_vips = None  # the pyvips module once loaded; False when it is unavailable or turned off


def target_size(width: int, height: int, max_size: int) -> tuple[int, int]:
    """Fit inside ``max_size`` on the longest side, keeping the aspect ratio; never upscale."""
    longest = max(width, height)
    if max_size <= 0 or longest <= max_size:  # 0: full resolution
        return width, height
    scale = max_size / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _load_vips():
    global _vips
    if _vips is None:
        _vips = False
        if os.environ.get("DESKTOP_UPLOADER_RESAMPLER", "").lower() != "pillow":
            try:
                import pyvips

                pyvips.cache_set_max(0)  # every image is seen once; a cache only holds memory
                pyvips.concurrency_set(1)
                _vips = pyvips
            except Exception as e:  # not installed, or libvips failed to load
                log.debug("libvips unavailable, Pillow resamples: %s", e)
    return _vips


def backend() -> str:
    """``"libvips"`` or ``"pillow"``: which resampler ``lanczos`` uses for photos."""
    return "libvips" if _load_vips() else "pillow"


def jpeg_lanczos(path, mode: str, src_size: tuple[int, int], size: tuple[int, int]):
    """Decode the JPEG at ``path`` and Lanczos-resize it to ``size`` in one libvips pass.

    This is for the common case of a photo reduced by less than 2x, where no DCT-domain shortcut
    applies: handing libvips the file saves copying the full-size pixels out of Pillow (~40 ms
    for 12 MP). Returns ``None`` whenever libvips is unavailable or sees anything unusual (any
    libjpeg warning, a different size or band count than Pillow read from the header): the
    caller then decodes with Pillow, whose checks and error messages stay the reference.
    """
    bands = _VIPS_MODES.get(mode)
    vips = _load_vips() if bands else None
    if not vips or not (size[0] < src_size[0] and size[1] < src_size[1]):
        return None
    try:
        src = vips.Image.jpegload(str(path), access="sequential", fail_on="warning")
        if (src.width, src.height) != src_size or src.bands != bands or src.format != "uchar":
            return None
        return _resized(src, mode, size)
    except vips.Error as e:  # decoding is lazy: a damaged file fails here
        log.debug("libvips could not decode %s, Pillow will: %s", path, e)
        return None


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """libvips may use ``n`` threads inside this block (one otherwise): for a worker whose
    sibling is idle. libvips's thread count is per process, and a worker runs one call at a
    time."""
    vips = _load_vips() if n > 1 else None
    if not vips:
        yield
        return
    vips.concurrency_set(n)
    try:
        yield
    finally:
        vips.concurrency_set(1)


def warm_up() -> None:
    """Load libvips and start its thread now (before a worker caps its address space)."""
    if _load_vips():
        lanczos(Image.new("RGB", (64, 48)), (32, 24))


def lanczos(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``im`` resized to ``size`` with a Lanczos-3 kernel (downscaling, as Pillow's LANCZOS)."""
    bands = _VIPS_MODES.get(im.mode)
    vips = _load_vips() if bands and im.width * im.height <= COPY_MAX_PIXELS else None
    if vips and size[0] < im.width and size[1] < im.height:
        try:
            src = vips.Image.new_from_memory(im.tobytes(), im.width, im.height, bands, "uchar")
            out = _resized(src, im.mode, size)
            if out is not None:
                return out
        except vips.Error as e:  # pragma: no cover - libvips refused: Pillow still can
            log.debug("libvips resize failed, using Pillow: %s", e)
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _resized(src, mode: str, size: tuple[int, int]) -> Image.Image | None:
    """The libvips image ``src`` Lanczos-resized to exactly ``size`` as a Pillow image, or
    None when libvips's rounding gives another size."""
    out = src.resize(size[0] / src.width, vscale=size[1] / src.height, kernel="lanczos3")
    if (out.width, out.height) != size:
        return None
    return Image.frombytes(mode, size, out.write_to_memory())
