"""Watch-to-URL latency: a 5 MB JPEG appears in a watched folder -> its public URL answers 200.

Starts the embedded store (the product's own code) in a temporary home, watches a folder with
the real ``FolderWatcher`` and engine (default preset: 2048 px WebP + thumbnail; malware scan
and content check as the local destination's defaults), then drops N photo-like JPEGs one at a
time the way browsers and sync clients finish a download: written under a ``.part`` name, then
renamed into place. The clock starts at the rename and stops when a GET of the public URL
answers 200. Also times a start-up scan of 10,000 already-uploaded files.

    .venv/bin/python bench/latency.py [--n 20] [--corpus DIR] [--scan-files 10000]

Prints a table (p50/p95 and where the time goes). Not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from benchstats import percentile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MAKE_CORPUS = Path("/work/shared/bench/make_corpus.py")


def corpus(args: argparse.Namespace) -> list[Path]:
    """Photo-like 12-MP JPEGs at quality 95 (~5 MB), made once with make_corpus.py."""
    folder = Path(args.corpus or Path(tempfile.gettempdir()) / "du-bench-corpus-q95")
    files = sorted(folder.glob("*.jpg"))
    if len(files) < args.n:
        if not MAKE_CORPUS.exists():
            sys.exit(f"no corpus in {folder} and no {MAKE_CORPUS} to make one")
        print(f"making {args.n} 12-MP JPEGs (q95) in {folder} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, str(MAKE_CORPUS), str(folder), str(args.n), "--quality", "95"],
            check=True,
        )
        files = sorted(folder.glob("*.jpg"))
    return files[: args.n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--corpus", help="folder of JPEGs (made with make_corpus.py if too few)")
    ap.add_argument("--scan-files", type=int, default=10_000)
    ap.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = ap.parse_args()

    from desktop_uploader import events as ev
    from desktop_uploader.app import App
    from desktop_uploader.config import WatchedFolder
    from desktop_uploader.paths import AppPaths
    from desktop_uploader.watch import FolderWatcher

    files = corpus(args)
    work = Path(tempfile.mkdtemp(prefix="du-bench-latency-"))
    paths = AppPaths(work / "config", work / "data", work / "cache").ensure()
    app = App(paths, notice=lambda m: print(f"note: {m}", file=sys.stderr))
    app.settings.local_store.volume_size_limit_mb = 256
    store = app.local_store.start()
    inbox = work / "inbox"
    inbox.mkdir()
    marks: dict[str, dict[str, float]] = {}
    done: dict[str, object] = {}
    arrived = threading.Condition()

    def on_event(e) -> None:
        m = marks.setdefault(Path(e.source).name, {})
        stage = e.data.get("stage") if e.kind == ev.STAGE else e.kind
        m.setdefault(stage, time.perf_counter())

    def on_result(path: Path, result) -> None:
        with arrived:
            done[path.name] = result
            arrived.notify_all()

    app.engine.subscribe(on_event)
    watcher = FolderWatcher(
        app.engine, app.journal, app.settings, [WatchedFolder(str(inbox))], on_result=on_result
    )
    rows = []
    try:
        watcher.start()
        watcher.scanned.wait(30)
        warm = inbox / "warmup.jpg.part"  # first run pays imports, worker start, connections
        shutil.copyfile(files[0], warm)
        warm.rename(inbox / "warmup.jpg")
        with arrived:
            arrived.wait_for(lambda: "warmup.jpg" in done, 120)
        for i, src in enumerate(files):
            name = f"photo{i:03d}.jpg"
            part = inbox / f"{name}.part"
            shutil.copyfile(src, part)
            t0 = time.perf_counter()
            part.rename(inbox / name)
            with arrived:
                if not arrived.wait_for(lambda n=name: n in done, 120):
                    sys.exit(f"{name} did not arrive")
            result = done[name]
            if result.status not in ("done", "duplicate"):
                sys.exit(f"{name}: {result.status} {result.reason}")
            with urllib.request.urlopen(result.url, timeout=10) as resp:
                resp.read()
                assert resp.status == 200
            t1 = time.perf_counter()
            m = marks.get(name, {})
            rows.append(
                {
                    "total": t1 - t0,
                    "detect": m.get(ev.QUEUED, t0) - t0,
                    "validate+process": m.get("uploading", t0) - m.get(ev.QUEUED, t0),
                    "upload+verify": m.get(ev.DONE, t1) - m.get("uploading", t0),
                    "size": src.stat().st_size,
                }
            )
        scan = startup_scan(app, work, args.scan_files)
    finally:
        watcher.stop()
        app.close()
        app.local_store.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    sizes = [r["size"] for r in rows]
    print(
        f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{len(rows)} JPEGs of {statistics.median(sizes) / 1e6:.1f} MB median "
        f"(S3 {store.s3_endpoint})\n"
    )
    print("| step | p50 s | p95 s |")
    print("|---|---:|---:|")
    for key in ("detect", "validate+process", "upload+verify", "total"):
        vals = [r[key] for r in rows]
        print(f"| {key} | {percentile(vals, 0.5):.3f} | {percentile(vals, 0.95):.3f} |")
    print(
        f"\nstart-up scan: {scan['files']} files known to the journal + {scan['new']} new: "
        f"{scan['seconds']:.2f} s, {scan['found']} found to upload"
    )


def startup_scan(app, work: Path, n: int) -> dict:
    """Time a FolderWatcher start over ``n`` files already uploaded (recorded in the journal)
    plus 10 new ones; nothing is submitted (the engine is paused)."""
    from desktop_uploader.config import WatchedFolder
    from desktop_uploader.watch import FolderWatcher

    folder = work / "library"
    for sub in range(n // 500 + 1):
        (folder / f"d{sub:03d}").mkdir(parents=True)
    for i in range(n):
        p = folder / f"d{i // 500:03d}" / f"img{i:05d}.jpg"
        p.write_bytes(b"x" * 64)
        st = p.stat()
        app.journal.record_watched(str(p), st.st_size, st.st_mtime_ns, "done")
    for i in range(10):
        (folder / f"new{i}.jpg").write_bytes(b"y" * 64)
    app.engine.pause()
    w = FolderWatcher(app.engine, app.journal, app.settings, [WatchedFolder(str(folder))])
    t = time.perf_counter()
    w.start()
    w.scanned.wait(600)
    seconds = time.perf_counter() - t
    found = sum(w.backlog().values())
    w.stop()
    return {"files": n, "new": 10, "seconds": seconds, "found": found}


if __name__ == "__main__":
    main()
