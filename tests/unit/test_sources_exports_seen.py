"""Exports as people hand them over: joined files, UTF-16 without BOM, database quirks."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pytest

from review.records import Record
from review.sources import read_file
from review.sources.csvfile import EXPORT_COLUMNS, read_csv, write_csv

COLUMNS_AT = {name: i for i, name in enumerate(EXPORT_COLUMNS)}

ENTRY = "TY  - JOUR\r\nTI  - {title}\r\nAU  - Smith, J\r\nPY  - 2009\r\n{more}ER  - \r\n"


def _entry(title: str, more: str = "") -> str:
    return ENTRY.format(title=title, more=more)


def test_files_joined_with_cat_keep_every_entry_whole(tmp_path: Path) -> None:
    path = tmp_path / "joined.ris"
    one = codecs.BOM_UTF8 + _entry("Ketamine in CRPS").encode()
    two = codecs.BOM_UTF8 + _entry("Lidocaine in CRPS").encode()
    path.write_bytes(one + two)
    result = read_file(path, "central")
    assert [(r.title, r.record_type) for r in result.records] == [
        ("Ketamine in CRPS", "JOUR"),
        ("Lidocaine in CRPS", "JOUR"),
    ]
    assert result.issues == []


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark_is_read(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "nobom.ris"
    path.write_bytes(_entry("Kétamine dans le SDRC").encode(codec))
    result = read_file(path, "x")
    assert result.encoding == codec and result.records[0].title == "Kétamine dans le SDRC"


def test_pubmed_ids_written_with_a_database_prefix(tmp_path: Path) -> None:
    path = tmp_path / "prefixed.ris"
    cinahl = "N1  - Accession Number: 105385463. Language: English. PMID: NLM19783373.\r\n"
    path.write_text(_entry("CINAHL record", cinahl) + _entry("CENTRAL record", "AN  - PUBMED 19604642\r\n"))
    assert [r.pmid for r in read_file(path, "x").records] == ["19783373", "19604642"]


def test_csv_cells_that_are_no_year_doi_or_pmid_are_kept_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "title,authors,published year,doi,pmid\r\n"
        "A,Doe J,in press,,\r\n"
        "B,Roe R,2011,not available,1.98E+07\r\n"
        "C,Poe P,2012,10.1000/x,NLM19604642\r\n",
        encoding="utf-8",
    )
    result = read_file(path, "x")
    assert [(r.year, r.doi, r.pmid) for r in result.records] == [
        (None, None, None),
        (2011, None, None),
        (2012, "10.1000/x", "19604642"),
    ]
    assert [r.extra.get(f) for r in result.records[:2] for f in ("year", "doi", "pmid")] == [
        "in press",
        None,
        None,
        None,
        "not available",
        "1.98E+07",
    ]
    assert [str(i)[:38] for i in result.issues] == [
        "line 2: row 1: year 'in press' is not ",
        "line 3: row 2: doi 'not available' is ",
        "line 3: row 2: pmid '1.98E+07' is not ",
    ]


def test_web_of_science_tab_delimited_maps_its_tags(tmp_path: Path) -> None:
    header = "PT\tAU\tAF\tTI\tSO\tDE\tID\tDT\tSP\tPY\tVL\tBP\tEP\tAR\tDI\tPG\tUT\tPM"
    rows = [
        "J\tSchwartzman, RJ\tSchwartzman, Robert J.\tOutpatient ketamine\tPAIN\tCRPS; Ketamine\tPAIN\t"
        "Article\t\t2009\t147\t107\t115\t\t10.1016/j.pain.2009.08.015\t9\tWOS:000272383700020\t19783373\t",
        "J\tLee, K\tLee, Kim\tOnline only\tPLOS ONE\t\t\tArticle\t\t2021\t16\t\t\te0251234\t\t12\tWOS:2\t\t",
    ]
    path = tmp_path / "savedrecs.txt"
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("utf-16"))
    result = read_file(path, "wos")
    assert result.issues == []  # the tab that ends each row is no cell
    first, second = result.records
    assert (first.pages, first.pmid, first.keywords, first.publication_types, first.authors) == (
        "107-115",
        "19783373",
        ("CRPS", "Ketamine", "PAIN"),
        ("Article",),
        ("Schwartzman, Robert J.",),
    )
    assert (first.source_id, second.pages, second.pmid) == ("WOS:000272383700020", "e0251234", None)


def test_an_unclosed_quote_names_every_row_it_swallowed(tmp_path: Path) -> None:
    path = tmp_path / "uq.csv"
    path.write_text(
        'id,title,year\r\n1,Ketamine,2009\r\n2,"Magnesium ""pilot,2010\r\n3,Esketamine,2011\r\n4,Memantine,2012\r\n'
    )
    result = read_file(path, "x")
    assert (result.entries, len(result.records), len(result.errors)) == (4, 1, 3)
    assert [i.line for i in result.errors] == [3, 4, 5]


def test_csv_export_cells_excel_would_run_are_guarded_and_read_back() -> None:
    titles = [
        '=HYPERLINK("http://x","y")',
        "+Ketamine plus magnesium",
        "-5 mg",
        "@risk",
        "'=kept quote",
        "Plain",
    ]
    records = [Record(source="x", source_id=str(i), title=t, authors=(t,)) for i, t in enumerate(titles)]
    text = write_csv(records, list(range(len(records))))
    cells = [row[COLUMNS_AT["title"]] for row in csv.reader(io.StringIO(text))][1:]
    assert cells == ["'" + t for t in titles[:5]] + ["Plain"]
    back = read_csv(text, "x", "k").records
    assert [(r.title, r.authors) for r in back] == [(t, (t,)) for t in titles]


def test_csv_quirks_of_scopus_pubmed_and_excel(tmp_path: Path) -> None:
    path = tmp_path / "quirks.csv"
    path.write_text(
        "Authors,Title,Year,Source title,Volume,Issue,Page start,Page end\r\n"
        '"Schwartzman, R.J., Alexander, G.M., Kiefer, R.-T.",Ketamine,2009,Pain,147,3-Jan,107,115\r\n',
        encoding="utf-8",
    )
    (rec,) = read_file(path, "scopus").records
    assert rec.authors == ("Schwartzman, R.J.", "Alexander, G.M.", "Kiefer, R.-T.")
    assert [str(i) for i in read_file(path, "scopus").issues] == [
        "line 2: row 1: issue '3-Jan' looks like a date Excel made of a range (1-3 -> 3-Jan): check it in the source"
    ]
    pubmed = tmp_path / "csv-pubmed.csv"
    pubmed.write_text(
        '"PMID","Title","Authors","Citation","First Author","Journal/Book","Publication Year"\r\n'
        '"19783373","Ketamine.","Schwartzman RJ, Alexander GM.",'
        '"Pain. 2009 Dec 15;147(1-3):107-15. doi: 10.1016/j.pain.2009.08.015.","Schwartzman RJ","Pain","2009"\r\n',
        encoding="utf-8",
    )
    (rec,) = read_file(pubmed, "pubmed").records
    assert (rec.volume, rec.issue, rec.pages, rec.authors) == (
        "147",
        "1-3",
        "107-15",
        ("Schwartzman RJ", "Alexander GM"),
    )


def test_an_excel_hyperlink_formula_gives_its_text_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "formula.csv"
    path.write_text(
        "title,doi\r\n"
        'Ketamine,"=HYPERLINK(""https://doi.org/10.1016/j.pain.2009.08.015"",""10.1016/j.pain.2009.08.015"")"\r\n'
        "=1+1,10.1111/pme.12001\r\n",
        encoding="utf-8",
    )
    result = read_file(path, "x")
    assert [(r.title, r.doi) for r in result.records] == [
        ("Ketamine", "10.1016/j.pain.2009.08.015"),
        ("=1+1", "10.1111/pme.12001"),
    ]
    assert [str(i) for i in result.issues] == [
        "line 2: row 1: doi holds an Excel formula; its text '10.1016/j.pain.2009.08.015' was used",
        "line 3: row 2: title holds an Excel formula; kept as it is",
    ]
