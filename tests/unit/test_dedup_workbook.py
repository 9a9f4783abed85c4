"""dedup_review.xlsx shows each record's source note, labelled like the screening workbook's."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from review.records import ILLUSTRATIVE_LABEL
from review.workbooks.dedup import ReviewPair, read_dedup_review, write_dedup_review

MADE_UP = "MADE-UP demo record: not a real publication."


def test_record_notes_are_shown_and_illustrative_ones_flagged(tmp_path: Path) -> None:
    pair = ReviewPair(
        a=3,
        b=7,
        score=0.91,
        reason="same title, year differs",
        record_a={"source": "pubmed", "title": "Ketamine for CRPS", "year": 2014},
        record_b={"source": "embase", "title": "Ketamine for CRPS.", "year": 2015},
        notes_a=("63 refs.", MADE_UP),
        notes_b=("=not a formula",),
    )
    plain = ReviewPair(a=1, b=2, score=0.8, reason="r", record_a={"title": "x"}, record_b={"title": "x"})
    book = write_dedup_review(tmp_path / "dedup_review.xlsx", [pair, plain], {"project_id": "p1"})
    ws = load_workbook(book)["pairs"]
    header = [c.value for c in ws[1]]
    a_col, b_col = header.index("record note_a") + 1, header.index("record note_b") + 1
    assert b_col == a_col + 1 and header.index("pmid_b") < header.index("record note_a")
    shown_a = ws.cell(row=2, column=a_col)
    assert shown_a.value == f"{ILLUSTRATIVE_LABEL}: 63 refs. | {MADE_UP}"
    assert shown_a.font.bold and shown_a.font.color.rgb.endswith("9C0006")
    shown_b = ws.cell(row=2, column=b_col)
    assert shown_b.value == "=not a formula" and shown_b.data_type == "s" and not shown_b.font.bold
    assert ws.cell(row=3, column=a_col).value is None and ws.cell(row=3, column=b_col).value is None
    ws.cell(row=2, column=header.index("answer") + 1).value = "different"
    ws.cell(row=2, column=header.index("reviewer") + 1).value = "Anna"
    ws.parent.save(book)
    (answer,) = read_dedup_review(book, project_id="p1").answers  # the new columns do not disturb reading
    assert (answer.a, answer.b, answer.same, answer.reviewer) == (3, 7, False, "Anna")
