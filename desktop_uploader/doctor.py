"""``doctor``: check a destination end to end and say in plain words what is wrong."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from desktop_uploader.errors import StorageError, UploaderError


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    message: str
    warning: bool = False  # works, but something the user should act on

    @property
    def level(self) -> str:
        return "bad" if not self.ok else "warn" if self.warning else "ok"

    def as_dict(self) -> dict:
        return {"check": self.check, "ok": self.ok, "message": self.message, "level": self.level}


def run_doctor(app, profile: str | None = None, deep: bool = False) -> list[Finding]:
    """The destination end to end, then the malware scanner it relies on. ``deep``: check
    every link in history for this destination, not only the latest ones."""
    findings = _store_findings(app, profile, deep)
    try:
        findings += scanner_findings(app, profile)
    except UploaderError as e:  # e.g. an unknown destination: already reported above
        findings.append(Finding("malware_scan", False, e.message))
    return findings


def _store_findings(app, profile: str | None = None, deep: bool = False) -> list[Finding]:
    """Credentials → endpoint → bucket → write → public read-back → history links → clean-up;
    stops at the first failure that makes later checks meaningless."""
    from desktop_uploader.pipeline.upload import CACHE_CONTROL, translate

    findings: list[Finding] = []
    try:
        dest = app.settings.destination(profile)
        findings.append(
            Finding("destination", True, f"Destination '{dest.name}' ({dest.provider}).")
        )
        if dest.is_local:
            findings.append(local_store_finding())
            if not findings[-1].ok:
                return findings
        target = app.target(dest.name)
        findings.append(
            Finding("credentials", True, f"Access key {target.keys.access_key_id[:4]}… found.")
        )
        uploader = app.uploader(dest.name)
    except UploaderError as e:
        findings.append(Finding("credentials", False, e.message))
        return findings

    store = uploader.store
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
        store.put(key, body, {"ContentType": "text/plain", "CacheControl": CACHE_CONTROL})
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
        store.delete(key)
    except Exception as e:
        findings.append(
            Finding(
                "cleanup",
                False,
                f"Could not delete the test object {key}: {translate(e, target.bucket).message}",
            )
        )
    return findings


def local_store_finding() -> Finding:
    """Is the embedded store's program there (on Linux a package of its own)?"""
    from desktop_uploader.errors import LocalStoreError
    from desktop_uploader.localstore import find_weed

    try:
        return Finding("local_store", True, f"The embedded store's program: {find_weed()}.")
    except LocalStoreError as e:
        return Finding("local_store", False, e.message)


def scanner_findings(app, profile: str | None = None) -> list[Finding]:
    """The malware scanner as this destination's policy needs it: is there one, which, and how
    old its signatures are (nothing is started to find out)."""
    from pathlib import Path

    from desktop_uploader.pipeline import scanstatus

    policy = app.validation_policy(profile).malware_scan
    name = app.settings.destination(profile).name
    scanning = app.settings.scanning
    db = Path(scanning.database_dir)
    if policy == "off":
        return [
            Finding(
                "malware_scan",
                True,
                f"Malware scanning is off for '{name}': files go up unscanned.",
                warning=True,
            )
        ]
    problem = scanstatus.diagnose(db, scanning.clamd_socket or None, scanning.start_own_clamd)
    if problem is not None:
        if policy == "optional":
            what = f"files to '{name}' go up unscanned (malware_scan = optional)"
        else:
            wait = scanning.scanner_wait
            what = f"uploads to '{name}' wait up to {wait:g} s for a scanner, then fail"
        return [
            Finding(
                "malware_scan",
                policy == "optional",
                f"No malware scan: {what}. {problem.text()}",
                warning=policy == "optional",
            )
        ]
    found = [Finding("malware_scan", True, f"Malware scan ({policy}) for '{name}': {_scanner()}")]
    return found + [_signatures_finding(app, db)]


def _scanner() -> str:
    from desktop_uploader.pipeline.clamd import find_system_socket

    sock = find_system_socket()
    return f"clamd answers at {sock}." if sock else "our own clamd starts when needed."


def _signatures_finding(app, db) -> Finding:
    """Which signatures the scan uses and their age (clamd's own answer when one runs)."""
    from desktop_uploader.pipeline import scanstatus
    from desktop_uploader.pipeline.clamd import ClamdClient, find_system_socket

    sock = app.settings.scanning.clamd_socket or find_system_socket()
    age = None
    if sock:
        try:  # "ClamAV 1.4.6/27093/Sat Nov 30 09:30:00 2026"
            version = ClamdClient(sock).version()
        except Exception as e:
            return Finding("signatures", True, f"clamd did not say its signatures ({e}).", True)
        where = f"clamd reports {version}"
        parts = version.split("/")
        if len(parts) < 3:
            return Finding(
                "signatures",
                True,
                f"{where}, without a signature database version: it scans with custom "
                "signatures only (run `sudo freshclam` for ClamAV's).",
                warning=True,
            )
        try:
            built = datetime.strptime(parts[-1].strip(), "%a %b %d %H:%M:%S %Y")
            age = max(0.0, (datetime.now() - built).total_seconds() / 86400)
        except ValueError:
            age = None
    else:
        files = scanstatus.signature_files(db)
        age = scanstatus.signature_age_days(files)
        listing = ", ".join(f.name + (f" v{f.version}" if f.version else "") for f in files)
        where = f"signatures in {db}: {listing}"
    if age is not None and age > scanstatus.STALE_DAYS:
        return Finding(
            "signatures",
            True,
            f"The signatures are {age:.0f} days old ({where}): run `sudo freshclam`, and check "
            "that the clamav-freshclam service runs.",
            warning=True,
        )
    when = f", {age:.0f} day(s) old" if age is not None else ""
    return Finding("signatures", True, f"Up to date ({where}{when}).")


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
