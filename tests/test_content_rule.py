"""The content check's decision rule, pinned at the model boundary: given what NudeNet said
(labels, scores, boxes, skin share) and what the nudity classifier said, what is a finding.

The real models run in the negative tests below, on harmless pictures NudeNet alone misjudges.
No explicit picture is needed anywhere: the positive cases are given as model outputs.
"""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import numpy as np
import pytest
from imagegen import jpeg_bytes, scene
from PIL import Image, ImageDraw

from desktop_uploader import events as ev
from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline import content
from desktop_uploader.pipeline.content import (
    EXPLICIT_LABELS,
    ContentRule,
    Detection,
    Finding,
    judge,
    label_name,
)

RULE = ContentRule(EXPLICIT_LABELS, 0.6)  # the default policy
SIZE = (1000, 800)
BIG = (100, 100, 400, 400)  # 20 % of the picture


def det(label="BUTTOCKS_EXPOSED", score=0.8, box=BIG, skin=0.7) -> Detection:
    return Detection(label, score, box, skin)


class Opinion:
    """The classifier at the boundary: a fixed score, and how often it was asked."""

    def __init__(self, score: float | None) -> None:
        self.score = score
        self.calls = 0

    def __call__(self) -> float | None:
        self.calls += 1
        return self.score


def test_detector_and_classifier_agreeing_is_a_finding():
    opinion = Opinion(0.91)
    [f] = judge([det(score=0.8)], SIZE, RULE, opinion)
    assert f == Finding("BUTTOCKS_EXPOSED", 0.8, 0.91)
    assert f.describe() == (
        "exposed buttocks (BUTTOCKS_EXPOSED, score 0.80; nudity classifier 0.91)"
    )


@pytest.mark.parametrize(
    ("score", "classifier", "flagged"),
    [
        (0.6, 0.5, True),  # both exactly at their thresholds
        (0.599, 0.99, False),  # the detector just under
        (0.99, 0.499, False),  # the classifier just under: the flat-shape case
        (0.66, 0.003, False),  # the reported blue circle: NudeNet 0.66, open_nsfw 0.003
    ],
)
def test_thresholds_at_the_boundary(score, classifier, flagged):
    assert bool(judge([det(score=score)], SIZE, RULE, Opinion(classifier))) is flagged


def test_classifier_runs_once_and_only_when_the_detector_found_something():
    opinion = Opinion(0.9)
    found = judge(
        [det("BUTTOCKS_EXPOSED", 0.7), det("FEMALE_BREAST_EXPOSED", 0.8)], SIZE, RULE, opinion
    )
    assert [f.label for f in found] == ["FEMALE_BREAST_EXPOSED", "BUTTOCKS_EXPOSED"]
    assert opinion.calls == 1
    quiet = Opinion(0.99)
    assert judge([det(score=0.3), det("FACE_FEMALE", 0.9)], SIZE, RULE, quiet) == []
    assert quiet.calls == 0


def test_specks_do_not_count():
    tiny = (10, 10, 20, 20)  # 400 px² of 800,000: 0.05 %
    assert judge([det(box=tiny)], SIZE, RULE, Opinion(0.99)) == []
    edge = (0, 0, 40, 40)  # 1,600 px²: exactly 0.2 %
    assert judge([det(box=edge)], SIZE, RULE, Opinion(0.99))


def test_no_skin_in_the_box_is_no_person():
    assert judge([det(skin=0.05)], SIZE, RULE, Opinion(0.99)) == []
    assert judge([det(skin=0.3)], SIZE, RULE, Opinion(0.99))
    # a grey box (black-and-white photo) cannot be judged by colour: the classifier decides
    assert judge([det(skin=None)], SIZE, RULE, Opinion(0.99))
    assert judge([det(skin=None)], SIZE, RULE, Opinion(0.1)) == []


def test_a_missing_classifier_does_not_open_the_gate():
    [f] = judge([det()], SIZE, RULE, Opinion(None))
    assert f.classifier is None and f.label == "BUTTOCKS_EXPOSED"


def test_per_label_thresholds():
    rule = ContentRule(EXPLICIT_LABELS, 0.6, (("BUTTOCKS_EXPOSED", 0.85),))
    assert judge([det(score=0.8)], SIZE, rule, Opinion(0.9)) == []
    assert judge([det("ANUS_EXPOSED", 0.7)], SIZE, rule, Opinion(0.9))


def test_configured_non_nudity_labels_go_by_the_detector_alone():
    rule = ContentRule(("FACE_FEMALE",), 0.5)
    opinion = Opinion(0.0)
    [f] = judge([det("FACE_FEMALE", 0.72, skin=0.0)], SIZE, rule, opinion)
    assert f == Finding("FACE_FEMALE", 0.72, None) and opinion.calls == 0
    assert judge([det("BUTTOCKS_EXPOSED", 0.99)], SIZE, rule, opinion) == []  # not configured


