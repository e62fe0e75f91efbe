"""The embedded store's life: one start whoever asks, its processes live and die together, and
what an earlier start left behind is found and ended. Each test has its own home and store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import portprobe
import pytest
from imagegen import jpeg_bytes, scene
from support import ROOT, run_cli

from desktop_uploader.app import App
from desktop_uploader.localstore import find_weed, pick_ports
from desktop_uploader.paths import AppPaths
from desktop_uploader.platform import processes
from desktop_uploader.storekeeper import weed_args


def make_images(folder: Path, count: int, seed: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(count):
        p = folder / f"img{seed + i:03d}.jpg"
        p.write_bytes(jpeg_bytes(scene(160, 120, seed=seed + i), quality=80))
        files.append(p)
    return files


def gone_within(pid: int, seconds: float) -> bool:
    """Poll until ``pid`` no longer runs (a zombie counts as gone); False after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if processes.process_started(pid) is None:
            return True
        time.sleep(0.02)
    return False


def keepers_of(home: Path) -> list[int]:
    store = home / "data" / "local-store"
    return processes.store_processes(store, store / "data")


@pytest.fixture
def fresh_home(tmp_path):
    """An app home where nothing has started yet; whatever store a test starts in it is
    stopped (by PID) afterwards, and the test fails if anything of it is left running."""
    home = tmp_path / "home"
    paths = AppPaths(home / "config", home / "data", home / "cache")
    yield home
    app = App(paths.ensure())
    app.local_store.stop()
    assert keepers_of(home) == [], "store processes left running"


def test_threads_that_start_the_store_together_get_one_store(fresh_home):
    paths = AppPaths(fresh_home / "config", fresh_home / "data", fresh_home / "cache").ensure()
    stores = [App(paths).local_store for _ in range(6)]  # as separate parts of an app would
    started: list[str] = []
    results: list = [None] * len(stores)

    def start(i: int) -> None:
        results[i] = stores[i].start(announce=started.append)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(started) == 1, started
    assert len({r.pid for r in results}) == 1 and all(r.running for r in results)
    assert len(keepers_of(fresh_home)) == 2  # one keeper, one weed


def test_first_batch_on_a_fresh_home_loses_nothing_to_the_start(fresh_home):
    """32 files through one app's engine (its worker threads start the store on demand)."""
    files = make_images(fresh_home.parent / "in", 32, seed=700)
    paths = AppPaths(fresh_home / "config", fresh_home / "data", fresh_home / "cache").ensure()
    notes: list[str] = []
    app = App(paths, notice=notes.append)
    app.policy_overrides = {"malware_scan": "off", "content_check": "off"}
    try:
        results = app.engine.run(files, "local", app.settings.preset(None))
    finally:
        app.close()
    assert [r.status for r in results] == ["done"] * 32, [(r.code, r.reason) for r in results]
    assert sum("Starting the local store" in n for n in notes) == 1, notes


def test_two_cli_uploads_on_a_fresh_home_both_succeed(fresh_home):
    """Two `desktop-uploader upload` processes at once, nothing started: 32 done, 0 failed."""
    batches = [make_images(fresh_home.parent / f"in{k}", 16, seed=800 + 16 * k) for k in (0, 1)]
    env = dict(os.environ, DESKTOP_UPLOADER_HOME=str(fresh_home))
    procs = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "desktop_uploader", "upload", "--json"),
                *("--malware-scan", "off", "--content-check", "off"),
                str(b[0].parent),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for b in batches
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    lines = [json.loads(line) for out, _err in outputs for line in out.splitlines()]
    assert [p.returncode for p in procs] == [0, 0], [err for _out, err in outputs]
    assert len(lines) == 32 and {r["status"] for r in lines} == {"done"}, lines
    assert sum("Starting the local store" in err for _out, err in outputs) == 1


