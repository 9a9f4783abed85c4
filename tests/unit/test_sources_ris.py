"""RIS reading (entry by entry, damaged files, field mapping) and the RIS round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import records

from review.records import COLUMNS, ILLUSTRATIVE_LABEL, Record, record_note, record_notes
from review.sources import read_file
from review.sources._common import split_lines
from review.sources.ris import read_ris, write_ris

KEY = "0123456789abcdef"


def _read(text: str, source: str = "embase"):
    return read_ris(split_lines(text), source, KEY)


ENTRY = """TY  - JOUR
TI  - Ketamine for CRPS: a randomised trial
AU  - Sigtermans, Marnix J
AU  - van Hilten, Jacobus J
PY  - 2009
T2  - Pain
VL  - 145
IS  - 3
SP  - 304
EP  - 311
DO  - https://doi.org/10.1016/J.PAIN.2009.06.023
AB  - BACKGROUND: first paragraph.
RESULTS: second paragraph.
KW  - ketamine
KW  - complex regional pain syndrome
M3  - Randomized Controlled Trial
LA  - English
SN  - 0304-3959
UR  - https://example.org/a;b
ER  -
"""


def test_fields_are_mapped() -> None:
    result = _read(ENTRY)
    assert result.entries == 1 and result.issues == []
    r = result.records[0]
    assert r.title == "Ketamine for CRPS: a randomised trial"
    assert r.authors == ("Sigtermans, Marnix J", "van Hilten, Jacobus J")
    assert (r.year, r.journal, r.volume, r.issue, r.pages) == (2009, "Pain", "145", "3", "304-311")
    assert r.doi == "10.1016/j.pain.2009.06.023"
    assert r.abstract == "BACKGROUND: first paragraph.\nRESULTS: second paragraph."
    assert r.keywords == ("ketamine", "complex regional pain syndrome")
    assert r.publication_types == ("Randomized Controlled Trial",)
    assert (r.language, r.issn, r.url, r.record_type) == (
        "English",
        "0304-3959",
        "https://example.org/a;b",
        "JOUR",
    )
    assert r.source == "embase" and r.source_id == f"{KEY}#1"


def test_unmapped_tags_go_to_extra() -> None:
    text = ENTRY.replace("ER  -\n", "J2  - Pain (abbrev)\nZZ  - a tag nobody knows\nSN  - 1872-6623\nER  -\n")
    r = _read(text).records[0]
    assert r.extra["ris"]["alternate_title1"] == ["Pain (abbrev)"]
    assert r.extra["ris"]["unknown_tag"] == {"ZZ": ["a tag nobody knows"]}
    assert r.extra["ris"]["issn"] == ["1872-6623"]  # the second ISSN is kept, not overwritten
    assert r.issn == "0304-3959"


@pytest.mark.parametrize(
    ("tags", "pmid"),
    [
        ("DB  - Scopus\nC2  - 31421429", "31421429"),  # Scopus puts the PubMed id in C2
        ("DB  - Embase\nDB  - Medline\nC5  - 15368318", "15368318"),  # Ovid Embase: C5
        ("AN  - 29459515\nDP  - NLM", "29459515"),  # EndNote's PubMed import
        ("N1  - PMID: 123456", "123456"),  # our own export
        ("UR  - https://pubmed.ncbi.nlm.nih.gov/777/", "777"),
        ("C2  - 31421429", None),  # C2 is not a PMID outside Scopus
        ("AN  - 29459515", None),  # an accession number alone is not a PMID
    ],
)
def test_pmid_sources(tags: str, pmid: str | None) -> None:
    r = _read(f"TY  - JOUR\nTI  - t\n{tags}\nER  - \n").records[0]
    assert r.pmid == pmid


def test_accession_number_is_the_key_when_unique() -> None:
    text = "".join(f"TY  - JOUR\nTI  - t{i}\nAN  - WOS:{i}\nER  - \n\n" for i in range(3))
    assert [r.source_id for r in _read(text).records] == ["WOS:0", "WOS:1", "WOS:2"]


def test_identical_entries_are_both_kept() -> None:
    text = ENTRY + "\n" + ENTRY
    result = _read(text)
    assert len(result.records) == 2
    assert len({r.source_id for r in result.records}) == 2


def test_repeated_accession_numbers_fall_back_to_positions() -> None:
    entry = "TY  - JOUR\nTI  - same\nAN  - 42\nER  - \n"
    result = _read(entry + entry)
    assert [r.source_id for r in result.records] == [f"{KEY}#1", f"{KEY}#2"]
    assert any("occurs 2 times" in i.message for i in result.warnings)


def test_missing_title_is_imported_with_a_warning() -> None:
    result = _read("TY  - GEN\nAU  - Someone\nER  - \n")
    assert len(result.records) == 1 and result.records[0].title is None
    assert result.warnings[0].line == 1 and "no title" in result.warnings[0].message


def test_corrupt_entry_in_the_middle_keeps_the_entries_after_it() -> None:
    good = "TY  - JOUR\nTI  - good {n}\nER  - \n\n"
    broken = "TY  - JOUR\nTI  - broken, no ER line\n\x00\x01garbage\n\n"  # lines 9-11
    no_ty = "TI  - entry whose TY line is lost\nAU  - X\nER  - \n\n"
    text = good.format(n=1) + good.format(n=2) + broken + good.format(n=3) + no_ty + good.format(n=4)
    result = _read(text)
    titles = [r.title for r in result.records]
    assert titles == [
        "good 1",
        "good 2",
        "broken, no ER line",
        "good 3",
        "entry whose TY line is lost",
        "good 4",
    ]
    assert result.entries == 6
    messages = {i.line: i.message for i in result.issues}
    assert "no ER line before the next TY" in messages[9]
    assert "no TY line" in messages[17]


def test_entry_without_er_at_end_of_file() -> None:
    result = _read("TY  - JOUR\nTI  - first\nER  - \nTY  - JOUR\nTI  - cut off")
    assert [r.title for r in result.records] == ["first", "cut off"]
    assert "end of the file" in result.warnings[0].message


def test_text_outside_entries_is_reported_and_ovid_trailing_tags_kept() -> None:
    text = "1.\nTY  - JOUR\nTI  - a\nER  - \nNL  - Clin Psychol\n\nLink to Ovid\n\n2.\nTY  - JOUR\nTI  - b\nER  - \n"
    result = _read(text)
    assert [r.title for r in result.records] == ["a", "b"]
    assert result.records[0].extra["ris"]["unknown_tag"] == {"NL": ["Clin Psychol"]}
    skipped = [i for i in result.warnings if "outside any RIS entry" in i.message]
    assert skipped and skipped[0].line == 1 and "3 lines" in skipped[0].message


def test_lenient_tag_lines() -> None:
    result = _read("TY - JOUR\nTI -A title\nPY  -2001\nER  -\n")
    assert result.records[0].title == "A title" and result.records[0].year == 2001


def test_unparseable_year_is_kept_with_a_warning() -> None:
    result = _read("TY  - JOUR\nTI  - t\nPY  - 10 15\nER  - \n")
    r = result.records[0]
    assert r.year is None and r.extra["ris"]["year"] == ["10 15"]
    assert "not a year" in result.warnings[0].message


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_and_line_ends(tmp_path: Path, newline: str, encoding: str) -> None:
    text = "TY  - JOUR\nTI  - Síndrome de dolor regional complejo – €\nAU  - Müller, Jürgen\nER  - \n"
    path = tmp_path / "x.ris"
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    result = read_file(path, "lilacs")
    assert [r.title for r in result.records] == ["Síndrome de dolor regional complejo – €"]
    assert result.records[0].authors == ("Müller, Jürgen",)
    assert bool(result.warnings) == (encoding == "cp1252")  # a non-UTF-8 file is flagged


def _fields(record: Record) -> dict[str, object]:
    return {k: getattr(record, k) for k in COLUMNS}


def test_round_trip_keeps_fields_and_extra_tags() -> None:
    text = ENTRY.replace("ER  -\n", "J2  - Pain abbrev\nN1  - a note\nZZ  - unknown\nER  -\n")
    first = _read(text).records
    again = _read(write_ris(first)).records
    assert [_fields(r) for r in again] == [_fields(r) for r in first]
    extra = dict(again[0].extra["ris"])
    extra.pop("accession_number")
    assert extra == dict(first[0].extra["ris"])


def test_export_has_no_numbering_lines_and_uses_crlf() -> None:
    text = write_ris(_read(ENTRY + "\n" + ENTRY).records)
    assert text.startswith("TY  - JOUR\r\n")
    assert "1." not in text.split("\r\n")
    assert text.count("ER  - ") == 2


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=4, unique_by=lambda r: r.source_id))
def test_ris_round_trip_property(recs: list[Record]) -> None:
    again = _read(write_ris(recs), source="test").records
    assert [_fields(r) for r in again] == [_fields(r) for r in recs]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(records(), min_size=2, max_size=5, unique_by=lambda r: r.source_id),
    st.integers(min_value=0),
    st.sampled_from(["drop", "garbage", "binary"]),
)
def test_one_damaged_line_loses_no_entry(recs: list[Record], where: int, damage: str) -> None:
    lines = split_lines(write_ris(recs))
    i = where % len(lines)
    if damage == "drop":
        del lines[i]
    elif damage == "garbage":
        lines.insert(i, "%%% not a RIS line %%%")
    else:
        lines.insert(i, "\x00\x01\x02")
    result = read_ris(lines, "test", KEY)
    # every entry is still read (an entry whose TY or ER line is gone is recovered with a warning)
    assert len(result.records) == len(recs)
    assert result.entries == len(recs) and result.errors == []


def test_source_notes_are_exported_as_n1_and_read_back() -> None:
    """A PubMed GeneralNote saying 'not verified' survives RIS export and import: still labelled."""
    note = "Source row not verified: treat these fields as illustrative."
    rec = Record(
        source="pubmed",
        source_id="99000024",
        pmid="99000024",
        title="Local anaesthetic sympathetic blockade for CRPS",
        extra={"notes": [note, "63 refs."]},
    )
    text = write_ris([rec])
    assert f"N1  - {note}\r\n" in text and "N1  - 63 refs.\r\n" in text and "N1  - PMID: 99000024" in text
    back = _read(text).records[0]
    assert back.pmid == "99000024"
    assert record_notes(back.extra) == (note, "63 refs.")
    assert record_note(record_notes(back.extra)) == record_note(record_notes(rec.extra))
    assert str(record_note(record_notes(back.extra))).startswith(ILLUSTRATIVE_LABEL)
    again = write_ris([back])  # exported a second time: each note once
    assert again.count(note) == 1 and again.count("PMID: 99000024") == 1
