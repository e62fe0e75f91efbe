"""Watched folders: new images are uploaded by themselves once they are complete.

Three parts, each simple on its own (Maestral's pattern):

* watchdog observers (the OS's native one, or polling for network shares) whose handler only
  puts paths on a queue;
* one gate thread that turns those paths into candidates and submits a file to the engine only
  when it is **stable** (size and mtime unchanged for the folder's ``stable_seconds`` and it can
  be opened), with at most ``max_in_flight`` jobs in the engine so a burst of thousands of files
  costs a few bytes per waiting path, not a job each;
* the journal's ``watched_files`` table (path, size, mtime, state), so a start-up scan finds
  files added while the app was closed without hashing anything it already uploaded, and files
  detected while the destination is unreachable are still pending after a restart.

The rules, the handler, the observer and the folder walk are in ``watch_sources``. No Qt here:
the GUI starts and stops a ``FolderWatcher`` and polls ``backlog()``.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from watchdog.observers.polling import PollingObserver

from desktop_uploader.config import Settings, WatchedFolder
from desktop_uploader.errors import Rejected
from desktop_uploader.events import JobResult
from desktop_uploader.pipeline.intake import open_regular, refusal_for
from desktop_uploader.watch_sources import (
    EnqueueHandler,
    WatchRule,
    native_observer,
    walk_folder,
)

log = logging.getLogger(__name__)

# States of a watched file that need no new attempt until the file changes.
SETTLED = ("done", "rejected", "skipped", "held")
# A file renamed into place (from inside the folder or from outside it: ``mv``, a file manager's
# move, how browsers and sync clients finish a download) or whose writer closed it (inotify's
# IN_CLOSE_WRITE) is complete: it is submitted as soon as it is seen, no wait. Only files seen
# growing (created/modified, or anything a polling observer reports) wait the folder's
# ``stable_seconds`` unchanged.
GRACE = {"closed": 0.0, "renamed": 0.0}


@dataclass
class _Candidate:
    rule: WatchRule
    size: int = -1
    mtime_ns: int = -1
    since: float = 0.0  # when size/mtime last changed (monotonic)
    grace: float | None = None  # shorter wait: the writer closed it, or it was renamed in
    refusal: Rejected | None = None  # not a file to upload (a FIFO, a link out of the folder)


class FolderWatcher:
    """Watches folders and submits stable files to the engine; ``start``/``stop`` once."""

    def __init__(
        self,
        engine,
        journal,
        settings: Settings,
        folders: Iterable[WatchedFolder] | None = None,
        max_in_flight: int = 16,
        poll_interval: float = 1.0,
        tick: float = 0.05,
        on_result: Callable[[Path, JobResult], None] | None = None,
    ) -> None:
        self.engine = engine
        self.journal = journal
        self.rules = [WatchRule.resolve(settings, f) for f in (folders or settings.watched_folders)]
        self.follow_symlinks = settings.limits.follow_symlinks
        self.max_in_flight = max(1, max_in_flight)
        self.poll_interval = poll_interval
        self.tick = tick
        self.on_result = on_result
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._candidates: dict[str, _Candidate] = {}
        self._ready: deque[tuple[str, _Candidate]] = deque()
        self._in_flight: set[str] = set()
        self._known: dict[str, tuple[int, int, str]] = {}  # path -> (size, mtime_ns, state)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._observers: list = []
        self._gate: threading.Thread | None = None
        self.scanned = threading.Event()  # set when the start-up scan has finished

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start observing, then scan the folders for files added while we were not running."""
        handler = EnqueueHandler(self._events, self._wake)
        # made only when used: an inotify observer starts a reader thread on construction
        made: dict[bool, object] = {}
        try:
            for rule in self.rules:
                rule.root.mkdir(parents=True, exist_ok=True)
                polled = rule.folder.polling
                if polled not in made:
                    obs = (
                        PollingObserver(timeout=self.poll_interval) if polled else native_observer()
                    )
                    made[polled] = obs
                    self._observers.append(obs)
                made[polled].schedule(handler, str(rule.root), recursive=rule.folder.recursive)
            for obs in self._observers:
                obs.start()
        except Exception:  # e.g. the inotify watch limit, a folder we may not read
            self.stop()
            raise
        self._gate = threading.Thread(target=self._run, name="du-watch-gate", daemon=True)
        self._gate.start()
        log.info("watching %s", ", ".join(str(r.root) for r in self.rules))

    def stop(self) -> None:
        """Stop observing and submitting (jobs already in the engine go on; files not yet
        submitted stay pending in the journal for the next start)."""
        self._stop.set()
        self._wake.set()
        for obs in self._observers:
            obs.stop()
        for obs in self._observers:
            if obs.ident is not None:  # started
                obs.join(10)
        self._observers.clear()
        if self._gate is not None:
            self._gate.join(30)
            self._gate = None

    def backlog(self) -> dict[str, int]:
        """Files waiting to become stable, stable and queued, and in the engine right now."""
        with self._lock:
            return {
                "settling": len(self._candidates),
                "queued": len(self._ready),
                "uploading": len(self._in_flight),
            }

    # -- the gate thread ----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._startup_scan()
        except Exception:
            log.exception("start-up scan of watched folders failed")
        self.scanned.set()
        while not self._stop.is_set():
            self._drain_events()
            self._check_candidates()
            self._submit_ready()
            self._wake.wait(self.tick)
            self._wake.clear()

    def _startup_scan(self) -> None:
        """Find files that are new or changed since the journal last saw them: compared by
        path, size and mtime only, so thousands of unchanged files cost a stat each."""
        for rule in self.rules:
            known = self.journal.watched_files(str(rule.root))
            with self._lock:
                self._known.update(known)
            self._adopt_running(rule, known)
            for path, size, mtime_ns in walk_folder(rule.root, rule.folder.recursive):
                if self._stop.is_set():
                    return
                seen = known.get(path)
                if seen and seen[:2] == (size, mtime_ns) and seen[2] in SETTLED:
                    continue
                if rule.wants(Path(path)):
                    self._add(path, rule)

    def _adopt_running(self, rule: WatchRule, known: dict[str, tuple[int, int, str]]) -> None:
        """Pending files the engine already runs (taken up again after a crash, or submitted
        before the watcher restarted): followed to their end, never submitted twice."""
        for job in self.engine.jobs():
            path = str(job.source)
            seen = known.get(path)
            if seen is None or seen[2] != "pending" or self._rule_for(job.source) is not rule:
                continue
            c = _Candidate(rule, seen[0], seen[1])
            with self._lock:
                self._in_flight.add(path)
            job.future.add_done_callback(
                lambda f, path=path, c=c, job_id=job.id: self._finished(path, c, job_id, f)
            )

    def _rule_for(self, path: Path) -> WatchRule | None:
        best = None
        for rule in self.rules:
            if path.is_relative_to(rule.root) and (
                best is None or len(rule.root.parts) > len(best.root.parts)
            ):
                best = rule
        return best if best is not None and best.wants(path) else None

    def _add(
        self, path: str, rule: WatchRule, grace: float | None = None, growing: bool = False
    ) -> None:
        with self._lock:
            c = self._candidates.get(path)
            if c is None:
                c = self._candidates[path] = _Candidate(rule, since=time.monotonic())
            if grace is not None:
                c.grace = grace if c.grace is None else min(c.grace, grace)
            elif growing:
                c.grace = None  # written to again after a close: wait until it is unchanged

    def _drain_events(self) -> None:
        while True:
            try:
                kind, raw = self._events.get_nowait()
            except queue.Empty:
                return
            path = Path(raw)
            if kind == "dir":
                if any(path.is_relative_to(r.root) for r in self.rules):
                    for p, _size, _mtime in walk_folder(path, True):
                        if (r := self._rule_for(Path(p))) is not None:
                            self._add(p, r)
                continue
            rule = self._rule_for(path)
            if rule is not None:
                self._add(str(path), rule, GRACE.get(kind), growing=kind == "file")

    def _check_candidates(self) -> None:
        now = time.monotonic()
        with self._lock:
            items = list(self._candidates.items())
        for path, c in items:
            refusal = refusal_for(Path(path), c.rule.root, self.follow_symlinks)
            if refusal is not None:  # judged without opening it: refused now, not waited for
                self._refuse(path, c, refusal)
                continue
            try:
                st = os.stat(path)
            except OSError:  # gone (renamed away, deleted): nothing to upload
                with self._lock:
                    self._candidates.pop(path, None)
                continue
            wait = c.rule.folder.stable_seconds
            if c.grace is not None:
                wait = min(wait, c.grace)
            if (st.st_size, st.st_mtime_ns) != (c.size, c.mtime_ns):
                c.size, c.mtime_ns, c.since = st.st_size, st.st_mtime_ns, now
                if wait > 0:
                    continue  # growing, or not known to be complete: wait until unchanged
            if now - c.since < wait:
                continue
            with self._lock:
                if path in self._in_flight:
                    continue  # changed again while uploading: next round, after that job
                known = self._known.get(path)
            if known and known[:2] == (c.size, c.mtime_ns) and known[2] in SETTLED:
                with self._lock:
                    self._candidates.pop(path, None)  # an event for a file we already did
                continue
            if c.size == 0 or not _can_open(path):
                c.since = now
                continue
            self.journal.record_watched(path, c.size, c.mtime_ns, "pending")
            with self._lock:
                self._candidates.pop(path, None)
                self._known[path] = (c.size, c.mtime_ns, "pending")
                self._ready.append((path, c))

    def _refuse(self, path: str, c: _Candidate, refusal: Rejected) -> None:
        """A special file or a link out of the folder: its result is the refusal, once."""
        try:
            st = os.lstat(path)
        except OSError:
            with self._lock:
                self._candidates.pop(path, None)
            return
        c.size, c.mtime_ns, c.refusal = st.st_size, st.st_mtime_ns, refusal
        with self._lock:
            known = self._known.get(path)
            self._candidates.pop(path, None)
            if known and known[:2] == (c.size, c.mtime_ns) and known[2] == "rejected":
                return  # refused before: once is enough
            self._known[path] = (c.size, c.mtime_ns, "pending")
            self._ready.append((path, c))
        self.journal.record_watched(path, c.size, c.mtime_ns, "pending")

    def _submit_ready(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if not self._ready or len(self._in_flight) >= self.max_in_flight:
                    return
                path, c = self._ready.popleft()
                if path in self._in_flight:
                    self._candidates.setdefault(path, c)
                    continue
                self._in_flight.add(path)
            # a watched folder is forgiving: a file that is no image at all is skipped
            job = self.engine.submit(
                Path(path), c.rule.profile, c.rule.preset, refusal=c.refusal, in_folder=True
            )
            job.future.add_done_callback(
                lambda f, path=path, c=c, job_id=job.id: self._finished(path, c, job_id, f)
            )

    def _finished(self, path: str, c: _Candidate, job_id: int, future) -> None:
        """Runs on an engine thread when a job ends: record it, move the original if asked."""
        try:
            result: JobResult = future.result()
            state = {
                "done": "done",
                "duplicate": "done",
                "rejected": "rejected",
                "skipped": "skipped",
                "held": "held",  # waits for `desktop-uploader review`, not for a new start
            }.get(
                result.status,
                "pending",  # failed/cancelled: tried again at the next start
            )
            moved = False
            if state == "done" and c.rule.done_dir is not None:
                moved = self._move_original(Path(path), c)
            if moved:
                self.journal.forget_watched(path)
            else:
                self.journal.record_watched(path, c.size, c.mtime_ns, state, job_id)
            with self._lock:
                self._known[path] = (c.size, c.mtime_ns, state)
            if self.on_result is not None:
                self.on_result(Path(path), result)
        except Exception:
            log.exception("recording the watched file %s failed", path)
        finally:
            with self._lock:
                self._in_flight.discard(path)
            self._wake.set()

    def _move_original(self, path: Path, c: _Candidate) -> bool:
        """Move an uploaded (and verified) original into the done folder, keeping its
        sub-path; never over another file. Only if it is still the file we uploaded."""
        assert c.rule.done_dir is not None
        try:
            st = path.stat()
            if (st.st_size, st.st_mtime_ns) != (c.size, c.mtime_ns):
                return False  # replaced meanwhile: the new version gets its own upload
            target = c.rule.done_dir / path.relative_to(c.rule.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            n = 1
            while target.exists():
                target = target.with_name(f"{path.stem} ({n}){path.suffix}")
                n += 1
            shutil.move(str(path), str(target))
            return True
        except OSError as e:
            log.warning("could not move %s to the done folder: %s", path, e)
            return False


def _can_open(path: str) -> bool:
    """The file can be opened for reading (on Windows a writer's lock refuses it); never waits
    (a FIFO swapped in is refused, not opened for good)."""
    try:
        with open_regular(Path(path)) as f:
            f.read(1)
        return True
    except (OSError, Rejected):
        return False


def watch_configured_folders(engine, journal, settings: Settings) -> FolderWatcher | None:
    """Start watching the settings' watched folders that exist (the GUI's entry point);
    None when there are none. Call ``stop()`` on the result before the engine shuts down."""
    folders = [f for f in settings.watched_folders if Path(f.path).expanduser().is_dir()]
    if not folders:
        return None
    watcher = FolderWatcher(engine, journal, settings, folders)
    watcher.start()
    return watcher
