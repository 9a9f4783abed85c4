"""Extraction workbooks end to end: export, fill as a person would, import, conflicts, table."""

from __future__ import annotations

import csv
import datetime
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from review.conversions import from_median_iqr, from_se
from review.effects import escalc
from review.errors import InputError, WorkbookError
from review.project import Project
from review.project.extract import (
    EFFECT_COLUMNS,
    effect_table,
    export_extraction,
    export_extraction_conflicts,
    extraction_disagreements,
    import_extraction,
    write_effect_table,
)
from review.records import Record


@pytest.fixture
def proj(project: Project) -> tuple[Project, list[int]]:
    ids = [
        rid
        for rid, _new in project.store.add_records(
            [
                Record(
                    source="pubmed",
                    source_id="19615553",
                    title="Ketamine for CRPS",
                    authors=("Sigtermans MJ", "Dahan A"),
                    year=2009,
                ),
                Record(
                    source="pubmed",
                    source_id="10965008",
                    title="Spinal cord stimulation",
                    authors=("Kemler MA",),
                    year=2000,
                ),
            ]
        )
    ]
    return project, ids


STUDIES = {
    "Sigtermans 2009": {
        "n_randomised": 60,
        "crps_criteria": "IASP 1994",
        "illustrative": "no",
        "crps_duration_months": 7.5,
    },
    "Kemler 2000": {"n_randomised": 54, "crps_criteria": "other", "illustrative": "no"},
}
ARMS = [
    {"study": "Sigtermans 2009", "arm": "ketamine", "intervention_class": "iv_ketamine", "n_randomised": 30},
    {"study": "Sigtermans 2009", "arm": "placebo", "intervention_class": "placebo", "n_randomised": 30},
    {
        "study": "Kemler 2000",
        "arm": "SCS",
        "intervention_class": "spinal_cord_stimulation",
        "n_randomised": 36,
    },
    {"study": "Kemler 2000", "arm": "PT", "intervention_class": "physical_therapy", "n_randomised": 18},
]


def _outcomes(placebo_sd: float = 2.6) -> list[dict[str, Any]]:
    sig = {"study": "Sigtermans 2009", "domain": "pain", "instrument": "NRS 0-10", "timepoint_days": 7}
    kem = {"study": "Kemler 2000", "domain": "pain", "instrument": "VAS 0-100 mm", "timepoint_days": 182}
    return [
        {**sig, "arm": "ketamine", "stat_type": "mean/SE", "n": 30, "mean": 2.68, "se": 0.51},
        {**sig, "arm": "placebo", "stat_type": "mean/SD", "n": 30, "mean": 5.45, "sd": placebo_sd},
        {
            **kem,
            "arm": "SCS",
            "stat_type": "median/IQR",
            "n": 36,
            "median": 40,
            "q1": 20,
            "q3": 60,
            "illustrative": "yes",
        },
        {**kem, "arm": "PT", "stat_type": "median/IQR", "n": 18, "median": 60, "q1": 45, "q3": 75},
        {
            **kem,
            "domain": "adverse_events",
            "instrument": "Any adverse event",
            "arm": "SCS",
            "stat_type": "events/N",
            "n": 36,
            "events": 6,
        },
        {
            **kem,
            "domain": "adverse_events",
            "instrument": "Any adverse event",
            "arm": "PT",
            "stat_type": "events/N",
            "n": 18,
            "events": 0,
        },
    ]


def _fill(
    path: Path, outcomes: list[dict[str, Any]], edit: dict[tuple[str, int, str], Any] | None = None
) -> None:
    """Fill a workbook by header name, as a person would (typing values into cells)."""
    wb = load_workbook(path)
    ws = wb["Studies"]
    cols = {c.value: c.column for c in ws[1]}
    for r in range(2, ws.max_row + 1):
        label = ws.cell(r, cols["study"]).value
        for k, v in STUDIES.get(label, {}).items():
            ws.cell(r, cols[k]).value = v
    for sheet, rows in (("Arms", ARMS), ("Outcomes", outcomes)):
        ws = wb[sheet]
        cols = {c.value: c.column for c in ws[1]}
        for r, row in enumerate(rows, start=2):
            for k, v in row.items():
                ws.cell(r, cols[k]).value = v
    for (sheet, r, name), v in (edit or {}).items():
        ws = wb[sheet]
        cols = {c.value: c.column for c in ws[1]}
        ws.cell(r, cols[name]).value = v
    wb.save(path)


