"""Deliver stage: object keys from content hashes, public URLs, and link text."""

from __future__ import annotations

import html
from urllib.parse import quote

LINK_FORMATS = ("url", "markdown", "html", "bbcode", "picture")


def object_key(prefix: str, sha256: str, extension: str, variant: str = "") -> str:
    """``<prefix>/<first 2 hex>/<sha256>[-variant].<ext>``: immutable, so cacheable forever."""
    name = f"{sha256}{'-' + variant if variant else ''}.{extension}"
    parts = [p for p in (prefix.strip("/"), sha256[:2], name) if p]
    return "/".join(parts)


def public_url(base_url: str, key: str) -> str:
    """The public (CDN) URL of ``key``; each path segment URL-encoded."""
    return f"{base_url.rstrip('/')}/{quote(key, safe='/')}"


def link_text(
    fmt: str, url: str, name: str, width: int | None = None, height: int | None = None
) -> str:
    """The link in one of ``LINK_FORMATS``, with ``name`` as the alt text."""
    if fmt == "url":
        return url
    if fmt == "markdown":
        alt = name.replace("[", "(").replace("]", ")")
        return f"![{alt}]({url})"
    if fmt == "html":
        size = f' width="{width}" height="{height}"' if width and height else ""
        return f'<img src="{html.escape(url)}" alt="{html.escape(name)}"{size}>'
    if fmt == "bbcode":
        return f"[img]{url}[/img]"
    if fmt == "picture":
        size = f' width="{width}" height="{height}"' if width and height else ""
        src = html.escape(url)
        return (
            f'<picture><source srcset="{src}" type="image/webp">'
            f'<img src="{src}" alt="{html.escape(name)}"{size} loading="lazy"></picture>'
        )
    raise ValueError(f"Unknown link format '{fmt}'. Known: {', '.join(LINK_FORMATS)}.")
