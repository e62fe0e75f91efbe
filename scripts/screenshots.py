"""Screenshots of the real window under Xvfb, for docs/screenshots/ (refresh them with this).

Starts its own Xvfb (Debian ``xvfb``; Qt's xcb plugin also needs the libxcb packages listed in
scripts/system-deps.sh), the embedded SeaweedFS store in a temporary home, uploads the bundled
samples, then captures:

- ``main-uploading.png``: the queue while a batch is being processed and uploaded
- ``history.png``: the history gallery with thumbnails
- ``settings.png``: the settings dialog on the Destinations page
- ``review.png``: the review dialog asking about a file the content check held

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_xvfb(size: str = "1280x860x24") -> tuple[subprocess.Popen, str]:
    """Xvfb on the first free display number; returns (process, ":N")."""
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        raise SystemExit("Xvfb not found: install the Debian package xvfb (scripts/system-deps.sh)")
    for n in range(90, 200):
        if Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists():
            continue
        proc = subprocess.Popen(
            [xvfb, f":{n}", "-screen", "0", size, "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                return proc, f":{n}"
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.kill()
        proc.wait()
    raise SystemExit("could not start Xvfb")


def make_batch(folder: Path, count: int) -> list[Path]:
    """Larger photo-like JPEGs, so the queue is visibly busy for a moment."""
    sys.path.insert(0, str(ROOT / "bench"))
    from gui_responsiveness import make_images

    return make_images(folder, count, (3200, 2400))


def write_astronaut(path: Path) -> None:
    """scikit-image's astronaut sample (dev extra) as a JPEG."""
    from PIL import Image
    from skimage import data

    Image.fromarray(data.astronaut()).save(path, "JPEG", quality=92)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    xvfb, display = start_xvfb()
    home = Path(tempfile.mkdtemp(prefix="du-screenshots-"))
    os.environ.update(
        DISPLAY=display, QT_QPA_PLATFORM="xcb", DESKTOP_UPLOADER_HOME=str(home / "home")
    )
    os.environ.pop("WAYLAND_DISPLAY", None)
    # a script must not read or write the user's real keyring
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    try:
        return capture(args.out, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        xvfb.terminate()
        xvfb.wait(10)


def capture(out: Path, home: Path) -> int:
    from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: TID251
    from PySide6.QtWidgets import QApplication  # noqa: TID251

    from desktop_uploader.app import App
    from desktop_uploader.gui.main import tune_for_responsiveness
    from desktop_uploader.gui.main_window import MainWindow

    tune_for_responsiveness()
    qt_app = QApplication([sys.argv[0]])
    qt_app.setApplicationName("Desktop Uploader")
    app = App()
    store = app.local_store
    store.start()
    window = None
    try:
        window = MainWindow(app, tray=False)
        window.resize(1180, 720)
        window.show()

        def wait_until(check, timeout: float = 180.0) -> None:
            loop = QEventLoop()
            deadline = time.monotonic() + timeout
            timer = QTimer()
            timer.setInterval(20)
            timer.timeout.connect(
                lambda: loop.quit() if check() or time.monotonic() > deadline else None
            )
            timer.start()
            loop.exec()
            timer.stop()
            if not check():
                raise SystemExit("timed out waiting for the window")

        def finished() -> bool:
            rows = window.queue_model.rows()
            return bool(rows) and all(r.finished for r in rows)

        # 1. the bundled samples, as after `make demo`
        window.add_paths([ROOT / "resources" / "samples"])
        wait_until(finished)
        window.queue_model.clear_finished()

        # 2. a batch mid-upload, with one file cut short (a copy that did not finish)
        batch = home / "camera"
        batch.mkdir()
        shots = make_batch(batch, 10)
        whole = shots[0].read_bytes()
        (batch / "copy-cut-short.jpg").write_bytes(whole[: len(whole) // 3])
        window.add_paths([batch])

        def busy() -> bool:
            stages = [r.stage for r in window.queue_model.rows()]
            return (
                len(stages) == 11
                and "rejected" in stages
                and sum(s in ("done", "duplicate") for s in stages) >= 2
                and sum(s in ("processing", "uploading") for s in stages) >= 1
            )

        wait_until(busy)
        window.queue_panel.view.selectRow(window.queue_model.rowCount() - 1)
        qt_app.processEvents()
        window.grab().save(str(out / "main-uploading.png"))
        wait_until(finished)

        # 3. the history gallery with its thumbnails
        window.tabs.setCurrentWidget(window.history_panel)
        history = window.history_model
        shown = min(history.rowCount(), 12)
        for i in range(shown):
            history.data(history.index(i), Qt.ItemDataRole.DecorationRole)
        wait_until(
            lambda: all(
                window.thumbnails.get(history.row(i)["thumbnail_url"]) is not None
                or history.row(i)["status"] not in ("done", "duplicate")
                for i in range(shown)
            )
        )
        first_upload = next(
            i for i in range(history.rowCount()) if history.row(i)["status"] == "done"
        )
        window.history_panel.view.setCurrentIndex(history.index(first_upload))
        qt_app.processEvents()
        window.grab().save(str(out / "history.png"))

        # 4. settings: a cloud destination being added (nothing is saved)
        dialog = window.open_settings("destinations")
        page = dialog.destinations
        page.add_destination("blog-cdn")
        w = page.connection.widgets
        w["provider"].setCurrentText("r2")
        w["endpoint"].setText("https://0123456789abcdef.r2.cloudflarestorage.com")
        w["bucket"].setText("blog-images")
        w["prefix"].setText("photos")
        w["public_base_url"].setText("https://img.example.com")
        page.access_key.setText("AKIAEXAMPLE2024")
        page.secret_key.setPlaceholderText("required (kept in the system keyring)")
        qt_app.processEvents()
        dialog.grab().save(str(out / "settings.png"))
        dialog.reject()

        # 5. a file held for content review. No explicit picture here: the destination is set
        # to hold NudeNet's non-explicit FACE_FEMALE label, on scikit-image's astronaut photo.
        from desktop_uploader.gui.review_dialog import ReviewDialog

        dest = app.settings.destination(None)
        dest.content_check, dest.content_labels, dest.content_threshold = (
            "review",
            ["FACE_FEMALE"],
            0.5,
        )
        held = home / "held"
        held.mkdir()
        write_astronaut(held / "portrait.jpg")
        window.add_paths([held / "portrait.jpg"])

        def review_shown() -> bool:
            d = window.findChild(ReviewDialog)
            return d is not None and d.isVisible() and d.list.count() == 1 and d.loaded > 0

        wait_until(review_shown)
        review = window.findChild(ReviewDialog)
        qt_app.processEvents()
        review.grab().save(str(out / "review.png"))
    finally:
        if window is not None:
            window.shutdown()
            window.close()
        app.close()
        store.stop()
    for name in ("main-uploading.png", "history.png", "settings.png", "review.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
