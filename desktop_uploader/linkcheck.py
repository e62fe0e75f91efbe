"""Do the links in history still open? ``history --check`` and ``doctor`` ask each one for its
first bytes, as a browser would, and say which are dead and why.

A link is dead when its URL does not give back the object's first bytes. For a private
destination the recorded link is a presigned URL that expires by design, so there the object
itself is read through S3 and an expired link is told apart from a lost object.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from desktop_uploader.errors import UploaderError

log = logging.getLogger(__name__)

FIRST_BYTES = 1024


@dataclass(frozen=True)
class LinkCheck:
    job_id: int
    url: str
    ok: bool
    problem: str | None = None  # what is wrong, in plain words, when not ok


def read_first_bytes(url: str, timeout: float = 10.0) -> str | None:
    """None if ``url`` gives back its first bytes; else what went wrong."""
    request = urllib.request.Request(url, headers={"Range": f"bytes=0-{FIRST_BYTES - 1}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            if resp.status not in (200, 206):
                return f"the link answered {resp.status}"
            if not resp.read(FIRST_BYTES):
                return "the link answered with no data"
            return None
    except urllib.error.HTTPError as e:
        return f"the link answered {e.code} {e.reason}"
    except (OSError, ValueError) as e:
        return f"the link's server is not reachable ({type(e).__name__}: {e})"


def check_history(
    rows: Iterable[dict],
    is_private: Callable[[str], bool],
    uploader_for: Callable[[str], Any],
    timeout: float = 10.0,
) -> list[LinkCheck]:
    """Check the main link (and thumbnail) of every finished upload in ``rows``.

    ``is_private(profile)``: whether that destination hands out presigned links; only those
    need ``uploader_for(profile)`` (to read the object through S3)."""
    uploaders: dict[str, Any] = {}  # the caller closes what uploader_for made
    results = []
    for row in rows:
        if row.get("status") not in ("done", "duplicate") or not row.get("url"):
            continue
        profile = row.get("profile") or ""
        if not is_private(profile):
            results.append(_check_links(row, timeout))
            continue
        if profile not in uploaders:
            try:
                uploaders[profile] = uploader_for(profile)
            except UploaderError as e:
                log.info("cannot reach destination %s to check links: %s", profile, e)
                uploaders[profile] = None
        results.append(_check_private(row, uploaders[profile], timeout))
    return results


def summary(checks: list[LinkCheck], names: dict[int, str], limit: int = 5) -> str:
    """One sentence on the dead links among ``checks`` (``names``: job id -> file name)."""
    dead = [c for c in checks if not c.ok]
    if not dead:
        return f"All {len(checks)} link(s) checked open."
    listing = "; ".join(f"{names.get(c.job_id, c.job_id)}: {c.problem}" for c in dead[:limit])
    more = f" and {len(dead) - limit} more" if len(dead) > limit else ""
    return (
        f"{len(dead)} of {len(checks)} link(s) are dead: {listing}{more}. Uploading those "
        "files again stores them anew; `desktop-uploader history --check` lists them all."
    )


def _links(row: dict) -> list[tuple[str, str]]:
    links = [("link", row["url"])]
    if row.get("thumbnail_url"):
        links.append(("thumbnail link", row["thumbnail_url"]))
    return links


def _check_links(row: dict, timeout: float) -> LinkCheck:
    for what, url in _links(row):
        problem = read_first_bytes(url, timeout)
        if problem:
            return LinkCheck(row["id"], row["url"], False, f"{what}: {problem}")
    return LinkCheck(row["id"], row["url"], True)


def _check_private(row: dict, up: Any, timeout: float) -> LinkCheck:
    if up is None:
        return _check_links(row, timeout)
    keys = [("object", row["key"])]
    if row.get("thumbnail_key"):
        keys.append(("thumbnail", row["thumbnail_key"]))
    for what, key in keys:
        try:
            if not up.readable(key):
                return LinkCheck(row["id"], row["url"], False, f"the {what} cannot be read")
        except UploaderError as e:
            return LinkCheck(row["id"], row["url"], False, e.message)
    expired = [what for what, url in _links(row) if read_first_bytes(url, timeout)]
    if expired:
        return LinkCheck(
            row["id"],
            row["url"],
            False,
            f"the {expired[0]} has expired (the object is fine): "
            "`desktop-uploader history --resign` gives fresh links",
        )
    return LinkCheck(row["id"], row["url"], True)


def check_app_history(app: Any, rows: list[dict]) -> dict[int, LinkCheck]:
    """{job id: LinkCheck} for the finished uploads among ``rows``, with ``app``'s
    destinations (``history --check``)."""
    made: list = []

    def uploader_for(profile: str) -> Any:
        made.append(app.uploader(profile))
        return made[-1]

    def is_private(profile: str) -> bool:
        dest = app.settings.destinations.get(profile)
        return bool(getattr(dest, "private", False))

    try:
        return {c.job_id: c for c in check_history(rows, is_private, uploader_for)}
    finally:
        for up in made:
            up.close()
