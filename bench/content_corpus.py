"""A deterministic corpus of harmless (non-nude) images for measuring the content check's false
alarms: the kinds of picture NudeNet was seen to flag (flat shapes, gradients, photos of things)
and the kinds users upload every day.

Nothing is committed: the images are generated into a cache folder (default
``~/.cache/desktop-uploader-bench/content-corpus-v1``) and reused while the generator's version
stays the same. Families, each in many colours and sizes:

  shape     flat circles, ellipses, rectangles, triangles, rings and blobs on plain grounds, in
            skin tones, blues and every hue; PNG, some GIF (palette) and JPEG
  gradient  linear, diagonal and radial gradients between colour pairs (skin tones included)
  pattern   stripes, checkerboards, noise, dots
  skimage   scikit-image's bundled sample photos (people, animals, objects, textures, science),
            with crops, flips, rotations, scales and colour shifts
  scene     photo-like scenes: the samples blended with textures, vignettes and sensor noise
            (the technique of the shared 12-MP benchmark corpus, at screen sizes)
  sample    the project's own sample photos and test scenes

    .venv/bin/python bench/content_corpus.py [--out DIR]     (prints the count per family)
"""

from __future__ import annotations

import argparse
import colorsys
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parent.parent
VERSION = 1
# Skin tones from light to dark (the hard case for a detector of exposed skin), and the colours
# NudeNet was seen to flag as flat shapes (a blue circle scored BUTTOCKS_EXPOSED 0.66).
SKIN = [
    (255, 224, 196),
    (241, 194, 125),
    (224, 172, 105),
    (198, 134, 66),
    (141, 85, 36),
    (92, 51, 23),
    (255, 205, 180),
    (234, 160, 140),
]
HUES = [
    tuple(int(c * 255) for c in colorsys.hsv_to_rgb(h / 12, s, v))
    for h in range(12)
    for s, v in ((0.9, 0.9), (0.45, 0.95))
]
BLUES = [(30, 80, 220), (0, 0, 255), (70, 130, 180), (100, 149, 237), (0, 60, 120)]
GROUNDS = [(255, 255, 255), (0, 0, 0), (128, 128, 128), (250, 240, 230), (20, 40, 90)]
SKIMAGE_SAMPLES = (
    "astronaut", "coffee", "chelsea", "rocket", "camera", "moon", "page", "text", "horse",
    "coins", "clock", "hubble_deep_field", "immunohistochemistry", "retina", "brick", "grass",
    "gravel", "cell", "colorwheel", "logo", "binary_blobs", "checkerboard", "microaneurysms",
    "cat", "motorcycle_left", "motorcycle_right", "human_mitosis", "eagle", "shepp_logan_phantom",
)  # fmt: skip


def default_folder() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "desktop-uploader-bench" / f"content-corpus-v{VERSION}"


def build(folder: Path | None = None) -> list[Path]:
    """Every image of the corpus (made on first use), sorted by name."""
    folder = folder or default_folder()
    stamp = folder / ".complete"
    if not stamp.exists():
        folder.mkdir(parents=True, exist_ok=True)
        for family in (_shapes, _gradients, _patterns, _skimage, _scenes, _samples):
            family(folder)
        stamp.write_text(f"{VERSION}\n")
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def family_of(path: Path) -> str:
    return path.name.split("-", 1)[0]


def _save(im: Image.Image, folder: Path, name: str, fmt: str = "PNG") -> None:
    ext = {"PNG": "png", "GIF": "gif", "JPEG": "jpg"}[fmt]
    if fmt == "JPEG":
        im = im.convert("RGB")
    im.save(folder / f"{name}.{ext}", fmt, **({"quality": 88} if fmt == "JPEG" else {}))


# -- flat shapes ------------------------------------------------------------------------------
def _shape(draw: ImageDraw.ImageDraw, kind: str, w: int, h: int, fill, rng) -> None:
    m = min(w, h)
    cx, cy = w / 2 + rng.uniform(-0.1, 0.1) * w, h / 2 + rng.uniform(-0.1, 0.1) * h
    r = m * rng.uniform(0.25, 0.42)
    if kind == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif kind == "ellipse":
        draw.ellipse((cx - r * 1.3, cy - r * 0.7, cx + r * 1.3, cy + r * 0.7), fill=fill)
    elif kind == "rect":
        draw.rounded_rectangle((cx - r, cy - r * 0.8, cx + r, cy + r * 0.8), r * 0.2, fill=fill)
    elif kind == "triangle":
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    elif kind == "ring":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=fill, width=max(2, int(r / 4)))
    elif kind == "pair":  # two touching circles: the shape detectors mistake for body parts
        draw.ellipse((cx - 2 * r * 0.6, cy - r * 0.6, cx, cy + r * 0.6), fill=fill)
        draw.ellipse((cx, cy - r * 0.6, cx + 2 * r * 0.6, cy + r * 0.6), fill=fill)
    else:  # blob: a soft-edged circle
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)


