"""The main window's toolbar: add files, add a folder, paste, pause, the destination and preset
boxes, settings. The window connects the actions; the toolbar only builds and refreshes them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QToolBar, QWidget

from desktop_uploader.config import Settings
from desktop_uploader.gui.icons import icon


class MainToolbar(QToolBar):
    """The actions live on ``window`` too (``addAction``), so their shortcuts work from
    anywhere in it."""

    def __init__(self, window: QWidget) -> None:
        super().__init__("Main", window)
        self.setObjectName("main-toolbar")
        self.setMovable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)

        def action(text: str, name: str, shortcut, tip: str) -> QAction:
            a = QAction(icon(name), text, window)
            a.setObjectName(name)
            if shortcut:
                a.setShortcut(shortcut)
            a.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})" if shortcut else tip)
            window.addAction(a)
            return a

        Key = QKeySequence.StandardKey
        self.add_files = action("Add files…", "add-files", Key.Open, "Upload image files")
        self.add_folder = action(
            "Add folder…", "add-folder", "Ctrl+Shift+O", "Upload every image in a folder"
        )
        self.paste = action("Paste", "paste", Key.Paste, "Upload the image on the clipboard")
        self.pause_all = action("Pause all", "pause", "Ctrl+P", "Pause or resume the whole queue")
        self.pause_all.setCheckable(True)
        self.settings_action = action(
            "Settings…", "settings", Key.Preferences, "Destinations, presets, links"
        )
        if self.settings_action.shortcut().isEmpty():
            self.settings_action.setShortcut("Ctrl+,")

        for a in (self.add_files, self.add_folder, self.paste):
            self.addAction(a)
        self.addSeparator()
        self.addAction(self.pause_all)
        self.addSeparator()
        self.addWidget(QLabel(" Upload to "))
        self.destination_box = QComboBox()
        self.destination_box.setAccessibleName("Destination")
        self.destination_box.setToolTip("Where new uploads go")
        self.addWidget(self.destination_box)
        self.addWidget(QLabel("  Preset "))
        self.preset_box = QComboBox()
        self.preset_box.setAccessibleName("Preset")
        self.preset_box.setToolTip("How images are resized and compressed")
        self.addWidget(self.preset_box)
        spacer = QWidget()
        policy = spacer.sizePolicy()
        spacer.setSizePolicy(policy.horizontalPolicy().Expanding, policy.verticalPolicy())
        self.addWidget(spacer)
        self.addAction(self.settings_action)

    def actions_with_icons(self) -> tuple[QAction, ...]:
        return (self.add_files, self.add_folder, self.paste, self.pause_all, self.settings_action)

    def refresh_icons(self) -> None:
        for a in self.actions_with_icons():
            a.setIcon(icon(a.objectName()))

    def show_paused(self, paused: bool) -> None:
        self.pause_all.setText("Resume all" if paused else "Pause all")
        self.pause_all.setIcon(icon("resume" if paused else "pause"))

    def refresh(self, settings: Settings, destination_name: Callable[[str], str]) -> None:
        """Re-read destinations and presets into the boxes, keeping each box's choice while it
        still exists."""
        for box, names, current in (
            (self.destination_box, sorted(settings.destinations), settings.default_profile),
            (self.preset_box, sorted(settings.presets), "default"),
        ):
            keep = box.currentData() or current
            box.blockSignals(True)
            box.clear()
            for name in names:
                box.addItem(destination_name(name) if box is self.destination_box else name, name)
            box.setCurrentIndex(max(0, box.findData(keep if keep in names else current)))
            box.blockSignals(False)
