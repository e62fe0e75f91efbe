"""The frozen app: built with PyInstaller from packaging/desktop_uploader.spec, then smoke-tested.

The bundle is built into dist/desktop-uploader once per session, or reused when it is newer than
every source file that goes into it. A file lock keeps two pytest runs from building it at once.
"""

from __future__ import annotations

import fcntl
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from PIL import Image

from desktop_uploader import __version__
from desktop_uploader.smoke import SmokeFailure, check_webp_without_metadata

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "desktop-uploader"
EXE = BUNDLE / "desktop-uploader"
INTERNAL = BUNDLE / "_internal"
SOURCES = ("desktop_uploader", "packaging", "resources", "pyproject.toml")


def _load_smoke_script():
    spec = importlib.util.spec_from_file_location("smoke_test", ROOT / "packaging/smoke_test.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else path.rglob("*")
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts:
                newest = max(newest, f.stat().st_mtime)
    return newest


@pytest.fixture(scope="session")
def bundle() -> Path:
    """A one-folder bundle no older than its sources (built here when needed)."""
    if sys.platform != "linux":
        pytest.skip("the bundle is built and tested on Linux here (docs/packaging.md)")
    assert shutil.which("objdump"), "PyInstaller needs objdump: apt-get install binutils"
    lock_path = ROOT / "build" / ".bundle.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be building it right now
        if not (EXE.is_file() and EXE.stat().st_mtime > _newest_source()):
            env = {k: v for k, v in os.environ.items() if not k.startswith("DU_BUNDLE_")}
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "PyInstaller",
                    "--noconfirm",
                    "--log-level",
                    "WARN",
                    "--distpath",
                    str(ROOT / "dist"),
                    "--workpath",
                    str(ROOT / "build" / "pyinstaller"),
                    str(ROOT / "packaging" / "desktop_uploader.spec"),
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=800,
            )
            assert proc.returncode == 0, f"PyInstaller failed:\n{proc.stderr[-4000:]}"
            EXE.touch()  # its mtime marks the build as fresh
    return BUNDLE


