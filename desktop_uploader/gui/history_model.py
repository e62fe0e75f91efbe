"""The history gallery's model: finished jobs from the journal, a page at a time, one entry per
picture.

Rows are fetched with LIMIT/OFFSET only when the view scrolls near the end (``fetchMore``), so
100,000 journal rows cost one page of memory until the user scrolls. With a ``TaskRunner`` the
queries (pages and searches) run on a worker thread and the rows arrive a moment later; without
one (tests of laziness) they run inline. ``loaded`` says when they did. Thumbnails come from the
``ThumbnailCache``.

Dropping the same picture again makes another journal job but not another entry: jobs with the
same uploaded content (content hash and destination) are one entry that lists every source; so
are repeated rejections of the same file for the same reason.
"""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QIcon

from desktop_uploader.gui.words import human_bytes
from desktop_uploader.records import UPLOADED, JobStatus

RowRole = Qt.ItemDataRole.UserRole + 1
PAGE_SIZE = 200
NOT_UPLOADED = (JobStatus.REJECTED, JobStatus.FAILED)
# the filter chips: which journal statuses each shows
FILTERS = {"all": UPLOADED + NOT_UPLOADED, "uploaded": UPLOADED, "rejected": NOT_UPLOADED}


def when(row: dict) -> str:
    ts = row.get("finished_at") or row.get("created_at")
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else ""


def entry_key(row: dict) -> tuple:
    """What makes two jobs one gallery entry: the same object at the same destination, or the
    same file refused for the same reason."""
    if row["status"] in UPLOADED and row.get("sha256"):
        return ("uploaded", row.get("profile"), row["sha256"])
    if row["status"] in UPLOADED:
        return ("job", row["id"])
    return ("refused", row.get("source_sha256") or row.get("source"), row.get("code"))


def history_row(r, profile: str) -> dict:
    """The journal row of a queue row that just finished, built from its result (no query)."""
    now = time.time()
    return r.result.to_row() | {
        "id": r.job_id,
        "source": r.source,
        "display_name": r.name,
        "profile": profile,
        "created_at": now,
        "finished_at": now,
    }


def _entry(row: dict) -> dict:
    entry = dict(row)
    entry["sources"] = [row["source"]]
    entry["job_ids"] = [row["id"]]
    return entry


