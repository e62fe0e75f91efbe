"""The history gallery's view: thumbnails with what, when, how big and where under each, and a
hint instead of a blank area when there is nothing to show."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPalette
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop_uploader.gui.history_model import RowRole

THUMB = 128
CELL = QSize(200, 214)  # thumbnail + three lines of caption
EMPTY_FIRST_RUN = (
    "Nothing uploaded yet",
    "Drop images on the Queue tab: each upload appears here with its link.",
)


class GalleryDelegate(QStyledItemDelegate):
    """Thumbnail (or a warning sign for a file that was not uploaded), then the name, then the
    entry's caption lines in the quieter placeholder colour."""

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return CELL

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        row = index.data(RowRole)
        model = index.model()
        if row is None:
            return
        painter.save()
        style = option.widget.style() if option.widget else None
        rect = option.rect.adjusted(4, 4, -4, -4)
        if style is not None:
            opt = QStyleOptionViewItem(option)
            opt.rect = rect
            opt.text = ""
            opt.icon = QIcon()
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter)
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        uploaded = row["status"] in ("done", "duplicate")
        size = THUMB if uploaded else THUMB // 2
        box = QRect(rect.center().x() - size // 2, rect.top() + 6 + (THUMB - size) // 2, size, size)
        if icon is not None:
            icon.paint(painter, box)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        quiet = (
            option.palette.color(QPalette.ColorRole.HighlightedText)
            if selected
            else option.palette.color(QPalette.ColorRole.PlaceholderText)
        )
        y = rect.top() + THUMB + 12
        metrics = option.fontMetrics
        line = metrics.height()
        text_rect = QRect(rect.left() + 4, y, rect.width() - 8, line)
        name = metrics.elidedText(
            row["display_name"], Qt.TextElideMode.ElideMiddle, text_rect.width()
        )
        painter.setPen(option.palette.color(text_role))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter, name)
        painter.setPen(quiet)
        for caption in model.caption(row):
            text_rect.translate(0, line)
            shown = metrics.elidedText(caption, Qt.TextElideMode.ElideRight, text_rect.width())
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter, shown)
        painter.restore()


class GalleryView(QListView):
    """Icon-mode list with the delegate above and an empty state that says why it is empty."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)  # constant-time layout for 100,000 items
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(CELL)
        self.setSpacing(4)
        self.setItemDelegate(GalleryDelegate(self))
        self.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.empty_text: tuple[str, str] = EMPTY_FIRST_RUN

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        model = self.model()
        if model is None or model.rowCount() or getattr(model, "loading", False):
            return
        title, hint = self.empty_text
        painter = QPainter(self.viewport())
        rect = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        painter.setFont(font)
        top = rect.adjusted(0, 0, 0, -rect.height() // 2)
        painter.drawText(top, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, title)
        font.setBold(False)
        font.setPointSizeF(font.pointSizeF() / 1.3)
        painter.setFont(font)
        bottom = rect.adjusted(0, rect.height() // 2 + 8, 0, 0)
        painter.drawText(
            bottom,
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
            hint,
        )
        painter.end()