def test_frozen_app_passes_smoke_test(bundle):
    """Store, upload, public WebP without metadata, window offscreen; stderr allow-listed."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "smoke_test.py"), str(EXE)],
        capture_output=True,
        text=True,
        timeout=400,
    )
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report
    for step in ("content model", "local store", "upload", "public URL", "window"):
        assert f"smoke: {step}: ok" in proc.stdout, report
    assert "smoke_test: passed" in proc.stdout, report


def test_bundle_carries_store_model_resources_and_leaves_out_the_unused(bundle):
    weed = INTERNAL / "weed"
    assert weed.is_file() and os.access(weed, os.X_OK)
    assert (INTERNAL / "nudenet" / "320n.onnx").stat().st_size > 1_000_000
    res = INTERNAL / "desktop_uploader" / "resources"
    assert (res / "icons" / "app.svg").is_file()
    assert (res / "samples" / "harbour.jpg").is_file()
    assert (res / "desktop-uploader.desktop").is_file()
    assert (bundle / "VERSION").read_text().strip() == __version__
    plugins = INTERNAL / "PySide6" / "Qt" / "plugins"
    assert (plugins / "platforms" / "libqxcb.so").is_file()
    assert (plugins / "imageformats" / "libqwebp.so").is_file()  # history thumbnails
    # trimmed: translations, the GTK theme (and GTK itself), other AWS services, test tools
    assert not (INTERNAL / "PySide6" / "Qt" / "translations").exists()
    assert not (plugins / "platformthemes" / "libqgtk3.so").exists()
    assert not any(INTERNAL.glob("libgtk-3*"))
    assert (INTERNAL / "botocore" / "data" / "s3").is_dir()
    assert not (INTERNAL / "botocore" / "data" / "ec2").exists()
    for unused in ("scipy", "skimage", "pytest", "tkinter", "yaml"):
        assert not (INTERNAL / unused).exists(), unused


def test_frozen_cli_starts_and_stops_its_own_store_keeper(bundle, tmp_path):
    """``local-store start`` re-invokes the frozen executable as ``local-store _keeper``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DESKTOP_"))}
    env.update(
        DESKTOP_UPLOADER_HOME=str(tmp_path / "home"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )

    def cli(*args: str) -> dict:
        proc = subprocess.run(
            [str(EXE), "local-store", *args, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    started = cli("start")
    try:
        assert started["running"] and started["pid"] and started["weed_pid"]
        cmdline = Path(f"/proc/{started['pid']}/cmdline").read_bytes().split(b"\0")
        assert cmdline[0] == bytes(EXE) and cmdline[1:3] == [b"local-store", b"_keeper"]
        assert cli("status")["running"]
    finally:
        stopped = cli("stop")
    assert stopped == {"stopped": True}
    deadline = time.monotonic() + 10
    while Path(f"/proc/{started['weed_pid']}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{started['weed_pid']}").exists(), "weed outlived its keeper"


def test_linux_packages_install_and_run(bundle, tmp_path):
    """The .deb (dpkg-deb) and the .tar.gz + install.sh, both from the bundle."""
    assert shutil.which("dpkg-deb"), "dpkg-deb is part of dpkg on Debian"
    out = tmp_path / "out"
    proc = subprocess.run(
        [str(ROOT / "packaging" / "linux" / "build.sh"), "--fast", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    deb = out / f"desktop-uploader_{__version__}_amd64.deb"
    info = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True).stdout
    assert f"Version: {__version__}" in info and "Package: desktop-uploader" in info
    # apt installs recommended packages by default: ClamAV with its signature updater (so
    # uploads are scanned), jpegtran (the original preset turns JPEGs upright losslessly)
    recommends = next(ln for ln in info.splitlines() if ln.startswith("Recommends:"))
    for pkg in ("clamav-daemon", "clamav-freshclam", "libjpeg-turbo-progs"):
        assert pkg in recommends, pkg
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True).stdout
    for path in (
        "./opt/desktop-uploader/desktop-uploader",
        "./opt/desktop-uploader/_internal/weed",
        "./usr/bin/desktop-uploader",
        "./usr/share/applications/desktop-uploader.desktop",
        "./usr/share/icons/hicolor/256x256/apps/desktop-uploader.png",
    ):
        assert path in listing, path
    unpacked = tmp_path / "deb"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    version = subprocess.run(
        [str(unpacked / "opt/desktop-uploader/desktop-uploader"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert version.stdout.strip() == f"desktop-uploader {__version__}"
    launcher = (unpacked / "usr/bin/desktop-uploader").read_text()
    assert "exec /opt/desktop-uploader/desktop-uploader" in launcher

    tarball = next(out.glob(f"desktop-uploader-{__version__}-linux-*.tar.gz"))
    with tarfile.open(tarball) as tf:
        tf.extractall(tmp_path / "tar", filter="tar")
    (top,) = (tmp_path / "tar").iterdir()
    prefix = tmp_path / "prefix"
    subprocess.run([str(top / "install.sh"), "--prefix", str(prefix)], check=True, timeout=120)
    installed = subprocess.run(
        [str(prefix / "bin" / "desktop-uploader"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert installed.stdout.strip() == f"desktop-uploader {__version__}"
    desktop = (prefix / "share/applications/desktop-uploader.desktop").read_text()
    assert f"Exec={prefix}/bin/desktop-uploader gui" in desktop
    assert (prefix / "share/icons/hicolor/48x48/apps/desktop-uploader.png").is_file()
    subprocess.run([str(top / "install.sh"), "--prefix", str(prefix), "--uninstall"], check=True)
    assert not (prefix / "opt" / "desktop-uploader").exists()
    assert not (prefix / "bin" / "desktop-uploader").exists()


# -- the checkers themselves (no bundle needed) ---------------------------------------------------
def _webp(**save_args) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(buf, format="WEBP", **save_args)
    return buf.getvalue()


def test_webp_check_accepts_a_clean_file_and_rejects_metadata():
    assert check_webp_without_metadata(_webp(quality=80)) == ["VP8 "]
    assert check_webp_without_metadata(_webp(lossless=True)) == ["VP8L"]
    exif = Image.Exif()
    exif[0x010F] = "SomeCamera"  # Make
    with pytest.raises(SmokeFailure, match="EXIF"):
        check_webp_without_metadata(_webp(exif=exif.tobytes()))
    with pytest.raises(SmokeFailure, match="XMP"):
        check_webp_without_metadata(_webp(xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>"))
    with pytest.raises(SmokeFailure, match="not a WebP"):
        check_webp_without_metadata(b"\xff\xd8\xff\xe0" + b"\0" * 20)
    clean = _webp(quality=80)
    with pytest.raises(SmokeFailure, match="RIFF size"):
        check_webp_without_metadata(clean[:-4])


def test_stderr_allow_list_flags_anything_else():
    smoke = _load_smoke_script()
    stderr = "\n".join(
        [
            "This plugin does not support propagateSizeHints()",
            "",
            "QStandardPaths: XDG_RUNTIME_DIR not set, defaulting to '/tmp/runtime-root'",
            "Traceback (most recent call last):",
            "qt.qpa.plugin: Could not load the Qt platform plugin",
        ]
    )
    assert smoke.unexpected_lines(stderr) == [
        "Traceback (most recent call last):",
        "qt.qpa.plugin: Could not load the Qt platform plugin",
    ]


def test_smoke_script_fails_without_a_bundle(tmp_path, capsys):
    smoke = _load_smoke_script()
    assert smoke.main([str(tmp_path / "nothing-here")]) == 2
    assert "no frozen app" in capsys.readouterr().err
