"""Issue 18's crash pattern, run in a child process by test_ownership.py (a crash there is a
failed test, not a dead test run).

Main windows are built on one real App and torn down again and again while other threads force
Python's cyclic collection, the way engine and GUI workers trigger it when they allocate. Half the
windows close normally; the other half are abandoned in a reference cycle without ``shutdown()``,
as a window is when its constructor raises or an exception's traceback holds it. Every QObject the
window keeps in its attributes reports the thread its C++ destructor ran on: anything destroyed
off the GUI thread is the hazard PySide turns into a segfault, so it is printed and the exit
status is 3. Prints ``survived N`` on success.

    python tests/gui/teardown_probe.py ITERATIONS
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication


def qt_attributes(root: QObject, depth: int = 2) -> list[tuple[str, QObject]]:
    """QObjects held in Python attributes of ``root`` and of those objects (a parentless one
    is invisible to ``findChildren``)."""
    found: list[tuple[str, QObject]] = []
    seen: set[int] = {id(root)}
    level = [("window", root)]
    for _ in range(depth):
        nxt = []
        for path, obj in level:
            for name, value in list(vars(obj).items()):
                if isinstance(value, QObject) and id(value) not in seen:
                    seen.add(id(value))
                    found.append((f"{path}.{name}", value))
                    nxt.append((f"{path}.{name}", value))
        level = nxt
    return found


def main() -> int:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    from desktop_uploader.app import App
    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.main_window import MainWindow

    qt_app = QApplication.instance() or QApplication([sys.argv[0]])
    app = App()
    gc.disable()  # collections happen only where this probe forces them: on other threads
    off_thread: list[str] = []
    stop = threading.Event()

    def collect_in_a_loop() -> None:  # the background pressure of a busy engine
        while not stop.is_set():
            gc.collect()
            time.sleep(0.002)

    def collect_on_a_worker() -> None:
        t = threading.Thread(target=gc.collect, name="forced-gc")
        t.start()
        while t.is_alive():  # keep the GUI thread busy meanwhile, as a live window would be
            qt_app.processEvents()
        t.join()

    background = [threading.Thread(target=collect_in_a_loop, name=f"gc-{i}") for i in range(2)]
    for t in background:
        t.start()
    try:
        for i in range(iterations):
            window = MainWindow(DesktopApp(app), tray=False)
            for path, obj in qt_attributes(window):

                def destroyed(*_args, path=path) -> None:
                    if threading.current_thread() is not threading.main_thread():
                        off_thread.append(f"{path} on {threading.current_thread().name}")

                obj.destroyed.connect(destroyed, Qt.ConnectionType.DirectConnection)
            window.show()
            qt_app.processEvents()
            if i % 2:
                window.close()  # no tray: a real shutdown
            else:
                window.cycle = window  # abandoned: only the cyclic GC can free the wrapper
            window.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            del window
            collect_on_a_worker()
    finally:
        stop.set()
        for t in background:
            t.join()
        app.close()
    if off_thread:
        print("destroyed off the GUI thread:", *sorted(set(off_thread)), sep="\n  ")
        return 3
    print(f"survived {iterations}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())
