"""Provider quirks: which integrity headers each provider kind gets.

R2, B2, GCS and AWS can't run here, so botocore's Stubber checks the requests we would send them;
the SeaweedFS and MinIO-style paths run against the real server in test_resumable.py.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from botocore.stub import ANY, Stubber

from desktop_uploader.config import Destination
from desktop_uploader.credentials import S3Keys
from desktop_uploader.pipeline.multipart import MultipartSender
from desktop_uploader.pipeline.upload import MULTIPART_THRESHOLD, Target, Uploader
from desktop_uploader.providers import PROFILES, profile_for


def uploader_for(provider: str) -> Uploader:
    dest = Destination(
        "p",
        endpoint="https://s3.example.invalid",
        bucket="bkt",
        provider=provider,
        part_concurrency=1,
    )
    return Uploader(Target(dest, dest.endpoint, "bkt", "https://cdn.example", S3Keys("A", "B")))


@pytest.mark.parametrize("provider", ["r2", "b2", "gcs", "wasabi", "other"])
def test_md5_providers_get_content_md5_and_no_flexible_checksums(provider, tmp_path):
    up = uploader_for(provider)
    cfg = up.client.meta.config
    assert cfg.request_checksum_calculation == "when_required"
    data = b"x" * 1000
    p = tmp_path / "a.webp"
    p.write_bytes(data)
    md5 = hashlib.md5(data).digest()
    with Stubber(up.client) as stub:
        stub.add_response(
            "put_object",
            {"ETag": f'"{md5.hex()}"'},
            {
                "Bucket": "bkt",
                "Key": "k",
                "Body": ANY,
                "ContentLength": 1000,
                "ContentMD5": base64.b64encode(md5).decode(),
                "ContentType": "image/webp",
                "CacheControl": ANY,
                "Metadata": {"sha256": "s"},
            },
        )
        up._put(
            p,
            "k",
            1000,
            {"ContentType": "image/webp", "CacheControl": "c", "Metadata": {"sha256": "s"}},
            None,
        )
        stub.assert_no_pending_responses()
    up.close()


def _crc32c(c: bytes) -> str:
    import crc32c

    return base64.b64encode(crc32c.crc32c(c).to_bytes(4, "big")).decode()


def test_crc32c_is_castagnoli():
    from desktop_uploader.pipeline.checksums import crc32c

    # the CRC-32C check value (RFC 3720, B.4) and the all-zero 32-byte vector from the same RFC
    assert crc32c(b"123456789") == bytes.fromhex("e3069283")
    assert crc32c(bytes(32)) == bytes.fromhex("8a9136aa")
    assert crc32c(bytearray(b"123456789")) == bytes.fromhex("e3069283")


def _sha256(c: bytes) -> str:
    return base64.b64encode(hashlib.sha256(c).digest()).decode()


@pytest.mark.parametrize("provider", ["aws", "seaweedfs", "minio"])
def test_checksum_providers_send_part_checksums_through_create_upload_complete(tmp_path, provider):
    up = uploader_for(provider)
    algo = up.profile.part_checksum.upper()
    field = f"Checksum{algo}"
    digest = {"CRC32C": _crc32c, "SHA256": _sha256}[algo]
    flexible = "when_supported" if provider == "aws" else "when_required"
    assert up.client.meta.config.request_checksum_calculation == flexible
    size = MULTIPART_THRESHOLD + 10
    data = bytes(range(256)) * (size // 256) + b"\0" * (size % 256)
    p = tmp_path / "big.bin"
    p.write_bytes(data)
    part = 8 * 1024 * 1024
    chunks = [data[i : i + part] for i in range(0, size, part)]
    sums = [digest(c) for c in chunks]
    etags = [f'"{hashlib.md5(c).hexdigest()}"' for c in chunks]
    with Stubber(up.client) as stub:
        stub.add_response(
            "create_multipart_upload",
            {"UploadId": "U1"},
            {
                "Bucket": "bkt",
                "Key": "k",
                "ChecksumAlgorithm": algo,
                "ContentType": "x/y",
                "CacheControl": ANY,
                "Metadata": ANY,
            },
        )
        for i, c in enumerate(chunks, 1):
            stub.add_response(
                "upload_part",
                {"ETag": etags[i - 1]},
                {
                    "Bucket": "bkt",
                    "Key": "k",
                    "UploadId": "U1",
                    "PartNumber": i,
                    "Body": ANY,
                    "ContentLength": len(c),
                    field: sums[i - 1],
                },
            )
        parts = [
            {"PartNumber": i, "ETag": etags[i - 1], field: sums[i - 1]}
            for i in range(1, len(chunks) + 1)
        ]
        stub.add_response(
            "complete_multipart_upload",
            {},
            {"Bucket": "bkt", "Key": "k", "UploadId": "U1", "MultipartUpload": {"Parts": parts}},
        )
        extra = {"ContentType": "x/y", "CacheControl": "c", "Metadata": {"sha256": "sha"}}
        MultipartSender(up).send(p, "k", size, "sha", extra, None, None)
        stub.assert_no_pending_responses()
    up.close()


def test_every_provider_kind_has_a_profile():
    from desktop_uploader.setting_types import PROVIDERS

    assert set(PROVIDERS) <= set(PROFILES)
    assert profile_for("unknown-kind").kind == "other"
    assert profile_for("r2").default_region == "auto"
    assert profile_for("aws").addressing_style == "virtual"
