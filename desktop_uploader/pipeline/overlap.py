"""One image on both cores: the steps after decoding run side by side, each one timed.

After the decode, three steps need only the decoded pixels: the content check, the main
encode and the thumbnail. With a core to spare (the decoder pool has no other image in hand:
``latency`` mode) they run on threads beside each other: libwebp, Pillow's resampler and
onnxruntime release the GIL, so a single dropped photo's main encode (the longest step) no
longer waits for the content check. The content check still ends before ``process_image``
returns, and nothing leaves the worker before that: a rejection deletes what the others
spooled. With no core to spare (a batch: both workers busy) they run one after the other,
the check first, so a blocked image costs no encode.

``Stopwatch`` records each step's start and end (seconds, monotonic) for the debug log and the
benchmarks: which step is the largest is measured, not guessed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

Span = tuple[float, float]


class Stopwatch:
    """Named spans: ``with watch("encode_main"): …``; ``spans`` maps name to (start, end)."""

    def __init__(self) -> None:
        self.spans: dict[str, Span] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.spans[name] = (start, time.monotonic())

    def seconds(self) -> dict[str, float]:
        """Each step's duration in seconds, in the order they started."""
        ordered = sorted(self.spans.items(), key=lambda kv: kv[1][0])
        return {name: round(end - start, 4) for name, (start, end) in ordered}


def describe(seconds: dict[str, float]) -> str:
    """``decode 120 ms, content 95 ms, …`` for the log."""
    return ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in seconds.items())


def run_steps(
    check: Callable[[], None] | None,
    outputs: list[Callable[[], object]],
    spooled: Callable[[object], list[Path]],
    together: bool,
) -> list[object]:
    """Run ``check`` and ``outputs``; return the outputs' results in order.

    ``together``: the outputs run on threads while ``check`` runs on this one; otherwise
    ``check`` first, then each output. Every step has ended when this returns or raises; if
    any step raised, the files the others made (``spooled(result)``) are deleted and the
    check's exception wins (a content rejection says more than an encoder's error)."""
    if not together:
        if check is not None:
            check()
        return [make() for make in outputs]
    with ThreadPoolExecutor(len(outputs), thread_name_prefix="du-overlap") as pool:
        futures = [pool.submit(make) for make in outputs]
        check_error: BaseException | None = None
        try:
            if check is not None:
                check()
        except BaseException as e:  # noqa: BLE001 - re-raised below, after clean-up
            check_error = e
        results, errors = [], []
        for f in futures:
            try:
                results.append(f.result())
            except BaseException as e:  # noqa: BLE001 - re-raised below, after clean-up
                errors.append(e)
    if check_error is None and not errors:
        return results
    for r in results:
        for p in spooled(r):
            p.unlink(missing_ok=True)
    raise check_error if check_error is not None else errors[0]
