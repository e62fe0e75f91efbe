"""NudeNet's detector without OpenCV: its ONNX model run with onnxruntime, the pre- and
post-processing in numpy.

Why not ``nudenet.NudeDetector``: it imports OpenCV (``opencv-python-headless``, ~160 MB with
the FFmpeg it links against) for four calls: a colour swap, a border, ``blobFromImage`` (resize
and scale) and ``NMSBoxes``. Without them the frozen app is ~160 MB smaller (docs/packaging.md).
The model file still comes from the ``nudenet`` wheel; its Python code is never imported here.

What NudeNet does, and so what this module does (tests/test_nudity_model.py checks the
detections against NudeNet's own on several images):

1. the picture, as the channel order it is given in (the app gives BGR, as OpenCV reads files:
   NudeNet's colour swap and ``blobFromImage(swapRB=True)`` cancel out), is padded with black at
   the right or bottom to a square;
2. the square is resized to 320 x 320 with OpenCV's ``INTER_LINEAR`` (sample points at pixel
   centres, two taps per axis, no antialiasing), scaled to 0..1, laid out as NCHW float32;
3. each of the model's 2,100 candidate boxes keeps its best label when that scores >= 0.2; boxes
   are scaled back and clipped to the picture;
4. non-maximum suppression over all labels together: candidates scoring > 0.25, best first
   (ties in input order), each dropped when it overlaps a kept box by IoU > 0.45.

The resize is hand-written (a dozen numpy lines) rather than Pillow's ``resize(BILINEAR)``,
because Pillow widens its filter when it shrinks (antialiasing), which is not what NudeNet's
scores, and so the policy thresholds and bench/content.py's false-alarm figures, were measured
with. Measured on scikit-image's astronaut (2026-12-01): Pillow's bilinear input differs from
OpenCV's by up to 99 levels per pixel and moves the FACE_FEMALE score by 0.02-0.03 (512 and
1500 px); this emulation differs by at most 1 level (OpenCV's fixed-point rounding) and 0.005.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

INPUT_SIZE = 320  # the 320n model's square input
MIN_LABEL_SCORE = 0.2  # a candidate's best label must reach this to be considered
NMS_SCORE = 0.25  # … and exceed this to survive suppression
NMS_IOU = 0.45  # overlap above which the weaker of two boxes is dropped

# The model's output classes, in its order (nudenet/nudenet.py, ``__labels``).
LABELS = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
MODEL_FILE = "320n.onnx"


@dataclass(frozen=True)
class RawDetection:
    """One box as NudeNet reports it: ``box`` is x, y, width, height in whole pixels."""

    label: str
    score: float
    box: tuple[int, int, int, int]


def model_path() -> Path:
    """NudeNet's model file: in the frozen app's ``nudenet/`` folder, else in the installed
    ``nudenet`` package (found without importing it: its ``__init__`` imports OpenCV)."""
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "nudenet" / MODEL_FILE)
    spec = importlib.util.find_spec("nudenet")
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / MODEL_FILE for p in spec.submodule_search_locations]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(
        f"NudeNet's model ({MODEL_FILE}) was not found; install the nudenet package "
        f"(looked in: {', '.join(str(c) for c in candidates) or 'no nudenet package'})"
    )


def _taps(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OpenCV's INTER_LINEAR taps along one axis of a ``size``-long square side shrunk or
    grown to INPUT_SIZE: first index, second index, weight of the second."""
    scale = size / INPUT_SIZE
    src = (np.arange(INPUT_SIZE, dtype=np.float64) + 0.5) * scale - 0.5
    first = np.floor(src).astype(np.int64)
    weight = (src - first).astype(np.float32)
    low = first < 0
    first[low], weight[low] = 0, 0.0
    high = first >= size - 1
    first[high], weight[high] = size - 1, 0.0
    return first, np.minimum(first + 1, size - 1), weight


