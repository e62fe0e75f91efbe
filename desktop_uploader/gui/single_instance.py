"""One window per user: ``desktop-uploader PATH…`` hands its paths to the window already open.

File managers start ``desktop-uploader PATH…`` for "Upload with Desktop Uploader" (the .desktop
file's action, the service menus in packaging/linux/). When a window runs, the paths go to it
over a ``QLocalServer`` and the new process exits; otherwise it opens the window with them queued.

The conversation is one line each way: the client sends ``{"paths": ["/abs/a.jpg", …]}`` and a
newline, the window answers ``{"queued": N}`` (or ``{"error": "…"}``) and a newline. An empty list
brings the window to the front. The server's name holds the user's id and a hash of the app's
data folder (two ``DESKTOP_UPLOADER_HOME``s are two instances); on Unix its socket is made
user-only (``UserAccessOption``), and a client refuses a socket file that another user owns.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QDir, QEvent, QLockFile, QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from desktop_uploader.paths import AppPaths

log = logging.getLogger(__name__)

MAX_REQUEST = 1 << 20  # bytes; a request is a list of paths, never this long
CONNECT_MS = 1000
ANSWER_MS = 10_000  # the window answers from its event loop; a busy GUI may take a moment


class HandOffError(Exception):
    """A window is there but did not take the paths (it said why, or did not answer)."""


def server_name(paths: AppPaths) -> str:
    """The per-user, per-home name of the running window's server."""
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    home = hashlib.sha256(str(paths.data_dir).encode()).hexdigest()[:16]
    return f"desktop-uploader-{user}-{home}"


def _socket_file(name: str) -> Path:
    """Where Qt puts a local server of this name on Unix (QDir.tempPath(), as QLocalServer)."""
    return Path(QDir.tempPath()) / name


def _foreign_socket(name: str) -> bool:
    """A socket file of our name that another user made: never talk to it, never remove it."""
    if not hasattr(os, "getuid"):
        return False  # Windows: named pipes, no file to check
    try:
        return _socket_file(name).lstat().st_uid != os.getuid()
    except OSError:
        return False


def hand_off(
    name: str, paths: Sequence[str | os.PathLike], timeout_ms: int = ANSWER_MS
) -> int | None:
    """Give ``paths`` to the window serving ``name``: how many it queued, or None when no window
    is there. Raises ``HandOffError`` when a window is there but refused or did not answer."""
    if _foreign_socket(name):
        log.warning("the single-instance socket %s belongs to another user", _socket_file(name))
        return None
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(CONNECT_MS):
        return None
    try:
        request = {"paths": [str(Path(p).absolute()) for p in paths]}
        sock.write(json.dumps(request).encode() + b"\n")
        sock.waitForBytesWritten(timeout_ms)
        reply = b""
        while not reply.endswith(b"\n") and sock.waitForReadyRead(timeout_ms):
            reply += bytes(sock.readAll().data())
        if not reply.endswith(b"\n"):
            raise HandOffError("The open Desktop Uploader window did not answer.")
        answer = json.loads(reply)
        if "error" in answer:
            raise HandOffError(answer["error"])
        return int(answer["queued"])
    finally:
        sock.disconnectFromServer()


class InstanceServer(QObject):
    """The window's end: takes paths from later ``desktop-uploader PATH…`` runs.

    ``receive(paths)`` is called on the GUI thread with the paths of one request (empty: just
    raise the window) and returns how many were queued. A child of ``parent`` (the window)."""

    def __init__(self, name: str, receive: Callable[[list[Path]], int], parent: QObject) -> None:
        super().__init__(parent)
        self.name = name
        self._receive = receive
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self, lock_file: Path) -> bool:
        """Serve ``name``, unless another window already does (then False).

        A socket file left by a window that crashed is removed, but only after connecting to
        it failed, and under a lock so that two windows starting together cannot both do it."""
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        lock = QLockFile(str(lock_file))
        lock.tryLock(CONNECT_MS * 3)
        try:
            probe = QLocalSocket()
            probe.connectToServer(self.name)
            if probe.waitForConnected(CONNECT_MS):
                probe.disconnectFromServer()
                return False
            if _foreign_socket(self.name):
                log.warning("single instance off: %s belongs to another user", self.name)
                return True  # this window works; hand-offs to it do not
            QLocalServer.removeServer(self.name)  # stale: nobody answered on it
            if not self.server.listen(self.name):
                log.warning("single instance off: %s", self.server.errorString())
            return True
        finally:
            if lock.isLocked():
                lock.unlock()

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            conn = self.server.nextPendingConnection()  # a child of the server
            buffer = bytearray()
            conn.readyRead.connect(lambda c=conn, b=buffer: self._read(c, b))
            conn.disconnected.connect(conn.deleteLater)

    def _read(self, conn: QLocalSocket, buffer: bytearray) -> None:
        buffer += bytes(conn.readAll().data())
        if len(buffer) > MAX_REQUEST:
            self._answer(conn, {"error": "The request is too long."})
        elif buffer.endswith(b"\n"):
            self._answer(conn, self._handle(bytes(buffer)))

    def _handle(self, request: bytes) -> dict:
        try:
            paths = json.loads(request)["paths"]
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                raise ValueError("paths must be a list of strings")
            if not all(os.path.isabs(p) for p in paths):
                raise ValueError("paths must be absolute")
        except (ValueError, KeyError, TypeError) as e:
            log.warning("single instance: a bad request (%s)", e)
            return {"error": f"Desktop Uploader could not read the request ({e})."}
        log.info("single instance: %d path(s) handed over", len(paths))
        return {"queued": self._receive([Path(p) for p in paths])}

    @staticmethod
    def _answer(conn: QLocalSocket, answer: dict) -> None:
        conn.write(json.dumps(answer).encode() + b"\n")
        conn.flush()
        conn.disconnectFromServer()


class FileOpenRelay(QObject):
    """macOS: Finder's "Open With", a drop on the Dock icon and ``open -a`` hand files to the
    app as ``QFileOpenEvent``s, not as arguments; they are passed to ``receive`` like a hand-off.
    Installed on the application; a child of ``parent`` (the window)."""

    def __init__(self, receive: Callable[[list[Path]], int], parent: QObject) -> None:
        super().__init__(parent)
        self._receive = receive

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.FileOpen:
            path = event.file()  # type: ignore[attr-defined]
            if path:
                self._receive([Path(path)])
            return True
        return False
