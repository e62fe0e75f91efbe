"""The engine end to end against the real SeaweedFS store."""

from __future__ import annotations

import os
import urllib.request

import pytest
from imagegen import animated_gif_bytes, heic_bytes, jpeg_bytes, png_bytes, scene
from PIL import Image
from support import exif_tags

from desktop_uploader import events as ev
from desktop_uploader.config import Destination
from desktop_uploader.credentials import S3Keys
from desktop_uploader.pipeline.upload import MULTIPART_THRESHOLD, Uploader


def fetch(url: str) -> tuple[int, str, bytes, dict]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers["Content-Type"], r.read(), dict(r.headers)


@pytest.fixture
def inputs(tmp_path):
    files = {
        "photo.jpg": jpeg_bytes(scene(900, 600, seed=5), orientation=6),
        "drawing.png": png_bytes(scene(500, 300, seed=6)),
        "phone.heic": heic_bytes(scene(640, 480, seed=7)),
        "anim.gif": animated_gif_bytes(frames=5),
    }
    out = {}
    for name, data in files.items():
        p = tmp_path / "in" / name
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data)
        out[name] = p
    return out


def test_formats_upload_verified_and_metadata_free(app, inputs, tmp_path, exiftool):
    events = []
    app.engine.subscribe(events.append)
    results = app.engine.run(list(inputs.values()), "test", app.settings.preset(None))
    assert [r.status for r in results] == ["done"] * 4, [(r.source, r.reason) for r in results]
    for r in results:
        status, ctype, body, headers = fetch(r.url)
        assert status == 200 and ctype == "image/webp"
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        import hashlib

        assert hashlib.sha256(body).hexdigest() == r.sha256
        prefix = app.settings.destinations["test"].prefix
        assert r.key == f"{prefix}/{r.sha256[:2]}/{r.sha256}.webp"
        assert len(body) == r.bytes
        out = tmp_path / f"{r.sha256}.webp"
        out.write_bytes(body)
        leaked = {k: v for k, v in exif_tags(exiftool, out).items() if not k.startswith("RIFF:")}
        assert leaked == {}, f"{r.source}: {leaked}"
        assert fetch(r.thumbnail_url)[0] == 200
    photo = next(r for r in results if r.source.endswith("photo.jpg"))
    assert (photo.width, photo.height) == (900, 600)
    assert photo.had_gps is True
    anim = next(r for r in results if r.source.endswith("anim.gif"))
    with Image.open(tmp_path / f"{anim.sha256}.webp") as im:
        assert im.n_frames == 5
    kinds = {e.kind for e in events}
    assert {ev.QUEUED, ev.STAGE, ev.PROGRESS, ev.DONE} <= kinds
    # the journal recorded every outcome
    hist = app.journal.history()
    assert {h["status"] for h in hist} == {"done"} and len(hist) == 4


def test_second_run_is_a_duplicate(app, inputs):
    preset = app.settings.preset(None)
    first = app.engine.run([inputs["photo.jpg"]], "test", preset)[0]
    second = app.engine.run([inputs["photo.jpg"]], "test", preset)[0]
    assert first.status == "done"
    assert second.status == "duplicate"
    assert second.url == first.url and second.key == first.key


def test_same_content_elsewhere_is_not_uploaded_twice(app, inputs, tmp_path, home):
    """A copy under another name, in a fresh journal: the bucket already has the bytes."""
    copy = tmp_path / "copy-of-photo.jpg"
    copy.write_bytes(inputs["photo.jpg"].read_bytes())
    preset = app.settings.preset(None)
    a = app.engine.run([inputs["photo.jpg"]], "test", preset)[0]
    app.journal.update_job(a.job_id, status="failed")  # forget it in the journal
    b = app.engine.run([copy], "test", preset)[0]
    assert b.status == "duplicate" and b.key == a.key


def test_bad_input_never_crashes_the_batch(app, inputs, tmp_path):
    junk = tmp_path / "notes.jpg"
    junk.write_text("not an image")
    missing = tmp_path / "gone.jpg"
    files = [inputs["photo.jpg"], junk, missing, inputs["drawing.png"]]
    results = app.engine.run(files, "test", app.settings.preset(None))
    assert [r.status for r in results] == ["done", "rejected", "rejected", "done"]
    assert [r.code for r in results][1:3] == ["not_an_image", "not_found"]
    assert [r.source for r in results] == [str(f) for f in files]


