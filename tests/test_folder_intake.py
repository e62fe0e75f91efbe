"""Folders are forgiving, named files strict; the image libraries' messages go to the log file,
not the user's terminal (unless --verbose)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import support
from formatgen import corpus, tiff_with_oversized_tag, webp_tiff
from imagegen import jpeg_bytes, scene
from support import run_cli

from desktop_uploader.pipeline.intake import collect

# what the libraries print while reading the two TIFFs below (libtiff, then Pillow)
LIBRARY_SAYS = ("WEBP compression support is not configured", "Tag data larger than file")


@pytest.fixture
def cloud_home(tmp_path, local_store, monkeypatch):
    """A home whose default destination is the test store (checks off: fast)."""
    settings = 'malware_scan = "off"\ncontent_check = "off"\n'
    return support.cloud_home(tmp_path, local_store, monkeypatch, settings)[0]


@pytest.fixture
def holiday(tmp_path) -> Path:
    """Three photos and a README, as people keep them."""
    folder = tmp_path / "holiday"
    (folder / "day two").mkdir(parents=True)
    for i, name in enumerate(("beach.jpg", "hill.jpg", "day two/boat.jpg")):
        (folder / name).write_bytes(jpeg_bytes(scene(200, 150, seed=70 + i)))
    (folder / "README.md").write_text("# Holiday\n\nThe best ones are marked with a star.\n")
    return folder


def test_intake_tells_named_from_found():
    here = Path(__file__).parent
    found = collect([here / "imagegen.py", here / "signatures"])
    assert not found[0].in_folder and found[0].path.name == "imagegen.py"
    assert found[1:] and all(f.in_folder for f in found[1:])


def test_a_file_both_named_and_in_a_named_folder_is_judged_as_named(tmp_path):
    """Once, in its first place, strict; a link named by the user is followed even though, met
    in the folder, it would be refused as leading out of it."""
    folder, outside = tmp_path / "folder", tmp_path / "elsewhere.jpg"
    folder.mkdir()
    outside.write_bytes(b"x")
    (folder / "notes.txt").write_text("notes")
    (folder / "link.jpg").symlink_to(outside)
    walked = {e.path.name: e for e in collect([folder])}
    assert walked["link.jpg"].refusal.code == "symlink_outside_folder"
    both = collect([folder, folder / "notes.txt", folder / "link.jpg"])
    assert [e.path.name for e in both] == ["link.jpg", "notes.txt"]
    assert not any(e.in_folder for e in both)
    assert both[0].refusal is None  # named: the file the user chose


def test_a_folder_with_a_readme_exits_0_with_three_done_and_one_skipped(cloud_home, holiday):
    res = run_cli("upload", "--json", str(holiday), env_home=cloud_home)
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    statuses = sorted(ln["status"] for ln in lines)
    assert statuses == ["done", "done", "done", "skipped"], lines
    [skipped] = [ln for ln in lines if ln["status"] == "skipped"]
    assert skipped["code"] == "not_an_image" and skipped["source"].endswith("README.md")
    assert skipped["url"] is None

    text = run_cli("upload", str(holiday), env_home=cloud_home)
    assert text.returncode == 0, text.stderr
    assert text.stderr.strip().splitlines()[-1] == (
        "3 of 3 uploaded; skipped 1 file that is not an image (README.md)"
    )
    assert "rejected" not in text.stderr and "README" not in text.stdout


def test_a_named_file_is_still_strict(cloud_home, holiday):
    res = run_cli("upload", "--json", str(holiday / "README.md"), env_home=cloud_home)
    assert res.returncode == 1
    line = json.loads(res.stdout)
    assert line["status"] == "rejected" and line["code"] == "not_an_image"


def test_in_a_folder_a_refused_format_is_still_rejected(cloud_home, holiday):
    # skipping is for bytes that are no image at all; an image we refuse is still said
    (holiday / "layers.psd").write_bytes(b"8BPS\x00\x01" + b"\x00" * 40)
    res = run_cli("upload", "--json", str(holiday), env_home=cloud_home)
    assert res.returncode == 1
    by_name = {Path(x["source"]).name: x for x in map(json.loads, res.stdout.splitlines())}
    assert by_name["layers.psd"]["code"] == "format_not_allowed"
    assert by_name["README.md"]["status"] == "skipped"


def test_library_messages_go_to_the_log_not_the_terminal(cloud_home, holiday):
    (holiday / "scan.tif").write_bytes(webp_tiff())  # libtiff prints to stderr
    (holiday / "odd.tif").write_bytes(tiff_with_oversized_tag())  # Pillow warns
    quiet = run_cli("upload", str(holiday), env_home=cloud_home)
    assert quiet.returncode == 0, quiet.stderr
    assert "5 of 5 uploaded" in quiet.stderr
    for says in LIBRARY_SAYS:
        assert says not in quiet.stderr
    assert all(
        line.startswith(("5 of 5 uploaded", "note:")) for line in quiet.stderr.splitlines()
    ), quiet.stderr
    log = (cloud_home / "data" / "logs" / "desktop-uploader.log").read_text()
    for says in LIBRARY_SAYS:
        assert says in log, says

    (holiday / "odd2.tif").write_bytes(tiff_with_oversized_tag() + b"\x00")  # a new file
    (holiday / "scan2.tif").write_bytes(webp_tiff() + b"\x00")
    loud = run_cli("upload", "--verbose", str(holiday), env_home=cloud_home)
    assert loud.returncode == 0, loud.stderr
    for says in LIBRARY_SAYS:
        assert says in loud.stderr, says


def test_in_a_folder_a_cut_picture_is_rejected_not_skipped(cloud_home, holiday):
    # "not an image" (skipped in a folder) only for bytes no decoder recognises
    whole = {s.name: s.data for s in corpus()}
    (holiday / "app.icns").write_bytes(whole["app.icns"][: len(whole["app.icns"]) // 2])
    (holiday / "texture.dds").write_bytes(whole["texture.dds"][:40])
    (holiday / "paint.pcx").write_bytes(whole["paintbrush.pcx"][:128])  # the header only
    res = run_cli("upload", "--json", str(holiday), env_home=cloud_home)
    assert res.returncode == 1, res.stderr
    by_name = {Path(x["source"]).name: x for x in map(json.loads, res.stdout.splitlines())}
    for name in ("app.icns", "texture.dds", "paint.pcx"):
        assert by_name[name]["status"] == "rejected", by_name[name]
        assert by_name[name]["code"] in ("truncated", "corrupt"), by_name[name]
    assert by_name["README.md"]["status"] == "skipped"
    assert sorted(x["status"] for x in by_name.values()).count("done") == 3


def test_paths_come_out_absolute_links_as_named(tmp_path, monkeypatch):
    """A relative path is joined to the working directory (a held job is approved from
    anywhere); a link the user named stays the link, not where it leads."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "photo.jpg").write_bytes(b"x")
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "link.jpg").symlink_to(tmp_path / "real" / "photo.jpg")
    monkeypatch.chdir(tmp_path)
    [named, walked] = collect(["pics/link.jpg", "real"])
    assert named.path == tmp_path / "pics" / "link.jpg" and not named.in_folder
    assert walked.path == tmp_path / "real" / "photo.jpg" and walked.in_folder
