"""The queue table: the drop zone for files and folders, with a progress bar per job."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
)

from desktop_uploader.gui.queue_model import BUSY_FRACTION, FractionRole, JobIdRole, StageRole

EMPTY_HINT = "Drop images or folders here\nor use Add files… (Ctrl+O) and Paste (Ctrl+V)"


def local_paths(mime) -> list[Path]:
    """Local files and folders named by a drag or the clipboard."""
    if not mime or not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]


class ProgressDelegate(QStyledItemDelegate):
    """Draws the progress column: a native bar with bytes/time left while uploading, a busy bar
    while checking or processing, plain text otherwise (waiting in line, finished)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        fraction = index.data(FractionRole)
        if fraction is None or (fraction < 0 and fraction != BUSY_FRACTION):
            option = QStyleOptionViewItem(option)
            if index.data(StageRole) == "queued":  # waiting: quieter than work in progress
                option.palette.setColor(
                    QPalette.ColorRole.Text,
                    option.palette.color(QPalette.ColorRole.PlaceholderText),
                )
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 4, -3, -4)
        if fraction == BUSY_FRACTION:
            bar.minimum = bar.maximum = bar.progress = 0  # indeterminate
        else:
            bar.minimum, bar.maximum = 0, 1000
            bar.progress = int(fraction * 1000)
        bar.text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        bar.palette = option.palette
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class QueueView(QTableView):
    """Accepts drops on its viewport; Delete cancels the selected jobs."""

    files_dropped = Signal(list)  # list[Path]
    cancel_requested = Signal(list)  # list[int] job ids
    copy_requested = Signal()  # Ctrl+C: the selected rows' links
    menu_requested = Signal(QPoint)  # global position of a right click on a row

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Upload queue")
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setIconSize(QSize(40, 40))
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(46)
        self.setItemDelegateForColumn(2, ProgressDelegate(self))
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a link's end tells them apart
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu_at)
        self._dragging = False

    def _menu_at(self, pos) -> None:
        index = self.indexAt(pos)
        if not index.isValid():
            return
        if not self.selectionModel().isRowSelected(index.row(), QModelIndex()):
            self.selectRow(index.row())  # right-click acts on the row under the mouse
        self.menu_requested.emit(self.viewport().mapToGlobal(pos))

    def setModel(self, model) -> None:  # noqa: N802 - Qt API
        super().setModel(model)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        # fixed widths: ResizeToContents would ask the model for every row on every change
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 240)
        header.resizeSection(1, 170)
        header.resizeSection(2, 230)
        for signal in (model.rowsInserted, model.modelReset, model.rowsRemoved):
            signal.connect(self.viewport().update)

    def selected_job_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        return [self.model().index(r, 0).data(JobIdRole) for r in rows]

    # -- drag and drop (the events arrive at the viewport and are routed here) -------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if local_paths(event.mimeData()):
            self._dragging = True
            self.viewport().update()
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._dragging = False
        self.viewport().update()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self._dragging = False
        self.viewport().update()
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.files_dropped.emit(paths)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Delete and self.selected_job_ids():
            self.cancel_requested.emit(self.selected_job_ids())
            return
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
            return
        super().keyPressEvent(event)

    # -- the empty state doubles as the drop zone's label -----------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        empty = self.model() is None or self.model().rowCount() == 0
        if not (empty or self._dragging):
            return
        painter = QPainter(self.viewport())
        rect: QRect = self.viewport().rect().adjusted(12, 12, -12, -12)
        color = self.palette().color(
            QPalette.ColorRole.Highlight if self._dragging else QPalette.ColorRole.PlaceholderText
        )
        pen = painter.pen()
        pen.setColor(color)
        pen.setWidth(2)
        pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(rect, 10, 10)
        if empty:
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.15)
            painter.setFont(font)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, EMPTY_HINT)
        painter.end()

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.PaletteChange:
            self.viewport().update()
        return super().event(e)
