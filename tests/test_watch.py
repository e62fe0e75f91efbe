"""Watched folders with real watchdog observers, the real engine and the real store: the stable
gate, partial names, renames, a 1,000-file burst, restarts and an unreachable destination.
No timing assertions: tests wait for outcomes (with generous deadlines) and check ordering."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest
from faultproxy import FaultProxy
from imagegen import jpeg_bytes, scene
from PIL import Image

from desktop_uploader import events as ev
from desktop_uploader.app import App
from desktop_uploader.config import WatchedFolder
from desktop_uploader.watch import FolderWatcher
from desktop_uploader.watch_sources import is_partial_name


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def tiny_jpeg(i: int) -> bytes:
    """A small JPEG with content of its own (solid colours can quantise to identical files)."""
    im = Image.frombytes("RGB", (24, 16), os.urandom(24 * 16 * 3))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def noise_jpeg(side: int) -> bytes:
    im = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


class Watching:
    """A FolderWatcher on one folder, collecting results; stopped (and checked for leaked
    threads) at the end."""

    def __init__(self, app: App, folder: Path, **options) -> None:
        max_in_flight = options.pop("max_in_flight", 16)
        self.folder = WatchedFolder(str(folder), destination="test", **options)
        self.results: dict[str, list] = {}
        self._lock = threading.Lock()
        self.watcher = FolderWatcher(
            app.engine,
            app.journal,
            app.settings,
            [self.folder],
            max_in_flight=max_in_flight,
            poll_interval=0.2,
            on_result=self._on_result,
        )

    def _on_result(self, path: Path, result) -> None:
        with self._lock:
            self.results.setdefault(path.name, []).append(result)

    def count(self) -> int:
        with self._lock:
            return sum(len(v) for v in self.results.values())

    def __enter__(self) -> Watching:
        self.watcher.start()
        assert self.watcher.scanned.wait(30), "start-up scan did not finish"
        return self

    def __exit__(self, *exc) -> None:
        self.watcher.stop()
        leaked = [
            f"{t.name} ({type(t).__module__}.{type(t).__name__})"
            for t in threading.enumerate()
            if t.name.startswith("du-watch") or type(t).__module__.startswith("watchdog")
        ]
        assert not leaked, f"threads left running: {leaked}"


def test_partial_names():
    for name in ("a.jpg.part", "b.jpg.crdownload", "~$doc.jpg", ".hidden.jpg", "c.tmp", "d~"):
        assert is_partial_name(name), name
    for name in ("photo.jpg", "my.part.jpg", "x~y.png"):
        assert not is_partial_name(name), name


def test_folder_rules_globs_recursion_and_done_folder(app, tmp_path):
    root = tmp_path / "w"
    folder = WatchedFolder(
        str(root),
        "test",
        include=["*.jpg", "raw/*.png"],
        exclude=["*-draft.*"],
        originals="move",
    )
    [rule] = FolderWatcher(app.engine, app.journal, app.settings, [folder]).rules
    r = rule.root
    assert rule.wants(r / "a.JPG") and rule.wants(r / "sub" / "b.jpg")
    assert rule.wants(r / "raw" / "c.png") and not rule.wants(r / "d.png")
    assert not rule.wants(r / "e-draft.jpg")
    assert not rule.wants(r / ".cache" / "f.jpg") and not rule.wants(r / "g.jpg.part")
    assert not rule.wants(r / "done" / "h.jpg")  # the default done folder is not watched
    assert not rule.wants(tmp_path / "elsewhere.jpg")
    flat = WatchedFolder(str(root), "test", recursive=False)
    [rule] = FolderWatcher(app.engine, app.journal, app.settings, [flat]).rules
    assert rule.wants(r / "a.webp") and not rule.wants(r / "sub" / "b.jpg")
    assert not rule.wants(r / "notes.txt")  # default: image file types only


@pytest.mark.parametrize("polling", [False, True], ids=["native", "polling"])
def test_slow_writer_partial_names_and_renames(app, tmp_path, polling):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    queued_while_writing: list[str] = []
    writer_done = threading.Event()

    def on_event(e) -> None:
        if e.kind == ev.QUEUED and not writer_done.is_set():
            queued_while_writing.append(Path(e.source).name)

    app.engine.subscribe(on_event)
    big = noise_jpeg(900)  # ~1.5 MB, written in 25 slow pieces while held open
    with Watching(app, inbox, stable_seconds=1.5, polling=polling) as w:
        for name in ("x.jpg.part", "y.jpg.crdownload", "~$z.jpg", ".dot.jpg", "t.tmp"):
            (inbox / name).write_bytes(tiny_jpeg(len(name)))
        step = len(big) // 25 + 1
        with open(inbox / "slow.jpg", "wb") as f:
            for i in range(0, len(big), step):
                f.write(big[i : i + step])
                f.flush()
                time.sleep(0.1)
        writer_done.set()
        # a download that is renamed to its final name when complete counts
        (inbox / "y.jpg.crdownload").rename(inbox / "renamed.jpg")
        wait_for(lambda: w.count() >= 2, 90, "two uploads")
        time.sleep(2 * 1.5)  # long enough for anything else to have been picked up wrongly
    assert queued_while_writing == []  # nothing (in particular slow.jpg) before the write ended
    assert sorted(w.results) == ["renamed.jpg", "slow.jpg"]
    slow = w.results["slow.jpg"]
    assert len(slow) == 1 and slow[0].status == "done", slow[0].reason
    row = app.journal.job(slow[0].job_id)
    assert row["source_size"] == len(big)
    assert w.results["renamed.jpg"][0].status == "done"


def test_burst_of_1000_files_arrives_exactly_once(app, tmp_path):
    inbox = tmp_path / "burst"
    inbox.mkdir()
    staging = tmp_path / "staging"
    staging.mkdir()
    for i in range(1000):
        (staging / f"img{i:04d}.jpg").write_bytes(tiny_jpeg(i))
    unfinished = 0
    peak = 0
    lock = threading.Lock()

    def on_event(e) -> None:
        nonlocal unfinished, peak
        with lock:
            if e.kind == ev.QUEUED:
                unfinished += 1
                peak = max(peak, unfinished)
            elif "result" in e.data:
                unfinished -= 1

    app.engine.subscribe(on_event)
    backlog_seen = []
    with Watching(app, inbox, stable_seconds=0.3, max_in_flight=16) as w:
        for p in sorted(staging.iterdir()):  # dropped at once: renames into the folder
            p.rename(inbox / p.name)
        while w.count() < 1000:
            backlog_seen.append(sum(w.watcher.backlog().values()))
            n = w.count()
            wait_for(lambda n=n: w.count() > n or w.count() >= 1000, 120, "progress")
        time.sleep(1.0)  # any second upload of a file would have had time to show
    assert len(w.results) == 1000 and all(len(v) == 1 for v in w.results.values())
    assert {r[0].status for r in w.results.values()} == {"done"}
    assert peak <= 16  # jobs in the engine stay bounded; the rest wait as paths
    assert max(backlog_seen) > 16  # the backlog was visible while it drained
    client = app.uploader("test").client
    prefix = app.settings.destinations["test"].prefix
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=app.target("test").bucket, Prefix=prefix + "/"
    ):
        keys += [o["Key"] for o in page.get("Contents", [])]
    assert len(keys) == 2000  # 1,000 images + 1,000 thumbnails, each once
    assert {r[0].key for r in w.results.values()} <= set(keys)


def test_identical_copies_dropped_together_all_arrive(app, tmp_path):
    """Copies of one photo processed at the same time share nothing on disk that one job's
    clean-up could pull from under another."""
    inbox = tmp_path / "copies"
    inbox.mkdir()
    data = jpeg_bytes(scene(200, 150, seed=11))
    staging = tmp_path / "staging"
    staging.mkdir()
    for i in range(24):
        (staging / f"copy{i:02d}.jpg").write_bytes(data)
    with Watching(app, inbox, stable_seconds=0.3, max_in_flight=12) as w:
        for p in sorted(staging.iterdir()):
            p.rename(inbox / p.name)
        wait_for(lambda: w.count() >= 24, 120, "24 results")
    statuses = {r[0].status for r in w.results.values()}
    reasons = {r[0].reason for r in w.results.values() if r[0].status == "failed"}
    assert statuses <= {"done", "duplicate"}, reasons
    assert len({r[0].url for r in w.results.values()}) == 1


def test_restart_finds_new_and_replaced_files_only(app, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "a.jpg").write_bytes(jpeg_bytes(scene(120, 80, seed=1)))
    (inbox / "sub" / "b.jpg").write_bytes(jpeg_bytes(scene(120, 80, seed=2)))
    with Watching(app, inbox, stable_seconds=0.3) as w:
        wait_for(lambda: w.count() >= 2, 60, "first uploads")
    first = {k: v[0] for k, v in w.results.items()}
    assert {r.status for r in first.values()} == {"done"}

    # while nothing watches: one new file, one replaced (a new version), one untouched
    (inbox / "c.png").write_bytes(jpeg_bytes(scene(120, 80, seed=3)))
    (inbox / "sub" / "b.jpg").write_bytes(jpeg_bytes(scene(130, 90, seed=4)))
    with Watching(app, inbox, stable_seconds=0.3) as w2:
        wait_for(lambda: w2.count() >= 2, 60, "uploads after restart")
        time.sleep(1.0)
        assert sorted(w2.results) == ["b.jpg", "c.png"]  # a.jpg was not uploaded again
        # replaced while watched: uploaded again, as a new version under a new key
        (inbox / "a.jpg").write_bytes(jpeg_bytes(scene(140, 100, seed=5)))
        wait_for(lambda: w2.count() >= 3, 60, "the replaced file")
    b2 = w2.results["b.jpg"][0]
    assert b2.status == "done" and b2.key != first["b.jpg"].key and b2.width == 130
    [a2] = w2.results["a.jpg"]
    assert a2.status == "done" and a2.key != first["a.jpg"].key and a2.width == 140


def test_startup_scan_of_known_files_submits_nothing(app, tmp_path):
    inbox = tmp_path / "many"
    inbox.mkdir()
    for i in range(2000):
        p = inbox / f"f{i:05d}.jpg"
        p.write_bytes(b"x")
        st = p.stat()
        app.journal.record_watched(str(p), st.st_size, st.st_mtime_ns, "done", None)
    with Watching(app, inbox, stable_seconds=0.2) as w:
        time.sleep(0.5)
        assert sum(w.watcher.backlog().values()) == 0
    assert w.count() == 0 and app.engine.jobs() == []


def test_move_to_done_folder_after_verified_upload(app, tmp_path):
    inbox = tmp_path / "inbox"
    done = tmp_path / "done"
    inbox.mkdir()
    with Watching(app, inbox, stable_seconds=0.3, originals="move", done_folder=str(done)) as w:
        (inbox / "keep.jpg").write_bytes(jpeg_bytes(scene(100, 80, seed=7)))
        (inbox / "bad.jpg").write_bytes(b"not an image at all")
        wait_for(lambda: w.count() >= 2, 60, "results")
    assert w.results["keep.jpg"][0].status == "done"
    # a watched folder is forgiving: bytes that are no image at all are passed over
    assert w.results["bad.jpg"][0].status == "skipped"
    assert w.results["bad.jpg"][0].code == "not_an_image"
    assert (
        app.journal.watched_files(str(inbox.resolve()))[str((inbox / "bad.jpg").resolve())][2]
        == "skipped"
    )  # settled: not tried again at the next start
    assert (done / "keep.jpg").exists() and not (inbox / "keep.jpg").exists()
    assert (inbox / "bad.jpg").exists()  # only verified uploads move


def test_offline_files_wait_persisted_and_go_out_when_back(app, tmp_path, store_target):
    status, _ = store_target
    proxy = FaultProxy(status.ports["s3"]).start()
    proxy.rates = {"reset": 1.0}  # the destination is unreachable
    dest = app.settings.destinations["test"]
    dest.endpoint = proxy.url
    dest.connect_timeout = dest.read_timeout = 2.0
    app.save_settings()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    waiting: set[str] = set()

    def on_event(e) -> None:
        if e.data.get("stage") == "waiting_for_destination":
            waiting.add(Path(e.source).name)

    try:
        app.engine.subscribe(on_event)
        with Watching(app, inbox, stable_seconds=0.3):
            for n in ("a.jpg", "b.jpg"):
                (inbox / n).write_bytes(jpeg_bytes(scene(100, 70, seed=len(n) + ord(n[0]))))
            wait_for(lambda: waiting >= {"a.jpg", "b.jpg"}, 120, "files waiting offline")
        pending = app.journal.watched_files(str(inbox.resolve()))
        assert {Path(p).name: s[2] for p, s in pending.items()} == {
            "a.jpg": "pending",
            "b.jpg": "pending",
        }
        app.close()  # quit while offline: waiting jobs end, the files stay pending

        again = App(app.paths)  # a new process, still offline
        waiting.clear()
        again.engine.subscribe(on_event)
        with Watching(again, inbox, stable_seconds=0.3) as w2:
            (inbox / "c.jpg").write_bytes(jpeg_bytes(scene(100, 70, seed=42)))
            wait_for(lambda: waiting >= {"a.jpg", "b.jpg", "c.jpg"}, 120, "waiting again")
            assert w2.count() == 0
            proxy.rates = {}  # back online
            wait_for(lambda: w2.count() >= 3, 120, "uploads once online")
            time.sleep(0.5)
        assert sorted(w2.results) == ["a.jpg", "b.jpg", "c.jpg"]
        assert all(len(v) == 1 and v[0].status == "done" for v in w2.results.values())
        again.close()
    finally:
        proxy.stop()


def _queued_at(app) -> dict[str, float]:
    """When each file was handed to the engine (monotonic), by name."""
    seen: dict[str, float] = {}

    def on_event(e) -> None:
        if e.kind == ev.QUEUED:
            seen.setdefault(Path(e.source).name, time.monotonic())

    app.engine.subscribe(on_event)
    return seen


def test_moved_in_from_outside_or_closed_is_ready_at_once(app, tmp_path):
    """A file moved in from another folder (an unpaired IN_MOVED_TO) and one whose writer
    closed it are complete: neither waits the folder's stable_seconds (5 s here)."""
    inbox, outside = tmp_path / "inbox", tmp_path / "elsewhere"
    inbox.mkdir()
    outside.mkdir()
    (outside / "moved.jpg").write_bytes(noise_jpeg(400))
    queued = _queued_at(app)
    with Watching(app, inbox, stable_seconds=5.0) as w:
        t_move = time.monotonic()
        os.rename(outside / "moved.jpg", inbox / "moved.jpg")  # as mv and file managers do
        wait_for(lambda: "moved.jpg" in queued, 30, "the moved file to be queued")
        t_write = time.monotonic()
        (inbox / "written.jpg").write_bytes(noise_jpeg(300))  # opened, written, closed
        wait_for(lambda: "written.jpg" in queued, 30, "the written file to be queued")
        wait_for(lambda: w.count() >= 2, 90, "two uploads")
    assert queued["moved.jpg"] - t_move < 1.0, queued["moved.jpg"] - t_move
    assert queued["written.jpg"] - t_write < 1.0, queued["written.jpg"] - t_write
    assert [r.status for r in w.results["moved.jpg"]] == ["done"]
    assert [r.status for r in w.results["written.jpg"]] == ["done"]


