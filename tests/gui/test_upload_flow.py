"""Drop → queue → done → history → copy link, against the real engine and SeaweedFS."""

from __future__ import annotations

import urllib.request

from gui_helpers import WAIT_MS, drop_files, stages
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop_uploader.gui.history_model import RowRole


def test_dropped_files_upload_and_show_in_history(window, images, qtbot):
    queue = window.queue_panel
    drop_files(queue.view.viewport(), images)
    qtbot.waitUntil(lambda: window.queue_model.rowCount() == 3, timeout=WAIT_MS)
    assert [r.name for r in window.queue_model.rows()] == [p.name for p in images]
    qtbot.waitUntil(lambda: stages(window.queue_model) == ["done"] * 3, timeout=WAIT_MS)

    rows = window.queue_model.rows()
    urls = [r.result.url for r in rows]
    # every row shows its link; the batch's links (URL format) are on the clipboard together
    model = window.queue_model
    assert [model.index(i, 3).data() for i in range(3)] == urls
    assert QApplication.clipboard().text() == "\n".join(urls)
    assert window.toast.text() == "3 uploaded — 3 links copied"
    assert queue.overall.value() == queue.overall.maximum() == 3  # files, not bytes
    with urllib.request.urlopen(urls[0], timeout=10) as resp:
        assert resp.headers["Content-Type"] == "image/webp"

    # the history gallery has them, newest first, with lazily loaded thumbnails
    window.tabs.setCurrentWidget(window.history_panel)
    history = window.history_model
    names = [history.index(i).data() for i in range(history.rowCount())]
    assert names[:3] == [p.name for p in reversed(images)]
    first = history.index(0)
    history.data(first, Qt.ItemDataRole.DecorationRole)  # asks for the thumbnail
    qtbot.waitUntil(
        lambda: (
            history.data(first, Qt.ItemDataRole.DecorationRole).cacheKey()
            != window.history_model._icons["image"].cacheKey()
        ),
        timeout=WAIT_MS,
    )

    # copy link in each format
    panel = window.history_panel
    panel.view.setCurrentIndex(first)
    row = first.data(RowRole)
    url, name = row["url"], row["display_name"]
    assert panel.copy_button.isEnabled()
    panel.copy_button.click()  # the configured format (URL)
    assert QApplication.clipboard().text() == url
    expected = {
        "Copy as Markdown": f"![{name}]({url})",
        "Copy as BBCode": f"[img]{url}[/img]",
        "Copy as HTML": f'<img src="{url}" alt="{name}" width="{row["width"]}"'
        f' height="{row["height"]}">',
    }
    actions = {a.text(): a for a in panel.copy_button.menu().actions()}
    for label, text in expected.items():
        actions[label].trigger()
        assert QApplication.clipboard().text() == text
    actions["Copy as <picture> snippet"].trigger()
    picture = QApplication.clipboard().text()
    assert picture.startswith("<picture>") and f'srcset="{url}"' in picture


def test_search_finds_by_name_and_date(window, images, qtbot):
    drop_files(window.queue_panel.view.viewport(), images[:2])
    qtbot.waitUntil(lambda: stages(window.queue_model) == ["done"] * 2, timeout=WAIT_MS)
    panel, history = window.history_panel, window.history_model

    def search(text: str) -> None:
        """Type ``text`` and wait for the rows of that search (they come from a worker)."""
        with qtbot.waitSignal(history.loaded, timeout=WAIT_MS, check_params_cb=lambda s: s == text):
            panel.search.setText(text)

    search("photo-1")
    assert [history.index(i).data() for i in range(history.rowCount())] == ["photo-1.jpg"]
    from datetime import datetime

    today = datetime.fromtimestamp(history.row(0)["created_at"]).strftime("%Y-%m-%d")
    search(today)
    assert history.rowCount() == 2
    search("no-such-thing")
    assert history.rowCount() == 0
    assert "Nothing matches" in panel.view.empty_text[0]


def test_rejected_file_shows_its_reason(window, tmp_path, qtbot):
    bad = tmp_path / "holiday.jpg"
    bad.write_text("this is a text file with a .jpg name\n")
    drop_files(window.queue_panel.view.viewport(), [bad])
    qtbot.waitUntil(lambda: stages(window.queue_model) == ["rejected"], timeout=WAIT_MS)
    row = window.queue_model.row(0)
    shown = window.queue_model.index(0, 3).data()
    assert shown == row.result.reason and len(shown.split()) > 4  # a sentence, not a code
    assert window.queue_model.index(0, 1).data() == "Rejected"
    assert window.toast.text() == "holiday.jpg was rejected — see the queue"
    # it is in the history too, with its reason in the tooltip
    window.tabs.setCurrentWidget(window.history_panel)
    tip = window.history_model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert row.result.reason in tip


