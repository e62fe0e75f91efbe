"""The window killed with ``kill -9`` while 30 files are in flight, then started again: its queue
comes back from the journal, every file completes, and nothing the server already had — no part
of a multipart upload, no finished object — is sent again. Real SeaweedFS behind a counting
proxy; the window runs offscreen in a child process (tests/gui/crash_driver.py)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from faultproxy import FaultProxy
from PIL import Image
from support import ROOT, store_client

from desktop_uploader.paths import HOME_ENV
from desktop_uploader.pipeline.upload import MULTIPART_THRESHOLD

DRIVER = ROOT / "tests" / "gui" / "crash_driver.py"
BIG, SMALL = 4, 26  # multipart sources (3 parts each) and single-PUT ones: 30 files


def noise_png(path: Path, side: int, seed: int) -> None:
    data = hashlib.shake_256(str(seed).encode()).digest(side * side * 3)
    Image.frombytes("RGB", (side, side), data).save(path, compress_level=1)


def read_report(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {"rows": []}


def journal(home: Path, sql: str) -> list[tuple]:
    db = home / "data" / "journal.sqlite3"
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=5) as c:
        try:
            return c.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the window ended before {what}: {proc.returncode}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def slow_puts(req, index) -> None:
    """A slow link: every upload request waits a little, so files are mid-flight at the kill."""
    if req.method == "PUT":
        time.sleep(0.15)
    return None


def test_kill_9_window_mid_queue_resumes_without_resending(local_store, store_target, tmp_path):
    status, keys = store_target
    src = tmp_path / "in"
    src.mkdir()
    files = []
    for i in range(BIG):
        p = src / f"big{i:02d}.png"
        noise_png(p, 2400, seed=i)  # > 16 MiB of incompressible pixels: 3 parts of 8 MiB
        assert p.stat().st_size > MULTIPART_THRESHOLD
        files.append(p)
    for i in range(SMALL):
        p = src / f"small{i:02d}.png"
        noise_png(p, 300, seed=100 + i)
        files.append(p)
    home = tmp_path / "home"
    prefix = f"crash{os.urandom(3).hex()}"
    client = store_client(store_target)
    with FaultProxy(status.ports["s3"], decide=slow_puts) as proxy:
        (home / "config").mkdir(parents=True)
        (home / "config" / "settings.toml").write_text(
            f'default_profile = "proxied"\n[destinations.proxied]\nendpoint = "{proxy.url}"\n'
            f'bucket = "{status.bucket}"\nprefix = "{prefix}"\nprovider = "seaweedfs"\n'
            f'public_base_url = "{status.public_base_url}"\npart_concurrency = 2\n'
            'malware_scan = "off"\ncontent_check = "off"\n'
        )
        env = dict(
            os.environ,
            AWS_ACCESS_KEY_ID=keys.access_key_id,
            AWS_SECRET_ACCESS_KEY=keys.secret_access_key,
            QT_QPA_PLATFORM="offscreen",
        )
        env[HOME_ENV] = str(home)
        report = tmp_path / "queue.json"
        first = subprocess.Popen(
            [sys.executable, str(DRIVER), str(report), "--preset", "original", *map(str, files)],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        try:
            # mid-flight: some files finished, some multipart uploads have parts on the server
            wait_for(
                lambda: (
                    len(journal(home, "SELECT * FROM parts")) >= 4
                    and len(read_report(report)["rows"]) == 30
                ),
                300,
                "parts on the server",
                first,
            )
            os.kill(first.pid, signal.SIGKILL)  # kill -9: no clean-up of any kind
            first.wait(10)
        finally:
            with_leftovers_gone(first)
        unfinished = {
            r[0] for r in journal(home, "SELECT id FROM jobs WHERE status NOT IN ('done')")
        }
        assert len(unfinished) >= 20, f"only {len(unfinished)} files were in flight at the kill"
        mark = proxy.count()
        objects_before = {o["Key"] for o in list_objects(client, status.bucket, prefix)}
        parts_before = server_parts(client, status.bucket, prefix)
        assert any(p for _, p in parts_before.values()), "no multipart upload half done"

        second = subprocess.Popen(
            [sys.executable, str(DRIVER), str(report), "--until-done"],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        try:
            # the queue comes back: the unfinished jobs, under their own ids
            wait_for(
                lambda: (
                    read_report(report).get("pid") == second.pid
                    and {r["job_id"] for r in read_report(report)["rows"]} == unfinished
                ),
                60,
                "the queue to come back",
                second,
            )
            assert second.wait(300) == 0
        finally:
            with_leftovers_gone(second)
        sent = proxy.requests[mark:]

    statuses = journal(home, "SELECT status, count(*) FROM jobs GROUP BY status")
    assert statuses == [("done", 30)], statuses
    # no part the server had is sent again, and half-done uploads go on (not start over)
    for r in sent:
        if r.method == "PUT" and r.part_number is not None:
            assert r.part_number not in parts_before.get(r.upload_id, (None, set()))[1], r
    completed = {r.upload_id for r in sent if r.method == "POST" and r.upload_id}
    assert set(parts_before) <= completed, "a half-done upload was not completed where it was"
    half_done = {key for key, _ in parts_before.values()}
    started_over = [r for r in sent if r.method == "POST" and "uploads" in r.query]
    assert not [r for r in started_over if _key(r) in half_done], started_over
    # no finished object is uploaded again
    again = [r for r in sent if r.method == "PUT" and _key(r) in objects_before]
    assert not again, again
    rows = journal(home, "SELECT key, sha256, bytes FROM jobs")
    for key, sha, size in rows:
        body = client.get_object(Bucket=status.bucket, Key=key)["Body"].read()
        assert len(body) == size and hashlib.sha256(body).hexdigest() == sha, key
    assert not client.list_multipart_uploads(Bucket=status.bucket, Prefix=prefix).get("Uploads")


def _key(req) -> str:
    return req.path.split("/", 2)[-1]  # /bucket/key


def server_parts(client, bucket: str, prefix: str) -> dict[str, tuple[str, set[int]]]:
    """Upload id -> (key, the part numbers the server holds) for every open multipart upload."""
    out = {}
    for up in client.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []):
        parts = client.list_parts(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])
        out[up["UploadId"]] = (up["Key"], {p["PartNumber"] for p in parts.get("Parts", [])})
    return out


def list_objects(client, bucket: str, prefix: str) -> list[dict]:
    return client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])


def with_leftovers_gone(proc: subprocess.Popen) -> None:
    """The window's own children (decoder workers) go with it; none is left behind."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait(10)


