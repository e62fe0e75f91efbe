"""One retry policy, counted against the real store through a proxy (tests/faultproxy.py)."""

from __future__ import annotations

import hashlib
import os

import pytest
from faultproxy import FaultProxy
from support import store_client, store_target_for

from desktop_uploader.errors import StorageError
from desktop_uploader.pipeline.upload import Uploader


def _through(proxy: FaultProxy, store_target, **settings):
    target = store_target_for(store_target, **settings)
    dest = target.destination
    from dataclasses import replace

    dest = replace(dest, endpoint=proxy.url, read_timeout=2.0, connect_timeout=2.0)
    return replace(target, destination=dest, endpoint=proxy.url)


def test_a_head_answer_cut_inside_its_checksum_is_asked_again_not_a_mismatch(
    store_target, tmp_path
):
    """The rare flake of the 50-file faulty-network batch: a HEAD answer cut off inside the
    x-amz-meta-sha256 header parses (http.client ends the headers at EOF) as an object whose
    SHA-256 is the first characters of ours; three such answers in a row failed the upload
    with verify_failed "SHA-256 does not match" although the object was right."""
    status, _ = store_target
    cuts = []

    def cut_heads(req, index):
        if req.method == "HEAD" and len(cuts) < 4:
            cuts.append(index)
            return "cut_meta"
        return None

    p = tmp_path / "small.bin"
    p.write_bytes(os.urandom(50_000))
    sha = hashlib.sha256(p.read_bytes()).hexdigest()
    with FaultProxy(status.ports["s3"], decide=cut_heads) as proxy:
        up = Uploader(_through(proxy, store_target))
        head = up.upload_file(p, "retries/cut-head.bin", sha, "application/octet-stream")
        up.close()
    assert len(cuts) == 4
    assert head["Metadata"]["sha256"] == sha
    body = store_client(store_target).get_object(Bucket=status.bucket, Key="retries/cut-head.bin")
    assert hashlib.sha256(body["Body"].read()).hexdigest() == sha


def _part_file(tmp_path):
    from desktop_uploader.pipeline.upload import MULTIPART_THRESHOLD

    p = tmp_path / "three-parts.bin"
    p.write_bytes(os.urandom(MULTIPART_THRESHOLD + 1234))  # 8 MiB parts: 1, 2, 3
    return p, hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize(("mode", "attempts"), [("standard", 3), ("adaptive", 2)])
def test_a_part_the_server_fails_with_503_is_tried_at_most_the_configured_times(
    store_target, tmp_path, mode, attempts
):
    """One retry policy: botocore's tries, not ours on top of them (there were up to 25)."""
    status, _ = store_target
    p, sha = _part_file(tmp_path)
    with FaultProxy(
        status.ports["s3"], decide=lambda req, i: "503" if req.part_number == 2 else None
    ) as proxy:
        up = Uploader(_through(proxy, store_target), attempts=attempts, retry_mode=mode)
        with pytest.raises(StorageError) as e:
            up.upload_file(p, f"retries/503-{mode}.bin", sha, "application/octet-stream")
        up.close()
    part2 = [r for r in proxy.parts_sent() if r.part_number == 2]
    assert len(part2) == attempts, [(r.status, r.fault) for r in part2]
    assert all(r.status == 503 for r in part2)
    assert e.value.code == "server_error" and e.value.transient  # the job waits, not retries


def test_a_part_failed_fewer_times_than_allowed_arrives(store_target, tmp_path):
    status, _ = store_target
    p, sha = _part_file(tmp_path)
    failed = []

    def fail_part2_twice(req, index):
        if req.part_number == 2 and len(failed) < 2:
            failed.append(index)
            return "503"
        return None

    with FaultProxy(status.ports["s3"], decide=fail_part2_twice) as proxy:
        up = Uploader(_through(proxy, store_target), attempts=3)
        up.upload_file(p, "retries/503-twice.bin", sha, "application/octet-stream")
        up.close()
    part2 = [r.status for r in proxy.parts_sent() if r.part_number == 2]
    assert part2 == [503, 503, 200]
    body = store_client(store_target).get_object(Bucket=status.bucket, Key="retries/503-twice.bin")
    assert hashlib.sha256(body["Body"].read()).hexdigest() == sha


def test_a_corrupted_part_is_sent_again_by_our_loop_which_botocore_does_not(store_target, tmp_path):
    """BadDigest is a 400 to botocore (never retried); ours resends the part, and stops."""
    status, _ = store_target
    p, sha = _part_file(tmp_path)
    with FaultProxy(
        status.ports["s3"], decide=lambda req, i: "flip" if req.part_number == 2 else None
    ) as proxy:
        up = Uploader(_through(proxy, store_target), attempts=3)
        with pytest.raises(StorageError) as e:
            up.upload_file(p, "retries/flipped.bin", sha, "application/octet-stream")
        up.close()
    from desktop_uploader.pipeline.upload import OWN_ATTEMPTS

    part2 = [r for r in proxy.parts_sent() if r.part_number == 2]
    assert len(part2) == OWN_ATTEMPTS and all(r.status == 400 for r in part2)
    assert e.value.code == "checksum_mismatch"
