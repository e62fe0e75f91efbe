"""What the engine tells its subscribers (the CLI prints them, the GUI turns them into signals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

QUEUED = "queued"
STAGE = "stage"  # a job moved to another stage: data["stage"]
PROGRESS = "progress"  # data["sent"], data["total"] in bytes
DONE = "done"
DUPLICATE = "duplicate"
REJECTED = "rejected"
FAILED = "failed"
CANCELLED = "cancelled"
# a one-shot command ended a job held for content review: it stays held in the journal
HELD = "held"
# a file inside a folder that is not an image at all (a README): passed over, not an error
SKIPPED = "skipped"


@dataclass(frozen=True)
class Event:
    kind: str
    job_id: int
    source: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobResult:
    """The outcome of one input: exactly one per input, whatever happened."""

    source: str
    status: str  # done | duplicate | rejected | failed | cancelled | held | skipped
    job_id: int | None = None
    code: str | None = None
    reason: str | None = None
    url: str | None = None
    thumbnail_url: str | None = None
    key: str | None = None
    thumbnail_key: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    width: int | None = None
    height: int | None = None
    had_gps: bool | None = None
    # responsive set (preset ``widths``): [{key, url, width, height, format, ...}], blur
    # placeholder (data URI), and the stable-name link (destination ``stable_names``)
    variants: list[dict[str, Any]] = field(default_factory=list)
    lqip: str | None = None
    stable_url: str | None = None
    # ``process --out DIR``: where the outputs were written instead of uploaded
    output: str | None = None
    thumbnail_output: str | None = None
    # the malware scan ran on this file (False: not scanned; None: it ended before the scan)
    scanned: bool | None = None
    # what the content check found: [{label, name, score, classifier}] (held, approved, …)
    findings: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``upload --json`` line: the promised fields first, then extras."""
        return {
            "source": self.source,
            "status": self.status,
            "reason": self.reason,
            "url": self.url,
            "thumbnail_url": self.thumbnail_url,
            "key": self.key,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "code": self.code,
            "job_id": self.job_id,
            "width": self.width,
            "height": self.height,
            "thumbnail_key": self.thumbnail_key,
            "variants": self.variants,
            "lqip": self.lqip,
            "stable_url": self.stable_url,
            "output": self.output,
            "thumbnail_output": self.thumbnail_output,
            "scanned": self.scanned,
            "findings": self.findings,
        }
