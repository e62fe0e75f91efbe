"""The local upload server: PicGo/PicList's ``POST /upload`` on 127.0.0.1, for editors and
screenshot tools.

Why the standard library's ``ThreadingHTTPServer``: one route, small JSON bodies and one file
per screenshot, on loopback only. A framework (aiohttp, Starlette + an ASGI server) would add an
event loop and several packages to a bundle that issue 17 wants smaller, for no request this
server must handle. One thread per request is what the engine wants anyway: a request blocks
while its files go through the engine's own bounded pools.

Who may send what (docs/integrations.md has the whole security model):

* a request carrying an ``Origin`` header (a web page) is refused with 403 unless that origin
  is in ``allowed_origins``; no CORS header is ever sent, so browsers never let a page read a
  reply, and a preflight (``OPTIONS``) is refused;
* every request needs the per-install token (``X-Desktop-Uploader-Token: T``,
  ``Authorization: Bearer T`` or ``?key=T``), else 401;
* except, when ``allow_tokenless_editors`` is on, a JSON path list (Typora and Obsidian cannot
  send a token): then only absolute paths of regular files this user can read whose bytes are
  an accepted image type; no folders, no clipboard. Files are never sent back: replies hold
  links and reasons only.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from desktop_uploader.integrations.token import token_matches
from desktop_uploader.integrations.uploads import Reply

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
TOKEN_HEADER = "X-Desktop-Uploader-Token"
MAX_JSON_BYTES = 1 << 20  # a path list; nothing legitimate comes near it
FORM_FIELDS = ("file", "list")  # ShareX & co. name it "file"; Obsidian's remote mode "list"


class UploadServer:
    """Owns the listening socket and its thread. ``uploads``: an ``EngineUploads``;
    ``token``: returns the current token (read per request, so a regenerated one counts at
    once); ``settings``: returns the current ``IntegrationSettings``; ``max_bytes``: the
    largest file accepted (the validate stage's limit)."""

    def __init__(
        self,
        uploads,
        token: Callable[[], str],
        settings: Callable[[], object],
        port: int,
        max_bytes: int,
    ) -> None:
        self.uploads = uploads
        self.token = token
        self.settings = settings
        self.max_body = max_bytes + (1 << 20)  # the form's own headers and boundaries
        self._httpd = _Server((HOST, port), _Handler)
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/upload"

    def start(self) -> UploadServer:
        """Serve on a thread of its own (never the GUI thread)."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="du-upload-server", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until ``stop`` (from another thread or a signal)."""
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop accepting requests and close the socket (requests in progress finish)."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    # -- one request ---------------------------------------------------------------------
    def handle(self, req: _Handler) -> Reply:
        """Judge and answer one POST; everything that refuses is decided before any upload."""
        admitted = self._admit(req)
        if isinstance(admitted, Reply):
            return admitted
        query, authorized = admitted
        picbed = query.get("picbed") or query.get("profile")
        preset = query.get("configName") or query.get("preset")
        kind = req.headers.get_content_type() if req.headers.get("Content-Type") else ""
        if kind == "multipart/form-data":
            return self._multipart(req, picbed, preset) if authorized else _no_token()
        if kind not in ("", "application/json", "text/plain"):
            return Reply.refused("unsupported_media_type", f"cannot read {kind} bodies", 415)
        return self._path_list(req, authorized, picbed, preset)

    def _admit(self, req: _Handler) -> tuple[dict[str, str], bool] | Reply:
        """(query parameters, whether the token came with it), or the refusal: a web page,
        another address, a wrong token."""
        refusal = self._refuse_origin(req)
        if refusal is not None:
            return refusal
        url = urlsplit(req.path)
        if url.path.rstrip("/") != "/upload":
            return Reply.refused("not_found", "the only address here is POST /upload", 404)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        given = _given_token(req, query)
        authorized = token_matches(given, self.token())
        if given is not None and not authorized:
            return Reply.refused("unauthorized", "wrong token", 401)
        return query, authorized

    def _path_list(
        self, req: _Handler, authorized: bool, picbed: str | None, preset: str | None
    ) -> Reply:
        """PicGo's JSON ``{"list": [paths]}``; no body or an empty list: the clipboard."""
        body = self._json(req)
        if isinstance(body, Reply):
            return body
        paths = body.get("list") if isinstance(body, dict) else None
        if paths is not None and not (
            isinstance(paths, list) and all(isinstance(p, str) for p in paths)
        ):
            return Reply.refused("bad_request", '"list" must be a list of file paths', 400)
        if not paths:
            if not authorized:  # the clipboard may hold anything: never without the token
                return _no_token()
            return self.uploads.upload_clipboard(picbed, preset)
        refusal = None if authorized else self._tokenless(paths)
        return refusal or self.uploads.upload_paths(paths, picbed, preset)

    def _refuse_origin(self, req: _Handler) -> Reply | None:
        origin = req.headers.get("Origin")
        if origin is None or origin in self.settings().allowed_origins:
            return None
        return Reply.refused(
            "origin_refused",
            f"requests from web pages ({origin[:100]}) are refused; allow the origin in "
            "Settings → Integrations if you trust it",
            403,
        )

    def _tokenless(self, paths: list[str]) -> Reply | None:
        if not self.settings().allow_tokenless_editors:
            return _no_token()
        for p in paths:
            problem = tokenless_problem(p)
            if problem is not None:
                code, text = problem
                return Reply.refused(code, f"{p}: {text} (sent without the token)", 403)
        return None

    def _length(self, req: _Handler, limit: int) -> int | Reply:
        try:
            length = int(req.headers.get("Content-Length") or 0)
        except ValueError:
            return Reply.refused("bad_request", "Content-Length is not a number", 400)
        if length < 0 or length > limit:
            return Reply.refused("too_large", f"the request body is over {limit} bytes", 413)
        return length

    def _json(self, req: _Handler) -> object:
        length = self._length(req, MAX_JSON_BYTES)
        if isinstance(length, Reply):
            return length
        raw = req.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return Reply.refused("bad_request", "the body is not JSON", 400)

    def _multipart(self, req: _Handler, picbed: str | None, preset: str | None) -> Reply:
        length = self._length(req, self.max_body)
        if isinstance(length, Reply):
            return length
        import multipart

        try:
            parts = form_files(req.headers.get("Content-Type", ""), req.rfile, length)
        except multipart.MultipartError as e:
            return Reply.refused("bad_request", f"the form cannot be read ({e})", 400)
        if not parts:
            return Reply.refused(
                "bad_request", 'no file in the form (send it in a field named "file")', 400
            )
        try:
            return self.uploads.upload_received(
                [(part.filename, part.file) for part in parts], picbed, preset
            )
        finally:
            for part in parts:
                part.close()


def _no_token() -> Reply:
    return Reply.refused(
        "unauthorized",
        f"this request needs the token ({TOKEN_HEADER} header, Authorization: Bearer, or "
        "?key=); `desktop-uploader integrations` shows it",
        401,
    )


def _given_token(req: _Handler, query: dict[str, str]) -> str | None:
    header = req.headers.get(TOKEN_HEADER)
    if header:
        return header.strip()
    auth = req.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return query.get("key")


def tokenless_problem(raw: str) -> tuple[str, str] | None:
    """Why a path sent without the token is refused, as (code, text); None if it may go on:
    an absolute path to a regular file this user can read whose first bytes are an accepted
    image type (``formats.sniff`` and ``formats.ALLOWED``, as the validate stage judges)."""
    from desktop_uploader.format_names import ALLOWED
    from desktop_uploader.pipeline.formats import sniff
    from desktop_uploader.pipeline.intake import open_regular

    path = Path(raw)
    if not path.is_absolute():
        return "not_absolute", "only absolute paths are accepted"
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return "not_a_file", "only image files are accepted (no folders or devices)"
        if not os.access(path, os.R_OK):
            return "unreadable", "this user cannot read it"
        with open_regular(path) as f:
            head = f.read(64)
    except FileNotFoundError:
        return "not_found", "no such file"
    except PermissionError:
        return "unreadable", "this user cannot read it"
    except OSError as e:
        return "unreadable", e.strerror or "it cannot be read"
    except Exception:  # intake's Rejected: it turned into a pipe or device after the stat
        return "not_a_file", "only image files are accepted"
    if sniff(head) not in ALLOWED:
        return "not_an_image", "only image files are accepted"
    return None


def form_files(content_type: str, stream, length: int) -> list:
    """The file parts named "file" or "list" of a multipart/form-data body, each with
    ``filename`` and ``file`` (spooled to a temporary file past 1 MiB; close them after).

    Parsed by ``multipart`` (the parser the standard library's docs name for ``cgi``'s forms):
    it streams to disk, where ``email``'s MIME parser holds the body in memory and took 2.1 s
    for a 20 MB body here against ``multipart``'s 0.12 s."""
    import multipart

    _kind, options = multipart.parse_options_header(content_type)
    boundary = options.get("boundary")
    if not boundary:
        return []
    parser = multipart.MultipartParser(
        stream, boundary, length, part_limit=64, memory_limit=1 << 20, disk_limit=length
    )
    files = []
    try:
        for part in parser:
            if part.name in FORM_FIELDS and part.filename is not None and part.size:
                files.append(part)
            else:
                part.close()
    except multipart.MultipartError:
        for part in files:
            part.close()
        raise
    return files


class _Server(ThreadingHTTPServer):
    # Windows' SO_REUSEADDR lets another program bind the same port and take our requests
    allow_reuse_address = sys.platform != "win32"
    daemon_threads = True  # a request still waiting on the engine never holds up the exit


class _Handler(BaseHTTPRequestHandler):
    server_version = "desktop-uploader"
    sys_version = ""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        owner: UploadServer = self.server.owner  # type: ignore[attr-defined]
        try:
            reply = owner.handle(self)
        except Exception:  # a bug of ours: say so, never a traceback to the caller
            log.exception("upload server: request failed")
            reply = Reply.refused("internal_error", "see the log file", 500)
        self._send(reply)

    def _refuse_method(self) -> None:
        owner: UploadServer = self.server.owner  # type: ignore[attr-defined]
        reply = owner._refuse_origin(self) or Reply.refused(
            "method_not_allowed", "only POST /upload", 405
        )
        self._send(reply)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _refuse_method  # noqa: N815

    def _send(self, reply: Reply) -> None:
        body = json.dumps(reply.as_json()).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's name
        # the request line holds ?key=TOKEN: log only the method and the path
        if args and isinstance(args[0], str) and " " in args[0]:
            method, target = args[0].split(" ", 2)[:2]
            args = (f"{method} {urlsplit(target).path}", *args[1:])
        log.info("upload server: " + format, *args)
