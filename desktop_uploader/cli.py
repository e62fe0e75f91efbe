"""Command line: ``desktop-uploader upload|process|watch|review|history|doctor|local-store``
(``serve`` and ``integrations``: ``cli_integrations``).

Imports are lazy so the CLI starts fast and never loads Qt.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading

from desktop_uploader import __version__
from desktop_uploader.errors import ConfigError, UploaderError
from desktop_uploader.records import ContentPolicy, JobResult, ScanPolicy, choices, history_json

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2
EXIT_HELD = 3  # nothing failed or was rejected, but some files wait for review


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="desktop-uploader",
        description="Make images safe and small on this machine, then publish them to "
        "S3-compatible storage behind a CDN.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show the log on the terminal, with what the image libraries say "
        "(otherwise that goes to the log file only)",
    )
    p.add_argument(
        "--smoke-test",
        action="store_true",
        help="check this build end to end (embedded store, one upload, the window offscreen)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("gui", help="open the desktop window (also: no command at all)")

    up = sub.add_parser("upload", help="validate, process and upload files or folders")
    up.add_argument("paths", nargs="+", metavar="PATH")
    up.add_argument("--profile", help="destination name (default: the default destination)")
    up.add_argument("--preset", help="processing preset (default: 'default')")
    up.add_argument("--json", action="store_true", help="one JSON object per input on stdout")
    up.add_argument(
        "--bwlimit",
        metavar="RATE",
        help="limit upload bandwidth, all files together, e.g. 20M (bytes/s; k, M, G, Ki, Mi)",
    )
    up.add_argument(
        "--offline-wait",
        metavar="SECONDS",
        type=float,
        default=600.0,
        help="how long to wait for an unreachable destination before giving up (default 600)",
    )
    up.add_argument(
        "--malware-scan",
        choices=choices(ScanPolicy),
        help="override the destination's malware-scan policy for this run",
    )
    _scanner_wait_option(up)
    up.add_argument(
        "--content-check",
        choices=choices(ContentPolicy),
        help="override the destination's content-check policy for this run",
    )

    pr = sub.add_parser(
        "process",
        help="validate and process files into a folder, without uploading",
        description="Validate and process images exactly as `upload` does (same checks, same "
        "workers), writing NAME.webp and NAME.thumb.webp to --out instead of uploading.",
    )
    pr.add_argument("paths", nargs="+", metavar="PATH")
    pr.add_argument("--out", required=True, metavar="DIR", help="folder for the outputs")
    pr.add_argument("--preset", help="processing preset (default: 'default')")
    pr.add_argument("--profile", help="whose validation policies apply (default destination)")
    pr.add_argument("--json", action="store_true", help="one JSON object per input on stdout")
    pr.add_argument("--malware-scan", choices=choices(ScanPolicy))
    pr.add_argument("--content-check", choices=choices(ContentPolicy))
    _scanner_wait_option(pr)

    rs = sub.add_parser(
        "resume",
        help="finish the uploads a crashed or killed run left unfinished",
        description="Take up the files that a window, `watch` or `upload` left unfinished when "
        "it was killed or crashed: multipart uploads go on where they stopped (no part the "
        "server has is sent again). Reports like `upload`. The window and `watch` do this by "
        "themselves when they start.",
    )
    rs.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    rs.add_argument("--offline-wait", metavar="SECONDS", type=float, default=600.0)
    _scanner_wait_option(rs)

    wa = sub.add_parser(
        "watch", help="upload new images from folders as they appear, until Ctrl+C / SIGTERM"
    )
    wa.add_argument(
        "dirs", nargs="*", metavar="DIR", help="folders (default: the watched folders in settings)"
    )
    wa.add_argument("--profile", help="destination name (default: the folder's, or the default)")
    wa.add_argument("--preset", help="processing preset (default: the folder's, or 'default')")
    wa.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    wa.add_argument(
        "--polling", action="store_true", help="poll (network shares) instead of OS events"
    )
    wa.add_argument("--no-recursive", action="store_true", help="ignore subfolders")
    wa.add_argument("--include", action="append", default=[], metavar="GLOB")
    wa.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    wa.add_argument(
        "--stable-seconds",
        type=float,
        metavar="S",
        help="size and mtime unchanged this long before a file is uploaded (default 1)",
    )
    wa.add_argument(
        "--move-to", metavar="DIR", help="move originals here once their upload is verified"
    )
    _scanner_wait_option(wa)

    rv = sub.add_parser(
        "review",
        help="list the files held for content review; approve or reject them",
        description="Files the content check flagged under the 'review' policy wait here "
        "until you decide: --approve uploads them (the outputs made when they were checked, "
        "or the source again if those are gone), --reject deletes those outputs and uploads "
        "nothing. The source files are never touched.",
    )
    decide = rv.add_mutually_exclusive_group()
    decide.add_argument("--approve", nargs="+", type=int, metavar="ID", help="upload these")
    decide.add_argument("--reject", nargs="+", type=int, metavar="ID", help="do not upload these")
    rv.add_argument("--json", action="store_true", help="one JSON object per file")

    for sp in (up, pr, wa, rv):
        sp.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,  # else it would undo `desktop-uploader -v COMMAND`
            help="also show the log and the image libraries' messages on the terminal",
        )

    hi = sub.add_parser("history", help="list finished uploads")
    hi.add_argument("--search", metavar="TEXT", help="match name, path, destination, status, URL")
    hi.add_argument("--limit", type=int, default=50)
    hi.add_argument("--json", action="store_true", help="one JSON object per entry")
    hi.add_argument(
        "--quarantine", action="store_true", help="only files held back as malware (malware:…)"
    )
    hi.add_argument(
        "--resign",
        action="store_true",
        help="give entries of private destinations fresh presigned links first",
    )
    hi.add_argument(
        "--check",
        action="store_true",
        help="open each listed link (its first bytes) and report the dead ones; exit 1 if any",
    )

    dr = sub.add_parser("doctor", help="check a destination end to end")
    dr.add_argument("--profile")
    dr.add_argument("--json", action="store_true")
    dr.add_argument(
        "--deep", action="store_true", help="check every link in history, not only the last 20"
    )

    ls = sub.add_parser("local-store", help="the embedded SeaweedFS store")
    ls.add_argument(
        "action",
        choices=["start", "stop", "status", "_keeper"],
        metavar="ACTION",
        help="start | stop | status",
    )
    ls.add_argument("--json", action="store_true")
    from desktop_uploader.cli_integrations import add_commands

    add_commands(sub, up)  # serve, integrations, upload --typora
    return p


def _scanner_wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scanner-wait",
        metavar="SECONDS",
        type=_seconds,
        help="when the malware scan is required and no scanner answers, how long a file waits "
        "before it fails as scanner_unavailable (default: the setting, 600)",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds (0 or more)")
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.smoke_test:
        from desktop_uploader.smoke import run_smoke_test

        return run_smoke_test()
    if args.command == "local-store" and args.action == "_keeper":
        from desktop_uploader import storekeeper

        return storekeeper.main()
    if args.command in (None, "gui"):
        return open_window()
    from desktop_uploader.app import App, setup_logging

    app = App(notice=lambda msg: print(f"note: {msg}", file=sys.stderr))
    setup_logging(app.paths, verbose=args.verbose)
    if args.verbose:
        app.library_log = None  # the decoders' own messages on the terminal too
    app.scanner_wait = getattr(args, "scanner_wait", None)
    try:
        if not _survives_a_settings_typo(args):
            app.settings  # noqa: B018 - checked before any work: a typo stops every command here
        return {
            "upload": cmd_upload,
            "process": cmd_process,
            "resume": cmd_resume,
            "watch": cmd_watch,
            "review": cmd_review,
            "history": cmd_history,
            "doctor": cmd_doctor,
            "local-store": cmd_local_store,
            **_integration_commands(),
        }[args.command](app, args)
    except UploaderError as e:
        print(f"error: {e.title}: {e.message}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `history --json | head -1`: the reader has what it wanted
        sys.stderr.close()
        return EXIT_OK
    finally:
        app.close()


def _integration_commands() -> dict:
    from desktop_uploader.cli_integrations import commands

    return commands()


# -- the window --------------------------------------------------------------------------
def open_window() -> int:
    """The desktop window; without a display, say so and list the commands instead (Qt would
    abort the process)."""
    import os

    headless = sys.platform.startswith("linux") and not any(
        os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    )
    if headless:
        print(
            "desktop-uploader: no display found (DISPLAY and WAYLAND_DISPLAY are not set), so "
            "the window cannot open. Use one of the commands below, or set "
            "QT_QPA_PLATFORM=offscreen to run the window without a screen.\n",
            file=sys.stderr,
        )
        build_parser().print_help()
        return EXIT_REJECTED
    from desktop_uploader.gui.main import run_gui

    return run_gui()


# -- upload ------------------------------------------------------------------------------
def cmd_upload(app, args) -> int:
    if args.bwlimit:
        from desktop_uploader.pipeline.upload import parse_rate

        try:
            app.set_bandwidth_limit(parse_rate(args.bwlimit))
        except ValueError:
            print(f"error: --bwlimit: '{args.bwlimit}' is not a rate like 20M", file=sys.stderr)
            return EXIT_FAILED
    app.offline_wait = args.offline_wait
    if args.typora:
        from desktop_uploader.cli_integrations import cmd_typora

        return cmd_typora(app, args)
    return _run_batch(app, args, out_dir=None, verb="uploaded")


def cmd_process(app, args) -> int:
    """Like upload, but the outputs go to ``--out`` (the ``upload`` code path minus the
    network: same engine, same checks, same worker pool)."""
    from pathlib import Path

    out = Path(args.out).expanduser()
    return _run_batch(app, args, out_dir=out, verb=f"processed into {out}")


def _run_batch(app, args, out_dir, verb: str) -> int:
    """Submit every file under ``args.paths``, report each result as it finishes, and return
    the exit status (``exit_status``). Files found in folders that are no image are skipped."""
    from desktop_uploader.pipeline.intake import collect

    preset = app.settings.preset(args.preset)
    dest = app.settings.destination(args.profile)
    for key in ("malware_scan", "content_check"):
        if getattr(args, key):
            app.policy_overrides[key] = getattr(args, key)
    files = collect(args.paths, app.settings.limits.follow_symlinks)
    if not files:
        print("error: no files found in the given paths", file=sys.stderr)
        return EXIT_REJECTED
    engine = app.engine
    engine.checks.warm_up()
    reporter = _Reporter(json_lines=args.json, total=len(files))
    unsubscribe = engine.subscribe(reporter.on_event)
    unsubscribe_holds = engine.subscribe(lambda e: _on_hold(engine, e))
    try:
        with reporter:
            jobs = [
                engine.submit(
                    f.path,
                    dest.name,
                    preset,
                    out_dir=out_dir,
                    refusal=f.refusal,
                    in_folder=f.in_folder,
                )
                for f in files
            ]
            results = [j.future.result() for j in jobs]
    finally:
        unsubscribe()
        unsubscribe_holds()
    if not args.json:
        print(summary_line(results, verb), file=sys.stderr)
    _say_not_scanned(app, results)
    return exit_status(results)


def cmd_resume(app, args) -> int:
    """Finish the jobs a process that is gone left unfinished (``Engine.resume_unfinished``)."""
    app.offline_wait = args.offline_wait
    engine = app.engine
    reporter = _Reporter(json_lines=args.json, total=None)
    unsubscribe = engine.subscribe(reporter.on_event)
    unsubscribe_holds = engine.subscribe(lambda e: _on_hold(engine, e))
    try:
        with reporter:
            jobs = engine.resume_unfinished(app.settings.presets.get)
            reporter.set_total(len(jobs))
            results = [j.future.result() for j in jobs]
    finally:
        unsubscribe()
        unsubscribe_holds()
    if not args.json:
        print(
            summary_line(results, "uploaded") if results else "nothing to resume", file=sys.stderr
        )
    _say_not_scanned(app, results)
    return exit_status(results)


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


def _say_not_scanned(app, results) -> None:
    """Once per run, in plain words with the fix: files went through without a malware scan
    because no scanner could be used (the policy allowed it; ``--json`` has it per file)."""
    missed = [r for r in results if (r.reason or "").startswith("not_scanned")]
    if not missed:
        return
    considered = [r for r in results if r.status != "skipped"]  # as the summary line counts
    count = (
        f"{len(missed)} of {len(considered)} files were" if len(considered) > 1 else "The file was"
    )
    print(f"note: {count} not scanned for malware. {_why_not_scanned(app, missed[0])}",
          file=sys.stderr, flush=True)  # fmt: skip


def _why_not_scanned(app, result) -> str:
    problem = app.checks.scanner_problem()
    why = problem.text() if problem is not None else result.reason.split(": ", 1)[-1]
    return f'{why} (A destination with malware_scan = "required" never uploads unscanned files.)'


def _first_not_scanned(app):
    """For ``watch``: say it at the first file that was not scanned, once."""
    said = threading.Event()

    def on_event(event) -> None:
        r = event.data.get("result")
        if r is not None and (r.reason or "").startswith("not_scanned") and not said.is_set():
            said.set()
            print(f"note: files are not being scanned for malware. {_why_not_scanned(app, r)}",
                  file=sys.stderr, flush=True)  # fmt: skip

    return on_event


def _on_hold(engine, event) -> None:
    """Held jobs in a command: say why a file waits for a scanner; a file held for review
    ends here as ``held`` and waits in the journal for ``desktop-uploader review``."""
    stage = event.data.get("stage")
    if stage == "waiting_for_scanner":
        print(f"note: {event.source}: {event.data.get('reason')}", file=sys.stderr, flush=True)
    elif stage == "waiting_for_review":
        engine.defer_review(event.job_id)


class _Reporter:
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


# -- watch -------------------------------------------------------------------------------
def cmd_watch(app, args) -> int:
    """Watch folders until SIGINT/SIGTERM; one result per file as it completes."""
    import signal
    from dataclasses import replace
    from pathlib import Path

    from desktop_uploader.config import WatchedFolder
    from desktop_uploader.watch import FolderWatcher

    configured = {str(Path(w.path).expanduser().resolve()): w for w in app.settings.watched_folders}
    if args.dirs:
        folders = [
            configured.get(str(Path(d).expanduser().resolve()), WatchedFolder(str(d)))
            for d in args.dirs
        ]
    else:
        folders = list(configured.values())
    if not folders:
        print("error: name a folder to watch, or add watched folders in Settings", file=sys.stderr)
        return EXIT_REJECTED
    overrides: dict = {}
    if args.profile:
        overrides["destination"] = app.settings.destination(args.profile).name
    if args.preset:
        overrides["preset"] = app.settings.preset(args.preset).name
    if args.polling:
        overrides["polling"] = True
    if args.no_recursive:
        overrides["recursive"] = False
    if args.include:
        overrides["include"] = args.include
    if args.exclude:
        overrides["exclude"] = args.exclude
    if args.stable_seconds is not None:
        overrides["stable_seconds"] = args.stable_seconds
    if args.move_to:
        overrides |= {"originals": "move", "done_folder": args.move_to}
    folders = [replace(f, **overrides) for f in folders]
    app.offline_wait = None  # an unreachable destination: files wait until it is back
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    engine = app.engine
    reporter = _Reporter(json_lines=args.json, total=None)
    unsubscribe = engine.subscribe(reporter.on_event)
    unsubscribe_holds = engine.subscribe(lambda e: _on_hold(engine, e))
    unsubscribe_scan = engine.subscribe(_first_not_scanned(app))
    watcher = FolderWatcher(engine, app.journal, app.settings, folders)
    try:
        # what a run that died left unfinished goes on first (the watcher follows those files)
        engine.resume_unfinished(app.settings.presets.get)
        watcher.start()
        names = ", ".join(str(r.root) for r in watcher.rules)
        print(f"watching {names} (Ctrl+C to stop)", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        watcher.stop()
        engine.shutdown(wait=True)  # running jobs finish; waiting ones stay pending
        unsubscribe()
        unsubscribe_holds()
        unsubscribe_scan()
    print("stopped watching", file=sys.stderr, flush=True)
    return EXIT_OK


# -- review ------------------------------------------------------------------------------
def cmd_review(app, args) -> int:
    from desktop_uploader.review import cmd_review as run

    return run(app, args)


# -- history -----------------------------------------------------------------------------
def cmd_history(app, args) -> int:
    search = args.search or ("malware:" if args.quarantine else None)
    if args.resign:
        from desktop_uploader.pipeline.publish import resign_history

        count = resign_history(
            app.journal, app.uploader, app.journal.history(search, limit=args.limit)
        )
        print(f"re-signed {count} link(s)", file=sys.stderr)
    rows = app.journal.history(search=search, limit=args.limit)
    if args.quarantine:  # infected files: never uploaded, never deleted, listed here
        rows = [r for r in rows if (r.get("code") or "").startswith("malware:")]
    checked = None
    if args.check:  # each link's first bytes, as a browser would read them
        from desktop_uploader.linkcheck import check_app_history

        checked = check_app_history(app, rows)
        if not args.json:
            return _print_dead_links(rows, checked)
    if args.json:
        for r in rows:
            link = {}
            if checked is not None:
                c = checked.get(r["id"])
                link = {"link_ok": c.ok if c else None, "link_problem": c.problem if c else None}
            print(json.dumps(history_json(r) | link))
        if checked and not all(c.ok for c in checked.values()):
            return EXIT_REJECTED
        return EXIT_OK
    if not rows:
        print("No uploads yet." if not args.search else f"Nothing matches '{args.search}'.")
        return EXIT_OK
    from datetime import datetime

    for r in rows:
        when = datetime.fromtimestamp(r["finished_at"] or r["created_at"]).strftime(
            "%Y-%m-%d %H:%M"
        )
        res = JobResult.from_row(r)
        what = res.url if res.uploaded else f"[{res.code}] {res.reason}"
        if res.uploaded and res.findings:
            what += f"  ({res.reason})"  # approved on review: what was found, with what score
        print(f"{when}  {res.status:<9}  {r['display_name']}  {what}")
    return EXIT_OK


def _print_dead_links(rows: list[dict], checked: dict) -> int:
    for r in rows:
        c = checked.get(r["id"])
        if c is not None and not c.ok:
            print(f"dead  {r['display_name']}  {c.url}  ({c.problem})")
    dead = sum(not c.ok for c in checked.values())
    if not checked:
        print("No finished uploads to check.")
    elif dead:
        print(
            f"{dead} of {len(checked)} link(s) are dead. Upload those files again to store "
            "them anew.",
            file=sys.stderr,
        )
    else:
        print(f"All {len(checked)} link(s) open.")
    return EXIT_REJECTED if dead else EXIT_OK


# -- doctor ------------------------------------------------------------------------------
def cmd_doctor(app, args) -> int:
    from desktop_uploader.doctor import run_doctor

    findings = run_doctor(app, args.profile, deep=args.deep)
    if args.json:
        for f in findings:
            print(json.dumps(f.as_dict()))
    else:
        for f in findings:
            print(f"{ {'ok': 'ok ', 'warn': 'warn', 'bad': 'BAD'}[f.level]:<4} {f.check:<12} "
                  f"{f.message}")  # fmt: skip
    ok = all(f.ok for f in findings)
    if not args.json:
        print("All checks passed." if ok else "Some checks failed (see above).")
        if any(f.warning for f in findings):
            print("Some things need your attention: see the warn lines above.")
    return EXIT_OK if ok else EXIT_REJECTED


# -- local store -------------------------------------------------------------------------
def _survives_a_settings_typo(args) -> bool:
    """`local-store stop` and `status` work whatever settings.toml says: a typo must not keep a
    user from seeing or ending the store that is running (both use the store's state file)."""
    return args.command == "local-store" and args.action in ("stop", "status")


def _store_for(app, args):
    if not _survives_a_settings_typo(args):
        return app.local_store
    try:
        return app.local_store
    except ConfigError as e:
        from desktop_uploader.config import LocalStoreSettings
        from desktop_uploader.localstore import LocalStore

        print(
            f"note: {e.title}: {e.message} (ignored for `local-store {args.action}`)",
            file=sys.stderr,
        )
        return LocalStore(app.paths, LocalStoreSettings(), app.credentials)


def cmd_local_store(app, args) -> int:
    store = _store_for(app, args)
    if args.action == "start":
        was = store.status().running
        status = store.start()
        if args.json:
            print(json.dumps(status.as_dict()))
        else:
            verb = "already running" if was else "started"
            print(
                f"Local store {verb}: S3 {status.s3_endpoint}, public links "
                f"{status.public_base_url}/… (pid {status.pid})"
            )
        return EXIT_OK
    if args.action == "stop":
        stopped = store.stop()
        if args.json:
            print(json.dumps({"stopped": stopped}))
        else:
            print("Local store stopped." if stopped else "Local store was not running.")
        return EXIT_OK
    status = store.status()
    if args.json:
        print(json.dumps(status.as_dict()))
    elif status.running:
        print(
            f"running  pid {status.pid}  S3 {status.s3_endpoint}  public {status.public_base_url}"
        )
    elif status.state == "leftover":
        pids = ", ".join(map(str, status.leftover_pids))
        print(
            f"not usable: processes of an earlier start still run without their keeper "
            f"(pid {pids}). `desktop-uploader local-store start` replaces them, `stop` ends them."
        )
    else:
        print("stopped")
    return EXIT_OK
