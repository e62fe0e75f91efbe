"""The upload server owned by a long-running process (the window, the tray): started, moved
to another port or stopped to match the ``[integrations]`` settings. No Qt: the window calls
``apply`` on a worker thread after settings are saved, and ``stop`` when it closes."""

from __future__ import annotations

import threading

from desktop_uploader.errors import UploaderError


class ServerSwitch:
    """Keeps at most one ``UploadServer`` running for ``app``, as its settings say."""

    def __init__(self, app, clipboard=None, wait: float = 600.0) -> None:
        self.app = app
        self._clipboard = clipboard
        self._wait = wait
        self._lock = threading.Lock()
        self._server = None
        self._uploads = None
        self._closed = False

    @property
    def url(self) -> str | None:
        """Where it listens now (None: off)."""
        server = self._server
        return server.url if server is not None else None

    def apply(self) -> str | None:
        """Start, restart or stop the server to match the settings; returns its URL (None:
        off). Raises ``UploaderError`` (code ``port_in_use``) when the port is taken."""
        from desktop_uploader.integrations.server import UploadServer
        from desktop_uploader.integrations.token import load_or_create_token
        from desktop_uploader.integrations.uploads import EngineUploads

        with self._lock:
            wanted = self.app.settings.integrations
            running = self._server
            if running is not None and (not wanted.enabled or running.port != wanted.port):
                self._stop()
            if self._closed or not wanted.enabled or self._server is not None:
                return self.url
            uploads = EngineUploads(self.app, clipboard=self._clipboard, wait=self._wait)
            try:
                self._server = UploadServer(
                    uploads,
                    token=lambda: load_or_create_token(self.app.paths),
                    settings=lambda: self.app.settings.integrations,
                    port=wanted.port,
                    max_bytes=self.app.settings.limits.max_bytes,
                ).start()
            except OSError as e:
                uploads.close()
                raise UploaderError(
                    f"Port {wanted.port} on 127.0.0.1 is taken ({e.strerror or e}): is "
                    "`desktop-uploader serve` or PicGo running? Stop it, or choose another "
                    "port in Settings → Integrations.",
                    code="port_in_use",
                    title="The upload server cannot start",
                ) from None
            self._uploads = uploads
            load_or_create_token(self.app.paths)
            return self.url

    def stop(self) -> None:
        """Stop for good (the process is closing); a later ``apply`` does nothing."""
        with self._lock:
            self._closed = True
            self._stop()

    def _stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._uploads is not None:
            self._uploads.close()
            self._uploads = None
