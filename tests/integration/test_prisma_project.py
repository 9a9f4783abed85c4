"""PRISMA 2020 for a project filled through the store: counts match the store and add up, files pass the check."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
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


def _identify(project: Project) -> tuple[list[int], list[int], list[int]]:
    """PubMed (two overlapping searches) 10 records, Embase 6 of which dedup removes 3: (pubmed, embase, unique ids)."""
    pub = [_rec("pubmed", str(i), f"10.1/{i}") for i in range(1, 11)]
    p1 = _search(project, "crps-ketamine", pub[:8])
    p2 = _search(project, "crps-other-treatments", pub[4:])
    pids = sorted(set(p1) | set(p2))
    emb = [_rec("embase", f"E{i}", f"10.1/{i}" if i <= 3 else f"10.2/{i}") for i in range(1, 7)]
    eids = _import(project, "embase", emb)
    _dedup(project, list(zip(pids[:3], eids[:3], strict=True)))
    return pids, eids, pids + eids[3:]


@pytest.fixture
def filled(project: Project) -> dict[str, Any]:
    """PubMed (two overlapping searches) 10 records, Embase 6 of which 3 duplicate PubMed; screened fully."""
    pids, eids, unique = _identify(project)
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


# --- provisional PRISMA: a review half-way through screening, screened through real workbooks ---

# Title/abstract script for the 13 unique records of ``filled``'s store, by position in ``unique``:
# alice decides all; bob leaves three blank (awaiting screening) and disagrees on two (conflict).
_TA_ALICE = "IIIIIEEEEEEEI"
_TA_BOB = "IIII-EEEE--IE"
# Full text, by position among the records both included (positions 0, 1, 2, 3): alice decides
# all, bob leaves one blank (awaiting) and disagrees on one (conflict).
_FT_ALICE = ("include", "exclude|full text not available", "include", "include")
_FT_BOB = ("include", "exclude|full text not available", "exclude|wrong population", None)


def _workbook_round(
    project: Project, stage: str, reviewer: str, decide: dict[int, tuple[str, str | None]]
) -> None:
    """Export a reviewer's workbook, fill some rows as a screener does in Excel, import it."""
    from review.project.demo import fill_screening_workbook
    from review.project.screen import export_screening, import_screening

    out = project.workbook_dir / f"{stage}_{reviewer}.xlsx"
    export_screening(project, stage=stage, reviewer=reviewer, out=out)
    assert fill_screening_workbook(out, decide.get) == len(decide)
    import_screening(project, out)


@pytest.fixture
def midway(project: Project) -> dict[str, Any]:
    """The store of ``filled`` (16 identified, 3 duplicates, 13 unique), screened half-way with workbooks."""
    _, _, unique = _identify(project)
    word = {"I": "include", "E": "exclude"}
    for reviewer, script in (("alice", _TA_ALICE), ("bob", _TA_BOB)):
        decide = {rid: (word[c], None) for rid, c in zip(unique, script, strict=True) if c != "-"}
        _workbook_round(project, "title-abstract", reviewer, decide)
    both = [rid for rid, a, b in zip(unique, _TA_ALICE, _TA_BOB, strict=True) if a == b == "I"]
    assert len(both) == 4
    for reviewer, script in (("alice", _FT_ALICE), ("bob", _FT_BOB)):
        decide = {}
        for rid, value in zip(both, script, strict=True):
            if value is not None:
                decision, _, why = value.partition("|")
                decide[rid] = (decision, why or None)
        _workbook_round(project, "full-text", reviewer, decide)
    return {"unique": unique, "full_text": both}


def test_provisional_counts_of_a_review_half_way_add_up(project: Project, midway: dict[str, Any]) -> None:
    data = prisma_counts(project)
    # the same store as `filled`: identification is final
    assert (data["identified"], data["duplicates"], data["records_screened"]) == (16, 3, 13)
    # title/abstract: 4 agreed excludes, 4 agreed includes, 3 that bob has not screened, 2 in conflict
    n_pending = _TA_BOB.count("-")
    n_conflict = sum(a != b and "-" not in (a, b) for a, b in zip(_TA_ALICE, _TA_BOB, strict=True))
    assert (n_pending, n_conflict) == (3, 2)
    assert (data["records_excluded"], data["records_awaiting"], data["records_in_conflict"]) == (4, 3, 2)
    assert data["dbr_sought_reports"] == 4
    # full text: one agreed include, one agreed 'not available', one conflict, one awaiting bob
    assert (
        data["dbr_notretrieved_reports"],
        data["dbr_reports_awaiting"],
        data["dbr_reports_in_conflict"],
    ) == (
        1,
        1,
        1,
    )
    assert (data["dbr_assessed"], data["dbr_excluded"], data["new_reports"], data["new_studies"]) == (
        1,
        [],
        1,
        1,
    )
    # every box adds up
    assert data["identified"] == data["duplicates"] + data["records_screened"]
    assert data["records_screened"] == (
        data["records_excluded"]
        + data["records_awaiting"]
        + data["records_in_conflict"]
        + data["dbr_sought_reports"]
    )
    assert data["dbr_sought_reports"] == (
        data["dbr_notretrieved_reports"]
        + data["dbr_reports_awaiting"]
        + data["dbr_reports_in_conflict"]
        + data["dbr_assessed"]
    )
    assert data["dbr_assessed"] == data["dbr_excluded_total"] + data["new_reports"]
    assert data["flow_checks"] == []
    assert data["unfinished"] == 3 + 2 + 1 + 1
    # each undecided record is named, as awaiting, never as excluded or included
    awaiting = [p for p in data["problems"] if p["awaiting"]]
    assert sorted(len(p["record_ids"]) for p in awaiting) == [1, 1, 2, 3]
    named = {rid for p in awaiting for rid in p["record_ids"]}
    pending_ta = {rid for rid, c in zip(midway["unique"], _TA_BOB, strict=True) if c == "-"}
    assert pending_ta <= named


