"""GUI test fixtures: the real main window on the real engine and the session's SeaweedFS."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from imagegen import jpeg_bytes, scene


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Every thread a GUI test starts (engine pools, GUI workers) is gone after it."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before]
    for t in leaked:
        t.join(10)  # a pool thread may be between its last task and exiting
    alive = [t.name for t in leaked if t.is_alive()]
    assert not alive, f"threads leaked by this test: {alive}"


@pytest.fixture(autouse=True)
def xdg_config(tmp_path, monkeypatch) -> Path:
    """Start-at-login files go to a temp folder, never the real ~/.config."""
    d = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(d))
    return d


@pytest.fixture
def window(app, qtbot):
    """The real main window (no tray, so notifications use the in-window toast)."""
    from desktop_uploader.gui.main_window import MainWindow

    w = MainWindow(app, tray=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()


@pytest.fixture
def images(tmp_path) -> list[Path]:
    """Three small distinct JPEGs."""
    folder = tmp_path / "pictures"
    folder.mkdir()
    out = []
    for i in range(3):
        p = folder / f"photo-{i}.jpg"
        p.write_bytes(jpeg_bytes(scene(160, 120, seed=100 + i)))
        out.append(p)
    return out
