"""Benchmark: export and import of a 20,000-record screening workbook (target < 10 s each).

Run: ``python bench/screening_workbooks.py [N]``. Prints seconds for the export (streaming
write), filling the decisions the way a screener's Excel would (not timed as part of the
tool), and the import (read, check every cell, store in one transaction), plus peak memory.
Records are synthetic with realistic lengths (title ~120, abstract ~1,500 characters).
"""

from __future__ import annotations

import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

from review.project import init_project
from review.project.screen import export_screening, import_screening, screening_status
from review.records import Record

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"
WORDS = [
    "ketamine",
    "complex",
    "regional",
    "pain",
    "syndrome",
    "randomised",
    "trial",
    "infusion",
    "placebo",
    "neuropathic",
    "allodynia",
    "sympathetic",
    "block",
    "bisphosphonate",
    "physiotherapy",
    "outcome",
    "follow-up",
    "patients",
]


def _text(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    while sum(len(w) + 1 for w in out) < chars:
        out.append(rng.choice(WORDS))
    return " ".join(out).capitalize() + "."


def _records(n: int) -> list[Record]:
    rng = random.Random(20)
    return [
        Record(
            source="bench",
            source_id=str(i),
            pmid=str(10_000_000 + i),
            doi=f"10.1000/bench.{i}",
            title=_text(rng, 120),
            authors=tuple(f"Author{j}, A" for j in range(rng.randint(1, 8))),
            year=1990 + i % 35,
            journal="Pain",
            abstract=_text(rng, 1500),
        )
        for i in range(n)
    ]


def main(n: int = 20_000) -> None:
    """Time export and import of an ``n``-record title/abstract workbook."""
    with tempfile.TemporaryDirectory() as tmp:
        project = init_project(Path(tmp) / "p", PROTOCOL)
        project.store.add_records(_records(n))
        out = Path(tmp) / "A.xlsx"

        t0, c0 = time.perf_counter(), time.process_time()
        export_screening(project, stage="title-abstract", reviewer="A", out=out)
        t_export, c_export = time.perf_counter() - t0, time.process_time() - c0
        size = out.stat().st_size / 1e6

        t0 = time.perf_counter()  # the fill stands in for Excel; openpyxl's normal mode is slow
        wb = openpyxl.load_workbook(out)
        ws = wb.worksheets[0]
        head = [c.value for c in ws[1]]
        dc = head.index("decision") + 1
        for i in range(2, ws.max_row + 1):
            ws.cell(row=i, column=dc).value = (" Include", "exclude ", "MAYBE")[i % 3]
        wb.save(out)
        t_fill = time.perf_counter() - t0

        t0, c0 = time.perf_counter(), time.process_time()
        import_screening(project, out)
        t_import, c_import = time.perf_counter() - t0, time.process_time() - c0
        status = screening_status(project)["title-abstract"]
        project.close()

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"screening workbook, {n:,} records ({size:.1f} MB .xlsx)")
    print(
        f"  export: {t_export:6.2f} s wall, {c_export:5.2f} s CPU  ({n / t_export:,.0f} records/s)  target < 10 s"
    )
    print(f"  fill (openpyxl, as a screener's edit; not the tool): {t_fill:6.2f} s")
    print(
        f"  import: {t_import:6.2f} s wall, {c_import:5.2f} s CPU  ({n / t_import:,.0f} records/s)  target < 10 s"
    )
    print(f"  decisions stored for A: {sum(status['reviewers']['A'].values()):,}")
    print(f"  peak memory (whole process): {peak:,.0f} MB")
    print(
        f"  machine load (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall time grows with load"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
