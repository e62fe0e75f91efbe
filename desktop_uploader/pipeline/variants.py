"""Responsive variants: the preset's widths as WebP (and AVIF), the original's format as
fallback, and a tiny blur placeholder (LQIP) for the ``<picture>`` snippet.

Variants are made from the main rendition, never from the source: the main is our own encoder's
output (already oriented, sRGB, stripped, decoded safely in a worker), so nothing untrusted is
decoded in this process. Downscaling hides the one generation of WebP loss; the widest variant
is the main rendition itself.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from desktop_uploader.config import Preset
from desktop_uploader.pipeline.encode import encode
from desktop_uploader.pipeline.formats import LOSSLESS
from desktop_uploader.pipeline.process import Rendition, spool_encode

LQIP_SIZE = 16

# (PIL format, extension, content type, encoder options) per output kind
_FORMATS = {
    "webp": ("WEBP", "webp", "image/webp", {"quality": 80, "method": 4}),
    "avif": ("AVIF", "avif", "image/avif", {"quality": 60, "speed": 8}),
    "jpeg": ("JPEG", "jpg", "image/jpeg", {"quality": 85, "optimize": True, "progressive": True}),
    "png": ("PNG", "png", "image/png", {"compress_level": 6}),
}


@dataclass(frozen=True)
class Variant:
    """One responsive rendition: ``label`` (e.g. ``w480``) goes into its key."""

    rendition: Rendition
    label: str

    def record(self, key: str, url: str) -> dict:
        """What history and ``--json`` keep about it."""
        r = self.rendition
        return {
            "key": key,
            "url": url,
            "width": r.width,
            "height": r.height,
            "format": r.extension,
            "content_type": r.content_type,
            "bytes": r.bytes,
            "sha256": r.sha256,
        }


def fallback_format(source_format: str | None, has_alpha: bool) -> str:
    """The fallback keeps the original's family: PNG stays PNG (lossless, alpha), GIF and
    alpha images become PNG, everything else JPEG."""
    if has_alpha or source_format in LOSSLESS:
        return "png"
    return "jpeg"


def make_variants(
    preset: Preset, main: Rendition, spool_dir: Path, source_format: str | None = None
) -> list[Variant]:
    """The preset's responsive set from the spooled ``main`` rendition (empty without
    ``widths``). Widths wider than the main are dropped (never upscaled); the main's own width
    is always part of the set."""
    if not preset.widths or main.content_type != "image/webp":
        return []
    base = _still(main)
    if base is None:
        return []  # animations: the main rendition only
    alpha = base.mode == "RGBA"
    widths = sorted({w for w in preset.widths if 0 < w < base.width} | {base.width})
    kinds = ["webp"] + (["avif"] if preset.avif else [])
    out: list[Variant] = []
    for w in widths:
        out += _at_width(base, w, kinds, main, spool_dir)
    if preset.fallback:
        kind = fallback_format(source_format, alpha)
        img = base if kind == "png" or not alpha else base.convert("RGB")
        out.append(Variant(_encode(img, kind, spool_dir), f"w{base.width}"))
    return out


def _at_width(
    base: Image.Image, w: int, kinds: list[str], main: Rendition, spool_dir: Path
) -> list[Variant]:
    # width-bound, not longest-side: srcset widths are CSS widths
    size = (w, max(1, round(base.height * w / base.width))) if w < base.width else base.size
    img = base if size == base.size else base.resize(size, Image.Resampling.LANCZOS)
    out = []
    for kind in kinds:
        if kind == "webp" and w == base.width:
            out.append(Variant(main, f"w{w}"))  # the main rendition itself
            continue
        out.append(Variant(_encode(img, kind, spool_dir), f"w{w}"))
    return out


def _still(main: Rendition) -> Image.Image | None:
    """The main rendition's pixels; None for an animation."""
    with Image.open(main.path, formats=["WEBP"]) as im:
        if getattr(im, "n_frames", 1) > 1:
            return None
        im.load()
        return im.copy()


def lqip(main: Rendition) -> str | None:
    """A ~16-px WebP of the image as a ``data:`` URI (a few hundred bytes), for a blurred
    placeholder while the real image loads."""
    try:
        with Image.open(main.path, formats=["WEBP", "JPEG", "PNG"]) as im:
            im.draft("RGB", (LQIP_SIZE, LQIP_SIZE))
            small = im.convert("RGBA" if im.mode in ("RGBA", "LA", "P") else "RGB")
            small.thumbnail((LQIP_SIZE, LQIP_SIZE), Image.Resampling.BOX)
    except OSError:
        return None
    buf = io.BytesIO()
    encode(small, "WEBP", {"quality": 30, "method": 6}, buf)
    return "data:image/webp;base64," + base64.b64encode(buf.getvalue()).decode()


def _encode(img: Image.Image, kind: str, spool_dir: Path) -> Rendition:
    fmt, ext, ctype, options = _FORMATS[kind]
    return spool_encode(img, fmt, ext, ctype, options, spool_dir)  # pixels only
