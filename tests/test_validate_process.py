"""Validate and process stages on their own: no server involved."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from imagegen import animated_gif_bytes, heic_bytes, jpeg_bytes, png_bytes, scene
from PIL import Image
from support import exif_tags

from desktop_uploader.config import Limits, Preset
from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline.process import process_image, target_size
from desktop_uploader.pipeline.validate import probe, sniff


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge canvas but carries almost no data (a pixel bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0", "JPEG"),
        (b"\x89PNG\r\n\x1a\n....", "PNG"),
        (b"GIF89a", "GIF"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WEBP"),
        (b"II*\x00", "TIFF"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIF"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "AVIF"),
        (b"%PDF-1.7", "PDF"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">', "SVG"),
        (b"hello, world", None),
    ],
)
def test_sniff_reads_bytes_not_names(data, expected):
    assert sniff(data) == expected


def test_non_image_renamed_jpg_is_rejected(tmp_path):
    p = tmp_path / "holiday.jpg"
    p.write_text("#!/bin/sh\necho not a picture\n")
    with pytest.raises(Rejected) as e:
        probe(p, Limits())
    assert e.value.code == "not_an_image"
    assert "whatever its name says" in e.value.message


def test_empty_file_and_missing_file(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(Rejected) as e:
        probe(empty, Limits())
    assert e.value.code == "empty"
    with pytest.raises(Rejected) as e:
        probe(tmp_path / "nope.jpg", Limits())
    assert e.value.code == "not_found"


def test_svg_rejected_with_reason(tmp_path):
    p = tmp_path / "logo.png"
    p.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    with pytest.raises(Rejected) as e:
        probe(p, Limits())
    assert e.value.code == "format_not_allowed"
    assert "scripts" in e.value.message


def test_pixel_bomb_rejected_from_header(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(png_header_only(60_000, 60_000))
    assert p.stat().st_size < 2000
    with pytest.raises(Rejected) as e:
        probe(p, Limits())
    assert e.value.code == "too_many_pixels"
    assert "3600 MP" in e.value.message


def test_decompression_bomb_warning_is_an_error(tmp_path):
    # Between Pillow's warning threshold and its hard limit: must still be rejected.
    p = tmp_path / "big.png"
    Image.new("RGB", (1200, 1000)).save(p)
    with pytest.raises(Rejected) as e:
        probe(p, Limits(max_pixels=1_000_000))
    assert e.value.code == "too_many_pixels"
    assert "1.2 MP" in e.value.message and "1.0 MP" in e.value.message


def test_file_size_limit(tmp_path):
    p = tmp_path / "a.jpg"
    p.write_bytes(jpeg_bytes(scene(200, 100)))
    with pytest.raises(Rejected) as e:
        probe(p, Limits(max_bytes=1000))
    assert e.value.code == "file_too_large"


def test_truncated_jpeg_rejected(tmp_path):
    data = jpeg_bytes(scene(400, 300))
    p = tmp_path / "cut.jpg"
    p.write_bytes(data[: len(data) // 2])
    info = probe(p, Limits())  # the header is fine...
    with pytest.raises(Rejected) as e:  # ...the pixels are not
        process_image(p, info, Preset("default"), tmp_path / "spool")
    assert e.value.code == "truncated"


def test_target_size_never_upscales():
    assert target_size(100, 50, 2048) == (100, 50)
    assert target_size(4000, 3000, 2048) == (2048, 1536)
    assert target_size(3000, 4000, 2048) == (1536, 2048)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_is_applied(tmp_path, orientation):
    shown = scene(300, 200)
    p = tmp_path / f"o{orientation}.jpg"
    p.write_bytes(jpeg_bytes(shown, orientation=orientation))
    info = probe(p, Limits())
    out = process_image(p, info, Preset("default"), tmp_path / "spool")
    with Image.open(out.main.path) as im:
        assert im.size == (300, 200)
        rgb = im.convert("RGB")
        r, g, b = rgb.getpixel((10, 10))  # the red marker must be top-left again
        assert r > 200 and g < 60 and b < 60, (orientation, (r, g, b))
        r, g, b = rgb.getpixel((290, 190))
        assert not (r > 200 and g < 60 and b < 60)


def test_resize_and_thumbnail(tmp_path):
    p = tmp_path / "big.jpg"
    p.write_bytes(jpeg_bytes(scene(1200, 800), orientation=6))
    info = probe(p, Limits())
    out = process_image(p, info, Preset("default", max_size=600, thumbnail_size=100), tmp_path)
    assert (out.main.width, out.main.height) == (600, 400)
    assert max(out.thumbnail.width, out.thumbnail.height) == 100
    with Image.open(out.main.path) as im:
        assert im.format == "WEBP" and im.size == (600, 400)


@pytest.mark.parametrize(
    "kind",
    ["jpeg", "png", "heic"],
)
def test_outputs_carry_no_metadata(tmp_path, exiftool, kind):
    data = {
        "jpeg": lambda: jpeg_bytes(scene(300, 200), orientation=6),
        "png": lambda: png_bytes(scene(300, 200)),
        "heic": lambda: heic_bytes(scene(300, 200)),
    }[kind]()
    src = tmp_path / f"src.{kind}"
    src.write_bytes(data)
    before = exif_tags(exiftool, src)
    assert any("GPS" in k for k in before), f"fixture should carry GPS: {sorted(before)}"
    info = probe(src, Limits())
    assert info.had_gps
    out = process_image(src, info, Preset("default"), tmp_path / "spool")
    for r in (out.main, out.thumbnail):
        after = exif_tags(exiftool, r.path)
        leaked = {k: v for k, v in after.items() if not k.startswith("RIFF:")}
        assert leaked == {}, f"metadata left in {kind} output: {leaked}"
        raw = r.path.read_bytes()
        for marker in (b"EXIF", b"XMP ", b"ICCP", b"Secret Photographer"):
            assert marker not in raw


def test_animated_gif_stays_animated(tmp_path):
    p = tmp_path / "anim.gif"
    p.write_bytes(animated_gif_bytes(frames=6))
    info = probe(p, Limits())
    assert info.frames == 6
    out = process_image(p, info, Preset("default"), tmp_path / "spool")
    assert out.animated
    with Image.open(out.main.path) as im:
        assert im.format == "WEBP" and getattr(im, "n_frames", 1) == 6


def test_too_many_frames(tmp_path):
    p = tmp_path / "anim.gif"
    p.write_bytes(animated_gif_bytes(frames=6))
    with pytest.raises(Rejected) as e:
        probe(p, Limits(max_frames=5))
    assert e.value.code == "too_many_frames"


def test_icc_profile_is_applied_not_copied(tmp_path):
    from PIL import ImageCms

    # A profile that is not sRGB: the same pixels mean different colours under it.
    lab_like = ImageCms.createProfile("sRGB", colorTemp=4000)
    icc = ImageCms.ImageCmsProfile(lab_like).tobytes()
    p = tmp_path / "warm.jpg"
    scene(200, 100).save(p, "JPEG", icc_profile=icc, quality=95)
    info = probe(p, Limits())
    out = process_image(p, info, Preset("default"), tmp_path / "spool")
    with Image.open(out.main.path) as im:
        assert "icc_profile" not in im.info


def test_preset_can_embed_a_standard_srgb_profile_never_the_sources(tmp_path):
    from PIL import ImageCms

    warm = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB", colorTemp=4000)).tobytes()
    p = tmp_path / "warm.jpg"
    scene(200, 100).save(p, "JPEG", icc_profile=warm, quality=95)
    info = probe(p, Limits())
    out = process_image(p, info, Preset("default", icc="srgb"), tmp_path / "spool")
    for r in (out.main, out.thumbnail):
        with Image.open(r.path) as im:
            icc = im.info.get("icc_profile")
            assert icc and icc != warm
            desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
            assert "sRGB" in desc
    assert Preset("a", icc="srgb").fingerprint() != Preset("a").fingerprint()
