"""The in-window notification, used when there is no system tray to show messages (or the window
is in front). It lives in the status bar, so it never covers the queue or the gallery, and it is
the only place a notification appears: the status bar shows no copy of it."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStatusBar

from desktop_uploader.gui.icons import icon


class Toast(QFrame):
    """One message in a tinted pill at the left of the status bar, for a few seconds."""

    def __init__(self, status_bar: QStatusBar) -> None:
        super().__init__(status_bar)
        self.setObjectName("toast")
        self.setAccessibleName("Notification")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(self.palette().ColorRole.ToolTipBase)
        self.setForegroundRole(self.palette().ColorRole.ToolTipText)
        self.icon_label = QLabel(self)
        self.label = QLabel(self)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setForegroundRole(self.palette().ColorRole.ToolTipText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 1, 10, 1)
        layout.addWidget(self.icon_label)
        layout.addWidget(self.label, 1)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.hide)
        status_bar.addWidget(self, 1)
        self.hide()

    def show_message(self, text: str, seconds: float = 6.0) -> None:
        self.icon_label.setPixmap(icon("done").pixmap(16, 16))
        self.label.setText(text)
        self.label.setToolTip(text)
        self.show()
        self._timer.start(int(seconds * 1000))

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
