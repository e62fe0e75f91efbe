"""Intake: turn what the user named (files, folders) into the files to process, and refuse at
once, without opening them, the entries that are not files to upload.

Every entry ends with a result, so nothing is silently skipped (hidden files aside):

* special files (named pipes, sockets, devices) are ``not_a_regular_file``: opening a FIFO waits
  for a writer for ever, reading a device never ends; they are judged from ``lstat`` alone;
* a symbolic link that loops is ``symlink_loop``;
* a link inside an uploaded or watched folder that points out of it is
  ``symlink_outside_folder`` unless ``follow_symlinks`` is on: dropping a folder must not publish
  files from elsewhere on the disk (``~/.ssh`` is one link away). A link the user named
  themselves is followed: that is the file they chose.

Each entry also says whether it was found inside a folder (``in_folder``): folders are
forgiving, named files strict — a file in a folder whose bytes are no image ends ``skipped``
(it still has its line), a file named explicitly ``rejected``.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from desktop_uploader.errors import Rejected


@dataclass(frozen=True)
class Entry:
    """One file to process, or one refused at intake (``refusal``).

    ``in_folder``: it was found inside a folder the user named, not named itself. Named files
    are judged strictly (anything that is not an image is an error); in a folder, a README or a
    sidecar file whose bytes are no image is passed over (``skipped``). A file both named and
    inside a named folder counts as named."""

    path: Path
    refusal: Rejected | None = None
    in_folder: bool = False


def collect(paths: list[str | Path], follow_symlinks: bool = False) -> list[Entry]:
    """Files as given, folders walked recursively (hidden files and folders skipped), in order,
    each once. A path that does not exist is kept, so it gets its own "not found" result.

    Paths come out absolute (``absolute``: no link resolved, so a link the user named stays
    the path they chose), so a held or interrupted job finds its source again from any
    working directory."""
    out: list[Entry] = []
    seen: dict[Path, int] = {}
    for raw in paths:
        p = absolute(Path(raw).expanduser())
        target, refusal = _follow(p)  # the user named it: links are followed
        if refusal is None and target is not None and target.is_dir():
            # walked as named (the results show the user's paths), judged by where it really is
            _walk(target, p, follow_symlinks, {_dir_id(target)}, out, seen)
        else:
            _add(Entry(p, refusal or refusal_for(p, None, follow_symlinks)), out, seen)
    return out


def expand_paths(paths: list[str | Path], follow_symlinks: bool = False) -> list[Path]:
    """The paths of ``collect`` (refused ones included: they still get their result)."""
    return [e.path for e in collect(paths, follow_symlinks)]


def refusal_for(path: Path, root: Path | None, follow_symlinks: bool) -> Rejected | None:
    """Why ``path`` (found in the folder ``root``; None: named by the user) is not processed,
    judged without opening it; None when it is a file to process (or does not exist)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None  # gone or unreadable: the validate stage says which
    if stat.S_ISLNK(st.st_mode):
        target, refusal = _follow(path)
        if refusal is not None or target is None:
            return refusal
        if root is not None and not follow_symlinks and not _inside(target, root):
            return _outside(path, target, root)
        try:
            st = os.stat(target)
        except OSError:
            return None
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return None
    return not_regular(path, st.st_mode)


def not_regular(path: Path, mode: int) -> Rejected:
    kind = (
        "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )
    return Rejected(
        f"{path.name} is {kind}, not a regular file; it was not opened.",
        code="not_a_regular_file",
    )


def open_regular(path: Path):
    """Open ``path`` for reading only if it is a regular file, never waiting on a FIFO or a
    device (opened non-blocking, then checked): a file swapped for a pipe after intake looked
    at it is refused here. Raises ``Rejected`` or ``OSError``."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
            raise not_regular(Path(path), mode)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def unreadable(path: Path, e: OSError) -> Rejected:
    """An ``OSError`` met while looking at or reading a user's file, as the rejection it is."""
    if e.errno == errno.ELOOP:
        return Rejected(
            f"{path} is a symbolic link that loops back on itself; it leads to no file.",
            code="symlink_loop",
        )
    if e.errno == errno.ENOENT:
        return Rejected(f"The file {path} does not exist.", code="not_found")
    if e.errno in (errno.EACCES, errno.EPERM):
        return Rejected(f"The file {path} cannot be read (permission denied).", code="unreadable")
    if e.errno == errno.EISDIR:
        return Rejected(f"{path} is a folder, not a file.", code="not_a_file")
    reason = e.strerror or str(e)
    return Rejected(f"The file {path} could not be read ({reason}).", code="read_error")


def absolute(path: Path) -> Path:
    """``path`` from the root, as the user named it: joined to the working directory, links
    (even a linked folder before a "..") left for the OS to follow when the file is opened."""
    return Path(path).absolute()


def display_name(path: Path) -> str:
    """A file name safe to show and to use as alt text: printable, no path, bounded length."""
    name = path.name
    cleaned = "".join(ch if ch.isprintable() and ch not in "<>\"'`\\" else "_" for ch in name)
    return cleaned[:200] or "image"


# -- internals -----------------------------------------------------------------------------------
def _follow(path: Path) -> tuple[Path | None, Rejected | None]:
    """Where ``path`` leads (links resolved); a loop is refused; None when nothing is there."""
    try:
        return path.resolve(strict=True), None
    except (RuntimeError, OSError) as e:  # 3.11/3.12 raise RuntimeError for loops, 3.13 OSError
        if isinstance(e, RuntimeError) or e.errno == errno.ELOOP:
            return None, Rejected(
                f"{path} is a symbolic link that loops back on itself; it leads to no file.",
                code="symlink_loop",
            )
        return None, None


def _inside(target: Path, root: Path) -> bool:
    return target == root or target.is_relative_to(root)


def _outside(path: Path, target: Path, root: Path) -> Rejected:
    return Rejected(
        f"{path.name} is a link to {target}, outside the folder {root}; links out of a folder "
        "are not followed (upload the link by name, or turn on “Follow links out of folders” "
        "in the settings).",
        code="symlink_outside_folder",
    )


def _dir_id(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _walk(
    root: Path,
    folder: Path,
    follow: bool,
    visited: set[tuple[int, int]],
    out: list[Entry],
    seen: dict[Path, int],
) -> None:
    """Entries of ``folder`` (as named, under the uploaded folder whose real path is ``root``),
    depth first, by name."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return
    for e in entries:
        if e.name.startswith("."):
            continue
        path = Path(e.path)
        try:
            is_link, is_dir = e.is_symlink(), e.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            key = _dir_id(path)
            if key not in visited:
                visited.add(key)
                _walk(root, path, follow, visited, out, seen)
            continue
        if not is_link:
            _add(Entry(path, refusal_for(path, root, follow), in_folder=True), out, seen)
            continue
        target, refusal = _follow(path)
        if refusal is None and target is not None and target.is_dir():
            inside = _inside(target, root)
            if inside:
                continue  # its files are walked where they really are
            if not follow:
                refusal = _outside(path, target, root)
            elif _dir_id(target) in visited:
                continue  # a loop through links out and back: walked once already
            else:
                visited.add(_dir_id(target))
                _walk(root, path, follow, visited, out, seen)
                continue
        _add(Entry(path, refusal or refusal_for(path, root, follow), in_folder=True), out, seen)


def _add(entry: Entry, out: list[Entry], seen: dict[Path, int]) -> None:
    key = entry.path.absolute()
    if key not in seen:
        seen[key] = len(out)
        out.append(entry)
    elif not entry.in_folder and out[seen[key]].in_folder:
        out[seen[key]] = entry  # named as well: judged as named, in its first place
