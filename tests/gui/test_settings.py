"""The settings dialog: secrets to the keyring (never the TOML), Test connection, login, banner."""

from __future__ import annotations

from gui_helpers import WAIT_MS
from PySide6.QtWidgets import QDialogButtonBox

from desktop_uploader.app import App
from desktop_uploader.credentials import SERVICE, S3Keys
from desktop_uploader.paths import AppPaths

SECRET = "s3cr3t-Value-that-must-never-hit-disk"


def _ok(dialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def test_new_destination_keys_go_to_the_keyring_only(window, memory_keyring, home, qtbot):
    dialog = window.open_settings("destinations")
    assert dialog.isVisible() and not dialog.error.isVisible()
    page = dialog.destinations
    assert page.add_destination("blog") == "blog"
    w = page.connection.widgets
    w["provider"].setCurrentIndex(w["provider"].findData("r2"))
    assert w["provider"].currentText() == "Cloudflare R2"  # names, not ids
    w["endpoint"].setText("https://example-account.r2.cloudflarestorage.com")
    w["bucket"].setText("blog-images")
    w["public_base_url"].setText("https://img.example.com")
    page.access_key.setText("AKIDBLOG")
    page.secret_key.setText(SECRET)
    page.default_box.setCurrentIndex(page.default_box.findData("blog"))
    with qtbot.waitSignal(dialog.saved, timeout=WAIT_MS):
        _ok(dialog)
    assert not dialog.isVisible()

    stored = memory_keyring.store[(SERVICE, "blog")]
    assert SECRET in stored and "AKIDBLOG" in stored
    toml = window.app.paths.config_file.read_text()
    assert 'bucket = "blog-images"' in toml and 'default_profile = "blog"' in toml
    for f in home.rglob("*"):  # nowhere on disk: settings, journal, logs
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f
    assert window.app.settings.destination("blog").public_base_url == "https://img.example.com"
    assert window.destination_box.currentText() in window.app.settings.destinations


def test_missing_bucket_is_reported_in_the_dialog(window, memory_keyring, qtbot):
    dialog = window.open_settings("destinations")
    dialog.destinations.add_destination("nobucket")
    dialog.destinations.secret_key.setText(SECRET)
    dialog.destinations.access_key.setText("AKID")
    _ok(dialog)
    assert dialog.isVisible() and dialog.error.isVisible()
    assert "needs a bucket" in dialog.error.text()
    assert (SERVICE, "nobucket") not in memory_keyring.store
    dialog.reject()


def test_test_connection_runs_doctor_on_unsaved_keys(window, memory_keyring, qtbot):
    dialog = window.open_settings("destinations")
    page = dialog.destinations
    page.show_destination("test")
    good = window.app.stored_keys("test")
    # wrong keys typed but not saved: doctor must use them (and fail), the keyring keeps the old
    page.secret_key.setText("wrong-secret")
    page.test_button.click()
    qtbot.waitUntil(lambda: "checks" in page.findings.text(), timeout=WAIT_MS)
    assert "Some checks failed" in page.findings.text()
    assert window.app.stored_keys("test") == good
    page.secret_key.setText(good.secret_access_key)
    page.test_button.click()
    qtbot.waitUntil(lambda: "checks" in page.findings.text(), timeout=WAIT_MS)
    assert "All checks passed" in page.findings.text(), page.findings.text()
    dialog.reject()
    assert window.app.stored_keys("test") == S3Keys(good.access_key_id, good.secret_access_key)


def test_content_labels_by_readable_name(window, qtbot):
    from PySide6.QtCore import Qt

    from desktop_uploader.settings_file import load_settings

    dialog = window.open_settings("destinations")
    page = dialog.destinations
    page.show_destination("test")
    items = [page.content_labels.item(i) for i in range(page.content_labels.count())]
    by_name = {it.text(): it for it in items}
    assert "Female breast, exposed" in by_name and "Face (female)" in by_name
    assert not any("_" in it.text() for it in items)
    by_name["Face (female)"].setCheckState(Qt.CheckState.Checked)
    by_name["Buttocks, exposed"].setCheckState(Qt.CheckState.Unchecked)
    _ok(dialog)
    labels = load_settings(window.app.paths.config_file).destinations["test"].content_labels
    assert "FACE_FEMALE" in labels and "BUTTOCKS_EXPOSED" not in labels
    assert "FEMALE_GENITALIA_EXPOSED" in labels


def test_test_connection_says_what_to_do(window, qtbot):
    """An empty bucket asks for a bucket (no botocore regexes); an endpoint where nothing
    listens says so, without "the upload stays queued"; technical text only under Details."""
    import socket

    dialog = window.open_settings("destinations")
    page = dialog.destinations
    page.add_destination("typo")
    page.access_key.setText("AKID")
    page.secret_key.setText(SECRET)
    page.test_button.click()
    qtbot.waitUntil(lambda: "checks" in page.findings.text(), timeout=WAIT_MS)
    assert "Enter a bucket name" in page.findings.text()
    assert "ParamValidation" not in page.findings.text() and "regex" not in page.findings.text()

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    page.connection.widgets["bucket"].setText("photos")
    page.connection.widgets["endpoint"].setText(f"http://127.0.0.1:{port}")
    page.test_button.click()
    qtbot.waitUntil(lambda: "checks" in page.findings.text(), timeout=WAIT_MS)
    text = page.findings.text()
    assert f"Nothing answers at 127.0.0.1:{port}" in text and "stays queued" not in text
    assert "Error" not in text  # the exception's name is a detail
    assert page.details_button.isVisibleTo(page) and "ConnectionRefusedError" in page.details.text()
    dialog.reject()


def test_general_page_link_format_and_start_at_login(window, xdg_config, images, qtbot):
    dialog = window.open_settings("general")
    form = dialog.general.form.widgets
    formats = form["link_format"]
    shown = [formats.itemText(i) for i in range(formats.count())]
    assert shown == ["URL", "Markdown", "HTML", "BBCode", "<picture> snippet"]  # words, not ids
    formats.setCurrentIndex(formats.findData("markdown"))
    form["start_at_login"].setChecked(True)
    with qtbot.waitSignal(dialog.saved, timeout=WAIT_MS):
        _ok(dialog)
    entry = xdg_config / "autostart" / "desktop-uploader.desktop"
    assert "Exec=" in entry.read_text() and "desktop" in entry.read_text()
    assert window.app.settings.desktop.link_format == "markdown"

    dialog = window.open_settings("general")
    dialog.general.form.widgets["start_at_login"].setChecked(False)
    _ok(dialog)
    assert not entry.exists()


def test_watched_folders_and_presets_are_saved(window, tmp_path, qtbot):
    from desktop_uploader.config import WatchedFolder
    from desktop_uploader.settings_file import load_settings

    dialog = window.open_settings("watched")
    page = dialog.watched
    assert page.empty.isVisibleTo(page) and not page.details.isVisibleTo(page)
    page.add_folder(WatchedFolder(str(tmp_path / "other")))
    page.add_folder(WatchedFolder(str(tmp_path), destination="test", originals="move"))
    assert page.list.currentRow() == 1 and page.details.isVisibleTo(page)
    form = page.form.widgets
    assert form["destination"].currentText() == "test"
    form["include"].setText("*.jpg, *.png ")
    form["exclude"].setText("drafts/*")
    form["polling"].setChecked(True)
    form["stable_seconds"].setValue(2.5)
    page.list.setCurrentRow(0)  # the edits stay with their folder
    assert form["include"].text() == ""
    page.remove_current()
    assert page.list.count() == 1 and page.list.item(0).text() == str(tmp_path)
    dialog.presets.add_preset("small")
    dialog.presets.form.widgets["max_size"].setValue(800)
    _ok(dialog)
    saved = load_settings(window.app.paths.config_file)
    assert saved.watched_folders == [
        WatchedFolder(
            str(tmp_path),
            destination="test",
            recursive=True,
            originals="move",
            include=["*.jpg", "*.png"],
            exclude=["drafts/*"],
            polling=True,
            stable_seconds=2.5,
        )
    ]
    assert saved.presets["small"].max_size == 800
    assert "small" in [window.preset_box.itemText(i) for i in range(window.preset_box.count())]


def test_preset_widths_are_saved_as_numbers(window, qtbot):
    from PySide6.QtGui import QValidator

    from desktop_uploader.settings_file import load_settings

    dialog = window.open_settings("presets")
    dialog.presets.add_preset("responsive")
    edit = dialog.presets.form.widgets["widths"]
    assert edit.validator().validate("320, 64x", 0)[0] == QValidator.State.Invalid
    edit.setText("640, 320 ,1024")
    _ok(dialog)
    saved = load_settings(window.app.paths.config_file)
    assert saved.presets["responsive"].widths == [640, 320, 1024]
    assert saved.presets["responsive"].fingerprint().endswith(":w320,640,1024:01")


def test_banner_when_only_the_local_store_is_configured(home, qtbot):
    from desktop_uploader.desktop import DesktopApp
    from desktop_uploader.gui.main_window import MainWindow

    app = App(AppPaths.from_env())
    w = MainWindow(DesktopApp(app), tray=False)
    qtbot.addWidget(w)
    try:
        w.show()
        assert w.local_banner.isVisible()
        assert "local store" in w.local_banner.text()
        w.local_banner.action.click()
        dialog = w.open_settings()
        assert dialog.tabs.currentWidget() is dialog.destinations
        dialog.reject()
    finally:
        w.shutdown()
        app.close()


def test_forms_take_labels_choices_and_tooltips_from_the_schema(window, qtbot):
    """One schema: the choices a form offers are exactly those settings.toml accepts."""
    from desktop_uploader.config import Destination, Preset
    from desktop_uploader.settings_fields import field_spec

    dialog = window.open_settings("destinations")
    policy = dialog.destinations.policy.widgets["malware_scan"]
    spec = field_spec(Destination, "malware_scan")
    assert [policy.itemData(i) for i in range(policy.count())] == list(spec.choices)
    assert policy.toolTip() == spec.help and policy.accessibleName() == spec.label
    provider = dialog.destinations.connection.widgets["provider"]
    choices = field_spec(Destination, "provider").choices
    assert [provider.itemData(i) for i in range(provider.count())] == list(choices)
    quality = dialog.presets.form.widgets["quality"]
    assert (quality.minimum(), quality.maximum()) == (1, 100)
    assert field_spec(Preset, "quality").label == "Quality (1–100)"
    dialog.reject()


def test_a_value_the_schema_refuses_is_not_saved(window, qtbot):
    dialog = window.open_settings("destinations")
    dialog.destinations.add_destination("blog")
    w = dialog.destinations.connection.widgets
    w["bucket"].setText("b")
    w["endpoint"].setText("minio.local:9000")  # no scheme
    dialog.destinations.access_key.setText("AKID")
    dialog.destinations.secret_key.setText(SECRET)
    _ok(dialog)
    assert dialog.isVisible() and dialog.error.isVisible()
    assert 'endpoint = "minio.local:9000": expected an address' in dialog.error.text()
    assert "blog" not in window.app.settings.destinations
    dialog.reject()


def test_per_label_thresholds_are_edited_as_text_and_checked(window, qtbot):
    """``content_label_thresholds`` (a table in settings.toml) in the destination's form: as
    "LABEL = score" pairs; a misspelt label is refused with the schema's words, not saved."""
    from desktop_uploader.settings_file import load_settings

    dialog = window.open_settings("destinations")
    page = dialog.destinations
    page.show_destination("test")
    edit = page.policy.widgets["content_label_thresholds"]
    assert edit.text() == ""
    edit.setText("BUTTOCKS_EXPOSD = 0.8")
    _ok(dialog)
    assert dialog.isVisible() and "did you mean BUTTOCKS_EXPOSED?" in dialog.error.text()
    edit.setText("BUTTOCKS_EXPOSED = 0.8, FEMALE_BREAST_EXPOSED=0.75")
    _ok(dialog)
    saved = load_settings(window.app.paths.config_file).destinations["test"]
    assert saved.content_label_thresholds == {
        "BUTTOCKS_EXPOSED": 0.8,
        "FEMALE_BREAST_EXPOSED": 0.75,
    }
    dialog = window.open_settings("destinations")
    dialog.destinations.show_destination("test")
    shown = dialog.destinations.policy.widgets["content_label_thresholds"].text()
    assert shown == "BUTTOCKS_EXPOSED = 0.8, FEMALE_BREAST_EXPOSED = 0.75"
    dialog.reject()
