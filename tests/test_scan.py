"""Malware scanning with a real clamd on the project's test signatures, through the engine."""

from __future__ import annotations

import json
import os
import threading

import pytest
from hostile import EICAR, malware_cases
from imagegen import jpeg_bytes, scene
from support import run_cli

from desktop_uploader import events as ev
from desktop_uploader.pipeline.clamd import ClamdClient, ClamdError, OwnClamd, ScanReply
from desktop_uploader.pipeline.upload import make_client


def objects_under(app, prefix: str) -> list[str]:
    target = app.target("test")
    listing = make_client(target).list_objects_v2(Bucket=target.bucket, Prefix=prefix + "/")
    return [o["Key"] for o in listing.get("Contents", [])]


@pytest.fixture
def scanning_app(app, clamd_socket):
    """The ``app`` fixture with the test clamd and ``malware_scan = required``."""
    app.settings.scanning.clamd_socket = clamd_socket
    dest = app.settings.destinations["test"]
    dest.malware_scan = "required"
    dest.content_check = "off"
    return app


def test_client_ping_clean_and_infected(clamd_socket, tmp_path):
    client = ClamdClient(clamd_socket)
    assert client.ping()
    assert "ClamAV" in client.version()
    clean = tmp_path / "clean.jpg"
    clean.write_bytes(jpeg_bytes(scene(300, 200)))
    reply = client.scan_file(clean)
    assert reply.signature is None and reply.size == clean.stat().st_size
    import hashlib

    assert reply.sha256 == hashlib.sha256(clean.read_bytes()).hexdigest()
    bad = tmp_path / "x.jpg"
    bad.write_bytes(EICAR)
    assert client.scan_file(bad).signature.startswith("DU.Test.EICAR")


def test_unreachable_clamd_is_an_error_not_clean(tmp_path):
    p = tmp_path / "a.jpg"
    p.write_bytes(b"\xff\xd8\xff")
    client = ClamdClient(tmp_path / "nope.sock")
    assert not client.ping()
    with pytest.raises(ClamdError):
        client.scan_file(p)


def test_own_clamd_config_alerts_on_oversized_input(tmp_path):
    conf = OwnClamd(tmp_path, tmp_path / "db", max_bytes=200 << 20).config_text()
    assert "AlertExceedsMax yes" in conf and "Foreground yes" in conf
    assert "StreamMaxLength 216M" in conf  # above the app's own size limit


def test_eicar_four_ways_blocked_before_any_byte_is_uploaded(scanning_app, tmp_path):
    app = scanning_app
    cases = {c.name: c for c in malware_cases()}
    paths = []
    for c in cases.values():
        p = tmp_path / c.name
        p.write_bytes(c.data)
        paths.append(p)
    events: list[ev.Event] = []
    app.engine.subscribe(events.append)
    results = app.engine.run(paths, "test", app.settings.preset(None))
    for r in results:
        case = cases[r.source.rsplit("/", 1)[-1]]
        assert r.status == "rejected" and case.matches(r.code), (r.source, r.code, r.reason)
        assert "quarantined" in r.reason
    stages = {e.data.get("stage") for e in events if e.kind == ev.STAGE}
    assert "processing" not in stages and "uploading" not in stages  # no decoder, no upload
    assert not [e for e in events if e.kind == ev.PROGRESS]
    assert objects_under(app, app.settings.destinations["test"].prefix) == []
    # quarantined: listed in history with the signature, the sources left where they were
    rows = app.journal.history(search="malware:")
    assert len(rows) == len(cases) and all(p.exists() for p in paths)


def test_required_scan_waits_for_a_scanner_then_goes_on(app, clamd_socket, tmp_path):
    from desktop_uploader.engine import Engine
    from desktop_uploader.pipeline.checks import SafetyChecks
    from desktop_uploader.pipeline.scanners import MalwareScanner, ValidationPolicy

    scanner = MalwareScanner(
        tmp_path / "run", socket_path=str(tmp_path / "absent.sock"), retry_after=0
    )
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
        scanner_retry_interval=0.1,
    )
    waiting = threading.Event()
    events: list[ev.Event] = []

    def on_event(e: ev.Event) -> None:
        events.append(e)
        if e.data.get("stage") == "waiting_for_scanner":
            waiting.set()

    engine.subscribe(on_event)
    p = tmp_path / "photo.jpg"
    p.write_bytes(jpeg_bytes(scene(300, 200, seed=31)))
    try:
        job = engine.submit(p, "test", app.settings.preset(None))
        assert waiting.wait(30), "the job should wait for a scanner"
        reason = next(
            e.data["reason"] for e in events if e.data.get("stage") == "waiting_for_scanner"
        )
        assert "requires a scan" in reason
        assert not job.future.done()
        assert objects_under(app, app.settings.destinations["test"].prefix) == []
        scanner.socket_path = clamd_socket  # the scanner comes up
        result = job.future.result(timeout=60)
        assert result.status == "done", result.reason
    finally:
        engine.shutdown()
        checks.close()


def test_optional_scan_without_scanner_uploads_with_a_note(app, tmp_path):
    from desktop_uploader.pipeline.scanners import MalwareScanner

    dest = app.settings.destinations["test"]
    dest.malware_scan, dest.content_check = "optional", "off"
    app.settings.scanning.clamd_socket = str(tmp_path / "absent.sock")
    assert isinstance(app.checks.scanner, MalwareScanner)
    p = tmp_path / "photo.jpg"
    p.write_bytes(jpeg_bytes(scene(300, 200, seed=32)))
    [r] = app.engine.run([p], "test", app.settings.preset(None))
    assert r.status == "done" and r.reason.startswith("not_scanned:")


