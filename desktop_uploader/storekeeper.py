"""The process that owns a running embedded store (light imports: it must start fast).

``local-store start`` launches it detached and hands it, over stdin, the S3 keys and the ports.
It then:

* makes a private 0700 runtime folder with a fresh CA, server and client certificates and weed's
  ``security.toml`` (``storetls``: mutual TLS on every gRPC port, HTTPS that requires our client
  certificate on the master, volume, filer and admin HTTP ports, fresh JWT keys), plus weed's
  ``-s3.config`` with the one S3 identity that holds our keys;
* starts ``weed mini`` there, tied to its own life (``Platform.dies_with_parent``: on Linux weed
  gets SIGKILL when the keeper dies, however it dies; on Windows a kill-on-close Job Object),
  sets the public bucket's policy (anonymous may GET objects, nothing else), waits until S3
  answers, and deletes ``security.toml`` and the S3 config: the keys in them stay only in
  memory. The certificates stay (weed reloads them) in the runtime folder until weed stops;
* records itself in the store's state file, and serves the keys to processes of the same user
  only, like ssh-agent, so clients work even where no keyring is usable: a unix socket whose
  peer's user id the OS tells (Linux SO_PEERCRED, macOS getpeereid), or loopback TCP with a
  per-start token file in the private runtime folder (Windows, and the portable fallback;
  ``platform/ipc.py``);
* stops weed when told to (SIGTERM or ``stop`` on the socket) or exits when weed dies.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from base64 import b64encode
from pathlib import Path

from desktop_uploader import platform, storetls
from desktop_uploader.platform import ipc

WEED_STOP_GRACE = 10.0
PROBE_KEY = ".desktop-uploader-probe"


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
        "-s3.iam=false",  # no IAM/STS API on the S3 port: one fixed identity is all we use
        "-master.telemetry=false",
        "-volume.preStopSeconds=0",  # a single node has no peers to drain writes to
        f"-master.volumeSizeLimitMB={cfg['volume_size_limit_mb']}",
        f"-filer.localSocket={cfg['runtime_dir']}/filer.sock",
        f"-s3.localSocket={cfg['runtime_dir']}/s3.sock",
    ]


def s3_identities(keys: dict) -> dict:
    """The S3 config: our keys, nothing for anonymous (the bucket policy grants public GETs)."""
    return {
        "identities": [
            {
                "name": "desktop-uploader",
                "credentials": [
                    {"accessKey": keys["access_key_id"], "secretKey": keys["secret_access_key"]}
                ],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }


def public_read_policy(bucket: str) -> dict:
    """Anonymous may GET (and HEAD) objects of ``bucket``: no listing, no uploads, no writes."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadObjects",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }


