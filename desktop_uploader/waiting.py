"""The engine's waiting rooms: jobs whose destination is unreachable, and jobs held for a
content review or for a malware scanner. Mixed into ``Engine``; it uses the engine's job table,
executors and park/unpark mechanism.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from desktop_uploader import events as ev
from desktop_uploader.errors import StorageError
from desktop_uploader.events import JobResult

if TYPE_CHECKING:
    from desktop_uploader.engine import Job

log = logging.getLogger("desktop_uploader.engine")


class WaitingJobs:
    """Offline waiting (resume when the bucket answers again) and held jobs."""

    # -- offline: wait for the destination instead of failing ------------------------------
    def _wait_offline(self, job: Job, err: StorageError, executor, fn, *args) -> bool:
        """Park a job whose destination is unreachable; False when it has waited long enough."""
        now = time.monotonic()
        if job.offline_since is None:
            job.offline_since = now
        elif self._offline_wait is not None and now - job.offline_since > self._offline_wait:
            job.offline_since = None
            return False
        if self._offline_wait == 0 or self._closing.is_set():
            job.offline_since = None
            return False
        log.warning("destination of job %s unreachable (%s); waiting", job.id, err.code)
        self._emit(ev.STAGE, job, stage="waiting_for_destination", reason=err.message)
        job.parked = (executor, fn, args)
        with self._lock:
            if self._prober is None or not self._prober.is_alive():
                self._prober = threading.Thread(
                    target=self._probe_loop, name="du-offline-probe", daemon=True
                )
                self._prober.start()
        return True

    def _probe_loop(self) -> None:
        delay = self._probe_interval
        while not self._closing.is_set():
            waiting = [j for j in self.jobs() if j.offline_since is not None and j.parked]
            if not waiting:
                return
            for profile in {j.profile for j in waiting}:
                try:
                    self._uploader(profile).check_bucket()
                except StorageError as e:
                    if not e.transient:  # reachable, but refusing: let the jobs fail properly
                        self._release_offline(profile)
                    continue
                except Exception:
                    continue
                log.info("destination %s is reachable again; resuming", profile)
                self._release_offline(profile)
                delay = self._probe_interval
            expired = self._offline_wait is not None
            for j in waiting:
                if expired and time.monotonic() - (j.offline_since or 0) > self._offline_wait:
                    self._unpark(j)  # runs once more; fails for good if still unreachable
            self._closing.wait(delay)
            delay = min(delay * 1.5, 30.0)

    def _release_offline(self, profile: str) -> None:
        for j in self.jobs():
            if j.profile == profile and j.offline_since is not None and j.parked:
                j.offline_since = None
                self._unpark(j)

    # -- held jobs: content review, waiting for a malware scanner ------------------------------
    def approve(self, job_id: int) -> bool:
        """Let a job held for content review go on to upload. False if it is not held."""
        job = self.job(job_id)
        if job is None or job.held != "review" or job.future.done():
            return False
        log.info("job %s approved after review", job_id)
        parked = job.parked
        if parked is not None:  # approved outputs may now resume after a restart
            processed = _held_outputs(parked)
            sha = (self.journal.job(job_id) or {}).get("source_sha256") or ""
            fp = job.preset.fingerprint()
            self.journal.record_spool(job_id, sha, job.profile, fp, processed.to_records())
        job.held = None
        self._unpark(job)
        return True

    def reject(self, job_id: int) -> bool:
        """Reject a job held for content review: it ends as ``content:<label>``, nothing is
        uploaded and the source is kept. False if it is not held."""
        job = self.job(job_id)
        if job is None or job.held != "review" or job.future.done():
            return False
        with self._lock:
            parked, job.parked = job.parked, None
        job.held = None
        if parked is not None:
            self._drop_spool(job, _held_outputs(parked))
        top = job.findings[0]
        reason = f"Rejected on review: the content check found {top.label} ({top.score:.2f})."
        self._finish(
            job, JobResult(str(job.source), "rejected", code=f"content:{top.label}", reason=reason)
        )
        return True

    def _hold(self, job: Job, why: str, reason: str, executor: Executor, fn, *args) -> None:
        """Park a job until it is released: by ``approve``/``reject`` ("review"), or when a
        malware scanner answers again ("scanner")."""
        job.held = why
        job.parked = (executor, fn, args)
        stage = {"review": "waiting_for_review", "scanner": "waiting_for_scanner"}[why]
        findings = [{"label": f.label, "score": f.score} for f in job.findings]
        job.stage = stage
        self._emit(ev.STAGE, job, stage=stage, reason=reason, findings=findings)
        if job.cancelled or self._closing.is_set():
            self._unpark(job)  # cancel/shutdown ran meanwhile: end it now
            return
        if why == "scanner":
            with self._lock:
                if self._scanner_waiter is None:
                    self._scanner_waiter = threading.Thread(
                        target=self._wait_for_scanner, name="du-scanner-wait", daemon=True
                    )
                    self._scanner_waiter.start()

    def _wait_for_scanner(self) -> None:
        while not self._closing.wait(self._scanner_retry):
            with self._lock:
                waiting = [
                    j for j in self._jobs.values() if j.held == "scanner" and j.parked is not None
                ]
                if not waiting:
                    self._scanner_waiter = None
                    return
            if self.checks.scanner_ready():
                log.info("a malware scanner answers; %d waiting file(s) go on", len(waiting))
                for j in waiting:
                    j.held = None
                    self._unpark(j)
        with self._lock:
            self._scanner_waiter = None


def _held_outputs(parked: tuple):
    """The ProcessedImage a job held for review waits with: the last argument of its next
    stage, upload ``(job, info, processed)`` or export ``(job, info, source_sha, processed)``."""
    _executor, _fn, args = parked
    return args[-1]
