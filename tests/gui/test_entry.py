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