def test_one_finding_per_label_highest_first():
    found = judge(
        [det(score=0.7), det(score=0.9), det("ANUS_EXPOSED", 0.8)], SIZE, RULE, Opinion(0.8)
    )
    assert [(f.label, f.score) for f in found] == [
        ("BUTTOCKS_EXPOSED", 0.9),
        ("ANUS_EXPOSED", 0.8),
    ]


def test_every_label_has_a_readable_name():
    from nudenet.nudenet import __labels as labels  # type: ignore[attr-defined]

    for label in labels:
        assert label in content.LABEL_NAMES, label
        assert "_" not in label_name(label)
    assert label_name("SOMETHING_NEW") == "something new"


def test_skin_share_light_and_dark_skin_and_grey():
    for tone in ((255, 224, 196), (198, 134, 66), (92, 51, 23)):
        im = Image.new("RGB", (50, 50), tone)
        assert content.skin_share(im, 0, 0, 50, 50) == 1.0, tone
    assert content.skin_share(Image.new("RGB", (50, 50), (30, 80, 220)), 0, 0, 50, 50) == 0.0
    assert content.skin_share(Image.new("RGB", (50, 50), (128, 128, 128)), 0, 0, 50, 50) is None


# -- the engine at the model boundary: block and review act on agreement only ------------------
@pytest.fixture
def patched_engine(app, monkeypatch):
    """An engine deciding inline, whose models say what the test says."""
    from desktop_uploader.engine import Engine
    from desktop_uploader.pipeline.checks import SafetyChecks
    from desktop_uploader.pipeline.scanners import ValidationPolicy

    said = {"detections": [], "classifier": 0.0, "policy": "block"}
    monkeypatch.setattr(content, "detect", lambda rgb: list(said["detections"]))
    monkeypatch.setattr(content, "nudity_score", lambda rgb: said["classifier"])
    checks = SafetyChecks(
        app.settings.limits,
        policy_for=lambda _p: ValidationPolicy("off", said["policy"]),
    )
    engine = Engine(
        app.journal, app.paths.spool_dir, app.settings.limits, app.uploader, checks=checks
    )
    yield engine, said
    engine.shutdown()


@pytest.fixture
def photo(tmp_path):
    p = tmp_path / "beach.jpg"
    p.write_bytes(jpeg_bytes(scene(400, 300, seed=5)))
    return p


def test_block_rejects_when_both_models_agree(patched_engine, photo, app):
    engine, said = patched_engine
    said["detections"] = [det(score=0.8, box=(0, 0, 200, 150))]
    said["classifier"] = 0.93
    [r] = engine.run([photo], "test", app.settings.preset(None))
    assert r.status == "rejected" and r.code == "content:BUTTOCKS_EXPOSED"
    assert "exposed buttocks" in r.reason and "0.80" in r.reason and "agreed (0.93)" in r.reason
    row = app.journal.job(r.job_id)
    assert row["status"] == "rejected" and "0.80" in row["reason"]  # history says it too


def test_block_uploads_when_the_classifier_disagrees(patched_engine, photo, app):
    engine, said = patched_engine
    said["detections"] = [det(score=0.8, box=(0, 0, 200, 150))]
    said["classifier"] = 0.02
    [r] = engine.run([photo], "test", app.settings.preset(None))
    assert r.status == "done", r.reason
    assert r.findings == [] and r.reason is None


def test_review_holds_on_agreement_and_records_it(patched_engine, photo, app):
    engine, said = patched_engine
    said.update(policy="review", classifier=0.77)
    said["detections"] = [det("FEMALE_BREAST_EXPOSED", 0.71, box=(0, 0, 200, 150))]
    held = threading.Event()
    engine.subscribe(lambda e: held.set() if e.data.get("stage") == "waiting_for_review" else None)
    job = engine.submit(photo, "test", app.settings.preset(None))
    assert held.wait(30)
    [row] = engine.held_for_review()
    assert row["id"] == job.id and row["status"] == "held"
    assert row["code"] == "content:FEMALE_BREAST_EXPOSED"
    assert row["findings"] == [
        {
            "label": "FEMALE_BREAST_EXPOSED",
            "name": "exposed female breasts",
            "score": 0.71,
            "classifier": 0.77,
        }
    ]
    assert engine.approve(job.id)
    r = job.future.result(timeout=60)
    assert r.status == "done", r.reason
    assert r.reason.startswith("Approved on review: the content check found exposed female")
    assert app.journal.job(job.id)["findings"]  # history keeps what was found
    assert engine.held_for_review() == []


# -- the real models on harmless pictures NudeNet alone misjudges -----------------------------
@pytest.fixture(scope="module")
def colour_wheel() -> Image.Image:
    skdata = pytest.importorskip("skimage.data", reason="scikit-image is in the dev extra")
    return Image.fromarray(skdata.colorwheel()).convert("RGB")


