"""A small in-window notification, used when there is no system tray to show messages."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget


class Toast(QFrame):
    """Shows one line at the bottom-right of its parent for a few seconds."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setAccessibleName("Notification")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(self.palette().ColorRole.ToolTipBase)
        self.setForegroundRole(self.palette().ColorRole.ToolTipText)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.label)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.hide)
        parent.installEventFilter(self)
        self.hide()

    def show_message(self, text: str, seconds: float = 4.0) -> None:
        self.label.setText(text)
        self.setMaximumWidth(max(240, self.parentWidget().width() // 3))
        self.adjustSize()
        self._place()
        self.show()
        self.raise_()
        self._timer.start(int(seconds * 1000))

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def _place(self) -> None:
        parent = self.parentWidget()
        # bottom right, above the queue's and the history's button rows
        self.move(parent.width() - self.width() - 24, parent.height() - self.height() - 96)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False
