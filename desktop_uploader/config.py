"""Typed settings, stored as TOML under the app's config folder.

One ``Settings`` object holds destinations (profiles), processing presets and validation limits.
Unknown keys are ignored on load so older apps can read newer files; writes are atomic. Secrets are
never part of settings: they live in the keyring (see ``credentials``).
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from desktop_uploader.errors import ConfigError
from desktop_uploader.paths import atomic_write
from desktop_uploader.pipeline.scanners import EXPLICIT_LABELS

SCHEMA_VERSION = 1
LOCAL_PROFILE = "local"
PROVIDERS = ("local", "seaweedfs", "aws", "r2", "b2", "gcs", "minio", "wasabi", "other")


@dataclass
class Destination:
    """Where images go: an S3-compatible bucket and the public (CDN) address in front of it."""

    name: str
    endpoint: str | None = None
    region: str = ""  # empty: the provider's default (us-east-1, or "auto" for R2/GCS)
    bucket: str = ""
    prefix: str = "i"
    addressing_style: str = ""  # path | virtual | auto; empty: the provider's usual style
    public_base_url: str = ""
    provider: str = "other"
    # transfer behaviour
    concurrency: int = 4  # files uploading at once to this destination
    part_concurrency: int = 4  # parts of one multipart upload in flight
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    verify_download_max_bytes: int = 0  # also GET and hash objects up to this size (0: HEAD only)
    abort_stale_uploads_after_hours: float = 24.0
    # validation policy (see pipeline/scanners.py)
    malware_scan: str = "optional"  # required | optional | off
    # review: a flagged image waits for the user's decision (the default: NudeNet alone is not
    # precise enough to act without a person); block: rejected (for managed destinations)
    content_check: str = "review"  # review | block | off
    content_labels: list[str] = field(default_factory=lambda: list(EXPLICIT_LABELS))
    content_threshold: float = 0.6  # NudeNet score from which a label counts
    # per-label thresholds over content_threshold, e.g. {BUTTOCKS_EXPOSED = 0.8}
    content_label_thresholds: dict[str, float] = field(default_factory=dict)
    # delivery (see docs/cdn.md): readable keys, stable names + CDN purge, private buckets
    key_template: str = ""  # e.g. "{yyyy}/{mm}/{name}-{hash8}.{ext}"; empty: content-hash keys
    stable_names: bool = False  # also publish under <prefix>/<name>.<ext>, overwritten each time
    stable_max_age: int = 300  # Cache-Control max-age of stable-name objects (seconds)
    cloudfront_distribution_id: str = ""  # invalidate stable names on this distribution
    purge_url: str = ""  # or POST {"urls": [...]} here to purge another CDN
    private: bool = False  # links are presigned URLs (the bucket is not publicly readable)
    link_expiry_hours: float = 168.0  # presigned link lifetime (SigV4 allows up to 7 days)

    @property
    def is_local(self) -> bool:
        return self.provider == "local"


@dataclass
class Preset:
    """How an image is processed before upload."""

    name: str
    max_size: int = 2048  # longest side in pixels; never upscaled
    quality: int = 80
    method: int = 4  # libwebp effort 0..6
    thumbnail_size: int = 256
    # "webp", or "original": full resolution kept in the source's format when that is lossless
    # (PNG, TIFF), else high-quality JPEG; metadata stripped either way
    format: str = "webp"
    # colour profile in the output: "strip" (none: browsers assume sRGB) or "srgb" (embed a
    # standard sRGB profile). Pixels are always converted to sRGB; the source's own profile
    # is never copied (it can carry data).
    icc: str = "strip"
    # responsive variants (empty: one rendition, as before): widths in pixels, each as WebP
    # (and AVIF if ``avif``), plus the original's format as fallback; with a blur placeholder
    widths: list[int] = field(default_factory=list)
    avif: bool = False
    fallback: bool = True

    def __post_init__(self) -> None:
        # settings files written by an older settings form hold the widths as strings
        self.widths = [int(w) for w in self.widths]

    def fingerprint(self) -> str:
        """Identifies the output this preset makes, so a re-run can recognise finished work."""
        fp = f"{self.format}:{self.max_size}:{self.quality}:{self.method}:{self.thumbnail_size}"
        if self.icc != "strip":
            fp += f":icc-{self.icc}"
        if self.widths:
            widths = ",".join(map(str, sorted(self.widths)))
            fp += f":w{widths}:{int(self.avif)}{int(self.fallback)}"
        return fp

    def thumbnail_preset(self) -> Preset:
        """Thumbnails are always small WebPs."""
        return Preset(f"{self.name}-thumbnail", quality=80, method=self.method, icc=self.icc)


@dataclass
class Limits:
    """What the validate stage accepts."""

    max_bytes: int = 200 * 1024 * 1024
    max_pixels: int = 150_000_000
    max_frames: int = 1000
    decode_timeout: float = 10.0  # seconds a decoder worker may spend on one file
    decoder_memory_mb: int = 2048  # address space a decoder worker may add for one image
    decoder_nice: int = 10  # decoders run below the window and the user's programs


@dataclass
class ScanningSettings:
    """The malware scanner. Empty ``clamd_socket``: use a running system clamd, else (with
    ``start_own_clamd``) start our own on ``database_dir``."""

    clamd_socket: str = ""
    database_dir: str = "/var/lib/clamav"
    start_own_clamd: bool = True


@dataclass
class LocalStoreSettings:
    """The embedded SeaweedFS store. Port 0 means: pick a free one (then remembered)."""

    bucket: str = "images"
    s3_port: int = 0
    volume_size_limit_mb: int = 256


@dataclass
class WatchedFolder:
    """A folder whose new images get uploaded by themselves."""

    path: str
    destination: str = ""  # empty: the default destination
    recursive: bool = True
    originals: str = "keep"  # keep | move (to done_folder)
    done_folder: str = ""
    include: list[str] = field(default_factory=list)  # globs; empty: image file types
    exclude: list[str] = field(default_factory=list)
    polling: bool = False  # poll instead of OS events (network shares, some sync folders)
    stable_seconds: float = 1.0  # size and mtime unchanged this long before upload
    preset: str = ""  # empty: "default"


@dataclass
class DesktopSettings:
    """How the desktop app behaves after an upload and at login."""

    link_format: str = "url"  # one of deliver.LINK_FORMATS
    copy_on_upload: bool = True
    notify: bool = True
    close_to_tray: bool = False
    start_at_login: bool = False


@dataclass
class Settings:
    schema_version: int = SCHEMA_VERSION
    default_profile: str = LOCAL_PROFILE
    destinations: dict[str, Destination] = field(default_factory=dict)
    presets: dict[str, Preset] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    scanning: ScanningSettings = field(default_factory=ScanningSettings)
    local_store: LocalStoreSettings = field(default_factory=LocalStoreSettings)
    desktop: DesktopSettings = field(default_factory=DesktopSettings)
    watched_folders: list[WatchedFolder] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.presets.setdefault("default", Preset("default"))
        self.presets.setdefault(
            "original", Preset("original", max_size=0, quality=95, format="original")
        )
        self.destinations.setdefault(
            LOCAL_PROFILE,
            Destination(LOCAL_PROFILE, provider="local", bucket=self.local_store.bucket),
        )

    def destination(self, name: str | None) -> Destination:
        name = name or self.default_profile
        try:
            return self.destinations[name]
        except KeyError:
            known = ", ".join(sorted(self.destinations)) or "none"
            raise ConfigError(
                f"There is no destination called '{name}'. Known destinations: {known}."
            ) from None

    def preset(self, name: str | None) -> Preset:
        name = name or "default"
        try:
            return self.presets[name]
        except KeyError:
            known = ", ".join(sorted(self.presets))
            raise ConfigError(
                f"There is no preset called '{name}'. Known presets: {known}."
            ) from None


def _build(cls: type, data: dict[str, Any], **extra: Any) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names}, **extra)


def load_settings(path: Path) -> Settings:
    """Read settings from ``path``; a missing file gives the defaults."""
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(
            f"The settings file {path} is not valid TOML ({e}). Fix or remove it."
        ) from e
    try:
        return Settings(
            schema_version=int(raw.get("schema_version", SCHEMA_VERSION)),
            default_profile=str(raw.get("default_profile", LOCAL_PROFILE)),
            destinations={
                k: _build(Destination, {kk: vv for kk, vv in v.items() if kk != "name"}, name=k)
                for k, v in raw.get("destinations", {}).items()
            },
            presets={
                k: _build(Preset, {kk: vv for kk, vv in v.items() if kk != "name"}, name=k)
                for k, v in raw.get("presets", {}).items()
            },
            limits=_build(Limits, raw.get("limits", {})),
            scanning=_build(ScanningSettings, raw.get("scanning", {})),
            local_store=_build(LocalStoreSettings, raw.get("local_store", {})),
            desktop=_build(DesktopSettings, raw.get("desktop", {})),
            watched_folders=[_build(WatchedFolder, w) for w in raw.get("watched_folders", [])],
        )
    except (TypeError, ValueError, AttributeError) as e:
        raise ConfigError(f"The settings file {path} has a value of the wrong type ({e}).") from e


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


def save_settings(settings: Settings, path: Path) -> None:
    """Write settings atomically (TOML has no null, so unset values are omitted)."""
    import tomli_w

    data = _drop_none(asdict(settings))
    for section in ("destinations", "presets"):
        for entry in data[section].values():
            entry.pop("name", None)
    atomic_write(path, tomli_w.dumps(data).encode("utf-8"))
