"""Where uploads go, behind one small protocol: the ``Store``.

The upload stage, publishing, ``doctor`` and the history view's delete speak to a ``Store``;
only ``storage/s3.py`` (``S3Store``) knows boto3. A second kind of store (a test double, a
non-S3 service) implements the same methods. Every method raises ``StorageError`` with a
plain-language message and a ``code`` (``transient`` says whether asking again may help).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class MultipartUpload(Protocol):
    """One multipart upload in progress: begun by ``Store.put_multipart``, found again by
    ``Store.resume``."""

    key: str
    upload_id: str

    def send_part(self, number: int, body: bytes | bytearray, checksum: Mapping[str, str]) -> str:
        """Send part ``number``; its ETag as the server answered it (may be empty when the
        answer was cut short: the caller decides)."""
        ...

    def complete(self, parts: list[dict]) -> None:
        """Assemble the parts (``PartNumber``, ``ETag`` and any ``Checksum*``) into the object."""
        ...


@runtime_checkable
class Store(Protocol):
    """One bucket of an object store."""

    bucket: str

    def put(self, key: str, body: bytes, fields: Mapping[str, Any]) -> str:
        """Store ``body`` at ``key`` in one request; its ETag. ``fields``: ``ContentType``,
        ``CacheControl``, ``Metadata`` and the request's checksum (``ContentMD5`` or
        ``Checksum*``), in boto3's names."""
        ...

    def put_multipart(
        self, key: str, fields: Mapping[str, Any], checksum_algorithm: str | None
    ) -> MultipartUpload:
        """Begin a multipart upload of ``key``; its parts then go through the returned handle."""
        ...

    def resume(self, key: str, upload_id: str) -> tuple[MultipartUpload, dict[int, dict]] | None:
        """The upload ``upload_id`` again, with the parts the server holds (``list_parts``);
        None when the server no longer knows it."""
        ...

    def list_parts(self, key: str, upload_id: str) -> dict[int, dict]:
        """Parts the server holds for an upload: number -> {``ETag``, ``Size``, ...}. Raises
        StorageError ``no_such_upload`` when it is gone."""
        ...

    def abort(self, key: str, upload_id: str) -> None:
        """Abort an upload; one that is already gone is not an error."""
        ...

    def head(self, key: str) -> dict | None:
        """``ContentLength``, ``ETag``, ``ContentType``, ``Metadata`` of ``key``; None if absent."""
        ...

    def get_range(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes ``start``..``end`` (inclusive; None: to the end) of ``key``."""
        ...

    def presign(self, key: str, seconds: int) -> str:
        """A GET URL for ``key`` that works without keys for ``seconds``."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` (absent is not an error)."""
        ...

    def check(self) -> None:
        """Raise StorageError unless the bucket exists and the keys may use it."""
        ...

    def list_uploads(self) -> list[dict]:
        """Unfinished multipart uploads on the bucket (anyone's): ``Key``, ``UploadId``,
        ``Initiated``."""
        ...

    def close(self) -> None: ...


__all__ = ["MultipartUpload", "Store"]
