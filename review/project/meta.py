"""``review meta``: pool one CSV of studies, no project needed (contract in CONTRACT.md).

Input shapes (header names exact; ``study`` is a label that may repeat):

- generic: ``study,yi,vi`` (pooled as given);
- continuous: ``study,m1,sd1,n1,m2,sd2,n2`` (arm 1 experimental) with measure MD, SMD or ROM;
- binary: ``study,events1,n1,events2,n2`` with measure RR, OR or RD.

Other columns are kept for ``--mod`` (numeric) and ``--subgroup``. Bad input raises
:class:`~review.errors.InputError` naming the file, line and study.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from review.effects import BINARY_MEASURES, CONTINUOUS_MEASURES, RATIO_MEASURES, escalc
from review.errors import InputError, StudyDataError
from review.extraction import number_text
from review.pooling import (
    MetaResult,
    egger_test,
    leave_one_out,
    mantel_haenszel,
    meta_regression,
    peto,
    rma,
    subgroup_analysis,
)

__all__ = ["StudyTable", "forest_title", "format_meta", "read_studies", "run_meta"]

GENERIC = ("yi", "vi")
CONTINUOUS = ("m1", "sd1", "n1", "m2", "sd2", "n2")
BINARY = ("events1", "n1", "events2", "n2")


class StudyTable:
    """The rows of a study CSV: labels, numeric columns and the file line of each row."""

    def __init__(
        self,
        path: Path,
        header: list[str],
        rows: list[dict[str, str]],
        lines: list[int],
        delimiter: str = ",",
    ) -> None:
        self.path = path
        self.delimiter = delimiter
        self.header = header
        self.rows = rows
        self.lines = lines
        self.labels = [r.get("study", "").strip() or f"row {i + 1}" for i, r in enumerate(rows)]

    def numbers(self, column: str, *, allow_missing: bool = False) -> np.ndarray:
        """The column as floats; a missing or non-numeric cell is an error naming its line."""
        out = np.empty(len(self.rows))
        for i, row in enumerate(self.rows):
            text = (row.get(column) or "").strip()
            if text == "" or text.upper() in ("NA", "NAN"):
                if allow_missing:
                    out[i] = np.nan
                    continue
                raise self.error(i, f"{column} is empty; every study needs a value")
            text = number_text(text)
            if self.delimiter == ";" and text.count(",") == 1 and "." not in text:
                text = text.replace(",", ".")  # a decimal comma: Excel's CSV in decimal-comma locales
            try:
                value = float(text)
            except ValueError:
                raise self.error(i, f"{column} must be a number, got {text!r}") from None
            if not math.isfinite(value):
                raise self.error(i, f"{column} must be a finite number, got {text!r}")
            out[i] = value
        return out

    def error(self, i: int, message: str) -> InputError:
        """An :class:`InputError` naming the file, line and study of row ``i``."""
        return InputError(f"study {self.labels[i]!r}: {message}", path=self.path, line=self.lines[i])


def read_studies(path: str | Path) -> StudyTable:
    """Read a study CSV (UTF-8, with or without BOM; comma-separated with a header row)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the CSV: {exc}", path=p) from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","  # Excel's CSV in decimal-comma locales
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise InputError("the CSV is empty; expected a header row such as study,yi,vi", path=p)
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    for row in reader:
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            continue  # blank line
        rows.append({k: (v or "") for k, v in row.items() if k is not None})
        lines.append(reader.line_num)
    if not rows:
        raise InputError("no usable study: the CSV has a header but no study rows", path=p)
    return StudyTable(p, header, rows, lines, delimiter)


def _shape(table: StudyTable, measure: str | None) -> str:
    cols = set(table.header)
    need: tuple[str, ...]
    if measure in CONTINUOUS_MEASURES:
        need = CONTINUOUS
    elif measure in BINARY_MEASURES:
        need = BINARY
    elif measure in (None, "GEN") and set(GENERIC) <= cols:
        return "generic"
    elif set(CONTINUOUS) <= cols:
        raise InputError("continuous data need --measure MD, SMD or ROM", path=table.path)
    elif set(BINARY) <= cols:
        raise InputError("binary data need --measure RR, OR or RD", path=table.path)
    else:
        need = GENERIC
    missing = [c for c in need if c not in cols]
    if missing:
        if set(GENERIC) <= cols and measure not in (None, "GEN"):
            return "generic"
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the header has {', '.join(table.header)} "
            f"(expected study,{','.join(need)})",
            path=table.path,
        )
    return "continuous" if need is CONTINUOUS else "binary"