def test_final_prisma_refuses_half_way_and_names_the_provisional_option(
    project: Project, midway: dict[str, Any]
) -> None:
    out = project.root / "output" / "prisma"
    with pytest.raises(StoreError, match=r"title-abstract: 2 records with disagreeing") as exc:
        write_prisma(project, out)
    assert "3 records awaiting screening" in str(exc.value)
    assert "--provisional" in str(exc.value)
    assert not out.exists() or not any(out.iterdir())


def test_integrity_errors_still_refuse_a_provisional_report(
    project: Project, midway: dict[str, Any], tmp_path: Path
) -> None:
    """A stored record no search or import found breaks identification: provisional or not, nothing is written."""
    ((orphan, _),) = project.store.add_records([_rec("embase", "ORPHAN", "10.9/orphan")])
    with pytest.raises(
        StoreError, match=rf"identification: 1 stored record found by no search.*{orphan}"
    ) as exc:
        write_prisma(project, tmp_path / "p", provisional=True)
    assert "--provisional" not in str(exc.value)  # the option would not help
    assert not (tmp_path / "p").exists()


def test_write_provisional_prisma_marks_every_file(project: Project, midway: dict[str, Any]) -> None:
    import csv

    from PIL import Image

    out = project.root / "output" / "prisma"
    as_of = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    report = write_prisma(project, out, provisional=True, as_of=as_of)
    first = report.splitlines()[0]
    assert first.startswith("PROVISIONAL PRISMA 2020 as of 2026-11-25 14:30 UTC (not for publication)")
    assert "screened 13 (awaiting a decision 5)" in first and "awaiting classification 2" in first
    assert sum(line.startswith("awaiting: ") for line in report.splitlines()) == 4
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"prisma-provisional.{ext}" for ext in ("csv", "json", "png", "svg")]
    # CSV: the template's 34 rows, then the rows of the undecided, marked with the date
    with (out / "prisma-provisional.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    n = {r["data"]: r["n"] for r in rows if r["data"] != "NA"}
    assert len(rows) == 43
    assert n["provisional"] == "2026-11-25"
    assert (n["dbr_awaiting_records"], n["dbr_conflict_records"]) == ("3", "2")
    assert (n["dbr_awaiting_reports"], n["dbr_conflict_reports"]) == ("1", "1")
    assert (n["records_screened"], n["records_excluded"], n["dbr_sought_reports"]) == ("13", "4", "4")
    newstud = next(r for r in rows if r["box"] == "newstud")
    assert newstud["boxtext"].startswith("PROVISIONAL (2026-11-25 14:30 UTC")
    # JSON
    data = json.loads((out / "prisma-provisional.json").read_text(encoding="utf-8"))
    assert data["provisional"]["as_of"] == "2026-11-25 14:30 UTC"
    assert data["records_awaiting"] == 3 and data["flow_checks"] == []
    # diagram: real 300-dpi PNG, SVG with the banner and the awaiting boxes as text
    png, svg = out / "prisma-provisional.png", out / "prisma-provisional.svg"
    assert png.stat().st_size > 50_000 and svg.stat().st_size > 10_000
    with Image.open(png) as img:
        assert round(img.info["dpi"][0]) == 300 and img.size[0] > 2000
        assert len(img.getcolors(maxcolors=1 << 20) or []) > 50  # drawn, not blank
    text = svg.read_text(encoding="utf-8").replace("\u00a0", " ")
    for needle in ("PROVISIONAL", "2026-11-25 14:30 UTC", "Records awaiting a decision (n = 5)",
                   "Awaiting screening (n = 3)", "Reports awaiting classification (n = 2)",
                   "Studies included in review so far (n = 1)"):  # fmt: skip
        assert needle in text, needle


def test_cli_provisional_writes_the_marked_files_and_the_default_refuses(
    project: Project, midway: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project.close()
    with pytest.raises(SystemExit) as exc:
        main(["prisma", str(project.root), "--out-dir", str(tmp_path / "final")])
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "awaiting screening" in err and "--provisional" in err
    assert not (tmp_path / "final" / "prisma.csv").exists()
    runner = CliRunner()
    result = runner.invoke(
        cli, ["prisma", str(project.root), "--out-dir", str(tmp_path / "p"), "--provisional"]
    )
    assert result.exit_code == 0, result.output
    assert "PROVISIONAL PRISMA 2020 as of" in result.output
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "prisma-provisional.csv",
        "prisma-provisional.json",
        "prisma-provisional.png",
        "prisma-provisional.svg",
    ]
    assert (tmp_path / "p" / "prisma-provisional.png").stat().st_size > 50_000
    help_text = runner.invoke(cli, ["prisma", "--help"]).output
    assert "--provisional" in help_text


def test_provisional_on_a_finished_review_says_so(
    project: Project, filled: dict[str, Any], tmp_path: Path
) -> None:
    report = write_prisma(project, tmp_path / "p", provisional=True)
    assert "run without --provisional for the final report" in report
    data = json.loads((tmp_path / "p" / "prisma-provisional.json").read_text(encoding="utf-8"))
    assert data["unfinished"] == 0 and data["records_screened"] == 13
