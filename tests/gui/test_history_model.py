"""The history model stays lazy on a journal with 100,000 rows."""

from __future__ import annotations

import sqlite3
import time

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QListView

from desktop_uploader.gui.history_model import PAGE_SIZE, HistoryModel
from desktop_uploader.journal import Journal

ROWS = 100_000


@pytest.fixture(scope="module")
def big_journal(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "journal.sqlite3"
    Journal(path).close()  # the real schema and indexes
    db = sqlite3.connect(path)
    now = time.time() - ROWS
    db.executemany(
        "INSERT INTO jobs (source, display_name, profile, preset, preset_fp, status, url,"
        " thumbnail_url, key, created_at, finished_at, width, height)"
        " VALUES (?, ?, 'test', 'default', 'fp', ?, ?, NULL, ?, ?, ?, 640, 480)",
        (
            (
                f"/photos/photo-{i}.jpg",
                f"photo-{i}.jpg",
                "rejected" if i % 1000 == 7 else "done",
                f"https://cdn.example.com/i/{i:06d}.webp",
                f"i/{i:06d}.webp",
                now + i,
                now + i,
            )
            for i in range(ROWS)
        ),
    )
    db.commit()
    db.close()
    journal = Journal(path)
    yield journal
    journal.close()


def test_loads_one_page_at_a_time(big_journal, qtbot):
    model = HistoryModel(big_journal)
    view = QListView()
    qtbot.addWidget(view)
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setUniformItemSizes(True)
    view.setGridSize(QSize(160, 170))
    view.resize(800, 600)
    view.setModel(model)
    view.show()
    model.fetchMore()
    qtbot.waitExposed(view)
    assert model.rowCount() == PAGE_SIZE
    assert model.pages_loaded == 1
    assert model.canFetchMore()
    assert model.index(0).data() == f"photo-{ROWS - 1}.jpg"  # newest first

    view.scrollToBottom()  # the view asks for the next page only at the end
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE_SIZE)
    assert model.pages_loaded == 2
    assert model.index(PAGE_SIZE).data() == f"photo-{ROWS - 1 - PAGE_SIZE}.jpg"


def test_search_reloads_from_the_first_page(big_journal, qtbot):
    model = HistoryModel(big_journal)
    model.fetchMore()
    model.set_search("photo-99999.jpg")
    assert [model.index(i).data() for i in range(model.rowCount())] == ["photo-99999.jpg"]
    assert not model.canFetchMore()
    model.set_search("photo-1234")  # photo-1234.jpg and photo-12340..12349.jpg
    assert model.rowCount() == 11
    model.set_search("")
    assert model.rowCount() == PAGE_SIZE


def test_queries_run_off_the_gui_thread_and_stale_searches_are_dropped(big_journal, qtbot):
    import threading

    from PySide6.QtCore import QObject

    from desktop_uploader.gui.workers import TaskRunner

    owner = QObject()  # Qt parents, as in the window: the model below is put in a cycle
    runner = TaskRunner(2, "test-history", owner)
    threads: list[str] = []
    original = HistoryModel._query

    def recording(self, *args):
        threads.append(threading.current_thread().name)
        return original(self, *args)

    model = HistoryModel(big_journal, runner=runner, parent=owner)
    model._query = recording.__get__(model)
    try:
        model.fetchMore()
        assert model.rowCount() == 0 and not model.canFetchMore()  # loading, not blocking
        qtbot.waitUntil(lambda: model.rowCount() == PAGE_SIZE)
        model.set_search("photo-4242")  # typed quickly: the first search's rows never show
        model.set_search("photo-99999.jpg")
        qtbot.waitUntil(lambda: model.pages_loaded == 2 and model.rowCount() == 1)
        assert model.index(0).data() == "photo-99999.jpg"
        assert all(name.startswith("test-history") for name in threads)
    finally:
        runner.close()
