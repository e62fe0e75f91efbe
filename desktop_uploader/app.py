"""Composition root: settings, journal, credentials, local store and engine, wired once.

Domain code receives what it needs from here; nothing looks things up globally.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_uploader.config import Settings
from desktop_uploader.credentials import CredentialStore, DraftCredentials
from desktop_uploader.errors import CredentialsError
from desktop_uploader.paths import AppPaths
from desktop_uploader.settings_file import load_settings, save_settings

if TYPE_CHECKING:
    from desktop_uploader.journal import Journal
    from desktop_uploader.localstore import LocalStore

log = logging.getLogger("desktop_uploader")


def log_file(paths: AppPaths) -> Path:
    """The app's log file (rotated at 2 MB, three kept)."""
    return paths.data_dir / "logs" / "desktop-uploader.log"


def setup_logging(paths: AppPaths, level: int = logging.INFO, verbose: bool = False) -> None:
    """Log to a rotating file in the data folder: rejections and failures, and what the
    libraries say (Python warnings such as Pillow's, libvips's messages): those go to the file,
    never the user's terminal. ``verbose``: also show everything on stderr."""
    logs = log_file(paths).parent
    logs.mkdir(parents=True, exist_ok=True, mode=0o700)
    root = logging.getLogger()
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(
            log_file(paths), maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)  # libraries: their warnings; ours: ``level``
    logging.getLogger("desktop_uploader").setLevel(level)
    logging.captureWarnings(True)  # warnings.warn (Pillow's UserWarnings …) into the log
    if verbose and not any(getattr(h, "du_verbose", False) for h in root.handlers):
        loud = logging.StreamHandler(sys.stderr)
        loud.du_verbose = True  # type: ignore[attr-defined]
        loud.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(loud)
        root.setLevel(logging.INFO)


