"""Upload stage: put spooled outputs into an S3-compatible bucket, resumably, and verify them.

Every request goes through a ``Store`` (``storage/``; S3 through boto3's low-level client). Files
from 16 MiB on go as resumable multipart uploads (``multipart.py``: the journal keeps each
acknowledged part, a later run sends only what the server lacks). Each request carries a
checksum the server verifies (Content-MD5 or a plain ``x-amz-checksum-*`` header, per
provider); the whole object's SHA-256 goes in its metadata and a HEAD (optionally a GET)
checks the result.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from desktop_uploader.errors import Interrupted, StorageError
from desktop_uploader.journal import Journal
from desktop_uploader.pipeline import checksums
from desktop_uploader.pipeline.multipart import MiB, MultipartSender, Progress, part_size_for
from desktop_uploader.pipeline.ratelimit import RateLimiter, parse_rate
from desktop_uploader.pipeline.renewal import RenewableTarget
from desktop_uploader.providers import profile_for
from desktop_uploader.storage.s3 import S3Store
from desktop_uploader.storage.s3client import (
    REQUEST_ATTEMPTS,
    RETRY_MODE,
    Target,
    make_client,
    translate,
)

__all__ = [  # the upload stage's public names (some live in the modules above)
    "MULTIPART_THRESHOLD",
    "MiB",
    "RateLimiter",
    "Target",
    "Uploader",
    "make_client",
    "parse_rate",
    "part_size_for",
    "translate",
]

log = logging.getLogger(__name__)

MULTIPART_THRESHOLD = 16 * MiB
# Our own tries of a request for what botocore does not retry (see Uploader._retrying); each
# try is itself up to REQUEST_ATTEMPTS of botocore's for what it does retry.
OWN_ATTEMPTS = 3
OWN_RETRIES = ("checksum_mismatch", "incomplete_answer")
CACHE_CONTROL = "public, max-age=31536000, immutable"
READ_CHECK_BYTES = 1024  # what an object that "exists" must also give back
INCOMPLETE_ANSWERS = 8  # verify: answers cut short that are asked again without counting


def _verify_problem(head: dict | None, key: str, size: int, sha256: str) -> tuple[str | None, bool]:
    """What is wrong with the HEAD answer for an object that should be ``size`` bytes with
    SHA-256 ``sha256`` (None: nothing), and whether the answer was complete enough to say so."""
    if head is None:
        return f"The object {key} is missing right after upload.", True
    recorded = str(head.get("Metadata", {}).get("sha256", ""))
    complete = len(recorded) == 64 and all(c in "0123456789abcdef" for c in recorded)
    if head.get("ContentLength") != size:
        return f"The stored object is {head.get('ContentLength')} bytes, expected {size}.", complete
    if recorded != sha256:
        return "The stored object's SHA-256 does not match.", complete
    return None, True


class Uploader(RenewableTarget):
    """Uploads files to one ``Target`` and verifies them; thread-safe."""

    def __init__(
        self,
        target: Target,
        journal: Journal | None = None,
        client: Any = None,
        limiter: RateLimiter | None = None,
        attempts: int = REQUEST_ATTEMPTS,
        retry_mode: str = RETRY_MODE,
    ) -> None:
        """``attempts``, ``retry_mode``: botocore's retry policy for every request
        (``storage.s3client``)."""
        self.target = target
        self.journal = journal
        self.limiter = limiter
        dest = target.destination
        self.profile = profile_for(dest.provider)
        # Every request goes through the store; for the embedded store on this machine, small
        # PUTs and HEADs may take its direct path (never with a client from outside).
        self.store = S3Store(
            target,
            max(16, dest.part_concurrency * 4),
            attempts,
            client=client,
            retry_mode=retry_mode,
        )
        self._init_renewal()
        self._single_try: tuple[int, S3Store] | None = None  # (renewal count, store), on use
        self._slots = threading.BoundedSemaphore(max(1, dest.concurrency))
        self._parts = ThreadPoolExecutor(
            max(1, dest.part_concurrency), thread_name_prefix="du-part"
        )

    def close(self) -> None:
        self._parts.shutdown(wait=True, cancel_futures=True)
        self.store.close()
        if self._single_try is not None:
            self._single_try[1].close()

    @property
    def client(self) -> Any:
        """The store's boto3 client (tests look at its configuration)."""
        return self.store.client

    @property
    def direct(self) -> Any:
        """The store's direct fast path, or None where it is not used."""
        return self.store.direct

    @property
    def bucket(self) -> str:
        return self.target.bucket

    # -- checks ----------------------------------------------------------------------------
    def head(self, key: str) -> dict | None:
        """The object's HEAD response, or None if it does not exist."""
        return self._renewing(lambda: self.store.head(key))

    def check_bucket(self) -> None:
        """Raise a translated StorageError unless the bucket exists and the keys may use it."""
        self._renewing(self.store.check)

    def exists_verified(self, key: str, size: int, sha256: str) -> bool:
        """True if ``key`` already holds exactly these bytes (by size and recorded SHA-256)
        and they can really be read: a HEAD answers from metadata alone, which outlives data
        lost on the server (a deleted volume), so the first bytes are read too."""
        head = self.head(key)
        return bool(
            head
            and head.get("ContentLength") == size
            and head.get("Metadata", {}).get("sha256") == sha256
            and self.readable(key, size)
        )

    def readable(self, key: str, size: int | None = None) -> bool:
        """True if the first bytes of ``key`` can be read back (a ranged GET). False when the
        server refuses or fails the read; a connection problem raises (transient), so an
        unreachable destination is not mistaken for lost data."""
        want = READ_CHECK_BYTES if size is None else min(size, READ_CHECK_BYTES)
        if want == 0:
            return True
        try:
            got = len(self._renewing(lambda: self._single_try_store().get_range(key, 0, want - 1)))
        except Exception as e:
            err = translate(e, self.bucket)
            if err.code in ("unreachable", "connection_error"):
                raise err from e
            log.warning("%s exists but cannot be read: %s", key, err.message)
            return False
        ok = got == want if size is not None else got > 0
        if not ok:
            log.warning("%s: asked for its first %d bytes, got %d", key, want, got)
        return ok

    # -- upload ----------------------------------------------------------------------------
    def upload_file(
        self,
        path: Path,
        key: str,
        sha256: str,
        content_type: str,
        progress: Progress | None = None,
        job_id: int | None = None,
    ) -> dict:
        """Upload ``path`` (whose SHA-256 the caller computed) to ``key`` and verify it.

        Single PUT below the multipart threshold; above it a resumable multipart upload.
        Raises StorageError (``transient`` says whether a later retry may succeed) or
        Interrupted when ``progress`` raises it (pause/cancel between parts)."""
        size = path.stat().st_size
        extra = {
            "ContentType": content_type,
            "CacheControl": CACHE_CONTROL,
            "Metadata": {"sha256": sha256},
        }
        with self._slots:
            try:
                if size < MULTIPART_THRESHOLD:
                    self._put(path, key, size, extra, progress)
                else:
                    MultipartSender(self).send(path, key, size, sha256, extra, progress, job_id)
            except (Interrupted, StorageError):
                raise
            except Exception as e:
                raise translate(e, self.bucket) from e
            return self.verify(key, size, sha256)

    def verify(self, key: str, size: int, sha256: str, attempts: int = 3) -> dict:
        """HEAD (and for small objects, if configured, GET) the object: size and SHA-256.

        A mismatch is asked again before it counts, and only a complete answer counts: a HEAD
        answer cut short by the network is parsed leniently (http.client ends the headers at
        EOF), so the last header it got may be cut inside its value, and those after it are
        missing. Our SHA-256 metadata is always 64 hex digits; an answer where it is missing or
        malformed is incomplete and asked again (up to ``INCOMPLETE_ANSWERS`` more times)
        without counting. That was the rare flake of the 50-file faulty-network batch: three
        answers cut in the checksum header failed a correct upload with "SHA-256 does not
        match" (tests/test_store_retries.py forces it)."""
        counted = 0
        for asked in range(1, attempts + INCOMPLETE_ANSWERS + 1):
            head = self._retrying(f"HEAD {key}", lambda: self.head(key))
            problem, complete = _verify_problem(head, key, size, sha256)
            if problem is None:
                break
            counted += complete
            if counted >= attempts or asked == attempts + INCOMPLETE_ANSWERS:
                raise StorageError(problem, code="verify_failed")
            log.info(
                "verifying %s: %s (%s answer); asking again",
                key,
                problem,
                "complete" if complete else "incomplete",
            )
            time.sleep(min(1.0, 0.2 * asked))
        assert head is not None
        if size <= self.target.destination.verify_download_max_bytes:
            body = self.store.get_range(key)
            if hashlib.sha256(body).hexdigest() != sha256:
                raise StorageError(
                    "The stored object's bytes differ from what was sent (SHA-256 mismatch).",
                    code="verify_failed",
                )
        return head

    def _single_try_store(self) -> S3Store:
        """A client that asks once: whether an object can be read is a question about now,
        and botocore's retries of a server error (5 tries, backing off) took ~15 s per
        object whose data was lost; a wrong "no" only costs an upload of the file again."""
        made = self._single_try
        if made is None or made[0] != self._generation:
            if made is not None:
                made[1].close()
            made = (self._generation, S3Store(self.target, 4, attempts=1, direct=False))
            self._single_try = made
        return made[1]

    def _retrying(self, what: str, fn: Callable[[], Any]) -> Any:
        """``fn()``, tried again only for what botocore's retries do not cover (they already
        retried connection errors, timeouts, 5xx and throttling; asking more would multiply
        its attempts, as this loop once did: up to 25 tries of one part):

        - ``checksum_mismatch``: the server refused the bytes as changed on the way
          (BadDigest, a 400 to botocore), so they are sent again;
        - ``incomplete_answer``: an answer cut short that botocore parsed leniently (a part
          without its ETag): what arrived is unknown, so it is sent again;
        - keys refused because the embedded store restarted with fresh ones (``_renewed``).

        Anything else transient (the endpoint still unreachable after botocore's tries)
        goes up to the engine, which makes the job wait until the bucket answers."""
        for attempt in range(1, OWN_ATTEMPTS + 1):
            generation = self._generation
            try:
                return fn()
            except Exception as e:
                err = translate(e, self.bucket)
                if attempt < OWN_ATTEMPTS and self._renewed(err, generation):
                    continue
                if err.code not in OWN_RETRIES or attempt == OWN_ATTEMPTS:
                    raise err from e
                delay = min(8.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.0)
                log.info("%s failed (%s), retry %d in %.1f s", what, err.code, attempt, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _put(self, path: Path, key: str, size: int, extra: dict, progress: Progress | None):
        data = path.read_bytes()  # below the multipart threshold, so bounded
        checksum, md5_hex = checksums.for_request(self.profile.part_checksum, data)
        if self.limiter:
            self.limiter.take(size)

        etag = self._retrying(
            f"PUT {key}", lambda: self.store.put(key, data, {**checksum, **extra})
        ).strip('"')
        if md5_hex and etag and "-" not in etag and etag != md5_hex:
            raise StorageError(
                "The server stored different bytes than were sent (ETag does not match MD5).",
                code="checksum_mismatch",
            )
        if progress:
            progress(size)

    def _send_part(self, upload: Any, number: int, data: bytes | bytearray) -> dict:
        checksum, md5_hex = checksums.for_request(self.profile.part_checksum, data)
        if self.limiter:
            self.limiter.take(len(data))

        def send_checked() -> str:
            etag = upload.send_part(number, data, checksum)
            if not etag:  # a response cut short: we can't know what arrived
                raise StorageError(
                    f"Part {number}: the server's answer was incomplete.",
                    code="incomplete_answer",
                    transient=True,
                )
            return etag

        etag = self._retrying(f"part {number} of {upload.key}", send_checked)
        if md5_hex and etag.strip('"') != md5_hex:
            raise StorageError(
                f"Part {number}: the server's ETag does not match the MD5 of what was sent.",
                code="checksum_mismatch",
                transient=True,
            )
        return {
            "number": number,
            "etag": etag,
            "md5": md5_hex or "",
            "size": len(data),
            "checksum": next(iter(checksum.values())),
        }

    def _abort(self, key: str, upload_id: str, state: str) -> None:
        self._renewing(lambda: self.store.abort(key, upload_id))
        if self.journal:
            self.journal.close_multipart(upload_id, state)

    def abort_stale(self, older_than_hours: float | None = None) -> list[dict]:
        """Abort uploads the journal started on this bucket longer ago than the limit."""
        hours = (
            self.target.destination.abort_stale_uploads_after_hours
            if older_than_hours is None
            else older_than_hours
        )
        if not self.journal:
            return []
        aborted = []
        for row in self.journal.stale_multipart(hours * 3600):
            if row["bucket"] != self.bucket:
                continue
            self._abort(row["key"], row["upload_id"], "aborted")
            aborted.append(row)
        return aborted

    def list_incomplete(self, older_than_hours: float = 0) -> list[dict]:
        """Multipart uploads the server holds for this bucket (any client's), oldest first."""
        import datetime as dt

        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(hours=older_than_hours)
        out = [
            {"key": u["Key"], "upload_id": u["UploadId"], "initiated": u["Initiated"].isoformat()}
            for u in self._renewing(self.store.list_uploads)
            if u["Initiated"] <= cutoff
        ]
        return sorted(out, key=lambda u: u["initiated"])
