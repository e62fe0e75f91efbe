"""Qt objects die on the GUI thread, whatever thread Python's cyclic collector runs on (issue 18:
``EngineBridge`` without a Qt parent was freed by the GC on a worker thread and segfaulted)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from pathlib import Path

from PySide6.QtCore import QObject

PROBE = Path(__file__).with_name("teardown_probe.py")
ROOT = Path(__file__).resolve().parents[2]


def test_windows_torn_down_while_other_threads_collect(tmp_path):
    """The crash pattern, many times over, in a child process: a crash or a Qt object destroyed
    off the GUI thread fails it (it fails, segfaulting, when EngineBridge has no parent)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESKTOP_UPLOADER_HOME=str(tmp_path))
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", str(PROBE), "24"],
        capture_output=True,
        text=True,
        env=env,
        timeout=280,
    )
    assert proc.returncode == 0 and "survived 24" in proc.stdout, (
        f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    )


def test_waker_holds_its_owner_weakly(qapp):
    """Owner → waker → bound method → owner would be a cycle only the GC can free."""
    import weakref

    from desktop_uploader.gui.waker import Waker

    class Owner(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.woken = 0
            self.waker = Waker(self.drain, self)

        def drain(self) -> None:
            self.woken += 1

    owner = Owner()
    owner.waker.wake()
    qapp.processEvents()
    assert owner.woken == 1
    gone = weakref.ref(owner)
    owner.waker.close()
    del owner
    assert gone() is None, "freed by reference counting, without the cyclic collector"


def test_bridge_close_ends_the_subscription_and_frees_it(qapp, window):
    """After close() the engine holds nothing of the bridge, and the bridge nothing of itself."""
    import weakref

    from desktop_uploader.gui.bridge import EngineBridge

    engine = window.app.engine
    before = len(engine._subscribers)
    bridge = EngineBridge(engine, window)
    assert len(engine._subscribers) == before + 1
    assert bridge.parent() is window
    bridge.close()
    assert len(engine._subscribers) == before
    ref = weakref.ref(bridge)
    bridge.setParent(None)  # Python owns it now: the last reference must free it, here
    del bridge
    assert ref() is None


def test_collector_collects_on_the_gui_thread_only(qapp, qtbot):
    from desktop_uploader.gui.collector import GuiThreadCollector

    holder = QObject()
    was_enabled = gc.isenabled()
    collector = GuiThreadCollector(holder, interval_ms=10)
    freed_on: list[str] = []
    try:
        assert not gc.isenabled()

        class Node:
            pass

        for _ in range(5000):  # enough cycles to pass the youngest generation's threshold
            a, b = Node(), Node()
            a.other, b.other = b, a
        import weakref

        a, b = Node(), Node()
        a.other, b.other = b, a
        weakref.finalize(a, lambda: freed_on.append(threading.current_thread().name))
        del a, b
        worker = threading.Thread(target=lambda: [object() for _ in range(50_000)])
        worker.start()  # allocating here would have collected here
        worker.join()
        assert not freed_on, "collected automatically, off the GUI thread"
        qtbot.waitUntil(lambda: bool(freed_on), timeout=10_000)
        assert freed_on == [threading.main_thread().name]
        assert sum(collector.collections) >= 1
    finally:
        collector.stop()
        holder.deleteLater()
    assert gc.isenabled() == was_enabled
