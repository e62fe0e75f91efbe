"""Process stage: orient, drop every metadata block, convert to sRGB, resize, encode WebP.

Outputs are written to the spool folder under their SHA-256, so the upload stage streams them
from disk and a retry never re-encodes. Metadata is dropped by construction: every output is
encoded from pixels only by ``encode`` (which also audits it), or, for the ``original`` preset of
a JPEG, rewritten without its metadata segments and without re-encoding (``jpeg_lossless``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from desktop_uploader.config import Preset
from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline import jpeg_lossless, libvips_decoder, resample
from desktop_uploader.pipeline.animation import Timing
from desktop_uploader.pipeline.animation import load_animation as _load_animation
from desktop_uploader.pipeline.boundary import raised_in
from desktop_uploader.pipeline.colour import is_srgb_bytes as _is_srgb_bytes
from desktop_uploader.pipeline.colour import to_srgb as _to_srgb
from desktop_uploader.pipeline.encode import SRGB_ICC, file_sha256, spool_bytes, spool_image
from desktop_uploader.pipeline.formats import LOSSLESS, webp_is_lossless
from desktop_uploader.pipeline.overlap import Stopwatch, run_steps
from desktop_uploader.pipeline.resample import target_size
from desktop_uploader.pipeline.validate import Probe, damaged, said

# Decoded size for the content check and the thumbnail when the main output is not decoded
# pixels (the lossless JPEG copy): plenty for a 256-px thumbnail and NudeNet's 320-px input.
PREVIEW_SIZE = 1024
__all__ = ["ProcessedImage", "Rendition", "file_sha256", "process_image", "spool_encode"]


@dataclass(frozen=True)
class Rendition:
    """One encoded output, spooled on disk."""

    path: Path
    sha256: str
    bytes: int
    width: int
    height: int
    content_type: str = "image/webp"
    extension: str = "webp"


@dataclass(frozen=True)
class ProcessedImage:
    main: Rendition
    thumbnail: Rendition
    animated: bool

    def renditions(self) -> list[Rendition]:
        return [self.main, self.thumbnail]

    def to_records(self) -> list[dict]:
        """JSON-able description, for the journal's spool table."""
        out = []
        for role, r in (("main", self.main), ("thumbnail", self.thumbnail)):
            rec = {
                k: getattr(r, k)
                for k in ("sha256", "bytes", "width", "height", "content_type", "extension")
            }
            out.append(rec | {"role": role, "path": str(r.path), "animated": self.animated})
        return out

    @classmethod
    def from_records(cls, records: list[dict]) -> ProcessedImage | None:
        """Rebuild from ``to_records``; None unless every file is still there, byte-identical
        (re-hashed: a resume must never send bytes other than the ones it started with)."""
        by_role = {}
        for rec in records:
            p = Path(rec["path"])
            try:
                if p.stat().st_size != rec["bytes"] or file_sha256(p)[0] != rec["sha256"]:
                    return None
            except OSError:
                return None
            by_role[rec["role"]] = Rendition(
                p,
                rec["sha256"],
                rec["bytes"],
                rec["width"],
                rec["height"],
                rec.get("content_type", "image/webp"),
                rec.get("extension", "webp"),
            )
        if set(by_role) != {"main", "thumbnail"}:
            return None
        return cls(by_role["main"], by_role["thumbnail"], bool(records[0].get("animated")))


def process_image(
    path: Path,
    probe: Probe,
    preset: Preset,
    spool_dir: Path,
    inspect: Callable[[Image.Image], None] | None = None,
    threads: int = 1,
    watch: Stopwatch | None = None,
) -> ProcessedImage:
    """Turn the source at ``path`` into the preset's WebP and thumbnail; raise ``Rejected``.

    ``inspect`` sees the first frame's decoded, downscaled sRGB pixels (the content check runs
    there; it may raise ``Rejected``); it has ended before this returns, and when it raises,
    nothing encoded is left in the spool. ``threads`` > 1 (a core to spare): libvips decodes
    with that many threads, and the check, the main encode and the thumbnail run side by side
    (``overlap``). ``watch`` records each step's time."""
    watch = watch or Stopwatch()
    lossless = _wants_lossless_jpeg(probe, preset)
    # the lossless copy needs decoded pixels only for the content check and the thumbnail
    with watch("decode"), resample.threads(threads):
        frames, timing, orientation = _decode(
            path, probe, PREVIEW_SIZE if lossless else preset.max_size
        )
    thumb_src = frames[0].copy()  # before any encoder touches the frame's info

    def main() -> Rendition:
        with watch("encode_main"):
            return _main_output(path, probe, preset, spool_dir, frames, timing, orientation)

    def thumbnail() -> Rendition:
        with watch("thumbnail"):
            size = (preset.thumbnail_size, preset.thumbnail_size)
            thumb_src.thumbnail(size, Image.Resampling.LANCZOS)
            return _encode([thumb_src], None, preset.thumbnail_preset(), spool_dir)

    def check() -> None:
        if inspect is not None:
            with watch("content"):
                inspect(frames[0])

    main_out, thumb = run_steps(check, [main, thumbnail], lambda r: [r.path], together=threads > 1)
    return ProcessedImage(main_out, thumb, animated=len(frames) > 1)


