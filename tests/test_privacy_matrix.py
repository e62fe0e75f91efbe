"""Metadata never leaves, whatever the preset: every preset × every input format, each input loaded
with EXIF+GPS, XMP with GPS, IPTC, comments/text chunks, a wide-gamut ICC profile, a maker note
(and a thumbnail / trailing data where the format has them). Every object is fetched back from
its public URL on the test store and read by exiftool, an independent reader: nothing but the
image's structure (and, for presets that embed one, our standard sRGB profile) may be there.

Also: ``original`` of a baseline JPEG keeps the entropy-coded data byte for byte; lossless
formats keep their exact pixels; the encoder refuses options that write metadata; nothing in the
app encodes except through ``pipeline/encode.py``.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from imagegen import jpeg_bytes, scene
from metadata_inputs import FORMATS, SECRET_WORD, wide_gamut_icc, write_inputs
from PIL import Image
from support import ROOT

from desktop_uploader.config import Limits, Preset
from desktop_uploader.pipeline import encode, formats, metadata_audit
from desktop_uploader.pipeline.structure import NEXT_MARKER

PRESETS = [
    Preset("default"),
    Preset("original", max_size=0, quality=95, format="original"),
    Preset("original-srgb", max_size=0, quality=95, format="original", icc="srgb"),
    Preset("responsive", max_size=96, widths=[32, 64], avif=True, fallback=True, icc="srgb"),
]
# What exiftool may report about a clean output: the image's own structure, per container.
STRUCTURE = re.compile(
    r"^(File:(?!Comment$).*"
    r"|JFIF:(JFIFVersion|ResolutionUnit|XResolution|YResolution)"
    r"|APP14:(DCTEncodeVersion|APP14Flags0|APP14Flags1|ColorTransform)"
    r"|RIFF:(ImageWidth|ImageHeight|VP8Version|HorizontalScale|VerticalScale|AlphaCompression"
    r"|AlphaFiltering|AlphaPreprocessing|AnimationLoopCount|BackgroundColor|Duration|WebP_Flags)"
    r"|PNG:(ImageWidth|ImageHeight|BitDepth|ColorType|Compression|Filter|Interlace"
    r"|AnimationFrames|AnimationPlays|ProfileName)"
    r"|GIF:(GIFVersion|ImageWidth|ImageHeight|HasColorMap|ColorResolutionDepth|BitsPerPixel"
    r"|BackgroundColor|AnimationIterations|FrameCount|Duration)"
    r"|IFD0:(SubfileType|ImageWidth|ImageHeight|BitsPerSample|Compression"
    r"|PhotometricInterpretation|StripOffsets|SamplesPerPixel|RowsPerStrip|StripByteCounts"
    r"|PlanarConfiguration|Predictor|ExtraSamples|SampleFormat)"
    # ISO BMFF (AVIF) boxes: brands, item bookkeeping, the AV1 codec configuration
    r"|QuickTime:(MajorBrand|MinorVersion|CompatibleBrands|HandlerType|ImageSpatialExtent"
    r"|ImagePixelDepth|AuxiliaryImageType|ColorProfiles|ColorPrimaries|TransferCharacteristics"
    r"|MatrixCoefficients|AV1ConfigurationVersion|SeqProfile|SeqLevelIdx0|SeqTier0|HighBitDepth"
    r"|TwelveBit|ChromaFormat|ChromaSamplePosition|InitialDelaySamples|MediaData|MediaDataOffset"
    r"|MediaDataSize)"
    r"|Meta:PrimaryItemReference"
    r")$"
)
ICC_GROUPS = ("ICC-header:", "ICC_Profile:", "ICC-meas:", "ICC-view:", "ICC-chrm:")
SRGB_DESCRIPTION = "sRGB built-in"  # ImageCms.createProfile("sRGB"), what presets embed


def exiftool_json(exiftool: str, paths: list[Path]) -> dict[str, dict]:
    out = subprocess.run(
        [exiftool, "-a", "-G1", "-s", "-u", "-j", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return {d["SourceFile"]: d for d in json.loads(out)}


# comments and text chunks the inputs carry (the TIFF's IPTC2 sits in its Photoshop block)
INPUT_TEXT = {
    "jpeg": ("File:Comment",),
    "gif": ("File:Comment",),
    "png": ("PNG:Author", "PNG:Comment", "PNG:Description"),
    "tiff": ("IPTC2:By-line",),
}


def leaks(tags: dict, srgb_allowed: bool) -> list[str]:
    """The tags of one output that are not the image's structure."""
    out = []
    icc_is_ours = tags.get("ICC_Profile:ProfileDescription") == SRGB_DESCRIPTION
    for key, value in tags.items():
        if key == "SourceFile" or key.startswith(("System:", "ExifTool:", "Composite:")):
            continue
        if key.startswith(ICC_GROUPS):
            if not (srgb_allowed and icc_is_ours):
                out.append(f"{key}={value}")
            continue
        if not STRUCTURE.match(key) or (key == "RIFF:WebP_Flags" and re.search("EXIF|XMP", value)):
            out.append(f"{key}={value}")
    return out


