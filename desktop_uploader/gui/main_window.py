"""The main window: toolbar, banners, the Queue and History tabs, tray and notifications."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_uploader.desktop import DesktopApp
from desktop_uploader.errors import UploaderError
from desktop_uploader.gui import icons
from desktop_uploader.gui.adding import FileIntake
from desktop_uploader.gui.banners import Banner, ProblemBanner
from desktop_uploader.gui.batches import BatchTracker, batch_links
from desktop_uploader.gui.bridge import EngineBridge
from desktop_uploader.gui.closing import ask_before_closing
from desktop_uploader.gui.folder_status import WatchedFolders
from desktop_uploader.gui.history_model import HistoryModel, history_row
from desktop_uploader.gui.history_view import HistoryPanel
from desktop_uploader.gui.icons import icon
from desktop_uploader.gui.queue_model import QueueModel, QueueRow
from desktop_uploader.gui.queue_panel import QueuePanel
from desktop_uploader.gui.scan_notice import ScanNotice
from desktop_uploader.gui.thumbnails import ThumbnailCache
from desktop_uploader.gui.toast import Toast
from desktop_uploader.gui.toolbar import MainToolbar
from desktop_uploader.gui.tray import Tray
from desktop_uploader.gui.words import (
    Problem,
    destination_name,
    exception_problem,
    job_problem,
)
from desktop_uploader.gui.workers import TaskRunner
from desktop_uploader.records import LINK_FORMAT_NAMES

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Everything the user sees. ``closed`` fires once the window has really shut down."""

    closed = Signal()
    warmed_up = Signal()

    def __init__(self, app: DesktopApp, tray: bool = True) -> None:
        super().__init__()
        self.app = app
        self.setWindowTitle("Desktop Uploader")
        self.setWindowIcon(icon("app", color="#2d6cdf"))
        self.resize(980, 640)
        self._shut = False
        self._reconnect_pending = False
        self.intake = TaskRunner(1, "du-gui-intake", self)
        self.tasks = TaskRunner(2, "du-gui-task", self)
        self.thumbnail_runner = TaskRunner(2, "du-gui-thumb", self)
        self.thumbnails = ThumbnailCache(
            self.thumbnail_runner, app.paths.cache_dir / "thumbnails", parent=self
        )
        placeholder = icon("image")
        self.queue_model = QueueModel(self.thumbnails, placeholder, self)
        self.history_model = HistoryModel(
            app.journal,
            self.thumbnails,
            {"image": placeholder, "warning": icon("warning")},
            runner=self.tasks,
            parent=self,
            destination_names=self._destination_name,
        )
        self.batch = BatchTracker()
        self._build_ui()
        self.adding = FileIntake(app, self.intake, self.tasks, self._toolbar_choice, self)
        self.adding.started.connect(lambda: self.tabs.setCurrentWidget(self.queue_panel))
        self.adding.problem.connect(self.show_error)
        self.adding.failed.connect(self.show_exception)
        self.adding.message.connect(self.notify)
        self.tray = Tray(self) if tray else None
        if self.tray:
            self.tray.open_window.connect(self.bring_to_front)
            self.tray.pause_toggled.connect(self.pause_all.setChecked)
            self.tray.quit_requested.connect(self.quit)
            self.tray.copied.connect(lambda _text: self.notify("Link copied to the clipboard."))
        self.bridge = EngineBridge(app.engine, self)  # a Qt parent: dies on the GUI thread
        self.bridge.events.connect(self._on_events)
        self.refresh_settings()
        self.history_model.fetchMore()
        self.tasks.run(app.warm_up, callback=self._warmed_up)
        # files held for content review by an earlier session or a command: ask about them
        self.tasks.run(app.engine.held_for_review, callback=self._held_at_start)
        self.folders = WatchedFolders(app, self)  # the watched folders, while any exist
        self.watch_label = self.folders.label
        self.statusBar().addPermanentWidget(self.watch_label)
        # what a window or command that died left unfinished comes back into the queue (before
        # watching starts: the watcher follows those files instead of sending them again)
        app.engine.resume_unfinished(app.settings.presets.get)
        self._restart_watching()
        from desktop_uploader.integrations.switch import ServerSwitch

        self.upload_server = ServerSwitch(app)  # Settings → Integrations; off the GUI thread
        self._apply_upload_server()

    def _toolbar_choice(self) -> tuple[str | None, str | None]:
        return self.destination_box.currentData() or None, self.preset_box.currentData() or None

    def _destination_name(self, profile: str) -> str:
        dest = self.app.settings.destinations.get(profile)
        return destination_name(dest) if dest is not None else profile

    def _held_at_start(self, rows, error) -> None:
        if error is None and rows:
            self.review_held()

    def review_held(self):
        """Show the review dialog, or refresh it. Opened with ``open()``: it never blocks the
        event loop (uploads, the queue and notifications go on), and has the window as its
        parent, so it dies on the GUI thread with it."""
        from desktop_uploader.gui.review_dialog import ReviewDialog

        dialog = self.findChild(ReviewDialog)
        if dialog is None:
            dialog = ReviewDialog(self.app, self.tasks, self)
        dialog.refresh()
        if not dialog.isVisible():
            dialog.open()
        dialog.raise_()
        return dialog

    def _warmed_up(self, _result, error) -> None:
        if error is not None:
            log.warning("warm-up failed: %s", error)
        self.warmed_up.emit()

    # -- building ------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.toolbar = bar = MainToolbar(self)
        # the window's own names for what tests, the tray and the crash driver reach
        self.add_files, self.add_folder, self.paste = bar.add_files, bar.add_folder, bar.paste
        self.pause_all, self.settings_action = bar.pause_all, bar.settings_action
        self.destination_box, self.preset_box = bar.destination_box, bar.preset_box
        bar.add_files.triggered.connect(self.choose_files)
        bar.add_folder.triggered.connect(self.choose_folder)
        bar.paste.triggered.connect(self.paste_clipboard)
        bar.pause_all.toggled.connect(self._pause_all_toggled)
        bar.settings_action.triggered.connect(lambda: self.open_settings())
        self.addToolBar(bar)

        self.local_banner = Banner(
            "cloud",
            "Uploads go to the local store on this computer, so links work only here. "
            "Add a cloud destination to publish them.",
            "Add destination…",
        )
        self.local_banner.setObjectName("local-store-banner")
        self.local_banner.action.clicked.connect(lambda: self.open_settings("destinations"))
        self.error_banner = ProblemBanner()
        self.error_banner.setObjectName("error-banner")

        self.queue_panel = QueuePanel(
            self.app.engine, self.queue_model, self.thumbnails, links_for=self._links_for
        )
        self.queue_panel.files_dropped.connect(self.add_paths)
        self.queue_panel.message.connect(self.notify)
        self.queue_panel.error.connect(self.show_error)
        self.scan_notice = ScanNotice(self.queue_panel)  # on top of the queue, while it matters
        self.scan_notice.settings_wanted.connect(self.open_settings)  # scanner, or policy
        self.queue_panel.layout().insertWidget(0, self.scan_notice)
        self.history_panel = HistoryPanel(self.app, self.history_model, self.tasks, self.thumbnails)
        self.history_panel.error.connect(self.show_error)
        self.history_panel.message.connect(self.notify)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Queue and history")
        self.tabs.addTab(self.queue_panel, "Queue")
        self.tabs.addTab(self.history_panel, "History")

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.local_banner)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.toast = Toast(self.statusBar())
        self.state_label = QLabel()  # lasting state (paused); notifications go to the toast
        self.state_label.setAccessibleName("Queue state")
        self.statusBar().addPermanentWidget(self.state_label)

    def _refresh_icons(self) -> None:
        icons.forget_cached()
        self.toolbar.refresh_icons()
        self.queue_panel.refresh_icons()
        self.local_banner.refresh_icon()
        self.error_banner.refresh_icon()
        self.scan_notice.refresh_icon()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._refresh_icons()
        super().changeEvent(event)

    # -- settings ------------------------------------------------------------------------
    def refresh_settings(self) -> None:
        """Re-read destinations and presets into the toolbar; show or hide the banner."""
        s = self.app.settings
        self.toolbar.refresh(s, self._destination_name)
        self.local_banner.setVisible(all(d.is_local for d in s.destinations.values()))

    def open_settings(self, page: str | None = None, destination: str = ""):
        """Open the (non-blocking) settings dialog on ``page`` (and ``destination``); returns it."""
        from desktop_uploader.gui.settings_dialog import SettingsDialog

        existing = self.findChild(SettingsDialog)
        if existing is not None and existing.isVisible():
            existing.show_page(page, destination)
            existing.raise_()
            return existing
        dialog = SettingsDialog(self.app, self.tasks, self)
        dialog.saved.connect(self._settings_saved)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show_page(page, destination)
        dialog.open()
        return dialog

    @property
    def watcher(self):
        """The ``FolderWatcher`` while any folder is watched, else None."""
        return self.folders.watcher

    def _restart_watching(self) -> None:
        """(Re)start watching the configured folders; errors become a message, not a crash."""
        try:
            self.folders.restart()
        except (OSError, UploaderError) as e:
            self.show_exception("Cannot watch folders", e)

    def _apply_upload_server(self) -> None:
        def applied(_url, error) -> None:
            if error is not None:
                self.show_exception("The upload server cannot start", error)

        self.tasks.run(self.upload_server.apply, callback=applied)

    def _settings_saved(self) -> None:
        # connections opened with the old settings are closed once no job uses them
        self._reconnect_pending = not self.app.forget_connections()
        self._restart_watching()
        self._apply_upload_server()
        self.refresh_settings()
        self.notify("Settings saved.")

    # -- adding files --------------------------------------------------------------------
    def add_paths(self, paths: list[Path]) -> None:
        """Queue files and folders (expanded and submitted off the GUI thread)."""
        self.adding.add_paths(paths)

    def choose_files(self) -> None:
        self.adding.choose_files()

    def choose_folder(self) -> None:
        self.adding.choose_folder()

    def paste_clipboard(self) -> None:
        self.adding.paste_clipboard()

    # -- engine events -------------------------------------------------------------------
    def _on_events(self, batch: list) -> None:
        finished = self.queue_model.apply(batch)
        self.scan_notice.on_finished(finished)
        if any(e.data.get("stage") == "waiting_for_review" for e in batch):
            self.review_held()
        if finished:
            self._record(finished)
            if self._reconnect_pending and not self.app.engine.jobs():
                self._reconnect_pending = not self.app.forget_connections()
        announcement = self.batch.close_if_over(self.queue_model.rows())
        if announcement is not None:
            self._announce(announcement)

    def _record(self, rows: list[QueueRow]) -> None:
        """Each finished file: into the history, the tray's recent list, the problem list."""
        for r in rows:
            if r.result is not None and r.stage != "cancelled":
                # from the queued event: no journal read (and wait for its lock) on this thread
                profile = r.profile or (self.destination_box.currentData() or "")
                self.history_model.add_row(history_row(r, profile))
            if r.stage == "failed" and r.result is not None:
                self.error_banner.add(job_problem(r.name, r.stage, r.result.code, r.result.reason))
        self.batch.add(rows)

    def _links_for(self, rows: list[QueueRow]) -> tuple[str, str]:
        fmt = self.app.settings.desktop.link_format
        return batch_links(rows, fmt), LINK_FORMAT_NAMES.get(fmt, fmt)

    def _announce(self, batch) -> None:
        """Once per batch: all its links on the clipboard, one notification."""
        desktop = self.app.settings.desktop
        copied = bool(batch.uploaded) and desktop.copy_on_upload
        if copied:
            QGuiApplication.clipboard().setText(self._links_for(batch.uploaded)[0])
        if self.tray:
            for r in batch.uploaded:
                self.tray.add_recent(r.name, batch_links([r], desktop.link_format))
        if desktop.notify or batch.attention:
            self.notify(batch.message(copied), title=batch.title)

    def _pause_all_toggled(self, paused: bool) -> None:
        if paused:
            self.app.engine.pause()
        else:
            self.app.engine.resume()
        self.toolbar.show_paused(paused)
        if self.tray:
            self.tray.set_paused(paused)
        self.state_label.setText("Queue paused" if paused else "")

    # -- messages ------------------------------------------------------------------------
    def notify(self, message: str, title: str = "Desktop Uploader") -> None:
        """A desktop notification when the window is in the background and there is a tray,
        else the in-window toast (in the status bar, covering nothing)."""
        shown = (
            self.tray.notify(title, message) if self.tray and not self.isActiveWindow() else False
        )
        if not shown:
            self.toast.show_message(message)

    def show_error(self, title: str, message: str, details: str = "") -> None:
        """Errors go into the window (and the log), never only the log; ``details`` (technical
        text) only behind the banner's "Details…"."""
        log.warning("%s: %s %s", title, message, details)
        self.error_banner.add(Problem(title, message, details))

    def show_exception(self, title: str, error: BaseException) -> None:
        """An error from a worker: our own errors in their words; anything else is ours to fix,
        so the banner says so and the Python text goes behind "Details…"."""
        problem = exception_problem(title, error)
        if problem.internal:  # ours to fix: the traceback goes into the log
            log.error("%s", title, exc_info=error)
        self.show_error(problem.title, problem.message, problem.details)

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # -- closing -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Closing never drops work silently: with a tray (and close-to-tray on) the window
        hides and uploads go on; otherwise, while files are unfinished, it asks first."""
        tray = bool(self.tray and self.tray.available)
        if not self._shut and tray and self.app.settings.desktop.close_to_tray:
            self.hide()
            self.tray.notify("Desktop Uploader", "Still running in the tray.")
            event.ignore()
            return
        # files held for review need no answer now: the journal keeps them, the next start asks
        jobs = [] if self._shut else self.app.engine.jobs()
        unfinished = [j for j in jobs if j.held != "review"]
        if unfinished:
            event.ignore()
            self.confirm_close(len(unfinished), tray)
            return
        self.shutdown()
        event.accept()

    def confirm_close(self, unfinished: int, tray: bool) -> QMessageBox:
        """Ask (without blocking): keep the window, run on in the tray, or quit."""
        return ask_before_closing(self, unfinished, tray, self.quit)

    def quit(self) -> None:
        self._shut = True
        self.close()

    def shutdown(self) -> None:
        """Stop listening to the engine and stop the GUI's own workers (idempotent)."""
        if self._shut and not hasattr(self, "bridge"):
            return
        self._shut = True
        if getattr(self, "upload_server", None) is not None:
            self.upload_server.stop()  # before the engine goes: no request may reach it
        if getattr(self, "folders", None) is not None:
            self.folders.stop()
        bridge = self.__dict__.pop("bridge", None)
        if bridge is not None:
            bridge.close()
            for runner in (self.intake, self.tasks, self.thumbnail_runner):
                runner.close()
            self.thumbnails.clear()  # pixmaps die here, on the GUI thread, not in a later GC
            if self.tray:
                self.tray.hide()
            self.closed.emit()