def _main_output(
    path: Path,
    probe: Probe,
    preset: Preset,
    spool_dir: Path,
    frames: list[Image.Image],
    timing: Timing | None,
    orientation: int | None,
) -> Rendition:
    """The preset's main rendition from the decoded ``frames`` (or, for the lossless copy of
    a JPEG, from the file's own bytes)."""
    lossless = _wants_lossless_jpeg(probe, preset)
    # libvips decoded it (orientation None: Pillow cannot read it): no lossless copy then
    main = None
    if lossless and orientation is not None:
        main = _lossless_jpeg(path, orientation, preset, spool_dir)
    if main is not None:
        return main
    if lossless:  # not possible without re-encoding after all: decode all of it
        full, _, _ = _decode(path, probe, preset.max_size)
        return _encode(full, None, preset, spool_dir, probe.format)
    # under "original", a lossless source (an animated GIF or APNG, a VP8L WebP) that becomes a
    # WebP stays lossless (the WebP's chunks are read only then, not for every preset)
    exact = preset.format == "original" and (
        probe.format in LOSSLESS or (probe.format == "WEBP" and webp_is_lossless(path))
    )
    return _encode(frames, timing, preset, spool_dir, probe.format, exact)


def _decode(
    path: Path, probe: Probe, max_size: int
) -> tuple[list[Image.Image], Timing | None, int | None]:
    """Frames decoded, oriented, sRGB, fitted in ``max_size``; an animation's timing; the
    source's EXIF orientation (None when libvips decoded it, already upright). Pillow decodes;
    a still image it cannot read goes to libvips; both failing is ``corrupt``/``truncated``."""
    if probe.decoder == "libvips":  # Pillow cannot read it (validate found out)
        return [_second_decoder(path, probe, max_size, None)], None, None
    try:
        with Image.open(path, formats=[probe.format]) as im:
            orientation = _orientation(im)
            if probe.frames > 1:
                size = target_size(*im.size, max_size)
                frames, timing = _load_animation(im, size, probe.format)
                return frames, timing, orientation
            return [_load_still(im, probe, max_size, path)], None, orientation
    except (Rejected, MemoryError, Image.DecompressionBombError):
        raise  # the boundary says what they mean (too_much_memory, too_many_pixels)
    except Exception as e:  # whatever Pillow raises on a file it cannot decode
        if raised_in(e) is None or (isinstance(e, OSError) and e.errno is not None):
            raise  # our own bug, or the file system: pipeline/boundary.py says which
        if probe.frames > 1:
            raise damaged(probe.format, said(e), None, path) from None
        return [_second_decoder(path, probe, max_size, e)], None, None


def _wants_lossless_jpeg(probe: Probe, preset: Preset) -> bool:
    """``original`` of a JPEG that needs no resizing: try the lossless copy first."""
    return (
        preset.format == "original"
        and probe.format == "JPEG"
        and probe.frames == 1
        and probe.decoder == "pillow"
        and target_size(probe.width, probe.height, preset.max_size) == (probe.width, probe.height)
    )


def _lossless_jpeg(path: Path, orientation: int, preset: Preset, spool_dir: Path):
    """The JPEG's own pixels, upright, without metadata (see ``jpeg_lossless``); None when
    that is not possible without re-encoding."""
    data = path.read_bytes()
    stripped = jpeg_lossless.rewrite(data, None, _is_srgb_bytes)  # can it be copied at all?
    if stripped is not None and orientation != 1:
        stripped = jpeg_lossless.orient(stripped, orientation)
    if stripped is None:
        return None
    icc = SRGB_ICC if preset.icc == "srgb" else None
    final = jpeg_lossless.rewrite(stripped, icc, _is_srgb_bytes)
    if final is None:
        return None
    with Image.open(io.BytesIO(final), formats=["JPEG"]) as out:
        width, height = out.size
    spooled = spool_bytes(final, "JPEG", "jpg", spool_dir, icc is not None)
    return Rendition(
        spooled.path, spooled.sha256, spooled.bytes, width, height, "image/jpeg", "jpg"
    )


def _second_decoder(
    path: Path, probe: Probe, max_size: int, pillow_error: BaseException | None
) -> Image.Image:
    """The still image decoded by libvips: Pillow could not read it (``pillow_error``; None
    when validation already found that out). Both failing is ``corrupt``/``truncated``."""
    pillow_said = said(pillow_error) if pillow_error else "cannot read its headers"
    if not libvips_decoder.can_decode(probe.format):
        raise damaged(probe.format, pillow_said, None, path)
    try:
        return libvips_decoder.decode(path, probe.format, max_size)
    except libvips_decoder.VipsFailed as v:
        raise damaged(probe.format, pillow_said, str(v), path) from None


# What ImageOps.exif_transpose does for each EXIF orientation.
_ORIENT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Modes Pillow resamples directly (others are converted to RGB/RGBA first).
_RESAMPLABLE = ("RGB", "RGBA", "L", "LA", "CMYK")


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1) or 1)
    except Exception:  # malformed EXIF: show the pixels as stored
        return 1


