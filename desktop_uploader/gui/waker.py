"""Wake the GUI thread from worker threads without calling Qt from them.

PySide6 6.12 corrupts reference counts when Qt is called from several Python threads at once
(``emit``, ``postEvent``, even ``QImage.isNull`` return values are built without the GIL; the
process aborts with ``bool_dealloc``/``none_dealloc``). So worker threads never touch Qt: they
queue their payload under a lock and write one byte to a socket pair; a ``QSocketNotifier`` in
the GUI thread sees the byte and calls the drain function there.

The waker holds its owner's drain method weakly (``weakref.WeakMethod``): owner → waker → bound
method → owner would be a reference cycle, and a Qt object freed by the cyclic GC dies on
whatever thread happens to run the collection (DESIGN.md, "Hard-won facts, round 2").
"""

from __future__ import annotations

import contextlib
import inspect
import socket
import threading
import weakref
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier


def weak_callable(fn: Callable[..., object]) -> Callable[[], Callable[..., object] | None]:
    """A getter for ``fn`` that does not keep a bound method's object alive (plain functions
    are held as they are)."""
    if inspect.ismethod(fn):
        return weakref.WeakMethod(fn)
    return lambda: fn


class Waker(QObject):
    """``wake()`` from any thread makes ``on_wake()`` run soon in the GUI thread (coalesced)."""

    def __init__(self, on_wake: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_wake = weak_callable(on_wake)
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._lock = threading.Lock()
        self._pending = False
        self._closed = False
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._woken)

    def wake(self) -> None:
        """Any thread; cheap, and only the first wake before the GUI thread runs writes."""
        with self._lock:
            if self._pending or self._closed:
                return
            self._pending = True
            with contextlib.suppress(OSError):  # a full buffer already holds a wake-up
                self._write.send(b"\0")

    def _woken(self, *_args) -> None:
        try:
            while self._read.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        with self._lock:
            self._pending = False
            if self._closed:
                return
        on_wake = self._on_wake()
        if on_wake is not None:
            on_wake()

    def close(self) -> None:
        """Stop waking (GUI thread); safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._notifier.setEnabled(False)
        self._read.close()
        self._write.close()
