"""Benchmark: dedup accuracy on the six labelled real libraries, beside the best published tools.

Run: ``python bench/dedup_accuracy.py``. For each library in ``../shared/benchmarks/dedup/``
(read by path, never copied) it writes the records without their ``truth_label`` column to a
temporary CSV, runs ``review dedup-file`` on it (the command users run), scores the result with
that folder's ``evaluate.py`` and prints records, true duplicates, sensitivity, specificity,
precision and seconds, beside the best published figures (ASySD on diabetes, Hair et al. 2023;
bib-dedupe on the five others, its ``output/current_results.md`` at commit c66515a) and the
floor the acceptance check requires (``../shared/checks/dedup_floors.tsv``).
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BENCH = SHARED / "benchmarks" / "dedup"
FLOORS = SHARED / "checks" / "dedup_floors.tsv"

#: Best published (tool, sensitivity, specificity) per library (see the folder's READMEs).
PUBLISHED: dict[str, tuple[str, float, float]] = {
    "asysd_diabetes_1845": ("ASySD", 0.998, 1.000),
    "rathbone_cytology_screening": ("bib-dedupe", 0.9922, 1.000),
    "rathbone_haematology": ("bib-dedupe", 0.8889, 1.000),
    "rathbone_respiratory": ("bib-dedupe", 0.9358, 1.000),
    "rathbone_stroke": ("bib-dedupe", 0.9936, 1.000),
    "colrev_digital_work": ("bib-dedupe", 0.9973, 1.000),
}


def _scorer() -> Any:
    spec = importlib.util.spec_from_file_location("dedup_evaluate", BENCH / "evaluate.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {BENCH / 'evaluate.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _floors() -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    if FLOORS.exists():
        for line in FLOORS.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 3:
                out[parts[0]] = (float(parts[1]), float(parts[2]))
    return out


def _strip_truth(truth: Path, out: Path) -> None:
    with truth.open(encoding="utf-8") as fh, out.open("w", encoding="utf-8", newline="") as oh:
        reader = csv.DictReader(fh)
        fields = [c for c in reader.fieldnames or [] if c != "truth_label"]
        writer = csv.DictWriter(oh, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(reader)


def main() -> int:
    if not BENCH.is_dir():
        print(f"needs the labelled libraries in {BENCH}", file=sys.stderr)
        return 2
    evaluate = _scorer()
    floors = _floors()
    review = [sys.executable, "-m", "review.cli"] if not _has_entry() else ["review"]
    print(
        f"review dedup accuracy ({time.strftime('%Y-%m-%d')}), `review dedup-file` on each labelled library"
    )
    header = (
        f"{'library':<28} {'records':>7} {'dups':>5} {'sens':>7} {'spec':>7} {'prec':>7} {'fn':>4} {'fp':>3}"
        f" {'secs':>5}   {'best published':<24} {'floor':>6}"
    )
    print(header)
    print("-" * len(header))
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for truth in sorted(BENCH.glob("*.csv")):
            if truth.name.endswith(".groups.csv"):
                continue
            name = truth.stem
            given, out = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
            _strip_truth(truth, given)
            t0 = time.perf_counter()
            proc = subprocess.run(
                [*review, "dedup-file", str(given), "--out", str(out)], capture_output=True, text=True
            )
            secs = time.perf_counter() - t0
            if proc.returncode != 0:
                print(f"{name:<28} dedup-file failed: {proc.stderr.strip().splitlines()[-1:]}")
                failed += 1
                continue
            s = evaluate.score(str(truth), str(out))
            tool, p_sens, p_spec = PUBLISHED.get(name, ("-", float("nan"), float("nan")))
            f_sens, f_spec = floors.get(name, (0.99, 0.998))
            ok = s["sensitivity"] >= f_sens and s["specificity"] >= f_spec
            failed += not ok
            print(
                f"{name:<28} {s['records']:>7} {s['true_duplicates']:>5} {s['sensitivity']:>7.4f} "
                f"{s['specificity']:>7.4f} {s['precision']:>7.4f} {s['fn']:>4} {s['fp']:>3} {secs:>5.1f}   "
                f"{tool} {p_sens:.4f}/{p_spec:.3f}{'':<4} {f_sens:>6.3f} {'ok' if ok else 'BELOW FLOOR'}"
            )
    return 1 if failed else 0


def _has_entry() -> bool:
    from shutil import which

    return which("review") is not None


if __name__ == "__main__":
    raise SystemExit(main())