def test_wrong_credentials_give_a_clear_error(app, inputs, memory_keyring):
    app.credentials.set("test", S3Keys("WRONGKEY", "wrong-secret"))
    r = app.engine.run([inputs["photo.jpg"]], "test", app.settings.preset(None))[0]
    assert r.status == "failed"
    assert r.code == "bad_credentials"
    assert "access key" in r.reason
    assert "wrong-secret" not in r.reason


def test_missing_bucket_gives_a_clear_error(app, inputs, store_target):
    """A key without admin rights cannot auto-create buckets, so the upload must fail."""
    status, keys = store_target
    app.settings.destinations["test"].bucket = "no-such-bucket-here"
    up = app.uploader("test")
    from desktop_uploader.errors import StorageError
    from desktop_uploader.pipeline.upload import translate

    with pytest.raises(Exception) as e:
        up.client.head_bucket(Bucket="no-such-bucket-here")
    err = translate(e.value, "no-such-bucket-here")
    assert isinstance(err, StorageError)
    assert err.code == "no_such_bucket"
    assert "does not exist" in err.message


def test_no_keys_for_destination(app, inputs, memory_keyring):
    app.credentials.delete("test")
    r = app.engine.run([inputs["photo.jpg"]], "test", app.settings.preset(None))[0]
    assert r.status == "failed" and r.code == "credentials"
    assert "No access keys" in r.reason


def test_multipart_upload_records_parts_and_verifies(app, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(MULTIPART_THRESHOLD + 3 * 1024 * 1024))
    from desktop_uploader.pipeline.process import file_sha256

    sha, size = file_sha256(big)
    up: Uploader = app.uploader("test")
    sent = []
    head = up.upload_file(big, f"t/mp/{sha}.bin", sha, "application/octet-stream", sent.append)
    assert head["ContentLength"] == size and sum(sent) == size
    rows = app.journal._query("SELECT * FROM multipart_uploads")
    assert len(rows) == 1 and rows[0]["state"] == "completed"
    parts = app.journal.parts(rows[0]["upload_id"])
    assert len(parts) == 3 and sum(p["size"] for p in parts) == size
    body = up.client.get_object(Bucket=up.bucket, Key=f"t/mp/{sha}.bin")["Body"].read()
    import hashlib

    assert hashlib.sha256(body).hexdigest() == sha


def test_destination_settings_keep_secrets_out_of_toml(app, home, memory_keyring):
    app.settings.destinations["cloud"] = Destination(
        "cloud", endpoint="https://s3.example", bucket="b"
    )
    app.credentials.set("cloud", S3Keys("AKIACLOUD", "cloud-secret-value"))
    app.save_settings()
    text = app.paths.config_file.read_text()
    assert "cloud-secret-value" not in text and "AKIACLOUD" not in text
    assert 'endpoint = "https://s3.example"' in text
    assert "cloud-secret-value" in memory_keyring.get_password("desktop-uploader", "cloud")


def test_identical_files_in_one_batch_never_share_spool_files(app, tmp_path):
    """Byte-identical copies processed at the same time: each job keeps its own spooled
    outputs (one finishing must not delete what another is about to send)."""
    data = jpeg_bytes(scene(640, 480, seed=4242))
    files = []
    for i in range(8):
        p = tmp_path / f"copy{i}.jpg"
        p.write_bytes(data)
        files.append(p)
    results = app.engine.run(files, "test", app.settings.preset(None))
    assert {r.status for r in results} <= {"done", "duplicate"}, [
        (r.code, r.reason) for r in results
    ]
    assert len({r.key for r in results}) == 1
    assert list(app.paths.spool_dir.glob("*.webp")) == [], "spool left behind"
    assert (
        app.journal.spool_entries(
            results[0].sha256 and app.journal.job(results[0].job_id)["source_sha256"],
            "test",
            app.settings.preset(None).fingerprint(),
        )
        == []
    )
