"""``desktop-uploader`` with no command opens the window, or explains why it cannot."""

from __future__ import annotations

import os
import subprocess
import sys

from desktop_uploader.paths import HOME_ENV


def test_without_a_display_it_explains_and_lists_commands(home):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env[HOME_ENV] = str(home)
    proc = subprocess.run(
        [sys.executable, "-m", "desktop_uploader"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "no display found" in proc.stderr
    assert "upload" in proc.stdout and "local-store" in proc.stdout  # the help
    assert "Aborted" not in proc.stderr and "qt.qpa" not in proc.stderr


def test_without_qts_wayland_client_the_window_goes_straight_to_xcb(monkeypatch, tmp_path):
    """The Linux bundle leaves Wayland's client out: no 'could not find wayland' warning, xcb
    (XWayland) directly. Where the plugin is (this venv) or a platform is chosen, nothing
    changes."""
    from PySide6.QtCore import QLibraryInfo

    from desktop_uploader.gui.main import prefer_xcb_without_wayland

    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    prefer_xcb_without_wayland()
    assert "QT_QPA_PLATFORM" not in os.environ  # pip's PySide6 carries libqwayland.so

    (tmp_path / "platforms").mkdir()
    (tmp_path / "platforms" / "libqxcb.so").touch()
    monkeypatch.setattr(QLibraryInfo, "path", lambda _which: str(tmp_path))
    prefer_xcb_without_wayland()
    assert os.environ["QT_QPA_PLATFORM"] == "xcb"

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    prefer_xcb_without_wayland()
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"
