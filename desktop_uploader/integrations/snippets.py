"""Ready-made configuration for the tools that can talk to the local upload server, as printed
by ``desktop-uploader integrations``: a ShareX custom uploader (``.sxcu``), Typora's custom
command, the Obsidian "Image auto upload" plugin's server address, Flameshot and Spectacle
command lines. Each carries the token (the Typora line needs none: it runs our CLI)."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

from desktop_uploader.integrations.server import HOST, TOKEN_HEADER


def upload_url(port: int) -> str:
    return f"http://{HOST}:{port}/upload"


def sxcu(port: int, token: str) -> dict:
    """A ShareX custom uploader (the fields ShareX documents for ``.sxcu`` files): a
    multipart POST of the file in the "file" field, the token in a header, the link read from
    the reply's ``result[0]`` and a refusal's reason from ``message``."""
    return {
        "Version": "15.0.0",
        "Name": "Desktop Uploader",
        "DestinationType": "ImageUploader",
        "RequestMethod": "POST",
        "RequestURL": upload_url(port),
        "Headers": {TOKEN_HEADER: token},
        "Body": "MultipartFormData",
        "FileFormName": "file",
        "URL": "{json:result[0]}",
        "ErrorMessage": "{json:message}",
    }


def cli_command() -> str:
    """How another program runs this one: the frozen app itself, the script installed beside
    this Python (a venv's bin/), the one on PATH, else this Python with ``-m``."""
    if getattr(sys, "frozen", False):  # the PyInstaller bundle's executable is the CLI
        return shlex.quote(sys.executable)
    beside = Path(sys.executable).with_name("desktop-uploader")
    found = str(beside) if beside.is_file() else shutil.which("desktop-uploader")
    if found:
        return shlex.quote(found)
    return f"{shlex.quote(sys.executable)} -m desktop_uploader"


def typora_command() -> str:
    """Typora → Preferences → Image → Upload Service: Custom Command. Typora appends the image
    paths and reads the links from the last lines of the output."""
    return f"{cli_command()} upload --typora"


def obsidian_url(port: int, token: str) -> str:
    """The "PicGo server" field of the Obsidian "Image auto upload" plugin (uploader: PicGo).
    The plugin posts to this address as written, so the token rides in ``?key=``."""
    return f"{upload_url(port)}?key={token}"


def curl_upload(port: int, token: str, source: str, filename: str = "screenshot.png") -> str:
    """A curl command that posts ``source`` (a path, or ``-`` for stdin) as ShareX would."""
    form = shlex.quote(f"file=@{source};filename={filename}")
    header = shlex.quote(f"{TOKEN_HEADER}: {token}")
    return f"curl -sS -H {header} -F {form} {upload_url(port)}"


def flameshot_line(port: int, token: str) -> str:
    return f"flameshot gui --raw | {curl_upload(port, token, '-', 'flameshot.png')}"


def spectacle_line(port: int, token: str) -> str:
    shot = "/tmp/spectacle-upload.png"
    return (
        f"spectacle --background --region --nonotify --output {shot} && "
        f"{curl_upload(port, token, shot, 'spectacle.png')}"
    )
