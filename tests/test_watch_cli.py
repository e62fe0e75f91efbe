"""``desktop-uploader watch`` as a user runs it: JSON lines as files complete, originals moved
only after a verified upload, a clean exit on SIGTERM."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from imagegen import jpeg_bytes, png_bytes, scene

from desktop_uploader.paths import HOME_ENV

ROOT = Path(__file__).resolve().parent.parent
UPLOAD_JSON_FIELDS = [  # what ``upload --json`` prints, in its order
    "source",
    "status",
    "reason",
    "url",
    "thumbnail_url",
    "key",
    "sha256",
    "bytes",
    "code",
    "job_id",
    "width",
    "height",
    "thumbnail_key",
]


def test_watch_json_lines_move_to_done_and_sigterm(local_store, store_target, tmp_path):
    status, keys = store_target
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    prefix = f"w{os.urandom(3).hex()}"
    (home / "config" / "settings.toml").write_text(
        f'default_profile = "s"\n[destinations.s]\nendpoint = "{status.s3_endpoint}"\n'
        f'bucket = "{status.bucket}"\nprefix = "{prefix}"\nprovider = "seaweedfs"\n'
        f'public_base_url = "{status.public_base_url}"\n'
    )
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID=keys.access_key_id,
        AWS_SECRET_ACCESS_KEY=keys.secret_access_key,
    )
    env[HOME_ENV] = str(home)
    inbox, done = tmp_path / "inbox", tmp_path / "done"
    inbox.mkdir()
    (inbox / "before.jpg").write_bytes(jpeg_bytes(scene(120, 90, seed=1)))  # already there
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_uploader", "watch", "--json", "--stable-seconds", "0.3"]
        + ["--move-to", str(done), str(inbox)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True)
    reader.start()
    try:
        first = json.loads(lines.get(timeout=90))
        (inbox / "after.png").write_bytes(png_bytes(scene(100, 60, seed=2)))
        (inbox / "notes.txt").write_text("not an image: not watched")
        second = json.loads(lines.get(timeout=90))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "stopped watching" in err
    results = {Path(r["source"]).name: r for r in (first, second)}
    assert sorted(results) == ["after.png", "before.jpg"]
    for r in results.values():
        assert list(r)[: len(UPLOAD_JSON_FIELDS)] == UPLOAD_JSON_FIELDS
        assert r["status"] == "done" and r["variants"] == []
        with urllib.request.urlopen(r["url"], timeout=10) as resp:
            assert resp.status == 200
    assert lines.empty()  # one line per file, nothing for the text file
    assert sorted(p.name for p in done.iterdir()) == ["after.png", "before.jpg"]
    assert sorted(p.name for p in inbox.iterdir()) == ["notes.txt"]
