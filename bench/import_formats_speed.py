"""Benchmark: Cochrane Library plain text and EndNote XML read speed and memory at 10k-100k records.

Run: ``python bench/import_formats_speed.py [--sizes 10000 50000]``. Builds files of N records by
repeating the made-up records of ``tests/data/cochrane_central.txt`` and
``tests/data/endnote_library.xml`` (each copy with its own accession number, so every record is
keyed apart), then streams each through ``review.sources.stream_file`` in a fresh child process
and prints seconds, records/s and the child's peak resident memory (VmHWM). Records are counted
and dropped as they come (what ``review import`` does in batches), so memory should not grow with
the file.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"

_CHILD = """
import sys, time
from review.sources import stream_file
t0 = time.perf_counter()
stream = stream_file(sys.argv[1], "bench")
n = sum(1 for _ in stream)
seconds = time.perf_counter() - t0
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(n, len([i for i in stream.issues if i.severity == "error"]), f"{seconds:.3f}", int(hwm.split()[1]) // 1024)
"""


def _cochrane(n: int, out: Path) -> None:
    text = (DATA / "cochrane_central.txt").read_text(encoding="utf-8")
    blocks = [b.split("\n", 1)[1] for b in text.split("\n\n") if b.startswith("Record #") and "\nID: " in b]
    with out.open("w", encoding="utf-8") as fh:
        for i in range(n):
            body = re.sub(r"(?m)^ID: .*$", f"ID: CN-B{i:08d}", blocks[i % len(blocks)])
            fh.write(f"Record #{i + 1} of {n}\n{body.strip()}\n\n")


def _endnote(n: int, out: Path) -> None:
    text = (DATA / "endnote_library.xml").read_text(encoding="utf-8")
    records = [r + "</record>\n" for r in re.findall(r"<record>.*?(?=</record>)", text, re.S)]
    good = [r for r in records if "Magnesium & ketamine" not in r]  # leave out the malformed one
    with out.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8" ?>\n<xml>\n<records>\n')
        for i in range(n):
            record = re.sub(r"<accession-num>.*?</accession-num>", "", good[i % len(good)], flags=re.S)
            fh.write(record.replace("<record>", f"<record><accession-num>B{i}</accession-num>", 1))
        fh.write("</records>\n</xml>\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    args = parser.parse_args()
    print("| format | records | file MB | read s | records/s | peak MB |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, build, suffix in (
            ("Cochrane plain text", _cochrane, ".txt"),
            ("EndNote XML", _endnote, ".xml"),
        ):
            for n in args.sizes:
                path = Path(tmp) / f"bench{n}{suffix}"
                build(n, path)
                out = subprocess.run(
                    [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True
                ).stdout.split()
                read, errors, seconds, peak = int(out[0]), int(out[1]), float(out[2]), int(out[3])
                assert read == n and errors == 0, (read, errors)
                size = path.stat().st_size / 1e6
                print(f"| {name} | {n:,} | {size:.1f} | {seconds:.1f} | {n / seconds:,.0f} | {peak} |")
                path.unlink()


if __name__ == "__main__":
    main()