def _load_still(im: Image.Image, probe: Probe, max_size: int, path: Path) -> Image.Image:
    icc = im.info.get("icc_profile")
    if probe.format == "JPEG":
        # Decode at 1/2, 1/4 or 1/8 scale in the DCT domain when the output is that much smaller.
        full = im.size
        size = target_size(*full, max_size)
        im.draft("RGB" if im.mode != "CMYK" else "CMYK", size)
        if im.size == full and size != full:
            # No DCT shortcut: let libvips decode and resize in one pass when it can.
            reduced = resample.jpeg_lanczos(path, im.mode, full, size)
            if reduced is not None:
                return _to_srgb(_resize_then_orient(reduced, _orientation(im), max_size), icc)
    im.load()
    if im.mode not in _RESAMPLABLE:
        return _resize_then_orient(_to_srgb(im, icc), _orientation(im), max_size)
    # Resize first, then orient and convert colour: both then touch a quarter of the pixels
    # of a 12-MP photo. Resampling commutes with the flips and quarter turns of EXIF
    # orientation, and target_size is symmetric, so the result is the same image.
    return _to_srgb(_resize_then_orient(im, _orientation(im), max_size), icc)


def _resize_then_orient(im: Image.Image, orientation: int, max_size: int) -> Image.Image:
    size = target_size(*im.size, max_size)
    if size != im.size:
        im = resample.lanczos(im, size)
    t = _ORIENT.get(orientation)
    return im.transpose(t) if t is not None else im


# Output of the "original" preset, by source format: lossless sources stay lossless in their
# own format; lossy ones become a high-quality JPEG (or WebP where JPEG can't hold alpha).
_ORIGINAL_OUTPUT = {
    **{f: ("PNG", "png", "image/png", {"compress_level": 6}) for f in LOSSLESS if f != "GIF"},
    "PNG": ("PNG", "png", "image/png", {"compress_level": 6}),
    "TIFF": ("TIFF", "tiff", "image/tiff", {"compression": "tiff_deflate"}),
    "JPEG": ("JPEG", "jpg", "image/jpeg", {"quality": 95, "subsampling": 0}),
    "HEIF": ("JPEG", "jpg", "image/jpeg", {"quality": 95, "subsampling": 0}),
    "AVIF": ("JPEG", "jpg", "image/jpeg", {"quality": 95, "subsampling": 0}),
    "JPEG2000": ("JPEG", "jpg", "image/jpeg", {"quality": 95, "subsampling": 0}),
    "DDS": ("JPEG", "jpg", "image/jpeg", {"quality": 95, "subsampling": 0}),
}
_WEBP = ("WEBP", "webp", "image/webp")


def _output_format(
    preset: Preset, source_format: str | None, has_alpha: bool, animated: bool, exact: bool
) -> tuple[str, str, str, dict]:
    if preset.format == "original" and source_format:
        fmt = _ORIGINAL_OUTPUT.get(source_format)
        if fmt and not animated and not (has_alpha and fmt[0] == "JPEG"):
            return (*fmt[:3], dict(fmt[3]))  # a copy: the caller adds to the options
        # GIF/WebP sources and animations: WebP, lossless when the source was (GIF, APNG, VP8L
        # WebP), with the colour under transparent pixels kept too (``exact``)
        if exact:
            return (*_WEBP, {"lossless": True, "exact": True, "quality": preset.quality})
        return (*_WEBP, {"lossless": False, "quality": preset.quality})
    return (*_WEBP, {"quality": preset.quality, "method": preset.method})


def _encode(
    frames: list[Image.Image],
    timing: Timing | None,
    preset: Preset,
    spool_dir: Path,
    source_format: str | None = None,
    exact: bool = False,
) -> Rendition:
    """``exact``: the source stored its pixels exactly (the ``original`` preset keeps them)."""
    first = frames[0]
    animated = len(frames) > 1
    alpha = first.mode == "RGBA"
    fmt, ext, ctype, kwargs = _output_format(preset, source_format, alpha, animated, exact)
    if animated and timing is not None:
        kwargs |= {
            "save_all": True,
            "append_images": frames[1:],
            "duration": timing.durations,
            "loop": timing.plays,
            # a transparent canvas, as browsers start every animation (Pillow would take
            # a GIF's background palette index from the frame's info: opaque black)
            "background": (0, 0, 0, 0),
        }
    # a standard sRGB profile when the preset asks, never the source's
    return spool_encode(first, fmt, ext, ctype, kwargs, spool_dir, preset.icc == "srgb")


def spool_encode(
    img: Image.Image,
    fmt: str,
    ext: str,
    ctype: str,
    options: dict,
    spool_dir: Path,
    srgb_icc: bool = False,
) -> Rendition:
    """Encode ``img`` into the spool, named by the SHA-256 of the bytes written: pixels only
    (``encode`` decides what may be written, and audits the file before it is named)."""
    spooled = spool_image(img, fmt, ext, dict(options), spool_dir, srgb_icc)
    return Rendition(spooled.path, spooled.sha256, spooled.bytes, img.width, img.height, ctype, ext)
