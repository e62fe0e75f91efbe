"""Pause, resume, cancel and retry from the queue, on real jobs."""

from __future__ import annotations

from gui_helpers import WAIT_MS, drop_files, select_rows, stages
from PySide6.QtCore import Qt


def test_pause_all_then_per_job_controls(window, images, qtbot):
    panel, model = window.queue_panel, window.queue_model
    window.pause_all.trigger()  # the toolbar's "Pause all"
    assert window.pause_all.text() == "Resume all"
    drop_files(panel.view.viewport(), images)
    qtbot.waitUntil(lambda: stages(model) == ["paused"] * 3, timeout=WAIT_MS)
    assert "3 paused" in panel.summary.text()

    engine = window.app.engine
    first = model.row(0).job_id
    select_rows(panel.view, [0])
    assert panel.pause_button.isEnabled()  # paused with the queue, not on its own yet
    panel.pause_button.click()
    assert engine.job(first).paused
    assert not panel.pause_button.isEnabled() and panel.resume_button.isEnabled()

    select_rows(panel.view, [1])
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_Delete)  # Delete cancels
    qtbot.waitUntil(lambda: model.row(1).stage == "cancelled", timeout=WAIT_MS)
    assert "source file is kept" in model.index(1, 3).data()
    assert images[1].exists()

    select_rows(panel.view, [0])
    panel.resume_button.click()  # its own pause is lifted; the queue is still paused
    assert not engine.job(first).paused
    assert model.row(0).stage == "paused"

    window.pause_all.trigger()  # "Resume all"
    assert window.pause_all.text() == "Pause all"
    qtbot.waitUntil(lambda: stages(model) == ["done", "cancelled", "done"], timeout=WAIT_MS)

    # retry the cancelled one: its row is replaced by the new job, which uploads
    cancelled_id = model.row(1).job_id
    select_rows(panel.view, [1])
    assert panel.retry_button.isEnabled()
    panel.retry_button.click()
    assert model.row_for_job(cancelled_id) is None
    qtbot.waitUntil(lambda: stages(model) == ["done"] * 3, timeout=WAIT_MS)


def test_clear_finished_keeps_history(window, images, qtbot):
    drop_files(window.queue_panel.view.viewport(), images[:1])
    qtbot.waitUntil(lambda: stages(window.queue_model) == ["done"], timeout=WAIT_MS)
    window.queue_panel.clear_button.click()
    assert window.queue_model.rowCount() == 0
    assert window.history_model.rowCount() == 1
