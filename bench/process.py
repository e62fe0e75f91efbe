"""Processing benchmark: `desktop-uploader process` vs sharp and pyvips, same run, same output.

Pipeline for every tool: decode → EXIF orientation → strip metadata → longest side 2048 (never
upscaled) → WebP q80 → 256-px WebP thumbnail. sharp runs as its users write it (one pipeline
per output from the file, 2 images in flight, ``sharp.concurrency(1)``; see SHARP_JS). Each
tool runs as a subprocess over the whole corpus, timed end to end (start-up included), rounds
interleaved (the first tool rotates), medians reported; CPU time is user + system of the whole
process tree. Peak RSS is the sum over the tool's process tree, sampled every 20 ms. SSIM is measured on a sample against a reference (Pillow Lanczos resize of
the oriented source, uncompressed).

    .venv/bin/python bench/process.py [CORPUS] [--n 50] [--rounds 3] [--effort 4]

sharp is installed with npm into a temp folder, pyvips (with its libvips wheel) into a temp
venv, unless --sharp-dir / --pyvips-python point at existing ones. The corpus defaults to
../shared/bench/make_corpus.py output (needs scikit-image, a dev dependency here).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAKE_CORPUS = ROOT.parent / "shared" / "bench" / "make_corpus.py"

# sharp as its users write it: one pipeline per output, straight from the file (so JPEG
# shrink-on-load applies to the thumbnail), two images in flight, one libvips thread each. (The
# figure in docs/benchmarks.md before issue 19 was against a script that decoded once to raw
# pixels and encoded both outputs from that buffer: slower than this.)
SHARP_JS = r"""
const sharp = require(process.argv[2]);
const fs = require('fs'), path = require('path');
const [src, out, effort, inflight] = [process.argv[3], process.argv[4], +process.argv[5], +process.argv[6]];
sharp.concurrency(1);
const files = fs.readdirSync(src).filter(f => /\.jpe?g$/i.test(f)).sort();
async function one(f) {
  const stem = path.parse(f).name, input = path.join(src, f);
  await sharp(input).rotate()
    .resize(2048, 2048, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80, effort }).toFile(path.join(out, stem + '.webp'));
  await sharp(input).rotate()
    .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80, effort }).toFile(path.join(out, stem + '.thumb.webp'));
}
(async () => {
  let i = 0;
  const worker = async () => { while (i < files.length) await one(files[i++]); };
  await Promise.all(Array.from({ length: inflight }, worker));
})().catch(e => { console.error(e); process.exit(1); });
"""

PYVIPS_PY = r"""
import sys, pyvips
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
src, out, effort = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
def one(p):
    im = pyvips.Image.thumbnail(str(p), 2048, size="down").copy_memory()  # shrink-on-load, autorotate
    im.webpsave(str(out / (p.stem + ".webp")), Q=80, effort=effort, keep="none")
    im.thumbnail_image(256).webpsave(str(out / (p.stem + ".thumb.webp")), Q=80, effort=effort,
                                     keep="none")
with ThreadPoolExecutor(2) as ex:
    list(ex.map(one, sorted(p for p in src.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))))
