"""Records screened apart that a later dedup run merges: disagreement is a conflict, agreement carries over."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from test_screening_roundtrip import TA, N, _headers, _records, fill

from review.project import Project
from review.project.screen import (
    export_conflicts,
    export_screening,
    format_screening_status,
    import_screening,
    screening_outcomes,
    screening_status,
)


def _merge(project: Project, groups: dict[int, list[int]]) -> None:
    """A dedup run that merges each list of records into the key (kept); every other record alone."""
    merged = {rid: kept for kept, rids in groups.items() for rid in rids}
    ids = [int(r) for (r,) in project.store.conn.execute("SELECT id FROM records")]
    project.store.save_dedup_run(
        started_at="2026-01-01T00:00:00+00:00",
        software_version="t",
        params={},
        groups=[(rid, merged.get(rid, rid), rid not in merged) for rid in ids],
        pairs=[],
    )


def _finals(project: Project) -> dict[int, str]:
    out = screening_outcomes(project)
    return dict(zip(out[out.stage == TA].record_id, out[out.stage == TA].final, strict=True))


@pytest.fixture
def screened(project: Project, tmp_path: Path) -> Project:
    """Ann and Ben screened records 1-24 apart: both include 2, 4, 5 and exclude 7 and the rest."""
    project.store.add_records(_records(1, N))
    for name in ("Ann", "Ben"):
        out = tmp_path / f"{name}.xlsx"
        export_screening(project, stage=TA, reviewer=name, out=out)
        fill(out, lambda rid: "include" if rid in (2, 4, 5) else "exclude")
        import_screening(project, out)
    return project


def test_merged_records_with_differing_decisions_are_a_conflict(screened: Project, tmp_path: Path) -> None:
    before = screened.store.screening_decisions()
    assert _finals(screened)[2] == "include" and _finals(screened)[7] == "exclude"
    _merge(screened, {2: [7], 4: [5]})  # 7 duplicates 2 (disagreeing), 5 duplicates 4 (agreeing)
    s = screening_status(screened)[TA]
    assert (s["records"], s["conflicts"], s["merged_conflicts"], s["included"]) == (N - 2, 1, 1, 1)
    finals = _finals(screened)
    assert finals[2] == "conflict" and finals[4] == "include" and 7 not in finals and 5 not in finals
    assert "1 between duplicates screened apart and merged later by dedup" in format_screening_status(
        screening_status(screened)
    )
    assert screened.store.screening_decisions() == before  # nothing rewritten, nothing added

    # the third reviewer sees both copies' decisions and settles the merged record
    cy = tmp_path / "Cy.xlsx"
    assert "1 conflicts at title-abstract for Cy to resolve (1 between duplicates" in export_conflicts(
        screened, stage=TA, reviewer="Cy", out=cy
    )
    ws = openpyxl.load_workbook(cy).worksheets[0]
    h = _headers(ws)
    assert ws.cell(2, 1).value == 2
    assert ws.cell(2, h["decision by Ann"]).value == "include (record 2); exclude (record 7)"
    fill(cy, lambda rid: "exclude")
    import_screening(screened, cy)
    s = screening_status(screened)[TA]
    assert (s["conflicts"], s["resolved"], s["merged_conflicts"]) == (0, 1, 0)
    assert _finals(screened)[2] == "exclude"

    # dedup run again with the same groups: still resolved; a third copy decided otherwise reopens it
    _merge(screened, {2: [7], 4: [5]})
    assert _finals(screened)[2] == "exclude"
    _merge(screened, {2: [7, 4]})
    assert _finals(screened)[2] == "conflict"


def test_copies_screened_by_different_reviewers_carry_over(project: Project, tmp_path: Path) -> None:
    project.store.add_records(_records(1, 2))
    for name, rid in (("Ann", 1), ("Ben", 2)):  # each screened one copy only
        out = tmp_path / f"{name}.xlsx"
        export_screening(project, stage=TA, reviewer=name, out=out)
        fill(out, lambda r, rid=rid: "include" if r == rid else None)
        import_screening(project, out)
    assert _finals(project) == {1: "pending", 2: "pending"}
    _merge(project, {1: [2]})
    assert _finals(project) == {1: "include"}
    s = screening_status(project)
    assert s[TA]["conflicts"] == 0 and s["full-text"]["records"] == 1
    # no rework: neither reviewer gets the merged record again
    assert "nothing to screen" in export_screening(
        project, stage=TA, reviewer="Ann", out=tmp_path / "A2.xlsx"
    )
