"""Telling a CDN that stable-name objects changed: CloudFront invalidations, or a purge URL.

Content-hash keys never change, so they never need purging; only the opt-in stable names
(``Destination.stable_names``) do. See docs/cdn.md for setting up CloudFront.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from typing import Any

from desktop_uploader.errors import StorageError

log = logging.getLogger(__name__)


def invalidate_cloudfront(
    distribution_id: str, keys: Sequence[str], client: Any = None, reference: str | None = None
) -> str:
    """Create a CloudFront invalidation for ``keys`` (object keys, without a leading slash);
    returns the invalidation id. ``client``: a boto3 ``cloudfront`` client (made from the
    environment's AWS credentials when None)."""
    if client is None:
        import boto3

        client = boto3.client("cloudfront")
    paths = ["/" + k.lstrip("/") for k in keys]
    try:
        answer = client.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                # idempotency token: a retried request must not make a second invalidation
                "CallerReference": reference or f"desktop-uploader-{uuid.uuid4().hex}",
            },
        )
    except Exception as e:
        raise StorageError(
            f"CloudFront did not accept the invalidation ({type(e).__name__}: {e}). The new "
            "file is uploaded; the CDN may serve the old one until its cache expires.",
            code="cdn_purge_failed",
        ) from e
    return str(answer["Invalidation"]["Id"])


def purge_url(endpoint: str, urls: Sequence[str], timeout: float = 10.0, attempts: int = 3) -> int:
    """POST ``{"urls": [...]}`` as JSON to ``endpoint`` (a CDN's or your own purge hook);
    returns the HTTP status. Retried on network errors and 5xx."""
    body = json.dumps({"urls": list(urls)}).encode()
    last: Exception | None = None
    for attempt in range(attempts):
        req = urllib.request.Request(
            endpoint,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "desktop-uploader"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            last = e
            if e.code < 500:
                break
        except OSError as e:
            last = e
        time.sleep(0.2 * (attempt + 1))
    raise StorageError(
        f"The purge URL did not accept the request ({last}). The new file is uploaded; the CDN "
        "may serve the old one until its cache expires.",
        code="cdn_purge_failed",
    )


def purge(dest: Any, keys: Sequence[str], urls: Sequence[str], cloudfront: Any = None) -> list:
    """Purge what ``dest`` names (CloudFront distribution and/or purge URL); returns what was
    done, e.g. ``[("cloudfront", "I2J...")]``."""
    done: list[tuple[str, object]] = []
    if dest.cloudfront_distribution_id:
        inv = invalidate_cloudfront(dest.cloudfront_distribution_id, keys, cloudfront)
        done.append(("cloudfront", inv))
    if dest.purge_url:
        done.append(("purge_url", purge_url(dest.purge_url, urls)))
    if done:
        log.info("CDN told about %s: %s", ", ".join(keys), done)
    return done
