"""``S3Store``: the ``Store`` protocol on boto3's low-level S3 client.

Every S3-compatible provider goes through here (its quirks come from ``providers.py``). For the
embedded store on this machine, PUT and HEAD of small objects may take the direct SigV4 path
(``storage/directs3.py``), which hands anything unexpected back to boto3.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from desktop_uploader.errors import StorageError
from desktop_uploader.storage import directs3
from desktop_uploader.storage.s3client import (
    REQUEST_ATTEMPTS,
    RETRY_MODE,
    Target,
    make_client,
    translate,
)

log = logging.getLogger(__name__)


class S3MultipartUpload:
    """A multipart upload of one key; requests go through its store's current client (so a
    store given fresh keys mid-upload goes on with them)."""

    def __init__(self, store: S3Store, key: str, upload_id: str) -> None:
        self.store = store
        self.key = key
        self.upload_id = upload_id

    def send_part(self, number: int, body: bytes | bytearray, checksum: Mapping[str, str]) -> str:
        s = self.store
        resp = s._call(
            lambda c: c.upload_part(
                Bucket=s.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=body,
                ContentLength=len(body),
                **checksum,
            )
        )
        return str(resp.get("ETag") or "")

    def complete(self, parts: list[dict]) -> None:
        s = self.store
        s._call(
            lambda c: c.complete_multipart_upload(
                Bucket=s.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": parts},
            )
        )


class S3Store:
    """One bucket on an S3-compatible service. ``attempts``, ``retry_mode``: botocore's tries
    per request and its retry mode (``s3client.REQUEST_ATTEMPTS``); ``direct``: allow the
    SigV4 fast path where it applies (a small PUT or HEAD it could not finish costs one try
    more than ``attempts``: boto3 then makes the call); ``client``: a client made elsewhere
    (tests with botocore's Stubber; no fast path then)."""

    def __init__(
        self,
        target: Target,
        max_pool: int = 32,
        attempts: int = REQUEST_ATTEMPTS,
        direct: bool = True,
        client: Any = None,
        retry_mode: str = RETRY_MODE,
    ) -> None:
        self.bucket = target.bucket
        self._max_pool = max_pool
        self._attempts = attempts
        self._retry_mode = retry_mode
        self._use_direct = direct and client is None
        self._lock = threading.Lock()
        self._retired: list[directs3.DirectS3] = []
        self.target = target
        self.client = client or make_client(target, max_pool, attempts, retry_mode)
        self.direct = direct_for(self.client, target) if self._use_direct else None

    def rebind(self, target: Target) -> None:
        """Go on with ``target``'s endpoint and keys (the embedded store restarted with fresh
        ones); requests in flight on other threads finish with what they had."""
        client = make_client(target, self._max_pool, self._attempts, self._retry_mode)
        with self._lock:
            if self.direct is not None:
                self._retired.append(self.direct)  # other threads may be using it right now
            self.target, self.client = target, client
            self.direct = direct_for(client, target) if self._use_direct else None

    def close(self) -> None:
        with self._lock:
            retired, self._retired = self._retired, []
            if self.direct is not None:
                retired.append(self.direct)
        for d in retired:
            d.close()

    def _call(self, fn) -> Any:
        try:
            return fn(self.client)
        except Exception as e:
            raise translate(e, self.bucket) from e

    # -- single objects ------------------------------------------------------------------------
    def put(self, key: str, body: Any, fields: Mapping[str, Any], length: int | None = None) -> str:
        """``body``: bytes, or a binary file object of ``length`` bytes (read by boto3, which
        rewinds it for a retry)."""
        direct = self.direct
        if direct is not None and isinstance(body, bytes | bytearray):
            done = direct.put(key, bytes(body), dict(fields))
            if done is not None:
                return done["ETag"]
        size = len(body) if length is None else length
        resp = self._call(
            lambda c: c.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentLength=size, **fields
            )
        )
        return str(resp.get("ETag", ""))

    def head(self, key: str) -> dict | None:
        from botocore.exceptions import ClientError

        direct = self.direct
        if direct is not None:
            found = direct.head(key)
            if found is not False:
                return found
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

    def _explain_refusal(self, key: str) -> None:
        try:
            self.client.get_object(Bucket=self.bucket, Key=key, Range="bytes=0-0")
        except Exception as e:
            err = translate(e, self.bucket)
            if err.code != "request_refused":
                raise err from e

    def get_range(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        extra = {} if (start, end) == (0, None) else {"Range": f"bytes={start}-{end or ''}"}
        resp = self._call(lambda c: c.get_object(Bucket=self.bucket, Key=key, **extra))
        try:
            return resp["Body"].read()
        except Exception as e:
            raise translate(e, self.bucket) from e

    def presign(self, key: str, seconds: int) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
        )

    def delete(self, key: str) -> None:
        self._call(lambda c: c.delete_object(Bucket=self.bucket, Key=key))

    # -- multipart -----------------------------------------------------------------------------
    def put_multipart(
        self, key: str, fields: Mapping[str, Any], checksum_algorithm: str | None
    ) -> S3MultipartUpload:
        extra = dict(fields)
        if checksum_algorithm:
            extra["ChecksumAlgorithm"] = checksum_algorithm.upper()
        resp = self._call(lambda c: c.create_multipart_upload(Bucket=self.bucket, Key=key, **extra))
        return S3MultipartUpload(self, key, resp["UploadId"])

    def resume(self, key: str, upload_id: str) -> tuple[S3MultipartUpload, dict[int, dict]] | None:
        try:
            parts = self.list_parts(key, upload_id)
        except StorageError as e:
            if e.code == "no_such_upload":
                return None
            raise
        return S3MultipartUpload(self, key, upload_id), parts

    def list_parts(self, key: str, upload_id: str) -> dict[int, dict]:
        server: dict[int, dict] = {}
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "UploadId": upload_id}
        while True:
            resp = self._call(lambda c, kw=dict(kwargs): c.list_parts(**kw))
            for p in resp.get("Parts", []):
                server[p["PartNumber"]] = p
            if not resp.get("IsTruncated"):
                return server
            kwargs["PartNumberMarker"] = resp["NextPartNumberMarker"]

    def abort(self, key: str, upload_id: str) -> None:
        try:
            self._call(
                lambda c: c.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            )
        except StorageError as e:
            if e.code != "no_such_upload":
                raise

    def list_uploads(self) -> list[dict]:
        out: list[dict] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        while True:
            resp = self._call(lambda c, kw=dict(kwargs): c.list_multipart_uploads(**kw))
            out.extend(resp.get("Uploads", []))
            if not resp.get("IsTruncated"):
                return out
            kwargs["KeyMarker"] = resp.get("NextKeyMarker")
            kwargs["UploadIdMarker"] = resp.get("NextUploadIdMarker")

    # -- the bucket ----------------------------------------------------------------------------
    def check(self) -> None:
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


def direct_for(client: Any, target: Target) -> directs3.DirectS3 | None:
    """The PUT/HEAD fast path for this client, or None where it is not used."""
    endpoint = client.meta.endpoint_url
    if not directs3.enabled_for(endpoint):
        return None
    try:
        return directs3.DirectS3(
            client, target.bucket, target.keys.access_key_id, target.keys.secret_access_key
        )
    except Exception as e:  # the fast path is optional: boto3 does everything without it
        log.info("direct S3 requests unavailable for %s: %s", endpoint, e)
        return None
