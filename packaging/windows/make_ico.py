"""Write build/windows/desktop-uploader.ico (16–256 px) from the committed PNGs, for Inno Setup.

PyInstaller makes the .exe's own icon from the 256 px PNG (see the spec); the installer needs an
.ico file of its own. Pillow only; runs anywhere.
"""

from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "windows" / "desktop-uploader.ico"

if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    big = Image.open(ROOT / "resources" / "icons" / "desktop-uploader-256.png")
    big.save(OUT, sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    print(OUT)