def _batches(project: Project) -> int:
    return len(project.store.extraction_history())


def test_export_has_prefilled_studies_dropdowns_and_number_validation(
    proj: tuple[Project, list[int]], tmp_path: Path
) -> None:
    project, ids = proj
    out = tmp_path / "alice.xlsx"
    message = export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    assert "2 included records" in message
    wb = load_workbook(out)
    assert wb.sheetnames[:5] == ["lists", "Studies", "Arms", "Outcomes", "Risk of bias"]
    assert wb["lists"].sheet_state == "hidden" and wb["review"].sheet_state == "veryHidden"
    studies = wb["Studies"]
    head = [c.value for c in studies[1]]
    assert head[:3] == ["record_id", "citation", "study"]
    assert [studies.cell(r, 3).value for r in (2, 3)] == ["Sigtermans 2009", "Kemler 2000"]
    outcomes = wb["Outcomes"]
    letters = {c.value: c.column_letter for c in outcomes[1]}
    validations = {str(dv.sqref).split(":")[0]: dv for dv in outcomes.data_validations.dataValidation}
    stat = validations[f"{letters['stat_type']}2"]
    assert stat.type == "list" and stat.formula1.startswith("'lists'!") and stat.showErrorMessage
    first, last = stat.formula1.split("!")[1].replace("$", "").split(":")
    choices = [c.value for row in wb["lists"][f"{first}:{last}"] for c in row]
    assert choices == [
        "mean/SD",
        "mean/SE",
        "mean/95% CI",
        "median/IQR",
        "median/range",
        "median/IQR/range",
        "change mean/SD",
        "change mean/SE",
        "change mean/95% CI",
        "events/N",
        "percent/N",
        "mean/P (t test)",
        "change mean/P (t test)",
    ]
    assert validations[f"{letters['n']}2"].type == "whole"
    # study and arm columns offer the labels typed on the Studies and Arms sheets
    assert validations[f"{letters['study']}2"].formula1 == "'Studies'!$C$2:$C$13"  # 2 studies + 10 blank rows
    assert validations[f"{letters['arm']}2"].formula1.startswith("'Arms'!$B$2:$B$")
    assert validations[f"{letters['sd']}2"].type == "decimal"
    assert validations[f"{letters['timepoint_days']}2"].formula1 == "0"


def test_export_never_overwrites_a_workbook(proj: tuple[Project, list[int]], tmp_path: Path) -> None:
    project, ids = proj
    out = tmp_path / "alice.xlsx"
    out.write_bytes(b"filled in by alice")
    with pytest.raises(InputError, match="exists already"):
        export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    assert out.read_bytes() == b"filled in by alice"


def test_export_without_included_studies_says_why(project: Project, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="full-text"):
        export_extraction(project, form="crps", reviewer="alice", out=tmp_path / "a.xlsx")


def test_import_then_reimport_changes_nothing(proj: tuple[Project, list[int]], tmp_path: Path) -> None:
    project, ids = proj
    out = tmp_path / "alice.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    _fill(out, _outcomes())
    assert "6 outcome rows" in import_extraction(project, out)
    assert "already imported" in import_extraction(project, out)
    # exported again, the workbook holds alice's values; saved unchanged it adds nothing
    again = tmp_path / "alice2.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=again, record_ids=ids)
    assert "nothing changed" in import_extraction(project, again)
    assert _batches(project) == 1


