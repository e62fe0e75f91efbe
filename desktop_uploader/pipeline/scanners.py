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
from desktop_uploader.pipeline.scanstatus import ScannerProblem, diagnose, from_error
from desktop_uploader.records import ContentPolicy, ScanPolicy, choices

log = logging.getLogger(__name__)

MALWARE_POLICIES = choices(ScanPolicy)
CONTENT_POLICIES = choices(ContentPolicy)


class ScannerUnavailable(Exception):  # noqa: N818 - a state, reported to the user as such
    """No malware scanner can be reached right now; ``problem`` says why and what to do."""

    def __init__(self, problem: ScannerProblem) -> None:
        super().__init__(problem.text())
        self.problem = problem


class MalwareScanning(Protocol):
    def scan(self, path: Path) -> ScanReply: ...

    def describe(self) -> str: ...

    def available(self) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ValidationPolicy:
    """What a destination demands before a file may go up.

    Fails closed: a value that is not one of the known ones (settings are checked at load, so
    only a bug could bring one here) is treated as the strictest, ``required`` / ``block``."""

    malware_scan: str = ScanPolicy.OPTIONAL
    # review: a finding holds the file for the user to decide; block: it is rejected
    content_check: str = ContentPolicy.REVIEW
    content_labels: tuple[str, ...] = EXPLICIT_LABELS
    content_threshold: float = 0.6
    content_label_thresholds: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.malware_scan not in MALWARE_POLICIES:
            log.error("unknown malware_scan policy %r: treated as required", self.malware_scan)
            object.__setattr__(self, "malware_scan", ScanPolicy.REQUIRED)
        if self.content_check not in CONTENT_POLICIES:
            log.error("unknown content_check policy %r: treated as block", self.content_check)
            object.__setattr__(self, "content_check", ContentPolicy.BLOCK)

    def content_rule(self) -> ContentRule | None:
        if self.content_check == ContentPolicy.OFF:
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
        self.database_dir = self.db = Path(database_dir)
        self.socket_path = socket_path
        self.start_own = start_own
        self.max_bytes = max_bytes
        self.retry_after = retry_after
        self._client: ClamdClient | None = None
        self._own: OwnClamd | None = None
        self._why_not = ""
        self._problem: ScannerProblem | None = None
        self._failed_at: float | None = None
        self._lock = threading.Lock()
        self._closed = False

    def describe(self) -> str:
        """Which clamd is in use, or why there is none (for doctor/notices)."""
        if self._client is None:
            return self._why_not or "not started yet"
        kind = "own clamd" if self._own else "clamd"
        return f"{kind} at {self._client.socket_path}"

    def problem(self) -> ScannerProblem | None:
        """Why files are not being scanned (None: a scanner answered when last asked)."""
        return None if self._client is not None else self._problem

    def _resolve(self) -> ClamdClient:
        import time

        with self._lock:
            if self._client is not None:
                return self._client
            if self._closed:
                raise ScannerUnavailable(
                    ScannerProblem("shutting_down", "The app is shutting down.", "")
                )
            if self._failed_at and time.monotonic() - self._failed_at < self.retry_after:
                raise ScannerUnavailable(self._problem or from_error(self._why_not, self.db))
            try:
                self._client = self._connect()
                self._failed_at = self._problem = None
                return self._client
            except ClamdError as e:
                self._why_not = str(e)
                self._failed_at = time.monotonic()
                # the plain-words reason and its fix, for the notice, the banner and doctor
                self._problem = diagnose(self.db, self.socket_path, self.start_own) or from_error(
                    self._why_not, self.db
                )
                log.warning("no malware scanner: %s (%s)", e, self._problem.kind)
                raise ScannerUnavailable(self._problem) from None

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
                    self._problem = ScannerProblem(
                        "not_running",
                        f"clamd at {client.socket_path} stopped answering.",
                        "Start it again (sudo systemctl start clamav-daemon).",
                    )
            raise ScannerUnavailable(self._problem or from_error("stopped", self.db)) from None

    def close(self) -> None:
        """Stop our own clamd, if we started one."""
        with self._lock:
            self._closed = True
            own, self._own, self._client = self._own, None, None
        if own is not None:
            own.stop()
