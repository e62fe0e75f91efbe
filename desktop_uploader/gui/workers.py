"""Run blocking calls (network, disk, SQLite scans) off the GUI thread; results come back as
callbacks in the GUI thread. Picard's ``run_task`` on bounded pools, in a few lines.

Worker threads never call Qt (see ``waker``): results wait in a locked queue until the GUI
thread is woken to deliver them. Task functions must not call Qt either.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject

from desktop_uploader.gui.waker import Waker

log = logging.getLogger(__name__)
Callback = Callable[[Any, BaseException | None], None]


class TaskRunner(QObject):
    """A bounded pool whose callbacks run in the GUI thread as ``callback(result, error)``."""

    def __init__(self, workers: int, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self._closed = False
        self._lock = threading.Lock()
        self._done: deque[tuple[Callback, Any, BaseException | None]] = deque()
        self._waker = Waker(self._deliver, self)

    def run(self, fn: Callable[..., Any], *args: Any, callback: Callback | None = None) -> None:
        """Call ``fn(*args)`` on the pool; then ``callback(result, error)`` in the GUI thread."""
        if self._closed:
            return
        future = self._pool.submit(fn, *args)
        future.add_done_callback(lambda f: self._post(f, callback))

    def _post(self, future: Future, callback: Callback | None) -> None:  # a worker thread
        if future.cancelled():
            return
        error = future.exception()
        if error is not None and callback is None:
            log.error("background task failed", exc_info=error)
        if callback is None or self._closed:
            return
        with self._lock:
            self._done.append((callback, None if error else future.result(), error))
        self._waker.wake()

    def _deliver(self) -> None:
        with self._lock:
            done = list(self._done)
            self._done.clear()
        failure: Exception | None = None
        for callback, result, error in done:
            if self._closed:
                return
            try:
                callback(result, error)
            except Exception as e:  # deliver the others, then let Qt report the first
                failure = failure or e
        if failure is not None:
            raise failure

    def close(self) -> None:
        """Drop queued work, wait for running calls; later callbacks are not delivered."""
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._waker.close()
        with self._lock:  # undelivered callbacks often close over the window: no cycles left
            self._done.clear()
