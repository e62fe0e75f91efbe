"""Publishing beyond the main rendition: links (public or presigned), responsive variants,
stable names with a CDN purge, and re-signing history links of private buckets.

The engine's upload stage calls these with its ``Uploader``; the GUI calls ``resign_history``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from desktop_uploader import cdn
from desktop_uploader.errors import StorageError
from desktop_uploader.pipeline import deliver
from desktop_uploader.pipeline.process import Rendition
from desktop_uploader.pipeline.variants import Variant
from desktop_uploader.records import UPLOADED, JobResult

log = logging.getLogger(__name__)

PutFn = Callable[[Rendition, str], object]  # upload one rendition to a key (engine._put)


def link_for(uploader: Any, key: str) -> str:
    """The link to ``key``: its public (CDN) URL, or for a private destination a presigned
    GET URL valid for the destination's ``link_expiry_hours``."""
    dest = uploader.target.destination
    if getattr(dest, "private", False):
        seconds = int(max(1.0, min(dest.link_expiry_hours * 3600, 7 * 24 * 3600)))
        return uploader.store.presign(key, seconds)
    return deliver.public_url(uploader.target.public_base_url, key)


def refresh_links(uploader: Any, result: JobResult) -> JobResult:
    """``result`` (taken from history) with fresh presigned links (private destinations: the
    recorded ones may have expired); public links are left as they are."""
    if not getattr(uploader.target.destination, "private", False) or not result.key:
        return result
    thumb = result.thumbnail_url
    if result.thumbnail_key:
        thumb = link_for(uploader, result.thumbnail_key)
    return result.with_(
        url=link_for(uploader, result.key),
        thumbnail_url=thumb,
        variants=[v | {"url": link_for(uploader, v["key"])} for v in result.variants],
    )


def collision_free(uploader: Any, main: Rendition, name: str) -> Any:
    """The destination to key ``main`` with. A template with a short hash (``{hash8}``) could,
    very rarely, give two images one key: if that key already holds other bytes, the full hash
    is used instead, so nothing is ever overwritten."""
    dest = uploader.target.destination
    template = getattr(dest, "key_template", "")
    if not template or "{hash}" in template or "{sha256}" in template:
        return dest
    key = deliver.destination_key(dest, main.sha256, main.extension, name)
    head = uploader.head(key)
    if head is None or head.get("Metadata", {}).get("sha256") == main.sha256:
        return dest
    log.warning("%s already holds another image; using the full content hash in its key", key)
    full = template.replace("{hash8}", "{hash}").replace("{hash16}", "{hash}")
    return replace(dest, key_template=full)


def upload_variants(
    uploader: Any,
    name: str,
    main: Rendition,
    main_key: str,
    variants: list[Variant],
    put: PutFn,
    dest: Any = None,
) -> list[dict]:
    """Upload the responsive set next to the main rendition; returns one record per variant
    (``key``, ``url``, ``width``, ``height``, ``format``, ...). The variant that is the main
    rendition itself reuses its key instead of storing the bytes twice. ``dest``: the
    destination to key them with (default: the uploader's; see ``collision_free``)."""
    dest = dest or uploader.target.destination
    records = []
    for v in variants:
        r = v.rendition
        if r.sha256 == main.sha256:
            key = main_key
        else:
            key = deliver.destination_key(dest, main.sha256, r.extension, name, v.label)
            put(r, key)
        records.append(v.record(key, link_for(uploader, key)))
    return records


def stable_key(dest: Any, name: str, extension: str) -> str:
    """``<prefix>/<safe name>.<ext>``: the same for every upload of a file with that name."""
    return "/".join(
        p for p in (dest.prefix.strip("/"), f"{deliver.safe_name(name)}.{extension}") if p
    )


def publish_stable(uploader: Any, main: Rendition, name: str, cloudfront: Any = None) -> str:
    """Upload ``main`` again under its stable name (short cache lifetime, overwritten each
    time) and tell the CDN; returns the stable key. A failed purge is logged, not fatal: the
    upload itself succeeded and the cache expires after ``stable_max_age`` anyway."""
    dest = uploader.target.destination
    key = stable_key(dest, name, main.extension)
    if not uploader.exists_verified(key, main.bytes, main.sha256):
        fields = {
            "ContentType": main.content_type,
            "CacheControl": f"public, max-age={int(dest.stable_max_age)}",
            "Metadata": {"sha256": main.sha256},
        }
        with open(main.path, "rb") as f:
            uploader.store.put(key, f, fields, length=main.bytes)
        uploader.verify(key, main.bytes, main.sha256)
        try:
            cdn.purge(dest, [key], [link_for(uploader, key)], cloudfront)
        except StorageError as e:
            log.warning("%s", e.message)
    return key


def resign_history(
    journal: Any, uploader_for: Callable[[str], Any], rows: Iterable[dict] | None = None
) -> int:
    """Give history entries of private destinations fresh presigned links (url, thumbnail and
    variants), saved in the journal; returns how many were re-signed. ``rows``: history rows
    (default: the last 1,000 finished uploads)."""
    if rows is None:
        rows = journal.history(limit=1000)
    uploaders: dict[str, Any] = {}
    count = 0
    for row in rows:
        if row.get("status") not in UPLOADED or not row.get("key"):
            continue
        profile = row["profile"]
        if profile not in uploaders:
            try:
                uploaders[profile] = uploader_for(profile)
            except Exception as e:  # a destination removed from settings, no keys, ...
                log.warning("cannot re-sign links of %s: %s", profile, e)
                uploaders[profile] = None
        up = uploaders[profile]
        if up is None or not getattr(up.target.destination, "private", False):
            continue
        fresh = refresh_links(up, JobResult.from_row(row)).to_row()
        journal.update_job(row["id"], **{k: fresh[k] for k in ("url", "thumbnail_url", "variants")})
        count += 1
    for up in uploaders.values():
        if up is not None and hasattr(up, "close"):
            up.close()
    return count
