"""Shared fixtures: isolated app homes, an in-memory keyring, one real SeaweedFS per session."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# Before anything imports Qt: no display is needed (or wanted) in tests.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
# Child processes (CLI runs, the store keeper) must never reach the real keyring either.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

import keyring  # noqa: E402
import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from memkeyring import MemoryKeyring  # noqa: E402

from desktop_uploader.app import App  # noqa: E402
from desktop_uploader.config import Destination  # noqa: E402
from desktop_uploader.credentials import S3Keys  # noqa: E402
from desktop_uploader.paths import HOME_ENV, AppPaths  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch):
    """Every test gets a fresh in-memory keyring."""
    kr = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh DESKTOP_UPLOADER_HOME for this test."""
    h = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV, str(h))
    return h


@pytest.fixture(scope="session")
def store_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("store-home")


@pytest.fixture(scope="session")
def local_store(store_home):
    """The embedded store, started once by the product's own code, stopped by PID at the end."""
    paths = AppPaths(store_home / "config", store_home / "data", store_home / "cache").ensure()
    app = App(paths)
    app.settings.local_store.volume_size_limit_mb = 64
    status = app.local_store.start()
    assert status.running, "the local store did not start"
    yield app.local_store
    app.local_store.stop()
    from desktop_uploader.localstore import pid_alive

    assert not pid_alive(status.pid) and not pid_alive(status.weed_pid), "store left running"
    app.close()


@pytest.fixture
def store_target(local_store):
    """Endpoint, bucket, public URL and keys of the running test store."""
    st = local_store.status()
    return st, local_store.keys()


@pytest.fixture
def app(home, store_target, memory_keyring):
    """An App with its own home whose default destination is the session's store, configured
    as a plain S3-compatible destination with keys in the (in-memory) keyring."""
    status, keys = store_target
    a = App(AppPaths.from_env())
    a.settings.destinations["test"] = Destination(
        "test",
        endpoint=status.s3_endpoint,
        bucket=status.bucket,
        prefix=f"t{os.urandom(4).hex()}",  # each test its own key space in the shared bucket
        public_base_url=status.public_base_url,
        provider="seaweedfs",
        # no scan, no content model: tests of the checks (test_scan, test_content,
        # test_hostile*) turn them on; the rest stay fast and focused
        malware_scan="off",
        content_check="off",
    )
    a.settings.default_profile = "test"
    a.credentials.set("test", S3Keys(keys.access_key_id, keys.secret_access_key))
    yield a
    a.close()


@pytest.fixture(scope="session")
def clamd_socket(tmp_path_factory) -> str:
    """A real clamd on the project's test signatures (tests/signatures), started by the
    product's own launcher once per session and stopped by PID at the end."""
    from desktop_uploader.pipeline.clamd import OwnClamd

    if not shutil.which("clamd") and not Path("/usr/sbin/clamd").exists():
        msg = "clamd missing: `make test` installs clamav clamav-daemon"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    own = OwnClamd(tmp_path_factory.mktemp("clamd"), ROOT / "tests" / "signatures", 64 << 20)
    own.start()
    pid = own.pid
    yield str(own.socket_path)
    own.stop()
    from desktop_uploader.localstore import pid_alive

    assert pid is not None and not pid_alive(pid), "clamd left running"


@pytest.fixture(scope="session")
def exiftool() -> str:
    path = shutil.which("exiftool")
    if not path:
        msg = "exiftool missing: `make test` installs libimage-exiftool-perl"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path
