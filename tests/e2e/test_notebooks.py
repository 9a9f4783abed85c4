"""Every walkthrough notebook executes offline (nbclient) on the demo project.

The demo is built once; each notebook runs in its own folder on a copy of it, with no network
(the search notebook talks only to the local replay server on 127.0.0.1).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = [
    "01_search.ipynb",
    "02_import_dedup.ipynb",
    "03_screening.ipynb",
    "04_extraction_pooling.ipynb",
    "05_prisma.ipynb",
]


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from review.project.demo import build_demo

    out = tmp_path_factory.mktemp("nb-demo") / "demo-review"
    build_demo(out)
    return out


def test_the_five_notebooks_are_there() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes_offline(
    name: str, built_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(built_demo, tmp_path / "demo-review")
    monkeypatch.setenv("REVIEW_DEMO_DIR", str(tmp_path / "demo-review"))
    for var in ("NCBI_EMAIL", "NCBI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert len(markdown) >= 2 and "LIVE" in markdown[0].source  # says how to run live
    client = NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert not errors
