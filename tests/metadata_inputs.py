"""Test inputs in every accepted format, each carrying every kind of metadata it can hold:
EXIF with GPS and a maker note, XMP with GPS, IPTC, comments/text chunks, a wide-gamut (non-sRGB)
ICC profile whose copyright line is a secret, and an embedded thumbnail where the format has one.

Pillow writes what it can; exiftool adds the rest (IPTC, XMP in TIFF/GIF/HEIC). Every secret
contains ``SECRET_WORD``, so a leak shows up in exiftool's output or the raw bytes alike.
"""

from __future__ import annotations

import io
import struct
import subprocess
from pathlib import Path

from imagegen import GPS, iptc_segment, photoshop_irb, scene
from PIL import Image, PngImagePlugin

SECRET_WORD = "Secret"
XMP_GPS = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="'
    b'http://ns.adobe.com/exif/1.0/" dc:creator="Secret Photographer" exif:GPSLatitude="52,31.2N"'
    b' exif:GPSLongitude="13,24.6E"/></rdf:RDF></x:xmpmeta>'
)
FORMATS = ("jpeg", "png", "tiff", "webp", "webp_lossless", "gif", "heic", "avif")


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def wide_gamut_icc(description: str = "Wide Gamut Test RGB") -> bytes:
    """A small but valid ICC v2 display profile with Adobe RGB (1998) primaries (D50-adapted)
    and gamma 2.2: not sRGB, so copying it or ignoring it would both be wrong."""

    def xyz(x, y, z):
        return b"XYZ \x00\x00\x00\x00" + _s15(x) + _s15(y) + _s15(z)

    def text(t: str):
        return b"text\x00\x00\x00\x00" + t.encode() + b"\x00"

    def desc(t: str):
        a = t.encode() + b"\x00"
        return b"desc\x00\x00\x00\x00" + struct.pack(">I", len(a)) + a + bytes(4 + 4 + 2 + 1 + 67)

    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, 0x0233) + b"\x00\x00"
    tags = [
        (b"desc", desc(description)),
        (b"cprt", text(f"{SECRET_WORD} profile of the photographer")),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.6097, 0.3111, 0.0195)),
        (b"gXYZ", xyz(0.2053, 0.6257, 0.0609)),
        (b"bXYZ", xyz(0.1492, 0.0632, 0.7446)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        data += bytes(-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + bytes(4 + 16 + 28)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Desktop Uploader Test Camera"
    exif[0x013B] = f"{SECRET_WORD} Photographer"
    exif[0x010E] = f"{SECRET_WORD} description"
    exif.get_ifd(0x8769)[0x927C] = b"SECRETMAKERNOTE" + bytes(24)  # MakerNote
    exif[0x8825] = dict(GPS)
    return exif


def exiftool_add(exiftool: str, path: Path, *args: str) -> None:
    subprocess.run([exiftool, "-q", "-q", "-overwrite_original", *args, str(path)], check=True)


def write_inputs(folder: Path, exiftool: str, icc: bytes | None, seed: int = 30) -> dict[str, Path]:
    """One file per format in ``FORMATS``, each its own picture (``seed``), loaded with metadata;
    ``icc``: the embedded profile (None: none, so lossless outputs keep the exact pixels)."""
    folder.mkdir(parents=True, exist_ok=True)
    exif = camera_exif().tobytes()
    comment = f"{SECRET_WORD} comment, shot at 52.52N 13.41E".encode()
    profile = {"icc_profile": icc} if icc else {}
    out: dict[str, Path] = {}

    def pic(n: int, mode: str = "RGB") -> Image.Image:
        return scene(96, 64, seed=seed + n).convert(mode)

    jpg = folder / "camera.jpg"  # baseline JPEG, 4:2:0, dimensions multiples of 16
    buf = io.BytesIO()
    pic(0).save(buf, "JPEG", quality=90, exif=exif, xmp=XMP_GPS, comment=comment, **profile)
    data = buf.getvalue()
    jpg.write_bytes(data[:2] + iptc_segment() + data[2:])
    thumb = folder / "thumb.jpg"
    pic(0).resize((24, 16)).save(thumb, "JPEG")
    exiftool_add(exiftool, jpg, f"-ThumbnailImage<={thumb}")
    thumb.unlink()
    with open(jpg, "ab") as f:  # data after the end marker, as phones' "motion photos" have
        f.write(b"SecretTrailer" * 4)
    out["jpeg"] = jpg

    png = folder / "drawing.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", f"{SECRET_WORD} Photographer")  # tEXt
    info.add_text("Comment", f"{SECRET_WORD} zipped comment", zip=True)  # zTXt
    info.add_itxt("Description", f"{SECRET_WORD} place, 52.52N 13.41E")  # iTXt
    info.add_itxt("XML:com.adobe.xmp", XMP_GPS.decode())  # XMP in iTXt
    pic(1, "RGBA").save(png, "PNG", pnginfo=info, exif=exif, **profile)
    exiftool_add(exiftool, png, "-IPTC:By-line=Secret")  # exiftool's (non-standard) PNG IPTC
    out["png"] = png

    tif = folder / "scan.tif"
    tiff_exif = camera_exif()
    tiff_exif[34377] = photoshop_irb()  # Photoshop's resource block, with IPTC inside
    pic(2).save(tif, "TIFF", exif=tiff_exif.tobytes(), **profile)
    exiftool_add(
        exiftool, tif, "-XMP-exif:GPSLatitude=52.52", "-XMP-dc:Creator=Secret Photographer",
        "-IPTC:By-line=Secret",
    )  # fmt: skip
    out["tiff"] = tif

    webp = folder / "web.webp"
    pic(3).save(webp, "WEBP", quality=90, exif=exif, xmp=XMP_GPS, **profile)
    out["webp"] = webp

    # lossless WebP (VP8L), with colour kept under fully transparent pixels: "original" keeps both
    webpll = folder / "lossless.webp"
    clear = pic(8, "RGBA")
    alpha = Image.new("L", clear.size, 255)
    alpha.paste(0, (8, 8, 40, 32))  # a hole: alpha 0 over the picture's own colours
    clear.putalpha(alpha)
    clear.save(webpll, "WEBP", lossless=True, exact=True, exif=exif, xmp=XMP_GPS, **profile)
    out["webp_lossless"] = webpll

    gif = folder / "anim.gif"
    frames = [pic(4).convert("P"), pic(5).convert("P")]
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], comment=comment)
    extra = []
    if icc:
        (folder / "profile.icc").write_bytes(icc)
        extra.append(f"-ICC_Profile<={folder / 'profile.icc'}")
    exiftool_add(
        exiftool, gif, "-XMP-exif:GPSLatitude=52.52", "-XMP-dc:Creator=Secret Photographer", *extra
    )
    (folder / "profile.icc").unlink(missing_ok=True)
    out["gif"] = gif

    import pillow_heif

    pillow_heif.register_heif_opener()
    heic = folder / "phone.heic"
    pic(6).save(heic, "HEIF", quality=90, exif=exif, xmp=XMP_GPS, **profile)
    out["heic"] = heic

    avif = folder / "modern.avif"
    pic(7).save(avif, "AVIF", quality=90, exif=exif, xmp=XMP_GPS, **profile)
    out["avif"] = avif
    return out
