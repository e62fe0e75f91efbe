"""The Qt bridge: engine events (from worker threads) become one signal in the GUI thread.

Events are queued under a lock and delivered in batches, so a burst of progress events costs the
GUI thread one slot call, not hundreds. Nothing here touches widgets.
"""

from __future__ import annotations

import threading
from collections import deque

from PySide6.QtCore import QObject, Qt, Signal, Slot

from desktop_uploader.events import Event


class EngineBridge(QObject):
    """Subscribes to an engine; ``events`` carries ``list[Event]`` in the GUI thread."""

    events = Signal(list)
    _wake = Signal()

    def __init__(self, engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: deque[Event] = deque()
        self._scheduled = False
        self._closed = False
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = engine.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:  # called from engine worker threads
        with self._lock:
            if self._closed:
                return
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        self._wake.emit()

    @Slot()
    def _drain(self) -> None:
        with self._lock:
            batch = list(self._pending)
            self._pending.clear()
            self._scheduled = False
        if batch:
            self.events.emit(batch)

    def close(self) -> None:
        """Stop listening; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._unsubscribe()


class NoticeRelay(QObject):
    """Plain-language notices from the core (any thread) as a GUI-thread signal."""

    message = Signal(str)

    def post(self, text: str) -> None:
        self.message.emit(text)
