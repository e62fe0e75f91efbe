"""Upload stage: put spooled outputs into an S3-compatible bucket and verify them.

boto3's low-level client, not s3transfer: we need the UploadId and each part in our journal (so a
later run can resume), an explicit per-part checksum that every provider accepts (Content-MD5),
and a HEAD afterwards. botocore's own checksum headers are off for non-AWS endpoints: several
S3-compatible services reject or mis-store them.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_uploader.config import Destination
from desktop_uploader.credentials import S3Keys
from desktop_uploader.errors import Interrupted, StorageError
from desktop_uploader.journal import Journal

log = logging.getLogger(__name__)

MiB = 1024 * 1024
MULTIPART_THRESHOLD = 16 * MiB
MIN_PART = 5 * MiB
MAX_PARTS = 10_000
CACHE_CONTROL = "public, max-age=31536000, immutable"

Progress = Callable[[int], None]  # bytes sent since the last call


def part_size_for(total: int, preferred: int = 8 * MiB) -> int:
    """A part size within S3's limits (5 MiB minimum, at most 10,000 parts)."""
    size = max(preferred, MIN_PART)
    while -(-total // size) > MAX_PARTS:
        size *= 2
    return size


@dataclass(frozen=True)
class Target:
    """A resolved destination: where to connect and what links point at."""

    destination: Destination
    endpoint: str | None
    bucket: str
    public_base_url: str
    keys: S3Keys


def make_client(target: Target, max_pool: int = 16) -> Any:
    import boto3
    from botocore.config import Config

    dest = target.destination
    aws = dest.provider == "aws"
    config = Config(
        region_name=dest.region or "us-east-1",
        signature_version="s3v4",
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=max_pool,
        s3={"addressing_style": dest.addressing_style or "path"},
        request_checksum_calculation="when_supported" if aws else "when_required",
        response_checksum_validation="when_supported" if aws else "when_required",
    )
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=target.endpoint or None,
        aws_access_key_id=target.keys.access_key_id,
        aws_secret_access_key=target.keys.secret_access_key,
        config=config,
    )


def translate(e: Exception, bucket: str) -> StorageError:
    """Turn a botocore exception into a StorageError with a plain-language message."""
    from botocore.exceptions import ClientError, ConnectionError, EndpointConnectionError

    if isinstance(e, StorageError):
        return e
    if isinstance(e, ClientError):
        err = e.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken"):
            return StorageError(
                "The storage service did not accept the access key or secret "
                f"({code}). Check the keys for this destination.",
                code="bad_credentials",
            )
        if code == "NoSuchBucket" or (code == "404" and not err.get("Key")):
            return StorageError(
                f"The bucket '{bucket}' does not exist on this endpoint. Check the bucket name.",
                code="no_such_bucket",
            )
        if code in ("AccessDenied", "403", "AllAccessDisabled"):
            return StorageError(
                f"The key is valid but may not write to bucket '{bucket}' (AccessDenied). "
                "Give it write permission or use another key.",
                code="access_denied",
            )
        if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
            return StorageError(
                f"The server received different bytes than were sent ({code}).",
                code="checksum_mismatch",
                transient=True,
            )
        transient = status >= 500 or status == 429 or code in ("SlowDown", "RequestTimeout")
        return StorageError(
            f"The storage service answered {status} {code}: {err.get('Message', '')}".strip(),
            code="server_error" if transient else "request_refused",
            transient=transient,
        )
    if isinstance(e, EndpointConnectionError | ConnectionError):
        return StorageError(
            f"Could not reach the storage service ({type(e).__name__}). Check the endpoint "
            "address and your network; the upload stays queued.",
            code="unreachable",
            transient=True,
        )
    from botocore.exceptions import NoCredentialsError

    if isinstance(e, NoCredentialsError):
        return StorageError(
            "No access key is configured for this destination.", code="no_credentials"
        )
    return StorageError(f"Upload failed: {type(e).__name__}: {e}", code="upload_error")