"""


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            pages = int((d / "statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d.name))
        rss[int(d.name)] = pages * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run(cmd: list[str], env: dict | None = None) -> tuple[float, int, float]:
    """Wall seconds, peak tree RSS and CPU seconds (user + system, the whole process tree:
    every descendant is waited for by its parent) of one command."""
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss(proc.pid))
            stop.wait(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    t.join()
    if proc.returncode not in (0,):
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return wall, peak, _children_cpu() - cpu0


def reference(path: Path):
    import numpy as np
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        s = 2048 / max(im.size)
        if s < 1:
            im = im.resize((round(im.width * s), round(im.height * s)), Image.Resampling.LANCZOS)
        return np.asarray(im)


def ssim(ref, out_path: Path) -> float:
    import numpy as np
    from PIL import Image
    from skimage.metrics import structural_similarity

    with Image.open(out_path) as im:
        im = im.convert("RGB")
        if im.size != (ref.shape[1], ref.shape[0]):
            im = im.resize((ref.shape[1], ref.shape[0]), Image.Resampling.LANCZOS)
        out = np.asarray(im)
    return float(structural_similarity(ref, out, channel_axis=2, data_range=255))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--effort", type=int, default=4, help="sharp/pyvips WebP effort")
    ap.add_argument("--ssim-sample", type=int, default=8)
    ap.add_argument("--sharp-dir", help="folder whose node_modules has sharp")
    ap.add_argument("--pyvips-python", help="a python with pyvips + pyvips-binary")
    ap.add_argument("--no-pyvips", action="store_true", help="time sharp and ours only")
    ap.add_argument(
        "--ours-method",
        type=int,
        default=None,
        help="WebP method for our default preset (default: the preset's)",
    )
    ap.add_argument(
        "--ours-nice",
        type=int,
        default=None,
        help="our decoder workers' nice (default: the setting's, 10; 0 competes with sharp on "
        "equal terms on a machine others are using)",
    )
    ap.add_argument(
        "--with-checks",
        action="store_true",
        help="also time ours with the default malware/content checks on",
    )
    ap.add_argument(
        "--with-pillow-resampler",
        action="store_true",
        help="also time ours with Pillow's resampler instead of libvips's",
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="du-bench-process-"))
    try:
        corpus = Path(args.corpus) if args.corpus else tmp / "corpus"
        if not args.corpus:
            print(f"making the corpus ({args.n} images) with {MAKE_CORPUS} ...", flush=True)
            subprocess.run(
                [sys.executable, str(MAKE_CORPUS), str(corpus), str(args.n)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        sharp_dir = Path(args.sharp_dir) if args.sharp_dir else tmp / "sharp"
        if not (sharp_dir / "node_modules" / "sharp").exists():
            print("installing sharp with npm ...", flush=True)
            subprocess.run(
                [
                    "npm",
                    "install",
                    "--silent",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(sharp_dir),
                    "sharp@0.35",
                ],
                check=True,
            )
        vips_py = args.pyvips_python
        if not vips_py and not args.no_pyvips:
            print("installing pyvips ...", flush=True)
            subprocess.run([sys.executable, "-m", "venv", str(tmp / "vips")], check=True)
            vips_py = str(tmp / "vips" / "bin" / "python")
            subprocess.run(
                [vips_py, "-m", "pip", "install", "-q", "pyvips", "pyvips-binary"], check=True
            )
        (tmp / "sharp.js").write_text(SHARP_JS)
        (tmp / "vips.py").write_text(PYVIPS_PY)
        files = sorted(p for p in corpus.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
        n = len(files)
        env = dict(os.environ, DESKTOP_UPLOADER_HOME=str(tmp / "home"))
        toml = ""
        if args.ours_method is not None:
            toml += f"[presets.default]\nmethod = {args.ours_method}\n"
        if args.ours_nice is not None:
            toml += f"[limits]\ndecoder_nice = {args.ours_nice}\n"
        if toml:
            (tmp / "home" / "config").mkdir(parents=True)
            (tmp / "home" / "config" / "settings.toml").write_text(toml)
        du = str(Path(sys.executable).parent / "desktop-uploader")

        def cmd(tool: str, out: Path) -> list[str]:
            if tool == "sharp":
                return [
                    "node",
                    str(tmp / "sharp.js"),
                    str(sharp_dir / "node_modules" / "sharp"),
                    str(corpus),
                    str(out),
                    str(args.effort),
                    "2",
                ]
            if tool == "pyvips":
                return [vips_py, str(tmp / "vips.py"), str(corpus), str(out), str(args.effort)]
            checks = (
                []
                if tool == "desktop-uploader+checks"
                else ["--malware-scan", "off", "--content-check", "off"]
            )
            return [du, "process", "--out", str(out), *checks, str(corpus)]

        tools = ["desktop-uploader", "sharp", "pyvips"]
        if args.with_checks:
            tools.append("desktop-uploader+checks")
        if args.with_pillow_resampler:
            tools.append("desktop-uploader+pillow")
        if args.no_pyvips:
            tools.remove("pyvips")
        runs: dict[str, list[tuple[float, int, float]]] = {t: [] for t in tools}
        outs: dict[str, Path] = {}
        for rnd in range(args.rounds):
            order = tools[rnd % len(tools) :] + tools[: rnd % len(tools)]
            for tool in order:
                out = tmp / f"out-{tool}-{rnd}"
                out.mkdir()
                tool_env = env
                if tool == "desktop-uploader+pillow":
                    tool_env = dict(env, DESKTOP_UPLOADER_RESAMPLER="pillow")
                wall, peak, cpu = run(cmd(tool, out), tool_env)
                runs[tool].append((wall, peak, cpu))
                outs[tool] = out
                print(
                    f"round {rnd + 1} {tool:24} {wall:6.2f} s {n / wall:5.2f} img/s  "
                    f"CPU {cpu:6.2f} s  peak {peak / 1e6:6.0f} MB",
                    flush=True,
                )
        sample = files[:: max(1, n // args.ssim_sample)][: args.ssim_sample]
        refs = {p.stem: reference(p) for p in sample}
        sharp_wall = statistics.median(r[0] for r in runs["sharp"])
        print()
        print(
            f"{n} images, {args.rounds} rounds, WebP q80 (sharp/pyvips effort {args.effort}), "
            f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        print(
            "| tool | wall s | images/s | CPU ms per image | peak RSS MB | output MB (main) "
            "| SSIM (mean) | wall vs sharp |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for tool in tools:
            wall = statistics.median(r[0] for r in runs[tool])
            cpu = statistics.median(r[2] for r in runs[tool])
            peak = statistics.median(r[1] for r in runs[tool]) / 1e6
            mains = [p for p in outs[tool].iterdir() if not p.name.endswith(".thumb.webp")]
            size = sum(p.stat().st_size for p in mains) / 1e6
            s = statistics.mean(ssim(refs[k], outs[tool] / f"{k}.webp") for k in refs)
            print(
                f"| {tool} | {wall:.2f} | {n / wall:.2f} | {cpu / n * 1000:.0f} | {peak:.0f} "
                f"| {size:.2f} | {s:.4f} | {sharp_wall / wall:.2f}× |"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
