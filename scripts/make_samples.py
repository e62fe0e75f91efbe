"""Regenerate resources/samples/ (the demo images): python scripts/make_samples.py"""

import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(root / "tests"))
from imagegen import write_samples  # noqa: E402

for p in write_samples(root / "resources" / "samples"):
    print(p.relative_to(root), p.stat().st_size, "bytes")
