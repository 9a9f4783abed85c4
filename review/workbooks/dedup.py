"""dedup_review.xlsx: uncertain pairs side by side for a person to mark same / different.

Sheet ``pairs`` has one row per pair: the two record ids, an ``answer`` column (``same`` or
``different``, from a drop-down), ``reviewer`` and ``note``, then each field of record A beside
the same field of record B so a person reads across, and last what each record's source noted
(``record note_a``/``_b``, led by ILLUSTRATIVE / NOT VERIFIED in red for a made-up or unverified
record, as in the screening workbook). A hidden sheet carries the project id so
a workbook from another project is refused. Reading it back returns the answers given; blank
answers are skipped, anything else is an error naming the cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from review.errors import WorkbookError
from review.records import ILLUSTRATIVE_LABEL, record_note
from review.workbooks.common import (
    WRAP,
    cell_int,
    cell_text,
    column_letter,
    file_sha256,
    find_header,
    new_workbook,
    open_workbook,
    raise_problems,
    read_meta,
    setup_sheet,
    style_template,
    text_cell,
    write_header,
    write_meta,
)

__all__ = [
    "DEDUP_KIND",
    "SHEET",
    "ReviewAnswer",
    "ReviewPair",
    "ReviewSheet",
    "read_dedup_review",
    "write_dedup_review",
]

SHEET = "pairs"
DEDUP_KIND = "dedup-review"
#: Record fields shown side by side, in order.
FIELDS = ("source", "title", "authors", "year", "journal", "volume", "issue", "pages", "doi", "pmid")
_FIXED = ("record_id_a", "record_id_b", "answer", "reviewer", "note", "score", "reason")
#: Header (before ``_a``/``_b``) of the columns showing the source's notes on each record.
NOTE_COLUMN = "record note"
# the screening workbook's red for a record marked illustrative / not verified
_FLAG_FONT = Font(bold=True, color="9C0006")
_FLAG_FILL = PatternFill("solid", start_color="FFC7CE")
_SAME = frozenset({"same", "s", "duplicate", "dup", "yes", "y", "1", "true"})
_DIFFERENT = frozenset({"different", "d", "diff", "not duplicate", "no", "n", "0", "false"})


@dataclass(frozen=True, slots=True)
class ReviewPair:
    """One pair to show: record ids, the algorithm's score and reason, both records' fields."""

    a: int
    b: int
    score: float
    reason: str
    record_a: Mapping[str, Any]
    record_b: Mapping[str, Any]
    answer: str | None = None  # a current answer ('same'/'different'), shown pre-filled
    reviewer: str | None = None
    notes_a: Sequence[str] = ()  # the source's notes on record A (review.records.record_notes)
    notes_b: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class ReviewAnswer:
    """An answer read from the workbook (row = its Excel row)."""

    a: int
    b: int
    same: bool
    reviewer: str
    note: str | None
    row: int


@dataclass
class ReviewSheet:
    """What :func:`read_dedup_review` found: the answers, the workbook's hash and meta sheet."""

    answers: list[ReviewAnswer]
    sha256: str
    meta: dict[str, str] = field(default_factory=dict)
    blank: int = 0


