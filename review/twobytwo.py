"""Per-study effects of 2x2 tables, the one copy of metafor ``escalc``'s binary formulas.

Used by :func:`review.effects.escalc` (RR, OR, RD) and by the Mantel-Haenszel and Peto
heterogeneity in :mod:`review.pooling`, which compares the pooled estimate with these
per-study effects as metafor does. numpy only (layer 1), so both layer-2 modules may use it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["add_half_to_zero_cells", "log_rr_or_rd"]

Floats = NDArray[np.float64]


def add_half_to_zero_cells(
    a: Floats, b: Floats, c: Floats, d: Floats
) -> tuple[Floats, Floats, Floats, Floats, NDArray[np.bool_]]:
    """Add 1/2 to all four cells of each table with a zero cell (metafor ``add=1/2``,
    ``to="only0"``; Cochrane Handbook 10.4.4.2); also returns which tables were corrected."""
    corrected = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    add = np.where(corrected, 0.5, 0.0)
    return a + add, b + add, c + add, d + add, corrected


def log_rr_or_rd(a: Floats, b: Floats, c: Floats, d: Floats, measure: str) -> tuple[Floats, Floats]:
    """yi and vi of ``RR`` (log risk ratio), ``OR`` (log odds ratio) or ``RD`` (risk difference)
    from (already corrected) cells a, b (arm 1 events, non-events) and c, d (arm 2).

    Notes
    -----
    Cochrane Handbook 6.4.1.2; metafor ``escalc``:
    log RR = log(p1/p2), v = 1/a - 1/n1 + 1/c - 1/n2;
    log OR = log(ad/bc), v = 1/a + 1/b + 1/c + 1/d;
    RD = p1 - p2, v = p1(1-p1)/n1 + p2(1-p2)/n2; with n1 = a + b, n2 = c + d, p1 = a/n1, p2 = c/n2.
    """
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    if measure == "RR":
        return np.log(p1) - np.log(p2), 1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2
    if measure == "OR":
        return np.log(a) + np.log(d) - np.log(b) - np.log(c), 1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d
    if measure == "RD":
        return p1 - p2, p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2
    raise ValueError(f"measure must be RR, OR or RD, got {measure!r}")
