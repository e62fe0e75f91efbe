"""Drop → link: one 12-MP photo-like JPEG, from the moment it lands to its public URL answering 200.

Two ways a desktop user hands over one photo (issue 19), each timed over N runs (default 8,
different photos, so none is a duplicate), after one warm-up run each:

* **moved into a watched folder** from another folder of the same file system (``os.rename``:
  what ``mv`` and a file manager's move do; inotify reports an unpaired IN_MOVED_TO);
* **dropped on the window** (offscreen Qt): a QDropEvent sent to the queue view, the same code
  path a file manager's drop takes.

Everything runs in a temporary home with the embedded store (the product's own code), the
default preset (2048-px WebP + 256-px thumbnail) and the default checks (malware scan
"optional": scanned when ClamAV answers; content check "review": NudeNet runs on every image).
The clock starts at the rename or the drop and stops when a GET of the public URL answers 200.
The breakdown comes from the engine's events (scan + probe, process, upload) and the decoder's
per-step timing (the debug log's "processed …" line).

    .venv/bin/python bench/drop_latency.py [--n 8] [--corpus DIR]

Needs scikit-image in the venv when it makes the corpus (../shared/bench/make_corpus.py).
Prints tables; not a test.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import shutil
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
MAKE_CORPUS = ROOT.parent / "shared" / "bench" / "make_corpus.py"
if not MAKE_CORPUS.exists():
    MAKE_CORPUS = Path("/work/shared/bench/make_corpus.py")
TARGET_P50, TARGET_P95 = 0.5, 0.8


def corpus(folder: Path | None, n: int) -> list[Path]:
    folder = folder or Path(tempfile.gettempdir()) / "du-bench-corpus-12mp"
    files = sorted(folder.glob("*.jpg"))
    if len(files) < n:
        print(f"making {n} 12-MP JPEGs in {folder} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(MAKE_CORPUS), str(folder), str(n)], check=True)
        files = sorted(folder.glob("*.jpg"))
    return files[:n]


class Steps(logging.Handler):
    """The decoder's per-step timing lines, by file name."""

    LINE = re.compile(r"processed (?P<path>.+?): (?P<steps>.*)$")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.by_name: dict[str, dict[str, float]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        m = self.LINE.match(record.getMessage())
        if m:
            steps = {}
            for part in m["steps"].split(", "):
                name, ms, _ = part.rsplit(" ", 2)
                steps[name] = float(ms) / 1000
            self.by_name[Path(m["path"]).name] = steps


class Marks:
    """When each job reached each stage (perf_counter), by file name."""

    def __init__(self) -> None:
        self.by_name: dict[str, dict[str, float]] = {}
        self.results: dict[str, object] = {}
        self.cond = threading.Condition()

    def on_event(self, e) -> None:
        from desktop_uploader import events as ev

        name = Path(e.source).name
        stage = e.data.get("stage") if e.kind == ev.STAGE else e.kind
        with self.cond:
            self.by_name.setdefault(name, {}).setdefault(stage, time.perf_counter())
            if "result" in e.data:
                self.results[name] = e.data["result"]
                self.cond.notify_all()

    def wait(self, name: str, timeout: float = 120):
        with self.cond:
            if not self.cond.wait_for(lambda: name in self.results, timeout):
                sys.exit(f"{name}: no result within {timeout} s")
            return self.results[name]


def fetch(url: str) -> None:
    with urllib.request.urlopen(url, timeout=10) as resp:
        resp.read()
        if resp.status != 200:
            sys.exit(f"{url}: HTTP {resp.status}")


def row(name: str, t0: float, t1: float, marks: Marks, steps: Steps) -> dict[str, float]:
    m = marks.by_name.get(name, {})
    out = {
        "total": t1 - t0,
        "to queued": m.get("queued", t0) - t0,
        "scan + probe": m.get("processing", t0) - m.get("validating", t0),
        "process": m.get("uploading", t0) - m.get("processing", t0),
        "upload": m.get("done", t1) - m.get("uploading", t0),
        "GET 200": t1 - m.get("done", t1),
    }
    for k, v in steps.by_name.get(name, {}).items():
        out[f"  {k}"] = v
    return out


def by_watch(app, files: list[Path], work: Path, marks: Marks, steps: Steps) -> list[dict]:
    from desktop_uploader.config import WatchedFolder
    from desktop_uploader.watch import FolderWatcher

    inbox, elsewhere = work / "inbox", work / "elsewhere"
    inbox.mkdir()
    elsewhere.mkdir()
    folder = WatchedFolder(str(inbox), stable_seconds=2.0)
    watcher = FolderWatcher(app.engine, app.journal, app.settings, [folder])
    rows = []
    watcher.start()
    try:
        watcher.scanned.wait(30)
        for i, src in enumerate(files):
            name = f"moved{i:03d}.jpg"
            shutil.copyfile(src, elsewhere / name)
            time.sleep(0.3)  # the copy's own events are over; the machine settles
            t0 = time.perf_counter()
            os.rename(elsewhere / name, inbox / name)
            result = marks.wait(name)
            if result.status != "done":
                sys.exit(f"{name}: {result.status} {result.reason}")
            fetch(result.url)
            t1 = time.perf_counter()
            if i > 0:  # the first is the warm-up (connections, first decode)
                rows.append(row(name, t0, t1, marks, steps))
    finally:
        watcher.stop()
    return rows


def by_drop(app, files: list[Path], work: Path, marks: Marks, steps: Steps) -> list[dict]:
    from PySide6.QtCore import QEventLoop, QMimeData, QPointF, Qt, QUrl  # noqa: TID251
    from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: TID251
    from PySide6.QtWidgets import QApplication  # noqa: TID251

    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.main_window import MainWindow

    qt_app = QApplication.instance() or QApplication([sys.argv[0]])
    window = MainWindow(DesktopApp(app), tray=False)
    warm = QEventLoop()
    window.warmed_up.connect(warm.quit)
    window.show()
    warm.exec()  # as when the window has been open a moment before the first drop
    drops = work / "drops"
    drops.mkdir()
    rows = []
    try:
        for i, src in enumerate(files):
            name = f"dropped{i:03d}.jpg"
            shutil.copyfile(src, drops / name)
            qt_app.processEvents()
            time.sleep(0.3)
            viewport = window.queue_panel.view.viewport()
            mime = QMimeData()
            mime.setUrls([QUrl.fromLocalFile(str(drops / name))])
            pos = QPointF(viewport.rect().center())
            args = (
                Qt.DropAction.CopyAction,
                mime,
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
            )
            t0 = time.perf_counter()
            QApplication.sendEvent(viewport, QDragEnterEvent(pos.toPoint(), *args))
            QApplication.sendEvent(viewport, QDropEvent(pos, *args))
            deadline = time.monotonic() + 120
            while name not in marks.results and time.monotonic() < deadline:
                qt_app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
                time.sleep(0.002)
            result = marks.wait(name, 1)
            if result.status != "done":
                sys.exit(f"{name}: {result.status} {result.reason}")
            fetch(result.url)
            t1 = time.perf_counter()
            if i > 0:
                rows.append(row(name, t0, t1, marks, steps))
    finally:
        window.shutdown()
        window.close()
    return rows


def table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}: {len(rows)} runs")
    print("| step | p50 s | p95 s |")
    print("|---|---:|---:|")
    for key in rows[0]:
        vals = [r.get(key, 0.0) for r in rows]
        print(f"| {key} | {percentile(vals, 0.5):.3f} | {percentile(vals, 0.95):.3f} |")
    p50, p95 = (percentile([r["total"] for r in rows], q) for q in (0.5, 0.95))
    ok = p50 <= TARGET_P50 and p95 <= TARGET_P95
    print(f"target p50 ≤ {TARGET_P50} s, p95 ≤ {TARGET_P95} s: {'met' if ok else 'NOT met'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=8, help="timed runs per way (one warm-up more)")
    ap.add_argument("--corpus", type=Path, help="folder of 12-MP JPEGs (made if too few)")
    ap.add_argument("--only", choices=("watch", "drop"))
    args = ap.parse_args()
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    files = corpus(args.corpus, 2 * (args.n + 1))
    work = Path(tempfile.mkdtemp(prefix="du-bench-drop-"))
    os.environ["DESKTOP_UPLOADER_HOME"] = str(work / "home")

    from desktop_uploader.app import App

    steps = Steps()
    decoder_log = logging.getLogger("desktop_uploader.pipeline.decoder")
    decoder_log.setLevel(logging.DEBUG)
    decoder_log.addHandler(steps)
    app = App(notice=lambda m: print(f"note: {m}", file=sys.stderr))
    app.settings.local_store.volume_size_limit_mb = 256
    store = app.local_store.start()
    marks = Marks()
    app.engine.subscribe(marks.on_event)
    load = os.getloadavg()[0]
    half = args.n + 1
    try:
        watched = [] if args.only == "drop" else by_watch(app, files[:half], work, marks, steps)
        dropped = [] if args.only == "watch" else by_drop(app, files[half:], work, marks, steps)
        scanned = {getattr(r, "scanned", None) for r in marks.results.values()}
    finally:
        app.close()
        app.local_store.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.1f} before / {os.getloadavg()[0]:.1f} after, "
        f"{statistics_size(files)} MB median JPEG, S3 {store.s3_endpoint}, "
        f"malware scanned: {sorted(map(str, scanned))}"
    )
    if watched:
        table("moved into a watched folder from another folder", watched)
    if dropped:
        table("dropped on the window", dropped)


def statistics_size(files: list[Path]) -> str:
    sizes = sorted(p.stat().st_size for p in files)
    return f"{sizes[len(sizes) // 2] / 1e6:.1f}"


if __name__ == "__main__":
    main()
