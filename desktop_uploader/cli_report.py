"""What the CLI prints about results: the summary line, the exit status, the not-scanned note,
held files, and each result as it completes (human lines or JSON lines). Shared by ``cli``,
``cli_manage``, ``cli_integrations`` and ``review``."""

from __future__ import annotations

import json
import sys
import threading

from desktop_uploader.records import JobStatus

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2
EXIT_HELD = 3  # nothing failed or was rejected, but some files wait for review


def summary_line(results, verb: str) -> str:
    """``3 of 3 uploaded; skipped 1 file that is not an image (README.md)``"""
    done = sum(r.status in ("done", "duplicate") for r in results)
    held = sum(r.status == "held" for r in results)
    skipped = [r for r in results if r.status == "skipped"]
    line = f"{done} of {len(results) - len(skipped)} {verb}"
    if held:
        line += f"; {held} held for review (see: desktop-uploader review)"
    if skipped:
        from pathlib import Path

        names = ", ".join(Path(r.source).name for r in skipped[:3])
        names += f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        files = "file that is not an image" if len(skipped) == 1 else "files that are not images"
        line += f"; skipped {len(skipped)} {files} ({names})"
    return line


def exit_status(results) -> int:
    """0 all done (or duplicates), 1 any rejected, 2 any failed, 3 any held for review."""
    statuses = {r.status for r in results}
    if "failed" in statuses:
        return EXIT_FAILED
    if "rejected" in statuses:
        return EXIT_REJECTED
    if "held" in statuses:
        return EXIT_HELD
    return EXIT_OK


_WENT_THROUGH = {JobStatus.DONE, JobStatus.DUPLICATE, JobStatus.HELD, JobStatus.EXPORTED}


def say_not_scanned(app, results) -> None:
    """Once per run, in plain words with the fix: files went through without a malware scan
    because no scanner could be used (the policy allowed it; ``--json`` has it per file)."""
    missed = [r for r in results if (r.reason or "").startswith("not_scanned")]
    if not missed:
        return
    # out of the files that went through: one rejected before the scan was never to be scanned
    through = [r for r in results if r.status in _WENT_THROUGH]
    count = f"{len(missed)} of {len(through)} files were" if len(through) > 1 else "The file was"
    print(f"note: {count} not scanned for malware. {why_not_scanned(app, missed[0])}",
          file=sys.stderr, flush=True)  # fmt: skip


def why_not_scanned(app, result) -> str:
    problem = app.checks.scanner_problem()
    why = problem.text() if problem is not None else result.reason.split(": ", 1)[-1]
    return f'{why} (A destination with malware_scan = "required" never uploads unscanned files.)'


def first_not_scanned(app):
    """For ``watch``: say it at the first file that was not scanned, once."""
    said = threading.Event()

    def on_event(event) -> None:
        r = event.data.get("result")
        if r is not None and (r.reason or "").startswith("not_scanned") and not said.is_set():
            said.set()
            print(f"note: files are not being scanned for malware. {why_not_scanned(app, r)}",
                  file=sys.stderr, flush=True)  # fmt: skip

    return on_event


def on_hold(engine, event) -> None:
    """Held jobs in a command: say why a file waits for a scanner; a file held for review
    ends here as ``held`` and waits in the journal for ``desktop-uploader review``."""
    stage = event.data.get("stage")
    if stage == "waiting_for_scanner":
        print(f"note: {event.source}: {event.data.get('reason')}", file=sys.stderr, flush=True)
    elif stage == "waiting_for_review":
        engine.defer_review(event.job_id)


class Reporter:
    """Prints results as they finish: JSON lines, or a line per file plus rich progress."""

    def __init__(self, json_lines: bool, total: int) -> None:
        self.json_lines = json_lines
        self.total = total
        self._lock = threading.Lock()
        self._progress = None
        self._task = None

    def __enter__(self):
        if not self.json_lines and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("uploading", total=self.total)
        return self

    def __exit__(self, *exc):
        if self._progress:
            self._progress.stop()

    def set_total(self, total: int) -> None:
        self.total = total
        if self._progress:
            self._progress.update(self._task, total=total)

    def on_event(self, event) -> None:
        result = event.data.get("result")
        if result is None:
            return
        with self._lock:
            if self.json_lines:
                sys.stdout.write(json.dumps(result.to_json()) + "\n")
                sys.stdout.flush()
                return
            if result.status == "skipped":  # told once, in the summary line
                if self._progress:
                    self._progress.advance(self._task)
                return
            if result.status in ("done", "duplicate"):
                tag = "" if result.status == "done" else "  (already uploaded)"
                line = f"{result.url or result.output}{tag}"
            elif result.status == "held":
                n = result.job_id
                line = (
                    f"held: {result.source}: {result.reason} Decide with: desktop-uploader "
                    f"review --approve {n} (or --reject {n}) [{result.code}]"
                )
            else:
                line = f"{result.status}: {result.source}: {result.reason} [{result.code}]"
            if self._progress:
                self._progress.console.print(line, markup=False, soft_wrap=True)
                self._progress.advance(self._task)
            else:
                out = sys.stdout if result.status in ("done", "duplicate") else sys.stderr
                print(line, file=out, flush=True)
