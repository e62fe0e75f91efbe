"""The decoder deadline counts CPU time: a starved (niced) worker is not killed for waiting."""

from __future__ import annotations

import pytest

from desktop_uploader.pipeline import decoder


class _Conn:
    def __init__(self, answer_after: int) -> None:
        self.polls: list[float] = []
        self.answer_after = answer_after

    def poll(self, t: float) -> bool:
        self.polls.append(t)
        return len(self.polls) > self.answer_after


class _Proc:
    pid = 12345


def worker(conn) -> decoder._Worker:
    w = decoder._Worker.__new__(decoder._Worker)
    w.conn, w.proc = conn, _Proc()
    return w


def test_a_starved_worker_gets_more_wall_time(monkeypatch):
    cpu = iter([0.0, 0.5, 1.0, 1.5])  # 0.5 s of CPU per 10 s deadline slice: it is waiting
    monkeypatch.setattr(decoder, "cpu_seconds", lambda pid: next(cpu))
    conn = _Conn(answer_after=3)
    worker(conn)._wait(10.0)  # answered on the 4th poll: no timeout
    assert conn.polls[0] == 10.0 and len(conn.polls) == 4


def test_a_busy_worker_is_stopped_at_the_deadline(monkeypatch):
    cpu = iter([0.0, 9.5])  # burned the deadline's CPU time
    monkeypatch.setattr(decoder, "cpu_seconds", lambda pid: next(cpu))
    conn = _Conn(answer_after=99)
    with pytest.raises(decoder._WorkerTimeout):
        worker(conn)._wait(10.0)
    assert len(conn.polls) == 1


def test_wall_time_is_capped_even_when_starved(monkeypatch):
    monkeypatch.setattr(decoder, "cpu_seconds", lambda pid: 0.0)  # never gets a CPU at all
    conn = _Conn(answer_after=10**6)
    with pytest.raises(decoder._WorkerTimeout):
        worker(conn)._wait(10.0)
    assert sum(conn.polls) == pytest.approx(10.0 * decoder._Worker.WALL_FACTOR)
