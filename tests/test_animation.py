"""Faithful animation: per-frame durations, how many times it plays, and what each frame shows
(the source's disposal and blending) survive GIF → WebP and WebP → WebP.

Outputs are read back twice: with Pillow, and with libwebp's own ``webpmux -info`` (Debian
``webp``, in scripts/system-deps.sh).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageSequence

from desktop_uploader.config import Limits, Preset
from desktop_uploader.pipeline.process import process_image
from desktop_uploader.pipeline.validate import probe

SIZE = (64, 48)
RED, GREEN, BLUE = (230, 30, 30), (30, 200, 60), (40, 60, 230)


def distinct_frames(n: int) -> list[Image.Image]:
    out = []
    for i in range(n):
        im = Image.new("RGB", SIZE, (20 + 40 * i, 90, 200 - 40 * i))
        ImageDraw.Draw(im).rectangle((4 + 10 * i, 8, 18 + 10 * i, 30), fill=(250, 250, 0))
        out.append(im)
    return out


def encoded(frames: list[Image.Image], fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], **options)
    return buf.getvalue()


def timeline(path: Path) -> tuple[list[int], int | None]:
    """(each frame's duration, the loop count) as Pillow reads them."""
    durations = []
    with Image.open(path) as im:
        loop = im.info.get("loop")
        for frame in ImageSequence.Iterator(im):
            frame.load()  # WebP sets the duration when the frame is decoded
            durations.append(frame.info["duration"])
    return durations, loop


def webp_tool(name: str) -> str:
    tool = shutil.which(name)
    if not tool:
        msg = f"{name} missing: `make test` installs the Debian package webp"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return tool


def webpmux_info(path: Path) -> tuple[list[int], int]:
    """(each frame's duration, the loop count) as libwebp's webpmux reports them."""
    tool = webp_tool("webpmux")
    out = subprocess.run([tool, "-info", str(path)], capture_output=True, text=True).stdout
    loop = int(re.search(r"Loop Count\s*:\s*(\d+)", out).group(1))
    rows = re.findall(r"^\s*\d+:\s+(.*)$", out, flags=re.M)
    return [int(r.split()[5]) for r in rows], loop


def converted(tmp_path: Path, name: str, data: bytes, preset: Preset | None = None) -> Path:
    src = tmp_path / name
    src.write_bytes(data)
    info = probe(src, Limits())
    out = process_image(src, info, preset or Preset("default"), tmp_path / "spool")
    assert out.animated
    return out.main.path


# (durations given to the GIF, its loop count or None for no NETSCAPE block, plays expected)
GIF_CASES = [
    ([120, 90, 120, 90], 3, 4),  # GIF repeats 3 times after the first play: 4 plays
    ([3000, 40, 500], 0, 0),  # for ever
    ([200, 200, 60], None, 1),  # no loop block: browsers play it once
]


@pytest.mark.parametrize(("durations", "loop", "plays"), GIF_CASES)
def test_gif_to_webp_keeps_timing_and_plays(tmp_path, durations, loop, plays):
    options = {"duration": durations} | ({"loop": loop} if loop is not None else {})
    data = encoded(distinct_frames(len(durations)), "GIF", **options)
    src = tmp_path / "src.gif"
    src.write_bytes(data)
    assert timeline(src) == (durations, loop)  # the source says what we meant
    out = converted(tmp_path, "anim.gif", data)
    assert timeline(out) == (durations, plays)
    assert webpmux_info(out) == (durations, plays)


@pytest.mark.parametrize(("durations", "loop", "plays"), GIF_CASES)
def test_gif_timing_matches_libwebps_own_converter(tmp_path, durations, loop, plays):
    # gif2webp, libwebp's reference GIF converter, is the peer: same timeline, same plays
    options = {"duration": [0, 10, *durations]} | ({"loop": loop} if loop is not None else {})
    src = tmp_path / "src.gif"
    src.write_bytes(encoded(distinct_frames(len(durations) + 2), "GIF", **options))
    theirs = tmp_path / "gif2webp.webp"
    tool = webp_tool("gif2webp")
    subprocess.run([tool, "-quiet", "-lossy", str(src), "-o", str(theirs)], check=True)
    ours = converted(tmp_path, "anim.gif", src.read_bytes())
    assert webpmux_info(ours) == webpmux_info(theirs) == ([100, 100, *durations], plays)


@pytest.mark.parametrize(
    ("durations", "loop"),
    [([3000, 3000, 3000], 3), ([120, 90, 120, 90, 700], 0), ([50, 1000], 1)],
)
def test_webp_to_webp_keeps_timing_and_plays(tmp_path, durations, loop):
    data = encoded(distinct_frames(len(durations)), "WEBP", duration=durations, loop=loop)
    out = converted(tmp_path, "anim.webp", data)
    assert timeline(out) == (durations, loop)
    assert webpmux_info(out) == (durations, loop)


@pytest.mark.parametrize(("fmt", "plays"), [("GIF", 3), ("PNG", 2), ("WEBP", 2)])
def test_the_original_preset_keeps_them_too(tmp_path, fmt, plays):
    """Timing, plays, and for lossless sources (GIF, APNG, lossless WebP) every pixel."""
    from desktop_uploader.pipeline.formats import webp_is_lossless

    lossless = {"lossless": True} if fmt == "WEBP" else {}
    data = encoded(distinct_frames(3), fmt, duration=[70, 300, 1500], loop=2, **lossless)
    original = Preset("original", max_size=0, format="original")
    out = converted(tmp_path, f"anim.{fmt.lower()}", data, original)
    assert timeline(out) == ([70, 300, 1500], plays)  # a GIF's loop 2 is 3 plays
    assert webp_is_lossless(out)
    with Image.open(io.BytesIO(data)) as src, Image.open(out) as got:
        for n in range(3):
            src.seek(n)
            got.seek(n)
            assert src.convert("RGBA").tobytes() == got.convert("RGBA").tobytes(), n


def test_frames_of_ten_ms_or_less_keep_what_browsers_show(tmp_path):
    # browsers show GIF frames asking for 0-10 ms for 100 ms; the WebP keeps that look
    data = encoded(distinct_frames(3), "GIF", duration=[0, 10, 250], loop=0)
    out = converted(tmp_path, "fast.gif", data)
    assert timeline(out)[0] == [100, 100, 250]


def _lzw_literals(indices: list[int]) -> bytes:
    """GIF image data (LZW minimum code size 2) that sends every pixel as a literal: a clear
    code after every two pixels keeps the code width at 3 bits in any decoder."""
    codes = [4]  # clear
    for i in range(0, len(indices), 2):
        codes += [*indices[i : i + 2], 4]
    codes.append(5)  # end of information
    bits = "".join(format(c, "03b")[::-1] for c in codes)  # least significant bit first
    bits += "0" * (-len(bits) % 8)
    data = bytes(int(bits[i : i + 8][::-1], 2) for i in range(0, len(bits), 8))
    blocks = b"".join(bytes([len(data[i : i + 255])]) + data[i : i + 255]
                      for i in range(0, len(data), 255))  # fmt: skip
    return b"\x02" + blocks + b"\x00"


def disposal_gif() -> bytes:
    """A GIF written by hand whose frames store only their own square on a transparent
    canvas: red (disposal: keep), green (disposal: restore to background), blue. Frame 3
    shows red and blue only if the reader keeps frame 1 and disposes of frame 2."""
    palette = bytes([0, 0, 0, *RED, *GREEN, *BLUE])  # index 0 is the transparent one
    w, h = SIZE
    out = b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80 | 0x10 | 1, 0, 0) + palette
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", 0) + b"\x00"  # for ever
    for index, (x, y), disposal, delay in (
        (1, (2, 2), 1, 10),
        (2, (24, 2), 2, 15),
        (3, (46, 2), 1, 20),
    ):
        out += b"\x21\xf9\x04" + struct.pack("<BHBB", disposal << 2 | 1, delay, 0, 0)
        out += b"\x2c" + struct.pack("<HHHHB", x, y, 16, 16, 0)
        out += _lzw_literals([index] * 16 * 16)
    return out + b"\x3b"


