"""Dedup in a project: stored runs, unique records, dedup_review.xlsx answers kept across runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from review.errors import WorkbookError
from review.project import project_status
from review.project.dedup import REVIEW_WORKBOOK, run_dedup
from review.records import Record
from review.store.dedup import DedupJudgement
from review.workbooks.dedup import read_dedup_review

PAPER: dict[str, Any] = {
    "title": "Ketamine for complex regional pain syndrome: a randomized controlled trial",
    "authors": ("Schwartzman, R J", "Alexander, G M", "Grothusen, J R"),
    "year": 2009,
    "journal": "Pain",
    "volume": "147",
    "issue": "1-3",
    "pages": "107-15",
}


def _records() -> list[Record]:
    return [
        Record(
            source="pubmed", source_id="19783371", pmid="19783371", doi="10.1016/j.pain.2009.08.015", **PAPER
        ),
        Record(source="embase", source_id="E1", **{**PAPER, "pages": "107-115", "journal": "PAIN"}),
        Record(
            source="scopus",
            source_id="S1",
            **{**PAPER, "title": "Erratum: " + PAPER["title"], "pages": "350"},
        ),
        # uncertain: same title, authors and year, but a different journal and no citation
        Record(
            source="cinahl",
            source_id="C1",
            **{**PAPER, "journal": "ACP Journal Club", "volume": None, "issue": None, "pages": None},
        ),
        Record(
            source="embase",
            source_id="E2",
            title="Graded motor imagery for CRPS",
            year=2006,
            authors=("Moseley, G L",),
            journal="Neurology",
            volume="67",
            pages="2129-34",
        ),
    ]


def _ids(project: Any) -> list[int]:
    return [rid for rid, _ in project.store.add_records(_records())]


def _fill(path: Path, answer: str, reviewer: str | None = "Ann") -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["pairs"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("answer") + 1, value=answer)
    if reviewer is not None:
        ws.cell(row=2, column=header.index("reviewer") + 1, value=reviewer)
    wb.save(path)


def test_unique_records_before_and_after_dedup(project: Any) -> None:
    ids = _ids(project)
    store = project.store
    assert store.unique_record_ids() == ids
    assert project_status(project)["unique_records"] == 5
    result = run_dedup(project)
    assert result.records == 5
    # PubMed + Embase merged; the erratum naming the paper (same volume, later page) joins them
    assert result.unique == 3
    assert store.unique_record_count() == 3
    assert project_status(project)["unique_records"] == 3
    kept = store.unique_record_ids()
    assert ids[0] in kept and ids[1] not in kept  # PubMed's record is the one kept
    groups = store.dedup_groups()
    assert groups[ids[1]] == (ids[0], False)
    assert groups[ids[2]] == (ids[0], False)  # the correction notice is never the kept record
    # each group remembers its members and their sources, the kept record first
    assert store.duplicate_groups() == {
        ids[0]: [(ids[0], "pubmed", True), (ids[1], "embase", False), (ids[2], "scopus", False)]
    }
    # a record added after the run counts as unique until the next run
    ((new, _),) = store.add_records([Record(source="x", source_id="1", title="Late record", year=2020)])
    assert new in store.unique_record_ids()
    assert store.unique_record_count() == 4


def test_run_is_idempotent(project: Any) -> None:
    _ids(project)
    first = run_dedup(project)
    second = run_dedup(project)
    assert second.unchanged
    assert second.run_id == first.run_id
    assert second.unique == first.unique
    n_runs = project.store.conn.execute("SELECT COUNT(*) FROM dedup_runs").fetchone()[0]
    assert n_runs == 1


def test_uncertain_pairs_go_to_the_workbook_and_answers_are_kept(project: Any) -> None:
    ids = _ids(project)
    result = run_dedup(project)
    book = project.workbook_dir / REVIEW_WORKBOOK
    assert result.workbook == book and book.exists()
    assert result.uncertain >= 1
    sheet = read_dedup_review(book, project_id=project.project_id)
    assert sheet.answers == [] and sheet.blank == result.uncertain
    ws = openpyxl.load_workbook(book)["pairs"]
    header = [c.value for c in ws[1]]
    pair = (
        ws.cell(2, header.index("record_id_a") + 1).value,
        ws.cell(2, header.index("record_id_b") + 1).value,
    )
    assert ids[3] in pair
    assert ws.cell(2, header.index("title_a") + 1).value == PAPER["title"]

    _fill(book, "same")
    merged = run_dedup(project, answers=book)
    assert merged.answers_added == 1
    assert merged.unique == result.unique - 1
    judged = project.store.dedup_judgements()
    assert [(j.same, j.reviewer) for j in judged] == [(True, "Ann")]
    assert judged[0].workbook_hash and len(judged[0].workbook_hash) == 64

    # re-importing the same workbook adds nothing; re-running keeps the answer
    again = run_dedup(project, answers=book)
    assert again.answers_added == 0 and again.unique == merged.unique
    assert run_dedup(project).unique == merged.unique

    # a later 'different' answer wins, and the history keeps both
    _fill(book, "different", reviewer="Bob")
    apart = run_dedup(project, answers=book)
    assert apart.unique == result.unique
    history = project.store.dedup_judgements(history=True)
    assert [(j.same, j.reviewer) for j in history] == [(True, "Ann"), (False, "Bob")]


def test_answers_in_the_workbook_are_not_overwritten(project: Any) -> None:
    _ids(project)
    first = run_dedup(project)
    book = project.workbook_dir / REVIEW_WORKBOOK
    _fill(book, "same")
    # running dedup again without --answers must not throw the typed answer away
    again = run_dedup(project)
    assert again.answers_added == 1
    assert again.unique == first.unique - 1
    assert [j.same for j in project.store.dedup_judgements()] == [True]


def test_bad_answers_name_the_cell(project: Any) -> None:
    _ids(project)
    run_dedup(project)
    book = project.workbook_dir / REVIEW_WORKBOOK
    _fill(book, "maybe")
    with pytest.raises(WorkbookError, match=r"answer 'maybe' is not 'same' or 'different'"):
        run_dedup(project, answers=book)
    _fill(book, "same", reviewer="  ")
    with pytest.raises(WorkbookError, match="reviewer"):
        run_dedup(project, answers=book)
    assert project.store.dedup_judgements() == []


def test_workbook_of_another_project_is_refused(project: Any, tmp_path: Path) -> None:
    from review.workbooks.dedup import write_dedup_review

    other = write_dedup_review(tmp_path / "other.xlsx", [], {"project_id": "someone-else"})
    with pytest.raises(WorkbookError, match="another project"):
        run_dedup(project, answers=other)


def test_judgements_are_append_only_and_latest_wins(project: Any) -> None:
    a, b, *_ = _ids(project)
    store = project.store
    assert store.add_dedup_judgements([DedupJudgement(b, a, False, "Ann")]) == 1
    assert store.add_dedup_judgements([DedupJudgement(a, b, False, "Ann")]) == 0  # same answer again
    assert store.add_dedup_judgements([DedupJudgement(a, b, True, "Bob")]) == 1
    latest = store.dedup_judgements()
    assert [(j.a, j.b, j.same, j.reviewer) for j in latest] == [(a, b, True, "Bob")]
    assert len(store.dedup_judgements(history=True)) == 2
    # the 'different' answer of a person beats identical records
    run = run_dedup(project)
    assert run.answers_in_force == 1


def test_workbook_shows_the_records_notes(project: Any) -> None:
    """A made-up or unverified record keeps its ILLUSTRATIVE marker in dedup_review.xlsx too."""
    records = _records()
    records[3] = records[3].replace(extra={"notes": ["Made-up record for the demo."]})
    project.store.add_records(records)
    run_dedup(project)
    ws = openpyxl.load_workbook(project.workbook_dir / REVIEW_WORKBOOK)["pairs"]
    header = [c.value for c in ws[1]]
    notes = [
        ws.cell(row=r, column=header.index(col) + 1).value
        for r in range(2, ws.max_row + 1)
        for col in ("record note_a", "record note_b")
    ]
    assert any(n and n.startswith("ILLUSTRATIVE / NOT VERIFIED") and "Made-up" in n for n in notes), notes
