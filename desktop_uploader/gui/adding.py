"""How files reach the queue from the window: dropped or chosen paths, a folder, the clipboard
(its files, or its image saved as a PNG in the cache). Expanding folders and submitting run on
the window's intake worker; saving a pasted image on its task worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_uploader.desktop import DesktopApp
from desktop_uploader.errors import UploaderError
from desktop_uploader.gui.background import save_clipboard_image
from desktop_uploader.gui.queue_view import local_paths
from desktop_uploader.gui.workers import TaskRunner
from desktop_uploader.pipeline.formats import IMAGE_SUFFIXES

IMAGE_FILTER = f"Images ({' '.join('*' + s for s in IMAGE_SUFFIXES)});;All files (*)"


class FileIntake(QObject):
    """``choice()`` gives the destination and preset names the toolbar shows (None: default).
    It reports through signals; the window shows them."""

    started = Signal()  # files are on their way into the queue
    problem = Signal(str, str)  # title, message
    failed = Signal(str, object)  # title, exception from a worker
    message = Signal(str)

    def __init__(
        self,
        app: DesktopApp,
        intake: TaskRunner,
        tasks: TaskRunner,
        choice: Callable[[], tuple[str | None, str | None]],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.app, self._intake, self._tasks, self._choice = app, intake, tasks, choice

    def add_paths(self, paths: list[Path]) -> None:
        """Queue files and folders (expanded and submitted off the GUI thread)."""
        if not paths:
            return
        profile, preset_name = self._choice()
        try:
            dest = self.app.settings.destination(profile)
            preset = self.app.settings.preset(preset_name)
        except UploaderError as e:
            self.problem.emit(e.title, e.message)
            return
        self.started.emit()

        def queued(count, error) -> None:
            if error is not None:
                self.failed.emit("Could not add files", error)
            elif count == 0:
                self.message.emit("No files found in what was dropped.")

        self._intake.run(self.app.submit_paths, paths, dest.name, preset, callback=queued)

    def choose_files(self) -> None:
        dialog = QFileDialog(self.parent(), "Add images")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter(IMAGE_FILTER)
        dialog.filesSelected.connect(lambda files: self.add_paths([Path(f) for f in files]))
        dialog.open()

    def choose_folder(self) -> None:
        dialog = QFileDialog(self.parent(), "Add a folder of images")
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
            self.problem.emit("Nothing to paste", "The clipboard holds no image or image file.")
            return
        image = QImage(mime.imageData())
        if image.isNull():
            self.problem.emit("Nothing to paste", "The clipboard's image could not be read.")
            return

        def saved(path, error) -> None:
            if error is not None:
                self.failed.emit("Could not paste", error)
            else:
                self.add_paths([path])

        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        pixels = (image.width(), image.height(), image.constBits().tobytes())
        folder = self.app.paths.cache_dir / "pasted"
        self._tasks.run(save_clipboard_image, pixels, folder, callback=saved)
