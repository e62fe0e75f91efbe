"""Python's cyclic garbage collection, run only on the GUI thread.

Automatic collection runs on whichever thread crosses the allocation threshold: with a busy
engine that is a worker thread about nine times in ten (measured: 38 of 40 bridges were freed on
``du-gui-task_*`` threads). A Python-owned Qt object freed there has its C++ destructor run off
the GUI thread, and PySide crashes if the GUI thread touches it at the same moment (DESIGN.md,
"Hard-won facts, round 2"). Qt parents and weak methods remove the cycles we know of; this is
the net under them: automatic collection is switched off, and a GUI-thread timer collects the
generations that are due, as the automatic collector would, a few times a second.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 200  # how late garbage may be collected; checking costs microseconds


class GuiThreadCollector(QObject):
    """Installs itself on construction; ``stop()`` gives collection back to Python."""

    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self.collections = [0, 0, 0]  # per generation, for benches and tests
        self.longest_ms = 0.0
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start()

    def collect_due(self) -> int | None:
        """Collect the oldest generation whose allocation count passed its threshold (the
        automatic collector's rule); returns it, or None when nothing was due."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        due = None
        for generation in range(3):
            if thresholds[generation] and counts[generation] >= thresholds[generation]:
                due = generation
        if due is None:
            return None
        started = time.perf_counter()
        gc.collect(due)
        self.longest_ms = max(self.longest_ms, (time.perf_counter() - started) * 1000)
        self.collections[due] += 1
        return due

    def freeze_startup(self) -> None:
        """Move everything alive now (modules, the window, warm caches) out of the collector's
        sight (``gc.freeze``), so a full collection later walks only what came after: the
        longest collection, and with it the longest pause of the window, gets shorter."""
        gc.collect()
        gc.freeze()

    def stop(self) -> None:
        """Collect once more here, then let Python collect automatically again."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
