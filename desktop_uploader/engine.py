"""The engine: moves jobs through validate → process → upload → deliver and publishes events.

CPU work (hashing, validation, decoding, encoding) runs on one bounded pool, network work on
another; both are injectable so tests can run stages inline. Subscribers are called from worker
threads and must not block (the GUI bridge re-emits them as queued Qt signals). Nothing here
imports Qt.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from desktop_uploader import events as ev
from desktop_uploader.config import Limits, Preset
from desktop_uploader.errors import Cancelled, Paused, Rejected, StorageError, UploaderError
from desktop_uploader.events import Event
from desktop_uploader.journal import Journal
from desktop_uploader.pipeline import deliver, publish
from desktop_uploader.pipeline.checks import SafetyChecks, WaitForScanner
from desktop_uploader.pipeline.intake import collect, display_name
from desktop_uploader.pipeline.process import ProcessedImage, Rendition
from desktop_uploader.pipeline.upload import Uploader
from desktop_uploader.pipeline.validate import Probe
from desktop_uploader.records import JobResult, JobStatus
from desktop_uploader.spooling import SpooledOutputs
from desktop_uploader.waiting import WaitingJobs

log = logging.getLogger(__name__)
Subscriber = Callable[[Event], None]


@dataclass
class Job:
    """One input on its way through the stages. ``future`` resolves to its ``JobResult``."""

    id: int
    source: Path
    name: str
    profile: str
    preset: Preset
    future: Future[JobResult]
    stage: str = "queued"
    paused: bool = False
    cancelled: bool = False
    # (executor, stage function, args) waiting for resume or for the destination to come back
    parked: tuple | None = None
    offline_since: float | None = None
    upload_attempted: bool = False  # an object found on a later attempt is then our own
    # "review" (content check) or "scanner" (required scan, no scanner): parked until released
    held: str | None = None
    findings: tuple = ()
    warnings: tuple[str, ...] = ()  # accepted, but worth telling (trailing data, not scanned)
    variants: tuple = ()  # responsive renditions (preset ``widths``), made after processing
    out_dir: Path | None = None  # ``process --out``: write the outputs here instead of uploading
    refusal: Rejected | None = None  # refused at intake (a FIFO, a link out of the folder, …)
    held_since: float | None = None  # when it began waiting for a malware scanner (monotonic)
    scanner_problem: object = None  # why no scanner answered (a scanstatus.ScannerProblem)
    scanned: bool | None = None  # the malware scan ran on it (None: it never got that far)
    approved_sha: str | None = None  # the source bytes the user approved on content review
    # found inside a folder the user named: a file that is not an image is skipped, not an error
    in_folder: bool = False


class Engine(SpooledOutputs, WaitingJobs):
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
        self._uploader_for = uploader_for
        self._own_executors = []
        if cpu_executor is None:
            cpu_executor = ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="du-cpu")
            self._own_executors.append(cpu_executor)
        if io_executor is None:
            io_executor = ThreadPoolExecutor(4, thread_name_prefix="du-io")
            self._own_executors.append(io_executor)
        self._cpu = cpu_executor
        self._io = io_executor
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._uploaders: dict[str, Uploader] = {}
        self._jobs: dict[int, Job] = {}
        self._all_paused = False
        self._offline_wait = offline_wait
        self._probe_interval = offline_probe_interval
        self._prober: threading.Thread | None = None
        self._closing = threading.Event()
        # malware scan, probe, decode + content check (default: no scanner, decode inline)
        self.checks = checks or SafetyChecks(limits)
        self._scanner_retry = scanner_retry_interval
        self._scanner_wait = scanner_wait
        self._scanner_waiter: threading.Thread | None = None
        spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    # -- events --------------------------------------------------------------------------
    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn`` for every event; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn)

    def _emit(self, kind: str, job: Job, **data: object) -> None:
        event = Event(kind, job.id, str(job.source), dict(data))
        for fn in list(self._subscribers):
            try:
                fn(event)
            except Exception:
                log.exception("event subscriber failed on %s", kind)

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
        image at all end as ``skipped`` (a README), not ``rejected``."""
        name = display_name(path)
        job_id = self.journal.add_job(str(path), name, profile, preset.name, preset.fingerprint())
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
        with self._lock:
            self._jobs[job_id] = job
        self._emit(ev.QUEUED, job, name=name)
        self._schedule(job, self._cpu, self._cpu_stage, job)
        return job

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
        jobs = self.submit_paths(paths, profile, preset)
        return [job.future.result() for job in jobs]

    def shutdown(self, wait: bool = True) -> None:
        """Stop: parked and waiting jobs end as cancelled, running ones finish (``wait``)."""
        self._closing.set()
        for job in self.jobs():
            if job.held == "review":
                self.defer_review(job.id)  # stays held in the journal, for any later process
            elif job.parked is not None:
                job.cancelled = True
                self._unpark(job)
        for ex in self._own_executors:
            ex.shutdown(wait=wait, cancel_futures=not wait)
        if self._prober is not None:
            self._prober.join(5)
        with self._lock:
            uploaders, self._uploaders = list(self._uploaders.values()), {}
        for up in uploaders:
            up.close()

    # -- controls ------------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        """The jobs not yet finished."""
        with self._lock:
            return [j for j in self._jobs.values() if not j.future.done()]

    def job(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

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
                self._unpark(j)

    def cancel(self, job_id: int) -> None:
        """Cancel a job: it ends as ``cancelled`` at its next boundary (the source is kept)."""
        job = self.job(job_id)
        if job is None or job.future.done():
            return
        job.cancelled = True
        if job.parked is not None:
            self._unpark(job)

    def retry(self, job_id: int) -> Job | None:
        """Queue a finished (failed, rejected or cancelled) job's source again as a new job."""
        row = self.journal.job(job_id)
        if row is None or row["status"] not in ("failed", "rejected", "cancelled"):
            return None
        from desktop_uploader.config import Preset as _Preset

        old = self.job(job_id)
        preset = old.preset if old else _Preset(row["preset"])
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
        with self._lock:
            uploaders, self._uploaders = list(self._uploaders.values()), {}
        for up in uploaders:
            up.close()
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
    def _schedule(self, job: Job, executor: Executor, fn: Callable[..., object], *args) -> None:
        executor.submit(self._guard, job, fn, *args)

    def _park(self, job: Job, executor: Executor, fn: Callable[..., object], *args) -> None:
        job.parked = (executor, fn, args)
        # resume() may have run between the check and the parking: don't strand the job
        if job.cancelled or (
            not self.is_paused(job) and job.offline_since is None and job.held is None
        ):
            self._unpark(job)

    def _unpark(self, job: Job) -> None:
        with self._lock:
            parked, job.parked = job.parked, None
        if parked is not None:
            executor, fn, args = parked
            if self._closing.is_set():
                self._finish_cancelled(job, "The app was closed before this file was done.")
                return
            executor.submit(self._guard, job, fn, *args)

    def _finish_cancelled(self, job: Job, reason: str) -> None:
        self._finish(job, JobResult(str(job.source), "cancelled", code="cancelled", reason=reason))

    # -- stages --------------------------------------------------------------------------
    def _guard(self, job: Job, fn: Callable[..., object], *args: object) -> None:
        """Run one stage; any error ends the job with a result instead of escaping."""
        executor = self._io if fn == self._io_stage else self._cpu
        try:
            self.check_controls(job)
            fn(*args)
        except Paused:
            self._emit(ev.STAGE, job, stage="paused")
            self._park(job, executor, fn, *args)
        except Cancelled:
            self._finish_cancelled(job, "Cancelled by the user; the source file is kept.")
        except Rejected as e:
            # in a folder, a file that is no image at all (a README) is passed over
            skip = job.in_folder and e.code == "not_an_image"
            status = "skipped" if skip else "rejected"
            self._finish(job, JobResult(str(job.source), status, code=e.code, reason=e.message))
        except StorageError as e:
            if e.transient and self._wait_offline(job, e, executor, fn, *args):
                return
            self._finish(job, JobResult(str(job.source), "failed", code=e.code, reason=e.message))
        except UploaderError as e:
            self._finish(job, JobResult(str(job.source), "failed", code=e.code, reason=e.message))
        except Exception as e:
            log.exception("job %s (%s) failed unexpectedly", job.id, job.source)
            self._finish(
                job,
                JobResult(
                    str(job.source),
                    "failed",
                    code="internal_error",
                    reason=f"Internal error ({type(e).__name__}: {e}). Please report it.",
                ),
            )

    def _set_stage(self, job: Job, stage: str) -> None:
        job.stage = stage
        self._emit(ev.STAGE, job, stage=stage)

    def _cpu_stage(self, job: Job) -> None:
        self._set_stage(job, "validating")
        if job.refusal is not None:
            raise job.refusal
        try:
            scanned = self.checks.scan(job.source, job.profile)  # raw bytes, before any decoder
        except WaitForScanner as e:
            job.scanner_problem = e.problem
            self._hold(job, "scanner", e.message, self._cpu, self._cpu_stage, job)
            return
        job.scanned = scanned.scanned
        info = self.checks.probe(job.source)
        source_sha, source_size = scanned.sha256, scanned.size
        job.warnings = tuple(w for w in (scanned.warning, *info.warnings) if w)
        for w in job.warnings:
            log.info("job %s (%s): %s", job.id, job.source, w)  # the scanner logs its own state
            self._emit(ev.STAGE, job, stage="validating", warning=w)
        self.journal.update_job(
            job.id, source_sha256=source_sha, source_size=source_size, had_gps=int(info.had_gps)
        )
        prior = None
        if job.out_dir is None:
            prior = self.journal.find_uploaded(source_sha, job.profile, job.preset.fingerprint())
        if prior and self._still_there(job.profile, prior):
            result = JobResult(
                str(job.source),
                JobStatus.DUPLICATE,
                job_id=job.id,
                had_gps=info.had_gps,
                **JobResult.from_row(prior).uploaded_object(),
            )
            # private destinations: fresh presigned links
            self._finish(job, publish.refresh_links(self._uploader(job.profile), result))
            return
        self._set_stage(job, "processing")
        processed = self._process(job, info, source_sha)
        if job.findings and job.approved_sha != source_sha:
            # the content policy is "review": hold until the user decides (an approval is
            # for these very source bytes; a changed file is checked again)
            self._hold_for_review(job, info, source_sha, processed)
            return
        self._publish(job, info, source_sha, processed)

    def _publish(self, job: Job, info: Probe, source_sha: str, processed: ProcessedImage) -> None:
        """After every check: the preset's variants and the upload, or (``process --out``)
        the outputs written to their folder."""
        if job.out_dir is not None:
            self._export(job, info, source_sha, processed)
            return
        job.variants = self._make_variants(job, info, processed)
        self._schedule(job, self._io, self._io_stage, job, info, processed)

    def _make_variants(self, job: Job, info: Probe, processed: ProcessedImage) -> tuple:
        """The preset's responsive set, made from the (trusted) main rendition."""
        if not job.preset.widths:
            return ()
        from desktop_uploader.pipeline.variants import make_variants

        return tuple(make_variants(job.preset, processed.main, self.spool_dir, info.format))

    def _still_there(self, profile: str, row: dict) -> bool:
        uploader = self._uploader(profile)
        return uploader.exists_verified(row["key"], row["bytes"], row["sha256"])

    def _io_stage(self, job: Job, info: Probe, processed: ProcessedImage) -> None:
        self._set_stage(job, "uploading")
        uploader = self._uploader(job.profile)
        dest = publish.collision_free(uploader, processed.main, job.name)
        total = processed.main.bytes + processed.thumbnail.bytes
        total += sum(v.rendition.bytes for v in job.variants if v.rendition != processed.main)
        sent = 0

        def progress(delta: int) -> None:
            nonlocal sent
            sent += delta
            self._emit(ev.PROGRESS, job, sent=sent, total=total)
            self.check_controls(job)  # between parts: pause/cancel take effect here

        main_sha = processed.main.sha256
        key = deliver.destination_key(dest, main_sha, processed.main.extension, job.name)
        thumb_key = deliver.destination_key(
            dest, main_sha, "webp", job.name, f"thumb{job.preset.thumbnail_size}"
        )
        already = self._put(uploader, processed.main, key, progress, job)
        self._put(uploader, processed.thumbnail, thumb_key, progress, job)
        extras = self._publish_extras(job, uploader, processed, key, progress, dest)
        self._drop_spool(job, processed)
        result = JobResult(
            str(job.source),
            "duplicate" if already and not job.upload_attempted else "done",
            job_id=job.id,
            url=extras.pop("url"),
            thumbnail_url=publish.link_for(uploader, thumb_key),
            key=key,
            thumbnail_key=thumb_key,
            sha256=processed.main.sha256,
            bytes=processed.main.bytes,
            width=processed.main.width,
            height=processed.main.height,
            had_gps=info.had_gps,
            **extras,
        )
        self._finish(job, result)

    def _publish_extras(
        self, job: Job, uploader: Uploader, processed: ProcessedImage, key: str, progress, dest
    ) -> dict:
        """Links, responsive variants, blur placeholder and stable name (each only when the
        preset or destination asks for it): the ``JobResult`` fields beyond the main upload."""
        out: dict = {"url": publish.link_for(uploader, key)}
        if job.variants:
            from desktop_uploader.pipeline.variants import lqip

            out["variants"] = publish.upload_variants(
                uploader,
                job.name,
                processed.main,
                key,
                list(job.variants),
                lambda r, k: self._put(uploader, r, k, progress, job),
                dest,
            )
            out["lqip"] = lqip(processed.main)
            for v in job.variants:
                if v.rendition != processed.main:
                    v.rendition.path.unlink(missing_ok=True)
        if uploader.target.destination.stable_names:
            stable = publish.publish_stable(uploader, processed.main, job.name)
            out["stable_url"] = publish.link_for(uploader, stable)
        return out

    def _put(self, uploader: Uploader, r: Rendition, key: str, progress, job: Job) -> bool:
        """Upload unless the exact bytes are there already; returns True if they were."""
        if uploader.exists_verified(key, r.bytes, r.sha256):
            progress(r.bytes)
            return True
        job.upload_attempted = True
        uploader.upload_file(r.path, key, r.sha256, r.content_type, progress, job.id)
        return False

    def _uploader(self, profile: str) -> Uploader:
        with self._lock:
            up = self._uploaders.get(profile)
        if up is None:
            created = self._uploader_for(profile)
            with self._lock:
                up = self._uploaders.setdefault(profile, created)
            if up is created:
                self._housekeeping(up)
            else:
                created.close()
        return up

    def _housekeeping(self, up: Uploader) -> None:
        """Abort multipart uploads this app started long ago and never finished."""
        try:
            for row in up.abort_stale():
                log.info("aborted stale multipart upload of %s (%s)", row["key"], row["upload_id"])
        except Exception as e:  # never let clean-up stop an upload
            log.warning("could not abort stale uploads: %s", e)

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

    def _finish(self, job: Job, result: JobResult) -> None:
        result = self._completed(job, result)
        exported = job.out_dir is not None and result.status == JobStatus.DONE
        try:
            # not an upload: no history
            self.journal.record_result(job.id, result, JobStatus.EXPORTED if exported else None)
        except Exception:
            log.exception("could not record the result of job %s", job.id)
        if result.status in ("rejected", "failed"):
            log.warning("%s %s: [%s] %s", result.status, job.source, result.code, result.reason)
        else:
            log.info("%s %s -> %s", result.status, job.source, result.url)
        job.stage = result.status
        job.parked = None
        kind = {
            "done": ev.DONE,
            "duplicate": ev.DUPLICATE,
            "rejected": ev.REJECTED,
            "cancelled": ev.CANCELLED,
            "skipped": ev.SKIPPED,
        }.get(result.status, ev.FAILED)
        self._emit(kind, job, result=result)
        if not job.future.done():
            job.future.set_result(result)
