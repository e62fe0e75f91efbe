"""A job's life: its states, the moves allowed between them (one table), and ``Lifecycle``,
which makes each move — journaled first, then published as an event.

The state's value is the word everything else already uses: the journal's ``jobs.status``
(``held`` for a job waiting for a review decision, ``exported`` for ``process --out``), the event's
``stage`` (``waiting_for_review``), and the result's ``status`` in ``--json`` output. Nothing here
imports the engine or Qt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_uploader import events as ev
from desktop_uploader.events import Event

if TYPE_CHECKING:
    from desktop_uploader.config import Preset
    from desktop_uploader.errors import Rejected
    from desktop_uploader.events import JobResult
    from desktop_uploader.journal import Journal

log = logging.getLogger("desktop_uploader.engine")


class JobState(StrEnum):
    """Where a job is. Unfinished states come back after a crash (``Engine.resume_unfinished``)."""

    QUEUED = "queued"
    VALIDATING = "validating"
    PROCESSING = "processing"
    UPLOADING = "uploading"
    PAUSED = "paused"
    WAITING_FOR_DESTINATION = "waiting_for_destination"
    WAITING_FOR_SCANNER = "waiting_for_scanner"
    WAITING_FOR_REVIEW = "waiting_for_review"  # journal: ``held`` (with the ``held`` table row)
    # finished: the job leaves the engine's memory, the journal keeps it
    DONE = "done"
    DUPLICATE = "duplicate"
    EXPORTED = "exported"  # ``process --out``: the result's status is ``done``, no history
    REJECTED = "rejected"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"
    HELD = "held"  # a one-shot command let go of a job held for review: it stays held
    DELETED = "deleted"  # the uploaded object was deleted from its destination (history)

    @property
    def journal_status(self) -> str:
        """The word in the journal's ``jobs.status`` column."""
        return "held" if self is JobState.WAITING_FOR_REVIEW else self.value

    @property
    def finished(self) -> bool:
        return self in FINISHED


_Q, _V, _P, _U = JobState.QUEUED, JobState.VALIDATING, JobState.PROCESSING, JobState.UPLOADING
_PAUSED, _DEST = JobState.PAUSED, JobState.WAITING_FOR_DESTINATION
_SCAN, _REVIEW = JobState.WAITING_FOR_SCANNER, JobState.WAITING_FOR_REVIEW
_DONE, _DUP, _EXP = JobState.DONE, JobState.DUPLICATE, JobState.EXPORTED
_REJ, _SKIP, _FAIL, _CANC = JobState.REJECTED, JobState.SKIPPED, JobState.FAILED, JobState.CANCELLED
_HELD, _DEL = JobState.HELD, JobState.DELETED

# Every unfinished job may fail (an unexpected error), be cancelled (the user; the app closing)
# or be re-queued (``QUEUED``: a later start found it unfinished in the journal).
_ALWAYS = frozenset({_FAIL, _CANC, _Q})
# A parked job that goes on runs the stage it parked in, which names its own state first.
_RESUMES = frozenset({_V, _P, _U, _DUP, _EXP, _PAUSED, _DEST})

# THE table: from each state, the states a job may move to. Nothing else is allowed.
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    _Q: _ALWAYS | {_V, _P, _PAUSED},  # _P: approved outputs of an earlier run go on
    _V: _ALWAYS | {_P, _SCAN, _DEST, _PAUSED, _DUP, _REJ, _SKIP},
    _P: _ALWAYS | {_U, _REVIEW, _EXP, _DEST, _PAUSED, _REJ},
    _U: _ALWAYS | {_DEST, _PAUSED, _DONE, _DUP, _REJ},
    _PAUSED: _ALWAYS | _RESUMES,
    _DEST: _ALWAYS | _RESUMES,
    _SCAN: _ALWAYS | {_V, _PAUSED},
    _REVIEW: _ALWAYS | {_U, _EXP, _PAUSED, _REJ, _HELD},
    _DONE: frozenset({_DEL}),
    _DUP: frozenset({_DEL}),
    _EXP: frozenset(),
    _REJ: frozenset(),
    _SKIP: frozenset(),
    _FAIL: frozenset(),
    _CANC: frozenset(),
    _HELD: frozenset(),
    _DEL: frozenset(),
}
FINISHED = frozenset(s for s, targets in TRANSITIONS.items() if _Q not in targets)
UNFINISHED = frozenset(JobState) - FINISHED
# the journal statuses of jobs a restart takes up again (``held`` waits for a decision instead)
RESUMABLE = tuple(sorted(s.journal_status for s in UNFINISHED if s is not _REVIEW))

_EVENT_KIND = {
    _DONE: ev.DONE,
    _EXP: ev.DONE,
    _DUP: ev.DUPLICATE,
    _REJ: ev.REJECTED,
    _SKIP: ev.SKIPPED,
    _FAIL: ev.FAILED,
    _CANC: ev.CANCELLED,
    _HELD: ev.HELD,
}


