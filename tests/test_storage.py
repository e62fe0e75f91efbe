"""The storage seam: ``S3Store`` keeps the ``Store`` protocol against the real store."""

from __future__ import annotations

import hashlib
import os
import urllib.request

import pytest
from support import store_target_for

from desktop_uploader.errors import StorageError
from desktop_uploader.pipeline.checksums import for_request
from desktop_uploader.storage import MultipartUpload, Store
from desktop_uploader.storage.s3 import S3Store

MiB = 1024 * 1024


@pytest.fixture
def store(store_target):
    s = S3Store(store_target_for(store_target))
    yield s
    s.close()


def test_single_objects_put_head_range_presign_delete(store):
    assert isinstance(store, Store)
    key = f"storage/{os.urandom(4).hex()}.txt"
    body = b"0123456789" * 100
    checksum, _ = for_request("crc32c", body)
    etag = store.put(
        key, body, {"ContentType": "text/plain", "Metadata": {"sha256": "x"}, **checksum}
    )
    assert etag.strip('"')
    head = store.head(key)
    assert head["ContentLength"] == 1000 and head["Metadata"] == {"sha256": "x"}
    assert store.get_range(key, 10, 19) == b"0123456789"
    assert store.get_range(key) == body
    with urllib.request.urlopen(store.presign(key, 60), timeout=10) as resp:
        assert resp.read() == body
    store.delete(key)
    assert store.head(key) is None
    store.delete(key)  # absent: not an error


def test_multipart_begin_resume_complete_and_abort(store):
    key = f"storage/{os.urandom(4).hex()}.bin"
    parts = [os.urandom(5 * MiB), os.urandom(1234)]
    upload = store.put_multipart(key, {"ContentType": "application/octet-stream"}, "crc32c")
    assert isinstance(upload, MultipartUpload)
    c1, _ = for_request("crc32c", parts[0])
    etag1 = upload.send_part(1, parts[0], c1)
    again, server = store.resume(key, upload.upload_id)
    assert list(server) == [1] and server[1]["ETag"] == etag1 and server[1]["Size"] == 5 * MiB
    c2, _ = for_request("crc32c", parts[1])
    etag2 = again.send_part(2, parts[1], c2)
    again.complete(
        [
            {"PartNumber": 1, "ETag": etag1, **c1},
            {"PartNumber": 2, "ETag": etag2, **c2},
        ]
    )
    assert hashlib.sha256(store.get_range(key)).digest() == hashlib.sha256(b"".join(parts)).digest()
    assert store.resume(key, upload.upload_id) is None  # completed: the server forgot it

    gone = store.put_multipart(key + ".aborted", {}, None)
    assert gone.upload_id in {u["UploadId"] for u in store.list_uploads()}
    store.abort(gone.key, gone.upload_id)
    store.abort(gone.key, gone.upload_id)  # already gone: not an error
    with pytest.raises(StorageError) as e:
        store.list_parts(gone.key, gone.upload_id)
    assert e.value.code == "no_such_upload"
    store.delete(key)


def test_check_names_a_missing_bucket(store_target):
    from dataclasses import replace

    target = store_target_for(store_target)
    s = S3Store(replace(target, bucket="no-such-bucket-here"))
    with pytest.raises(StorageError) as e:
        s.check()
    s.close()
    assert e.value.code == "no_such_bucket"


def test_only_the_storage_package_and_the_s3_client_speak_boto3():
    """The seam holds: no other module of the app calls an S3 client method itself."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "desktop_uploader"
    calls = re.compile(
        r"\.(put_object|delete_object|head_object|get_object|generate_presigned_url|"
        r"upload_part|create_multipart_upload|list_parts|abort_multipart_upload)\("
    )
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.parts[-2] != "storage" and calls.search(p.read_text())
    ]
    assert offenders == []
