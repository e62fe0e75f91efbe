"""One retry policy, counted against the real store through a proxy (tests/faultproxy.py)."""

from __future__ import annotations

import hashlib
import os

from faultproxy import FaultProxy
from support import store_client, store_target_for

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
