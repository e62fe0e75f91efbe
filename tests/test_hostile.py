"""The hostile corpus through the real CLI and engine: no crash, no hang, the right code each.

Each file must resolve within the decoder timeout (10 s by default: enforced by killing the
worker, not asserted on wall time). Peak memory of the app, its decoder workers included, is
measured with ``RUSAGE_CHILDREN`` in a wrapper process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from hostile import black_png, corpus, malware_cases, write
from imagegen import jpeg_bytes, scene
from support import ROOT

from desktop_uploader.config import Limits, Preset
from desktop_uploader.errors import Rejected
from desktop_uploader.paths import HOME_ENV
from desktop_uploader.pipeline.decoder import DecodePool

PEAK_RSS_LIMIT_MB = 1536

_MEASURE = """
import json, resource, subprocess, sys
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": r.returncode, "stdout": r.stdout, "stderr": r.stderr,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def test_hostile_corpus_through_the_cli(tmp_path, local_store, clamd_socket):
    cases = corpus() + malware_cases()
    files = write(cases, tmp_path / "corpus")
    big = tmp_path / "corpus" / "large-but-legal.png"  # 81 MP: decodes, within every limit
    big.write_bytes(black_png(9000, 9000))
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    st, keys = local_store.status(), local_store.keys()
    (home / "config" / "settings.toml").write_text(
        f'default_profile = "cloud"\n[limits]\nmax_frames = 10\n'
        f'[scanning]\nclamd_socket = "{clamd_socket}"\n'
        f'[destinations.cloud]\nendpoint = "{st.s3_endpoint}"\nbucket = "{st.bucket}"\n'
        f'provider = "minio"\nprefix = "h{os.urandom(3).hex()}"\nmalware_scan = "required"\n'
    )
    env = dict(os.environ)
    env.update(
        {
            HOME_ENV: str(home),
            "AWS_ACCESS_KEY_ID": keys.access_key_id,
            "AWS_SECRET_ACCESS_KEY": keys.secret_access_key,
        }
    )
    cli = [sys.executable, "-m", "desktop_uploader", "upload", "--json", str(tmp_path / "corpus")]
    run = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cli],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=280,
    )
    outcome = json.loads(run.stdout)
    assert outcome["rc"] == 1, outcome["stderr"]  # some rejected, none failed
    assert "Traceback" not in outcome["stderr"]
    lines = {json.loads(x)["source"]: json.loads(x) for x in outcome["stdout"].splitlines()}
    assert len(lines) == len(files) + 1
    wrong = []
    for path, case in files.items():
        got = lines[str(path)]
        # uploaded as a folder, which is forgiving: bytes that are no image are skipped
        status = "skipped" if case.code == "not_an_image" else case.status
        if got["status"] != status or not case.matches(got["code"]):
            wrong.append((case.name, case.status, case.code, got["status"], got["code"]))
        if got["status"] == "rejected":
            assert got["reason"] and "\n" not in got["reason"] and got["url"] is None
    assert wrong == [], wrong
    assert lines[str(big)]["status"] == "done", lines[str(big)]
    trailing = lines[str(tmp_path / "corpus" / "motion-photo-like.jpg")]
    assert trailing["reason"].startswith("trailing_data:")
    peak_mb = outcome["maxrss_kb"] / 1024
    print(f"peak RSS of the CLI and its workers: {peak_mb:.0f} MB")
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"


@pytest.fixture
def heavy_png(tmp_path):
    p = tmp_path / "heavy.png"
    p.write_bytes(black_png(9000, 9000))  # 243 MB of RGB once decoded
    return p


