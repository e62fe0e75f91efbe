"""A one-line banner with an icon, a message and an optional button (info or error)."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

from desktop_uploader.gui.icons import icon


class Banner(QFrame):
    def __init__(
        self,
        icon_name: str,
        text: str,
        action_text: str | None,
        closable: bool = False,
        error: bool = False,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._icon_name = icon_name
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, self._tint(palette, error))
        self.setPalette(palette)
        self.icon_label = QLabel()
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setOpenExternalLinks(False)
        self.label.setAccessibleName("Error message" if error else "Notice")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.icon_label)
        layout.addWidget(self.label, 1)
        self.action: QPushButton | None = None
        if action_text:
            self.action = QPushButton(action_text)
            self.action.setAccessibleName(action_text.rstrip("…"))
            layout.addWidget(self.action)
        if closable:
            close = QToolButton(text="✕")
            close.setAutoRaise(True)
            close.setToolTip("Dismiss")
            close.setAccessibleName("Dismiss message")
            close.clicked.connect(self.hide)
            layout.addWidget(close)
        self.refresh_icon()

    @staticmethod
    def _tint(palette: QPalette, error: bool):
        """A soft tint of the window colour: blue-ish for notices, red-ish for errors."""
        window = palette.color(QPalette.ColorRole.Window)
        accent = palette.color(QPalette.ColorRole.Highlight)
        if error:
            accent = accent.fromRgb(200, 40, 40)
        mix = 0.18
        return window.fromRgb(
            int(window.red() * (1 - mix) + accent.red() * mix),
            int(window.green() * (1 - mix) + accent.green() * mix),
            int(window.blue() * (1 - mix) + accent.blue() * mix),
        )

    def refresh_icon(self) -> None:
        self.icon_label.setPixmap(icon(self._icon_name).pixmap(22, 22))

    def set_text(self, text: str) -> None:
        self.label.setText(text)

    def text(self) -> str:
        return self.label.text()
