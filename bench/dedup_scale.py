"""Benchmark: dedup time and peak memory at 10k, 50k and 100k records (target 100k < 30 s, < 2 GB).

Run: ``python bench/dedup_scale.py [N ...]`` (default 10000 50000 100000). Prints, per size, the
seconds of :func:`review.dedup.find_duplicates`, the peak resident memory of the process that
ran it (each size runs in a fresh process), candidate pairs compared, and the duplicates it
found against the duplicates planted; then the seconds of all-pairs rapidfuzz title scoring
(``rapidfuzz.process.cdist``) at 10k, the cost blocking avoids.

Records are scaled from the real records of the six labelled libraries in
``../shared/benchmarks/dedup/`` (read by path). About 70 % of the records are distinct
publications made from a real record (its title with two words taken from another title, its
authors, journal, volume and pages); the other 30 % are duplicates of those with the
variations databases introduce: a typo in the title, no DOI, the journal abbreviated, authors
as initials, pages as '221-8' instead of '221-228', a trailing full stop or '[Review]'.
"""

from __future__ import annotations

import csv
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "benchmarks" / "dedup"
SETS = (
    "asysd_diabetes_1845",
    "rathbone_cytology_screening",
    "rathbone_haematology",
    "rathbone_respiratory",
    "rathbone_stroke",
    "colrev_digital_work",
)
FIELDS = ("title", "authors", "year", "journal", "volume", "issue", "pages", "doi")


def _base() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name in SETS:
        with open(SHARED / f"{name}.csv", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                if r.get("title") and len(r["title"]) > 20:
                    rows.append({k: r.get(k) or "" for k in FIELDS})
    return rows


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 10:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.choice(("drop", "swap", "double"))
    if op == "drop":
        return text[:i] + text[i + 1 :]
    if op == "swap":
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def _initials(authors: str) -> str:
    out = []
    for name in authors.split(";"):
        if "," in name:
            family, given = name.split(",", 1)
            inits = "".join(w[0] for w in given.split() if w)
            out.append(f"{family.strip()} {inits}")
        else:
            out.append(name.strip())
    return "; ".join(out)


def _abbrev(journal: str) -> str:
    return " ".join(
        w[:4] if len(w) > 5 else w for w in journal.split() if w.lower() not in ("of", "the", "and")
    )


def _short_pages(pages: str) -> str:
    parts = pages.replace("--", "-").split("-")
    if len(parts) == 2 and parts[0].strip().isdigit() and parts[1].strip().isdigit():
        a, b = parts[0].strip(), parts[1].strip()
        if len(a) == len(b):
            k = 0
            while k < len(a) - 1 and a[k] == b[k]:
                k += 1
            return f"{a}-{b[k:]}"
    return pages


def make_records(n: int, seed: int = 1) -> tuple[list[dict[str, Any]], int]:
    """n records: distinct publications scaled from the real ones plus ~30 % varied duplicates.

    Returns the records and the number of duplicates planted.
    """
    rng = random.Random(seed)
    base = _base()
    n_unique = int(n * 0.7)
    uniques: list[dict[str, Any]] = []
    for i in range(n_unique):
        r = dict(base[i % len(base)])
        if r:
            # a distinct publication: two words of another title, its own year, volume and pages
            words = r["title"].split()
            other = base[rng.randrange(len(base))]["title"].split()
            for _ in range(2):
                words.insert(rng.randrange(len(words) + 1), rng.choice(other))
            r["title"] = " ".join(words)
            r["year"] = str(rng.randint(1990, 2024))
            first = rng.randint(1, 3000)
            r["pages"] = f"{first}-{first + rng.randint(2, 15)}"
            r["volume"] = str(rng.randint(1, 200))
            r["doi"] = f"10.{rng.randint(1000, 9999)}/bench.{i}" if r["doi"] else ""
        r["id"] = f"u{i}"
        uniques.append(r)
    records = list(uniques)
    planted = 0
    while len(records) < n:
        src = uniques[rng.randrange(n_unique)]
        d = dict(src)
        d["id"] = f"d{len(records)}"
        if rng.random() < 0.3:
            d["title"] = _typo(rng, d["title"])
        if rng.random() < 0.3:
            d["title"] = d["title"].rstrip(".") + rng.choice([".", " [Review]", ""])
        if rng.random() < 0.5:
            d["doi"] = ""
        if rng.random() < 0.4:
            d["journal"] = _abbrev(d["journal"])
        if rng.random() < 0.4:
            d["authors"] = _initials(d["authors"])
        if rng.random() < 0.4:
            d["pages"] = _short_pages(d["pages"])
        records.append(d)
        planted += 1
    rng.shuffle(records)
    return records, planted


def run_one(n: int) -> None:
    """Time find_duplicates on n records and print one line (run in a fresh process)."""
    from review.dedup import find_duplicates

    records, planted = make_records(n)
    t0, c0 = time.perf_counter(), time.process_time()
    outcome = find_duplicates(records)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += kids.ru_utime + kids.ru_stime  # the normalising workers (one per core)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = kids.ru_maxrss / 1024
    found = n - outcome.n_groups
    print(
        f"{n:>7} records: {secs:6.1f} s wall ({cpu:5.1f} s CPU, all processes)  peak memory {peak_mb:5.0f} MB"
        f" (+ workers {worker_mb:4.0f} MB each)  {outcome.n_candidates:>9} candidate pairs  "
        f"duplicates found {found} / planted {planted}",
        flush=True,
    )


def all_pairs(n: int) -> None:
    """Seconds of all-pairs rapidfuzz title scoring (what blocking avoids)."""
    from rapidfuzz import fuzz
    from rapidfuzz.process import cdist

    from review.dedup import normal_title

    records, _ = make_records(n)
    titles = [normal_title(r["title"]) for r in records]
    t0, c0 = time.perf_counter(), time.process_time()
    cdist(titles, titles, scorer=fuzz.ratio, dtype="uint8", workers=-1)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"{n:>7} records: all-pairs rapidfuzz title ratio (cdist, {n * (n - 1) // 2:,} pairs, all cores): "
        f"{secs:6.1f} s wall ({cpu:5.1f} s CPU), titles only, before any other field is compared"
    )


def main(argv: list[str]) -> int:
    if not SHARED.is_dir():
        print(f"needs the labelled libraries in {SHARED}", file=sys.stderr)
        return 2
    if argv and argv[0] == "--one":
        run_one(int(argv[1]))
        return 0
    if argv and argv[0] == "--all-pairs":
        all_pairs(int(argv[1]))
        return 0
    sizes = [int(a) for a in argv] or [10_000, 50_000, 100_000]
    load = os.getloadavg()[0]
    print(
        f"review dedup scale benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"load average {load:.1f}); blocked fuzzy matching:"
    )
    for n in sizes:
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)
    print("for comparison:")
    subprocess.run([sys.executable, __file__, "--all-pairs", str(min(sizes[0], 10_000))], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
