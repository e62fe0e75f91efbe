"""``desktop-uploader`` with no arguments: the desktop window."""

from __future__ import annotations

import sys
from pathlib import Path

# Worker threads hold the GIL for up to this long before the GUI thread gets it back; Python's
# default (5 ms) lets a few busy workers delay a repaint by tens of milliseconds.
GIL_SWITCH_INTERVAL = 0.001


def tune_for_responsiveness() -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)


def run_gui(argv: list[str] | None = None, paths: list[str] | None = None) -> int:
    """Open the main window, with ``paths`` queued, and run until it is closed or Quit is
    chosen. When another window of this user took over meanwhile, hand it the paths instead."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from desktop_uploader.app import App, setup_logging
    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.bridge import NoticeRelay
    from desktop_uploader.gui.collector import GuiThreadCollector
    from desktop_uploader.gui.icons import icon
    from desktop_uploader.gui.main_window import MainWindow

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    tune_for_responsiveness()
    prefer_xcb_without_wayland()
    qt_app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    qt_app.setApplicationName("Desktop Uploader")
    qt_app.setOrganizationName("desktop-uploader")
    qt_app.setDesktopFileName("desktop-uploader")
    qt_app.setWindowIcon(icon("app", color="#2d6cdf"))
    qt_app.setQuitOnLastWindowClosed(False)  # the tray may keep us running

    collector = GuiThreadCollector(qt_app)  # cyclic garbage is freed on this thread only
    relay = NoticeRelay(qt_app)
    app = App(notice=relay.post)
    setup_logging(app.paths)
    if not settings_usable(app):
        return 2
    desk = DesktopApp(app)  # from here on, the window sees settings as read-only snapshots
    window = MainWindow(desk)
    instance = serve_later_runs(window)
    if instance is None:  # another window started at the same moment and won
        return _hand_over_instead(window, desk, collector, paths or [])
    window.warmed_up.connect(collector.freeze_startup)
    relay.message.connect(window.notify)
    window.closed.connect(qt_app.quit)
    stop_on_signals(window)
    window.show()
    if paths:
        window.add_paths([Path(p).absolute() for p in paths])
    try:
        return qt_app.exec()
    finally:
        instance.close()
        window.shutdown()
        desk.close()
        collector.stop()


def prefer_xcb_without_wayland() -> None:
    """The Linux bundle leaves Qt's Wayland client out (docs/packaging.md): there the window
    goes straight to xcb (XWayland on a Wayland desktop) instead of Qt trying Wayland first and
    warning that it is missing. A platform the user chose is kept."""
    import os

    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    from PySide6.QtCore import QLibraryInfo

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    if not any(plugins.glob("libqwayland*")):
        os.environ["QT_QPA_PLATFORM"] = "xcb"


def serve_later_runs(window):
    """The window's single-instance server (a child of the window), or None when another
    window already serves this user and home."""
    from PySide6.QtWidgets import QApplication

    from desktop_uploader.gui.single_instance import FileOpenRelay, InstanceServer, server_name

    def receive(paths: list[Path]) -> int:
        if paths:
            window.add_paths(paths)
        window.bring_to_front()
        return len(paths)

    instance = InstanceServer(server_name(window.app.paths), receive, window)
    if not instance.listen(window.app.paths.data_dir / "window.lock"):
        return None
    QApplication.instance().installEventFilter(FileOpenRelay(receive, instance))
    return instance


def _hand_over_instead(window, desk, collector, paths: list[str]) -> int:
    from desktop_uploader.gui.single_instance import HandOffError, hand_off, server_name

    try:
        hand_off(server_name(desk.paths), paths)
        return 0
    except HandOffError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        window.shutdown()
        desk.close()
        collector.stop()


def settings_usable(app) -> bool:
    """Settings are checked before the window opens: a broken file is named, with what is
    wrong in it, instead of a window that quietly runs on other values."""
    from PySide6.QtWidgets import QMessageBox

    from desktop_uploader.errors import ConfigError

    try:
        app.settings  # noqa: B018 - read and checked here
    except ConfigError as e:
        print(f"error: {e.title}: {e.message}", file=sys.stderr)
        QMessageBox.critical(
            None, e.title, f"{e.message}\n\nFix the settings file and start the app again."
        )
        return False
    return True


def stop_on_signals(window) -> None:
    """Ctrl+C / SIGTERM close the window cleanly. Python runs signal handlers only when it gets
    control, so the C-level handler's wake-up byte is watched by the GUI's event loop."""
    import signal

    from desktop_uploader.gui.waker import Waker

    waker = Waker(lambda: None, window)  # its slot runs Python, and with it the handlers
    signal.set_wakeup_fd(waker._write.fileno(), warn_on_full_buffer=False)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: window.quit())
