"""PRISMA 2020 for a project filled through the store: counts match the store and add up, files pass the check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from review.cli import cli, main
from review.errors import StoreError
from review.project import Project
from review.project.prisma import collect_counts, prisma_counts, prisma_frame, write_prisma
from review.records import Record
from review.store._base import now


def _rec(source: str, sid: str, doi: str | None = None) -> Record:
    return Record(
        source=source, source_id=sid, pmid=sid if source == "pubmed" else None, doi=doi, title=f"T {sid}"
    )


def _search(project: Project, label: str, records: list[Record]) -> list[int]:
    store = project.store
    sid = store.start_search(
        database="pubmed", label=label, query=f"{label}[tiab]", eutils_url=None, params={}
    )
    ids, _ = store.store_search_batch(sid, records)
    store.finish_search(sid)
    return ids


def _import(project: Project, source: str, records: list[Record]) -> list[int]:
    """An import run of one export file, through the store as the import stage writes it."""
    run, _ = project.store.add_import(
        source=source,
        file_name=f"{source}.ris",
        file_path=None,
        file_hash=f"hash-{source}",
        fmt="ris",
        encoding="utf-8",
        entries=len(records),
        records=records,
        positions=list(range(len(records))),
        issues=[],
    )
    return project.store.import_record_ids(run.id)


def _dedup(project: Project, pairs: list[tuple[int, int]]) -> None:
    """A finished dedup run keeping the first record of each pair."""
    groups = [(rid, g, rid == keep) for g, (keep, drop) in enumerate(pairs) for rid in (keep, drop)]
    project.store.save_dedup_run(
        started_at=now(), software_version="test", params={}, groups=groups, pairs=[]
    )


def _screen(project: Project, stage: str, decisions: dict[int, tuple[str, str | None]]) -> None:
    """Two screeners agreeing on every decision, as two imported workbooks."""
    for reviewer in ("Ana", "Ben"):
        project.store.add_screening_batch(
            stage=stage,
            reviewer=reviewer,
            role="screener",
            file_name=f"{stage}-{reviewer}.xlsx",
            workbook_hash=f"{stage}-{reviewer}",
            export_token=None,
            n_rows=len(decisions),
            decisions=[(rid, dec, why, None, i + 2) for i, (rid, (dec, why)) in enumerate(decisions.items())],
        )


@pytest.fixture
def filled(project: Project) -> dict[str, Any]:
    """PubMed (two overlapping searches) 10 records, Embase 6 of which 3 duplicate PubMed; screened fully."""
    pub = [_rec("pubmed", str(i), f"10.1/{i}") for i in range(1, 11)]
    p1 = _search(project, "crps-ketamine", pub[:8])
    p2 = _search(project, "crps-other-treatments", pub[4:])
    pids = sorted(set(p1) | set(p2))
    emb = [_rec("embase", f"E{i}", f"10.1/{i}" if i <= 3 else f"10.2/{i}") for i in range(1, 7)]
    eids = _import(project, "embase", emb)
    _dedup(project, list(zip(pids[:3], eids[:3], strict=True)))
    unique = pids + eids[3:]
    include_ta = [*pids[:4], eids[3]]
    _screen(
        project, "title-abstract", {r: ("include" if r in include_ta else "exclude", None) for r in unique}
    )
    ft = {
        pids[0]: ("include", None),
        pids[1]: ("include", None),
        pids[2]: ("exclude", "full text not available"),
        pids[3]: ("exclude", "wrong population"),
        eids[3]: ("exclude", "wrong study design"),
    }
    _screen(project, "full-text", ft)
    return {"pids": pids, "eids": eids, "unique": unique}


def test_counts_match_the_store(project: Project, filled: dict[str, Any]) -> None:
    data = prisma_counts(project)
    assert data["problems"] == []
    assert data["database_specific_results"] == [
        {"name": "PubMed", "records": 10},
        {"name": "Embase", "records": 6},
    ]
    assert data["database_results"] == project.store.record_count() == 16
    assert data["duplicates"] == 16 - len(filled["unique"]) == 3
    assert (data["records_screened"], data["records_excluded"]) == (13, 8)
    assert (data["dbr_sought_reports"], data["dbr_notretrieved_reports"], data["dbr_assessed"]) == (5, 1, 4)
    assert data["dbr_excluded"] == [
        {"reason": "wrong population", "reports": 1},
        {"reason": "wrong study design", "reports": 1},
    ]
    assert (data["new_reports"], data["new_studies"]) == (2, 2)
    assert data["flow_checks"] == []
    assert [r["hits"] for r in data["audit"]["searches"]] == [8, 6]  # two queries overlapping on 4 records
    frame = prisma_frame(project)
    assert len(frame) == 34
    assert frame.set_index("data").loc["database_specific_results", "n"] == "PubMed, 10; Embase, 6"


def test_write_prisma_files_pass_the_shared_check(
    project: Project, filled: dict[str, Any], shared: Path
) -> None:
    out = project.root / "output" / "prisma"
    report = write_prisma(project, out)
    assert "screened 13" in report and "included 2 studies / 2 reports" in report
    for name in ("prisma.csv", "prisma.json", "prisma.svg", "prisma.png"):
        assert (out / name).stat().st_size > 1000, name
    assert (out / "prisma.png").stat().st_size > 10_000
    check = subprocess.run(
        [sys.executable, str(shared / "checks" / "prisma_check.py"), str(out / "prisma.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert (
        "identified 16 (2 databases), duplicates 3, screened 13, assessed 4, included 2 studies"
        in check.stdout
    )
    data = json.loads((out / "prisma.json").read_text(encoding="utf-8"))
    assert data["records_screened"] == 13 and data["project"]["protocol"] == "ketamine-crps"


def test_cli_prisma_writes_the_four_files(project: Project, filled: dict[str, Any], tmp_path: Path) -> None:
    project.close()
    result = CliRunner().invoke(cli, ["prisma", str(project.root), "--out-dir", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "prisma.csv",
        "prisma.json",
        "prisma.png",
        "prisma.svg",
    ]


def test_unfinished_screening_is_an_error_that_says_where(project: Project, filled: dict[str, Any]) -> None:
    extra = _search(project, "crps-ketamine", [_rec("pubmed", "99", "10.1/99")])
    counts = collect_counts(project)
    assert [p.where for p in counts.errors] == ["title-abstract"]
    assert counts.errors[0].record_ids == tuple(extra)
    with pytest.raises(
        StoreError, match=rf"title-abstract: 1 record awaiting screening.*record ids {extra[0]}"
    ):
        write_prisma(project, project.root / "output")
    assert not (project.root / "output" / "prisma.csv").exists()


def test_cli_reports_inconsistency_on_one_line(
    project: Project, filled: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _search(project, "crps-ketamine", [_rec("pubmed", "99", "10.1/99")])
    project.close()
    with pytest.raises(SystemExit) as exc:
        main(["prisma", str(project.root), "--out-dir", str(tmp_path / "p")])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "awaiting screening" in lines[0] and "Traceback" not in err


def test_reports_of_one_trial_count_as_one_study_and_pooled_studies_from_the_effect_table(
    project: Project, filled: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    import review.project.prisma as mod

    a, b = filled["pids"][:2]  # the two included reports
    table = pd.DataFrame(
        {
            "study": ["Sigtermans 2009", "Schwartzman 2009", "Other 2010"],
            "record_ids": [f"{a};{b}", "999", "998"],
            "comparison": ["IV ketamine vs placebo"] * 2 + ["Topical ketamine vs placebo"],
            "outcome_domain": ["pain"] * 3,
            "window": ["<= 2 weeks"] * 3,
            "yi": [-1.0, -0.5, -0.2],
            "vi": [0.1, 0.2, 0.3],
        }
    )
    real = mod._optional
    monkeypatch.setattr(
        mod,
        "_optional",
        lambda m, n: (
            (lambda p: table) if n == "effect_table" else None if n == "study_records" else real(m, n)
        ),
    )
    data = prisma_counts(project)
    assert (data["new_reports"], data["new_studies"]) == (2, 1)
    assert data["study_grouping"] == "reports linked to studies by extraction"
    # Sigtermans and Schwartzman share a pooled cell; Other 2010 stands alone
    assert (data["total_studies_ma"], data["total_reports_ma"]) == (1, 2)
    assert any("not among the included studies" in p["message"] for p in data["problems"])


def test_an_effect_table_that_cannot_be_built_is_a_warning(
    project: Project, filled: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import review.project.prisma as mod
    from review.errors import StudyDataError

    def broken(p: Project) -> None:
        raise StudyDataError("arm 2 has no n", study="Smith 2019")

    real = mod._optional
    monkeypatch.setattr(mod, "_optional", lambda m, n: broken if n == "effect_table" else real(m, n))
    data = prisma_counts(project)
    assert (data["new_studies"], data["total_studies_ma"]) == (2, None)
    assert [p["where"] for p in data["problems"]] == ["extraction"]
    assert "arm 2 has no n" in data["problems"][0]["message"]


def test_study_links_count_before_any_outcome_is_extracted(
    project: Project, filled: dict[str, Any], tmp_path: Path
) -> None:
    """Two reports given one study label on the Studies sheet are one study, even with no figures yet."""
    import openpyxl

    from review.project.extract import effect_table, export_extraction, import_extraction, study_records

    a, b = filled["pids"][:2]  # the two included reports
    out = tmp_path / "extraction.xlsx"
    export_extraction(project, form="crps", reviewer="Ana", out=out)
    wb = openpyxl.load_workbook(out)
    ws = wb["Studies"]
    cols = {c.value: c.column for c in ws[1]}
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, cols["record_id"]).value in (a, b):
            ws.cell(row, cols["study"]).value = "Kemler 2000"
            ws.cell(row, cols["design"]).value = "parallel RCT"
    wb.save(out)
    import_extraction(project, out)
    assert study_records(project) == {a: "Kemler 2000", b: "Kemler 2000"}
    assert effect_table(project).empty
    data = prisma_counts(project)
    assert (data["new_reports"], data["new_studies"]) == (2, 1)
    assert data["total_studies_ma"] is None  # nothing pooled yet: NA, not 0
