"""Small helpers the bench scripts share (importable because a script's folder is on sys.path)."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0..1) of ``values``: a value that was measured."""
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]
