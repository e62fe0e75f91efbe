"""A bare SeaweedFS server with custom S3 identities, for tests that need keys the embedded
store does not hand out (read-only, bucket-scoped). Same flags as the product's store; JWT keys
only, no TLS (``test_store_security`` uses it to show what an unprotected gRPC port looks like)."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from desktop_uploader.localstore import find_weed, pick_ports
from desktop_uploader.storekeeper import weed_args
from desktop_uploader.storetls import security_toml


@contextmanager
def weed_process(identities: list[dict], buckets: str):
    """Start ``weed mini`` with these identities and pre-created buckets; yield the S3 URL and
    the ports."""
    with tempfile.TemporaryDirectory(prefix="du-weed-") as tmp:
        d = Path(tmp)
        (d / "s3.json").write_text(json.dumps({"identities": identities}))
        (d / "security.toml").write_text(security_toml())
        ports = pick_ports({})
        cfg = {
            "data_dir": str(d / "data"),
            "bucket": buckets,
            "ports": ports,
            "volume_size_limit_mb": 64,
            "runtime_dir": str(d),
        }
        proc = subprocess.Popen(
            weed_args(find_weed(), cfg, d / "s3.json"),
            cwd=d,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{ports['s3']}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(url, timeout=1).close()
                    break
                except urllib.error.HTTPError:
                    break  # it answers (403 for anonymous): up
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("weed did not start") from None
                    time.sleep(0.1)
            time.sleep(0.5)  # buckets are created right after S3 starts listening
            yield url, ports
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def weed_server(identities: list[dict], buckets: str):
    """Like ``weed_process``, yielding only the S3 URL."""
    with weed_process(identities, buckets) as (url, _ports):
        yield url
