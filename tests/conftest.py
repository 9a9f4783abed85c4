"""Shared test fixtures: the ``shared`` folder of real files, and a fresh project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ../shared folder of real fixtures, benchmarks and references (skip if absent)."""
    if not (SHARED / "fixtures").is_dir():
        pytest.skip(f"needs the shared data folder at {SHARED} (real exports, NCBI replies, metafor values)")
    return SHARED


@pytest.fixture
def project(tmp_path: Path) -> Iterator[object]:
    """A new project made from the CRPS/ketamine protocol."""
    from review.project import init_project

    proj = init_project(tmp_path / "project", PROTOCOL)
    try:
        yield proj
    finally:
        proj.close()


@pytest.fixture(scope="session")
def entrez_dir(shared: Path) -> Path:
    """Real NCBI E-utilities replies (esearch, epost, espell, PubMed efetch XML, an HTML reply)."""
    return shared / "fixtures" / "fetched" / "biopython" / "entrez"


@pytest.fixture(scope="session")
def pubmed_articles(entrez_dir: Path) -> list[str]:
    """The 8 real <PubmedArticle> elements of ../shared's PubMed efetch replies, in file order."""
    from review.sources.replay import articles_from_files

    return articles_from_files(sorted(entrez_dir.glob("pubmed*.xml")))
