"""The smoke test's window step (``--smoke-test``): open the real main window, wait until it
has warmed up and lists the uploaded sample, close it. Qt lives here, not in smoke.py."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from desktop_uploader import platform
from desktop_uploader.app import App
from desktop_uploader.desktop import DesktopApp
from desktop_uploader.errors import SmokeFailure


def open_and_close_window(app: App, hand_over: Path | None = None) -> str:
    """Raise ``SmokeFailure`` unless the window shows, warms up and lists the sample; returns
    what was seen. ``hand_over``: a file that a second run of the app (``desktop-uploader
    FILE``, as file managers start it) must hand to this window's queue."""
    from desktop_uploader.gui.main import tune_for_responsiveness
    from desktop_uploader.gui.main_window import MainWindow

    tune_for_responsiveness()
    qt_app = QApplication.instance() or QApplication([sys.argv[0]])
    qt_app.setApplicationName("Desktop Uploader")
    window = MainWindow(DesktopApp(app), tray=False)
    loop = QEventLoop()
    warmed = []
    window.warmed_up.connect(lambda: (warmed.append(True), loop.quit()))
    window.show()
    shown_after = platform.current().seconds_since_start()
    QTimer.singleShot(60_000, loop.quit)
    if not warmed:
        loop.exec()
    try:
        if not window.isVisible():
            raise SmokeFailure("the main window did not become visible")
        if not warmed:
            raise SmokeFailure("the main window did not finish warming up within 60 s")
        rows = window.history_model.rowCount()
        if rows < 1:
            raise SmokeFailure("the history in the window does not list the uploaded sample")
        if hand_over is not None:
            handed = hand_off_from_second_run(window, hand_over)
    finally:
        window.quit()
        with contextlib.suppress(RuntimeError):
            qt_app.processEvents()
        window.shutdown()
    since = f", shown {shown_after:.2f} s into the run" if shown_after else ""
    seen = f"opened on '{qt_app.platformName()}'{since}, {rows} history row(s), closed"
    return seen if hand_over is None else f"{seen}; hand-off: {handed}"


def hand_off_from_second_run(window, path) -> str:
    """Run ``desktop-uploader PATH`` (this build again) while the window serves, and wait until
    the path is in the window's queue and finished."""
    import subprocess
    import time

    from desktop_uploader.gui.main import serve_later_runs
    from desktop_uploader.localstore import self_command

    instance = serve_later_runs(window)
    if instance is None:
        raise SmokeFailure("another window already serves this home: no hand-off to test")
    proc = subprocess.Popen(
        [*self_command(), str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    try:

        def row():
            rows = [r for r in window.queue_model.rows() if r.source == str(path)]
            return rows[0] if rows else None

        while (proc.poll() is None or not (row() and row().finished)) and (
            time.monotonic() < deadline
        ):
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 100)
            time.sleep(0.02)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        instance.close()
    if proc.returncode != 0:
        raise SmokeFailure(f"`desktop-uploader {path.name}` failed: {err.strip()}")
    if row() is None or not row().finished:
        raise SmokeFailure(f"the handed-over {path.name} did not finish in the window's queue")
    return f"{err.strip()}; {path.name} {row().stage} in the window's queue"
