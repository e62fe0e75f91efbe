"""Review across processes: a one-shot `upload` holds a flagged file in the journal, and a later
`desktop-uploader review --approve/--reject` finishes it against the same store.

The real models run: the destination counts NudeNet's FACE_FEMALE (a non-explicit stand-in, on
scikit-image's astronaut), so no explicit picture is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from support import cloud_home, run_cli, store_target_for

from desktop_uploader.pipeline.upload import make_client


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory) -> Path:
    skdata = pytest.importorskip("skimage.data", reason="scikit-image is in the dev extra")
    p = tmp_path_factory.mktemp("review") / "astronaut.jpg"
    Image.fromarray(skdata.astronaut()).save(p, "JPEG", quality=92)
    return p


@pytest.fixture
def review_home(tmp_path, local_store, monkeypatch):
    """A home whose default destination is the test store, reviewing FACE_FEMALE (its
    content_check is left at the default: review); and a lister of its objects."""
    settings = 'malware_scan = "off"\ncontent_labels = ["FACE_FEMALE"]\ncontent_threshold = 0.5\n'
    home, prefix = cloud_home(tmp_path, local_store, monkeypatch, settings)
    client = make_client(store_target_for((local_store.status(), local_store.keys())))
    bucket = local_store.status().bucket

    def objects() -> list[str]:
        listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
        return sorted(o["Key"] for o in listing.get("Contents", []))

    return home, objects


def held_upload(home: Path, picture: Path) -> dict:
    res = run_cli("upload", "--json", str(picture), env_home=home)
    assert res.returncode == 3, res.stderr  # held for review
    line = json.loads(res.stdout)
    assert line["status"] == "held" and line["code"] == "content:FACE_FEMALE", line
    assert line["url"] is None and line["job_id"]
    assert line["scanned"] is False  # malware_scan = "off" here: said as for any upload
    return line


def test_held_then_approved_is_uploaded(review_home, astronaut):
    home, objects = review_home
    line = held_upload(home, astronaut)
    assert objects() == []
    listing = run_cli("review", "--json", env_home=home)
    assert listing.returncode == 0, listing.stderr
    [held] = [json.loads(x) for x in listing.stdout.splitlines()]
    assert held["job_id"] == line["job_id"] and held["source"] == str(astronaut)
    assert held["findings"][0]["label"] == "FACE_FEMALE" and held["findings"][0]["score"] >= 0.5
    text = run_cli("review", env_home=home).stdout
    assert "a woman's face (FACE_FEMALE, score" in text and str(line["job_id"]) in text

    approved = run_cli("review", "--json", "--approve", str(line["job_id"]), env_home=home)
    assert approved.returncode == 0, approved.stderr
    result = json.loads(approved.stdout)
    assert result["status"] == "done" and result["url"], result
    assert result["reason"].startswith("Approved on review: the content check found a woman")
    assert len(objects()) == 2  # the image and its thumbnail
    assert run_cli("review", "--json", env_home=home).stdout == ""  # nothing waits any more
    again = run_cli("review", "--approve", str(line["job_id"]), env_home=home)
    assert again.returncode == 1 and "not waiting for review" in again.stderr
    history = run_cli("history", "--json", env_home=home).stdout.splitlines()
    entry = json.loads(history[0])
    assert entry["status"] == "done" and entry["findings"][0]["label"] == "FACE_FEMALE"
    assert entry["scanned"] is False  # as the run that held it recorded (not lost on approval)


def test_held_then_rejected_uploads_nothing(review_home, astronaut, tmp_path):
    home, objects = review_home
    line = held_upload(home, astronaut)
    [held] = [json.loads(x) for x in run_cli("review", "--json", env_home=home).stdout.split("\n")
              if x]  # fmt: skip
    spooled = list((home / "cache").rglob("*.webp"))
    assert spooled, "the held outputs wait on disk"
    rejected = run_cli("review", "--reject", str(held["job_id"]), env_home=home)
    assert rejected.returncode == 0, rejected.stderr
    assert "Rejected on review" in rejected.stdout
    assert objects() == []
    assert not any(p.exists() for p in spooled)  # its outputs are gone
    assert astronaut.exists()  # the source is never touched
    history = json.loads(run_cli("history", "--json", env_home=home).stdout.splitlines()[0])
    assert history["job_id"] == line["job_id"] and history["status"] == "rejected"
    assert history["code"] == "content:FACE_FEMALE" and "score" in history["reason"]


def test_approval_after_the_outputs_are_gone_processes_the_same_source_again(
    review_home, astronaut, tmp_path
):
    home, objects = review_home
    picture = tmp_path / "copy.jpg"
    picture.write_bytes(astronaut.read_bytes())
    line = held_upload(home, picture)
    for p in (home / "cache").rglob("*.webp"):
        p.unlink()
    approved = run_cli("review", "--json", "--approve", str(line["job_id"]), env_home=home)
    result = json.loads(approved.stdout)
    assert approved.returncode == 0 and result["status"] == "done", approved.stderr
    assert len(objects()) == 2


def test_a_file_named_relative_is_approved_from_another_working_directory(
    review_home, astronaut, tmp_path
):
    """The held job keeps where its source really is: approving it from elsewhere, with its
    outputs gone, processes the same file again."""
    home, objects = review_home
    (tmp_path / "rv").mkdir()
    (tmp_path / "rv" / "x.jpg").write_bytes(astronaut.read_bytes())
    res = run_cli("upload", "--json", "rv/x.jpg", env_home=home, cwd=tmp_path)
    assert res.returncode == 3, res.stderr
    line = json.loads(res.stdout)
    assert line["status"] == "held" and line["source"] == str(tmp_path / "rv" / "x.jpg")
    for p in (home / "cache").rglob("*.webp"):
        p.unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    job = str(line["job_id"])
    approved = run_cli("review", "--json", "--approve", job, env_home=home, cwd=elsewhere)
    result = json.loads(approved.stdout)
    assert approved.returncode == 0 and result["status"] == "done", approved.stdout
    assert len(objects()) == 2


def test_approval_does_not_carry_over_to_changed_bytes(review_home, astronaut, tmp_path):
    home, objects = review_home
    picture = tmp_path / "changing.jpg"
    picture.write_bytes(astronaut.read_bytes())
    line = held_upload(home, picture)
    for p in (home / "cache").rglob("*.webp"):
        p.unlink()
    with Image.open(astronaut) as im:  # the file is replaced by another version meanwhile
        im.crop((10, 10, 500, 500)).save(picture, "JPEG", quality=90)
    approved = run_cli("review", "--json", "--approve", str(line["job_id"]), env_home=home)
    result = json.loads(approved.stdout)
    assert result["status"] == "held", result  # checked again, held again
    assert approved.returncode == 3
    assert objects() == []


def test_unknown_id_is_an_error(review_home):
    home, _ = review_home
    res = run_cli("review", "--reject", "999999", env_home=home)
    assert res.returncode == 1 and "job 999999 is not waiting for review" in res.stderr
    assert run_cli("review", env_home=home).stdout.startswith("No files are waiting")
