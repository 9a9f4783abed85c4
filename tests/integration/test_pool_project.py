"""`review pool`: every outcome x comparison x window of the plan, workbook + CSV + plots."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from review.pooling import rma
from review.project.pool import pool_effects


def _row(
    study: str,
    comparison: str,
    klass: str,
    outcome: str,
    window: str,
    measure: str,
    yi: float,
    vi: float,
    **kw: Any,
) -> dict[str, Any]:
    base = dict(
        study=study,
        record_ids="1",
        comparison=comparison,
        intervention_class=klass,
        control_class="placebo",
        outcome_domain=outcome,
        instrument="NRS 0-10",
        window=window,
        timepoint_days=7,
        measure=measure,
        yi=yi,
        vi=vi,
        n1=20,
        n2=21,
        converted=False,
        conversion_method="",
        illustrative=False,
        source="test",
        crps_duration_months=None,
        crps_criteria="",
        direction="lower is better",
        outcome_type="final",
        rob_overall="low",
    )
    base.update(kw)
    return base


def _frame() -> pd.DataFrame:
    rows = [
        _row(
            "Sigtermans 2009",
            "IV ketamine vs placebo",
            "iv_ketamine",
            "pain",
            "<= 2 weeks",
            "MD",
            -1.2,
            0.30,
            crps_duration_months=7.0,
            crps_criteria="IASP",
            illustrative=True,
            rob_overall="low",
        ),
        _row(
            "Schwartzman 2009",
            "IV ketamine vs placebo",
            "iv_ketamine",
            "pain",
            "<= 2 weeks",
            "MD",
            -2.1,
            0.45,
            crps_duration_months=80.0,
            crps_criteria="Budapest",
            rob_overall="high",
        ),
        _row(
            "Trial C 2015",
            "IV ketamine vs placebo",
            "iv_ketamine",
            "pain",
            "<= 2 weeks",
            "MD",
            -0.4,
            0.25,
            crps_duration_months=30.0,
            crps_criteria="Budapest",
        ),
        _row(
            "Trial D 2018",
            "IV ketamine vs placebo",
            "iv_ketamine",
            "pain",
            "<= 2 weeks",
            "MD",
            -1.6,
            0.5,
            crps_duration_months=12.0,
            crps_criteria="IASP",
        ),
        _row(
            "Sigtermans 2009",
            "IV ketamine vs placebo",
            "iv_ketamine",
            "pain",
            "2 weeks to 3 months",
            "MD",
            -0.8,
            0.4,
        ),
        _row(
            "Varenna 2013",
            "Bisphosphonate vs placebo",
            "bisphosphonate",
            "pain",
            "<= 2 weeks",
            "MD",
            -1.9,
            0.3,
        ),
        _row(
            "Varenna 2013",
            "Bisphosphonate vs placebo",
            "bisphosphonate",
            "function",
            "<= 2 weeks",
            "SMD",
            0.5,
            0.1,
        ),
    ]
    return pd.DataFrame(rows)


def test_pool_effects_plan_cells(project: Any) -> None:
    proto = project.protocol
    windows = [w.label for w in proto.follow_up_windows]
    out = pool_effects(
        _frame(),
        proto.outcomes,
        proto.analysis.comparisons,
        windows,
        method="REML",
        hksj=True,
        moderators=("crps_duration_months",),
        subgroups=("crps_criteria",),
    )
    assert len(out) == len(proto.outcomes) * len(proto.analysis.comparisons) * len(windows)
    cell = {(a["outcome"], a["comparison"], a["window"]): a for a in out}
    pooled = cell[("pain", "IV ketamine vs placebo", "<= 2 weeks")]
    assert pooled["status"] == "pooled" and pooled["k"] == 4 and pooled["participants"] == 4 * 41
    ref = rma([-1.2, -2.1, -0.4, -1.6], [0.30, 0.45, 0.25, 0.5], "REML", hksj=True)
    assert pooled["estimate"] == pytest.approx(ref.estimate, rel=1e-12)
    assert pooled["ci_low"] == pytest.approx(ref.ci_low, rel=1e-12)
    assert pooled["illustrative"] is True and pooled["rob_high"] == 1
    assert "crps_duration_months: slope" in pooled["moderator_text"]
    assert "crps_criteria: Q =" in pooled["subgroup_text"]
    single = cell[("pain", "IV ketamine vs placebo", "2 weeks to 3 months")]
    assert single["status"] == "single study" and "estimate" not in single
    assert single["effect_text"].startswith("1 study, not pooled")
    assert cell[("pain", "IV ketamine vs placebo", "> 3 months")]["status"] == "no studies"


def test_pool_project_writes_workbook_csv_and_plots(
    project: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import review.project.extract as extract
    from review.project.pool import pool_project

    monkeypatch.setattr(extract, "effect_table", lambda _project: _frame())
    message = pool_project(project, out_dir=tmp_path / "pooled")
    assert "pooled 1 analyses" in message and "resting on illustrative data" in message
    with (tmp_path / "pooled" / "pooled_results.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(project.protocol.outcomes) * len(project.protocol.analysis.comparisons) * 3
    wb = load_workbook(tmp_path / "pooled" / "pooled_results.xlsx")
    assert wb.sheetnames[0] == "Summary"
    assert [o.domain for o in project.protocol.outcomes] == wb.sheetnames[1:]
    summary = [[c for c in r] for r in wb["Summary"].iter_rows(values_only=True)]
    flat = [str(c) for r in summary for c in r if c is not None]
    assert "Pain intensity" in flat and "Function and disability" in flat
    assert any("1 study, not pooled" in c for c in flat)
    plots = tmp_path / "pooled" / "plots"
    pngs = sorted(plots.glob("forest_*.png"))
    assert len(pngs) == 1 and pngs[0].with_suffix(".svg").exists()
    assert (plots / pngs[0].name.replace("forest_", "funnel_")).exists()
    svg = pngs[0].with_suffix(".svg").read_text(encoding="utf-8")
    # arms named as in the protocol's comparison label, not by class name ("iv ketamine")
    assert "Favours IV ketamine" in svg and "Favours placebo" in svg
    assert "Favours iv ketamine" not in svg
    assert np.isfinite(float(rows[0]["estimate"]))
    # pooled again with fewer studies: the old plots of analyses now gone are removed
    monkeypatch.setattr(extract, "effect_table", lambda _project: _frame().iloc[:0])
    pool_project(project, out_dir=tmp_path / "pooled")
    assert not list(plots.glob("*"))


def test_rr_study_with_no_events_in_either_arm_is_not_estimable(tmp_path: Path) -> None:
    """A 0/10 vs 0/10 study is left out of RR pooling (Handbook 10.4.4.2), shown as "Not
    estimable"; the rest agree with metafor's rma(measure="RR", drop00=TRUE, method="REML",
    test="knha") (metafor 3.8-1, threshold 1e-12: estimate 1.355233921712, se 0.261877273290)."""
    from review.effects import escalc
    from review.protocol import Comparison, Outcome

    ai, n1, ci, n2 = [0, 3, 6], [10, 14, 15], [0, 0, 2], [10, 13, 17]
    es = escalc(
        "RR", ai=np.array(ai, float), n1i=np.array(n1, float), ci=np.array(ci, float), n2i=np.array(n2, float)
    )
    rows = [
        _row(
            s,
            "Bisphosphonate vs placebo",
            "bisphosphonate",
            "responders",
            "2 weeks to 3 months",
            "RR",
            float(es.yi[i]),
            float(es.vi[i]),
            n1=n1[i],
            n2=n2[i],
            events1=ai[i],
            events2=ci[i],
        )
        for i, s in enumerate(["Adami 1997", "Robinson 2004", "Varenna 2000"])
    ]
    out = pool_effects(
        pd.DataFrame(rows),
        [Outcome(domain="responders", measure="RR", lower_is_better=False)],
        [Comparison(label="Bisphosphonate vs placebo", intervention="bisphosphonate", controls=("placebo",))],
        ["2 weeks to 3 months"],
        method="REML",
        hksj=True,
        plot_dir=tmp_path,
    )
    (a,) = out
    assert a["k"] == 2
    assert a["participants"] == sum(n1) + sum(n2)  # RevMan counts them in the total
    assert a["not_estimable"] == "Adami 1997"
    assert "Adami 1997 (not estimable" in a["studies"]
    assert a["estimate"] == pytest.approx(1.355233921712, rel=1e-6)
    assert a["se"] == pytest.approx(0.261877273290, rel=1e-6)
    svg = (tmp_path / Path(a["forest"]).name).with_suffix(".svg").read_text()
    assert "Not estimable" in svg and "Adami 1997" in svg
    # every study double-zero: nothing to pool, said so
    (b,) = pool_effects(
        pd.DataFrame([rows[0]]),
        [Outcome(domain="responders", measure="RR", lower_is_better=False)],
        [Comparison(label="Bisphosphonate vs placebo", intervention="bisphosphonate", controls=("placebo",))],
        ["2 weeks to 3 months"],
    )
    assert b["status"] == "not estimable" and b["k"] == 0
    # the risk difference keeps the study (a real difference of 0)
    rd = [dict(r, measure="RD") for r in rows]
    (c,) = pool_effects(
        pd.DataFrame(rd),
        [Outcome(domain="responders", measure="RD", lower_is_better=False)],
        [Comparison(label="Bisphosphonate vs placebo", intervention="bisphosphonate", controls=("placebo",))],
        ["2 weeks to 3 months"],
    )
    assert c["k"] == 3 and not c.get("not_estimable")


def test_risk_of_bias_not_assessed_is_not_reported_as_low(project: Any) -> None:
    """ "RoB high 0/4" read as "no study at high risk" when nobody had judged risk of bias."""
    proto = project.protocol
    frame = _frame()
    pain = (frame["outcome_domain"] == "pain") & (frame["window"] == "<= 2 weeks")
    args = (proto.outcomes, proto.analysis.comparisons, [w.label for w in proto.follow_up_windows])

    def pain_cell(f: pd.DataFrame) -> dict[str, Any]:
        return next(
            a
            for a in pool_effects(f, *args)
            if (a["outcome"], a["comparison"], a["window"])
            == ("pain", "IV ketamine vs placebo", "<= 2 weeks")
        )

    none = pain_cell(frame.assign(rob_overall=None))
    assert none["rob_high"] is None and "RoB not assessed" in none["certainty_text"]
    partly = frame.copy()
    partly.loc[pain & (partly["study"] == "Trial C 2015"), "rob_overall"] = None
    some = pain_cell(partly)
    assert some["rob_high"] == 1 and "RoB high 1/4 (1 not assessed)" in some["certainty_text"]


def test_prespecified_moderator_and_subgroup_analyses_say_why_they_did_not_run(project: Any) -> None:
    proto = project.protocol
    frame = _frame()
    frame.loc[frame["study"] == "Trial C 2015", "crps_duration_months"] = None
    frame["crps_criteria"] = "IASP"
    out = pool_effects(
        frame,
        proto.outcomes,
        proto.analysis.comparisons,
        [w.label for w in proto.follow_up_windows],
        moderators=("crps_duration_months",),
        subgroups=("crps_criteria",),
    )
    (pain,) = [a for a in out if a["status"] == "pooled" and a["outcome"] == "pain"]
    assert (
        pain["moderator_text"]
        == "crps_duration_months: not run (3 of 4 studies have a value; at least 4 needed)"
    )
    assert pain["subgroup_text"] == "crps_criteria: not run (all 4 studies with a value are 'IASP')"


def test_pool_says_when_extraction_disagreements_are_open(
    project: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disputed cells are left out of the effect table until resolved; pooling must not
    present the result as if every study were in it."""
    import review.project.extract as extract
    from review.project.pool import pool_project

    monkeypatch.setattr(extract, "effect_table", lambda _project: _frame())
    monkeypatch.setattr(extract, "extraction_disagreements", lambda _project: ["a", "b"])
    message = pool_project(project, out_dir=tmp_path / "pooled")
    assert "2 extraction disagreement(s) still open" in message
    wb = load_workbook(tmp_path / "pooled" / "pooled_results.xlsx")
    cells = [str(c) for r in wb["Summary"].iter_rows(values_only=True) for c in r if c]
    assert any(c.startswith("NOT FINAL: 2 extraction disagreement(s)") for c in cells)


