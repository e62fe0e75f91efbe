"""A duplicate is only a duplicate if the object can really be read.

The store loses an object's data while its metadata stays (here: the bucket's collection is
deleted on the master, which the store's owner can still do with its client certificate). A
HEAD still answers 200; a read fails. Re-uploading must store the file again instead of
reporting "duplicate" with a dead link, and ``history --check`` / ``doctor`` name the dead ones.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from imagegen import jpeg_bytes, scene
from support import run_cli

from desktop_uploader.app import App
from desktop_uploader.paths import AppPaths


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def delete_collection(status, collection: str) -> None:
    """What /col/delete does to a store: the owner's certificate is needed to ask for it."""
    runtime = Path(status.runtime_dir)
    ctx = ssl.create_default_context(cafile=str(runtime / "ca.crt"))
    ctx.check_hostname = False
    ctx.load_cert_chain(runtime / "client.crt", runtime / "client.key")
    url = f"https://127.0.0.1:{status.ports['master']}/col/delete?collection={collection}"
    with urllib.request.urlopen(url, timeout=10, context=ctx) as r:
        assert r.status in (200, 204), r.status


def test_lost_objects_are_uploaded_again_and_reported_as_dead_links(tmp_path):
    home = tmp_path / "home"
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(2):
        (folder / f"d{i}.jpg").write_bytes(jpeg_bytes(scene(200, 150, seed=40 + i)))
    paths = AppPaths(home / "config", home / "data", home / "cache").ensure()
    app = App(paths)
    store = app.local_store
    upload = ("upload", "--json", "--malware-scan", "off", "--content-check", "off", str(folder))
    try:
        res = run_cli(*upload, env_home=home)
        assert res.returncode == 0, res.stderr
        first = [json.loads(line) for line in res.stdout.splitlines()]
        assert [r["status"] for r in first] == ["done", "done"]
        res = run_cli("history", "--check", env_home=home)
        assert res.returncode == 0 and "All 2 link(s) open." in res.stdout, res.stdout
        status = store.status()
        delete_collection(status, status.bucket)
        # (the first reads after the deletion may take seconds to fail: weed looks the volume
        # up again before it gives up)
        assert all(get(r["url"]) >= 500 for r in first), "the data was meant to be gone"
        up = app.uploader("local")
        assert up.head(first[0]["key"]) is not None  # metadata survives: HEAD says "exists"
        assert not up.readable(first[0]["key"], first[0]["bytes"])
        up.close()

        res = run_cli("history", "--check", "--json", env_home=home)
        assert res.returncode == 1, res.stderr
        rows = [json.loads(line) for line in res.stdout.splitlines()]
        assert {r["link_ok"] for r in rows} == {False}
        assert all("link" in r["link_problem"] for r in rows), rows
        res = run_cli("history", "--check", env_home=home)
        assert res.returncode == 1 and res.stdout.count("dead  ") == 2, res.stdout
        res = run_cli("doctor", "--profile", "local", "--json", env_home=home)
        links = [f for f in map(json.loads, res.stdout.splitlines()) if f["check"] == "links"]
        assert links and links[0]["ok"] is False and "2 of 2" in links[0]["message"], links
        assert res.returncode == 1

        res = run_cli(*upload, env_home=home)  # same files again: stored anew, not duplicates
        assert res.returncode == 0, res.stderr
        again = [json.loads(line) for line in res.stdout.splitlines()]
        assert [r["status"] for r in again] == ["done", "done"], again
        assert all(get(r["url"]) == 200 for r in again)
        res = run_cli("doctor", "--profile", "local", "--deep", "--json", env_home=home)
        links = [f for f in map(json.loads, res.stdout.splitlines()) if f["check"] == "links"]
        # the older entries' links are the same URLs (content-addressed keys): open again
        assert links[0]["ok"] is True, links
    finally:
        app.close()
        store.stop()
