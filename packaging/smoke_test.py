"""Smoke-test a frozen build: run ``desktop-uploader --smoke-test`` headless and judge its output.

    python packaging/smoke_test.py [dist/desktop-uploader/desktop-uploader]

The app itself does the work (desktop_uploader/smoke.py: embedded store, one upload, the public
URL checked for WebP without metadata, the main window opened and closed offscreen). This script
gives it a fresh temporary home and no keyring, then fails when the app exits non-zero, when
stdout lacks the final "all steps passed" line, when any line on stderr is not on the allow-list
below (as qutebrowser does for its frozen builds), or when a store process is left running.
Standard library only: it runs with any Python 3.11+.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EXE = (
    ROOT
    / "dist"
    / "desktop-uploader"
    / ("desktop-uploader.exe" if sys.platform == "win32" else "desktop-uploader")
)

# stderr lines that are expected and harmless; anything else fails the smoke test.
ALLOWED_STDERR = [
    # Qt's offscreen platform plugin lacks these window-manager features
    r"This plugin does not support propagateSizeHints\(\)",
    r"This plugin does not support raise\(\)",
    r"This plugin does not support grabbing the keyboard",
    # running as root (CI) without a session: Qt picks a runtime dir itself
    r"QStandardPaths: XDG_RUNTIME_DIR not set, defaulting to '.*'",
    r"QStandardPaths: runtime directory '.*' is not owned by UID \d+, .*",
    r"QStandardPaths: wrong permissions on runtime directory .*",
]
PASSED = re.compile(r"^smoke: all steps passed in [\d.]+ s$", re.M)


def unexpected_lines(stderr: str, allowed: list[str] = ALLOWED_STDERR) -> list[str]:
    """Lines of ``stderr`` that match none of the ``allowed`` patterns (blank lines ignored)."""
    patterns = [re.compile(p) for p in allowed]
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not any(p.fullmatch(line.strip()) for p in patterns)
    ]


def leftover_store_pids(home: Path) -> list[int]:
    """PIDs from the store's state file that still run (the app should have stopped them)."""
    state = home / "data" / "local-store" / "store.json"
    try:
        st = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    alive = []
    for pid in (st.get("pid"), st.get("weed_pid")):
        if not pid:
            continue
        try:
            os.kill(pid, 0)
        except OSError:
            continue
        alive.append(pid)
    return alive


def run(exe: Path, timeout: float) -> int:
    exe = exe.absolute()  # the app runs in its temporary home
    if not exe.is_file():
        print(f"smoke_test: no frozen app at {exe} (build it: make bundle)", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="du-smoke-home-"))
    env = {
        k: v
        for k, v in os.environ.items()
        # nothing of the build machine's Python or Qt setup may leak into the frozen app
        if not k.startswith(("PYTHON", "QT_", "VIRTUAL_ENV", "DESKTOP_UPLOADER_"))
    }
    env.update(
        DESKTOP_UPLOADER_HOME=str(home),
        QT_QPA_PLATFORM="offscreen",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",  # never the user's keyring
    )
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [str(exe), "--smoke-test"],
            env=env,
            cwd=home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        print(f"smoke_test: FAILED: no result within {timeout:.0f} s", file=sys.stderr)
        print(e.stdout or "", e.stderr or "", sep="\n", file=sys.stderr)
        _kill_leftovers(home)
        return 1
    finally:
        elapsed = time.monotonic() - started
    print(proc.stdout, end="")
    problems = []
    if proc.returncode != 0:
        problems.append(f"exit code {proc.returncode}")
    if not PASSED.search(proc.stdout):
        problems.append("no 'smoke: all steps passed' line on stdout")
    bad = unexpected_lines(proc.stderr)
    if bad:
        problems.append(f"{len(bad)} unexpected line(s) on stderr:\n  " + "\n  ".join(bad))
    left = _kill_leftovers(home)
    if left:
        problems.append(f"store processes left running: {left}")
    if problems:
        print("smoke_test: FAILED: " + "; ".join(problems), file=sys.stderr)
        if proc.stderr.strip():
            print("--- stderr ---\n" + proc.stderr, file=sys.stderr)
        return 1
    print(f"smoke_test: passed ({exe}, {elapsed:.1f} s, stderr clean)")
    return 0


def _kill_leftovers(home: Path) -> list[int]:
    left = leftover_store_pids(home)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(home, ignore_errors=True)
    return left


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("exe", nargs="?", type=Path, default=DEFAULT_EXE, help="the frozen app")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds (default 300)")
    args = p.parse_args(argv)
    return run(args.exe, args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