def _shapes(folder: Path) -> None:
    rng = np.random.default_rng(1)
    kinds = ("circle", "ellipse", "rect", "triangle", "ring", "pair", "blob")
    colours = SKIN + BLUES + HUES
    sizes = (64, 100, 160, 320, 640, 1200)
    n = 0
    for ci, colour in enumerate(colours):
        for ki, kind in enumerate(kinds):
            if (ci + ki) % 2:  # every colour in about half of the kinds
                continue
            size = sizes[(ci * 3 + ki) % len(sizes)]
            w, h = (size, size) if (ci + ki) % 3 else (size, int(size * 0.75))
            ground = GROUNDS[(ci + ki * 2) % len(GROUNDS)]
            im = Image.new("RGB", (w, h), ground)
            _shape(ImageDraw.Draw(im), kind, w, h, colour, rng)
            if kind == "blob":
                im = im.filter(ImageFilter.GaussianBlur(max(1, size // 40)))
            fmt = ("PNG", "GIF", "JPEG")[n % 3]
            _save(im, folder, f"shape-{n:03d}-{kind}", fmt)
            n += 1
    # the reported case: 100x100 GIFs of a flat blue circle, several blues
    for i, blue in enumerate(BLUES):
        im = Image.new("RGB", (100, 100), (255, 255, 255))
        ImageDraw.Draw(im).ellipse((10, 10, 90, 90), fill=blue)
        _save(im, folder, f"shape-blue-circle-{i}", "GIF")


# -- gradients --------------------------------------------------------------------------------
def _gradients(folder: Path) -> None:
    pairs = [(a, b) for a in SKIN[:6] for b in ((255, 255, 255), (40, 20, 10))]
    pairs += [(HUES[i], HUES[(i + 7) % len(HUES)]) for i in range(0, len(HUES), 2)]
    pairs += [(b, (255, 230, 210)) for b in BLUES]
    kinds = ("horizontal", "vertical", "diagonal", "radial")
    n = 0
    for pi, (a, b) in enumerate(pairs):
        for ki, kind in enumerate(kinds):
            if (pi + ki) % 2:
                continue
            w, h = ((256, 256), (640, 480), (1024, 768), (480, 640))[(pi + ki) % 4]
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            t = {
                "horizontal": xx / w,
                "vertical": yy / h,
                "diagonal": (xx / w + yy / h) / 2,
                "radial": np.clip(np.hypot(xx - w / 2, yy - h / 2) / (0.6 * max(w, h)), 0, 1),
            }[kind][..., None]
            arr = (1 - t) * np.array(a, np.float32) + t * np.array(b, np.float32)
            _save(Image.fromarray(arr.astype(np.uint8)), folder, f"gradient-{n:03d}-{kind}")
            n += 1


# -- patterns ---------------------------------------------------------------------------------
def _patterns(folder: Path) -> None:
    rng = np.random.default_rng(3)
    for i in range(40):
        w, h = (320, 240) if i % 2 else (512, 512)
        a, b = HUES[i % len(HUES)], SKIN[i % len(SKIN)]
        kind = ("stripes", "checker", "noise", "dots", "smooth-noise")[i % 5]
        yy, xx = np.mgrid[0:h, 0:w]
        period = 8 + 6 * (i % 7)
        if kind == "stripes":
            mask = (xx // period) % 2 == 0
        elif kind == "checker":
            mask = ((xx // period) + (yy // period)) % 2 == 0
        elif kind == "noise":
            mask = rng.random((h, w)) < 0.5
        elif kind == "dots":
            mask = np.hypot(xx % period - period / 2, yy % period - period / 2) < period / 3
        else:
            small = rng.random((h // 16, w // 16))
            mask = np.asarray(Image.fromarray((small * 255).astype(np.uint8)).resize((w, h), 3))
            mask = mask > 127
        arr = np.where(mask[..., None], np.array(a, np.uint8), np.array(b, np.uint8))
        _save(Image.fromarray(arr.astype(np.uint8)), folder, f"pattern-{i:03d}-{kind}")


# -- scikit-image's photos and variants ---------------------------------------------------------
def _skimage_photos() -> dict[str, np.ndarray]:
    import skimage.data as skd

    out = {}
    for name in SKIMAGE_SAMPLES:
        try:
            im = getattr(skd, name)()
        except Exception:  # not bundled (would need a download): left out
            continue
        if im.ndim == 3 and im.shape[0] in (2, 3) and im.shape[-1] > 4:  # stacks: first plane
            im = im[0]
        if im.dtype == bool:
            im = im.astype(np.uint8) * 255
        elif im.dtype != np.uint8:
            im = im.astype(np.float64)
            im = (255 * (im - im.min()) / max(1e-9, float(im.max() - im.min()))).astype(np.uint8)
        if im.ndim == 3 and im.shape[-1] == 4:
            im = im[..., :3]
        out[name] = im
    return out


def _skimage(folder: Path) -> None:
    rng = np.random.default_rng(5)
    for name, arr in _skimage_photos().items():
        base = Image.fromarray(arr).convert("RGB")
        w, h = base.size
        variants = {
            "orig": base,
            "flip": ImageOps.mirror(base),
            "rot90": base.rotate(90, expand=True),
            "crop": base.crop((w // 8, h // 8, w - w // 5, h - h // 6)),
            "small": base.resize((max(32, w // 3), max(32, h // 3)), Image.Resampling.LANCZOS),
            "large": base.resize((w * 2, h * 2), Image.Resampling.BICUBIC),
            "warm": Image.merge(
                "RGB",
                [
                    c.point(lambda v, f=f: min(255, int(v * f)))
                    for c, f in zip(base.split(), (1.15, 1.0, 0.8), strict=True)
                ],
            ),  # fmt: skip
            "gray": ImageOps.grayscale(base).convert("RGB"),
        }
        for vname, im in variants.items():
            if vname == "crop" and rng.random() < 0.5:
                im = im.filter(ImageFilter.GaussianBlur(1.5))
            _save(im, folder, f"skimage-{name}-{vname}", "JPEG" if vname != "gray" else "PNG")


# -- photo-like scenes ------------------------------------------------------------------------
def _scenes(folder: Path) -> None:
    photos = _skimage_photos()
    colour = [n for n, a in photos.items() if a.ndim == 3]
    texture = [photos[n] for n in ("grass", "gravel", "brick", "camera", "moon") if n in photos]
    for i in range(80):
        rng = np.random.default_rng(1000 + i)
        W, H = ((1024, 768), (800, 600), (768, 1024), (1280, 720))[i % 4]
        src = photos[colour[i % len(colour)]]
        h, w = src.shape[:2]
        cw = int(w * rng.uniform(0.55, 1.0))
        ch = min(h, int(cw * H / W))
        cw = int(ch * W / H)
        x0 = int(rng.integers(0, max(1, w - cw + 1)))
        y0 = int(rng.integers(0, max(1, h - ch + 1)))
        crop = Image.fromarray(src[y0 : y0 + ch, x0 : x0 + cw]).resize((W, H), 3)
        img = np.asarray(crop, np.float32)
        t = texture[i % len(texture)].astype(np.float32)
        t = np.tile(t, (H // t.shape[0] + 1, W // t.shape[1] + 1))[:H, :W]
        t = (t - t.mean()) / (t.std() + 1e-6)
        img = img * (1.0 + rng.uniform(0.1, 0.18) * t)[..., None]
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        vig = 1 - 0.25 * (((xx - W / 2) / (W / 2)) ** 2 + ((yy - H / 2) / (H / 2)) ** 2)
        img = img * vig[..., None] + rng.normal(0, 4.5, (H, W, 1)).astype(np.float32)
        _save(Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)), folder, f"scene-{i:03d}",
              "JPEG")  # fmt: skip


# -- the project's samples --------------------------------------------------------------------
def _samples(folder: Path) -> None:
    for p in sorted((ROOT / "resources" / "samples").glob("*.jpg")):
        with Image.open(p) as im:
            _save(ImageOps.exif_transpose(im), folder, f"sample-{p.stem}", "JPEG")
    sys.path.insert(0, str(ROOT / "tests"))
    from imagegen import scene

    for seed in range(12):
        size = ((600, 400), (400, 300), (160, 120), (900, 600))[seed % 4]
        _save(scene(*size, seed=seed), folder, f"sample-scene-{seed:02d}", "JPEG")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None, help=f"default: {default_folder()}")
    args = ap.parse_args()
    files = build(args.out)
    counts: dict[str, int] = {}
    for p in files:
        counts[family_of(p)] = counts.get(family_of(p), 0) + 1
    for family, n in counts.items():
        print(f"{family:<10} {n:4d}")
    print(f"{'total':<10} {len(files):4d}  in {files[0].parent}")


if __name__ == "__main__":
    main()
