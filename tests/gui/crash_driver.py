"""The desktop window in a child process, for test_crash_resume.py: the real App and MainWindow
(offscreen) on the home DESKTOP_UPLOADER_HOME names. It writes what its queue shows to REPORT
(JSON, replaced atomically every 0.2 s) until it is killed, or with --until-done until every row
has finished, then closes the window as Quit does.

    python tests/gui/crash_driver.py REPORT [--until-done] [--preset NAME FILE...]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop_uploader.app import App, setup_logging
from desktop_uploader.desktop import DesktopApp
from desktop_uploader.gui.main_window import MainWindow


def main(argv: list[str]) -> int:
    report = Path(argv[0])
    until_done = "--until-done" in argv
    files: list[Path] = []
    preset = None
    if "--preset" in argv:
        i = argv.index("--preset")
        preset, files = argv[i + 1], [Path(a) for a in argv[i + 2 :]]
    qt_app = QApplication([sys.argv[0]])
    qt_app.setQuitOnLastWindowClosed(False)
    app = App()
    setup_logging(app.paths)
    window = MainWindow(DesktopApp(app), tray=False)
    window.show()
    if files:
        window.preset_box.setCurrentIndex(window.preset_box.findData(preset))
        window.add_paths(files)

    def write() -> None:
        rows = [
            {"job_id": r.job_id, "name": r.name, "stage": r.stage, "finished": r.finished}
            for r in window.queue_model.rows()
        ]
        tmp = report.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "rows": rows}))
        tmp.replace(report)
        if until_done and rows and all(r["finished"] for r in rows):
            window.quit() if hasattr(window, "quit") else qt_app.quit()

    timer = QTimer(window)
    timer.timeout.connect(write)
    timer.start(200)
    window.closed.connect(qt_app.quit)
    try:
        return qt_app.exec()
    finally:
        window.shutdown()
        app.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
