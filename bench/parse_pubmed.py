"""Benchmark: the streaming PubMed XML parser against ``Bio.Entrez.read`` on the same files.

Run: ``python bench/parse_pubmed.py [N ...]`` (default 1000 10000 100000). For each N it writes
one PubMed XML file of N records, made by repeating the 8 real articles of
``../shared/fixtures/fetched/biopython/entrez/pubmed*.xml`` (read by path) with new PMIDs, then
prints a table: file size, seconds and records/s of each parser, and peak Python memory
(``tracemalloc``, a separate pass so it does not slow the timed one). Our parser streams
(``iterparse`` + ``clear``), so its peak memory stays flat as N grows; ``Bio.Entrez.read``
holds the whole file (about 160 MB per 1,000 records), so it is skipped above ``--bio-max``
records (default 10,000: at 100,000 it would need some 16 GB).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from Bio import Entrez

from review.sources.pubmed_xml import iter_pubmed_xml
from review.sources.replay import articles_from_files, repeat_articles

ROOT = Path(__file__).resolve().parent.parent
ENTREZ = ROOT.parent / "shared" / "fixtures" / "fetched" / "biopython" / "entrez"
HEAD = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n'
)


def write_file(path: Path, articles: list[str], n: int) -> None:
    """A PubMed XML file of ``n`` records (real articles repeated with new PMIDs)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEAD)
        for start in range(0, n, 1000):
            chunk = repeat_articles(articles, min(1000, n - start), first_pmid=90000001 + start)
            fh.write("\n".join(chunk))
            fh.write("\n")
        fh.write("</PubmedArticleSet>\n")


def ours(path: Path) -> int:
    """Count the records our streaming parser yields."""
    return sum(1 for _ in iter_pubmed_xml(path))


def bio(path: Path) -> int:
    """Count the records Bio.Entrez.read returns (the whole file parsed into memory)."""
    with open(path, "rb") as fh:
        result = Entrez.read(fh)
    return len(result["PubmedArticle"]) + len(result["PubmedBookArticle"])


def timed(fn: Callable[[Path], int], path: Path) -> tuple[int, float]:
    gc.collect()
    t0 = time.perf_counter()
    count = fn(path)
    return count, time.perf_counter() - t0


def peak(fn: Callable[[Path], int], path: Path) -> float:
    """Peak MB allocated by Python while ``fn`` runs."""
    gc.collect()
    tracemalloc.start()
    fn(path)
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top / 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--bio-max", type=int, default=10000, help="largest N to run Bio.Entrez.read on")
    args = parser.parse_args(argv)
    if not ENTREZ.is_dir():
        sys.exit(f"needs the real PubMed replies at {ENTREZ}")
    articles = articles_from_files(sorted(ENTREZ.glob("pubmed*.xml")))
    print(
        f"# parse_pubmed: {len(articles)} real PubMed articles repeated; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(f"# python {sys.version.split()[0]}, biopython {__import__('Bio').__version__}")
    header = f"{'records':>8} {'file MB':>8} | {'parser':<16} {'seconds':>8} {'records/s':>10} {'peak MB':>9}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"pubmed_{n}.xml"
            write_file(path, articles, n)
            size = path.stat().st_size / 1e6
            runs: list[tuple[str, Callable[[Path], int]]] = [("review (stream)", ours)]
            if n <= args.bio_max:
                runs.append(("Bio.Entrez.read", bio))
            for name, fn in runs:
                count, secs = timed(fn, path)
                assert count == n, f"{name} read {count} of {n} records"
                mb = peak(fn, path)
                print(
                    f"{n:>8} {size:>8.1f} | {name:<16} {secs:>8.2f} {n / secs:>10.0f} {mb:>9.1f}", flush=True
                )
            path.unlink()


if __name__ == "__main__":
    main()
