"""Command line: ``desktop-uploader upload|process|watch|review|history|doctor|local-store``
(``serve`` and ``integrations``: ``cli_integrations``).

Imports are lazy so the CLI starts fast and never loads Qt.
"""

from __future__ import annotations

import argparse
import sys

from desktop_uploader import __version__
from desktop_uploader.cli_report import (  # noqa: F401 - EXIT_* are the CLI's promises
    EXIT_FAILED,
    EXIT_HELD,
    EXIT_OK,
    EXIT_REJECTED,
    Reporter,
    exit_status,
    on_hold,
    say_not_scanned,
    summary_line,
)
from desktop_uploader.cli_window import open_window, paths_without_command
from desktop_uploader.errors import UploaderError
from desktop_uploader.records import ContentPolicy, ScanPolicy, choices


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
    parser = build_parser()
    paths = paths_without_command(parser, sys.argv[1:] if argv is None else argv)
    if paths:  # `desktop-uploader PATH…`, as file managers run it
        return open_window(parser, paths)
    args = parser.parse_args(argv)
    if args.smoke_test:
        from desktop_uploader.smoke import run_smoke_test

        return run_smoke_test()
    if args.command == "local-store" and args.action == "_keeper":
        from desktop_uploader import storekeeper

        return storekeeper.main()
    if args.command in (None, "gui"):
        return open_window(parser)
    from desktop_uploader.app import App, setup_logging

    app = App(notice=lambda msg: print(f"note: {msg}", file=sys.stderr))
    setup_logging(app.paths, verbose=args.verbose)
    if args.verbose:
        app.library_log = None  # the decoders' own messages on the terminal too
    app.scanner_wait = getattr(args, "scanner_wait", None)
    from desktop_uploader import cli_manage as manage

    try:
        if not manage.survives_a_settings_typo(args):
            app.settings  # noqa: B018 - checked before any work: a typo stops every command here
        return {
            "upload": cmd_upload,
            "process": cmd_process,
            "resume": cmd_resume,
            "watch": manage.cmd_watch,
            "review": cmd_review,
            "history": manage.cmd_history,
            "doctor": manage.cmd_doctor,
            "local-store": manage.cmd_local_store,
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
    # the decoder workers start (and import) now, while the files are listed, the engine is
    # built and the first file is hashed and scanned: not when the first file needs them
    app.checks.warm_up()
    files = collect(args.paths, app.settings.limits.follow_symlinks)
    if not files:
        print("error: no files found in the given paths", file=sys.stderr)
        return EXIT_REJECTED
    engine = app.engine
    reporter = Reporter(json_lines=args.json, total=len(files))
    unsubscribe = engine.subscribe(reporter.on_event)
    unsubscribe_holds = engine.subscribe(lambda e: on_hold(engine, e))
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
    say_not_scanned(app, results)
    return exit_status(results)


def cmd_resume(app, args) -> int:
    """Finish the jobs a process that is gone left unfinished (``Engine.resume_unfinished``)."""
    app.offline_wait = args.offline_wait
    engine = app.engine
    reporter = Reporter(json_lines=args.json, total=None)
    unsubscribe = engine.subscribe(reporter.on_event)
    unsubscribe_holds = engine.subscribe(lambda e: on_hold(engine, e))
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
    say_not_scanned(app, results)
    return exit_status(results)


# -- review ------------------------------------------------------------------------------
def cmd_review(app, args) -> int:
    from desktop_uploader.review import cmd_review as run

    return run(app, args)
