"""Extraction workbooks (openpyxl): a form as sheets with dropdowns and number validation.

The layout is generic: the project layer turns an extraction form into :class:`SheetLayout`s
(columns with their type, dropdown values and bounds; pre-filled rows) and reads the cells back
as plain values with their row numbers and column letters, so validation messages can name
the cell. Each sheet has the field names in row 1 (what is read back; a comment on each gives its
label, help and allowed values) and data from row 2. Dropdown lists live on a hidden ``lists``
sheet, so they are not limited to Excel's 255 characters of an inline list.

Also here: the workbook of disagreements between two extractors (filled by a resolver) and the
formatted Excel copy of the tidy effect table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from review.errors import WorkbookError
from review.workbooks.common import (
    FORMULA_START,
    HEADER_FILL,
    HEADER_FONT,
    META_SHEET,
    file_sha256,
    find_header,
    header_key,
    open_workbook,
    read_meta,
    safe_text,
    write_meta,
)

__all__ = [
    "LISTS_SHEET",
    "Column",
    "RawCells",
    "SheetLayout",
    "read_form_workbook",
    "read_workbook_meta",
    "write_form_workbook",
    "write_table_workbook",
]

LISTS_SHEET = "lists"
FIRST_DATA_ROW = 2
LOCKED_FILL = PatternFill("solid", start_color="F2F2F2")
ILLUSTRATIVE_FILL = PatternFill("solid", start_color="FFF2CC")


@dataclass(frozen=True)
class Column:
    """One column: its field name, label, kind (text/integer/number/choice) and validation."""

    name: str
    label: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    prefilled: bool = False
    help: str = ""
    width: float = 16
    #: (sheet, field): a dropdown of the values typed in that column of another sheet
    ref: tuple[str, str] | None = None


@dataclass
class SheetLayout:
    """One sheet to write: columns, pre-filled rows and blank rows with validation below them."""

    name: str
    columns: tuple[Column, ...]
    rows: Sequence[Mapping[str, Any]] = field(default_factory=list)
    blank_rows: int = 50
    help: str = ""


@dataclass
class RawCells:
    """One sheet as read back: field -> column letter, and (row number, {field: value}) rows."""

    name: str
    columns: dict[str, str]
    rows: list[tuple[int, dict[str, Any]]]


def _put(ws: Worksheet, row: int, col: int, value: Any) -> None:
    """Write a value; text that would start a formula is stored as text (formula injection)."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        text = safe_text(value)
        cell.value = text
        if text and text.startswith(FORMULA_START):
            cell.data_type = "s"
            cell.quotePrefix = True
    else:
        cell.value = value


def _validation(col: Column, list_ref: str | None) -> DataValidation | None:
    if (col.kind == "choice" or col.ref) and list_ref:
        dv = DataValidation(type="list", formula1=list_ref, allow_blank=True)
        dv.error = f"Choose a value from the list for {col.label}."
        if col.ref:
            dv.error = f"{col.label}: choose one from column {col.ref[1]} of sheet {col.ref[0]!r}."
    elif col.kind in ("integer", "number"):
        # Excel's whole-number validation holds 32-bit integers
        wide = 2147483647 if col.kind == "integer" else 1e12
        lo = -wide if col.minimum is None else col.minimum
        hi = wide if col.maximum is None else col.maximum
        dv = DataValidation(
            type="whole" if col.kind == "integer" else "decimal",
            operator="between",
            formula1=f"{lo:g}" if col.kind == "number" else str(int(lo)),
            formula2=f"{hi:g}" if col.kind == "number" else str(int(hi)),
            allow_blank=True,
        )
        what = "a whole number" if col.kind == "integer" else "a number"
        bounds = []
        if col.minimum is not None:
            bounds.append(f">= {col.minimum:g}")
        if col.maximum is not None:
            bounds.append(f"<= {col.maximum:g}")
        dv.error = f"{col.label}: enter {what}" + (f" ({', '.join(bounds)})" if bounds else "") + "."
    else:
        return None
    dv.errorTitle = "Not allowed"
    dv.showErrorMessage = True
    dv.errorStyle = "stop"
    return dv


