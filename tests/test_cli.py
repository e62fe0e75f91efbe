"""The CLI as users and scripts run it: subprocesses, real store, no keyring (fail backend)."""

from __future__ import annotations

import json

import pytest
from imagegen import jpeg_bytes, scene
from support import run_cli
from test_validate_process import png_header_only


@pytest.fixture
def batch(tmp_path):
    d = tmp_path / "batch"
    d.mkdir()
    (d / "a.jpg").write_bytes(jpeg_bytes(scene(320, 200, seed=40 + tmp_path.name.__hash__() % 50)))
    (d / "b-not-image.jpg").write_text("hello")
    (d / "c-bomb.png").write_bytes(png_header_only(50_000, 50_000))
    return d


def test_upload_json_one_line_per_input_and_exit_codes(local_store, store_home, batch, tmp_path):
    missing = tmp_path / "missing.jpg"
    res = run_cli("upload", "--json", str(batch), str(missing), env_home=store_home)
    assert res.returncode == 1, res.stderr  # some rejected, none failed
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert len(lines) == 4
    by_name = {ln["source"].rsplit("/", 1)[-1]: ln for ln in lines}
    for ln in lines:
        assert set(ln) >= {
            "source",
            "status",
            "reason",
            "url",
            "thumbnail_url",
            "key",
            "sha256",
            "bytes",
        }
    assert by_name["a.jpg"]["status"] == "done"
    assert by_name["a.jpg"]["url"].startswith(local_store.status().public_base_url)
    assert by_name["b-not-image.jpg"]["code"] == "not_an_image"
    assert by_name["c-bomb.png"]["code"] == "too_many_pixels"
    assert by_name["missing.jpg"]["code"] == "not_found"
    for name in ("c-bomb.png", "missing.jpg"):
        assert by_name[name]["status"] == "rejected" and by_name[name]["reason"]
    # a file in a folder that is no image at all is passed over, not an error
    assert by_name["b-not-image.jpg"]["status"] == "skipped"

    again = run_cli("upload", "--json", str(batch / "a.jpg"), env_home=store_home)
    assert again.returncode == 0, again.stderr
    dup = json.loads(again.stdout)
    assert dup["status"] == "duplicate" and dup["url"] == by_name["a.jpg"]["url"]

    hist = run_cli("history", "--json", "--search", "a.jpg", env_home=store_home)
    rows = [json.loads(x) for x in hist.stdout.splitlines()]
    assert rows and all("a.jpg" in r["source"] for r in rows)
    assert {r["status"] for r in rows} <= {"done", "duplicate"}


def test_plain_output_prints_one_link_per_image(local_store, store_home, tmp_path):
    p = tmp_path / "plain.jpg"
    p.write_bytes(jpeg_bytes(scene(200, 150, seed=77)))
    res = run_cli("upload", str(p), env_home=store_home)
    assert res.returncode == 0, res.stderr
    links = res.stdout.strip().splitlines()
    assert len(links) == 1 and links[0].startswith("http://127.0.0.1:")


def test_doctor_local_store_passes(local_store, store_home):
    res = run_cli("doctor", env_home=store_home)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "All checks passed." in res.stdout
    for check in ("credentials", "endpoint", "write", "public_read"):
        assert check in res.stdout


def test_doctor_and_upload_with_wrong_keys_from_environment(local_store, tmp_path, batch):
    """No keyring here: keys come from the environment, and the CLI says so."""
    home = tmp_path / "h"
    (home / "config").mkdir(parents=True)
    st = local_store.status()
    (home / "config" / "settings.toml").write_text(
        f'default_profile = "cloud"\n[destinations.cloud]\nendpoint = "{st.s3_endpoint}"\n'
        f'bucket = "{st.bucket}"\nprovider = "minio"\n'
    )
    import os

    env_before = dict(os.environ)
    os.environ["AWS_ACCESS_KEY_ID"] = "NOTAKEY"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "not-a-secret-123"
    try:
        doc = run_cli("doctor", env_home=home)
        up = run_cli("upload", "--json", str(batch / "a.jpg"), env_home=home)
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    assert doc.returncode == 1
    assert "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for this run" in doc.stderr
    assert "did not accept the access key" in doc.stdout
    assert up.returncode == 2
    line = json.loads(up.stdout)
    assert line["status"] == "failed" and line["code"] == "bad_credentials"
    assert "not-a-secret-123" not in up.stdout + up.stderr + doc.stdout + doc.stderr


def test_unknown_profile_is_a_clear_error(store_home):
    res = run_cli("upload", "--profile", "nope", "x.jpg", env_home=store_home)
    assert res.returncode == 2
    assert "There is no destination called 'nope'" in res.stderr
    assert "Traceback" not in res.stderr


def test_process_writes_outputs_without_uploading(store_home, tmp_path, exiftool):
    from support import exif_tags

    src = tmp_path / "src"
    src.mkdir()
    (src / "holiday.jpg").write_bytes(jpeg_bytes(scene(900, 600, seed=91), orientation=6))
    (src / "notes.jpg").write_text("not a picture")
    out = tmp_path / "out"
    res = run_cli(
        "process",
        "--json",
        "--out",
        str(out),
        str(src),
        str(src / "notes.jpg"),
        env_home=store_home,
    )
    assert res.returncode == 1, res.stderr  # notes.jpg, named, is rejected
    lines = {
        json.loads(x)["source"].rsplit("/", 1)[-1]: json.loads(x) for x in res.stdout.splitlines()
    }
    ok = lines["holiday.jpg"]
    assert ok["status"] == "done" and ok["url"] is None and ok["key"] is None
    assert ok["output"] == str(out / "holiday.webp")
    assert ok["thumbnail_output"] == str(out / "holiday.thumb.webp")
    assert (ok["width"], ok["height"]) == (900, 600)
    import hashlib

    assert hashlib.sha256((out / "holiday.webp").read_bytes()).hexdigest() == ok["sha256"]
    leaked = {
        k: v
        for k, v in exif_tags(exiftool, out / "holiday.webp").items()
        if not k.startswith("RIFF:")
    }
    assert leaked == {}
    assert lines["notes.jpg"]["status"] == "rejected"
    assert lines["notes.jpg"]["code"] == "not_an_image"
    assert sorted(p.name for p in out.iterdir()) == ["holiday.thumb.webp", "holiday.webp"]
    hist = run_cli("history", "--json", "--search", "holiday", env_home=store_home)
    assert hist.stdout.strip() == "", "local processing is not an upload: not in history"