def test_md_axis_names_its_scale(tmp_path: Path) -> None:
    from review.protocol import Comparison, Outcome

    frame = _frame().assign(md_scale="0-10")
    (a,) = [
        a
        for a in pool_effects(
            frame,
            [Outcome(domain="pain", measure="MD", lower_is_better=True)],
            [Comparison(label="IV ketamine vs placebo", intervention="iv_ketamine", controls=("placebo",))],
            ["<= 2 weeks"],
            plot_dir=tmp_path,
        )
    ]
    assert "Mean difference (points on a 0-10 scale)" in Path(a["forest"]).with_suffix(".svg").read_text()


def test_smd_of_final_values_and_change_scores_is_flagged(tmp_path: Path) -> None:
    """Cochrane Handbook 10.5.2: SMDs of change scores and of final values are not comparable."""
    from review.protocol import Comparison, Outcome

    rows = [
        _row(
            s, "IV ketamine vs placebo", "iv_ketamine", "function", "<= 2 weeks", "SMD", y, v, outcome_type=t
        )
        for s, y, v, t in (("A", 0.4, 0.1, "final"), ("B", 0.2, 0.12, "final"), ("C", 0.9, 0.2, "change"))
    ]
    args = (
        [Outcome(domain="function", measure="SMD", lower_is_better=False)],
        [Comparison(label="IV ketamine vs placebo", intervention="iv_ketamine", controls=("placebo",))],
        ["<= 2 weeks"],
    )
    (a,) = pool_effects(pd.DataFrame(rows), *args)
    assert "Cochrane Handbook 10.5.2" in a["warning"] and "outcome_type: Q =" in a["warning"]
    assert "WARNING: final values and change scores" in a["certainty_text"]
    (b,) = pool_effects(pd.DataFrame(rows[:2]), *args)
    assert not b.get("warning")
