"""Settings pages: presets, validation, watched folders and general behaviour."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_uploader.config import Preset, WatchedFolder
from desktop_uploader.gui import autostart
from desktop_uploader.gui.forms import DataclassForm
from desktop_uploader.settings_schema import field_spec


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
    """Folders to upload from by themselves: path, destination, recursive, originals."""

    FIELDS = (
        "path",
        "destination",
        "recursive",
        "originals",
        "done_folder",
        "include",
        "exclude",
        "polling",
        "stable_seconds",
    )
    COLUMNS = tuple(field_spec(WatchedFolder, name).label for name in FIELDS)

    def __init__(self, settings, parent=None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setAccessibleName("Watched folders")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        add, remove = QPushButton("Add folder…"), QPushButton("Remove")
        add.setAccessibleName("Add watched folder")
        remove.setAccessibleName("Remove watched folder")
        add.clicked.connect(self._choose)
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        note = QLabel(
            "New images in these folders are uploaded by themselves once they are complete "
            "(unchanged for the 'stable for' time; partial downloads are ignored). Include and "
            "exclude take comma-separated patterns such as *.jpg, *.png (empty include: every "
            "image type). Poll folders on network shares, where change events don't arrive."
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        for w in settings.watched_folders:
            self.add_folder(w)

    def _choose(self) -> None:
        dialog = QFileDialog(self, "Watch a folder")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        dialog.fileSelected.connect(lambda d: self.add_folder(WatchedFolder(d)) if d else None)
        dialog.open()

    def add_folder(self, folder: WatchedFolder) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        path_item = QTableWidgetItem(folder.path)
        path_item.setData(Qt.ItemDataRole.UserRole, folder)  # keeps the fields not shown here
        self.table.setItem(r, 0, path_item)
        dest = QComboBox()
        dest.setAccessibleName("Destination for this folder")
        dest.addItem("(default)", "")
        for name in sorted(self.settings.destinations):
            dest.addItem(name, name)
        dest.setCurrentIndex(max(0, dest.findData(folder.destination)))
        self.table.setCellWidget(r, 1, dest)
        self._check_cell(r, 2, "Include subfolders", folder.recursive)
        originals = QComboBox()
        originals.setAccessibleName("What to do with originals")
        spec = field_spec(WatchedFolder, "originals")
        for value in spec.choices:
            originals.addItem(spec.choice_labels.get(value, value), value)
        originals.setCurrentIndex(max(0, originals.findData(folder.originals)))
        self.table.setCellWidget(r, 3, originals)
        self.table.setItem(r, 4, QTableWidgetItem(folder.done_folder))
        self.table.setItem(r, 5, QTableWidgetItem(", ".join(folder.include)))
        self.table.setItem(r, 6, QTableWidgetItem(", ".join(folder.exclude)))
        self._check_cell(
            r, 7, "Poll this folder instead of waiting for change events", folder.polling
        )
        stable = QDoubleSpinBox()
        stable.setAccessibleName("Seconds a file must stay unchanged before upload")
        stable.setRange(0.0, 3600.0)
        stable.setDecimals(1)
        stable.setValue(folder.stable_seconds)
        self.table.setCellWidget(r, 8, stable)

    def _check_cell(self, row: int, column: int, name: str, checked: bool) -> None:
        box = QCheckBox()
        box.setAccessibleName(name)
        box.setChecked(checked)
        self.table.setCellWidget(row, column, box)

    def folders(self) -> list[WatchedFolder]:
        out = []
        for r in range(self.table.rowCount()):
            path = self.table.item(r, 0).text().strip()
            if not path:
                continue
            done = self.table.item(r, 4)
            base = self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) or WatchedFolder(path)
            out.append(
                dataclasses.replace(
                    base,
                    path=path,
                    destination=self.table.cellWidget(r, 1).currentData() or "",
                    recursive=self.table.cellWidget(r, 2).isChecked(),
                    originals=self.table.cellWidget(r, 3).currentData(),
                    done_folder=done.text().strip() if done else "",
                    include=_globs(self.table.item(r, 5)),
                    exclude=_globs(self.table.item(r, 6)),
                    polling=self.table.cellWidget(r, 7).isChecked(),
                    stable_seconds=self.table.cellWidget(r, 8).value(),
                )
            )
        return out

    def store(self) -> None:
        self.settings.watched_folders = self.folders()


def _globs(item) -> list[str]:
    """Comma-separated patterns from a table cell."""
    text = item.text() if item is not None else ""
    return [g.strip() for g in text.split(",") if g.strip()]


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
