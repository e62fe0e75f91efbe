"""GUI test fixtures: the real main window on the real engine and the session's SeaweedFS."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest
import shiboken6
from imagegen import jpeg_bytes, scene
from PySide6.QtCore import QCoreApplication, QEvent


@pytest.fixture(autouse=True)
def no_qt_objects_left_to_the_cyclic_gc(qapp):
    """Fails a test that leaves a Python-owned Qt object in cyclic garbage: the collector would
    run its C++ destructor on whatever thread collects next, and PySide segfaults when that is a
    worker thread (issue 18). During the test, collection is off, as in the app (collector.py)."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # what Qt deletes
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        hazards = sorted(
            {
                type(o).__name__
                for o in gc.garbage
                if isinstance(o, shiboken6.Object)
                and shiboken6.isValid(o)
                and shiboken6.ownedByPython(o)
            }
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()  # free them now, on this (the GUI) thread
        if was_enabled:
            gc.enable()
    assert not hazards, f"Python-owned Qt objects left in reference cycles: {hazards}"


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
    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.main_window import MainWindow

    w = MainWindow(DesktopApp(app), tray=False)
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
