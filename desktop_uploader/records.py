"""The contracts that cross module, process and file boundaries, as types.

Every value here is a promise kept elsewhere: in settings.toml (policies, link formats), in the
journal's ``status`` and ``code`` columns, and in ``upload --json`` / ``history --json``. So each
enum is a ``StrEnum`` whose values are exactly the strings those places always held: a member
equals, hashes and serialises (``json.dumps``, TOML, SQLite) as its plain string, and a string
read back compares equal to its member. Changing a value breaks users' scripts and old journals.

The job's internal lifecycle (``JobState``) is not here: it lives with the state machine in
``jobs``. ``JobStatus`` is what a job *ended as* (or, in the journal, where it stands for other
processes), which scripts and history read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any, Literal


class ScanPolicy(StrEnum):
    """A destination's ``malware_scan``: must a file be scanned by clamd before it goes up."""

    REQUIRED = "required"  # no scanner: the file waits, then fails (``scanner_unavailable``)
    OPTIONAL = "optional"  # no scanner: goes up with a ``not_scanned`` note
    OFF = "off"


class ContentPolicy(StrEnum):
    """A destination's ``content_check``: what a finding of the content model does."""

    BLOCK = "block"  # rejected as ``content:<label>``
    REVIEW = "review"  # held until the user approves or rejects it
    OFF = "off"


class LinkFormat(StrEnum):
    """How a link is written for the user (desktop ``link_format``; ``deliver.link_text``)."""

    URL = "url"
    MARKDOWN = "markdown"
    HTML = "html"
    BBCODE = "bbcode"
    PICTURE = "picture"  # <picture> with the responsive srcset when the preset has widths


# each link format as people call it (the settings window, the history's "Copy as…")
LINK_FORMAT_NAMES = {
    LinkFormat.URL: "URL",
    LinkFormat.MARKDOWN: "Markdown",
    LinkFormat.HTML: "HTML",
    LinkFormat.BBCODE: "BBCode",
    LinkFormat.PICTURE: "<picture> snippet",
}


class JobStatus(StrEnum):
    """How a job ended (``JobResult.status``) or stands in the journal's ``status`` column."""

    QUEUED = "queued"  # journal only: not finished (any stage)
    HELD = "held"  # waits for a content review decision, in the journal for any process
    DONE = "done"
    DUPLICATE = "duplicate"  # the same bytes were already at the destination
    REJECTED = "rejected"  # the input is unacceptable; retrying will not help
    FAILED = "failed"  # could not finish (network, keys, scanner); retryable
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # in a folder the user named, a file that is no image at all
    EXPORTED = "exported"  # journal only: ``process --out`` wrote it; not an upload
    DELETED = "deleted"  # journal only: the user deleted the uploaded object


# what history lists (and what ends a job for good in the journal)
FINAL_STATUSES: tuple[JobStatus, ...] = (
    JobStatus.DONE,
    JobStatus.DUPLICATE,
    JobStatus.REJECTED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
    JobStatus.SKIPPED,
)
UPLOADED: tuple[JobStatus, ...] = (JobStatus.DONE, JobStatus.DUPLICATE)
RETRYABLE: tuple[JobStatus, ...] = (JobStatus.FAILED, JobStatus.REJECTED, JobStatus.CANCELLED)


