"""The demo's helpers: bundled data access, record matching, and workbook filling as a screener does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from review.errors import StoreError
from review.project.demo import (
    demo_pubmed_articles,
    demo_record_keys,
    demo_searches,
    fill_screening_workbook,
)
from review.records import Record


def test_bundled_articles_and_searches_agree() -> None:
    articles = demo_pubmed_articles()
    pmids = [re.search(r"<PMID[^>]*>(\d+)</PMID>", a).group(1) for a in articles]  # type: ignore[union-attr]
    assert len(articles) == len(set(pmids)) == 51
    found = demo_searches()
    assert set(found) == {"crps-ketamine", "crps-other-treatments"}
    assert {p for ids in found.values() for p in ids} == set(pmids)
    # a few reviews are found by both queries, as in PubMed
    assert len(found["crps-ketamine"]) + len(found["crps-other-treatments"]) - len(pmids) == 5


def test_every_made_up_article_says_so() -> None:
    for article in demo_pubmed_articles():
        pmid = int(re.search(r"<PMID[^>]*>(\d+)</PMID>", article).group(1))  # type: ignore[union-attr]
        made_up = "MADE-UP demo record" in article
        assert made_up == (pmid >= 99100001)
        if 99000001 <= pmid < 99100000:
            assert "DEMO PLACEHOLDER" in article


class _Store:
    def __init__(self, records: dict[int, Record]) -> None:
        self.records = records

    def get_records(self) -> dict[int, Record]:
        return self.records


class _Project:
    def __init__(self, records: dict[int, Record]) -> None:
        self.store = _Store(records)


def test_records_match_by_pmid_doi_then_title() -> None:
    records = {
        1: Record(source="pubmed", source_id="10965008", pmid="10965008", title="anything"),
        2: Record(source="embase", source_id="e1", doi="10.1016/J.PAIN.2009.06.023", title="x"),
        3: Record(
            source="embase",
            source_id="e2",
            title="Intravenous clodronate in the treatment of reflex sympathetic dystrophy syndrome. "
            "A randomized, double blind, placebo controlled study.",
            year=2000,
        ),
    }
    keys = demo_record_keys(_Project(records))
    assert keys == {1: "kemler2000", 2: "sigtermans2009", 3: "varenna2000"}


def test_a_record_the_demo_did_not_add_is_an_error() -> None:
    records = {7: Record(source="scopus", source_id="s", title="Something else entirely", year=1999)}
    with pytest.raises(StoreError, match="record 7"):
        demo_record_keys(_Project(records))


def _workbook(path: Path, full_text: bool) -> Path:
    wb = Workbook()
    ws: Any = wb.active
    ws.append(["record_id", "title", "decision", *(["reason"] if full_text else []), "note"])
    for rid in (4, 9, 12):
        ws.append([rid, f"title {rid}"])
    wb.save(path)
    return path


def test_fill_screening_workbook_writes_decisions_and_reasons(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "ft.xlsx", full_text=True)
    answers = {4: ("include", None), 9: ("exclude", "wrong outcome")}
    assert fill_screening_workbook(path, answers.get) == 2
    ws: Any = load_workbook(path).active
    got = [[c.value for c in row][:4] for row in ws.iter_rows(min_row=2)]
    assert got == [
        [4, "title 4", "include", None],
        [9, "title 9", "exclude", "wrong outcome"],
        [12, "title 12", None, None],  # no answer: left blank, as a screener who skipped it
    ]


def test_fill_screening_workbook_needs_a_record_id_header(tmp_path: Path) -> None:
    wb = Workbook()
    ws: Any = wb.active
    ws.append(["id", "decision"])
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(StoreError, match="record_id"):
        fill_screening_workbook(tmp_path / "bad.xlsx", lambda rid: ("include", None))


def test_a_stage_without_conflicts_is_reported_not_opened(tmp_path: Path, monkeypatch: Any) -> None:
    """export_conflicts writes no workbook when the screeners agree: the demo goes on without one."""
    import review.project.demo as demo
    from review.project import init_project
    from review.project.screen import screening_status

    script = {
        "a": {
            "ta_alice": "include",
            "ta_bob": "include",
            "ta_carol": "",
            "ft_alice": "include|",
            "ft_bob": "include|",
        },
        "b": {"ta_alice": "exclude", "ta_bob": "exclude", "ta_carol": "", "ft_alice": "", "ft_bob": ""},
    }
    script["a"]["ft_carol"] = script["b"]["ft_carol"] = ""
    monkeypatch.setattr(demo, "_screening_script", lambda: script)
    with demo.demo_data_path("protocol.yaml") as protocol:
        project = init_project(tmp_path / "p", protocol)
    try:
        ids = project.store.add_records(
            [Record(source="embase", source_id=k, title=f"Trial {k}", year=2000) for k in script]
        )
        keys = {rid: key for (rid, _), key in zip(ids, script, strict=True)}
        report = demo.DemoReport(root=tmp_path / "p")
        for stage in demo.STAGES:
            demo._screen_stage(project, stage, keys, report)
        text = report.text()
        assert "title-abstract: Cohen's kappa alice/bob 1.00, no conflicts for carol to resolve" in text
        assert "full-text: Cohen's kappa alice/bob" in text and "no conflicts" in text.split("full-text:")[-1]
        assert not list(project.workbook_dir.glob("*conflicts*"))
        status = screening_status(project)
        assert status["title-abstract"]["included"] == 1 and status["full-text"]["included"] == 1
    finally:
        project.close()