def test_file_still_being_written_waits(app, tmp_path):
    """A file held open while it grows waits stable_seconds (no close, no rename: nothing says
    it is complete); its close then makes it ready at once. A file closed and then appended
    to again may go out at its first close (it was complete then), but its final version
    is uploaded too."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    big = noise_jpeg(700)
    queued = _queued_at(app)
    with Watching(app, inbox, stable_seconds=5.0) as w:
        with open(inbox / "held.jpg", "wb") as f:
            for i in range(0, len(big), len(big) // 8 + 1):
                f.write(big[i : i + len(big) // 8 + 1])
                f.flush()
                time.sleep(0.1)
            time.sleep(0.5)
            assert "held.jpg" not in queued  # open and growing: not yet
        t_close = time.monotonic()
        wait_for(lambda: "held.jpg" in queued, 30, "held.jpg after its close")
        assert queued["held.jpg"] - t_close < 1.0
        other = noise_jpeg(700)  # not held.jpg's bytes: that would be a duplicate
        (inbox / "appended.jpg").write_bytes(other[:1000])  # closed once ...
        with open(inbox / "appended.jpg", "ab") as f:  # ... then written again
            for i in range(1000, len(other), 50_000):
                f.write(other[i : i + 50_000])
                f.flush()
                time.sleep(0.05)

        def final_uploaded() -> bool:
            return any(
                r.status in ("done", "duplicate")
                and app.journal.job(r.job_id)["source_size"] == len(other)
                for r in w.results.get("appended.jpg", [])
            )

        try:
            wait_for(final_uploaded, 90, "the final version of appended.jpg")
        except AssertionError as e:
            raise AssertionError(f"{e}: {w.results.get('appended.jpg')}") from None
        wait_for(lambda: "held.jpg" in w.results, 90, "held.jpg's result")
    assert [r.status for r in w.results["held.jpg"]] == ["done"]
