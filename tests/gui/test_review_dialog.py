"""The review dialog on the real window, engine, models and store: a held file asks the user
(thumbnail, what was found and how sure, Approve / Reject), and the decision is carried out.

NudeNet's non-explicit FACE_FEMALE label on scikit-image's astronaut stands in for a finding.
"""

from __future__ import annotations

import pytest
from gui_helpers import WAIT_MS, drop_files
from PIL import Image

from desktop_uploader.gui.review_dialog import ReviewDialog, findings_text


@pytest.fixture
def astronaut(tmp_path):
    skdata = pytest.importorskip("skimage.data", reason="scikit-image is in the dev extra")
    p = tmp_path / "portrait.jpg"
    Image.fromarray(skdata.astronaut()).save(p, "JPEG", quality=92)
    return p


@pytest.fixture
def reviewing(app):
    dest = app.settings.destinations["test"]
    dest.content_check, dest.content_labels, dest.content_threshold = (
        "review",
        ["FACE_FEMALE"],
        0.5,
    )
    return app


def shown_dialog(window, qtbot) -> ReviewDialog:
    def ready() -> bool:
        d = window.findChild(ReviewDialog)
        return d is not None and d.isVisible() and d.list.count() == 1

    qtbot.waitUntil(ready, timeout=WAIT_MS)
    return window.findChild(ReviewDialog)


def test_a_held_file_asks_and_approval_uploads_it(reviewing, window, astronaut, qtbot):
    drop_files(window.queue_panel.view.viewport(), [astronaut])
    dialog = shown_dialog(window, qtbot)
    assert "portrait.jpg" in dialog.list.item(0).text()
    assert "a woman's face (0.7" in dialog.list.item(0).text()
    assert dialog.found.text().startswith("A woman's face: detector 7")
    assert "FACE_FEMALE" in dialog.found.text()
    assert dialog.preview.pixmap() is not None and not dialog.preview.pixmap().isNull()
    assert dialog.approve_button.isEnabled() and dialog.reject_button.isEnabled()
    [row] = window.queue_model.rows()
    assert row.stage == "waiting_for_review"

    with qtbot.waitSignal(dialog.decided, timeout=WAIT_MS) as decided:
        dialog.approve_button.click()
    assert decided.args[1] is True
    qtbot.waitUntil(lambda: window.queue_model.rows()[0].stage == "done", timeout=WAIT_MS)
    result = window.queue_model.rows()[0].result
    assert result.url and result.reason.startswith("Approved on review")
    qtbot.waitUntil(lambda: dialog.list.count() == 0, timeout=WAIT_MS)
    assert dialog.title.text() == "Nothing is waiting for review."


def test_rejecting_uploads_nothing(reviewing, window, astronaut, qtbot):
    drop_files(window.queue_panel.view.viewport(), [astronaut])
    dialog = shown_dialog(window, qtbot)
    with qtbot.waitSignal(dialog.decided, timeout=WAIT_MS):
        dialog.reject_button.click()
    qtbot.waitUntil(lambda: window.queue_model.rows()[0].stage == "rejected", timeout=WAIT_MS)
    result = window.queue_model.rows()[0].result
    assert result.code == "content:FACE_FEMALE" and result.url is None
    assert reviewing.journal.held_jobs() == []
    assert astronaut.exists()


def test_files_held_by_an_earlier_run_are_asked_about_at_start(reviewing, astronaut, qtbot):
    import threading

    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.main_window import MainWindow

    engine = reviewing.engine
    held = threading.Event()
    engine.subscribe(lambda e: held.set() if e.data.get("stage") == "waiting_for_review" else None)
    job = engine.submit(astronaut, "test", reviewing.settings.preset(None))
    assert held.wait(WAIT_MS / 1000)
    assert engine.defer_review(job.id)  # as a one-shot `upload` leaves it
    window = MainWindow(DesktopApp(reviewing), tray=False)
    qtbot.addWidget(window)
    window.show()
    try:
        dialog = shown_dialog(window, qtbot)
        assert dialog.current_job() == job.id
    finally:
        window.shutdown()


def test_findings_text_names_both_opinions():
    text = findings_text(
        [{"label": "BUTTOCKS_EXPOSED", "name": "x", "score": 0.66, "classifier": 0.91}]
    )
    assert text == (
        "Exposed buttocks: detector 66%, the nudity classifier agreed (91%) — BUTTOCKS_EXPOSED"
    )


def test_the_dialog_belongs_to_the_window_and_closing_keeps_held_files(
    reviewing, window, astronaut, qtbot
):
    """The dialog has the window as its Qt parent and does not block (open()); closing the
    window with a file held asks nothing: the journal keeps it for the next start."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    drop_files(window.queue_panel.view.viewport(), [astronaut])
    dialog = shown_dialog(window, qtbot)
    assert dialog.parent() is window
    assert dialog.windowModality() == Qt.WindowModality.WindowModal  # open(), not exec()
    window.close()
    assert window.findChild(QMessageBox, "confirm-close") is None
    assert not window.isVisible()
    assert [j["id"] for j in reviewing.journal.held_jobs()] == [window.queue_model.row(0).job_id]
