"""Command line for the integrations (issue 17): ``serve``, ``integrations`` and
``upload --typora``. Registered from ``cli`` with a few lines; kept here so ``cli`` stays short.
"""

from __future__ import annotations

import argparse
import json
import sys

from desktop_uploader.integrations.settings import DEFAULT_PORT


def add_commands(sub, upload_parser: argparse.ArgumentParser) -> None:
    """The ``serve`` and ``integrations`` subcommands, and ``upload --typora``."""
    upload_parser.add_argument(
        "--typora",
        action="store_true",
        help="Typora's custom-command mode: print only the links, one per line, last, in the "
        "order of the inputs (nothing on stdout when a file gets no link)",
    )
    sv = sub.add_parser(
        "serve",
        help="run the local upload server for editors and screenshot tools (Ctrl+C stops)",
        description="Listen on 127.0.0.1 for PicGo-style uploads (Typora, Obsidian, ShareX, "
        "Flameshot …) and upload through the same checks as `upload`. See "
        "`desktop-uploader integrations` for the snippets and docs/integrations.md.",
    )
    sv.add_argument("--port", type=int, help=f"port (default: the setting, {DEFAULT_PORT})")
    sv.add_argument(
        "--wait",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="how long a request waits for its files before it answers (default 600)",
    )
    it = sub.add_parser(
        "integrations",
        help="print ready-made settings for ShareX, Typora, Obsidian, Flameshot, Spectacle",
    )
    it.add_argument("--sxcu", metavar="FILE", help="also write the ShareX uploader to FILE")
    it.add_argument("--port", type=int, help="for a server on this port (default: the setting)")
    it.add_argument("--json", action="store_true", help="everything as one JSON object")


def commands() -> dict:
    return {"serve": cmd_serve, "integrations": cmd_integrations}


# -- upload --typora ---------------------------------------------------------------------
def cmd_typora(app, args) -> int:
    """Upload like ``upload``, then print the links last, one per line, in input order, as
    Typora's "Custom Command" reads them. When any file gets no link, stdout stays empty (Typora
    would otherwise pair links with the wrong images) and the reasons go to stderr."""
    from desktop_uploader.cli_report import EXIT_REJECTED, exit_status, on_hold, say_not_scanned

    dest = app.settings.destination(args.profile)
    preset = app.settings.preset(args.preset)
    for key in ("malware_scan", "content_check"):
        if getattr(args, key):
            app.policy_overrides[key] = getattr(args, key)
    engine = app.engine
    unsubscribe = engine.subscribe(lambda e: on_hold(engine, e))
    try:
        jobs = engine.submit_paths(args.paths, dest.name, preset)
        results = [job.future.result() for job in jobs]
    finally:
        unsubscribe()
    results = [r for r in results if r.status != "skipped"]
    if not results:
        print("error: no image files in the given paths", file=sys.stderr)
        return EXIT_REJECTED
    say_not_scanned(app, results)  # on stderr, as `upload` says it
    missing = [r for r in results if r.status not in ("done", "duplicate") or not r.url]
    for r in missing:
        print(f"{r.status}: {r.source}: {r.reason} [{r.code}]", file=sys.stderr)
    if missing:
        return exit_status(results) or EXIT_REJECTED
    sys.stdout.write("".join(f"{r.url}\n" for r in results))
    sys.stdout.flush()
    return exit_status(results)


# -- serve -------------------------------------------------------------------------------
def cmd_serve(app, args) -> int:
    """The server in the foreground, on the engine of this process, until Ctrl+C/SIGTERM."""
    import signal
    import threading

    from desktop_uploader.cli_report import EXIT_FAILED, EXIT_OK, Reporter
    from desktop_uploader.integrations.server import UploadServer
    from desktop_uploader.integrations.token import load_or_create_token
    from desktop_uploader.integrations.uploads import EngineUploads

    port = args.port or app.settings.integrations.port
    app.offline_wait = args.wait  # an unreachable destination: the request says so in time
    engine = app.engine
    uploads = EngineUploads(app, wait=args.wait, defer_review=True)
    try:
        server = UploadServer(
            uploads,
            token=lambda: load_or_create_token(app.paths),
            settings=lambda: app.settings.integrations,
            port=port,
            max_bytes=app.settings.limits.max_bytes,
        )
    except OSError as e:
        uploads.close()
        print(
            f"error: cannot listen on 127.0.0.1:{port} ({e.strerror or e}). Is the window's "
            "server (Settings → Integrations) or PicGo already running? Or pick --port.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    load_or_create_token(app.paths)  # made now, so `integrations` shows the one in use
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    reporter = Reporter(json_lines=False, total=None)
    unsubscribe = engine.subscribe(reporter.on_event)
    try:
        server.start()
        engine.checks.warm_up()
        print(f"serving {server.url} (Ctrl+C to stop)", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        uploads.close()
        unsubscribe()
    print("stopped serving", file=sys.stderr, flush=True)
    return EXIT_OK


# -- integrations ------------------------------------------------------------------------
def cmd_integrations(app, args) -> int:
    """Print the snippets (with this install's token); ``--sxcu FILE`` writes ShareX's file."""
    from pathlib import Path

    from desktop_uploader.cli_report import EXIT_OK
    from desktop_uploader.integrations import snippets
    from desktop_uploader.integrations.token import load_or_create_token
    from desktop_uploader.paths import atomic_write

    settings = app.settings.integrations
    port, token = args.port or settings.port, load_or_create_token(app.paths)
    sharex = snippets.sxcu(port, token)
    if args.sxcu:
        # it holds the token: readable by the user only, like the token file
        atomic_write(Path(args.sxcu).expanduser(), json.dumps(sharex, indent=2).encode(), 0o600)
    everything = {
        "url": snippets.upload_url(port),
        "token": token,
        "server_enabled": settings.enabled,
        "allow_tokenless_editors": settings.allow_tokenless_editors,
        "sharex": sharex,
        "typora_command": snippets.typora_command(),
        "obsidian_server": snippets.obsidian_url(port, token),
        "flameshot": snippets.flameshot_line(port, token),
        "spectacle": snippets.spectacle_line(port, token),
    }
    if args.json:
        print(json.dumps(everything, indent=2))
        return EXIT_OK
    state = (
        "on in the window"
        if settings.enabled
        else "off: switch it on in Settings → Integrations, or run `desktop-uploader serve`"
    )
    tokenless = "allowed" if settings.allow_tokenless_editors else "refused"
    print(f"""Local upload server: {everything["url"]}  ({state})
Token: {token}
Editors without the token (Typora's "PicGo (app)" option): {tokenless}

ShareX (save as desktop-uploader.sxcu and open it{
        f"; written to {args.sxcu}" if args.sxcu else ", or use --sxcu FILE"
    }):
{json.dumps(sharex, indent=2)}

Typora → Preferences → Image → Upload Service "Custom Command":
{everything["typora_command"]}

Obsidian "Image auto upload" plugin → uploader "PicGo(app)", PicGo server:
{everything["obsidian_server"]}

Flameshot (a keyboard shortcut's command; prints the JSON reply):
{everything["flameshot"]}

Spectacle:
{everything["spectacle"]}""")
    return EXIT_OK
