"""Settings are a typed schema checked at load: a typo or a wrong type in any setting stops the
command before any work (exit 2), with one line naming file, table, key, value and what is
allowed; policies fail closed; the settings window takes its choices and labels from it."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest
import tomli_w
from imagegen import jpeg_bytes, scene
from support import run_cli, store_client

from desktop_uploader.config import (
    DesktopSettings,
    Destination,
    Limits,
    LocalStoreSettings,
    Preset,
    ScanningSettings,
    Settings,
    WatchedFolder,
)
from desktop_uploader.errors import ConfigError
from desktop_uploader.paths import AppPaths
from desktop_uploader.pipeline.content import NUDENET_LABELS
from desktop_uploader.pipeline.scanners import ValidationPolicy
from desktop_uploader.settings_file import load_settings, save_settings
from desktop_uploader.settings_schema import (
    SettingsError,
    check_settings,
    field_specs,
    parse_settings,
)

# where each settings class lives in the file: (TOML prefix, extra keys a table needs)
TABLES = {
    Destination: ("destinations.mycloud", {}),
    Preset: ("presets.blog", {}),
    Limits: ("limits", {}),
    ScanningSettings: ("scanning", {}),
    LocalStoreSettings: ("local_store", {}),
    DesktopSettings: ("desktop", {}),
    WatchedFolder: ("watched_folders", {"path": "/tmp/photos"}),
}


def wrong_value(spec):
    """A value of the wrong type, or a typo of a choice, for the field ``spec``."""
    return {
        "choice": "typo",
        "bool": "yes",
        "int": "abc",
        "float": "slow",
        "str": 5,
        "list": "not a list",
        "ints": ["x"],
        "scores": "high",
    }[spec.kind]


def toml_with(cls, key, value) -> dict:
    table, extra = TABLES[cls]
    body = {**extra, key: value}
    if cls is WatchedFolder:
        return {"watched_folders": [body]}
    raw: dict = {}
    node = raw
    *parents, last = table.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = body
    return raw


def header(cls) -> str:
    table, _ = TABLES[cls]
    return "[[watched_folders]] #1" if cls is WatchedFolder else f"[{table}]"


CASES = [
    (cls, spec)
    for cls in TABLES
    for spec in field_specs(cls)
    if spec.name != "name" and spec.kind not in ("table", "tables")
]


@pytest.mark.parametrize(("cls", "spec"), CASES, ids=[f"{c.__name__}.{s.name}" for c, s in CASES])
def test_a_wrong_value_in_every_setting_is_named_with_what_is_allowed(cls, spec):
    value = wrong_value(spec)
    with pytest.raises(SettingsError) as err:
        parse_settings(toml_with(cls, spec.name, value), "/cfg/settings.toml")
    msg = err.value.message
    shown = json.dumps(value) if isinstance(value, str) else str(value).replace("'", '"')
    if spec.kind == "ints":  # a list item is named by its index
        assert msg.startswith(f'/cfg/settings.toml: {header(cls)} {spec.name}[0] = "x": expected')
    else:
        assert msg.startswith(f"/cfg/settings.toml: {header(cls)} {spec.name} = {shown}: expected")
    assert "\n" not in msg
    if spec.kind == "choice":
        assert msg.endswith(", ".join(c or '""' for c in spec.choices))


@pytest.mark.parametrize("cls", list(TABLES), ids=lambda c: c.__name__)
def test_an_unknown_key_in_every_table_is_named(cls):
    with pytest.raises(SettingsError) as err:
        parse_settings(toml_with(cls, "colour_mode", "vivid"), "settings.toml")
    assert err.value.message.startswith(
        f'settings.toml: {header(cls)} colour_mode = "vivid": unknown setting'
    )


def test_a_misspelt_key_gets_a_suggestion():
    raw = {"destinations": {"mycloud": {"malware_scn": "required"}}}
    with pytest.raises(SettingsError) as err:
        parse_settings(raw, "settings.toml")
    assert err.value.message == (
        'settings.toml: [destinations.mycloud] malware_scn = "required": unknown setting; '
        "did you mean malware_scan?"
    )


def test_every_setting_has_a_label_and_help_text():
    """The settings window shows these (and no other helper writes them): a new field needs
    ``setting(default, label, help)``."""
    for cls in (Settings, *TABLES):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("label"), f"{cls.__name__}.{f.name} has no label"
        for spec in field_specs(cls):
            assert spec.label and spec.help, f"{cls.__name__}.{spec.name} lacks label or help"


def test_numbers_show_their_range_and_units_are_in_labels():
    with pytest.raises(SettingsError) as err:
        parse_settings({"presets": {"blog": {"quality": 500}}}, "settings.toml")
    assert err.value.message == (
        "settings.toml: [presets.blog] quality = 500: expected a whole number from 1 to 100"
    )
    labels = {s.name: s.label for s in field_specs(Limits)}
    assert "(s)" in labels["decode_timeout"] and "(bytes)" in labels["max_bytes"]


def test_references_between_tables_are_checked():
    raw = {"default_profile": "mycluod", "destinations": {"mycloud": {"bucket": "b"}}}
    with pytest.raises(SettingsError) as err:
        parse_settings(raw, "settings.toml")
    assert err.value.message == (
        'settings.toml: default_profile = "mycluod": expected one of local, mycloud'
    )
    raw = {"watched_folders": [{"path": "/p", "preset": "blgo"}]}
    with pytest.raises(SettingsError) as err:
        parse_settings(raw, "settings.toml")
    assert '[[watched_folders]] #1 preset = "blgo": expected one of default, original' in str(
        err.value
    )
    raw = {"destinations": {"c": {"key_template": "{name}.{ext}"}}}
    with pytest.raises(SettingsError, match=r"\[destinations.c\] key_template"):
        parse_settings(raw, "settings.toml")


def test_content_labels_outside_nudenets_are_refused():
    """A misspelt label would never match: the check would pass everything (fail open)."""
    raw = {"destinations": {"c": {"content_labels": ["FEMALE_GENITALIA_EXPOSD"]}}}
    with pytest.raises(SettingsError, match=r"content_labels\[0\]"):
        parse_settings(raw, "settings.toml")
    import nudenet.nudenet as nn

    assert set(NUDENET_LABELS) == set(nn.__dict__["__labels"])


def test_link_formats_of_the_schema_are_the_ones_deliver_makes():
    from desktop_uploader.pipeline.deliver import LINK_FORMATS

    assert [s for s in field_specs(DesktopSettings) if s.name == "link_format"][0].choices == (
        LINK_FORMATS
    )


def test_saved_settings_load_back_and_a_bad_one_is_not_written(tmp_path):
    s = Settings()
    s.destinations["blog"] = Destination("blog", endpoint="https://s3.example", bucket="b")
    s.presets["small"] = Preset("small", max_size=640, widths=[320, 640])
    s.watched_folders.append(WatchedFolder("/tmp/in", destination="blog", preset="small"))
    path = tmp_path / "settings.toml"
    save_settings(s, path)
    assert load_settings(path) == s
    s.destinations["blog"].malware_scan = "requried"
    with pytest.raises(SettingsError):
        save_settings(s, path)
    assert load_settings(path).destinations["blog"].malware_scan == "optional"  # unchanged


def test_files_of_older_versions_still_load(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[presets.r]\nwidths = ["640", "320"]\n[destinations.x]\nname = "x"\n')
    s = load_settings(path)
    assert s.presets["r"].widths == [640, 320] and "x" in s.destinations


def test_policies_fail_closed():
    assert ValidationPolicy(malware_scan="requried").malware_scan == "required"
    assert ValidationPolicy(content_check="blok").content_check == "block"


# -- the command line: every typo of the issue stops the command, nothing is queued -------------
ISSUE_TYPOS = [
    (("destinations", "cloud"), "malware_scan", "requried",
     "expected one of required, optional, off"),
    (("limits",), "max_bytes", "abc", "expected a whole number of at least 1"),
    (("limits",), "decode_timeout", "slow", "expected a number above 0"),
    (("destinations", "cloud"), "content_threshold", "high", "expected a number from 0 to 1"),
    (("presets", "default"), "quality", "best", "expected a whole number from 1 to 100"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "key", "value", "expected"), ISSUE_TYPOS, ids=[t[1] for t in ISSUE_TYPOS]
)
def test_a_settings_typo_stops_the_cli_before_any_work(
    tmp_path, store_target, monkeypatch, table, key, value, expected
):
    status, keys = store_target
    home = tmp_path / "home"
    prefix = f"typo{os.urandom(4).hex()}"
    raw: dict = {
        "default_profile": "cloud",
        "destinations": {
            "cloud": {
                "endpoint": status.s3_endpoint,
                "bucket": status.bucket,
                "provider": "minio",
                "prefix": prefix,
            }
        },
    }
    node = raw
    for part in table:
        node = node.setdefault(part, {})
    node[key] = value
    paths = AppPaths(home / "config", home / "data", home / "cache").ensure()
    paths.config_file.write_text(tomli_w.dumps(raw))
    img = tmp_path / "photo.jpg"
    img.write_bytes(jpeg_bytes(scene(120, 80, seed=61)))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys.secret_access_key)

    res = run_cli("upload", "--json", str(img), env_home=home)
    assert res.returncode == 2, res.stderr
    assert res.stdout == ""
    where = ".".join(table)
    line = f'{paths.config_file}: [{where}] {key} = "{value}": {expected}'
    assert res.stderr.splitlines() == [f"error: Settings problem: {line}"]
    hist = run_cli("history", "--json", env_home=home)  # every command stops the same way
    assert hist.returncode == 2 and hist.stdout == "" and line in hist.stderr
    assert not paths.journal_file.exists()  # nothing queued, not even a journal
    listed = store_client(store_target).list_objects_v2(Bucket=status.bucket, Prefix=prefix)
    assert listed.get("KeyCount", 0) == 0


def test_a_typo_in_settings_is_a_config_error_for_the_app(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("[limits]\nmax_frames = 0\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert err.value.message == (
        f"{path}: [limits] max_frames = 0: expected a whole number of at least 1"
    )
    assert dataclasses.is_dataclass(Settings)  # the API the rest of the code uses stays


def test_per_label_thresholds_name_known_labels_with_scores_from_0_to_1():
    """``content_label_thresholds`` (issue 15) is part of the schema like every setting: a
    misspelt label would never match (the check would pass everything), a score over 1 would
    never be reached."""

    def problem(table) -> str:
        raw = {"destinations": {"c": {"content_label_thresholds": table}}}
        with pytest.raises(SettingsError) as err:
            parse_settings(raw, "settings.toml")
        return err.value.message

    assert problem({"BUTTOCKS_EXPOSD": 0.8}) == (
        "settings.toml: [destinations.c] content_label_thresholds.BUTTOCKS_EXPOSD = 0.8: "
        "unknown name; did you mean BUTTOCKS_EXPOSED?"
    )
    assert problem({"BUTTOCKS_EXPOSED": 1.5}) == (
        "settings.toml: [destinations.c] content_label_thresholds.BUTTOCKS_EXPOSED = 1.5: "
        "expected a number from 0 to 1"
    )
    assert problem({"BUTTOCKS_EXPOSED": "high"}).endswith("expected a number from 0 to 1")
    raw = {"destinations": {"c": {"content_label_thresholds": {"BUTTOCKS_EXPOSED": 0.8}}}}
    dest = parse_settings(raw, "settings.toml").destinations["c"]
    assert dest.content_label_thresholds == {"BUTTOCKS_EXPOSED": 0.8}
    assert dest.content_check == "review"  # issue 15: review, not block, is the default
    check_settings(parse_settings(raw, "settings.toml"))  # what the settings window saves


def test_every_choice_a_form_offers_has_a_name_for_people():
    """The settings window shows ``choice_labels``; a choice without one would show its id
    ("webp", "strip", "optional"). Provider kinds are named by ``providers.provider_name``."""
    from desktop_uploader.settings_fields import field_specs

    unnamed = [
        f"{cls.__name__}.{spec.name}: {choice!r}"
        for cls in TABLES
        for spec in field_specs(cls)
        if spec.kind == "choice" and spec.name != "provider"
        for choice in spec.choices
        if choice not in spec.choice_labels
    ]
    assert unnamed == []
