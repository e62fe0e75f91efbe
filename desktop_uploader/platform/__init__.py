"""What the app asks of the operating system, behind one seam (as Vorta does): one base class
with portable fallbacks, one module per OS with what that OS does better.

``current()`` picks the module for this OS once per process; ``DESKTOP_UPLOADER_PLATFORM=portable``
forces the portable fallbacks (loopback TCP with a token file for the keeper's IPC, a watchdog
thread for the decoders' memory cap) so the Linux test suite runs them too (``make
test-portable``). What each piece does where:

- CPU time, memory, processes: psutil everywhere.
- decoder memory cap: ``setrlimit(RLIMIT_AS)`` on Linux and macOS; a Job Object on Windows; a
  watchdog thread (portable).
- keeper IPC: a unix socket with the peer's user id from ``SO_PEERCRED`` (Linux) or
  ``getpeereid`` (macOS); loopback TCP with a per-start token file on Windows (portable).
- a child that dies with its parent: ``PR_SET_PDEATHSIG`` (Linux); a kill-on-close Job Object
  (Windows); nothing on macOS (the keeper's children outlive a killed keeper there). By OS,
  also when portable is forced: there is no portable way.
- own process group: ``start_new_session`` on POSIX, ``CREATE_NEW_PROCESS_GROUP`` on Windows
  (by OS, also when portable is forced: there is no third way).
- start lock: ``flock`` on POSIX, ``msvcrt.locking`` on Windows (by OS, likewise).
"""

from __future__ import annotations

import logging
import os
import sys
from functools import cache

from desktop_uploader.platform.base import Platform

log = logging.getLogger(__name__)

PLATFORM_ENV = "DESKTOP_UPLOADER_PLATFORM"


def forced_portable() -> bool:
    """True when the portable fallbacks are forced (``DESKTOP_UPLOADER_PLATFORM=portable``)."""
    return os.environ.get(PLATFORM_ENV, "").strip().lower() == "portable"


@cache
def current() -> Platform:
    """This process's platform (chosen once; the choice is logged)."""
    native = _native()
    chosen = _ForcedPortable(native) if forced_portable() else native
    log.debug("platform: %s", chosen.name)
    return chosen


class _ForcedPortable(Platform):
    """The portable fallbacks, keeping the OS's own way where there is no portable one: a
    child dying with its parent (without it, weed outlives a killed keeper)."""

    def __init__(self, native: Platform) -> None:
        self._native = native

    def dies_with_parent(self):
        return self._native.dies_with_parent()

    def tie_child(self, pid: int) -> None:
        self._native.tie_child(pid)


def _native() -> Platform:
    """This OS's implementation (the portable one on an OS without its own module)."""
    if sys.platform.startswith("linux"):
        from desktop_uploader.platform.linux import LinuxPlatform

        return LinuxPlatform()
    if sys.platform == "darwin":
        from desktop_uploader.platform.macos import MacPlatform

        return MacPlatform()
    if sys.platform == "win32":
        from desktop_uploader.platform.windows import WindowsPlatform

        return WindowsPlatform()
    return Platform()


__all__ = ["PLATFORM_ENV", "Platform", "current", "forced_portable"]
