"""Processed outputs on their way out: the spool (files waiting for a verified upload, reused
after a crash so a resume sends the very bytes it started with) and ``process --out`` exports.
``Spool`` is one of the engine's collaborators.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from desktop_uploader.errors import UploaderError
from desktop_uploader.events import JobResult
from desktop_uploader.jobs import Job
from desktop_uploader.pipeline.process import ProcessedImage
from desktop_uploader.pipeline.validate import Probe

log = logging.getLogger("desktop_uploader.engine")


class Spool:
    """Process-or-reuse, export, and spool ownership and clean-up."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine  # an ``Engine``: its journal, checks, jobs and ``finish``
        self.journal = engine.journal
        self.spool_dir = engine.spool_dir

    def process(self, job: Job, info: Probe, source_sha: str) -> ProcessedImage:
        """Process the source, or reuse outputs an interrupted earlier run left in the spool
        (so a resumed upload sends the very bytes it started with)."""
        fp = job.preset.fingerprint()
        for entry in self._spool_of(job, source_sha)[0]:
            saved = entry["renditions"]
            reused = ProcessedImage.from_records(saved)
            if reused is not None:
                log.info("job %s: reusing spooled output %s", job.id, reused.main.sha256)
                self.journal.record_spool(job.id, source_sha, job.profile, fp, saved)
                return reused
        decoded = self.engine.checks.process(
            job.source, info, job.preset, self.spool_dir, job.profile
        )
        job.findings = decoded.findings
        processed = decoded.processed
        self.journal.record_spool(job.id, source_sha, job.profile, fp, processed.to_records())
        return processed

    def export(self, job: Job, info: Probe, source_sha: str, processed: ProcessedImage) -> None:
        """``process --out``: move the outputs from the spool to the chosen folder, named after
        the source (``photo.webp``, ``photo.thumb.webp``; ``-<hash8>`` added on a clash)."""
        assert job.out_dir is not None
        stem = Path(job.name).stem or "image"
        written = []
        try:
            job.out_dir.mkdir(parents=True, exist_ok=True)
            for r, suffix in ((processed.main, ""), (processed.thumbnail, ".thumb")):
                dest = job.out_dir / f"{stem}{suffix}.{r.extension}"
                if dest.exists():
                    dest = job.out_dir / f"{stem}-{r.sha256[:8]}{suffix}.{r.extension}"
                shutil.move(r.path, dest)
                written.append(dest)
        except OSError as e:  # the folder chosen for the outputs, not the file, is the problem
            raise UploaderError(
                f"The outputs could not be written to {job.out_dir} ({e.strerror or e}).",
                code="output_not_written",
            ) from None
        self.drop(job, processed)  # this job's records and any orphans it outlived
        m = processed.main
        self.engine.finish(
            job,
            JobResult(
                str(job.source),
                "done",
                sha256=m.sha256,
                bytes=m.bytes,
                width=m.width,
                height=m.height,
                had_gps=info.had_gps,
                output=str(written[0]),
                thumbnail_output=str(written[1]),
            ),
        )

    def _spool_of(self, job: Job, source_sha: str) -> tuple[list[dict], list[dict]]:
        """This source's spooled outputs, split into those this job may use and delete (its
        own, and those of jobs no longer running: an earlier run that crashed or was stopped)
        and those of another running job (the same file twice in one batch), which are that
        job's own: adopting them would let this one delete them under it."""
        mine, others = [], []
        for e in self.journal.spool_entries(source_sha, job.profile, job.preset.fingerprint()):
            other = None if e["job_id"] == job.id else self.engine.job(e["job_id"])
            (others if other is not None and not other.future.done() else mine).append(e)
        return mine, others

    def drop(self, job: Job, processed: ProcessedImage) -> None:
        """Verified on the server: this job's spooled copies, and orphans it adopted or
        outlived, can go; another running job's copies stay."""
        source_sha = (self.journal.job(job.id) or {}).get("source_sha256") or ""
        mine, others = self._spool_of(job, source_sha)
        keep = {rec["path"] for e in others for rec in e["renditions"]}
        for e in mine:
            for rec in e["renditions"]:
                if rec["path"] not in keep:
                    Path(rec["path"]).unlink(missing_ok=True)
        for r in processed.renditions():
            if str(r.path) not in keep:
                r.path.unlink(missing_ok=True)
        self.journal.drop_spool([e["job_id"] for e in mine] + [job.id])
