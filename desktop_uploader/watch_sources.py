"""What a watched folder is and how its files are found (the gate is ``watch.py``).

A ``WatchRule`` says which names in a folder count (images, not partial downloads, not the done
folder, the folder's include/exclude globs); ``EnqueueHandler`` is the watchdog handler that only
puts paths on a queue (Maestral's pattern); ``native_observer`` is the OS's observer with full
inotify events on Linux; ``walk_folder`` is the start-up scan's listing.
"""

from __future__ import annotations

import fnmatch
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from desktop_uploader.config import Settings, WatchedFolder
from desktop_uploader.pipeline.formats import IMAGE_SUFFIXES

IMAGE_GLOBS = tuple(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
# Names browsers, sync clients and editors use while a file is still being written.
PARTIAL_SUFFIXES = (
    ".part",
    ".crdownload",
    ".tmp",
    ".temp",
    ".partial",
    ".download",
    ".opdownload",
    ".!qb",
    ".swp",
    "~",
)


def is_partial_name(name: str) -> bool:
    """True for temp/partial names that are never uploaded: dotfiles, ``~$`` lock files and
    download/editor suffixes (``.part``, ``.crdownload``, ``.tmp``, ...)."""
    lower = name.lower()
    return name.startswith((".", "~$")) or lower.endswith(PARTIAL_SUFFIXES)


@dataclass
class WatchRule:
    """A watched folder resolved against settings: where its files go and how they are made."""

    folder: WatchedFolder
    root: Path
    profile: str
    preset: object
    done_dir: Path | None

    def wants(self, path: Path) -> bool:
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return False
        parts = rel.parts
        if not parts or any(p.startswith(".") for p in parts) or is_partial_name(parts[-1]):
            return False
        if not self.folder.recursive and len(parts) > 1:
            return False
        if self.done_dir is not None and path.is_relative_to(self.done_dir):
            return False
        name, relpath = parts[-1].lower(), rel.as_posix().lower()
        include = [g.lower() for g in self.folder.include] or list(IMAGE_GLOBS)
        if not any(
            fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(relpath, g) for g in include
        ):
            return False
        return not any(
            fnmatch.fnmatchcase(name, g.lower()) or fnmatch.fnmatchcase(relpath, g.lower())
            for g in self.folder.exclude
        )

    @classmethod
    def resolve(cls, settings: Settings, folder: WatchedFolder) -> WatchRule:
        """The folder as its settings say: its destination, preset and done folder."""
        root = Path(folder.path).expanduser().resolve()
        profile = settings.destination(folder.destination or None).name
        preset = settings.preset(folder.preset or None)
        done = None
        if folder.originals == "move":
            done = Path(folder.done_folder).expanduser() if folder.done_folder else root / "done"
            done = done.resolve()
        return cls(folder, root, profile, preset, done)


class EnqueueHandler(FileSystemEventHandler):
    """Translates file-system events into paths on a queue, nothing else."""

    def __init__(self, q: queue.SimpleQueue, wake: threading.Event | None = None) -> None:
        self._q = q
        self._wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        # a move from outside the folder is an unpaired IN_MOVED_TO: with full events watchdog
        # reports it as moved from "" (a move out of the folder: moved to "", nothing to do)
        path = event.dest_path if kind == "moved" else event.src_path
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not path:
            return
        if event.is_directory:
            if kind in ("created", "moved"):
                self._q.put(("dir", path))  # a folder moved in: its files are new too
            return
        if kind in ("created", "modified"):
            self._q.put(("file", path))
        elif kind == "closed":
            self._q.put(("closed", path))
        elif kind == "moved":
            self._q.put(("renamed", path))
        else:
            return
        if self._wake is not None and kind in ("closed", "moved"):
            self._wake.set()  # complete files: the gate looks now, not at its next tick


def native_observer():
    """The OS's own observer. On Linux (inotify) with full events, so that a file moved in
    from outside the folder (an unpaired IN_MOVED_TO, which watchdog otherwise reports as
    created, like a file still being written) is known to have arrived complete."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:  # not Linux
        return Observer()
    if Observer is not InotifyObserver:
        return Observer()
    return InotifyObserver(generate_full_events=True)


def walk_folder(root: Path, recursive: bool):
    """(path, size, mtime_ns) of every entry but folders under ``root`` (links and special
    files too: they get their refusal), skipping dot-folders; os.scandir gives type without a
    stat, one stat per file."""
    stack = [str(root)]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            for e in it:
                if e.name.startswith("."):
                    continue
                try:
                    if e.is_dir(follow_symlinks=False):
                        if recursive:
                            stack.append(e.path)
                    else:
                        st = e.stat(follow_symlinks=e.is_file(follow_symlinks=False))
                        yield e.path, st.st_size, st.st_mtime_ns
                except OSError:
                    continue
