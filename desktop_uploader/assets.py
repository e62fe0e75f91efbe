"""The app's bundled files (icons, sample images, the .desktop file).

They live in the repository's ``resources/`` folder. A frozen build (PyInstaller, see
``packaging/desktop_uploader.spec``) carries them inside the package as
``desktop_uploader/resources``, where ``importlib.resources`` finds them; a source checkout
(including an editable install) falls back to the repository folder.
"""

from __future__ import annotations

from importlib import resources as _resources
from pathlib import Path

_REPO_RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def resources_dir() -> Path:
    """The folder holding ``icons/``, ``samples/`` and the .desktop file."""
    packaged = _resources.files("desktop_uploader") / "resources"
    # In the frozen app (and any install that carries the folder) this is a real directory.
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return _REPO_RESOURCES


def icons_dir() -> Path:
    """SVG icons (``app.svg`` and the toolbar icons) and the rendered app-icon PNGs."""
    return resources_dir() / "icons"


def sample(name: str = "harbour.jpg") -> Path:
    """One of the bundled sample images."""
    return resources_dir() / "samples" / name
