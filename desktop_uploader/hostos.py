"""What the embedded store asks of the operating system, in one place.

Everything here that is not portable is marked with the platform it needs; a later platform
layer can split this module into one file per OS without touching its callers:

* ``death_signal``: a child process is killed when the process that started it dies
  (Linux ``prctl(PR_SET_PDEATHSIG)``; elsewhere nothing, the keeper's own watch remains);
* ``peer_uid``: the user id of the process on the other end of a unix socket (Linux
  ``SO_PEERCRED``);
* ``StartLock``: an exclusive lock on a file, across threads and processes (``flock``);
* finding the store's processes by command line and working folder, and the TCP ports they
  listen on (psutil, portable).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def death_signal(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the kernel send ``sig`` to the child when the process that
    started it dies, however it dies (Linux ``prctl(PR_SET_PDEATHSIG)``); None elsewhere.

    The kernel sends it when the *thread* that forked the child ends: start children from the
    main thread. libc is looked up here, in the parent, so the child only makes one call."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def in_child() -> None:
        # If the parent died before the prctl took effect, nobody would ever signal us.
        if prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0 or os.getppid() != parent:
            os._exit(127)  # in the forked child: no clean-up handlers may run

    return in_child


def peer_uid(conn: socket.socket) -> int:
    """The user id of the process connected to this unix socket (Linux SO_PEERCRED)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


class StartLock:
    """An exclusive lock on ``path``, held by one thread of one process at a time.

    ``flock`` locks belong to an open file description, so two threads of one process that each
    open the file exclude each other just as two processes do; the kernel drops the lock when
    its holder dies, so a killed starter never leaves the store locked."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> StartLock:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise TimeoutError(
                        f"{self.path} stayed locked for {self.timeout:.0f} s"
                    ) from None
                time.sleep(0.05)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None


# -- processes --------------------------------------------------------------------------
def process_started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None if it does not run.

    Together with the PID this names one process: a PID reused later has another start time."""
    import psutil

    try:
        p = psutil.Process(pid)
        if p.status() == psutil.STATUS_ZOMBIE:
            return None
        return p.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def is_same_process(pid: int | None, started: float | None) -> bool:
    """True if ``pid`` runs and is the process that started at ``started`` (not a reuse)."""
    if not pid:
        return False
    now = process_started(pid)
    if now is None:
        return False
    return started is None or abs(now - started) < 1.0


def store_processes(store_dir: Path, data_dir: Path) -> list[int]:
    """PIDs of this user's processes that belong to the store in ``store_dir``: its keeper
    (``local-store _keeper`` working in ``store_dir``) and weed (``-dir=<data_dir>``)."""
    import psutil

    weed_arg = f"-dir={data_dir}"
    found = []
    me = os.getpid()
    for p in psutil.process_iter(["pid", "cmdline", "uids", "status"]):
        info = p.info
        if info["pid"] == me or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        uids = info.get("uids")
        if uids is not None and uids.real != os.getuid():
            continue
        cmd = info.get("cmdline") or []
        if "mini" in cmd and weed_arg in cmd:
            found.append(info["pid"])
        elif cmd[-2:] == ["local-store", "_keeper"]:
            with contextlib.suppress(psutil.Error):
                if Path(p.cwd()) == store_dir:
                    found.append(info["pid"])
    return found


def end_processes(pids: Iterable[int], grace: float) -> None:
    """SIGTERM these processes, then SIGKILL whatever still runs after ``grace`` seconds."""
    import psutil

    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            p = psutil.Process(pid)
            p.terminate()
            procs.append(p)
    _gone, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=5)


def listening_ports(pids: Iterable[int]) -> set[int]:
    """TCP ports these processes listen on."""
    import psutil

    ports: set[int] = set()
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            for c in psutil.Process(pid).net_connections(kind="tcp"):
                if c.status == psutil.CONN_LISTEN:
                    ports.add(c.laddr.port)
    return ports
