"""Helpers every workbook module shares (openpyxl): safe text, header style, the hidden meta sheet.

Workbooks are written in openpyxl's write-only (streaming) mode so that 20k-row sheets stay
fast and small in memory, and read back in read-only mode. Every workbook ``review`` hands
out carries a very hidden, protected sheet (:data:`META_SHEET`) with the project id, an
export token, the stage and the reviewer: importing checks them, so a workbook from another
project, or a copy pasted into a new file, is refused instead of mixed in.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from copy import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.writer.excel import ExcelWriter

from review.errors import InputError, WorkbookError

__all__ = [
    "FORMULA_START",
    "HEADER_FILL",
    "HEADER_FONT",
    "MAX_CELL",
    "META_SHEET",
    "WRAP",
    "cell_text",
    "column_letter",
    "file_sha256",
    "find_header",
    "header_key",
    "link_formula",
    "new_workbook",
    "open_workbook",
    "raise_problems",
    "read_meta",
    "refuse_overwrite",
    "reviewer_name",
    "safe_text",
    "save_fast",
    "setup_sheet",
    "style_template",
    "styled_cell",
    "text_cell",
    "write_header",
    "write_meta",
]

#: Name of the very hidden sheet holding the project id, export token, stage and reviewer.
META_SHEET = "review"
#: Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limit of characters in one cell.
MAX_CELL = 32767

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", start_color="305496")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")

#: openpyxl's stubs lack the write-only sheet's layout attributes, so sheets are typed Any.
# XML 1.0 cannot hold these control characters; openpyxl refuses them.
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037\ufffe\uffff]")


def safe_text(value: object) -> str | None:
    """Text fit for a cell: control characters dropped, cut to Excel's 32,767 characters."""
    if value is None:
        return None
    text = _ILLEGAL.sub("", str(value))
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    return text


def style_template(
    ws: Any,
    *,
    font: Font | None = None,
    fill: PatternFill | None = None,
    alignment: Alignment | None = None,
    quote: bool = False,
) -> StyleArray:
    """A cell style built once and copied onto many cells (setting styles per cell is slow)."""
    cell = WriteOnlyCell(ws, None)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if alignment is not None:
        cell.alignment = alignment
    if quote:
        cell.quotePrefix = True
    return copy(cast(Any, cell)._style)


def text_cell(
    ws: Any, value: object, style: StyleArray | None = None, quoted: StyleArray | None = None
) -> Cell:
    """A write-only cell that Excel shows as text, never as a formula.

    Text starting with = + - @ (or a tab/CR) is stored as a string cell with Excel's quote
    prefix (style ``quoted``, made by :func:`style_template` with ``quote=True``), so a title
    such as ``=HYPERLINK(...)`` or ``-2 dB`` is shown, not evaluated (OWASP CSV/formula
    injection). ``style`` is a template from :func:`style_template`.
    """
    text = safe_text(value)
    cell = WriteOnlyCell(ws, text)
    if text and text.startswith(FORMULA_START):
        cell.data_type = "s"
        if quoted is None:
            quoted = style_template(ws, quote=True) if style is None else _with_quote(style)
        cast(Any, cell)._style = copy(quoted)
    elif style is not None:
        cast(Any, cell)._style = copy(style)
    return cell


def styled_cell(ws: Any, value: object, style: StyleArray) -> Cell:
    """A write-only cell holding ``value`` as openpyxl infers it (number, formula), with a template style."""
    cell = WriteOnlyCell(ws, cast(Any, value))
    cast(Any, cell)._style = copy(style)
    return cell


def _with_quote(style: StyleArray) -> StyleArray:
    out = copy(style)
    out.quotePrefix = 1
    return out


