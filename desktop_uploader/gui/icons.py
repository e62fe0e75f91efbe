"""SVG icons from ``resources/icons``, drawn in the palette's text colour (light and dark)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from desktop_uploader.assets import icons_dir

ICON_DIR: Path = icons_dir()  # inside the frozen bundle too (importlib.resources)
_SIZES = (16, 22, 24, 32, 48, 64, 128)
_cache: dict[tuple[str, str], QIcon] = {}


def _render(svg: bytes, size: int, ratio: float) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(svg))
    px = QPixmap(int(size * ratio), int(size * ratio))
    px.fill(Qt.GlobalColor.transparent)
    painter = QPainter(px)
    renderer.render(painter, QRectF(0, 0, px.width(), px.height()))
    painter.end()
    px.setDevicePixelRatio(ratio)
    return px


def icon(name: str, color: str | None = None) -> QIcon:
    """The icon ``name`` (file stem); ``currentColor`` becomes ``color`` or the text colour."""
    if color is None:
        color = QGuiApplication.palette().color(QPalette.ColorRole.WindowText).name()
    key = (name, color)
    if key in _cache:
        return _cache[key]
    path = ICON_DIR / f"{name}.svg"
    result = QIcon()
    if path.exists():
        svg = path.read_bytes().replace(b"currentColor", color.encode())
        ratio = max(
            1.0,
            QGuiApplication.primaryScreen().devicePixelRatio()
            if QGuiApplication.primaryScreen()
            else 1.0,
        )
        for size in _SIZES:
            result.addPixmap(_render(svg, size, ratio))
    _cache[key] = result
    return result


def forget_cached() -> None:
    """Called when the palette changes (light ↔ dark) so icons are redrawn."""
    _cache.clear()
