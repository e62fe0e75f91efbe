"""The SQLite journal (WAL): every job and its outcome, multipart uploads and their parts.

One connection guarded by a lock: writes are tiny and serialised, reads are indexed. History is a
query over finished jobs.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from desktop_uploader import journal_schema
from desktop_uploader.records import FINAL_STATUSES, JobResult, JobStatus


class Journal:
    """Persistent record of jobs; safe to use from several threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA busy_timeout=5000")  # first: another process may be here too
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            # One process at a time creates and migrates (journal_schema): two commands
            # started together on a fresh home must not both run a migration.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                journal_schema.migrate(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # for the journal's companion tables (runs.Runs): one connection, one lock
    transaction, query = _tx, _query

    # -- jobs ------------------------------------------------------------------------------
    def add_job(
        self, source: str, display_name: str, profile: str, preset: str, preset_fp: str
    ) -> int:
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO jobs (source, display_name, profile, preset, preset_fp, status,"
                " created_at) VALUES (?, ?, ?, ?, ?, 'queued', ?)",
                (source, display_name, profile, preset, preset_fp, time.time()),
            )
            return int(cur.lastrowid)

    def update_job(self, job_id: int, **values: Any) -> None:
        if not values:
            return
        if values.get("status") in FINAL_STATUSES:
            values.setdefault("finished_at", time.time())
        cols = ", ".join(f"{k} = ?" for k in values)
        with self._tx() as db:
            db.execute(f"UPDATE jobs SET {cols} WHERE id = ?", (*values.values(), job_id))

    def record_result(
        self, job_id: int, result: JobResult, status: JobStatus | None = None
    ) -> None:
        """Write a job's outcome (``result.to_row()``); ``status`` overrides the result's own
        in the journal (``exported``: a ``process --out`` run is no upload, so no history)."""
        row = result.to_row()
        if status is not None:
            row["status"] = status.value
        row.pop("source", None)  # the row's own, as the job was queued
        self.update_job(job_id, **row)

    def result(self, job_id: int) -> JobResult | None:
        """The outcome recorded for a job (``queued`` while it is not finished)."""
        row = self.job(job_id)
        return None if row is None else JobResult.from_row(row)

    def job(self, job_id: int) -> dict | None:
        rows = self._query("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return dict(rows[0]) if rows else None

    def find_uploaded(self, source_sha256: str, profile: str, preset_fp: str) -> dict | None:
        """The earlier successful upload of the same source bytes with the same settings."""
        rows = self._query(
            "SELECT * FROM jobs WHERE source_sha256 = ? AND profile = ? AND preset_fp = ?"
            " AND status IN ('done', 'duplicate') AND key IS NOT NULL ORDER BY id DESC LIMIT 1",
            (source_sha256, profile, preset_fp),
        )
        return dict(rows[0]) if rows else None

    def history(
        self,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
        statuses: tuple[str, ...] = FINAL_STATUSES,
    ) -> list[dict]:
        """Finished jobs, newest first; ``search`` matches name, source, profile, status, URL or
        date ("2026-05-01"); ``statuses`` narrows them (the gallery's Uploaded / Rejected)."""
        wanted = [s for s in statuses if s in FINAL_STATUSES] or ["-"]
        sql = f"SELECT * FROM jobs WHERE status IN ({', '.join('?' * len(wanted))})"
        args: list[Any] = list(wanted)
        if search:
            like = f"%{search}%"
            sql += (
                " AND (display_name LIKE ? OR source LIKE ? OR profile LIKE ? OR status LIKE ?"
                " OR url LIKE ? OR code LIKE ?"
                " OR strftime('%Y-%m-%d %H:%M', created_at, 'unixepoch', 'localtime') LIKE ?)"
            )
            args += [like] * 7
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        args += [limit, offset]
        return [dict(r) for r in self._query(sql, tuple(args))]

    def mark_remote_deleted(self, job_id: int) -> None:
        """The uploaded object was deleted from its destination: drop the job from history."""
        self.update_job(job_id, status=JobStatus.DELETED.value, url=None, thumbnail_url=None)

    # -- held for content review ------------------------------------------------------------
    def hold(
        self, job_id: int, renditions: list, probe: dict, out_dir: str | None, **job: Any
    ) -> None:
        """Mark a job held for review (``job``: its code, reason, findings) with its outputs."""
        cols = ", ".join(f"{k} = ?" for k in job)
        with self._tx() as db:
            db.execute(
                f"UPDATE jobs SET status = 'held'{', ' + cols if cols else ''} WHERE id = ?",
                (*job.values(), job_id),
            )
            db.execute(
                "INSERT OR REPLACE INTO held (job_id, renditions, probe, out_dir, held_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (job_id, json.dumps(renditions), json.dumps(probe), out_dir, time.time()),
            )

    def held_jobs(self) -> list[dict]:
        """Jobs waiting for a review decision, oldest first, with ``held`` details."""
        rows = self._query(
            "SELECT jobs.*, held.renditions AS held_renditions, held.probe AS held_probe,"
            " held.out_dir AS held_out_dir, held.held_at FROM jobs JOIN held"
            " ON held.job_id = jobs.id WHERE jobs.status = 'held' ORDER BY held.held_at"
        )
        return [_held_row(r) for r in rows]

    def take_held(self, job_id: int) -> dict | None:
        """Claim a held job for a decision: it leaves 'held' (to 'queued') in one transaction,
        so two processes deciding at once cannot both act. None if it is not held (any more)."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT jobs.*, held.renditions AS held_renditions, held.probe AS held_probe,"
                " held.out_dir AS held_out_dir, held.held_at FROM jobs JOIN held"
                " ON held.job_id = jobs.id WHERE jobs.id = ? AND jobs.status = 'held'",
                (job_id,),
            ).fetchall()
            if not rows:
                return None
            db.execute("UPDATE jobs SET status = 'queued' WHERE id = ?", (job_id,))
            db.execute("DELETE FROM held WHERE job_id = ?", (job_id,))
            return _held_row(rows[0])

    # -- watched folders -------------------------------------------------------------------
    def watched_files(self, root: str) -> dict[str, tuple[int, int, str]]:
        """{path: (size, mtime_ns, state)} for every file recorded under folder ``root``."""
        prefix = root.rstrip("/\\") + "/"
        rows = self._query(
            "SELECT path, size, mtime_ns, state FROM watched_files WHERE substr(path, 1, ?) = ?",
            (len(prefix), prefix),
        )
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def record_watched(
        self, path: str, size: int, mtime_ns: int, state: str, job_id: int | None = None
    ) -> None:
        """Remember a watched file's state (pending until its upload is verified)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO watched_files (path, size, mtime_ns, state, job_id,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (path, size, mtime_ns, state, job_id, time.time()),
            )

    def forget_watched(self, path: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM watched_files WHERE path = ?", (path,))

    # -- spooled outputs ------------------------------------------------------------------
    def record_spool(
        self, job_id: int, source_sha256: str, profile: str, preset_fp: str, renditions: list
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO spool (job_id, source_sha256, profile, preset_fp,"
                " renditions, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (job_id, source_sha256, profile, preset_fp, json.dumps(renditions), time.time()),
            )

    def find_spool(self, source_sha256: str, profile: str, preset_fp: str) -> list[dict]:
        """Renditions spooled by an earlier, unfinished job for the same source and settings."""
        return [r["renditions"] for r in self.spool_entries(source_sha256, profile, preset_fp)]

    def spool_entries(self, source_sha256: str, profile: str, preset_fp: str) -> list[dict]:
        """``{"job_id", "renditions"}`` per spooled output for this source, newest first."""
        rows = self._query(
            "SELECT job_id, renditions FROM spool WHERE source_sha256 = ? AND profile = ?"
            " AND preset_fp = ? ORDER BY created_at DESC",
            (source_sha256, profile, preset_fp),
        )
        return [{"job_id": r["job_id"], "renditions": json.loads(r["renditions"])} for r in rows]

    def drop_spool(self, job_ids: list[int]) -> None:
        with self._tx() as db:
            db.executemany("DELETE FROM spool WHERE job_id = ?", [(j,) for j in job_ids])

    def stale_multipart(self, older_than: float) -> list[dict]:
        """Open multipart uploads started more than ``older_than`` seconds ago."""
        rows = self._query(
            "SELECT * FROM multipart_uploads WHERE state = 'open' AND created_at < ?",
            (time.time() - older_than,),
        )
        return [dict(r) for r in rows]

    # -- multipart uploads -----------------------------------------------------------------
    def open_multipart(self, bucket: str, key: str, file_sha256: str) -> dict | None:
        rows = self._query(
            "SELECT * FROM multipart_uploads WHERE bucket = ? AND key = ? AND file_sha256 = ?"
            " AND state = 'open' ORDER BY created_at DESC LIMIT 1",
            (bucket, key, file_sha256),
        )
        return dict(rows[0]) if rows else None

    def begin_multipart(
        self,
        upload_id: str,
        job_id: int | None,
        bucket: str,
        key: str,
        part_size: int,
        total_size: int,
        file_sha256: str,
        checksum_algorithm: str = "",
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO multipart_uploads (upload_id, job_id, bucket, key, part_size,"
                " total_size, file_sha256, checksum_algorithm, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    upload_id,
                    job_id,
                    bucket,
                    key,
                    part_size,
                    total_size,
                    file_sha256,
                    checksum_algorithm,
                    time.time(),
                ),
            )

    def record_part(
        self, upload_id: str, number: int, etag: str, md5: str, size: int, checksum: str = ""
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO parts (upload_id, part_number, etag, md5, size, checksum)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (upload_id, number, etag, md5, size, checksum),
            )

    def parts(self, upload_id: str) -> list[dict]:
        rows = self._query(
            "SELECT * FROM parts WHERE upload_id = ? ORDER BY part_number", (upload_id,)
        )
        return [dict(r) for r in rows]

    def close_multipart(self, upload_id: str, state: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE multipart_uploads SET state = ? WHERE upload_id = ?", (state, upload_id)
            )


def _held_row(row: sqlite3.Row) -> dict:
    d = dict(row)
    d["findings"] = json.loads(d.get("findings") or "[]")
    d["held_renditions"] = json.loads(d["held_renditions"])
    d["held_probe"] = json.loads(d["held_probe"])
    return d
