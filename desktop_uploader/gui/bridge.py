"""The Qt bridge: engine events (from worker threads) become one signal in the GUI thread.

Events are queued under a lock and delivered in batches, so a burst of progress events costs the
GUI thread one slot call, not hundreds. Engine threads never call Qt (see ``waker``).

Ownership: both classes here take a Qt parent (the window, the application), so their C++ side is
deleted with that parent on the GUI thread. They hold nothing that points back at themselves
(the engine gets a weak callback, the waker a weak method), so no reference cycle can hand them
to the cyclic GC on a worker thread.
"""

from __future__ import annotations

import threading
from collections import deque

from PySide6.QtCore import QObject, Signal

from desktop_uploader.events import Event
from desktop_uploader.gui.waker import Waker, weak_callable


def weak_subscriber(method):
    """A plain function that calls ``method`` while its object lives (engine subscribers hold
    it; a bound method there would keep the bridge alive, and cyclic, after the window)."""
    get = weak_callable(method)

    def deliver(event: Event) -> None:
        fn = get()
        if fn is not None:
            fn(event)

    return deliver


class EngineBridge(QObject):
    """Subscribes to an engine; ``events`` carries ``list[Event]`` in the GUI thread."""

    events = Signal(list)

    def __init__(self, engine, parent: QObject) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: deque[Event] = deque()
        self._closed = False
        self._waker = Waker(self._drain, self)
        self._unsubscribe = engine.subscribe(weak_subscriber(self._on_event))

    def _on_event(self, event: Event) -> None:  # called from engine worker threads
        with self._lock:
            if self._closed:
                return
            self._pending.append(event)
        self._waker.wake()

    def _drain(self) -> None:
        with self._lock:
            batch = list(self._pending)
            self._pending.clear()
        if batch:
            self.events.emit(batch)

    def close(self) -> None:
        """Stop listening; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        self._waker.close()


class NoticeRelay(QObject):
    """Plain-language notices from the core (any thread) as a GUI-thread signal."""

    message = Signal(str)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: deque[str] = deque()
        self._waker = Waker(self._drain, self)

    def post(self, text: str) -> None:
        with self._lock:
            self._pending.append(text)
        self._waker.wake()

    def _drain(self) -> None:
        with self._lock:
            texts = list(self._pending)
            self._pending.clear()
        for text in texts:
            self.message.emit(text)
