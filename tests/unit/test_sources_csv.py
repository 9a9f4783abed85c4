"""CSV libraries: the generic contract shape, Zotero and EndNote columns, damaged rows."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import records

from review.records import COLUMNS, ILLUSTRATIVE_LABEL, Record, record_note, record_notes
from review.sources.csvfile import read_csv, write_csv

KEY = "abcdefabcdefabcd"


def test_contract_shape() -> None:
    text = (
        "id,title,authors,year,journal,volume,issue,pages,doi,pmid,isbn,abstract,notes\n"
        'r1,"Ketamine, CRPS",Smith J; Jones K,2009,Pain,145,3,304-11,10.1016/X,19683877,,Abs,n1\n'
        "r2,Other,Smith J and Jones K and Lee M,2010,,,,,,,978-3-16,,\n"
    )
    result = read_csv(text, "cinahl", KEY)
    a, b = result.records
    assert a.title == "Ketamine, CRPS" and a.authors == ("Smith J", "Jones K")
    assert (a.year, a.journal, a.pages, a.doi, a.pmid, a.abstract) == (
        2009,
        "Pain",
        "304-11",
        "10.1016/x",
        "19683877",
        "Abs",
    )
    assert a.extra["id"] == "r1" and a.extra["notes"] == "n1"
    assert a.source_id == f"{KEY}:r1"  # a file-local id is qualified by the file
    assert b.authors == ("Smith J", "Jones K", "Lee M") and b.issn == "978-3-16"
    assert result.issues == []


def test_zotero_columns() -> None:
    text = (
        '\ufeff"Key","Item Type","Publication Year","Author","Title","Publication Title","ISBN","ISSN",'
        '"DOI","Url","Abstract Note","Pages","Issue","Volume","Extra","Manual Tags","Automatic Tags","Language"\n'
        '"RUEH8DBA","journalArticle","2012","Cole, Lynette K.; Doe, J","Otitis","Vet Clin","","1878-1306",'
        '"10.1016/j.cvsm.2012.08.002","","Abs","1137-1142","6","42","Place: US PMID: 23122173","a; b","c","eng"\n'
    )
    r = read_csv(text, "zotero", KEY).records[0]
    assert r.source_id == "RUEH8DBA"  # Zotero keys are library-wide
    assert r.record_type == "JOUR" and r.pmid == "23122173" and r.issn == "1878-1306"
    assert r.authors == ("Cole, Lynette K.", "Doe, J") and r.keywords == ("a", "b", "c")
    assert (r.year, r.journal, r.volume, r.issue, r.pages) == (2012, "Vet Clin", "42", "6", "1137-1142")


def test_endnote_columns_semicolon_delimited() -> None:
    text = (
        "Reference Type;Author;Year;Title;Secondary Title;Volume;Number;Pages;ISBN/ISSN;Accession Number;Record Number\n"
        "Journal Article;Smith, J;2001;A title;Pain;1;2;3-4;0304-3959;12345;7\n"
        "Conference Proceedings;Lee, K;2002;B title;Congress;;;;;;8\n"
    )
    a, b = read_csv(text, "endnote", KEY).records
    assert (a.record_type, a.journal, a.issue, a.issn, a.source_id) == (
        "JOUR",
        "Pain",
        "2",
        "0304-3959",
        "12345",
    )
    assert b.record_type == "CONF" and b.source_id == f"{KEY}#2"


def test_short_long_and_empty_rows_are_reported() -> None:
    text = "id,title,year\n1,a,2001\n2,b\n3,c,2003,surplus\n,,\n4,d,2004\n"
    result = read_csv(text, "x", KEY)
    assert [r.title for r in result.records] == ["a", "b", "c", "d"]
    assert result.entries == 5
    assert [(i.line, i.severity) for i in result.issues] == [(3, "warning"), (4, "warning"), (5, "error")]
    assert result.records[2].extra["_cells"] == ["surplus"]


def test_unclosed_quote_is_an_error_naming_the_line() -> None:
    text = 'id,title\n1,fine\n2,"never closed\n3,lost\n'
    result = read_csv(text, "x", KEY)
    assert [r.title for r in result.records] == ["fine"]
    assert result.errors and result.errors[0].line == 3


def test_quoted_newlines_keep_row_lines() -> None:
    text = 'id,title,abstract\n1,a,"line one\nline two"\n2,b,x\n'
    result = read_csv(text, "x", KEY)
    assert result.records[0].abstract == "line one\nline two"
    assert result.lines == [2, 4]


@pytest.mark.parametrize("n", [0, 1, 3])
def test_export_reads_back(n: int) -> None:
    text = "id,title,authors,keywords,year,doi\n" + "".join(
        f'{i},"T, {i}",A B; C D,k1; k2,200{i},10.1000/{i}\n' for i in range(n)
    )
    first = read_csv(text, "x", KEY).records
    again = read_csv(write_csv(first, list(range(n))), "x", KEY).records
    fields = [c for c in COLUMNS if c != "source_id"]
    assert [[getattr(r, c) for c in fields] for r in again] == [
        [getattr(r, c) for c in fields] for r in first
    ]


def test_scopus_columns() -> None:
    text = (
        "Authors,Title,Year,Source title,Volume,Issue,Page start,Page end,DOI,Link,Abstract,"
        "Author Keywords,Index Keywords,PubMed ID,Document Type,EID\n"
        "Smith J.; Lee K.,A title,2019,Pain,160,4,801,809,10.1097/j.pain.1,https://scopus/x,Abs,"
        "ketamine; CRPS,human,31421429,Article,2-s2.0-85070226738\n"
    )
    r = read_csv(text, "scopus", KEY).records[0]
    assert r.source_id == "2-s2.0-85070226738" and r.pmid == "31421429" and r.pages == "801-809"
    assert r.keywords == ("ketamine", "CRPS", "human") and r.publication_types == ("Article",)
    assert r.journal == "Pain" and r.url == "https://scopus/x"


def test_pubmed_csv() -> None:
    text = (
        "PMID,Title,Authors,Citation,First Author,Journal/Book,Publication Year,Create Date,PMCID,NIHMS ID,DOI\n"
        '19683877,Ketamine for CRPS.,"Sigtermans MJ, van Hilten JJ, Bauer MCR.",Pain. 2009;145(3):304-11.,'
        "Sigtermans MJ,Pain,2009,2009/08/18,,,10.1016/j.pain.2009.06.023\n"
    )
    r = read_csv(text, "pubmed-csv", KEY).records[0]
    assert r.source_id == r.pmid == "19683877"
    assert r.authors == ("Sigtermans MJ", "van Hilten JJ", "Bauer MCR")
    assert (r.journal, r.year, r.doi) == ("Pain", 2009, "10.1016/j.pain.2009.06.023")
    assert r.extra["Citation"] == "Pain. 2009;145(3):304-11."


def _csv_safe(record: Record) -> bool:
    """Lists are joined with '; ' in a CSV cell, so their items must not hold ';' (a lone group
    author "A and B" is one author: the reader knows its own export)."""
    items = [*record.authors, *record.keywords, *record.publication_types]
    return not any(";" in i for i in items)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records().filter(_csv_safe), min_size=1, max_size=4))
def test_csv_round_trip_property(recs: list[Record]) -> None:
    again = read_csv(write_csv(recs, list(range(1, len(recs) + 1))), "test", KEY).records
    fields = [c for c in COLUMNS if c != "source_id"]  # the key is the file's, not the record's
    assert [[getattr(r, c) for c in fields] for r in again] == [[getattr(r, c) for c in fields] for r in recs]


def test_source_notes_are_exported_in_a_notes_column_and_read_back() -> None:
    """A record marked illustrative keeps its notes in the CSV export and is labelled again on import."""
    note = "MADE-UP demo record: not a real publication."
    marked = Record(
        source="pubmed", source_id="1", title="A made-up trial", extra={"notes": [note, "14 fn."]}
    )
    from_ris = Record(
        source="embase", source_id="2", title="Real paper", extra={"ris": {"notes": ["63 refs."]}}
    )
    plain = Record(source="embase", source_id="3", title="No notes")
    text = write_csv([marked, from_ris, plain], [1, 2, 3])
    rows = text.splitlines()
    assert rows[0].endswith(",notes")
    assert rows[1].endswith(f",{note} | 14 fn.") and rows[2].endswith(",63 refs.") and rows[3].endswith(",")
    back = read_csv(text, "library", KEY).records
    shown = [record_note(record_notes(r.extra)) for r in back]
    assert shown == [f"{ILLUSTRATIVE_LABEL}: {note} | 14 fn.", "63 refs.", None]
    assert shown[0] == record_note(record_notes(marked.extra))
