"""Known quirks of S3-compatible providers, chosen by a destination's ``provider`` kind.

See docs/providers.md for the sources of each quirk.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderProfile:
    kind: str
    # Per-request integrity header the server verifies: "md5" sends Content-MD5 (the one every
    # provider knows; the ETag must then equal it too), "crc32c" / "sha256" send
    # x-amz-checksum-crc32c / -sha256 as plain headers, never aws-chunked trailers.
    # Measured here per core: CRC32C 16 GB/s (crc32c), CRC32 3.8 GB/s (zlib), SHA-256 1.4 GB/s,
    # MD5 0.6 GB/s.
    part_checksum: str = "md5"
    # botocore's automatic flexible checksums (CRC32 trailers since botocore 1.36). Only AWS
    # handles them everywhere; R2, B2, GCS and older MinIO/SeaweedFS reject or mis-store them.
    flexible_checksums: bool = False
    addressing_style: str = "path"
    default_region: str = "us-east-1"


PROFILES: dict[str, ProviderProfile] = {
    "aws": ProviderProfile("aws", "crc32c", True, "virtual"),
    "r2": ProviderProfile("r2", "md5", False, "path", "auto"),
    "b2": ProviderProfile("b2", "md5", False, "path"),
    "gcs": ProviderProfile("gcs", "md5", False, "path", "auto"),
    "minio": ProviderProfile("minio", "crc32c", False, "path"),
    "seaweedfs": ProviderProfile("seaweedfs", "crc32c", False, "path"),
    "local": ProviderProfile("local", "crc32c", False, "path"),
    "wasabi": ProviderProfile("wasabi", "md5", False, "path"),
    "other": ProviderProfile("other", "md5", False, "path"),
}


def profile_for(kind: str) -> ProviderProfile:
    return PROFILES.get(kind, PROFILES["other"])
