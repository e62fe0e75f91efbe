"""The embedded SeaweedFS store: lifecycle, public bucket, and no unauthenticated back doors."""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support import run_cli, store_uploader

from desktop_uploader.pipeline.upload import Target, make_client


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of the TCP sockets ``pid`` listens on (psutil: any OS)."""
    import psutil

    return {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.Process(pid).net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN
    }


def http_get(url: str, context: ssl.SSLContext | None = None) -> tuple[int | str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError as e:
        return type(e).__name__, b""


def test_status_json_has_the_promised_fields(local_store, store_home):
    res = run_cli("local-store", "status", "--json", env_home=store_home)
    assert res.returncode == 0, res.stderr
    st = json.loads(res.stdout)
    for field in ("running", "pid", "s3_endpoint", "bucket", "public_base_url"):
        assert field in st
    assert st["running"] is True
    assert st["s3_endpoint"].startswith("http://127.0.0.1:")
    assert st["public_base_url"] == f"{st['s3_endpoint']}/{st['bucket']}"


def test_store_listens_only_on_loopback_and_known_ports(local_store):
    st = local_store.status()
    addresses = listening_addresses(st.weed_pid)
    ports = {port for _ip, port in addresses}
    assert ports, "weed listens on nothing?"
    assert ports <= set(st.ports.values()), f"unexpected ports: {ports - set(st.ports.values())}"
    # and only on 127.0.0.1
    assert {ip for ip, _port in addresses} == {"127.0.0.1"}, addresses


def test_private_objects_unreadable_without_credentials_on_every_port(local_store, store_target):
    status, keys = store_target
    from desktop_uploader.config import Destination

    dest = Destination("x", endpoint=status.s3_endpoint, provider="seaweedfs")
    client = make_client(Target(dest, status.s3_endpoint, "private-test", "", keys))
    client.create_bucket(Bucket="private-test")
    secret = b"TOP-SECRET-PAYLOAD-" + os.urandom(8).hex().encode()
    client.put_object(Bucket="private-test", Key="dir/secret.txt", Body=secret)
    # The owner can read it...
    assert client.get_object(Bucket="private-test", Key="dir/secret.txt")["Body"].read() == secret
    # ...and anonymous can read the public bucket (that is the point of it)...
    client.put_object(Bucket=status.bucket, Key="pub/hello.txt", Body=b"hello")
    assert http_get(f"{status.public_base_url}/pub/hello.txt") == (200, b"hello")
    # ...but nobody without credentials reads the private object, on any port weed opened.
    paths = [
        "/private-test/dir/secret.txt",
        "/buckets/private-test/dir/secret.txt",
        "/buckets/private-test/dir/",
        "/buckets/",
        "/dir/secret.txt",
        "/",
    ]
    for port in sorted({port for _ip, port in listening_addresses(status.weed_pid)}):
        for path in paths:
            code, body = http_get(f"http://127.0.0.1:{port}{path}")
            assert secret not in body, f"port {port} path {path} leaked the object"
            if "secret.txt" not in path:  # an error may echo the name it was asked for
                assert b"secret.txt" not in body, f"port {port} path {path} lists private names"
            if path == "/private-test/dir/secret.txt" and port == status.ports["s3"]:
                assert code == 403
            if port in (status.ports["filer"], status.ports["volume"]):
                assert code == 400, (port, path, code)  # "HTTP request to an HTTPS server"
    # Even with the store's client certificate, the filer and volume servers want a signed
    # (JWT) request: a second lock behind the first.
    runtime = Path(local_store.status().runtime_dir)
    ctx = ssl.create_default_context(cafile=str(runtime / "ca.crt"))
    ctx.check_hostname = False
    ctx.load_cert_chain(runtime / "client.crt", runtime / "client.key")
    for port in (status.ports["filer"], status.ports["volume"]):
        for path in paths:
            code, body = http_get(f"https://127.0.0.1:{port}{path}", ctx)
            assert secret not in body, f"port {port} path {path} leaked the object"
            assert code in (401, 403, 404), (port, path, code)


def test_no_secret_is_written_under_home(local_store, store_home, store_target):
    _status, keys = store_target
    needles = [keys.secret_access_key.encode()]
    for f in store_home.rglob("*"):
        if f.is_file() and not f.is_symlink():
            data = f.read_bytes()
            for n in needles:
                assert n not in data, f"secret found in {f}"


def test_keeper_socket_serves_keys_that_work(local_store, store_target):
    up = store_uploader(store_target)
    assert up.head("does/not/exist") is None


def test_restart_keeps_ports_and_data(tmp_path, memory_keyring):
    """A second, private store: stop and start again; links (ports) and objects survive."""
    from desktop_uploader.app import App
    from desktop_uploader.paths import AppPaths

    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "k").ensure()
    app = App(paths)
    store = app.local_store
    first = store.start()
    try:
        up = app.uploader("local")
        up.client.put_object(Bucket=first.bucket, Key="keep/me.txt", Body=b"still here")
        assert store.stop() is True
        assert store.status().running is False
        assert store.stop() is False
        second = store.start()
        assert second.s3_endpoint == first.s3_endpoint
        assert second.pid != first.pid
        assert http_get(f"{second.public_base_url}/keep/me.txt") == (200, b"still here")
        # keys live in the keyring across restarts
        assert memory_keyring.get_password("desktop-uploader", "local")
    finally:
        store.stop()
    assert not store.status().running


@pytest.mark.parametrize("action", ["start"])
def test_start_is_idempotent(local_store, store_home, action):
    before = local_store.status()
    res = run_cli("local-store", action, "--json", env_home=store_home)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["pid"] == before.pid
