"""The journal's schema as numbered migrations, counted by SQLite's ``PRAGMA user_version``.

A journal at version N has had migrations 1..N applied, each once, in order, inside the one
``BEGIN IMMEDIATE`` transaction that opens it (two processes starting together on a fresh home
cannot both migrate: the second sees the first one's version). To change the schema, append a
migration: never edit one that has shipped, as journals in the wild already ran it.

Migration 1 is the schema as it stood when numbering began. Journals made before that carry
version 0 and any of the earlier layouts (columns were added by probing the table): migration 1
creates what is missing and adds the columns those layouts lacked, once. From then on, versions
alone say what a journal has.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

BASELINE = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    display_name TEXT NOT NULL,
    source_sha256 TEXT,
    source_size INTEGER,
    profile TEXT NOT NULL,
    preset TEXT NOT NULL,
    preset_fp TEXT NOT NULL,
    status TEXT NOT NULL,
    code TEXT,
    reason TEXT,
    key TEXT,
    thumbnail_key TEXT,
    url TEXT,
    thumbnail_url TEXT,
    sha256 TEXT,
    bytes INTEGER,
    width INTEGER,
    height INTEGER,
    had_gps INTEGER,
    created_at REAL NOT NULL,
    finished_at REAL,
    variants TEXT,  -- JSON: the responsive set (JobResult.variants)
    lqip TEXT,
    stable_url TEXT,
    scanned INTEGER,  -- 1 the malware scan ran, 0 it did not (off, or no scanner), NULL unknown
    findings TEXT  -- JSON: what the content check found (label, score, …)
);
CREATE TABLE IF NOT EXISTS spool (
    -- processed outputs waiting on disk for their upload to be verified: a resume reuses them
    job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    source_sha256 TEXT NOT NULL,
    profile TEXT NOT NULL,
    preset_fp TEXT NOT NULL,
    renditions TEXT NOT NULL,  -- JSON: [{role, path, sha256, bytes, width, height, ...}]
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS spool_by_source ON spool (source_sha256, profile, preset_fp);
CREATE INDEX IF NOT EXISTS jobs_by_source ON jobs (source_sha256, profile, preset_fp, status);
CREATE INDEX IF NOT EXISTS jobs_by_time ON jobs (created_at);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);
CREATE TABLE IF NOT EXISTS held (
    -- jobs held for content review (jobs.status = 'held'): the outputs that wait on disk for
    -- the user's decision, so any process can finish them (`desktop-uploader review`)
    job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    renditions TEXT NOT NULL,  -- JSON, as in spool
    probe TEXT NOT NULL,  -- JSON: what validation learned (format, size, frames, GPS)
    out_dir TEXT,  -- `process --out`: where the outputs go once approved
    held_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS watched_files (
    -- what the folder watcher saw and did: a start-up scan compares path+size+mtime, no hashing
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    state TEXT NOT NULL,  -- pending | done | rejected
    job_id INTEGER,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS multipart_uploads (
    upload_id TEXT PRIMARY KEY,
    job_id INTEGER,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    part_size INTEGER NOT NULL,
    total_size INTEGER NOT NULL,
    file_sha256 TEXT NOT NULL,
    checksum_algorithm TEXT NOT NULL DEFAULT '',  -- of the parts; '' in older journals
    state TEXT NOT NULL DEFAULT 'open',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL REFERENCES multipart_uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    etag TEXT NOT NULL,
    md5 TEXT NOT NULL,
    size INTEGER NOT NULL,
    checksum TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (upload_id, part_number)
);
"""

# columns that journals from before the numbering may lack (the probing of old, now frozen)
_ADDED_BEFORE_NUMBERING = {
    "parts": {"checksum": "TEXT NOT NULL DEFAULT ''"},
    "multipart_uploads": {"checksum_algorithm": "TEXT NOT NULL DEFAULT ''"},
    "jobs": {
        "variants": "TEXT",
        "lqip": "TEXT",
        "stable_url": "TEXT",
        "scanned": "INTEGER",
        "findings": "TEXT",
    },
}


def statements(script: str) -> list[str]:
    """The statements of an SQL script, one by one (``executescript`` would commit the open
    transaction first). A statement ends at a ``;`` that sqlite3.complete_statement accepts,
    so one inside a string or a comment does not split it."""
    *pieces, pending = script.split(";")  # after the last ``;``: comments or an error
    out, statement = [], ""
    for piece in pieces:
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            out.append(statement.strip())
            statement = ""
    pending = statement + pending
    rest = "\n".join(line for line in pending.splitlines() if not line.strip().startswith("--"))
    if rest.strip():
        raise ValueError(f"incomplete SQL statement: {rest.strip()[:60]}")
    return out


def _baseline(db: sqlite3.Connection) -> None:
    for sql in statements(BASELINE):
        db.execute(sql)
    for table, columns in _ADDED_BEFORE_NUMBERING.items():
        have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        for name, decl in columns.items():
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")


Migration = Callable[[sqlite3.Connection], None] | str
# index i holds migration i + 1: a function, or an SQL script run statement by statement
MIGRATIONS: list[Migration] = [_baseline]


def version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration] | None = None) -> int:
    """Bring ``db`` (inside an open write transaction) to the latest version; returns it."""
    migrations = MIGRATIONS if migrations is None else migrations
    have = version(db)
    if have > len(migrations):
        # a newer app made it; its migrations only ever add, so this version can still work
        log.warning("journal schema %s is newer than this app's (%s)", have, len(migrations))
        return have
    for number in range(have + 1, len(migrations) + 1):
        step = migrations[number - 1]
        if isinstance(step, str):
            for sql in statements(step):
                db.execute(sql)
        else:
            step(db)
        db.execute(f"PRAGMA user_version = {number}")  # in the transaction: all or nothing
        log.info("journal migrated to schema %s", number)
    return len(migrations)
