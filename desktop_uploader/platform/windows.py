"""Windows: Job Objects cap a decoder worker's memory and tie the store's children to their
keeper; the keeper's IPC is loopback TCP with a token file (the base class).

Written with ctypes against the documented kernel32 API, guarded by ``sys.platform``. It cannot
run on the Linux machine this project is developed on: the CI workflow's Windows job
(.github/workflows/ci.yml) is where it runs.
"""

from __future__ import annotations

import ctypes
import sys
from ctypes import wintypes

from desktop_uploader.platform.base import Platform

# <winnt.h>
_JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x00000100
_JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
_JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9  # JOBOBJECTINFOCLASS
_PROCESS_SET_QUOTA = 0x0100
_PROCESS_TERMINATE = 0x0001


class _IO_COUNTERS(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_ulonglong)
        for name in (
            "ReadOperationCount",
            "WriteOperationCount",
            "OtherOperationCount",
            "ReadTransferCount",
            "WriteTransferCount",
            "OtherTransferCount",
        )
    ]


class _BASIC_LIMITS(ctypes.Structure):
    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_int64),
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", wintypes.DWORD),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", wintypes.DWORD),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", wintypes.DWORD),
        ("SchedulingClass", wintypes.DWORD),
    ]


class _EXTENDED_LIMITS(ctypes.Structure):
    _fields_ = [
        ("BasicLimitInformation", _BASIC_LIMITS),
        ("IoInfo", _IO_COUNTERS),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


def _kernel32():
    if sys.platform != "win32":
        raise OSError("Job Objects exist only on Windows")
    return ctypes.WinDLL("kernel32", use_last_error=True)


def assign_job(pid: int, flags: int, process_memory: int = 0) -> int:
    """Put process ``pid`` in a new Job Object with these limit flags; the job's handle (kept
    open for the job's life: closing it ends a kill-on-close job's processes)."""
    k32 = _kernel32()
    k32.CreateJobObjectW.restype = wintypes.HANDLE
    k32.OpenProcess.restype = wintypes.HANDLE
    job = k32.CreateJobObjectW(None, None)
    if not job:
        raise ctypes.WinError(ctypes.get_last_error())
    info = _EXTENDED_LIMITS()
    info.BasicLimitInformation.LimitFlags = flags
    info.ProcessMemoryLimit = process_memory
    if not k32.SetInformationJobObject(
        job, _JOB_OBJECT_EXTENDED_LIMIT_INFORMATION, ctypes.byref(info), ctypes.sizeof(info)
    ):
        raise ctypes.WinError(ctypes.get_last_error())
    proc = k32.OpenProcess(_PROCESS_SET_QUOTA | _PROCESS_TERMINATE, False, pid)
    if not proc:
        raise ctypes.WinError(ctypes.get_last_error())
    try:
        if not k32.AssignProcessToJobObject(job, proc):
            raise ctypes.WinError(ctypes.get_last_error())
    finally:
        k32.CloseHandle(proc)
    return job


class WindowsPlatform(Platform):
    name = "windows"

    def __init__(self) -> None:
        self._jobs: list[int] = []  # handles kept open: closing one ends its processes

    def limit_own_memory(self, budget: int) -> None:
        """Nothing in the worker: the parent put it in a Job Object (``limit_child_memory``)."""

    def limit_child_memory(self, pid: int, budget: int) -> None:
        """A Job Object with ``JOB_OBJECT_LIMIT_PROCESS_MEMORY``: commits past the cap fail
        (Python raises MemoryError, reported as ``too_much_memory``); the worker also dies
        with us (kill on close). The cap counts the worker's whole commit, so the budget is
        on top of what it had committed when it started."""
        from desktop_uploader.platform import processes

        base = processes.memory_bytes(pid)
        self._jobs.append(
            assign_job(
                pid,
                _JOB_OBJECT_LIMIT_PROCESS_MEMORY | _JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
                base + budget,
            )
        )

    def tie_child(self, pid: int) -> None:
        """The child is ended by Windows when this process ends, however it ends."""
        self._jobs.append(assign_job(pid, _JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE))
