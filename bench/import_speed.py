"""Benchmark: how fast exports are read and imported, and the memory it takes, at 10k-100k records.

Run: ``python bench/import_speed.py [--sizes 10000 50000 100000] [--code DIR]``. Builds RIS,
MEDLINE and CSV files of N entries by repeating the real exports in ``../shared/fixtures/fetched``
(read by path, never copied; each copy gets its own accession number so every entry is a new
record), then prints, per format and size: seconds, records/s and peak memory for ``read_file``
alone (all records in a list) and for ``import_file`` into a new project (streamed and stored in
batches); each is measured in a fresh child process, peak memory as its VmHWM (peak resident
set). ``--code DIR`` measures the ``review`` package in DIR instead (e.g. a ``git worktree`` of
an earlier commit, for before/after figures).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FETCHED = SHARED / "fixtures" / "fetched"
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"

_CHILD = """
import sys, time
from review.project import init_project
from review.project.imports import import_file
from review.sources import read_file
mode, folder, protocol, path = sys.argv[1:5]
t0 = time.perf_counter()
if mode == "read":
    n = len(read_file(path, "bench").records)
else:
    project = init_project(folder, protocol)
    t0 = time.perf_counter()
    n = import_file(project, path, source="bench").records_new
    project.close()
seconds = time.perf_counter() - t0
# VmHWM: this process's own peak resident memory (ru_maxrss would include the parent's)
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(n, f"{seconds:.3f}", int(hwm.split()[1]) // 1024)
"""


def _ris(n: int, out: Path) -> None:
    text = (FETCHED / "asysd" / "zotero_export.ris").read_text(encoding="utf-8-sig")
    entries = [e.strip() for e in re.split(r"(?m)^ER  - ?\r?$", text) if "TY  -" in e]
    with out.open("w", encoding="utf-8", newline="") as fh:
        for i in range(n):
            body = re.sub(r"(?m)^AN  - .*$", f"AN  - BENCH:{i}", entries[i % len(entries)])
            fh.write(body + "\r\nER  - \r\n\r\n")


def _medline(n: int, out: Path) -> None:
    blocks: list[str] = []
    for name in ("pubmed_result1.txt", "pubmed_result2.txt", "pubmed_result3.txt"):
        text = (FETCHED / "biopython" / "medline" / name).read_text(encoding="utf-8")
        blocks += [b.strip("\n") for b in re.split(r"\n\s*\n", text) if "PMID-" in b]
    with out.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(re.sub(r"(?m)^PMID- .*$", f"PMID- {i + 1}", blocks[i % len(blocks)]) + "\n\n")


def _csv(n: int, out: Path) -> None:
    lines = (FETCHED / "asysd" / "zotero_export.csv").read_text(encoding="utf-8-sig")
    import csv
    import io

    rows = list(csv.reader(io.StringIO(lines, newline="")))
    header, body = rows[0], rows[1:]
    key = header.index("Key")
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i in range(n):
            row = list(body[i % len(body)])
            row[key] = f"BENCH{i}"
            writer.writerow(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--formats", nargs="+", default=["ris", "medline", "csv"])
    parser.add_argument("--code", type=Path, help="directory holding the review package to measure")
    args = parser.parse_args()
    if not FETCHED.is_dir():
        sys.exit(f"needs the real exports in {FETCHED}")
    env = dict(os.environ)
    if args.code:
        env["PYTHONPATH"] = os.pathsep.join([str(args.code.resolve()), env.get("PYTHONPATH", "")])

    print(
        f"{'format':8} {'records':>8} {'read s':>7} {'read rec/s':>10} {'read MB':>8} "
        f"{'import s':>8} {'import rec/s':>12} {'import MB':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, build, suffix in (
            ("ris", _ris, ".ris"),
            ("medline", _medline, ".nbib"),
            ("csv", _csv, ".csv"),
        ):
            if fmt not in args.formats:
                continue
            for n in args.sizes:
                path = Path(tmp) / f"bench_{n}{suffix}"
                build(n, path)
                runs = {}
                for mode in ("read", "import"):
                    proc = subprocess.run(
                        [
                            sys.executable,
                            "-c",
                            _CHILD,
                            mode,
                            str(Path(tmp) / f"p_{fmt}_{n}"),
                            str(PROTOCOL),
                            str(path),
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                        env=env,
                    )
                    count, seconds, peak = proc.stdout.split()
                    assert int(count) == n, (fmt, n, mode, count)
                    runs[mode] = (float(seconds), int(peak))
                (read_s, read_mb), (import_s, import_mb) = runs["read"], runs["import"]
                print(
                    f"{fmt:8} {n:>8} {read_s:>7.2f} {n / read_s:>10,.0f} {read_mb:>8} "
                    f"{import_s:>8.2f} {n / import_s:>12,.0f} {import_mb:>9}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