def fetch(url: str, dest: Path) -> Path:
    with urllib.request.urlopen(url, timeout=10) as resp:
        dest.write_bytes(resp.read())
    return dest


@pytest.fixture
def checks_off(app):
    dest = app.settings.destinations["test"]
    dest.malware_scan, dest.content_check = "off", "off"
    return app


def test_no_preset_lets_metadata_of_any_format_reach_the_store(checks_off, tmp_path, exiftool):
    app = checks_off
    inputs = write_inputs(tmp_path / "in", exiftool, wide_gamut_icc())
    source_tags = exiftool_json(exiftool, list(inputs.values()))
    for kind, path in inputs.items():  # the inputs really carry what the outputs must not
        keys = " ".join(source_tags[str(path)])
        assert "XMP-" in keys and "ICC_Profile:ProfileCopyright" in keys, kind
        if kind != "gif":
            assert "GPS:GPSLatitude" in keys and "MakerNote" in keys, kind
        if kind in ("jpeg", "png", "tiff"):
            assert "IPTC:By-line" in keys, kind
        for tag in INPUT_TEXT.get(kind, ()):
            assert tag in keys, (kind, tag)
    fetched: list[tuple[str, str, Path, bool]] = []
    for preset in PRESETS:
        results = app.engine.run(list(inputs.values()), "test", preset)
        for kind, r in zip(inputs, results, strict=True):
            assert r.status == "done", (preset.name, kind, r.code, r.reason)
            urls = [r.url, r.thumbnail_url] + [v["url"] for v in r.variants]
            for n, url in enumerate(dict.fromkeys(urls)):
                name = f"{preset.name}-{kind}-{n}.{url.rsplit('.', 1)[-1]}"
                fetched.append(
                    (preset.name, kind, fetch(url, tmp_path / name), preset.icc == "srgb")
                )
    assert len(fetched) >= len(PRESETS) * len(FORMATS) * 2
    tags = exiftool_json(exiftool, [p for *_, p, _ in fetched])
    found = {}
    for preset, kind, path, srgb in fetched:
        body = path.read_bytes()
        bad = leaks(tags[str(path)], srgb)
        for secret in (SECRET_WORD.encode(), b"SECRETMAKERNOTE", b"52.52", b"Wide Gamut"):
            if secret in body:
                bad.append(f"bytes {secret!r}")
        if bad:
            found[f"{preset}/{kind}/{path.name}"] = bad
    assert found == {}, json.dumps(found, indent=1)


def entropy_coded(data: bytes) -> bytes:
    """Every scan header and its entropy-coded data, in order: the picture of a JPEG."""
    out, i = b"", 2
    while data[i : i + 2] != b"\xff\xd9":
        marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
        end = i + 2 + length
        if marker == 0xDA:
            end = NEXT_MARKER.search(data, end).start()
            out += data[i:end]
        i = end
    return out


