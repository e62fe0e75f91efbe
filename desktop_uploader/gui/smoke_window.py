"""The smoke test's window step (``--smoke-test``): open the real main window, wait until it
has warmed up and lists the uploaded sample, close it. Qt lives here, not in smoke.py."""

from __future__ import annotations

import contextlib
import sys

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from desktop_uploader import platform
from desktop_uploader.app import App
from desktop_uploader.desktop import DesktopApp
from desktop_uploader.errors import SmokeFailure


def open_and_close_window(app: App) -> str:
    """Raise ``SmokeFailure`` unless the window shows, warms up and lists the sample; returns
    what was seen."""
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
    finally:
        window.quit()
        with contextlib.suppress(RuntimeError):
            qt_app.processEvents()
        window.shutdown()
    since = f", shown {shown_after:.2f} s into the run" if shown_after else ""
    return f"opened on '{qt_app.platformName()}'{since}, {rows} history row(s), closed"
