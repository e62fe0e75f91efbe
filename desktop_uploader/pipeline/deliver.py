"""Deliver stage: object keys from content hashes, public URLs, and link text."""

from __future__ import annotations

import html
import re
import time
import unicodedata
from urllib.parse import quote

from desktop_uploader.errors import ConfigError
from desktop_uploader.records import LinkFormat, choices

LINK_FORMATS = choices(LinkFormat)


def object_key(prefix: str, sha256: str, extension: str, variant: str = "") -> str:
    """``<prefix>/<first 2 hex>/<sha256>[-variant].<ext>``: immutable, so cacheable forever."""
    name = f"{sha256}{'-' + variant if variant else ''}.{extension}"
    parts = [p for p in (prefix.strip("/"), sha256[:2], name) if p]
    return "/".join(parts)


HASH_FIELDS = ("{hash}", "{hash8}", "{hash16}", "{sha256}")
_TEMPLATE_FIELDS = {"yyyy", "mm", "dd", "name", "hash", "hash8", "hash16", "sha256", "ext"}


def check_key_template(template: str) -> None:
    """Raise ``ConfigError`` unless ``template`` is usable: known fields only, and the content
    hash always in it (so two different images can never get the same key)."""
    fields = set(re.findall(r"{([^{}]*)}", template))
    unknown = fields - _TEMPLATE_FIELDS
    if unknown:
        raise ConfigError(
            f"The key template uses unknown field(s) {', '.join(sorted(unknown))}; known: "
            + ", ".join(sorted(_TEMPLATE_FIELDS))
        )
    if not any(f in template for f in HASH_FIELDS):
        raise ConfigError(
            "The key template must contain the content hash ({hash8}, {hash16} or {hash}), "
            "or two different images could get the same key."
        )
    if "{ext}" not in template:
        raise ConfigError("The key template must end with the file type: add .{ext}.")


def safe_name(name: str, limit: int = 80) -> str:
    """A file-name stem reduced to a safe subset for keys and URLs: ASCII letters, digits,
    '-', '_' (accents folded, everything else '-'), never empty."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", folded).strip("-_").lower()
    return cleaned[:limit].rstrip("-_") or "image"


def template_key(
    template: str,
    prefix: str,
    sha256: str,
    extension: str,
    name: str,
    variant: str = "",
    when: float | None = None,
) -> str:
    """A readable key from a per-destination template such as
    ``{yyyy}/{mm}/{name}-{hash8}.{ext}``; ``variant`` goes before the extension."""
    check_key_template(template)
    t = time.gmtime(when if when is not None else time.time())
    values = {
        "yyyy": f"{t.tm_year:04d}",
        "mm": f"{t.tm_mon:02d}",
        "dd": f"{t.tm_mday:02d}",
        "name": safe_name(name),
        "hash": sha256,
        "sha256": sha256,
        "hash8": sha256[:8],
        "hash16": sha256[:16],
        "ext": extension + "\0",  # marks where the variant goes
    }
    rendered = template.format_map(values)
    rendered = rendered.replace(
        "." + extension + "\0", f"{'-' + variant if variant else ''}.{extension}"
    )
    rendered = rendered.replace("\0", "")
    parts = [p for p in (prefix.strip("/"), *rendered.split("/")) if p and p not in (".", "..")]
    return "/".join(parts)


def destination_key(
    dest, sha256: str, extension: str, name: str, variant: str = "", when: float | None = None
) -> str:
    """The object key at ``dest``: its key template when it has one, else ``object_key``."""
    template = getattr(dest, "key_template", "")
    if template:
        return template_key(template, dest.prefix, sha256, extension, name, variant, when)
    return object_key(dest.prefix, sha256, extension, variant)


def public_url(base_url: str, key: str) -> str:
    """The public (CDN) URL of ``key``; each path segment URL-encoded."""
    return f"{base_url.rstrip('/')}/{quote(key, safe='/')}"


def link_text(
    fmt: str,
    url: str,
    name: str,
    width: int | None = None,
    height: int | None = None,
    variants: list[dict] | None = None,
    lqip: str | None = None,
) -> str:
    """The link in one of ``LINK_FORMATS``, with ``name`` as the alt text. With ``variants``
    (responsive renditions, see ``picture_snippet``) "picture" is the full srcset snippet."""
    if fmt == "picture" and variants:
        return picture_snippet(variants, url, name, width, height, lqip)
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


_TYPE_ORDER = {"image/avif": 0, "image/webp": 1}  # best first: browsers take the first they know


def picture_snippet(
    variants: list[dict],
    fallback_url: str,
    name: str,
    width: int | None = None,
    height: int | None = None,
    lqip: str | None = None,
) -> str:
    """``<picture>`` with one ``<source srcset>`` per modern format (AVIF, WebP) and an
    ``<img>`` whose ``src``/``srcset`` use the fallback format (the original's). ``variants``
    are dicts with ``url``, ``width``, ``content_type``; ``lqip`` (a data URI) becomes the
    blurred placeholder background."""
    by_type: dict[str, list[dict]] = {}
    for v in variants:
        by_type.setdefault(v["content_type"], []).append(v)

    def srcset(items: list[dict]) -> str:
        ordered = sorted(items, key=lambda v: v["width"])
        return html.escape(", ".join(f"{v['url']} {v['width']}w" for v in ordered))

    widest = max(v["width"] for v in variants)
    sizes = f"(max-width: {widest}px) 100vw, {widest}px"
    modern = sorted((t for t in by_type if t in _TYPE_ORDER), key=_TYPE_ORDER.__getitem__)
    fallback = [v for t, vs in by_type.items() if t not in _TYPE_ORDER for v in vs]
    fallback = fallback or by_type.get("image/webp", [])
    if fallback:
        src = html.escape(max(fallback, key=lambda v: v["width"])["url"])
    else:
        src = html.escape(fallback_url)
    sources = "".join(
        f'<source type="{t}" srcset="{srcset(by_type[t])}" sizes="{sizes}">' for t in modern
    )
    size = f' width="{width}" height="{height}"' if width and height else ""
    style = (
        f' style="background-size:cover;background-image:url({html.escape(lqip)})"' if lqip else ""
    )
    img_srcset = f' srcset="{srcset(fallback)}" sizes="{sizes}"' if fallback else ""
    return (
        f'<picture>{sources}<img src="{src}"{img_srcset} alt="{html.escape(name)}"{size}'
        f' loading="lazy" decoding="async"{style}></picture>'
    )
