"""What the local upload server does with a request: the same engine the CLI and the window use.

``EngineUploads`` turns a PicGo-style request (paths, received file bytes, or "the clipboard")
into engine jobs for a destination and preset, waits for their results and builds the PicGo
reply: ``{"success": true, "result": [urls in input order]}`` or ``{"success": false,
"message": "<reason_code>: <text>"}``. Every job goes through ``engine.submit``, so it is
validated, processed, journalled (history) and shown in the window's queue like any other.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from desktop_uploader import events as ev
from desktop_uploader.errors import UploaderError
from desktop_uploader.integrations.clipboard import ClipboardSource, SystemClipboard
from desktop_uploader.pipeline.intake import display_name

log = logging.getLogger(__name__)

OK_STATUSES = ("done", "duplicate")


@dataclass
class Reply:
    """The PicGo reply: ``result`` (links, input order) when ``success``, else ``message``."""

    success: bool
    result: list[str] = field(default_factory=list)
    message: str = ""
    status: int = 200  # the HTTP status (PicGo clients read ``success``; 4xx for refusals)

    def as_json(self) -> dict:
        if self.success:
            return {"success": True, "result": self.result}
        return {"success": False, "message": self.message}

    @classmethod
    def refused(cls, code: str, text: str, status: int) -> Reply:
        return cls(False, message=f"{code}: {text}", status=status)


class EngineUploads:
    """Uploads for the server, through ``app.engine``.

    ``wait``: how long one request waits for its files (they stay queued after that).
    ``defer_review``: end files the content check holds as ``held`` (review them later with
    ``desktop-uploader review``) instead of waiting for a decision in the window — what a
    process without a window (``serve``) must do."""

    def __init__(
        self,
        app,
        clipboard: ClipboardSource | None = None,
        wait: float = 600.0,
        defer_review: bool = False,
    ) -> None:
        self.app = app
        self.clipboard = clipboard or SystemClipboard()
        self.wait = wait
        self._received = app.paths.cache_dir / "received"
        self._unsubscribe = app.engine.subscribe(self._on_hold) if defer_review else None

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # -- the three kinds of request ------------------------------------------------------
    def upload_paths(self, paths: list[str], picbed: str | None, config_name: str | None) -> Reply:
        """Files (and, with the token, folders) named by path."""
        return self._run([Path(p) for p in paths], picbed, config_name)

    def upload_received(
        self, files: list[tuple[str, BinaryIO]], picbed: str | None, config_name: str | None
    ) -> Reply:
        """Files (name, stream) posted as multipart/form-data: saved privately, then
        uploaded; our copy is removed once it is uploaded or refused (kept when it failed,
        to retry)."""
        paths = [self._save(name, data) for name, data in files]
        return self._run(paths, picbed, config_name, ours=True)

    def upload_clipboard(self, picbed: str | None, config_name: str | None) -> Reply:
        try:
            path = self.clipboard.grab(self.app.paths.cache_dir / "pasted")
        except UploaderError as e:
            return Reply(False, message=f"{e.code}: {e.message}")
        return self._run([path], picbed, config_name)

    # -- internals -----------------------------------------------------------------------
    def _run(
        self, paths: list[Path], picbed: str | None, config_name: str | None, ours=False
    ) -> Reply:
        settings = self.app.settings
        try:
            dest = settings.destination(picbed or None)
            preset = settings.preset(config_name or None)
        except UploaderError as e:
            return Reply(False, message=f"{e.code}: {e.message}", status=400)
        engine = self.app.engine
        jobs = engine.submit_paths(paths, dest.name, preset)
        deadline = time.monotonic() + self.wait
        results = []
        for job in jobs:
            remaining = max(0.0, deadline - time.monotonic())
            try:
                results.append(job.future.result(timeout=remaining))
            except TimeoutError:
                left = sum(not j.future.done() for j in jobs)
                return Reply(
                    False,
                    message=f"timeout: {left} file(s) still in progress after {self.wait:g} s; "
                    "they stay in the queue and their links will be in the history",
                )
        if ours:
            for r in results:
                if r.status in OK_STATUSES or r.status == "rejected":
                    shutil.rmtree(Path(r.source).parent, ignore_errors=True)
        return reply_for(results)

    def _save(self, name: str, data: BinaryIO) -> Path:
        folder = self._received / os.urandom(8).hex()
        folder.mkdir(parents=True, mode=0o700)
        # the sender's name, without folders (Windows' too) and never "." or ".."
        base = display_name(Path(name.replace("\\", "/").rsplit("/", 1)[-1].strip()))
        path = folder / (base if base.strip(".") else "upload")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        data.seek(0)
        with os.fdopen(fd, "wb") as f:
            shutil.copyfileobj(data, f)
        return path

    def _on_hold(self, event) -> None:
        if event.kind == ev.STAGE and event.data.get("stage") == "waiting_for_review":
            self.app.engine.defer_review(event.job_id)  # as the CLI's one-shot commands do


def reply_for(results) -> Reply:
    """All links in input order when every file got one; else each problem as
    ``code: name: reason`` (files in named folders that are no image are passed over)."""
    considered = [r for r in results if r.status != "skipped"]
    if not considered:
        return Reply(False, message="no_images: nothing to upload (no image files were sent)")
    problems = [r for r in considered if r.status not in OK_STATUSES or not r.url]
    if not problems:
        return Reply(True, result=[r.url for r in considered])
    return Reply(False, message="; ".join(map(_problem, problems)))


def _problem(r) -> str:
    return f"{r.code or r.status}: {Path(r.source).name}: {r.reason or r.status}"
