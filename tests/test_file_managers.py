"""File-manager hand-off, the files: the .desktop file (freedesktop's validator), Dolphin's
service menu, Thunar's custom action and Nautilus's script. The hand-off itself is tested in
tests/gui/test_single_instance.py, the packages that install these files in test_packaging.py."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESKTOP = ROOT / "resources" / "desktop-uploader.desktop"
FILE_MANAGERS = ROOT / "packaging" / "linux" / "file-managers"
# what people's cameras and phones write; each must open "with" Desktop Uploader
MUST_HANDLE = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/tiff", "image/heic",
               "image/heif", "image/avif")  # fmt: skip


def _entry(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser


def test_desktop_file_passes_desktop_file_validate():
    validate = shutil.which("desktop-file-validate")
    assert validate, "apt-get install desktop-file-utils (scripts/system-deps.sh test does)"
    proc = subprocess.run([validate, str(DESKTOP)], capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_desktop_file_opens_images_and_offers_the_upload_action():
    entry = _entry(DESKTOP)
    main = entry["Desktop Entry"]
    mimes = main["MimeType"].rstrip(";").split(";")
    assert set(MUST_HANDLE) <= set(mimes), set(MUST_HANDLE) - set(mimes)
    assert all(m.startswith("image/") for m in mimes)
    assert main["Exec"] == "desktop-uploader %F"  # the files, or nothing: the window
    assert "upload" in main["Actions"].rstrip(";").split(";")
    action = entry["Desktop Action upload"]
    assert action["Name"] == "Upload with Desktop Uploader"
    assert action["Exec"] == "desktop-uploader %F"


def test_dolphin_service_menu_matches_the_desktop_file():
    menu = _entry(FILE_MANAGERS / "desktop-uploader-dolphin.desktop")
    main = menu["Desktop Entry"]
    assert main["Type"] == "Service"
    assert "KonqPopupMenu/Plugin" in main["X-KDE-ServiceTypes"]  # KF5 before 5.85 needs it
    mimes = set(main["MimeType"].rstrip(";").split(";"))
    assert set(_entry(DESKTOP)["Desktop Entry"]["MimeType"].rstrip(";").split(";")) < mimes
    assert "inode/directory" in mimes  # folders too
    action = menu[f"Desktop Action {main['Actions'].rstrip(';')}"]
    assert action["Name"] == "Upload with Desktop Uploader"
    assert action["Exec"] == "desktop-uploader %F"


def test_thunar_custom_action_is_a_valid_uca_file():
    root = ET.parse(FILE_MANAGERS / "thunar-uca.xml").getroot()
    assert root.tag == "actions"
    (action,) = root.findall("action")
    assert action.findtext("name") == "Upload with Desktop Uploader"
    assert action.findtext("command") == "desktop-uploader %F"
    assert action.find("image-files") is not None and action.find("directories") is not None
    assert action.findtext("unique-id")


def test_nautilus_script_passes_the_selection_on(tmp_path):
    script = FILE_MANAGERS / "Upload with Desktop Uploader"
    assert script.stat().st_mode & 0o111, "Nautilus runs only executable scripts"
    # a stand-in desktop-uploader on PATH records what the script gives it
    fake = tmp_path / "bin" / "desktop-uploader"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$PWD" "$@" > "$RECORD"\n')
    fake.chmod(0o755)
    record = tmp_path / "record"
    env = {"PATH": f"{fake.parent}:/usr/bin:/bin", "RECORD": str(record)}
    subprocess.run([str(script), "a photo.jpg", "b.png"], cwd=tmp_path, env=env, check=True)
    assert record.read_text().splitlines() == [str(tmp_path), "a photo.jpg", "b.png"]


def test_windows_installer_adds_send_to_and_the_explorer_verb():
    """Not run on Windows here (docs/packaging.md); this checks what the script declares."""
    iss = (ROOT / "packaging" / "windows" / "desktop_uploader.iss").read_text(encoding="utf-8")
    sections = {}
    for block in iss.split("\n["):
        head, _, body = block.partition("]\n")
        sections[head.strip("[")] = body
    assert '{usersendto}\\{#AppName}"; Filename: "{app}\\{#AppExe}"; Tasks: sendto' in iss
    registry = [ln for ln in sections["Registry"].splitlines() if ln.startswith("Root:")]
    for base in ("SystemFileAssociations\\image", "Directory"):
        key = f"Software\\Classes\\{base}\\shell\\DesktopUploader"
        assert any(f'"{key}"' in ln and '"Upload with Desktop Uploader"' in ln for ln in registry)
        command = next(ln for ln in registry if f'"{key}\\command"' in ln)
        assert '"""{app}\\{#AppExe}"" ""%1"""' in command


def test_paths_without_a_command_are_a_hand_off_and_commands_stay_commands():
    from desktop_uploader.cli import build_parser
    from desktop_uploader.cli_window import paths_without_command

    parser = build_parser()
    assert paths_without_command(parser, ["/home/me/a.jpg", "b.png"]) == ["/home/me/a.jpg", "b.png"]
    for argv in (["upload", "a.jpg"], ["gui"], ["--version"], ["-v", "a.jpg"], []):
        assert paths_without_command(parser, argv) == [], argv


def test_a_hand_off_without_window_or_display_says_so(tmp_path):
    """No window to hand to and no display to open one on: the reason, not a Qt abort."""
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env["DESKTOP_UPLOADER_HOME"] = str(tmp_path / "home")
    picture = tmp_path / "a.jpg"
    picture.write_bytes(b"\xff\xd8\xff")
    proc = subprocess.run(
        [sys.executable, "-m", "desktop_uploader", str(picture)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "no display found" in proc.stderr
