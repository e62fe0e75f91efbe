"""The byte walk that finds where an image really ends and what hides in or after it."""

from __future__ import annotations

import io

import pytest
from hostile import EICAR, gif_js_polyglot, jpeg_with_segment, small_zip
from imagegen import animated_gif_bytes, jpeg_bytes, png_bytes, scene
from PIL import Image

from desktop_uploader.pipeline.structure import (
    gif_end,
    inspect_bytes,
    jpeg_end,
    png_end,
    webp_end,
)


def webp_bytes() -> bytes:
    buf = io.BytesIO()
    scene(64, 48).save(buf, "WEBP")
    return buf.getvalue()


def jpeg_with_thumbnail() -> bytes:
    """An EXIF block that holds a whole JPEG (with its own EOI) before the real image."""
    thumb = jpeg_bytes(scene(40, 30), gps=False, xmp=False, iptc=False, comment=False)
    return jpeg_with_segment(0xE1, b"Exif\x00\x00" + b"II*\x00" + thumb)


@pytest.mark.parametrize(
    ("make", "end_of"),
    [
        (lambda: jpeg_bytes(scene(120, 80)), jpeg_end),
        (jpeg_with_thumbnail, jpeg_end),
        (lambda: png_bytes(scene(120, 80)), png_end),
        (lambda: animated_gif_bytes(frames=3), gif_end),
        (webp_bytes, webp_end),
    ],
)
def test_end_is_found_exactly_and_trailing_data_measured(make, end_of):
    data = make()
    assert end_of(data) == len(data)
    tail = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8
    assert end_of(data + tail) == len(data)
    assert end_of(data[: len(data) - 10]) is None  # truncated: no end to find


@pytest.mark.parametrize(
    ("fmt", "data", "what", "where"),
    [
        ("JPEG", jpeg_bytes(scene(80, 60)) + small_zip(), "a ZIP archive", "after the image end"),
        ("JPEG", jpeg_with_segment(0xFE, b"<ScRiPt>x</script>"), "HTML or script markup", "inside"),
        ("PNG", png_bytes(scene(40, 30)) + b"<?php echo 1; ?>", "PHP code", "after the image end"),
        ("GIF", gif_js_polyglot(), "JavaScript (the GIF header doubles as a script)", "inside"),
    ],
)
def test_active_content_is_named(fmt, data, what, where):
    found = inspect_bytes(data, fmt)
    assert (found.active, found.active_where) == (what, where)


def test_ordinary_files_are_clean():
    for fmt, data in (
        ("JPEG", jpeg_bytes(scene(300, 200))),
        ("JPEG", jpeg_with_thumbnail()),
        ("PNG", png_bytes(scene(300, 200))),
        ("GIF", animated_gif_bytes(frames=4)),
        ("WEBP", webp_bytes()),
    ):
        found = inspect_bytes(data, fmt)
        assert found.active is None and found.trailing == 0, (fmt, found)
    noisy = io.BytesIO()
    Image.effect_noise((1500, 1000), 120).convert("RGB").save(noisy, "JPEG", quality=97)
    assert inspect_bytes(noisy.getvalue(), "JPEG").active is None  # ~1 MB of random-ish data


def test_eicar_is_not_our_business_but_trailing_bytes_are_reported():
    data = jpeg_bytes(scene(80, 60)) + EICAR  # clamd's job; here it is just trailing data
    found = inspect_bytes(data, "JPEG")
    assert found.active is None and found.trailing == len(EICAR)
