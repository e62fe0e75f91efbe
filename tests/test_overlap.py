"""One image on both cores (issue 19): the content check runs beside the encoders, yet nothing
leaves before it has ended, and a rejection keeps nothing encoded."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from imagegen import jpeg_bytes, scene
from test_content import astronaut_jpeg, face_app, objects_under  # noqa: F401 - fixtures

from desktop_uploader.config import Limits, Preset
from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline.decoder import DecodePool
from desktop_uploader.pipeline.overlap import Stopwatch
from desktop_uploader.pipeline.process import process_image
from desktop_uploader.pipeline.validate import probe


@pytest.fixture
def photo(tmp_path):
    p = tmp_path / "photo.jpg"
    p.write_bytes(jpeg_bytes(scene(2400, 1800, seed=5), gps=False))
    return p


def spooled(spool) -> list[str]:
    return sorted(p.name for p in spool.iterdir()) if spool.exists() else []


@pytest.mark.parametrize("threads", [1, 2])
def test_steps_overlap_only_with_a_core_to_spare(photo, tmp_path, threads):
    spool = tmp_path / "spool"
    seen = []

    def inspect(rgb) -> None:
        time.sleep(0.4)  # a slow content check
        seen.append(rgb.size)

    watch = Stopwatch()
    info = probe(photo, Limits())
    out = process_image(photo, info, Preset("default"), spool, inspect, threads, watch)
    assert seen == [(2048, 1536)]  # the check saw the reduced image
    assert out.main.path.exists() and out.thumbnail.path.exists()
    spans = watch.spans
    assert set(spans) == {"decode", "content", "encode_main", "thumbnail"}
    check_end = spans["content"][1]
    if threads == 1:  # the check first: a blocked image costs no encode
        assert spans["encode_main"][0] >= check_end
    else:  # the encoders started while the check was still running
        assert spans["encode_main"][0] < check_end and spans["thumbnail"][0] < check_end


def test_a_rejection_beside_the_encoders_keeps_nothing(photo, tmp_path):
    spool = tmp_path / "spool"
    started = threading.Event()

    def inspect(rgb) -> None:
        started.set()
        time.sleep(0.2)
        raise Rejected("blocked for the test", code="content:TEST")

    watch = Stopwatch()
    with pytest.raises(Rejected) as e:
        process_image(photo, probe(photo, Limits()), Preset("default"), spool, inspect, 2, watch)
    assert e.value.code == "content:TEST"
    assert started.is_set()
    assert "encode_main" in watch.spans and "thumbnail" in watch.spans  # they did run ...
    assert spooled(spool) == []  # ... and what they wrote is gone


def test_blocked_single_image_uploads_nothing_and_logs_its_steps(
    face_app,  # noqa: F811 - the fixture imported above
    astronaut_jpeg,  # noqa: F811
    caplog,
):
    """A single dropped image takes the overlapped path (no other call in the pool); under
    ``block`` it is rejected with nothing uploaded and nothing left in the spool; the debug
    log has each step's time."""
    face_app.settings.destinations["test"].content_check = "block"
    caplog.set_level(logging.DEBUG, logger="desktop_uploader.pipeline.decoder")
    [bad] = face_app.engine.run([astronaut_jpeg], "test", face_app.settings.preset(None))
    assert bad.status == "rejected" and bad.code == "content:FACE_FEMALE", bad.reason
    assert objects_under(face_app) == []
    assert [p for p in face_app.engine.spool_dir.iterdir() if p.is_file()] == []
    [line] = [m for m in caplog.messages if m.startswith("processing ")]
    assert f"on {face_app.engine.checks.decoder.size} thread(s)" in line  # overlapped


def test_single_image_logs_each_step(app, photo, caplog):
    caplog.set_level(logging.DEBUG, logger="desktop_uploader.pipeline.decoder")
    [r] = app.engine.run([photo], "test", app.settings.preset(None))
    assert r.status == "done", r.reason
    [start] = [m for m in caplog.messages if m.startswith("processing ")]
    assert f"on {app.engine.checks.decoder.size} thread(s)" in start  # nothing else in hand
    [line] = [m for m in caplog.messages if m.startswith("processed ")]
    for step in ("decode", "encode_main", "thumbnail"):
        assert f"{step} " in line and " ms" in line


def test_content_check_off_for_the_run_loads_no_model(app):
    """``--content-check off`` on a destination that checks: the workers load no model (it
    costs seconds of the first file's start-up); without the override they do."""
    app.settings.destinations["test"].content_check = "block"
    app.policy_overrides["content_check"] = "off"
    assert app.checks.decoder.preload is False
    app.checks.close()
    del app.__dict__["checks"]
    app.policy_overrides.clear()
    assert app.checks.decoder.preload is True


def test_two_calls_that_start_together_do_not_both_take_every_core(photo, tmp_path):
    """Two images handed to an idle pool of two at once: one may use both cores, the other
    must not (a batch's first two files would otherwise run four threads on two cores). The
    first call is held in flight (inside the decoder's log line) until the second has decided."""
    pool = DecodePool(size=2, timeout=60)
    logger = logging.getLogger("desktop_uploader.pipeline.decoder")
    decided: list[int] = []
    second = threading.Event()
    lock = threading.Lock()

    def hold_the_first(record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("processing "):
            with lock:
                decided.append(record.args[1])
                first = len(decided) == 1
            if first:
                second.wait(30)
            else:
                second.set()
        return True

    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addFilter(hold_the_first)
    info = probe(photo, Limits())
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            pool.process(photo, info, Preset("default"), tmp_path / f"spool{i}")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        logger.removeFilter(hold_the_first)
        logger.setLevel(level)
        second.set()
        pool.close()
    assert errors == []
    assert sorted(decided) == [1, 2]
