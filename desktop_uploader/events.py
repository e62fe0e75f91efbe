"""What the engine tells its subscribers (the CLI prints them, the GUI turns them into signals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# the outcome carried by the final event of a job (data["result"]); one type everywhere
from desktop_uploader.records import JobResult as JobResult

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
