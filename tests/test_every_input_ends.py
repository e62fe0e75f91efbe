"""Every wait is bounded and every input ends with its code: named pipes, sockets and devices
(never opened), symlink loops, links out of an uploaded or watched folder, and a required
malware scan with no scanner. Each test bounds its own time (subprocess timeouts, future
timeouts), so a hang fails the test instead of stalling the suite."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
from imagegen import jpeg_bytes, scene
from support import run_cli

from desktop_uploader.config import Limits, WatchedFolder
from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline.intake import collect
from desktop_uploader.pipeline.validate import check_file
from desktop_uploader.watch import FolderWatcher

BOUND = 60  # seconds any one of these may take, far above what they need


def photo(path: Path, seed: int) -> Path:
    path.write_bytes(jpeg_bytes(scene(120, 80, seed=seed), gps=False))
    return path


def special_files(folder: Path) -> dict[str, Path]:
    """A named pipe, a unix socket and (as root) a character device, all named like photos."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {"fifo": folder / "pipe.jpg", "socket": folder / "sock.jpg"}
    os.mkfifo(out["fifo"])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(out["socket"]))
    s.close()  # the socket file stays
    try:
        os.mknod(folder / "device.jpg", stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null
        out["device"] = folder / "device.jpg"
    except PermissionError:
        pass  # not root: pipes and sockets still make the point
    return out


@pytest.fixture
def unchecked(app):
    dest = app.settings.destinations["test"]
    dest.malware_scan, dest.content_check = "off", "off"
    return app


def run_bounded(app, paths) -> list:
    jobs = app.engine.submit_paths(paths, "test", app.settings.preset(None))
    return [j.future.result(timeout=BOUND) for j in jobs]


def test_special_files_are_refused_without_being_opened(unchecked, tmp_path):
    folder = tmp_path / "drop"
    specials = special_files(folder)
    good = photo(folder / "good.jpg", 1)
    results = {Path(r.source).name: r for r in run_bounded(unchecked, [folder])}
    assert results[good.name].status == "done", results[good.name].reason
    for kind, path in specials.items():
        r = results[path.name]
        assert (r.status, r.code) == ("rejected", "not_a_regular_file"), kind
        assert "not a regular file; it was not opened" in r.reason
    # named directly, too (the CLI gets the FIFO path itself)
    [r] = run_bounded(unchecked, [specials["fifo"]])
    assert (r.status, r.code) == ("rejected", "not_a_regular_file")


def test_a_fifo_swapped_in_after_intake_is_not_opened(tmp_path):
    """The validate stage looks again (stat, then a non-blocking open) and never waits."""
    fifo = tmp_path / "late.jpg"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(Rejected) as e:
        check_file(fifo, Limits())
    assert e.value.code == "not_a_regular_file" and time.monotonic() - started < BOUND


def test_the_cli_ends_on_a_fifo_it_was_given(local_store, store_home, tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    res = run_cli("upload", "--json", str(fifo), env_home=store_home, timeout=BOUND)
    assert res.returncode == 1, res.stderr
    line = json.loads(res.stdout)
    assert (line["status"], line["code"]) == ("rejected", "not_a_regular_file")


def test_symlink_loops_end_as_symlink_loop(unchecked, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.jpg").symlink_to(folder / "b.jpg")
    (folder / "b.jpg").symlink_to(folder / "a.jpg")
    (folder / "self.jpg").symlink_to(folder / "self.jpg")
    (folder / "again").symlink_to(folder)  # a folder link back to itself: not walked twice
    photo(folder / "real.jpg", 2)
    results = {Path(r.source).name: r for r in run_bounded(unchecked, [folder])}
    assert set(results) == {"a.jpg", "b.jpg", "self.jpg", "real.jpg"}
    for name in ("a.jpg", "b.jpg", "self.jpg"):
        assert (results[name].status, results[name].code) == ("rejected", "symlink_loop")
    assert results["real.jpg"].status == "done"
    [r] = run_bounded(unchecked, [folder / "self.jpg"])  # named directly
    assert (r.status, r.code) == ("rejected", "symlink_loop")


def test_links_out_of_a_folder_are_not_followed_unless_named_or_allowed(unchecked, tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    secret = photo(private / "secret.jpg", 3)
    (private / "more").mkdir()
    photo(private / "more" / "also-secret.jpg", 4)
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "innocent.jpg").symlink_to(secret)
    (folder / "elsewhere").symlink_to(private / "more")  # a folder link out
    photo(folder / "mine.jpg", 5)
    (folder / "alias.jpg").symlink_to(folder / "mine.jpg")  # stays inside: fine

    results = {Path(r.source).name: r for r in run_bounded(unchecked, [folder])}
    for name in ("innocent.jpg", "elsewhere"):
        r = results[name]
        assert (r.status, r.code) == ("rejected", "symlink_outside_folder"), name
        assert "outside the folder" in r.reason and "Follow links" in r.reason
    assert {results[n].status for n in ("mine.jpg", "alias.jpg")} <= {"done", "duplicate"}
    assert results["mine.jpg"].url == results["alias.jpg"].url  # the same file, once
    assert "also-secret.jpg" not in results

    again = unchecked.engine.retry(results["innocent.jpg"].job_id)  # Retry in the queue
    assert again.future.result(timeout=BOUND).code == "symlink_outside_folder"

    [named] = run_bounded(unchecked, [folder / "innocent.jpg"])  # the user named the link
    assert named.status == "done", named.reason

    unchecked.settings.limits.follow_symlinks = True  # the setting: links are followed
    followed = {Path(r.source).name for r in run_bounded(unchecked, [folder]) if r.url}
    assert {"innocent.jpg", "also-secret.jpg", "mine.jpg"} <= followed


def test_collect_judges_entries_without_opening_them(tmp_path):
    folder = tmp_path / "f"
    specials = special_files(folder)
    entries = {e.path.name: e for e in collect([folder])}
    assert {entries[p.name].refusal.code for p in specials.values()} == {"not_a_regular_file"}


def test_a_watched_folder_refuses_specials_and_links_out_once(unchecked, tmp_path):
    outside = photo(tmp_path / "outside.jpg", 6)
    folder = tmp_path / "watched"
    folder.mkdir()
    results: dict[str, list] = {}
    done = threading.Event()

    def on_result(path, result):
        results.setdefault(path.name, []).append(result)
        if {"pipe.jpg", "link.jpg", "ok.jpg"} <= set(results):
            done.set()

    watcher = FolderWatcher(
        unchecked.engine,
        unchecked.journal,
        unchecked.settings,
        [WatchedFolder(str(folder), destination="test", stable_seconds=0.2)],
        on_result=on_result,
    )
    watcher.start()
    try:
        assert watcher.scanned.wait(BOUND)
        os.mkfifo(folder / "pipe.jpg")
        (folder / "link.jpg").symlink_to(outside)
        photo(folder / "ok.jpg", 7)
        assert done.wait(BOUND), results
        time.sleep(1.0)  # a few more gate rounds: a refused entry is not reported again
    finally:
        watcher.stop()
    assert [r.code for r in results["pipe.jpg"]] == ["not_a_regular_file"]
    assert [r.code for r in results["link.jpg"]] == ["symlink_outside_folder"]
    assert results["ok.jpg"][0].status == "done"


def test_required_scan_without_a_scanner_fails_after_the_wait(app, tmp_path):
    """``scanner_wait`` bounds the wait: the file fails as ``scanner_unavailable`` (retryable),
    nothing is uploaded, and a retry queues it again."""
    from desktop_uploader.engine import Engine
    from desktop_uploader.pipeline.checks import SafetyChecks
    from desktop_uploader.pipeline.scanners import MalwareScanner, ValidationPolicy

    scanner = MalwareScanner(tmp_path / "run", socket_path=str(tmp_path / "absent.sock"))
    checks = SafetyChecks(
        app.settings.limits,
        scanner,
        policy_for=lambda _p: ValidationPolicy(malware_scan="required", content_check="off"),
    )
    engine = Engine(
        app.journal,
        app.paths.spool_dir,
        app.settings.limits,
        app.uploader,
        checks=checks,
        scanner_retry_interval=10 * BOUND,  # the bound, not the retry interval, ends the wait
        scanner_wait=0.5,
    )
    try:
        job = engine.submit(photo(tmp_path / "p.jpg", 8), "test", app.settings.preset(None))
        r = job.future.result(timeout=BOUND)
        assert (r.status, r.code) == ("failed", "scanner_unavailable")
        assert "within 0.5 s" in r.reason and "does not answer" in r.reason
        assert app.journal.job(r.job_id)["status"] == "failed"
        again = engine.retry(r.job_id)
        assert again is not None
        assert again.future.result(timeout=BOUND).code == "scanner_unavailable"
    finally:
        engine.shutdown()
        checks.close()


def test_cli_scanner_wait_ends_a_required_scan(store_target, tmp_path, monkeypatch):
    status, keys = store_target
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.toml").write_text(
        f'default_profile = "cloud"\n[scanning]\nclamd_socket = "{tmp_path}/absent.sock"\n'
        f'[destinations.cloud]\nendpoint = "{status.s3_endpoint}"\nbucket = "{status.bucket}"\n'
        f'provider = "minio"\nprefix = "w{os.urandom(3).hex()}"\n'
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys.secret_access_key)
    p = photo(tmp_path / "p.jpg", 9)
    res = run_cli(
        "upload", "--json", "--malware-scan", "required", "--scanner-wait", "1", str(p),
        env_home=home, timeout=BOUND,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr
    line = json.loads(res.stdout)
    assert (line["status"], line["code"]) == ("failed", "scanner_unavailable")
    assert "waits up to 1 s" in res.stderr
