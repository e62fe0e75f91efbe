"""The embedded store belongs to its owner: every port it listens on, tried by another local user
(made here with useradd) and by the owner without the store's certificates, as an attacker would.

Each refusal is paired with the same request made with the store's client certificate, which
succeeds: the probes can see an open port, so their failing means the port is closed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import traceback
from pathlib import Path

import portprobe
import pytest
from support import store_client
from weedserver import weed_process

from desktop_uploader.localstore import find_weed
from desktop_uploader.platform import processes

if os.geteuid() != 0:  # useradd and switching users need root (CI runs as root)
    if os.environ.get("CI"):
        raise RuntimeError("tests/test_store_security.py must run as root in CI")
    pytest.skip("needs root to create a second user", allow_module_level=True)


# -- a second user -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def outsider():
    """(uid, gid) of a fresh unprivileged user, removed again at the end."""
    name = f"du-out{os.getpid()}"
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    try:
        out = subprocess.run(["id", "-u", name], check=True, capture_output=True, text=True)
        uid = int(out.stdout)
        gid = int(subprocess.run(["id", "-g", name], capture_output=True, text=True).stdout)
        yield uid, gid
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def run_as(user: tuple[int, int], fn, *args):
    """Run ``fn(*args)`` in a child process as ``user``; its JSON-able result, or the child's
    exception re-raised here as an AssertionError."""
    uid, gid = user
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to the user, do the work, report, leave without clean-up
        code = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            os.environ["HOME"] = "/nonexistent"
            payload = json.dumps({"ok": fn(*args)})
        except BaseException:
            payload = json.dumps({"error": traceback.format_exc()})
            code = 1
        with contextlib.suppress(BaseException):
            os.write(write_end, payload.encode())
            os.close(write_end)
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    result = json.loads(data)
    if "error" in result:
        raise AssertionError(f"the child as uid {uid} failed:\n{result['error']}")
    return result["ok"]


@pytest.fixture(scope="module")
def weed_for_anyone():
    """The weed binary where any user may run it (the venv may sit in a private folder)."""
    folder = Path(tempfile.mkdtemp(prefix="du-weed-bin-"))
    folder.chmod(0o755)
    copy = folder / "weed"
    try:
        os.link(find_weed(), copy)
    except OSError:
        shutil.copy2(find_weed(), copy)
    copy.chmod(0o755)
    yield str(copy)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def store(local_store):
    """The running test store: status, its ports (from the processes), its certificates."""
    st = local_store.status()
    ports = processes.listening_ports([st.pid, st.weed_pid])
    if st.socket and st.socket.startswith("tcp://"):
        # the keeper's own IPC with the portable fallbacks (make test-portable): it answers
        # only requests with the token from its 0600 file (tests/test_platform.py tries that)
        from urllib.parse import urlsplit

        ports.discard(urlsplit(st.socket).port)
    runtime = Path(st.runtime_dir)
    return st, sorted(ports), (str(runtime / "client.crt"), str(runtime / "client.key"))


# -- what an attacker tries --------------------------------------------------------------
def knock_all(ports: list[int]) -> dict:
    return {str(p): portprobe.knock(p) for p in ports}


def unix_sockets(pids: list[int]) -> list[str]:
    import psutil

    paths = set()
    for pid in pids:
        for c in psutil.Process(pid).net_connections(kind="unix"):
            if c.laddr:
                paths.add(c.laddr)
    return sorted(paths)


def unix_knock_all(paths: list[str]) -> dict:
    return {p: portprobe.h2c_unix(p) for p in paths}


def assert_all_refused(results: dict, s3_port: int, who: str) -> None:
    assert str(s3_port) in results, "the S3 port is not among the listening ports?"
    for port, r in results.items():
        where = f"{who}, port {port}: {r}"
        assert r["h2c"] != "h2-settings", f"gRPC without TLS answered ({where})"
        assert r["tls_h2"] == "tls-refused", f"gRPC over TLS without a certificate ({where})"
        if int(port) == s3_port:
            assert r["http"] == 403, f"anonymous S3 request not refused ({where})"
            continue
        assert r["tls_http"] == "tls-refused", f"HTTPS without a certificate ({where})"
        assert not (isinstance(r["http"], int) and r["http"] < 400), f"plain HTTP ({where})"


def test_every_port_refuses_another_user_and_the_owner_without_certificates(store, outsider):
    st, ports, cert = store
    assert st.ports["s3"] in ports and len(ports) >= 8, ports
    assert set(ports) <= set(st.ports.values()), "a port the state file does not know"
    assert_all_refused(run_as(outsider, knock_all, ports), st.ports["s3"], "another user")
    assert_all_refused(knock_all(ports), st.ports["s3"], "the owner without certificates")
    # weed also serves each gRPC service on a unix socket (its own /tmp/seaweedfs-*.sock, and
    # ours in the runtime folder): another user may not even connect, and without the
    # certificate the owner gets no gRPC answer either
    sockets = unix_sockets([st.pid, st.weed_pid])
    assert any(p.startswith("/tmp/seaweedfs-") for p in sockets), sockets
    assert set(run_as(outsider, unix_knock_all, sockets).values()) == {"PermissionError"}
    for path, answer in unix_knock_all(sockets).items():
        if path != st.socket:  # the keeper's: answers its owner's commands, not gRPC
            assert answer != "h2-settings", path
    # With the store's client certificate the same probes get answers on every port but S3's
    # (which speaks plain HTTP to anyone and decides by S3 signature): the probes see open ports.
    for port in ports:
        if port == st.ports["s3"]:
            continue
        with_cert = portprobe.knock(port, cert)
        assert with_cert["tls_h2"] == "h2-settings" or isinstance(with_cert["tls_http"], int), (
            port,
            with_cert,
        )


def test_the_probes_see_an_unprotected_grpc_port():
    """What the store looked like before: JWT keys only. The h2c probe finds its gRPC ports
    open, so a pass of the test above is not the probe being blind."""
    admin = [{"name": "a", "credentials": [{"accessKey": "K", "secretKey": "S"}], "actions": []}]
    with weed_process(admin, "b") as (_url, ports):
        assert portprobe.h2c(ports["master_grpc"]) == "h2-settings"
        assert portprobe.h2c(ports["filer_grpc"]) == "h2-settings"


def weed_shell(weed: str, ports: dict, folder: str, timeout: float = 5) -> str:
    """``weed shell`` listing the buckets, run in ``folder`` (weed reads security.toml there).
    Refused, it retries the master for ever: what it printed by ``timeout`` is the answer."""
    try:
        out = subprocess.run(
            [
                weed,
                "shell",
                f"-master=127.0.0.1:{ports['master']}.{ports['master_grpc']}",
                f"-filer=127.0.0.1:{ports['filer']}.{ports['filer_grpc']}",
            ],
            input="fs.ls /buckets\n",
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=folder,
            env={"PATH": "/usr/bin:/bin", "HOME": folder},
        )
        return out.stdout
    except subprocess.TimeoutExpired as e:
        return e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")


def test_weed_shell_lists_nothing_without_the_certificates(store, outsider, weed_for_anyone):
    st, _ports, (cert, key) = store
    empty = tempfile.mkdtemp(prefix="du-shell-")
    os.chmod(empty, 0o777)
    try:
        assert st.bucket not in run_as(outsider, weed_shell, weed_for_anyone, st.ports, empty)
        assert st.bucket not in weed_shell(weed_for_anyone, st.ports, empty)
        # the owner's own tools with the store's client certificate do see the buckets
        ca = str(Path(cert).with_name("ca.crt"))
        Path(empty, "security.toml").write_text(
            f'[grpc]\nca = "{ca}"\n[grpc.client]\ncert = "{cert}"\nkey = "{key}"\n'
        )
        assert st.bucket in weed_shell(weed_for_anyone, st.ports, empty, timeout=60).split()
    finally:
        shutil.rmtree(empty, ignore_errors=True)


def master_admin(port: int) -> dict:
    paths = ["/dir/assign", "/col/delete?collection=images", "/vol/status", "/cluster/status"]
    paths += ["/vol/grow?count=1", "/dir/lookup?volumeId=1"]
    return {p: {"http": portprobe.http(port, p), "tls": portprobe.tls_http(port, p)} for p in paths}


def test_master_http_refuses_assign_and_collection_delete(store, outsider):
    st, _ports, cert = store
    master = st.ports["master"]
    for who, results in (
        ("another user", run_as(outsider, master_admin, master)),
        ("the owner without certificates", master_admin(master)),
    ):
        for path, r in results.items():
            assert r["tls"] == "tls-refused", (who, path, r)
            assert not (isinstance(r["http"], int) and r["http"] < 400), (who, path, r)
    # the same request with the certificate reaches the master (so the refusals above are real)
    assert portprobe.tls_http(master, "/cluster/status", cert) == 200


def anonymous_s3(port: int, bucket: str, key: str, upload: tuple[str, str]) -> dict:
    up_key, upload_id = upload
    obj = f"/{bucket}/{key}"
    tries = {
        "get object": ("GET", obj),
        "head object": ("HEAD", obj),
        "list buckets": ("GET", "/"),
        "list objects": ("GET", f"/{bucket}"),
        "list objects v2": ("GET", f"/{bucket}?list-type=2"),
        "list uploads": ("GET", f"/{bucket}?uploads"),
        "list parts": ("GET", f"/{bucket}/{up_key}?uploadId={upload_id}"),
        "put object": ("PUT", f"/{bucket}/evil.html"),
        "delete object": ("DELETE", obj),
        "start upload": ("POST", f"/{bucket}/evil2.html?uploads"),
        "abort upload": ("DELETE", f"/{bucket}/{up_key}?uploadId={upload_id}"),
        "read policy": ("GET", f"/{bucket}?policy"),
        "write policy": ("PUT", f"/{bucket}?policy"),
        "read acl": ("GET", f"{obj}?acl"),
        "create bucket": ("PUT", "/anon-bucket"),
        "iam/sts": ("POST", "/?Action=ListUsers"),
    }
    return {name: portprobe.http(port, path, method) for name, (method, path) in tries.items()}


def test_anonymous_s3_may_get_public_objects_and_nothing_else(store, store_target, outsider):
    st, _ports, _cert = store
    _status, keys = store_target
    client = store_client(store_target)
    key = f"sec/{os.urandom(4).hex()}.txt"
    client.put_object(Bucket=st.bucket, Key=key, Body=b"public bytes")
    up_key = f"sec/{os.urandom(4).hex()}-upload.bin"
    upload_id = client.create_multipart_upload(Bucket=st.bucket, Key=up_key)["UploadId"]
    try:
        for who, r in (
            (
                "another user",
                run_as(outsider, anonymous_s3, st.ports["s3"], st.bucket, key, (up_key, upload_id)),
            ),
            ("the owner", anonymous_s3(st.ports["s3"], st.bucket, key, (up_key, upload_id))),
        ):
            assert r.pop("get object") == 200, who
            assert r.pop("head object") == 200, who
            refused = {name: code for name, code in r.items() if code in (401, 403, 405)}
            assert refused == r, f"{who}: not refused: {set(r) - set(refused)} ({r})"
        # nothing changed: the object is there, the upload too, nothing new appeared
        assert client.get_object(Bucket=st.bucket, Key=key)["Body"].read() == b"public bytes"
        parts = client.list_parts(Bucket=st.bucket, Key=up_key, UploadId=upload_id)
        assert parts["UploadId"] == upload_id
        listed = client.list_objects_v2(Bucket=st.bucket, Prefix="evil")
        assert not listed.get("Contents")
    finally:
        client.abort_multipart_upload(Bucket=st.bucket, Key=up_key, UploadId=upload_id)
    assert keys.secret_access_key  # the owner's keys are what made the writes above


def read_private(paths: list[str]) -> dict:
    out = {}
    for p in paths:
        try:
            with open(p, "rb") as f:
                out[p] = f"read {len(f.read())} bytes"
        except OSError as e:
            out[p] = type(e).__name__
    return out


def test_keys_certificates_and_keeper_socket_are_the_owners_only(store, outsider):
    st, _ports, _cert = store
    runtime = Path(st.runtime_dir)
    assert runtime.stat().st_mode & 0o777 == 0o700
    names = sorted(p.name for p in runtime.iterdir())
    # security.toml (JWT keys) and s3.json (S3 keys) are gone once weed has read them
    assert "security.toml" not in names and "s3.json" not in names, names
    for f in runtime.iterdir():
        if f.is_file():
            assert f.stat().st_mode & 0o777 == 0o600, f
    # no file holds the CA's private key: only the two leaf keys are there
    keys = [f for f in runtime.iterdir() if f.is_file() and b"PRIVATE KEY" in f.read_bytes()]
    assert sorted(k.name for k in keys) == ["client.key", "server.key"]
    targets = [str(runtime / n) for n in ("client.key", "server.key", "ca.crt")]
    got = run_as(outsider, read_private, targets)
    assert all(v == "PermissionError" for v in got.values()), got

    def ask_keeper(address: str) -> str:
        # a unix socket in the 0700 runtime folder, or (portable) loopback TCP whose token
        # file is there: either way another user is stopped by the folder's permissions
        from desktop_uploader.platform import ipc

        try:
            return ipc.request(address, b"keys", timeout=3).decode() or "nothing"
        except OSError as e:
            return type(e).__name__

    assert run_as(outsider, ask_keeper, st.socket) == "PermissionError"
    assert "secret_access_key" in ask_keeper(st.socket)  # the owner gets them