def _check_rows(table: StudyTable, shape: str, cols: dict[str, np.ndarray]) -> None:
    """Name the first row whose numbers cannot make an effect size (contract: bad input)."""
    for i in range(len(table.rows)):
        if shape == "generic":
            if cols["vi"][i] <= 0:
                raise table.error(i, f"vi must be > 0, got {cols['vi'][i]:g}")
            continue
        for n in ("n1", "n2"):
            if cols[n][i] <= 0:
                raise table.error(i, f"{n} must be > 0, got {cols[n][i]:g}")
        if shape == "continuous":
            for sd in ("sd1", "sd2"):
                if cols[sd][i] < 0:
                    raise table.error(i, f"{sd} must be >= 0, got {cols[sd][i]:g}")
        else:
            for e, n in (("events1", "n1"), ("events2", "n2")):
                for c in (e, n):
                    if cols[c][i] != round(cols[c][i]):
                        raise table.error(
                            i, f"{c} must be a whole number of participants, got {cols[c][i]:g}"
                        )
                if cols[e][i] < 0:
                    raise table.error(i, f"{e} must be >= 0, got {cols[e][i]:g}")
                if cols[e][i] > cols[n][i]:
                    raise table.error(i, f"{e} ({cols[e][i]:g}) is larger than {n} ({cols[n][i]:g})")


def _clean(x: Any) -> Any:
    """JSON-safe number: NaN/inf become None, numpy scalars become Python ones."""
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def _summary(res: MetaResult) -> dict[str, Any]:
    return {
        "k": res.k,
        "estimate": _clean(res.estimate),
        "se": _clean(res.se),
        "ci_low": _clean(res.ci_low),
        "ci_high": _clean(res.ci_high),
        "pval": _clean(res.pval),
        "tau2": _clean(res.tau2),
        "i2": _clean(res.i2),
        "h2": _clean(res.h2),
        "q": _clean(res.q),
        "q_pval": _clean(res.q_pval),
        "pi_low": _clean(res.pi_low),
        "pi_high": _clean(res.pi_high),
    }


