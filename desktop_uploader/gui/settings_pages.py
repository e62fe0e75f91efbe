"""Settings pages: presets, validation, watched folders and general behaviour."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_uploader.config import Preset, WatchedFolder
from desktop_uploader.gui import autostart
from desktop_uploader.gui.forms import DataclassForm
from desktop_uploader.gui.words import destination_name


class PresetsPage(QWidget):
    """Named processing presets (the ``default`` one cannot be removed)."""

    def __init__(self, settings, parent=None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._current: str | None = None
        self.list = QListWidget()
        self.list.setAccessibleName("Presets")
        self.list.setMaximumWidth(200)
        self.form = DataclassForm(Preset)
        add, self.remove = QPushButton("Add…"), QPushButton("Remove")
        add.setAccessibleName("Add preset")
        self.remove.setAccessibleName("Remove preset")
        add.clicked.connect(self._ask_name)
        self.remove.clicked.connect(self._remove)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(self.remove)
        left.addLayout(row)
        box = QGroupBox("Processing")
        QVBoxLayout(box).addWidget(self.form)
        right = QVBoxLayout()
        right.addWidget(box)
        right.addWidget(
            QLabel(
                "Metadata (EXIF, GPS, XMP) is always removed and colours are "
                "converted to sRGB; thumbnails are WebP."
            )
        )
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(right, 1)
        self.list.currentTextChanged.connect(self._select)
        self._fill("default")

    def _fill(self, select: str) -> None:
        self._current = None
        self.list.clear()
        self.list.addItems(sorted(self.settings.presets))
        items = self.list.findItems(select, Qt.MatchFlag.MatchExactly)
        if items:
            self.list.setCurrentItem(items[0])

    def _select(self, name: str) -> None:
        self.store_current()
        self._current = name or None
        if name in self.settings.presets:
            self.form.load(self.settings.presets[name])
            self.remove.setEnabled(name != "default")

    def store_current(self) -> None:
        if self._current in self.settings.presets:
            self.form.store(self.settings.presets[self._current])

    def _ask_name(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Add preset")
        dialog.setLabelText("Name (e.g. blog, thumbnails-only):")
        dialog.textValueSelected.connect(self.add_preset)
        dialog.open()

    def add_preset(self, name: str) -> None:
        name = name.strip()
        if name and name not in self.settings.presets:
            self.store_current()
            self.settings.presets[name] = dataclasses.replace(
                self.settings.presets["default"], name=name
            )
            self._fill(name)

    def _remove(self) -> None:
        if self._current and self._current != "default":
            del self.settings.presets[self._current]
            self._fill("default")


class ValidationPage(QWidget):
    """What the validate stage accepts, and the malware scanner (per-destination policies are on
    the Destinations page)."""

    def __init__(self, settings, parent=None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.forms: list[tuple[str, DataclassForm]] = []
        layout = QVBoxLayout(self)
        for attr, title in (("limits", "Limits"), ("scanning", "Malware scanner")):
            value = getattr(settings, attr, None)
            if value is None or not dataclasses.is_dataclass(value):
                continue
            form = DataclassForm(type(value))
            form.load(value)
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(form)
            layout.addWidget(box)
            self.forms.append((attr, form))
        note = QLabel("Malware and content policies are set per destination (Destinations page).")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addStretch(1)

    def store(self) -> None:
        for attr, form in self.forms:
            form.store(getattr(self.settings, attr))


class WatchedFoldersPage(QWidget):
    """Folders to upload from by themselves: a list of folders and the chosen one's details
    (as on the Destinations page), so nothing is squeezed into table columns."""

    FIELDS = [
        "path",
        "destination",
        "preset",
        "recursive",
        "originals",
        "done_folder",
        "include",
        "exclude",
        "polling",
        "stable_seconds",
    ]

    def __init__(self, settings, parent=None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._folders: list[WatchedFolder] = []
        self._current: int | None = None
        self.list = QListWidget()
        self.list.setAccessibleName("Watched folders")
        self.list.setMaximumWidth(260)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.form = DataclassForm(
            WatchedFolder,
            self.FIELDS,
            {
                "destination": ("", *sorted(settings.destinations)),
                "preset": ("", *sorted(settings.presets)),
            },
        )
        dest = self.form.widgets.get("destination")
        if isinstance(dest, QComboBox):  # names people know, not ids
            for i in range(dest.count()):
                name = dest.itemData(i)
                d = settings.destinations.get(name)
                dest.setItemText(
                    i, "The default destination" if not name else destination_name(d) if d else name
                )
        preset = self.form.widgets.get("preset")
        if isinstance(preset, QComboBox):
            preset.setItemText(0, "The default preset")
        path = self.form.widgets.get("path")
        if isinstance(path, QLineEdit):
            path.textEdited.connect(self._path_edited)
        add, self.remove_button = QPushButton("Add folder…"), QPushButton("Remove")
        add.setAccessibleName("Add watched folder")
        self.remove_button.setAccessibleName("Remove watched folder")
        add.clicked.connect(self._choose)
        self.remove_button.clicked.connect(self.remove_current)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self.remove_button)
        left.addLayout(buttons)
        self.details = QGroupBox("This folder")
        QVBoxLayout(self.details).addWidget(self.form)
        self.empty = QLabel(
            "No folders are watched. Add one, and new images in it are uploaded by themselves."
        )
        self.empty.setWordWrap(True)
        note = QLabel(
            "A new image is uploaded once it has stopped changing, so partial downloads are "
            "ignored. Include and exclude take comma-separated patterns such as *.jpg, *.png "
            "(empty include: every image type). Poll folders on network shares, where change "
            "events don't arrive."
        )
        note.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(self.empty)
        right.addWidget(self.details)
        right.addWidget(note)
        right.addStretch(1)
        body = QHBoxLayout(self)
        body.addLayout(left)
        body.addLayout(right, 1)
        self.list.currentRowChanged.connect(self._select)
        for w in settings.watched_folders:
            self.add_folder(w)
        self._show_state()

    def _show_state(self) -> None:
        has = bool(self._folders)
        self.details.setVisible(has)
        self.empty.setVisible(not has)
        self.remove_button.setEnabled(has)

    def _choose(self) -> None:
        dialog = QFileDialog(self, "Watch a folder")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        dialog.fileSelected.connect(lambda d: self.add_folder(WatchedFolder(d)) if d else None)
        dialog.open()

    def add_folder(self, folder: WatchedFolder) -> None:
        """Add ``folder`` (a copy is edited) and show its details."""
        self._store_current()
        self._folders.append(dataclasses.replace(folder))
        item = QListWidgetItem(folder.path, self.list)
        item.setToolTip(folder.path)
        self._show_state()
        self.list.setCurrentRow(len(self._folders) - 1)

    def remove_current(self) -> None:
        i = self._current
        if i is None:
            return
        self._current = None
        del self._folders[i]
        self.list.takeItem(i)
        self._show_state()
        if self._folders:
            self._select(self.list.currentRow())

    def _path_edited(self, text: str) -> None:
        item = self.list.currentItem()
        if item is not None:
            item.setText(text)
            item.setToolTip(text)

    def _store_current(self) -> None:
        if self._current is not None and self._current < len(self._folders):
            self.form.store(self._folders[self._current])

    def _select(self, row: int) -> None:
        self._store_current()
        self._current = row if 0 <= row < len(self._folders) else None
        if self._current is not None:
            self.form.load(self._folders[self._current])

    def folders(self) -> list[WatchedFolder]:
        self._store_current()
        return [
            dataclasses.replace(f, path=f.path.strip()) for f in self._folders if f.path.strip()
        ]

    def store(self) -> None:
        self.settings.watched_folders = self.folders()


class GeneralPage(QWidget):
    """Link format, copy and notify after upload, tray and login behaviour."""

    def __init__(self, settings, parent=None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.form = DataclassForm(type(settings.desktop))
        self.form.load(settings.desktop)
        login = self.form.widgets.get("start_at_login")
        if login is not None and not autostart.supported():
            login.setEnabled(False)
            login.setToolTip("Start at login is available on Linux only for now.")
        layout = QVBoxLayout(self)
        box = QGroupBox("After each upload, and at login")
        QVBoxLayout(box).addWidget(self.form)
        layout.addWidget(box)
        layout.addStretch(1)

    def store(self) -> None:
        self.form.store(self.settings.desktop)
