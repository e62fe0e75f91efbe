"""Work the window hands to its worker threads: plain functions, no Qt (see ``waker``)."""

from __future__ import annotations

import time
from pathlib import Path


def save_clipboard_image(pixels: tuple[int, int, bytes], folder: Path) -> Path:
    """Write a pasted image (RGBA pixels) as PNG; worker thread, so Pillow rather than Qt."""
    from PIL import Image

    width, height, data = pixels
    im = Image.frombytes("RGBA", (width, height), data)
    if im.getextrema()[3][0] == 255:  # fully opaque: no alpha channel needed
        im = im.convert("RGB")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / time.strftime("clipboard-%Y%m%d-%H%M%S.png")
    n = 1
    while path.exists():
        n += 1
        path = folder / time.strftime(f"clipboard-%Y%m%d-%H%M%S-{n}.png")
    im.save(path, "PNG")
    return path
