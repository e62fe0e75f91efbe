"""Validation benchmark: per-file cost of the malware scan and the content check vs processing.

Makes (or reuses) the shared benchmark corpus of 12-MP photo-like JPEGs, starts our own clamd
(the product's launcher) on a signature database, and measures per file, one at a time:

  process    probe + decode/orient/sRGB/resize + WebP encode (the work the checks ride on)
  scan       clamd INSTREAM of the raw bytes (it also yields the SHA-256 the engine needs anyway)
  hash only  what the engine would spend hashing the file without a scan
  content    NudeNet on the already decoded, downscaled pixels
  structure  the byte walk for trailing data / polyglots (part of probe)
  worker     the decoder-process round trip (pipe + pickling), per call, on a tiny file

    .venv/bin/python bench/validate.py [--n 12] [--corpus DIR] [--database-dir DIR]

The scan figure depends on the signature database: by default it is the project's test
database (tests/signatures, a few body signatures), because the full ClamAV database cannot be
downloaded here. Pass --database-dir /var/lib/clamav where freshclam has run. Not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MAKE_CORPUS = Path("/work/shared/bench/make_corpus.py")


def corpus(args: argparse.Namespace) -> list[Path]:
    folder = Path(args.corpus or tempfile.mkdtemp(prefix="du-bench-corpus-"))
    files = sorted(folder.glob("*.jpg"))
    if len(files) < args.n:
        script = Path(args.make_corpus)
        if not script.exists():
            sys.exit(f"no corpus in {folder} and no {script} to make one")
        print(f"making {args.n} 12-MP JPEGs in {folder} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(script), str(folder), str(args.n)], check=True)
        files = sorted(folder.glob("*.jpg"))
    return files[: args.n]


def timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--corpus", help="folder of JPEGs (made with make_corpus.py if too few)")
    ap.add_argument("--make-corpus", default=str(MAKE_CORPUS))
    ap.add_argument("--database-dir", default=str(ROOT / "tests" / "signatures"))
    args = ap.parse_args()

    from desktop_uploader.config import Limits, Preset
    from desktop_uploader.pipeline.clamd import OwnClamd
    from desktop_uploader.pipeline.content import (
        EXPLICIT_LABELS,
        ContentRule,
        content_findings,
        load_content_model,
    )
    from desktop_uploader.pipeline.decoder import DecodePool
    from desktop_uploader.pipeline.process import file_sha256, process_image
    from desktop_uploader.pipeline.structure import inspect_bytes
    from desktop_uploader.pipeline.validate import probe

    files = corpus(args)
    limits, preset = Limits(), Preset("default")
    rule = ContentRule(EXPLICIT_LABELS, 0.6)
    work = Path(tempfile.mkdtemp(prefix="du-bench-validate-"))
    spool = work / "spool"
    own = OwnClamd(work / "clamd", Path(args.database_dir), limits.max_bytes)
    t0 = time.perf_counter()
    client = own.start()
    clamd_start = time.perf_counter() - t0
    load_content_model()
    pool = DecodePool(size=1, memory_mb=limits.decoder_memory_mb, timeout=60)
    rows = []
    try:
        pool.warm_up()
        pool.probe(files[0], limits)  # the worker has started and imported
        round_trip = worker_round_trip(pool, work, limits, probe)
        for f in files:
            client.scan_file(f)  # page cache warm for every measurement alike
            t_scan, reply = timed(client.scan_file, f)
            assert reply.signature is None, (f, reply.signature)
            t_hash, _ = timed(file_sha256, f)
            t_struct, _ = timed(inspect_bytes, f.read_bytes(), "JPEG")
            content_times: list[float] = []

            def inspect(rgb, _times=content_times) -> None:
                t, _ = timed(content_findings, rgb, rule)
                _times.append(t)

            t_proc, _ = timed(lambda f=f: process_image(f, probe(f, limits), preset, spool))
            process_image(f, probe(f, limits), preset, spool, inspect=inspect)
            rows.append(
                {
                    "file": f.name,
                    "mb": f.stat().st_size / 1e6,
                    "process": t_proc,
                    "scan": t_scan,
                    "hash": t_hash,
                    "content": content_times[0],
                    "structure": t_struct,
                }
            )
            print(
                f"{f.name:<24} {rows[-1]['mb']:5.1f} MB  process {t_proc * 1e3:6.0f} ms  "
                f"scan {t_scan * 1e3:5.0f} ms  content {content_times[0] * 1e3:5.0f} ms",
                file=sys.stderr,
            )
    finally:
        pool.close()
        own.stop()
        for p in spool.glob("*"):
            p.unlink()
    report(rows, args, clamd_start, round_trip)


def worker_round_trip(pool, work: Path, limits, probe) -> float:
    """Median extra time of a call through a decoder worker vs inline (2 calls per image)."""
    from PIL import Image

    tiny = work / "tiny.png"
    Image.new("RGB", (8, 8)).save(tiny)
    pooled = [timed(pool.probe, tiny, limits)[0] for _ in range(50)]
    inline = [timed(probe, tiny, limits)[0] for _ in range(50)]
    return 2 * (statistics.median(pooled) - statistics.median(inline))


def report(
    rows: list[dict], args: argparse.Namespace, clamd_start: float, round_trip: float
) -> None:
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k != "file"}
    proc = med["process"]
    print()
    print(f"Validation cost per file, median of {len(rows)} files ({med['mb']:.1f} MB 12-MP JPEGs)")
    print(f"{'step':<34}{'ms/file':>10}{'% of process':>15}")
    lines = [
        ("process (probe+decode+resize+WebP)", med["process"]),
        ("malware scan (clamd INSTREAM)", med["scan"]),
        ("  of which replaces the SHA-256 read", med["hash"]),
        ("  net scan cost (scan - hash)", med["scan"] - med["hash"]),
        ("content check (NudeNet)", med["content"]),
        ("structure/polyglot byte walk", med["structure"]),
        ("decoder-process round trips (2)", round_trip),
    ]
    for name, v in lines:
        print(f"{name:<34}{v * 1e3:>10.1f}{v / proc * 100:>14.1f}%")
    print()
    print(f"signature database: {args.database_dir}; own clamd answered after {clamd_start:.2f} s")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    ok = med["scan"] / proc < 0.15 and med["content"] / proc < 0.15
    print("scan and content check each under 15 % of processing:", "yes" if ok else "NO")


if __name__ == "__main__":
    main()