def run_meta(
    input_path: str | Path,
    measure: str | None = None,
    method: str | None = None,
    hksj: bool = False,
    moderator: str | None = None,
    subgroup: str | None = None,
    forest: str | Path | None = None,
    *,
    diagnostics: bool = True,
    title: str | None = None,
) -> dict[str, Any]:
    """Pool the studies of one CSV and return the contract's JSON object.

    Parameters
    ----------
    input_path
        CSV in one of the shapes of the module docstring.
    measure
        MD, SMD, ROM (continuous), RR, OR, RD (binary) or GEN/None (generic yi, vi).
    method
        FE, DL, REML (default), PM, MH (RR/OR/RD) or PETO (OR).
    hksj
        Hartung-Knapp-Sidik-Jonkman adjustment (random effects).
    moderator, subgroup
        Column for a meta-regression or a subgroup analysis (at most one of the two).
    forest
        If given, also draw a forest plot there (PNG and SVG).
    title
        The forest plot's title; by default the measure and method, e.g. "Risk ratio,
        random-effects (REML)" (see :func:`forest_title`).
    diagnostics
        Also run Egger's test and leave-one-out (keys ``egger``, ``leave_one_out``).
    """
    measure = measure.upper() if measure else None
    method = (method or "REML").upper()
    if moderator and subgroup:
        raise InputError("give either --mod or --subgroup, not both")
    table = read_studies(input_path)
    shape = _shape(table, measure)
    needed = {"generic": GENERIC, "continuous": CONTINUOUS, "binary": BINARY}[shape]
    cols = {c: table.numbers(c) for c in needed}
    _check_rows(table, shape, cols)
    eff_measure = "GEN" if shape == "generic" else str(measure)
    if method in ("MH", "PETO"):
        if shape != "binary":
            raise InputError(
                f"--method {method} needs binary data (study,events1,n1,events2,n2)", path=table.path
            )
        if method == "PETO" and eff_measure != "OR":
            raise InputError("--method PETO pools odds ratios only; use --measure OR", path=table.path)
        if hksj:
            raise InputError(f"--hksj applies to random-effects methods, not {method}", path=table.path)
        if moderator or subgroup:
            raise InputError(f"--mod/--subgroup need FE, DL, REML or PM, not {method}", path=table.path)
    labels = table.labels
    try:
        if shape == "generic":
            yi, vi = cols["yi"], cols["vi"]
        elif shape == "continuous":
            es = escalc(
                eff_measure,
                labels=labels,
                m1i=cols["m1"],
                sd1i=cols["sd1"],
                n1i=cols["n1"],
                m2i=cols["m2"],
                sd2i=cols["sd2"],
                n2i=cols["n2"],
            )
            yi, vi = es.yi, es.vi
        else:
            es = escalc(
                eff_measure,
                labels=labels,
                ai=cols["events1"],
                n1i=cols["n1"],
                ci=cols["events2"],
                n2i=cols["n2"],
            )
            yi, vi = es.yi, es.vi
        for i in range(len(labels)):
            if not (np.isfinite(vi[i]) and vi[i] > 0):
                raise table.error(
                    i, "the sampling variance is 0 (both SDs are 0?); the study cannot be weighted"
                )
        result: dict[str, Any] = {"measure": eff_measure, "method": method, "hksj": hksj}
        if method == "MH":
            res = mantel_haenszel(cols["events1"], cols["n1"], cols["events2"], cols["n2"], eff_measure)
        elif method == "PETO":
            res = peto(cols["events1"], cols["n1"], cols["events2"], cols["n2"])
        else:
            res = rma(yi, vi, method, hksj, labels=labels)
        result.update(_summary(res))
        result["test"] = res.test
        result["df"] = res.df
        result["ratio_scale"] = eff_measure in RATIO_MEASURES
        result["studies"] = [  # escalc's yi and vi whatever the method (the contract; as the references)
            {"study": labels[i], "yi": _clean(yi[i]), "vi": _clean(vi[i]), "weight": _clean(res.weights[i])}
            for i in range(len(labels))
        ]
        result["notes"] = list(res.notes)
        if moderator:
            result.update(_moderator(table, yi, vi, moderator, method, hksj))
        if subgroup:
            result.update(_subgroups(table, yi, vi, subgroup, method, hksj))
        egger_method = method if method in ("FE", "DL", "REML", "PM") else "FE"
        if diagnostics and len(labels) >= 3:
            eg = egger_test(yi, vi, egger_method, hksj)
            result["egger"] = {
                "stat": _clean(eg.stat),
                "pval": _clean(eg.pval),
                "limit_estimate": _clean(eg.limit_estimate),
                "test": eg.test,
                "df": eg.df,
            }
        else:
            result["egger"] = None
        if diagnostics and len(labels) >= 2 and method in ("FE", "DL", "REML", "PM"):
            result["leave_one_out"] = [
                {"omitted": labels[i], **_summary(r)}
                for i, r in enumerate(leave_one_out(yi, vi, method, hksj))
            ]
    except StudyDataError as exc:
        raise InputError(str(exc), path=table.path) from exc
    if forest is not None:
        from review.plots import forest_plot

        heading = title.strip() if title and title.strip() else forest_title(eff_measure, method, hksj)
        shown_yi, shown_vi = _one_step_studies(cols, res) if method in ("MH", "PETO") else (yi, vi)
        result["forest"] = [
            str(p)
            for p in forest_plot(labels, shown_yi, shown_vi, res, forest, measure=eff_measure, title=heading)
        ]
    return result


