"""A destination that requires a malware scan, with no scanner: the queue says the file waits
for the scanner, the wait ends (``scanning.scanner_wait``), the row ends Failed with the reason
in words, stays in the queue, and Retry queues it again (issue 14)."""

from __future__ import annotations

from gui_helpers import WAIT_MS, drop_files, select_rows, stages


def test_required_scan_without_a_scanner_fails_and_retry_queues_it_again(
    app, images, qtbot, tmp_path
):
    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.main_window import MainWindow

    app.settings.destinations["test"].malware_scan = "required"
    app.settings.scanning.clamd_socket = str(tmp_path / "dead-clamd.sock")  # nobody answers
    app.settings.scanning.scanner_wait = 0.5
    w = MainWindow(DesktopApp(app), tray=False)
    qtbot.addWidget(w)
    w.show()
    seen: list[tuple[int, str, str]] = []  # (job, stage, reason) of every stage event, in order
    w.bridge.events.connect(
        lambda batch: seen.extend(
            (e.job_id, e.data["stage"], str(e.data.get("reason") or ""))
            for e in batch
            if "stage" in e.data
        )
    )
    panel, model = w.queue_panel, w.queue_model
    try:
        drop_files(panel.view.viewport(), images[:1])
        qtbot.waitUntil(lambda: stages(model) == ["failed"], timeout=WAIT_MS)
        first = model.row(0)
        # it waited for the scanner first, and said for how long
        waits = [r for j, s, r in seen if j == first.job_id and s == "waiting_for_scanner"]
        assert waits and "waits up to 0.5 s, then fails" in waits[0]

        assert (first.result.status, first.result.code) == ("failed", "scanner_unavailable")
        assert model.index(0, 1).data() == "Failed"
        shown = model.index(0, 3).data()  # the Details column: why, and the fix, in words
        assert "No malware scanner answered within 0.5 s" in shown
        assert "dead-clamd.sock" in shown and "does not answer" in shown
        assert "Retry it once the scanner runs" in shown
        assert not any(c in shown for c in ("scanner_unavailable", "Traceback"))
        assert "could not be uploaded" in w.error_banner.text()
        assert w.scan_notice.isHidden()  # nothing went up unscanned: not that notice's news

        # the batch is over and says to look at the queue, where the row stays for Retry
        assert w.toast.text() == f"{images[0].name} could not be uploaded — see the queue"
        assert model.row_for_job(first.job_id) is first and first.stage == "failed"
        select_rows(panel.view, [0])
        assert panel.retry_button.isEnabled()
        panel.retry_button.click()

        # Retry: the failed row is replaced by a new job for the same file, which waits again
        assert model.row_for_job(first.job_id) is None
        qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=WAIT_MS)
        again = model.row(0)
        assert again.job_id != first.job_id and again.source == first.source
        # the scanner is still missing: it waits and fails again, for the same reason
        qtbot.waitUntil(lambda: stages(model) == ["failed"], timeout=WAIT_MS)
        assert any(j == again.job_id and s == "waiting_for_scanner" for j, s, _ in seen)
        assert model.row(0).result.code == "scanner_unavailable"
        assert w.app.journal.job(again.job_id)["status"] == "failed"
    finally:
        w.shutdown()
