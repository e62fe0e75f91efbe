"""Uploads that survive kills, server restarts and a faulty network (real SeaweedFS)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from faultproxy import FaultProxy
from imagegen import jpeg_bytes, scene
from PIL import Image
from support import ROOT, store_client, store_uploader

from desktop_uploader.app import App
from desktop_uploader.paths import HOME_ENV, AppPaths
from desktop_uploader.pipeline.upload import MiB, Uploader


def noise_png(path: Path, side: int) -> None:
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, compress_level=1)


def wait_for(predicate, timeout: float, what: str, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"process ended before {what}: {proc.returncode}\n{out}\n{err}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def journal_parts(home: Path) -> int:
    db = home / "data" / "journal.sqlite3"
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=5) as c:
        try:
            return c.execute("SELECT count(*) FROM parts").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def test_kill_9_mid_upload_resumes_without_resending(local_store, store_target, tmp_path):
    """A subprocess uploads a ≥ 64 MiB original; it is killed twice mid-upload and restarted.
    Parts already on the server are never sent again, and exactly one correct object results."""
    status, keys = store_target
    src = tmp_path / "scan.png"
    noise_png(src, 4800)  # ≈ 66 MiB of incompressible pixels
    home = tmp_path / "home"
    prefix = f"kill{os.urandom(3).hex()}"
    with FaultProxy(status.ports["s3"]) as proxy:
        (home / "config").mkdir(parents=True)
        (home / "config" / "settings.toml").write_text(
            f'default_profile = "proxied"\n[destinations.proxied]\nendpoint = "{proxy.url}"\n'
            f'bucket = "{status.bucket}"\nprefix = "{prefix}"\nprovider = "seaweedfs"\n'
            f'public_base_url = "{status.public_base_url}"\npart_concurrency = 2\n'
        )
        env = dict(
            os.environ,
            AWS_ACCESS_KEY_ID=keys.access_key_id,
            AWS_SECRET_ACCESS_KEY=keys.secret_access_key,
        )
        env[HOME_ENV] = str(home)
        cmd = [
            sys.executable,
            "-m",
            "desktop_uploader",
            "upload",
            "--json",
            "--preset",
            "original",
            "--bwlimit",
            "12Mi",
            str(src),
        ]
        client = store_client(store_target)

        def server_parts() -> tuple[str, set[int]]:
            ups = client.list_multipart_uploads(Bucket=status.bucket, Prefix=prefix)
            uploads = ups.get("Uploads", [])
            assert len(uploads) == 1, uploads
            uid = uploads[0]["UploadId"]
            parts = client.list_parts(Bucket=status.bucket, Key=uploads[0]["Key"], UploadId=uid)
            return uid, {p["PartNumber"] for p in parts.get("Parts", [])}

        on_server_before: list[tuple[int, set[int]]] = []  # (proxy index, parts on server)
        upload_ids = set()
        for kill_at in (2, 5):
            mark = proxy.count()
            proc = subprocess.Popen(
                cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            wait_for(lambda k=kill_at: journal_parts(home) >= k, 120, f"{kill_at} parts", proc)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            uid, parts = server_parts()
            upload_ids.add(uid)
            assert len(parts) >= kill_at
            on_server_before.append((proxy.count(), parts))
            if len(on_server_before) == 2:  # the second run re-sent nothing the first left
                sent_again = {r.part_number for r in proxy.parts_sent(since=mark)}
                assert not (sent_again & on_server_before[0][1]), sent_again
        mark = proxy.count()
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["status"] == "done"
        final_sent = {r.part_number for r in proxy.parts_sent(since=mark)}
        assert not (final_sent & on_server_before[-1][1]), final_sent
        assert {r.upload_id for r in proxy.parts_sent()} == upload_ids, "upload restarted"
        log = (home / "data" / "logs" / "desktop-uploader.log").read_text()
        assert log.count("reusing spooled output") == 2, "a resume re-processed the image"

    body = client.get_object(Bucket=status.bucket, Key=result["key"])["Body"].read()
    assert len(body) >= 64 * MiB
    assert hashlib.sha256(body).hexdigest() == result["sha256"]
    out = tmp_path / "back.png"
    out.write_bytes(body)
    with Image.open(src) as a, Image.open(out) as b:
        assert a.size == b.size and a.tobytes() == b.tobytes(), "original preset is lossless"
    keys_listed = client.list_objects_v2(Bucket=status.bucket, Prefix=prefix)["Contents"]
    assert sorted(o["Key"] for o in keys_listed) == sorted([result["key"], result["thumbnail_key"]])
    assert not client.list_multipart_uploads(Bucket=status.bucket, Prefix=prefix).get("Uploads")


@pytest.fixture
def proxied_app(app, store_target):
    """The test app, but talking to the store through a fault proxy."""
    status, _ = store_target
    proxy = FaultProxy(status.ports["s3"], stall_seconds=4.0).start()
    dest = app.settings.destinations["test"]
    dest.endpoint = proxy.url
    dest.read_timeout = 2.0
    dest.connect_timeout = 2.0
    yield app, proxy
    app.close()
    proxy.stop()


def test_batch_of_50_through_a_faulty_network_all_arrive_verified(
    proxied_app, tmp_path, store_target
):
    app, proxy = proxied_app
    proxy.rates = {"reset": 0.05, "truncate": 0.04, "flip": 0.05, "stall": 0.01}
    files = []
    for i in range(50):
        p = tmp_path / f"img{i:02d}.jpg"
        p.write_bytes(jpeg_bytes(scene(160, 120, seed=1000 + i + os.getpid() % 97), quality=80))
        files.append(p)
    app.offline_wait = 120
    results = app.engine.run(files, "test", app.settings.preset(None))
    assert [r.status for r in results] == ["done"] * 50, [
        (r.source, r.code, r.reason) for r in results if r.status != "done"
    ]
    faults = [r.fault for r in proxy.requests if r.fault]
    assert {"reset", "truncate", "flip"} <= set(faults), faults
    # small files take the direct PUT/HEAD path, and its faults were handed to boto3 and healed
    direct = [r for r in proxy.requests if "direct-s3" in r.agent]
    assert {r.method for r in direct} == {"PUT", "HEAD"}
    assert any(r.fault for r in direct), "no fault hit a direct request"
    client = store_client(store_target)
    status, _ = store_target
    for r in results:
        body = client.get_object(Bucket=status.bucket, Key=r.key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == r.sha256
        assert client.head_object(Bucket=status.bucket, Key=r.thumbnail_key)["ContentLength"] > 0


@pytest.mark.parametrize("provider", ["aws", "seaweedfs", "other"])  # CRC32C / CRC32C / MD5
def test_corrupted_part_is_rejected_by_the_server_and_resent(
    proxied_app, tmp_path, provider, store_target
):
    app, proxy = proxied_app
    app.settings.destinations["test"].provider = provider
    app.settings.destinations["test"].addressing_style = "path"  # a bucket in the path on 127.0.0.1
    flipped = []

    def flip_first_part_2(req, index):
        if req.part_number == 2 and not flipped:
            flipped.append(index)
            return "flip"
        return None

    proxy.decide = flip_first_part_2
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * MiB + 12345))
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    up: Uploader = app.uploader("test")
    key = f"{app.settings.destinations['test'].prefix}/corrupt-{provider}.bin"
    up.upload_file(big, key, sha, "application/octet-stream")
    up.close()
    part2 = [r for r in proxy.parts_sent() if r.part_number == 2]
    assert len(part2) == 2 and part2[0].fault == "flip" and part2[0].status == 400
    assert part2[1].status == 200
    body = store_client(store_target).get_object(Bucket=up.bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == sha


def test_server_restart_mid_batch_loses_nothing(tmp_path, memory_keyring):
    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "k").ensure()
    app = App(paths)
    store = app.local_store
    store.start()
    files = []
    for i in range(24):
        p = tmp_path / f"r{i:02d}.jpg"
        p.write_bytes(jpeg_bytes(scene(240, 160, seed=300 + i), quality=85))
        files.append(p)
    done = []
    app.offline_wait = 180
    engine = app.engine
    engine.waiting._probe_interval = 0.5
    engine.subscribe(lambda e: e.kind == "done" and done.append(e.job_id))
    app.set_bandwidth_limit(150_000)  # slow enough that the restart lands mid-batch
    try:
        jobs = [engine.submit(f, "local", app.settings.preset(None)) for f in files]
        wait_for(lambda: len(done) >= 4, 120, "4 uploads")
        assert store.stop() is True
        time.sleep(2)
        store.start()
        results = [j.future.result(timeout=240) for j in jobs]
        assert [r.status for r in results] == ["done"] * len(files), [
            (r.code, r.reason) for r in results
        ]
        assert len(done) == len(files)
        up = app.uploader("local")
        for r in results:
            assert up.exists_verified(r.key, r.bytes, r.sha256)
        up.close()
    finally:
        app.close()
        store.stop()


def test_pause_resume_and_cancel(app, tmp_path):
    files = []
    for i in range(6):
        p = tmp_path / f"p{i}.jpg"
        p.write_bytes(jpeg_bytes(scene(200, 150, seed=500 + i)))
        files.append(p)
    stages = []
    app.engine.subscribe(lambda e: e.kind == "stage" and stages.append(e.data["stage"]))
    app.engine.pause()
    jobs = [app.engine.submit(f, "test", app.settings.preset(None)) for f in files]
    wait_for(lambda: stages.count("paused") >= len(files), 30, "all jobs parked")
    assert not any(j.future.done() for j in jobs)
    app.engine.cancel(jobs[0].id)
    assert jobs[0].future.result(timeout=10).status == "cancelled"
    app.engine.resume()
    results = [j.future.result(timeout=60) for j in jobs[1:]]
    assert [r.status for r in results] == ["done"] * 5
    assert Path(files[0]).exists(), "cancelling never touches the source"
    assert app.journal.job(jobs[0].id)["status"] == "cancelled"
    retried = app.engine.retry(jobs[0].id)
    assert retried is not None and retried.future.result(timeout=60).status == "done"


def test_pausing_a_multipart_upload_keeps_its_parts(app, tmp_path):
    """Pause mid-upload: parts sent so far are journaled; resuming sends only the rest."""
    from desktop_uploader.errors import Paused

    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(40 * MiB))
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    app.settings.destinations["test"].part_concurrency = 1
    up: Uploader = app.uploader("test")
    key = f"{app.settings.destinations['test'].prefix}/paused.bin"
    seen = []

    def pause_after_two(n: int) -> None:
        seen.append(n)
        if len(seen) == 2:
            raise Paused()

    with pytest.raises(Paused):
        up.upload_file(big, key, sha, "application/octet-stream", pause_after_two)
    open_upload = app.journal.open_multipart(up.bucket, key, sha)
    assert open_upload is not None
    recorded = app.journal.parts(open_upload["upload_id"])
    assert len(recorded) >= 2
    resumed = []
    head = up.upload_file(big, key, sha, "application/octet-stream", resumed.append)
    up.close()
    assert head["ContentLength"] == 40 * MiB
    assert sum(resumed) == 40 * MiB  # progress covers the whole file, sent or not
    assert app.journal.open_multipart(up.bucket, key, sha) is None


def test_changed_source_restarts_cleanly(app, tmp_path):
    """A file that changes between runs is a new upload; the old one is never mixed in."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * MiB))
    sha1 = hashlib.sha256(big.read_bytes()).hexdigest()
    up: Uploader = app.uploader("test")
    key = f"{app.settings.destinations['test'].prefix}/changing.bin"
    from desktop_uploader.errors import Paused

    def stop_early(n: int) -> None:
        raise Paused()

    with pytest.raises(Paused):
        up.upload_file(big, key, sha1, "application/octet-stream", stop_early)
    big.write_bytes(os.urandom(20 * MiB))  # different bytes, same name and key
    sha2 = hashlib.sha256(big.read_bytes()).hexdigest()
    up.upload_file(big, key, sha2, "application/octet-stream")
    body = up.client.get_object(Bucket=up.bucket, Key=key)["Body"].read()
    up.close()
    assert hashlib.sha256(body).hexdigest() == sha2


