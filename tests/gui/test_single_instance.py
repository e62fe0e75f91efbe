"""File-manager hand-off: ``desktop-uploader PATH…`` gives its paths to the open window
(gui/single_instance.py), from a second process as a file manager starts it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QDir

from desktop_uploader.gui.main import serve_later_runs
from desktop_uploader.gui.single_instance import InstanceServer, hand_off, server_name
from desktop_uploader.platform.ipc import recv_until

WAIT_MS = 30_000


@pytest.fixture
def instance(window):
    served = serve_later_runs(window)
    assert served is not None
    yield served
    served.close()


def _queued_sources(window) -> set[str]:
    return {Path(r.source).name for r in window.queue_model.rows()}


def test_paths_from_a_second_process_are_queued(window, instance, images, qtbot):
    assert instance.parent() is window and instance.server.isListening()
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_uploader", str(images[0]), str(images[1])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=WAIT_MS)  # the GUI answers meanwhile
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "2 path(s) handed to the open window" in err
    qtbot.waitUntil(
        lambda: _queued_sources(window) == {"photo-0.jpg", "photo-1.jpg"}, timeout=WAIT_MS
    )


def test_relative_paths_are_made_absolute_by_the_sender(window, instance, images, qtbot):
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_uploader", images[2].name],
        cwd=images[2].parent,
        stderr=subprocess.PIPE,
        text=True,
    )
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=WAIT_MS)
    assert proc.returncode == 0, proc.stderr.read()
    qtbot.waitUntil(lambda: _queued_sources(window) == {"photo-2.jpg"}, timeout=WAIT_MS)
    assert window.queue_model.rows()[0].source == str(images[2])


def _raw_request(name: str, payload: bytes, replies: list) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(str(Path(QDir.tempPath()) / name))
        s.sendall(payload)
        replies.append(recv_until(s, b"\n"))


BAD_REQUESTS = [
    b'{"paths": "/etc/passwd"}\n',
    b'{"paths": ["relative.jpg"]}\n',
    b"not json\n",
    b"{}\n",
]


def test_a_bad_request_is_answered_with_an_error_and_queues_nothing(window, instance, qtbot):
    for payload in BAD_REQUESTS:
        replies: list = []
        t = threading.Thread(target=_raw_request, args=(instance.name, payload, replies))
        t.start()
        qtbot.waitUntil(lambda r=replies: bool(r), timeout=WAIT_MS)
        t.join()
        assert "error" in json.loads(replies[0]), payload
    assert window.queue_model.rows() == []


def test_no_window_no_hand_off(app):
    assert hand_off(server_name(app.paths), ["/tmp/x.jpg"]) is None


def test_a_stale_socket_is_replaced_but_a_live_window_is_not(window, qtbot, tmp_path):
    name = server_name(window.app.paths)
    stale = Path(QDir.tempPath()) / name
    stale.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(stale))  # bound, never listening: what a crashed window leaves
    assert stale.exists()
    first = serve_later_runs(window)
    try:
        assert first is not None and first.server.isListening()
        # a second window for the same user and home leaves the first one serving
        second = InstanceServer(name, lambda paths: 0, window)
        assert second.listen(tmp_path / "window.lock") is False
        assert not second.server.isListening() and first.server.isListening()
        second.deleteLater()
    finally:
        first.close()


def test_the_name_is_per_user_and_per_home(app, tmp_path):
    from desktop_uploader.paths import AppPaths

    other = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "e")
    assert server_name(app.paths) != server_name(other)
    import os

    assert f"-{os.getuid()}-" in server_name(app.paths)


def test_macos_file_open_events_are_queued(window, instance, images, qtbot):
    """Finder's "Open With" and a Dock drop arrive as QFileOpenEvents, not as arguments."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QFileOpenEvent

    QCoreApplication.sendEvent(QCoreApplication.instance(), QFileOpenEvent(str(images[0])))
    qtbot.waitUntil(lambda: _queued_sources(window) == {"photo-0.jpg"}, timeout=WAIT_MS)
