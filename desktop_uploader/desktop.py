"""What the desktop window may do, typed: the GUI's one way into the app (no Qt here).

The window and its widgets get a ``DesktopApp`` instead of the composition root (``App``): the
settings in use as a read-only snapshot, the engine and journal it shows, and the operations it
runs (save settings and keys, test a destination before saving, queue files, delete an upload,
warm up), each with a typed result. Saving replaces the whole snapshot in one step
(``App.use_settings``): a worker that read the settings before keeps seeing what it read, and
the GUI thread never writes into settings a worker is reading.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_uploader.app import App
from desktop_uploader.config import Preset, Settings
from desktop_uploader.credentials import DraftCredentials, S3Keys
from desktop_uploader.errors import ConfigError
from desktop_uploader.paths import AppPaths
from desktop_uploader.settings_file import save_settings
from desktop_uploader.snapshots import freeze

if TYPE_CHECKING:
    from desktop_uploader.engine import Engine, Job
    from desktop_uploader.journal import Journal
    from desktop_uploader.pipeline.upload import Uploader


class DesktopApp:
    """The desktop window's view of one ``App``. Create it on the GUI thread at start; the
    methods marked *worker* block (network, disk) and belong on a worker thread."""

    def __init__(self, app: App) -> None:
        self._app = app
        app.use_settings(freeze(app.settings))  # from now on, only whole snapshots

    # -- what the window shows -------------------------------------------------------------
    @property
    def paths(self) -> AppPaths:
        return self._app.paths

    @property
    def settings(self) -> Settings:
        """The settings in use: a read-only snapshot (``copy.deepcopy`` it to edit a draft)."""
        return self._app.settings

    @property
    def engine(self) -> Engine:
        return self._app.engine

    @property
    def journal(self) -> Journal:
        return self._app.journal

    def stored_keys(self, profile: str) -> S3Keys | None:
        """The keys saved for a destination (the keyring, or the environment)."""
        return self._app.credentials.get(profile)

    def job(self, job_id: int) -> Job | None:
        """A job this window's engine runs (None once it is gone from memory)."""
        return self._app.engine.job(job_id)

    # -- settings --------------------------------------------------------------------------
    def edit_settings(self) -> Settings:
        """A mutable copy of the settings in use, for the settings window to fill in."""
        return copy.deepcopy(self.settings)

    def check_settings(self, draft: Settings) -> None:
        """The checks settings.toml gets when read; raises ``SettingsError`` naming the value."""
        from desktop_uploader.settings_schema import check_settings

        check_settings(draft, self.paths.config_file)

    def save_settings(
        self,
        draft: Settings,
        keys: Mapping[str, S3Keys] | None = None,
        removed: Collection[str] = (),
    ) -> Settings:
        """Save ``draft`` with its keys and make it the settings in use; returns the new
        snapshot. Keys go to the keyring first (``keys``: typed for these destinations,
        ``removed``: destinations deleted), then the file (atomically, after the schema
        check), then the snapshot is swapped in: on an error nothing of it is in use."""
        keys = keys or {}
        for name, k in keys.items():
            if name in draft.destinations and not k.access_key_id:
                raise ConfigError(f"Destination '{name}' needs an access key ID with its secret.")
        for name, k in keys.items():
            if name in draft.destinations:
                self._app.credentials.set(name, k)  # type: ignore[union-attr]
        for name in removed:
            self._app.credentials.delete(name)  # type: ignore[union-attr]
        snapshot = freeze(draft)
        save_settings(snapshot, self.paths.config_file)
        self._app.use_settings(snapshot)
        return snapshot

    def connection_view(self, draft: Settings, keys: Mapping[str, S3Keys]) -> App:
        """An app on unsaved settings and keys, for Test connection (doctor's checks) on a
        worker; it shares the journal and local store and is simply dropped after."""
        return self._app.draft(
            freeze(draft),
            DraftCredentials(self._app.credentials, keys),  # type: ignore[arg-type]
        )

    # -- work ------------------------------------------------------------------------------
    def submit_paths(self, paths: Iterable[Path], profile: str, preset: Preset) -> int:
        """*Worker*: expand folders and queue every file (refused entries too, so each shows
        its reason); returns how many jobs were queued."""
        return len(self._app.engine.submit_paths(list(paths), profile, preset))

    def forget_connections(self) -> bool:
        """Close connections made with older settings; False while jobs still use them."""
        return self._app.engine.forget_uploaders()

    def uploader(self, profile: str) -> Uploader:
        """*Worker*: a connection to a destination (history's delete)."""
        return self._app.uploader(profile)

    def warm_up(self) -> None:
        """*Worker*: start the decoder workers and load the S3 library before the first drop,
        so the first upload does not compete with the user for the CPU."""
        import boto3  # noqa: F401

        self._app.engine.checks.warm_up()

    def close(self) -> None:
        """Shut the app down (engine, checks, journal), after the window has closed."""
        self._app.close()
