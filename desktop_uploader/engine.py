"""The engine: moves jobs through validate → process → upload → deliver and publishes events.

It composes its collaborators — ``Stages`` (what each stage does), ``Spool`` (outputs on their way
out), ``WaitingRoom`` (jobs waiting for the destination, a scanner or a review) and ``Uploaders``
(one per destination) — and moves each job through ``jobs.Lifecycle``: every move is journaled
before its event is published. CPU work (hashing, validation, decoding, encoding) runs on one
bounded pool, network work (HEAD checks, uploads, stale-upload aborts) on another; both are
injectable so tests can run stages inline. Subscribers are called from worker threads and must
not block (the GUI bridge re-emits them as queued Qt signals). Finished jobs leave memory (the
journal keeps them); ``resume_unfinished`` takes up the jobs a dead process left. Nothing here
imports Qt.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path

from desktop_uploader.config import Limits, Preset
from desktop_uploader.errors import Cancelled, Paused, Rejected, StorageError, UploaderError
from desktop_uploader.events import Event
from desktop_uploader.jobs import Job, JobState, Lifecycle, finished_state
from desktop_uploader.journal import Journal
from desktop_uploader.pipeline.checks import SafetyChecks
from desktop_uploader.pipeline.intake import absolute, collect, display_name
from desktop_uploader.pipeline.upload import Uploader
from desktop_uploader.records import JobResult, JobStatus
from desktop_uploader.runs import Runs
from desktop_uploader.spooling import Spool
from desktop_uploader.stages import Stages, Uploaders
from desktop_uploader.waiting import WaitingRoom

log = logging.getLogger(__name__)
Subscriber = Callable[[Event], None]


class Engine:
    """Runs upload jobs. Create one per app; call ``shutdown`` when done."""

    def __init__(
        self,
        journal: Journal,
        spool_dir: Path,
        limits: Limits,
        uploader_for: Callable[[str], Uploader],
        cpu_executor: Executor | None = None,
        io_executor: Executor | None = None,
        offline_wait: float | None = None,
        offline_probe_interval: float = 2.0,
        checks: SafetyChecks | None = None,
        scanner_retry_interval: float = 10.0,
        scanner_wait: float | None = 600.0,
    ) -> None:
        """``offline_wait``: how long a job waits for an unreachable destination before it
        fails (None: for ever, as the GUI does). While waiting, the destination is probed every
        ``offline_probe_interval`` seconds (backing off to 30 s) and jobs resume by themselves.
        ``scanner_wait``: how long a job that requires a malware scan waits for a scanner before
        it fails as ``scanner_unavailable`` (retryable; None: for ever)."""
        self.journal = journal
        self.spool_dir = spool_dir
        self.limits = limits
        self._own_executors = []
        if cpu_executor is None:
            cpu_executor = ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="du-cpu")
            self._own_executors.append(cpu_executor)
        if io_executor is None:
            io_executor = ThreadPoolExecutor(4, thread_name_prefix="du-io")
            self._own_executors.append(io_executor)
        self.cpu = cpu_executor
        self.io = io_executor
        self._subscribers: list[Subscriber] = []
        self.lock = threading.Lock()
        self._jobs: dict[int, Job] = {}  # unfinished jobs only: the journal keeps the rest
        self._all_paused = False
        self.closing = threading.Event()
        # malware scan, probe, decode + content check (default: no scanner, decode inline)
        self.checks = checks or SafetyChecks(limits)
        self.runs = Runs(journal)
        self.lifecycle = Lifecycle(journal, self._publish, self._forget)
        self.uploaders = Uploaders(uploader_for, self.io)
        self.spool = Spool(self)
        self.stages = Stages(self)
        self.waiting = WaitingRoom(
            self, offline_wait, offline_probe_interval, scanner_retry_interval, scanner_wait
        )
        # content review: the waiting room holds those jobs (and those of earlier runs)
        self.held_for_review = self.waiting.held_for_review
        self.approve, self.reject = self.waiting.approve, self.waiting.reject
        self.defer_review = self.waiting.defer_review
        spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    # -- events --------------------------------------------------------------------------
    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn`` for every event; returns a function that unsubscribes."""
        with self.lock:
            self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn)

    def _publish(self, event: Event) -> None:
        for fn in list(self._subscribers):
            try:
                fn(event)
            except Exception:
                log.exception("event subscriber failed on %s", event.kind)

    def emit(self, kind: str, job: Job, **data: object) -> None:
        """An event that moves no job (a warning, progress): not journaled."""
        self._publish(Event(kind, job.id, str(job.source), dict(data)))

    # -- submitting ----------------------------------------------------------------------
    def submit(
        self,
        path: Path,
        profile: str,
        preset: Preset,
        out_dir: Path | None = None,
        refusal: Rejected | None = None,
        in_folder: bool = False,
    ) -> Job:
        """Queue one file; the job's future resolves to its ``JobResult`` (never raises).

        With ``out_dir`` the file is validated and processed exactly as for an upload (the
        destination's policies apply) and the outputs are written to that folder instead.
        With ``refusal`` (intake refused it) it ends as that rejection, the file unopened.
        ``in_folder``: the file was found in a folder the user named, so bytes that are no
        image at all end as ``skipped`` (a README), not ``rejected``. The path is journalled
        absolute: a held job is approved, an interrupted one resumed, from anywhere."""
        path = absolute(path)
        name = display_name(path)
        job_id = self.journal.add_job(str(path), name, profile, preset.name, preset.fingerprint())
        self.runs.started(job_id, out_dir, in_folder)
        job = Job(
            job_id,
            path,
            name,
            profile,
            preset,
            Future(),
            out_dir=out_dir,
            refusal=refusal,
            in_folder=in_folder,
        )
        self.adopt(job, self.cpu, self.stages.cpu_stage)
        return job

    def adopt(self, job: Job, executor: Executor, fn: Callable[..., object], *args) -> None:
        """Hold ``job`` (new, or taken up again), announce it queued, start it with ``fn``."""
        with self.lock:
            self._jobs[job.id] = job
        self.lifecycle.queued(job)
        self.schedule(job, executor, fn, job, *args)

    def submit_paths(
        self,
        paths: Iterable[str | Path],
        profile: str,
        preset: Preset,
        out_dir: Path | None = None,
    ) -> list[Job]:
        """Queue the files named and those in the folders named (``intake.collect``): one job
        per entry, including the ones intake refused, so each gets its result."""
        entries = collect(list(paths), self.limits.follow_symlinks)
        return [
            self.submit(e.path, profile, preset, out_dir, e.refusal, in_folder=e.in_folder)
            for e in entries
        ]

    def run(self, paths: Iterable[str | Path], profile: str, preset: Preset) -> list[JobResult]:
        """Upload files and folders, blocking; one result per file, in input order."""
        return [job.future.result() for job in self.submit_paths(paths, profile, preset)]

    def resume_unfinished(
        self, preset_for: Callable[[str], Preset | None] | None = None
    ) -> list[Job]:
        """Take up again the jobs a process that is gone (crashed, killed, powered off) left
        unfinished in the journal: each goes on under its own id, reusing its spooled outputs
        and continuing its multipart upload (no part the server has is sent again).
        ``preset_for``: a preset by its name (the settings'; None or absent: the built-in)."""
        resumed = []
        for row in self.runs.orphans():
            if not self.runs.claim(row["id"], row["owner"]):
                continue  # another process started at the same time took it
            name = row["preset"]
            preset = (preset_for(name) if preset_for else None) or Preset(name)
            job = Job(
                row["id"],
                Path(row["source"]),
                row["display_name"],
                row["profile"],
                preset,
                Future(),
                state=JobState(row["status"]),
                out_dir=Path(row["out_dir"]) if row["out_dir"] else None,
                in_folder=bool(row["in_folder"]),
                # it was uploading: what it finds on the server is its own, not a duplicate
                upload_attempted=row["status"] == JobState.UPLOADING,
            )
            log.info("job %s (%s) taken up again after a restart", job.id, job.source)
            self.adopt(job, self.cpu, self.stages.cpu_stage)
            resumed.append(job)
        return resumed

    def shutdown(self, wait: bool = True) -> None:
        """Stop: parked and waiting jobs end as cancelled, running ones finish (``wait``)."""
        self.closing.set()
        for job in self.jobs():
            if job.held == "review":
                self.defer_review(job.id)  # stays held in the journal, for any later process
            elif job.parked is not None:
                job.cancelled = True
                self.unpark(job)
        for ex in self._own_executors:
            ex.shutdown(wait=wait, cancel_futures=not wait)
        self.waiting.join(5)
        self.uploaders.close()

    # -- controls ------------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        """The jobs not yet finished."""
        with self.lock:
            return [j for j in self._jobs.values() if not j.future.done()]

    def job(self, job_id: int) -> Job | None:
        """An unfinished job of this engine (a finished one is in the journal only)."""
        with self.lock:
            return self._jobs.get(job_id)

    def _forget(self, job: Job, record: bool) -> None:
        """A job ended: it leaves memory, and (``record``) its run is over."""
        with self.lock:
            if self._jobs.get(job.id) is job:
                del self._jobs[job.id]
        if record:
            try:
                self.runs.ended(job.id)
            except Exception:
                log.exception("could not record the end of job %s", job.id)

    def pause(self, job_id: int | None = None) -> None:
        """Pause one job, or the whole queue (``None``). Work in flight stops at the next part
        or stage boundary; nothing already sent is lost."""
        if job_id is None:
            self._all_paused = True
        elif job := self.job(job_id):
            job.paused = True

    def resume(self, job_id: int | None = None) -> None:
        """Resume one job, or the whole queue and every paused job (``None``)."""
        if job_id is None:
            self._all_paused = False
            targets = self.jobs()
            for j in targets:
                j.paused = False
        else:
            job = self.job(job_id)
            targets = [job] if job else []
            if job:
                job.paused = False
        for j in targets:
            if j.parked is not None and j.offline_since is None and j.held is None:
                self.unpark(j)

    def cancel(self, job_id: int) -> None:
        """Cancel a job: it ends as ``cancelled`` at its next boundary (the source is kept)."""
        job = self.job(job_id)
        if job is None or job.future.done():
            return
        job.cancelled = True
        if job.parked is not None:
            self.unpark(job)

    def retry(self, job_id: int) -> Job | None:
        """Queue a finished (failed, rejected or cancelled) job's source again as a new job."""
        row = self.journal.job(job_id)
        if row is None or row["status"] not in ("failed", "rejected", "cancelled"):
            return None
        old = self.job(job_id)
        preset = old.preset if old else Preset(row["preset"])
        refusal = None
        if row["code"] == "symlink_outside_folder" and not self.limits.follow_symlinks:
            # the folder it was found in is not known here: a retry must not follow the link
            refusal = Rejected(row["reason"], code=row["code"])
        return self.submit(Path(row["source"]), row["profile"], preset, refusal=refusal)

    def forget_uploaders(self) -> bool:
        """Close cached destination connections so edited settings apply to the next upload.
        Only while no job is unfinished (returns False then: call again when the queue is idle)."""
        if self.jobs():
            return False
        self.uploaders.close()
        return True

    def is_paused(self, job: Job) -> bool:
        return job.paused or self._all_paused

    def check_controls(self, job: Job) -> None:
        """Called by stages between units of work (parts): raise if paused or cancelled."""
        if job.cancelled:
            raise Cancelled()
        if self.is_paused(job):
            raise Paused()

    # -- scheduling ------------------------------------------------------------------------
    def schedule(self, job: Job, executor: Executor, fn: Callable[..., object], *args) -> None:
        executor.submit(self._guard, job, executor, fn, *args)

    def park(self, job: Job, executor: Executor, fn: Callable[..., object], *args) -> None:
        job.parked = (executor, fn, args)
        # resume() may have run between the check and the parking: don't strand the job
        if job.cancelled or (
            not self.is_paused(job) and job.offline_since is None and job.held is None
        ):
            self.unpark(job)

    def unpark(self, job: Job) -> None:
        with self.lock:
            parked, job.parked = job.parked, None
        if parked is not None:
            executor, fn, args = parked
            if self.closing.is_set():
                self.finish_cancelled(job, "The app was closed before this file was done.")
                return
            executor.submit(self._guard, job, executor, fn, *args)

    def finish_cancelled(self, job: Job, reason: str) -> None:
        self.finish(job, JobResult(str(job.source), "cancelled", code="cancelled", reason=reason))

    def _guard(self, job: Job, executor: Executor, fn: Callable[..., object], *args) -> None:
        """Run one stage; any error ends the job with a result instead of escaping."""
        try:
            self.check_controls(job)
            fn(*args)
        except Paused:
            self.lifecycle.move(job, JobState.PAUSED)
            self.park(job, executor, fn, *args)
        except Cancelled:
            self.finish_cancelled(job, "Cancelled by the user; the source file is kept.")
        except Rejected as e:
            # in a folder, a file that is no image at all (a README) is passed over
            skip = job.in_folder and e.code == "not_an_image"
            status = "skipped" if skip else "rejected"
            self.finish(job, JobResult(str(job.source), status, code=e.code, reason=e.message))
        except StorageError as e:
            if e.transient and self.waiting.wait_offline(job, e, executor, fn, *args):
                return
            self.finish(job, JobResult(str(job.source), "failed", code=e.code, reason=e.message))
        except UploaderError as e:
            self.finish(job, JobResult(str(job.source), "failed", code=e.code, reason=e.message))
        except Exception as e:
            log.exception("job %s (%s) failed unexpectedly", job.id, job.source)
            self.finish(
                job,
                JobResult(
                    str(job.source),
                    "failed",
                    code="internal_error",
                    reason=f"Internal error ({type(e).__name__}: {e}). Please report it.",
                ),
            )

    # -- results -------------------------------------------------------------------------
    def _completed(self, job: Job, result: JobResult) -> JobResult:
        """``result`` with what the job learned on the way: its id, the content check's
        findings, the malware scan, and notes on an accepted file."""
        reason = result.reason
        if reason is None:  # accepted with a note (approved on review, trailing data)
            notes = list(job.warnings)
            if job.findings and result.uploaded:
                top = job.findings[0].describe()
                notes.insert(0, f"Approved on review: the content check found {top}.")
            reason = " ".join(notes) or None
        return result.with_(
            job_id=job.id,
            reason=reason,
            findings=result.findings or [f.as_dict() for f in job.findings],
            scanned=job.scanned if result.scanned is None else result.scanned,
        )

    def finish(self, job: Job, result: JobResult) -> None:
        result = self._completed(job, result)
        exported = job.out_dir is not None and result.status == JobStatus.DONE
        row = result.to_row()
        if exported:
            row["status"] = JobStatus.EXPORTED.value  # not an upload: no history
        row.pop("source", None)  # the row's own, as the job was queued
        if result.status in ("rejected", "failed"):
            log.warning("%s %s: [%s] %s", result.status, job.source, result.code, result.reason)
        else:
            log.info("%s %s -> %s", result.status, job.source, result.url)
        self.lifecycle.finish(job, finished_state(result, exported), result, row)
