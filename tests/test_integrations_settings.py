"""The [integrations] table is checked like every other: off by default, typos and wrong values
stop the app with one line (fail closed)."""

from __future__ import annotations

import pytest

from desktop_uploader.config import Settings
from desktop_uploader.settings_schema import SettingsError, parse_settings


def test_defaults_are_off_on_picgos_port():
    s = Settings().integrations
    assert (s.enabled, s.port, s.allow_tokenless_editors, s.allowed_origins) == (
        False, 36677, False, []
    )  # fmt: skip


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"enabeld": True}, "[integrations] enabeld = true: unknown setting; did you mean enabled"),
        ({"allow_tokenless_editors": "yes"}, 'allow_tokenless_editors = "yes": expected true or'),
        ({"port": 0}, "[integrations] port = 0: expected a whole number from 1 to 65535"),
        ({"port": "36677"}, 'port = "36677": expected a whole number'),
        ({"allowed_origins": "https://a.example"}, "expected a list of origins in quotes"),
        ({"allowed_origins": ["https://a.example/path"]}, "allowed_origins[0]"),
        ({"allowed_origins": ["a.example"]}, "allowed_origins[0]"),
    ],
)
def test_mistakes_fail_closed(table, expected):
    with pytest.raises(SettingsError) as e:
        parse_settings({"integrations": table})
    assert expected in e.value.message


def test_a_valid_table_is_read():
    s = parse_settings(
        {"integrations": {"enabled": True, "port": 8080, "allow_tokenless_editors": True,
                          "allowed_origins": ["https://notes.example.com:8443"]}}
    ).integrations  # fmt: skip
    assert s.enabled and s.port == 8080 and s.allow_tokenless_editors
    assert s.allowed_origins == ["https://notes.example.com:8443"]
