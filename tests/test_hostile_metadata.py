"""Privacy, verified by an independent reader: every uploaded output is read back from the store
and checked with exiftool for EXIF, GPS, XMP, IPTC, MakerNotes, comments and embedded thumbnails.
Inputs: JPEG, PNG (tEXt/zTXt/iTXt/eXIf), HEIC and TIFF, each loaded with all of those it can carry.
"""

from __future__ import annotations

import io
import json
import subprocess
import urllib.request

import pytest
from imagegen import GPS, XMP, heic_bytes, iptc_segment, scene
from PIL import Image, PngImagePlugin
from support import exif_tags, run_cli

SECRETS = (b"Secret", b"SECRETMAKERNOTE", b"52.52N")


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Desktop Uploader Test Camera"
    exif[0x013B] = "Secret Photographer"
    exif.get_ifd(0x8769)[0x927C] = b"SECRETMAKERNOTE" + bytes(24)  # MakerNote
    exif[0x8825] = dict(GPS)
    return exif


def add_with_exiftool(exiftool: str, path, *args: str) -> None:
    subprocess.run([exiftool, "-q", "-overwrite_original", *args, str(path)], check=True)


def make_inputs(folder, exiftool: str) -> dict[str, object]:
    folder.mkdir(parents=True, exist_ok=True)
    pic = scene(320, 240, seed=12)
    thumb = folder / "thumb.jpg"
    pic.resize((80, 60)).save(thumb, "JPEG")
    files = {}

    jpg = folder / "camera.jpg"
    buf = io.BytesIO()
    pic.save(buf, "JPEG", exif=camera_exif().tobytes(), xmp=XMP, comment=b"Secret comment")
    data = buf.getvalue()
    jpg.write_bytes(data[:2] + iptc_segment() + data[2:])
    add_with_exiftool(exiftool, jpg, f"-ThumbnailImage<={thumb}")
    files["jpeg"] = jpg

    png = folder / "drawing.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Photographer")  # tEXt
    info.add_text("Comment", "Secret zipped comment", zip=True)  # zTXt
    info.add_itxt("Description", "Secret place, 52.52N 13.41E")  # iTXt
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())  # XMP in iTXt
    # each input its own picture: two lossless sources of one picture give one output
    scene(320, 240, seed=14).save(png, "PNG", pnginfo=info, exif=camera_exif().tobytes())
    files["png"] = png

    heic = folder / "phone.heic"
    heic.write_bytes(heic_bytes(scene(320, 240, seed=15)))
    add_with_exiftool(exiftool, heic, "-XMP-dc:Creator=Secret Photographer")
    files["heic"] = heic

    tif = folder / "scan.tif"
    scene(320, 240, seed=16).save(tif, "TIFF", exif=camera_exif().tobytes())
    add_with_exiftool(exiftool, tif, "-XMP-dc:Creator=Secret Photographer", "-IPTC:By-line=Secret")
    files["tiff"] = tif
    return files


EXPECTED_IN_SOURCE = {
    "jpeg": ("GPS:", "ExifIFD:MakerNote", "XMP-dc:", "IPTC:", "File:Comment", "IFD1:Thumbnail"),
    "png": ("GPS:", "ExifIFD:MakerNote", "XMP-dc:", "PNG:Author", "PNG:Comment", "PNG:Descr"),
    "heic": ("GPS:", "XMP-dc:"),
    "tiff": ("GPS:", "ExifIFD:MakerNote", "XMP-dc:", "IPTC:"),
}


def all_tags(exiftool: str, path) -> dict[str, str]:
    out = subprocess.run(
        [exiftool, "-a", "-G1", "-s", "-u", "-j", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)[0]


def test_every_output_is_metadata_free(app, tmp_path, exiftool, home):
    dest = app.settings.destinations["test"]
    dest.malware_scan, dest.content_check = "off", "off"
    files = make_inputs(tmp_path / "in", exiftool)
    for kind, path in files.items():
        tags = all_tags(exiftool, path)
        for want in EXPECTED_IN_SOURCE[kind]:
            assert any(k.startswith(want) for k in tags), f"{kind} input lacks {want}"
    results = app.engine.run(list(files.values()), "test", app.settings.preset(None))
    assert [r.status for r in results] == ["done"] * len(files), [r.reason for r in results]
    for kind, r in zip(files, results, strict=True):
        assert r.had_gps, kind
        for n, url in enumerate((r.url, r.thumbnail_url)):
            with urllib.request.urlopen(url, timeout=10) as resp:
                body = resp.read()
            out = tmp_path / f"{kind}-{n}.webp"
            out.write_bytes(body)
            leaked = {
                k: v for k, v in exif_tags(exiftool, out).items() if not k.startswith("RIFF:")
            }
            assert leaked == {}, f"{kind} output {n} carries {leaked}"
            for marker in (b"EXIF", b"XMP ", b"ICCP", *SECRETS):
                assert marker not in body, (kind, marker)
            with Image.open(out) as im:
                assert im.format == "WEBP" and not im.info.get("exif") and not im.info.get("xmp")
    # history marks which sources carried GPS
    res = run_cli("history", "--json", env_home=home)
    rows = [json.loads(x) for x in res.stdout.splitlines()]
    assert {r["source"] for r in rows if r["had_gps"]} >= {str(p) for p in files.values()}


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_source_without_gps_is_marked_so(app, tmp_path, kind):
    dest = app.settings.destinations["test"]
    dest.malware_scan, dest.content_check = "off", "off"
    p = tmp_path / f"plain.{kind}"
    scene(200, 100, seed=13).save(p, "JPEG" if kind == "jpeg" else "PNG")
    [r] = app.engine.run([p], "test", app.settings.preset(None))
    assert r.status == "done" and r.had_gps is False
    assert app.journal.job(r.job_id)["had_gps"] == 0