def test_commands_opening_a_fresh_journal_together_all_succeed(tmp_path):
    """Found by the test above: two commands on a fresh home both created the journal and
    both added the newer columns; the second ALTER TABLE failed and took its command down."""
    code = (
        "import sys; from pathlib import Path; from desktop_uploader.journal import Journal; "
        "Journal(Path(sys.argv[1])).close()"
    )
    for round_ in range(4):
        db = tmp_path / f"j{round_}.sqlite3"
        procs = [
            subprocess.Popen([sys.executable, "-c", code, str(db)], stderr=subprocess.PIPE)
            for _ in range(6)
        ]
        errors = [p.communicate(timeout=60)[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0] * 6, errors


def test_weed_dies_with_its_keeper_and_the_next_upload_starts_a_new_store(fresh_home):
    res = run_cli("local-store", "start", "--json", env_home=fresh_home)
    assert res.returncode == 0, res.stderr
    first = json.loads(res.stdout)
    os.kill(first["pid"], signal.SIGKILL)
    assert gone_within(first["weed_pid"], 2.0), "weed outlived its keeper by 2 s"
    res = run_cli("local-store", "status", "--json", env_home=fresh_home)
    after = json.loads(res.stdout)
    assert after["state"] == "stopped" and after["running"] is False, after
    make_images(fresh_home.parent / "in", 1, seed=900)
    res = run_cli(
        *("upload", "--json", "--malware-scan", "off", "--content-check", "off"),
        str(fresh_home.parent / "in"),
        env_home=fresh_home,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["status"] == "done"
    second = json.loads(run_cli("local-store", "status", "--json", env_home=fresh_home).stdout)
    assert second["running"] and second["pid"] != first["pid"]
    assert second["s3_endpoint"] == first["s3_endpoint"]  # links printed before still work


def test_a_leftover_weed_is_reported_and_replaced(fresh_home, tmp_path):
    """weed serving the store's data without a keeper (say, from an older version or a
    keeper killed where no death signal exists): status must not say "stopped", and start
    ends it before starting the store properly."""
    data_dir = fresh_home / "data" / "local-store" / "data"
    data_dir.mkdir(parents=True)
    runtime = tmp_path / "rt"
    runtime.mkdir()
    cfg = {
        "data_dir": str(data_dir),
        "bucket": "images",
        "ports": pick_ports({}),
        "volume_size_limit_mb": 64,
        "runtime_dir": str(runtime),
    }
    (runtime / "s3.json").write_text('{"identities": []}')
    stray = subprocess.Popen(
        weed_args(find_weed(), cfg, runtime / "s3.json"),
        cwd=runtime,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        s3 = cfg["ports"]["s3"]
        deadline = time.monotonic() + 60
        while portprobe.http(s3) != 403 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert s3 in processes.listening_ports([stray.pid]), "the stray weed did not start"
        res = run_cli("local-store", "status", env_home=fresh_home)
        assert "stopped" not in res.stdout and str(stray.pid) in res.stdout, res.stdout
        st = json.loads(run_cli("local-store", "status", "--json", env_home=fresh_home).stdout)
        assert st["state"] == "leftover" and st["leftover_pids"] == [stray.pid]
        res = run_cli("local-store", "start", "--json", env_home=fresh_home)
        assert res.returncode == 0, res.stderr
        assert stray.wait(15) is not None  # ended by the start
        assert json.loads(res.stdout)["running"] is True
    finally:
        if stray.poll() is None:
            stray.kill()
            stray.wait()


def test_an_older_versions_store_and_a_lost_state_file_are_leftovers(fresh_home):
    """A store whose keeper did not record its start time was started by a version without
    the port protections: start replaces it. And the state file is the record, not the truth:
    a store running without one (its starter killed at the wrong moment, or the file deleted)
    is still found by command line, and stop ends it."""
    state_file = fresh_home / "data" / "local-store" / "store.json"
    old = json.loads(run_cli("local-store", "start", "--json", env_home=fresh_home).stdout)
    state = json.loads(state_file.read_text())
    del state["pid_started"], state["weed_started"]
    state_file.write_text(json.dumps(state))
    status = json.loads(run_cli("local-store", "status", "--json", env_home=fresh_home).stdout)
    assert status["state"] == "leftover", status
    res = run_cli("local-store", "start", "--json", env_home=fresh_home)
    new = json.loads(res.stdout)
    assert new["running"] and new["pid"] != old["pid"], res.stderr
    assert gone_within(old["weed_pid"], 5) and gone_within(old["pid"], 5)

    state_file.unlink()
    status = json.loads(run_cli("local-store", "status", "--json", env_home=fresh_home).stdout)
    assert status["state"] == "leftover"
    assert sorted(status["leftover_pids"]) == sorted([new["pid"], new["weed_pid"]])
    res = run_cli("local-store", "stop", "--json", env_home=fresh_home)
    assert json.loads(res.stdout) == {"stopped": True}
    assert gone_within(new["weed_pid"], 5) and gone_within(new["pid"], 5)


# -- a restart is not a credentials error ---------------------------------------------------
def count_stored_parts(monkeypatch) -> dict[int, int]:
    """Count, per part number, the UploadPart requests the server accepted, on every client the
    upload stage makes (it makes a new one when the store's keys change)."""
    from desktop_uploader.storage import s3

    stored: dict[int, int] = {}
    lock = threading.Lock()

    def before(params, context, **_):
        context["part_number"] = int(params["query_string"]["partNumber"])

    def after(response_dict, context, exception, **_):
        if exception is None and response_dict and response_dict["status_code"] == 200:
            with lock:
                n = context["part_number"]
                stored[n] = stored.get(n, 0) + 1

    real = s3.make_client

    def counting_client(*args, **kwargs):
        client = real(*args, **kwargs)
        client.meta.events.register("before-call.s3.UploadPart", before)
        client.meta.events.register("response-received.s3.UploadPart", after)
        return client

    monkeypatch.setattr(s3, "make_client", counting_client)
    return stored


def test_store_restart_mid_multipart_without_a_keyring(fresh_home, tmp_path, monkeypatch):
    """No keyring: every start of the store makes new keys. Restarted in the middle of a
    multipart upload, the upload goes on by itself with the new keys, and parts the server
    had before are not sent again (only those in flight at the restart may be)."""
    import keyring
    import keyring.backends.fail
    from PIL import Image

    from desktop_uploader.pipeline.upload import MiB

    keyring.set_keyring(keyring.backends.fail.Keyring())  # the autouse fixture restores it
    stored = count_stored_parts(monkeypatch)
    src = tmp_path / "scan.png"
    side = 3600  # ≈ 37 MiB of incompressible pixels: 5 parts of 8 MiB
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(src, compress_level=1)
    paths = AppPaths(fresh_home / "config", fresh_home / "data", fresh_home / "cache").ensure()
    app = App(paths)
    app.policy_overrides = {"malware_scan": "off", "content_check": "off"}
    app.offline_wait = 180
    app.set_bandwidth_limit(6 * MiB)  # slow enough that the restart lands mid-upload
    store = app.local_store
    store.start()
    keys_before = store.keys()
    window = app.settings.destination("local").part_concurrency
    try:
        job = app.engine.submit(src, "local", app.settings.preset("original"))
        deadline = time.monotonic() + 120
        while len(stored) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        before = set(stored)
        assert len(before) >= 2 and not job.future.done(), (stored, job.stage)
        assert store.stop() is True
        store.start()
        assert store.keys() != keys_before, "the restart was meant to change the keys"
        result = job.future.result(timeout=300)
        assert result.status == "done", (result.code, result.reason)
        parts = -(-src.stat().st_size // (8 * MiB))
        assert sorted(stored) == list(range(1, parts + 1))
        assert all(stored[n] == 1 for n in before), f"sent again after the restart: {stored}"
        assert sum(stored.values()) - parts <= window, stored
        up = app.uploader("local")
        body = up.client.get_object(Bucket=up.bucket, Key=result.key)["Body"].read()
        import hashlib

        assert hashlib.sha256(body).hexdigest() == result.sha256
        up.close()
    finally:
        app.close()


def test_a_settings_typo_does_not_keep_the_user_from_seeing_or_stopping_the_store(fresh_home):
    """Every other command stops on a typo (exit 2); `status` and `stop` still reach the running
    store through its state file, and say that the settings were ignored."""
    res = run_cli("local-store", "start", "--json", env_home=fresh_home)
    assert res.returncode == 0, res.stderr
    weed_pid = json.loads(res.stdout)["weed_pid"]
    settings = fresh_home / "config" / "settings.toml"
    good = settings.read_text() if settings.exists() else ""
    settings.write_text(good + '\n[limits]\nmax_bytes = "abc"\n')
    assert run_cli("local-store", "start", env_home=fresh_home).returncode == 2
    res = run_cli("local-store", "status", "--json", env_home=fresh_home)
    assert res.returncode == 0 and json.loads(res.stdout)["running"] is True, res.stderr
    assert "max_bytes" in res.stderr and "ignored" in res.stderr
    res = run_cli("local-store", "stop", env_home=fresh_home)
    assert res.returncode == 0 and "stopped" in res.stdout, res.stderr
    assert gone_within(weed_pid, 5.0), "weed still runs after stop"
    settings.write_text(good)  # the fixture's own check reads the settings
