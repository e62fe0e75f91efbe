"""The store keeper's IPC: one-line commands from this user's processes only.

Two kinds of listener, one address string each (recorded in the store's state file):

* a unix socket (0600, in the keeper's 0700 runtime folder) whose peer's user id the OS
  tells us (Linux ``SO_PEERCRED``, macOS ``getpeereid``) — the address is its path;
* loopback TCP, for Windows and wherever else (and on Linux when the portable fallbacks are
  forced): any local process can connect, so each request starts with a per-start token
  kept in a 0600 file in that same private folder — the address is
  ``tcp://127.0.0.1:PORT?token=<file>``. Another user cannot read the file (PermissionError).
"""

from __future__ import annotations

import hmac
import os
import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

MAX_LINE = 256


class Listener(Protocol):
    address: str

    def accept(self, timeout: float) -> tuple[socket.socket, bytes] | None:
        """The next request from this user: its connection and command; None when none came
        within ``timeout`` or the caller was not allowed. Raises OSError once closed."""
        ...

    def close(self) -> None: ...


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while b"\n" not in data and len(data) < MAX_LINE:
        chunk = conn.recv(MAX_LINE)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].strip()


class UnixListener:
    """A unix socket; ``peer_uid(conn)`` gives the connecting process's user id."""

    def __init__(self, runtime_dir: Path, peer_uid: Callable[[socket.socket], int]) -> None:
        path = Path(runtime_dir) / "keeper.sock"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(path))
        os.chmod(path, 0o600)
        self._sock.listen(16)
        self._peer_uid = peer_uid
        self.address = str(path)

    def accept(self, timeout: float) -> tuple[socket.socket, bytes] | None:
        return _accept(self._sock, timeout, self._request)

    def _request(self, conn: socket.socket) -> bytes | None:
        return _read_line(conn) if self._peer_uid(conn) == os.getuid() else None

    def close(self) -> None:
        self._sock.close()


class TokenListener:
    """Loopback TCP; every request opens with the token from a private file."""

    def __init__(self, runtime_dir: Path) -> None:
        self._token = secrets.token_hex(32).encode()
        token_file = Path(runtime_dir) / "keeper.token"
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self._token)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        port = self._sock.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}?token={token_file}"

    def accept(self, timeout: float) -> tuple[socket.socket, bytes] | None:
        return _accept(self._sock, timeout, self._request)

    def _request(self, conn: socket.socket) -> bytes | None:
        token, _, command = _read_line(conn).partition(b" ")
        return command.strip() if hmac.compare_digest(token, self._token) else None

    def close(self) -> None:
        self._sock.close()


def _accept(listener: socket.socket, timeout: float, request) -> tuple[socket.socket, bytes] | None:
    """One connection and its request line, or None (timeout; refused by ``request``, which
    returns None for a caller that may not ask; a broken connection)."""
    listener.settimeout(timeout)
    try:
        conn, _ = listener.accept()
    except TimeoutError:
        return None
    try:
        conn.settimeout(2)
        line = request(conn)
    except OSError:
        line = None
    if line is None:
        conn.close()
        return None
    return conn, line


def connect_unix(path: str, timeout: float) -> socket.socket:
    """A connected unix socket; OSError where the OS or Python has none."""
    family = getattr(socket, "AF_UNIX", None)
    if family is None:
        raise OSError(f"unix sockets are not available here ({path})")
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except OSError:
        s.close()
        raise
    return s


def recv_until(s: socket.socket, end: bytes) -> bytes:
    """Everything ``s`` sends up to and including ``end`` (or until it closes)."""
    data = b""
    while not data.endswith(end):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def request(address: str, command: bytes, timeout: float = 5.0) -> bytes:
    """Send ``command`` to the listener at ``address``; its answer (one line, stripped)."""
    if address.startswith("tcp://"):
        url = urlsplit(address)
        token_file = parse_qs(url.query).get("token", [""])[0]
        token = Path(token_file).read_bytes().strip()  # PermissionError for another user
        s = socket.create_connection((url.hostname, url.port), timeout=timeout)
        line = token + b" " + command + b"\n"
    else:
        s = connect_unix(address, timeout)
        line = command + b"\n"
    with s:
        s.sendall(line)
        data = recv_until(s, b"\n")
    return data.strip()
