"""The review dialog: files the content check held ask the user here (thumbnail, what was found
and how sure each model was, Approve / Reject).

Non-blocking (``open()`` + signals). The list comes from the journal, so files held by an earlier
session or by a command-line ``upload`` are asked about too. Reading the journal, decoding the
thumbnails and deciding all run on the window's task runner, never on the GUI thread.
"""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_uploader.desktop import DesktopApp
from desktop_uploader.pipeline.content import Finding

log = logging.getLogger(__name__)
PREVIEW = 256  # the held thumbnail's size (presets make 256 px thumbnails)
JobRole = Qt.ItemDataRole.UserRole + 1


def held_files(engine) -> list[dict]:
    """The held jobs with their thumbnails' pixels (worker thread: no Qt here)."""
    from PIL import Image

    rows = engine.held_for_review()
    for row in rows:
        row["preview"] = None
        thumb = next((r for r in row["held_renditions"] if r.get("role") == "thumbnail"), None)
        try:
            with Image.open(thumb["path"], formats=["WEBP", "PNG", "JPEG"]) as im:
                im.thumbnail((PREVIEW, PREVIEW))
                rgba = im.convert("RGBA")
            row["preview"] = (rgba.width, rgba.height, rgba.tobytes())
        except (OSError, TypeError, ValueError):  # gone or unreadable: shown without it
            pass
    return rows


def findings_text(findings: list[dict]) -> str:
    """One line per finding: what, and how sure the detector and the classifier were."""
    lines = []
    for f in map(Finding.from_dict, findings):
        second = (
            f", the nudity classifier agreed ({f.classifier:.0%})"
            if f.classifier is not None
            else ""
        )
        lines.append(f"{f.name.capitalize()}: detector {f.score:.0%}{second} — {f.label}")
    return "\n".join(lines)


class ReviewDialog(QDialog):
    """``decided(job_id, approved)`` once a decision was taken (and accepted by the engine)."""

    decided = Signal(int, bool)

    def __init__(self, app: DesktopApp, runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review held images")
        self.setObjectName("review-dialog")
        self.resize(760, 420)
        self._app = app
        self._runner = runner
        self._rows: dict[int, dict] = {}
        self.loaded = 0  # completed loads (tests wait on it)

        intro = QLabel(
            "The content check flagged these images. Nothing has been uploaded. "
            "Approve what may go up; Reject deletes the processed copy (your file is kept)."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Held images")
        self.list.setIconSize(QSize(64, 64))
        self.list.setMinimumWidth(240)
        self.list.currentItemChanged.connect(lambda *_: self._show_current())
        self.preview = QLabel()
        self.preview.setObjectName("review-preview")
        self.preview.setAccessibleName("Held image preview")
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel()
        self.title.setObjectName("review-title")
        self.title.setWordWrap(True)
        self.found = QLabel()
        self.found.setObjectName("review-findings")
        self.found.setAccessibleName("What the content check found")
        self.found.setWordWrap(True)
        self.found.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.found.setTextFormat(Qt.TextFormat.PlainText)
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setTextFormat(Qt.TextFormat.PlainText)  # a file name is never markup
        self.where.setStyleSheet("color: palette(mid);")
        self.approve_button = QPushButton("Approve and upload")
        self.approve_button.setObjectName("review-approve")
        self.reject_button = QPushButton("Reject")
        self.reject_button.setObjectName("review-reject")
        self.approve_button.clicked.connect(lambda: self._decide(True))
        self.reject_button.clicked.connect(lambda: self._decide(False))
        self.status = QLabel()
        self.status.setObjectName("review-status")

        details = QVBoxLayout()
        details.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        details.addWidget(self.title)
        details.addWidget(self.found)
        details.addWidget(self.where)
        details.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.approve_button)
        details.addLayout(buttons)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(details, 2)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)
        layout.addWidget(close)
        self._show_current()

    # -- loading ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the held files from the journal (off the GUI thread)."""
        self._runner.run(held_files, self._app.engine, callback=self._loaded)

    def _loaded(self, rows: list[dict] | None, error: BaseException | None) -> None:
        self.loaded += 1
        if error is not None:
            self.status.setText(f"Could not read the held files: {error}")
            return
        current = self.current_job()
        self.list.clear()
        self._rows = {r["id"]: r for r in rows or []}
        for row in rows or []:
            top = Finding.from_dict(row["findings"][0]) if row["findings"] else None
            text = row["display_name"] + (f"\n{top.name} ({top.score:.2f})" if top else "")
            item = QListWidgetItem(text)
            item.setData(JobRole, row["id"])
            pixmap = _pixmap(row.get("preview"))
            if pixmap is not None:
                item.setIcon(QIcon(pixmap))
            self.list.addItem(item)
            if row["id"] == current:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self._show_current()

    def current_job(self) -> int | None:
        item = self.list.currentItem()
        return int(item.data(JobRole)) if item is not None else None

    def _show_current(self) -> None:
        job_id = self.current_job()
        row = self._rows.get(job_id) if job_id is not None else None
        for b in (self.approve_button, self.reject_button):
            b.setEnabled(row is not None)
        if row is None:
            self.preview.clear()
            self.title.setText("Nothing is waiting for review.")
            self.found.setText("")
            self.where.setText("")
            return
        pixmap = _pixmap(row.get("preview"))
        if pixmap is not None:
            self.preview.setPixmap(pixmap)
        else:
            self.preview.setText("(no preview)")
        held = datetime.fromtimestamp(row["held_at"]).strftime("%Y-%m-%d %H:%M")
        self.title.setText(f"<b>{_escape(row['display_name'])}</b> → {_escape(row['profile'])}")
        self.found.setText(findings_text(row["findings"]))
        self.where.setText(f"{row['source']}\nheld {held}")

    # -- deciding --------------------------------------------------------------------------
    def _decide(self, approve: bool) -> None:
        job_id = self.current_job()
        if job_id is None:
            return
        row = self._rows[job_id]
        engine = self._app.engine
        preset = self._app.settings.presets.get(row["preset"])
        for b in (self.approve_button, self.reject_button):
            b.setEnabled(False)

        def act() -> bool:
            if approve:
                return engine.approve(job_id, preset) is not None
            return engine.reject(job_id)

        self._runner.run(act, callback=lambda ok, err: self._decided(job_id, approve, ok, err))

    def _decided(self, job_id: int, approve: bool, ok, error) -> None:
        name = self._rows.get(job_id, {}).get("display_name", f"job {job_id}")
        if error is not None or not ok:
            why = error or "it was decided elsewhere"
            self.status.setText(f"{name}: nothing done ({why}).")
        else:
            self.status.setText(f"{name}: {'approved, uploading' if approve else 'rejected'}.")
            self.decided.emit(job_id, approve)
        self.refresh()


def _pixmap(preview) -> QPixmap | None:
    if not preview:
        return None
    width, height, data = preview
    image = QImage(data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
    return QPixmap.fromImage(image.copy())  # copy: the bytes belong to Python


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