def pixels(path_or_bytes) -> Image.Image:
    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with Image.open(src) as im:
        im.load()
        return im.convert("RGBA")


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    """Every channel of every pixel equal (``getbbox`` of an RGBA difference looks at alpha only,
    so the bytes are compared)."""
    return a.mode == b.mode and a.size == b.size and a.tobytes() == b.tobytes()


def test_same_pixels_sees_a_difference_in_any_channel():
    base = Image.new("RGBA", (4, 4), (10, 20, 30, 255))
    assert same_pixels(base, base.copy())
    for channel in range(4):
        other = base.copy()
        px = list(other.getpixel((3, 3)))
        px[channel] ^= 1
        other.putpixel((3, 3), tuple(px))
        assert not same_pixels(base, other), channel


def test_original_keeps_jpeg_data_and_lossless_pixels_exactly(checks_off, tmp_path, exiftool):
    app = checks_off
    inputs = write_inputs(tmp_path / "in", exiftool, icc=None, seed=50)
    original = Preset("original", max_size=0, quality=95, format="original")
    results = dict(
        zip(inputs, app.engine.run(list(inputs.values()), "test", original), strict=True)
    )
    for r in results.values():
        assert r.status == "done", r.reason
    jpeg_out = fetch(results["jpeg"].url, tmp_path / "out.jpg").read_bytes()
    source = inputs["jpeg"].read_bytes()
    assert entropy_coded(jpeg_out) == entropy_coded(source)  # not re-encoded
    assert len(jpeg_out) < len(source)
    assert same_pixels(pixels(jpeg_out), pixels(inputs["jpeg"]))
    # lossless sources keep their exact pixels, also under fully transparent ones
    assert formats.webp_is_lossless(inputs["webp_lossless"])
    for kind in ("png", "tiff", "gif", "webp_lossless"):
        out = fetch(results[kind].url, tmp_path / f"out-{kind}")
        with Image.open(inputs[kind]) as src:
            first = src.convert("RGBA")
        assert same_pixels(pixels(out), first), kind


@pytest.mark.parametrize("size", [(96, 64), (90, 60)], ids=["whole-blocks", "partial-blocks"])
def test_original_of_a_rotated_jpeg_is_upright_and_stripped(checks_off, tmp_path, exiftool, size):
    """Orientation 6 (a phone held upright): turned losslessly by jpegtran when the image is
    whole 16-px blocks, re-encoded when it is not; upright and metadata-free either way."""
    app = checks_off
    src = tmp_path / "upright.jpg"
    src.write_bytes(jpeg_bytes(scene(*size, seed=70), orientation=6, quality=92))
    preset = Preset("original", max_size=0, quality=95, format="original")
    [r] = app.engine.run([src], "test", preset)
    assert r.status == "done", r.reason
    out = fetch(r.url, tmp_path / "out.jpg")
    img = pixels(out)
    assert img.size == size  # shown as the camera meant
    red = img.getpixel((2, 2))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60  # top-left marker is top left
    assert leaks(exiftool_json(exiftool, [out])[str(out)], False) == []
    if size == (96, 64) and encode_jpegtran_available():
        ours = entropy_coded(out.read_bytes())
        turned = subprocess.run(
            ["jpegtran", "-copy", "none", "-perfect", "-rotate", "90", str(src)],
            capture_output=True,
            check=True,
        ).stdout
        assert ours == entropy_coded(turned)  # the lossless turn, not a re-encode


def encode_jpegtran_available() -> bool:
    from desktop_uploader.pipeline import jpeg_lossless

    return jpeg_lossless.jpegtran() is not None


