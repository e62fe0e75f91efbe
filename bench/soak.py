"""Soak benchmark: `desktop-uploader watch` over many small files arriving in bursts; its RSS
must stay flat (finished jobs leave memory; the journal keeps them).

    .venv/bin/python bench/soak.py [--files 20000] [--burst 500] [--pause 2]

A fresh home with the embedded store (started by the product's own `local-store start`); checks
off (no scanner, no content model) so the run measures the engine, watcher and journal. Bursts
of `--burst` tiny unique JPEGs land in the watched folder every `--pause` seconds while earlier
ones are still going. The watch process's RSS (psutil) is sampled every second. Prints RSS at
start (watcher ready), after the first burst has finished (warm: decoder workers up, caches
filled), at the end, and the growth from warm to end. Goal (issue 16): growth < 50 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from io import BytesIO
from pathlib import Path

import psutil
from PIL import Image


def tiny_jpeg(i: int) -> bytes:
    """A 24×24 JPEG of its own: the index in the pixels, so no two files share bytes."""
    im = Image.new("RGB", (24, 24), ((i * 7) % 256, (i // 256) % 256, (i * 13) % 256))
    im.putpixel((i % 24, (i // 24) % 24), (255 - (i % 256), i % 251, 0))
    buf = BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """RSS of the watch process itself, and of it with its children (decoder workers)."""
    own = proc.memory_info().rss
    kids = 0
    for c in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            kids += c.memory_info().rss
    return own, own + kids


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--burst", type=int, default=500)
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between bursts")
    ap.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="du-soak-"))
    home, inbox = tmp / "home", tmp / "inbox"
    inbox.mkdir()
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.toml").write_text(
        'default_profile = "local"\n[destinations.local]\nprovider = "local"\n'
        'malware_scan = "off"\ncontent_check = "off"\n'
    )
    du = str(Path(sys.executable).parent / "desktop-uploader")
    env = dict(os.environ, DESKTOP_UPLOADER_HOME=str(home))
    subprocess.run([du, "local-store", "start"], env=env, check=True, capture_output=True)
    watch = subprocess.Popen(
        [du, "watch", str(inbox), "--json", "--stable-seconds", "0.3"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    results: dict[str, int] = {}
    lock = threading.Lock()

    def read() -> None:
        assert watch.stdout is not None
        for line in watch.stdout:
            status = json.loads(line)["status"]
            with lock:
                results[status] = results.get(status, 0) + 1

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    proc = psutil.Process(watch.pid)
    samples: list[tuple[float, int, int]] = []
    t0 = time.monotonic()

    def finished() -> int:
        with lock:
            return sum(results.values())

    def sample() -> None:
        own, tree = tree_rss(proc)
        samples.append((time.monotonic() - t0, own, tree))

    try:
        assert watch.stderr is not None
        while "watching" not in watch.stderr.readline():
            if watch.poll() is not None:
                raise SystemExit(f"watch did not start ({watch.returncode})")
        threading.Thread(target=watch.stderr.read, daemon=True).start()  # never let it fill
        sample()
        start = samples[-1]
        warm = None
        written = 0
        next_burst = time.monotonic()
        while finished() < args.files:
            if watch.poll() is not None:
                raise SystemExit(f"watch ended early ({watch.returncode})")
            now = time.monotonic()
            if written < args.files and now >= next_burst:
                for i in range(written, min(args.files, written + args.burst)):
                    (inbox / f"f{i:06d}.jpg").write_bytes(tiny_jpeg(i))
                written = min(args.files, written + args.burst)
                next_burst = now + args.pause
            if warm is None and finished() >= args.burst:
                sample()
                warm = samples[-1]
            time.sleep(1.0)
            sample()
        sample()
        end = samples[-1]
    finally:
        watch.send_signal(signal.SIGINT)
        try:
            watch.wait(120)
        except subprocess.TimeoutExpired:
            watch.kill()
        subprocess.run([du, "local-store", "stop"], env=env, capture_output=True)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    mb = 1e6
    wall = end[0]
    peak_own = max(s[1] for s in samples)
    assert warm is not None
    print(f"files: {args.files} in bursts of {args.burst} every {args.pause:g} s; {results}")
    print(f"wall: {wall:.0f} s ({args.files / wall:.1f} files/s)")
    print("| when | watch RSS | with decoder workers |")
    print("|---|---|---|")
    for name, s in (("start (watching)", start), ("first burst done", warm), ("end", end)):
        print(f"| {name} ({s[0]:.0f} s) | {s[1] / mb:.0f} MB | {s[2] / mb:.0f} MB |")
    print(f"peak watch RSS: {peak_own / mb:.0f} MB")
    growth = (end[1] - warm[1]) / mb
    print(f"growth first burst -> end: {growth:+.1f} MB (watch process); goal < 50 MB")
    print(f"growth start -> end: {(end[1] - start[1]) / mb:+.1f} MB (watch process)")
    return 0 if growth < 50 else 1


if __name__ == "__main__":
    sys.exit(main())
