"""The history gallery's model: finished jobs from the journal, a page at a time.

Rows are fetched with LIMIT/OFFSET only when the view scrolls near the end (``fetchMore``), so
100,000 journal rows cost one page of memory until the user scrolls. Thumbnails come from the
``ThumbnailCache`` (loaded off the GUI thread).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon

RowRole = Qt.ItemDataRole.UserRole + 1
PAGE_SIZE = 200
UPLOADED = ("done", "duplicate")


def when(row: dict) -> str:
    ts = row.get("finished_at") or row.get("created_at")
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else ""


class HistoryModel(QAbstractListModel):
    """One item per finished job, newest first; ``set_search`` filters in the journal."""

    def __init__(
        self, journal, thumbnails=None, icons=None, page_size: int = PAGE_SIZE, parent=None
    ) -> None:
        super().__init__(parent)
        self._journal = journal
        self._thumbnails = thumbnails
        self._icons = icons or {}  # "image" / "warning" placeholders
        self._page = page_size
        self._rows: list[dict] = []
        self._ids: set[int] = set()
        self._search = ""
        self._exhausted = False
        self.pages_loaded = 0  # how many journal queries ran (tests check laziness with it)

    # -- Qt model API ----------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted:
            return
        page = self._journal.history(
            search=self._search or None, limit=self._page, offset=len(self._rows)
        )
        self.pages_loaded += 1
        if len(page) < self._page:
            self._exhausted = True
        page = [r for r in page if r["id"] not in self._ids]
        if not page:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self._ids.update(r["id"] for r in page)
        self.endInsertRows()

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return row["display_name"]
        if role == Qt.ItemDataRole.DecorationRole:
            if row["status"] not in UPLOADED:
                return self._icons.get("warning")
            pixmap = self._thumbnails.get(row["thumbnail_url"]) if self._thumbnails else None
            # an icon, not the pixmap: every item is drawn in the same icon box (uniform sizes)
            return QIcon(pixmap) if pixmap is not None else self._icons.get("image")
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [row["display_name"], f"{when(row)} · {row['profile']} · {row['status']}"]
            if row["status"] in UPLOADED:
                if row.get("width"):
                    lines.append(f"{row['width']} × {row['height']} px")
                lines.append(row["url"] or "")
            else:
                lines.append(row.get("reason") or "")
            lines.append(f"Source: {row['source']}")
            return "\n".join(lines)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row['display_name']}, {row['status']}, {when(row)}"
        return None

    # -- reading and updating -------------------------------------------------------------
    def row(self, i: int) -> dict:
        return self._rows[i]

    @property
    def search(self) -> str:
        return self._search

    def set_search(self, text: str) -> None:
        """Filter by name, path, destination, status, URL or date; reloads the first page."""
        self._search = text.strip()
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._rows, self._ids, self._exhausted = [], set(), False
        self.endResetModel()
        self.fetchMore()

    def add_finished(self, job_id: int) -> None:
        """A job just finished: put it on top (when it matches the search)."""
        if job_id in self._ids:
            return
        if self._search:
            self.reload()
            return
        row = self._journal.job(job_id)
        if row is None or row["status"] not in UPLOADED + ("rejected", "failed", "cancelled"):
            return
        # newest first by id, like the journal query (jobs finish out of order)
        at = next((i for i, r in enumerate(self._rows) if r["id"] < job_id), len(self._rows))
        if at == len(self._rows) and not self._exhausted:
            return  # belongs to a page not loaded yet
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.insert(at, row)
        self._ids.add(job_id)
        self.endInsertRows()

    def remove_job(self, job_id: int) -> None:
        for i, r in enumerate(self._rows):
            if r["id"] == job_id:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self._ids.discard(job_id)
                self.endRemoveRows()
                return
