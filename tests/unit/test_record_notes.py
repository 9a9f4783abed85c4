"""Source notes on a record and the 'illustrative / not verified' label shown wherever it is."""

from __future__ import annotations

import pytest

from review.records import ILLUSTRATIVE_LABEL, is_illustrative_note, record_note, record_notes


def test_notes_from_every_reader_in_order_without_repeats() -> None:
    extra = {"notes": ["a", " b ", ""], "ris": {"notes": ["b", "c"]}}
    assert record_notes(extra) == ("a", "b", "c")
    assert record_notes({"notes": "one note"}) == ("one note",)  # a CSV notes column
    assert record_notes({}) == record_notes(None) == ()
    assert record_notes({"notes": None, "ris": {"id": ["x"]}}) == ()


@pytest.mark.parametrize(
    ("note", "flagged"),
    [
        ("MADE-UP demo record: not a real publication.", True),
        ("Rows not verified: treat these fields as illustrative.", True),
        ("Source row not verified: illustrative.", True),
        ("Demo record: real publication; fields transcribed from the source.", False),
        ("63 refs.", False),
        (None, False),
    ],
)
def test_which_notes_mark_a_record_illustrative(note: str | None, flagged: bool) -> None:
    assert is_illustrative_note(note) is flagged


def test_shown_note_leads_with_the_label() -> None:
    assert record_note(["63 refs.", "14 fn."]) == "63 refs. | 14 fn."
    shown = record_note(["real paper", "MADE-UP demo record: not a real publication."])
    assert shown == f"{ILLUSTRATIVE_LABEL}: real paper | MADE-UP demo record: not a real publication."
    assert record_note([]) is None and record_note([None, " "]) is None