def blue_circle() -> Image.Image:
    im = Image.new("RGB", (100, 100), (255, 255, 255))
    ImageDraw.Draw(im).ellipse((10, 10, 90, 90), fill=(30, 80, 220))
    return im


def skin_gradient() -> Image.Image:
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    t = np.clip(np.hypot(xx - 128, yy - 128) / (0.6 * 256), 0, 1)[..., None]
    a, b = np.array((255, 224, 196), np.float32), np.array((40, 20, 10), np.float32)
    return Image.fromarray(((1 - t) * a + t * b).astype(np.uint8))


def test_real_models_clear_what_nudenet_alone_flags(colour_wheel):
    # NudeNet alone calls these BUTTOCKS_EXPOSED above the default threshold ...
    for picture in (colour_wheel, skin_gradient()):
        raw = [d for d in content.detect(picture) if d.label in EXPLICIT_LABELS]
        assert max(d.score for d in raw) >= 0.6
        # ... and the rule, with the classifier's real opinion, does not
        assert content.content_findings(picture, RULE) == []
        assert content.nudity_score(picture) < 0.5


def test_real_models_clear_flat_shapes_at_every_threshold():
    for picture in (blue_circle(), blue_circle().convert("P"), skin_gradient()):
        for threshold in (0.3, 0.5, 0.6):
            rule = ContentRule(EXPLICIT_LABELS, threshold)
            assert content.content_findings(picture.convert("RGB"), rule) == []


def test_held_event_carries_readable_findings(patched_engine, photo, app):
    engine, said = patched_engine
    said.update(policy="review", classifier=0.8)
    said["detections"] = [det(score=0.9, box=(0, 0, 200, 150))]
    seen: list[ev.Event] = []
    got = threading.Event()

    def on_event(e: ev.Event) -> None:
        if e.data.get("stage") == "waiting_for_review":
            seen.append(e)
            got.set()

    engine.subscribe(on_event)
    job = engine.submit(photo, "test", app.settings.preset(None))
    assert got.wait(30)
    assert seen[0].data["findings"][0] == {
        "label": "BUTTOCKS_EXPOSED",
        "name": "exposed buttocks",
        "score": 0.9,
        "classifier": 0.8,
    }
    assert "exposed buttocks (BUTTOCKS_EXPOSED, score 0.90" in seen[0].data["reason"]
    assert engine.reject(job.id)
    assert job.future.result(timeout=10).status == "rejected"


# -- one content check, inline and in the decoder workers ----------------------------------------
def test_the_content_check_is_written_once():
    """Inline checks and the decoder workers run the same check (``content_inspector``): no
    module but content.py asks the models itself."""
    package = Path(content.__file__).resolve().parent.parent
    callers = sorted(
        p.relative_to(package).as_posix()
        for p in package.rglob("*.py")
        if p.name != "content.py"
        and any(
            isinstance(n, ast.Name | ast.Attribute)
            and (getattr(n, "id", None) or getattr(n, "attr", None)) == "content_findings"
            for n in ast.walk(ast.parse(p.read_text()))
        )
    )
    assert callers == []


@pytest.mark.parametrize("policy", ["block", "review"])
def test_inline_and_worker_paths_decide_alike(monkeypatch, photo, tmp_path, policy):
    """The same finding rejects the file under ``block`` and comes back under ``review``,
    whether the check runs inline (no pool) or as a decoder worker runs it (``_handle``, here
    in this process so the models can be stood in for)."""
    from desktop_uploader.config import Limits, Preset
    from desktop_uploader.pipeline import decoder
    from desktop_uploader.pipeline.checks import SafetyChecks
    from desktop_uploader.pipeline.scanners import ValidationPolicy
    from desktop_uploader.pipeline.validate import probe

    monkeypatch.setattr(content, "detect", lambda rgb: [det(box=(0, 0, 200, 150))])
    monkeypatch.setattr(content, "nudity_score", lambda rgb: 0.9)
    info, preset = probe(photo, Limits()), Preset("small", max_size=200)
    inline = SafetyChecks(Limits(), policy_for=lambda _p: ValidationPolicy("off", policy))
    rule, block = ValidationPolicy("off", policy).content_rule(), policy == "block"
    worker_args = (photo, info, preset, tmp_path / "w", rule, block, 1)
    outcomes = []
    for run in (
        lambda: inline.process(photo, info, preset, tmp_path / "i", "test"),
        lambda: decoder._handle("process", worker_args),
    ):
        try:
            outcomes.append(("findings", run().findings))
        except Rejected as e:
            outcomes.append(("rejected", e.code, e.message))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == ("rejected" if block else "findings"), outcomes
    assert outcomes[0][1] == "content:BUTTOCKS_EXPOSED" if block else outcomes[0][1]