def _one_step_studies(cols: dict[str, np.ndarray], res: MetaResult) -> tuple[np.ndarray, np.ndarray]:
    """Each study's yi and vi as Mantel-Haenszel or Peto sees it, for the forest plot (metafor
    ``rma.mh`` and ``rma.peto``, whose forest plots show these): escalc's values for MH and
    Peto's (O - E)/V, 1/V for Peto (1/2 added to a table with a zero cell), NaN for a study with
    no events, or only events, in both arms (``drop00=TRUE``: "Not estimable", weight 0)."""
    a, c = cols["events1"], cols["events2"]
    b, d = cols["n1"] - a, cols["n2"] - c
    estimable = ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
    yi = np.full(a.size, np.nan)
    vi = np.full(a.size, np.nan)
    yi[estimable], vi[estimable] = res.yi, res.vi
    return yi, vi


def forest_title(measure: str, method: str, hksj: bool = False) -> str:
    """A forest plot title a paper can keep: the measure and the model, e.g. "Risk ratio,
    random-effects (REML)" or "Mean difference, random-effects (DerSimonian-Laird), HKSJ"."""
    from review.plots import MEASURE_NAMES, METHOD_NAMES

    model = METHOD_NAMES.get(method, method)
    model = model[:1].lower() + model[1:]
    return f"{MEASURE_NAMES.get(measure, measure)}, {model}" + (", HKSJ" if hksj else "")


def _moderator(
    table: StudyTable, yi: np.ndarray, vi: np.ndarray, column: str, method: str, hksj: bool
) -> dict[str, Any]:
    if column not in table.header:
        raise InputError(
            f"--mod column {column!r} is not in the header ({', '.join(table.header)})", path=table.path
        )
    x = table.numbers(column, allow_missing=True)
    keep = np.isfinite(x)
    dropped = [table.labels[i] for i in np.flatnonzero(~keep)]
    reg = meta_regression(yi[keep], vi[keep], x[keep], method, hksj, name=column)
    return {
        "moderator": column,
        "meta_regression": {
            "k": reg.k,
            "dropped_missing_moderator": dropped,
        },
        "k": reg.k,
        "coefficients": [
            {
                "name": c.name,
                "estimate": _clean(c.estimate),
                "se": _clean(c.se),
                "pval": _clean(c.pval),
                "ci_low": _clean(c.ci_low),
                "ci_high": _clean(c.ci_high),
            }
            for c in reg.coefficients
        ],
        "qm": _clean(reg.qm),
        "qm_pval": _clean(reg.qm_pval),
        "q": _clean(reg.q),
        "q_pval": _clean(reg.q_pval),
        "tau2": _clean(reg.tau2),
        "i2": _clean(reg.i2),
        "r2": _clean(reg.r2),
    }


def _subgroups(
    table: StudyTable, yi: np.ndarray, vi: np.ndarray, column: str, method: str, hksj: bool
) -> dict[str, Any]:
    if column not in table.header:
        raise InputError(
            f"--subgroup column {column!r} is not in the header ({', '.join(table.header)})", path=table.path
        )
    values = [(r.get(column) or "").strip() for r in table.rows]
    for i, v in enumerate(values):
        if v == "":
            raise table.error(i, f"{column} is empty; every study needs a subgroup")
    sg = subgroup_analysis(yi, vi, values, method, hksj, labels=table.labels)
    return {
        "subgroup": column,
        "subgroups": {
            name: {
                "k": r.k,
                "estimate": _clean(r.estimate),
                "se": _clean(r.se),
                "ci_low": _clean(r.ci_low),
                "ci_high": _clean(r.ci_high),
                "pval": _clean(r.pval),
                "tau2": _clean(r.tau2),
                "i2": _clean(r.i2),
                "q": _clean(r.q),
                "q_pval": _clean(r.q_pval),
            }
            for name, r in sg.groups.items()
        },
        "q_between": _clean(sg.q_between),
        "df_between": sg.df_between,
        "q_between_pval": _clean(sg.q_between_pval),
    }


def _fmt(x: Any, digits: int = 4) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
            return f"{x:.3g}"
        return f"{x:.{digits}f}"
    return str(x)


