"""End to end: `review demo OUT` builds the whole offline review, and its counts match the data.

The expected counts are derived from the bundled data files (provenance and screening script),
so a change to the demo data changes them too; the arithmetic of the flow is checked as the
PRISMA 2020 statement defines it.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from review.cli import cli

DEMO_DATA = Path(__file__).resolve().parents[2] / "review" / "data" / "demo"


def _rows(name: str) -> list[dict[str, str]]:
    with (DEMO_DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, float]]:
    """The demo built once through the CLI, with its printed report and how long it took."""
    out = tmp_path_factory.mktemp("demo") / "demo-review"
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["demo", str(out)])
    seconds = time.perf_counter() - start
    assert result.exit_code == 0, result.output + repr(result.exception)
    yield out, result.output, seconds


@pytest.fixture
def project(demo: tuple[Path, str, float]) -> Iterator[Any]:
    from review.project import open_project

    proj = open_project(demo[0])
    try:
        yield proj
    finally:
        proj.close()


def test_demo_runs_every_stage_and_prints_where_files_are(demo: tuple[Path, str, float]) -> None:
    _out, text, _seconds = demo  # speed: bench/demo_build.py
    assert "Not run" not in text, text
    for name in ("review.sqlite", "title-abstract_alice.xlsx", "prisma.png", "effect_table.csv"):
        assert name in text
    assert "MADE-UP" in text and "illustrative" in text


def test_record_counts_follow_the_bundled_data(project: Any) -> None:
    from review.project import project_status
    from review.project.demo import demo_record_keys

    prov = [r for r in _rows("provenance.csv") if r["kind"] != "not transcribed"]
    pubmed = sum(r["in_pubmed_xml"] == "yes" for r in prov)
    embase = sum(r["embase_ris_id"] != "" for r in prov)
    register = sum(r["register_id"] != "" for r in prov)
    both = {r["key"] for r in prov if r["in_pubmed_xml"] == "yes" and r["embase_ris_id"] != ""}
    status = project_status(project)
    assert (pubmed, embase, register, len(both)) == (51, 18, 2, 14)
    assert status["records"] == pubmed + embase + register
    assert status["searches"] == 2
    assert status["imports"] == 2
    # every record kept stands for its duplicates: group the stored records by what was kept
    keys = demo_record_keys(project)
    unique = set(project.store.unique_record_ids())
    groups: dict[int, set[str]] = {}
    for rid, group in project.store.conn.execute(
        "SELECT record_id, group_id FROM dedup_groups WHERE run_id = (SELECT MAX(id) FROM dedup_runs)"
    ):
        groups.setdefault(group, set()).add(keys[rid])
    merged = [g for g in groups.values() if len(g) > 1]
    # each Embase record of a PubMed paper is found as its duplicate ...
    for key in both:
        assert sum(1 for rid in unique if keys[rid] == key) == 1
    # ... and the only different papers grouped are versions of one Cochrane review
    for group in merged:
        assert len(group) == 2 and all(
            "cochrane" in k or k in ("oconnell2013", "stanton2013") for k in group
        ), group
    assert status["unique_records"] == pubmed + embase + register - len(both) - len(merged)
    assert len(merged) <= 2


def test_real_bibliographic_fields_are_stored_as_transcribed(project: Any) -> None:
    from review.records import normalise_doi

    prov = {r["pmid"]: r for r in _rows("provenance.csv") if r["in_pubmed_xml"] == "yes"}
    stored = {r.pmid: r for r in project.store.get_records().values() if r.source == "pubmed"}
    assert set(stored) == set(prov)
    for pmid, row in prov.items():
        rec = stored[pmid]
        assert rec.title == row["title"]
        assert rec.doi == (normalise_doi(row["doi"]) if row["doi"] else None)
        assert rec.year == (int(row["year"]) if row["year"] else None)
        assert rec.journal == (row["journal"] or None)
        if row["made_up"] == "yes":
            assert rec.abstract and rec.abstract.startswith("MADE-UP")
            assert int(pmid) >= 99100001 and rec.doi and rec.doi.startswith("10.5555/")
        elif row["pmid_kind"] == "placeholder":
            assert 99000001 <= int(pmid) <= 99099999
        else:
            assert int(pmid) < 99000000 and rec.abstract is None


def test_screening_follows_the_script_and_conflicts_are_resolved(project: Any) -> None:
    from review.project.screen import screening_outcomes, screening_status

    script = {r["key"]: r for r in _rows("screening_script.csv")}
    status = screening_status(project)
    ta, ft = status["title-abstract"], status["full-text"]
    assert ta["records"] == len(project.store.unique_record_ids())
    assert set(ta["reviewers"]) >= {"alice", "bob"}
    assert ta["conflicts"] == 0 and ft["conflicts"] == 0
    disagreements = sum(1 for r in script.values() if r["ta_carol"])
    assert 0 < ta["kappa"] < 1 and disagreements == 5
    # reach full text: the title-abstract includes (carol's word where the pair disagreed)
    ta_includes = {k for k, r in script.items() if (r["ta_carol"] or r["ta_alice"]) == "include"}
    assert ft["records"] == len(ta_includes) == 31
    outcomes = screening_outcomes(project)
    final_ft = outcomes[outcomes.stage == "full-text"]
    assert (final_ft.final == "include").sum() == 24
    reasons = final_ft[final_ft.final == "exclude"].groupby("reason").size().to_dict()
    assert reasons == {
        "full text not available": 2,
        "no usable data": 1,
        "wrong comparator": 1,
        "wrong intervention": 1,
        "wrong outcome": 2,
    }


def test_effect_table_keeps_sources_and_illustrative_flags(project: Any) -> None:
    from review.project.extract import effect_table

    table = effect_table(project)
    values = _rows("extraction_values.csv")
    pairs = {(v["study"], v["domain"]) for v in values}
    assert len(table) == len(pairs) == 9
    flagged = {(v["study"], v["domain"]) for v in values if v["illustrative"] == "yes"}
    for _, row in table.iterrows():
        assert bool(row["illustrative"]) == ((row["study"], row["outcome_domain"]) in flagged)
        assert "reference data row" in str(row["source"])
    sig = table[(table.study == "Sigtermans 2009") & (table.outcome_domain == "pain")].iloc[0]
    # MD of the means in the source (2.68 vs 5.45); SD = SE x sqrt(30) (Cochrane Handbook 6.5.2.2)
    assert sig["yi"] == pytest.approx(2.68 - 5.45)
    assert sig["vi"] == pytest.approx((0.51**2 * 30) / 30 + (0.48**2 * 30) / 30)
    assert sig["window"] == "<= 2 weeks"
    # bob's scripted slip (placebo mean 25 for 52) was resolved to the source's value by carol
    var = table[table.study == "Varenna 2000"].iloc[0]
    assert var["yi"] == pytest.approx((30 - 52) / 10)  # VAS 0-100 rescaled to 0-10


def test_extraction_disagreements_are_all_resolved(project: Any) -> None:
    from review.project.extract import extraction_disagreements

    assert project.store.extraction_current().keys() >= {"alice", "bob"}
    assert extraction_disagreements(project) == []


def test_prisma_counts_add_up_and_match_the_store(demo: tuple[Path, str, float], project: Any) -> None:
    from review.project import project_status

    out = demo[0]
    with (out / "output" / "prisma" / "prisma.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 34
    n = {r["data"]: r["n"] for r in rows if r["data"] not in ("", "NA")}

    def num(key: str) -> int:
        return int(n[key]) if n.get(key, "").strip().isdigit() else 0

    dbs = {
        label.strip(): int(count)
        for label, _, count in (p.rpartition(",") for p in n["database_specific_results"].split(";"))
    }
    status = project_status(project)
    assert sum(dbs.values()) == num("database_results") == 69  # PubMed 51 + Embase 18
    assert num("register_results") == 2  # ClinicalTrials.gov
    assert num("database_results") + num("register_results") == status["records"]
    assert num("duplicates") == status["records"] - status["unique_records"]
    identified = num("database_results") + num("register_results")
    screened = identified - num("duplicates") - num("excluded_automatic") - num("excluded_other")
    assert num("records_screened") == screened == status["unique_records"]
    assert num("dbr_sought_reports") == num("records_screened") - num("records_excluded") == 31
    assert num("dbr_assessed") == num("dbr_sought_reports") - num("dbr_notretrieved_reports")
    excluded = sum(int(p.rpartition(",")[2]) for p in n["dbr_excluded"].split(";") if p.strip())
    assert num("new_reports") == num("dbr_assessed") - excluded == 24
    # Kemler 2000/2004 and Oerlemans 1999/2000: one study each, two reports
    assert num("new_studies") == 22


def test_prisma_counts_reports_of_one_trial_as_one_study(demo: tuple[Path, str, float], project: Any) -> None:
    from review.project.demo import demo_record_keys
    from review.project.extract import included_record_ids, study_records

    with (demo[0] / "output" / "prisma" / "prisma.csv").open(encoding="utf-8-sig", newline="") as fh:
        n = {r["data"]: r["n"] for r in csv.DictReader(fh)}
    # Kemler 2000/2004 and Oerlemans 1999/2000 are two reports of one trial each
    assert (int(n["new_studies"]), int(n["new_reports"])) == (22, 24)
    links = study_records(project)
    assert set(links) == set(included_record_ids(project))
    by_key = {key: links[rid] for rid, key in demo_record_keys(project).items() if rid in links}
    assert by_key["kemler2000"] == by_key["kemler2004"] == "Kemler 2000"
    assert by_key["oerlemans1999"] == by_key["oerlemans2000"] == "Oerlemans 1999"
    assert len(set(links.values())) == 22


def test_made_up_and_unverified_records_are_labelled_in_the_workbooks(
    demo: tuple[Path, str, float], project: Any
) -> None:
    """Every record that provenance.csv marks made up or not verified carries the label where shown."""
    from openpyxl import load_workbook

    from review.project.demo import demo_record_keys
    from review.records import ILLUSTRATIVE_LABEL

    prov = {r["key"]: r for r in _rows("provenance.csv") if r["kind"] != "not transcribed"}
    keys = demo_record_keys(project)
    ws = load_workbook(demo[0] / "workbooks" / "title-abstract_alice.xlsx", read_only=True)["Screening"]
    rows = ws.iter_rows(values_only=True)
    head = list(next(rows))
    shown = {row[0]: row[head.index("record note")] for row in rows if row[0] is not None}
    assert len(shown) == len(project.store.unique_record_ids())
    # a record kept by dedup shows its merged duplicates' notes too
    members: dict[int, set[str]] = {}
    for rid, group in project.store.conn.execute(
        "SELECT record_id, group_id FROM dedup_groups WHERE run_id = (SELECT MAX(id) FROM dedup_runs)"
    ):
        members.setdefault(group, set()).add(keys[rid])
    group_of = {k: g for g in members.values() for k in g}
    for rid, note in shown.items():
        rows = [prov[k] for k in group_of.get(keys[rid], {keys[rid]})]
        flagged = any(r["made_up"] == "yes" or r["source_verified"] != "yes" for r in rows)
        assert bool(note and note.startswith(ILLUSTRATIVE_LABEL)) == flagged, (keys[rid], note)
    studies = load_workbook(demo[0] / "workbooks" / "extraction_alice.xlsx", read_only=True)["Studies"]
    cites = [r for r in studies.iter_rows(min_row=2, values_only=True) if r[0] is not None]
    labelled = {keys[int(r[0])] for r in cites if str(r[1]).startswith(f"[{ILLUSTRATIVE_LABEL}]")}
    assert labelled == {keys[int(r[0])] for r in cites if prov[keys[int(r[0])]]["source_verified"] != "yes"}


def test_demo_output_holds_diagram_forest_plots_and_workbooks(demo: tuple[Path, str, float]) -> None:
    out = demo[0]
    png = out / "output" / "prisma" / "prisma.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert (out / "output" / "prisma" / "prisma.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    forests = [p for p in out.rglob("*forest*") if p.suffix in (".png", ".svg")]
    assert forests and all(p.stat().st_size > 5_000 for p in forests)
    assert len(list((out / "workbooks").glob("*.xlsx"))) >= 7


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", str(tmp_path)])
    assert result.exit_code != 0
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "mine"
