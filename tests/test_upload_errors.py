"""Each permanent error has its own plain message; integrity checks that go beyond the PUT."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from imagegen import jpeg_bytes, scene
from weedserver import weed_server

from desktop_uploader.config import Destination
from desktop_uploader.credentials import S3Keys
from desktop_uploader.errors import StorageError
from desktop_uploader.pipeline.upload import MiB, Target, Uploader

IDENTITIES = [
    {
        "name": "admin",
        "credentials": [{"accessKey": "ADMINKEY", "secretKey": "admin-secret"}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    },
    {
        "name": "reader",
        "credentials": [{"accessKey": "READKEY", "secretKey": "read-secret"}],
        "actions": ["Read", "List"],
    },
    {
        "name": "writer",
        "credentials": [{"accessKey": "WRITEKEY", "secretKey": "write-secret"}],
        "actions": ["Read", "List", "Write"],
    },
]


@pytest.fixture(scope="module")
def server():
    with weed_server(IDENTITIES, "photos") as url:
        yield url


def uploader(url: str, key: str, secret: str, bucket: str = "photos", **dest_kw) -> Uploader:
    dest = Destination("e", endpoint=url, bucket=bucket, provider="seaweedfs", **dest_kw)
    return Uploader(Target(dest, url, bucket, f"{url}/{bucket}", S3Keys(key, secret)))


@pytest.fixture
def photo(tmp_path):
    p = tmp_path / "p.webp"
    p.write_bytes(jpeg_bytes(scene(120, 80, seed=3)))
    return p, hashlib.sha256(p.read_bytes()).hexdigest()


def test_read_only_key_is_told_it_may_not_write(server, photo):
    p, sha = photo
    up = uploader(server, "READKEY", "read-secret")
    with pytest.raises(StorageError) as e:
        up.upload_file(p, "a/p.webp", sha, "image/webp")
    up.close()
    assert e.value.code == "access_denied" and not e.value.transient
    assert "may not write" in e.value.message


def test_wrong_secret_is_told_apart_from_missing_rights(server, photo):
    p, sha = photo
    up = uploader(server, "READKEY", "not-the-secret")
    with pytest.raises(StorageError) as e:
        up.upload_file(p, "a/p.webp", sha, "image/webp")
    up.close()
    assert e.value.code == "bad_credentials"
    assert "not-the-secret" not in e.value.message


def test_missing_bucket_for_a_non_admin_key(server, photo):
    p, sha = photo
    up = uploader(server, "WRITEKEY", "write-secret", bucket="no-such-bucket")
    with pytest.raises(StorageError) as e:
        up.check_bucket()
    up.close()
    assert e.value.code == "no_such_bucket"
    assert "'no-such-bucket' does not exist" in e.value.message


def test_writer_key_uploads_and_get_verification_reads_back(server, photo):
    p, sha = photo
    up = uploader(server, "WRITEKEY", "write-secret", verify_download_max_bytes=10 * MiB)
    calls = []
    up.client.meta.events.register("before-send.s3.GetObject", lambda **kw: calls.append(1))
    head = up.upload_file(p, "a/p.webp", sha, "image/webp")
    assert head["ContentLength"] == p.stat().st_size and calls == [1]
    with pytest.raises(StorageError) as e:  # metadata that lies about the bytes is caught
        up.client.put_object(
            Bucket="photos", Key="a/lie.webp", Body=b"other bytes", Metadata={"sha256": sha}
        )
        up.verify("a/lie.webp", len(b"other bytes"), sha)
    up.close()
    assert e.value.code == "verify_failed"


def test_file_changing_mid_upload_aborts_and_says_so(server, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * MiB))
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    up = uploader(server, "WRITEKEY", "write-secret", part_concurrency=1)

    def touch_once(n: int, done=[]) -> None:  # noqa: B006 - a one-shot flag
        if not done:
            done.append(1)
            time.sleep(0.01)
            with open(big, "ab") as f:
                f.write(b"appended while uploading")

    with pytest.raises(StorageError) as e:
        up.upload_file(big, "a/big.bin", sha, "application/octet-stream", touch_once)
    assert e.value.code == "source_changed" and e.value.transient
    assert up.head("a/big.bin") is None, "no object made of mixed bytes"
    up.close()


def test_stale_uploads_are_aborted_and_listed(server, tmp_path):
    from desktop_uploader.journal import Journal

    journal = Journal(tmp_path / "j.sqlite3")
    up = uploader(server, "WRITEKEY", "write-secret")
    up.journal = journal
    resp = up.client.create_multipart_upload(Bucket="photos", Key="old/x.bin")
    journal.begin_multipart(resp["UploadId"], None, "photos", "old/x.bin", 5 * MiB, 6 * MiB, "s")
    assert [u["key"] for u in up.list_incomplete()] == ["old/x.bin"]
    assert up.abort_stale(older_than_hours=1) == []  # too young
    aborted = up.abort_stale(older_than_hours=0)
    assert [r["key"] for r in aborted] == ["old/x.bin"]
    assert up.list_incomplete() == []
    assert journal.stale_multipart(0) == []
    up.close()
    journal.close()


def test_refused_keys_are_renewed_only_where_the_destination_can_renew_them(server, photo):
    """The embedded store's keys may change under a running upload (a restart without a
    keyring): its Target can be resolved again. A destination without ``renew`` (every cloud
    one), or a renewal that brings the same keys, still reports the bad key."""
    from dataclasses import replace

    p, sha = photo
    bad = uploader(server, "ADMINKEY", "not-the-secret")
    good_target = uploader(server, "ADMINKEY", "admin-secret").target
    asked = []

    def renew_to(target):
        def renew():
            asked.append(target.keys.secret_access_key)
            return target

        return renew

    with pytest.raises(StorageError) as e:
        bad.upload_file(p, "r/no-renew.webp", sha, "image/webp")
    assert e.value.code == "bad_credentials"
    bad.target = replace(bad.target, renew=renew_to(bad.target))
    with pytest.raises(StorageError) as e:
        bad.upload_file(p, "r/same-keys.webp", sha, "image/webp")
    assert e.value.code == "bad_credentials" and asked
    bad.target = replace(bad.target, renew=renew_to(good_target))
    asked.clear()
    head = bad.upload_file(p, "r/renewed.webp", sha, "image/webp")
    assert head["Metadata"]["sha256"] == sha
    assert asked == ["admin-secret"]  # renewed once, then every request used the new keys
    bad.close()
