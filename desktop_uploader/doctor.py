"""``doctor``: check a destination end to end and say in plain words what is wrong."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass

from desktop_uploader.errors import StorageError, UploaderError


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    message: str

    def as_dict(self) -> dict:
        return {"check": self.check, "ok": self.ok, "message": self.message}


def run_doctor(app, profile: str | None = None, deep: bool = False) -> list[Finding]:
    """Credentials → endpoint → bucket → write → public read-back → history links → clean-up;
    stops at the first failure that makes later checks meaningless. ``deep``: check every
    link in history for this destination, not only the latest ones."""
    from desktop_uploader.pipeline.upload import CACHE_CONTROL, translate

    findings: list[Finding] = []
    try:
        dest = app.settings.destination(profile)
        findings.append(
            Finding("destination", True, f"Destination '{dest.name}' ({dest.provider}).")
        )
        target = app.target(dest.name)
        findings.append(
            Finding("credentials", True, f"Access key {target.keys.access_key_id[:4]}… found.")
        )
        uploader = app.uploader(dest.name)
    except UploaderError as e:
        findings.append(Finding("credentials", False, e.message))
        return findings

    client = uploader.client
    where = target.endpoint or "AWS S3"
    try:
        uploader.check_bucket()
        findings.append(
            Finding("endpoint", True, f"{where} answers; bucket '{target.bucket}' exists.")
        )
    except StorageError as err:
        findings.append(Finding("endpoint", False, err.message))
        return findings

    key = f"{dest.prefix.strip('/')}/.doctor/{secrets.token_hex(8)}.txt".lstrip("/")
    body = b"desktop-uploader doctor probe\n"
    try:
        client.put_object(
            Bucket=target.bucket,
            Key=key,
            Body=body,
            ContentType="text/plain",
            CacheControl=CACHE_CONTROL,
        )
        findings.append(Finding("write", True, "Writing a test object works."))
    except Exception as e:
        findings.append(Finding("write", False, translate(e, target.bucket).message))
        return findings

    from desktop_uploader.pipeline.deliver import public_url

    url = public_url(target.public_base_url, key)
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            got = resp.read()
        if got == body:
            findings.append(
                Finding("public_read", True, f"Public links work ({target.public_base_url}).")
            )
        else:
            findings.append(
                Finding("public_read", False, f"{url} answered, but with different bytes.")
            )
    except urllib.error.HTTPError as e:
        findings.append(
            Finding(
                "public_read",
                False,
                f"The public URL answered {e.code}: links will not open for others. Make the "
                "bucket (or its prefix) publicly readable, or set the destination's public/CDN "
                f"base URL correctly (now {target.public_base_url}).",
            )
        )
    except OSError as e:
        findings.append(
            Finding(
                "public_read",
                False,
                f"The public base URL {target.public_base_url} is not reachable ({e}).",
            )
        )
    public_ok = findings[-1].ok
    findings.append(history_links(app, dest, uploader, deep, public_ok))
    hours = dest.abort_stale_uploads_after_hours
    try:
        stale = uploader.list_incomplete(older_than_hours=hours)
        if stale:
            listing = "; ".join(f"{u['key']} (since {u['initiated']})" for u in stale[:10])
            more = f" and {len(stale) - 10} more" if len(stale) > 10 else ""
            findings.append(
                Finding(
                    "stale_uploads",
                    True,
                    f"{len(stale)} unfinished multipart upload(s) older than {hours:g} h hold "
                    f"storage on the bucket: {listing}{more}. Uploads this app started are "
                    "aborted automatically; others can be aborted with the provider's tools.",
                )
            )
        else:
            findings.append(
                Finding("stale_uploads", True, f"No unfinished uploads older than {hours:g} h.")
            )
    except Exception as e:
        findings.append(
            Finding(
                "stale_uploads",
                True,
                f"Could not list unfinished uploads: {translate(e, target.bucket).message}",
            )
        )
    try:
        client.delete_object(Bucket=target.bucket, Key=key)
    except Exception as e:
        findings.append(
            Finding(
                "cleanup",
                False,
                f"Could not delete the test object {key}: {translate(e, target.bucket).message}",
            )
        )
    return findings


RECENT_LINKS = 20  # what a plain doctor run checks; --deep checks them all


def history_links(app, dest, uploader, deep: bool, public_ok: bool = True) -> Finding:
    """Whether the links history holds for ``dest`` still open (their first bytes)."""
    from desktop_uploader import linkcheck

    private = bool(getattr(dest, "private", False))
    if not private and not public_ok:  # each would wait for the same broken public URL
        return Finding("links", False, "Links in history not checked: public links fail (above).")

    rows = [
        r
        for r in app.journal.history(limit=1_000_000 if deep else 500)
        if r["profile"] == dest.name and r["status"] in ("done", "duplicate") and r.get("url")
    ]
    if not deep:
        rows = rows[:RECENT_LINKS]
    if not rows:
        return Finding("links", True, "No uploads to this destination in history yet.")
    checks = linkcheck.check_history(rows, lambda _p: private, lambda _p: uploader)
    names = {r["id"]: r["display_name"] for r in rows}
    which = "every" if deep else f"the last {len(rows)}"
    message = linkcheck.summary(checks, names)
    if all(c.ok for c in checks):
        message = f"{message[:-1]} ({which} upload(s) in history)."
    return Finding("links", all(c.ok for c in checks), message)
