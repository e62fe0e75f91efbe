"""The question the window asks before it closes with work unfinished."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget


def ask_before_closing(
    parent: QWidget, unfinished: int, tray: bool, quit_: Callable[[], None]
) -> QMessageBox:
    """Ask (without blocking) what to do with unfinished work: keep the window, run on in the
    tray where there is one, or quit (``quit_``; what is done so far is reused next time)."""
    files = "1 file is" if unfinished == 1 else f"{unfinished} files are"
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Uploads are not finished",
        f"{files} not uploaded yet.",
        QMessageBox.StandardButton.NoButton,
        parent,
    )
    box.setObjectName("confirm-close")
    box.setInformativeText(
        "If you quit now they stay unfinished: add them again later, and the work already "
        "done is reused."
    )
    keep = box.addButton("Keep uploading", QMessageBox.ButtonRole.RejectRole)
    hide = box.addButton("Run in the tray", QMessageBox.ButtonRole.AcceptRole) if tray else None
    leave = box.addButton("Quit anyway", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(keep)

    def chosen(button) -> None:
        if button is leave:
            quit_()
        elif hide is not None and button is hide:
            parent.hide()

    box.buttonClicked.connect(chosen)
    box.open()
    return box