@pytest.mark.parametrize(
    ("sheet", "row", "name", "value", "cell", "fragment"),
    [
        ("Outcomes", 3, "sd", 0, "Outcomes', cell {sd}3", "SD must be > 0"),
        ("Outcomes", 2, "n", 31, "Outcomes', cell {n}2", "larger than the 30 randomised"),
        ("Outcomes", 4, "timepoint_days", None, "Outcomes', cell {timepoint_days}4", "timepoint_days"),
        ("Outcomes", 5, "median", 140, "Outcomes', cell {median}5", "outside the VAS 0-100 mm scale"),
        (
            "Outcomes",
            2,
            "instrument",
            "Brief Pain Inventory",
            "Outcomes', cell {instrument}2",
            "unknown instrument",
        ),
        (
            "Arms",
            2,
            "intervention_class",
            "ketamine-ish",
            "Arms', cell {intervention_class}2",
            "not one of the dropdown values",
        ),
        ("Studies", 2, "n_randomised", 20, "Arms', cell", "add up to 60, more than the 20 randomised"),
        # what people paste or Excel does to a typed value: the message says what to do
        ("Outcomes", 3, "mean", "5.45 (2.6)", "Outcomes', cell {mean}3", "type one number per cell"),
        ("Outcomes", 3, "sd", "<0.001", "Outcomes', cell {sd}3", "'<0.001' is not a value"),
        ("Outcomes", 3, "mean", "45%", "Outcomes', cell {mean}3", "without '%'"),
        (
            "Outcomes",
            2,
            "n",
            datetime.datetime(2026, 10, 1),
            "Outcomes', cell {n}2",
            "Excel turned what was typed into a date",
        ),
    ],
)
def test_bad_cells_are_named_and_nothing_is_imported(
    proj: tuple[Project, list[int]],
    tmp_path: Path,
    sheet: str,
    row: int,
    name: str,
    value: Any,
    cell: str,
    fragment: str,
) -> None:
    project, ids = proj
    out = tmp_path / "alice.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    _fill(out, _outcomes(), {(sheet, row, name): value})
    letters = {c.value: c.column_letter for c in load_workbook(out)["Outcomes"][1]}
    arm_letters = {c.value: c.column_letter for c in load_workbook(out)["Arms"][1]}
    with pytest.raises(WorkbookError) as info:
        import_extraction(project, out)
    message = str(info.value)
    assert fragment in message
    assert cell.format(**letters, **{k: v for k, v in arm_letters.items() if k not in letters}) in message
    assert "nothing was imported" in message
    assert _batches(project) == 0
    assert project.store.extraction_current() == {}


def test_workbook_of_another_project_is_refused(proj: tuple[Project, list[int]], tmp_path: Path) -> None:
    from review.project import init_project

    project, ids = proj
    out = tmp_path / "alice.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    other = init_project(
        tmp_path / "other", Path(__file__).resolve().parents[2] / "protocols" / "ketamine-crps.yaml"
    )
    try:
        with pytest.raises(WorkbookError, match="another project"):
            import_extraction(other, out)
    finally:
        other.close()


