"""The queue says, and keeps saying, when files went up without a malware scan: the same words
as the command line, a button to the scanner settings, gone once files are scanned again."""

from __future__ import annotations

from gui_helpers import WAIT_MS, drop_files, stages


def test_unscanned_uploads_raise_a_persistent_notice(app, images, qtbot, tmp_path):
    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.main_window import MainWindow

    dest = app.settings.destinations["test"]
    dest.malware_scan = "optional"
    app.settings.scanning.clamd_socket = str(tmp_path / "no-clamd.sock")
    w = MainWindow(DesktopApp(app), tray=False)
    qtbot.addWidget(w)
    w.show()
    try:
        notice = w.scan_notice
        assert not notice.isVisible()  # nothing said before anything happened
        drop_files(w.queue_panel.view.viewport(), images[:2])
        qtbot.waitUntil(lambda: stages(w.queue_model) == ["done"] * 2, timeout=WAIT_MS)
        qtbot.waitUntil(notice.isVisible, timeout=WAIT_MS)
        text = notice.text()
        assert "2 files were uploaded without a malware scan" in text
        assert "no-clamd.sock" in text and "does not answer" in text  # why, and the fix
        assert notice.parent() is w.queue_panel  # in the queue, above the list
        w.queue_model.clear_finished()
        assert notice.isVisible()  # persistent: clearing the queue does not hide it
        notice.action.click()
        dialog = w.open_settings()
        qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
        assert dialog.tabs.currentIndex() == 2  # the validation page: the malware scanner
        dialog.reject()
    finally:
        w.shutdown()


def test_the_notice_goes_once_files_are_scanned_again(qtbot):
    from desktop_uploader.events import DONE, Event, JobResult
    from desktop_uploader.gui.scan_notice import ScanNotice

    notice = ScanNotice()
    qtbot.addWidget(notice)

    def done(scanned, reason=None):
        return Event(DONE, 1, "/x.jpg", {"result": JobResult("/x.jpg", "done", scanned=scanned,
                                                               reason=reason)})  # fmt: skip

    notice.on_events([done(False, "not_scanned: ClamAV is not installed. Install it: …")])
    assert not notice.isHidden()
    assert "A file was uploaded without a malware scan" in notice.text()
    assert "ClamAV is not installed" in notice.text()
    notice.on_events([done(False, None)])  # policy off: not a scanner problem, nothing to say
    assert "A file was" in notice.text()
    notice.on_events([done(True)])
    assert notice.isHidden()
