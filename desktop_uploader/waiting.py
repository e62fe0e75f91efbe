"""The engine's waiting rooms: jobs whose destination is unreachable, and jobs held for a
content review or for a malware scanner. ``WaitingRoom`` is one of the engine's collaborators; it
uses the engine's job table, pools and park/unpark mechanism.

A job held for review is also recorded in the journal (status ``held``, its findings and its
outputs), so the decision can come later and from any process: the window's review dialog, or
``desktop-uploader review --approve/--reject`` after a one-shot ``upload``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import Executor, Future
from dataclasses import asdict
from pathlib import Path
from typing import Any

from desktop_uploader.config import Preset
from desktop_uploader.errors import StorageError
from desktop_uploader.events import JobResult
from desktop_uploader.jobs import Job, JobState
from desktop_uploader.pipeline.content import Finding
from desktop_uploader.pipeline.process import ProcessedImage
from desktop_uploader.pipeline.validate import Probe

log = logging.getLogger("desktop_uploader.engine")


class WaitingRoom:
    """Offline waiting (resume when the bucket answers again) and held jobs."""

    def __init__(
        self,
        engine: Any,
        offline_wait: float | None,
        probe_interval: float,
        scanner_retry: float,
        scanner_wait: float | None,
    ) -> None:
        self.engine = engine  # an ``Engine``: its jobs, pools, lifecycle and park/unpark
        self.journal = engine.journal
        self._lock = engine.lock  # a job's ``parked``, as ``Engine.unpark`` takes it
        self._threads = threading.Lock()  # the prober and the scanner waiter: one of each
        self._closing = engine.closing
        self._offline_wait = offline_wait
        self._probe_interval = probe_interval
        self._prober: threading.Thread | None = None
        self._scanner_retry = scanner_retry
        self._scanner_wait = scanner_wait
        self._scanner_waiter: threading.Thread | None = None

    def join(self, timeout: float) -> None:
        """Wait for the destination prober to end (the engine is closing)."""
        if self._prober is not None:
            self._prober.join(timeout)

    # -- offline: wait for the destination instead of failing ------------------------------
    def wait_offline(self, job: Job, err: StorageError, executor, fn, *args) -> bool:
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
        self.engine.lifecycle.move(job, JobState.WAITING_FOR_DESTINATION, reason=err.message)
        job.parked = (executor, fn, args)
        with self._threads:
            if self._prober is None or not self._prober.is_alive():
                self._prober = threading.Thread(
                    target=self._probe_loop, name="du-offline-probe", daemon=True
                )
                self._prober.start()
        return True

    def _probe_loop(self) -> None:
        delay = self._probe_interval
        while not self._closing.is_set():
            waiting = [j for j in self.engine.jobs() if j.offline_since is not None and j.parked]
            if not waiting:
                return
            for profile in {j.profile for j in waiting}:
                try:
                    self.engine.uploaders.get(profile).check_bucket()
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
                    self.engine.unpark(j)  # runs once more; fails for good if still unreachable
            self._closing.wait(delay)
            delay = min(delay * 1.5, 30.0)

    def _release_offline(self, profile: str) -> None:
        for j in self.engine.jobs():
            if j.profile == profile and j.offline_since is not None and j.parked:
                j.offline_since = None
                self.engine.unpark(j)

    # -- held jobs: content review, waiting for a malware scanner ------------------------------
    def hold_for_review(
        self, job: Job, info: Probe, source_sha: str, processed: ProcessedImage
    ) -> None:
        """Hold a job the content check flagged: in the journal (status ``held``, its findings
        and outputs, so any process can decide later) and parked here until the user does."""
        top = job.findings[0]
        reason = f"Held for review: the content check found {top.describe()}."
        # not in the spool: nothing may resume or reuse these outputs until they are approved
        self.journal.drop_spool([job.id])
        self.journal.hold(
            job.id,
            processed.to_records(),
            asdict(info),
            str(job.out_dir) if job.out_dir is not None else None,
            code=f"content:{top.label}",
            reason=reason,
            findings=json.dumps([f.as_dict() for f in job.findings]),
            scanned=None if job.scanned is None else int(job.scanned),
        )
        then = (self.engine.cpu, self.engine.stages.publish, job, info, source_sha, processed)
        self.hold(job, "review", reason, *then)

    def held_for_review(self) -> list[dict]:
        """Every job waiting for a review decision (this process's and earlier ones'), from the
        journal: ``id``, ``source``, ``display_name``, ``profile``, ``findings``, ``held_at``,
        ``held_renditions`` (the thumbnail's ``path`` among them) …"""
        return self.journal.held_jobs()

    def approve(self, job_id: int, preset: Preset | None = None) -> Job | None:
        """Let a job held for content review go on to upload (or export). Works for jobs this
        engine holds and for jobs held by an earlier or another process (from the journal:
        their outputs are uploaded if still intact, else the source is processed again; an
        approval holds for the same source bytes only). ``preset``: the journal's job names
        its preset; pass the settings' one. Returns the job going on (its ``future`` has the
        result), None if it is not held."""
        job = self.engine.job(job_id)
        if job is not None and not job.future.done():
            if job.held != "review":
                return None
            row = self.journal.take_held(job_id)
            if row is None:
                self._decided_elsewhere(job)
                return None
            log.info("job %s approved after review", job_id)
            parked = job.parked
            if parked is not None:  # approved outputs may now resume after a restart
                processed = _held_outputs(parked)
                sha = row.get("source_sha256") or ""
                self.journal.record_spool(
                    job_id, sha, job.profile, row["preset_fp"], processed.to_records()
                )
            job.approved_sha = row.get("source_sha256")
            job.held = None
            self.engine.unpark(job)
            return job
        row = self.journal.take_held(job_id)
        if row is None:
            return None
        log.info("job %s approved after review (held by an earlier run)", job_id)
        return self._resume_approved(row, preset)

    def _resume_approved(self, row: dict, preset: Preset | None) -> Job:
        out_dir = row.get("held_out_dir")
        job = Job(
            row["id"],
            Path(row["source"]),
            row["display_name"],
            row["profile"],
            preset or Preset(row["preset"]),
            Future(),
            out_dir=Path(out_dir) if out_dir else None,
        )
        job.findings = tuple(Finding.from_dict(f) for f in row["findings"])
        job.approved_sha = row.get("source_sha256")
        # whether the malware scan ran, as that run recorded it (history keeps saying so)
        job.scanned = None if row.get("scanned") is None else bool(row["scanned"])
        self.engine.runs.started(job.id, job.out_dir, False)  # a crash now: a restart resumes
        self.engine.adopt(job, self.engine.cpu, self._finish_approved, row)
        return job

    def _finish_approved(self, job: Job, row: dict) -> None:
        """Upload the outputs the user approved; if they are gone, start from the source."""
        processed = ProcessedImage.from_records(row["held_renditions"])
        if processed is None:
            log.info("job %s: the reviewed outputs are gone; processing the source again", job.id)
            self.engine.stages.cpu_stage(job)
            return
        sha = row.get("source_sha256") or ""
        probe = row["held_probe"]
        info = Probe(**{**probe, "warnings": tuple(probe.get("warnings") or ())})
        outputs = row["held_renditions"]
        self.journal.record_spool(job.id, sha, job.profile, row["preset_fp"], outputs)
        self.engine.lifecycle.move(job, JobState.PROCESSING)
        self.engine.stages.publish(job, info, sha, processed)

    def reject(self, job_id: int) -> bool:
        """Reject a job held for content review: it ends as ``content:<label>``, nothing is
        uploaded, its outputs are deleted and the source is kept. Works for jobs held by an
        earlier or another process too. False if it is not held."""
        job = self.engine.job(job_id)
        if job is not None and not job.future.done():
            if job.held != "review":
                return False
            if self.journal.take_held(job_id) is None:
                self._decided_elsewhere(job)
                return False
            with self._lock:
                parked, job.parked = job.parked, None
            job.held = None
            if parked is not None:
                self.engine.spool.drop(job, _held_outputs(parked))
            top = job.findings[0]
            self.engine.finish(
                job,
                JobResult(
                    str(job.source), "rejected", code=f"content:{top.label}", reason=_rejected(top)
                ),
            )
            return True
        row = self.journal.take_held(job_id)
        if row is None:
            return False
        for rec in row["held_renditions"]:
            Path(rec["path"]).unlink(missing_ok=True)
        top = Finding.from_dict(row["findings"][0])
        self.journal.update_job(
            job_id, status="rejected", code=f"content:{top.label}", reason=_rejected(top)
        )
        log.info("job %s rejected on review", job_id)
        return True

    def defer_review(self, job_id: int) -> bool:
        """End a job held for review here without a decision (a one-shot command cannot wait;
        the app is closing): its result is ``held``, and it stays held in the journal with its
        outputs for ``approve``/``reject`` from any process. False if it is not held."""
        job = self.engine.job(job_id)
        if job is None or job.held != "review" or job.future.done():
            return False
        with self._lock:
            job.parked = None
        job.held = None
        top = job.findings[0]
        result = JobResult(
            str(job.source),
            "held",
            job_id=job.id,
            code=f"content:{top.label}",
            reason=f"Held for review: the content check found {top.describe()}.",
            findings=[f.as_dict() for f in job.findings],
            scanned=job.scanned,
        )
        # the journal says ``held`` already, with the outputs: a later decision finds them
        self.engine.lifecycle.finish(job, JobState.HELD, result, None)
        return True

    def _decided_elsewhere(self, job: Job) -> None:
        """Another process decided on this held job first: forget it here, leaving the
        journal as that process wrote it."""
        with self._lock:
            job.parked = None
        job.held = None
        result = JobResult(
            str(job.source),
            "cancelled",
            job_id=job.id,
            code="decided_elsewhere",
            reason="This file was approved or rejected in another window or command.",
        )
        # memory only: the journal's row is the deciding process's now
        self.engine.lifecycle.finish(job, JobState.CANCELLED, result, None, record=False)

    def hold(self, job: Job, why: str, reason: str, executor: Executor, fn, *args) -> None:
        """Park a job until it is released: by ``approve``/``reject`` ("review"), or when a
        malware scanner answers again ("scanner")."""
        job.held = why
        job.parked = (executor, fn, args)
        if why == "scanner":
            if job.held_since is None:
                job.held_since = time.monotonic()
            if self._scanner_wait is not None:
                reason += f" It waits up to {_duration(self._scanner_wait)}, then fails."
        state = {"review": JobState.WAITING_FOR_REVIEW, "scanner": JobState.WAITING_FOR_SCANNER}
        findings = [f.as_dict() for f in job.findings]
        self.engine.lifecycle.move(job, state[why], reason=reason, findings=findings)
        if job.cancelled or self._closing.is_set():
            self.engine.unpark(job)  # cancel/shutdown ran meanwhile: end it now
            return
        if why == "scanner":
            with self._threads:
                if self._scanner_waiter is None:
                    self._scanner_waiter = threading.Thread(
                        target=self._wait_for_scanner, name="du-scanner-wait", daemon=True
                    )
                    self._scanner_waiter.start()

    def _scanner_waiting(self) -> list[Job]:
        return [j for j in self.engine.jobs() if j.held == "scanner" and j.parked is not None]

    def _wait_for_scanner(self) -> None:
        """Every ``scanner_retry`` seconds ask for a scanner; release the waiting files when one
        answers, fail those that waited ``scanner_wait`` (every wait has an end)."""
        while True:
            with self._threads:  # nobody waits: end (the next held file starts a new waiter)
                if not self._scanner_waiting():
                    self._scanner_waiter = None
                    return
            waiting = self._scanner_waiting()
            delay = self._scanner_retry
            if self._scanner_wait is not None and waiting:
                first = min(j.held_since or 0.0 for j in waiting)
                delay = min(delay, max(0.05, first + self._scanner_wait - time.monotonic()))
            if self._closing.wait(delay):
                break
            waiting = self._scanner_waiting()
            if self.engine.checks.scanner_ready():
                log.info("a malware scanner answers; %d waiting file(s) go on", len(waiting))
                for j in waiting:
                    j.held, j.held_since = None, None
                    self.engine.unpark(j)
                continue
            now = time.monotonic()
            for j in waiting:
                if self._scanner_wait is not None and now - (j.held_since or now) >= (
                    self._scanner_wait
                ):
                    self._scanner_gave_up(j)
        with self._threads:
            self._scanner_waiter = None

    def _scanner_gave_up(self, job: Job) -> None:
        """A file that waited ``scanner_wait`` for a scanner: it fails (retry it later)."""
        with self._lock:
            if job.held != "scanner" or job.parked is None:
                return  # released or cancelled meanwhile
            job.parked, job.held, job.held_since = None, None, None
        problem = job.scanner_problem
        why = f" {problem.text()}" if problem is not None else ""
        reason = (
            f"No malware scanner answered within {_duration(self._scanner_wait or 0)}; this "
            f"destination requires a scan, so the file was not uploaded.{why} Retry it once the "
            "scanner runs."
        )
        log.warning("job %s: gave up waiting for a malware scanner", job.id)
        self.engine.finish(
            job, JobResult(str(job.source), "failed", code="scanner_unavailable", reason=reason)
        )


def _duration(seconds: float) -> str:
    """10 min, 90 s, 1 h 30 min: how long, in words people read."""
    if seconds < 120:
        return f"{seconds:g} s"
    minutes = round(seconds / 60)
    return (
        f"{minutes} min"
        if minutes < 60
        else f"{minutes // 60} h {minutes % 60} min".replace(" 0 min", "")
    )


def _held_outputs(parked: tuple):
    """The ProcessedImage a job held for review waits with: the last argument of its next
    stage, ``_publish(job, info, source_sha, processed)``."""
    _executor, _fn, args = parked
    return args[-1]


def _rejected(top: Finding) -> str:
    return f"Rejected on review: the content check found {top.describe()}."
