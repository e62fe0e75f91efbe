"""The history gallery's model: finished jobs from the journal, a page at a time.

Rows are fetched with LIMIT/OFFSET only when the view scrolls near the end (``fetchMore``), so
100,000 journal rows cost one page of memory until the user scrolls. With a ``TaskRunner`` the
queries (pages and searches) run on a worker thread and the rows arrive a moment later; without
one (tests of laziness) they run inline. Thumbnails come from the ``ThumbnailCache``.
"""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon

RowRole = Qt.ItemDataRole.UserRole + 1
PAGE_SIZE = 200
UPLOADED = ("done", "duplicate")


def when(row: dict) -> str:
    ts = row.get("finished_at") or row.get("created_at")
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else ""


def history_row(r, profile: str) -> dict:
    """The journal row of a queue row that just finished, built from its result (no query)."""
    res = r.result
    now = time.time()
    return {
        "id": r.job_id,
        "source": r.source,
        "display_name": r.name,
        "status": res.status,
        "code": res.code,
        "reason": res.reason,
        "url": res.url,
        "thumbnail_url": res.thumbnail_url,
        "key": res.key,
        "thumbnail_key": res.thumbnail_key,
        "sha256": res.sha256,
        "bytes": res.bytes,
        "width": res.width,
        "height": res.height,
        "had_gps": res.had_gps,
        "profile": profile,
        "created_at": now,
        "finished_at": now,
    }


class HistoryModel(QAbstractListModel):
    """One item per finished job, newest first; ``set_search`` filters in the journal."""

    def __init__(
        self,
        journal,
        thumbnails=None,
        icons=None,
        page_size: int = PAGE_SIZE,
        runner=None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._journal = journal
        self._runner = runner
        self._loading = False
        self._generation = 0  # bumped by each reload: late pages of an old search are dropped
        self._early: list[dict] = []  # finished while a page was loading
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
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or self._loading:
            return
        args = (self._search or None, self._page, len(self._rows))
        generation = self._generation
        if self._runner is None:
            self._add_page(generation, self._query(*args), None)
            return
        self._loading = True
        self._runner.run(
            self._query, *args, callback=lambda page, err: self._add_page(generation, page, err)
        )

    def _query(self, search: str | None, limit: int, offset: int) -> list[dict]:
        return self._journal.history(search=search, limit=limit, offset=offset)

    def _add_page(self, generation: int, page: list[dict] | None, error) -> None:
        if generation != self._generation:
            return  # a page of a search the user has since changed
        self._loading = False
        self.pages_loaded += 1
        if error is not None or page is None:
            self._exhausted = True
            return
        if len(page) < self._page:
            self._exhausted = True
        page = [r for r in page if r["id"] not in self._ids]
        if page:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
            self._rows.extend(page)
            self._ids.update(r["id"] for r in page)
            self.endInsertRows()
        early, self._early = self._early, []
        for row in early:
            self.add_row(row)

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
        self._generation += 1
        self.beginResetModel()
        self._rows, self._ids, self._exhausted, self._loading = [], set(), False, False
        self.endResetModel()
        self.fetchMore()

    def add_row(self, row: dict) -> None:
        """A job just finished (``row`` as the journal has it): show it in its place, newest
        first, when it matches the search. No journal query: the GUI thread never waits."""
        job_id = row["id"]
        if job_id in self._ids or row["status"] not in UPLOADED + ("rejected", "failed"):
            return
        if self._loading:
            self._early.append(row)
            return
        if self._search and not self._matches(row):
            return
        # newest first by id, like the journal query (jobs finish out of order)
        at = next((i for i, r in enumerate(self._rows) if r["id"] < job_id), len(self._rows))
        if at == len(self._rows) and not self._exhausted:
            return  # belongs to a page not loaded yet
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.insert(at, row)
        self._ids.add(job_id)
        self.endInsertRows()

    def _matches(self, row: dict) -> bool:
        """The search's LIKE, for a row that arrives while a search is shown."""
        needle = self._search.lower()
        fields = ("display_name", "source", "profile", "status", "url", "code")
        return any(needle in str(row.get(f) or "").lower() for f in fields) or needle in when(row)

    def remove_job(self, job_id: int) -> None:
        for i, r in enumerate(self._rows):
            if r["id"] == job_id:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self._ids.discard(job_id)
                self.endRemoveRows()
                return
