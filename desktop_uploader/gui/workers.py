"""Run blocking calls (network, disk, SQLite scans) off the GUI thread; results come back as
callbacks in the GUI thread. Picard's ``run_task`` on bounded pools, in a few lines."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)
Callback = Callable[[Any, BaseException | None], None]


class TaskRunner(QObject):
    """A bounded pool whose callbacks run in the GUI thread as ``callback(result, error)``."""

    _finished = Signal(object, object, object)

    def __init__(self, workers: int, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self._closed = False
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def run(self, fn: Callable[..., Any], *args: Any, callback: Callback | None = None) -> None:
        """Call ``fn(*args)`` on the pool; then ``callback(result, error)`` in the GUI thread."""
        if self._closed:
            return
        future = self._pool.submit(fn, *args)
        future.add_done_callback(lambda f: self._post(f, callback))

    def _post(self, future: Future, callback: Callback | None) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None and callback is None:
            log.error("background task failed", exc_info=error)
        if callback is None or self._closed:
            return
        self._finished.emit(callback, None if error else future.result(), error)

    @Slot(object, object, object)
    def _deliver(self, callback: Callback, result: Any, error: BaseException | None) -> None:
        if not self._closed:
            callback(result, error)

    def close(self) -> None:
        """Drop queued work, wait for running calls; later callbacks are not delivered."""
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
