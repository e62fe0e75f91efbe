"""A job's life as a state machine: one table of moves, each journaled before its event, and
finished jobs leave the engine's memory (the journal keeps them). Real journal, real store."""

from __future__ import annotations

import gc
import sqlite3
import subprocess
import sys
import threading
import time
import weakref
from concurrent.futures import Future
from pathlib import Path

import pytest
from imagegen import jpeg_bytes, scene

from desktop_uploader import events as ev
from desktop_uploader.config import Preset
from desktop_uploader.events import JobResult
from desktop_uploader.jobs import (
    FINISHED,
    TRANSITIONS,
    UNFINISHED,
    IllegalTransition,
    Job,
    JobState,
    Lifecycle,
    transition,
)
from desktop_uploader.journal import Journal
from desktop_uploader.runs import Runs, owner_alive, owner_token


def _job(journal: Journal, state: JobState = JobState.QUEUED) -> Job:
    job_id = journal.add_job("/x.jpg", "x.jpg", "test", "web", "fp")
    return Job(job_id, Path("/x.jpg"), "x.jpg", "test", Preset("web"), Future(), state=state)


def test_the_table_allows_what_the_stages_do_and_nothing_else(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    job = _job(journal)
    path = [JobState.VALIDATING, JobState.PROCESSING, JobState.UPLOADING, JobState.PAUSED]
    path += [JobState.UPLOADING, JobState.WAITING_FOR_DESTINATION, JobState.UPLOADING]
    path += [JobState.DONE, JobState.DELETED]
    for state in path:
        transition(job, state)
    assert job.state is JobState.DELETED and job.stage == "deleted"
    with pytest.raises(IllegalTransition):
        transition(job, JobState.UPLOADING)
    fresh = _job(journal)
    for illegal in (JobState.DONE, JobState.UPLOADING, JobState.WAITING_FOR_REVIEW):
        with pytest.raises(IllegalTransition, match="cannot go from queued"):
            transition(fresh, illegal)
    assert fresh.state is JobState.QUEUED  # a refused move leaves the job where it was
    # a finished job never comes back; every unfinished one may fail, be cancelled, re-queued
    for state in FINISHED:
        assert JobState.QUEUED not in TRANSITIONS[state]
        assert TRANSITIONS[state] <= {JobState.DELETED}
    for state in UNFINISHED:
        assert {JobState.FAILED, JobState.CANCELLED, JobState.QUEUED} <= TRANSITIONS[state]
    assert set(TRANSITIONS) == set(JobState)


def test_every_move_is_journaled_before_its_event(tmp_path):
    """A subscriber reading the journal through its own connection sees the new status
    already when each event arrives; a refused move writes and publishes nothing."""
    db = tmp_path / "j.sqlite3"
    journal = Journal(db)
    seen: list[tuple[str, str, str]] = []
    reader = sqlite3.connect(db, check_same_thread=False)

    def on_event(event: ev.Event) -> None:
        status = reader.execute("SELECT status FROM jobs WHERE id = ?", (event.job_id,)).fetchone()
        seen.append((event.kind, event.data.get("stage", ""), status[0]))

    ended: list[int] = []
    life = Lifecycle(journal, on_event, lambda job, record: ended.append(job.id))
    job = _job(journal)
    life.queued(job)
    life.move(job, JobState.VALIDATING)
    life.move(job, JobState.PROCESSING)
    life.move(job, JobState.WAITING_FOR_REVIEW, reason="held")
    with pytest.raises(IllegalTransition):
        life.move(job, JobState.VALIDATING)
    result = JobResult("/x.jpg", "rejected", code="content:X", reason="no")
    life.finish(job, JobState.REJECTED, result, {"status": "rejected", "code": "content:X"})
    assert seen == [
        ("queued", "", "queued"),
        ("stage", "validating", "validating"),
        ("stage", "processing", "processing"),
        ("stage", "waiting_for_review", "held"),  # the journal's word for it
        ("rejected", "", "rejected"),
    ]
    assert job.future.result() is result and ended == [job.id]
    life.finish(job, JobState.FAILED, result, {"status": "failed"})  # one result per job
    assert journal.job(job.id)["status"] == "rejected" and len(seen) == 5


def test_engine_moves_are_journaled_before_events_end_to_end(app, tmp_path):
    """The real engine uploading to the real store: at every event the job's status in the
    journal (another connection) is already the state the event announces."""
    src = tmp_path / "photo.jpg"
    src.write_bytes(jpeg_bytes(scene(800, 600, seed=3)))
    reader = sqlite3.connect(app.paths.journal_file, check_same_thread=False)
    lock = threading.Lock()
    seen: list[tuple[str, str]] = []

    def on_event(event: ev.Event) -> None:
        if event.kind in (ev.PROGRESS,) or "warning" in event.data:
            return
        with lock:
            row = reader.execute("SELECT status FROM jobs WHERE id = ?", (event.job_id,))
            status = row.fetchone()[0]
        state = event.data.get("stage") or event.kind
        seen.append((state, status))

    app.engine.subscribe(on_event)
    job = app.engine.submit(src, "test", app.settings.preset(None))
    assert job.future.result(timeout=120).status == "done"
    assert [s for s, _ in seen] == ["queued", "validating", "processing", "uploading", "done"]
    assert all(state == status for state, status in seen), seen


def _noise_files(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        p = folder / f"note{i}.txt"
        p.write_text(f"not an image {i}\n")
        files.append(p)
    return files


def test_finished_jobs_leave_memory(app, tmp_path):
    """Hundreds of jobs through one engine: its job map holds the unfinished ones only, and a
    finished Job is garbage once the caller lets go; the journal keeps every one."""
    engine = app.engine
    preset = app.settings.preset(None)
    images = []
    for i in range(12):
        p = tmp_path / "img" / f"p{i}.jpg"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(jpeg_bytes(scene(320, 240, seed=i)))
        images.append(p)
    refs, peak = [], 0
    for round_ in range(4):
        notes = _noise_files(tmp_path / f"notes{round_}", 60)
        jobs = [engine.submit(p, "test", preset) for p in notes + images]
        peak = max(peak, len(engine._jobs))
        results = [j.future.result(timeout=180) for j in jobs]
        assert {r.status for r in results} <= {"rejected", "done", "duplicate"}
        assert engine.jobs() == [] and engine._jobs == {}, "finished jobs stayed in memory"
        refs += [weakref.ref(j) for j in jobs]
        del jobs, results
    # the pool thread that resolved the last future is still leaving its work item (which
    # holds the job) for a moment after the caller sees the result: give it that moment
    deadline = time.monotonic() + 5
    while True:
        gc.collect()
        alive = sum(r() is not None for r in refs)
        if alive == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert alive == 0, "a finished Job is still referenced"
    assert peak <= 72
    assert len(app.journal.history(limit=1000)) == 4 * 72
    assert app.journal.query("SELECT count(*) FROM runs")[0][0] == 0


def test_resume_takes_up_orphans_only(app, tmp_path):
    """Jobs whose process is gone are taken up again (once, by one engine); a job a live
    process runs is left alone."""
    journal = app.journal
    preset = app.settings.preset(None)
    src = tmp_path / "orphan.jpg"
    src.write_bytes(jpeg_bytes(scene(640, 480, seed=9)))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # a process that lived and died: its token names a PID that is gone
    dead_token = f"{dead.pid}:1.000"
    assert not owner_alive(dead_token) and owner_alive(owner_token())
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live_token = owner_token(live.pid)
        ids = {}
        for token, name in ((dead_token, "orphan"), (live_token, "busy")):
            job_id = journal.add_job(str(src), name, "test", preset.name, preset.fingerprint())
            journal.update_job(job_id, status="uploading")
            Runs(journal, token).started(job_id, None, False)
            ids[name] = job_id
        resumed = app.engine.resume_unfinished(app.settings.preset)
        assert [j.id for j in resumed] == [ids["orphan"]]
        assert app.engine.resume_unfinished(app.settings.preset) == []  # claimed already
        result = resumed[0].future.result(timeout=120)
        assert result.status == "done" and result.job_id == ids["orphan"]
        assert journal.job(ids["busy"])["status"] == "uploading"  # not ours to take
    finally:
        live.kill()
        live.wait()
    resumed = app.engine.resume_unfinished(app.settings.preset)  # its process is gone now
    assert [j.id for j in resumed] == [ids["busy"]]
    assert resumed[0].future.result(timeout=120).status in ("done", "duplicate")
