"""Small helpers for driving the real window like a user would."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from desktop_uploader.gui.queue_model import QueueModel

WAIT_MS = 90_000  # an upper bound for waits, not a performance assertion


def drop_files(widget, paths: list[Path]) -> None:
    """Drag ``paths`` from a file manager onto ``widget`` (a view's viewport) and drop them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = widget.rect().center()
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    try:  # Qt 6.12 takes a QPointF (the QPoint form is deprecated there); older Qt a QPoint
        enter = QDragEnterEvent(QPointF(pos), *args)
    except TypeError:
        enter = QDragEnterEvent(QPoint(pos), *args)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the drop zone refused the drag"
    drop = QDropEvent(
        QPointF(pos),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted(), "the drop zone refused the drop"


def stages(model: QueueModel) -> list[str]:
    return [r.stage for r in model.rows()]


def select_rows(view, rows: list[int]) -> None:
    view.clearSelection()
    for r in rows:
        view.selectionModel().select(
            view.model().index(r, 0),
            view.selectionModel().SelectionFlag.Select | view.selectionModel().SelectionFlag.Rows,
        )
