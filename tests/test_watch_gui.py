"""The main window watches the configured folders through the engine-side FolderWatcher."""

from __future__ import annotations

import threading

from imagegen import jpeg_bytes, scene

from desktop_uploader.config import WatchedFolder


def test_main_window_uploads_from_a_watched_folder(app, qtbot, tmp_path):
    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.main_window import MainWindow

    before = set(threading.enumerate())
    inbox = tmp_path / "watched"
    inbox.mkdir()
    app.settings.watched_folders = [WatchedFolder(str(inbox), "test", stable_seconds=0.3)]
    w = MainWindow(DesktopApp(app), tray=False)
    qtbot.addWidget(w)
    try:
        assert w.watcher is not None
        assert w.watch_label.text() == "Watching 1 folder"
        (inbox / "dropped.jpg").write_bytes(jpeg_bytes(scene(160, 120, seed=31)))

        def uploaded() -> bool:
            rows = app.journal.history(search="dropped.jpg")
            return any(r["status"] == "done" for r in rows)

        qtbot.waitUntil(uploaded, timeout=60_000)
        watcher = w.watcher
    finally:
        w.shutdown()
    assert w.watcher is None and watcher.backlog()["uploading"] == 0
    app.close()
    leaked = [t for t in threading.enumerate() if t not in before]
    for t in leaked:
        t.join(10)
    assert not [t.name for t in leaked if t.is_alive()]
