"""The portable platform: what works on every OS Python and psutil run on. The per-OS
subclasses (``linux``, ``macos``, ``windows``) replace the pieces their OS does better."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_uploader.platform import ipc, processes

# A decoder worker that went over its memory budget under the watchdog (no OS limit) exits
# with this status; the pool reports it as ``too_much_memory``.
EXIT_TOO_MUCH_MEMORY = 86
WATCHDOG_INTERVAL = 0.01  # seconds between the watchdog's looks at the worker's memory


class Platform:
    """Portable fallbacks. ``name`` says which implementation runs (logged, shown by tests)."""

    name = "portable"

    # -- processes: CPU time, memory, identity (psutil everywhere) ------------------------------
    cpu_seconds = staticmethod(processes.cpu_seconds)
    memory_bytes = staticmethod(processes.memory_bytes)
    process_started = staticmethod(processes.process_started)
    is_same_process = staticmethod(processes.is_same_process)
    pid_alive = staticmethod(processes.pid_alive)
    command_line = staticmethod(processes.command_line)
    child_count = staticmethod(processes.child_count)
    seconds_since_start = staticmethod(processes.seconds_since_start)
    store_processes = staticmethod(processes.store_processes)
    end_processes = staticmethod(processes.end_processes)
    listening_ports = staticmethod(processes.listening_ports)

    def lower_priority(self, nice: int) -> None:
        """Run this process at a lower priority (``nice`` 1–19: how much lower)."""
        import psutil

        with contextlib.suppress(psutil.Error, OSError, ValueError):
            p = psutil.Process()
            if hasattr(psutil, "BELOW_NORMAL_PRIORITY_CLASS"):  # Windows: a class, not a number
                p.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
            else:
                p.nice(min(19, p.nice() + nice))

    # -- decoder workers' memory cap -------------------------------------------------------------
    def limit_own_memory(self, budget: int) -> None:
        """Called in a decoder worker: cap it at ``budget`` bytes beyond what it uses now.
        Portable: a watchdog thread ends the process with ``EXIT_TOO_MUCH_MEMORY`` once its
        virtual size (what ``RLIMIT_AS`` counts; on Windows the commit) passes the cap. It
        cannot make one allocation fail as an OS limit does, so it is coarser: it sees every
        growth of the worker within ``WATCHDOG_INTERVAL``, and ends the worker instead of
        letting the decoder raise MemoryError."""
        me = os.getpid()
        started = threading.Event()

        def watch() -> None:
            # The baseline is read here, not before the thread starts: its own stack and the
            # malloc arena its first allocation makes (address space with glibc) are not the
            # file's doing.
            processes.virtual_bytes(me)
            limit = processes.virtual_bytes(me) + budget
            started.set()
            while True:
                if processes.virtual_bytes(me) > limit:
                    os._exit(EXIT_TOO_MUCH_MEMORY)
                time.sleep(WATCHDOG_INTERVAL)

        threading.Thread(target=watch, name="du-memory-watchdog", daemon=True).start()
        started.wait(5)

    def limit_child_memory(self, pid: int, budget: int) -> None:
        """Called in the parent after a decoder worker started (Windows: its Job Object);
        nothing here, the worker limits itself."""

    # -- child processes ------------------------------------------------------------------------
    def detached(self) -> dict[str, Any]:
        """``subprocess.Popen`` arguments for a child in its own process group, out of reach of
        the terminal's Ctrl+C, that may outlive us."""
        if os.name == "nt":
            return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
        return {"start_new_session": True}

    def dies_with_parent(self) -> Callable[[], None] | None:
        """A ``preexec_fn`` that makes the child die when this process dies; None where the OS
        has no such thing (the child's owner then watches for itself)."""
        return None

    def tie_child(self, pid: int) -> None:
        """After starting a child that must die with us (Windows: a kill-on-close Job Object)."""

    def start_lock(self, path: Path, timeout: float) -> Any:
        """An exclusive lock on ``path`` across threads and processes (a context manager)."""
        from desktop_uploader.platform.locks import StartLock

        return StartLock(path, timeout)

    # -- the keeper's IPC -----------------------------------------------------------------------
    def listen(self, runtime_dir: Path) -> ipc.Listener:
        """A listener for the store keeper, reachable by this user's processes only.
        Portable: loopback TCP; a per-start token in a 0600 file in ``runtime_dir`` (private to
        the user) must open every request."""
        return ipc.TokenListener(runtime_dir)

    def request(self, address: str, command: bytes, timeout: float = 5.0) -> bytes:
        """Send ``command`` to the keeper at ``address`` (any kind this module makes); its
        one-line answer. Raises OSError (PermissionError for another user)."""
        return ipc.request(address, command, timeout)

    def connect_unix(self, path: str, timeout: float) -> Any:
        """A connected unix socket (clamd's ``LocalSocket``); OSError where there are none."""
        return ipc.connect_unix(path, timeout)