class App:
    """Everything one process needs, built lazily from ``paths``."""

    def __init__(
        self,
        paths: AppPaths | None = None,
        notice: Callable[[str], None] | None = None,
        *,
        settings: Settings | None = None,
        credentials: CredentialStore | DraftCredentials | None = None,
    ) -> None:
        """``settings`` and ``credentials`` given: use those instead of reading the settings
        file and the keyring (``draft``)."""
        self.paths = (paths or AppPaths.from_env()).ensure()
        self.notice = notice or (lambda msg: log.warning("%s", msg))
        self._settings = settings
        self._settings_lock = threading.Lock()
        self._credentials = credentials
        self._engine = None
        self.limiter = None  # a shared RateLimiter when a bandwidth limit is set
        self.offline_wait: float | None = None  # None: wait for an unreachable destination
        self.scanner_wait: float | None = None  # None: the setting scanning.scanner_wait
        # per-run overrides of every destination's policy, e.g. {"malware_scan": "required"}
        self.policy_overrides: dict[str, str] = {}
        # where the decoder workers' stderr goes (what libtiff, libvips and Pillow print there);
        # None: the terminal (``--verbose``)
        self.library_log: Path | None = log_file(self.paths)
        self._shared_from: App | None = None  # ``draft``: the app whose journal and store it uses

    @property
    def settings(self) -> Settings:
        """The settings in use (read from the file on first use). Read it once per piece of
        work: ``use_settings`` may replace it between two reads, never during one."""
        settings = self._settings
        if settings is None:
            with self._settings_lock:  # two workers asking first read the file once
                if self._settings is None:
                    self._settings = load_settings(self.paths.config_file)
                settings = self._settings
        return settings

    def use_settings(self, settings: Settings) -> None:
        """Replace the settings in use with ``settings`` in one step (the desktop app passes
        a read-only snapshot, see ``snapshots``): readers get either the old or the new,
        whole. The running engine and checks take the new limits for their next file."""
        self._settings = settings
        if self._engine is not None:
            self._engine.limits = settings.limits
        if "checks" in self.__dict__:
            self.checks.limits = settings.limits

    def save_settings(self) -> None:
        save_settings(self.settings, self.paths.config_file)

    def draft(self, settings: Settings, credentials: DraftCredentials) -> App:
        """A view of this app on unsaved ``settings`` and keys (what Test connection checks):
        it shares this app's journal and local store, and has its own connections. It owns
        nothing to close; drop it when done."""
        view = App(self.paths, self.notice, settings=settings, credentials=credentials)
        view.policy_overrides = dict(self.policy_overrides)
        view._shared_from = self
        return view

    @property
    def credentials(self) -> CredentialStore | DraftCredentials:
        if self._credentials is None:
            self._credentials = CredentialStore(notice=self.notice)
        return self._credentials

    @cached_property
    def journal(self) -> Journal:
        from desktop_uploader.journal import Journal

        if self._shared_from is not None:
            return self._shared_from.journal
        return Journal(self.paths.journal_file)

    @cached_property
    def local_store(self) -> LocalStore:
        from desktop_uploader.localstore import LocalStore

        if self._shared_from is not None:
            return self._shared_from.local_store
        return LocalStore(self.paths, self.settings.local_store, self.credentials)

    def target(self, profile: str | None = None, start_local: bool = True):
        """Resolve a destination to an endpoint, bucket, public URL and keys."""
        from desktop_uploader.pipeline.upload import Target

        dest = self.settings.destination(profile)
        if dest.is_local:
            status = self.local_store.status()
            if not status.running and start_local:
                # single-flight: of the jobs that get here together, one starts it
                status = self.local_store.start(announce=self.notice)
            if not status.running:
                from desktop_uploader.errors import LocalStoreError

                raise LocalStoreError(
                    "The local store is not running. Start it with "
                    "`desktop-uploader local-store start`."
                )
            return Target(
                dest,
                status.s3_endpoint,
                status.bucket,
                dest.public_base_url or status.public_base_url or "",
                self.local_store.keys(),
                # restarted without a keyring, the store has new keys: ask it again
                renew=lambda: self.target(dest.name, start_local=start_local),
            )
        keys = self.credentials.get(dest.name)
        if keys is None:
            raise CredentialsError(
                f"No access keys are stored for destination '{dest.name}'. Add them in Settings, "
                "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for this run."
            )
        base = dest.public_base_url or _default_public_base(dest)
        return Target(dest, dest.endpoint, dest.bucket, base, keys)

    def uploader(self, profile: str | None = None):
        from desktop_uploader.pipeline.upload import Uploader

        return Uploader(self.target(profile), self.journal, limiter=self.limiter)

    def set_bandwidth_limit(self, rate: float | None) -> None:
        """Limit all uploads together to ``rate`` bytes/s (None: unlimited)."""
        from desktop_uploader.pipeline.upload import RateLimiter

        self.limiter = RateLimiter(rate) if rate else None

    @property
    def engine(self):
        if self._engine is None:
            from desktop_uploader.engine import Engine

            self._engine = Engine(
                self.journal,
                self.paths.spool_dir,
                self.settings.limits,
                self.uploader,
                offline_wait=self.offline_wait,
                checks=self.checks,
                scanner_wait=(
                    self.scanner_wait
                    if self.scanner_wait is not None
                    else self.settings.scanning.scanner_wait
                ),
            )
        return self._engine

    def validation_policy(self, profile: str | None = None):
        """A destination's malware/content policy, with this run's overrides applied."""
        from desktop_uploader.pipeline.scanners import ValidationPolicy

        dest = self.settings.destination(profile)
        policy = ValidationPolicy(
            dest.malware_scan,
            dest.content_check,
            tuple(dest.content_labels),
            float(dest.content_threshold),
            tuple((k, float(v)) for k, v in dest.content_label_thresholds.items()),
        )
        return replace(policy, **self.policy_overrides)

    @cached_property
    def checks(self):
        """Malware scanner (clamd found or started on first use) and decoder workers."""
        import os

        from desktop_uploader.pipeline.checks import SafetyChecks
        from desktop_uploader.pipeline.decoder import DecodePool
        from desktop_uploader.pipeline.scanners import MalwareScanner

        limits, scanning = self.settings.limits, self.settings.scanning
        scanner = MalwareScanner(
            self.paths.cache_dir / "run",
            Path(scanning.database_dir),
            scanning.clamd_socket or None,
            scanning.start_own_clamd,
            limits.max_bytes,
        )
        decoder = DecodePool(
            os.cpu_count() or 2,
            limits.decoder_memory_mb,
            limits.decode_timeout,
            preload_content_model=self._content_check_used(),
            nice=limits.decoder_nice,
            stderr_to=self.library_log,
        )
        return SafetyChecks(limits, scanner, decoder, self.validation_policy)

    def _content_check_used(self) -> bool:
        """True if some file may get the content check: then the workers load the model as
        they start. A run's override decides alone (``--content-check off``: no model load)."""
        if "content_check" in self.policy_overrides:
            return self.policy_overrides["content_check"] != "off"
        return any(d.content_check != "off" for d in self.settings.destinations.values())

    def close(self) -> None:
        """Shut down in order: engine (finishes running jobs), then the journal."""
        if self._engine is not None:
            self._engine.shutdown(wait=True)
            self._engine = None
        if "checks" in self.__dict__:
            self.checks.close()  # decoder workers, and the clamd we started if any
            del self.__dict__["checks"]
        if "journal" in self.__dict__ and self._shared_from is None:
            self.journal.close()


def _default_public_base(dest) -> str:
    if dest.endpoint:
        return f"{dest.endpoint.rstrip('/')}/{dest.bucket}"
    return f"https://{dest.bucket}.s3.{dest.region or 'us-east-1'}.amazonaws.com"
