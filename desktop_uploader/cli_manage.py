"""Long-running and housekeeping commands: ``watch``, ``history``, ``doctor``, ``local-store``."""

from __future__ import annotations

import json
import sys
import threading

from desktop_uploader.cli_report import EXIT_OK, EXIT_REJECTED, Reporter, first_not_scanned, on_hold
from desktop_uploader.errors import ConfigError
from desktop_uploader.records import JobResult, history_json


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
    reporter = Reporter(json_lines=args.json, total=None)
    unsubscribe = engine.subscribe(reporter.on_event)
    unsubscribe_holds = engine.subscribe(lambda e: on_hold(engine, e))
    unsubscribe_scan = engine.subscribe(first_not_scanned(app))
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
def survives_a_settings_typo(args) -> bool:
    """`local-store stop` and `status` work whatever settings.toml says: a typo must not keep a
    user from seeing or ending the store that is running (both use the store's state file)."""
    return args.command == "local-store" and args.action in ("stop", "status")


def _store_for(app, args):
    if not survives_a_settings_typo(args):
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
