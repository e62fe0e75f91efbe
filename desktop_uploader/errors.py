"""The few error types that cross the engine's boundary.

Each carries a stable ``code`` (scripts match on it), a short ``title`` and a plain-language
``message`` that says what happened and what the user can do. Secrets never go into either.
"""

from __future__ import annotations


class UploaderError(Exception):
    code = "error"
    title = "Something went wrong"

    def __init__(self, message: str, *, code: str | None = None, title: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if title:
            self.title = title

    def __str__(self) -> str:
        return self.message


class Rejected(UploaderError):
    """The input itself is unacceptable (not an image, too large, unsafe). Retrying won't help."""

    code = "rejected"
    title = "File rejected"


class ConfigError(UploaderError):
    code = "config"
    title = "Settings problem"


class CredentialsError(UploaderError):
    code = "credentials"
    title = "Credentials problem"


class StorageError(UploaderError):
    """The destination refused or could not be reached. ``transient`` says whether to retry."""

    code = "storage"
    title = "Upload failed"

    def __init__(self, message: str, *, code: str | None = None, transient: bool = False):
        super().__init__(message, code=code)
        self.transient = transient


class LocalStoreError(UploaderError):
    code = "local_store"
    title = "Local store problem"


class Interrupted(Exception):  # noqa: N818 - control flow, not an error shown to users
    """A stage stopped because the user paused or cancelled its job (not a failure)."""


class Paused(Interrupted):
    """The job was paused; its stage is parked and runs again on resume."""


class Cancelled(Interrupted):
    """The job was cancelled; it ends as ``cancelled`` and its source is kept."""


class SmokeFailure(Exception):
    """A step of the build's smoke test (``--smoke-test``) did not work."""
