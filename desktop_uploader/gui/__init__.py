"""The desktop app (PySide6). The only package allowed to import Qt.

Layout: ``bridge`` turns engine events into signals, ``workers`` runs blocking calls off the GUI
thread, models (``queue_model``, ``history_model``) feed views (``queue_view``, ``history_view``),
and ``main_window`` wires them together. ``main.run_gui`` is the entry point.
"""
