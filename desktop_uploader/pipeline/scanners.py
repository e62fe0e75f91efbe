"""Scanners behind the validate stage: malware (ClamAV's clamd) and content (NudeNet).

``MalwareScanner`` finds a clamd to talk to — a configured socket, else a running system clamd,
else one of our own started on a signature database — and scans raw bytes before any decoder
sees them. The content check (``pipeline/content.py``) runs NudeNet and a nudity classifier on
pixels that were already decoded and downscaled (in the decoder worker, where the models are
loaded once per process).

Policies are per destination: ``malware_scan`` is required | optional | off; ``content_check`` is
review | block | off, with the labels and the score threshold that count.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from desktop_uploader.pipeline.clamd import (
    ClamdClient,
    ClamdError,
    OwnClamd,
    ScanReply,
    find_system_socket,
)
from desktop_uploader.pipeline.content import EXPLICIT_LABELS, ContentRule

log = logging.getLogger(__name__)

MALWARE_POLICIES = ("required", "optional", "off")
CONTENT_POLICIES = ("block", "review", "off")


class ScannerUnavailable(Exception):  # noqa: N818 - a state, reported to the user as such
    """No malware scanner can be reached right now."""


class MalwareScanning(Protocol):
    def scan(self, path: Path) -> ScanReply: ...

    def describe(self) -> str: ...

    def available(self) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ValidationPolicy:
    """What a destination demands before a file may go up."""

    malware_scan: str = "optional"
    # review: a finding holds the file for the user to decide; block: it is rejected
    content_check: str = "review"
    content_labels: tuple[str, ...] = EXPLICIT_LABELS
    content_threshold: float = 0.6
    content_label_thresholds: tuple[tuple[str, float], ...] = ()

    def content_rule(self) -> ContentRule | None:
        if self.content_check == "off":
            return None
        return ContentRule(
            self.content_labels, self.content_threshold, self.content_label_thresholds
        )


class MalwareScanner:
    """Scans files with clamd; finds or starts one on first use (thread-safe).

    ``socket_path``: a clamd to use (no discovery). Otherwise a running system clamd is used,
    else, if ``start_own`` and signatures are present in ``database_dir``, our own clamd runs
    with its socket in ``runtime_dir`` until ``close``. When none can be had, ``scan`` raises
    ``ScannerUnavailable``; it tries again after ``retry_after`` seconds.
    """

    def __init__(
        self,
        runtime_dir: Path,
        database_dir: Path = Path("/var/lib/clamav"),
        socket_path: str | None = None,
        start_own: bool = True,
        max_bytes: int = 200 * 1024 * 1024,
        retry_after: float = 30.0,
    ) -> None:
        self.runtime_dir = Path(runtime_dir)
        self.database_dir = Path(database_dir)
        self.socket_path = socket_path
        self.start_own = start_own
        self.max_bytes = max_bytes
        self.retry_after = retry_after
        self._client: ClamdClient | None = None
        self._own: OwnClamd | None = None
        self._why_not = ""
        self._failed_at: float | None = None
        self._lock = threading.Lock()
        self._closed = False

    def describe(self) -> str:
        """Which clamd is in use, or why there is none (for doctor/notices)."""
        if self._client is None:
            return self._why_not or "not started yet"
        kind = "own clamd" if self._own else "clamd"
        return f"{kind} at {self._client.socket_path}"

    def _resolve(self) -> ClamdClient:
        import time

        with self._lock:
            if self._client is not None:
                return self._client
            if self._closed:
                raise ScannerUnavailable("the app is shutting down")
            if self._failed_at and time.monotonic() - self._failed_at < self.retry_after:
                raise ScannerUnavailable(self._why_not)
            try:
                self._client = self._connect()
                self._failed_at = None
                return self._client
            except ClamdError as e:
                self._why_not = str(e)
                self._failed_at = time.monotonic()
                log.warning("no malware scanner: %s", e)
                raise ScannerUnavailable(self._why_not) from None

    def _connect(self) -> ClamdClient:
        if self.socket_path:
            client = ClamdClient(self.socket_path)
            if not client.ping():
                raise ClamdError(f"the configured clamd socket {self.socket_path} does not answer")
            return client
        found = find_system_socket()
        if found:
            return ClamdClient(found)
        if not self.start_own:
            raise ClamdError("no running clamd was found (and starting our own is turned off)")
        own = OwnClamd(self.runtime_dir / "clamd", self.database_dir, self.max_bytes)
        client = own.start()
        self._own = own
        return client

    def available(self) -> bool:
        """True if a clamd answers (finding or starting one if need be)."""
        try:
            return self._resolve().ping()
        except ScannerUnavailable:
            return False

    def scan(self, path: Path) -> ScanReply:
        """Scan the raw bytes of ``path``. Raises ``ScannerUnavailable`` or ``ClamdError``."""
        client = self._resolve()
        try:
            return client.scan_file(path)
        except ClamdError:
            if client.ping():
                raise  # clamd is there but refused this file (e.g. its size limit)
            with self._lock:  # clamd went away: look for one again next time
                if self._client is client:
                    self._client = None
            raise ScannerUnavailable(f"clamd at {client.socket_path} stopped answering") from None

    def close(self) -> None:
        """Stop our own clamd, if we started one."""
        with self._lock:
            self._closed = True
            own, self._own, self._client = self._own, None, None
        if own is not None:
            own.stop()
