"""Journal schema migrations (journal_schema): journals made by earlier versions open with
their rows kept, migrations run once each in order, and a failed one changes nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest

from desktop_uploader import journal_schema
from desktop_uploader.journal import Journal
from desktop_uploader.records import JobResult

# The DDL of the journal before numbered migrations (commit 3d93a0f, journal.py SCHEMA),
# copied verbatim; that version then added the columns in PROBED_3D93A0F when missing.
SCHEMA_3D93A0F = """
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
    finished_at REAL
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
PROBED_3D93A0F = (
    "ALTER TABLE jobs ADD COLUMN variants TEXT",
    "ALTER TABLE jobs ADD COLUMN lqip TEXT",
    "ALTER TABLE jobs ADD COLUMN stable_url TEXT",
    "ALTER TABLE jobs ADD COLUMN scanned INTEGER",
    "ALTER TABLE jobs ADD COLUMN findings TEXT",
)

DONE = JobResult(
    "/photos/a.jpg",
    "done",
    job_id=1,
    url="https://cdn/a.webp",
    thumbnail_url="https://cdn/a-thumb.webp",
    key="ab/ab.webp",
    thumbnail_key="ab/ab-thumb256.webp",
    sha256="ab" * 32,
    bytes=1234,
    width=900,
    height=600,
    had_gps=False,
    variants=[{"key": "ab/ab-w480.webp", "url": "https://cdn/w480", "width": 480}],
    scanned=True,
    findings=[{"label": "FACE_FEMALE", "score": 0.91}],
)


def _old_journal(path, ddl: str, probed=()) -> None:
    """A journal as an earlier version left it: its DDL, its rows, user_version 0."""
    db = sqlite3.connect(path)
    db.executescript(ddl)
    for sql in probed:
        db.execute(sql)
    db.execute(
        "INSERT INTO jobs (id, source, display_name, profile, preset, preset_fp, status,"
        " created_at, finished_at) VALUES (1, '/photos/a.jpg', 'a.jpg', 'local', 'default',"
        " 'fp', 'done', 100.0, 101.0)"
    )
    values = {k: v for k, v in DONE.to_row().items() if k not in ("source", "status")}
    have = {r[1] for r in db.execute("PRAGMA table_info(jobs)")}
    values = {k: v for k, v in values.items() if k in have}
    db.execute(
        f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in values)} WHERE id = 1",
        tuple(values.values()),
    )
    db.execute(
        "INSERT INTO multipart_uploads (upload_id, job_id, bucket, key, part_size, total_size,"
        " file_sha256, created_at) VALUES ('u1', 1, 'b', 'big.webp', 5, 10, 'ff', 100.0)"
    )
    db.execute("INSERT INTO parts (upload_id, part_number, etag, md5, size) VALUES ('u1', 1,"
               " 'e1', 'm1', 5)")  # fmt: skip
    db.commit()
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    db.close()


def _version(path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_previous_schema_journal_migrates_keeping_rows(tmp_path):
    path = tmp_path / "journal.db"
    _old_journal(path, SCHEMA_3D93A0F, PROBED_3D93A0F)
    journal = Journal(path)
    try:
        assert _version(path) == len(journal_schema.MIGRATIONS)
        assert journal.result(1) == DONE  # every field, JSON and booleans included
        assert journal.history()[0]["display_name"] == "a.jpg"
        assert [p["etag"] for p in journal.parts("u1")] == ["e1"]
        assert journal.open_multipart("b", "big.webp", "ff")["checksum_algorithm"] == ""
        new = journal.add_job("/photos/b.jpg", "b.jpg", "local", "default", "fp")
        journal.record_result(new, DONE.with_(job_id=new, source="/photos/b.jpg"))
        assert [r["id"] for r in journal.history()] == [new, 1]
    finally:
        journal.close()
    Journal(path).close()  # opened again: nothing left to migrate, nothing fails
    assert _version(path) == len(journal_schema.MIGRATIONS)


def test_oldest_layout_gets_the_tables_and_columns_added_since(tmp_path):
    """A journal from before checksums, variants, held files and watched folders."""
    oldest = SCHEMA_3D93A0F.replace(
        "    checksum_algorithm TEXT NOT NULL DEFAULT '',  -- of the parts; '' in older journals\n",
        "",
    ).replace("    checksum TEXT NOT NULL DEFAULT '',\n", "")
    cut = oldest.index("CREATE TABLE IF NOT EXISTS held")
    oldest = oldest[:cut] + oldest[oldest.index("CREATE TABLE IF NOT EXISTS multipart_uploads") :]
    path = tmp_path / "journal.db"
    _old_journal(path, oldest)
    journal = Journal(path)
    try:
        kept = journal.result(1)
        assert kept.url == DONE.url and kept.sha256 == DONE.sha256 and kept.variants == []
        assert journal.parts("u1")[0]["checksum"] == ""
        journal.record_result(1, DONE)
        assert journal.result(1) == DONE and journal.held_jobs() == []
        journal.record_watched("/w/a.jpg", 1, 2, "done", 1)
        assert journal.watched_files("/w") == {"/w/a.jpg": (1, 2, "done")}
    finally:
        journal.close()


def test_migrations_run_once_each_in_order(tmp_path, monkeypatch):
    path = tmp_path / "journal.db"
    Journal(path).close()
    assert _version(path) == 1
    ran = []

    def third(db):
        ran.append(3)
        assert [r[1] for r in db.execute("PRAGMA table_info(jobs)")][-1] == "note"

    monkeypatch.setattr(
        journal_schema, "MIGRATIONS", [*journal_schema.MIGRATIONS,
                                       "ALTER TABLE jobs ADD COLUMN note TEXT;", third]
    )  # fmt: skip
    Journal(path).close()
    Journal(path).close()
    assert ran == [3] and _version(path) == 3


def test_a_failed_migration_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "journal.db"
    _old_journal(path, SCHEMA_3D93A0F, PROBED_3D93A0F)
    monkeypatch.setattr(
        journal_schema, "MIGRATIONS",
        [*journal_schema.MIGRATIONS, "ALTER TABLE jobs ADD COLUMN x TEXT; NOT SQL AT ALL;"],
    )  # fmt: skip
    with pytest.raises(sqlite3.OperationalError):
        Journal(path)
    assert _version(path) == 0  # not even migration 1 stayed: one transaction
    db = sqlite3.connect(path)
    assert "x" not in {r[1] for r in db.execute("PRAGMA table_info(jobs)")}
    db.close()
    monkeypatch.undo()
    journal = Journal(path)
    try:
        assert journal.result(1) == DONE
    finally:
        journal.close()


def test_a_newer_journal_opens(tmp_path, caplog):
    path = tmp_path / "journal.db"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    journal = Journal(path)
    try:
        job = journal.add_job("/a.jpg", "a.jpg", "local", "default", "fp")
        assert journal.job(job)["status"] == "queued"
    finally:
        journal.close()
    assert "newer than this app's" in caplog.text and _version(path) == 99


def test_statements_split_where_sqlite_says():
    script = "CREATE TABLE t (a TEXT DEFAULT ';');  -- a comment; with a semicolon\nSELECT 1;"
    first, second = journal_schema.statements(script)
    assert first == "CREATE TABLE t (a TEXT DEFAULT ';');" and second.endswith("\nSELECT 1;")
    assert journal_schema.statements("SELECT 1;\n-- the end\n") == ["SELECT 1;"]
    with pytest.raises(ValueError):
        journal_schema.statements("SELECT 1; SELECT")
    assert json.loads(DONE.to_row()["findings"])[0]["score"] == 0.91
