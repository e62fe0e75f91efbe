"""macOS: unix sockets whose peer's user id comes from ``getpeereid`` (``LOCAL_PEERCRED``).

Not run here (the project is built and tested on Linux); the CI workflow's macOS job runs the
suite on it."""

from __future__ import annotations

import ctypes
import os
import socket
from pathlib import Path

from desktop_uploader.platform import ipc
from desktop_uploader.platform.posix import PosixPlatform


def peer_uid(conn: socket.socket) -> int:
    """The user id of the process connected to this unix socket (``getpeereid(3)``, which
    reads ``LOCAL_PEERCRED``)."""
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = ctypes.c_uint32(), ctypes.c_uint32()
    if libc.getpeereid(conn.fileno(), ctypes.byref(uid), ctypes.byref(gid)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return uid.value


class MacPlatform(PosixPlatform):
    name = "macos"

    def listen(self, runtime_dir: Path) -> ipc.Listener:
        return ipc.UnixListener(runtime_dir, peer_uid)
