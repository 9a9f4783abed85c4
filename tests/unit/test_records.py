"""The record model: DOI/PMID/year normalisation and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.records import COLUMNS, Record, normalise_doi, normalise_pmid, normalise_text, parse_year


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("10.1016/j.pain.2009.06.023", "10.1016/j.pain.2009.06.023"),
        ("https://doi.org/10.1016/J.PAIN.2009.06.023", "10.1016/j.pain.2009.06.023"),
        ("http://dx.doi.org/10.1097/MOL.0b013e3282ffaf82", "10.1097/mol.0b013e3282ffaf82"),
        ("doi: 10.3390/ph17060811.", "10.3390/ph17060811"),
        ("  DOI 10.1002/14651858.CD009416.pub3 ", "10.1002/14651858.cd009416.pub3"),
        ("10.1016/S0304-3959(09)00368-6", "10.1016/s0304-3959(09)00368-6"),
        # the inside of an Excel HYPERLINK formula: a quote ends the DOI
        ('10.1016/j.pain.2009.08.015","10.1016/j.pain.2009.08.015")', "10.1016/j.pain.2009.08.015"),
        # SICI DOIs hold angle brackets and semicolons
        (
            "10.1002/(SICI)1097-4636(199812)43:4<448::AID-JBM14>3.0.CO;2-8",
            "10.1002/(sici)1097-4636(199812)43:4<448::aid-jbm14>3.0.co;2-8",
        ),
        ("", None),
        ("not a doi", None),
        (None, None),
    ],
)
def test_normalise_doi(raw: str | None, want: str | None) -> None:
    assert normalise_doi(raw) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("19304393", "19304393"),
        (" PMID: 19304393 ", "19304393"),
        ("19304393 [pmid]", "19304393"),
        (19304393, "19304393"),
        ("", None),
        (None, None),
        ("0", None),
    ],
)
def test_normalise_pmid(raw: str | int | None, want: str | None) -> None:
    assert normalise_pmid(raw) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("2009", 2009),
        ("2009 Dec 15", 2009),
        ("Winter 1998-1999", 1998),
        (2004, 2004),
        ("n.d.", None),
        (None, None),
        ("12345", None),
    ],
)
def test_parse_year(raw: str | int | None, want: int | None) -> None:
    assert parse_year(raw) == want


def test_normalise_text_folds_accents_and_tags() -> None:
    assert normalise_text("Sudeck's <i>atrophy</i>: Émile") == "sudeck s atrophy emile"


def test_record_normalises_on_creation() -> None:
    rec = Record(
        source="pubmed",
        source_id=" 123 ",
        doi="https://doi.org/10.1234/ABC",
        pmid="PMID 123",
        year="2009 Dec",
        title="  A title ",
        authors=["Smith, J", " ", None],
    )  # type: ignore[arg-type]
    assert rec.source_id == "123"
    assert rec.doi == "10.1234/abc"
    assert rec.pmid == "123"
    assert rec.year == 2009
    assert rec.title == "A title"
    assert rec.authors == ("Smith, J",)


def test_from_mapping_keeps_unknown_fields_in_extra() -> None:
    rec = Record.from_mapping({"source": "x", "source_id": "1", "title": "T", "accession": "AN1"})
    assert rec.extra == {"accession": "AN1"}
    assert set(rec.as_dict()) == set(COLUMNS)


text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@given(title=text, authors=st.lists(text, max_size=4), year=st.integers(1800, 2100))
def test_normalising_twice_changes_nothing(title: str, authors: list[str], year: int) -> None:
    rec = Record(source="s", source_id="1", title=title, authors=tuple(authors), year=year)
    assert Record.from_mapping(rec.as_dict()) == rec
