"""Settings → Integrations: the local upload server for editors and screenshot tools.

The switch, port, "allow editors without a token" and allowed origins come from the settings
schema (``DataclassForm``); the token is shown here with Copy and Regenerate (its file is read
and written on a worker thread). The window starts or stops the server when settings are saved
(``integrations.switch``)."""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import (
    QApplication,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_uploader.gui.forms import DataclassForm
from desktop_uploader.integrations.token import load_or_create_token, regenerate_token


class IntegrationsPage(QWidget):
    def __init__(self, app, settings, runner, parent=None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._app = app
        self._runner = runner
        self.form = DataclassForm(type(settings.integrations))
        self.form.load(settings.integrations)
        self.token = QLineEdit()
        self.token.setObjectName("integrations-token")
        self.token.setAccessibleName("Token")
        self.token.setReadOnly(True)
        self.token.setPlaceholderText("loading…")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setAccessibleName("Copy the token")
        self.copy_button.clicked.connect(self.copy_token)
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setAccessibleName("Regenerate the token")
        self.regenerate_button.setToolTip(
            "Make a new token; tools set up with the old one must be set up again"
        )
        self.regenerate_button.clicked.connect(self.regenerate)
        row = QHBoxLayout()
        row.addWidget(self.token, 1)
        row.addWidget(self.copy_button)
        row.addWidget(self.regenerate_button)
        hint = QLabel(
            "Editors and screenshot tools upload through this app at "
            "http://127.0.0.1:PORT/upload (PicGo-compatible). Requests must carry the token; "
            "web pages are refused unless their origin is listed. Run "
            "<code>desktop-uploader integrations</code> for ready-made ShareX, Typora, "
            "Obsidian and Flameshot settings."
        )
        hint.setWordWrap(True)
        box = QGroupBox("Local upload server")
        inner = QVBoxLayout(box)
        inner.addWidget(self.form)
        inner.addWidget(QLabel("Token"))
        inner.addLayout(row)
        inner.addWidget(hint)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addStretch(1)
        runner.run(load_or_create_token, app.paths, callback=self._show_token)

    def _show_token(self, token, error) -> None:
        if not shiboken6.isValid(self.token):
            return  # the dialog closed before the token file was read
        if error is not None:
            self.token.setPlaceholderText(f"the token cannot be read: {error}")
            return
        self.token.setText(token)

    def copy_token(self) -> None:
        if self.token.text():
            QApplication.clipboard().setText(self.token.text())

    def regenerate(self) -> None:
        self.token.clear()
        self._runner.run(regenerate_token, self._app.paths, callback=self._show_token)

    def store(self) -> None:
        self.form.store(self.settings.integrations)
