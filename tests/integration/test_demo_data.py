"""The demo's package data is exactly what tools/make_demo_data.py makes from ../shared/crps."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "review" / "data" / "demo"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_demo_data", ROOT / "tools" / "make_demo_data.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.shared
def test_committed_demo_data_is_regenerated_identically(shared: Path, tmp_path: Path) -> None:
    _generator().write(shared, tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in DEMO.iterdir() if p.name != "README.md")
    assert made == committed
    for name in made:
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes(), (
            f"{name} is stale: rerun tools/make_demo_data.py"
        )


@pytest.mark.shared
def test_real_records_carry_the_source_fields_exactly(shared: Path) -> None:
    with (shared / "crps" / "trials.csv").open(encoding="utf-8", newline="") as fh:
        trials = {r["key"]: r for r in csv.DictReader(fh)}
    with (DEMO / "provenance.csv").open(encoding="utf-8", newline="") as fh:
        prov = [
            r for r in csv.DictReader(fh) if r["source_file"] == "crps/trials.csv" and r["kind"] == "trial"
        ]
    assert len(prov) == 29
    for row in prov:
        src = trials[row["source_rows"].split(";")[0]]
        assert (row["title"], row["year"], row["journal"], row["doi"]) == (
            src["title"],
            src["year"],
            src["journal"],
            src["doi"],
        )
        if row["in_pubmed_xml"] == "no":  # Embase-only: carries no PMID at all
            assert row["pmid"] == "" and row["embase_ris_id"]
        elif src["pmid"]:
            assert row["pmid"] == src["pmid"] and row["pmid_kind"] == "real"
        else:
            assert row["pmid_kind"] == "placeholder" and row["pmid"].startswith("990")
        verified = all(trials[k]["verified"] == "yes" for k in row["source_rows"].split(";"))
        assert row["illustrative"] == ("no" if verified else "yes")


def test_no_abstract_of_a_real_paper_is_bundled() -> None:
    text = (DEMO / "pubmed_efetch.xml").read_text(encoding="utf-8")
    abstracts = text.count("<AbstractText>")
    made_up = text.count("<AbstractText>MADE-UP demo abstract.")
    assert abstracts == made_up == 12


def test_bundled_protocol_and_form_are_the_repository_copies() -> None:
    assert (DEMO / "protocol.yaml").read_bytes() == (ROOT / "protocols" / "ketamine-crps.yaml").read_bytes()
    assert (DEMO / "extraction_form.yaml").read_bytes() == (
        ROOT / "extraction_forms" / "crps.yaml"
    ).read_bytes()
