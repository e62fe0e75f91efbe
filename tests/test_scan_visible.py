"""Scan status is visible everywhere: when files are not scanned, the CLI says so once per run in
plain words with the fix, history records per upload whether it was scanned, and ``doctor``
reports the scanner, the signatures and their age."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from imagegen import jpeg_bytes, scene
from support import run_cli

from desktop_uploader.pipeline import clamd as clamd_mod
from desktop_uploader.pipeline import scanstatus


def home_with(tmp_path, store_target, scanning: str, policy: str = "optional") -> Path:
    status, _keys = store_target
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.toml").write_text(
        f'default_profile = "cloud"\n[scanning]\n{scanning}\n'
        f'[destinations.cloud]\nendpoint = "{status.s3_endpoint}"\nbucket = "{status.bucket}"\n'
        f'provider = "minio"\nprefix = "s{os.urandom(3).hex()}"\nmalware_scan = "{policy}"\n'
    )
    return home


@pytest.fixture
def keys_in_env(store_target, monkeypatch):
    _status, keys = store_target
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys.secret_access_key)


def photos(tmp_path, n: int) -> list[str]:
    out = []
    for i in range(n):
        p = tmp_path / f"p{i}.jpg"
        p.write_bytes(jpeg_bytes(scene(100, 70, seed=90 + i + n * 7)))
        out.append(str(p))
    return out


def test_the_cli_says_once_that_files_were_not_scanned_and_how_to_fix_it(
    tmp_path, store_target, keys_in_env
):
    if clamd_mod.find_system_socket():
        pytest.skip("a system clamd runs here: files would be scanned")
    empty = tmp_path / "signatures"
    empty.mkdir()
    home = home_with(tmp_path, store_target, f'database_dir = "{empty}"')
    junk = tmp_path / "notes.txt"  # rejected before any scan: not one of the files counted
    junk.write_text("not a picture")
    res = run_cli("upload", *photos(tmp_path, 2), str(junk), env_home=home)
    assert res.returncode == 1, res.stderr  # the text file named explicitly is rejected
    notes = [ln for ln in res.stderr.splitlines() if "not scanned" in ln]
    assert len(notes) == 1, res.stderr  # once per run, not once per file
    assert notes[0].startswith("note: 2 of 2 files were not scanned for malware."), notes[0]
    if clamd_mod.clamd_program():
        assert f"ClamAV has no signatures in {empty}" in notes[0]
        assert "sudo freshclam" in notes[0]
    else:
        assert "ClamAV is not installed" in notes[0] and "Install it" in notes[0]
    hist = run_cli("history", "--json", env_home=home)
    rows = [json.loads(x) for x in hist.stdout.splitlines()]
    done = [r for r in rows if r["status"] == "done"]
    assert [r["scanned"] for r in done] == [False, False]
    assert all(r["reason"].startswith("not_scanned: ") for r in done)


def test_scanned_uploads_are_recorded_as_scanned(tmp_path, store_target, keys_in_env, clamd_socket):
    home = home_with(tmp_path, store_target, f'clamd_socket = "{clamd_socket}"', "required")
    res = run_cli("upload", "--json", *photos(tmp_path, 1), env_home=home)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["scanned"] is True
    assert "not scanned" not in res.stderr
    hist = run_cli("history", "--json", env_home=home)
    assert [json.loads(x)["scanned"] for x in hist.stdout.splitlines()] == [True]
    doc = run_cli("doctor", "--json", env_home=home)
    by_check = {f["check"]: f for f in map(json.loads, doc.stdout.splitlines())}
    assert by_check["malware_scan"]["ok"] and "clamd answers" not in by_check["malware_scan"]
    assert "custom signatures only" in by_check["signatures"]["message"]
    assert by_check["signatures"]["level"] == "warn"


def test_doctor_explains_a_missing_scanner_by_policy(tmp_path, store_target, keys_in_env):
    sock = tmp_path / "nothing.sock"
    for policy, rc, level in (("optional", 0, "warn"), ("required", 1, "bad")):
        home = home_with(tmp_path / policy, store_target, f'clamd_socket = "{sock}"', policy)
        doc = run_cli("doctor", env_home=home)
        assert doc.returncode == rc, doc.stdout + doc.stderr
        line = next(ln for ln in doc.stdout.splitlines() if "malware_scan" in ln)
        assert line.startswith({"warn": "warn", "bad": "BAD"}[level])
        assert f"The clamd socket set in the settings ({sock}) does not answer" in line


def test_diagnose_names_each_problem_with_its_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(scanstatus, "find_system_socket", lambda: None)
    monkeypatch.setattr(scanstatus, "clamd_program", lambda: None)
    missing = scanstatus.diagnose(tmp_path)
    assert missing.kind == "not_installed" and "Install it" in missing.fix
    monkeypatch.setattr(scanstatus, "clamd_program", lambda: "/usr/sbin/clamd")
    empty = scanstatus.diagnose(tmp_path)
    assert empty.kind == "no_signatures" and "sudo freshclam" in empty.fix
    off = scanstatus.diagnose(tmp_path, start_own=False)
    assert off.kind == "not_running"
    (tmp_path / "daily.ndb").write_text("x")
    assert scanstatus.diagnose(tmp_path) is None  # our own clamd can start on these


def old_signatures(folder: Path, days: float) -> Path:
    """A daily.cvd header as ClamAV writes it (the body does not matter to doctor)."""
    folder.mkdir(parents=True, exist_ok=True)
    built = datetime.now(UTC) - timedelta(days=days)
    header = f"ClamAV-VDB:{built.strftime('%d %b %Y %H-%M')} +0000:27093:2087000:90:x:x:x:x"
    (folder / "daily.cvd").write_bytes(header.encode().ljust(512, b" ") + b"\x00" * 64)
    return folder


def test_signature_age_comes_from_the_database_header(tmp_path):
    [f] = scanstatus.signature_files(old_signatures(tmp_path, 12))
    assert f.version == "27093" and f.built is not None
    assert 11.9 < scanstatus.signature_age_days([f]) < 12.1


def test_doctor_warns_about_stale_signatures(tmp_path, store_target, keys_in_env):
    if clamd_mod.find_system_socket() or not clamd_mod.clamd_program():
        pytest.skip("needs clamd installed and none running (doctor reads our signature folder)")
    db = old_signatures(tmp_path / "db", 12)
    home = home_with(tmp_path, store_target, f'database_dir = "{db}"')
    doc = run_cli("doctor", env_home=home)
    assert doc.returncode == 0, doc.stdout
    line = next(ln for ln in doc.stdout.splitlines() if "signatures" in ln.split()[1])
    assert line.startswith("warn") and "12 days old" in line and "sudo freshclam" in line
