"""Time from launch to a visible main window, under Xvfb, for the frozen app (and, to compare,
the app run from the virtualenv). Prints a Markdown table for docs/benchmarks.md.

    python packaging/bench_startup.py [--runs 5] [--exe dist/desktop-uploader/desktop-uploader]

"Visible" means X11 mapped the window: ``xdotool search --onlyvisible``, polled every 10 ms,
finds a viewable window named "Desktop Uploader". "Cold" runs first evict the bundle's files from
the page cache (posix_fadvise DONTNEED on each file; system libraries stay cached, and nothing
else on the machine is disturbed); "warm" runs follow each other. Needs Xvfb and xdotool (Debian
packages xvfb, xdotool). Linux only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EXE = ROOT / "dist" / "desktop-uploader" / "desktop-uploader"
WINDOW_NAME = "^Desktop Uploader$"


def evict(folder: Path) -> int:
    """Drop ``folder``'s files from the page cache; returns how many bytes were asked to go."""
    total = 0
    for f in folder.rglob("*"):
        if f.is_file() and not f.is_symlink():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                total += f.stat().st_size
            finally:
                os.close(fd)
    return total


def start_xvfb() -> tuple[subprocess.Popen, str]:
    for n in range(90, 140):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            display = f":{n}"
            proc = subprocess.Popen(
                ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if Path(f"/tmp/.X11-unix/X{n}").exists():
                    return proc, display
                time.sleep(0.05)
            proc.kill()
    raise SystemExit("could not start Xvfb")


def one_run(cmd: list[str], env: dict[str, str], home: Path) -> float:
    env = dict(env, DESKTOP_UPLOADER_HOME=str(home))
    t0 = time.monotonic()
    app = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # not `xdotool search --sync`: it polls only every 0.5 s
        deadline = t0 + 120
        while True:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", WINDOW_NAME],
                env=env,
                stdout=subprocess.DEVNULL,
            )
            if found.returncode == 0:
                break
            if time.monotonic() > deadline or app.poll() is not None:
                raise SystemExit(f"no window from {cmd}: {app.stderr.read().decode()[-2000:]}")
            time.sleep(0.01)
        elapsed = time.monotonic() - t0
    finally:
        app.send_signal(signal.SIGTERM)
        try:
            app.wait(20)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
        # the window may have started the embedded store: stop it before the next run
        subprocess.run([*cmd[:-1], "local-store", "stop"], env=env, capture_output=True, timeout=60)
    return elapsed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--exe", type=Path, default=DEFAULT_EXE)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    for tool in ("Xvfb", "xdotool"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install xvfb xdotool")
    xvfb, display = start_xvfb()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "WAYLAND"))}
    env.update(DISPLAY=display, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    variants = {
        "frozen bundle": ([str(args.exe), "gui"], args.exe.parent),
        "virtualenv (source)": ([sys.executable, "-m", "desktop_uploader", "gui"], None),
    }
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="du-bench-") as tmp:
            home = Path(tmp) / "home"
            for name, (cmd, folder) in variants.items():
                one_run(cmd, env, home)  # first start creates settings, journal: not timed
                cold = []
                if folder is not None:
                    for _ in range(args.runs):
                        evict(folder)
                        cold.append(one_run(cmd, env, home))
                warm = [one_run(cmd, env, home) for _ in range(args.runs)]
                rows.append((name, cold, warm))
    finally:
        xvfb.terminate()
        xvfb.wait(10)

    def fmt(xs: list[float]) -> str:
        if not xs:
            return "–"
        return f"{statistics.median(xs):.2f} s (min {min(xs):.2f}, max {max(xs):.2f})"

    print(f"| build | cold start to visible window, median of {args.runs} | warm start |")
    print("|---|---|---|")
    for name, cold, warm in rows:
        print(f"| {name} | {fmt(cold)} | {fmt(warm)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