# -- the encoder and the audit on their own -------------------------------------------------------
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "AVIF", "GIF"])
def test_the_encoder_ignores_what_a_decoded_image_carries(tmp_path, fmt):
    """Pillow's encoders fall back to ``img.info`` (and TIFF to the decoded tags): give the
    encoder an image loaded with all of it and check the file with the audit and by bytes."""
    img = Image.new("RGB", (32, 24), (10, 120, 200))
    img.info.update(
        comment=b"Secret comment",
        icc_profile=wide_gamut_icc(),
        exif=b"Exif\x00\x00Secret",
        xmp=b"<x:xmpmeta>Secret</x:xmpmeta>",
        dpi=(300, 300),
    )
    img.encoderinfo = {"comment": b"Secret left over", "xmp": b"Secret xmp"}
    buf = io.BytesIO()
    encode.encode(img, fmt, {}, buf)
    data = buf.getvalue()
    assert b"Secret" not in data and b"Wide Gamut" not in data
    assert metadata_audit.find_metadata(data, fmt, None) == []


def test_a_decoded_tiff_passes_none_of_its_tags(tmp_path, exiftool):
    src = write_inputs(tmp_path / "in", exiftool, wide_gamut_icc())["tiff"]
    buf = io.BytesIO()
    with Image.open(src) as im:  # a TiffImageFile, with tag_v2 holding XMP/IPTC/GPS
        encode.encode(im, "TIFF", {"compression": "tiff_deflate"}, buf)
    assert metadata_audit.find_metadata(buf.getvalue(), "TIFF", None) == []
    assert b"Secret" not in buf.getvalue()


@pytest.mark.parametrize("option", ["exif", "xmp", "comment", "icc_profile", "pnginfo", "dpi"])
def test_the_encoder_refuses_options_that_write_metadata(option):
    with pytest.raises(ValueError, match="not allowed"):
        encode.encode(Image.new("RGB", (4, 4)), "PNG", {option: b"x"}, io.BytesIO())


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "AVIF", "GIF"])
def test_the_audit_finds_what_pillow_writes_when_asked(fmt, tmp_path):
    """The last check before upload catches metadata whichever way it got in."""
    img = Image.new("RGB", (32, 24), (200, 50, 50))
    kwargs = {
        "JPEG": {"exif": b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00", "comment": b"hi"},
        "PNG": {"icc_profile": wide_gamut_icc()},
        "WEBP": {"xmp": b"<x:xmpmeta/>"},
        "TIFF": {"icc_profile": wide_gamut_icc()},
        "AVIF": {"exif": b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"},
        "GIF": {"comment": b"hello"},
    }[fmt]
    out = tmp_path / f"leaky.{fmt.lower()}"
    img.save(out, fmt, **kwargs)  # Pillow directly, not through encode
    assert metadata_audit.find_metadata(out.read_bytes(), fmt, None) != []
    with pytest.raises(metadata_audit.MetadataLeft):
        metadata_audit.check_file(out, fmt, None)


def test_an_output_the_audit_refuses_never_reaches_the_spool(tmp_path, exiftool, monkeypatch):
    """Fail closed: were the encoder to let metadata through, the job stops before upload."""
    from desktop_uploader.pipeline.process import process_image
    from desktop_uploader.pipeline.validate import probe

    src = write_inputs(tmp_path / "in", exiftool, icc=None)["tiff"]  # sRGB: pixels kept as read
    monkeypatch.setattr(encode, "_bare", lambda img: img)  # a bug: the decoded TIFF as it is
    spool = tmp_path / "spool"
    original = Preset("original", max_size=0, quality=95, format="original")
    with pytest.raises(metadata_audit.MetadataLeft, match="TIFF tag"):
        process_image(src, probe(src, Limits()), original, spool)
    assert [p.name for p in spool.iterdir()] == []


def test_nothing_in_the_app_encodes_outside_the_encode_module():
    """``encode`` is the only way to write an image: no other module calls an encoder."""
    allowed = {
        "desktop_uploader/pipeline/encode.py",
        # the clipboard's pixels saved as an *input* file, processed like any other file
        "desktop_uploader/gui/background.py",
        "desktop_uploader/integrations/clipboard.py",  # the same for the upload server
    }
    pattern = re.compile(r"\.save\([^)]|write_to_file|write_to_buffer|jpegsave|webpsave|heifsave")
    offenders = []
    for path in (ROOT / "desktop_uploader").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and rel not in allowed:
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []
