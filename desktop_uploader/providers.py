"""Known quirks of S3-compatible providers, chosen by a destination's ``provider`` kind.

See docs/providers.md for the sources of each quirk.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderProfile:
    kind: str
    # Per-part (and single PUT) integrity header the server verifies: "md5" sends Content-MD5
    # (the cheapest: we hash MD5 anyway to check the ETag), "sha256" sends
    # x-amz-checksum-sha256 as a plain header (never aws-chunked trailers).
    part_checksum: str = "md5"
    # botocore's automatic flexible checksums (CRC32 trailers since botocore 1.36). Only AWS
    # handles them everywhere; R2, B2, GCS and older MinIO/SeaweedFS reject or mis-store them.
    flexible_checksums: bool = False
    addressing_style: str = "path"
    default_region: str = "us-east-1"


PROFILES: dict[str, ProviderProfile] = {
    "aws": ProviderProfile("aws", "sha256", True, "virtual"),
    "r2": ProviderProfile("r2", "md5", False, "path", "auto"),
    "b2": ProviderProfile("b2", "md5", False, "path"),
    "gcs": ProviderProfile("gcs", "md5", False, "path", "auto"),
    "minio": ProviderProfile("minio", "md5", False, "path"),
    "seaweedfs": ProviderProfile("seaweedfs", "md5", False, "path"),
    "local": ProviderProfile("local", "md5", False, "path"),
    "wasabi": ProviderProfile("wasabi", "md5", False, "path"),
    "other": ProviderProfile("other", "md5", False, "path"),
}


def profile_for(kind: str) -> ProviderProfile:
    return PROFILES.get(kind, PROFILES["other"])
