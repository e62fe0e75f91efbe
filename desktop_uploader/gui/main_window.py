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
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_uploader.errors import UploaderError
from desktop_uploader.gui import icons
from desktop_uploader.gui.background import save_clipboard_image, submit_paths, warm_up
from desktop_uploader.gui.banners import Banner
from desktop_uploader.gui.bridge import EngineBridge
from desktop_uploader.gui.history_model import HistoryModel, history_row
from desktop_uploader.gui.history_view import HistoryPanel
from desktop_uploader.gui.icons import icon
from desktop_uploader.gui.queue_model import QueueModel, QueueRow
from desktop_uploader.gui.queue_panel import QueuePanel
from desktop_uploader.gui.queue_view import local_paths
from desktop_uploader.gui.thumbnails import ThumbnailCache
from desktop_uploader.gui.toast import Toast
from desktop_uploader.gui.tray import Tray
from desktop_uploader.gui.workers import TaskRunner
from desktop_uploader.pipeline.deliver import link_text
from desktop_uploader.pipeline.formats import IMAGE_SUFFIXES

log = logging.getLogger(__name__)
IMAGE_FILTER = f"Images ({' '.join('*' + s for s in IMAGE_SUFFIXES)});;All files (*)"


class MainWindow(QMainWindow):
    """Everything the user sees. ``closed`` fires once the window has really shut down."""

    closed = Signal()
    warmed_up = Signal()

    def __init__(self, app, tray: bool = True) -> None:
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
        self.thumbnails = ThumbnailCache(self.thumbnail_runner, app.paths.cache_dir / "thumbnails")
        placeholder = icon("image")
        self.queue_model = QueueModel(self.thumbnails, placeholder, self)
        self.history_model = HistoryModel(
            app.journal,
            self.thumbnails,
            {"image": placeholder, "warning": icon("warning")},
            runner=self.tasks,
            parent=self,
        )
        self._build_actions()
        self._build_ui()
        self.tray = Tray(self) if tray else None
        if self.tray:
            self.tray.open_window.connect(self.bring_to_front)
            self.tray.pause_toggled.connect(self.pause_all.setChecked)
            self.tray.quit_requested.connect(self.quit)
            self.tray.copied.connect(lambda _t: self.notify("Link copied to the clipboard."))
        self.bridge = EngineBridge(app.engine)
        self.bridge.events.connect(self._on_events)
        self.refresh_settings()
        self.history_model.fetchMore()
        self.tasks.run(warm_up, app, callback=self._warmed_up)
        # files held for content review by an earlier session or a command: ask about them
        self.tasks.run(app.engine.held_for_review, callback=self._held_at_start)
        self.watcher = None  # the watched folders (desktop_uploader.watch), while any exist
        self.watch_label = QLabel()
        self.watch_label.setAccessibleName("Watched folders backlog")
        self.statusBar().addPermanentWidget(self.watch_label)
        self.watch_timer = QTimer(self)
        self.watch_timer.setInterval(1000)
        self.watch_timer.timeout.connect(self._show_watch_backlog)
        self._restart_watching()

    def _held_at_start(self, rows, error) -> None:
        if error is None and rows:
            self.review_held()

    def review_held(self):
        """Show the review dialog (modeless: uploads and the window go on), or refresh it."""
        from desktop_uploader.gui.review_dialog import ReviewDialog

        dialog = self.findChild(ReviewDialog)
        if dialog is None:
            dialog = ReviewDialog(self.app, self.tasks, self)
        dialog.refresh()
        dialog.show()
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
        self.error_banner = Banner("warning", "", None, closable=True, error=True)
        self.error_banner.setObjectName("error-banner")
        self.error_banner.hide()

        self.queue_panel = QueuePanel(self.app.engine, self.queue_model, self.thumbnails)
        self.queue_panel.files_dropped.connect(self.add_paths)
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
        self.toast = Toast(central)
        self.statusBar().showMessage("Ready")

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
            keep = box.currentText() or current
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            box.setCurrentText(keep if keep in names else current)
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
            self.show_error("Cannot watch folders", str(e))
        if self.watcher is not None:
            self.watch_timer.start()
        else:
            self.watch_timer.stop()
        self._show_watch_backlog()

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
        self._reconnect_pending = not self.app.engine.forget_uploaders()
        self._restart_watching()
        self.refresh_settings()
        self.notify("Settings saved.")

    # -- adding files --------------------------------------------------------------------
    def add_paths(self, paths: list[Path]) -> None:
        """Queue files and folders (expanded and submitted off the GUI thread)."""
        if not paths:
            return
        try:
            profile = self.destination_box.currentText() or None
            dest = self.app.settings.destination(profile)
            preset = self.app.settings.preset(self.preset_box.currentText() or None)
        except UploaderError as e:
            self.show_error(e.title, e.message)
            return
        self.tabs.setCurrentWidget(self.queue_panel)

        def queued(count, error) -> None:
            if error is not None:
                self.show_error("Could not add files", getattr(error, "message", str(error)))
            elif count == 0:
                self.notify("No files found in what was dropped.")

        self.intake.run(submit_paths, self.app.engine, paths, dest.name, preset, callback=queued)

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
                self.show_error("Could not paste", str(error))
            else:
                self.add_paths([path])

        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        pixels = (image.width(), image.height(), image.constBits().tobytes())
        self.tasks.run(
            save_clipboard_image, pixels, self.app.paths.cache_dir / "pasted", callback=saved
        )

    # -- engine events -------------------------------------------------------------------
    def _on_events(self, batch: list) -> None:
        finished = self.queue_model.apply(batch)
        if any(e.data.get("stage") == "waiting_for_review" for e in batch):
            self.review_held()
        if finished:
            self._announce(finished)
            if self._reconnect_pending and not self.app.engine.jobs():
                self._reconnect_pending = not self.app.engine.forget_uploaders()

    def _announce(self, rows: list[QueueRow]) -> None:
        desktop = self.app.settings.desktop
        uploaded = [r for r in rows if r.stage in ("done", "duplicate") and r.result]
        for r in rows:
            if r.result is not None and r.stage != "cancelled":
                job = self.app.engine.job(r.job_id)
                profile = job.profile if job else self.destination_box.currentText()
                self.history_model.add_row(history_row(r, profile))
        links = []
        for r in uploaded:
            res = r.result
            link = link_text(
                desktop.link_format,
                res.url,
                r.name,
                res.width,
                res.height,
                variants=res.variants,
                lqip=res.lqip,
            )
            links.append(link)
            if self.tray:
                self.tray.add_recent(r.name, link)
        if links and desktop.copy_on_upload:
            QGuiApplication.clipboard().setText(links[-1])
        failed = [r for r in rows if r.stage == "failed"]
        for r in failed:
            self.show_error("Upload failed", f"{r.name}: {r.message}")
        rejected = [r for r in rows if r.stage == "rejected"]
        if uploaded and desktop.notify:
            what = uploaded[-1].name if len(uploaded) == 1 else f"{len(uploaded)} images"
            copied = " — link copied to the clipboard" if desktop.copy_on_upload else ""
            self.notify(f"Uploaded {what}{copied}.", title="Upload finished")
        if rejected:
            r = rejected[-1]
            more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
            self.notify(f"Rejected {r.name}{more}: {r.message}", title="File rejected")

    def _pause_all_toggled(self, paused: bool) -> None:
        if paused:
            self.app.engine.pause()
        else:
            self.app.engine.resume()
        self.pause_all.setText("Resume all" if paused else "Pause all")
        self.pause_all.setIcon(icon("resume" if paused else "pause"))
        if self.tray:
            self.tray.set_paused(paused)
        self.statusBar().showMessage("Queue paused" if paused else "Ready")

    # -- messages ------------------------------------------------------------------------
    def notify(self, message: str, title: str = "Desktop Uploader") -> None:
        """A desktop notification when there is a tray, else an in-window toast."""
        self.statusBar().showMessage(message, 8000)
        shown = (
            self.tray.notify(title, message) if self.tray and not self.isActiveWindow() else False
        )
        if not shown:
            self.toast.show_message(message)

    def show_error(self, title: str, message: str) -> None:
        """Errors go into the window (and the log), never only the log."""
        log.warning("%s: %s", title, message)
        self.error_banner.set_text(f"<b>{title}</b> — {message}")
        self.error_banner.show()

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # -- closing -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if (
            not self._shut
            and self.tray
            and self.tray.available
            and self.app.settings.desktop.close_to_tray
        ):
            self.hide()
            self.tray.notify("Desktop Uploader", "Still running in the tray.")
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def quit(self) -> None:
        self._shut = True
        self.close()

    def shutdown(self) -> None:
        """Stop listening to the engine and stop the GUI's own workers (idempotent)."""
        if self._shut and not hasattr(self, "bridge"):
            return
        self._shut = True
        if getattr(self, "watcher", None) is not None:
            self.watch_timer.stop()
            self.watcher.stop()
            self.watcher = None
        bridge = self.__dict__.pop("bridge", None)
        if bridge is not None:
            bridge.close()
            for runner in (self.intake, self.tasks, self.thumbnail_runner):
                runner.close()
            if self.tray:
                self.tray.hide()
            self.closed.emit()
