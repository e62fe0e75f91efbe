"""The history gallery: one entry per picture, uploads and rejections apart, empty states that
say why, and no action offered where it cannot work."""

from __future__ import annotations

from gui_helpers import WAIT_MS, drop_files, stages

from desktop_uploader.gui.gallery_view import EMPTY_FIRST_RUN
from desktop_uploader.gui.history_model import RowRole


def _wait_loaded(qtbot, history, action) -> None:
    with qtbot.waitSignal(history.loaded, timeout=WAIT_MS):
        action()


def test_first_run_shows_a_hint(window, qtbot):
    history = window.history_model
    if history.loading:
        qtbot.waitSignal(history.loaded, timeout=WAIT_MS).wait()
    assert history.rowCount() == 0
    assert window.history_panel.view.empty_text == EMPTY_FIRST_RUN


def test_same_picture_twice_is_one_entry_and_chips_filter(window, images, tmp_path, qtbot):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image\n")
    queue, model = window.queue_panel, window.queue_model
    drop_files(queue.view.viewport(), [images[0], bad])
    qtbot.waitUntil(lambda: sorted(stages(model)) == ["done", "rejected"], timeout=WAIT_MS)
    copy = images[0].with_name("copy-of-photo.jpg")
    copy.write_bytes(images[0].read_bytes())
    drop_files(queue.view.viewport(), [images[0], copy])  # the same bytes, twice more
    qtbot.waitUntil(lambda: model.rowCount() == 4 and model.idle(), timeout=WAIT_MS)

    history, panel = window.history_model, window.history_panel
    entries = [history.row(i) for i in range(history.rowCount())]
    uploads = [e for e in entries if e["status"] in ("done", "duplicate")]
    assert len(uploads) == 1, [e["display_name"] for e in entries]
    assert set(uploads[0]["sources"]) == {str(images[0]), str(copy)}
    assert len(uploads[0]["job_ids"]) == 3
    caption = history.caption(uploads[0])
    assert "KB" in caption[0] and caption[1] == "on test"

    # the same holds for what the journal gives back after a restart of the gallery
    _wait_loaded(qtbot, history, lambda: history.set_filter("all"))
    assert history.rowCount() == 2
    _wait_loaded(
        qtbot,
        history,
        lambda: panel.findChild(type(panel.chips.buttons()[0]), "chip-rejected").click(),
    )
    assert [history.row(i)["display_name"] for i in range(history.rowCount())] == ["notes.jpg"]
    panel.view.setCurrentIndex(history.index(0))
    assert not panel.copy_button.isEnabled()
    assert not any(a.isEnabled() for a in panel.copy_button.menu().actions())
    assert panel.reveal_button.isEnabled()
    _wait_loaded(
        qtbot,
        history,
        lambda: panel.findChild(type(panel.chips.buttons()[0]), "chip-uploaded").click(),
    )
    assert history.rowCount() == 1
    assert history.index(0).data(RowRole)["status"] in ("done", "duplicate")
    panel.view.setCurrentIndex(history.index(0))
    assert panel.copy_button.isEnabled()
    _wait_loaded(qtbot, history, lambda: panel.search.setText("nothing-like-this"))
    assert history.rowCount() == 0 and "Nothing matches" in panel.view.empty_text[0]
