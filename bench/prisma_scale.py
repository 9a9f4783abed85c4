"""Benchmark: PRISMA 2020 counts from a store of 10k and 100k records, and the diagram's drawing time.

Run: ``python bench/prisma_scale.py [N ...]`` (default 10000 100000). For each size it builds a
project in a temporary folder through the store (two PubMed search runs, one Embase import,
a dedup run removing 15 %, two screeners' title/abstract and full-text decisions as imported
workbooks would store them), then prints the seconds and records/s of
:func:`review.project.prisma.collect_counts` (reading the store and counting), the seconds of
:func:`review.project.prisma.write_prisma` (CSV, JSON, SVG, 300-dpi PNG) and the peak
resident memory of the process. Each size runs in a fresh process.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"


def _build(root: Path, n: int) -> object:
    from review.project import init_project
    from review.records import Record
    from review.store._base import now

    project = init_project(root / "p", PROTOCOL)
    store = project.store
    n_pub = int(n * 0.6)
    pub = [Record(source="pubmed", source_id=str(i), pmid=str(i), title=f"t{i}") for i in range(1, n_pub + 1)]
    for label, part in (
        ("crps-ketamine", pub[: n_pub // 2 + n_pub // 10]),
        ("crps-other-treatments", pub[n_pub // 2 :]),
    ):
        sid = store.start_search(database="pubmed", label=label, query=label, eutils_url=None, params={})
        store.store_search_batch(sid, part)
        store.finish_search(sid)
    emb = [Record(source="embase", source_id=f"E{i}", title=f"e{i}") for i in range(n - n_pub)]
    run, _ = store.add_import(
        source="embase",
        file_name="embase.ris",
        file_path=None,
        file_hash="h",
        fmt="ris",
        encoding="utf-8",
        entries=len(emb),
        records=emb,
        positions=list(range(len(emb))),
        issues=[],
    )
    eids = store.import_record_ids(run.id)
    removed = eids[: int(n * 0.15)]
    store.save_dedup_run(
        started_at=now(),
        software_version="bench",
        params={},
        groups=[(rid, i, False) for i, rid in enumerate(removed)],
        pairs=[],
    )
    gone = set(removed)
    unique = [rid for rid in store.prisma_record_ids() if rid not in gone]
    ta = {rid: ("include" if rid % 20 == 0 else "exclude") for rid in unique}
    ft = {
        rid: ("include", None) if rid % 60 == 0 else ("exclude", "wrong outcome")
        for rid, d in ta.items()
        if d == "include"
    }
    for stage, decisions in (("title-abstract", {r: (d, None) for r, d in ta.items()}), ("full-text", ft)):
        for reviewer in ("a", "b"):
            store.add_screening_batch(
                stage=stage,
                reviewer=reviewer,
                role="screener",
                file_name=f"{stage}-{reviewer}.xlsx",
                workbook_hash=f"{stage}-{reviewer}",
                export_token=None,
                n_rows=len(decisions),
                decisions=[(r, d, why, None, None) for r, (d, why) in decisions.items()],
            )
    return project


def one(n: int) -> None:
    """Build, count and write at one size; print the figures."""
    from review.project.prisma import _optional, collect_counts, write_prisma

    t0 = time.perf_counter()
    for module, name in (
        ("screen", "screening_outcomes"),
        ("extract", "effect_table"),
        ("pool", "pooled_studies"),
    ):
        _optional(module, name)  # import the other stages once, outside the timings
    imports = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        project = _build(Path(tmp), n)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        counts = collect_counts(project)
        count_s = time.perf_counter() - t0
        assert not counts.errors, counts.errors
        t0 = time.perf_counter()
        write_prisma(project, Path(tmp) / "out")
        write_s = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{n:>7} records: counts {count_s:6.2f} s ({n / count_s:,.0f} records/s), write_prisma {write_s:5.2f} s, "
            f"peak RSS {peak:,.0f} MB (imports {imports:.1f} s, store built in {build:.1f} s; screened {counts.records_screened}, "
            f"included {counts.new_reports})"
        )


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [10_000, 100_000]
    if len(sizes) == 1:
        one(sizes[0])
        return
    for n in sizes:
        subprocess.run([sys.executable, __file__, str(n)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
