"""Colour for the process stage: every decoded image becomes 8-bit sRGB (RGB or RGBA).

An embedded ICC profile is applied to the pixels, never copied into an output (a profile can
carry data); the standard sRGB profile is the only one an encoder may write (``encode``).
"""

from __future__ import annotations

import io

from PIL import Image, ImageCms

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    )


def to_8bit(im: Image.Image) -> Image.Image:
    """16-bit and float greyscale would clip when converted directly; scale them first."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit samples (PNG, TIFF) scaled down linearly; point() on "I" takes scale/offset.
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if im.mode == "F":
        return im.point(lambda v: v * 255).convert("L")
    return im


def is_srgb_bytes(icc: bytes) -> bool:
    try:
        return is_srgb(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False


def is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    """An RGB profile that says it is sRGB IEC 61966-2.1 (as cameras and phones embed)."""
    try:
        desc = ImageCms.getProfileDescription(profile).strip().lower()
    except ImageCms.PyCMSError:
        return False
    return desc.startswith("srgb") and profile.profile.xcolor_space.strip() == "RGB"


def to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Pixels in sRGB (RGB or RGBA mode); an embedded ICC profile is applied, never copied."""
    im = to_8bit(im)
    alpha = has_alpha(im)
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if im.mode in ("RGB", "RGBA") and is_srgb(src):
                return im  # already sRGB (most phone photos): the transform is an identity
            if im.mode not in ("RGB", "RGBA", "CMYK", "L"):
                im = im.convert("RGBA" if alpha else "RGB")
            out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(im, src, _SRGB, outputMode=out_mode)
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: fall back to treating the pixels as sRGB
    target = "RGBA" if alpha else "RGB"
    return im if im.mode == target else im.convert(target)
