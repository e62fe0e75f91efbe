"""The local upload server (issue 17): PicGo-compatible JSON path lists, multipart files, the
clipboard, and who may use it (token, Origin, tokenless editors), against the real local store.
Every upload here goes through the app's own engine and ends in its history (journal)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from imagegen import jpeg_bytes, png_bytes, scene
from integrations_http import fetch, post, post_form, post_json
from test_validate_process import png_header_only

from desktop_uploader.integrations.server import TOKEN_HEADER, UploadServer
from desktop_uploader.integrations.token import load_or_create_token, token_path
from desktop_uploader.integrations.uploads import EngineUploads


class FolderClipboard:
    """Not used for the clipboard test (that one uses the real X11 clipboard); here only to
    prove a request without the token never reaches the clipboard at all."""

    def __init__(self) -> None:
        self.grabs = 0

    def grab(self, folder: Path) -> Path:
        self.grabs += 1
        raise AssertionError("the clipboard was read")


@pytest.fixture
def serve(app):
    """Start the server on a free port for ``app`` (settings given as keywords)."""
    running = []

    def start(clipboard=None, wait=120.0, **settings) -> UploadServer:
        for key, value in settings.items():
            setattr(app.settings.integrations, key, value)
        uploads = EngineUploads(app, clipboard=clipboard, wait=wait, defer_review=True)
        server = UploadServer(
            uploads,
            token=lambda: load_or_create_token(app.paths),
            settings=lambda: app.settings.integrations,
            port=0,
            max_bytes=app.settings.limits.max_bytes,
        ).start()
        running.append((server, uploads))
        return server

    yield start
    for server, uploads in running:
        server.stop()
        uploads.close()


@pytest.fixture
def token(app) -> str:
    return load_or_create_token(app.paths)


def images(tmp_path: Path, n: int = 2) -> list[Path]:
    out = []
    for i in range(n):
        p = tmp_path / f"img{i}.jpg"
        p.write_bytes(jpeg_bytes(scene(240 + 16 * i, 160, seed=300 + i + os.getpid() % 97)))
        out.append(p)
    return out


def history_urls(app) -> dict[str, str]:
    return {r["source"]: r["url"] for r in app.journal.history(limit=100) if r["url"]}


def assert_success(status, body, count: int) -> list[str]:
    assert status == 200, body
    assert list(body) == ["success", "result"], body  # the PicGo reply, nothing else
    assert body["success"] is True
    assert isinstance(body["result"], list) and len(body["result"]) == count
    assert all(isinstance(u, str) and u.startswith("http") for u in body["result"])
    return body["result"]


def refused(response, http_status: int, code: str) -> str:
    status, _headers, body = response
    return assert_failure(status, body, http_status, code)


def assert_failure(status, body, http_status: int, code: str) -> str:
    assert status == http_status, body
    assert list(body) == ["success", "message"], body
    assert body["success"] is False
    assert isinstance(body["message"], str) and body["message"].startswith(f"{code}: "), body
    return body["message"]


# -- the PicGo JSON endpoint -------------------------------------------------------------------
def test_json_path_list_uploads_in_order_into_history(app, serve, token, tmp_path):
    server = serve()
    files = images(tmp_path, 3)
    status, headers, body = post_json(
        server.url, {"list": [str(p) for p in files]}, {TOKEN_HEADER: token}
    )
    urls = assert_success(status, body, 3)
    assert headers["Content-Type"].startswith("application/json")
    assert not [h for h in headers if h.lower().startswith("access-control-")]
    recorded = history_urls(app)
    assert urls == [recorded[str(p)] for p in files]  # input order, as in the history
    for url in urls:
        assert fetch(url)[:4] == b"RIFF"  # the link serves the processed WebP


def test_picbed_and_config_name_choose_destination_and_preset(app, serve, token, tmp_path):
    server = serve()
    [p] = images(tmp_path, 1)
    status, _, body = post_json(
        f"{server.url}?picbed=test&configName=original", {"list": [str(p)]}, {TOKEN_HEADER: token}
    )
    [url] = assert_success(status, body, 1)
    assert url.endswith(".jpg") and fetch(url)[:3] == b"\xff\xd8\xff"  # "original": a JPEG
    rows = [r for r in app.journal.history(limit=10) if r["source"] == str(p)]
    assert rows[0]["profile"] == "test" and rows[0]["preset"] == "original"
    status, _, body = post_json(
        f"{server.url}?picbed=smms", {"list": [str(p)]}, {TOKEN_HEADER: token}
    )
    assert "no destination called 'smms'" in assert_failure(status, body, 400, "config")
    status, _, body = post_json(
        server.url, {"list": ["https://example.com/a.png"]}, {TOKEN_HEADER: token}
    )
    assert_failure(status, body, 200, "not_found")  # a web address is not fetched


def test_a_rejection_returns_its_reason_and_is_in_history(app, serve, token, tmp_path):
    server = serve()
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(50_000, 50_000))
    [good] = images(tmp_path, 1)
    status, _, body = post_json(server.url, {"list": [str(good), str(bomb)]}, {TOKEN_HEADER: token})
    message = assert_failure(status, body, 200, "too_many_pixels")
    assert "bomb.png" in message and "decompression bomb" in message
    rows = {r["source"]: r for r in app.journal.history(limit=10)}
    assert rows[str(bomb)]["status"] == "rejected" and rows[str(bomb)]["code"] == "too_many_pixels"
    assert rows[str(good)]["status"] == "done"


# -- multipart -------------------------------------------------------------------------------
def test_multipart_file_field_with_each_way_of_sending_the_token(app, serve, token, tmp_path):
    server = serve()
    data = png_bytes(scene(200, 120, seed=os.getpid() % 1000))
    for url, headers in (
        (server.url, {TOKEN_HEADER: token}),
        (server.url, {"Authorization": f"Bearer {token}"}),
        (f"{server.url}?key={token}", {}),
    ):
        status, _, body = post_form(url, {"file": ("shot.png", data, "image/png")}, headers)
        [link] = assert_success(status, body, 1)
        assert fetch(link)[:4] == b"RIFF"
    # Obsidian's remote-server mode names its field "list"
    status, _, body = post_form(server.url, {"list": ("x.png", data, "image/png")},
                                {TOKEN_HEADER: token})  # fmt: skip
    assert_success(status, body, 1)
    names = [r["display_name"] for r in app.journal.history(limit=10)]
    assert "shot.png" in names and "x.png" in names
    # our private copies are gone once uploaded
    received = app.paths.cache_dir / "received"
    assert not received.exists() or not any(received.rglob("*.png"))


def test_multipart_non_image_is_rejected_with_reason(app, serve, token):
    server = serve()
    status, _, body = post_form(
        server.url, {"file": ("notes.png", b"just some text\n", "image/png")}, {TOKEN_HEADER: token}
    )
    assert "notes.png" in assert_failure(status, body, 200, "not_an_image")
    assert not list((app.paths.cache_dir / "received").rglob("notes.png"))  # not kept


def test_multipart_file_names_cannot_leave_the_private_folder(app, serve, token, tmp_path):
    server = serve()
    data = png_bytes(scene(120, 90, seed=os.getpid() % 300 + 11))
    for sent, kept in (("..", None), ("../../escape.png", "escape.png"),
                       ("C:\\Users\\me\\win.png", "win.png"), (".", None)):  # fmt: skip
        status, _, body = post_form(server.url, {"file": (sent, data, "image/png")},
                                    {TOKEN_HEADER: token})  # fmt: skip
        assert_success(status, body, 1)
        [row] = [r for r in app.journal.history(limit=1)]
        if kept is None:  # a generic name, never a step out of the folder
            assert row["display_name"].strip(".") and Path(row["source"]).name.strip(".")
        else:
            assert row["display_name"] == kept
        assert Path(row["source"]).parent.parent == app.paths.cache_dir / "received"
    assert not list(app.paths.cache_dir.glob("escape*")) and not list(tmp_path.glob("escape*"))


# -- the clipboard ---------------------------------------------------------------------------


def wait_for_clipboard(ready, timeout: float = 10.0) -> None:
    """Until the clipboard's owner offers targets that satisfy ``ready`` (xclip takes a moment
    to read its input and claim the selection)."""
    deadline = time.monotonic() + timeout
    targets = b""
    while time.monotonic() < deadline:
        done = subprocess.run(
            ["xclip", "-selection", "clipboard", "-out", "-target", "TARGETS"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        targets = done.stdout if done.returncode == 0 else b""
        if ready(targets.split()):
            return
        time.sleep(0.05)
    raise AssertionError(f"the clipboard never offered what the test copied: {targets!r}")


@pytest.fixture
def x11_clipboard(tmp_path, monkeypatch):
    """A real X server (Xvfb) and a real clipboard owner (xclip) holding a PNG."""
    missing = [t for t in ("Xvfb", "xclip") if not shutil.which(t)]
    if missing:
        msg = f"{', '.join(missing)} missing: `make test` installs xvfb and xclip"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    display = f":{90 + os.getpid() % 300}"
    xvfb = subprocess.Popen(["Xvfb", display, "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
    owner = None
    try:
        socket_file = Path(f"/tmp/.X11-unix/X{display[1:]}")
        deadline = time.monotonic() + 10
        while not socket_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        monkeypatch.setenv("DISPLAY", display)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        png = tmp_path / "copied.png"
        png.write_bytes(png_bytes(scene(180, 120, seed=os.getpid() % 500 + 7)))
        owner = subprocess.Popen(
            ["xclip", "-quiet", "-selection", "clipboard", "-target", "image/png", "-in", str(png)],
            env={**os.environ, "DISPLAY": display},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # xclip owns the selection once it has read the file: wait until it offers the PNG
        # (a fixed sleep lost this race on a loaded CI machine)
        wait_for_clipboard(lambda targets: b"image/png" in targets)
        yield png
    finally:
        for proc in (owner, xvfb):
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)


def test_no_body_uploads_the_clipboard_image(app, serve, token, x11_clipboard):
    server = serve()  # the real SystemClipboard
    status, _, body = post(server.url, None, {TOKEN_HEADER: token})
    [url] = assert_success(status, body, 1)
    from PIL import Image

    copied = Image.open(x11_clipboard)
    import io

    uploaded = Image.open(io.BytesIO(fetch(url)))
    assert uploaded.size == copied.size
    [row] = [r for r in app.journal.history(limit=5) if r["url"] == url]
    assert Path(row["source"]).parent == app.paths.cache_dir / "pasted"
    # an empty list means the clipboard too (PicGo's convention)
    status, _, body = post_json(server.url, {"list": []}, {TOKEN_HEADER: token})
    assert_success(status, body, 1)


def test_empty_clipboard_says_so(serve, token, x11_clipboard, monkeypatch):
    server = serve()
    subprocess.run(["xclip", "-selection", "clipboard", "-in"], input=b"text, not an image",
                   timeout=10, check=True)  # fmt: skip
    wait_for_clipboard(lambda targets: b"image/png" not in targets and b"UTF8_STRING" in targets)
    status, _, body = post(server.url, None, {TOKEN_HEADER: token})
    assert_failure(status, body, 200, "clipboard_empty")


# -- who may use it --------------------------------------------------------------------------
def test_requests_without_or_with_a_wrong_token_are_refused(app, serve, token, tmp_path):
    clipboard = FolderClipboard()
    server = serve(clipboard=clipboard)
    [p] = images(tmp_path, 1)
    data = p.read_bytes()
    cases = [
        post_json(server.url, {"list": [str(p)]}),
        post_json(server.url, {"list": [str(p)]}, {TOKEN_HEADER: "x" * 43}),
        post_json(server.url, {"list": [str(p)]}, {"Authorization": "Bearer nope"}),
        post_json(f"{server.url}?key={token[:-1]}", {"list": [str(p)]}),
        post_form(server.url, {"file": ("a.jpg", data, "image/jpeg")}),
        post(server.url, None),  # the clipboard
    ]
    for status, headers, body in cases:
        assert_failure(status, body, 401, "unauthorized")
        assert not [h for h in headers if h.lower().startswith("access-control-")]
    assert clipboard.grabs == 0
    assert app.journal.history(limit=10) == []  # nothing was even queued
    assert os.stat(token_path(app.paths)).st_mode & 0o777 == 0o600


def test_web_pages_are_refused_unless_their_origin_is_allowed(app, serve, token, tmp_path):
    server = serve(allowed_origins=["https://notes.example.com"])
    [p] = images(tmp_path, 1)
    evil = {"Origin": "https://evil.example", TOKEN_HEADER: token}
    status, headers, body = post_json(server.url, {"list": [str(p)]}, evil)
    assert_failure(status, body, 403, "origin_refused")
    assert not [h for h in headers if h.lower().startswith("access-control-")]
    # the CORS preflight a page's fetch() would send first: refused, no CORS headers
    status, headers, body = post(
        server.url, None, {"Origin": "https://evil.example",
                           "Access-Control-Request-Method": "POST"}, method="OPTIONS"
    )  # fmt: skip
    assert_failure(status, body, 403, "origin_refused")
    assert not [h for h in headers if h.lower().startswith("access-control-")]
    # even a "null" origin (a sandboxed page, a file:// page) with the token
    status, _, body = post_json(server.url, {"list": [str(p)]}, {**evil, "Origin": "null"})
    assert_failure(status, body, 403, "origin_refused")
    assert app.journal.history(limit=10) == []
    # the origin the user allowed works (with the token)
    ok = {"Origin": "https://notes.example.com", TOKEN_HEADER: token}
    status, headers, body = post_json(server.url, {"list": [str(p)]}, ok)
    assert_success(status, body, 1)
    assert not [h for h in headers if h.lower().startswith("access-control-")]


def test_tokenless_editors_off_refuses_a_path_list(serve, tmp_path):
    server = serve(allow_tokenless_editors=False)
    [p] = images(tmp_path, 1)
    status, _, body = post_json(server.url, {"list": [str(p)]})
    assert_failure(status, body, 401, "unauthorized")


def test_tokenless_editors_on_accepts_only_readable_image_files(app, serve, tmp_path):
    clipboard = FolderClipboard()
    server = serve(clipboard=clipboard, allow_tokenless_editors=True)
    [p] = images(tmp_path, 1)
    status, _, body = post_json(server.url, {"list": [str(p)]})  # what Typora sends
    [url] = assert_success(status, body, 1)
    assert history_urls(app)[str(p)] == url
    text = tmp_path / "secret.png"
    text.write_text("id_rsa contents would look like this")
    status, _, body = post_json(server.url, {"list": [str(text)]})
    assert_failure(status, body, 403, "not_an_image")
    status, _, body = post_json(server.url, {"list": [str(p), str(tmp_path)]})
    assert_failure(status, body, 403, "not_a_file")  # no folders, and nothing of the list
    status, _, body = post_json(server.url, {"list": ["img0.jpg"]})
    assert_failure(status, body, 403, "not_absolute")
    status, _, body = post_json(server.url, {"list": ["https://example.com/a.png"]})
    assert_failure(status, body, 403, "not_absolute")  # never fetched
    status, _, body = post_json(server.url, {"list": [str(tmp_path / "gone.jpg")]})
    assert_failure(status, body, 403, "not_found")
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # opening it would wait for a writer for ever: it must not be opened
    status, _, body = post_json(server.url, {"list": [str(fifo)]})
    assert_failure(status, body, 403, "not_a_file")
    # never the clipboard, never file bytes without the token
    refused(post(server.url, None), 401, "unauthorized")
    form = {"file": ("a.jpg", p.read_bytes(), "image/jpeg")}
    refused(post_form(server.url, form), 401, "unauthorized")
    assert clipboard.grabs == 0
    assert [r["source"] for r in app.journal.history(limit=10)] == [str(p)]


def test_tokenless_editors_on_refuses_a_path_the_user_cannot_read(app, serve, tmp_path):
    """The server runs as this user; a file only another user may read is refused. As root
    every file is readable, so there the server runs as a fresh unprivileged user."""
    [p] = images(tmp_path, 1)
    if os.geteuid() != 0:
        server = serve(allow_tokenless_editors=True)
        p.chmod(0o000)
        try:
            status, _, body = post_json(server.url, {"list": [str(p)]})
        finally:
            p.chmod(0o600)
        assert "cannot read" in assert_failure(status, body, 403, "unreadable")
        return
    status, body = _tokenless_as_outsider(app, p)
    assert "cannot read" in assert_failure(status, body, 403, "unreadable")


def _tokenless_as_outsider(app, private: Path):
    """Fork, drop to a new system user, serve there; ask from here for ``private`` (0600,
    root's). Returns (status, body)."""
    name = f"du-srv{os.getpid()}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                    "/usr/sbin/nologin", name], check=True, capture_output=True)  # fmt: skip
    try:
        uid = int(subprocess.run(["id", "-u", name], capture_output=True, text=True).stdout)
        gid = int(subprocess.run(["id", "-g", name], capture_output=True, text=True).stdout)
        private.chmod(0o600)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app.settings.integrations.allow_tokenless_editors = True
        pid = os.fork()
        if pid == 0:  # the child: the server as the other user, until killed
            try:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
                UploadServer(
                    uploads=None,  # never reached: the refusal comes before any upload
                    token=lambda: "t" * 43,
                    settings=lambda: app.settings.integrations,
                    port=port,
                    max_bytes=1 << 20,
                ).serve_forever()
            finally:
                os._exit(1)
        try:
            url = f"http://127.0.0.1:{port}/upload"
            deadline = time.monotonic() + 10
            while True:
                try:
                    status, _, body = post_json(url, {"list": [str(private)]})
                    return status, body
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def test_only_post_upload_is_served(serve, token):
    server = serve()
    base = server.url.rsplit("/", 1)[0]
    refused(post(f"{base}/other", b"{}", {TOKEN_HEADER: token}), 404, "not_found")
    refused(post(server.url, None, {TOKEN_HEADER: token}, method="GET"), 405,
                   "method_not_allowed")  # fmt: skip
    assert server.port and server.url.startswith("http://127.0.0.1:")


def test_loopback_only(serve):
    server = serve()
    assert server.url.startswith("http://127.0.0.1:")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5):
        pass
    # 127.0.0.2 would reach a server bound to every address (0.0.0.0); ours refuses it
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", server.port), 5):
        pass


