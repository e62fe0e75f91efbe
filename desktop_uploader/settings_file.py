"""The settings file: read and checked against the schema, written only when it will load again.

Here, not in ``config`` (what settings are) or ``settings_schema`` (how a file is checked), so
that neither of those imports the other back."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from desktop_uploader.config import Settings
from desktop_uploader.paths import atomic_write
from desktop_uploader.settings_schema import check_settings, drop_none, read_settings


def load_settings(path: Path) -> Settings:
    """Read and check settings from ``path``; a missing file gives the defaults. Raises
    ``SettingsError`` (a ``ConfigError``) naming the file, table, key, value and what is allowed
    on the first problem: nothing runs on settings that are not what the user meant."""
    return read_settings(path)


def save_settings(settings: Settings, path: Path) -> None:
    """Check, then write settings atomically (TOML has no null, so unset values are omitted).
    Raises ``SettingsError`` instead of writing a file that would not load again."""
    import tomli_w

    check_settings(settings, path)
    data = drop_none(asdict(settings))
    for section in ("destinations", "presets"):
        for entry in data[section].values():
            entry.pop("name", None)
    atomic_write(path, tomli_w.dumps(data).encode("utf-8"))
