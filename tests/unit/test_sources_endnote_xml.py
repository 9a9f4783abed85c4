"""EndNote XML exports (<xml><records><record>...), read one record at a time."""

from __future__ import annotations

from pathlib import Path

import rispy

from review.records import record_note
from review.sources._common import ReadResult, split_lines
from review.sources.endnote_xml import ENDNOTE_TYPES, looks_like_endnote_xml, read_endnote_xml

KEY = "0000111122223333"
DATA = Path(__file__).resolve().parents[1] / "data"


def _read(text: str) -> ReadResult:
    return read_endnote_xml(split_lines(text), "endnote", KEY)


def _fixture() -> ReadResult:
    return _read((DATA / "endnote_library.xml").read_text(encoding="utf-8"))


def test_fields_are_mapped_through_style_runs() -> None:
    r = _fixture().records[0]
    assert r.source == "endnote" and r.source_id == "22334455"  # accession-num, unique in the file
    assert r.extra["id"] == "11"  # rec-number: the file's own id
    assert r.title == "Low-dose ketamine infusion for complex regional pain syndrome"  # three <style> runs
    assert r.authors == ("Müller, Katrin", "Østergaard, Lars")
    assert (r.year, r.journal, r.volume, r.issue, r.pages) == (
        2012,
        "European Journal of Pain",
        "16",
        "4",
        "512-20",
    )
    assert r.pmid == "22334455"  # accession-num of a MEDLINE record
    assert r.doi == "10.1002/j.1532-2149.2011.00999.x"
    assert r.keywords == ("Ketamine/therapeutic use", "Complex Regional Pain Syndromes/drug therapy")
    assert (r.issn, r.language, r.record_type) == ("1090-3801", "eng", "JOUR")
    assert r.url == "https://pubmed.ncbi.nlm.nih.gov/22334455/"
    assert r.abstract == (
        "BACKGROUND: Ketamine is used for refractory CRPS.\n"
        "METHODS: Forty patients were randomised & followed for 12 weeks."
    )
    kept = r.extra["endnote"]
    assert kept["titles/secondary-title"] == ["Eur J Pain"]
    assert kept["urls/pdf-urls/url"] == ["internal-pdf://0123456789/Muller-2012.pdf"]
    assert kept["dates/pub-dates/date"] == ["Apr"]
    assert kept["remote-database-name"] == ["Medline"]


def test_book_section_corporate_author_and_pmid_note() -> None:
    r = _fixture().records[1]
    assert r.source_id == f"{KEY}#2"  # no accession number: keyed by the file (content key later)
    assert r.record_type == "CHAP" and r.journal == "Textbook of Pain Medicine"
    assert r.authors == ("World Health Organization",)  # EndNote's trailing comma of a corporate author
    assert r.pmid == "27001234" and "notes" not in r.extra  # the note was only the PMID
    assert r.extra["endnote"]["contributors/secondary-authors/author"] == ["Nakamura, T."]
    assert r.extra["endnote"]["publisher"] == ["Springer"]


def test_malformed_record_in_the_middle_is_an_error_and_the_rest_import() -> None:
    result = _fixture()
    assert result.entries == 5
    assert [r.extra["id"] for r in result.records] == ["11", "12", "14", "15"]
    assert result.positions == [1, 2, 4, 5] and result.lines == [4, 37, 59, 67]
    (error,) = result.errors
    assert error.line == 56  # the line of the unescaped '&', in record 3 (lines 53-57)
    assert error.message.startswith(
        "record 3 (starting line 53) is not well-formed XML (not well-formed (invalid token), line 56 column 29)"
    )
    assert len(result.records) + len(result.errors) == result.entries  # nothing dropped silently