def test_double_extraction_conflicts_and_resolution(proj: tuple[Project, list[int]], tmp_path: Path) -> None:
    project, ids = proj
    for reviewer, sd in (("alice", 2.6), ("bob", 2.9)):
        out = tmp_path / f"{reviewer}.xlsx"
        export_extraction(project, form="crps", reviewer=reviewer, out=out, record_ids=ids)
        _fill(out, _outcomes(placebo_sd=sd))
        import_extraction(project, out)
    (dis,) = extraction_disagreements(project)
    assert (dis.entity, dis.field, dict(dis.values)) == ("outcome", "sd", {"alice": "2.6", "bob": "2.9"})
    # the disputed row is left out of the table until resolved
    assert "Sigtermans 2009" not in set(effect_table(project)["study"])
    conflicts = tmp_path / "conflicts.xlsx"
    assert "1 disagreements" in export_extraction_conflicts(project, out=conflicts)
    wb = load_workbook(conflicts)
    ws = wb["Conflicts"]
    cols = {c.value: c.column for c in ws[1]}
    assert [ws.cell(2, cols[k]).value for k in ("sheet", "field", "value_a", "value_b")] == [
        "Outcomes",
        "sd",
        "2.6",
        "2.9",
    ]
    ws.cell(2, cols["resolved"]).value = "not a number"
    wb.save(conflicts)
    with pytest.raises(WorkbookError, match=r"sheet 'Conflicts', cell H2: sd must be a number"):
        import_extraction(project, conflicts)
    # a resolution is checked as an extractor's cell is: an SD no NRS 0-10 data can have
    ws.cell(2, cols["resolved"]).value = 26
    wb.save(conflicts)
    with pytest.raises(
        WorkbookError, match=r"cell H2: with the resolved value\(s\), sheet 'Outcomes': SD 26"
    ):
        import_extraction(project, conflicts)
    assert len(extraction_disagreements(project)) == 1
    ws.cell(2, cols["resolved"]).value = 2.6
    wb.save(conflicts)
    assert "0 disagreements left" in import_extraction(project, conflicts)
    assert "no new resolutions" in import_extraction(
        project, conflicts
    ) or "already imported" in import_extraction(project, conflicts)
    table = effect_table(project)
    row = table[(table["study"] == "Sigtermans 2009")].iloc[0]
    assert row["n1"] == 30 and row["yi"] == pytest.approx(2.68 - 5.45)


def _alice_imported(project: Project, ids: list[int], tmp_path: Path) -> Path:
    """Alice's workbook of :func:`_outcomes`, exported, filled and imported."""
    out = tmp_path / "alice.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    _fill(out, _outcomes())
    import_extraction(project, out)
    return out


def test_effect_table_equals_escalc_and_flags(proj: tuple[Project, list[int]], tmp_path: Path) -> None:
    project, ids = proj
    _alice_imported(project, ids, tmp_path)
    table = effect_table(project)
    assert tuple(table.columns) == EFFECT_COLUMNS
    assert len(table) == 3
    sig = table[table["study"] == "Sigtermans 2009"].iloc[0]
    sd1 = from_se(30, 2.68, 0.51).sd
    md = escalc("MD", m1i=[2.68], sd1i=[sd1], n1i=[30], m2i=[5.45], sd2i=[2.6], n2i=[30])
    assert (sig["yi"], sig["vi"]) == (pytest.approx(md.yi[0], abs=1e-12), pytest.approx(md.vi[0], abs=1e-12))
    assert sig["window"] == "<= 2 weeks" and bool(sig["converted"]) and "6.5.2.2" in sig["conversion_method"]
    assert sig["md_scale"] == "0-10"  # pain MDs are on the form's common 0-10 scale (the plot's axis says so)
    assert (
        sig["crps_criteria"] == "IASP 1994" and sig["crps_duration_months"] == 7.5 and not sig["illustrative"]
    )
    kem = table[(table["study"] == "Kemler 2000") & (table["outcome_domain"] == "pain")].iloc[0]
    scs, pt = from_median_iqr(36, 40, 20, 60), from_median_iqr(18, 60, 45, 75)
    md = escalc(
        "MD",
        m1i=[scs.mean / 10],
        sd1i=[scs.sd / 10],
        n1i=[36],
        m2i=[pt.mean / 10],
        sd2i=[pt.sd / 10],
        n2i=[18],
    )
    assert kem["yi"] == pytest.approx(md.yi[0], abs=1e-12) and kem["vi"] == pytest.approx(md.vi[0], abs=1e-12)
    assert (
        kem["illustrative"]
        and kem["window"] == "> 3 months"
        and "rescaled 0-100 to 0-10" in kem["conversion_method"]
    )
    ae = table[table["outcome_domain"] == "adverse_events"].iloc[0]
    rr = escalc("RR", ai=[6], n1i=[36], ci=[0], n2i=[18])
    assert ae["measure"] == "RR" and ae["yi"] == pytest.approx(rr.yi[0], abs=1e-12)
    assert math.isclose(ae["yi"], math.log((6.5 / 37) / (0.5 / 19)), rel_tol=1e-12)  # 1/2 added to each cell

    message = write_effect_table(project, out_dir=tmp_path / "out")
    assert "3 rows" in message and "1 illustrative" in message and "outcome rows not used" not in message
    assert pd.read_csv(tmp_path / "out" / "effect_table_unused_outcomes.csv").empty
    csv_back = pd.read_csv(tmp_path / "out" / "effect_table.csv")
    assert list(csv_back.columns) == list(EFFECT_COLUMNS)
    assert np.allclose(csv_back["yi"], table["yi"])
    wb = load_workbook(tmp_path / "out" / "effect_table.xlsx")
    assert [c.value for c in wb["effects"][1]] == list(EFFECT_COLUMNS)
    assert wb["effects"].max_row == 4 and "lower = better" in str(wb["columns"]["B12"].value)


