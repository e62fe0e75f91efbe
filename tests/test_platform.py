"""The platform seam: this OS's implementation and the portable fallbacks, both run here.

The fallbacks are what Windows gets (and, for the decoders' memory cap, what any OS without a
usable limit gets); forcing them on Linux (``DESKTOP_UPLOADER_PLATFORM=portable``) keeps them
from being dead code. ``make test-portable`` runs the whole suite that way; these tests run
both kinds in every ``make test``."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
from hostile import black_png
from imagegen import jpeg_bytes, scene

from desktop_uploader import platform
from desktop_uploader.config import Limits, Preset
from desktop_uploader.errors import Rejected
from desktop_uploader.paths import AppPaths
from desktop_uploader.pipeline.decoder import DecodePool
from desktop_uploader.platform import ipc

KINDS = ["native", "portable"]


@pytest.fixture(params=KINDS)
def host(request, monkeypatch):
    """The platform, native or with the portable fallbacks forced (for child processes too)."""
    if request.param == "portable":
        monkeypatch.setenv(platform.PLATFORM_ENV, "portable")
    else:
        monkeypatch.delenv(platform.PLATFORM_ENV, raising=False)
    platform.current.cache_clear()
    yield platform.current()
    platform.current.cache_clear()


def test_the_forced_fallbacks_are_the_portable_ones(host):
    native = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform)
    expected = "portable" if platform.forced_portable() else native
    assert host.name == expected


def _serve_once(listener, answers: list) -> threading.Thread:
    def run() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = listener.accept(0.2)
            if got is None:
                continue
            conn, command = got
            with conn:
                answers.append(command)
                conn.sendall(b"pong\n")
            return

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_keeper_ipc_answers_this_user(host, tmp_path):
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    listener = host.listen(runtime)
    heard: list = []
    t = _serve_once(listener, heard)
    try:
        assert host.request(listener.address, b"ping") == b"pong"
    finally:
        t.join(5)
        listener.close()
    assert heard == [b"ping"]
    if platform.forced_portable():
        assert listener.address.startswith("tcp://127.0.0.1:")
        token_file = runtime / "keeper.token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert len(token_file.read_bytes()) == 64
    else:
        assert (runtime / "keeper.sock").stat().st_mode & 0o777 == 0o600


def test_portable_ipc_refuses_a_request_without_the_token(tmp_path):
    listener = ipc.TokenListener(tmp_path)
    heard: list = []
    t = _serve_once(listener, heard)
    port = int(listener.address.split(":")[2].split("?")[0])
    try:
        for attempt in (b"keys\n", b"0" * 64 + b" keys\n"):
            with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
                s.sendall(attempt)
                assert s.recv(100) == b""  # closed without an answer
        assert ipc.request(listener.address, b"keys") == b"pong"  # with the token: answered
    finally:
        t.join(5)
        listener.close()
    assert heard == [b"keys"]


def test_cpu_time_and_memory_of_a_busy_child(host):
    import subprocess

    child = subprocess.Popen(
        [sys.executable, "-c", "b = bytearray(64 << 20)\nwhile True: pass"], **host.detached()
    )
    try:
        time.sleep(1.0)
        first = host.cpu_seconds(child.pid)
        time.sleep(0.5)
        assert host.cpu_seconds(child.pid) > first > 0.2
        assert host.memory_bytes(child.pid) > 60 << 20
        assert host.pid_alive(child.pid)
        if hasattr(os, "getsid"):
            assert os.getsid(child.pid) == child.pid  # its own session / process group
    finally:
        child.kill()
        child.wait()
    assert not host.pid_alive(child.pid)
    assert host.cpu_seconds(child.pid) is None


def test_decoder_memory_cap_rejects_a_bomb_and_the_pool_goes_on(host, tmp_path):
    heavy = tmp_path / "heavy.png"
    heavy.write_bytes(black_png(9000, 9000))  # 243 MB of RGB once decoded
    good = tmp_path / "good.jpg"
    good.write_bytes(jpeg_bytes(scene(300, 200, seed=41)))
    preset, spool = Preset("default"), tmp_path / "spool"
    pool = DecodePool(size=1, memory_mb=150, timeout=30)
    try:
        with pytest.raises(Rejected) as e:
            pool.process(heavy, pool.probe(heavy, Limits()), preset, spool)
        assert e.value.code == "too_much_memory"
        assert pool.process(good, pool.probe(good, Limits()), preset, spool).processed
    finally:
        pool.close()


def test_the_store_keeper_serves_its_keys_through_the_platforms_ipc(host, tmp_path):
    from desktop_uploader.app import App

    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "k").ensure()
    app = App(paths)
    app.settings.local_store.volume_size_limit_mb = 64
    store = app.local_store
    try:
        status = store.start()
        assert status.running
        state = json.loads(store.state_file.read_text())
        assert state["socket"].startswith("tcp://") == platform.forced_portable()
        if platform.forced_portable():  # the state file names the token's file, not the token
            token = Path(state["socket"].split("token=", 1)[1]).read_text()
            assert len(token) == 64 and token not in store.state_file.read_text()
        assert store.keys().access_key_id.startswith("DU")
        assert host.request(state["socket"], b"ping") == b"pong"
    finally:
        store.stop()
        app.close()
    assert not host.pid_alive(status.pid) and not host.pid_alive(status.weed_pid)
