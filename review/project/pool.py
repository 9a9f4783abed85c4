"""``review pool DIR``: pool every outcome x comparison x follow-up window of the analysis plan.

Reads the tidy effect table (:func:`review.project.extract.effect_table`), pools each cell of
the protocol's plan with its method (REML by default, HKSJ if the protocol says so), and
writes a pooled-results workbook (summary sheet + one sheet per outcome), a CSV with one row
per analysis, and forest and funnel plots (PNG + SVG). Windows with a single study are
reported, not pooled.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from review.effects import RATIO_MEASURES
from review.errors import StudyDataError
from review.plots import forest_plot, funnel_plot
from review.pooling import MetaResult, egger_test, meta_regression, rma, subgroup_analysis
from review.project import Project
from review.protocol import Comparison, Outcome
from review.workbooks.results import write_results_workbook

__all__ = ["CSV_COLUMNS", "pool_effects", "pool_project"]

CSV_COLUMNS = (
    "outcome",
    "comparison",
    "intervention_class",
    "control_classes",
    "window",
    "status",
    "measure",
    "method",
    "hksj",
    "k",
    "participants",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "pval",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_pval",
    "pi_low",
    "pi_high",
    "effect_text",
    "egger_pval",
    "rob_high",
    "ci_crosses_null",
    "pi_crosses_null",
    "moderator_text",
    "subgroup_text",
    "illustrative",
    "studies",
    "forest",
    "funnel",
    "not_estimable",
    "warning",
)
EGGER_MIN_K = 10  # Cochrane Handbook 13.3.5.4: tests for funnel asymmetry need >= 10 studies


def _slug(*parts: str) -> str:
    text = (
        "_".join(parts)
        .lower()
        .replace("<=", " le ")
        .replace(">=", " ge ")
        .replace("<", " lt ")
        .replace(">", " gt ")
    )
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:90]


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "yes", "1", "y")
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return False
    return bool(v)


def _fmt_effect(est: float, lo: float, hi: float, ratio: bool) -> str:
    f = math.exp if ratio else (lambda x: x)
    return f"{f(est):.2f} ({f(lo):.2f} to {f(hi):.2f})"


def _rows_for(frame: pd.DataFrame, outcome: Outcome, comp: Comparison, window: str) -> pd.DataFrame:
    sel = frame[(frame["outcome_domain"] == outcome.domain) & (frame["window"] == window)]
    by_label = sel[sel["comparison"] == comp.label]
    if len(by_label):
        return by_label
    # No table rows carry the comparison's label: match by class instead. The masks are built from
    # the cells as Python values, so a missing class (NaN, None or pd.NA in a nullable "string"
    # column) is simply no match, with no pandas ``&``/``==`` on mixed or nullable dtypes.
    controls = set(comp.controls)

    def _cell(value: Any) -> str:
        return "" if value is None or pd.isna(value) else str(value)

    klass = np.array([_cell(c) == comp.intervention for c in sel["intervention_class"]], dtype=bool)
    ctrl = np.array(
        [bool(set(re.split(r"[;,+ ]+", _cell(c))) & controls) for c in sel["control_class"]], dtype=bool
    )
    return sel[klass & ctrl]


_VERSUS = re.compile(r"\s+(?:vs\.?|versus|v\.)\s+", re.IGNORECASE)


def _arm_names(comp: Comparison) -> tuple[str, str]:
    """The two arms as a clinician names them, for the plot's "Favours ..." labels.

    Taken from the comparison's label ("IV ketamine vs placebo" -> "IV ketamine", "placebo"),
    so "IV" stays upper case; a label without "vs" falls back to the class names (underscores
    as spaces, several controls joined by " / ").
    """
    parts = _VERSUS.split(comp.label.strip(), maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return parts[0].strip(), parts[1].strip()
    return comp.intervention.replace("_", " "), " / ".join(c.replace("_", " ") for c in comp.controls)


def _moderator_text(rows: pd.DataFrame, columns: Sequence[str], method: str, hksj: bool, ratio: bool) -> str:
    out = []
    for col in columns:
        if col not in rows.columns:
            continue
        x = pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float)
        keep = np.isfinite(x)
        if keep.sum() < 4:
            out.append(
                f"{col}: not run ({int(keep.sum())} of {len(x)} studies have a value; at least 4 needed)"
            )
            continue
        if np.ptp(x[keep]) == 0:
            out.append(f"{col}: not run (the same value in every study)")
            continue
        try:
            reg = meta_regression(
                rows["yi"].to_numpy(float)[keep],
                rows["vi"].to_numpy(float)[keep],
                x[keep],
                method,
                hksj,
                name=col,
            )
        except StudyDataError as exc:
            out.append(f"{col}: not run ({exc})")
            continue
        s = reg.coefficients[1]
        scale = " (log scale)" if ratio else ""
        r2 = f", R² {reg.r2:.0f}%" if reg.r2 is not None else ""
        out.append(
            f"{col}: slope {s.estimate:.3g}{scale} per unit (95% CI {s.ci_low:.3g} to {s.ci_high:.3g}), "
            f"P = {s.pval:.3g}, k = {reg.k}{r2}" + (" (exploratory: k < 10)" if reg.k < 10 else "")
        )
    return "; ".join(out)


def _subgroup_text(rows: pd.DataFrame, columns: Sequence[str], method: str, hksj: bool) -> str:
    out = []
    for col in columns:
        if col not in rows.columns:
            continue
        vals = rows[col].map(
            lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()
        )
        keep = (vals != "").to_numpy()
        groups = vals[keep].tolist()
        if len(set(groups)) < 2:
            shown = (
                f"all {len(groups)} studies with a value are {groups[0]!r}"
                if groups
                else "no study has a value"
            )
            out.append(f"{col}: not run ({shown})")
            continue
        try:
            sg = subgroup_analysis(
                rows["yi"].to_numpy(float)[keep], rows["vi"].to_numpy(float)[keep], groups, method, hksj
            )
        except StudyDataError as exc:
            out.append(f"{col}: not run ({exc})")
            continue
        out.append(f"{col}: Q = {sg.q_between:.2f}, df = {sg.df_between}, P = {sg.q_between_pval:.3g}")
    return "; ".join(out)


def _md_unit(rows: pd.DataFrame, measure: str) -> str | None:
    """'points on a 0-10 scale' for an MD whose studies share one scale (the axis label)."""
    if measure != "MD" or "md_scale" not in rows.columns:
        return None
    scales = {str(v) for v in rows["md_scale"] if v is not None and not pd.isna(v) and str(v).strip()}
    return f"points on a {scales.pop()} scale" if len(scales) == 1 and len(rows) else None


def _rob_counts(rows: pd.DataFrame) -> dict[str, int | None]:
    """Studies with a RoB 2 overall judgement, and how many are 'high'. None when no study of
    the analysis was assessed: "0 high" would read as low risk when nobody has looked."""
    if not len(rows) or "rob_overall" not in rows.columns:
        return {"rob_high": None, "rob_assessed": 0}
    judged = [
        str(v).strip().lower()
        for v in rows["rob_overall"]
        if v is not None and not pd.isna(v) and str(v).strip()
    ]
    if not judged:
        return {"rob_high": None, "rob_assessed": 0}
    return {"rob_high": sum("high" in j for j in judged), "rob_assessed": len(judged)}


def _not_estimable(rows: pd.DataFrame, measure: str) -> np.ndarray:
    """Rows of a RR or OR analysis whose study has no events (or only events) in both arms.

    Such a study carries no information on a ratio; RevMan leaves it out as "not estimable"
    (Cochrane Handbook 10.4.4.2), and so does metafor with ``drop00=TRUE`` (and ``rma.mh``).
    Without this, the 0.5 added to its cells would pool it as a ratio of 1 with a made-up
    weight. The risk difference keeps it (it is a real difference of 0).
    """
    if measure not in ("RR", "OR") or not len(rows) or not {"events1", "events2"} <= set(rows.columns):
        return np.zeros(len(rows), dtype=bool)
    e1, e2, n1, n2 = (
        pd.to_numeric(rows[c], errors="coerce").to_numpy(float) for c in ("events1", "events2", "n1", "n2")
    )
    with np.errstate(invalid="ignore"):
        return ((e1 == 0) & (e2 == 0)) | ((e1 == n1) & (e2 == n2))


def pool_effects(
    frame: pd.DataFrame,
    outcomes: Sequence[Outcome],
    comparisons: Sequence[Comparison],
    windows: Sequence[str],
    *,
    method: str = "REML",
    hksj: bool = False,
    moderators: Sequence[str] = (),
    subgroups: Sequence[str] = (),
    plot_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """Pool every outcome x comparison x window of a tidy effect table; one dict per analysis."""
    out: list[dict[str, Any]] = []
    cells = [(o, c, w) for o in outcomes for c in comparisons for w in windows]
    for outcome, comp, window in tqdm(cells, desc="pooling", unit="analysis", disable=len(cells) < 10):
        rows = _rows_for(frame, outcome, comp, window) if len(frame) else frame
        measures = sorted(set(rows["measure"].astype(str))) if len(rows) else [outcome.measure]
        measure = outcome.measure if outcome.measure in measures else measures[0]
        rows = rows[rows["measure"].astype(str) == measure] if len(rows) else rows
        rows = (
            rows[np.isfinite(rows["yi"].astype(float)) & np.isfinite(rows["vi"].astype(float))]
            if len(rows)
            else rows
        )
        drop = _not_estimable(rows, measure)
        not_estimable = rows["study"][drop].astype(str).tolist() if drop.any() else []
        participants = (
            int(pd.to_numeric(rows["n1"]).sum() + pd.to_numeric(rows["n2"]).sum()) if len(rows) else 0
        )
        all_rows = rows  # for the forest plot, where a not-estimable study keeps its row
        rows = rows[~drop] if drop.any() else rows
        ratio = measure in RATIO_MEASURES
        k = len(rows)
        a: dict[str, Any] = {
            "outcome": outcome.domain,
            "comparison": comp.label,
            "intervention_class": comp.intervention,
            "control_classes": "; ".join(comp.controls),
            "window": window,
            "measure": measure,
            "method": method,
            "hksj": hksj,
            "k": k,
            "participants": participants,
            "illustrative": bool(k and rows["illustrative"].map(_truthy).any()),
            "studies": "; ".join(rows["study"].astype(str)) if k else "",
            **_rob_counts(rows),
        }
        a["method_text"] = f"{method}{' + HKSJ' if hksj else ''}"
        if not_estimable:
            a["not_estimable"] = "; ".join(not_estimable)
            a["studies"] = "; ".join(
                [x for x in [a["studies"]] if x]
                + [f"{st} (not estimable: no events, or only events, in both arms)" for st in not_estimable]
            )
        if k == 0:
            a["status"] = "not estimable" if not_estimable else "no studies"
            if not_estimable:
                a["effect_text"] = "not estimable: every study has no events (or only events) in both arms"
            out.append(a)
            continue
        yi = rows["yi"].to_numpy(float)
        vi = rows["vi"].to_numpy(float)
        labels = rows["study"].astype(str).tolist()
        if k == 1:
            se = math.sqrt(vi[0])
            a["status"] = "single study"
            a["effect_text"] = (
                f"1 study, not pooled: {_fmt_effect(yi[0], yi[0] - 1.959964 * se, yi[0] + 1.959964 * se, ratio)}"
            )
            a["method_text"] = "not pooled (one study)"
            out.append(a)
            continue
        res: MetaResult = rma(yi, vi, method, hksj, labels=labels)
        a.update(
            status="pooled",
            estimate=res.estimate,
            se=res.se,
            ci_low=res.ci_low,
            ci_high=res.ci_high,
            pval=res.pval,
            tau2=res.tau2,
            i2=res.i2,
            h2=res.h2,
            q=res.q,
            q_pval=res.q_pval,
            pi_low=res.pi_low,
            pi_high=res.pi_high,
            effect_text=_fmt_effect(res.estimate, res.ci_low, res.ci_high, ratio),
            pi_text=_fmt_effect(res.estimate, res.pi_low, res.pi_high, ratio).split(" ", 1)[1].strip("()")
            if method != "FE"
            else "",
            ci_crosses_null=bool(res.ci_low <= 0 <= res.ci_high),
            pi_crosses_null=bool(res.pi_low <= 0 <= res.pi_high),
        )
        if k >= EGGER_MIN_K:
            a["egger_pval"] = egger_test(yi, vi, method, hksj).pval
        a["moderator_text"] = _moderator_text(rows, moderators, method, hksj, ratio)
        a["subgroup_text"] = _subgroup_text(rows, subgroups, method, hksj)
        types = set(rows["outcome_type"].astype(str)) if "outcome_type" in rows.columns else set()
        if measure == "SMD" and {"final", "change"} <= types:
            # Cochrane Handbook 10.5.2: an SMD of change scores and one of final values measure
            # different SDs and should not be pooled together; show the split as a subgroup test.
            split = _subgroup_text(rows, ["outcome_type"], method, hksj)
            a["warning"] = (
                "final values and change scores pooled together as SMDs: not comparable (Cochrane "
                "Handbook 10.5.2); pool them separately or as MD" + (f" [{split}]" if split else "")
            )
        if plot_dir is not None:
            name = _slug(outcome.domain, comp.label, window)
            title = f"{outcome.description or outcome.domain}: {comp.label}, {window}"
            experimental, control = _arm_names(comp)
            weights = np.full(len(all_rows), np.nan)
            weights[~drop] = res.weights
            paths = forest_plot(
                all_rows["study"].astype(str).tolist(),
                np.where(drop, np.nan, all_rows["yi"].to_numpy(float)),
                np.where(drop, np.nan, all_rows["vi"].to_numpy(float)),
                dataclasses.replace(res, weights=weights),
                plot_dir / f"forest_{name}",
                measure=measure,
                title=title,
                experimental=experimental,
                control=control,
                lower_is_better=outcome.lower_is_better,
                illustrative=a["illustrative"],
                unit=_md_unit(rows, measure),
            )
            a["forest"] = str(paths[0])
            if k >= 3:
                eg = a.get("egger_pval")
                fpaths = funnel_plot(
                    yi,
                    vi,
                    res,
                    plot_dir / f"funnel_{name}",
                    measure=measure,
                    title=title,
                    egger_pval=eg,
                    illustrative=a["illustrative"],
                )
                a["funnel"] = str(fpaths[0])
        out.append(a)
    for a in out:
        a["certainty_text"] = _certainty(a)
    return out


def _certainty(a: dict[str, Any]) -> str:
    """GRADE inputs in one line (Cochrane Handbook 14.2): risk of bias, inconsistency,
    imprecision, publication bias; and whether the data are illustrative."""
    if a.get("status") != "pooled":
        return "one study: judge directly" if a.get("k") == 1 else ""
    parts = []
    if a.get("rob_high") is not None:
        unassessed = a["k"] - a.get("rob_assessed", a["k"])
        parts.append(
            f"RoB high {a['rob_high']}/{a['k']}" + (f" ({unassessed} not assessed)" if unassessed else "")
        )
    elif a.get("k"):
        parts.append("RoB not assessed")
    parts.append(f"I² {a['i2']:.0f}%")
    parts.append("CI includes no effect" if a.get("ci_crosses_null") else "CI excludes no effect")
    parts.append(f"N = {a['participants']}")
    if a.get("egger_pval") is not None:
        parts.append(f"Egger P = {a['egger_pval']:.3f}")
    if a.get("illustrative"):
        parts.append("ILLUSTRATIVE")
    if a.get("warning"):
        parts.append("WARNING: " + str(a["warning"]).split(" [", 1)[0])
    return "; ".join(parts)


def pool_project(project: Project, out_dir: str | Path | None = None) -> str:
    """Pool the project's analysis plan; write workbook, CSV and plots; return a summary line."""
    from review.project.extract import effect_table, extraction_disagreements

    proto = project.protocol
    folder = Path(out_dir) if out_dir is not None else project.output_dir / "pooled"
    folder.mkdir(parents=True, exist_ok=True)
    frame = effect_table(project)
    # Cells the extractors disagree on are left out of the table until resolved: say so, or the
    # pooled results would silently lack those studies.
    open_ = extraction_disagreements(project)
    pending = (
        f"{len(open_)} extraction disagreement(s) still open: the study results that need them are "
        "left out until they are resolved (`review extract conflicts`)"
        if open_
        else ""
    )
    windows = [w.label for w in proto.follow_up_windows]
    # Plots of an earlier run whose analysis has since changed (a funnel for what is now two
    # studies, a window that lost its studies) would otherwise sit beside the new ones.
    for old in (folder / "plots").glob("*"):
        if old.suffix in (".png", ".svg") and old.name.startswith(("forest_", "funnel_")):
            old.unlink()
    analyses = pool_effects(
        frame,
        proto.outcomes,
        proto.analysis.comparisons,
        windows,
        method=proto.analysis.method,
        hksj=proto.analysis.hksj,
        moderators=proto.analysis.moderators,
        subgroups=proto.analysis.subgroups,
        plot_dir=folder / "plots",
    )
    csv_path = folder / "pooled_results.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for a in analyses:
            writer.writerow({c: ("" if a.get(c) is None else a.get(c)) for c in CSV_COLUMNS})
    n_ill = sum(1 for a in analyses if a.get("illustrative"))
    xlsx = write_results_workbook(
        folder / "pooled_results.xlsx",
        analyses,
        outcomes=[(o.domain, o.description) for o in proto.outcomes],
        windows=windows,
        comparisons=[c.label for c in proto.analysis.comparisons],
        title=f"{proto.title} - pooled results",
        notes=[
            f"Model: {proto.analysis.method}{' with Hartung-Knapp-Sidik-Jonkman adjustment' if proto.analysis.hksj else ''}; "
            "tau² solved exactly; statistics agree with R metafor.",
            "Continuous outcomes are direction-aligned by extraction (see the effect table's 'direction').",
            *([f"NOT FINAL: {pending}."] if pending else []),
        ],
    )
    pooled = sum(1 for a in analyses if a["status"] == "pooled")
    single = sum(1 for a in analyses if a["status"] == "single study")
    none = sum(1 for a in analyses if a["status"] == "no studies")
    dropped = sum(len(a["not_estimable"].split("; ")) for a in analyses if a.get("not_estimable"))
    note = (
        f"; {dropped} study result(s) with no events, or only events, in both arms left out of RR/OR "
        "pooling as not estimable (Cochrane Handbook 10.4.4.2)"
        if dropped
        else ""
    )
    if pending:
        note += f"; {pending}"
    return (
        f"pooled {pooled} analyses ({single} single-study windows reported, not pooled; "
        f"{none} without studies; {n_ill} resting on illustrative data{note}): "
        f"{xlsx}, {csv_path}, plots in {folder / 'plots'}"
    )