def test_delete_from_destination_keeps_the_source(window, images, qtbot):
    import urllib.error

    from PySide6.QtWidgets import QMessageBox

    drop_files(window.queue_panel.view.viewport(), images[:1])
    qtbot.waitUntil(lambda: stages(window.queue_model) == ["done"], timeout=WAIT_MS)
    url = window.queue_model.row(0).result.url
    panel = window.history_panel
    window.tabs.setCurrentWidget(panel)
    panel.view.setCurrentIndex(window.history_model.index(0))
    assert panel.delete_button.isEnabled()
    panel.delete_button.click()
    box = panel.findChild(QMessageBox, "confirm-delete")
    assert box is not None and box.isVisible()  # asks first, without blocking
    delete = next(b for b in box.buttons() if b.text() == "Delete from destination")
    delete.click()
    qtbot.waitUntil(lambda: window.history_model.rowCount() == 0, timeout=WAIT_MS)
    try:
        urllib.request.urlopen(url, timeout=10)
        raise AssertionError("the object is still served")
    except urllib.error.HTTPError as e:
        assert e.code == 404
    assert images[0].exists()  # never the local source
    assert window.app.journal.history() == []


def test_paste_image_from_clipboard(window, qtbot):
    from PySide6.QtGui import QColor, QImage

    image = QImage(120, 80, QImage.Format.Format_RGB32)
    image.fill(QColor(30, 140, 200))
    QApplication.clipboard().setImage(image)
    window.paste.trigger()  # Ctrl+V
    qtbot.waitUntil(lambda: stages(window.queue_model) == ["done"], timeout=WAIT_MS)
    row = window.queue_model.row(0)
    assert row.name.startswith("clipboard-") and row.name.endswith(".png")
    pasted = window.app.paths.cache_dir / "pasted" / row.name
    assert pasted.exists()
    assert (row.result.width, row.result.height) == (120, 80)


def test_paste_without_an_image_says_so(window):
    QApplication.clipboard().setText("just words")
    window.paste.trigger()
    assert window.error_banner.isVisible()
    assert "Nothing to paste" in window.error_banner.text()
    assert window.queue_model.rowCount() == 0


def test_reveal_missing_source_is_an_error_in_the_window(window, images, qtbot):
    drop_files(window.queue_panel.view.viewport(), images[:1])
    qtbot.waitUntil(lambda: stages(window.queue_model) == ["done"], timeout=WAIT_MS)
    images[0].unlink()
    panel = window.history_panel
    panel.view.setCurrentIndex(window.history_model.index(0))
    panel.reveal_button.click()
    assert window.error_banner.isVisible()
    assert "Source file not found" in window.error_banner.text()


def test_tray_recent_uploads_copy_their_link(qtbot):
    from desktop_uploader.gui.tray import Tray

    tray = Tray()
    tray.add_recent("one.jpg", "https://cdn.example.com/1.webp")
    tray.add_recent("two.jpg", "https://cdn.example.com/2.webp")
    actions = tray.recent_menu.actions()
    assert [a.text() for a in actions] == ["two.jpg", "one.jpg"]
    actions[1].trigger()
    assert QApplication.clipboard().text() == "https://cdn.example.com/1.webp"
    tray.pause_action.trigger()
    assert tray.pause_action.isChecked()


def test_close_to_tray_keeps_uploading(app, images, qtbot):
    """With close-to-tray on (and a tray), closing the window hides it and work goes on;
    Quit ends for real. No tray host runs here, so the tray is marked available."""
    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.main_window import MainWindow

    app.settings.desktop.close_to_tray = True
    w = MainWindow(DesktopApp(app), tray=True)
    qtbot.addWidget(w)
    try:
        w.tray.available = True
        w.show()
        w.close()
        assert not w.isVisible() and not w._shut, "closing should hide to the tray"
        drop_files(w.queue_panel.view.viewport(), images[:1])
        qtbot.waitUntil(lambda: stages(w.queue_model) == ["done"], timeout=WAIT_MS)
        assert w.tray._recent and w.tray._recent[0][0] == images[0].name
        w.quit()
        assert w._shut
    finally:
        w.shutdown()
