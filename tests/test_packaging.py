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
import re
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
STORE = ROOT / "dist" / "desktop-uploader-local-store"  # weed, packaged on its own
BUNDLE_BUDGET = 300_000_000  # bytes (issue 17: the bundle was 599-657 MB)
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
    for step in (
        "heif",
        "content model",
        "local store",
        "upload",
        "public URL",
        "window",
        "hand-off",
    ):
        assert f"smoke: {step}: ok" in proc.stdout, report
    assert "smoke_test: passed" in proc.stdout, report
    assert f"{STORE}/weed" in proc.stdout, report  # the store ran from its own package


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())


def test_bundle_carries_store_model_resources_and_leaves_out_the_unused(bundle):
    weed = STORE / "weed"
    assert weed.is_file() and os.access(weed, os.X_OK)
    assert not (INTERNAL / "weed").exists()  # Linux: in its own package (docs/packaging.md)
    assert (INTERNAL / "nudenet" / "320n.onnx").stat().st_size > 1_000_000
    # the model runs without NudeNet's code and without OpenCV (pipeline/nudity_model.py);
    # HEIF is read by pi-heif, without pillow-heif's x265 encoder
    for gone in ("cv2", "opencv_python_headless.libs", "pillow_heif", "pillow_heif.libs"):
        assert not (INTERNAL / gone).exists(), gone
    assert any(INTERNAL.glob("_pi_heif*.so")) and (INTERNAL / "pi_heif.libs").is_dir()
    # the single-instance hand-off is a QLocalServer
    assert (INTERNAL / "PySide6" / "Qt" / "lib" / "libQt6Network.so.6").is_file()
    # shared objects are stripped, except auditwheel's *.libs (strip breaks those)
    sections = subprocess.run(
        ["objdump", "-h", str(next((INTERNAL / "PIL").glob("_imaging.*.so")))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections
    size = _size(bundle)
    assert size <= BUNDLE_BUDGET, f"the bundle is {size / 1e6:.1f} MB, over 300 MB"
    res = INTERNAL / "desktop_uploader" / "resources"
    assert (res / "icons" / "app.svg").is_file()
    assert (res / "samples" / "harbour.jpg").is_file()
    assert (res / "desktop-uploader.desktop").is_file()
    assert (bundle / "VERSION").read_text().strip() == __version__
    plugins = INTERNAL / "PySide6" / "Qt" / "plugins"
    assert (plugins / "platforms" / "libqxcb.so").is_file()
    assert (plugins / "imageformats" / "libqwebp.so").is_file()  # history thumbnails
    # Wayland's client is left out (XWayland runs the xcb platform), and with it Qt's OpenGL
    assert not (plugins / "platforms" / "libqwayland.so").exists()
    assert not any(INTERNAL.rglob("libQt6WaylandClient.so*"))
    assert not any(INTERNAL.rglob("libQt6OpenGL.so*"))
    # numpy's parts that nothing imports (the smoke test runs the content check without them)
    for unused in ("random", "fft"):
        assert not (INTERNAL / "numpy" / unused).exists(), unused
    # trimmed: translations, the GTK theme (and GTK itself), other AWS services, test tools
    assert not (INTERNAL / "PySide6" / "Qt" / "translations").exists()
    assert not (plugins / "platformthemes" / "libqgtk3.so").exists()
    assert not any(INTERNAL.glob("libgtk-3*"))
    assert (INTERNAL / "botocore" / "data" / "s3").is_dir()
    assert not (INTERNAL / "botocore" / "data" / "ec2").exists()
    for unused in ("scipy", "skimage", "pytest", "tkinter", "yaml"):
        assert not (INTERNAL / unused).exists(), unused


# Debian packages present wherever dpkg runs (its own and libc's dependencies): never declared
ALWAYS_THERE = {"libc6", "libgcc-s1", "zlib1g", "liblzma5", "libbz2-1.0", "libzstd1",
                "libselinux1", "libmd0", "libcrypt1"}  # fmt: skip


def _declared_depends() -> set[str]:
    control = (ROOT / "packaging" / "linux" / "control.in").read_text()
    field = control.split("Depends:", 1)[1].split("\nRecommends:", 1)[0]
    names = set()
    for alternative in field.replace("\n", " ").split(","):
        for option in alternative.split("|"):
            names.add(option.split("(")[0].strip())
    return names


def _needed(elf: Path) -> list[str]:
    dump = subprocess.run(["objdump", "-p", str(elf)], capture_output=True, text=True).stdout
    return [ln.split()[1] for ln in dump.splitlines() if ln.strip().startswith("NEEDED")]


def _policy_name(soname: str) -> str:
    """libwayland-egl.so.1 -> libwayland-egl1, libgssapi_krb5.so.2 -> libgssapi-krb5-2."""
    name, _, version = soname.partition(".so.")
    name = name.replace("_", "-").lower()
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def test_libraries_left_to_the_system_come_from_declared_packages(bundle):
    """The spec leaves libraries every Debian desktop has to the system (glib, OpenSSL, X11,
    D-Bus, …); each one the bundle needs and does not carry must come from a package that the
    .deb depends on, or the app would not start where it is missing."""
    files = [f for f in INTERNAL.rglob("*") if f.is_file() and not f.is_symlink()]
    carried = {f.name for f in INTERNAL.rglob("*")}
    elves = [EXE] + [f for f in files if ".so" in f.name and f.read_bytes()[:4] == b"\x7fELF"]
    outside = {lib for elf in elves for lib in _needed(elf)} - carried
    declared = _declared_depends() | ALWAYS_THERE
    undeclared = {}
    for lib in sorted(outside):
        owner = subprocess.run(["dpkg", "-S", f"*/{lib}"], capture_output=True, text=True)
        # not installed here: the name Debian policy (8.1) gives a library's package
        packages = {ln.split(":")[0] for ln in owner.stdout.splitlines()} or {_policy_name(lib)}
        if not packages & declared:
            undeclared[lib] = sorted(packages) or "no installed package has it"
    assert not undeclared, f"add to Depends in packaging/linux/control.in: {undeclared}"
    assert "libssl.so.3" in outside and "libglib-2.0.so.0" in outside  # the check saw them
    assert _policy_name("libgssapi_krb5.so.2") == "libgssapi-krb5-2"


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


def test_without_the_store_package_the_app_says_what_to_install(bundle, tmp_path):
    """The app's .deb only recommends the store: without it, `local-store start` and `doctor`
    name the package instead of failing obscurely."""
    if Path("/opt/desktop-uploader-local-store/weed").exists():
        pytest.skip("the store package is installed on this machine: it would be found")
    app_dir = tmp_path / "opt" / "desktop-uploader"
    app_dir.parent.mkdir()
    subprocess.run(["cp", "-al", str(bundle), str(app_dir)], check=True)  # hard links: fast
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DESKTOP_"))}
    env.update(
        DESKTOP_UPLOADER_HOME=str(tmp_path / "home"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PATH="/usr/bin:/bin",  # no weed there either
    )
    exe = str(app_dir / "desktop-uploader")
    start = subprocess.run(
        [exe, "local-store", "start"], env=env, capture_output=True, text=True, timeout=120
    )
    assert start.returncode != 0
    assert "desktop-uploader-local-store" in start.stderr and "not installed" in start.stderr
    doctor = subprocess.run(
        [exe, "doctor", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    found = [json.loads(line) for line in doctor.stdout.splitlines() if line.startswith("{")]
    store = next(f for f in found if f["check"] == "local_store")
    assert not store["ok"] and "desktop-uploader-local-store" in store["message"]


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
    # apt installs recommended packages by default: the embedded store (the default
    # destination), ClamAV with its signature updater (so uploads are scanned), jpegtran (the
    # original preset turns JPEGs upright losslessly)
    recommends = info.split("Recommends:", 1)[1].split("\nDescription:", 1)[0]
    for pkg in (
        f"desktop-uploader-local-store (= {__version__})",
        "clamav-daemon",
        "clamav-freshclam",
        "libjpeg-turbo-progs",
    ):
        assert pkg in recommends, pkg
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True).stdout
    for path in (
        "./opt/desktop-uploader/desktop-uploader",
        "./usr/bin/desktop-uploader",
        "./usr/share/applications/desktop-uploader.desktop",
        "./usr/share/icons/hicolor/256x256/apps/desktop-uploader.png",
        "./usr/share/kio/servicemenus/desktop-uploader.desktop",
        "./usr/share/kservices5/ServiceMenus/desktop-uploader.desktop",
        "./usr/share/desktop-uploader/file-managers/Upload with Desktop Uploader",
        "./usr/share/desktop-uploader/file-managers/thunar-uca.xml",
    ):
        assert path in listing, path
    assert "/weed" not in listing
    store_deb = out / f"desktop-uploader-local-store_{__version__}_amd64.deb"
    store_info = subprocess.run(["dpkg-deb", "-f", str(store_deb)], capture_output=True, text=True)
    assert "Package: desktop-uploader-local-store" in store_info.stdout
    store_listing = subprocess.run(
        ["dpkg-deb", "-c", str(store_deb)], capture_output=True, text=True
    ).stdout
    assert "./opt/desktop-uploader-local-store/weed" in store_listing
    printed = re.search(r"^sizes: bundle ([\d.]+) MB .*app \.deb ([\d.]+) MB", proc.stdout, re.M)
    assert printed, proc.stdout
    assert abs(float(printed[1]) - _size(bundle) / 1e6) < 1.0  # du -sb also counts folders
    assert abs(float(printed[2]) - deb.stat().st_size / 1e6) < 0.1
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
    assert f"Exec={prefix}/bin/desktop-uploader %F" in desktop
    menu = (prefix / "share/kio/servicemenus/desktop-uploader.desktop").read_text()
    assert f"Exec={prefix}/bin/desktop-uploader %F" in menu
    assert (prefix / "opt/desktop-uploader-local-store/weed").is_file()
    assert (prefix / "share/icons/hicolor/48x48/apps/desktop-uploader.png").is_file()
    subprocess.run([str(top / "install.sh"), "--prefix", str(prefix), "--uninstall"], check=True)
    assert not (prefix / "opt" / "desktop-uploader").exists()
    assert not (prefix / "opt" / "desktop-uploader-local-store").exists()
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