def test_missing_fields_warn_and_notes_stay_labelled() -> None:
    result = _fixture()
    assert [str(w) for w in result.warnings] == [
        "line 59: record 4: year 'n.d.' is not a year; kept as it is",
        "line 59: record 4 (rec-number 14) has no title; imported anyway",
    ]
    r = result.records[2]
    assert (r.title, r.year, r.record_type) == (None, None, "CPAPER")
    assert r.publication_types == ("Abstract", "Randomized Controlled Trial")
    assert record_note(r.extra["notes"]) == "ILLUSTRATIVE / NOT VERIFIED: Illustrative record, not verified"


def test_numeric_ref_type_and_doi_link() -> None:
    r = _fixture().records[3]
    assert r.record_type == "JOUR" and r.doi == "10.1213/ane.0000000000003300"


def test_one_line_file_unclosed_record_and_stray_text() -> None:
    text = (
        '<?xml version="1.0" encoding="UTF-8" ?><xml><records>'
        "<record><rec-number>1</rec-number><titles><title>A</title></titles></record>"
        "junk<record><rec-number>2</rec-number><titles><title>B</title></titles>"
        "<record><rec-number>3</rec-number><titles><title>C</title></titles></record></records></xml>"
    )
    result = _read(text)
    assert [r.title for r in result.records] == ["A", "B", "C"] and result.entries == 3
    messages = [w.message for w in result.warnings]
    assert "record 2 has no </record> before the next <record> (line 1); it was ended there" in messages
    assert "text outside any <record> was skipped (1 lines; first: 'junk')" in messages


def test_cut_off_file_and_repeated_accession() -> None:
    text = (
        "<xml><records>\n"
        "<record><accession-num>555</accession-num><titles><title>A</title></titles></record>\n"
        "<record><accession-num>555</accession-num><titles><title>B</title></titles></record>\n"
        "<record><titles><title>C</title>\n"
    )
    result = _read(text)
    assert [r.source_id for r in result.records] == [f"{KEY}#1", f"{KEY}#2"]
    assert "accession number '555' occurs 2 times in the file; all kept" in [
        w.message for w in result.warnings
    ]
    (error,) = result.errors
    assert str(error) == (
        "line 4: record 3 has no </record> at the end of the file (is the file cut short?) "
        "and its elements are not closed; skipped"
    )


def test_control_characters_are_removed_with_a_warning() -> None:
    result = _read(
        "<xml><records><record><titles><title>Bad\x0bbyte</title></titles></record></records></xml>"
    )
    assert result.records[0].title == "Badbyte"
    assert "control characters (binary data) were removed" in result.warnings[0].message


def test_types_are_ris_types_and_detection() -> None:
    assert set(ENDNOTE_TYPES.values()) <= set(rispy.TYPE_OF_REFERENCE_MAPPING)
    assert looks_like_endnote_xml('<?xml version="1.0" encoding="UTF-8" ?><xml><records><record>')
    assert looks_like_endnote_xml("\ufeff<xml>\n<records>\n<record>\n")
    assert not looks_like_endnote_xml('<?xml version="1.0"?>\n<PubmedArticleSet><PubmedArticle>')
    assert not looks_like_endnote_xml("<1>\nAccession Number\n")


def test_read_file_detects_endnote_xml_not_pubmed_xml() -> None:
    from review.sources import read_file

    result = read_file(DATA / "endnote_library.xml", "endnote")
    assert result.format == "endnote-xml" and result.entries == 5 and len(result.records) == 4
    # a record without an accession number gets a content key (the same entry keeps it in a fixed file)
    assert result.records[1].source_id.startswith("c:") and result.records[1].extra["id"] == "12"


def test_centrals_own_record_doi_is_not_the_articles() -> None:
    result = _read(
        "<xml><records><record><titles><title>A trial</title></titles>"
        "<electronic-resource-num>10.1002/central/CN-01234567</electronic-resource-num>"
        "<urls><related-urls><url>https://www.cochranelibrary.com/central/doi/10.1002/central/CN-01234567/full</url>"
        "</related-urls></urls></record></records></xml>"
    )
    r = result.records[0]
    assert r.doi is None and r.extra["endnote"]["electronic-resource-num"] == ["10.1002/central/CN-01234567"]
