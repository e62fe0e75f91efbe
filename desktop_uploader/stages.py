"""What each stage does to a job, and the cached uploader per destination.

``Stages`` runs on the engine's pools: ``cpu_stage`` (scan, probe, process) on the CPU pool,
``check_prior`` (a HEAD for an earlier upload of the same bytes) and ``io_stage`` (the uploads)
on the I/O pool. Each stage names its state through the engine's ``Lifecycle`` and hands the
job on with ``engine.schedule``; errors end the job in ``Engine._guard``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from desktop_uploader import events as ev
from desktop_uploader.jobs import Job, JobState
from desktop_uploader.pipeline import deliver, publish
from desktop_uploader.pipeline.checks import WaitForScanner
from desktop_uploader.pipeline.process import ProcessedImage, Rendition
from desktop_uploader.pipeline.upload import Uploader
from desktop_uploader.pipeline.validate import Probe
from desktop_uploader.records import JobResult, JobStatus

log = logging.getLogger("desktop_uploader.engine")


class Uploaders:
    """One ``Uploader`` per destination, made on first use; its clean-up of stale multipart
    uploads (network calls) runs on the I/O pool, never in a CPU stage."""

    def __init__(self, uploader_for: Callable[[str], Uploader], io: Executor) -> None:
        self._uploader_for = uploader_for
        self._io = io
        self._lock = threading.Lock()
        self._cache: dict[str, Uploader] = {}

    def get(self, profile: str) -> Uploader:
        with self._lock:
            up = self._cache.get(profile)
        if up is None:
            created = self._uploader_for(profile)
            with self._lock:
                up = self._cache.setdefault(profile, created)
            if up is created:
                with contextlib.suppress(RuntimeError):  # the pool is shut down: closing
                    self._io.submit(_housekeeping, up)
            else:
                created.close()
        return up

    def close(self) -> None:
        with self._lock:
            uploaders, self._cache = list(self._cache.values()), {}
        for up in uploaders:
            up.close()


def _housekeeping(up: Uploader) -> None:
    """Abort multipart uploads this app started long ago and never finished."""
    try:
        for row in up.abort_stale():
            log.info("aborted stale multipart upload of %s (%s)", row["key"], row["upload_id"])
    except Exception as e:  # never let clean-up stop an upload
        log.warning("could not abort stale uploads: %s", e)


class Stages:
    """validate → (earlier upload?) → process → (review) → variants → upload → result."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine  # an ``Engine``: its pools, journal, lifecycle and collaborators
        self.journal = engine.journal

    def cpu_stage(self, job: Job) -> None:
        eng = self.engine
        eng.lifecycle.move(job, JobState.VALIDATING)
        if job.refusal is not None:
            raise job.refusal
        try:
            scanned = eng.checks.scan(job.source, job.profile)  # raw bytes, before any decoder
        except WaitForScanner as e:
            job.scanner_problem = e.problem
            eng.waiting.hold(job, "scanner", e.message, eng.cpu, self.cpu_stage, job)
            return
        job.scanned = scanned.scanned
        info = eng.checks.probe(job.source)
        source_sha, source_size = scanned.sha256, scanned.size
        job.warnings = tuple(w for w in (scanned.warning, *info.warnings) if w)
        for w in job.warnings:
            log.info("job %s (%s): %s", job.id, job.source, w)  # the scanner logs its own state
            eng.emit(ev.STAGE, job, stage="validating", warning=w)
        self.journal.update_job(
            job.id, source_sha256=source_sha, source_size=source_size, had_gps=int(info.had_gps)
        )
        prior = None
        if job.out_dir is None:
            prior = self.journal.find_uploaded(source_sha, job.profile, job.preset.fingerprint())
        if prior:  # is it still there? a HEAD: network work, on the I/O pool
            eng.schedule(job, eng.io, self.check_prior, job, info, source_sha, prior)
            return
        self.process(job, info, source_sha)

    def check_prior(self, job: Job, info: Probe, source_sha: str, prior: dict) -> None:
        """An earlier upload of these bytes with these settings: a duplicate if it is still
        there, else back to the CPU pool to process the source."""
        uploader = self.engine.uploaders.get(job.profile)
        if uploader.exists_verified(prior["key"], prior["bytes"], prior["sha256"]):
            result = JobResult(
                str(job.source),
                JobStatus.DUPLICATE,
                job_id=job.id,
                had_gps=info.had_gps,
                **JobResult.from_row(prior).uploaded_object(),
            )
            # private destinations: fresh presigned links
            self.engine.finish(job, publish.refresh_links(uploader, result))
            return
        self.engine.schedule(job, self.engine.cpu, self.process, job, info, source_sha)

    def process(self, job: Job, info: Probe, source_sha: str) -> None:
        eng = self.engine
        eng.lifecycle.move(job, JobState.PROCESSING)
        processed = eng.spool.process(job, info, source_sha)
        if job.findings and job.approved_sha != source_sha:
            # the content policy is "review": hold until the user decides (an approval is
            # for these very source bytes; a changed file is checked again)
            eng.waiting.hold_for_review(job, info, source_sha, processed)
            return
        self.publish(job, info, source_sha, processed)

    def publish(self, job: Job, info: Probe, source_sha: str, processed: ProcessedImage) -> None:
        """After every check: the preset's variants and the upload, or (``process --out``)
        the outputs written to their folder."""
        if job.out_dir is not None:
            self.engine.spool.export(job, info, source_sha, processed)
            return
        job.variants = self._make_variants(job, info, processed)
        self.engine.schedule(job, self.engine.io, self.io_stage, job, info, processed)

    def _make_variants(self, job: Job, info: Probe, processed: ProcessedImage) -> tuple:
        """The preset's responsive set, made from the (trusted) main rendition."""
        if not job.preset.widths:
            return ()
        from desktop_uploader.pipeline.variants import make_variants

        return tuple(make_variants(job.preset, processed.main, self.engine.spool_dir, info.format))

    def io_stage(self, job: Job, info: Probe, processed: ProcessedImage) -> None:
        eng = self.engine
        eng.lifecycle.move(job, JobState.UPLOADING)
        uploader = eng.uploaders.get(job.profile)
        dest = publish.collision_free(uploader, processed.main, job.name)
        total = processed.main.bytes + processed.thumbnail.bytes
        total += sum(v.rendition.bytes for v in job.variants if v.rendition != processed.main)
        sent = 0

        def progress(delta: int) -> None:
            nonlocal sent
            sent += delta
            eng.emit(ev.PROGRESS, job, sent=sent, total=total)
            eng.check_controls(job)  # between parts: pause/cancel take effect here

        main_sha = processed.main.sha256
        key = deliver.destination_key(dest, main_sha, processed.main.extension, job.name)
        thumb_key = deliver.destination_key(
            dest, main_sha, "webp", job.name, f"thumb{job.preset.thumbnail_size}"
        )
        already = self.put(uploader, processed.main, key, progress, job)
        self.put(uploader, processed.thumbnail, thumb_key, progress, job)
        extras = self._publish_extras(job, uploader, processed, key, progress, dest)
        eng.spool.drop(job, processed)
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
        eng.finish(job, result)

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
                lambda r, k: self.put(uploader, r, k, progress, job),
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

    def put(self, uploader: Uploader, r: Rendition, key: str, progress, job: Job) -> bool:
        """Upload unless the exact bytes are there already; returns True if they were."""
        if uploader.exists_verified(key, r.bytes, r.sha256):
            progress(r.bytes)
            return True
        job.upload_attempted = True
        uploader.upload_file(r.path, key, r.sha256, r.content_type, progress, job.id)
        return False
