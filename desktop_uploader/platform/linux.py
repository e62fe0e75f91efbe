"""Linux: unix sockets with ``SO_PEERCRED``, and children that die with their parent."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import struct
from collections.abc import Callable
from pathlib import Path

from desktop_uploader.platform import ipc
from desktop_uploader.platform.posix import PosixPlatform

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def peer_uid(conn: socket.socket) -> int:
    """The user id of the process connected to this unix socket (``SO_PEERCRED``)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


class LinuxPlatform(PosixPlatform):
    name = "linux"

    def listen(self, runtime_dir: Path) -> ipc.Listener:
        return ipc.UnixListener(runtime_dir, peer_uid)

    def dies_with_parent(self, sig: int = signal.SIGKILL) -> Callable[[], None] | None:
        """The kernel sends ``sig`` to the child when the process that started it dies, however
        it dies (``prctl(PR_SET_PDEATHSIG)``). It is sent when the *thread* that forked the
        child ends: start children from the main thread. libc is looked up here, in the
        parent, so the child only makes one call."""
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        parent = os.getpid()

        def in_child() -> None:
            # If the parent died before the prctl took effect, nobody would ever signal us.
            if prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0 or os.getppid() != parent:
                os._exit(127)  # in the forked child: no clean-up handlers may run

        return in_child
