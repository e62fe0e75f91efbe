"""ClamAV's clamd: a small INSTREAM client, discovery of a system clamd, and our own clamd.

The client speaks clamd's documented protocol over its unix socket (``zINSTREAM``: chunks
prefixed with a 4-byte big-endian length, then a zero-length chunk; one NUL-terminated reply).
It hashes the bytes while streaming them, so a scanned file is read exactly once.

``OwnClamd`` starts Debian's ``clamd`` in the foreground with a config of ours (socket and
temporary files in the app's runtime folder, ``AlertExceedsMax`` so oversized input is never
reported clean) and stops it again by its PID.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from desktop_uploader import platform
from desktop_uploader.pipeline.intake import open_regular
from desktop_uploader.platform.ipc import recv_until

log = logging.getLogger(__name__)

# Where distributions put clamd's socket (Debian/Ubuntu, Fedora/RHEL, Arch, Homebrew).
SYSTEM_SOCKETS = (
    "/run/clamav/clamd.ctl",
    "/var/run/clamav/clamd.ctl",
    "/run/clamd.scan/clamd.sock",
    "/var/run/clamd.scan/clamd.sock",
    "/run/clamav/clamd.sock",
    "/var/lib/clamav/clamd.sock",
    "/tmp/clamd.socket",
    "/opt/homebrew/var/run/clamav/clamd.sock",
    "/usr/local/var/run/clamav/clamd.sock",
)
SYSTEM_CONFIGS = ("/etc/clamav/clamd.conf", "/etc/clamd.d/scan.conf", "/etc/clamd.conf")
SIGNATURE_SUFFIXES = (".cvd", ".cld", ".cud", ".ndb", ".ldb", ".hdb", ".hsb", ".ndu", ".ldu")
CHUNK = 1 << 20


class ClamdError(Exception):
    """clamd could not be reached or answered with an error."""


@dataclass(frozen=True)
class ScanReply:
    """clamd's verdict on one stream. ``signature`` is set when something was found."""

    signature: str | None
    sha256: str
    size: int


class ClamdClient:
    """One clamd reachable at a unix socket. Each call opens its own connection (thread-safe)."""

    def __init__(self, socket_path: str | Path, timeout: float = 60.0) -> None:
        self.socket_path = str(socket_path)
        self.timeout = timeout

    def _connect(self, timeout: float | None = None) -> socket.socket:
        try:
            return platform.current().connect_unix(self.socket_path, timeout or self.timeout)
        except OSError as e:
            raise ClamdError(f"clamd at {self.socket_path} is not reachable ({e})") from e

    def _command(self, command: bytes, timeout: float = 5.0) -> str:
        with self._connect(timeout) as s:
            s.sendall(b"z" + command + b"\0")
            return _read_reply(s)

    def ping(self, timeout: float = 2.0) -> bool:
        """True if clamd answers PONG."""
        try:
            return self._command(b"PING", timeout) == "PONG"
        except (ClamdError, OSError):
            return False

    def version(self) -> str:
        return self._command(b"VERSION")

    def scan_file(self, path: Path) -> ScanReply:
        """Stream ``path`` to clamd; raise ``ClamdError`` if the scan did not complete."""
        h = hashlib.sha256()
        size = 0
        with open_regular(path) as f, self._connect() as s:
            s.sendall(b"zINSTREAM\0")
            try:
                while block := f.read(CHUNK):
                    h.update(block)
                    size += len(block)
                    s.sendall(len(block).to_bytes(4, "big") + block)
                s.sendall(b"\0\0\0\0")
            except (BrokenPipeError, ConnectionResetError):
                pass  # clamd hung up early (size limit): its reply says why
            try:
                reply = _read_reply(s)
            except OSError as e:
                raise ClamdError(f"clamd did not answer the scan ({e})") from e
        return ScanReply(_parse_verdict(reply), h.hexdigest(), size)


def _read_reply(s: socket.socket) -> str:
    return recv_until(s, b"\0").rstrip(b"\0\n").decode("utf-8", "replace")


def _parse_verdict(reply: str) -> str | None:
    # "stream: OK" | "stream: Eicar-Signature FOUND" | "INSTREAM size limit exceeded. ERROR"
    if reply.endswith(" FOUND"):
        return reply.removeprefix("stream:").removesuffix(" FOUND").strip() or "unknown"
    if reply.endswith(": OK") or reply == "OK":
        return None
    raise ClamdError(f"clamd could not scan the file: {reply or 'no answer'}")


def find_system_socket() -> str | None:
    """The socket of a running system clamd: from its config files, then the usual paths."""
    candidates: list[str] = []
    for conf in SYSTEM_CONFIGS:
        try:
            text = Path(conf).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        m = re.search(r"^\s*LocalSocket\s+(\S+)", text, re.M)
        if m:
            candidates.append(m.group(1))
    candidates += [p for p in SYSTEM_SOCKETS if p not in candidates]
    for path in candidates:
        if os.path.exists(path) and ClamdClient(path).ping(timeout=1.0):
            return path
    return None


