"""Closing the window never drops work silently; the problem banner keeps every failure."""

from __future__ import annotations

from gui_helpers import WAIT_MS, drop_files, stages
from PySide6.QtWidgets import QMessageBox

from desktop_uploader.gui.words import Problem, job_problem


def test_closing_with_unfinished_work_asks_first(window, images, qtbot):
    window.pause_all.trigger()
    drop_files(window.queue_panel.view.viewport(), images[:1])
    qtbot.waitUntil(lambda: stages(window.queue_model) == ["paused"], timeout=WAIT_MS)
    window.close()  # no tray here: it must ask, not quit
    box = window.findChild(QMessageBox, "confirm-close")
    assert box is not None and box.isVisible() and window.isVisible()
    assert "1 file is not uploaded yet" in box.text()
    assert [b.text() for b in box.buttons()] == ["Keep uploading", "Quit anyway"]
    next(b for b in box.buttons() if b.text() == "Keep uploading").click()
    assert window.isVisible() and not window._shut
    window.close()
    box = window.findChild(QMessageBox, "confirm-close")
    next(b for b in box.buttons() if b.text() == "Quit anyway").click()
    assert window._shut and not window.isVisible()


def test_banner_keeps_every_problem_and_hides_the_technical_text(window):
    banner = window.error_banner
    internal = job_problem(
        "a.jpg",
        "failed",
        "internal_error",
        "Internal error (RuntimeError: An attempt has been made to start a new process before "
        "the current process has finished its bootstrapping phase). Please report it.",
    )
    banner.add(internal)
    banner.add(Problem("Could not paste", "The clipboard's image could not be read."))
    assert banner.isVisible()
    text = banner.text()
    assert "Could not paste" in text and "and 1 more problem" in text
    assert "bootstrapping" not in text and "RuntimeError" not in text
    box = banner.show_details()
    assert "a.jpg could not be uploaded" in box.informativeText()
    assert "bootstrapping" in box.detailedText()
    box.close()
    banner.dismiss()
    assert not banner.isVisible() and banner.problems == []
