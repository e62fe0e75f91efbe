"""Settings page: destinations (where images go), their keys and a Test connection button."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_uploader.config import Destination, Settings
from desktop_uploader.credentials import S3Keys
from desktop_uploader.gui.forms import DataclassForm
from desktop_uploader.gui.words import (
    CONTENT_LABELS,
    content_label_name,
    destination_name,
    provider_name,
)

if TYPE_CHECKING:
    from desktop_uploader.app import App
    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.connection_test import Line

CONNECTION = [
    "provider",
    "endpoint",
    "region",
    "bucket",
    "prefix",
    "public_base_url",
    "addressing_style",
]
POLICY = ["malware_scan", "content_check", "content_threshold", "content_label_thresholds"]
LABELS_FIELD = "content_labels"  # a checklist of readable names, not a comma-separated line


def run_doctor_on(view: App, profile: str) -> list[Line]:
    """Worker thread: Test connection's checks, in words (gui/connection_test.py)."""
    from desktop_uploader.gui.connection_test import check_connection

    return check_connection(view, profile)


class DestinationsPage(QWidget):
    """Edits ``settings.destinations`` (a working copy) and collects key changes."""

    changed = Signal()

    def __init__(self, app: DesktopApp, settings: Settings, runner, parent=None) -> None:
        super().__init__(parent)
        self._app, self.settings, self._runner = app, settings, runner
        self.key_edits: dict[str, S3Keys] = {}
        self.removed: set[str] = set()
        self._current: str | None = None

        self.default_box = QComboBox()
        self.default_box.setAccessibleName("Default destination")
        self.list = QListWidget()
        self.list.setAccessibleName("Destinations")
        self.list.setMaximumWidth(200)
        self.add_button = QPushButton("Add…")
        self.add_button.setAccessibleName("Add destination")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAccessibleName("Remove destination")
        self.add_button.clicked.connect(self._ask_new_name)
        self.remove_button.clicked.connect(self.remove_current)

        names = [f.name for f in dataclasses.fields(Destination)]
        advanced = [n for n in names if n not in CONNECTION + POLICY + [LABELS_FIELD, "name"]]
        self.connection = DataclassForm(Destination, CONNECTION)
        self.policy = DataclassForm(Destination, POLICY)
        self.content_labels = QListWidget()
        self.content_labels.setObjectName(LABELS_FIELD)
        self.content_labels.setAccessibleName("What the content check blocks")
        self.content_labels.setToolTip(
            "Images where the content check finds one of the ticked things are blocked or held "
            "for review (see Content check)."
        )
        for label in CONTENT_LABELS:
            item = QListWidgetItem(content_label_name(label), self.content_labels)
            item.setData(Qt.ItemDataRole.UserRole, label)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        self.content_labels.setMaximumHeight(160)
        self.policy.layout().addRow("Blocked content", self.content_labels)
        self.advanced = DataclassForm(Destination, advanced)
        self.access_key = QLineEdit()
        self.access_key.setObjectName("access_key_id")
        self.access_key.setAccessibleName("Access key ID")
        self.secret_key = QLineEdit()
        self.secret_key.setObjectName("secret_access_key")
        self.secret_key.setAccessibleName("Secret access key")
        self.secret_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.test_button = QPushButton("Test connection")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.findings = QLabel()
        self.findings.setObjectName("doctor-findings")
        self.findings.setWordWrap(True)
        self.findings.setTextFormat(Qt.TextFormat.RichText)
        self.findings.setAccessibleName("Test results")
        self.details_button = QToolButton(text="Details…")
        self.details_button.setCheckable(True)
        self.details_button.setAccessibleName("Technical details of the test")
        self.details = QLabel()
        self.details.setObjectName("doctor-details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("Technical details")
        self.details_button.toggled.connect(self.details.setVisible)
        self.details_button.hide()
        self.details.hide()
        self.local_note = QLabel(
            "The local store runs on this computer; it needs no keys. Links work only here."
        )
        self.local_note.setWordWrap(True)

        keys_box = QGroupBox("Keys (kept in the system keyring, never in the settings file)")
        keys_form = QFormLayout(keys_box)
        keys_form.addRow("Access key ID", self.access_key)
        keys_form.addRow("Secret access key", self.secret_key)
        self.keys_box = keys_box
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)

        detail = QWidget()
        d = QVBoxLayout(detail)
        d.addWidget(self.local_note)
        for title, form in (
            ("Connection", self.connection),
            ("Validation policy", self.policy),
            ("Transfer", self.advanced),
        ):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(form)
            d.addWidget(box)
            if title == "Connection":
                d.addWidget(keys_box)
                d.addLayout(test_row)
                d.addWidget(self.findings)
                d.addWidget(self.details_button)
                d.addWidget(self.details)
        d.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(detail)

        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        left.addLayout(row)
        top = QFormLayout()
        top.addRow("Default destination", self.default_box)
        body = QHBoxLayout()
        body.addLayout(left)
        body.addWidget(scroll, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(body, 1)

        self.list.currentItemChanged.connect(
            lambda item, _old: self._select(item.data(Qt.ItemDataRole.UserRole) if item else "")
        )
        provider = self.connection.widgets.get("provider")
        if isinstance(provider, QComboBox):  # "Cloudflare R2", not "r2"
            for i in range(provider.count()):
                provider.setItemText(i, provider_name(provider.itemData(i)))
        self._fill()

    def _fill(self) -> None:
        self.list.clear()
        self.default_box.clear()
        for name in sorted(self.settings.destinations):
            shown = destination_name(self.settings.destinations[name])
            item = QListWidgetItem(shown, self.list)
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.default_box.addItem(shown, name)
        self.default_box.setCurrentIndex(
            max(0, self.default_box.findData(self.settings.default_profile))
        )
        if not self.show_destination(self.settings.default_profile):
            self.list.setCurrentRow(0)

    def _select(self, name: str) -> None:
        self.store_current()
        self._current = name or None
        dest = self.settings.destinations.get(name)
        if dest is None:
            return
        for form in (self.connection, self.policy, self.advanced):
            form.load(dest)
        self._load_labels(dest.content_labels)
        local = dest.is_local
        self.local_note.setVisible(local)
        self.connection.setEnabled(not local)
        self.keys_box.setVisible(not local)
        self.remove_button.setEnabled(not local)
        self._clear_findings()
        self.secret_key.clear()
        keys = self.key_edits.get(name)
        if keys is None and not local:
            try:
                keys = self._app.stored_keys(name)
            except Exception:
                keys = None
        self.access_key.setText(keys.access_key_id if keys else "")
        self.secret_key.setPlaceholderText(
            "unchanged (stored in the keyring)" if keys else "required"
        )

    def store_current(self) -> None:
        """Copy the form into the working settings (and typed keys into ``key_edits``)."""
        name = self._current
        dest = self.settings.destinations.get(name or "")
        if dest is None:
            return
        for form in (self.policy, self.advanced):
            form.store(dest)
        dest.content_labels = self.checked_labels()
        if not dest.is_local:
            self.connection.store(dest)
            access, secret = self.access_key.text().strip(), self.secret_key.text()
            if secret:
                self.key_edits[name] = S3Keys(access, secret)
            elif name in self.key_edits and access:
                self.key_edits[name] = S3Keys(access, self.key_edits[name].secret_access_key)
        self.settings.default_profile = self.default_box.currentData() or "local"

    def _load_labels(self, labels: list[str]) -> None:
        known = set(CONTENT_LABELS)
        for label in labels:  # a label from a newer model or a hand-edited file: kept, shown
            if label not in known:
                item = QListWidgetItem(content_label_name(label), self.content_labels)
                item.setData(Qt.ItemDataRole.UserRole, label)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                known.add(label)
        for i in range(self.content_labels.count()):
            item = self.content_labels.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in labels
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def checked_labels(self) -> list[str]:
        items = (self.content_labels.item(i) for i in range(self.content_labels.count()))
        return [
            it.data(Qt.ItemDataRole.UserRole)
            for it in items
            if it.checkState() == Qt.CheckState.Checked
        ]

    def show_destination(self, name: str) -> bool:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.list.setCurrentRow(i)
                return True
        return False

    def _ask_new_name(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Add destination")
        dialog.setLabelText("Name (e.g. blog, r2, work):")
        dialog.textValueSelected.connect(self.add_destination)
        dialog.open()

    def add_destination(self, name: str) -> str | None:
        """Add a destination called ``name`` and select it; None if the name is unusable."""
        name = name.strip()
        if (
            not name
            or name in self.settings.destinations
            or not name.replace("-", "").replace("_", "").isalnum()
        ):
            self.findings.setText("Use a new name made of letters, digits, - and _.")
            return None
        self.store_current()
        self.settings.destinations[name] = Destination(name, provider="aws", prefix="i")
        self.removed.discard(name)
        self._current = None
        self._fill()
        self.show_destination(name)
        self.changed.emit()
        return name

    def remove_current(self) -> None:
        name = self._current
        if not name or self.settings.destinations[name].is_local:
            return
        del self.settings.destinations[name]
        self.key_edits.pop(name, None)
        self.removed.add(name)
        if self.settings.default_profile == name:
            self.settings.default_profile = "local"
        self._current = None
        self._fill()
        self.changed.emit()

    def test_connection(self) -> None:
        """Run doctor against what is typed (nothing is saved) on a worker thread."""
        self.store_current()
        name = self._current
        if not name:
            return
        self.test_button.setEnabled(False)
        self.findings.setText("Testing…")
        view = self._app.connection_view(self.settings, self.key_edits)  # copies of both
        self._runner.run(run_doctor_on, view, name, callback=self._show_findings)

    def _clear_findings(self) -> None:
        self.findings.clear()
        self.details.clear()
        self.details_button.setChecked(False)
        self.details_button.hide()

    def _show_findings(self, lines, error) -> None:
        """Each check in words; technical text only behind "Details…"."""
        from html import escape

        from desktop_uploader.gui.connection_test import Line

        self.test_button.setEnabled(True)
        self._clear_findings()
        if error is not None:
            message = getattr(error, "message", None)
            lines = [
                Line(False, message)
                if message
                else Line(
                    False,
                    "The test itself went wrong inside Desktop Uploader; please report it.",
                    f"{type(error).__name__}: {error}",
                )
            ]
        html = [f"{'✔' if ln.ok else '✖'} {escape(ln.text)}" for ln in lines]
        ok = all(ln.ok for ln in lines)
        html.append("<b>All checks passed.</b>" if ok else "<b>Some checks failed.</b>")
        self.findings.setText("<br>".join(html))
        technical = [ln.details for ln in lines if ln.details]
        if technical:
            self.details.setText("\n".join(technical))
            self.details_button.show()
