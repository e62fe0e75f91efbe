"""What every POSIX system shares: an address-space limit for decoder workers."""

from __future__ import annotations

from desktop_uploader.platform.base import Platform


class PosixPlatform(Platform):
    name = "posix"

    def limit_own_memory(self, budget: int) -> None:
        """``RLIMIT_AS``: allocations past the cap fail (Python raises MemoryError, which the
        worker reports as ``too_much_memory``). The budget is on top of the address space the
        libraries reserved at start (onnxruntime alone maps ~1 GB, more with many cores)."""
        import resource

        limit = _address_space() + budget
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _address_space() -> int:
    """This process's current virtual size in bytes."""
    import psutil

    return psutil.Process().memory_info().vms
