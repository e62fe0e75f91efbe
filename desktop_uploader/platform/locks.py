"""An exclusive lock on a file, across threads and processes: ``flock`` on POSIX,
``msvcrt.locking`` on Windows. Both belong to an open file, so two threads of one process that
each open the file exclude each other just as two processes do, and the OS drops the lock when
its holder dies: a killed starter never leaves the store locked."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _try_lock(fd: int) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


class StartLock:
    """An exclusive lock on ``path``, held by one thread of one process at a time."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> StartLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                os.close(fd)
                raise TimeoutError(f"{self.path} stayed locked for {self.timeout:.0f} s")
            time.sleep(0.05)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None
