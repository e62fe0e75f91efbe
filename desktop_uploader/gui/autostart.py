"""Start at login. Linux: an XDG autostart ``.desktop`` file (other systems: not yet)."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from desktop_uploader.paths import atomic_write

DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=Desktop Uploader
Comment=Make images safe and small, then publish them
Exec={command}
Icon=desktop-uploader
Terminal=false
X-GNOME-Autostart-enabled=true
"""


def supported() -> bool:
    return sys.platform.startswith("linux")


def autostart_file() -> Path:
    """``$XDG_CONFIG_HOME/autostart/desktop-uploader.desktop``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / "desktop-uploader.desktop"


def launch_command() -> str:
    """How a login session starts the app: the installed script, else ``python -m``."""
    script = Path(sys.executable).with_name("desktop-uploader")
    if script.exists():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m desktop_uploader"


def set_start_at_login(enabled: bool) -> Path | None:
    """Write or remove the autostart entry; returns its path (None when unsupported)."""
    if not supported():
        return None
    path = autostart_file()
    if enabled:
        atomic_write(path, DESKTOP_ENTRY.format(command=launch_command()).encode(), mode=0o644)
    else:
        path.unlink(missing_ok=True)
    return path
