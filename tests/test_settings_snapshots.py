"""Settings snapshots (snapshots.py, desktop.DesktopApp): the desktop app's settings are
read-only, a save swaps in a whole new snapshot, and a worker keeps what it read."""

from __future__ import annotations

import copy
import dataclasses
import threading
import tomllib

import pytest

from desktop_uploader.app import App
from desktop_uploader.config import Destination, Settings, WatchedFolder
from desktop_uploader.credentials import S3Keys
from desktop_uploader.desktop import DesktopApp
from desktop_uploader.paths import AppPaths
from desktop_uploader.snapshots import ReadOnlySettings, draft, freeze


@pytest.fixture
def desk(home):
    app = App(AppPaths.from_env())
    d = DesktopApp(app)
    yield d
    d.close()


def test_editing_a_snapshot_raises_at_every_level():
    s = Settings(watched_folders=[WatchedFolder("/photos")])
    snap = freeze(s)
    assert snap == s and snap.is_snapshot and not s.is_snapshot
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.default_profile = "elsewhere"
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.destinations["local"].bucket = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.limits.max_pixels = 1
    with pytest.raises(ReadOnlySettings):
        snap.destinations["new"] = Destination("new")
    with pytest.raises(ReadOnlySettings):
        snap.presets.pop("default")
    with pytest.raises(ReadOnlySettings):
        snap.watched_folders.append(WatchedFolder("/more"))
    with pytest.raises(ReadOnlySettings):
        snap.destinations["local"].content_labels.clear()
    # freezing copied: the draft it came from is still editable and does not reach it
    s.destinations["local"].bucket = "changed"
    assert snap.destinations["local"].bucket != "changed"


def test_a_snapshot_crosses_to_a_worker_process_read_only():
    """Decoder workers get the limits pickled: every list and dict of a snapshot must survive
    the trip (unpickling a list goes through ``extend``, which a snapshot refuses)."""
    import pickle

    snap = freeze(Settings(watched_folders=[WatchedFolder("/photos")]))
    back = pickle.loads(pickle.dumps(snap))
    assert back == snap and back.is_snapshot
    assert pickle.loads(pickle.dumps(snap.limits)).formats == snap.limits.formats
    with pytest.raises(ReadOnlySettings):
        back.watched_folders.append(WatchedFolder("/more"))
    with pytest.raises(ReadOnlySettings):
        back.destinations["new"] = Destination("new")


def test_a_draft_of_a_snapshot_is_an_ordinary_mutable_copy():
    snap = freeze(Settings())
    d = draft(snap)
    assert d == snap and not d.is_snapshot and type(d.destinations) is dict
    d.destinations["local"].content_labels.append("FACE_FEMALE")
    d.presets["web"] = dataclasses.replace(d.presets["default"], name="web")
    assert "web" not in snap.presets
    assert "FACE_FEMALE" not in snap.destinations["local"].content_labels
    assert copy.deepcopy(snap) == snap and not copy.deepcopy(snap).is_snapshot
    assert dataclasses.asdict(snap) == dataclasses.asdict(draft(snap))  # what save writes


def test_a_worker_keeps_its_snapshot_while_the_window_saves(desk, memory_keyring):
    assert desk.settings.is_snapshot
    took, saved, seen = threading.Event(), threading.Event(), {}

    def worker() -> None:
        settings = desk.settings  # one read per piece of work, as the engine's stages do
        took.set()
        saved.wait(10)
        seen["profile"] = settings.default_profile
        seen["max_pixels"] = settings.limits.max_pixels
        seen["destinations"] = sorted(settings.destinations)

    t = threading.Thread(target=worker)
    t.start()
    took.wait(10)
    before = desk.settings
    new = desk.edit_settings()
    r2 = "https://x.r2.cloudflarestorage.com"
    new.destinations["blog"] = Destination("blog", provider="r2", bucket="b", endpoint=r2)
    new.default_profile = "blog"
    new.limits.max_pixels = 1_000_000
    snapshot = desk.save_settings(new, {"blog": S3Keys("AKID", "secret")})
    saved.set()
    t.join(10)
    assert seen == {"profile": "local", "max_pixels": before.limits.max_pixels,
                    "destinations": ["local"]}  # fmt: skip
    assert desk.settings is snapshot and snapshot.is_snapshot and snapshot.default_profile == "blog"
    assert before.default_profile == "local"  # the old snapshot itself never changed
    new.default_profile = "local"  # the draft saved stays the dialog's: not the one in use
    assert desk.settings.default_profile == "blog"
    on_disk = tomllib.loads(desk.paths.config_file.read_text())
    assert on_disk["default_profile"] == "blog" and desk.stored_keys("blog").access_key_id == "AKID"
    assert desk.engine.limits.max_pixels == 1_000_000  # the next file is checked by the new


def test_a_refused_save_leaves_the_snapshot_in_use(desk):
    before = desk.settings
    bad = desk.edit_settings()
    bad.destinations["local"].malware_scan = "sometimes"
    with pytest.raises(Exception, match="malware_scan"):
        desk.save_settings(bad)
    assert desk.settings is before and not desk.paths.config_file.exists()


def test_connection_view_uses_the_draft_and_shares_the_journal(desk):
    typed = desk.edit_settings()
    typed.destinations["blog"] = Destination("blog", bucket="typed-bucket")
    view = desk.connection_view(typed, {"blog": S3Keys("TYPED", "s")})
    typed.destinations["blog"].bucket = "changed later"
    assert view.settings.destinations["blog"].bucket == "typed-bucket"
    assert view.credentials.get("blog") == S3Keys("TYPED", "s")
    assert view.journal is desk.journal and "blog" not in desk.settings.destinations
