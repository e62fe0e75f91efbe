"""Test connection, in words: what to fix before asking the server anything, then doctor's checks
with their technical parts set apart for the "Details…" disclosure. No Qt (runs on a worker)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from desktop_uploader.gui.words import provider_name, split_details


@dataclass(frozen=True)
class Line:
    ok: bool
    text: str  # what happened and what to do
    details: str = ""  # technical text, for "Details…"


def fill_in_first(dest, keys) -> list[Line]:
    """Problems in what is typed, found without the network (an empty bucket must not reach
    botocore, whose answer is a regular expression)."""
    if dest.is_local:
        return []
    problems = []
    if not dest.bucket.strip():
        problems.append(Line(False, "Enter a bucket name: the bucket must already exist."))
    endpoint = (dest.endpoint or "").strip()
    if endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(
                Line(
                    False,
                    "The endpoint must be a web address such as "
                    "https://<account>.r2.cloudflarestorage.com (or empty for Amazon S3).",
                )
            )
    if keys is None or not keys.access_key_id or not keys.secret_access_key:
        problems.append(Line(False, "Enter the access key ID and the secret access key."))
    return problems


def reach(endpoint: str | None, timeout: float = 5.0) -> Line | None:
    """Is anything answering at the endpoint's host and port? None when it is (or no custom
    endpoint is set); a Line saying what to check when not."""
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror as e:
        text = f"The name {host} is not known. Check the endpoint address for typos."
        return Line(False, text, f"{type(e).__name__}: {e}")
    except OSError as e:
        text = (
            f"Nothing answers at {host}:{port}. Check the endpoint address, that the service "
            "is running, and that this computer is online."
        )
        return Line(False, text, f"{type(e).__name__}: {e}")


def in_words(findings, dest=None) -> list[Line]:
    """Doctor's findings, with exception names and texts moved to the details."""
    lines = []
    for f in findings:
        text, details = split_details(f.message)
        if f.check == "destination" and f.ok and dest is not None:
            text = f"Destination “{dest.name}” on {provider_name(dest.provider)}."
        text = text.replace("; the upload stays queued.", ".")  # nothing is uploading here
        lines.append(Line(f.ok, text, details))
    return lines


def check_connection(shim, name: str) -> list[Line]:
    """Worker thread: the checks above, then doctor on the unsaved settings and keys."""
    from desktop_uploader.doctor import run_doctor

    dest = shim.settings.destinations[name]
    try:
        keys = shim.credentials.get(name)
    except Exception:
        keys = None
    problems = fill_in_first(dest, keys)
    if problems:
        return problems
    unreachable = None if dest.is_local else reach(dest.endpoint)
    if unreachable is not None:
        return [unreachable]
    return in_words(run_doctor(shim, name), dest)
