"""The queue says, and keeps saying, when files went up without a malware scan: the same words
as the command line, a button to the scanner settings and one to the destination's policy (the
two places its words name), gone once files are scanned again."""

from __future__ import annotations

from gui_helpers import WAIT_MS, drop_files, stages
from PySide6.QtCore import Qt


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
        # the words point to two places, and a button opens each of them
        assert "clear “clamd socket” in the settings" in text  # the scanner's fix
        assert (
            "set “Malware scan” to “Required” in the validation policy of destination “test”"
            in text
        )
        notice.action.click()  # "Scanner settings…"
        dialog = w.open_settings()  # the dialog the button opened
        qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
        assert dialog.tabs.currentIndex() == 2  # the validation page: the malware scanner
        assert dialog.tabs.currentWidget().widget() is dialog.validation
        scanner = dict(dialog.validation.forms)["scanning"]
        assert scanner.widgets["clamd_socket"].accessibleName() == "clamd socket"
        assert scanner.widgets["clamd_socket"].isVisibleTo(dialog)
        assert dialog.destinations.show_destination("local")  # the user looked at another one
        notice.policy_button.click()  # "Destination policy…": the same dialog, on the policy
        assert w.open_settings() is dialog and dialog.tabs.currentWidget() is dialog.destinations
        page = dialog.destinations
        assert page.list.currentItem().data(Qt.ItemDataRole.UserRole) == "test"
        assert page.policy.parentWidget().title() == "Validation policy"
        scan = page.policy.widgets["malware_scan"]
        assert scan.accessibleName() == "Malware scan" and scan.isVisibleTo(dialog)
        assert scan.itemText(scan.findData("required")).startswith("Required")
        dialog.reject()
    finally:
        w.shutdown()


def test_the_notice_goes_once_files_are_scanned_again(qtbot):
    from desktop_uploader.events import JobResult
    from desktop_uploader.gui.queue_model import QueueRow
    from desktop_uploader.gui.scan_notice import ScanNotice

    notice = ScanNotice()
    qtbot.addWidget(notice)

    def done(scanned, reason=None):
        result = JobResult("/x.jpg", "done", scanned=scanned, reason=reason)
        return QueueRow(1, "x.jpg", "/x.jpg", stage="done", result=result)

    notice.on_finished([done(False, "not_scanned: ClamAV is not installed. Install it: …")])
    assert not notice.isHidden()
    assert "A file was uploaded without a malware scan" in notice.text()
    assert "ClamAV is not installed" in notice.text()
    notice.on_finished([done(False, None)])  # policy off: not a scanner problem, nothing to say
    assert "A file was" in notice.text()
    notice.on_finished([done(True)])
    assert notice.isHidden()


def test_the_policy_button_opens_the_destination_the_files_went_to(qtbot):
    from desktop_uploader.events import JobResult
    from desktop_uploader.gui.queue_model import QueueRow
    from desktop_uploader.gui.scan_notice import ScanNotice

    notice = ScanNotice()
    qtbot.addWidget(notice)
    reason = "not_scanned: ClamAV has no signatures in /var/lib/clamav. Run `sudo freshclam` …"
    for job, profile in ((1, "blog"), (2, "local")):
        result = JobResult("/x.jpg", "done", scanned=False, reason=reason)
        notice.on_finished(
            [QueueRow(job, "x.jpg", "/x.jpg", "done", result=result, profile=profile)]
        )
        where = "destination “blog”" if profile == "blog" else "the local store"
        assert f"“Required” in the validation policy of {where}." in notice.text()
        assert "Run <code>sudo freshclam</code>" in notice.text() and "`" not in notice.text()
        with qtbot.waitSignal(notice.settings_wanted) as opened:
            notice.policy_button.click()
        assert opened.args == ["destinations", profile]
    with qtbot.waitSignal(notice.settings_wanted) as opened:
        notice.action.click()
    assert opened.args == ["validation", ""]
