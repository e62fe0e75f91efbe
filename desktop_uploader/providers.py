"""Known quirks of S3-compatible providers, chosen by a destination's ``provider`` kind.

The one table of provider facts: the settings schema takes its list of kinds from here
(``config.Provider``), the S3 client its checksum mode, addressing style and region, the
uploader its per-request checksum. See docs/providers.md for the sources of each quirk.
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
    # The endpoint URL, with {account}/{region} for the user's own parts; "" when boto3 knows
    # it (AWS) or it is wherever the user runs the server.
    endpoint_template: str = ""


PROFILES: dict[str, ProviderProfile] = {
    p.kind: p
    for p in (
        ProviderProfile("local", "crc32c"),
        ProviderProfile("seaweedfs", "crc32c"),
        ProviderProfile("aws", "crc32c", True, "virtual"),
        ProviderProfile(
            "r2",
            default_region="auto",
            endpoint_template="https://{account}.r2.cloudflarestorage.com",
        ),
        ProviderProfile("b2", endpoint_template="https://s3.{region}.backblazeb2.com"),
        ProviderProfile(
            "gcs",
            default_region="auto",
            endpoint_template="https://storage.googleapis.com",
        ),
        ProviderProfile("minio", "crc32c"),
        ProviderProfile("wasabi", endpoint_template="https://s3.{region}.wasabisys.com"),
        ProviderProfile("other"),
    )
}
KINDS: tuple[str, ...] = tuple(PROFILES)


def profile_for(kind: str) -> ProviderProfile:
    return PROFILES.get(kind, PROFILES["other"])
