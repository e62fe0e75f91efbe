"""Memory benchmark: peak RSS of `desktop-uploader process` (whole process tree: the CLI and its
decoder workers) for (a) a batch of 1,000 files and (b) one 100-megapixel image.

    .venv/bin/python bench/memory.py [--files 1000] [--big-mp 100]

Goals (issue "Performance"): < 500 MB for the batch, < 1 GB for the 100-MP image. The batch
uses 2-MP photo-like JPEGs so the run takes minutes, not an hour; memory per file in flight is
what matters, and the batch shows whether it grows with the batch size (it must not).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from process import run  # noqa: E402  (wall time and peak tree RSS of a command)


def photo(width: int, height: int, seed: int):
    """A cheap photo-like image: gradients plus noise (compresses like a real photo)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / width * 200, y / height * 200, (x + y) / (width + height) * 255], -1)
    noise = rng.normal(0, 12, (height, width, 1)).astype(np.float32)
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--big-mp", type=int, default=100)
    ap.add_argument("--checks", action="store_true", help="keep malware/content checks on")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="du-bench-mem-"))
    du = str(Path(sys.executable).parent / "desktop-uploader")
    env = dict(os.environ, DESKTOP_UPLOADER_HOME=str(tmp / "home"))
    off = [] if args.checks else ["--malware-scan", "off", "--content-check", "off"]
    try:
        batch = tmp / "batch"
        batch.mkdir()
        seed_imgs = [photo(1732, 1155, s) for s in range(8)]  # 2 MP
        for i in range(args.files):
            seed_imgs[i % 8].save(batch / f"b{i:05d}.jpg", quality=88 - i % 5)
        side = int((args.big_mp * 1e6) ** 0.5)
        big = tmp / "big"
        big.mkdir()
        photo(side, side, 99).save(big / "huge.jpg", quality=85)
        big_png = tmp / "big-png"  # no DCT-domain shortcut for PNG: the full decode
        big_png.mkdir()
        photo(side, side, 98).save(big_png / "huge.png", compress_level=1)
        rows = []
        cases = (
            ("batch", batch, args.files),
            (f"{args.big_mp}-MP JPEG", big, 1),
            (f"{args.big_mp}-MP PNG", big_png, 1),
        )
        for name, src, n in cases:
            out = tmp / f"out-{src.name}"
            wall, peak, _cpu = run([du, "process", "--out", str(out), *off, str(src)], env)
            made = len([p for p in out.iterdir() if not p.name.endswith(".thumb.webp")])
            assert made == n, f"{name}: {made} of {n} outputs"
            rows.append((name, n, wall, peak))
        print("| case | files | wall s | peak RSS (process tree) |")
        print("|---|---|---|---|")
        for name, n, wall, peak in rows:
            print(f"| {name} | {n} | {wall:.1f} | {peak / 1e6:.0f} MB |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