def _sample(pixels: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
    """``pixels`` taken at ``index`` along ``axis``; indexes past the picture read the black
    padding that makes it square."""
    length = pixels.shape[axis]
    taken = np.take(pixels, np.minimum(index, length - 1), axis=axis).astype(np.float32)
    inside = (index < length).astype(np.float32)
    shape = [1, 1, 1]
    shape[axis] = len(index)
    return taken * inside.reshape(shape)


def preprocess(pixels: np.ndarray) -> tuple[np.ndarray, int]:
    """The model's input for an H x W x 3 uint8 array, and the padded square's side."""
    height, width = pixels.shape[:2]
    side = max(height, width)
    y0, y1, wy = _taps(side)
    x0, x1, wx = _taps(side)
    rows = _sample(pixels, y0, 0) * (1 - wy)[:, None, None]
    rows += _sample(pixels, y1, 0) * wy[:, None, None]
    square = _sample(rows, x0, 1) * (1 - wx)[None, :, None]
    square += _sample(rows, x1, 1) * wx[None, :, None]
    square = np.clip(np.rint(square), 0, 255)  # OpenCV resizes uint8 to uint8
    blob = (square / np.float32(255.0)).astype(np.float32).transpose(2, 0, 1)[None]
    return np.ascontiguousarray(blob), side


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one x, y, w, h box with each of ``others``."""
    right = np.minimum(box[0] + box[2], others[:, 0] + others[:, 2])
    bottom = np.minimum(box[1] + box[3], others[:, 1] + others[:, 3])
    ix = np.maximum(0, right - np.maximum(box[0], others[:, 0]))
    iy = np.maximum(0, bottom - np.maximum(box[1], others[:, 1]))
    inter = ix * iy
    union = box[2] * box[3] + others[:, 2] * others[:, 3] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def suppress(boxes: np.ndarray, scores: np.ndarray) -> list[int]:
    """Indexes of the boxes kept by greedy non-maximum suppression, best first."""
    order = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > NMS_SCORE]
    kept: list[int] = []
    for i in order:
        if not kept or np.all(_iou(boxes[i], boxes[kept]) <= NMS_IOU):
            kept.append(i)
    return kept


def postprocess(output: np.ndarray, width: int, height: int, side: int) -> list[RawDetection]:
    """The detections in the model's raw output for a ``width`` x ``height`` picture that was
    padded to a ``side``-long square."""
    rows = np.squeeze(output).T  # 2,100 candidates x (cx, cy, w, h, 18 label scores)
    label_scores = rows[:, 4:]
    best = label_scores.max(axis=1)
    candidates = best >= MIN_LABEL_SCORE
    rows, best = rows[candidates], best[candidates]
    labels = label_scores[candidates].argmax(axis=1)
    factor = side / INPUT_SIZE
    w, h = rows[:, 2] * factor, rows[:, 3] * factor
    x = np.clip((rows[:, 0] - rows[:, 2] / 2) * factor, 0, width)
    y = np.clip((rows[:, 1] - rows[:, 3] / 2) * factor, 0, height)
    boxes = np.stack([x, y, np.minimum(w, width - x), np.minimum(h, height - y)], axis=1)
    return [
        RawDetection(
            LABELS[labels[i]],
            float(best[i]),
            tuple(int(v) for v in boxes[i]),  # type: ignore[arg-type]
        )
        for i in suppress(boxes, best)
    ]


class NudityDetector:
    """NudeNet's 320n model on an onnxruntime session (see the module's docstring)."""

    def __init__(self, session: Any) -> None:
        self.onnx_session = session
        self.input_name = session.get_inputs()[0].name

    def detect(self, pixels: np.ndarray) -> list[RawDetection]:
        """Detections on an H x W x 3 uint8 array in BGR order (as NudeNet is given it)."""
        blob, side = preprocess(pixels)
        (output, *_) = self.onnx_session.run(None, {self.input_name: blob})
        return postprocess(output, pixels.shape[1], pixels.shape[0], side)
