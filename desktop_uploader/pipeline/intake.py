"""Intake: turn what the user named (files, folders) into a list of files to process."""

from __future__ import annotations

import os
from pathlib import Path


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files as given, folders walked recursively (hidden files and folders skipped), in order.

    A path that does not exist is kept, so it gets its own "not found" result.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        _add(Path(root) / name, out, seen)
        else:
            _add(p, out, seen)
    return out


def _add(p: Path, out: list[Path], seen: set[Path]) -> None:
    key = p.absolute()
    if key not in seen:
        seen.add(key)
        out.append(p)


def display_name(path: Path) -> str:
    """A file name safe to show and to use as alt text: printable, no path, bounded length."""
    name = path.name
    cleaned = "".join(ch if ch.isprintable() and ch not in "<>\"'`\\" else "_" for ch in name)
    return cleaned[:200] or "image"
