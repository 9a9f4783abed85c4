"""Benchmark: extraction workbooks at the size of a large review, and the conversions calculator.

Run: ``python bench/extraction_scale.py [N_STUDIES]`` (default 100 and 400). For N included
studies (2 arms each, pain at 3 time points and adverse events at one: 8 outcome rows per study)
it prints seconds and peak Python memory (tracemalloc, measured in a separate run so it
does not slow the timing) to export a reviewer's workbook, fill it (as
openpyxl, not timed), import it (validation of every cell + one transaction), re-import it (a
no-op), and build the tidy effect table, plus conversions per second.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from review.conversions import convert_summary
from review.project import init_project
from review.project.extract import effect_table, export_extraction, import_extraction
from review.records import Record

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"


def _measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Result, seconds, and the step's peak Python allocation in MB (tracemalloc, timed apart)."""
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    return result, seconds, 0.0


def _peak(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return peak


def _fill(path: Path, n: int) -> int:
    wb = load_workbook(path)
    studies = wb["Studies"]
    cols = {c.value: c.column for c in studies[1]}
    labels = []
    for r in range(2, n + 2):
        labels.append(studies.cell(r, cols["study"]).value)
        for k, v in {"n_randomised": 60, "crps_criteria": "Budapest", "illustrative": "yes"}.items():
            studies.cell(r, cols[k]).value = v
    arms = wb["Arms"]
    acols = {c.value: c.column for c in arms[1]}
    outcomes = wb["Outcomes"]
    ocols = {c.value: c.column for c in outcomes[1]}
    ar = orow = 2
    for i, label in enumerate(labels):
        for arm, cls in (("ketamine", "iv_ketamine"), ("placebo", "placebo")):
            for k, v in {"study": label, "arm": arm, "intervention_class": cls, "n_randomised": 30}.items():
                arms.cell(ar, acols[k]).value = v
            ar += 1
            for day, mean in ((7, 4.0), (42, 4.5), (120, 5.0)):
                row = {
                    "study": label,
                    "arm": arm,
                    "domain": "pain",
                    "instrument": "NRS 0-10",
                    "timepoint_days": day,
                }
                row |= {
                    "stat_type": "mean/SE",
                    "n": 30,
                    "mean": mean + (i % 7) / 10 + (arm == "placebo"),
                    "se": 0.4,
                }
                for k, v in row.items():
                    outcomes.cell(orow, ocols[k]).value = v
                orow += 1
            ae = {"study": label, "arm": arm, "domain": "adverse_events", "instrument": "Any adverse event"}
            ae |= {
                "timepoint_days": 14,
                "stat_type": "events/N",
                "n": 30,
                "events": 3 + (arm == "ketamine") * (i % 5),
            }
            for k, v in ae.items():
                outcomes.cell(orow, ocols[k]).value = v
            orow += 1
    wb.save(path)
    return orow - 2


def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = init_project(Path(tmp) / "p", PROTOCOL)
        recs = [
            Record(
                source="bench",
                source_id=str(i),
                title=f"Trial {i}",
                authors=(f"Author{i} A",),
                year=2000 + i % 25,
            )
            for i in range(n)
        ]
        ids = [rid for rid, _ in project.store.add_records(recs)]
        out = Path(tmp) / "alice.xlsx"
        _, t_export, _ = _measure(
            lambda: export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
        )
        rows = _fill(out, n)
        size_kb = out.stat().st_size / 1e3
        _msg, t_import, _ = _measure(lambda: import_extraction(project, out))
        again, t_again, _ = _measure(lambda: import_extraction(project, out))
        table, t_table, _ = _measure(lambda: effect_table(project))
        m_export = _peak(
            lambda: export_extraction(
                project, form="crps", reviewer="bob", out=Path(tmp) / "b.xlsx", record_ids=ids
            )
        )
        m_table = _peak(lambda: effect_table(project))
        project.close()
        fresh = init_project(Path(tmp) / "q", PROTOCOL)
        ids = [rid for rid, _ in fresh.store.add_records(recs)]
        out2 = Path(tmp) / "alice2.xlsx"
        export_extraction(fresh, form="crps", reviewer="alice", out=out2, record_ids=ids)
        _fill(out2, n)
        m_import = _peak(lambda: import_extraction(fresh, out2))
        fresh.close()
    print(f"{n} studies, {rows} outcome rows ({size_kb:.0f} kB workbook)")
    print(f"  export        {t_export:7.2f} s   peak {m_export:7.1f} MB")
    print(
        f"  import        {t_import:7.2f} s   peak {m_import:7.1f} MB   ({rows / t_import:,.0f} outcome rows/s)"
    )
    print(f"  re-import     {t_again:7.2f} s   ({again})")
    print(f"  effect table  {t_table:7.2f} s   peak {m_table:7.1f} MB   ({len(table)} rows)")


def conversions_per_second(k: int = 20000) -> None:
    t0 = time.perf_counter()
    for i in range(k):
        convert_summary("median-iqr-range", 10 + i % 300, median=5, q1=3, q3=7, minimum=0, maximum=12)
    dt = time.perf_counter() - t0
    print(f"conversions: {k / dt:,.0f} median/IQR/range conversions per second")


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [100, 400]
    for size in sizes:
        run(size)
    conversions_per_second()
