"""Cochrane Library plain-text exports ("Record #1 of N", ID:/AU:/TI: lines)."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.sources._common import ReadResult, split_lines
from review.sources.cochrane import looks_like_cochrane, read_cochrane

KEY = "0000111122223333"
DATA = Path(__file__).resolve().parents[1] / "data"


def _read(text: str) -> ReadResult:
    return read_cochrane(split_lines(text), "central", KEY)


def _fixture() -> ReadResult:
    return _read((DATA / "cochrane_central.txt").read_text(encoding="utf-8"))


def test_fields_are_mapped() -> None:
    result = _fixture()
    r = result.records[0]
    assert r.source == "central" and r.source_id == "CN-01234567"
    assert r.title == "Low-dose ketamine infusion for complex regional pain syndrome: a randomised trial"
    assert r.authors == ("Müller K", "Østergaard L")
    assert (r.year, r.journal, r.volume, r.issue, r.pages) == (
        2012,
        "European Journal of Pain",
        "16",
        "4",
        "512-520",
    )
    assert r.pmid == "22334455" and r.doi == "10.1002/j.1532-2149.2011.00999.x"
    assert r.keywords == (
        "Ketamine [therapeutic use]",
        "Complex Regional Pain Syndromes [drug therapy]",
        "Pain Measurement",
    )
    assert r.publication_types == ("Journal Article", "Randomized Controlled Trial")
    assert r.url == "https://www.cochranelibrary.com/central/doi/10.1002/central/CN-01234567/full"
    assert r.record_type == "JOUR"
    assert r.extra == {"cochrane": {"XR": ["EMBASE 2012123456"]}}


def test_multiline_abstract_keeps_its_lines() -> None:
    # "AIM:" inside an abstract is not a Cochrane tag: it continues the abstract
    assert _fixture().records[0].abstract == (
        "BACKGROUND: Ketamine is used for refractory CRPS.\n"
        "METHODS: Forty patients were randomised to ketamine or placebo.\n"
        "AIM: to compare pain scores at 12 weeks."
    )


def test_semicolon_authors_and_non_ascii_title() -> None:
    r = _fixture().records[1]
    assert r.authors == ("García-López M", "Nakamura T", "O'Brien S")
    assert r.title == "氯胺酮治疗复杂区域疼痛综合征的随机对照试验"
    assert (r.pmid, r.doi, r.volume, r.issue, r.pages) == (None, None, None, None, "33-38")


def test_malformed_record_in_the_middle_is_an_error_and_the_rest_import() -> None:
    result = _fixture()
    assert result.entries == 6
    assert [r.source_id for r in result.records] == [
        "CN-01234567",
        "CN-02345678",
        "CN-03456789",
        "CN-04567890",
        "CN-05678901",
    ]
    assert result.positions == [1, 2, 4, 5, 6] and result.lines == [1, 21, 34, 43, 54]
    (error,) = result.errors
    assert error.line == 31
    assert error.message.startswith("record 3 has no 'XX: value' field lines (first line: '%%%%")
    assert len(result.records) + len(result.errors) == result.entries  # nothing dropped silently


def test_warnings_name_their_lines() -> None:
    warnings = [str(w) for w in _fixture().warnings]
    assert warnings == [
        "line 34: record 4 has no title (TI); imported anyway",
        "line 43: record 5: YR 'in press' is not a year; kept as it is",
        "line 43: record 5: TI occurs 2 times; the first is used, the others kept in extra['cochrane']['TI']",
    ]


def test_registry_record_conference_and_pmid_among_cross_references() -> None:
    records = _fixture().records
    registry, conference, last = records[2], records[3], records[4]
    assert registry.record_type == "GEN" and registry.publication_types == ("Trial registry record",)
    assert registry.extra["cochrane"]["CC"] == ["Pain, Palliative and Supportive Care"]
    assert conference.record_type == "CONF" and conference.pmid == "33445566" and conference.year is None
    assert conference.extra["cochrane"]["YR"] == ["in press"]
    assert last.doi == "10.1213/ane.0000000000003300" and last.pages == "e21"


def test_repeated_id_is_no_key_and_header_count_is_checked() -> None:
    text = "Record #1 of 3\nID: CN-1\nTI: A\n\nRecord #2 of 3\nID: CN-1\nTI: B\n"
    result = _read(text)
    assert [r.source_id for r in result.records] == [f"{KEY}#1", f"{KEY}#2"]
    assert result.records[0].extra["cochrane"]["ID"] == ["CN-1"]
    messages = [w.message for w in result.warnings]
    assert "ID 'CN-1' occurs 2 times in the file; all kept" in messages
    assert any("says 'of 3' records but holds 2" in m for m in messages)


def test_missing_record_numbers_are_reported() -> None:
    result = _read("Record #1 of 3\nID: CN-1\nTI: A\n\nRecord #3 of 3\nID: CN-3\nTI: C\n")
    assert [w.message for w in result.warnings] == [
        "the file says 'of 3' records but holds 2: check the export is complete",
        "record numbers are not consecutive (e.g. #3): check records are missing",
    ]


def test_text_before_the_first_record_is_reported() -> None:
    result = _read("Cochrane Library export\n\nRecord #1 of 1\nID: CN-9\nTI: Only\n")
    assert [r.source_id for r in result.records] == ["CN-9"]
    assert str(result.warnings[0]) == (
        "line 1: 1 lines before the first 'Record #' line were skipped (first: 'Cochrane Library export')"
    )
    headless = _read("ID: CN-8\nTI: No header\n\nRecord #2 of 2\nID: CN-9\nTI: Second\n")
    assert [r.title for r in headless.records] == ["No header", "Second"] and headless.entries == 2


def test_detection() -> None:
    assert looks_like_cochrane("\ufeffRecord #1 of 2\nID: CN-00724525\nAU: Smith J\n")
    assert not looks_like_cochrane("Record #1 of 1\n@article{x,\ntitle = {T}\n}\n")  # Cochrane BibTeX
    assert not looks_like_cochrane("Record #1 of 2\nProvider: Provider\n1.\nTY  - JOUR\nID  - 12345\n")  # RIS
    assert not looks_like_cochrane("TY  - JOUR\nER  - \n")


def test_read_file_detects_the_format_and_refuses_cochrane_bibtex(tmp_path: Path) -> None:
    from review.errors import InputError
    from review.sources import read_file

    result = read_file(DATA / "cochrane_central.txt", "central")
    assert result.format == "cochrane" and result.entries == 6 and len(result.records) == 5
    assert result.records[0].source_id == "CN-01234567"
    bib = tmp_path / "citation-export.bib"
    bib.write_text("Record #1 of 1\n@article{S09,\nauthor = {Schwartzman, RJ},\n}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"BibTeX exports .* cannot be read"):
        read_file(bib, "central")


def test_centrals_own_record_doi_is_not_the_articles() -> None:
    result = _read("Record #1 of 1\nID: CN-01234567\nTI: A trial\nDOI: 10.1002/central/CN-01234567\n")
    r = result.records[0]
    assert r.doi is None and r.extra["cochrane"]["DOI"] == ["10.1002/central/CN-01234567"]
    assert result.issues == []