def test_cli_extract_import_error_is_one_line(
    proj: tuple[Project, list[int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from review.cli import main

    project, ids = proj
    out = tmp_path / "alice.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    _fill(out, _outcomes(), {("Outcomes", 3, "sd"): -1})
    project.close()
    with pytest.raises(SystemExit) as info:
        main(["extract", "import", str(project.root), str(out)])
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sheet 'Outcomes', cell" in err[0] and "SD must be > 0" in err[0]


@pytest.mark.shared
def test_crps_reference_values_carry_illustrative(
    shared: Path, proj: tuple[Project, list[int]], tmp_path: Path
) -> None:
    """Figures taken from ../shared/crps keep their provenance: not verified=yes -> illustrative."""
    rows = {r["key"]: r for r in csv.DictReader((shared / "crps" / "trials.csv").open(encoding="utf-8"))}
    sig = rows["sigtermans2009_ae_psychomimetic"]  # verified=yes: 76% vs 18% of 30 per arm
    kal = rows["kalita2006_barthel"]  # verified=no (its CI does not contain its estimate)
    assert sig["verified"] == "yes" and kal["verified"] == "no"
    project, ids = proj
    out = tmp_path / "alice.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    n1, n2 = int(sig["n_intervention"]), int(sig["n_control"])
    ae = {
        "study": "Sigtermans 2009",
        "domain": "adverse_events",
        "instrument": "Psychomimetic effects",
        "timepoint_days": 4,
    }
    outcomes = [
        {
            **ae,
            "arm": "ketamine",
            "stat_type": "events/N",
            "n": n1,
            "events": round(float(sig["int_value"]) / 100 * n1),
        },
        {
            **ae,
            "arm": "placebo",
            "stat_type": "events/N",
            "n": n2,
            "events": round(float(sig["ctrl_value"]) / 100 * n2),
        },
        # Kalita's Barthel change scores, borrowed onto Kemler's arms only to exercise the flag
        {
            "study": "Kemler 2000",
            "arm": "SCS",
            "domain": "function",
            "instrument": "Barthel index",
            "timepoint_days": 30,
            "stat_type": "change mean/SD",
            "n": 30,
            "mean": float(kal["int_value"]),
            "sd": 5.0,
            "illustrative": "no" if kal["verified"] == "yes" else "yes",
            "source": kal["source_url"],
        },
        {
            "study": "Kemler 2000",
            "arm": "PT",
            "domain": "function",
            "instrument": "Barthel index",
            "timepoint_days": 30,
            "stat_type": "change mean/SD",
            "n": 18,
            "mean": float(kal["ctrl_value"]),
            "sd": 5.0,
            "illustrative": "no" if kal["verified"] == "yes" else "yes",
            "source": kal["source_url"],
        },
    ]
    _fill(out, outcomes)
    import_extraction(project, out)
    table = effect_table(project).set_index(["study", "outcome_domain"])
    assert not table.loc[("Sigtermans 2009", "adverse_events"), "illustrative"]
    assert table.loc[("Sigtermans 2009", "adverse_events"), "yi"] == pytest.approx(math.log(23 / 5))
    assert table.loc[("Kemler 2000", "function"), "illustrative"]
    assert table.loc[("Kemler 2000", "function"), "measure"] == "SMD"


def test_row_only_one_extractor_has_is_kept_or_dropped(
    proj: tuple[Project, list[int]], tmp_path: Path
) -> None:
    project, ids = proj
    for reviewer, rows in (("alice", _outcomes()), ("bob", _outcomes()[:4])):  # bob has no adverse events
        out = tmp_path / f"{reviewer}.xlsx"
        export_extraction(project, form="crps", reviewer=reviewer, out=out, record_ids=ids)
        _fill(out, rows)
        import_extraction(project, out)
    open_ = extraction_disagreements(project)
    assert sorted(d.field for d in open_) == ["__row__", "__row__"]
    assert "adverse_events" not in set(effect_table(project)["outcome_domain"])
    conflicts = tmp_path / "conflicts.xlsx"
    export_extraction_conflicts(project, out=conflicts, resolver="carol")
    wb = load_workbook(conflicts)
    ws = wb["Conflicts"]
    cols = {c.value: c.column for c in ws[1]}
    assert {ws.cell(r, cols["field"]).value for r in (2, 3)} == {"(row)"}
    assert {ws.cell(r, cols["value_b"]).value for r in (2, 3)} == {"no such row"}
    ws.cell(2, cols["resolved"]).value = "maybe"
    wb.save(conflicts)
    with pytest.raises(WorkbookError, match="write keep or drop"):
        import_extraction(project, conflicts)
    ws.cell(2, cols["resolved"]).value = "keep"
    ws.cell(3, cols["resolved"]).value = "keep"
    wb.save(conflicts)
    assert "by carol" in import_extraction(project, conflicts)
    assert extraction_disagreements(project) == []
    assert "adverse_events" in set(effect_table(project)["outcome_domain"])
    history = project.store.extraction_history()
    assert [(h["reviewer"], h["role"]) for h in history] == [
        ("alice", "extractor"),
        ("bob", "extractor"),
        ("carol", "resolver"),
    ]


def test_out_of_date_workbook_is_refused_not_silently_dropping_values(
    proj: tuple[Project, list[int]], tmp_path: Path
) -> None:
    """Two workbooks for one reviewer from the same state: the second would drop the first's rows."""
    project, ids = proj
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=first, record_ids=ids)
    export_extraction(project, form="crps", reviewer="alice", out=second, record_ids=ids)
    outcomes = _outcomes()
    _fill(first, outcomes[:2])
    _fill(second, outcomes[2:])
    import_extraction(project, first)
    with pytest.raises(WorkbookError, match=r"out of date.*Export a fresh workbook"):
        import_extraction(project, second)
    assert _batches(project) == 1
    # the first workbook itself, edited further and imported again, is not out of date
    _fill(first, outcomes[:2], edit={("Outcomes", 3, "sd"): 2.7})
    assert "imported a.xlsx" in import_extraction(project, first)
    # a fresh export carries alice's values; the refused entries go there
    fresh = tmp_path / "c.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=fresh, record_ids=ids)
    wb = load_workbook(fresh)
    assert wb["Outcomes"].max_row >= 3 and wb["Outcomes"]["A2"].value is not None
    # --force makes the out-of-date workbook the whole extraction, on purpose
    assert "imported b.xlsx" in import_extraction(project, second, force=True)
    assert _batches(project) == 3


def test_pasted_spaces_and_minus_signs_are_read_as_typed(
    proj: tuple[Project, list[int]], tmp_path: Path
) -> None:
    """No-break spaces (from a PDF or web page), a trailing space, a typographic minus and a
    decimal comma give the same values as clean typing (bob's pasted cells equal alice's)."""
    project, ids = proj
    clean = tmp_path / "clean.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=clean, record_ids=ids)
    outcomes = _outcomes()
    outcomes.append(
        {
            **outcomes[0],
            "domain": "function",
            "instrument": "DASH",
            "stat_type": "change mean/SD",
            "mean": -12.5,
            "sd": 3.5,
            "se": None,
        }
    )
    outcomes.append(
        {
            **outcomes[1],
            "domain": "function",
            "instrument": "DASH",
            "stat_type": "change mean/SD",
            "mean": -3.0,
            "sd": 4.0,
        }
    )
    _fill(clean, outcomes)
    import_extraction(project, clean)
    messy = tmp_path / "messy.xlsx"
    export_extraction(project, form="crps", reviewer="bob", out=messy, record_ids=ids)
    pasted = [dict(r) for r in outcomes]
    pasted[0]["study"] = "Sigtermans\u00a02009 "
    pasted[0]["instrument"] = "NRS\u00a00-10"
    pasted[0]["mean"] = "2,68"
    pasted[1]["stat_type"] = "mean/SD\u00a0"
    pasted[6]["mean"] = "\u221212.5"
    pasted[6]["sd"] = "3.5\u00a0"
    pasted[7]["mean"] = "\u20133"
    _fill(messy, pasted)
    assert "8 outcome rows" in import_extraction(project, messy)
    current = project.store.extraction_current()
    assert current["bob"] == current["alice"]


def test_renamed_sheet_is_named_in_the_error(proj: tuple[Project, list[int]], tmp_path: Path) -> None:
    project, ids = proj
    out = tmp_path / "alice.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    _fill(out, _outcomes())
    wb = load_workbook(out)
    wb["Outcomes"].title = "Outcomes (2)"
    wb.save(out)
    with pytest.raises(WorkbookError) as info:
        import_extraction(project, out)
    assert "'Outcomes (2)'" in str(info.value) and "rename it back to 'Outcomes'" in str(info.value)
    wb["Outcomes (2)"].title = "outcomes "  # other case and a trailing space: still that sheet
    wb.save(out)
    assert "6 outcome rows" in import_extraction(project, out)


def test_a_deleted_row_is_named_on_import(proj: tuple[Project, list[int]], tmp_path: Path) -> None:
    project, ids = proj
    _alice_imported(project, ids, tmp_path)
    again = tmp_path / "alice2.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=again, record_ids=ids)
    wb = load_workbook(again)
    ws = wb["Outcomes"]
    gone = [c.value for c in ws[2]][:4]
    ws.delete_rows(2)
    wb.save(again)
    message = import_extraction(project, again)
    assert "5 outcome rows" in message
    assert "1 row(s) alice imported before are not in this workbook" in message
    assert " / ".join(str(v) for v in gone) in message


def test_swapped_ci_limits_are_named(proj: tuple[Project, list[int]], tmp_path: Path) -> None:
    project, ids = proj
    out = tmp_path / "alice.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    outcomes = _outcomes()
    outcomes[0].update({"stat_type": "mean/95% CI", "se": None, "ci_low": 3.7, "ci_high": 1.7})
    _fill(out, outcomes)
    letter = {c.value: c.column_letter for c in load_workbook(out)["Outcomes"][1]}["ci_low"]
    with pytest.raises(WorkbookError) as info:
        import_extraction(project, out)
    assert f"cell {letter}2: ci_low (3.7) is larger than ci_high (1.7)" in str(info.value)


def test_sd_from_the_p_value_between_two_arms(proj: tuple[Project, list[int]], tmp_path: Path) -> None:
    """Means with the exact P of their t test and no SD (Cochrane Handbook 6.5.2.3): one SD for
    both arms, SD = |m1 - m2| / t(1 - P/2, n1 + n2 - 2) / sqrt(1/n1 + 1/n2) (R: qt)."""
    project, ids = proj
    out = tmp_path / "alice.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    outcomes = _outcomes()
    for row, mean in ((outcomes[0], 2.68), (outcomes[1], 5.45)):
        row.update(
            {"stat_type": "mean/P (t test)", "mean": mean, "sd": None, "se": None, "p_between": 0.0002}
        )
    _fill(out, outcomes)
    import_extraction(project, out)
    row = effect_table(project).set_index(["study", "outcome_domain"]).loc[("Sigtermans 2009", "pain")]
    sd = 2.77 / 3.970964676511944 / math.sqrt(2 / 30)  # R: qt(1 - 0.0002/2, 58) = 3.970964676511944
    assert row["yi"] == pytest.approx(2.68 - 5.45, rel=1e-12)
    assert row["vi"] == pytest.approx(sd**2 * 2 / 30, rel=1e-9)
    assert "SD from P = 0.0002" in row["conversion_method"] and row["converted"]


@pytest.mark.parametrize(
    ("second", "fragment"),
    [
        ({"p_between": 0.03}, "the two arms' P values differ"),
        (
            {"stat_type": "mean/SD", "sd": 2.6, "p_between": None},
            "compares two arms, but Sigtermans 2009 has 1",
        ),
        ({"p_between": 0}, "P value must be between 0 and 1"),
        ({"mean": 2.68}, "the two means are equal"),  # refused on import, not when pooling
    ],
)
def test_a_p_value_that_cannot_give_the_sd_is_named(
    proj: tuple[Project, list[int]], tmp_path: Path, second: dict[str, Any], fragment: str
) -> None:
    project, ids = proj
    out = tmp_path / "alice.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    outcomes = _outcomes()
    for row in outcomes[:2]:
        row.update({"stat_type": "mean/P (t test)", "sd": None, "se": None, "p_between": 0.01})
    outcomes[1].update(second)
    _fill(out, outcomes)
    with pytest.raises(WorkbookError, match="sheet 'Outcomes'") as info:
        import_extraction(project, out)
    assert fragment in str(info.value)


def test_a_workbook_exported_before_an_optional_column_was_added_still_imports(
    proj: tuple[Project, list[int]], tmp_path: Path
) -> None:
    project, ids = proj
    out = tmp_path / "alice.xlsx"
    export_extraction(project, form="crps", reviewer="alice", out=out, record_ids=ids)
    _fill(out, _outcomes())
    wb = load_workbook(out)
    ws = wb["Outcomes"]
    col = [c.value for c in ws[1]].index("p_between") + 1
    ws.delete_cols(col)
    wb.save(out)
    assert "6 outcome rows" in import_extraction(project, out)


def test_a_disagreement_with_an_empty_cell_can_be_resolved_to_empty(
    proj: tuple[Project, list[int]], tmp_path: Path
) -> None:
    """Alice read SE 0.51, Bob read SD 2.79: the resolver keeps Bob's row, so Alice's se must go.
    The sheet shows Bob's se as "(empty)"; writing that settles it (it could not be, before)."""
    project, ids = proj
    for reviewer in ("alice", "bob"):
        out = tmp_path / f"{reviewer}.xlsx"
        export_extraction(project, form="crps", reviewer=reviewer, out=out, record_ids=ids)
        outcomes = _outcomes()
        if reviewer == "bob":
            outcomes[0].update({"stat_type": "mean/SD", "se": None, "sd": 2.79})
        _fill(out, outcomes)
        import_extraction(project, out)
    conflicts = tmp_path / "conflicts.xlsx"
    export_extraction_conflicts(project, out=conflicts)
    wb = load_workbook(conflicts)
    ws = wb["Conflicts"]
    cols = {c.value: c.column for c in ws[1]}
    fields = {
        ws.cell(r, cols["field"]).value: r
        for r in range(2, ws.max_row + 1)
        if ws.cell(r, cols["field"]).value
    }
    assert ws.cell(fields["se"], cols["value_b"]).value == "(empty)"
    for name, value in (("stat_type", "mean/SD"), ("sd", 2.79), ("se", "(empty)")):
        ws.cell(fields[name], cols["resolved"]).value = value
    wb.save(conflicts)
    assert "0 disagreements left" in import_extraction(project, conflicts)
    row = effect_table(project).set_index(["study", "outcome_domain"]).loc[("Sigtermans 2009", "pain")]
    assert row["vi"] == pytest.approx(2.79**2 / 30 + 2.6**2 / 30, rel=1e-12)
