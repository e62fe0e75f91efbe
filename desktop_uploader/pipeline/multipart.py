"""Resumable multipart uploads for the ``Uploader``.

The UploadId and every part that the server acknowledged go into our journal *before* progress
is reported, so a later run (after a crash, a kill or a reboot) asks the server which parts it
has (``Store.resume``), sends only the missing ones and completes. s3transfer aborts instead.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any, Protocol

from desktop_uploader.errors import StorageError
from desktop_uploader.pipeline import checksums

Progress = Callable[[int], None]  # bytes sent since the last call


class PartOwner(Protocol):
    """What a multipart upload uses of its ``Uploader`` (which imports this module: a
    protocol, not an import back, keeps the two out of a circle)."""

    journal: Any
    profile: Any
    bucket: str
    store: Any
    target: Any
    _parts: Any

    def _abort(self, key: str, upload_id: str, state: str) -> None: ...
    def _renewing(self, call: Callable[[], Any]) -> Any: ...
    def _retrying(self, what: str, call: Callable[[], Any]) -> Any: ...
    def _send_part(self, upload: Any, number: int, data: bytes | bytearray) -> dict: ...
    def exists_verified(self, key: str, size: int, sha256: str) -> bool: ...


log = logging.getLogger(__name__)

MiB = 1024 * 1024
BIG_PART = 64 * MiB  # the part size files of 1 GiB and more get
MIN_PART = 5 * MiB
MAX_PART = 5 * 1024 * MiB
MAX_PARTS = 10_000


def part_size_for(total: int, preferred: int = 8 * MiB) -> int:
    """A part size within S3's limits: ≥ 5 MiB, ≤ 5 GiB, at most 10,000 parts.

    It grows with the file, to about 16 parts of up to 64 MiB: fewer, larger parts cost the
    client and the server less per byte (1 GiB to SeaweedFS, in one run: 8 MiB parts 0.83×,
    64 MiB parts 0.95× s5cmd's speed; docs/benchmarks.md). Memory holds ``part_concurrency``
    parts, so at most 256 MiB with the default 4 in flight, whatever the file's size up to
    62 GiB; beyond, parts grow so that no upload has more than 1,000."""
    size = max(preferred, MIN_PART, min(total // 16, BIG_PART), -(-total // 1000))
    size = -(-size // MiB) * MiB  # whole MiB
    while -(-total // size) > MAX_PARTS:
        size *= 2
    return min(size, MAX_PART)


class MultipartSender:
    """Sends one file as a multipart upload for ``up``, resuming the journal's open upload of
    the same bytes; the requests go through ``up`` (its store, retry policy and journal)."""

    def __init__(self, up: PartOwner) -> None:
        self.up = up

    def send(
        self,
        path: Path,
        key: str,
        size: int,
        sha256: str,
        extra: dict,
        progress: Progress | None,
        job_id: int | None,
    ) -> None:
        up = self.up
        stat_before = path.stat()
        upload, part_size, done, unrecorded = self._open_or_resume(key, size, sha256, extra, job_id)
        upload_id = upload.upload_id
        count = -(-size // part_size)
        if unrecorded:  # resumed: parts the server took before a crash let them be journaled
            self._adopt(path, upload_id, part_size, done, unrecorded)
        for number in sorted(done):
            if progress:
                progress(done[number]["size"])
        todo = [n for n in range(1, count + 1) if n not in done]
        if todo:
            self._send_parts(path, upload, part_size, todo, done, progress)
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (stat_before.st_size, stat_before.st_mtime_ns):
            up._abort(key, upload_id, "source_changed")
            raise StorageError(
                "The file changed while it was being uploaded; it will be uploaded again from "
                "the start.",
                code="source_changed",
                transient=True,
            )
        parts = [{"PartNumber": n, "ETag": done[n]["etag"]} for n in sorted(done)]
        field = checksums.FIELD.get(up.profile.part_checksum)
        if field:  # the upload was created with a checksum algorithm: complete must list them
            for p in parts:
                p[field] = done[p["PartNumber"]]["checksum"]

        def complete() -> None:
            try:
                upload.complete(parts)
            except StorageError as e:
                # A retry after a lost answer: the first attempt may already have completed it.
                if e.code != "no_such_upload" or not up.exists_verified(key, size, sha256):
                    raise

        up._retrying(f"complete {key}", complete)
        if up.journal:
            up.journal.close_multipart(upload_id, "completed")

    def _open_or_resume(
        self, key: str, size: int, sha256: str, extra: dict, job_id: int | None
    ) -> tuple[Any, int, dict[int, dict], dict[int, dict]]:
        """Resume the journal's open upload of these exact bytes, or start a new one."""
        up = self.up
        journal = up.journal
        existing = journal.open_multipart(up.bucket, key, sha256) if journal else None
        kind = up.profile.part_checksum
        if existing and (was := checksums.begun_with(existing["checksum_algorithm"], kind)) != kind:
            # Begun with another checksum algorithm (by an older version): the server refuses
            # this one's part checksums for it (400 InvalidRequest), so start it afresh.
            log.info("%s: the open upload used %s, not %s; starting it again", key, was, kind)
            up._abort(key, existing["upload_id"], "superseded")
            existing = None
        if existing and existing["total_size"] == size:
            recorded = journal.parts(existing["upload_id"]) if journal else []
            found = self._reconcile(key, existing["upload_id"], recorded)
            if found is not None:
                upload, done, unrecorded = found
                log.info(
                    "resuming %s: %d of %d parts already on the server",
                    key,
                    len(done),
                    -(-size // existing["part_size"]),
                )
                return upload, existing["part_size"], done, unrecorded
        part_size = part_size_for(size)
        algorithm = kind if kind in checksums.FIELD else None
        upload = up._retrying(
            f"create {key}", lambda: up.store.put_multipart(key, extra, algorithm)
        )
        if journal:
            journal.begin_multipart(
                upload.upload_id, job_id, up.bucket, key, part_size, size, sha256, kind
            )
        return upload, part_size, {}, {}

    def _send_parts(
        self,
        path: Path,
        upload: Any,
        part_size: int,
        todo: list[int],
        done: dict[int, dict],
        progress: Progress | None,
    ) -> None:
        """Send parts ``todo`` concurrently; memory stays at ``part_concurrency`` parts.

        Part buffers are reused once their part is done: a fresh 64 MiB allocation costs the
        kernel ~20 ms of page faults (0.33 CPU-s per GiB here, a third of the client's work)."""
        up = self.up
        window = max(1, up.target.destination.part_concurrency)
        pending: dict[Future, bytearray] = {}  # part in flight -> the buffer it is sent from
        free: list[bytearray] = []

        def collect_some() -> None:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            free.extend(pending.pop(f) for f in finished)
            self._collect(finished, done, upload.upload_id, progress)

        fd = os.open(path, os.O_RDONLY)
        try:
            for number in todo:
                while len(pending) >= window:
                    collect_some()
                buf = free.pop() if free else bytearray(part_size)
                n = os.preadv(fd, [buf], (number - 1) * part_size)
                data = buf if n == part_size else bytes(memoryview(buf)[:n])  # the last part
                pending[up._parts.submit(up._send_part, upload, number, data)] = buf
            while pending:
                collect_some()
        except BaseException:
            for f in pending:
                f.cancel()
            wait(pending)  # parts in flight finish (and are journaled) before we give up
            for f in pending:
                if not f.cancelled() and f.exception() is None:
                    self._record(f.result(), done, upload.upload_id)
            raise
        finally:
            os.close(fd)

    def _record(self, part: dict, done: dict[int, dict], upload_id: str) -> None:
        up = self.up
        # Journaled before progress is acknowledged: a crash right after loses nothing sent.
        if up.journal:
            up.journal.record_part(
                upload_id,
                part["number"],
                part["etag"],
                part["md5"],
                part["size"],
                part["checksum"],
            )
        done[part["number"]] = part

    def _collect(self, finished, done, upload_id: str, progress: Progress | None) -> None:
        error: BaseException | None = None
        for f in finished:
            exc = f.exception()
            if exc is not None:
                error = error or exc
                continue
            part = f.result()
            self._record(part, done, upload_id)
            if progress:
                progress(part["size"])  # may raise Paused/Cancelled: parts so far are saved
        if error is not None:
            raise error

    def _reconcile(self, key: str, upload_id: str, recorded: list[dict]) -> tuple | None:
        """The upload's handle, the parts both the journal and the server have (matching in
        ETag and size) and the server's parts the journal lacks; None when the server no longer
        knows the upload."""
        up = self.up
        found = up._renewing(lambda: up.store.resume(key, upload_id))
        if found is None:
            if up.journal:
                up.journal.close_multipart(upload_id, "lost")
            return None
        upload, server = found
        done = {
            r["part_number"]: {
                "number": r["part_number"],
                "etag": r["etag"],
                "md5": r["md5"],
                "size": r["size"],
                "checksum": r.get("checksum") or "",
            }
            for r in recorded
            if r["part_number"] in server
            and server[r["part_number"]]["ETag"].strip('"') == r["etag"].strip('"')
            and server[r["part_number"]]["Size"] == r["size"]
        }
        return upload, done, {n: p for n, p in server.items() if n not in done}

    def _adopt(self, path: Path, upload_id: str, part_size: int, done: dict, server: dict) -> None:
        """Parts the server has that the journal does not (the process died between the
        server's answer and the journal's write): kept, not sent again, when the server's ETag
        is the MD5 of our bytes for that part (where it is not, the part is simply sent)."""
        kind = self.up.profile.part_checksum
        with path.open("rb") as f:
            for number, p in sorted(server.items()):
                f.seek((number - 1) * part_size)
                data = f.read(part_size)
                md5_hex = hashlib.md5(data, usedforsecurity=False).hexdigest()
                if p["Size"] != len(data) or p["ETag"].strip('"') != md5_hex:
                    continue
                checksum, _ = checksums.for_request(kind, data)
                part = {"number": number, "etag": p["ETag"], "md5": md5_hex, "size": len(data)}
                self._record(part | {"checksum": next(iter(checksum.values()))}, done, upload_id)
                log.info("part %d of upload %s was on the server already: kept", number, upload_id)

    # -- housekeeping ----------------------------------------------------------------------
