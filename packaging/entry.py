"""Entry point of the frozen app (PyInstaller runs this file as ``__main__``).

``freeze_support()`` must come first: the decoder workers are ``spawn`` processes, and in a frozen
app a spawned child is this same executable started with ``--multiprocessing-fork``.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from desktop_uploader.cli import main

    raise SystemExit(main())
