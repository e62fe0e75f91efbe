"""The tray icon: recent uploads (click copies the link), pause all, open the window."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from desktop_uploader.gui.icons import icon

RECENT = 10


class Tray(QObject):
    """Wraps QSystemTrayIcon; ``available`` is False where the desktop has no tray."""

    open_window = Signal()
    pause_toggled = Signal(bool)
    quit_requested = Signal()
    copied = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.available = QSystemTrayIcon.isSystemTrayAvailable()
        self._recent: list[tuple[str, str]] = []  # (name, link text), newest first
        self.menu = QMenu()
        self.menu.setAccessibleName("Desktop Uploader tray menu")
        self.recent_menu = self.menu.addMenu("Recent uploads")
        self.recent_menu.setEnabled(False)
        self.pause_action = QAction("Pause all", self, checkable=True)
        self.pause_action.toggled.connect(self.pause_toggled)
        self.menu.addAction(self.pause_action)
        self.menu.addAction("Open window", self.open_window.emit)
        self.menu.addSeparator()
        self.menu.addAction("Quit", self.quit_requested.emit)
        self.icon: QSystemTrayIcon | None = None
        if self.available:
            self.icon = QSystemTrayIcon(icon("app", color="#2d6cdf"), self)
            self.icon.setToolTip("Desktop Uploader")
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._activated)
            self.icon.show()

    def _activated(self, reason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_window.emit()

    def add_recent(self, name: str, link: str) -> None:
        self._recent = [(name, link)] + [r for r in self._recent if r[1] != link][: RECENT - 1]
        self.recent_menu.clear()
        for n, text in self._recent:
            action = self.recent_menu.addAction(n)
            action.setToolTip(text)
            action.triggered.connect(lambda _c=False, t=text: self._copy(t))
        self.recent_menu.setEnabled(True)

    def recent(self) -> list[tuple[str, str]]:
        return list(self._recent)

    def _copy(self, text: str) -> None:
        QApplication.clipboard().setText(text)
        self.copied.emit(text)

    def set_paused(self, paused: bool) -> None:
        self.pause_action.blockSignals(True)
        self.pause_action.setChecked(paused)
        self.pause_action.blockSignals(False)

    def notify(self, title: str, message: str) -> bool:
        """Show a tray message; False when there is no tray (the caller shows a toast)."""
        if self.icon is None or not QSystemTrayIcon.supportsMessages():
            return False
        self.icon.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 4000)
        return True

    def hide(self) -> None:
        if self.icon is not None:
            self.icon.hide()
