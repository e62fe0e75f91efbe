"""The settings dialog: non-blocking (``open()`` + signals), edits a copy of the settings and
writes it back only on OK/Apply. Secrets go to the keyring, never to the TOML file."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
)

from desktop_uploader.errors import UploaderError
from desktop_uploader.gui import autostart
from desktop_uploader.gui.settings_destinations import DestinationsPage
from desktop_uploader.gui.settings_integrations import IntegrationsPage
from desktop_uploader.gui.settings_pages import (
    GeneralPage,
    PresetsPage,
    ValidationPage,
    WatchedFoldersPage,
)

if TYPE_CHECKING:
    from desktop_uploader.desktop import DesktopApp

log = logging.getLogger(__name__)
PAGES = ("destinations", "presets", "validation", "watched", "general", "integrations")


def _scrolling(page):
    """A page that scrolls when the dialog is smaller than it (2× scaling, small screens)."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(page)
    return area


class SettingsDialog(QDialog):
    """``saved`` is emitted after settings (and keys) were written."""

    saved = Signal()

    def __init__(self, app: DesktopApp, runner, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settings-dialog")
        # fits a 1280×800 screen at 1×; the pages scroll or wrap rather than widen it
        self.resize(880, 640)
        self.setMinimumSize(640, 480)
        self.setSizeGripEnabled(True)
        self._app = app
        self.draft = app.edit_settings()  # saved as a new snapshot on OK/Apply
        self.destinations = DestinationsPage(app, self.draft, runner)
        self.presets = PresetsPage(self.draft)
        self.validation = ValidationPage(self.draft)
        self.watched = WatchedFoldersPage(self.draft)
        self.general = GeneralPage(self.draft)
        self.integrations = IntegrationsPage(app, self.draft, runner)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Settings pages")
        for page, title in (
            (self.destinations, "Destinations"),
            (self.presets, "Presets"),
            (self.validation, "Validation"),
            (self.watched, "Watched folders"),
            (self.general, "General"),
            (self.integrations, "Integrations"),
        ):
            self.tabs.addTab(page if page is self.destinations else _scrolling(page), title)
        self.error = QLabel()
        self.error.setObjectName("settings-error")
        self.error.setAccessibleName("Settings error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(
            "color: palette(highlighted-text); background: #b3261e;"
            " padding: 6px; border-radius: 4px;"
        )
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def show_page(self, page: str | None, destination: str = "") -> None:
        """Show ``page`` (one of PAGES); on the Destinations page, ``destination`` if given."""
        if page in PAGES:
            self.tabs.setCurrentIndex(PAGES.index(page))
        if destination and page == "destinations":
            self.destinations.show_destination(destination)

    def accept(self) -> None:
        if self.apply():
            super().accept()

    def apply(self) -> bool:
        """Validate and save; on a problem, say what is wrong in the dialog and keep it open."""
        self.error.hide()
        try:
            self._collect()
            self._check()
            before = self._app.settings.desktop.start_at_login
            pages = self.destinations
            self._app.save_settings(self.draft, pages.key_edits, pages.removed)
            self._start_at_login(before)
        except UploaderError as e:
            self._fail(f"{e.title}: {e.message}")
            return False
        except OSError as e:
            self._fail(f"Could not save the settings: {e}")
            return False
        self.saved.emit()
        return True

    def _fail(self, text: str) -> None:
        log.warning("settings not saved: %s", text)
        self.error.setText(text)
        self.error.show()

    def _collect(self) -> None:
        self.destinations.store_current()
        self.presets.store_current()
        self.validation.store()
        self.watched.store()
        self.general.store()
        self.integrations.store()

    def _check(self) -> None:
        from desktop_uploader.errors import ConfigError

        for d in self.draft.destinations.values():
            if not d.is_local and not d.bucket:
                self.destinations.show_destination(d.name)
                self.show_page("destinations")
                raise ConfigError(f"Destination '{d.name}' needs a bucket name.")
            if (
                not d.is_local
                and d.public_base_url
                and not d.public_base_url.startswith(("http://", "https://"))
            ):
                raise ConfigError(
                    f"The public base URL of '{d.name}' must start with https:// or http://."
                )
        if self.draft.default_profile not in self.draft.destinations:
            self.draft.default_profile = "local"
        # the checks settings.toml gets when read: nothing is saved that would not load again
        self._app.check_settings(self.draft)

    def _start_at_login(self, before: bool) -> None:
        """Register or unregister the app with the login session when the setting changed."""
        wanted = self._app.settings.desktop.start_at_login
        if wanted == before:
            return
        try:
            autostart.set_start_at_login(wanted)
        except OSError as e:
            from desktop_uploader.errors import ConfigError

            raise ConfigError(f"Could not change start at login: {e}") from e
