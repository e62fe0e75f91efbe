"""How an image is processed (``Preset``) and what the validate stage accepts (``Limits``): the
settings sections the pipeline reads, each field with its range, label and help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from annotated_types import Ge, Gt, Le

from desktop_uploader.format_names import ALLOWED
from desktop_uploader.setting_types import (
    UNKNOWN_KEYS_ARE_ERRORS,
    Flag,
    ImageFormat,
    Number,
    Text,
    Whole,
    Widths,
    setting,
)
from desktop_uploader.snapshots import Freezable


@dataclass
class Preset(Freezable):
    """How an image is processed before upload."""

    __pydantic_config__ = UNKNOWN_KEYS_ARE_ERRORS

    name: Text = setting(label="Name", help="What this preset is called in the app")
    max_size: Annotated[Whole, Ge(0)] = setting(
        2048, "Longest side (px)", "Images are shrunk to fit; never enlarged (0: full size)"
    )
    quality: Annotated[Whole, Ge(1), Le(100)] = setting(
        80, "Quality (1–100)", "Higher: better looking and larger files"
    )
    method: Annotated[Whole, Ge(0), Le(6)] = setting(
        4, "Effort (0–6)", "How hard the WebP encoder works for smaller files (slower)"
    )
    thumbnail_size: Annotated[Whole, Ge(16), Le(4096)] = setting(
        256, "Thumbnail size (px)", "Longest side of the thumbnail"
    )
    # "webp", or "original": full resolution kept in the source's format when that is lossless
    # (PNG, TIFF, JPEG without re-encoding), else high-quality JPEG; metadata stripped either way
    format: Literal["webp", "original"] = setting(
        "webp",
        "Output format",
        "WebP: small WebP files; original: the source's own format at full quality (JPEG "
        "losslessly), metadata removed either way",
        choice_labels={"webp": "WebP (small)", "original": "Original format, full size"},
    )
    # colour profile in the output: "strip" (none: browsers assume sRGB) or "srgb" (embed a
    # standard sRGB profile). Pixels are always converted to sRGB; the source's own profile
    # is never copied (it can carry data).
    icc: Literal["strip", "srgb"] = setting(
        "strip",
        "Colour profile",
        "None: no profile (browsers assume sRGB); sRGB: embed a standard sRGB profile. "
        "Pixels are always converted to sRGB; the original's profile is never copied.",
        choice_labels={"strip": "None", "srgb": "sRGB"},
    )
    # responsive variants (empty: one rendition, as before): widths in pixels, each as WebP
    # (and AVIF if ``avif``), plus the original's format as fallback; with a blur placeholder
    widths: Widths = setting(
        label="Responsive widths (px)",
        help="Comma-separated widths for srcset, e.g. 480, 960, 1600 (empty: one size)",
        factory=list,
    )
    avif: Flag = setting(False, "Also AVIF", "Make an AVIF of every responsive width too")
    fallback: Flag = setting(
        True, "Fallback in the original's format", "A JPEG or PNG for browsers without WebP"
    )

    def fingerprint(self) -> str:
        """Identifies the output this preset makes, so a re-run can recognise finished work."""
        fp = f"{self.format}:{self.max_size}:{self.quality}:{self.method}:{self.thumbnail_size}"
        if self.icc != "strip":
            fp += f":icc-{self.icc}"
        if self.widths:
            widths = ",".join(map(str, sorted(self.widths)))
            fp += f":w{widths}:{int(self.avif)}{int(self.fallback)}"
        return fp

    def thumbnail_preset(self) -> Preset:
        """Thumbnails are always small WebPs."""
        return Preset(f"{self.name}-thumbnail", quality=80, method=self.method, icc=self.icc)


@dataclass
class Limits(Freezable):
    """What the validate stage accepts."""

    __pydantic_config__ = UNKNOWN_KEYS_ARE_ERRORS

    max_bytes: Annotated[Whole, Ge(1)] = setting(
        200 * 1024 * 1024, "Largest file (bytes)", "Larger files are rejected unread"
    )
    max_pixels: Annotated[Whole, Ge(1)] = setting(
        150_000_000, "Most pixels per image", "Larger images (decompression bombs) are rejected"
    )
    max_frames: Annotated[Whole, Ge(1)] = setting(
        1000, "Most frames", "Animations with more frames are rejected"
    )
    decode_timeout: Annotated[Number, Gt(0)] = setting(
        10.0, "Decode time limit (s)", "CPU seconds a decoder may spend on one file"
    )
    decoder_memory_mb: Annotated[Whole, Ge(0)] = setting(
        2048, "Decoder memory (MB)", "Memory a decoder may add for one image (0: no cap)"
    )
    decoder_nice: Annotated[Whole, Ge(0), Le(19)] = setting(
        10, "Decoder priority (nice 0–19)", "Decoders run below the window and your programs"
    )
    formats: list[ImageFormat] = setting(
        label="Accepted formats",
        help="Image formats accepted, by their ids (remove one to refuse its files by name)",
        factory=lambda: list(ALLOWED),
    )
    follow_symlinks: Flag = setting(
        False,
        "Follow links out of folders",
        "Upload files that symbolic links in an uploaded or watched folder point to outside "
        "it (off: such links are reported and skipped; a link you name yourself is followed)",
    )