class ReasonCode(StrEnum):
    """The stable ``code`` of a result that was not a plain success (docs/validation.md and
    docs/providers.md list what each means). Two families carry a detail and are made by
    ``malware_code`` and ``content_code``: ``malware:<signature>``, ``content:<label>``."""

    # intake and validation (rejected, or skipped in a folder)
    NOT_FOUND = "not_found"
    NOT_A_FILE = "not_a_file"
    NOT_A_REGULAR_FILE = "not_a_regular_file"
    UNREADABLE = "unreadable"
    READ_ERROR = "read_error"
    EMPTY = "empty"
    FILE_TOO_LARGE = "file_too_large"
    SYMLINK_LOOP = "symlink_loop"
    SYMLINK_OUTSIDE_FOLDER = "symlink_outside_folder"
    SOURCE_CHANGED = "source_changed"
    NOT_AN_IMAGE = "not_an_image"
    FORMAT_NOT_ALLOWED = "format_not_allowed"
    POLYGLOT = "polyglot"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_MANY_FRAMES = "too_many_frames"
    METADATA_BOMB = "metadata_bomb"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    UNDECODABLE = "undecodable"
    DECODE_TIMEOUT = "decode_timeout"
    TOO_MUCH_MEMORY = "too_much_memory"
    DECODER_CRASHED = "decoder_crashed"
    SCAN_FAILED = "scan_failed"
    CONTENT_CHECK_FAILED = "content_check_failed"
    # failed (retryable)
    SCANNER_UNAVAILABLE = "scanner_unavailable"
    OUTPUT_NOT_WRITTEN = "output_not_written"
    NO_CREDENTIALS = "no_credentials"
    BAD_CREDENTIALS = "bad_credentials"
    ACCESS_DENIED = "access_denied"
    NO_SUCH_BUCKET = "no_such_bucket"
    UNREACHABLE = "unreachable"
    CONNECTION_ERROR = "connection_error"
    SERVER_ERROR = "server_error"
    REQUEST_REFUSED = "request_refused"
    UPLOAD_ERROR = "upload_error"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    VERIFY_FAILED = "verify_failed"
    CDN_PURGE_FAILED = "cdn_purge_failed"
    INTERNAL_ERROR = "internal_error"
    # an error type's own code, when it was raised without a more precise one (errors.py)
    ERROR = "error"
    REJECTED = "rejected"
    CONFIG = "config"
    SETTINGS = "settings"
    CREDENTIALS = "credentials"
    STORAGE = "storage"
    LOCAL_STORE = "local_store"
    # cancelled
    CANCELLED = "cancelled"
    DECIDED_ELSEWHERE = "decided_elsewhere"  # another process decided on a held job first
    # storage answers (the seam) and the upload server (integrations)
    INCOMPLETE_ANSWER = "incomplete_answer"
    NO_SUCH_UPLOAD = "no_such_upload"
    PORT_IN_USE = "port_in_use"
    CLIPBOARD_UNAVAILABLE = "clipboard_unavailable"
    CLIPBOARD_EMPTY = "clipboard_empty"


MALWARE_PREFIX = "malware:"
CONTENT_PREFIX = "content:"


def malware_code(signature: str) -> str:
    """The code of a file clamd found ``signature`` in."""
    return f"{MALWARE_PREFIX}{signature}"


def content_code(label: str) -> str:
    """The code of a file the content check found ``label`` in (rejected or held)."""
    return f"{CONTENT_PREFIX}{label}"


def choices(enum: type[StrEnum]) -> tuple[str, ...]:
    """The plain values of ``enum``, for argparse ``choices`` and the settings ``Literal``."""
    return tuple(m.value for m in enum)


def literal(enum: type[StrEnum]) -> Any:
    """``Literal["a", "b", …]`` of ``enum``'s values: the settings schema (pydantic, the form)
    reads choices from a ``Literal``, and settings keep holding the plain strings."""
    return Literal[choices(enum)]  # type: ignore[valid-type]


# -- the result of one job -----------------------------------------------------------------------
# journal columns holding JSON lists
_JSON_COLUMNS = ("variants", "findings")
# journal columns holding booleans as 0/1 (NULL: unknown)
_BOOL_COLUMNS = ("had_gps", "scanned")
# fields of a result that the journal does not keep (a ``process --out`` run's files)
_NOT_JOURNALED = ("job_id", "output", "thumbnail_output")
# the fields that describe the uploaded object itself (shared by every upload of those bytes)
_OBJECT_FIELDS = (
    "url",
    "thumbnail_url",
    "key",
    "thumbnail_key",
    "sha256",
    "bytes",
    "width",
    "height",
    "variants",
    "lqip",
    "stable_url",
)
# the ``upload --json`` fields promised in the README, in this order, then the rest
_JSON_FIRST = ("source", "status", "reason", "url", "thumbnail_url", "key", "sha256", "bytes")


