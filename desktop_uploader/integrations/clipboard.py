"""The image on the clipboard, for a PicGo-style upload request without a path list.

The server may run without Qt (``desktop-uploader serve``) and always runs off the GUI thread,
so the clipboard is read the way Pillow's ``ImageGrab.grabclipboard`` does, not through Qt:

* Linux: ``wl-paste`` (Wayland) or ``xclip`` (X11), asked for PNG bytes. We run the tool
  ourselves rather than call Pillow because Pillow decodes the image in this process; we want
  the bytes saved untouched and judged by the validate stage (its sandboxed decoder workers,
  limits and type checks) like any other file.
* macOS and Windows: Pillow's ``ImageGrab.grabclipboard`` (native APIs there), saved as PNG.

A provider is anything with ``grab(folder) -> Path``; tests and embedders can pass their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

from desktop_uploader.errors import Rejected

PNG = "image/png"
_TIMEOUT = 10.0  # a clipboard owner that never answers must not hold a request for ever


class ClipboardSource(Protocol):
    def grab(self, folder: Path) -> Path:
        """Save the clipboard's image into ``folder`` and return its path; raise ``Rejected``
        (``clipboard_empty`` / ``clipboard_unavailable``) when there is none to be had."""
        ...


def _empty() -> Rejected:
    return Rejected("The clipboard holds no image.", code="clipboard_empty")


def _unavailable(why: str) -> Rejected:
    return Rejected(f"The clipboard cannot be read here: {why}", code="clipboard_unavailable")


def new_file(folder: Path, suffix: str = ".png") -> Path:
    """A fresh, private file name in ``folder`` (``clipboard-YYYYmmdd-HHMMSS[-n].png``)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = time.strftime("clipboard-%Y%m%d-%H%M%S")
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


class SystemClipboard:
    """The desktop session's clipboard (see the module's docstring for how)."""

    def grab(self, folder: Path) -> Path:
        if sys.platform.startswith("linux") or "bsd" in sys.platform:
            return self._grab_tool(folder)
        return self._grab_pillow(folder)

    @staticmethod
    def commands() -> tuple[list[str], list[str]] | None:
        """The tool's two calls, as Pillow picks the tool: list the clipboard's types, read
        its PNG bytes. The types are asked first because an owner may answer any type with
        what it holds (xclip serves copied text as "image/png")."""
        wayland, x11 = os.environ.get("WAYLAND_DISPLAY"), os.environ.get("DISPLAY")
        if wayland and shutil.which("wl-paste"):
            return ["wl-paste", "--list-types"], ["wl-paste", "--no-newline", "--type", PNG]
        if x11 and shutil.which("xclip"):
            xclip = ["xclip", "-selection", "clipboard", "-out", "-target"]
            return [*xclip, "TARGETS"], [*xclip, PNG]
        return None

    def _grab_tool(self, folder: Path) -> Path:
        cmds = self.commands()
        if cmds is None:
            if not (os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY")):
                raise _unavailable("no desktop session (DISPLAY and WAYLAND_DISPLAY are unset).")
            raise _unavailable("install wl-clipboard (Wayland) or xclip (X11).")
        list_types, read_png = cmds
        if PNG.encode() not in self._run(list_types).split():
            raise _empty()  # no owner, or nothing copied, or no image among it
        png = self._run(read_png)
        if not png:
            raise _empty()
        path = new_file(folder)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(png)
        return path

    @staticmethod
    def _run(cmd: list[str]) -> bytes:
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise _unavailable(f"{cmd[0]} did not answer within {_TIMEOUT:g} s.") from None
        return done.stdout if done.returncode == 0 else b""

    def _grab_pillow(self, folder: Path) -> Path:
        from PIL import Image, ImageGrab

        try:
            grabbed = ImageGrab.grabclipboard()
        except (NotImplementedError, OSError) as e:
            raise _unavailable(str(e)) from None
        if isinstance(grabbed, list):  # files copied in the file manager (Windows)
            raise Rejected(
                "The clipboard holds files, not an image; send their paths instead.",
                code="clipboard_empty",
            )
        if not isinstance(grabbed, Image.Image):
            raise _empty()
        path = new_file(folder)
        grabbed.save(path, "PNG")
        return path
