"""The only way the app writes an image: what any encoder may put into a file is decided here.

Pillow's encoders do not write only what they are given. They fall back to the image object:
JPEG writes ``info["comment"]``, PNG, TIFF and AVIF write ``info["icc_profile"]``, GIF copies all
of ``info`` (comments, XMP application blocks), TIFF copies XMP, IPTC and Photoshop tags from a
decoded TIFF's ``tag_v2``, and an ``encoderinfo`` left on an image overrides the arguments of
the next save. So every encode here starts from a bare image (a decoder's own image object is
copied into a plain one; ``info`` and ``encoderinfo`` emptied) and passes only options from an
allow-list per format. The one piece of colour data that may be added is our own standard sRGB
profile, never the source's (a profile can carry data).

libvips never encodes in this app: it only resamples pixels (``resample``), which come back as a
plain Pillow image and are encoded here.

Every file written is then checked by ``metadata_audit`` (an independent walk of the output's own
structure); anything but pixels and the sRGB profile fails the job instead of being uploaded.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import IO

from PIL import Image, ImageCms

from desktop_uploader.pipeline import metadata_audit
from desktop_uploader.pipeline.intake import open_regular

SRGB_ICC: bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

# What each encoder may be told. Everything else (exif, xmp, comment, pnginfo, tiffinfo, dpi,
# extra, a source's icc_profile, …) is refused as a bug: it is how metadata gets written.
OPTIONS: dict[str, frozenset[str]] = {
    "WEBP": frozenset({"quality", "method", "lossless", "exact", "alpha_quality"}),
    "JPEG": frozenset({"quality", "subsampling", "optimize", "progressive"}),
    "PNG": frozenset({"compress_level", "optimize"}),
    "TIFF": frozenset({"compression"}),
    "AVIF": frozenset({"quality", "speed", "subsampling"}),
    "GIF": frozenset({"optimize", "disposal"}),
}
# an animation's timeline and canvas (per-frame durations, plays, the canvas colour the
# player starts from): how to show the pixels, nothing about the picture's origin
_ANIMATION = frozenset({"save_all", "append_images", "duration", "loop", "background"})
_ANIMATED = {"WEBP", "PNG", "GIF", "AVIF"}


def encode(
    img: Image.Image, fmt: str, options: dict, out: Path | IO[bytes], srgb_icc: bool = False
) -> None:
    """Write ``img`` (and ``options["append_images"]``, for animations) as ``fmt`` to ``out``:
    pixels only, plus the standard sRGB profile when ``srgb_icc``. Raises ``ValueError`` for an
    option outside the format's allow-list."""
    allowed = OPTIONS[fmt] | (_ANIMATION if fmt in _ANIMATED else frozenset())
    refused = set(options) - allowed
    if refused:
        raise ValueError(f"{fmt} encoder option(s) {sorted(refused)} are not allowed")
    params = dict(options)
    if "append_images" in params:
        params["append_images"] = [_bare(f) for f in params["append_images"]]
    if srgb_icc:
        params["icc_profile"] = SRGB_ICC
    _bare(img).save(out, fmt, **params)


def _bare(img: Image.Image) -> Image.Image:
    """``img`` with nothing but pixels for an encoder to fall back on."""
    if type(img) is not Image.Image:  # a decoder's object: keeps the file's tags and state
        img = img.copy()
    img.info = {}
    img.__dict__.pop("encoderinfo", None)
    return img


class Spooled:
    """A file in the spool: where, its SHA-256 and size."""

    __slots__ = ("path", "sha256", "bytes")

    def __init__(self, path: Path, sha256: str, size: int) -> None:
        self.path, self.sha256, self.bytes = path, sha256, size


def spool_image(
    img: Image.Image,
    fmt: str,
    ext: str,
    options: dict,
    spool_dir: Path,
    srgb_icc: bool = False,
) -> Spooled:
    """Encode ``img`` into the spool (see ``encode``), audit it, name it by its SHA-256.

    Encoded straight to a file (big originals never sit in memory twice). One spool file per
    encode: two jobs may make the same bytes and finish at different times."""
    tmp = _tmp_path(spool_dir, ext)
    try:
        encode(img, fmt, options, tmp, srgb_icc)
        return _finish(tmp, fmt, ext, srgb_icc, spool_dir)
    finally:
        tmp.unlink(missing_ok=True)


def spool_bytes(data: bytes, fmt: str, ext: str, spool_dir: Path, srgb_icc: bool) -> Spooled:
    """Spool bytes made without an encoder (the lossless JPEG rewrite), audited the same way."""
    tmp = _tmp_path(spool_dir, ext)
    try:
        tmp.write_bytes(data)
        return _finish(tmp, fmt, ext, srgb_icc, spool_dir)
    finally:
        tmp.unlink(missing_ok=True)


def _tmp_path(spool_dir: Path, ext: str) -> Path:
    spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return spool_dir / f".encoding-{uuid.uuid4().hex}.{ext}"


def _finish(tmp: Path, fmt: str, ext: str, srgb_icc: bool, spool_dir: Path) -> Spooled:
    metadata_audit.check_file(tmp, fmt, SRGB_ICC if srgb_icc else None)
    digest, size = file_sha256(tmp)
    out = spool_dir / f"{digest}-{uuid.uuid4().hex[:8]}.{ext}"
    tmp.rename(out)
    return Spooled(out, digest, size)


def file_sha256(path: Path, chunk: int = 1 << 20) -> tuple[str, int]:
    """SHA-256 and size of a file, streamed."""
    h = hashlib.sha256()
    size = 0
    with open_regular(path) as f:  # also reads users' files: never waits on a FIFO
        while block := f.read(chunk):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size
