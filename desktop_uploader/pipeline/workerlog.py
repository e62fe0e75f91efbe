"""Where a decoder worker's libraries write: the app's log, not the user's terminal."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def quiet_libraries(stderr_to: Path | None) -> None:
    """What the decoding libraries say goes to the log, not the user's terminal: C libraries
    (libtiff: "TIFFFillStrip: Read error …") write to file descriptor 2 themselves, so the
    descriptor itself is pointed at the log file; Python warnings and libvips's messages go
    through logging there too, with a timestamp."""
    import logging

    if stderr_to is not None:
        try:
            Path(stderr_to).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(stderr_to, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError:
            pass  # no log file: better the terminal than nothing
        else:
            if sys.stderr is not None:
                sys.stderr.flush()
            os.dup2(fd, 2)
            os.close(fd)
            if sys.stderr is None:  # a windowed frozen app starts its processes without one
                sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    if sys.stderr is None:
        return  # nowhere to write: Python's defaults drop it
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s du-decoder[%(process)d] %(name)s: %(message)s")
    )
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("desktop_uploader").setLevel(logging.INFO)
    logging.captureWarnings(True)
