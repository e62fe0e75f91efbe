"""The queue's persistent notice that files went up without a malware scan, why, and the fix.

It listens to the engine's results (the same ``not_scanned: …`` reason the command line prints)
and stays until a file is scanned again; its button opens the scanner settings.
"""

from __future__ import annotations

import html

from desktop_uploader.gui.banners import Banner

SETTINGS_PAGE = "validation"  # Settings › Validation: the malware scanner


class ScanNotice(Banner):
    """Hidden until a finished file says it was not scanned; hidden again once one is."""

    def __init__(self, parent=None) -> None:
        super().__init__("warning", "", "Scanner settings…", parent=parent)
        self.setObjectName("scan-notice")
        self.label.setAccessibleName("Malware scan notice")
        self.unscanned = 0
        self.hide()

    def on_events(self, batch: list) -> None:
        """Feed it the engine's events (the window's batches)."""
        for event in batch:
            result = event.data.get("result")
            if result is None or result.scanned is None:
                continue
            if result.scanned:
                self.unscanned = 0  # a scanner works (again)
                self.hide()
            elif (result.reason or "").startswith("not_scanned"):
                self.unscanned += 1
                self.show_reason(result.reason.split(":", 1)[1].strip())

    def show_reason(self, why: str) -> None:
        count = "A file was" if self.unscanned == 1 else f"{self.unscanned} files were"
        self.set_text(
            f"<b>{count} uploaded without a malware scan.</b> {html.escape(why)} "
            "To never upload unscanned files, set the destination's malware scan to "
            "“required”."
        )
        self.show()
