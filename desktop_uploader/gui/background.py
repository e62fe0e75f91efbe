"""Work the window hands to its worker threads: plain functions, no Qt (see ``waker``)."""

from __future__ import annotations

import time
from pathlib import Path


def submit_paths(engine, paths: list[Path], profile: str, preset) -> int:
    """Expand folders and queue every file, refused entries included so each shows its
    reason; files found in folders are skipped if they are not images at all (runs on the
    intake worker, not the GUI thread)."""
    return len(engine.submit_paths(paths, profile, preset))


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


def warm_up(app) -> None:
    """Start the decoder workers and load the S3 library now, not on the first drop, so the
    first upload does not compete with the user for the CPU (runs on a worker thread)."""
    import boto3  # noqa: F401

    app.engine.checks.warm_up()
