"""Benchmark: how long `review demo` takes to build the whole offline review, stage by stage.

Run: ``python bench/demo_build.py [--repeat N]``. Builds the demo N times (default 3) in
temporary folders through :func:`review.project.demo.build_demo` (what the command calls) and
prints the wall time of each build, the median, and the peak resident memory of this process.
The issue asks for under a minute.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from review.project.demo import build_demo

    times = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            report = build_demo(Path(tmp) / "demo-review")
            times.append(time.perf_counter() - start)
        steps = sum(1 for line in report.splitlines() if line[:3].strip().rstrip(".").isdigit())
        print(f"build {i + 1}: {times[-1]:.1f} s ({steps} steps)", flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if sys.platform == "darwin":
        peak_mb /= 1024
    print(
        f"review demo: median {statistics.median(times):.1f} s over {len(times)} builds, peak memory {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
