"""`desktop-uploader resume` and `watch` take up what a dead process left unfinished in the
journal (real CLI in a subprocess, real store)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

from imagegen import jpeg_bytes, scene
from support import ROOT, cloud_home, run_cli

from desktop_uploader.config import Preset
from desktop_uploader.journal import Journal
from desktop_uploader.paths import HOME_ENV
from desktop_uploader.runs import Runs, owner_alive

OFF = 'malware_scan = "off"\ncontent_check = "off"\n'


def dead_owner() -> str:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    token = f"{gone.pid}:1.000"
    assert not owner_alive(token)
    return token


def orphan(home: Path, src: Path, status: str, out_dir: Path | None = None) -> int:
    """A job as a process killed mid-way leaves it in the journal."""
    journal = Journal(home / "data" / "journal.sqlite3")
    preset = Preset("default")
    job_id = journal.add_job(str(src), src.name, "cloud", preset.name, preset.fingerprint())
    journal.update_job(job_id, status=status)
    Runs(journal, dead_owner()).started(job_id, out_dir, False)
    journal.close()
    return job_id


def test_resume_finishes_orphans_and_reports_like_upload(local_store, tmp_path, monkeypatch):
    home, prefix = cloud_home(tmp_path, local_store, monkeypatch, OFF)
    empty = run_cli("resume", "--json", env_home=home)
    assert empty.returncode == 0 and empty.stdout == "", empty.stderr
    assert "nothing to resume" in run_cli("resume", env_home=home).stderr
    photo, other = tmp_path / "photo.jpg", tmp_path / "other.jpg"
    photo.write_bytes(jpeg_bytes(scene(640, 480, seed=21)))
    other.write_bytes(jpeg_bytes(scene(500, 300, seed=22)))
    out = tmp_path / "out"
    uploaded = orphan(home, photo, "uploading")
    exported = orphan(home, other, "processing", out_dir=out)  # a killed `process --out`
    done = run_cli("resume", "--json", env_home=home)
    assert done.returncode == 0, done.stderr
    results = {r["job_id"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert set(results) == {uploaded, exported}
    assert results[uploaded]["status"] == "done" and prefix in results[uploaded]["url"]
    assert results[exported]["status"] == "done" and results[exported]["url"] is None
    assert Path(results[exported]["output"]).parent == out  # exported, never uploaded
    again = run_cli("resume", env_home=home)
    assert again.returncode == 0 and "nothing to resume" in again.stderr


def test_watch_takes_up_its_orphan_once(local_store, tmp_path, monkeypatch):
    """A watched file whose job was cut short: the next `watch` finishes that very job (its
    id), and does not submit the file a second time."""
    home, _ = cloud_home(tmp_path, local_store, monkeypatch, OFF)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    src = (inbox / "cut.jpg").resolve()
    src.write_bytes(jpeg_bytes(scene(320, 200, seed=23)))
    job_id = orphan(home, src, "validating")
    journal = Journal(home / "data" / "journal.sqlite3")
    st = src.stat()
    journal.record_watched(str(src.resolve()), st.st_size, st.st_mtime_ns, "pending")
    journal.close()
    env = dict(os.environ, **{HOME_ENV: str(home)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_uploader", "watch", "--json", "--stable-seconds", "0.3"]
        + [str(inbox)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    try:
        first = json.loads(lines.get(timeout=120))
        assert first["job_id"] == job_id and first["status"] == "done", first
        try:
            extra = lines.get(timeout=5)
        except queue.Empty:
            extra = None
        assert extra is None, f"the file was sent again: {extra}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    journal = Journal(home / "data" / "journal.sqlite3")
    rows = journal.query("SELECT id, status FROM jobs")
    watched = journal.watched_files(str(inbox.resolve()))
    journal.close()
    assert [tuple(r) for r in rows] == [(job_id, "done")]
    assert watched[str(src.resolve())][2] == "done"
