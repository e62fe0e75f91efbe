"""The embedded default store: SeaweedFS ``weed mini`` on 127.0.0.1, started and stopped by us.

A detached keeper process (``storekeeper``) owns weed and holds the S3 keys in memory; weed dies
with it. The keeper records itself in the state file ``store.json`` (no secrets in it): its PID
and weed's, with their start times (a reused PID is not mistaken for ours), the ports and the
keeper's socket, so any later command can find, use and stop the store. A start is
single-flight (a lock on the store's folder) and first ends whatever an earlier start left
running. Ports are remembered between starts so that links printed earlier keep working.
docs/security.md says who can reach which port.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktop_uploader import platform
from desktop_uploader.config import LocalStoreSettings
from desktop_uploader.credentials import CredentialStore, S3Keys
from desktop_uploader.errors import CredentialsError, LocalStoreError
from desktop_uploader.paths import AppPaths, atomic_write
from desktop_uploader.storebinary import STORE_PACKAGE, find_weed  # noqa: F401 - re-exported

KEYRING_PROFILE = "local"
LEFTOVER_GRACE = 5.0  # SIGTERM, then SIGKILL: weed stops in 1-2 s once it is up
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
    """True if ``pid`` runs (a zombie child of ours counts as gone)."""
    return platform.current().pid_alive(pid)


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
    # "running", "stopped", or "leftover": processes of an earlier start still run (and may
    # serve the store's ports) without a keeper that can hand out keys; start or stop ends them
    state: str = "stopped"
    leftover_pids: list[int] = field(default_factory=list)
    runtime_dir: str | None = None  # the keeper's private folder (certificates, sockets)

    def as_dict(self) -> dict:
        return {
            "running": self.running,
            "state": self.state,
            "pid": self.pid,
            "weed_pid": self.weed_pid,
            "s3_endpoint": self.s3_endpoint,
            "bucket": self.bucket,
            "public_base_url": self.public_base_url,
            "ports": self.ports,
            "data_dir": self.data_dir,
            "leftover_pids": self.leftover_pids,
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
        self.data_dir = self.dir / "data"
        self.state_file = self.dir / "store.json"
        self.log_file = self.dir / "weed.log"
        self.lock_file = self.dir / "start.lock"

    # -- state ---------------------------------------------------------------------------
    def _read_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def status(self) -> StoreStatus:
        """What the store is doing now: the state file's processes, checked by PID and start
        time; when they don't run, any other process of this store (by command line)."""
        st = self._read_state()
        # A keeper records its start time; one that did not is from a version whose store had
        # open ports: not "running" but a leftover, which the next start replaces.
        running = (
            "pid_started" in st
            and platform.current().is_same_process(st.get("pid"), st.get("pid_started"))
            and platform.current().is_same_process(st.get("weed_pid"), st.get("weed_started"))
        )
        leftovers = [] if running else self._leftovers()
        ports = st.get("ports", {})
        bucket = st.get("bucket", self.settings.bucket)
        endpoint = f"http://127.0.0.1:{ports['s3']}" if running and "s3" in ports else None
        return StoreStatus(
            running=running,
            pid=st.get("pid") if running else None,
            weed_pid=st.get("weed_pid") if running else None,
            s3_endpoint=endpoint,
            bucket=bucket,
            public_base_url=f"{endpoint}/{bucket}" if endpoint else None,
            ports=ports,
            data_dir=str(self.data_dir),
            socket=st.get("socket") if running else None,
            state="running" if running else ("leftover" if leftovers else "stopped"),
            leftover_pids=leftovers,
            runtime_dir=st.get("runtime_dir") if running else None,
        )

    def _leftovers(self) -> list[int]:
        if not self.dir.is_dir():
            return []
        return platform.current().store_processes(self.dir, self.data_dir)

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
            reply = platform.current().request(status.socket, b"keys")
            data = json.loads(reply)
            return S3Keys(data["access_key_id"], data["secret_access_key"])
        except (OSError, ValueError, KeyError) as e:
            raise CredentialsError(
                f"Could not get the local store's keys from its keeper ({type(e).__name__}). "
                "Restart it: `desktop-uploader local-store stop` then `start`."
            ) from e

    # -- lifecycle -----------------------------------------------------------------------
    def start(
        self, timeout: float = 60.0, announce: Callable[[str], None] | None = None
    ) -> StoreStatus:
        """Start the store unless it runs already; returns its status once S3 answers.

        One start at a time, whoever asks: threads and processes that call this together wait
        on a lock on the store's folder, and all but the first find the store running.
        ``announce`` is told, once, when this call really starts it."""
        current = self.status()
        if current.running:
            return current
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            with platform.current().start_lock(self.lock_file, timeout + 30):
                current = self.status()
                if current.running:
                    return current
                self._end_leftovers(current)
                if announce:
                    announce("Starting the local store (desktop-uploader local-store start) ...")
                return self._launch(timeout)
        except TimeoutError:
            raise LocalStoreError(
                "Another program has been starting the local store for too long. "
                f"See {self.log_file}; `desktop-uploader local-store stop` ends what runs."
            ) from None

    def _launch(self, timeout: float) -> StoreStatus:
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
            "data_dir": str(self.data_dir),
            "state_file": str(self.state_file),
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
            cwd=self.dir,  # also how a later start recognises a leftover keeper
            **platform.current().detached(),  # survives the CLI that started it, and its Ctrl+C
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
                proc.kill()  # weed dies with it (its death signal)
            proc.wait(5)
            why = reply.get("error") or "no answer from the store keeper"
            raise LocalStoreError(
                f"The local store did not start: {why}. See {self.log_file} for weed's output."
            )
        status = self.status()  # the keeper recorded itself in the state file
        if not status.running:
            raise LocalStoreError(
                f"The local store started but stopped right away. See {self.log_file}."
            )
        return status

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop the store, and any leftover of an earlier start; False when nothing ran."""
        if not self.dir.is_dir():
            return False  # never started in this home
        lock = platform.current().start_lock(self.lock_file, timeout)
        with contextlib.suppress(TimeoutError), lock:
            return self._stop(timeout)
        return self._stop(timeout)  # a start hangs: stop what runs anyway

    def _stop(self, timeout: float) -> bool:
        st = self._read_state()
        keeper = st.get("pid")
        if not platform.current().is_same_process(keeper, st.get("pid_started")):
            keeper = None
        if keeper:
            # the keeper stops weed itself
            platform.current().end_processes([keeper], grace=timeout)
        status = self.status()
        self._end_leftovers(status)
        if st:
            for k in ("pid", "pid_started", "weed_pid", "weed_started", "socket", "runtime_dir"):
                st.pop(k, None)
            atomic_write(self.state_file, json.dumps(st, indent=2).encode())
        return bool(keeper) or bool(status.leftover_pids) or status.running

    def _end_leftovers(self, status: StoreStatus) -> None:
        """End processes of an earlier start that still run (found by command line), and
        remove their runtime folder."""
        pids = list(status.leftover_pids)
        if status.running and status.pid:
            pids += [status.pid, status.weed_pid or 0]
        pids = [p for p in pids if p]
        if pids:
            platform.current().end_processes(pids, grace=LEFTOVER_GRACE)
        runtime = self._read_state().get("runtime_dir")
        if runtime and Path(runtime).name.startswith("du-store-"):
            shutil.rmtree(runtime, ignore_errors=True)


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
