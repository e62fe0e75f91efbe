"""The image formats the app accepts and what people call them: the names settings, messages and
the decoders share (no imaging library is imported here; ``pipeline.formats`` identifies files).
"""

from __future__ import annotations

# Accepted formats (Pillow's names). Each is decoded by Pillow (and JPEG, PNG, WebP, TIFF, GIF,
# HEIF and AVIF by libvips too, see ``libvips_decoder``) inside a decoder worker with a memory
# cap and a deadline. Formats users really have; never PostScript, PDF, SVG, PSD and the like.
ALLOWED = (
    "JPEG",
    "PNG",
    "GIF",
    "WEBP",
    "TIFF",
    "HEIF",
    "AVIF",
    "BMP",
    "ICO",
    "TGA",
    "PPM",
    "QOI",
    "PCX",
    "SGI",
    "DDS",
    "ICNS",
    "JPEG2000",
)
NAMES = {
    "JPEG": "JPEG",
    "WEBP": "WebP",
    "HEIF": "HEIF/HEIC",
    "JPEG2000": "JPEG 2000",
    "PPM": "PPM/PGM/PBM (Netpbm)",
    "TGA": "TGA (Targa)",
    "ICO": "ICO (Windows icon)",
    "CUR": "CUR (Windows cursor)",
    "ICNS": "ICNS (macOS icon)",
    "DDS": "DDS (DirectDraw texture)",
    "SGI": "SGI (Silicon Graphics image)",
    "PCX": "PCX (PC Paintbrush)",
    "PSD": "PSD (Photoshop document)",
    "BLP": "BLP (Blizzard texture)",
    "MSP": "MSP (Microsoft Paint)",
    "XBM": "XBM (X bitmap)",
    "XPM": "XPM (X pixmap)",
    "IM": "IM (IFUNC image)",
    "FITS": "FITS (astronomy data)",
    "SPIDER": "SPIDER (microscopy data)",
    "WMF": "WMF/EMF (Windows metafile)",
    "MPEG": "MPEG video",
    "FLI": "FLI/FLC animation",
    "DCX": "DCX (multi-page PCX)",
    "MPO": "MPO (multi-picture JPEG)",
}


def display_name(fmt: str) -> str:
    """The format as users know it ("JPEG 2000", "TGA (Targa)")."""
    return NAMES.get(fmt, fmt)