def _request(port: int, method: str, path: str, headers: dict, body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _signed(port: int, keys: dict, method: str, path: str, query: str = "", body: bytes = b""):
    """A request signed with our keys (SigV4, as boto3 signs it); the status and body."""
    from desktop_uploader.storage.directs3 import SigV4

    signer = SigV4(keys["access_key_id"], keys["secret_access_key"], "us-east-1")
    headers = {"content-length": str(len(body))}
    if body:
        headers["content-md5"] = b64encode(hashlib.md5(body).digest()).decode()
        headers["content-type"] = "application/json"
    headers = signer.sign(method, f"127.0.0.1:{port}", path, headers, query=query)
    return _request(port, method, f"{path}?{query[:-1]}" if query else path, headers, body)


def put_bucket_policy(port: int, bucket: str, keys: dict) -> tuple[int, bytes]:
    """PUT ``/<bucket>?policy`` (the public-read policy); the server's status and body."""
    body = json.dumps(public_read_policy(bucket)).encode()
    return _signed(port, keys, "PUT", f"/{bucket}", "policy=", body)


def wait_until_ready(cfg: dict, proc: subprocess.Popen, timeout: float) -> None:
    """Set the public bucket's policy, then wait until anonymous reads of the bucket answer as
    they should (a missing key: 404 NoSuchKey, not 403): weed, the bucket and the policy are up."""
    port, bucket = cfg["ports"]["s3"], cfg["bucket"]
    deadline = time.monotonic() + timeout
    bucket_there = policy_set = False
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited with code {proc.returncode} while starting")
        try:
            if not bucket_there:  # weed creates it just after S3 answers
                status, _body = _signed(port, cfg["keys"], "HEAD", f"/{bucket}")
                bucket_there = status == 200
                last = f"bucket: {status}"
            if bucket_there and not policy_set:
                status, body = put_bucket_policy(port, bucket, cfg["keys"])
                policy_set = status in (200, 204)
                last = f"bucket policy: {status} {body[:200]!r}"
            if policy_set:
                status, body = _request(port, "GET", f"/{bucket}/{PROBE_KEY}", {})
                if status == 404 and b"NoSuchKey" in body:
                    return
                last = f"anonymous probe: {status}"
        except OSError as e:
            last = f"{type(e).__name__}: {e}"
        time.sleep(0.1)
    raise RuntimeError(f"S3 on port {port} did not become ready within {timeout:.0f} s ({last})")


def serve(listener: ipc.Listener, keys: dict, stop: threading.Event) -> None:
    answer_keys = json.dumps(keys).encode() + b"\n"
    while not stop.is_set():
        try:
            got = listener.accept(0.5)  # only this user's requests come through
        except OSError:
            return
        if got is None:
            continue
        conn, command = got
        with conn:
            try:
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


def record_state(cfg: dict, proc: subprocess.Popen, address: str) -> None:
    """Write the store's state file (no secrets): who we are, weed, the ports, the keeper's
    address (a socket path, or ``tcp://...`` naming the token file, not the token)."""
    from desktop_uploader.paths import atomic_write

    host = platform.current()
    state = {
        "pid": os.getpid(),
        "pid_started": host.process_started(os.getpid()),
        "weed_pid": proc.pid,
        "weed_started": host.process_started(proc.pid),
        "socket": address,
        "runtime_dir": cfg["runtime_dir"],
        "ports": cfg["ports"],
        "bucket": cfg["bucket"],
        "data_dir": cfg["data_dir"],
        "started_at": time.time(),
    }
    atomic_write(Path(cfg["state_file"]), json.dumps(state, indent=2).encode())


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
    s3_config, security = runtime / "s3.json", runtime / "security.toml"
    certs = storetls.write_certificates(runtime)
    storetls.write_private(s3_config, json.dumps(s3_identities(cfg["keys"])))
    storetls.write_private(security, storetls.security_toml(certs))
    log = open(cfg["log_file"], "ab")  # noqa: SIM115 - lives as long as this process
    host = platform.current()
    proc = subprocess.Popen(
        weed_args(cfg["weed"], cfg, s3_config),
        cwd=runtime,  # weed reads security.toml from its working folder
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=host.dies_with_parent(),  # safe: no other thread runs yet
    )
    host.tie_child(proc.pid)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        wait_until_ready(cfg, proc, cfg.get("start_timeout", 60))
    except (RuntimeError, KeyboardInterrupt) as e:
        stop_weed(proc)
        shutil.rmtree(runtime, ignore_errors=True)
        print(json.dumps({"error": str(e)}), flush=True)
        return 1
    finally:
        # weed has read both by now (S3 answered our signed request: identities are loaded).
        s3_config.unlink(missing_ok=True)
        security.unlink(missing_ok=True)

    listener = host.listen(runtime)
    server = threading.Thread(target=serve, args=(listener, cfg["keys"], stop), daemon=True)
    server.start()
    record_state(cfg, proc, listener.address)
    print(json.dumps({"ready": True, "weed_pid": proc.pid, "socket": listener.address}), flush=True)
    with contextlib.suppress(OSError):
        sys.stdout.close()
        os.close(1)
    while not stop.is_set() and proc.poll() is None:
        stop.wait(0.5)
    stop.set()
    stop_weed(proc)
    listener.close()
    server.join(2)
    shutil.rmtree(runtime, ignore_errors=True)  # certificates and sockets go with weed
    return 0


if __name__ == "__main__":
    sys.exit(main())
