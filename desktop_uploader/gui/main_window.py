"""The main window: toolbar, banners, the Queue and History tabs, tray and notifications."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_uploader.desktop import DesktopApp
from desktop_uploader.errors import UploaderError
from desktop_uploader.gui import icons
from desktop_uploader.gui.background import save_clipboard_image
from desktop_uploader.gui.banners import Banner, ProblemBanner
from desktop_uploader.gui.batches import BatchTracker, batch_links
from desktop_uploader.gui.bridge import EngineBridge
from desktop_uploader.gui.history_model import HistoryModel, history_row
from desktop_uploader.gui.history_view import HistoryPanel
from desktop_uploader.gui.icons import icon
from desktop_uploader.gui.queue_model import QueueModel, QueueRow
from desktop_uploader.gui.queue_panel import QueuePanel
from desktop_uploader.gui.queue_view import local_paths
from desktop_uploader.gui.scan_notice import SETTINGS_PAGE, ScanNotice
from desktop_uploader.gui.thumbnails import ThumbnailCache
from desktop_uploader.gui.toast import Toast
from desktop_uploader.gui.tray import Tray
from desktop_uploader.gui.words import LINK_FORMAT_NAMES, Problem, destination_name, job_problem
from desktop_uploader.gui.workers import TaskRunner
from desktop_uploader.pipeline.formats import IMAGE_SUFFIXES

log = logging.getLogger(__name__)
IMAGE_FILTER = f"Images ({' '.join('*' + s for s in IMAGE_SUFFIXES)});;All files (*)"


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
        self._build_actions()
        self._build_ui()
        self.tray = Tray(self) if tray else None
        if self.tray:
            self.tray.open_window.connect(self.bring_to_front)
            self.tray.pause_toggled.connect(self.pause_all.setChecked)
            self.tray.quit_requested.connect(self.quit)
            self.tray.copied.connect(self._tray_copied)
        self.bridge = EngineBridge(app.engine, self)  # a Qt parent: dies on the GUI thread
        self.bridge.events.connect(self._on_events)
        self.refresh_settings()
        self.history_model.fetchMore()
        self.tasks.run(app.warm_up, callback=self._warmed_up)
        # files held for content review by an earlier session or a command: ask about them
        self.tasks.run(app.engine.held_for_review, callback=self._held_at_start)
        self.watcher = None  # the watched folders (desktop_uploader.watch), while any exist
        self.watch_label = QLabel()
        self.watch_label.setAccessibleName("Watched folders backlog")
        self.statusBar().addPermanentWidget(self.watch_label)
        self.watch_timer = QTimer(self)
        self.watch_timer.setInterval(1000)
        self.watch_timer.timeout.connect(self._show_watch_backlog)
        # what a window or command that died left unfinished comes back into the queue (before
        # watching starts: the watcher follows those files instead of sending them again)
        app.engine.resume_unfinished(app.settings.presets.get)
        self._restart_watching()
        from desktop_uploader.integrations.switch import ServerSwitch

        self.upload_server = ServerSwitch(app)  # Settings → Integrations; off the GUI thread
        self._apply_upload_server()

    def _tray_copied(self, _text: str) -> None:
        self.notify("Link copied to the clipboard.")

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
    def _build_actions(self) -> None:
        def action(text, name, shortcut, slot, tip) -> QAction:
            a = QAction(icon(name), text, self)
            a.setObjectName(name)
            if shortcut:
                a.setShortcut(shortcut)
            a.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})" if shortcut else tip)
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.add_files = action(
            "Add files…",
            "add-files",
            QKeySequence.StandardKey.Open,
            self.choose_files,
            "Upload image files",
        )
        self.add_folder = action(
            "Add folder…",
            "add-folder",
            "Ctrl+Shift+O",
            self.choose_folder,
            "Upload every image in a folder",
        )
        self.paste = action(
            "Paste",
            "paste",
            QKeySequence.StandardKey.Paste,
            self.paste_clipboard,
            "Upload the image on the clipboard",
        )
        self.pause_all = action(
            "Pause all", "pause", "Ctrl+P", lambda: None, "Pause or resume the whole queue"
        )
        self.pause_all.setCheckable(True)
        self.pause_all.toggled.connect(self._pause_all_toggled)
        self.settings_action = action(
            "Settings…",
            "settings",
            QKeySequence.StandardKey.Preferences,
            lambda: self.open_settings(),
            "Destinations, presets, links",
        )
        if self.settings_action.shortcut().isEmpty():
            self.settings_action.setShortcut("Ctrl+,")

    def _build_ui(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("main-toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for a in (self.add_files, self.add_folder, self.paste):
            bar.addAction(a)
        bar.addSeparator()
        bar.addAction(self.pause_all)
        bar.addSeparator()
        bar.addWidget(QLabel(" Upload to "))
        self.destination_box = QComboBox()
        self.destination_box.setAccessibleName("Destination")
        self.destination_box.setToolTip("Where new uploads go")
        bar.addWidget(self.destination_box)
        bar.addWidget(QLabel("  Preset "))
        self.preset_box = QComboBox()
        self.preset_box.setAccessibleName("Preset")
        self.preset_box.setToolTip("How images are resized and compressed")
        bar.addWidget(self.preset_box)
        spacer = QWidget()
        spacer.setSizePolicy(
            spacer.sizePolicy().horizontalPolicy().Expanding, spacer.sizePolicy().verticalPolicy()
        )
        bar.addWidget(spacer)
        bar.addAction(self.settings_action)
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
        self.scan_notice.action.clicked.connect(lambda: self.open_settings(SETTINGS_PAGE))
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
        for a in (
            self.add_files,
            self.add_folder,
            self.paste,
            self.pause_all,
            self.settings_action,
        ):
            a.setIcon(icon(a.objectName()))
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
        for box, names, current in (
            (self.destination_box, sorted(s.destinations), s.default_profile),
            (self.preset_box, sorted(s.presets), "default"),
        ):
            keep = box.currentData() or current
            box.blockSignals(True)
            box.clear()
            for name in names:
                shown = self._destination_name(name) if box is self.destination_box else name
                box.addItem(shown, name)
            box.setCurrentIndex(max(0, box.findData(keep if keep in names else current)))
            box.blockSignals(False)
        self.local_banner.setVisible(all(d.is_local for d in s.destinations.values()))

    def open_settings(self, page: str | None = None):
        """Open the (non-blocking) settings dialog; returns it."""
        from desktop_uploader.gui.settings_dialog import SettingsDialog

        existing = self.findChild(SettingsDialog)
        if existing is not None and existing.isVisible():
            existing.show_page(page)
            existing.raise_()
            return existing
        dialog = SettingsDialog(self.app, self.tasks, self)
        dialog.saved.connect(self._settings_saved)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show_page(page)
        dialog.open()
        return dialog

    def _restart_watching(self) -> None:
        """(Re)start watching the configured folders; errors become a message, not a crash."""
        from desktop_uploader.watch import watch_configured_folders

        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        try:
            self.watcher = watch_configured_folders(
                self.app.engine, self.app.journal, self.app.settings
            )
        except (OSError, UploaderError) as e:
            self.show_exception("Cannot watch folders", e)
        if self.watcher is not None:
            self.watch_timer.start()
        else:
            self.watch_timer.stop()
        self._show_watch_backlog()

    def _apply_upload_server(self) -> None:
        def applied(_url, error) -> None:
            if error is not None:
                self.show_exception("The upload server cannot start", error)

        self.tasks.run(self.upload_server.apply, callback=applied)

    def _show_watch_backlog(self) -> None:
        """Status bar: how many folders are watched and how many files wait (bursts)."""
        w = self.watcher
        if w is None:
            self.watch_label.setText("")
            return
        b = w.backlog()
        waiting = b["settling"] + b["queued"]
        text = f"Watching {len(w.rules)} folder{'s' if len(w.rules) != 1 else ''}"
        self.watch_label.setText(text + (f" — {waiting} waiting" if waiting else ""))

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
        if not paths:
            return
        try:
            profile = self.destination_box.currentData() or None
            dest = self.app.settings.destination(profile)
            preset = self.app.settings.preset(self.preset_box.currentData() or None)
        except UploaderError as e:
            self.show_error(e.title, e.message)
            return
        self.tabs.setCurrentWidget(self.queue_panel)

        def queued(count, error) -> None:
            if error is not None:
                self.show_exception("Could not add files", error)
            elif count == 0:
                self.notify("No files found in what was dropped.")

        self.intake.run(self.app.submit_paths, paths, dest.name, preset, callback=queued)

    def choose_files(self) -> None:
        dialog = QFileDialog(self, "Add images")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter(IMAGE_FILTER)
        dialog.filesSelected.connect(lambda files: self.add_paths([Path(f) for f in files]))
        dialog.open()

    def choose_folder(self) -> None:
        dialog = QFileDialog(self, "Add a folder of images")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        dialog.fileSelected.connect(lambda d: self.add_paths([Path(d)]) if d else None)
        dialog.open()

    def paste_clipboard(self) -> None:
        """Upload the clipboard's image (saved as PNG in the cache), or the files it names."""
        mime = QGuiApplication.clipboard().mimeData()
        paths = local_paths(mime)
        if paths:
            self.add_paths(paths)
            return
        if mime is None or not mime.hasImage():
            self.show_error("Nothing to paste", "The clipboard holds no image or image file.")
            return
        image = QImage(mime.imageData())
        if image.isNull():
            self.show_error("Nothing to paste", "The clipboard's image could not be read.")
            return

        def saved(path, error) -> None:
            if error is not None:
                self.show_exception("Could not paste", error)
            else:
                self.add_paths([path])

        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        pixels = (image.width(), image.height(), image.constBits().tobytes())
        self.tasks.run(
            save_clipboard_image, pixels, self.app.paths.cache_dir / "pasted", callback=saved
        )

    # -- engine events -------------------------------------------------------------------
    def _on_events(self, batch: list) -> None:
        self.scan_notice.on_events(batch)
        finished = self.queue_model.apply(batch)
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
                job = self.app.journal.job(r.job_id)  # finished: the engine let go of it
                profile = job["profile"] if job else (self.destination_box.currentData() or "")
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
        self.pause_all.setText("Resume all" if paused else "Pause all")
        self.pause_all.setIcon(icon("resume" if paused else "pause"))
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
        if isinstance(error, UploaderError):
            self.show_error(title, error.message)
        elif isinstance(error, OSError) and error.strerror:
            name = f" ({error.filename})" if error.filename else ""
            self.show_error(title, f"{error.strerror}{name}.", f"{type(error).__name__}: {error}")
        else:
            log.error("%s", title, exc_info=error)
            self.show_error(
                title,
                "Something went wrong inside Desktop Uploader; nothing was lost. If it happens "
                "again, please report it with the details.",
                f"{type(error).__name__}: {error}",
            )

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
        """Ask (without blocking) what to do with unfinished work: keep the window, run on in
        the tray where there is one, or quit (what is done so far is reused next time)."""
        files = "1 file is" if unfinished == 1 else f"{unfinished} files are"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Uploads are not finished",
            f"{files} not uploaded yet.",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("confirm-close")
        box.setInformativeText(
            "If you quit now they stay unfinished: add them again later, and the work already "
            "done is reused."
        )
        keep = box.addButton("Keep uploading", QMessageBox.ButtonRole.RejectRole)
        hide = box.addButton("Run in the tray", QMessageBox.ButtonRole.AcceptRole) if tray else None
        quit_ = box.addButton("Quit anyway", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(keep)

        def chosen(button) -> None:
            if button is quit_:
                self.quit()
            elif hide is not None and button is hide:
                self.hide()

        box.buttonClicked.connect(chosen)
        box.open()
        return box

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
        if getattr(self, "watcher", None) is not None:
            self.watch_timer.stop()
            self.watcher.stop()
            self.watcher = None
        bridge = self.__dict__.pop("bridge", None)
        if bridge is not None:
            bridge.close()
            for runner in (self.intake, self.tasks, self.thumbnail_runner):
                runner.close()
            self.thumbnails.clear()  # pixmaps die here, on the GUI thread, not in a later GC
            if self.tray:
                self.tray.hide()
            self.closed.emit()
