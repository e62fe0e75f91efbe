"""The per-install token that proves a request to the local upload server comes from the user.

It is made once with ``secrets`` (256 bits), kept in the user's private config folder in a file
only they can read (0600, in a 0700 folder), shown in Settings → Integrations and by
``desktop-uploader integrations``, and put into the snippets those print. Never logged.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import stat
import threading
from pathlib import Path

from desktop_uploader.paths import AppPaths, atomic_write

TOKEN_FILE = "integrations-token"


def token_path(paths: AppPaths) -> Path:
    return paths.config_dir / TOKEN_FILE


_regenerating = threading.Lock()  # atomic_write's temporary name is per process, not thread


def load_or_create_token(paths: AppPaths) -> str:
    """The install's token, made on first use. Callers racing to make it (the window's server
    thread and its settings page, ``serve`` in another process) all get the same one. A token
    file others could read is tightened to 0600 (the token stays: snippets keep working)."""
    path = token_path(paths)
    if not path.exists():
        _create(path)
    st = path.stat()
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, 0o600)
    token = path.read_text(encoding="ascii").strip()
    return token if len(token) >= 32 else regenerate_token(paths)


def _create(path: Path) -> None:
    """Write a new token only if there is none: written in full under a unique name, then
    hard-linked into place, which fails when another caller got there first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write((secrets.token_urlsafe(32) + "\n").encode("ascii"))
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def regenerate_token(paths: AppPaths) -> str:
    """A new token; the old one stops working at once (snippets must be made again)."""
    token = secrets.token_urlsafe(32)
    with _regenerating:
        atomic_write(token_path(paths), (token + "\n").encode("ascii"), mode=0o600)
    return token


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison, so response times do not give the token away byte by byte."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())
