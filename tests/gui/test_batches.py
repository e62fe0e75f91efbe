"""A batch behaves like one: one notification, all its links on the clipboard, honest progress,
and the queue's right-click menu and Ctrl+C act on the selected rows."""

from __future__ import annotations

from gui_helpers import WAIT_MS, drop_files, select_rows, stages
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop_uploader.events import Event, JobResult
from desktop_uploader.gui.batches import Announcement
from desktop_uploader.gui.queue_model import BUSY_FRACTION, QueueModel, QueueRow
from desktop_uploader.gui.toast import Toast


def _count_notifications(monkeypatch) -> list[str]:
    shown: list[str] = []
    original = Toast.show_message

    def spy(self, text, *args, **kwargs):
        shown.append(text)
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(Toast, "show_message", spy)
    return shown


def test_a_mixed_batch_gives_one_notification_and_all_links(
    window, images, tmp_path, qtbot, monkeypatch
):
    shown = _count_notifications(monkeypatch)
    draft = window.app.edit_settings()
    draft.desktop.link_format = "markdown"
    window.app.save_settings(draft)  # a new snapshot: the window's settings are read-only
    bad = tmp_path / "notes.jpg"
    bad.write_text("meeting notes saved with the wrong extension\n")
    drop_files(window.queue_panel.view.viewport(), [*images, bad])
    model = window.queue_model
    qtbot.waitUntil(lambda: model.rowCount() == 4 and model.idle(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
    assert sorted(stages(model)) == ["done", "done", "done", "rejected"]
    assert shown == ["3 uploaded, 1 needs attention — 3 links copied"]
    rows = [r for r in model.rows() if r.stage == "done"]
    assert QApplication.clipboard().text() == "\n".join(
        f"![{r.name}]({r.result.url})" for r in rows
    )
    panel = window.queue_panel
    assert panel.overall.value() == 4 and panel.overall.maximum() == 4
    assert panel.overall.text() == "4 of 4 files finished"
    assert "1 rejected" in panel.summary.text()
    assert not window.error_banner.isVisible()  # a rejection is in the queue, not an error


def test_context_menu_and_ctrl_c_copy_the_selected_links(window, images, qtbot):
    panel, model = window.queue_panel, window.queue_model
    drop_files(panel.view.viewport(), images)
    qtbot.waitUntil(lambda: stages(model) == ["done"] * 3, timeout=WAIT_MS)
    QApplication.clipboard().setText("")
    select_rows(panel.view, [0, 2])
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    urls = [model.row(i).result.url for i in (0, 2)]
    assert QApplication.clipboard().text() == "\n".join(urls)

    menu = panel.menu_actions()
    actions = {a.text(): a for a in menu.actions()}
    assert set(actions) == {
        "Copy 2 links",
        "Open in browser",
        "Show in folder",
        "Retry",
        "Remove from queue",
    }
    assert actions["Copy 2 links"].isEnabled() and not actions["Retry"].isEnabled()
    assert not actions["Show in folder"].isEnabled()  # one source folder at a time
    actions["Remove from queue"].trigger()
    assert [r.name for r in model.rows()] == [images[1].name]
    assert window.history_model.rowCount() == 3  # removed from the queue, kept in history
    menu.deleteLater()


def test_context_menu_retries_a_failed_row(window, tmp_path, qtbot):
    panel, model = window.queue_panel, window.queue_model
    bad = tmp_path / "holiday.jpg"
    bad.write_text("not an image\n")
    drop_files(panel.view.viewport(), [bad])
    qtbot.waitUntil(lambda: stages(model) == ["rejected"], timeout=WAIT_MS)
    select_rows(panel.view, [0])
    menu = panel.menu_actions()
    actions = {a.text(): a for a in menu.actions()}
    assert not actions["Copy link"].isEnabled()  # nothing to copy for a rejected file
    assert actions["Retry"].isEnabled()
    old = model.row(0).job_id
    actions["Retry"].trigger()
    qtbot.waitUntil(
        lambda: model.rowCount() == 1 and model.row(0).job_id != old and model.row(0).finished,
        timeout=WAIT_MS,
    )
    menu.deleteLater()


def _row(stage: str, **kw) -> QueueRow:
    return QueueRow(1, "a.jpg", "/x/a.jpg", stage=stage, **kw)


def test_progress_says_what_is_happening():
    assert _row("queued").fraction() == -1 and _row("queued").progress_text(0) == "In line"
    assert _row("processing").fraction() == BUSY_FRACTION
    assert _row("processing").progress_text(0) == "Processing…"
    uploading = _row("uploading", sent=1_600_000, total=1_600_000, started=0.0)
    assert uploading.progress_text(5.0) == "Finishing…"  # not "0 s left" forever
    half = _row("uploading", sent=1_000_000, total=4_000_000, started=0.0)
    assert half.fraction() == 0.25
    assert half.progress_text(2.0) == "1.0 MB of 4.0 MB · 6 s left"
    assert half.progress_text(0.5) == "1.0 MB of 4.0 MB"  # too early to guess the time left
    assert _row("failed").fraction() == -1


def test_the_overall_bar_counts_files_and_failures_show(qapp):
    model = QueueModel()
    model.apply([Event("queued", i, f"/x/{i}.jpg", {"name": f"{i}.jpg"}) for i in range(4)])
    done = JobResult("/x/0.jpg", "done", url="https://cdn/0.webp", bytes=10)
    failed = JobResult("/x/1.jpg", "failed", code="internal_error", reason="Internal error (X)")
    model.apply([Event("done", 0, "/x/0.jpg", {"result": done})])
    model.apply([Event("failed", 1, "/x/1.jpg", {"result": failed})])
    assert model.overall() == (2, 4)
    assert not model.idle()
    shown = model.index(1, 3).data()
    assert "inside Desktop Uploader" in shown and "Internal error" not in shown
    assert "Internal error (X)" in model.index(1, 3).data(Qt.ItemDataRole.ToolTipRole)


def test_announcement_words():
    up = [_row("done") for _ in range(17)]
    bad = [_row("failed"), _row("rejected")]
    assert (
        Announcement(up, bad).message(links_copied=True)
        == "17 uploaded, 2 need attention — 17 links copied"
    )
    assert Announcement(up[:1], []).message(True) == "a.jpg uploaded — link copied"
    assert Announcement([], bad[:1]).message(True) == "a.jpg could not be uploaded — see the queue"
    assert Announcement(up[:2], [], waiting=1).message(False) == "2 uploaded, 1 waiting"


def test_held_rows_wait_and_skipped_rows_are_finished(qapp):
    """Issue 15 in the queue: a file held for review waits for someone (it keeps a batch open
    as "waiting", not as finished); a non-image skipped in a folder is finished, in words."""
    from desktop_uploader.gui.batches import BatchTracker
    from desktop_uploader.gui.queue_model import stage_label

    model = QueueModel()
    model.apply([Event("queued", i, f"/x/{i}.jpg", {"name": f"{i}.jpg"}) for i in range(3)])
    done = JobResult("/x/0.jpg", "done", url="https://cdn/0.webp", bytes=10)
    skipped = JobResult("/x/1.jpg", "skipped", code="not_an_image", reason="not an image")
    held = JobResult("/x/2.jpg", "held", code="content:FACE_FEMALE", reason="Held for review")
    tracker = BatchTracker()
    for kind, job_id, result in (("done", 0, done), ("skipped", 1, skipped), ("held", 2, held)):
        tracker.add(model.apply([Event(kind, job_id, f"/x/{job_id}.jpg", {"result": result})]))
    assert [stage_label(r.stage) for r in model.rows()] == [
        "Done",
        "Skipped (not an image)",
        "Held for review",
    ]
    assert model.overall() == (2, 3)  # the held file is not finished
    assert model.idle()  # but nothing is working: the batch is over
    announcement = tracker.close_if_over(model.rows())
    assert announcement is not None and announcement.waiting == 1
    assert announcement.message(links_copied=True) == "0.jpg uploaded, 1 waiting — link copied"
