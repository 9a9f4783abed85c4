"""Screening and conflict workbooks: write them for screeners, read their decisions back.

The first sheet ("Screening", or "Conflicts") has one row per record with a header row:
``record_id`` (do not change), title, authors, year, journal, ``record note`` (what the
source noted about the record, led by "ILLUSTRATIVE / NOT VERIFIED" for a made-up or
unverified one), abstract (wrapped), decision
(dropdown include/exclude/maybe), at full text a ``reason`` (dropdown of the protocol's
exclusion reasons), note, and PubMed/DOI links. Rows may be sorted, filtered or deleted and
columns widened or moved: the reader finds columns by their header and records by
``record_id``. A second sheet holds the instructions and the protocol's eligibility
criteria; a very hidden sheet holds the project id and export token (see ``common``).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from tqdm import tqdm

from review.errors import WorkbookError
from review.records import ILLUSTRATIVE_LABEL, normalise_text, record_note
from review.workbooks.common import (
    META_SHEET,
    TOP,
    WRAP,
    cell_int,
    cell_text,
    column_letter,
    find_header,
    header_key,
    link_formula,
    new_workbook,
    open_workbook,
    raise_problems,
    read_meta,
    safe_text,
    save_fast,
    setup_sheet,
    style_template,
    styled_cell,
    text_cell,
    write_header,
    write_meta,
)

__all__ = [
    "INSTRUCTIONS_SHEET",
    "NOTE_COLUMN",
    "ScreeningRow",
    "SheetDecision",
    "SheetDecisions",
    "read_decisions",
    "saved_time",
    "title_matches",
    "write_screening_workbook",
]

INSTRUCTIONS_SHEET = "Instructions"
_DCTERMS = "http://purl.org/dc/terms/"
#: Header of the column showing the source's notes on a record (not the screener's ``note``).
NOTE_COLUMN = "record note"
_FLAG_FONT = Font(bold=True, color="9C0006")
_FLAG_FILL = PatternFill("solid", start_color="FFC7CE")
_ID_FONT = Font(color="808080")
_ID_FILL = PatternFill("solid", start_color="EDEDED")
_DECISION_FILL = PatternFill("solid", start_color="FFF2CC")
_INFO_FILL = PatternFill("solid", start_color="F2F2F2")


@dataclass(frozen=True)
class ScreeningRow:
    """One record as shown to a screener (plus, in a conflict workbook, earlier decisions)."""

    record_id: int
    title: str | None = None
    authors: Sequence[str] = ()
    year: int | None = None
    journal: str | None = None
    abstract: str | None = None
    pmid: str | None = None
    doi: str | None = None
    notes: Sequence[str] = ()
    earlier: Mapping[str, tuple[str, str | None, str | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class SheetDecision:
    """A decision read from one row of a returned workbook."""

    row: int
    record_id: int
    decision: str
    reason: str | None
    note: str | None


@dataclass
class SheetDecisions:
    """Everything read from a returned workbook, checked cell by cell."""

    path: Path
    sheet: str
    meta: dict[str, str]
    columns: dict[str, int]
    decisions: list[SheetDecision]
    ids: dict[int, int]  # record_id -> sheet row, for every row with an id
    titles: dict[int, str | None]  # record_id -> title cell as read
    blank: int  # rows with an id but no decision yet
    blank_ids: dict[int, int] = field(default_factory=dict)  # record_id -> row, rows left undecided
    saved_at: datetime | None = None  # when the file was last saved (UTC), None when it does not say

    def cell(self, column: str, row: int) -> str:
        """Excel reference of a column (by header key) in a row, e.g. G7."""
        return f"{column_letter(self.columns[column])}{row}"


def _authors(authors: Sequence[str]) -> str:
    if len(authors) > 6:
        return "; ".join(authors[:6]) + f"; ... ({len(authors)} authors)"
    return "; ".join(authors)


def _instructions(
    wb: Any,
    *,
    title: str,
    stage: str,
    reviewer: str,
    kind: str,
    include: Sequence[str],
    exclude: Sequence[str],
    reasons: Sequence[str],
    earlier: Sequence[str],
) -> tuple[int, int]:
    """Write the instructions sheet; returns the rows (first, last) listing the exclusion reasons."""
    ws = wb.create_sheet(INSTRUCTIONS_SHEET)
    ws.column_dimensions["A"].width = 120
    bold = Font(bold=True, size=12)
    lines: list[tuple[str, Font | None]] = [
        (title, Font(bold=True, size=14)),
        (f"Stage: {stage}    Reviewer: {reviewer}", None),
        ("", None),
        ("How to screen", bold),
    ]
    sheet = "Conflicts" if kind == "conflicts" else "Screening"
    if kind == "conflicts":
        lines.append(
            (
                f"The other reviewers disagreed on these records (their decisions are in the grey columns). "
                f"As the third reviewer, give the final decision in the 'decision' column of sheet '{sheet}': "
                "include or exclude.",
                None,
            )
        )
        lines.append(
            (
                "Where a reviewer's decision names records, e.g. 'include (record 12); exclude (record 40)', "
                "the row stands for duplicates screened separately and merged later: your decision settles "
                "all of them.",
                None,
            )
        )
    else:
        lines.append(
            (
                f"For each record on sheet '{sheet}', choose include, exclude or maybe in the 'decision' column "
                "(typing the word works too). Leave it empty if you have not screened the record yet.",
                None,
            )
        )
    if stage == "full-text":
        lines.append(
            ("When you exclude a record, choose the reason in the 'reason' column (required).", None)
        )
    lines += [
        ("You may sort, filter and widen columns, delete rows you have not screened, and add notes.", None),
        ("Do not change the record_id column or the titles: they tie each decision to its record.", None),
        (
            f"The '{NOTE_COLUMN}' column shows what the source noted about a record; "
            f"'{ILLUSTRATIVE_LABEL}' (red) marks a made-up record or one whose details were not "
            "verified: it is there for illustration and must not be cited as evidence.",
            None,
        ),
        ("Keep this file as it is (.xlsx) and return it; it can be imported again safely.", None),
        ("", None),
        ("Include records that meet all of these criteria", bold),
        *[(f"• {c}", None) for c in include],
        ("", None),
        ("Exclude records that meet any of these criteria", bold),
        *[(f"• {c}", None) for c in exclude],
    ]
    if earlier:
        lines += [("", None), (f"Earlier decisions shown: {', '.join(earlier)}", None)]
    lines += [("", None), ("Exclusion reasons (full text)", bold)]
    plain = style_template(ws, alignment=WRAP)
    for text, font in lines:
        ws.append(
            [text_cell(ws, text, plain if font is None else style_template(ws, font=font, alignment=WRAP))]
        )
    first = len(lines) + 1
    for reason in reasons:
        ws.append([text_cell(ws, reason)])
    return first, first + max(len(reasons), 1) - 1


def write_screening_workbook(
    path: str | Path,
    rows: Sequence[ScreeningRow],
    *,
    meta: Mapping[str, object],
    stage: str,
    reviewer: str,
    title: str = "Screening",
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    reasons: Sequence[str] = (),
    earlier: Sequence[str] = (),
    progress: bool = True,
) -> Path:
    """Write a screening (or, with ``earlier`` reviewers, conflict) workbook in streaming mode.

    ``meta`` goes to the hidden sheet and must carry ``kind`` (screening or conflicts),
    ``project_id`` and ``token``. Returns the path written.
    """
    out = Path(path)
    kind = str(meta.get("kind", "screening"))
    full_text = stage == "full-text"
    columns: list[tuple[str, float]] = [
        ("record_id", 10),
        ("title", 50),
        ("authors", 24),
        ("year", 7),
        ("journal", 20),
        (NOTE_COLUMN, 30),
        ("abstract", 90),
    ]
    for name in earlier:
        columns.append((f"decision by {name}", 12))
        if full_text:
            columns.append((f"reason by {name}", 18))
        columns.append((f"note by {name}", 18))
    columns.append(("decision", 12))
    if full_text:
        columns.append(("reason", 24))
    columns += [("note", 30), ("pubmed", 14), ("doi", 22)]
    names = [c for c, _ in columns]
    index = {c: i for i, c in enumerate(names)}

    wb = new_workbook()
    sheet_name = "Conflicts" if kind == "conflicts" else "Screening"
    ws = wb.create_sheet(sheet_name)
    setup_sheet(ws, [w for _, w in columns], len(rows), freeze="C2")
    last = max(len(rows) + 1, 2)
    dec_col = column_letter(index["decision"])
    dv = DataValidation(
        type="list",
        formula1='"include,exclude"' if kind == "conflicts" else '"include,exclude,maybe"',
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="decision",
        error="Choose include, exclude" + ("" if kind == "conflicts" else " or maybe") + ".",
    )
    dv.add(f"{dec_col}2:{dec_col}{last}")
    ws.data_validations.append(dv)
    id_col = column_letter(index["record_id"])
    guard = DataValidation(
        type="custom",
        formula1="FALSE",
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle="record_id",
        error="record_id ties the decision to its record: do not change it.",
    )
    guard.add(f"{id_col}2:{id_col}{last}")
    ws.data_validations.append(guard)
    write_header(ws, names)
    for key in ("decision", "reason"):
        if key in index:  # colour the columns people fill in
            ws.column_dimensions[column_letter(index[key])].fill = _DECISION_FILL

    first, last_reason = _instructions(
        wb,
        title=title,
        stage=stage,
        reviewer=reviewer,
        kind=kind,
        include=include,
        exclude=exclude,
        reasons=reasons,
        earlier=earlier,
    )
    if full_text:
        rc = column_letter(index["reason"])
        reason_dv = DataValidation(
            type="list",
            formula1=f"'{INSTRUCTIONS_SHEET}'!$A${first}:$A${last_reason}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle="reason",
            error="Choose one of the protocol's exclusion reasons.",
        )
        reason_dv.add(f"{rc}2:{rc}{last}")
        ws.data_validations.append(reason_dv)

    n_cols = len(names)
    id_style = style_template(ws, font=_ID_FONT, fill=_ID_FILL, alignment=TOP)
    wrap = style_template(ws, alignment=WRAP)
    wrap_q = style_template(ws, alignment=WRAP, quote=True)
    info = style_template(ws, fill=_INFO_FILL, alignment=WRAP)
    info_q = style_template(ws, fill=_INFO_FILL, alignment=WRAP, quote=True)
    top = style_template(ws, alignment=TOP)
    i_id, i_title, i_auth, i_year = index["record_id"], index["title"], index["authors"], index["year"]
    i_jour, i_abs, i_pm, i_doi = index["journal"], index["abstract"], index["pubmed"], index["doi"]
    i_note = index[NOTE_COLUMN]
    flag = style_template(ws, font=_FLAG_FONT, fill=_FLAG_FILL, alignment=WRAP)
    flag_q = style_template(ws, font=_FLAG_FONT, fill=_FLAG_FILL, alignment=WRAP, quote=True)
    for r in tqdm(rows, desc="writing workbook", unit="rows", disable=not progress or len(rows) < 2000):
        cells: list[Any] = [None] * n_cols
        cells[i_id] = styled_cell(ws, r.record_id, id_style)
        cells[i_title] = text_cell(ws, r.title, wrap, wrap_q)
        if r.authors:
            cells[i_auth] = text_cell(ws, _authors(r.authors), wrap, wrap_q)
        cells[i_year] = r.year
        if r.journal:
            cells[i_jour] = text_cell(ws, r.journal, wrap, wrap_q)
        note = record_note(r.notes)
        if note:
            marked = note.startswith(ILLUSTRATIVE_LABEL)
            cells[i_note] = text_cell(ws, note, flag if marked else info, flag_q if marked else info_q)
        if r.abstract:
            cells[i_abs] = text_cell(ws, r.abstract, wrap, wrap_q)
        for name in earlier:
            got = r.earlier.get(name)
            dec, why, note = got if got is not None else (None, None, None)
            cells[index[f"decision by {name}"]] = text_cell(ws, dec, info, info_q)
            if full_text:
                cells[index[f"reason by {name}"]] = text_cell(ws, why, info, info_q)
            cells[index[f"note by {name}"]] = text_cell(ws, note, info, info_q)
        if r.pmid:
            cells[i_pm] = styled_cell(
                ws, link_formula(f"https://pubmed.ncbi.nlm.nih.gov/{r.pmid}/", r.pmid), top
            )
        if r.doi:
            cells[i_doi] = styled_cell(ws, link_formula(f"https://doi.org/{r.doi}", r.doi), top)
        ws.append(cells)

    write_meta(wb, {**meta, "sheet": sheet_name, "stage": stage, "reviewer": reviewer, "rows": len(rows)})
    save_fast(wb, out)
    return out


def _find_sheet(wb: Any) -> str | None:
    """The first visible sheet whose first rows hold a record_id header (after a rename)."""
    for ws in wb.worksheets:
        if ws.title == META_SHEET:
            continue
        for row in ws.iter_rows(max_row=10, values_only=True):
            if "record_id" in {header_key(v) for v in row}:
                return str(ws.title)
    return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


_W3CDTF = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)


def saved_time(path: str | Path) -> datetime | None:
    """When an .xlsx file was last saved (UTC, naive), from ``docProps/core.xml``; None if it does not say.

    Excel, LibreOffice and openpyxl write ``dcterms:modified`` (W3CDTF) on every save. It is
    read from the XML rather than from ``wb.properties.modified`` because openpyxl puts the
    current time there when the file has none. A time without a zone is taken as UTC.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            xml = archive.read("docProps/core.xml")
        root = ElementTree.fromstring(xml)
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    node = root.find(f"{{{_DCTERMS}}}modified")
    match = _W3CDTF.match(node.text or "") if node is not None else None
    if match is None:
        return None
    y, mo, d, h, mi, sec, _frac, zone = match.groups()
    try:
        when = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0))
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        when -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return when


