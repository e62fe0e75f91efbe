"""The typed contracts (records.py): enum values are the strings that settings, the journal and
``--json`` always held, every reason code the code raises is in the enum, and one ``JobResult``
round-trips through the journal's row and the ``--json`` line."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from desktop_uploader import records
from desktop_uploader.config import DesktopSettings, Destination
from desktop_uploader.records import (
    ContentPolicy,
    JobResult,
    JobStatus,
    LinkFormat,
    ReasonCode,
    ScanPolicy,
)
from desktop_uploader.settings_fields import field_spec

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


def _literals(value: ast.expr) -> set[str]:
    """The strings an expression can be: a literal, or either side of ``a if c else b``."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return {value.value}
    if isinstance(value, ast.IfExp):
        return _literals(value.body) | _literals(value.orelse)
    return set()


def _codes_in_source() -> set[str]:
    """Every literal the package gives as a ``code``: in ``code=…`` arguments and as an error
    type's ``code = "…"``."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            argument = isinstance(node, ast.keyword) and node.arg == "code"
            attribute = isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == [
                "code"
            ]
            if argument or attribute:
                found |= _literals(node.value)
    return found


def test_every_reason_code_raised_is_in_the_enum():
    codes = _codes_in_source()
    assert "not_an_image" in codes and len(codes) > 30  # the scan itself works
    assert codes - set(ReasonCode) == set()
    # and the other way round: the enum lists nothing the code never gives
    detail = {"malware:", "content:"}  # families, made by malware_code / content_code
    assert set(ReasonCode) - codes - detail == {"cancelled", "decided_elsewhere"} - codes


def test_every_reason_code_is_documented():
    """docs/validation.md and docs/providers.md say what each code means."""
    docs = "".join(
        (PACKAGE.parent / "docs" / name).read_text(encoding="utf-8")
        for name in ("validation.md", "providers.md")
    )
    missing = [c for c in ReasonCode if f"`{c}`" not in docs]
    assert missing == []


def test_detail_codes():
    assert records.malware_code("Eicar-Signature") == "malware:Eicar-Signature"
    assert records.content_code("FACE_FEMALE") == "content:FACE_FEMALE"


def _full_result() -> JobResult:
    return JobResult(
        "/photos/a.jpg",
        "done",
        job_id=7,
        reason="trailing_data: 12 bytes after the image end were dropped",
        url="https://cdn/a.webp",
        thumbnail_url="https://cdn/a-thumb.webp",
        key="p/ab/ab.webp",
        thumbnail_key="p/ab/ab-thumb256.webp",
        sha256="ab" * 32,
        bytes=1234,
        width=900,
        height=600,
        had_gps=True,
        variants=[{"key": "p/ab/ab-w480.webp", "url": "https://cdn/w480", "width": 480}],
        lqip="data:image/webp;base64,AAAA",
        stable_url="https://cdn/holiday.webp",
        scanned=True,
        findings=[{"label": "FACE_FEMALE", "score": 0.9}],
    )


def test_row_round_trip_keeps_every_journaled_field():
    r = _full_result()
    row = r.to_row()
    # as SQLite holds them: JSON text and 0/1, plain strings
    assert row["variants"] == json.dumps(r.variants) and row["scanned"] == 1
    assert type(row["status"]) is str and row["had_gps"] == 1
    assert JobResult.from_row(row | {"id": 7}) == r
    # a failure knows nothing of GPS: the value validation recorded is not overwritten
    failed = JobResult("/x.jpg", "failed", code=ReasonCode.UNREACHABLE, reason="offline")
    assert "had_gps" not in failed.to_row() and failed.to_row()["code"] == "unreachable"
    assert JobResult.from_row(failed.to_row()) == failed
    # what ``process --out`` wrote is not journaled
    assert "output" not in JobResult("/x", "done", output="/out/x.webp").to_row()


def test_round_trip_through_the_journal(tmp_path):
    from desktop_uploader.journal import Journal

    journal = Journal(tmp_path / "journal.db")
    try:
        job_id = journal.add_job("/photos/a.jpg", "a.jpg", "local", "default", "fp")
        journal.update_job(job_id, had_gps=1)  # as validation records it
        r = _full_result().with_(job_id=job_id, had_gps=None)
        journal.record_result(job_id, r)
        back = journal.result(job_id)
        assert back == r.with_(had_gps=True)
        [row] = journal.history()
        assert row["finished_at"] and JobResult.from_row(row) == back
        journal.record_result(job_id, r, JobStatus.EXPORTED)
        assert journal.job(job_id)["status"] == "exported" and journal.history() == []
    finally:
        journal.close()


def test_json_line_has_the_promised_fields_in_order():
    line = _full_result().to_json()
    # README: these first, then code, job_id, width, height and the extras
    assert list(line)[:13] == [
        "source", "status", "reason", "url", "thumbnail_url", "key", "sha256", "bytes",
        "code", "job_id", "width", "height", "thumbnail_key",
    ]  # fmt: skip
    assert set(line) == {f for f in JobResult.__dataclass_fields__}
    assert json.loads(json.dumps(line)) == line and line["status"] == "done"
    assert line["variants"] is not _full_result().variants  # a copy, not the record's list


def test_result_is_frozen_and_keeps_its_own_lists():
    variants = [{"key": "k", "url": "u"}]
    r = JobResult("/x", "done", variants=variants)
    variants[0]["url"] = "changed"
    assert r.variants == [{"key": "k", "url": "u"}]
    with pytest.raises(AttributeError):
        r.url = "https://elsewhere"  # type: ignore[misc]
    assert r.with_(url="https://cdn/x").url == "https://cdn/x" and r.url is None
    assert r.status is JobStatus.DONE and ReasonCode("not_an_image") == "not_an_image"


def test_history_json_line():
    row = _full_result().to_row() | {
        "id": 7, "display_name": "a.jpg", "profile": "local", "preset": "default",
        "created_at": 1.0, "finished_at": 2.0, "source_sha256": "ff", "had_gps": None,
    }  # fmt: skip
    line = records.history_json(row)
    assert line["job_id"] == 7 and line["had_gps"] is False and line["scanned"] is True
    assert line["variants"] == _full_result().variants and line["findings"][0]["score"] == 0.9
    assert "source_sha256" not in line and "thumbnail_key" not in line
    assert list(line)[:4] == ["job_id", "source", "display_name", "status"]
