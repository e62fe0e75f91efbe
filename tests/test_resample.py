"""The libvips resampling path gives Pillow's image, and steps aside for anything unusual."""

from __future__ import annotations

import numpy as np
import pytest
from imagegen import jpeg_bytes, scene
from PIL import Image

from desktop_uploader.config import Limits, Preset
from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline import resample
from desktop_uploader.pipeline.process import process_image
from desktop_uploader.pipeline.validate import probe


def _diff(a: Image.Image, b: Image.Image) -> tuple[float, int]:
    x = np.asarray(a.convert("RGB"), dtype=np.int16)
    y = np.asarray(b.convert("RGB"), dtype=np.int16)
    assert x.shape == y.shape
    d = np.abs(x - y)
    return float(d.mean()), int(d.max())


def test_libvips_is_the_photo_resampler():
    # pyvips-binary is a dependency: the fast path is what users run, so it is what we test.
    assert resample.backend() == "libvips"


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_lanczos_matches_pillow(mode):
    im = scene(900, 600).convert(mode)
    fast = resample.lanczos(im, (500, 333))
    ref = im.resize((500, 333), Image.Resampling.LANCZOS)
    assert fast.mode == mode and fast.size == (500, 333)
    mean, worst = _diff(fast, ref)
    assert mean < 0.6 and worst <= 24, (mean, worst)


def test_alpha_images_stay_with_pillow():
    # Pillow premultiplies alpha while it resamples; libvips would not: RGBA must not take it.
    im = Image.new("RGBA", (400, 300), (255, 0, 0, 0))
    im.paste((0, 0, 255, 255), (0, 0, 200, 300))
    out = resample.lanczos(im, (200, 150))
    assert out.tobytes() == im.resize((200, 150), Image.Resampling.LANCZOS).tobytes()


def test_jpeg_decode_and_resize_in_one_pass_matches_pillow(tmp_path):
    p = tmp_path / "photo.jpg"
    p.write_bytes(jpeg_bytes(scene(1200, 800)))
    fast = resample.jpeg_lanczos(p, "RGB", (1200, 800), (700, 467))
    assert fast is not None and fast.size == (700, 467)
    with Image.open(p) as im:
        ref = im.convert("RGB").resize((700, 467), Image.Resampling.LANCZOS)
    mean, worst = _diff(fast, ref)
    assert mean < 0.8 and worst <= 32, (mean, worst)


def test_a_damaged_jpeg_is_left_to_pillow(tmp_path):
    data = jpeg_bytes(scene(1200, 800))
    p = tmp_path / "cut.jpg"
    p.write_bytes(data[: len(data) * 2 // 3])
    assert resample.jpeg_lanczos(p, "RGB", (1200, 800), (700, 467)) is None
    # ...and Pillow's verdict, with its code, is what the user gets
    info = probe(p, Limits())
    with pytest.raises(Rejected) as e:
        process_image(p, info, Preset("default", max_size=700), tmp_path / "spool")
    assert e.value.code == "truncated"


def test_header_disagreement_is_left_to_pillow(tmp_path):
    p = tmp_path / "photo.jpg"
    p.write_bytes(jpeg_bytes(scene(600, 400)))
    assert resample.jpeg_lanczos(p, "RGB", (601, 400), (300, 200)) is None
    assert resample.jpeg_lanczos(p, "L", (600, 400), (300, 200)) is None  # 3 bands, not 1


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_on_the_one_pass_path(tmp_path, monkeypatch, orientation):
    # Reduced by less than 2x: no DCT shortcut, so libvips decodes and resizes the JPEG.
    used = []
    real = resample.jpeg_lanczos
    monkeypatch.setattr(resample, "jpeg_lanczos", lambda *a: used.append(real(*a)) or used[-1])
    p = tmp_path / f"o{orientation}.jpg"
    p.write_bytes(jpeg_bytes(scene(600, 400), orientation=orientation))
    out = process_image(p, probe(p, Limits()), Preset("default", max_size=450), tmp_path / "s")
    assert len(used) == 1 and used[0] is not None  # the libvips path really ran
    with Image.open(out.main.path) as im:
        assert im.size == (450, 300)
        rgb = im.convert("RGB")
        r, g, b = rgb.getpixel((8, 8))  # the red marker must be top-left again
        assert r > 200 and g < 60 and b < 60, (orientation, (r, g, b))


def test_pillow_resampler_can_be_forced(monkeypatch):
    monkeypatch.setattr(resample, "_vips", None)
    monkeypatch.setenv("DESKTOP_UPLOADER_RESAMPLER", "pillow")
    assert resample.backend() == "pillow"
    im = scene(300, 200)
    assert (
        resample.lanczos(im, (150, 100)).tobytes()
        == im.resize((150, 100), Image.Resampling.LANCZOS, reducing_gap=3.0).tobytes()
    )


def test_huge_decoded_images_are_not_copied_into_libvips(monkeypatch):
    # The copy would add ~3 bytes a pixel at the worst moment (100 MP: +300 MB); Pillow does it.
    monkeypatch.setattr(resample, "COPY_MAX_PIXELS", 300 * 200 - 1)
    im = scene(300, 200)
    assert (
        resample.lanczos(im, (150, 100)).tobytes()
        == im.resize((150, 100), Image.Resampling.LANCZOS, reducing_gap=3.0).tobytes()
    )
    monkeypatch.setattr(resample, "COPY_MAX_PIXELS", 300 * 200)
    assert resample.lanczos(im, (150, 100)).tobytes() != (
        im.resize((150, 100), Image.Resampling.LANCZOS, reducing_gap=3.0).tobytes()
    )  # at the limit libvips takes it (its rounding differs from Pillow's in places)
