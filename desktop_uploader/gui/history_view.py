"""The history gallery: search, thumbnails, and what to do with an upload (copy its link, open
it, reveal its source, delete it from the destination)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_uploader.desktop import DesktopApp
from desktop_uploader.gui.gallery_view import EMPTY_FIRST_RUN, GalleryView
from desktop_uploader.gui.history_model import UPLOADED, HistoryModel, RowRole
from desktop_uploader.gui.icons import icon
from desktop_uploader.pipeline.deliver import LINK_FORMATS, link_text
from desktop_uploader.records import LINK_FORMAT_NAMES as FORMAT_NAMES

CHIPS = (
    ("all", "All", "Everything you added"),
    ("uploaded", "Uploaded", "Pictures with a link"),
    ("rejected", "Rejected", "Files that were refused or could not be uploaded"),
)


def delete_remote(app: DesktopApp, row: dict) -> None:
    """Delete an upload (and its thumbnail) from its destination; never the local source. Every
    job of the gallery entry (the same picture dropped again) leaves the history with it."""
    from desktop_uploader.pipeline.upload import translate

    uploader = app.uploader(row["profile"])
    try:
        for key in (row.get("key"), row.get("thumbnail_key")):
            if key:
                uploader.store.delete(key)
    except Exception as e:
        raise translate(e, uploader.bucket) from e
    for job_id in row.get("job_ids") or [row["id"]]:
        app.journal.mark_remote_deleted(job_id)


class HistoryPanel(QWidget):
    """Search box, gallery and item actions. Problems are reported through ``error``."""

    error = Signal(str, str)  # title, message
    message = Signal(str)

    def __init__(
        self, app: DesktopApp, model: HistoryModel, runner, thumbnails, parent=None
    ) -> None:
        super().__init__(parent)
        self._app = app
        self.model = model
        self._runner = runner
        self.search = QLineEdit(placeholderText="Search by name, date (2026-05-01) or destination")
        self.search.setAccessibleName("Search history")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(lambda: self.model.set_search(self.search.text()))
        self.search.textChanged.connect(self._debounce.start)
        self.chips = QButtonGroup(self)
        chip_row = QHBoxLayout()
        chip_row.addWidget(self.search, 1)
        for name, text, tip in CHIPS:
            chip = QPushButton(text)
            chip.setCheckable(True)
            chip.setChecked(name == model.filter)
            chip.setToolTip(tip)
            chip.setAccessibleName(f"Show {text.lower()}")
            chip.setObjectName(f"chip-{name}")
            chip.clicked.connect(lambda _c=False, n=name: self.model.set_filter(n))
            self.chips.addButton(chip)
            chip_row.addWidget(chip)

        self.view = GalleryView()
        self.view.setAccessibleName("Upload history")
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(lambda _i: self.open_in_browser())
        self.view.setModel(model)
        thumbnails.ready.connect(lambda _url: self.view.viewport().update())

        self.copy_button = QToolButton(text="Copy link", icon=icon("link"))
        self.copy_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.copy_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.copy_button.setAccessibleName("Copy link")
        self.copy_button.clicked.connect(lambda: self.copy_link())
        self.copy_button.setMenu(self._copy_menu(self))
        self.open_button = QPushButton(icon("open-browser"), "Open in browser")
        self.open_button.clicked.connect(self.open_in_browser)
        self.reveal_button = QPushButton(icon("reveal"), "Show source file")
        self.reveal_button.clicked.connect(self.reveal_source)
        self.delete_button = QPushButton(icon("delete"), "Delete from destination…")
        self.delete_button.clicked.connect(self.confirm_delete)
        buttons = QHBoxLayout()
        for b in (self.copy_button, self.open_button, self.reveal_button):
            b.setAccessibleName(b.text())
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.delete_button.setAccessibleName("Delete from destination")
        buttons.addWidget(self.delete_button)

        copy_action = QAction("Copy link", self, shortcut=QKeySequence.StandardKey.Copy)
        copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        copy_action.triggered.connect(lambda: self.copy_link())
        self.view.addAction(copy_action)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(chip_row)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        model.modelReset.connect(self._update_buttons)
        model.modelReset.connect(self._update_empty_text)
        model.loaded.connect(lambda _s: self.view.viewport().update())
        self._update_buttons()

    # -- selection -----------------------------------------------------------------------
    def selected_rows(self) -> list[dict]:
        indexes = sorted(self.view.selectionModel().selectedIndexes(), key=lambda i: i.row())
        return [i.data(RowRole) for i in indexes]

    def _update_buttons(self, *_args) -> None:
        rows = self.selected_rows()
        uploaded = [r for r in rows if r["status"] in UPLOADED and r.get("url")]
        self.copy_button.setEnabled(bool(uploaded))
        for action in self.copy_button.menu().actions():
            action.setEnabled(bool(uploaded))  # no "Copy as…" for a rejected file
        self.open_button.setEnabled(len(uploaded) == 1)
        self.reveal_button.setEnabled(len(rows) == 1)
        self.delete_button.setEnabled(len(uploaded) == 1)

    def _update_empty_text(self) -> None:
        """Why the gallery is empty: nothing yet, or nothing that matches."""
        search, kind = self.model.search, self.model.filter
        if search:
            self.view.empty_text = (
                f"Nothing matches “{search}”",
                "Search by file name, a date such as 2026-05-01, or a destination.",
            )
        elif kind == "rejected":
            self.view.empty_text = ("Nothing was rejected", "Every file you added was uploaded.")
        elif kind == "uploaded":
            self.view.empty_text = EMPTY_FIRST_RUN
        else:
            self.view.empty_text = EMPTY_FIRST_RUN

    def _copy_menu(self, parent) -> QMenu:
        menu = QMenu(parent)
        for fmt in LINK_FORMATS:
            action = menu.addAction(f"Copy as {FORMAT_NAMES.get(fmt, fmt)}")
            action.triggered.connect(lambda _c=False, f=fmt: self.copy_link(f))
        return menu

    def _context_menu(self, pos) -> None:
        if not self.selected_rows():
            return
        menu = self._copy_menu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        uploaded = any(r["status"] in UPLOADED and r.get("url") for r in self.selected_rows())
        for action in menu.actions():
            action.setEnabled(uploaded)
        menu.addSeparator()
        for button in (self.open_button, self.reveal_button, self.delete_button):
            action = menu.addAction(button.icon(), button.text())
            action.setEnabled(button.isEnabled())
            action.triggered.connect(button.click)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    # -- actions -------------------------------------------------------------------------
    def copy_link(self, fmt: str | None = None) -> str:
        """Copy the selected uploads' links (one per line) in ``fmt`` or the configured format."""
        fmt = fmt or self._app.settings.desktop.link_format
        rows = [r for r in self.selected_rows() if r["status"] in UPLOADED and r.get("url")]
        if not rows:
            return ""
        text = "\n".join(
            link_text(fmt, r["url"], r["display_name"], r.get("width"), r.get("height"))
            for r in rows
        )
        QApplication.clipboard().setText(text)
        what = "link" if len(rows) == 1 else f"{len(rows)} links"
        self.message.emit(f"Copied {what} as {FORMAT_NAMES.get(fmt, fmt)}.")
        return text

    def open_in_browser(self) -> None:
        rows = [r for r in self.selected_rows() if r.get("url")]
        if rows:
            QDesktopServices.openUrl(QUrl(rows[0]["url"]))

    def reveal_source(self) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        source = Path(rows[0]["source"])
        if not source.exists():
            self.error.emit(
                "Source file not found",
                f"{source} is no longer on this computer (moved or deleted). The upload itself "
                "is not affected.",
            )
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(source.parent)))

    def confirm_delete(self) -> None:
        rows = [r for r in self.selected_rows() if r["status"] in UPLOADED and r.get("key")]
        if len(rows) != 1:
            return
        row = rows[0]
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete from destination?",
            f"Delete “{row['display_name']}” from the destination “{row['profile']}”?\n\n"
            "Links to it stop working. The file on this computer is kept.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        delete = box.addButton("Delete from destination", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("confirm-delete")
        box.buttonClicked.connect(lambda b: self._delete(row) if b is delete else None)
        box.open()

    def _delete(self, row: dict) -> None:
        def finished(_result, error) -> None:
            if error is not None:
                message = getattr(error, "message", None) or str(error)
                self.error.emit("Could not delete", f"{row['display_name']}: {message}")
                return
            self.model.remove_entry(row)
            self.message.emit(f"Deleted {row['display_name']} from {row['profile']}.")

        self._runner.run(delete_remote, self._app, row, callback=finished)
