"""Batches: what the user dropped (or pasted, or a watched folder delivered) is announced once,
when it is over, and its links go to the clipboard together, one per line. No Qt here.

A batch is every file finished since the queue was last quiet; it ends when no row is working
any more (each is finished, paused, or waiting for a review, the scanner or the destination).
Drops in quick succession therefore make one batch, which is what a user expects of "one drag".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop_uploader.pipeline.deliver import link_text

UPLOADED = ("done", "duplicate")
ATTENTION = ("failed", "rejected")


@dataclass
class Announcement:
    uploaded: list = field(default_factory=list)  # QueueRows with a link, in queue order
    attention: list = field(default_factory=list)  # failed or rejected QueueRows
    waiting: int = 0  # rows held for review, paused, or waiting for the destination

    def message(self, links_copied: bool) -> str:
        """ "17 uploaded, 2 need attention — 17 links copied to the clipboard"."""
        n, bad = len(self.uploaded), len(self.attention)
        if n == 1 and not bad:
            head = f"{self.uploaded[0].name} uploaded"
        elif bad == 1 and not n:
            row = self.attention[0]
            verb = "was rejected" if row.stage == "rejected" else "could not be uploaded"
            head = f"{row.name} {verb} — see the queue"
        else:
            parts = [f"{n} uploaded"] if n else []
            if bad:
                parts.append(f"{bad} need{'s' if bad == 1 else ''} attention")
            head = ", ".join(parts)
        if self.waiting:
            head += f", {self.waiting} waiting"
        if n and links_copied:
            head += " — link copied" if n == 1 else f" — {n} links copied"
        return head

    @property
    def title(self) -> str:
        return "Upload finished" if self.uploaded else "Nothing uploaded"


class BatchTracker:
    """Collects finished queue rows until the queue is quiet, then hands them over once."""

    def __init__(self) -> None:
        self._rows: list = []

    def add(self, rows: list) -> None:
        self._rows.extend(r for r in rows if r.stage != "cancelled")

    def close_if_over(self, queue_rows: list) -> Announcement | None:
        """The announcement when every queue row is settled and something finished, else None."""
        if not self._rows or not all(r.settled for r in queue_rows):
            return None
        rows, self._rows = self._rows, []
        order = {id(r): i for i, r in enumerate(queue_rows)}
        rows.sort(key=lambda r: order.get(id(r), len(order)))
        return Announcement(
            uploaded=[r for r in rows if r.stage in UPLOADED and r.result and r.result.url],
            attention=[r for r in rows if r.stage in ATTENTION],
            waiting=sum(not r.finished for r in queue_rows),
        )


def batch_links(rows: list, fmt: str) -> str:
    """The rows' links in ``fmt`` (a ``deliver.LINK_FORMATS`` name), one per line."""
    lines = []
    for r in rows:
        res = r.result
        lines.append(
            link_text(
                fmt,
                res.url,
                r.name,
                res.width,
                res.height,
                variants=res.variants,
                lqip=res.lqip,
            )
        )
    return "\n".join(lines)