def _show(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return value


def write_dedup_review(path: str | Path, pairs: Sequence[ReviewPair], meta: Mapping[str, object]) -> Path:
    """Write the review workbook (``meta`` goes to the hidden sheet: project id, run id, ...)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = new_workbook()
    ws: Any = wb.create_sheet(SHEET)
    header = list(_FIXED)
    widths: list[float] = [11, 11, 12, 14, 24, 7, 30]
    for name in FIELDS:
        header += [f"{name}_a", f"{name}_b"]
        wide = 60 if name == "title" else 30 if name in ("authors", "journal") else 12
        widths += [wide, wide]
    header += [f"{NOTE_COLUMN}_a", f"{NOTE_COLUMN}_b"]
    widths += [45, 45]
    setup_sheet(ws, widths, len(pairs), freeze="D2")
    answer_col = column_letter(header.index("answer"))
    dv = DataValidation(
        type="list",
        formula1='"same,different"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="same or different",
        error="Type same (one publication) or different (two publications), or leave blank.",
    )
    dv.add(f"{answer_col}2:{answer_col}{max(len(pairs), 1) + 1}")
    ws.data_validations.append(dv)
    write_header(ws, header)
    wrap = style_template(ws, alignment=WRAP)
    wrap_quoted = style_template(ws, alignment=WRAP, quote=True)
    flag = style_template(ws, font=_FLAG_FONT, fill=_FLAG_FILL, alignment=WRAP)
    flag_quoted = style_template(ws, font=_FLAG_FONT, fill=_FLAG_FILL, alignment=WRAP, quote=True)
    for p in pairs:
        row: list[Any] = [
            p.a,
            p.b,
            text_cell(ws, p.answer),
            text_cell(ws, p.reviewer),
            None,
            round(p.score, 3),
        ]
        row.append(text_cell(ws, p.reason))
        for name in FIELDS:
            row.append(text_cell(ws, _show(p.record_a.get(name)), wrap, wrap_quoted))
            row.append(text_cell(ws, _show(p.record_b.get(name)), wrap, wrap_quoted))
        for notes in (p.notes_a, p.notes_b):
            note = record_note(notes)
            marked = note is not None and note.startswith(ILLUSTRATIVE_LABEL)
            row.append(text_cell(ws, note, flag if marked else wrap, flag_quoted if marked else wrap_quoted))
        ws.append(row)
    help_ws: Any = wb.create_sheet("how to")
    help_ws.column_dimensions["A"].width = 110
    for line in (
        "Each row of 'pairs' is two records the deduplication could not decide on.",
        "Read record A's fields (columns ending _a) beside record B's (_b).",
        "In 'answer' type: same = one publication (merge them); different = two publications (keep both).",
        "Put your name in 'reviewer'. Leave 'answer' blank to decide later. Do not change the record ids.",
        "Conference abstracts and their full paper, errata, comments/replies and papers of another year are different.",
        f"'{NOTE_COLUMN}_a'/'_b' show what each record's source noted; '{ILLUSTRATIVE_LABEL}' (red) marks a "
        "made-up record or one whose details were not verified: it is there for illustration, not evidence.",
        "Then run: review dedup DIR --answers THIS_FILE.xlsx",
    ):
        help_ws.append([line])
    write_meta(wb, {"kind": DEDUP_KIND, **meta})
    wb.save(out)
    return out


def read_dedup_review(path: str | Path, *, project_id: str | None = None) -> ReviewSheet:
    """Read the answers of a filled dedup_review.xlsx.

    Refuses a workbook of another kind or project, and names the cell of any answer that is
    not same/different, any answered row without a reviewer, and any damaged record id.
    """
    p = Path(path)
    wb = open_workbook(p)
    try:
        meta = read_meta(wb, p)
        if meta.get("kind") != DEDUP_KIND:
            raise WorkbookError(
                f"is a {meta.get('kind') or 'different'!r} workbook, not a dedup review: pass the "
                "dedup_review.xlsx that `review dedup` wrote",
                path=p,
            )
        if project_id is not None and meta.get("project_id") not in (None, "", project_id):
            raise WorkbookError(
                "belongs to another project (its project id differs): import it into the project that wrote it",
                path=p,
            )
        if SHEET not in wb.sheetnames:
            raise WorkbookError(f"has no {SHEET!r} sheet", path=p)
        rows = wb[SHEET].iter_rows(values_only=True)
        header_row, cols = find_header(
            rows, ["record_id_a", "record_id_b", "answer", "reviewer"], path=p, sheet=SHEET
        )
        answers: list[ReviewAnswer] = []
        problems: list[tuple[int, str | None, str]] = []
        blank = 0
        for number, row in enumerate(rows, start=header_row + 1):
            if row is None or all(v is None or str(v).strip() == "" for v in row):
                continue
            raw = cell_text(row, cols["answer"])
            text = "" if raw is None else str(raw).strip().casefold()
            if not text:
                blank += 1
                continue
            a, b = (
                cell_int(cell_text(row, cols["record_id_a"])),
                cell_int(cell_text(row, cols["record_id_b"])),
            )
            if a is None or b is None or a == b:
                problems.append(
                    (number, column_letter(cols["record_id_a"]), "the record ids were changed or removed")
                )
                continue
            if text in _SAME:
                same = True
            elif text in _DIFFERENT:
                same = False
            else:
                problems.append(
                    (number, column_letter(cols["answer"]), f"answer {raw!r} is not 'same' or 'different'")
                )
                continue
            reviewer = cell_text(row, cols["reviewer"])
            if reviewer is None or not str(reviewer).strip():
                problems.append(
                    (number, column_letter(cols["reviewer"]), "an answer needs the reviewer's name")
                )
                continue
            note = cell_text(row, cols.get("note"))
            answers.append(
                ReviewAnswer(
                    a=min(a, b),
                    b=max(a, b),
                    same=same,
                    reviewer=str(reviewer).strip(),
                    note=None if note is None else str(note),
                    row=number,
                )
            )
        raise_problems(problems, path=p, sheet=SHEET)
    finally:
        wb.close()
    return ReviewSheet(answers=answers, sha256=file_sha256(p), meta=meta, blank=blank)
