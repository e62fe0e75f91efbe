"""Thumbnails for the queue and the history: fetched and decoded (with Pillow, never Qt: see
``waker``) off the GUI thread, cached on disk (by URL) and in memory (a bounded LRU of pixmaps)."""

from __future__ import annotations

import hashlib
import io
import urllib.request
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap

from desktop_uploader.gui.workers import TaskRunner
from desktop_uploader.paths import atomic_write

MAX_THUMBNAIL_BYTES = 4 * 1024 * 1024


class ThumbnailCache(QObject):
    """``get(url)`` answers at once (a pixmap, or None and ``ready(url)`` later)."""

    ready = Signal(str)

    def __init__(
        self,
        runner: TaskRunner,
        cache_dir: Path,
        size: int = 128,
        capacity: int = 600,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._dir = cache_dir
        self._size = size
        self._capacity = capacity
        self._memory: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._failed: set[str] = set()

    def clear(self) -> None:
        """Drop the pixmaps held in memory (when the window closes). The window's Python
        wrappers may outlive it in reference cycles; pixmaps left among them would be freed by
        whichever thread collects next, and Qt allows that only on the GUI thread."""
        self._memory.clear()
        self._pending.clear()

    def get(self, url: str | None) -> QPixmap | None:
        if not url or not url.startswith(("http://", "https://")) or url in self._failed:
            return None
        pixmap = self._memory.get(url)
        if pixmap is not None:
            self._memory.move_to_end(url)
            return pixmap
        if url not in self._pending:
            self._pending.add(url)
            self._runner.run(self._load, url, callback=lambda img, err: self._loaded(url, img, err))
        return None

    def _load(self, url: str) -> tuple[int, int, bytes]:  # worker thread: no Qt here
        from PIL import Image

        path = self._dir / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.img"
        if path.exists():
            data = path.read_bytes()
        else:
            with urllib.request.urlopen(url, timeout=15) as resp:
                data = resp.read(MAX_THUMBNAIL_BYTES + 1)
            if len(data) > MAX_THUMBNAIL_BYTES:
                raise ValueError("thumbnail too large")
            atomic_write(path, data)
        with Image.open(io.BytesIO(data), formats=("WEBP", "JPEG", "PNG")) as im:
            im.draft("RGB", (self._size, self._size))
            im.thumbnail((self._size, self._size))
            rgba = im.convert("RGBA")
        return rgba.width, rgba.height, rgba.tobytes()

    def _loaded(self, url: str, pixels, error: BaseException | None) -> None:
        self._pending.discard(url)
        if error is not None or pixels is None:
            self._failed.add(url)
            return
        width, height, data = pixels
        image = QImage(data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
        # centred in a square, so every item of the gallery has the same icon box
        square = QPixmap(self._size, self._size)
        square.fill(Qt.GlobalColor.transparent)
        painter = QPainter(square)
        painter.drawImage((self._size - width) // 2, (self._size - height) // 2, image)
        painter.end()
        self._memory[url] = square
        while len(self._memory) > self._capacity:
            self._memory.popitem(last=False)
        self.ready.emit(url)