def link_formula(url: str, label: str) -> str:
    """An Excel ``HYPERLINK`` formula with both strings escaped.

    Cell hyperlinks are avoided on purpose: openpyxl looks each one up linearly when
    loading, so 40k of them make a 20k-row workbook take minutes to open in Python.
    """

    def q(text: str) -> str:
        return '"' + safe_text(text or "").replace('"', '""')[:250] + '"'  # type: ignore[union-attr]

    return f"=HYPERLINK({q(url)}, {q(label)})"


def new_workbook() -> Workbook:
    """An empty write-only (streaming) workbook."""
    return Workbook(write_only=True)


def write_header(ws: Any, names: Sequence[str]) -> None:
    """Append a bold, coloured header row."""
    style = style_template(ws, font=HEADER_FONT, fill=HEADER_FILL, alignment=TOP)
    ws.append([text_cell(ws, n, style) for n in names])


def setup_sheet(
    ws: Any,
    widths: Sequence[float],
    n_rows: int,
    *,
    freeze: str = "B2",
    hidden: Iterable[int] = (),
) -> None:
    """Column widths, frozen header row (and first column), autofilter over header + rows.

    Call before appending rows (write-only sheets take their layout first).
    """
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    for i in hidden:
        ws.column_dimensions[get_column_letter(i)].hidden = True
    ws.freeze_panes = freeze
    ws.auto_filter.ref = f"A1:{get_column_letter(len(widths))}{max(n_rows + 1, 2)}"


