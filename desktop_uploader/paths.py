"""Where the app keeps its files.

Everything lives under platformdirs' per-user folders, unless ``DESKTOP_UPLOADER_HOME`` names one
root for config, journal, cache and store data (tests and scripts use it to stay isolated).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "desktop-uploader"
HOME_ENV = "DESKTOP_UPLOADER_HOME"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path

    @classmethod
    def from_env(cls) -> AppPaths:
        """Paths from ``DESKTOP_UPLOADER_HOME`` if set, else the platform's per-user folders."""
        root = os.environ.get(HOME_ENV)
        if root:
            base = Path(root).expanduser().resolve()
            return cls(base / "config", base / "data", base / "cache")
        import platformdirs

        return cls(
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        )

    @property
    def config_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def journal_file(self) -> Path:
        return self.data_dir / "journal.sqlite3"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "local-store"

    @property
    def spool_dir(self) -> Path:
        return self.cache_dir / "spool"

    def ensure(self) -> AppPaths:
        for d in (self.config_dir, self.data_dir, self.cache_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so readers see either the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
