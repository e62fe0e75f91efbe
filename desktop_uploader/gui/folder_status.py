"""The window's watched folders: (re)started from the settings, shown in the status bar as
"Watching 2 folders — 14 waiting" once a second while any are watched."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from desktop_uploader.desktop import DesktopApp


class WatchedFolders(QObject):
    """Owns the ``FolderWatcher`` (``desktop_uploader.watch``) while any folder is watched."""

    def __init__(self, app: DesktopApp, parent: QObject) -> None:
        super().__init__(parent)
        self.app = app
        self.watcher = None
        self.label = QLabel()
        self.label.setAccessibleName("Watched folders backlog")
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.show_backlog)

    def restart(self) -> None:
        """Watch the configured folders afresh; raises ``OSError``/``UploaderError`` (the
        caller shows it) with nothing watched."""
        from desktop_uploader.watch import watch_configured_folders

        self.stop()
        try:
            self.watcher = watch_configured_folders(
                self.app.engine, self.app.journal, self.app.settings
            )
        finally:
            if self.watcher is not None:
                self.timer.start()
            self.show_backlog()

    def stop(self) -> None:
        self.timer.stop()
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def show_backlog(self) -> None:
        w = self.watcher
        if w is None:
            self.label.setText("")
            return
        b = w.backlog()
        waiting = b["settling"] + b["queued"]
        text = f"Watching {len(w.rules)} folder{'s' if len(w.rules) != 1 else ''}"
        self.label.setText(text + (f" — {waiting} waiting" if waiting else ""))
