"""The per-install token that proves a request to the local upload server comes from the user.

It is made once with ``secrets`` (256 bits), kept in the user's private config folder in a file
only they can read (0600, in a 0700 folder), shown in Settings → Integrations and by
``desktop-uploader integrations``, and put into the snippets those print. Never logged.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from pathlib import Path

from desktop_uploader.paths import AppPaths, atomic_write

TOKEN_FILE = "integrations-token"


def token_path(paths: AppPaths) -> Path:
    return paths.config_dir / TOKEN_FILE


def load_or_create_token(paths: AppPaths) -> str:
    """The install's token, made on first use. A token file others could read is tightened to
    0600 first (the token itself stays: snippets already handed out keep working)."""
    path = token_path(paths)
    try:
        st = path.stat()
    except FileNotFoundError:
        return regenerate_token(paths)
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, 0o600)
    token = path.read_text(encoding="ascii").strip()
    return token if len(token) >= 32 else regenerate_token(paths)


def regenerate_token(paths: AppPaths) -> str:
    """A new token; the old one stops working at once (snippets must be made again)."""
    token = secrets.token_urlsafe(32)
    atomic_write(token_path(paths), (token + "\n").encode("ascii"), mode=0o600)
    return token


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison, so response times do not give the token away byte by byte."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())
