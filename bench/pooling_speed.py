"""Benchmark: pooling speed (DL, REML, PM with HKSJ) at 10 to 10,000 studies, and forest-plot time.

Run: ``python bench/pooling_speed.py``. Prints, per number of studies k, the milliseconds of one
:func:`review.pooling.rma` fit (median of repeated fits), meta-regression and leave-one-out at
k = 40, the seconds to draw a 40-study forest plot (PNG + SVG), and the peak resident memory.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from review.plots import forest_plot
from review.pooling import leave_one_out, meta_regression, rma


def _ms(fn: object, repeat: float = 0.5) -> float:
    times = []
    end = time.perf_counter() + repeat
    while time.perf_counter() < end or len(times) < 3:
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(2026)
    print(f"{'k':>6}  {'DL ms':>8}  {'REML ms':>8}  {'PM ms':>8}")
    for k in (10, 40, 100, 1000, 10000):
        y = rng.normal(-0.5, 0.6, k)
        v = rng.uniform(0.01, 0.3, k)
        row = [_ms(lambda m=m, y=y, v=v: rma(y, v, m, hksj=True)) for m in ("DL", "REML", "PM")]  # type: ignore[misc]
        print(f"{k:>6}  {row[0]:>8.2f}  {row[1]:>8.2f}  {row[2]:>8.2f}")
    y = rng.normal(-0.5, 0.6, 40)
    v = rng.uniform(0.01, 0.3, 40)
    x = rng.uniform(1, 120, 40)
    print(f"meta-regression (REML, k = 40): {_ms(lambda: meta_regression(y, v, x, 'REML')):.2f} ms")
    print(f"leave-one-out (REML, k = 40): {_ms(lambda: leave_one_out(y, v, 'REML')):.1f} ms")
    res = rma(y, v, "REML", hksj=True)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        forest_plot(
            [f"Study {i + 1} {2000 + i % 25}" for i in range(40)],
            y,
            v,
            res,
            Path(tmp) / "forest",
            measure="MD",
        )
        print(f"forest plot, 40 studies, PNG + SVG: {time.perf_counter() - t:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
