"""The boto3 client for one destination, and plain-language translation of its errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from desktop_uploader.config import Destination
from desktop_uploader.credentials import S3Keys
from desktop_uploader.errors import StorageError
from desktop_uploader.providers import profile_for


@dataclass(frozen=True)
class Target:
    """A resolved destination: where to connect and what links point at."""

    destination: Destination
    endpoint: str | None
    bucket: str
    public_base_url: str
    keys: S3Keys
    # For a destination whose keys change without the user (the embedded store, restarted
    # where no keyring keeps its keys): resolves it again. None: keys are the user's own.
    renew: Callable[[], Target] | None = field(default=None, compare=False, repr=False)


# The one retry policy for requests: botocore's, in its "standard" mode (exponential backoff
# with jitter; retries connection errors, timeouts, 500/502/503/504, 429 and throttling codes)
# or "adaptive" (the same, plus client-side rate limiting after throttling answers), with at
# most REQUEST_ATTEMPTS tries of one request, the first included. The uploader adds its own
# loop only for what botocore does not retry (Uploader._retrying says what); an endpoint that
# stays unreachable makes the job wait for it (engine), not more attempts.
REQUEST_ATTEMPTS = 5
RETRY_MODE = "standard"


def make_client(
    target: Target,
    max_pool: int = 32,
    attempts: int = REQUEST_ATTEMPTS,
    retry_mode: str = RETRY_MODE,
) -> Any:
    """A boto3 S3 client for ``target``; ``attempts``: botocore's tries per request in all
    (``total_max_attempts``), ``retry_mode``: "standard" or "adaptive"."""
    import boto3
    from botocore.config import Config

    dest = target.destination
    prof = profile_for(dest.provider)
    mode = "when_supported" if prof.flexible_checksums else "when_required"
    config = Config(
        region_name=dest.region or prof.default_region,
        signature_version="s3v4",
        retries={"mode": retry_mode, "total_max_attempts": attempts},
        connect_timeout=dest.connect_timeout,
        read_timeout=dest.read_timeout,
        max_pool_connections=max_pool,
        s3={
            "addressing_style": dest.addressing_style or prof.addressing_style,
            # Every request carries its own checksum the server verifies (Content-MD5 or an
            # x-amz-checksum-* header), so SigV4 need not hash each payload again over plain HTTP.
            "payload_signing_enabled": False,
        },
        request_checksum_calculation=mode,
        response_checksum_validation=mode,
        tcp_keepalive=True,
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
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(e, StorageError):
        return e
    if isinstance(e, ClientError):
        return _refusal(e, bucket)
    if isinstance(e, EndpointConnectionError | ConnectionError | ReadTimeoutError):
        return StorageError(
            f"Could not reach the storage service ({type(e).__name__}). Check the endpoint "
            "address and your network; the upload stays queued.",
            code="unreachable",
            transient=True,
        )
    if isinstance(e, NoCredentialsError):
        return StorageError(
            "No access key is configured for this destination.", code="no_credentials"
        )
    if isinstance(e, BotoCoreError | OSError):
        # e.g. a response cut short (IncompleteRead), a reset while reading: worth a retry
        return StorageError(
            f"The connection failed mid-request ({type(e).__name__}: {e}).",
            code="connection_error",
            transient=True,
        )
    return StorageError(f"Upload failed: {type(e).__name__}: {e}", code="upload_error")


def _refusal(e: Any, bucket: str) -> StorageError:
    """A StorageError for an error answer (botocore's ClientError) of the storage service."""
    err = e.response.get("Error", {})
    code = str(err.get("Code", ""))
    status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken"):
        return StorageError(
            "The storage service did not accept the access key or secret "
            f"({code}). Check the keys for this destination.",
            code="bad_credentials",
        )
    if code == "NoSuchUpload":
        return StorageError(
            "The server no longer knows this multipart upload (it was completed or aborted).",
            code="no_such_upload",
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
            f"The server received different bytes than were sent ({code}); resending.",
            code="checksum_mismatch",
            transient=True,
        )
    transient = status >= 500 or status == 429 or code in ("SlowDown", "RequestTimeout")
    return StorageError(
        f"The storage service answered {status} {code}: {err.get('Message', '')}".strip(),
        code="server_error" if transient else "request_refused",
        transient=transient,
    )