@dataclass(frozen=True)
class JobResult:
    """The outcome of one input: exactly one per input, whatever happened.

    One type from the engine to every reader: ``to_json`` is the ``upload --json`` line,
    ``to_row``/``from_row`` the journal's ``jobs`` columns (JSON text for lists, 0/1 for
    booleans), so history, the GUI and the CLI read back what the engine wrote. Frozen: derive
    a changed copy with ``with_`` (``dataclasses.replace``). The JSON lists (``variants``,
    ``findings``) are copied when a record is made, and ``to_json`` hands out copies."""

    source: str
    status: JobStatus | str
    job_id: int | None = None
    code: ReasonCode | str | None = None
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

    def __post_init__(self) -> None:
        # the JSON lists are copied: a caller's list changed later does not change the record
        for name in _JSON_COLUMNS:
            object.__setattr__(self, name, [dict(v) for v in getattr(self, name) or ()])
        if not isinstance(self.status, JobStatus) and self.status in JobStatus._value2member_map_:
            object.__setattr__(self, "status", JobStatus(self.status))

    def with_(self, **changes: Any) -> JobResult:
        """A copy with ``changes`` (``dataclasses.replace``)."""
        return replace(self, **changes)

    @property
    def uploaded(self) -> bool:
        return self.status in UPLOADED

    def uploaded_object(self) -> dict[str, Any]:
        """What describes the uploaded object (keys, links, size, variants) and nothing about
        how one job went: a duplicate reports these from the earlier upload."""
        return {name: getattr(self, name) for name in _OBJECT_FIELDS}

    def to_json(self) -> dict[str, Any]:
        """The ``upload --json`` line: the promised fields first, then extras."""
        out = {name: getattr(self, name) for name in _JSON_FIRST}
        for f in fields(self):
            out.setdefault(f.name, getattr(self, f.name))
        out["code"], out["status"] = _plain(self.code), _plain(self.status)
        out["variants"], out["findings"] = _copies(self.variants), _copies(self.findings)
        # the order of old: code and job_id right after the promised ones
        order = (*_JSON_FIRST, "code", "job_id", "width", "height", "thumbnail_key")
        return {k: out[k] for k in order} | {k: v for k, v in out.items() if k not in order}

    def to_row(self) -> dict[str, Any]:
        """The journal's ``jobs`` columns for this outcome (``job_id`` is the row's ``id``).

        ``had_gps`` is left out while unknown: validation recorded it when it learned it, and a
        later failure must not erase it."""
        row: dict[str, Any] = {}
        for f in fields(self):
            if f.name in _NOT_JOURNALED:
                continue
            value = getattr(self, f.name)
            if f.name in _JSON_COLUMNS:
                value = json.dumps(list(value)) if value else None
            elif f.name in _BOOL_COLUMNS:
                if value is None and f.name == "had_gps":
                    continue
                value = None if value is None else int(value)
            else:
                value = _plain(value)
            row[f.name] = value
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> JobResult:
        """The result recorded in a journal row (``Journal.job``/``history``); columns it does
        not have are left at their defaults, others (``display_name``, …) are ignored."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            column = "id" if f.name == "job_id" else f.name
            if column not in row:
                continue
            value = row[column]
            if f.name in _JSON_COLUMNS:
                value = json.loads(value) if isinstance(value, str) else list(value or ())
            elif f.name in _BOOL_COLUMNS:
                value = None if value is None else bool(value)
            elif f.name == "code" and value in ReasonCode._value2member_map_:
                value = ReasonCode(value)
            values[f.name] = value
        values.setdefault("source", "")
        values.setdefault("status", JobStatus.QUEUED)
        return cls(**values)


def _copies(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(v) for v in items]


def _plain(value: Any) -> Any:
    """An enum member as its plain string (json.dumps would manage; sqlite3 and tests compare
    types too), anything else unchanged."""
    return value.value if isinstance(value, StrEnum) else value


# -- history --json -------------------------------------------------------------------------------
_HISTORY_KEYS = (
    "job_id",
    "source",
    "display_name",
    "status",
    "code",
    "reason",
    "url",
    "thumbnail_url",
    "key",
    "sha256",
    "bytes",
    "width",
    "height",
    "profile",
    "preset",
    "had_gps",
    "lqip",
    "stable_url",
    "created_at",
    "finished_at",
    "scanned",
    "variants",
    "findings",
)


def history_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A ``history --json`` line from a journal row: the job (name, destination, preset,
    times) and its ``JobResult``. ``had_gps`` is false when unknown, as it always was."""
    result = JobResult.from_row(row).to_json()
    result["had_gps"] = bool(row.get("had_gps"))
    job = {k: row[k] for k in ("display_name", "profile", "preset", "created_at", "finished_at")
           if k in row}  # fmt: skip
    merged = result | job
    return {k: merged[k] for k in _HISTORY_KEYS if k in merged}