def test_a_part_the_server_took_before_the_journal_did_is_not_sent_again(store_target, tmp_path):
    """Killed between the server's answer for a part and the journal's write: the resumed
    upload finds the part in the server's list, checks its ETag against our bytes, keeps it."""
    from support import store_uploader

    from desktop_uploader.journal import Journal
    from desktop_uploader.pipeline.multipart import MultipartSender
    from desktop_uploader.pipeline.upload import MiB

    journal = Journal(tmp_path / "journal.sqlite3")
    up = store_uploader(store_target, journal=journal)
    big = tmp_path / "three.bin"
    big.write_bytes(os.urandom(20 * MiB))
    data = big.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    key = f"unrecorded/{os.urandom(3).hex()}.bin"
    extra = {"ContentType": "application/octet-stream", "Metadata": {"sha256": sha}}
    sender = MultipartSender(up)
    upload, part_size, done, _ = sender._open_or_resume(key, len(data), sha, extra, None)
    first = up._send_part(upload, 1, data[:part_size])
    sender._record(first, done, upload.upload_id)  # journaled
    up._send_part(upload, 2, data[part_size : 2 * part_size])  # on the server only
    sent: list[int] = []
    real = up._send_part

    def counted(upload, number, body):
        sent.append(number)
        return real(upload, number, body)

    up._send_part = counted
    up.upload_file(big, key, sha, "application/octet-stream")
    body = up.client.get_object(Bucket=up.bucket, Key=key)["Body"].read()
    up.close()
    assert sent == [3], sent
    assert hashlib.sha256(body).hexdigest() == sha
    assert sorted(p["part_number"] for p in journal.parts(upload.upload_id)) == [1, 2, 3]
    journal.close()
