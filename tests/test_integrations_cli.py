"""The integrations from the command line (issue 17): Typora's custom-command mode, the
snippets of ``desktop-uploader integrations`` (a ShareX ``.sxcu`` that really uploads through
``desktop-uploader serve``), and ``serve`` stopping cleanly on Ctrl+C. Real CLI subprocesses,
real local store."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from imagegen import jpeg_bytes, png_bytes, scene
from integrations_http import fetch, post, post_form
from support import ROOT, cloud_home, run_cli

from desktop_uploader.paths import HOME_ENV

SHAREX_FIELDS = (
    "Version",
    "Name",
    "DestinationType",
    "RequestMethod",
    "RequestURL",
    "Headers",
    "Body",
    "FileFormName",
    "URL",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def history(home) -> list[dict]:
    res = run_cli("history", "--json", env_home=home)
    return [json.loads(line) for line in res.stdout.splitlines()]


# -- Typora ------------------------------------------------------------------------------------
def test_typora_mode_prints_the_links_last_in_input_order(local_store, tmp_path, monkeypatch):
    home, _prefix = cloud_home(tmp_path, local_store, monkeypatch)
    files = []
    for i, size in enumerate((300, 180, 240)):  # different sizes: they finish out of order
        p = tmp_path / f"typora-{i}.jpg"
        p.write_bytes(jpeg_bytes(scene(size * 4, size * 3, seed=500 + i + os.getpid() % 89)))
        files.append(p)
    # the command line `integrations` prints for Typora, run as Typora runs it: the image
    # paths appended, through the shell
    printed = json.loads(run_cli("integrations", "--json", env_home=home).stdout)
    command = printed["typora_command"] + "".join(f" {shlex.quote(str(p))}" for p in files)
    res = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120,
                         env={**os.environ, HOME_ENV: str(home)})  # fmt: skip
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 3 and res.stdout.endswith("\n")
    by_source = {r["source"]: r["url"] for r in history(home)}
    assert lines == [by_source[str(p)] for p in files]
    assert all(fetch(url)[:4] == b"RIFF" for url in lines)


def test_typora_mode_prints_no_links_when_a_file_gets_none(local_store, tmp_path, monkeypatch):
    home, _prefix = cloud_home(tmp_path, local_store, monkeypatch)
    good = tmp_path / "good.jpg"
    good.write_bytes(jpeg_bytes(scene(200, 150, seed=31 + os.getpid() % 71)))
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    res = run_cli("upload", "--typora", str(good), str(bad), env_home=home)
    assert res.returncode == 1
    assert res.stdout == ""  # Typora must not pair good.jpg's link with bad.png
    assert "bad.png" in res.stderr and "[not_an_image]" in res.stderr


# -- the snippets, and a .sxcu driving a real upload ---------------------------------------------
def sharex_upload(sxcu: dict, name: str, data: bytes) -> str:
    """Post a file as ShareX does from a custom uploader, and read the link as it would."""
    assert sxcu["RequestMethod"] == "POST" and sxcu["Body"] == "MultipartFormData"
    fields = {sxcu["FileFormName"]: (name, data, "image/png")}
    status, _, body = post_form(sxcu["RequestURL"], fields, sxcu["Headers"])
    assert status == 200, body
    m = re.fullmatch(r"\{json:(\w+)\[(\d+)\]\}", sxcu["URL"])  # ShareX's JSON path syntax
    assert m, sxcu["URL"]
    return body[m.group(1)][int(m.group(2))]


@pytest.fixture
def served(local_store, tmp_path, monkeypatch):
    """``desktop-uploader serve`` on a free port, in a home whose default destination is the
    test store; yields (home, port, process)."""
    home, _prefix = cloud_home(tmp_path, local_store, monkeypatch)
    port = free_port()
    env = {**os.environ, HOME_ENV: str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_uploader", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"serve did not start: {proc.communicate()}") from None
            time.sleep(0.1)
    yield home, port, proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


def test_sxcu_is_sharex_json_and_uploads_through_serve(served, tmp_path):
    home, port, proc = served
    sxcu_file = tmp_path / "desktop-uploader.sxcu"
    res = run_cli(
        "integrations", "--port", str(port), "--sxcu", str(sxcu_file), "--json", env_home=home
    )
    assert res.returncode == 0, res.stderr
    printed = json.loads(res.stdout)
    sxcu = json.loads(sxcu_file.read_text())  # valid JSON
    assert sxcu == printed["sharex"]
    for key in SHAREX_FIELDS:
        assert key in sxcu, key
    assert sxcu["DestinationType"] == "ImageUploader"
    assert sxcu["RequestURL"] == f"http://127.0.0.1:{port}/upload"
    assert sxcu["Headers"] == {"X-Desktop-Uploader-Token": printed["token"]}
    assert (home / "config" / "integrations-token").read_text().strip() == printed["token"]
    assert sxcu_file.stat().st_mode & 0o777 == 0o600  # it holds the token
    assert printed["obsidian_server"] == f"{sxcu['RequestURL']}?key={printed['token']}"
    assert printed["typora_command"].endswith(" upload --typora")

    data = png_bytes(scene(220, 140, seed=os.getpid() % 400 + 3))
    link = sharex_upload(sxcu, "sharex-shot.png", data)
    assert fetch(link)[:4] == b"RIFF"
    [row] = [r for r in history(home) if r["display_name"] == "sharex-shot.png"]
    assert row["status"] == "done" and row["url"] == link
    # the same without the header: refused
    status, _, body = post(sxcu["RequestURL"], b"", {"Content-Type": "application/json"})
    assert status == 401 and body["success"] is False

    # Flameshot's line, with the screenshot coming from a file instead of `flameshot gui --raw`
    if shutil.which("curl"):
        shot = tmp_path / "flameshot.png"
        shot.write_bytes(png_bytes(scene(200, 150, seed=os.getpid() % 400 + 9)))
        line = printed["flameshot"].replace("flameshot gui --raw", f"cat {shlex.quote(str(shot))}")
        assert line != printed["flameshot"]
        res = subprocess.run(line, shell=True, capture_output=True, text=True, timeout=120)
        reply = json.loads(res.stdout)
        assert reply["success"] is True and fetch(reply["result"][0])[:4] == b"RIFF", res

    proc.send_signal(signal.SIGINT)  # Ctrl+C
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped serving" in err and "Traceback" not in err
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_integrations_prints_every_snippet_with_the_token(local_store, tmp_path, monkeypatch):
    home, _prefix = cloud_home(tmp_path, local_store, monkeypatch)
    res = run_cli("integrations", env_home=home)
    assert res.returncode == 0, res.stderr
    token = (home / "config" / "integrations-token").read_text().strip()
    assert len(token) >= 40
    out = res.stdout
    assert f"Token: {token}" in out and "http://127.0.0.1:36677/upload" in out
    for tool in ("ShareX", "Typora", "Obsidian", "Flameshot", "Spectacle"):
        assert tool in out
    assert f"X-Desktop-Uploader-Token: {token}" in out  # in the Flameshot/Spectacle lines
    again = run_cli("integrations", "--json", env_home=home)
    assert json.loads(again.stdout)["token"] == token  # made once, then kept


def test_serve_port_in_use_is_a_clear_error(local_store, tmp_path, monkeypatch):
    home, _prefix = cloud_home(tmp_path, local_store, monkeypatch)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = run_cli("serve", "--port", str(port), env_home=home, timeout=60)
    assert res.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in res.stderr and "Traceback" not in res.stderr


def test_integrations_settings_typo_fails_closed(tmp_path):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    settings = "[integrations]\nallow_tokenless_editor = true\n"
    (home / "config" / "settings.toml").write_text(settings)
    res = run_cli("serve", env_home=home, timeout=60)
    assert res.returncode == 2
    assert "[integrations] allow_tokenless_editor = true: unknown setting; did you mean " \
           "allow_tokenless_editors?" in res.stderr  # fmt: skip
