"""Deterministic test and sample images with the metadata users' cameras put in them."""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image, ImageDraw

# What exif_transpose does for each orientation, so we can store the inverse.
_INVERSE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}

GPS = {
    1: "N",
    2: (52.0, 31.0, 12.5),
    3: "E",
    4: (13.0, 24.0, 38.1),
    5: 0,
    6: 34.0,
}
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="'
    b'Secret Photographer"/></rdf:RDF></x:xmpmeta>'
)


def scene(width: int = 600, height: int = 400, seed: int = 0) -> Image.Image:
    """A photo-like picture whose top-left corner is marked red (to check orientation)."""
    im = Image.new("RGB", (width, height))
    px = []
    for y in range(height):
        for x in range(width):
            px.append(
                (
                    (x * 255 // width + seed * 37) % 256,
                    (y * 255 // height + seed * 11) % 256,
                    ((x + y) * 128 // (width + height) + 64) % 256,
                )
            )
    im.putdata(px)
    d = ImageDraw.Draw(im)
    d.ellipse((width * 0.35, height * 0.25, width * 0.75, height * 0.85), fill=(240, 200, 40))
    d.rectangle((0, 0, width // 6, height // 6), fill=(255, 0, 0))
    return im


def camera_exif(orientation: int = 1, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Desktop Uploader Test Camera"  # Make
    exif[0x0110] = "DU-1"  # Model
    exif[0x0132] = "2026:11:26 10:00:00"  # DateTime
    exif[0x013B] = "Secret Photographer"  # Artist
    exif[0x0112] = orientation
    if gps:
        exif[0x8825] = dict(GPS)
    return exif


def photoshop_irb() -> bytes:
    """A Photoshop image resource block holding an IPTC byline record (Pillow cannot write
    IPTC): the body of a JPEG's APP13 and of a TIFF's PhotoshopSettings tag (34377)."""
    byline = b"Secret Photographer"
    iptc = b"\x1c\x02\x50" + struct.pack(">H", len(byline)) + byline
    irb = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    if len(iptc) % 2:
        irb += b"\x00"
    return irb


def iptc_segment() -> bytes:
    """An APP13 Photoshop IRB with an IPTC byline record."""
    payload = b"Photoshop 3.0\x00" + photoshop_irb()
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_bytes(
    im: Image.Image,
    orientation: int = 1,
    gps: bool = True,
    xmp: bool = True,
    iptc: bool = True,
    comment: bool = True,
    quality: int = 90,
) -> bytes:
    """``im`` as it displays; stored transformed so that ``orientation`` restores it."""
    t = _INVERSE[orientation]
    stored = im.transpose(t) if t is not None else im
    buf = io.BytesIO()
    kwargs = {"exif": camera_exif(orientation, gps).tobytes(), "quality": quality}
    if xmp:
        kwargs["xmp"] = XMP
    if comment:
        kwargs["comment"] = b"shot at 52.52N 13.41E by Secret Photographer"
    stored.save(buf, "JPEG", **kwargs)
    data = buf.getvalue()
    if iptc:
        data = data[:2] + iptc_segment() + data[2:]
    return data


def png_bytes(im: Image.Image) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Photographer")
    info.add_itxt("Description", "taken at home, 52.52N 13.41E")
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=info, exif=camera_exif(1, True).tobytes())
    return buf.getvalue()


def heic_bytes(im: Image.Image) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    im.save(buf, "HEIF", quality=80, exif=camera_exif(1, True).tobytes())
    return buf.getvalue()


def animated_gif_bytes(frames: int = 6, size: tuple[int, int] = (160, 120)) -> bytes:
    imgs = []
    for i in range(frames):
        im = Image.new("RGB", size, (20 * i, 80, 200 - 20 * i))
        ImageDraw.Draw(im).ellipse((10 + i * 15, 30, 60 + i * 15, 80), fill=(255, 255, 0))
        imgs.append(im)
    buf = io.BytesIO()
    imgs[0].save(buf, "GIF", save_all=True, append_images=imgs[1:], duration=80, loop=0)
    return buf.getvalue()


def write_samples(folder: Path) -> list[Path]:
    """The bundled demo images: small JPEGs with camera EXIF, GPS, and orientation tags, and a
    phone's HEIC (the frozen app's smoke test decodes it: the bundle's HEIF library only reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, seed, orientation, size in (
        ("harbour.jpg", 1, 1, (900, 600)),
        ("portrait-rotated.jpg", 2, 6, (600, 900)),
        ("upside-down.jpg", 3, 3, (900, 600)),
    ):
        p = folder / name
        p.write_bytes(jpeg_bytes(scene(*size, seed=seed), orientation=orientation, quality=85))
        out.append(p)
    heic = folder / "phone.heic"
    heic.write_bytes(heic_bytes(scene(480, 360, seed=4)))
    out.append(heic)
    return out
