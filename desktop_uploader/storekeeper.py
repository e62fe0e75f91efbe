"""The process that owns a running embedded store (stdlib only: it must start fast).

``local-store start`` launches it detached and hands it, over stdin, the S3 keys and the ports.
It then:

* writes weed's ``-s3.config`` and a ``security.toml`` with fresh random JWT keys into a private
  0700 temp folder (weed reads ``security.toml`` from its working directory), starts ``weed mini``
  there, waits until S3 answers, and deletes both files: no secret stays on disk;
* serves the keys over a unix socket to processes of the same user only (checked with
  SO_PEERCRED), like ssh-agent, so clients work even where no keyring is usable;
* stops weed when told to (SIGTERM or ``stop`` on the socket) or exits when weed dies.

The JWT keys are what close the filer's and volume server's HTTP ports to unsigned reads: without
them ``weed mini``'s filer port serves every bucket to anyone.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

WEED_STOP_GRACE = 10.0


def weed_args(weed: str, cfg: dict, s3_config: Path) -> list[str]:
    p = cfg["ports"]
    return [
        weed,
        "mini",
        f"-dir={cfg['data_dir']}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.config={s3_config}",
        f"-bucket={cfg['bucket']}",
        f"-master.port={p['master']}",
        f"-master.port.grpc={p['master_grpc']}",
        f"-volume.port={p['volume']}",
        f"-volume.port.grpc={p['volume_grpc']}",
        f"-filer.port={p['filer']}",
        f"-filer.port.grpc={p['filer_grpc']}",
        f"-s3.port={p['s3']}",
        f"-s3.port.grpc={p['s3_grpc']}",
        f"-admin.port={p['admin']}",
        f"-admin.port.grpc={p['admin_grpc']}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        f"-master.volumeSizeLimitMB={cfg['volume_size_limit_mb']}",
        f"-filer.localSocket={cfg['runtime_dir']}/filer.sock",
        f"-s3.localSocket={cfg['runtime_dir']}/s3.sock",
    ]


def s3_identities(cfg: dict) -> dict:
    keys = cfg["keys"]
    return {
        "identities": [
            {
                "name": "desktop-uploader",
                "credentials": [
                    {"accessKey": keys["access_key_id"], "secretKey": keys["secret_access_key"]}
                ],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            },
            # Anonymous may read objects of the public bucket: the local stand-in for a CDN.
            {"name": "anonymous", "actions": [f"Read:{cfg['bucket']}"]},
        ]
    }


def security_toml() -> str:
    sections = ["jwt.signing", "jwt.signing.read", "jwt.filer_signing", "jwt.filer_signing.read"]
    return "".join(
        f'[{s}]\nkey = "{secrets.token_urlsafe(32)}"\nexpires_after_seconds = 10\n\n'
        for s in sections
    )


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def wait_for_bucket(port: int, bucket: str, proc: subprocess.Popen, timeout: float) -> None:
    """Wait until anonymous reads of the bucket are answered (bucket exists, identities loaded)."""
    url = f"http://127.0.0.1:{port}/{bucket}/.desktop-uploader-probe"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited with code {proc.returncode} while starting")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError as e:
            body = e.read().decode("utf-8", "replace")
            if e.code == 404 and "NoSuchKey" in body:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"S3 on port {port} did not become ready within {timeout:.0f} s")


def peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


def serve(sock: socket.socket, cfg: dict, stop: threading.Event) -> None:
    answer_keys = json.dumps(cfg["keys"]).encode() + b"\n"
    sock.settimeout(0.5)
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        with conn:
            try:
                conn.settimeout(2)
                if peer_uid(conn) != os.getuid():
                    continue
                command = conn.recv(64).strip()
                if command == b"keys":
                    conn.sendall(answer_keys)
                elif command == b"ping":
                    conn.sendall(b"pong\n")
                elif command == b"stop":
                    conn.sendall(b"stopping\n")
                    stop.set()
            except OSError:
                continue


def stop_weed(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(WEED_STOP_GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> int:
    cfg = json.loads(sys.stdin.read())
    sys.stdin.close()
    runtime = Path(tempfile.mkdtemp(prefix="du-store-"))
    os.chmod(runtime, 0o700)
    cfg["runtime_dir"] = str(runtime)
    data_dir = Path(cfg["data_dir"])
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    # weed remembers the last command line in mini.options and merges it into the next start;
    # we always pass every option, so a stale file could only surprise us.
    (data_dir / "mini.options").unlink(missing_ok=True)
    s3_config = runtime / "s3.json"
    write_private(s3_config, json.dumps(s3_identities(cfg)))
    write_private(runtime / "security.toml", security_toml())
    log = open(cfg["log_file"], "ab")  # noqa: SIM115 - lives as long as this process
    proc = subprocess.Popen(
        weed_args(cfg["weed"], cfg, s3_config),
        cwd=runtime,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        wait_for_bucket(cfg["ports"]["s3"], cfg["bucket"], proc, cfg.get("start_timeout", 60))
    except (RuntimeError, KeyboardInterrupt) as e:
        stop_weed(proc)
        shutil.rmtree(runtime, ignore_errors=True)
        print(json.dumps({"error": str(e)}), flush=True)
        return 1
    finally:
        # weed has read both files by now (S3 answers only after loading identities).
        s3_config.unlink(missing_ok=True)
        (runtime / "security.toml").unlink(missing_ok=True)

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock_path = runtime / "keeper.sock"
    sock.bind(str(sock_path))
    os.chmod(sock_path, 0o600)
    sock.listen(16)
    server = threading.Thread(target=serve, args=(sock, cfg, stop), daemon=True)
    server.start()
    print(json.dumps({"ready": True, "weed_pid": proc.pid, "socket": str(sock_path)}), flush=True)
    with contextlib.suppress(OSError):
        sys.stdout.close()
        os.close(1)
    while not stop.is_set() and proc.poll() is None:
        stop.wait(0.5)
    stop.set()
    stop_weed(proc)
    sock.close()
    server.join(2)
    shutil.rmtree(runtime, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
