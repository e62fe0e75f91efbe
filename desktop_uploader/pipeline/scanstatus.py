"""What stands between the app and a malware scan, in plain words with the fix.

The same sentences go to the command line (once per run), the window's banner, ``doctor`` and the
reason of every file that was not scanned, so the user reads one explanation everywhere.
``diagnose`` looks without starting anything: is clamd installed, does a clamd answer, are there
signatures and how old are they.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from desktop_uploader.pipeline.clamd import (
    SIGNATURE_SUFFIXES,
    ClamdClient,
    clamd_program,
    find_system_socket,
)

NOT_SCANNED = "Files were not scanned for malware"
STALE_DAYS = 7  # freshclam updates several times a day; a week old means it is not running


@dataclass(frozen=True)
class ScannerProblem:
    """Why files are not scanned: ``kind`` for scripts, ``message`` and ``fix`` for people."""

    kind: str  # not_installed | no_signatures | not_running | socket_down | failed_to_start
    message: str
    fix: str

    def text(self) -> str:
        return f"{self.message} {self.fix}"


@dataclass(frozen=True)
class SignatureFile:
    name: str
    version: str | None  # from a .cvd/.cld header (e.g. "27093")
    built: datetime | None  # when ClamAV built it (header), else the file's mtime


def install_hint() -> str:
    """How to install ClamAV on this system."""
    if sys.platform == "darwin":
        return "Install it: brew install clamav (then run freshclam)."
    if sys.platform == "win32":
        return "Install ClamAV from https://www.clamav.net/downloads and start its service."
    if shutil.which("dnf"):
        return "Install it: sudo dnf install clamav-server clamav-update, then sudo freshclam."
    return "Install it: sudo apt install clamav-daemon clamav-freshclam."


def signature_files(database_dir: Path) -> list[SignatureFile]:
    """The signature databases in ``database_dir`` with their version and build time."""
    out = []
    try:
        entries = sorted(Path(database_dir).iterdir())
    except OSError:
        return []
    for p in entries:
        if p.suffix not in SIGNATURE_SUFFIXES:
            continue
        version, built = _cvd_header(p) if p.suffix in (".cvd", ".cld") else (None, None)
        if built is None:
            try:
                built = datetime.fromtimestamp(p.stat().st_mtime, UTC)
            except OSError:
                continue
        out.append(SignatureFile(p.name, version, built))
    return out


def _cvd_header(path: Path) -> tuple[str | None, datetime | None]:
    """``ClamAV-VDB:14 Nov 2023 07-35 -0500:27093:…`` — the first 512 bytes of a .cvd/.cld."""
    try:
        with open(path, "rb") as f:
            fields = f.read(512).decode("ascii", "replace").split(":")
    except OSError:
        return None, None
    if len(fields) < 3 or fields[0] != "ClamAV-VDB":
        return None, None
    try:
        built = datetime.strptime(fields[1].strip(), "%d %b %Y %H-%M %z")
    except ValueError:
        built = None
    return fields[2] or None, built


def signature_age_days(files: list[SignatureFile]) -> float | None:
    """Days since the newest signature database was built (None: there is none)."""
    dates = [f.built for f in files if f.built is not None]
    if not dates:
        return None
    return max(0.0, (time.time() - max(dates).timestamp()) / 86400)


def diagnose(
    database_dir: Path, socket_path: str | None = None, start_own: bool = True
) -> ScannerProblem | None:
    """What keeps files from being scanned right now (None: a clamd answers, or ours can start).
    Pings sockets; starts nothing."""
    if socket_path:
        if ClamdClient(socket_path).ping(timeout=1.0):
            return None
        return ScannerProblem(
            "socket_down",
            f"The clamd socket set in the settings ({socket_path}) does not answer.",
            "Start that clamd, or clear “clamd socket” in the settings to find another.",
        )
    if find_system_socket():
        return None
    if not clamd_program():
        return ScannerProblem("not_installed", "ClamAV is not installed.", install_hint())
    if not start_own:
        return ScannerProblem(
            "not_running",
            "No clamd is running, and starting one of our own is turned off.",
            "Start it (sudo systemctl start clamav-daemon) or turn on “Start our own clamd”.",
        )
    if not signature_files(database_dir):
        return no_signatures(database_dir)
    return None


def no_signatures(database_dir: Path) -> ScannerProblem:
    return ScannerProblem(
        "no_signatures",
        f"ClamAV has no signatures in {database_dir}.",
        "Run `sudo freshclam` to download them (the clamav-freshclam service then keeps them "
        "up to date).",
    )


def from_error(text: str, database_dir: Path) -> ScannerProblem:
    """A problem for a clamd failure that ``diagnose`` did not foresee (it exited, timed out)."""
    if "not installed" in text:
        return ScannerProblem("not_installed", "ClamAV is not installed.", install_hint())
    if "no ClamAV signatures" in text:
        return no_signatures(database_dir)
    return ScannerProblem(
        "failed_to_start",
        f"The malware scanner could not be used ({text}).",
        "Check that clamd runs (sudo systemctl status clamav-daemon) and its log.",
    )
