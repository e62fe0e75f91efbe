"""``desktop-uploader`` without a command, or ``gui``: the desktop window. Paths given to it
(``desktop-uploader PATH…``, as file managers run it) go to a window that is already open."""

from __future__ import annotations

import argparse
import os
import sys

from desktop_uploader.cli_report import EXIT_FAILED, EXIT_OK, EXIT_REJECTED


def paths_without_command(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """The arguments of ``desktop-uploader PATH…`` (no command, no option first), else []."""
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if argv and not argv[0].startswith("-") and argv[0] not in commands.choices:
        return argv
    return []


def open_window(parser: argparse.ArgumentParser, paths: list[str] | None = None) -> int:
    """The desktop window, with ``paths`` queued. When a window is already open, the paths go
    to it instead (gui/single_instance.py). Without a display, say so and list the commands
    instead (Qt would abort the process)."""
    if paths:
        from desktop_uploader.gui.single_instance import HandOffError, hand_off, server_name
        from desktop_uploader.paths import AppPaths

        try:
            queued = hand_off(server_name(AppPaths.from_env()), paths)
        except HandOffError as e:
            print(f"error: {e}", file=sys.stderr)
            return EXIT_FAILED
        if queued is not None:
            print(f"desktop-uploader: {queued} path(s) handed to the open window", file=sys.stderr)
            return EXIT_OK

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
        parser.print_help()
        return EXIT_REJECTED
    from desktop_uploader.gui.main import run_gui

    return run_gui(paths=paths or [])
