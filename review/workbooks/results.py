"""The pooled-results workbook: a summary sheet setting treatment classes side by side, and one
formatted sheet per outcome domain (openpyxl).

Takes plain rows (dicts) built by :mod:`review.project.pool`; knows nothing about pooling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from review.workbooks.common import HEADER_FILL, HEADER_FONT, safe_text

__all__ = ["OUTCOME_COLUMNS", "write_results_workbook"]

#: Columns of each outcome sheet: (key in the row dict, header, width, number format).
OUTCOME_COLUMNS: tuple[tuple[str, str, float, str | None], ...] = (
    ("comparison", "Comparison", 30, None),
    ("window", "Follow-up window", 18, None),
    ("status", "Status", 16, None),
    ("measure", "Measure", 9, None),
    ("k", "Studies (k)", 10, "0"),
    ("participants", "Participants", 12, "0"),
    ("effect_text", "Effect (95% CI)", 24, None),
    ("pi_text", "95% prediction interval", 22, None),
    ("pval", "P", 9, "0.0000"),
    ("tau2", "tau²", 9, "0.0000"),
    ("i2", "I² (%)", 8, "0.0"),
    ("q", "Q", 9, "0.00"),
    ("q_pval", "P (Q)", 9, "0.0000"),
    ("method_text", "Model", 26, None),
    ("egger_pval", "Egger P (k >= 10)", 12, "0.0000"),
    ("rob_high", "High risk of bias (studies)", 14, "0"),
    ("ci_crosses_null", "CI includes no effect", 12, None),
    ("pi_crosses_null", "PI includes no effect", 12, None),
    ("moderator_text", "Meta-regression", 36, None),
    ("subgroup_text", "Subgroup difference", 30, None),
    ("illustrative", "Illustrative data", 11, None),
    ("studies", "Studies", 50, None),
    ("warning", "Warning", 40, None),
    ("forest", "Forest plot", 40, None),
)

_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_ILL_FILL = PatternFill("solid", start_color="FCE4D6")
_SUB_FILL = PatternFill("solid", start_color="D9E1F2")


def _value(v: Any) -> Any:
    if isinstance(v, str):
        return safe_text(v)
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and v != v:  # NaN
        return None
    return v


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31] or "outcome"
    out, n = base, 2
    while out.lower() in used:
        suffix = f" ({n})"
        out = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(out.lower())
    return out


def _header(ws: Any, row: int, names: Sequence[str]) -> None:
    for j, name in enumerate(names, start=1):
        c = ws.cell(row=row, column=j, value=name)
        c.font = HEADER_FONT
        c.fill = HEADER_FILL
        c.alignment = _CENTER


def write_results_workbook(
    path: str | Path,
    analyses: Sequence[Mapping[str, Any]],
    *,
    outcomes: Sequence[tuple[str, str]],
    windows: Sequence[str],
    comparisons: Sequence[str],
    title: str = "Pooled results",
    notes: Sequence[str] = (),
) -> Path:
    """Write the pooled-results workbook and return its path.

    Parameters
    ----------
    analyses
        One dict per outcome x comparison x window (keys of :data:`OUTCOME_COLUMNS` plus
        ``outcome``).
    outcomes
        (domain, description) pairs in protocol order; one sheet each.
    windows, comparisons
        Protocol order for rows and column groups.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Summary"
    by_key = {(a["outcome"], a["comparison"], a["window"]): a for a in analyses}

    # Summary: one row per comparison x window; a column group per outcome domain.
    ws.cell(row=1, column=1, value=safe_text(title)).font = Font(bold=True, size=13)
    ws.cell(
        row=2,
        column=1,
        value="Each treatment class against its own control. Effects: pooled estimate (95% CI); "
        "ratio measures back-transformed. Windows with one study are reported, not pooled.",
    ).alignment = Alignment(wrap_text=False)
    group = ("Effect (95% CI)", "k", "Participants", "I² (%)", "Certainty inputs")
    start_row = 4
    ws.cell(row=start_row, column=1, value="Comparison")
    ws.cell(row=start_row, column=2, value="Follow-up window")
    _header(ws, start_row, ["Comparison", "Follow-up window"])
    _header(ws, start_row + 1, ["", ""])
    ws.merge_cells(start_row=start_row, start_column=1, end_row=start_row + 1, end_column=1)
    ws.merge_cells(start_row=start_row, start_column=2, end_row=start_row + 1, end_column=2)
    col = 3
    for domain, description in outcomes:
        for j, name in enumerate(group):
            c = ws.cell(row=start_row + 1, column=col + j, value=name)
            c.font, c.fill, c.alignment = HEADER_FONT, HEADER_FILL, _CENTER
        c = ws.cell(row=start_row, column=col, value=safe_text(description or domain))
        c.font, c.fill, c.alignment = HEADER_FONT, HEADER_FILL, _CENTER
        ws.merge_cells(
            start_row=start_row, start_column=col, end_row=start_row, end_column=col + len(group) - 1
        )
        col += len(group)
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = 20
    for j in range(3, col):
        kind = group[(j - 3) % len(group)]
        ws.column_dimensions[get_column_letter(j)].width = {
            "Effect (95% CI)": 24,
            "k": 5,
            "Participants": 12,
            "I² (%)": 8,
            "Certainty inputs": 38,
        }[kind]
    r = start_row + 2
    for comparison in comparisons:
        for window in windows:
            ws.cell(row=r, column=1, value=safe_text(comparison)).alignment = _WRAP
            ws.cell(row=r, column=2, value=safe_text(window)).alignment = _WRAP
            col = 3
            for domain, _ in outcomes:
                a = by_key.get((domain, comparison, window))
                if a is not None:
                    vals = [
                        a.get("effect_text") or a.get("status"),
                        a.get("k"),
                        a.get("participants"),
                        a.get("i2"),
                        a.get("certainty_text"),
                    ]
                    for j, v in enumerate(vals):
                        c = ws.cell(row=r, column=col + j, value=_value(v))
                        c.alignment = _WRAP
                        if j == 3:
                            c.number_format = "0.0"
                        if a.get("illustrative"):
                            c.fill = _ILL_FILL
                col += len(group)
            for j in range(1, col):
                ws.cell(row=r, column=j).border = _BORDER
            r += 1
    r += 1
    ws.cell(row=r, column=1, value="Shaded cells rest on illustrative (unverified) data.").fill = _ILL_FILL
    for note in notes:
        r += 1
        ws.cell(row=r, column=1, value=safe_text(note))
    ws.freeze_panes = f"C{start_row + 2}"

    # One sheet per outcome domain.
    used = {"summary"}
    for domain, description in outcomes:
        sh = wb.create_sheet(_sheet_name(domain, used))
        sh.cell(row=1, column=1, value=safe_text(f"{description or domain}")).font = Font(bold=True, size=12)
        _header(sh, 2, [h for _, h, _, _ in OUTCOME_COLUMNS])
        for j, (_, _, width, _) in enumerate(OUTCOME_COLUMNS, start=1):
            sh.column_dimensions[get_column_letter(j)].width = width
        rr = 3
        for a in analyses:
            if a["outcome"] != domain:
                continue
            for j, (key, _, _, fmt) in enumerate(OUTCOME_COLUMNS, start=1):
                c = sh.cell(row=rr, column=j, value=_value(a.get(key)))
                c.alignment = _WRAP
                if fmt and isinstance(c.value, (int, float)):
                    c.number_format = fmt
                if a.get("illustrative"):
                    c.fill = _ILL_FILL
                elif a.get("status") == "pooled":
                    c.fill = PatternFill(fill_type=None)
            rr += 1
        sh.freeze_panes = "C3"
        sh.auto_filter.ref = f"A2:{get_column_letter(len(OUTCOME_COLUMNS))}{max(rr - 1, 3)}"
    wb.save(p)
    return p
