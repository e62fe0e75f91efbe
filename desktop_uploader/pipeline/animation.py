"""Animations for the process stage: every frame composited, in sRGB, with the source's timing."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageSequence

from desktop_uploader.pipeline.colour import to_srgb as _to_srgb


@dataclass(frozen=True)
class Timing:
    """An animation's timeline: each frame's duration in ms, and how many times it plays
    (0: for ever)."""

    durations: list[int]
    plays: int


def _plays(im: Image.Image, fmt: str) -> int:
    """How many times the source animation plays, as viewers play it (0: for ever).

    GIF's loop count says how often to *repeat*: no NETSCAPE block plays once, 0 for ever,
    n plays n + 1 times (browsers; gif2webp converts it so). WebP's and APNG's count the plays
    themselves."""
    loop = im.info.get("loop")
    if fmt == "GIF":
        return 1 if loop is None else 0 if loop == 0 else int(loop) + 1
    return int(loop or 0)


def _frame_duration(frame: Image.Image) -> int:
    """A frame's duration in ms as viewers show it: browsers show frames that ask for 10 ms or
    less for 100 ms (an old GIF convention), so such frames keep what people saw."""
    d = int(frame.info.get("duration") or 0)
    return d if d > 10 else 100


def load_animation(
    im: Image.Image, size: tuple[int, int], fmt: str
) -> tuple[list[Image.Image], Timing]:
    """Every frame composited onto the canvas (the source's disposal and blending applied:
    the encoder gets what each frame shows), with the source's timing."""
    frames: list[Image.Image] = []
    durations: list[int] = []
    icc = im.info.get("icc_profile")
    plays = _plays(im, fmt)
    for frame in ImageSequence.Iterator(im):
        rgba = _to_srgb(frame.convert("RGBA"), icc)
        durations.append(_frame_duration(frame))  # after the decode: WebP sets it then
        if size != rgba.size:
            rgba = rgba.resize(size, Image.Resampling.LANCZOS)
        frames.append(rgba)
    return frames, Timing(durations, plays)