def test_a_request_that_waits_too_long_answers_timeout_and_the_file_goes_on(
    app, serve, token, tmp_path
):
    server = serve(wait=0.001)
    [p] = images(tmp_path, 1)
    status, _, body = post_json(server.url, {"list": [str(p)]}, {TOKEN_HEADER: token})
    assert "stay in the queue" in assert_failure(status, body, 200, "timeout")
    deadline = time.monotonic() + 60
    while str(p) not in history_urls(app) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert history_urls(app)[str(p)].startswith("http")


def test_held_for_review_answers_with_the_finding(app, serve, token, tmp_path):
    """``serve`` (no window) ends a held file at once: the reply says why, the file waits for
    ``desktop-uploader review``. The real content models run (FACE_FEMALE on astronaut())."""
    from PIL import Image
    from skimage import data as skdata

    dest = app.settings.destinations["test"]
    dest.content_check, dest.content_labels, dest.content_threshold = "review", ["FACE_FEMALE"], 0.5
    face = tmp_path / "astronaut.jpg"
    Image.fromarray(skdata.astronaut()).save(face, "JPEG", quality=92)
    server = serve()
    status, _, body = post_json(server.url, {"list": [str(face)]}, {TOKEN_HEADER: token})
    message = assert_failure(status, body, 200, "content:FACE_FEMALE")
    assert "astronaut.jpg: Held for review" in message
    assert [r["source"] for r in app.engine.held_for_review()] == [str(face)]
