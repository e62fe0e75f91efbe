"""The queue's persistent notice that files went up without a malware scan, why, and the fix.

It reads the results of the queue's finished rows (the ``not_scanned: …`` reason the command
line prints too) and stays until a file is scanned again. Its words name two places and it has
a button to each: the scanner's fix ("clamd socket", "Start our own clamd", the signature
folder) is on Settings › Validation, "Scanner settings…"; the policy that keeps unscanned files
from going up at all (a destination's "Malware scan") is on Settings › Destinations,
"Destination policy…", which opens on the destination those files went to.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton

from desktop_uploader.config import LOCAL_PROFILE
from desktop_uploader.gui.banners import Banner
from desktop_uploader.gui.queue_model import QueueRow

SETTINGS_PAGE = "validation"  # Settings › Validation: the malware scanner
POLICY_PAGE = "destinations"  # Settings › Destinations: each destination's malware scan policy


class ScanNotice(Banner):
    """Hidden until a finished file says it was not scanned; hidden again once one is.
    ``settings_wanted(page, destination)``: a button asks for that settings page ("" for no
    destination in particular)."""

    settings_wanted = Signal(str, str)

    def __init__(self, parent=None) -> None:
        super().__init__("warning", "", "Scanner settings…", parent=parent)
        self.setObjectName("scan-notice")
        self.label.setAccessibleName("Malware scan notice")
        self.policy_button = QPushButton("Destination policy…")
        self.policy_button.setAccessibleName("Malware scan policy of the destination")
        self._layout.addWidget(self.policy_button)
        self.action.setToolTip("Settings › Validation: the malware scanner")
        self.policy_button.setToolTip("Settings › Destinations: the destination's malware scan")
        self.action.clicked.connect(lambda: self.settings_wanted.emit(SETTINGS_PAGE, ""))
        self.policy_button.clicked.connect(
            lambda: self.settings_wanted.emit(POLICY_PAGE, self.destination)
        )
        self.unscanned = 0
        self.destination = ""  # where the last unscanned file went ("": not known)
        self.hide()

    def on_finished(self, rows: list[QueueRow]) -> None:
        """Feed it the queue's rows that just finished (``QueueModel.apply``)."""
        for row in rows:
            result = row.result
            if result is None or result.scanned is None:
                continue
            if result.scanned:
                self.unscanned = 0  # a scanner works (again)
                self.hide()
            elif (result.reason or "").startswith("not_scanned"):
                self.unscanned += 1
                self.destination = row.profile
                self.show_reason(result.reason.split(":", 1)[1].strip())

    def show_reason(self, why: str) -> None:
        count = "A file was" if self.unscanned == 1 else f"{self.unscanned} files were"
        self.set_text(
            f"<b>{count} uploaded without a malware scan.</b> {_commands(why)} "
            "To never upload unscanned files, set “Malware scan” to “Required” in "
            f"{self._policy_words()}."
        )
        self.show()

    def _policy_words(self) -> str:
        """Whose policy, as the Destinations page lists it."""
        if not self.destination:
            return "the validation policy of its destination"
        if self.destination == LOCAL_PROFILE:
            return "the validation policy of the local store"
        return f"the validation policy of destination “{html.escape(self.destination)}”"


def _commands(words: str) -> str:
    """The command line's words as rich text: a `command` in backticks set as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(words))