def save_fast(wb: Workbook, path: str | Path) -> Path:
    """Save a workbook atomically (temp file, then rename) with fast zip compression.

    openpyxl's ``Workbook.save`` deflates at zlib's default level, which is a large share of
    the time for 20k rows of abstracts; level 1 makes the file a little larger but much
    quicker to write. An interrupted save never leaves a half-written file at ``path``.
    """
    out = Path(path)
    tmp = out.with_name(f".{out.name}.part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1) as archive:
            wb.properties.modified = datetime.now(UTC).replace(tzinfo=None)
            ExcelWriter(wb, archive).save()
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WorkbookError(f"cannot write the workbook ({exc})", path=out) from exc
    return out


def refuse_overwrite(out: Path) -> None:
    """Check the path a new workbook is to be exported to, before anything is written or stored.

    Never write over a file: a filled-in workbook there would be lost. The path must end in
    .xlsx, and its folder is made here so that a folder that cannot be made is reported first.
    """
    if out.exists():
        raise InputError(
            "exists already; choose a new file name (a filled-in workbook there would be lost)", path=out
        )
    if out.suffix.lower() != ".xlsx":
        raise InputError("the workbook must be an .xlsx file", path=out)
    try:  # before anything is written or stored: a folder that cannot be made is the user's to fix
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create its folder ({exc.strerror or exc})", path=out) from exc


def reviewer_name(reviewer: str) -> str:
    """A reviewer's name with its whitespace collapsed; an empty name is refused."""
    name = " ".join(str(reviewer).split())
    if not name:
        raise InputError("the reviewer's name is empty: give --reviewer NAME")
    return name


def write_meta(wb: Workbook, meta: Mapping[str, object]) -> None:
    """Add the very hidden, protected :data:`META_SHEET` (key/value rows)."""
    ws = wb.create_sheet(META_SHEET)
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True
    ws.append(["key", "value"])
    for key, value in meta.items():
        ws.append([key, "" if value is None else str(value)])


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (identifies an imported workbook in the history)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_workbook(path: str | Path, *, read_only: bool = True) -> Workbook:
    """Open an .xlsx for reading; a damaged or non-Excel file is a :class:`WorkbookError`."""
    p = Path(path)
    try:
        return load_workbook(p, read_only=read_only, data_only=True)
    except FileNotFoundError as exc:
        raise WorkbookError("no such file", path=p) from exc
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise WorkbookError(
            f"cannot be read as an Excel workbook (.xlsx) - it is damaged or another format ({exc}); "
            "save it again from Excel as .xlsx, or export a new workbook",
            path=p,
        ) from exc


def read_meta(wb: Workbook, path: str | Path) -> dict[str, str]:
    """The key/value pairs of :data:`META_SHEET`; refuses a workbook without it."""
    if META_SHEET not in wb.sheetnames:
        raise WorkbookError(
            f"has no hidden {META_SHEET!r} sheet, so it was not written by `review` (or its rows were "
            "copied into a new file): fill in the workbook `review` exported",
            path=path,
        )
    meta: dict[str, str] = {}
    try:
        rows = wb[META_SHEET].iter_rows(min_row=2, values_only=True)
        for row in rows:
            if row and row[0] is not None:
                meta[str(row[0])] = "" if len(row) < 2 or row[1] is None else str(row[1])
    except (KeyError, ValueError, TypeError) as exc:  # pragma: no cover - damaged XML
        raise WorkbookError(f"its {META_SHEET!r} sheet is damaged ({exc})", path=path) from exc
    return meta


def header_key(value: object) -> str:
    """A header cell as a key: lower case, runs of non-letters as '_' ("Record ID" -> record_id)."""
    if value is None:
        return ""
    return re.sub(r"[^0-9a-z]+", "_", str(value).strip().casefold()).strip("_")


def column_letter(index: int) -> str:
    """Excel column letter of a 0-based column index."""
    return get_column_letter(index + 1)


def find_header(
    rows: Iterator[tuple[Any, ...]],
    required: Sequence[str],
    *,
    path: str | Path,
    sheet: str,
    search: int = 10,
) -> tuple[int, dict[str, int]]:
    """Find the header row (within the first ``search`` rows) holding every ``required`` name.

    Returns the 1-based header row number and ``{key: 0-based column}``. A name that occurs
    twice, or a required name that is missing, is a :class:`WorkbookError`.
    """
    for number in range(1, search + 1):
        row = next(rows, None)
        if row is None:
            break
        keys = [header_key(v) for v in row]
        if all(r in keys for r in required[:1]):
            columns: dict[str, int] = {}
            for i, k in enumerate(keys):
                if not k:
                    continue
                if k in columns:
                    raise WorkbookError(
                        f"two columns are headed {k!r} ({column_letter(columns[k])} and {column_letter(i)}): "
                        "delete or rename one",
                        path=path,
                        sheet=sheet,
                        row=number,
                    )
                columns[k] = i
            missing = [r for r in required if r not in columns]
            if missing:
                raise WorkbookError(
                    f"the header row has no {', '.join(repr(m) for m in missing)} column; "
                    f"it has {', '.join(repr(k) for k in keys if k)}",
                    path=path,
                    sheet=sheet,
                    row=number,
                )
            return number, columns
    raise WorkbookError(
        f"no header row with a {required[0]!r} column in the first {search} rows", path=path, sheet=sheet
    )


def cell_text(row: Sequence[Any], index: int | None) -> Any:
    """The value at a 0-based column of a read row (None past its end or when absent)."""
    if index is None or index >= len(row):
        return None
    return row[index]


def cell_int(value: object) -> int | None:
    """A whole-number cell such as a record id as an int (Excel may hand back 12.0 or ' 12 ');
    None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def raise_problems(problems: Sequence[tuple[int, str | None, str]], *, path: str | Path, sheet: str) -> None:
    """Raise one :class:`WorkbookError` for the first problem, naming how many others there are.

    ``problems`` holds (row, column letter or None, message); nothing happens when it is empty.
    """
    if not problems:
        return
    row, column, message = problems[0]
    if len(problems) > 1:
        others = [f"{c}{r}" if c else f"row {r}" for r, c, _ in problems[1:6]]
        more = ", ".join(others) + (", ..." if len(problems) > 6 else "")
        message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''}: {more})"
    message += "; nothing was imported - correct the workbook and import it again"
    raise WorkbookError(message, path=path, sheet=sheet, row=row, column=column)
