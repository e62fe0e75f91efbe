"""Words for people: sizes, durations, provider and content-label names, and errors turned into
what to do (with the technical text kept apart, for a "Details…" disclosure). No Qt here.

Labels of the settings *fields* come from the settings schema (config.py, read by forms.py);
this module names *values*: the things a field or a message shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from desktop_uploader.errors import UploaderError

PROVIDER_NAMES = {
    "local": "Local store (this computer)",
    "seaweedfs": "SeaweedFS",
    "aws": "Amazon S3",
    "r2": "Cloudflare R2",
    "b2": "Backblaze B2",
    "gcs": "Google Cloud Storage",
    "minio": "MinIO",
    "wasabi": "Wasabi",
    "other": "Other S3-compatible service",
}
# NudeNet's detector labels, as a person would say them
_BODY_PARTS = {
    "FEMALE_GENITALIA": "Female genitalia",
    "MALE_GENITALIA": "Male genitalia",
    "FEMALE_BREAST": "Female breast",
    "MALE_BREAST": "Male breast",
    "BUTTOCKS": "Buttocks",
    "ANUS": "Anus",
    "BELLY": "Belly",
    "FEET": "Feet",
    "ARMPITS": "Armpits",
}
CONTENT_LABELS = (
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "BUTTOCKS_EXPOSED",
    "ANUS_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "BELLY_EXPOSED",
    "FEET_EXPOSED",
    "ARMPITS_EXPOSED",
    "FEMALE_GENITALIA_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
    "ANUS_COVERED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "FACE_FEMALE",
    "FACE_MALE",
)


def content_label_name(label: str) -> str:
    """``FEMALE_BREAST_EXPOSED`` → "Female breast, exposed"; ``FACE_MALE`` → "Face (male)"."""
    if label.startswith("FACE_"):
        return f"Face ({label[5:].lower()})"
    for suffix in ("_EXPOSED", "_COVERED"):
        if label.endswith(suffix):
            part = label[: -len(suffix)]
            name = _BODY_PARTS.get(part, part.replace("_", " ").capitalize())
            return f"{name}, {suffix[1:].lower()}"
    return label.replace("_", " ").capitalize()


def provider_name(kind: str) -> str:
    return PROVIDER_NAMES.get(kind, kind)


def destination_name(dest) -> str:
    """How a destination is named in the window: its own name, or what the local store is."""
    return "Local store" if dest.is_local else dest.name


def human_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def human_duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


@dataclass(frozen=True)
class Problem:
    """One thing that went wrong, for the window: ``message`` says what and what to do,
    ``details`` holds the technical text (shown only behind "Details…")."""

    title: str
    message: str
    details: str = ""
    internal: bool = False  # a bug of ours (its traceback belongs in the log)


_TECHNICAL = re.compile(r"\s*\(([A-Z][A-Za-z]+(Error|Exception|Warning)[^)]*)\)")


def split_details(text: str) -> tuple[str, str]:
    """Move "(SomeError: …)" parts out of a message: (plain text, technical details)."""
    details = [m.group(1) for m in _TECHNICAL.finditer(text)]
    return _TECHNICAL.sub("", text).strip(), "\n".join(details)


def job_problem(name: str, status: str, code: str | None, reason: str | None) -> Problem:
    """A failed or rejected file, in words; an internal error's Python text goes to details."""
    reason = reason or ""
    if code == "internal_error":
        return Problem(
            f"{name} could not be uploaded",
            "Something went wrong inside Desktop Uploader. The file is kept; Retry may work. "
            "If it happens again, please report it with the details.",
            reason,
        )
    plain, details = split_details(reason)
    if code == "unreachable":
        plain = plain.replace("; the upload stays queued.", ".")
    title = f"{name} was rejected" if status == "rejected" else f"{name} could not be uploaded"
    return Problem(title, plain or "No reason was given.", details)


def exception_problem(title: str, error: BaseException) -> Problem:
    """An error from a worker in words: our own errors as they put it, an OS error as the
    system says it; anything else is ours to fix, so it says so and the Python text goes into
    the details."""
    if isinstance(error, UploaderError):
        return Problem(title, error.message)
    technical = f"{type(error).__name__}: {error}"
    if isinstance(error, OSError) and error.strerror:
        name = f" ({error.filename})" if error.filename else ""
        return Problem(title, f"{error.strerror}{name}.", technical)
    return Problem(
        title,
        "Something went wrong inside Desktop Uploader; nothing was lost. If it happens "
        "again, please report it with the details.",
        technical,
        internal=True,
    )
