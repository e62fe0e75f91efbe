"""A fast path for the two requests every small file makes: PUT the object, HEAD it.

botocore spends ~1.5 ms of CPU on each request (event hooks, endpoint rules, serialising,
parsing; see docs/benchmarks.md). For a batch of small images that is most of the client's
work, and the upload threads share one GIL. This module sends those two requests itself:

- the URL is the one botocore's own endpoint resolution gives for the bucket (asked once),
- the request is signed with SigV4 as botocore signs it (checked against botocore in tests),
- it goes over a urllib3 connection pool with the destination's timeouts and CA bundle.

It is only a fast path. Whenever the answer is not the plain success it expects (any error
status, a redirect, a dropped connection, a timeout), it returns ``None`` and the caller makes
the same call through boto3, whose retries, region redirects and error parsing then decide.
So its failure handling is botocore's, and a server that dislikes these requests costs one
extra round trip, never a wrong result.

It is used only for a store on this machine (a loopback endpoint: the embedded store, or a
SeaweedFS/MinIO the user runs locally), because that is where it was measured to pay off
(docs/benchmarks.md): over a real network the round trip dwarfs botocore's CPU. It is not used
behind an HTTP proxy, or when the client is supplied from outside (tests with stubs), or with
``DESKTOP_UPLOADER_DIRECT_S3=0``.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import os
from typing import Any
from urllib.parse import urlsplit

from desktop_uploader import __version__

log = logging.getLogger(__name__)

# boto3 parameter -> HTTP header, for the PUT parameters the uploader uses
_HEADERS = {
    "ContentType": "Content-Type",
    "CacheControl": "Cache-Control",
    "ContentMD5": "Content-MD5",
    "ChecksumCRC32C": "x-amz-checksum-crc32c",
    "ChecksumSHA256": "x-amz-checksum-sha256",
}
_META = "x-amz-meta-"
USER_AGENT = f"desktop-uploader/{__version__} direct-s3"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


def is_loopback(endpoint_url: str) -> bool:
    """True if the endpoint is this machine (127.0.0.0/8, ::1 or ``localhost``)."""
    import ipaddress

    host = urlsplit(endpoint_url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_header(url: str) -> str:
    """The Host header (and SigV4's ``host``) for ``url``: the lower-case host name, an IPv6
    address in brackets, and the port unless it is the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def enabled_for(endpoint_url: str) -> bool:
    """Whether the fast path may be used for this endpoint: a store on this machine, no
    proxy, not switched off."""
    import urllib.request

    if os.environ.get("DESKTOP_UPLOADER_DIRECT_S3", "1") == "0":
        return False
    parts = urlsplit(endpoint_url or "")
    if parts.scheme not in ("http", "https") or not is_loopback(endpoint_url):
        return False
    proxies = urllib.request.getproxies_environment()
    return not (proxies.get(parts.scheme) or proxies.get("all")) or bool(
        urllib.request.proxy_bypass_environment(parts.hostname or "")
    )


class SigV4:
    """AWS Signature Version 4 for S3 header-signed requests with an unsigned payload.

    The same algorithm as botocore's ``S3SigV4Auth`` (tests compare the two signatures for the
    same request and clock), minus its per-request overhead: the signing key is derived once a
    day, and headers are plain dicts. The payload is not hashed (``UNSIGNED-PAYLOAD``), as the
    boto3 client is configured too: every PUT carries a checksum header the server verifies."""

    def __init__(self, access_key: str, secret_key: str, region: str) -> None:
        self.access_key = access_key
        self._secret = secret_key
        self.region = region
        self._day_key: tuple[str, bytes] = ("", b"")

    def _key(self, day: str) -> bytes:
        if self._day_key[0] != day:
            k = ("AWS4" + self._secret).encode()
            for part in (day, self.region, "s3", "aws4_request"):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            self._day_key = (day, k)
        return self._day_key[1]

    def sign(
        self, method: str, host: str, path: str, headers: dict[str, str], now=None, query: str = ""
    ) -> dict:
        """``headers`` plus Host, X-Amz-Date, X-Amz-Content-SHA256 and Authorization.

        ``query``: the canonical query string (sorted, encoded ``name=value`` pairs; ``policy=``
        for a bucket's ``?policy``), empty for plain object requests."""
        now = now or datetime.datetime.now(datetime.UTC)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
        signed.update(
            {"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": UNSIGNED_PAYLOAD}
        )
        names = sorted(signed)
        canonical = "\n".join(
            [
                method,
                path,
                query,
                *(f"{n}:{signed[n]}" for n in names),
                "",
                ";".join(names),
                UNSIGNED_PAYLOAD,
            ]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        signature = hmac.new(self._key(day), to_sign.encode(), hashlib.sha256).hexdigest()
        signed["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        return signed


class DirectS3:
    """PUT and HEAD of single objects in one bucket, signed like boto3, sent without it."""

    def __init__(self, client: Any, bucket: str, access_key: str, secret_key: str) -> None:
        import urllib3
        from botocore.httpsession import get_cert_path
        from botocore.utils import percent_encode

        config = client.meta.config
        # Where botocore would send a request for a key in this bucket (path or virtual host,
        # per the destination's addressing style): learned once from a presigned URL.
        probe = client.generate_presigned_url(
            "head_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60
        )
        base = probe.split("?", 1)[0]
        if not base.endswith("/k"):
            raise ValueError(f"unexpected object URL shape: {base}")
        self.base = base[:-1]  # ends with "/"
        self._path = urlsplit(self.base).path
        self._host = host_header(self.base)
        self._signer = SigV4(access_key, secret_key, client.meta.region_name)
        self._encode = percent_encode  # S3's key encoding, as botocore serialises it
        self._failures = (urllib3.exceptions.HTTPError, OSError)
        self._pool = urllib3.connection_from_url(
            self.base,
            maxsize=config.max_pool_connections,
            timeout=urllib3.Timeout(connect=config.connect_timeout, read=config.read_timeout),
            retries=False,
            **({"ca_certs": get_cert_path(True)} if self.base.startswith("https") else {}),
        )

    def close(self) -> None:
        self._pool.close()

    def path(self, key: str) -> str:
        return self._path + self._encode(key, safe="/~")

    def _send(self, method: str, key: str, headers: dict, body: bytes | None):
        """The urllib3 response, or None if the request did not complete (caller falls back)."""
        path = self.path(key)
        headers = self._signer.sign(method, self._host, path, headers)
        headers["user-agent"] = USER_AGENT
        try:
            return self._pool.urlopen(
                method,
                path,
                body=body,
                headers=headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=True,
            )
        except self._failures as e:
            log.debug("direct %s %s did not complete (%s); boto3 takes over", method, key, e)
            return None

    def put(self, key: str, body: bytes, params: dict) -> dict | None:
        """PUT ``body``; the response fields the uploader reads, or None to fall back."""
        headers = {"content-length": str(len(body))}
        for name, value in params.items():
            if name == "Metadata":
                headers.update({_META + k: v for k, v in value.items()})
            elif name in _HEADERS:
                headers[_HEADERS[name]] = value
            else:  # a parameter this fast path does not know: let boto3 send it
                return None
        resp = self._send("PUT", key, headers, body)
        if resp is None or resp.status != 200:
            return None
        return {"ETag": resp.headers.get("ETag", "")}

    def head(self, key: str) -> dict | None | bool:
        """The object's size and metadata; None if it does not exist; False to fall back."""
        resp = self._send("HEAD", key, {}, None)
        if resp is None:
            return False
        if resp.status == 404:
            return None
        if resp.status != 200:
            return False
        h = resp.headers
        try:
            length = int(h.get("Content-Length", ""))
        except ValueError:
            return False
        return {
            "ContentLength": length,
            "ETag": h.get("ETag", ""),
            "ContentType": h.get("Content-Type", ""),
            "Metadata": {
                k[len(_META) :].lower(): v for k, v in h.items() if k.lower().startswith(_META)
            },
        }