class IllegalTransition(RuntimeError):
    """A move the table does not allow: a bug, never the user's doing."""


def check_transition(old: JobState, new: JobState) -> None:
    if new not in TRANSITIONS[old]:
        raise IllegalTransition(f"a job cannot go from {old.value} to {new.value}")


def transition(job: Job, new: JobState) -> JobState:
    """Move ``job`` to ``new`` (in memory only), returning the state it left; raises
    ``IllegalTransition`` for a move the table does not allow. ``Lifecycle.move`` journals
    and publishes it too."""
    with job.lock:
        old = job.state
        check_transition(old, new)
        job.state = new
        return old


@dataclass(eq=False)
class Job:
    """One input on its way through the stages. ``future`` resolves to its ``JobResult``."""

    id: int
    source: Path
    name: str
    profile: str
    preset: Preset
    future: Future[JobResult]
    state: JobState = JobState.QUEUED
    paused: bool = False
    cancelled: bool = False
    # (executor, stage function, args) waiting for resume or for the destination to come back
    parked: tuple | None = None
    offline_since: float | None = None
    upload_attempted: bool = False  # an object found on a later attempt is then our own
    # "review" (content check) or "scanner" (required scan, no scanner): parked until released
    held: str | None = None
    findings: tuple = ()
    warnings: tuple[str, ...] = ()  # accepted, but worth telling (trailing data, not scanned)
    variants: tuple = ()  # responsive renditions (preset ``widths``), made after processing
    out_dir: Path | None = None  # ``process --out``: write the outputs here instead of uploading
    refusal: Rejected | None = None  # refused at intake (a FIFO, a link out of the folder, …)
    held_since: float | None = None  # when it began waiting for a malware scanner (monotonic)
    scanner_problem: object = None  # why no scanner answered (a scanstatus.ScannerProblem)
    scanned: bool | None = None  # the malware scan ran on it (None: it never got that far)
    approved_sha: str | None = None  # the source bytes the user approved on content review
    # found inside a folder the user named: a file that is not an image is skipped, not an error
    in_folder: bool = False
    # one move at a time: journal, state and event of a move stay in order
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def stage(self) -> str:
        """The state as the events and the GUI name it (``waiting_for_review``, ``done``)."""
        return self.state.value


class Lifecycle:
    """Moves jobs between states: checks the table, writes the journal, then tells the
    subscribers. ``on_finished`` runs after a job's last move (the engine forgets it there)."""

    def __init__(
        self,
        journal: Journal,
        publish: Callable[[Event], None],
        on_finished: Callable[[Job, bool], None],
    ) -> None:
        self.journal = journal
        self._publish = publish
        self._on_finished = on_finished

    def move(self, job: Job, new: JobState, **data: Any) -> None:
        """An unfinished move: the journal's status, then a ``stage`` event with ``data``."""
        with job.lock:
            check_transition(job.state, new)
            self.journal.update_job(job.id, status=new.journal_status)
            job.state = new
            self._publish(Event(ev.STAGE, job.id, str(job.source), {"stage": new.value, **data}))

    def queued(self, job: Job) -> None:
        """A new job (its row was just added as ``queued``), or one taken up again."""
        with job.lock:
            if job.state is not JobState.QUEUED:
                check_transition(job.state, JobState.QUEUED)
                self.journal.update_job(job.id, status=JobState.QUEUED.journal_status)
                job.state = JobState.QUEUED
            data = {"name": job.name, "profile": job.profile}
            self._publish(Event(ev.QUEUED, job.id, str(job.source), data))

    def finish(
        self, job: Job, new: JobState, result: JobResult, row: dict | None, record: bool = True
    ) -> None:
        """The last move: ``row`` (the result's journal fields, ``status`` among them; None:
        the journal says it already) is written, then the event carrying ``result``, then the
        future resolves. ``record=False``: the journal's row is another process's now."""
        with job.lock:
            if job.future.done():
                return  # ended already (closing raced a decision): one result per job
            check_transition(job.state, new)
            if record and row is not None:
                try:
                    self.journal.update_job(job.id, **row)
                except Exception:
                    log.exception("could not record the result of job %s", job.id)
            job.state = new
            job.parked = None
            kind = _EVENT_KIND.get(new, ev.FAILED)
            self._publish(Event(kind, job.id, str(job.source), {"result": result}))
            job.future.set_result(result)
        self._on_finished(job, record)


def finished_state(result: JobResult, exported: bool) -> JobState:
    """The state a result ends its job in."""
    if exported and result.status == "done":
        return JobState.EXPORTED
    try:
        return JobState(result.status)
    except ValueError:
        return JobState.FAILED
