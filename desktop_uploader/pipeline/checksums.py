"""Per-request integrity checksums: the header a provider verifies, computed for a body.

A provider profile's ``part_checksum`` names the kind (``providers.py``): "crc32c" and "sha256"
go as plain ``x-amz-checksum-*`` headers (never aws-chunked trailers), "md5" as Content-MD5,
which every S3 implementation verifies and which the ETag of a single PUT or part must equal.
"""

from __future__ import annotations

import base64
import hashlib

# boto3 parameter carrying each x-amz-checksum kind (in requests and in CompleteMultipartUpload)
FIELD = {"crc32c": "ChecksumCRC32C", "sha256": "ChecksumSHA256"}
# Journals from before the algorithm was recorded: providers now on CRC32C used CRC32 then.
_LEGACY = {"crc32c": "crc32"}


def crc32c(data: bytes | bytearray) -> bytes:
    """CRC-32C (Castagnoli), big-endian, with the CPU's CRC instructions where it has them."""
    import crc32c as _crc32c  # on first use: only uploads need it

    return _crc32c.crc32c(data).to_bytes(4, "big")


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def for_request(kind: str, data: bytes | bytearray) -> tuple[dict, str | None]:
    """The boto3 parameter with ``data``'s checksum of this kind, and the MD5 hex when that is
    what is sent (the ETag must then equal it too)."""
    if kind == "crc32c":
        return {"ChecksumCRC32C": b64(crc32c(data))}, None
    if kind == "sha256":
        return {"ChecksumSHA256": b64(hashlib.sha256(data).digest())}, None
    md5 = hashlib.md5(data, usedforsecurity=False).digest()
    return {"ContentMD5": b64(md5)}, md5.hex()


def begun_with(recorded: str, kind: str) -> str:
    """The algorithm an open upload's parts were sent with, from the journal's record ("" in
    journals older than that column)."""
    return recorded or _LEGACY.get(kind, kind)
