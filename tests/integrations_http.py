"""HTTP helpers for the local upload server's tests: plain urllib, as an editor's client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import urllib3


def post(url: str, body: bytes | None = None, headers: dict | None = None, method="POST"):
    """(status, response headers, parsed JSON body) of one request; errors are answers too."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, dict(e.headers), json.loads(raw) if raw else None


def post_json(url: str, payload, headers: dict | None = None):
    return post(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})}
    )


def post_form(url: str, fields: dict, headers: dict | None = None):
    """A multipart/form-data POST; ``fields``: name -> (filename, bytes, content type)."""
    body, content_type = urllib3.encode_multipart_formdata(fields)
    return post(url, body, {"Content-Type": content_type, **(headers or {})})


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read()
