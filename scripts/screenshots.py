"""Screenshots of the real window under Xvfb, for docs/screenshots/ (refresh them with this).

Starts its own Xvfb (Debian ``xvfb``; Qt's xcb plugin also needs the libxcb packages listed in
scripts/system-deps.sh), the embedded SeaweedFS store in a temporary home, and captures, for each
of light and dark at 1× and 2× scaling (``NAME-THEME-SCALEx.png``):

- ``history-empty``: the gallery on first run, with its hint
- ``scan-notice``: the queue's notice that files went up without a malware scan (only where
  ClamAV cannot scan: not installed, or no signatures yet)
- ``batch-finished``: the queue after a batch (samples, a copy, and a JPEG cut short, which is
  rejected), with the one notification for the batch in the status bar
- ``queue-menu``: the right-click menu on two finished rows
- ``history-uploaded`` / ``history-rejected``: the gallery filtered by its chips
- ``settings-destinations``, ``-presets``, ``-validation``, ``-watched``, ``-general``
- ``review``: the review dialog asking about a file the content check held

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--only light-1]
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


VARIANTS = ("light-1", "dark-1", "light-2", "dark-2")


def write_astronaut(path: Path) -> None:
    """scikit-image's astronaut sample (dev extra) as a JPEG."""
    from PIL import Image
    from skimage import data

    Image.fromarray(data.astronaut()).save(path, "JPEG", quality=92)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--only", choices=VARIANTS, help="one theme-scale variant (default: all)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only is None:  # each variant in its own process: scale is fixed at Qt's start
        for variant in VARIANTS:
            cmd = [sys.executable, __file__, "--out", str(args.out), "--only", variant]
            if subprocess.run(cmd).returncode:
                return 1
        return 0
    theme, scale = args.only.split("-")
    xvfb, display = start_xvfb("2560x1720x24" if scale == "2" else "1280x860x24")
    home = Path(tempfile.mkdtemp(prefix="du-screenshots-"))
    os.environ.update(
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        DESKTOP_UPLOADER_HOME=str(home / "home"),
        QT_SCALE_FACTOR=scale,
    )
    os.environ.pop("WAYLAND_DISPLAY", None)
    # a script must not read or write the user's real keyring
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    try:
        return capture(args.out, home, theme, f"{theme}-{scale}x")
    finally:
        shutil.rmtree(home, ignore_errors=True)
        xvfb.terminate()
        xvfb.wait(10)


def dark_palette():
    """A dark palette like a desktop's dark theme gives Qt (Fusion style)."""
    from PySide6.QtGui import QColor, QPalette  # noqa: TID251

    p = QPalette()
    roles = QPalette.ColorRole
    for role, color in (
        (roles.Window, "#202124"),
        (roles.WindowText, "#e8eaed"),
        (roles.Base, "#171717"),
        (roles.AlternateBase, "#26272a"),
        (roles.Text, "#e8eaed"),
        (roles.Button, "#2d2e31"),
        (roles.ButtonText, "#e8eaed"),
        (roles.ToolTipBase, "#3c4043"),
        (roles.ToolTipText, "#e8eaed"),
        (roles.PlaceholderText, "#9aa0a6"),
        (roles.Highlight, "#8ab4f8"),
        (roles.HighlightedText, "#202124"),
        (roles.Link, "#8ab4f8"),
    ):
        p.setColor(role, QColor(color))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):  # disabled looks disabled
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f7378"))
    return p


