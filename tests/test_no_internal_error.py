"""No input ever ends as ``internal_error``: the whole hostile corpus, special files and a few
hundred deterministic mutations of valid files in every accepted format go through the real
engine and decoder workers; each must end ``done``/``duplicate`` or ``rejected`` with a specific
code. ``internal_error`` is kept for bugs in our own code, and the boundary tells the two apart.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from pathlib import Path

import pytest
from hostile import corpus, malware_cases, write
from imagegen import animated_gif_bytes, heic_bytes, jpeg_bytes, png_bytes, scene
from PIL import Image
from support import plain
from test_every_input_ends import special_files

from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline.boundary import as_rejection, raised_in

BOUND = 240  # seconds for the whole batch; each decode is capped by the workers' deadline


def valid_files() -> dict[str, bytes]:
    """Small valid files, one or two per format, for the mutations to start from."""
    pic = scene(64, 48, seed=81)
    out = {
        "base.jpg": jpeg_bytes(pic, quality=85),
        "base.png": png_bytes(pic.convert("RGBA")),
        "base.gif": animated_gif_bytes(frames=3, size=(32, 24)),
        "base.heic": heic_bytes(pic),
    }
    for name, fmt, kwargs in (
        ("progressive.jpg", "JPEG", {"progressive": True, "quality": 80}),
        ("base.webp", "WEBP", {"quality": 80}),
        ("lossless.webp", "WEBP", {"lossless": True}),
        ("base.tif", "TIFF", {"compression": "tiff_deflate"}),
        ("raw.tif", "TIFF", {}),
        ("base.avif", "AVIF", {"quality": 60}),
    ):
        buf = io.BytesIO()
        pic.save(buf, fmt, **kwargs)
        out[name] = buf.getvalue()
    buf = io.BytesIO()
    frames = [scene(32, 24, seed=s) for s in (1, 2)]
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=50)
    out["animated.webp"] = buf.getvalue()
    return out


def mutations(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    """``count`` damaged copies: bytes flipped (headers too), cut short, garbage inserted, a
    stretch repeated. The first 4 bytes stay, so each still sniffs as its format."""
    out = []
    for n in range(count):
        b = bytearray(data)
        kind = n % 5
        if kind == 0:  # a few bytes anywhere after the magic
            for _ in range(rng.randint(1, 12)):
                b[rng.randrange(4, len(b))] = rng.randrange(256)
        elif kind == 1:  # the header region: sizes, offsets, counts
            for _ in range(rng.randint(1, 6)):
                b[rng.randrange(4, min(len(b), 96))] = rng.choice((0, 0xFF, rng.randrange(256)))
        elif kind == 2:
            b = b[: rng.randrange(8, len(b))]
        elif kind == 3:
            at = rng.randrange(4, len(b))
            b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        else:
            at, size = rng.randrange(4, len(b)), rng.randint(1, 200)
            b[at:at] = b[at : at + size] * rng.randint(2, 5)
        out.append(bytes(b))
    return out


@pytest.fixture
def checked(app):
    dest = app.settings.destinations["test"]
    dest.malware_scan, dest.content_check = "off", "off"
    app.settings.limits.decode_timeout = 5.0
    app.settings.limits.max_frames = 10
    return app


def test_the_hostile_corpus_and_mutations_never_end_as_internal_error(checked, tmp_path):
    folder = tmp_path / "corpus"
    write(corpus() + malware_cases(), folder)
    special_files(folder / "specials")
    rng = random.Random(14)
    for name, data in valid_files().items():
        (folder / name).write_bytes(data)
        for i, mutated in enumerate(mutations(data, rng, 20)):
            stem, ext = name.rsplit(".", 1)
            (folder / "mutated" / f"{stem}-{i:02}.{ext}").parent.mkdir(exist_ok=True)
            (folder / "mutated" / f"{stem}-{i:02}.{ext}").write_bytes(mutated)
    jobs = checked.engine.submit_paths([folder], "test", checked.settings.preset(None))
    assert len(jobs) > 250
    results = [j.future.result(timeout=BOUND) for j in jobs]
    internal = [(Path(r.source).name, r.reason) for r in results if r.code == "internal_error"]
    assert internal == []
    assert {r.status for r in results} <= {"done", "duplicate", "rejected", "skipped"}
    assert all(r.code and r.reason for r in results if r.status == "rejected")
    unplain = [(Path(r.source).name, r.reason) for r in results if not plain(r.reason or "")]
    assert unplain == []  # words for people; the libraries' own words are in the log
    # a folder is forgiving (issue 15): only bytes that are no image at all are passed over
    assert {r.code for r in results if r.status == "skipped"} <= {"not_an_image"}
    codes = Counter(r.code for r in results)
    print(sorted(codes.items(), key=str))
    assert {"not_a_regular_file", "corrupt", "truncated", "polyglot"} <= set(codes)


def test_the_boundary_blames_the_decoder_not_our_code():
    with pytest.raises(Exception) as from_pillow:
        Image.open(io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(30)), formats=["PNG"]).load()
    rejection = as_rejection(from_pillow.value)
    assert isinstance(rejection, Rejected) and rejection.code in ("undecodable", "corrupt")
    assert plain(rejection.message), rejection.message  # the library's words go to the log
    bomb = as_rejection(Image.DecompressionBombError("Image size (1 pixels) exceeds limit"))
    assert bomb.code == "too_many_pixels" and plain(bomb.message), bomb.message
    assert raised_in(from_pillow.value) == "PIL"
    from desktop_uploader.pipeline import process

    with pytest.raises(TypeError) as ours:
        process.target_size(1, 1, None)  # a TypeError inside our code: a bug, not the file
    assert raised_in(ours.value) is None and as_rejection(ours.value) is None
    unreadable = as_rejection(PermissionError(13, "Permission denied"), Path("/x.jpg"))
    assert unreadable.code == "unreadable"
