"""The direct PUT/HEAD fast path, against the real embedded SeaweedFS store.

It must store exactly what boto3 would store, find what boto3 would find, and hand every
unexpected answer back to boto3 so errors keep their meaning."""

from __future__ import annotations

import hashlib
import os

import pytest
from support import store_client, store_uploader

from desktop_uploader.config import Destination
from desktop_uploader.credentials import S3Keys
from desktop_uploader.errors import StorageError
from desktop_uploader.pipeline.upload import Target, Uploader
from desktop_uploader.storage import directs3


class _Spy:
    """Counts calls of a boto3 client method while still making them."""

    def __init__(self, client, name: str) -> None:
        self.calls = 0
        self._real = getattr(client, name)
        setattr(client, name, self)

    def __call__(self, *a, **kw):
        self.calls += 1
        return self._real(*a, **kw)


def _file(tmp_path, name: str, size: int = 150_000):
    p = tmp_path / name
    p.write_bytes(os.urandom(size))
    return p, hashlib.sha256(p.read_bytes()).hexdigest()


def test_small_files_skip_boto3_and_store_what_boto3_would(store_target, tmp_path, monkeypatch):
    p, sha = _file(tmp_path, "a.webp")
    up = store_uploader(store_target)
    assert up.direct is not None
    put, head = _Spy(up.client, "put_object"), _Spy(up.client, "head_object")
    up.upload_file(p, "direct/a.webp", sha, "image/webp")
    assert (put.calls, head.calls) == (0, 0)  # PUT and verifying HEAD both went direct
    up.close()

    monkeypatch.setenv("DESKTOP_UPLOADER_DIRECT_S3", "0")
    twin = store_uploader(store_target)
    assert twin.direct is None
    twin.upload_file(p, "direct/a-boto3.webp", sha, "image/webp")
    twin.close()

    status, _ = store_target
    client = store_client(store_target)
    ours = client.head_object(Bucket=status.bucket, Key="direct/a.webp")
    theirs = client.head_object(Bucket=status.bucket, Key="direct/a-boto3.webp")
    for field in ("ContentLength", "ContentType", "CacheControl", "Metadata", "ETag"):
        assert ours[field] == theirs[field], field
    body = client.get_object(Bucket=status.bucket, Key="direct/a.webp")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == sha and ours["Metadata"] == {"sha256": sha}


