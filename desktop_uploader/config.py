"""Typed settings, stored as TOML under the app's config folder.

One ``Settings`` object holds destinations (profiles), processing presets and validation limits.
Every field is part of a schema: its type (with the allowed values or range) is checked when the
file is read (``settings_schema``), and its plain-language label and help text come from here, so
the settings window, the error messages and the file agree. Writes are atomic. Secrets are never
part of settings: they live in the keyring (see ``credentials``).

To add a setting: a field with a typed annotation (``Literal`` for choices, the range types of
``setting_types`` for numbers) and a ``setting(...)`` default carrying its label and help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from annotated_types import Ge, Gt, Le, MinLen

from desktop_uploader import records
from desktop_uploader.errors import ConfigError
from desktop_uploader.integrations.settings import IntegrationSettings
from desktop_uploader.pipeline.content import EXPLICIT_LABELS
from desktop_uploader.presets import Limits, Preset
from desktop_uploader.providers import PROFILES
from desktop_uploader.setting_types import (
    UNKNOWN_KEYS_ARE_ERRORS,
    URL_EXPECTED,
    ContentCheck,
    ContentLabel,
    Flag,
    LinkFormat,
    MalwareScan,
    Number,
    Provider,
    Score,
    Text,
    Url,
    Whole,
    setting,
)
from desktop_uploader.snapshots import Freezable

SCHEMA_VERSION = 1
LOCAL_PROFILE = "local"


@dataclass
class Destination(Freezable):
    """Where images go: an S3-compatible bucket and the public (CDN) address in front of it."""

    __pydantic_config__ = UNKNOWN_KEYS_ARE_ERRORS

    name: Text = setting(label="Name", help="What this destination is called in the app")
    endpoint: Url | None = setting(
        None,
        "Endpoint URL",
        "Empty for AWS S3; e.g. " + PROFILES["r2"].endpoint_template.format(account="<account>"),
        expected=URL_EXPECTED,
    )
    region: Text = setting(
        "", "Region", "Empty: the provider's default (us-east-1; auto for R2 and GCS)"
    )
    bucket: Text = setting("", "Bucket", "The bucket that receives the uploads")
    prefix: Text = setting("i", "Key prefix", "Folder inside the bucket for uploads")
    addressing_style: Literal["", "path", "virtual", "auto"] = setting(
        "",
        "Addressing style",
        "How the bucket appears in request URLs; empty: the provider's usual style",
        choice_labels={
            "": "(provider default)",
            "path": "Path (host/bucket/key)",
            "virtual": "Virtual host (bucket.host/key)",
            "auto": "Automatic",
        },
    )
    public_base_url: Url = setting(
        "",
        "Public / CDN base URL",
        "Where links point, e.g. https://cdn.example.com (empty: the bucket URL)",
        expected=URL_EXPECTED,
    )
    provider: Provider = setting("other", "Provider", "Which service this is (sets its quirks)")
    # transfer behaviour
    concurrency: Annotated[Whole, Ge(1), Le(64)] = setting(
        4, "Files uploading at once", "How many files upload to this destination at the same time"
    )
    part_concurrency: Annotated[Whole, Ge(1), Le(64)] = setting(
        4, "Parts per file at once", "Parts of one large (multipart) upload in flight together"
    )
    connect_timeout: Annotated[Number, Gt(0), Le(600)] = setting(
        5.0, "Connect timeout (s)", "Seconds to wait for the storage service to accept a connection"
    )
    read_timeout: Annotated[Number, Gt(0), Le(3600)] = setting(
        60.0, "Read timeout (s)", "Seconds to wait for an answer once connected"
    )
    verify_download_max_bytes: Annotated[Whole, Ge(0)] = setting(
        0,
        "Download to verify up to (bytes)",
        "Also download and hash uploaded objects up to this size (0: compare size and checksum)",
    )
    abort_stale_uploads_after_hours: Annotated[Number, Ge(0)] = setting(
        24.0,
        "Abort unfinished uploads after (h)",
        "Multipart uploads this app started and never finished are aborted after this long",
    )
    # validation policy (see pipeline/scanners.py)
    malware_scan: MalwareScan = setting(
        "optional",
        "Malware scan",
        "Required: never upload unscanned files (they wait for the scanner); optional: scan "
        "when ClamAV is available and say so when it is not; off: never scan",
        choice_labels={
            "required": "Required (unscanned files wait)",
            "optional": "When available",
            "off": "Off",
        },
    )
    # review is the default: NudeNet alone is not precise enough to act without a person
    # (pipeline/content.py); block is for managed destinations
    content_check: ContentCheck = setting(
        "review",
        "Content check",
        "Review: hold matching images for you to decide; block: reject them; off: no check",
        choice_labels={"review": "Ask me (review)", "block": "Block", "off": "Off"},
    )
    content_labels: list[ContentLabel] = setting(
        label="Blocked content labels",
        help="Comma-separated NudeNet labels that count as a finding",
        factory=lambda: list(EXPLICIT_LABELS),
    )
    content_threshold: Annotated[Number, Ge(0), Le(1)] = setting(
        0.6,
        "Content score threshold (0–1)",
        "NudeNet score from which a label counts (higher: fewer findings)",
    )
    content_label_thresholds: dict[ContentLabel, Score] = setting(
        label="Per-label score thresholds",
        help="A label's own threshold over the score threshold, e.g. BUTTOCKS_EXPOSED = 0.8",
        factory=dict,
    )
    # delivery (see docs/cdn.md): readable keys, stable names + CDN purge, private buckets
    key_template: Text = setting(
        "",
        "Key template",
        "e.g. {yyyy}/{mm}/{name}-{hash8}.{ext}; empty: content-hash keys",
    )
    stable_names: Flag = setting(
        False,
        "Also publish under a stable name",
        "Also upload as <prefix>/<name>.<ext>, overwritten each time (purged from the CDN)",
    )
    stable_max_age: Annotated[Whole, Ge(0)] = setting(
        300, "Stable-name cache time (s)", "Cache-Control max-age of stable-name objects"
    )
    cloudfront_distribution_id: Text = setting(
        "", "CloudFront distribution ID", "Invalidate stable names on this distribution"
    )
    purge_url: Url = setting(
        "",
        "Purge URL",
        'Or POST {"urls": [...]} here to purge another CDN',
        expected=URL_EXPECTED,
    )
    private: Flag = setting(
        False,
        "Private bucket (presigned links)",
        "Links are presigned URLs that expire; the bucket is not publicly readable",
    )
    link_expiry_hours: Annotated[Number, Gt(0), Le(168)] = setting(
        168.0, "Presigned link lifetime (h)", "How long a private link works (at most 7 days)"
    )

    @property
    def is_local(self) -> bool:
        return self.provider == "local"


@dataclass
class ScanningSettings(Freezable):
    """The malware scanner. Empty ``clamd_socket``: use a running system clamd, else (with
    ``start_own_clamd``) start our own on ``database_dir``."""

    __pydantic_config__ = UNKNOWN_KEYS_ARE_ERRORS

    clamd_socket: Text = setting(
        "", "clamd socket", "Path of a clamd socket to use (empty: find a running clamd)"
    )
    database_dir: Text = setting(
        "/var/lib/clamav",
        "Signature folder",
        "Where ClamAV's signatures are (freshclam keeps them up to date)",
    )
    start_own_clamd: Flag = setting(
        True,
        "Start our own clamd",
        "When no clamd runs, start one on the signature folder while the app runs",
    )
    scanner_wait: Annotated[Number, Ge(0)] = setting(
        600.0,
        "Wait for the scanner (s)",
        "When a destination requires a scan and no scanner answers, files wait this long, "
        "then fail (retry them later)",
    )


@dataclass
class LocalStoreSettings(Freezable):
    """The embedded SeaweedFS store. Port 0 means: pick a free one (then remembered)."""

    __pydantic_config__ = UNKNOWN_KEYS_ARE_ERRORS

    bucket: Text = setting("images", "Bucket", "The local store's bucket")
    s3_port: Annotated[Whole, Ge(0), Le(65535)] = setting(
        0, "S3 port", "Port of the local store (0: pick a free one)"
    )
    volume_size_limit_mb: Annotated[Whole, Ge(1)] = setting(
        256, "Volume size (MB)", "Size of each storage volume the local store creates"
    )


@dataclass
class WatchedFolder(Freezable):
    """A folder whose new images get uploaded by themselves."""

    __pydantic_config__ = UNKNOWN_KEYS_ARE_ERRORS

    path: Annotated[Text, MinLen(1)] = setting(
        label="Folder", help="The folder to watch", expected="a folder path"
    )
    destination: Text = setting("", "Destination", "Empty: the default destination")
    recursive: Flag = setting(True, "Subfolders", "Also watch the folders inside it")
    originals: Literal["keep", "move"] = setting(
        "keep",
        "Originals",
        "keep: leave them; move: into the done folder once uploaded",
        choice_labels={"keep": "Keep in place", "move": "Move to a done folder"},
    )
    done_folder: Text = setting(
        "", "Move done files to", "Where uploaded originals go (empty: a 'done' folder inside)"
    )
    include: list[Text] = setting(
        label="Include (globs)", help="e.g. *.jpg, *.png (empty: every image type)", factory=list
    )
    exclude: list[Text] = setting(label="Exclude (globs)", help="e.g. *-draft.*", factory=list)
    polling: Flag = setting(
        False, "Poll (network share)", "Look for changes regularly instead of waiting for events"
    )
    stable_seconds: Annotated[Number, Ge(0), Le(3600)] = setting(
        1.0, "Stable for (s)", "Size and time unchanged this long before a file is uploaded"
    )
    preset: Text = setting("", "Preset", 'Empty: "default"')


@dataclass
class DesktopSettings(Freezable):
    """How the desktop app behaves after an upload and at login."""

    __pydantic_config__ = UNKNOWN_KEYS_ARE_ERRORS

    link_format: LinkFormat = setting(
        "url",
        "Link format",
        "What is copied after an upload",
        choice_labels={str(k): v for k, v in records.LINK_FORMAT_NAMES.items()},
    )
    copy_on_upload: Flag = setting(
        True, "Copy the link after each upload", "Put the new link on the clipboard"
    )
    notify: Flag = setting(True, "Notify when uploads finish", "A desktop notification")
    close_to_tray: Flag = setting(
        False,
        "Keep running in the tray when the window closes",
        "Uploads and watched folders go on in the background",
    )
    start_at_login: Flag = setting(False, "Start at login", "Open in the tray when you log in")


@dataclass
class Settings(Freezable):
    """Everything in settings.toml."""

    __pydantic_config__ = UNKNOWN_KEYS_ARE_ERRORS
    schema_version: Annotated[Whole, Ge(1)] = setting(
        SCHEMA_VERSION, "Settings version", "The version of this file's layout"
    )
    default_profile: Text = setting(
        LOCAL_PROFILE, "Default destination", "Where uploads go unless told otherwise"
    )
    destinations: dict[str, Destination] = setting(
        label="Destinations", help="Where images go", factory=dict
    )
    presets: dict[str, Preset] = setting(
        label="Presets", help="How images are processed", factory=dict
    )
    limits: Limits = setting(label="Limits", help="What is accepted", factory=Limits)
    scanning: ScanningSettings = setting(
        label="Malware scanner", help="ClamAV", factory=ScanningSettings
    )
    local_store: LocalStoreSettings = setting(
        label="Local store", help="The embedded store", factory=LocalStoreSettings
    )
    desktop: DesktopSettings = setting(
        label="Desktop", help="After uploads and at login", factory=DesktopSettings
    )
    watched_folders: list[WatchedFolder] = setting(
        label="Watched folders", help="Folders uploaded by themselves", factory=list
    )
    integrations: IntegrationSettings = setting(
        label="Integrations", help="The local upload server", factory=IntegrationSettings
    )

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
