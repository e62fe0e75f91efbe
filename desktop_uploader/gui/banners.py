"""A one-line banner with an icon, a message and an optional button (info or error)."""

from __future__ import annotations

from html import escape

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QToolButton

from desktop_uploader.gui.icons import icon
from desktop_uploader.gui.words import Problem


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
        self._layout = layout
        if closable:
            close = QToolButton(text="✕")
            close.setAutoRaise(True)
            close.setToolTip("Dismiss")
            close.setAccessibleName("Dismiss message")
            close.clicked.connect(self.dismiss)
            layout.addWidget(close)
        self.refresh_icon()

    def dismiss(self) -> None:
        self.hide()

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


class ProblemBanner(Banner):
    """Every problem since the user last dismissed them, not only the latest: the banner names
    the newest in plain words and counts the rest; "Details…" lists them all with their
    technical details (which never appear in the banner itself)."""

    def __init__(self, parent=None) -> None:
        super().__init__("warning", "", None, closable=True, error=True, parent=parent)
        self.problems: list[Problem] = []
        self.details_button = QPushButton("Details…")
        self.details_button.setAccessibleName("Details of the problems")
        self.details_button.clicked.connect(self.show_details)
        self._layout.insertWidget(self._layout.count() - 1, self.details_button)
        self._box: QMessageBox | None = None
        self.hide()

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)
        newest = self.problems[-1]
        more = len(self.problems) - 1
        text = f"<b>{escape(newest.title)}</b> — {escape(newest.message)}"
        if more:
            text += f" <i>(and {more} more problem{'s' if more > 1 else ''})</i>"
        self.set_text(text)
        self.show()

    def dismiss(self) -> None:
        self.problems.clear()
        self.hide()

    def report(self) -> str:
        """All problems as plain text, newest first, technical details included."""
        blocks = []
        for p in reversed(self.problems):
            block = f"{p.title}\n{p.message}"
            if p.details:
                block += f"\nTechnical details: {p.details}"
            blocks.append(block)
        return "\n\n".join(blocks)

    def show_details(self) -> QMessageBox:
        """A non-blocking box: the list in words, the technical text under "Show Details"."""
        if self._box is None:
            self._box = QMessageBox(QMessageBox.Icon.Warning, "Problems", "", parent=self)
            self._box.setObjectName("problem-details")
            self._box.setStandardButtons(QMessageBox.StandardButton.Close)
        n = len(self.problems)
        self._box.setText(f"{n} problem{'s' if n != 1 else ''} since you last dismissed them:")
        listing = "".join(
            f"<li><b>{escape(p.title)}</b><br>{escape(p.message)}</li>"
            for p in reversed(self.problems[-50:])
        )
        self._box.setInformativeText(f"<ul>{listing}</ul>")
        technical = [p for p in reversed(self.problems) if p.details]
        self._box.setDetailedText(
            "\n\n".join(f"{p.title}:\n{p.details}" for p in technical) if technical else ""
        )
        self._box.open()
        return self._box
