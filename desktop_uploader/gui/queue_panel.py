"""The Queue tab: the drop-zone table, per-job controls and the overall progress."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_uploader.gui.icons import icon
from desktop_uploader.gui.queue_model import RETRYABLE, QueueModel
from desktop_uploader.gui.queue_view import QueueView


class QueuePanel(QWidget):
    """Buttons and the right-click menu act on the selected jobs; ``files_dropped`` carries
    dropped paths; ``message`` a short confirmation (links copied), ``error`` a problem."""

    files_dropped = Signal(list)
    message = Signal(str)
    error = Signal(str, str)

    def __init__(
        self,
        engine,
        model: QueueModel,
        thumbnails,
        links_for: Callable[[list], tuple[str, str]] | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self.model = model
        self._links_for = links_for  # rows -> (text for the clipboard, format's name)
        self.view = QueueView()
        self.view.setModel(model)
        self.view.files_dropped.connect(self.files_dropped)
        self.view.cancel_requested.connect(lambda _ids: self.remove())
        self.view.copy_requested.connect(self.copy_links)
        self.view.menu_requested.connect(self.show_menu)
        thumbnails.ready.connect(lambda _url: self.view.viewport().update())

        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.cancel_button = QPushButton("Cancel")
        self.retry_button = QPushButton("Retry")
        self.clear_button = QPushButton("Clear finished")
        self.approve_button = QPushButton("Approve")
        self.reject_button = QPushButton("Reject")
        self.approve_button.setToolTip("Upload the selected files held for content review")
        self.reject_button.setToolTip("Do not upload the selected files held for review")
        self.approve_button.clicked.connect(lambda: self._review(approve=True))
        self.reject_button.clicked.connect(lambda: self._review(approve=False))
        self.pause_button.setToolTip("Pause the selected uploads")
        self.resume_button.setToolTip("Resume the selected uploads")
        self.cancel_button.setToolTip("Cancel the selected uploads (Delete); files are kept")
        self.retry_button.setToolTip("Try the selected failed, rejected or cancelled files again")
        self.clear_button.setToolTip("Remove finished rows from the queue (they stay in History)")
        self.pause_button.clicked.connect(lambda: self._each(self._engine.pause))
        self.resume_button.clicked.connect(lambda: self._each(self._engine.resume))
        for b in (self.pause_button, self.resume_button):
            b.clicked.connect(self.update_buttons)
        self.cancel_button.clicked.connect(lambda: self.cancel(self.view.selected_job_ids()))
        self.retry_button.clicked.connect(self.retry)
        self.clear_button.clicked.connect(model.clear_finished)

        self.overall = QProgressBar()
        self.overall.setAccessibleName("Overall progress (files finished)")
        self.overall.setRange(0, 1)
        self.overall.setValue(0)
        self.overall.setFormat("")
        self.summary = QLabel("Nothing queued")
        self.summary.setAccessibleName("Queue summary")

        buttons = QHBoxLayout()
        for b in (self.pause_button, self.resume_button, self.cancel_button, self.retry_button):
            b.setAccessibleName(f"{b.text()} selected")
            buttons.addWidget(b)
        for b in (self.approve_button, self.reject_button):
            b.setAccessibleName(f"{b.text()} selected held for review")
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.clear_button.setAccessibleName("Clear finished")
        buttons.addWidget(self.clear_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.overall, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addLayout(bottom)
        self.refresh_icons()
        model.totals_changed.connect(self.update_totals)
        self.view.selectionModel().selectionChanged.connect(self.update_buttons)
        model.dataChanged.connect(self.update_buttons)
        self.update_buttons()

    def refresh_icons(self) -> None:
        for button, name in (
            (self.pause_button, "pause"),
            (self.resume_button, "resume"),
            (self.cancel_button, "cancel"),
            (self.retry_button, "retry"),
            (self.clear_button, "clear"),
            (self.approve_button, "done"),
            (self.reject_button, "cancel"),
        ):
            button.setIcon(icon(name))

    def _selected_rows(self):
        return [self.model.row_for_job(j) for j in self.view.selected_job_ids()]

    def _each(self, fn) -> None:
        for job_id in self.view.selected_job_ids():
            fn(job_id)

    def cancel(self, job_ids: list[int]) -> None:
        for job_id in job_ids:
            self._engine.cancel(job_id)

    def _review(self, approve: bool) -> None:
        decide = getattr(self._engine, "approve" if approve else "reject", None)
        for row in self._selected_rows():
            if decide and row and row.stage == "waiting_for_review":
                decide(row.job_id)

    def retry(self) -> None:
        for row in self._selected_rows():
            if row and row.stage in RETRYABLE and self._engine.retry(row.job_id):
                self.model.remove_job(row.job_id)

    def update_buttons(self, *_args) -> None:
        rows = [r for r in self._selected_rows() if r]
        active = [r for r in rows if not r.finished]
        held = [r for r in active if self._paused_on_its_own(r.job_id)]
        self.pause_button.setEnabled(len(held) < len(active))
        self.resume_button.setEnabled(any(r.stage == "paused" for r in active) or bool(held))
        self.cancel_button.setEnabled(bool(active))
        self.retry_button.setEnabled(any(r.stage in RETRYABLE for r in rows))
        self.clear_button.setEnabled(any(r.finished for r in self.model.rows()))
        held = any(r.stage == "waiting_for_review" for r in rows)
        for b in (self.approve_button, self.reject_button):
            b.setVisible(hasattr(self._engine, "approve"))
            b.setEnabled(held)

    def _paused_on_its_own(self, job_id: int) -> bool:
        job = self._engine.job(job_id)
        return bool(job and job.paused)

    def update_totals(self) -> None:
        """The summary counts files: finished of all, and what needs attention."""
        finished, total = self.model.overall()
        self.overall.setRange(0, max(total, 1))
        self.overall.setValue(finished)
        self.overall.setFormat(f"{finished} of {total} files finished" if total else "")
        if not total:
            self.summary.setText("Nothing queued")
            return
        counts: dict[str, int] = {}
        for r in self.model.rows():
            counts[r.stage] = counts.get(r.stage, 0) + 1
        uploaded = counts.get("done", 0) + counts.get("duplicate", 0)
        parts = [f"{uploaded} of {total} uploaded"]
        for stage, word in (
            ("failed", "failed"),
            ("rejected", "rejected"),
            ("paused", "paused"),
            ("cancelled", "cancelled"),
        ):
            if counts.get(stage):
                parts.append(f"{counts[stage]} {word}")
        text = " · ".join(parts)
        if counts.get("failed") or counts.get("rejected"):
            text = f"<b>{text}</b>"  # failures are part of the result, not a footnote
        self.summary.setText(text)

    # -- the selected rows' links and files -------------------------------------------------
    def copy_links(self) -> str:
        """Ctrl+C / Copy links: the selected uploads' links, one per line, in the chosen
        format; returns the text (empty when no selected row has a link)."""
        rows = [r for r in self._selected_rows() if r and r.result and r.result.url]
        if not rows or self._links_for is None:
            return ""
        text, fmt = self._links_for(rows)
        from PySide6.QtWidgets import QApplication

        QApplication.clipboard().setText(text)
        what = "link" if len(rows) == 1 else f"{len(rows)} links"
        self.message.emit(f"Copied {what} as {fmt}.")
        return text

    def open_links(self) -> None:
        for r in self._selected_rows()[:10]:  # a stray Select All must not open 1,000 tabs
            if r and r.result and r.result.url:
                QDesktopServices.openUrl(QUrl(r.result.url))

    def show_in_folder(self) -> None:
        rows = [r for r in self._selected_rows() if r]
        if not rows:
            return
        source = Path(rows[0].source)
        if not source.exists():
            self.error.emit(
                "Source file not found",
                f"{source} is no longer on this computer (moved or deleted).",
            )
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(source.parent)))

    def remove(self) -> None:
        """Finished rows leave the queue (they stay in History); unfinished ones are cancelled
        first (their source files are kept)."""
        for r in [r for r in self._selected_rows() if r]:
            if r.finished:
                self.model.remove_job(r.job_id)
            else:
                self._engine.cancel(r.job_id)

    def menu_actions(self) -> QMenu:
        """The right-click menu for the selection, each action enabled only where it works."""
        rows = [r for r in self._selected_rows() if r]
        linked = [r for r in rows if r.result and r.result.url]
        menu = QMenu(self)
        menu.setObjectName("queue-menu")
        many = len(linked) > 1
        entries = (
            (
                f"Copy {len(linked)} links" if many else "Copy link",
                "link",
                self.copy_links,
                bool(linked),
                "Ctrl+C",
            ),
            ("Open in browser", "open-browser", self.open_links, bool(linked), None),
            ("Show in folder", "reveal", self.show_in_folder, len(rows) == 1, None),
            ("Retry", "retry", self.retry, any(r.stage in RETRYABLE for r in rows), None),
            ("Remove from queue", "cancel", self.remove, bool(rows), "Delete"),
        )
        for text, icon_name, slot, enabled, shortcut in entries:
            action = menu.addAction(icon(icon_name), text)
            action.setEnabled(enabled)
            if shortcut:
                action.setShortcut(shortcut)
            action.triggered.connect(slot)
        return menu

    def show_menu(self, global_pos) -> None:
        menu = self.menu_actions()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(global_pos)