@pytest.mark.parametrize(
    "key",
    [
        "direct/with space.webp",
        "direct/ünï/cødé.webp",
        "direct/a+b=c&d~e%20f.webp",
        "direct/(1)!'*.webp",
    ],
)
def test_awkward_keys_land_where_boto3_looks(store_target, tmp_path, key):
    p, sha = _file(tmp_path, "k.bin", 5_000)
    up = store_uploader(store_target)
    head = _Spy(up.client, "head_object")
    up.upload_file(p, key, sha, "application/octet-stream")
    assert head.calls == 0
    status, keys = store_target
    body = up.client.get_object(Bucket=status.bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == sha
    up.close()


def test_missing_object_is_none_without_asking_boto3(store_target):
    up = store_uploader(store_target)
    head = _Spy(up.client, "head_object")
    assert up.head("direct/not-there.webp") is None
    assert head.calls == 0
    up.close()


def test_a_refusal_is_handed_to_boto3_and_keeps_its_message(store_target, tmp_path):
    p, sha = _file(tmp_path, "b.webp", 2_000)
    _, keys = store_target
    up = store_uploader(store_target, keys=S3Keys(keys.access_key_id, "not-the-secret"))
    assert up.direct is not None
    put = _Spy(up.client, "put_object")
    with pytest.raises(StorageError) as e:
        up.upload_file(p, "direct/b.webp", sha, "image/webp")
    assert e.value.code == "bad_credentials" and "access key or secret" in e.value.message
    assert put.calls >= 1  # the direct attempt was refused, boto3 made the call that explains it
    up.close()


def test_unreachable_endpoint_still_reads_as_unreachable(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    dest = Destination("d", endpoint=url, bucket="b", provider="seaweedfs", connect_timeout=1)
    up = Uploader(Target(dest, url, "b", "", S3Keys("k", "s")))
    assert up.direct is not None
    p, sha = _file(tmp_path, "c.webp", 1_000)
    with pytest.raises(StorageError) as e:
        up._put(p, "c.webp", 1_000, {"Metadata": {"sha256": sha}}, None)
    assert e.value.code == "unreachable" and e.value.transient
    up.close()


def test_not_used_behind_a_proxy_or_when_switched_off(monkeypatch):
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    assert directs3.enabled_for("http://127.0.0.1:8333")
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    assert not directs3.enabled_for("http://127.0.0.1:8333")
    assert directs3.enabled_for("https://127.0.0.1:8333")  # the proxy is for http only
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert directs3.enabled_for("http://127.0.0.1:8333")
    monkeypatch.setenv("DESKTOP_UPLOADER_DIRECT_S3", "0")
    assert not directs3.enabled_for("http://127.0.0.1:8333")


@pytest.mark.parametrize(
    "endpoint",
    [
        None,  # AWS S3
        "https://s3.example.com",
        "https://acct.r2.cloudflarestorage.com",
        "http://192.168.1.20:8333",  # a NAS on the LAN: not where the fast path was measured
        "http://[2001:db8::1]:9000",
        "http://localhost.example.com:8333",
    ],
)
def test_a_destination_off_this_machine_never_takes_the_fast_path(endpoint, monkeypatch):
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    dest = Destination("d", endpoint=endpoint, bucket="b", provider="seaweedfs")
    up = Uploader(Target(dest, endpoint, "b", "", S3Keys("k", "s")))
    assert up.direct is None
    up.close()


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:8333/photos/", "127.0.0.1:8333"),
        ("http://LOCALHOST:80/b/", "localhost"),
        ("https://Bucket.s3.eu-west-1.amazonaws.com/", "bucket.s3.eu-west-1.amazonaws.com"),
        ("https://h.example:443/", "h.example"),
        ("https://h.example:8443/", "h.example:8443"),
        ("http://[::1]:9000/b/", "[::1]:9000"),
    ],
)
def test_host_header_as_http_clients_send_it(url, host):
    assert directs3.host_header(url) == host


def test_signature_is_botocores_for_the_same_request(monkeypatch):
    import datetime

    from botocore import auth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials

    when = datetime.datetime(2026, 11, 26, 15, 4, 5, tzinfo=datetime.UTC)
    monkeypatch.setattr(auth, "get_current_datetime", lambda: when.replace(tzinfo=None))
    headers = {
        "Content-Length": "1234",
        "Content-Type": "image/webp",
        "Cache-Control": "public,  max-age=31536000,   immutable",  # runs of spaces: trimmed
        "x-amz-checksum-crc32c": "yZRlqg==",
        "x-amz-meta-sha256": "ab" * 32,
    }
    for host, path in [
        ("127.0.0.1:8333", "/photos/i/with%20space/%C3%BC%2Bx.webp"),
        ("bucket.s3.eu-west-1.amazonaws.com", "/i/a~b.webp"),
    ]:
        ours = directs3.SigV4("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", "eu-west-1").sign(
            "PUT", host, path, headers, now=when
        )
        req = AWSRequest(method="PUT", url=f"http://{host}{path}", headers=headers, data=b"")
        req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        auth.S3SigV4Auth(
            Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG"), "s3", "eu-west-1"
        ).add_auth(req)
        assert ours["authorization"] == req.headers["Authorization"]
        assert ours["x-amz-date"] == req.headers["X-Amz-Date"] == "20261126T150405Z"
        assert ours["x-amz-content-sha256"] == req.headers["X-Amz-Content-SHA256"]
