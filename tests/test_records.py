"""The typed contracts (records.py): enum values are the strings that settings, the journal and
``--json`` always held, every reason code the code raises is in the enum, and one ``JobResult``
round-trips through the journal's row and the ``--json`` line."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from desktop_uploader import records
from desktop_uploader.config import DesktopSettings, Destination
from desktop_uploader.records import (
    ContentPolicy,
    JobStatus,
    LinkFormat,
    ReasonCode,
    ScanPolicy,
)
from desktop_uploader.settings_schema import field_spec

PACKAGE = Path(records.__file__).parent


def test_enum_values_are_the_promised_strings():
    assert records.choices(ScanPolicy) == ("required", "optional", "off")
    assert records.choices(ContentPolicy) == ("block", "review", "off")
    assert records.choices(LinkFormat) == ("url", "markdown", "html", "bbcode", "picture")
    assert set(JobStatus) >= {"done", "duplicate", "rejected", "failed", "cancelled", "held"}
    # a member is its string wherever it goes: JSON, dict keys, comparisons
    assert json.dumps({"s": JobStatus.DONE}) == '{"s": "done"}'
    assert {"done": 1}[JobStatus.DONE] == 1 and ScanPolicy("off") is ScanPolicy.OFF


def test_settings_choices_come_from_the_enums():
    assert field_spec(Destination, "malware_scan").choices == records.choices(ScanPolicy)
    assert field_spec(Destination, "content_check").choices == records.choices(ContentPolicy)
    assert field_spec(DesktopSettings, "link_format").choices == records.choices(LinkFormat)


def _codes_in_source() -> set[str]:
    """Every literal ``code="…"`` keyword in the package (errors raised with a code)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            literal = isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant)
            if literal and node.arg == "code" and isinstance(node.value.value, str):
                found.add(node.value.value)
    return found


def test_every_reason_code_raised_is_in_the_enum():
    codes = _codes_in_source()
    assert "not_an_image" in codes and len(codes) > 30  # the scan itself works
    assert codes - set(ReasonCode) == set()


def test_detail_codes():
    assert records.malware_code("Eicar-Signature") == "malware:Eicar-Signature"
    assert records.content_code("FACE_FEMALE") == "content:FACE_FEMALE"
