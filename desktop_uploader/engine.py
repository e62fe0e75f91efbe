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
from desktop_uploader.errors import Rejected, StorageError, UploaderError
from desktop_uploader.events import Event, JobResult
from desktop_uploader.journal import Journal
from desktop_uploader.pipeline import deliver
from desktop_uploader.pipeline.intake import display_name, expand_paths
from desktop_uploader.pipeline.process import ProcessedImage, Rendition, file_sha256, process_image
from desktop_uploader.pipeline.upload import Uploader
from desktop_uploader.pipeline.validate import Probe, probe

log = logging.getLogger(__name__)
Subscriber = Callable[[Event], None]


@dataclass
class Job:
    id: int
    source: Path
    name: str
    profile: str
    preset: Preset
    future: Future[JobResult]


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
    ) -> None:
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
    def submit(self, path: Path, profile: str, preset: Preset) -> Job:
        """Queue one file; the job's future resolves to its ``JobResult`` (never raises)."""
        name = display_name(path)
        job_id = self.journal.add_job(str(path), name, profile, preset.name, preset.fingerprint())
        job = Job(job_id, path, name, profile, preset, Future())
        self._emit(ev.QUEUED, job, name=name)
        self._cpu.submit(self._guard, job, self._cpu_stage, job)
        return job

    def run(self, paths: Iterable[str | Path], profile: str, preset: Preset) -> list[JobResult]:
        """Upload files and folders, blocking; one result per file, in input order."""
        jobs = [self.submit(p, profile, preset) for p in expand_paths(list(paths))]
        return [job.future.result() for job in jobs]

    def shutdown(self, wait: bool = True) -> None:
        for ex in self._own_executors:
            ex.shutdown(wait=wait, cancel_futures=not wait)

    # -- stages --------------------------------------------------------------------------
    def _guard(self, job: Job, fn: Callable[..., object], *args: object) -> None:
        """Run one stage; any error ends the job with a result instead of escaping."""
        try:
            fn(*args)
        except Rejected as e:
            self._finish(job, JobResult(str(job.source), "rejected", code=e.code, reason=e.message))
        except StorageError as e:
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

    def _cpu_stage(self, job: Job) -> None:
        self._emit(ev.STAGE, job, stage="validating")
        info = probe(job.source, self.limits)
        source_sha, source_size = file_sha256(job.source)
        self.journal.update_job(
            job.id, source_sha256=source_sha, source_size=source_size, had_gps=int(info.had_gps)
        )
        prior = self.journal.find_uploaded(source_sha, job.profile, job.preset.fingerprint())
        if prior and self._still_there(job.profile, prior):
            self._finish(job, self._result_from_row(job, prior, "duplicate", info))
            return
        self._emit(ev.STAGE, job, stage="processing")
        processed = process_image(job.source, info, job.preset, self.spool_dir)
        self._io.submit(self._guard, job, self._io_stage, job, info, processed)

    def _still_there(self, profile: str, row: dict) -> bool:
        uploader = self._uploader(profile)
        return uploader.exists_verified(row["key"], row["bytes"], row["sha256"])

    def _io_stage(self, job: Job, info: Probe, processed: ProcessedImage) -> None:
        self._emit(ev.STAGE, job, stage="uploading")
        uploader = self._uploader(job.profile)
        dest = uploader.target.destination
        total = processed.main.bytes + processed.thumbnail.bytes
        sent = 0

        def progress(delta: int) -> None:
            nonlocal sent
            sent += delta
            self._emit(ev.PROGRESS, job, sent=sent, total=total)

        key = deliver.object_key(dest.prefix, processed.main.sha256, processed.main.extension)
        thumb_key = deliver.object_key(
            dest.prefix, processed.main.sha256, "webp", f"thumb{job.preset.thumbnail_size}"
        )
        already = self._put(uploader, processed.main, key, progress, job)
        self._put(uploader, processed.thumbnail, thumb_key, progress, job)
        for r in (processed.main, processed.thumbnail):
            r.path.unlink(missing_ok=True)  # verified on the server: the spool copy can go
        base = uploader.target.public_base_url
        result = JobResult(
            str(job.source),
            "duplicate" if already else "done",
            job_id=job.id,
            url=deliver.public_url(base, key),
            thumbnail_url=deliver.public_url(base, thumb_key),
            key=key,
            thumbnail_key=thumb_key,
            sha256=processed.main.sha256,
            bytes=processed.main.bytes,
            width=processed.main.width,
            height=processed.main.height,
            had_gps=info.had_gps,
        )
        self._finish(job, result)

    def _put(self, uploader: Uploader, r: Rendition, key: str, progress, job: Job) -> bool:
        """Upload unless the exact bytes are there already; returns True if they were."""
        if uploader.exists_verified(key, r.bytes, r.sha256):
            progress(r.bytes)
            return True
        uploader.upload_file(r.path, key, r.sha256, r.content_type, progress, job.id)
        return False

    def _uploader(self, profile: str) -> Uploader:
        with self._lock:
            up = self._uploaders.get(profile)
        if up is None:
            up = self._uploader_for(profile)
            with self._lock:
                up = self._uploaders.setdefault(profile, up)
        return up

    # -- results -------------------------------------------------------------------------
    def _result_from_row(self, job: Job, row: dict, status: str, info: Probe) -> JobResult:
        return JobResult(
            str(job.source),
            status,
            job_id=job.id,
            url=row["url"],
            thumbnail_url=row["thumbnail_url"],
            key=row["key"],
            thumbnail_key=row["thumbnail_key"],
            sha256=row["sha256"],
            bytes=row["bytes"],
            width=row["width"],
            height=row["height"],
            had_gps=info.had_gps,
        )

    def _finish(self, job: Job, result: JobResult) -> None:
        result.job_id = job.id
        fields = {
            "status": result.status,
            "code": result.code,
            "reason": result.reason,
            "key": result.key,
            "thumbnail_key": result.thumbnail_key,
            "url": result.url,
            "thumbnail_url": result.thumbnail_url,
            "sha256": result.sha256,
            "bytes": result.bytes,
            "width": result.width,
            "height": result.height,
        }
        try:
            self.journal.update_job(job.id, **fields)
        except Exception:
            log.exception("could not record the result of job %s", job.id)
        if result.status in ("rejected", "failed"):
            log.warning("%s %s: [%s] %s", result.status, job.source, result.code, result.reason)
        else:
            log.info("%s %s -> %s", result.status, job.source, result.url)
        kind = {"done": ev.DONE, "duplicate": ev.DUPLICATE, "rejected": ev.REJECTED}.get(
            result.status, ev.FAILED
        )
        self._emit(kind, job, result=result)
        if not job.future.done():
            job.future.set_result(result)