def test_bandwidth_limit_is_shared_across_threads(monkeypatch):
    """The limiter's schedule, on a fake clock: N bytes at R bytes/s take N/R seconds in total,
    however many threads ask."""
    from desktop_uploader.pipeline import ratelimit

    clock = {"t": 0.0}
    slept = []
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock["t"])
    monkeypatch.setattr(ratelimit.time, "sleep", lambda s: slept.append(s))
    lim = ratelimit.RateLimiter(1_000_000)
    threads = [threading.Thread(target=lim.take, args=(250_000,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(slept)[-1] == pytest.approx(1.75)  # the 8th waits for the 7 before it
    assert lim._next == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("text", "rate"),
    [("20M", 20e6), ("512k", 512e3), ("8Mi", 8 * MiB), ("1.5G", 1.5e9), ("1000", 1000.0)],
)
def test_parse_rate(text, rate):
    from desktop_uploader.pipeline.upload import parse_rate

    assert parse_rate(text) == pytest.approx(rate)


def test_part_sizes_respect_s3_limits():
    from desktop_uploader.pipeline.multipart import MAX_PARTS, MIN_PART, part_size_for

    for total in (17 * MiB, 64 * MiB, 5 * 1024 * MiB, 80 * 1024 * MiB, 4 * 1024**4):
        size = part_size_for(total)
        assert MIN_PART <= size <= 5 * 1024 * MiB
        assert -(-total // size) <= MAX_PARTS
    # small multipart files keep 8 MiB parts (resume granularity), big ones grow to 64 MiB
    assert part_size_for(66 * MiB) == 8 * MiB
    assert part_size_for(256 * MiB) == 16 * MiB
    assert part_size_for(1024 * MiB) == part_size_for(60 * 1024 * MiB) == 64 * MiB


def test_a_slow_part_does_not_hold_up_the_others(store_target, tmp_path):
    # The window refills as each part finishes: one slow part must not turn the upload
    # into waves that wait for their slowest member (nor delay journaling finished parts).
    up = store_uploader(store_target, part_concurrency=2)
    times: dict[int, list[float]] = {}
    real = up._send_part

    def timed_part(upload, number, data):
        times[number] = [time.monotonic()]
        if number == 1:
            time.sleep(1.5)
        try:
            return real(upload, number, data)
        finally:
            times[number].append(time.monotonic())

    up._send_part = timed_part
    big = tmp_path / "six-parts.bin"
    big.write_bytes(os.urandom(48 * MiB))
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    up.upload_file(big, "window/six-parts.bin", sha, "application/octet-stream")
    up.close()
    assert sorted(times) == [1, 2, 3, 4, 5, 6]
    first_done = times[1][1]
    assert all(times[n][0] < first_done for n in (3, 4, 5, 6)), times


def test_part_buffers_are_reused_and_the_object_is_exact(store_target, tmp_path):
    # The window's buffers go round: no fresh allocation (and its page faults) per part.
    up = store_uploader(store_target, part_concurrency=2)
    bodies: list = []
    real = up._send_part

    def keep_body(upload, number, data):
        bodies.append(data)  # kept alive, so a new object can't reuse an old one's address
        return real(upload, number, data)

    up._send_part = keep_body
    big = tmp_path / "reuse.bin"
    big.write_bytes(os.urandom(44 * MiB + 4321))  # 5 full 8 MiB parts and a short last one
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    up.upload_file(big, "reuse/reuse.bin", sha, "application/octet-stream")
    body = up.client.get_object(Bucket=up.bucket, Key="reuse/reuse.bin")["Body"].read()
    up.close()
    assert hashlib.sha256(body).hexdigest() == sha
    assert len(bodies) == 6
    distinct = []
    for b in bodies[:-1]:
        if not any(b is d for d in distinct):
            distinct.append(b)
    assert len(distinct) <= 2, f"{len(distinct)} buffers for 5 full parts with a window of 2"
    assert len(bodies[-1]) == 4 * MiB + 4321


@pytest.mark.parametrize("recorded", ["crc32", ""])  # an older version's upload; "" = not noted
def test_an_upload_begun_with_another_checksum_is_started_again(store_target, tmp_path, recorded):
    """Parts checksummed with CRC32 can't be completed with CRC32C ones: such an open upload
    (from before the switch) is aborted and the file sent afresh, never mixed."""
    import base64
    import zlib

    from desktop_uploader.journal import Journal

    journal = Journal(tmp_path / "journal.sqlite3")
    up = store_uploader(store_target, journal=journal)
    big = tmp_path / "old.bin"
    big.write_bytes(os.urandom(20 * MiB))
    data = big.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    key = f"checksum-switch/{recorded or 'legacy'}.bin"
    client = up.client
    old = client.create_multipart_upload(Bucket=up.bucket, Key=key, ChecksumAlgorithm="CRC32")
    uid = old["UploadId"]
    first = data[: 8 * MiB]
    crc = base64.b64encode(zlib.crc32(first).to_bytes(4, "big")).decode()
    part = client.upload_part(
        Bucket=up.bucket, Key=key, UploadId=uid, PartNumber=1, Body=first, ChecksumCRC32=crc
    )
    journal.begin_multipart(uid, None, up.bucket, key, 8 * MiB, len(data), sha, recorded)
    journal.record_part(uid, 1, part["ETag"], "", 8 * MiB, crc)

    up.upload_file(big, key, sha, "application/octet-stream")
    body = client.get_object(Bucket=up.bucket, Key=key)["Body"].read()
    still_open = client.list_multipart_uploads(Bucket=up.bucket, Prefix=key).get("Uploads", [])
    up.close()
    assert hashlib.sha256(body).hexdigest() == sha
    assert uid not in [u["UploadId"] for u in still_open]
    states = {r["upload_id"]: r for r in journal._query("SELECT * FROM multipart_uploads", ())}
    assert states[uid]["state"] == "superseded"
    assert [r["checksum_algorithm"] for u, r in states.items() if u != uid] == ["crc32c"]
    journal.close()


def test_an_older_journal_gets_the_checksum_column(tmp_path):
    from desktop_uploader.journal import Journal

    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as c:  # multipart_uploads as an earlier version made it
        c.execute(
            "CREATE TABLE multipart_uploads (upload_id TEXT PRIMARY KEY, job_id INTEGER,"
            " bucket TEXT NOT NULL, key TEXT NOT NULL, part_size INTEGER NOT NULL,"
            " total_size INTEGER NOT NULL, file_sha256 TEXT NOT NULL,"
            " state TEXT NOT NULL DEFAULT 'open', created_at REAL NOT NULL)"
        )
        c.execute(
            "INSERT INTO multipart_uploads VALUES ('U1', NULL, 'b', 'k', 8, 20, 'ab', 'open', 0)"
        )
    journal = Journal(db)
    assert journal.open_multipart("b", "k", "ab")["checksum_algorithm"] == ""
    journal.begin_multipart("U2", None, "b", "k2", 8, 20, "cd", "crc32c")
    assert journal.open_multipart("b", "k2", "cd")["checksum_algorithm"] == "crc32c"
    journal.close()