def capture(out: Path, home: Path, theme: str, suffix: str) -> int:
    from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer  # noqa: TID251
    from PySide6.QtWidgets import QApplication  # noqa: TID251

    from desktop_uploader.app import App
    from desktop_uploader.config import WatchedFolder
    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.main import tune_for_responsiveness
    from desktop_uploader.gui.main_window import MainWindow

    tune_for_responsiveness()
    qt_app = QApplication([sys.argv[0]])
    qt_app.setStyle("Fusion")  # the same look in every variant, as on most Linux desktops
    if theme == "dark":
        qt_app.setPalette(dark_palette())
    qt_app.setApplicationName("Desktop Uploader")
    app = App()
    store = app.local_store
    store.start()
    window = None
    saved: list[Path] = []

    def save(widget, name: str) -> None:
        path = out / f"{name}-{suffix}.png"
        widget.grab().save(str(path))
        saved.append(path)

    def wait_until(check, timeout: float = 240.0) -> None:
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

    def settle(ms: int = 300) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    try:
        window = MainWindow(DesktopApp(app), tray=False)
        window.resize(1180, 720)
        window.move(0, 0)
        window.show()
        history = window.history_model

        # 1. first run: the empty gallery says what to do
        window.tabs.setCurrentWidget(window.history_panel)
        wait_until(lambda: not history.loading)
        settle()
        save(window, "history-empty")

        # 2. a batch: the samples, a copy of one (the same picture again) and a JPEG cut short
        # (a copy that did not finish: rejected; a text file in a folder would only be skipped)
        batch = home / "camera"
        batch.mkdir()
        for f in sorted((ROOT / "resources" / "samples").glob("*.jpg")):
            shutil.copy(f, batch / f.name)
        shutil.copy(batch / "harbour.jpg", batch / "harbour-copy.jpg")
        whole = (batch / "harbour.jpg").read_bytes()
        (batch / "copy-cut-short.jpg").write_bytes(whole[: len(whole) // 3])
        window.add_paths([batch])
        wait_until(lambda: window.queue_model.rowCount() == 5 and window.queue_model.idle())
        wait_until(lambda: bool(window.toast.text()))
        window.queue_panel.view.selectRow(0)
        settle()
        save(window, "batch-finished")
        # where ClamAV cannot scan (not installed, no signatures) the queue says so on top
        if window.scan_notice.isVisible():
            save(window, "scan-notice")
        else:
            print("ClamAV scanned the batch here: no scan-notice shot", file=sys.stderr)

        # 3. the right-click menu on two finished rows (a popup: grab the screen)
        view = window.queue_panel.view
        view.selectRow(0)
        view.selectionModel().select(
            view.model().index(1, 0),
            view.selectionModel().SelectionFlag.Select | view.selectionModel().SelectionFlag.Rows,
        )
        menu = window.queue_panel.menu_actions()
        at = view.viewport().mapToGlobal(QPoint(180, view.rowViewportPosition(1) + 20))
        menu.popup(at)
        settle(500)
        geo = window.frameGeometry()
        shot = qt_app.primaryScreen().grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
        path = out / f"queue-menu-{suffix}.png"
        shot.save(str(path))
        saved.append(path)
        menu.close()

        # 4. the gallery, uploads and rejections apart
        window.tabs.setCurrentWidget(window.history_panel)
        panel = window.history_panel
        for chip in ("uploaded", "rejected"):
            panel.findChild(type(panel.chips.buttons()[0]), f"chip-{chip}").click()
            wait_until(lambda: not history.loading and history.rowCount() > 0)
            for i in range(history.rowCount()):
                history.data(history.index(i), Qt.ItemDataRole.DecorationRole)
            wait_until(
                lambda: all(
                    window.thumbnails.get(history.row(i)["thumbnail_url"]) is not None
                    or history.row(i)["status"] not in ("done", "duplicate")
                    for i in range(history.rowCount())
                )
            )
            panel.view.setCurrentIndex(history.index(0))
            settle()
            save(window, f"history-{chip}")

        # 5. settings: a cloud destination being added (nothing is saved), and every page
        dialog = window.open_settings("destinations")
        page = dialog.destinations
        page.add_destination("blog-cdn")
        w = page.connection.widgets
        w["provider"].setCurrentIndex(w["provider"].findData("r2"))
        w["endpoint"].setText("https://0123456789abcdef.r2.cloudflarestorage.com")
        w["bucket"].setText("blog-images")
        w["prefix"].setText("photos")
        w["public_base_url"].setText("https://img.example.com")
        page.access_key.setText("AKIAEXAMPLE2024")
        page.secret_key.setPlaceholderText("required (kept in the system keyring)")
        dialog.watched.add_folder(WatchedFolder(str(Path.home() / "Pictures" / "Camera")))
        dialog.watched.add_folder(
            WatchedFolder(str(Path.home() / "Downloads"), include=["*.png", "*.jpg"])
        )
        for name in ("destinations", "presets", "validation", "watched", "general"):
            dialog.show_page(name)
            settle()
            save(dialog, f"settings-{name}")
        dialog.reject()

        # 6. a file held for content review. No explicit picture here: the destination is set
        # to hold NudeNet's non-explicit FACE_FEMALE label, on scikit-image's astronaut photo.
        from desktop_uploader.gui.review_dialog import ReviewDialog
        from desktop_uploader.snapshots import draft, freeze

        edited = draft(app.settings)  # the window's settings are a read-only snapshot
        dest = edited.destination(None)
        dest.content_check, dest.content_labels, dest.content_threshold = (
            "review",
            ["FACE_FEMALE"],
            0.5,
        )
        app.use_settings(freeze(edited))
        held = home / "held"
        held.mkdir()
        write_astronaut(held / "portrait.jpg")
        window.add_paths([held / "portrait.jpg"])

        def review_shown() -> bool:
            d = window.findChild(ReviewDialog)
            return d is not None and d.isVisible() and d.list.count() == 1 and d.loaded > 0

        wait_until(review_shown)
        settle()
        save(window.findChild(ReviewDialog), "review")
    finally:
        if window is not None:
            window.shutdown()
            window.close()
        app.close()
        store.stop()
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
