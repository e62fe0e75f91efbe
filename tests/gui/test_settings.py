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
    w["provider"].setCurrentText("r2")
    w["endpoint"].setText("https://example-account.r2.cloudflarestorage.com")
    w["bucket"].setText("blog-images")
    w["public_base_url"].setText("https://img.example.com")
    page.access_key.setText("AKIDBLOG")
    page.secret_key.setText(SECRET)
    page.default_box.setCurrentText("blog")
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
    good = window.app.credentials.get("test")
    # wrong keys typed but not saved: doctor must use them (and fail), the keyring keeps the old
    page.secret_key.setText("wrong-secret")
    page.test_button.click()
    qtbot.waitUntil(lambda: "checks" in page.findings.text(), timeout=WAIT_MS)
    assert "Some checks failed" in page.findings.text()
    assert window.app.credentials.get("test") == good
    page.secret_key.setText(good.secret_access_key)
    page.test_button.click()
    qtbot.waitUntil(lambda: "checks" in page.findings.text(), timeout=WAIT_MS)
    assert "All checks passed" in page.findings.text(), page.findings.text()
    dialog.reject()
    assert window.app.credentials.get("test") == S3Keys(good.access_key_id, good.secret_access_key)


def test_general_page_link_format_and_start_at_login(window, xdg_config, images, qtbot):
    dialog = window.open_settings("general")
    form = dialog.general.form.widgets
    form["link_format"].setCurrentText("markdown")
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
    from desktop_uploader.config import WatchedFolder, load_settings

    dialog = window.open_settings("watched")
    dialog.watched.add_folder(WatchedFolder(str(tmp_path), destination="test", originals="move"))
    table = dialog.watched.table
    table.item(0, 5).setText("*.jpg, *.png ")
    table.item(0, 6).setText("drafts/*")
    table.cellWidget(0, 7).setChecked(True)
    table.cellWidget(0, 8).setValue(2.5)
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

    from desktop_uploader.config import load_settings

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
    from desktop_uploader.gui.main_window import MainWindow

    app = App(AppPaths.from_env())
    w = MainWindow(app, tray=False)
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
    from desktop_uploader.settings_schema import field_spec

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