class HistoryModel(QAbstractListModel):
    """One item per picture (newest first); ``set_search`` and ``set_filter`` query the journal,
    and ``loaded(search)`` is emitted when their rows are in."""

    loaded = Signal(str)

    def __init__(
        self,
        journal,
        thumbnails=None,
        icons=None,
        page_size: int = PAGE_SIZE,
        runner=None,
        parent=None,
        destination_names=None,
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
        self._keys: dict[tuple, dict] = {}
        self._search = ""
        self._filter = "all"
        self._exhausted = False
        self._offset = 0  # journal rows read so far (entries can hold several)
        self._name_of = destination_names or (lambda profile: profile)
        self.pages_loaded = 0  # how many journal queries ran (tests check laziness with it)

    # -- Qt model API ----------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or self._loading:
            return
        args = (self._search or None, self._page, self._offset, FILTERS[self._filter])
        generation = self._generation
        if self._runner is None:
            self._add_page(generation, self._query(*args), None)
            return
        self._loading = True
        self._runner.run(
            self._query, *args, callback=lambda page, err: self._add_page(generation, page, err)
        )

    def _query(self, search, limit: int, offset: int, statuses=FILTERS["all"]) -> list[dict]:
        return self._journal.history(search=search, limit=limit, offset=offset, statuses=statuses)

    @property
    def loading(self) -> bool:
        return self._loading

    def _add_page(self, generation: int, page: list[dict] | None, error) -> None:
        if generation != self._generation:
            return  # a page of a search the user has since changed
        self._loading = False
        self.pages_loaded += 1
        if error is not None or page is None:
            self._exhausted = True
            self.loaded.emit(self._search)
            return
        if len(page) < self._page:
            self._exhausted = True
        self._offset += len(page)
        fresh: list[dict] = []
        for row in page:
            if row["id"] in self._ids:
                continue
            self._ids.add(row["id"])
            entry = self._keys.get(entry_key(row))
            if entry is not None:  # an older job of a picture already shown
                self._merge(entry, row, newer=False)
                continue
            entry = _entry(row)
            self._keys[entry_key(row)] = entry
            fresh.append(entry)
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()
        early, self._early = self._early, []
        for row in early:
            self.add_row(row)
        self.loaded.emit(self._search)

    def _merge(self, entry: dict, row: dict, newer: bool) -> None:
        if row["source"] not in entry["sources"]:
            entry["sources"].append(row["source"])
        entry["job_ids"].append(row["id"])
        if newer:  # the entry shows its latest job: date, name, link
            keep = {k: entry[k] for k in ("sources", "job_ids")}
            entry.update(row)
            entry.update(keep)
        i = self._position(entry)
        if i is not None:  # (an entry of the page being added is not in the rows yet)
            self.dataChanged.emit(self.index(i), self.index(i))

    def _position(self, entry: dict) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r is entry), None)

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
            return self.describe(row)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row['display_name']}, {' · '.join(self.caption(row))}"
        return None

    def caption(self, row: dict) -> list[str]:
        """The lines under a thumbnail (after the name): what, when, where."""
        if row["status"] in UPLOADED:
            size = human_bytes(row["bytes"]) if row.get("bytes") else ""
            first = " · ".join(p for p in (when(row), size) if p)
            return [first, f"on {self._name_of(row['profile'])}"]
        what = "Rejected" if row["status"] == "rejected" else "Not uploaded"
        return [f"{what} · {when(row)}", (row.get("reason") or "").split(". ")[0]]

    def describe(self, row: dict) -> str:
        """The tooltip: everything about the entry, including every source it came from."""
        lines = [row["display_name"], *self.caption(row)]
        if row["status"] in UPLOADED:
            if row.get("width"):
                lines.append(f"{row['width']} × {row['height']} px")
            lines.append(row["url"] or "")
        else:
            lines[-1] = row.get("reason") or ""
        sources = row.get("sources") or [row["source"]]
        label = "Source" if len(sources) == 1 else f"Sources ({len(sources)})"
        lines.append(f"{label}: " + "\n    ".join(sources))
        return "\n".join(lines)

    # -- reading and updating -------------------------------------------------------------
    def row(self, i: int) -> dict:
        return self._rows[i]

    @property
    def search(self) -> str:
        return self._search

    @property
    def filter(self) -> str:
        return self._filter

    def set_search(self, text: str) -> None:
        """Filter by name, path, destination, status, URL or date; reloads the first page."""
        self._search = text.strip()
        self.reload()

    def set_filter(self, name: str) -> None:
        """ "all", "uploaded" or "rejected" (the chips above the gallery)."""
        if name not in FILTERS:
            raise ValueError(f"unknown history filter {name!r}")
        self._filter = name
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        self.beginResetModel()
        self._rows, self._ids, self._keys = [], set(), {}
        self._exhausted, self._loading, self._offset = False, False, 0
        self.endResetModel()
        self.fetchMore()

    def add_row(self, row: dict) -> None:
        """A job just finished (``row`` as the journal has it): show it in its place, newest
        first, when it matches the search. No journal query: the GUI thread never waits."""
        job_id = row["id"]
        if job_id in self._ids or row["status"] not in FILTERS[self._filter]:
            return
        if self._loading:
            self._early.append(row)
            return
        if self._search and not self._matches(row):
            return
        entry = self._keys.get(entry_key(row))
        if entry is not None:  # the same picture again: one entry, moved to the top
            self._ids.add(job_id)
            i = self._position(entry) or 0
            if i and self.beginMoveRows(QModelIndex(), i, i, QModelIndex(), 0):
                self._rows.insert(0, self._rows.pop(i))
                self.endMoveRows()
            self._merge(entry, row, newer=True)
            return
        # newest first by id, like the journal query (jobs finish out of order)
        at = next((i for i, r in enumerate(self._rows) if r["id"] < job_id), len(self._rows))
        if at == len(self._rows) and not self._exhausted:
            return  # belongs to a page not loaded yet
        self._ids.add(job_id)
        entry = _entry(row)
        self._keys[entry_key(row)] = entry
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.insert(at, entry)
        self.endInsertRows()

    def _matches(self, row: dict) -> bool:
        """The search's LIKE, for a row that arrives while a search is shown."""
        needle = self._search.lower()
        fields = ("display_name", "source", "profile", "status", "url", "code")
        return any(needle in str(row.get(f) or "").lower() for f in fields) or needle in when(row)

    def remove_entry(self, entry: dict) -> None:
        """Forget an entry (all its jobs), e.g. after it was deleted from its destination."""
        for i, r in enumerate(self._rows):
            if r is entry or r["id"] == entry["id"]:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self._keys.pop(entry_key(r), None)
                self.endRemoveRows()
                return

    def remove_job(self, job_id: int) -> None:
        for r in self._rows:
            if job_id in r.get("job_ids", [r["id"]]):
                self.remove_entry(r)
                return
