"""Settings → Integrations: the switch starts and stops the window's own upload server (off the
GUI thread), uploads through it land in the window's queue and history, and the token shown
there is the one the server checks (Copy, Regenerate)."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest
from gui_helpers import WAIT_MS
from imagegen import png_bytes, scene
from integrations_http import fetch, post_form, post_json
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from desktop_uploader.integrations.server import TOKEN_HEADER


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _apply(dialog, qtbot) -> None:
    with qtbot.waitSignal(dialog.saved, timeout=WAIT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Apply).click()


def test_switch_token_and_uploads_into_queue_and_history(window, qtbot):
    assert window.upload_server.url is None  # off by default
    dialog = window.open_settings("integrations")
    page = dialog.integrations
    qtbot.waitUntil(lambda: len(page.token.text()) >= 40, timeout=WAIT_MS)
    token = page.token.text()
    page.copy_token()
    assert QApplication.clipboard().text() == token

    port = _free_port()
    page.form.widgets["enabled"].setChecked(True)
    page.form.widgets["port"].setValue(port)
    _apply(dialog, qtbot)
    assert window.app.settings.integrations.enabled
    qtbot.waitUntil(lambda: window.upload_server.url is not None, timeout=WAIT_MS)
    url = window.upload_server.url
    assert url == f"http://127.0.0.1:{port}/upload"

    data = png_bytes(scene(210, 130, seed=4242))
    status, _, body = post_form(url, {"file": ("from-editor.png", data, "image/png")},
                                {TOKEN_HEADER: token})  # fmt: skip
    assert status == 200 and body["success"] is True, body
    [link] = body["result"]
    assert fetch(link)[:4] == b"RIFF"
    qtbot.waitUntil(
        lambda: any(r.name == "from-editor.png" and r.stage == "done"
                    for r in window.queue_model.rows()),
        timeout=WAIT_MS,
    )  # fmt: skip
    rows = window.app.journal.history(search="from-editor.png", limit=5)
    assert rows and rows[0]["url"] == link

    # a new token: the old one is refused at once
    page.regenerate()
    qtbot.waitUntil(lambda: len(page.token.text()) >= 40 and page.token.text() != token,
                    timeout=WAIT_MS)  # fmt: skip
    status, _, body = post_form(url, {"file": ("again.png", data, "image/png")},
                                {TOKEN_HEADER: token})  # fmt: skip
    assert status == 401 and body["success"] is False

    # switched off: nothing listens any more
    page.form.widgets["enabled"].setChecked(False)
    _apply(dialog, qtbot)
    qtbot.waitUntil(lambda: window.upload_server.url is None, timeout=WAIT_MS)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, data=b"{}", timeout=5)
    dialog.reject()


def test_port_in_use_is_reported_not_a_crash(window, qtbot, monkeypatch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        shown = []
        monkeypatch.setattr(window, "show_exception", lambda title, e: shown.append((title, e)))
        dialog = window.open_settings("integrations")
        dialog.integrations.form.widgets["enabled"].setChecked(True)
        dialog.integrations.form.widgets["port"].setValue(port)
        _apply(dialog, qtbot)
        qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
        title, error = shown[0]
        assert title == "The upload server cannot start"
        assert error.code == "port_in_use" and str(port) in error.message
        assert window.upload_server.url is None
        dialog.reject()


def test_a_held_upload_waits_for_the_review_dialog_then_answers(window, qtbot, tmp_path):
    """In the window, a file the content check holds asks the user; the editor's request
    answers with the link once it is approved (real models: FACE_FEMALE on astronaut())."""
    import threading

    from PIL import Image
    from skimage import data as skdata

    from desktop_uploader.gui.review_dialog import ReviewDialog
    from desktop_uploader.integrations.token import load_or_create_token

    draft = window.app.edit_settings()  # the window's settings are a read-only snapshot
    dest = draft.destinations["test"]
    dest.content_check, dest.content_labels, dest.content_threshold = "review", ["FACE_FEMALE"], 0.5
    face = tmp_path / "portrait.jpg"
    Image.fromarray(skdata.astronaut()).save(face, "JPEG", quality=92)
    draft.integrations.enabled = True
    draft.integrations.port = _free_port()
    window.app.save_settings(draft)
    window._apply_upload_server()
    qtbot.waitUntil(lambda: window.upload_server.url is not None, timeout=WAIT_MS)
    token = load_or_create_token(window.app.paths)
    answer = []
    editor = threading.Thread(
        target=lambda: answer.append(
            post_json(window.upload_server.url, {"list": [str(face)]}, {TOKEN_HEADER: token})
        )
    )
    editor.start()
    try:
        qtbot.waitUntil(
            lambda: (d := window.findChild(ReviewDialog)) is not None and d.list.count() == 1,
            timeout=WAIT_MS,
        )
        assert not answer  # the editor waits for the decision
        dialog = window.findChild(ReviewDialog)
        dialog.approve_button.click()
        qtbot.waitUntil(lambda: bool(answer), timeout=WAIT_MS)
    finally:
        editor.join(120)
    status, _, body = answer[0]
    assert status == 200 and body["success"] is True, body
    assert fetch(body["result"][0])[:4] == b"RIFF"
