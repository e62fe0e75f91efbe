"""Helpers shared by the test modules (import them from here, not from conftest: pytest loads
each folder's conftest.py under the same module name)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from desktop_uploader.paths import HOME_ENV

ROOT = Path(__file__).resolve().parent.parent


def exif_tags(exiftool: str, path: Path) -> dict[str, str]:
    """All tags exiftool finds, as {"Group:Tag": value}, excluding file-system facts."""
    out = subprocess.run(
        [exiftool, "-a", "-G1", "-s", "-u", "-j", "-b", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import json

    tags = json.loads(out)[0]
    return {
        k: v
        for k, v in tags.items()
        if not k.startswith(("System:", "ExifTool:", "File:", "Composite:", "SourceFile"))
        and k != "SourceFile"
    }


def run_cli(
    *args: str, env_home: Path, check: bool = False, timeout: float = 120, cwd: Path = ROOT
):
    """Run the real CLI in a subprocess, as a user would (in ``cwd``)."""
    env = dict(os.environ)
    env[HOME_ENV] = str(env_home)
    return subprocess.run(
        [sys.executable, "-m", "desktop_uploader", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=check,
        cwd=cwd,
    )


def store_target_for(store_target, keys=None, **settings):
    """A Target for the test store's bucket (seaweedfs profile); ``settings``: Destination
    fields such as ``part_concurrency``."""
    from desktop_uploader.config import Destination
    from desktop_uploader.pipeline.upload import Target

    status, real = store_target
    dest = Destination(
        "t", endpoint=status.s3_endpoint, bucket=status.bucket, provider="seaweedfs", **settings
    )
    return Target(dest, status.s3_endpoint, status.bucket, "", keys or real)


def store_uploader(store_target, journal=None, keys=None, **settings):
    """An Uploader straight to the test store's bucket, no App around it."""
    from desktop_uploader.pipeline.upload import Uploader

    return Uploader(store_target_for(store_target, keys, **settings), journal=journal)


def store_client(store_target):
    """A plain boto3 client for the test store, to look at what an upload left there."""
    from desktop_uploader.pipeline.upload import make_client

    return make_client(store_target_for(store_target))


def cloud_home(tmp_path: Path, local_store, monkeypatch, settings: str = "") -> tuple[Path, str]:
    """A fresh app home for CLI runs whose default destination "cloud" is the test store
    under its own prefix (keys through the environment, as a script would pass them);
    ``settings``: more lines for that destination. Returns (home, prefix)."""
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    st, keys = local_store.status(), local_store.keys()
    prefix = f"c{os.urandom(4).hex()}"
    (home / "config" / "settings.toml").write_text(
        f'default_profile = "cloud"\n[destinations.cloud]\nendpoint = "{st.s3_endpoint}"\n'
        f'bucket = "{st.bucket}"\nprovider = "minio"\nprefix = "{prefix}"\n'
        f'public_base_url = "{st.public_base_url}"\n{settings}'
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys.secret_access_key)
    return home, prefix


def plain(reason: str) -> bool:
    """A reason in words for people: no Python exception's name in it (that goes to the log)."""
    return re.search(r"[A-Za-z]*(Error|Exception|Warning)\b", reason) is None