def has_signatures(database_dir: Path) -> bool:
    """True if ``database_dir`` holds at least one ClamAV signature file."""
    try:
        return any(p.suffix in SIGNATURE_SUFFIXES for p in Path(database_dir).iterdir())
    except OSError:
        return False


class OwnClamd:
    """A clamd of our own, started on demand and stopped on ``stop``."""

    def __init__(
        self,
        runtime_dir: Path,
        database_dir: Path,
        max_bytes: int,
        clamd_binary: str | None = None,
        start_timeout: float = 120.0,
    ) -> None:
        self.runtime_dir = Path(runtime_dir)
        self.database_dir = Path(database_dir)
        self.max_bytes = max_bytes
        self.clamd_binary = clamd_binary or clamd_program()
        self.start_timeout = start_timeout
        self.socket_path = self.runtime_dir / "clamd.sock"
        if len(str(self.socket_path)) > 100:  # unix socket paths are limited to ~107 bytes
            self.socket_path = Path(tempfile.mkdtemp(prefix="du-clamd-")) / "clamd.sock"
        self._proc: subprocess.Popen | None = None

    def config_text(self) -> str:
        """The clamd.conf we run with. Limits sit above the app's own file-size limit, and
        ``AlertExceedsMax`` makes clamd report anything it could not scan whole."""
        limit_mb = self.max_bytes // (1024 * 1024) + 16
        tmp = self.runtime_dir / "tmp"
        return "\n".join(
            [
                "Foreground yes",
                f"LocalSocket {self.socket_path}",
                "LocalSocketMode 600",
                f"DatabaseDirectory {self.database_dir}",
                f"TemporaryDirectory {tmp}",
                f"PidFile {self.runtime_dir / 'clamd.pid'}",
                "LogTime yes",
                "AlertExceedsMax yes",
                f"StreamMaxLength {limit_mb}M",
                f"MaxFileSize {limit_mb}M",
                f"MaxScanSize {limit_mb * 4}M",
                "SelfCheck 0",
                "",
            ]
        )

    def start(self) -> ClamdClient:
        """Start clamd and wait until it answers; raise ``ClamdError`` if it cannot."""
        if not self.clamd_binary or not os.path.exists(self.clamd_binary):
            raise ClamdError("clamd is not installed (Debian: apt install clamav-daemon)")
        if not has_signatures(self.database_dir):
            raise ClamdError(f"no ClamAV signatures in {self.database_dir} (run freshclam)")
        (self.runtime_dir / "tmp").mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.runtime_dir, 0o700)
        conf = self.runtime_dir / "clamd.conf"
        self._stop_leftover(conf)
        conf.write_text(self.config_text(), encoding="utf-8")
        self.socket_path.unlink(missing_ok=True)
        log_file = open(self.runtime_dir / "clamd.log", "ab")  # noqa: SIM115 - owned by the child
        try:
            self._proc = subprocess.Popen(
                [self.clamd_binary, "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # own process group: a Ctrl-C in a terminal goes to us; we stop it in order
                **platform.current().detached(),
            )
        finally:
            log_file.close()
        client = ClamdClient(self.socket_path)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = self._log_tail()
                self._proc = None
                raise ClamdError(f"clamd exited while starting: {tail}")
            if self.socket_path.exists() and client.ping(timeout=1.0):
                log.info("own clamd running (pid %s, %s)", self._proc.pid, self.socket_path)
                return client
            time.sleep(0.05)
        self.stop()
        raise ClamdError(f"clamd did not answer within {self.start_timeout:.0f} s")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def stop(self) -> None:
        """Stop our clamd (TERM, then KILL after 5 s)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        self.socket_path.unlink(missing_ok=True)

    def _stop_leftover(self, conf: Path) -> None:
        """A clamd of ours left running by a crashed app (it runs in its own session): stop it,
        identified by its PID file *and* its command line naming our config."""
        try:
            pid = int((self.runtime_dir / "clamd.pid").read_text().strip())
        except (OSError, ValueError):
            return
        host = platform.current()
        if str(conf) in host.command_line(pid):
            log.info("stopping a clamd left over from an earlier run (pid %s)", pid)
            host.end_processes([pid], grace=5.0)

    def _log_tail(self) -> str:
        try:
            lines = (self.runtime_dir / "clamd.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return " / ".join(ln for ln in lines[-3:] if ln.strip()) or "(empty log)"


def clamd_program() -> str | None:
    """Where Debian's (or another system's) clamd is installed, if it is."""
    return shutil.which("clamd") or _sbin("clamd")


def _sbin(name: str) -> str | None:
    for d in ("/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin"):
        if os.path.exists(f"{d}/{name}"):
            return f"{d}/{name}"
    return None