def _effect(x: float | None, ratio: bool) -> str:
    if x is None:
        return "-"
    return f"{math.exp(x):.3f}" if ratio else f"{x:.3f}"


def format_meta(result: dict[str, Any]) -> str:
    """A readable summary of :func:`run_meta`'s result (ratio measures shown back-transformed)."""
    ratio = bool(result.get("ratio_scale"))
    name = result["measure"] if result["measure"] != "GEN" else "effect"
    method = result["method"] + (" + HKSJ" if result.get("hksj") else "")
    lines = [f"{name} pooled by {method}: k = {result['k']}"]
    if "coefficients" in result:
        lines.append(f"meta-regression on {result['moderator']}:")
        for c in result["coefficients"]:
            lines.append(
                f"  {c['name']:<12} {_fmt(c['estimate'])} (SE {_fmt(c['se'])}; 95% CI {_fmt(c['ci_low'])} to "
                f"{_fmt(c['ci_high'])}; p = {_fmt(c['pval'])})"
            )
        lines.append(f"  QM = {_fmt(result['qm'])} (p = {_fmt(result['qm_pval'])})")
        lines.append(
            f"  residual: Q = {_fmt(result['q'])} (p = {_fmt(result['q_pval'])}), tau² = {_fmt(result['tau2'])}, "
            f"I² = {_fmt(result['i2'], 1)}%, R² = {_fmt(result['r2'], 1)}%"
        )
        return "\n".join(lines)
    scale = " (log scale; exp shown in brackets)" if ratio else ""
    est = result["estimate"]
    lines.append(
        f"estimate {_fmt(est)}{scale}, 95% CI {_fmt(result['ci_low'])} to {_fmt(result['ci_high'])}, "
        f"p = {_fmt(result['pval'])}"
    )
    if ratio:
        lines.append(
            f"  [{name} {_effect(est, True)}, 95% CI {_effect(result['ci_low'], True)} to "
            f"{_effect(result['ci_high'], True)}]"
        )
    lines.append(
        f"heterogeneity: Q = {_fmt(result['q'])} (p = {_fmt(result['q_pval'])}), tau² = {_fmt(result['tau2'])}, "
        f"I² = {_fmt(result['i2'], 1)}%, H² = {_fmt(result['h2'], 2)}"
    )
    if result.get("tau2") is not None and result["method"] != "FE":
        lines.append(f"95% prediction interval {_fmt(result['pi_low'])} to {_fmt(result['pi_high'])}")
    if result.get("subgroups"):
        lines.append(f"subgroups by {result['subgroup']}:")
        for g, s in result["subgroups"].items():
            lines.append(
                f"  {g:<16} k = {s['k']:<3} {_fmt(s['estimate'])} (95% CI {_fmt(s['ci_low'])} to "
                f"{_fmt(s['ci_high'])}), tau² = {_fmt(s['tau2'])}, I² = {_fmt(s['i2'], 1)}%"
            )
        lines.append(
            f"  test for subgroup differences: Q = {_fmt(result['q_between'])}, df = {result['df_between']}, "
            f"p = {_fmt(result['q_between_pval'])}"
        )
    if result.get("egger"):
        eg = result["egger"]
        name = f"t({eg['df']})" if eg.get("test") == "knha" else "z"
        caveat = (
            ""
            if result["k"] >= 10
            else " (k < 10: too few studies to judge asymmetry, Cochrane Handbook 13.3.5.4)"
        )
        lines.append(f"Egger's test: {name} = {_fmt(eg['stat'])}, p = {_fmt(eg['pval'])}{caveat}")
    for note in result.get("notes") or []:
        lines.append(f"note: {note}")
    width = max((len(s["study"]) for s in result["studies"]), default=5)
    lines.append("")
    lines.append(f"{'study':<{width}}  {'yi':>10}  {'vi':>10}  {'weight %':>8}")
    for s in result["studies"]:
        lines.append(
            f"{s['study']:<{width}}  {_fmt(s['yi']):>10}  {_fmt(s['vi']):>10}  {_fmt(s['weight'], 2):>8}"
        )
    return "\n".join(lines)
