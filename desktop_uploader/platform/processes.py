"""Processes, through psutil on every OS: CPU time, memory, identity, finding and ending them."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from pathlib import Path


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds process ``pid`` has used; None if it is gone."""
    import psutil

    try:
        t = psutil.Process(pid).cpu_times()
    except (psutil.Error, OSError):
        return None
    return t.user + t.system


def memory_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes; 0 if it is gone."""
    import psutil

    try:
        return psutil.Process(pid).memory_info().rss
    except (psutil.Error, OSError):
        return 0


def virtual_bytes(pid: int) -> int:
    """Virtual size of process ``pid`` in bytes (Windows: its committed memory); 0 if gone."""
    import psutil

    try:
        return psutil.Process(pid).memory_info().vms
    except (psutil.Error, OSError):
        return 0


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


def pid_alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie child of ours counts as gone)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # another user's: it exists


def command_line(pid: int) -> list[str]:
    """The command line of ``pid``; empty if it is gone or not ours to read."""
    import psutil

    try:
        return psutil.Process(pid).cmdline()
    except (psutil.Error, OSError):
        return []


def child_count() -> int:
    """How many child processes this one has (decoder workers, clamd)."""
    import psutil

    return len(psutil.Process().children())


def seconds_since_start() -> float:
    """How long ago the OS started this process."""
    import psutil

    return time.time() - psutil.Process().create_time()


def store_processes(store_dir: Path, data_dir: Path) -> list[int]:
    """PIDs of this user's processes that belong to the store in ``store_dir``: its keeper
    (``local-store _keeper`` working in ``store_dir``) and weed (``-dir=<data_dir>``)."""
    import psutil

    weed_arg = f"-dir={data_dir}"
    found = []
    me = os.getpid()
    my_uid = os.getuid() if hasattr(os, "getuid") else None
    for p in psutil.process_iter(["pid", "cmdline", "uids", "username", "status"]):
        info = p.info
        if info["pid"] == me or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        uids = info.get("uids")
        if my_uid is not None and uids is not None and uids.real != my_uid:
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
    """Ask these processes to end (SIGTERM; Windows: TerminateProcess), then kill whatever
    still runs after ``grace`` seconds."""
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