def write_form_workbook(path: str | Path, sheets: Sequence[SheetLayout], meta: Mapping[str, object]) -> Path:
    """Write an extraction workbook: one sheet per layout, dropdowns, number validation, meta."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    lists = wb.create_sheet(LISTS_SHEET)
    list_col = 0
    refs: dict[tuple[str, str], str] = {}
    for layout in sheets:
        for col in layout.columns:
            if col.kind == "choice" and col.choices:
                list_col += 1
                letter = get_column_letter(list_col)
                lists.cell(row=1, column=list_col, value=f"{layout.name}.{col.name}")
                for i, choice in enumerate(col.choices, start=2):
                    _put(lists, i, list_col, choice)
                end = len(col.choices) + 1
                refs[(layout.name, col.name)] = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${end}"
    by_name = {layout.name: layout for layout in sheets}
    for layout in sheets:
        for col in layout.columns:
            target = by_name.get(col.ref[0]) if col.ref else None
            if col.ref and target is not None:
                names = [c.name for c in target.columns]
                if col.ref[1] in names:
                    letter = get_column_letter(names.index(col.ref[1]) + 1)
                    end = FIRST_DATA_ROW + len(target.rows) + target.blank_rows - 1
                    refs[(layout.name, col.name)] = (
                        f"{quote_sheetname(target.name)}!${letter}$2:${letter}${end}"
                    )
    for layout in sheets:
        ws = wb.create_sheet(layout.name)
        last = FIRST_DATA_ROW + len(layout.rows) + layout.blank_rows - 1
        for c, col in enumerate(layout.columns, start=1):
            head = ws.cell(row=1, column=c, value=col.name)
            head.font, head.fill = HEADER_FONT, HEADER_FILL
            note = col.label + (f"\n{col.help}" if col.help else "")
            if col.kind == "choice" and col.choices:
                note += "\nChoose from: " + ", ".join(col.choices)
            elif col.kind in ("integer", "number"):
                note += f"\n{'Whole number' if col.kind == 'integer' else 'Number'}"
                if col.minimum is not None or col.maximum is not None:
                    lo = "" if col.minimum is None else f"{col.minimum:g}"
                    hi = "" if col.maximum is None else f"{col.maximum:g}"
                    note += f" ({lo} to {hi})"
            if col.prefilled:
                note += "\nPre-filled by review: do not change."
            head.comment = Comment(note[:2000], "review", width=300, height=150)
            ws.column_dimensions[get_column_letter(c)].width = col.width
            dv = _validation(col, refs.get((layout.name, col.name)))
            if dv is not None:
                ws.add_data_validation(dv)
                letter = get_column_letter(c)
                dv.add(f"{letter}{FIRST_DATA_ROW}:{letter}{max(last, FIRST_DATA_ROW)}")
        for r, values in enumerate(layout.rows, start=FIRST_DATA_ROW):
            for c, col in enumerate(layout.columns, start=1):
                value = values.get(col.name)
                if value is not None:
                    _put(ws, r, c, value)
                if col.prefilled:
                    ws.cell(row=r, column=c).fill = LOCKED_FILL
        ws.freeze_panes = f"A{FIRST_DATA_ROW}"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(layout.columns))}{max(last, FIRST_DATA_ROW)}"
    lists.sheet_state = "hidden"
    write_meta(wb, meta)
    try:
        wb.save(out)
    except OSError as exc:
        raise WorkbookError(f"cannot write the workbook: {exc}", path=out) from exc
    return out


def read_workbook_meta(path: str | Path) -> tuple[dict[str, str], str]:
    """The meta sheet's key/value pairs and the file's SHA-256 (cheap: no data sheet is read)."""
    p = Path(path)
    wb = open_workbook(p, read_only=True)
    try:
        meta = read_meta(wb, p)
    finally:
        wb.close()
    return meta, file_sha256(p)


def _sheet_named(wb: Any, name: str, expected: Mapping[str, Sequence[str]], path: Path) -> str | None:
    """The workbook's sheet for form sheet ``name``: the same name, or the same name in other
    case or spacing ('outcomes ', a sheet renamed by accident). A sheet that is missing while
    the workbook has sheets the form does not know is a :class:`WorkbookError` naming them (a
    renamed copy such as 'Outcomes (2)' would otherwise be ignored); ``None`` when it is simply
    missing (the validator reports it)."""
    if name in wb.sheetnames:
        return name
    key = " ".join(name.split()).casefold()
    same = [s for s in wb.sheetnames if " ".join(s.split()).casefold() == key]
    if len(same) == 1:
        return same[0]
    known = {" ".join(n.split()).casefold() for n in expected} | {META_SHEET.casefold(), LISTS_SHEET}
    others = [s for s in wb.sheetnames if " ".join(s.split()).casefold() not in known]
    if others:
        shown = ", ".join(repr(s) for s in others)
        raise WorkbookError(
            f"sheet {name!r} is missing and the workbook has sheet(s) the form does not know ({shown}): "
            f"if one of them holds the {name} rows, rename it back to {name!r} and import again",
            path=path,
            sheet=name,
        )
    return None


def read_form_workbook(
    path: str | Path, sheets: Mapping[str, Sequence[str]], optional: Sequence[str] = ()
) -> tuple[dict[str, str], dict[str, RawCells], str]:
    """Read the meta sheet and the cells of the named sheets (``{sheet: field names}``).

    Returns ``(meta, {sheet: RawCells}, sha256 of the file)``. A missing sheet is left out (the
    caller reports it); a missing column is a :class:`WorkbookError` naming the sheet, unless
    it is one of the ``optional`` fields (a column a later version of the form added: a
    workbook exported before it reads as if the column were empty).
    """
    p = Path(path)
    wb = open_workbook(p, read_only=True)
    try:
        meta = read_meta(wb, p)
        out: dict[str, RawCells] = {}
        for name, fields in sheets.items():
            actual = _sheet_named(wb, name, sheets, p)
            if actual is None:
                continue
            rows = wb[actual].iter_rows(values_only=True)
            header_row, index = find_header(rows, [header_key(f) for f in fields[:1]], path=p, sheet=name)
            missing = [f for f in fields if header_key(f) not in index and f not in optional]
            fields = [f for f in fields if header_key(f) in index]
            if missing:
                raise WorkbookError(
                    f"column {missing[0]!r} is missing from the header row: use the workbook from `review extract export`",
                    path=p,
                    sheet=name,
                    row=header_row,
                )
            columns = {f: get_column_letter(index[header_key(f)] + 1) for f in fields}
            positions = [(f, index[header_key(f)]) for f in fields]
            data: list[tuple[int, dict[str, Any]]] = []
            number = header_row
            for row in rows:
                number += 1
                width = len(row)
                values = {f: (row[i] if i < width else None) for f, i in positions}
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in values.values()):
                    continue
                data.append((number, values))
            out[name] = RawCells(name, columns, data)
    finally:
        wb.close()
    return meta, out, file_sha256(p)


def write_table_workbook(
    path: str | Path,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    notes: Mapping[str, str],
    *,
    sheet: str = "effects",
    flag_column: str | None = "illustrative",
) -> Path:
    """A formatted Excel copy of a table: bold header, frozen, filters, widths, number formats.

    Rows whose ``flag_column`` is true are shaded (illustrative values). A second sheet,
    ``columns``, explains each column (``notes``).
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    for c, name in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=c, value=name)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        if name in notes:
            cell.comment = Comment(notes[name][:2000], "review")
        ws.column_dimensions[get_column_letter(c)].width = max(10, min(40, len(name) + 4))
    for r, values in enumerate(rows, start=2):
        shade = bool(flag_column and values.get(flag_column))
        for c, name in enumerate(columns, start=1):
            value = values.get(name)
            if isinstance(value, float) and value != value:  # NaN
                value = None
            _put(ws, r, c, value)
            out_cell = ws.cell(row=r, column=c)
            if isinstance(value, float):
                out_cell.number_format = "0.0000" if name in ("yi", "vi") else "0.###"
            if shade:
                out_cell.fill = ILLUSTRATIVE_FILL
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(columns), 1))}{max(len(rows) + 1, 2)}"
    info = wb.create_sheet("columns")
    info.append(["column", "meaning"])
    for cell in info[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for name in columns:
        info.append([name, notes.get(name, "")])
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 110
    try:
        wb.save(out)
    except OSError as exc:
        raise WorkbookError(f"cannot write the table: {exc}", path=out) from exc
    return out