def test_worker_memory_cap_and_timeout_cost_one_worker(heavy_png, tmp_path):
    good = tmp_path / "good.jpg"
    good.write_bytes(jpeg_bytes(scene(300, 200, seed=41)))
    preset, spool = Preset("default"), tmp_path / "spool"
    # probed without a cap: the portable fallback's watchdog (make test-portable) counts all
    # of a worker's growth, and the probe alone grows it by ~310 MB, which RLIMIT_AS lets
    # through; the cap under test is the decode's
    uncapped = DecodePool(size=1, memory_mb=0, timeout=30)
    try:
        info = uncapped.probe(heavy_png, Limits())
    finally:
        uncapped.close()
    pool = DecodePool(size=1, memory_mb=250, timeout=30)
    try:
        with pytest.raises(Rejected) as e:
            pool.process(heavy_png, info, preset, spool)
        assert e.value.code == "too_much_memory"
        assert pool.process(good, pool.probe(good, Limits()), preset, spool).processed
    finally:
        pool.close()
    pool = DecodePool(size=1, memory_mb=0, timeout=0.05)
    try:
        info = pool.probe(good, Limits())  # tiny: within even this deadline
        with pytest.raises(Rejected) as e:
            pool.process(heavy_png, pool.probe(heavy_png, Limits()), preset, spool)
        assert e.value.code == "decode_timeout"
        pool.timeout = 30
        assert pool.process(good, info, preset, spool).processed
    finally:
        pool.close()


def test_a_crashed_worker_fails_only_its_file(heavy_png, tmp_path):
    pool = DecodePool(size=1, memory_mb=0, timeout=60)
    preset, spool = Preset("default"), tmp_path / "spool"
    info = pool.probe(heavy_png, Limits())
    worker = next(iter(pool._all))
    outcome: list[BaseException | object] = []
    t = threading.Thread(
        target=lambda: outcome.append(_catch(pool.process, heavy_png, info, preset, spool))
    )
    t.start()
    time.sleep(0.2)
    os.kill(worker.proc.pid, 9)  # as the kernel's OOM killer or a decoder segfault would
    t.join(30)
    try:
        assert isinstance(outcome[0], Rejected) and outcome[0].code == "decoder_crashed"
        assert "signal 9" in outcome[0].message
        good = tmp_path / "good.jpg"
        good.write_bytes(jpeg_bytes(scene(300, 200, seed=42)))
        assert pool.process(good, pool.probe(good, Limits()), preset, spool).processed
        assert not worker.proc.is_alive()
    finally:
        pool.close()


def _catch(fn, *args):
    try:
        return fn(*args)
    except Exception as e:
        return e


def test_hostile_file_name_is_sanitised_and_never_used_as_key(app, tmp_path):
    dest = app.settings.destinations["test"]
    dest.malware_scan, dest.content_check = "off", "off"
    name = '<img src=x onerror="alert(1)">\x1b[31m\u202etxt.jpg'
    p = tmp_path / name
    p.write_bytes(jpeg_bytes(scene(200, 120, seed=43)))
    [r] = app.engine.run([p], "test", app.settings.preset(None))
    assert r.status == "done", r.reason
    assert r.key == f"{dest.prefix}/{r.sha256[:2]}/{r.sha256}.webp"
    shown = app.journal.job(r.job_id)["display_name"]
    assert not set(shown) & set("<>\"'`\\\x1b\u202e"), shown


def test_a_fresh_worker_decodes_heic_it_never_probed(tmp_path):
    """Probe and process of one file can land on different workers."""
    from imagegen import heic_bytes

    p = tmp_path / "phone.heic"
    p.write_bytes(heic_bytes(scene(200, 150, seed=44)))
    prober, decoder = DecodePool(size=1), DecodePool(size=1)
    try:
        info = prober.probe(p, Limits())
        out = decoder.process(p, info, Preset("default"), tmp_path / "spool")
        assert out.processed.main.width == 200
    finally:
        prober.close()
        decoder.close()


def test_warm_up_never_waits_for_a_worker(tmp_path):
    """Two warm-ups at once (two windows, or the window and a command), or one while a worker
    is busy, start what is missing and return: they used to hold the workers they started and
    wait for the others for ever."""
    pool = DecodePool(size=2)
    try:
        busy = pool._get()  # a worker in use by a file
        done: list[bool] = []
        warmers = [threading.Thread(target=lambda: (pool.warm_up(), done.append(True)))]
        warmers.append(threading.Thread(target=lambda: (pool.warm_up(), done.append(True))))
        for t in warmers:
            t.start()
        for t in warmers:
            t.join(20)
        assert done == [True, True], "a warm-up waited for a worker"
        assert len(pool._all) == 2  # both workers started, none twice
        pool._idle.put(busy)
        good = tmp_path / "good.jpg"
        good.write_bytes(jpeg_bytes(scene(120, 80, seed=43)))
        assert pool.probe(good, Limits()).format == "JPEG"
    finally:
        pool.close()
