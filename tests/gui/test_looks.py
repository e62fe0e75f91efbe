"""Keyboard shortcuts, accessible names, and following the system palette (light/dark)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QKeySequence, QPalette
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QLineEdit

from desktop_uploader.gui import icons


def test_shortcuts(window):
    assert window.add_files.shortcut().matches(QKeySequence(QKeySequence.StandardKey.Open))
    assert window.paste.shortcut().matches(QKeySequence(QKeySequence.StandardKey.Paste))
    assert window.pause_all.shortcut() == QKeySequence("Ctrl+P")
    assert not window.settings_action.shortcut().isEmpty()


def test_every_control_has_an_accessible_name(window):
    dialog = window.open_settings()
    unnamed, checked = [], 0
    for root in (window, dialog):
        for w in (
            root.findChildren(QAbstractButton)
            + root.findChildren(QComboBox)
            + root.findChildren(QLineEdit)
        ):
            if w.parent() is not None and type(w.parent()).__name__ == "QComboBox":
                continue  # a combo box's internal line edit
            checked += 1
            label = w.accessibleName() or (w.text() if hasattr(w, "text") else "")
            if not label.strip() and w.isVisibleTo(root):
                unnamed.append(f"{type(w).__name__} {w.objectName()!r}")
    dialog.reject()
    assert checked > 40  # the window's and every settings page's controls
    assert not unnamed, unnamed


def test_icons_follow_a_dark_palette(window, qtbot):
    app = QApplication.instance()
    before = app.palette()
    dark = QPalette(before)
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#e8eaed"))
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: ("pause", "#e8eaed") in icons._cache)
    finally:
        app.setPalette(before)
