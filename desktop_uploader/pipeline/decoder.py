"""Decoder workers: probe and decode images in separate processes that can be capped and killed.

A hostile file must cost one worker, not the app. Each worker is a long-lived process (started
with ``spawn``, so no threads or locks are inherited) with a memory cap from the platform seam
(``RLIMIT_AS`` on POSIX, a Job Object on Windows, a watchdog thread as the portable fallback;
``desktop_uploader/platform``); each call has a deadline after which the worker is killed and
replaced. A worker that dies (a decoder crash, the kernel's OOM killer) fails only the file it
was working on.

Calls cost one pipe round trip with small pickled arguments; pixels never cross the pipe (the
worker writes its outputs to the spool folder itself).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import queue
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from desktop_uploader import platform
from desktop_uploader.config import Limits, Preset
from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline.boundary import as_rejection
from desktop_uploader.pipeline.content import ContentRule, Finding, content_inspector
from desktop_uploader.pipeline.overlap import Stopwatch, describe
from desktop_uploader.pipeline.process import ProcessedImage
from desktop_uploader.pipeline.validate import Probe
from desktop_uploader.platform.base import EXIT_TOO_MUCH_MEMORY
from desktop_uploader.platform.processes import cpu_seconds

log = logging.getLogger(__name__)

MiB = 1024 * 1024
TOO_MUCH_MEMORY = (
    "Decoding this image needs more memory than a decoder may use; the file is far too large "
    "or built to exhaust memory."
)


@dataclass(frozen=True)
class Decoded:
    """The outputs of one processed image and what the content check found on it."""

    processed: ProcessedImage
    findings: tuple[Finding, ...] = ()
    # (step, seconds) in the order the steps started: decode, content, encode_main, thumbnail
    timings: tuple[tuple[str, float], ...] = ()


class DecodePool:
    """``size`` worker processes, each allowed ``memory_mb`` of memory beyond what it had after
    start-up (``platform.limit_own_memory``); every call must finish within ``timeout`` seconds.
    Thread-safe; workers start on first use."""

    def __init__(
        self,
        size: int = 2,
        memory_mb: int = 2048,
        timeout: float = 10.0,
        preload_content_model: bool = False,
        nice: int = 0,
        stderr_to: Path | None = None,
    ) -> None:
        """``preload_content_model``: load NudeNet when a worker starts, so the first content
        check does not spend the file's decode deadline on it. ``stderr_to``: a file the
        workers' stderr is appended to (what the decoding libraries print there: libtiff's
        messages, Pillow's warnings, libvips's); None keeps the parent's stderr."""
        self.size = max(1, size)
        self.stderr_to = stderr_to
        self.preload = preload_content_model
        # Decoding is background work: at a lower priority it never takes a core from the
        # window or the user's other programs (measured: the GUI's longest stall fell from
        # 123 ms to 26 ms while 200 images were processed, at the same throughput).
        self.nice = nice
        self.memory_mb = memory_mb
        self.timeout = timeout
        self._ctx = mp.get_context("spawn")
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._started = 0
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._closed = False
        self._busy = 0  # calls in flight (``_in_flight``), waiting for a worker included

    # -- public calls --------------------------------------------------------------------------
    def probe(self, path: Path, limits: Limits) -> Probe:
        """``validate.probe`` in a worker; raises ``Rejected``."""
        with self._in_flight():
            return self._call("probe", (path, limits))

    def process(
        self,
        path: Path,
        info: Probe,
        preset: Preset,
        spool_dir: Path,
        content: ContentRule | None = None,
        block: bool = False,
    ) -> Decoded:
        """``process.process_image`` in a worker, with the content check on the decoded first
        frame. With ``block``, a finding rejects the file (``content:<label>``) and nothing
        encoded is kept. With no other call in the pool, the worker uses the idle workers'
        cores too (``process_image``'s ``threads``): one dropped photo on every core."""
        with self._in_flight() as others:
            threads = max(1, self.size - others)
            log.debug("processing %s on %d thread(s)", path, threads)
            args = (path, info, preset, spool_dir, content, block, threads)
            decoded = self._call("process", args)
        log.debug("processed %s: %s", path, describe(dict(decoded.timings)))
        return decoded

    def warm_up(self) -> None:
        """Start every worker not started yet, now rather than on first use. Never waits for a
        worker: taking workers and waiting for the rest (as this did) deadlocked two warm-ups
        that each held one of two workers, and so did a busy worker (found by
        tests/gui/teardown_probe.py: a window's close waited on its warm-up for ever)."""
        while True:
            with self._lock:
                if self._closed or self._started >= self.size:
                    return
                w = self._new_worker()
            self._idle.put(w)

    def close(self) -> None:
        """Stop every worker (idle ones politely, busy ones are killed)."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for w in workers:
            w.stop()

    # -- internals -----------------------------------------------------------------------------
    def _get(self) -> _Worker:
        while True:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                if self._closed:
                    raise RuntimeError("the decoder pool is closed")
                if self._started < self.size:
                    return self._new_worker()
            try:
                return self._idle.get(timeout=1.0)
            except queue.Empty:
                continue

    def _new_worker(self) -> _Worker:
        """Start one more worker (the caller holds the lock)."""
        self._started += 1
        try:
            w = _Worker(self._ctx, self.memory_mb, self.preload, self.nice, self.stderr_to)
        except BaseException:
            self._started -= 1
            raise
        self._all.add(w)
        return w

    def _retire(self, w: _Worker) -> None:
        w.stop()
        with self._lock:
            self._all.discard(w)
            self._started -= 1

    @contextlib.contextmanager
    def _in_flight(self) -> Iterator[int]:
        """Count one call in flight while the block runs; yields how many others were. Read
        and counted under one lock, so two calls that start together never both see an idle
        pool (both would take every core)."""
        with self._lock:
            others = self._busy
            self._busy += 1
        try:
            yield others
        finally:
            with self._lock:
                self._busy -= 1

    def _call(self, kind: str, args: tuple):
        w = self._get()
        try:
            reply = w.call(kind, args, self.timeout)
        except _WorkerTimeout:
            self._retire(w)
            raise Rejected(
                f"Decoding took longer than {self.timeout:g} s and was stopped; the file is "
                "pathological or far too large.",
                code="decode_timeout",
            ) from None
        except _WorkerDied as e:
            self._retire(w)
            if w.proc.exitcode == EXIT_TOO_MUCH_MEMORY:  # the portable memory watchdog
                raise Rejected(TOO_MUCH_MEMORY, code="too_much_memory") from None
            raise Rejected(
                f"The image decoder crashed on this file ({e}); the file is damaged or hostile.",
                code="decoder_crashed",
            ) from None
        status = reply[0]
        if status == "ok":
            self._idle.put(w)
            return reply[1]
        if status == "rejected":
            # after a MemoryError the worker's heap may be in a bad way: start a fresh one
            self._retire(w) if reply[2] == "too_much_memory" else self._idle.put(w)
            raise Rejected(reply[1], code=reply[2])
        self._idle.put(w)
        raise RuntimeError(f"decoder worker error: {reply[1]}")


class _WorkerTimeout(Exception):
    pass


class _WorkerDied(Exception):
    pass


class _Worker:
    STARTUP_TIMEOUT = 120.0  # interpreter start and imports; not part of any file's deadline
    WALL_FACTOR = 4.0  # a starved worker may take this many deadlines of wall time

    def __init__(
        self, ctx, memory_mb: int, preload: bool, nice: int = 0, stderr_to: Path | None = None
    ) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=worker_main,
            args=(child, memory_mb, preload, nice, stderr_to),
            name="du-decoder",
            daemon=True,
        )
        self.proc.start()
        child.close()
        self.ready = False
        self.memory_mb = memory_mb

    def call(self, kind: str, args: tuple, timeout: float):
        try:
            if not self.ready:  # the worker says "ready" once started and imported
                if not self.conn.poll(self.STARTUP_TIMEOUT) or self.conn.recv() != "ready":
                    raise _WorkerDied("it did not start")
                if self.memory_mb:  # Windows: a Job Object; elsewhere the worker did it
                    platform.current().limit_child_memory(self.proc.pid, self.memory_mb * MiB)
                self.ready = True
            self.conn.send((kind, args))
            self._wait(timeout)
            return self.conn.recv()
        except (EOFError, OSError):
            self.proc.join(1)
            code = self.proc.exitcode
            raise _WorkerDied(
                f"signal {-code}" if code and code < 0 else f"exit status {code}"
            ) from None

    def _wait(self, timeout: float) -> None:
        """Wait for the answer. The deadline counts the worker's CPU time: a worker that was
        merely waiting for a CPU (it runs at a lower priority, the machine is busy) gets more
        wall time, up to ``WALL_FACTOR`` times the deadline; one that burned the deadline's
        worth of CPU is stopped."""
        start = cpu_seconds(self.proc.pid)
        longest = timeout * self.WALL_FACTOR
        waited, step = 0.0, timeout
        while not self.conn.poll(step):
            waited += step
            now = cpu_seconds(self.proc.pid)
            if start is None or now is None:  # gone or unreadable: a plain wall-clock deadline
                raise _WorkerTimeout()
            used = now - start
            if used >= timeout * 0.9 or waited >= longest:
                raise _WorkerTimeout()
            step = max(0.25, min(timeout - used, longest - waited))  # the CPU time still owed

    def stop(self) -> None:
        if self.proc.is_alive():
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.proc.join(0.5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(2)
        self.conn.close()


# -- the worker process ---------------------------------------------------------------------------
def worker_main(
    conn, memory_mb: int, preload: bool = False, nice: int = 0, stderr_to: Path | None = None
) -> None:
    """Serve probe/process calls until told to stop (``None``) or the pipe closes."""
    from desktop_uploader.pipeline.workerlog import quiet_libraries

    host = platform.current()
    quiet_libraries(stderr_to)
    if nice:
        host.lower_priority(nice)

    from desktop_uploader.pipeline import content, process, resample, validate  # noqa: F401

    resample.warm_up()

    # probe and process of one file may run in different workers: every opener, every worker
    validate.register_openers()
    if preload:
        try:
            content.load_content_model()
        except Exception as e:  # reported on first use instead
            print(f"du-decoder: content model not loaded: {e}", file=sys.stderr)
    if memory_mb:
        # The cap is a budget for decoding on top of what the libraries reserved at start
        # (onnxruntime alone maps ~1 GB of address space, more on machines with many cores).
        host.limit_own_memory(memory_mb * MiB)
    try:
        conn.send("ready")
    except OSError:
        return

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if msg is None:
            return
        reply = _reply(*msg)
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
        if reply[0] == "rejected" and reply[2] == "too_much_memory":
            return


def _reply(kind: str, args: tuple) -> tuple:
    """The answer to one call: ("ok", result), ("rejected", message, code) or ("error", what)."""
    try:
        return ("ok", _handle(kind, args))
    except Rejected as e:
        return ("rejected", e.message, e.code)
    except MemoryError:
        return ("rejected", TOO_MUCH_MEMORY, "too_much_memory")
    except Exception as e:
        # what the file made a decoder raise is a rejection; our own bugs stay errors
        rejection = as_rejection(e, Path(args[0]) if args else None)
        if rejection is not None:
            return ("rejected", rejection.message, rejection.code)
        return ("error", f"{type(e).__name__}: {e} ({_where(e)})")


def _where(e: BaseException) -> str:
    import traceback

    frames = traceback.extract_tb(e.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


def _handle(kind: str, args: tuple):
    from desktop_uploader.pipeline.process import process_image
    from desktop_uploader.pipeline.validate import probe

    if kind == "probe":
        return probe(*args)
    path, info, preset, spool_dir, rule, block, threads = args
    findings: list[Finding] = []
    inspect = content_inspector(rule, block, findings)
    watch = Stopwatch()
    processed = process_image(path, info, preset, spool_dir, inspect, threads, watch)
    return Decoded(processed, tuple(findings), tuple(watch.seconds().items()))
