"""Which process runs each unfinished job, so a start after a crash takes the orphans up again
(``Engine.resume_unfinished``) while jobs another live process runs are left alone.

A table beside the journal's ``jobs`` (same database, same connection): a row per job while it is
unfinished, naming its process by PID and start time (a PID alone is reused).
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from desktop_uploader.jobs import RESUMABLE
from desktop_uploader.journal import Journal

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    owner TEXT NOT NULL,  -- "pid:start time" of the process running the job
    out_dir TEXT,  -- `process --out`: where the outputs go (a resume must not upload them)
    in_folder INTEGER NOT NULL DEFAULT 0  -- found in a folder: a README is skipped, not refused
)
"""
_IN_RESUMABLE = f"jobs.status IN ({', '.join('?' * len(RESUMABLE))})"


def owner_token(pid: int | None = None) -> str:
    """A process as the table names it: PID and start time."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}:{psutil.Process(pid).create_time():.3f}"


def owner_alive(token: str | None) -> bool:
    """The process ``token`` names still runs (the same one, not a new one with its PID)."""
    pid_text, _, _started = (token or "").partition(":")
    try:
        return owner_token(int(pid_text)) == token
    except (ValueError, psutil.Error):
        return False


class Runs:
    """The ``runs`` table: who runs which unfinished job."""

    def __init__(self, journal: Journal, owner: str | None = None) -> None:
        self.journal = journal
        self.owner = owner or owner_token()
        with journal.transaction() as db:
            db.execute(SCHEMA)

    def started(self, job_id: int, out_dir: Path | None, in_folder: bool) -> None:
        """This process runs ``job_id`` from now on."""
        with self.journal.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs (job_id, owner, out_dir, in_folder)"
                " VALUES (?, ?, ?, ?)",
                (job_id, self.owner, None if out_dir is None else str(out_dir), int(in_folder)),
            )

    def ended(self, job_id: int) -> None:
        with self.journal.transaction() as db:
            db.execute("DELETE FROM runs WHERE job_id = ?", (job_id,))

    def orphans(self) -> list[dict]:
        """Unfinished jobs whose process is gone, oldest first: the journal's row with
        ``owner``, ``out_dir``, ``in_folder``. Held jobs wait for a decision instead."""
        rows = self.journal.query(
            "SELECT jobs.*, runs.owner, runs.out_dir, runs.in_folder FROM jobs JOIN runs"
            f" ON runs.job_id = jobs.id WHERE {_IN_RESUMABLE} ORDER BY jobs.id",
            RESUMABLE,
        )
        alive: dict[str, bool] = {}
        out = []
        for r in rows:
            owner = r["owner"]
            if owner not in alive:
                alive[owner] = owner == self.owner or owner_alive(owner)
            if not alive[owner]:
                out.append(dict(r))
        return out

    def claim(self, job_id: int, expected: str) -> bool:
        """Take an orphan over from ``expected``: True for exactly one of several processes
        that try at once (a window and a ``watch`` started together)."""
        with self.journal.transaction() as db:
            rows = db.execute(
                "SELECT runs.owner FROM runs JOIN jobs ON jobs.id = runs.job_id"
                f" WHERE runs.job_id = ? AND {_IN_RESUMABLE}",
                (job_id, *RESUMABLE),
            ).fetchall()
            if not rows or rows[0][0] != expected:
                return False
            db.execute("UPDATE runs SET owner = ? WHERE job_id = ?", (self.owner, job_id))
            return True
