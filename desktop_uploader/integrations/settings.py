"""The ``[integrations]`` table of settings.toml: the local upload server.

Kept apart from ``config`` (already long) but part of the same schema: ``Settings`` holds an
``IntegrationSettings`` and ``settings_schema`` checks it like every other table (unknown keys
and wrong types fail closed). This module imports nothing of the app, so ``config`` can import
it without a cycle; the few value types it needs are spelled out here as ``config`` spells them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import Strict, StringConstraints

DEFAULT_PORT = 36677  # PicGo's: Typora's "PicGo (app)" option posts here and nowhere else

_Flag = Annotated[bool, Strict()]
_Port = Annotated[int, Strict(), Ge(1), Le(65535)]
# a browser origin exactly as browsers send it: scheme://host[:port], nothing after
_Origin = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z][a-z0-9+.-]*://[^/\s]+$")]


def _setting(default, label: str, help: str, **extra):  # noqa: A002 - as config.setting
    meta = {"label": label, "help": help, "expected": extra.pop("expected", "")}
    if callable(default):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class IntegrationSettings:
    """The local upload server for editors and screenshot tools (off by default)."""

    __pydantic_config__ = {"extra": "forbid"}

    enabled: _Flag = _setting(
        False,
        "Local upload server",
        "Listen on 127.0.0.1 for editors and screenshot tools (PicGo-compatible)",
    )
    port: _Port = _setting(
        DEFAULT_PORT, "Port", f"Port on 127.0.0.1 ({DEFAULT_PORT} is the one editors expect)"
    )
    allow_tokenless_editors: _Flag = _setting(
        False,
        "Allow editors without a token",
        "Accept a JSON list of image paths without the token (Typora's PicGo option cannot "
        "send one); only readable image files, never folders, never the clipboard",
    )
    allowed_origins: list[_Origin] = _setting(
        list,
        "Allowed web origins",
        "Web pages (e.g. https://notes.example.com) that may send uploads; requests from any "
        "other page are refused",
        expected='a list of origins in quotes, e.g. ["https://notes.example.com"]',
    )
