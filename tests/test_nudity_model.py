"""NudeNet's model without NudeNet's code (pipeline/nudity_model.py): the same detections as
``nudenet.NudeDetector`` on real pictures of several shapes, and no OpenCV after a check."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from imagegen import scene
from PIL import Image, ImageDraw

from desktop_uploader.pipeline import nudity_model
from desktop_uploader.pipeline.content import load_content_model

skdata = pytest.importorskip("skimage.data", reason="scikit-image is in the dev extra")
nudenet = pytest.importorskip("nudenet", reason="NudeNet itself is the reference")

SCORE_TOLERANCE = 0.01  # OpenCV resizes in fixed point: inputs differ by <= 1 level of 255
BOX_TOLERANCE = 3  # pixels


def _pictures() -> dict[str, np.ndarray]:
    astronaut = Image.fromarray(skdata.astronaut())
    blue_circles = Image.new("RGB", (640, 480), (235, 235, 240))
    draw = ImageDraw.Draw(blue_circles)
    for i in range(4):  # NudeNet alone scored shapes like these BUTTOCKS_EXPOSED (DESIGN.md)
        draw.ellipse((40 + 140 * i, 150, 160 + 140 * i, 270), fill=(40, 90, 200))
    pics = {
        "astronaut 512x512": astronaut,
        "astronaut grown 1500x1500": astronaut.resize((1500, 1500)),
        "astronaut wide 2000x700": astronaut.resize((2000, 700)),
        "astronaut tall 333x901": astronaut.resize((333, 901)),
        "astronaut small 200x250 (upscaled)": astronaut.resize((200, 250)),
        "coffee": Image.fromarray(skdata.coffee()),
        "cat": Image.fromarray(skdata.chelsea()),
        "blue circles": blue_circles,
        "scene": scene(999, 641, seed=3),
    }
    return {
        k: np.ascontiguousarray(np.asarray(v.convert("RGB"))[:, :, ::-1]) for k, v in pics.items()
    }


PICTURES = _pictures()


@pytest.fixture(scope="module")
def reference():
    return nudenet.NudeDetector()


@pytest.mark.parametrize("name", list(PICTURES))
def test_detections_match_nudenets_own(name, reference):
    bgr = PICTURES[name]
    theirs = [d for d in reference.detect(bgr) if d["score"] > 0.25 + SCORE_TOLERANCE]
    ours = load_content_model().detect(bgr)
    # a box NudeNet kept just above its 0.25 cut may fall just below it here, and vice versa
    ours_clear = [d for d in ours if d.score > 0.25 + SCORE_TOLERANCE]
    assert [d.label for d in ours_clear] == [d["class"] for d in theirs], name
    for a, b in zip(ours_clear, theirs, strict=True):
        assert abs(a.score - b["score"]) < SCORE_TOLERANCE, (name, a, b)
        assert max(abs(x - y) for x, y in zip(a.box, b["box"], strict=True)) <= BOX_TOLERANCE


def test_the_astronaut_is_found_square_grown_and_upscaled():
    """Guards the comparison above against both sides finding nothing."""
    for name in (
        "astronaut 512x512",
        "astronaut grown 1500x1500",
        "astronaut small 200x250 (upscaled)",
    ):
        found = load_content_model().detect(PICTURES[name])
        assert found and found[0].label == "FACE_FEMALE" and found[0].score > 0.6, name


def test_preprocessing_is_opencvs_to_one_level():
    cv2 = pytest.importorskip("cv2", reason="OpenCV comes with nudenet in the dev install")
    for bgr in (
        PICTURES["astronaut wide 2000x700"],
        PICTURES["astronaut small 200x250 (upscaled)"],
    ):
        side = max(bgr.shape[:2])
        padded = np.zeros((side, side, 3), np.uint8)
        padded[: bgr.shape[0], : bgr.shape[1]] = bgr
        theirs = cv2.dnn.blobFromImage(padded, 1 / 255.0, (320, 320), (0, 0, 0), swapRB=False)
        ours, got_side = nudity_model.preprocess(bgr)
        assert got_side == side and ours.shape == theirs.shape == (1, 3, 320, 320)
        assert np.abs(ours - theirs).max() * 255 <= 1.01


def test_suppression_keeps_the_best_of_overlapping_boxes_across_labels():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 10, 10], [0, 0, 10, 10]], float)
    scores = np.array([0.5, 0.9, 0.3, 0.2], np.float32)  # the last is under the 0.25 cut
    assert nudity_model.suppress(boxes, scores) == [1, 2]


def test_a_content_check_never_imports_opencv(tmp_path):
    """The frozen app carries no OpenCV: a content check must not need it (nor NudeNet's code,
    which imports it)."""
    probe = (
        "import sys\n"
        "from PIL import Image\n"
        "from desktop_uploader.pipeline.content import ContentRule, content_findings\n"
        "im = Image.open(sys.argv[1]).convert('RGB')\n"
        "found = content_findings(im, ContentRule(('FACE_FEMALE',), 0.5))\n"
        "assert found and found[0].label == 'FACE_FEMALE', found\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('cv2', 'nudenet'))\n"
        "print('imported:', bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    picture = tmp_path / "astronaut.png"
    Image.fromarray(skdata.astronaut()).save(picture)
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(picture)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "imported: []" in proc.stdout
