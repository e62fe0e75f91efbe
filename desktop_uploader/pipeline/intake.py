"""Intake: turn what the user named (files, folders) into a list of files to process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Found:
    """A file to process. ``named``: the user named it (strict: anything that is not an image
    is an error); otherwise it was found inside a folder they named (forgiving: a README or a
    sidecar file there is passed over)."""

    path: Path
    named: bool


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files as given, folders walked recursively (hidden files and folders skipped), in order.

    A path that does not exist is kept, so it gets its own "not found" result.
    """
    return [f.path for f in find_files(paths)]


def find_files(paths: list[str | Path]) -> list[Found]:
    """``expand_paths``, saying of each file whether the user named it or a folder of it (a
    file both named and inside a named folder counts as named)."""
    out: list[Found] = []
    seen: dict[Path, int] = {}
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        _add(Found(Path(root) / name, named=False), out, seen)
        else:
            _add(Found(p, named=True), out, seen)
    return out


def _add(found: Found, out: list[Found], seen: dict[Path, int]) -> None:
    key = found.path.absolute()
    if key not in seen:
        seen[key] = len(out)
        out.append(found)
    elif found.named:
        out[seen[key]] = Found(out[seen[key]].path, named=True)


def display_name(path: Path) -> str:
    """A file name safe to show and to use as alt text: printable, no path, bounded length."""
    name = path.name
    cleaned = "".join(ch if ch.isprintable() and ch not in "<>\"'`\\" else "_" for ch in name)
    return cleaned[:200] or "image"