def read_decisions(
    path: str | Path,
    *,
    normalise_decision: Callable[[object], str | None],
    normalise_reason: Callable[[object], str | None],
    rules: Callable[[dict[str, str]], tuple[bool, Iterable[str]]],
    progress: bool = True,
) -> SheetDecisions:
    """Read and check every row of a returned screening/conflict workbook.

    Every problem (an id that is not a whole number, an id used twice, a decision that is
    not include/exclude/maybe, a missing or unknown exclusion reason, a decision without an
    id) is collected and raised as one :class:`WorkbookError` naming the first cell and how
    many more there are. The stage's decision and reason spelling rules are passed in
    (``normalise_decision``/``normalise_reason``), and ``rules(meta)`` checks the hidden
    sheet (raising for a workbook of another project) and returns (reason required, allowed
    decisions), so this module holds no screening logic.
    """
    p = Path(path)
    wb = open_workbook(p, read_only=True)
    try:
        meta = read_meta(wb, p)
        reason_required, allowed = rules(meta)
        total = int(meta["rows"]) if meta.get("rows", "").isdigit() else 0
        name = meta.get("sheet", "")
        if name not in wb.sheetnames or name == META_SHEET:
            name = _find_sheet(wb) or wb.sheetnames[0]  # the sheet was renamed
        ws = wb[name]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # the stored size may be wrong after edits elsewhere
        rows = ws.iter_rows(values_only=True)
        header_row, columns = find_header(rows, ["record_id", "decision"], path=p, sheet=name)
        id_col, dec_col = columns["record_id"], columns["decision"]
        reason_col = columns.get("reason")
        note_col = columns.get("note")
        title_col = columns.get("title")
        if reason_required and reason_col is None:
            raise WorkbookError(
                "the header row has no 'reason' column (needed for full-text exclusions)",
                path=p,
                sheet=name,
                row=header_row,
            )
        allowed = tuple(allowed)
        allowed_set = set(allowed)
        problems: list[tuple[int, str | None, str]] = []
        decisions: list[SheetDecision] = []
        ids: dict[int, int] = {}
        titles: dict[int, str | None] = {}
        blank_ids: dict[int, int] = {}
        blank = 0
        letter = column_letter
        for number, row in enumerate(
            tqdm(
                rows,
                desc="reading workbook",
                unit="rows",
                total=total or None,
                disable=not progress or total < 2000,
            ),
            start=header_row + 1,
        ):
            raw_id = cell_text(row, id_col)
            raw_dec = cell_text(row, dec_col)
            if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
                if raw_dec is not None and str(raw_dec).strip():
                    problems.append(
                        (
                            number,
                            letter(id_col),
                            "a decision is given but record_id is empty: put the id back",
                        )
                    )
                continue
            rid = cell_int(raw_id)
            if rid is None:
                problems.append(
                    (number, letter(id_col), f"record_id {raw_id!r} is not a record id (a whole number)")
                )
                continue
            if rid in ids:
                problems.append(
                    (number, letter(id_col), f"record_id {rid} appears twice (rows {ids[rid]} and {number})")
                )
                continue
            ids[rid] = number
            titles[rid] = None if title_col is None else _text(cell_text(row, title_col))
            try:
                decision = normalise_decision(raw_dec)
            except ValueError as exc:
                problems.append((number, letter(dec_col), f"{exc}"))
                continue
            if decision is not None and decision not in allowed_set:
                problems.append(
                    (
                        number,
                        letter(dec_col),
                        f"decision {decision!r} is not allowed in this workbook: use {' or '.join(allowed)}",
                    )
                )
                continue
            reason = None
            if reason_col is not None:
                try:
                    reason = normalise_reason(cell_text(row, reason_col))
                except ValueError as exc:
                    problems.append((number, letter(reason_col), f"{exc}"))
                    continue
            if decision is None:
                blank += 1
                blank_ids[rid] = number
                continue
            if decision == "exclude" and reason_required and reason is None:
                problems.append(
                    (
                        number,
                        letter(reason_col) if reason_col is not None else None,
                        f"record {rid} is excluded without a reason: choose one from the dropdown",
                    )
                )
                continue
            decisions.append(
                SheetDecision(
                    row=number,
                    record_id=rid,
                    decision=decision,
                    reason=reason if decision == "exclude" else None,
                    note=safe_text(_text(cell_text(row, note_col))),
                )
            )
        raise_problems(problems, path=p, sheet=name)
    finally:
        wb.close()
    return SheetDecisions(
        path=p,
        sheet=name,
        meta=meta,
        columns=columns,
        decisions=decisions,
        ids=ids,
        titles=titles,
        blank=blank,
        blank_ids=blank_ids,
        saved_at=saved_time(p),
    )


def title_matches(shown: str | None, stored: str | None) -> bool:
    """Whether a title cell still shows the record's title (spacing, case, punctuation aside).

    An empty cell matches (the column may have been cleared); a different title means the
    rows were sorted without their record_id column, so decisions would land on the wrong
    records.
    """
    if shown is None or not stored:
        return True
    expected = safe_text(stored) or ""
    if " ".join(shown.split()) == " ".join(expected.split()):
        return True
    a, b = normalise_text(shown), normalise_text(expected)
    return a == b or (len(b) > 200 and a[:200] == b[:200])
