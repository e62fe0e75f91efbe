"""The right reason for every file: each format users bring is converted or refused by name;
identification is by bytes; a file one decoder cannot read is read by the other; "damaged" and
"not an image" only when they are true."""

from __future__ import annotations

from pathlib import Path

import pytest
from formatgen import (
    GROUND,
    SPOT,
    corpus,
    cut_short,
    tiff_missing_dimensions,
    tiff_without_any_width,
    webp_tiff,
)
from hostile import write
from PIL import Image
from support import plain

from desktop_uploader.config import Limits
from desktop_uploader.errors import Rejected
from desktop_uploader.format_names import ALLOWED
from desktop_uploader.pipeline.formats import identify
from desktop_uploader.pipeline.validate import probe


def near(a, b, tolerance: int) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=False))


def grey(c) -> int:
    return round(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def run_all(app, paths: list[Path], out: Path):
    engine = app.engine
    jobs = [engine.submit(p, "test", app.settings.preset(None), out_dir=out) for p in paths]
    return [j.future.result(timeout=120) for j in jobs]


def test_every_format_is_converted_or_refused_by_name(app, tmp_path):
    files = write(corpus(), tmp_path / "formats")
    results = run_all(app, list(files), tmp_path / "out")
    wrong = []
    for (path, sample), r in zip(files.items(), results, strict=True):
        if r.status != sample.status:
            wrong.append((path.name, r.status, r.code, r.reason))
            continue
        if r.status == "rejected":
            if r.code != "format_not_allowed" or sample.named not in r.reason:
                wrong.append((path.name, r.code, r.reason))
            continue
        with Image.open(r.output) as im:
            out = im.convert("RGB")
        w, h = out.size
        ground = out.getpixel((int(w * 0.94), int(h * 0.08)))
        spot = out.getpixel((int(w * 0.29), int(h * 0.5)))
        tolerance = 3 if sample.exact_colour else 45
        if path.suffix in (".pgm", ".pbm"):  # grey formats: the picture's brightness
            ok = sample.name.endswith(".pbm") or (
                abs(grey(ground) - grey(GROUND)) <= 3 and abs(grey(spot) - grey(SPOT)) <= 3
            )
        else:
            ok = near(ground, GROUND, tolerance) and near(spot, SPOT, tolerance)
        if not ok or abs(w / h - 1.5) > 0.05 and path.suffix not in (".ico", ".icns"):
            wrong.append((path.name, "pixels", out.size, ground, spot))
    assert wrong == [], wrong


def test_the_allow_list_names_every_format_of_the_issue():
    for fmt in ("TGA", "PPM", "QOI", "PCX", "SGI", "DDS", "ICNS", "JPEG2000", "BMP", "ICO"):
        assert fmt in ALLOWED


def test_identified_by_bytes_whatever_the_name(tmp_path):
    files = write(corpus(), tmp_path / "formats")
    by_name = {p.name: p for p in files}
    lying = tmp_path / "holiday.png"
    lying.write_bytes(by_name["targa.tga"].read_bytes())  # a TGA has no signature at all
    assert identify(lying, lying.read_bytes()[:4096]) == "TGA"
    assert probe(lying, Limits()).format == "TGA"
    text = tmp_path / "README.tga"
    text.write_text("# Holiday pictures\n\nThe good ones are in the other folder.\n")
    with pytest.raises(Rejected) as e:
        probe(text, Limits())
    assert e.value.code == "not_an_image"


def test_a_file_pillow_cannot_read_is_read_by_libvips(tmp_path):
    files = write(corpus(), tmp_path / "formats")
    lab = next(p for p in files if p.name == "scanner-lab16.tif")
    with pytest.raises(Exception):  # noqa: B017 - Pillow's own failure, whatever its type
        Image.open(lab).load()
    info = probe(lab, Limits())
    assert info.decoder == "libvips" and (info.width, info.height) == (96, 64)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("missing-dimensions-truncated.tif", tiff_missing_dimensions(truncated=True)),
        ("missing-dimensions.tif", tiff_missing_dimensions(truncated=False)),
        ("no-width-at-all.tif", tiff_without_any_width()),
        ("webp-tiff-cut.tif", webp_tiff()[:300]),
    ],
)
def test_broken_tiffs_are_rejected_with_a_reason(app, tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    [r] = run_all(app, [p], tmp_path / "out")
    assert r.status == "rejected" and r.code in ("corrupt", "truncated"), (r.code, r.reason)
    assert "Internal error" not in r.reason and "report" not in r.reason
    assert plain(r.reason), r.reason


def test_a_damaged_later_page_is_said_in_words_pillows_in_the_log(tmp_path, caplog):
    p = tmp_path / "two-pages.tif"
    p.write_bytes(tiff_missing_dimensions(truncated=False))
    with pytest.raises(Rejected) as e:
        probe(p, Limits())
    assert e.value.code == "corrupt" and "a later one cannot" in e.value.message
    assert plain(e.value.message), e.value.message  # not "(TypeError: Missing dimensions)"
    said = [r.getMessage() for r in caplog.records if "later frame or page" in r.getMessage()]
    assert said and "TypeError: Missing dimensions" in said[0]


def test_damaged_logs_what_both_decoders_said(tmp_path, caplog):
    p = tmp_path / "cut.tif"
    p.write_bytes(tiff_without_any_width())
    with pytest.raises(Rejected) as e:
        probe(p, Limits())
    assert e.value.code == "corrupt" and "neither image decoder" in e.value.message
    said = [r.getMessage() for r in caplog.records if "neither decoder reads" in r.getMessage()]
    assert said and "Pillow: UnidentifiedImageError" in said[0] and "libvips: " in said[0]


def test_truncated_targa_is_truncated_or_corrupt(app, tmp_path):
    files = write(corpus(), tmp_path / "formats")
    whole = next(p for p in files if p.name == "targa.tga").read_bytes()
    p = tmp_path / "cut.tga"
    p.write_bytes(whole[: len(whole) // 3])
    [r] = run_all(app, [p], tmp_path / "out")
    assert r.status == "rejected" and r.code in ("truncated", "corrupt"), r.reason


def test_original_preset_keeps_lossless_formats_lossless_and_options_apart(tmp_path):
    from desktop_uploader.config import Preset
    from desktop_uploader.pipeline.process import process_image

    files = write(corpus(), tmp_path / "formats")
    bmp = next(p for p in files if p.suffix == ".bmp")
    info = probe(bmp, Limits())
    with_icc = Preset("original", max_size=0, format="original", icc="srgb")
    without = Preset("original", max_size=0, format="original")
    first = process_image(bmp, info, with_icc, tmp_path / "spool")
    second = process_image(bmp, info, without, tmp_path / "spool")
    assert first.main.content_type == second.main.content_type == "image/png"
    with Image.open(first.main.path) as a, Image.open(second.main.path) as b:
        assert a.info.get("icc_profile")  # asked for
        assert not b.info.get("icc_profile")  # not carried over from the run before
        assert a.convert("RGB").tobytes() == b.convert("RGB").tobytes()


def test_a_format_turned_off_in_the_settings_is_refused_by_name(tmp_path, local_store, monkeypatch):
    """``[limits] formats`` is the allow-list: every format the app reads is on by default, and
    one taken out is refused by name; a name that is not a format stops the command (exit 2)."""
    import json

    import support
    from imagegen import scene

    assert Limits().formats == list(ALLOWED)
    checks = 'malware_scan = "off"\ncontent_check = "off"\n'
    home, _ = support.cloud_home(
        tmp_path, local_store, monkeypatch, checks + '[limits]\nformats = ["JPEG", "PNG"]\n'
    )
    bmp, png = tmp_path / "scan.bmp", tmp_path / "drawing.png"
    scene(64, 48, seed=3).save(bmp, "BMP")
    scene(64, 48, seed=4).save(png, "PNG")
    res = support.run_cli("upload", "--json", str(bmp), str(png), env_home=home)
    lines = {Path(r["source"]).name: r for r in map(json.loads, res.stdout.splitlines())}
    assert res.returncode == 1, res.stderr
    assert lines["scan.bmp"]["status"] == "rejected"
    assert lines["scan.bmp"]["code"] == "format_not_allowed"
    assert "BMP files are turned off in the settings" in lines["scan.bmp"]["reason"]
    assert lines["drawing.png"]["status"] == "done"

    settings = home / "config" / "settings.toml"
    settings.write_text(settings.read_text().replace('"PNG"]', '"PNGG"]'))
    res = support.run_cli("upload", "--json", str(png), env_home=home)
    assert res.returncode == 2 and res.stdout == ""
    assert '[limits] formats[1] = "PNGG": expected one of JPEG, PNG, GIF' in res.stderr


def test_every_signed_format_cut_short_is_damaged_not_not_an_image(app, tmp_path):
    """An ICNS, DDS, PCX, QOI … file cut inside its header or pixels is a damaged picture of
    its format: "not an image" is for bytes no decoder recognises."""
    samples = cut_short()
    signed = ".icns .dds .pcx .qoi .sgi .ppm .jpg .png .gif .webp .avif .heic .jp2 .tif .bmp .ico"
    assert {Path(s.name).suffix for s in samples} >= set(signed.split())
    files = write(samples, tmp_path / "cut")
    results = run_all(app, list(files), tmp_path / "out")
    wrong = [
        (p.name, r.status, r.code, r.reason)
        for p, r in zip(files, results, strict=True)
        if r.status != "rejected" or r.code not in ("truncated", "corrupt") or not plain(r.reason)
    ]
    assert wrong == [], wrong


@pytest.mark.parametrize(
    "text",
    [
        b"P1 is the first point; P2 the second.\n",
        b"Python notes\n",
        b"P3 apples, 2 pears\n",
        b"\n\x05hello",  # a protocol buffer: a newline byte, then a length
        b"\n\x00H\x00e\x00l\x00l\x00o\x00",  # UTF-16 text after a newline
        b"\x01\xda\x07\x07 not a picture",
        b"DDS: notes on the dependency solver",
    ],
)
def test_short_signatures_need_their_header_to_make_sense(tmp_path, text):
    """PCX, SGI and Netpbm are known by a byte or two; text that starts the same way is
    still not an image."""
    p = tmp_path / "notes.txt"
    p.write_bytes(text)
    with pytest.raises(Rejected) as e:
        probe(p, Limits())
    assert e.value.code == "not_an_image", e.value.message


def test_a_refused_format_cut_short_is_still_refused_by_name(tmp_path):
    """A refused format known by its signature is named even when Pillow cannot open the file."""
    blp = next(s for s in corpus() if s.name.endswith(".blp"))
    cut = tmp_path / "texture.blp"
    cut.write_bytes(blp.data[:12])
    with pytest.raises(Rejected) as e:
        probe(cut, Limits())
    assert e.value.code == "format_not_allowed" and "BLP" in e.value.message, e.value.message


def test_a_format_only_pillow_reads_is_not_said_to_fail_two_decoders(tmp_path):
    icns = next(s for s in corpus() if s.name.endswith(".icns"))
    cut = tmp_path / "app.icns"
    cut.write_bytes(icns.data[: len(icns.data) // 2])
    with pytest.raises(Rejected) as e:
        probe(cut, Limits())
    assert e.value.code in ("corrupt", "truncated")
    assert "the image decoder could not read it" in e.value.message, e.value.message


@pytest.mark.parametrize(
    ("mode", "options", "frames", "lossless"),
    [
        ("RGB", {"quality": 80}, 1, False),
        ("RGB", {"lossless": True}, 1, True),
        ("RGBA", {"quality": 80}, 1, False),  # VP8X + ALPH + VP8
        ("RGBA", {"lossless": True}, 1, True),
        ("RGB", {"lossless": True}, 3, True),  # every ANMF frame VP8L
        ("RGB", {"quality": 80}, 3, False),
    ],
)
def test_webp_is_lossless_reads_every_frame(tmp_path, mode, options, frames, lossless):
    from imagegen import scene

    from desktop_uploader.pipeline.formats import webp_is_lossless

    pics = [scene(48, 32, seed=s).convert(mode) for s in range(frames)]
    p = tmp_path / "x.webp"
    extra = {"save_all": True, "append_images": pics[1:], "duration": 100} if frames > 1 else {}
    pics[0].save(p, "WEBP", **options, **extra)
    assert webp_is_lossless(p) is lossless
    p.write_bytes(p.read_bytes()[:12])  # cut before its first chunk: nothing says lossless
    assert webp_is_lossless(p) is False


@pytest.mark.parametrize(
    ("head", "svg"),
    [
        (b'<!--\n * Font Awesome Free by @fontawesome\n-->\n<svg xmlns="x">', True),
        (
            b'\xef\xbb\xbf<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
            b' "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg>',
            True,
        ),
        (b'<?xml version="1.0"?><!DOCTYPE svg [ <!ENTITY a "b"> ]><svg>', True),
        (b'<?xml version="1.0"?><html><body><svg>', False),  # a page with a drawing in it
        (b"<!-- <svg> in a comment --><html>", False),
    ],
)
def test_an_svg_is_known_by_its_root_element_whatever_comes_first(tmp_path, head, svg):
    """An icon set's SVG that opens with its licence comment is still refused as SVG by name,
    not passed over as "not an image"."""
    p = tmp_path / "icon.svg"
    p.write_bytes(head + b'<path d="M0 0h1"/></svg>\n')
    with pytest.raises(Rejected) as e:
        probe(p, Limits())
    if svg:
        assert e.value.code == "format_not_allowed" and "SVG" in e.value.message
    else:
        assert e.value.code == "not_an_image"


def test_a_tiff_kind_no_decoder_supports_is_not_called_damaged_for_sure(tmp_path):
    """A scientific TIFF (RGB planes of 64-bit floats, as scikit-image's sample) is valid, but
    neither Pillow nor libvips reads it: the user is not told it is broken as a fact."""
    import numpy as np

    tifffile = pytest.importorskip("tifffile")
    p = tmp_path / "measurement.tif"
    planes = np.random.default_rng(1).random((3, 10, 10))
    tifffile.imwrite(p, planes, photometric="rgb", planarconfig="separate")
    with pytest.raises(Rejected) as e:
        probe(p, Limits())
    assert e.value.code == "corrupt"
    assert "a kind of TIFF neither image decoder supports" in e.value.message, e.value.message
