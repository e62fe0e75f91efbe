"""Scanners behind the validate stage: malware (ClamAV's clamd) and content (NudeNet).

``MalwareScanner`` finds a clamd to talk to — a configured socket, else a running system clamd,
else one of our own started on a signature database — and scans raw bytes before any decoder
sees them. ``ContentCheck`` runs NudeNet on pixels that were already decoded and downscaled (in
the decoder worker, where the model is loaded once per process).

Policies are per destination: ``malware_scan`` is required | optional | off; ``content_check`` is
block | review | off, with the labels and the score threshold that count.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline.clamd import (
    ClamdClient,
    ClamdError,
    OwnClamd,
    ScanReply,
    find_system_socket,
)
from desktop_uploader.pipeline.scanstatus import ScannerProblem, diagnose, from_error

log = logging.getLogger(__name__)

MALWARE_POLICIES = ("required", "optional", "off")
CONTENT_POLICIES = ("block", "review", "off")
# NudeNet's explicit labels; the model also knows faces, feet, covered parts etc.
EXPLICIT_LABELS = (
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "BUTTOCKS_EXPOSED",
    "ANUS_EXPOSED",
)
# Every label NudeNet's model gives (nudenet/nudenet.py); a label outside this list in the
# settings would never match, so the check would silently pass everything: it is refused at load.
NUDENET_LABELS = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)


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

    malware_scan: str = "optional"
    content_check: str = "block"
    content_labels: tuple[str, ...] = EXPLICIT_LABELS
    content_threshold: float = 0.6

    def __post_init__(self) -> None:
        if self.malware_scan not in MALWARE_POLICIES:
            log.error("unknown malware_scan policy %r: treated as required", self.malware_scan)
            object.__setattr__(self, "malware_scan", "required")
        if self.content_check not in CONTENT_POLICIES:
            log.error("unknown content_check policy %r: treated as block", self.content_check)
            object.__setattr__(self, "content_check", "block")

    def content_rule(self) -> ContentRule | None:
        if self.content_check == "off":
            return None
        return ContentRule(self.content_labels, self.content_threshold)


@dataclass(frozen=True)
class ContentRule:
    labels: tuple[str, ...]
    threshold: float


@dataclass(frozen=True)
class Finding:
    """One NudeNet detection that the rule counts."""

    label: str
    score: float


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


def content_rejection(top: Finding, verdict: str) -> Rejected:
    """The ``content:<label>`` rejection for a finding (``verdict``: "blocks it", …)."""
    return Rejected(
        f"The content check found {top.label} (score {top.score:.2f}); this destination {verdict}.",
        code=f"content:{top.label}",
    )


# -- content (runs inside the decoder worker) ------------------------------------------------
_detector: Any = None


def load_content_model() -> Any:
    """NudeNet's detector, loaded once per process from the model inside its wheel."""
    global _detector
    if _detector is None:
        from nudenet import NudeDetector

        detector = NudeDetector()
        if hasattr(detector, "onnx_session"):
            detector.onnx_session = _single_thread_session(detector.onnx_session)
        _detector = detector
    return _detector


def _single_thread_session(session: Any) -> Any:
    """The same model in a session that runs on one thread and does not spin.

    NudeNet opens onnxruntime's default session: one thread per core, spinning while it waits
    for work. Every decoder worker process already has a core to itself, so those threads only
    burn the other worker's CPU: the default session costs ~70 ms of CPU per image here, this
    one ~40 ms, with the same detections (docs/benchmarks.md)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    model = session._model_path  # the file NudeNet loaded (inside its wheel)
    return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])


def content_findings(rgb: Any, rule: ContentRule) -> list[Finding]:
    """NudeNet detections on decoded pixels (a PIL image in RGB/RGBA) that ``rule`` counts,
    highest score first. The model is loaded once per process, from the wheel, offline."""
    import numpy as np

    detector = load_content_model()
    arr = np.asarray(rgb.convert("RGB"))[:, :, ::-1]  # BGR, as its own file loader gives it
    found = [
        Finding(d["class"], round(float(d["score"]), 3))
        for d in detector.detect(np.ascontiguousarray(arr))
        if d["class"] in rule.labels and d["score"] >= rule.threshold
    ]
    return sorted(found, key=lambda f: -f.score)