class Uploader:
    """Uploads files to one ``Target`` and verifies them; thread-safe."""

    def __init__(self, target: Target, journal: Journal | None = None, client: Any = None) -> None:
        self.target = target
        self.journal = journal
        self.client = client or make_client(target)

    @property
    def bucket(self) -> str:
        return self.target.bucket

    def head(self, key: str) -> dict | None:
        """The object's HEAD response, or None if it does not exist."""
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404:
                return None
            if status in (400, 403):
                # HEAD answers carry no error code: ask again with a GET to learn why.
                self._explain_refusal(key)
            raise translate(e, self.bucket) from e
        except Exception as e:
            raise translate(e, self.bucket) from e

    def check_bucket(self) -> None:
        """Raise a translated StorageError unless the bucket exists and the keys may use it."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (400, 403):
                try:  # HEAD answers carry no error code: a listing tells why
                    self.client.list_objects_v2(Bucket=self.bucket, MaxKeys=1)
                except Exception as e2:
                    raise translate(e2, self.bucket) from e2
            raise translate(e, self.bucket) from e
        except Exception as e:
            raise translate(e, self.bucket) from e

    def _explain_refusal(self, key: str) -> None:
        try:
            self.client.get_object(Bucket=self.bucket, Key=key, Range="bytes=0-0")
        except Exception as e:
            err = translate(e, self.bucket)
            if err.code != "request_refused":
                raise err from e

    def exists_verified(self, key: str, size: int, sha256: str) -> bool:
        """True if ``key`` already holds exactly these bytes (by size and recorded SHA-256)."""
        head = self.head(key)
        return bool(
            head
            and head.get("ContentLength") == size
            and head.get("Metadata", {}).get("sha256") == sha256
        )

    def upload_file(
        self,
        path: Path,
        key: str,
        sha256: str,
        content_type: str,
        progress: Progress | None = None,
        job_id: int | None = None,
    ) -> dict:
        """Upload ``path`` to ``key`` (single PUT or multipart), then verify with a HEAD."""
        size = path.stat().st_size
        extra = {
            "ContentType": content_type,
            "CacheControl": CACHE_CONTROL,
            "Metadata": {"sha256": sha256},
        }
        try:
            if size < MULTIPART_THRESHOLD:
                self._put(path, key, size, extra, progress)
            else:
                self._multipart(path, key, size, sha256, extra, progress, job_id)
        except Interrupted:
            raise  # paused or cancelled between parts: the journal keeps what was sent
        except Exception as e:
            raise translate(e, self.bucket) from e
        return self.verify(key, size, sha256)

    def verify(self, key: str, size: int, sha256: str) -> dict:
        head = self.head(key)
        if head is None:
            raise StorageError(
                f"The object {key} is missing right after upload.", code="verify_failed"
            )
        if head.get("ContentLength") != size:
            raise StorageError(
                f"The stored object is {head.get('ContentLength')} bytes, expected {size}.",
                code="verify_failed",
            )
        if head.get("Metadata", {}).get("sha256") != sha256:
            raise StorageError("The stored object's SHA-256 does not match.", code="verify_failed")
        return head

    def _put(self, path: Path, key: str, size: int, extra: dict, progress: Progress | None) -> None:
        data = path.read_bytes()  # below the multipart threshold, so bounded
        md5 = hashlib.md5(data, usedforsecurity=False)
        resp = self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentLength=size,
            ContentMD5=base64.b64encode(md5.digest()).decode(),
            **extra,
        )
        etag = str(resp.get("ETag", "")).strip('"')
        if etag and "-" not in etag and etag != md5.hexdigest():
            raise StorageError(
                "The server stored different bytes than were sent (ETag does not match MD5).",
                code="checksum_mismatch",
            )
        if progress:
            progress(size)

    def _multipart(
        self,
        path: Path,
        key: str,
        size: int,
        sha256: str,
        extra: dict,
        progress: Progress | None,
        job_id: int | None,
    ) -> None:
        journal = self.journal
        existing = journal.open_multipart(self.bucket, key, sha256) if journal else None
        done: dict[int, dict] = {}
        if existing:
            upload_id, part_size = existing["upload_id"], existing["part_size"]
            done = self._reconcile(key, upload_id, journal.parts(upload_id) if journal else [])
            if done is None:  # the server forgot the upload: start over
                existing = None
        if not existing:
            part_size = part_size_for(size)
            resp = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **extra)
            upload_id = resp["UploadId"]
            done = {}
            if journal:
                journal.begin_multipart(
                    upload_id, job_id, self.bucket, key, part_size, size, sha256
                )
        count = -(-size // part_size)
        with open(path, "rb") as f:
            for number in range(1, count + 1):
                if number in done:
                    if progress:
                        progress(done[number]["size"])
                    continue
                f.seek((number - 1) * part_size)
                chunk = f.read(part_size)
                md5 = hashlib.md5(chunk, usedforsecurity=False)
                resp = self.client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                    ContentLength=len(chunk),
                    ContentMD5=base64.b64encode(md5.digest()).decode(),
                )
                etag = str(resp["ETag"])
                # Recorded before progress is acknowledged: a crash now loses nothing sent.
                if journal:
                    journal.record_part(upload_id, number, etag, md5.hexdigest(), len(chunk))
                done[number] = {"etag": etag, "size": len(chunk)}
                if progress:
                    progress(len(chunk))
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": n, "ETag": done[n]["etag"]} for n in sorted(done)]
            },
        )
        if journal:
            journal.close_multipart(upload_id, "completed")

    def _reconcile(self, key: str, upload_id: str, recorded: list[dict]) -> dict[int, dict] | None:
        """Parts both the journal and the server have, matching in ETag and size."""
        from botocore.exceptions import ClientError

        try:
            server: dict[int, dict] = {}
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "UploadId": upload_id}
            while True:
                resp = self.client.list_parts(**kwargs)
                for p in resp.get("Parts", []):
                    server[p["PartNumber"]] = p
                if not resp.get("IsTruncated"):
                    break
                kwargs["PartNumberMarker"] = resp["NextPartNumberMarker"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "NoSuchUpload":
                if self.journal:
                    self.journal.close_multipart(upload_id, "lost")
                return None
            raise
        return {
            r["part_number"]: {"etag": r["etag"], "size": r["size"]}
            for r in recorded
            if r["part_number"] in server
            and server[r["part_number"]]["ETag"].strip('"') == r["etag"].strip('"')
            and server[r["part_number"]]["Size"] == r["size"]
        }