def test_cli_override_and_quarantine_list(app, clamd_socket, tmp_path, store_target):
    """``--malware-scan`` overrides the destination for one run; ``history --quarantine``."""
    status, keys = store_target
    home = tmp_path / "cli-home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.toml").write_text(
        f'default_profile = "cloud"\n[scanning]\nclamd_socket = "{clamd_socket}"\n'
        f'[destinations.cloud]\nendpoint = "{status.s3_endpoint}"\nbucket = "{status.bucket}"\n'
        f'provider = "minio"\nprefix = "q{tmp_path.name[-6:]}"\nmalware_scan = "off"\n'
        'content_check = "off"\n'
    )
    bad = tmp_path / "holiday.jpg"
    bad.write_bytes(jpeg_bytes(scene(200, 150, seed=33), gps=False) + EICAR)
    import os

    env_before = dict(os.environ)
    os.environ["AWS_ACCESS_KEY_ID"] = keys.access_key_id
    os.environ["AWS_SECRET_ACCESS_KEY"] = keys.secret_access_key
    try:
        up = run_cli("upload", "--json", "--malware-scan", "required", str(bad), env_home=home)
        quarantine = run_cli("history", "--json", "--quarantine", env_home=home)
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    assert up.returncode == 1, up.stderr
    line = json.loads(up.stdout)
    assert line["status"] == "rejected" and line["code"].startswith("malware:DU.Test.EICAR")
    assert line["reason"] and line["url"] is None
    rows = [json.loads(x) for x in quarantine.stdout.splitlines()]
    assert [r["code"] for r in rows] == [line["code"]] and rows[0]["source"] == str(bad)
    assert bad.exists()


def test_scan_reply_parsing():
    from desktop_uploader.pipeline.clamd import _parse_verdict

    assert _parse_verdict("stream: OK") is None
    assert _parse_verdict("stream: Win.Test.EICAR_HDB-1 FOUND") == "Win.Test.EICAR_HDB-1"
    with pytest.raises(ClamdError, match="size limit"):
        _parse_verdict("INSTREAM size limit exceeded. ERROR")
    assert ScanReply(None, "x", 1).signature is None


def test_own_clamd_stops_its_leftover_from_a_crashed_run(tmp_path):
    from support import ROOT

    from desktop_uploader.localstore import pid_alive

    sigs = ROOT / "tests" / "signatures"
    crashed = OwnClamd(tmp_path / "run", sigs, 16 << 20)
    crashed.start()
    old_pid = crashed.pid
    crashed._proc = None  # the app died without stopping it
    fresh = OwnClamd(tmp_path / "run", sigs, 16 << 20)
    try:
        assert fresh.start().ping()
        new_pid = fresh.pid
        assert new_pid != old_pid and not pid_alive(old_pid)
    finally:
        fresh.stop()
        if pid_alive(old_pid):
            os.kill(old_pid, 9)
    assert not pid_alive(new_pid)


def test_stream_over_clamd_limit_is_an_error_never_clean(tmp_path):
    from support import ROOT

    own = OwnClamd(tmp_path / "run", ROOT / "tests" / "signatures", max_bytes=0)  # 16 MB
    client = own.start()
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + bytes(17 << 20))
    try:
        with pytest.raises(ClamdError, match="size limit"):
            client.scan_file(big)
    finally:
        own.stop()


def test_scanner_finds_a_system_clamd_else_starts_its_own(clamd_socket, tmp_path, monkeypatch):
    from support import ROOT

    from desktop_uploader.pipeline import clamd as clamd_mod
    from desktop_uploader.pipeline.scanners import MalwareScanner, ScannerUnavailable

    infected = tmp_path / "x.jpg"
    infected.write_bytes(EICAR)
    monkeypatch.setattr(clamd_mod, "SYSTEM_CONFIGS", ())
    monkeypatch.setattr(clamd_mod, "SYSTEM_SOCKETS", ("/nonexistent/clamd.ctl", clamd_socket))
    system = MalwareScanner(tmp_path / "a", database_dir=tmp_path / "empty")
    assert system.scan(infected).signature.startswith("DU.Test.EICAR")
    assert system.describe() == f"clamd at {clamd_socket}"
    system.close()

    monkeypatch.setattr(clamd_mod, "SYSTEM_SOCKETS", ())
    none = MalwareScanner(tmp_path / "b", database_dir=tmp_path / "empty")
    with pytest.raises(ScannerUnavailable, match="ClamAV has no signatures"):
        none.scan(infected)
    none.close()

    own = MalwareScanner(tmp_path / "c", database_dir=ROOT / "tests" / "signatures")
    try:
        assert own.scan(infected).signature.startswith("DU.Test.EICAR")
        assert own.describe().startswith("own clamd at ")
        pid = own._own.pid
    finally:
        own.close()  # stops the clamd it started
    from desktop_uploader.localstore import pid_alive

    assert not pid_alive(pid)


def test_infected_and_too_large_is_reported_as_malware(scanning_app, tmp_path):
    """Every infected input is reported as malware, whatever else is wrong with it."""
    app = scanning_app
    app.settings.limits.max_bytes = 50_000
    big = tmp_path / "huge-infected.jpg"
    big.write_bytes(jpeg_bytes(scene(200, 150)) + EICAR + os.urandom(80_000))
    plain = tmp_path / "huge-clean.jpg"
    plain.write_bytes(jpeg_bytes(scene(200, 150)) + os.urandom(80_000))
    infected, clean = app.engine.run([big, plain], "test", app.settings.preset(None))
    assert infected.status == "rejected" and infected.code.startswith("malware:DU.Test.EICAR")
    assert clean.status == "rejected" and clean.code == "file_too_large"
