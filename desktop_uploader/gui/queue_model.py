"""The upload queue as a table model: one row per job, updated from engine event batches."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QIcon

from desktop_uploader import events as ev
from desktop_uploader.events import Event, JobResult
from desktop_uploader.gui.words import human_bytes, human_duration, job_problem

STAGE_LABELS = {
    "queued": "Waiting",
    "validating": "Checking",
    "processing": "Processing",
    "uploading": "Uploading",
    "paused": "Paused",
    "waiting_for_destination": "Waiting for destination",
    "review": "Waiting for review",
    "waiting_for_review": "Waiting for review",
    "waiting_for_scanner": "Waiting for the malware scanner",
    "done": "Done",
    "duplicate": "Already uploaded",
    "rejected": "Rejected",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "skipped": "Skipped (not an image)",
    "held": "Held for review",
}
FINISHED = ("done", "duplicate", "rejected", "failed", "cancelled", "skipped")
RETRYABLE = ("rejected", "failed", "cancelled")
# not finished, but nothing happens until someone (or the destination) acts
SETTLED = (
    "paused",
    "waiting_for_destination",
    "review",
    "waiting_for_review",
    "waiting_for_scanner",
    "held",  # held for review, kept in the journal: waits for the user, here or next start
)
BUSY = ("validating", "processing")  # working, with nothing to count: a busy bar

JobIdRole = Qt.ItemDataRole.UserRole + 1
FractionRole = Qt.ItemDataRole.UserRole + 2  # 0..1; -1: no bar; BUSY_FRACTION: a busy bar
BUSY_FRACTION = -2.0
StageRole = Qt.ItemDataRole.UserRole + 3
ThumbnailUrlRole = Qt.ItemDataRole.UserRole + 4


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage.replace("_", " ").capitalize())


@dataclass
class QueueRow:
    job_id: int
    name: str
    source: str
    stage: str = "queued"
    sent: int = 0
    total: int = 0
    started: float | None = None  # monotonic time of the first progress event
    message: str = ""  # a rejection or failure reason, or why the job waits
    result: JobResult | None = None
    paused: bool = False
    extra: dict = field(default_factory=dict)
    profile: str = ""  # the destination it goes to (from the queued event)

    @property
    def finished(self) -> bool:
        return self.stage in FINISHED

    def details(self, full: bool = False) -> str:
        """The Details column: the link of an upload, or in words why the file is not one
        (``full``: with the technical details, for the tooltip)."""
        if self.stage in ("done", "duplicate") and self.result:
            return self.result.url or ""
        if self.stage in ("failed", "rejected") and self.result:
            p = job_problem(self.name, self.stage, self.result.code, self.result.reason)
            return f"{p.message}\n\n{p.details}" if full and p.details else p.message
        return self.message

    @property
    def settled(self) -> bool:
        """Finished, or waiting for someone to act: a batch is over when all its rows are."""
        return self.finished or self.stage in SETTLED

    def fraction(self) -> float:
        """How far the bar is filled: bytes sent while uploading; a busy bar while checking or
        processing; no bar while waiting in line or once finished (the text says it)."""
        if self.stage == "uploading" and self.total > 0:
            return min(1.0, self.sent / self.total)
        if self.stage in BUSY or self.stage == "uploading":
            return BUSY_FRACTION
        return -1.0

    def progress_text(self, now: float) -> str:
        if self.stage in ("done", "duplicate") and self.result and self.result.bytes:
            return human_bytes(self.result.bytes)
        if self.stage == "queued":
            return "In line"
        if self.stage in BUSY:
            return f"{stage_label(self.stage)}…"
        if self.stage != "uploading":
            return ""
        if self.total <= 0:
            return "Connecting…"
        if self.sent >= self.total:
            return "Finishing…"  # all bytes sent; the server is checking and completing
        text = f"{human_bytes(self.sent)} of {human_bytes(self.total)}"
        # time left only when there is enough of it and enough history to guess from
        if self.started is not None and self.sent > 0:
            elapsed = now - self.started
            left = (self.total - self.sent) / (self.sent / elapsed) if elapsed > 0 else 0
            if elapsed >= 1.0 and left >= 2.0:
                text += f" · {human_duration(left)} left"
        return text


class QueueModel(QAbstractTableModel):
    """Columns: file (thumbnail + name), stage, progress, details."""

    COLUMNS = ("File", "Stage", "Progress", "Details")
    finished = Signal(object)  # QueueRow, once per job reaching a final state
    totals_changed = Signal()

    def __init__(self, thumbnails=None, placeholder=None, parent=None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails  # ThumbnailCache, or None (tests, benches)
        self._placeholder = placeholder  # a QIcon shown until a thumbnail exists
        self._rows: list[QueueRow] = []
        self._index: dict[int, int] = {}

    # -- Qt model API ----------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == JobIdRole:
            return row.job_id
        if role == StageRole:
            return row.stage
        if role == ThumbnailUrlRole:
            return row.result.thumbnail_url if row.result else None
        if role == FractionRole:
            return row.fraction()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row.name
            if col == 1:
                return stage_label(row.stage)
            if col == 2:
                return row.progress_text(time.monotonic())
            if col == 3:
                return row.details()
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            url = row.result.thumbnail_url if row.result else None
            pixmap = self._thumbnails.get(url) if self._thumbnails and url else None
            return QIcon(pixmap) if pixmap is not None else self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                return row.source
            if col == 3:
                return row.details(full=True) or None
        if role == Qt.ItemDataRole.AccessibleTextRole and col == 1:
            return f"{row.name}: {stage_label(row.stage)}"
        return None

    # -- reading -------------------------------------------------------------------------
    def row(self, i: int) -> QueueRow:
        return self._rows[i]

    def row_for_job(self, job_id: int) -> QueueRow | None:
        i = self._index.get(job_id)
        return None if i is None else self._rows[i]

    def rows(self) -> list[QueueRow]:
        return list(self._rows)

    def overall(self) -> tuple[int, int]:
        """(finished files, all files): the overall bar counts files, not bytes."""
        return sum(r.finished for r in self._rows), len(self._rows)

    def idle(self) -> bool:
        """Every row finished or waiting on someone: the current batch is over."""
        return all(r.settled for r in self._rows)

    # -- updating ------------------------------------------------------------------------
    def apply(self, batch: list[Event]) -> list[QueueRow]:
        """Apply a batch of engine events (GUI thread); returns the rows that finished."""
        changed: set[int] = set()
        done: list[QueueRow] = []
        for event in batch:
            if event.kind == ev.QUEUED:
                self._add(event)
                continue
            i = self._index.get(event.job_id)
            if i is None:
                continue
            row = self._rows[i]
            if event.kind == ev.STAGE:
                row.stage = event.data.get("stage", row.stage)
                row.message = str(event.data.get("reason") or "")
                if row.stage == "uploading" and row.started is None:
                    row.started = time.monotonic()
            elif event.kind == ev.PROGRESS:
                row.sent = int(event.data.get("sent", 0))
                row.total = int(event.data.get("total", 0))
                if row.stage == "paused":
                    row.stage = "uploading"
            else:
                result: JobResult | None = event.data.get("result")
                row.result = result
                row.stage = result.status if result else event.kind
                row.message = (result.reason or "") if result else ""
                if result and result.status in ("done", "duplicate") and result.bytes:
                    row.sent = row.total or row.sent
                done.append(row)
            changed.add(i)
        if changed:
            top, bottom = min(changed), max(changed)
            self.dataChanged.emit(self.index(top, 0), self.index(bottom, len(self.COLUMNS) - 1))
        for row in done:
            self.finished.emit(row)
        self.totals_changed.emit()
        return done

    def _add(self, event: Event) -> None:
        if event.job_id in self._index:
            return
        name = event.data.get("name") or Path(event.source).name
        n = len(self._rows)
        self.beginInsertRows(QModelIndex(), n, n)
        profile = str(event.data.get("profile") or "")
        self._rows.append(QueueRow(event.job_id, name, event.source, profile=profile))
        self._index[event.job_id] = n
        self.endInsertRows()

    def remove_job(self, job_id: int) -> None:
        i = self._index.get(job_id)
        if i is None:
            return
        self.beginRemoveRows(QModelIndex(), i, i)
        del self._rows[i]
        self._reindex()
        self.endRemoveRows()
        self.totals_changed.emit()

    def clear_finished(self) -> None:
        """Forget finished rows (they stay in the history)."""
        if not any(r.finished for r in self._rows):
            return
        self.beginResetModel()
        self._rows = [r for r in self._rows if not r.finished]
        self._reindex()
        self.endResetModel()
        self.totals_changed.emit()

    def _reindex(self) -> None:
        self._index = {r.job_id: i for i, r in enumerate(self._rows)}
