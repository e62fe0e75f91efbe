"""Content check with the real NudeNet model, on generated and bundled non-explicit images.

NudeNet's labels include non-explicit ones: scikit-image's ``astronaut()`` sample is detected as
``FACE_FEMALE``. Configuring that label lets the policies be proven without explicit material.
"""

from __future__ import annotations

import json
import threading

import pytest
from imagegen import jpeg_bytes, scene
from PIL import Image
from support import run_cli

from desktop_uploader import events as ev
from desktop_uploader.pipeline.content import ContentRule, content_findings
from desktop_uploader.pipeline.upload import make_client

FACE = ContentRule(("FACE_FEMALE",), 0.5)


@pytest.fixture(scope="module")
def astronaut_jpeg(tmp_path_factory):
    skdata = pytest.importorskip("skimage.data", reason="scikit-image is in the dev extra")
    p = tmp_path_factory.mktemp("content") / "astronaut.jpg"
    Image.fromarray(skdata.astronaut()).save(p, "JPEG", quality=92)
    return p


@pytest.fixture
def plain_jpeg(tmp_path):
    p = tmp_path / "scene.jpg"
    p.write_bytes(jpeg_bytes(scene(400, 300, seed=21), gps=False))
    return p


def objects_under(app) -> list[str]:
    target = app.target("test")
    prefix = app.settings.destinations["test"].prefix + "/"
    listing = make_client(target).list_objects_v2(Bucket=target.bucket, Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


@pytest.fixture
def face_app(app):
    """Destination "test" counting FACE_FEMALE (a non-explicit stand-in) as a finding."""
    dest = app.settings.destinations["test"]
    dest.malware_scan = "off"
    dest.content_labels = ["FACE_FEMALE"]
    dest.content_threshold = 0.5
    return app


def test_detector_on_decoded_pixels(astronaut_jpeg, plain_jpeg):
    with Image.open(astronaut_jpeg) as im:
        found = content_findings(im.convert("RGB"), FACE)
    assert found and found[0].label == "FACE_FEMALE" and found[0].score >= 0.5
    with Image.open(plain_jpeg) as im:
        assert content_findings(im.convert("RGB"), FACE) == []
    # the default (explicit) labels do not fire on either
    explicit = ContentRule(("FEMALE_BREAST_EXPOSED", "FEMALE_GENITALIA_EXPOSED"), 0.3)
    with Image.open(astronaut_jpeg) as im:
        assert content_findings(im.convert("RGB"), explicit) == []


def test_block_rejects_before_upload(face_app, astronaut_jpeg, plain_jpeg):
    face_app.settings.destinations["test"].content_check = "block"
    bad, good = face_app.engine.run(
        [astronaut_jpeg, plain_jpeg], "test", face_app.settings.preset(None)
    )
    assert bad.status == "rejected" and bad.code == "content:FACE_FEMALE", bad.reason
    assert "blocks it" in bad.reason
    assert good.status == "done", good.reason
    assert bad.url is None and bad.key is None
    assert len(objects_under(face_app)) == 2  # the good image and its thumbnail only


def _held(engine) -> tuple[threading.Event, list[ev.Event]]:
    held = threading.Event()
    seen: list[ev.Event] = []

    def on_event(e: ev.Event) -> None:
        if e.data.get("stage") == "waiting_for_review":
            seen.append(e)
            held.set()

    engine.subscribe(on_event)
    return held, seen


def test_review_holds_until_approved(face_app, astronaut_jpeg):
    face_app.settings.destinations["test"].content_check = "review"
    engine = face_app.engine
    held, seen = _held(engine)
    job = engine.submit(astronaut_jpeg, "test", face_app.settings.preset(None))
    assert held.wait(60), "the job should be held for review"
    assert seen[0].data["findings"][0]["label"] == "FACE_FEMALE"
    assert "Held for review" in seen[0].data["reason"]
    assert not job.future.done() and job.stage == "waiting_for_review"
    # nothing a restart could resume from without a new check
    sha = face_app.journal.job(job.id)["source_sha256"]
    fp = face_app.settings.preset(None).fingerprint()
    assert face_app.journal.find_spool(sha, "test", fp) == []
    engine.resume()  # resuming the queue does not release a held job
    assert not job.future.done()
    assert objects_under(face_app) == []
    assert engine.approve(job.id)
    result = job.future.result(timeout=60)
    assert result.status == "done", result.reason
    assert len(objects_under(face_app)) == 2


def test_review_rejected_by_the_user(face_app, astronaut_jpeg):
    face_app.settings.destinations["test"].content_check = "review"
    engine = face_app.engine
    held, _ = _held(engine)
    job = engine.submit(astronaut_jpeg, "test", face_app.settings.preset(None))
    assert held.wait(60)
    assert engine.reject(job.id)
    result = job.future.result(timeout=10)
    assert result.status == "rejected" and result.code == "content:FACE_FEMALE"
    assert "Rejected on review" in result.reason
    assert objects_under(face_app) == []
    assert not engine.approve(job.id)  # nothing left to approve
    assert astronaut_jpeg.exists()


def test_off_uploads_and_cli_override(face_app, astronaut_jpeg, local_store, store_home):
    face_app.settings.destinations["test"].content_check = "off"
    [r] = face_app.engine.run([astronaut_jpeg], "test", face_app.settings.preset(None))
    assert r.status == "done", r.reason
    # the CLI: the store's home with a destination that blocks FACE_FEMALE; override per run
    home = store_home.parent / f"content-home-{astronaut_jpeg.parent.name}"
    (home / "config").mkdir(parents=True, exist_ok=True)
    st, keys = local_store.status(), local_store.keys()
    (home / "config" / "settings.toml").write_text(
        f'default_profile = "cloud"\n[destinations.cloud]\nendpoint = "{st.s3_endpoint}"\n'
        f'bucket = "{st.bucket}"\nprovider = "minio"\nprefix = "c{home.name[-8:]}"\n'
        'malware_scan = "off"\ncontent_check = "block"\ncontent_labels = ["FACE_FEMALE"]\n'
        "content_threshold = 0.5\n"
    )
    import os

    env_before = dict(os.environ)
    os.environ["AWS_ACCESS_KEY_ID"] = keys.access_key_id
    os.environ["AWS_SECRET_ACCESS_KEY"] = keys.secret_access_key
    try:
        blocked = run_cli("upload", "--json", str(astronaut_jpeg), env_home=home)
        review = run_cli(
            "upload", "--json", "--content-check", "review", str(astronaut_jpeg), env_home=home
        )
        allowed = run_cli(
            "upload", "--json", "--content-check", "off", str(astronaut_jpeg), env_home=home
        )
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    line = json.loads(blocked.stdout)
    assert blocked.returncode == 1 and line["code"] == "content:FACE_FEMALE", blocked.stderr
    line = json.loads(review.stdout)
    assert review.returncode == 3, review.stderr  # held for review: nothing failed or rejected
    assert line["status"] == "held" and line["code"] == "content:FACE_FEMALE"
    assert line["findings"][0]["name"] == "a woman's face"
    line = json.loads(allowed.stdout)
    assert allowed.returncode == 0 and line["status"] == "done", allowed.stderr


def test_review_also_holds_local_processing(face_app, astronaut_jpeg, tmp_path):
    """process --out goes through the same checks: a file held for review is not written
    until approved."""
    face_app.settings.destinations["test"].content_check = "review"
    engine = face_app.engine
    held, _seen = _held(engine)
    out = tmp_path / "out"
    job = engine.submit(astronaut_jpeg, "test", face_app.settings.preset(None), out_dir=out)
    assert held.wait(60), "the job should be held for review"
    assert not out.exists() or list(out.iterdir()) == []
    assert engine.approve(job.id)
    result = job.future.result(timeout=60)
    assert result.status == "done" and result.output == str(out / "astronaut.webp")
    assert (out / "astronaut.webp").exists()


def test_review_rejection_of_local_processing_writes_and_keeps_nothing(
    face_app, astronaut_jpeg, tmp_path
):
    face_app.settings.destinations["test"].content_check = "review"
    engine = face_app.engine
    held, _seen = _held(engine)
    out = tmp_path / "out"
    spooled_before = set(engine.spool_dir.glob("*")) if engine.spool_dir.exists() else set()
    job = engine.submit(astronaut_jpeg, "test", face_app.settings.preset(None), out_dir=out)
    assert held.wait(60), "the job should be held for review"
    assert engine.reject(job.id)
    result = job.future.result(timeout=10)
    assert result.status == "rejected" and result.code == "content:FACE_FEMALE"
    assert not out.exists() or list(out.iterdir()) == []
    assert set(engine.spool_dir.glob("*")) <= spooled_before  # its outputs were removed
    assert astronaut_jpeg.exists()


def test_model_runs_on_one_thread_with_the_default_sessions_findings(astronaut_jpeg):
    # Each decoder worker has a core to itself: the session must not spawn a thread per core.
    import numpy as np

    from desktop_uploader.pipeline.content import load_content_model

    detector = load_content_model()
    opts = detector.onnx_session.get_session_options()
    assert opts.intra_op_num_threads == 1 and opts.inter_op_num_threads == 1
    # ...and it finds what NudeNet's own default session finds, with the same scores
    from nudenet import NudeDetector

    with Image.open(astronaut_jpeg) as im:
        bgr = np.ascontiguousarray(np.asarray(im.convert("RGB"))[:, :, ::-1])
    ours = detector.detect(bgr)
    theirs = NudeDetector().detect(bgr)
    assert [d.label for d in ours] == [d["class"] for d in theirs] and ours
    for a, b in zip(ours, theirs, strict=True):
        assert abs(a.score - b["score"]) < 0.01


def test_a_content_check_override_preloads_the_model_and_keeps_the_nice_setting(app):
    # Every destination has the check off: the override alone must preload NudeNet in the
    # workers, and the decoders' priority is the setting, whatever the policy.
    for d in app.settings.destinations.values():
        d.content_check = "off"
    app.policy_overrides["content_check"] = "block"
    app.settings.limits.decoder_nice = 0
    decoder = app.checks.decoder
    assert decoder.preload is True
    assert decoder.nice == 0