def shown_frames(path: Path) -> list[Image.Image]:
    with Image.open(path) as im:
        return [frame.convert("RGBA") for frame in ImageSequence.Iterator(im)]


def test_disposal_survives(tmp_path):
    data = disposal_gif()
    src = tmp_path / "src.gif"
    src.write_bytes(data)
    with Image.open(src) as im:
        im.seek(1)
        assert im.disposal_method == 2
    out = converted(tmp_path, "disposal.gif", data)

    def at(frame: Image.Image, x: int) -> tuple[int, ...]:
        return frame.getpixel((x, 10))

    def is_(pixel, colour) -> bool:
        return pixel[3] > 200 and all(abs(a - b) <= 40 for a, b in zip(pixel, colour, strict=False))

    def empty(pixel) -> bool:
        # the bare canvas: transparent; Pillow shows it black in a WebP whose frames carry no
        # alpha (browsers show it transparent; libwebp's gif2webp writes the same file)
        return pixel[3] < 50 or max(pixel[:3]) < 20

    for shown in (shown_frames(src), shown_frames(out)):  # the source as Pillow shows it, ours
        first, second, third = shown
        assert is_(at(first, 10), RED) and empty(at(first, 32))
        assert is_(at(second, 10), RED) and is_(at(second, 32), GREEN)
        assert is_(at(third, 10), RED) and empty(at(third, 32))  # green was disposed of
        assert is_(at(third, 54), BLUE)
