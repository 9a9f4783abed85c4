"""MEDLINE (.nbib) reading with Bio.Medline: mapping, damaged records, keys."""

from __future__ import annotations

from review.sources._common import split_lines
from review.sources.medline import read_medline

KEY = "feedfacefeedface"

NBIB = """PMID- 19683877
OWN - NLM
STAT- MEDLINE
IS  - 1872-6623 (Electronic)
IS  - 0304-3959 (Linking)
VI  - 145
IP  - 3
DP  - 2009 Oct
TI  - Ketamine produces effective and long-term pain relief in patients with Complex
      Regional Pain Syndrome Type 1.
PG  - 304-11
LID - 10.1016/j.pain.2009.06.023 [doi]
AB  - Complex Regional Pain Syndrome Type 1 (CRPS-1) is a severe pain syndrome.
      RESULTS: pain scores fell.
FAU - Sigtermans, Marnix J
AU  - Sigtermans MJ
FAU - van Hilten, Jacobus J
AU  - van Hilten JJ
CN  - Trial Group
LA  - eng
PT  - Journal Article
PT  - Randomized Controlled Trial
TA  - Pain
JT  - Pain
MH  - Ketamine/*therapeutic use
OT  - CRPS
SO  - Pain. 2009 Oct;145(3):304-11.

PMID- 2
TI  - Second record
DP  - 1999
"""


def test_fields_are_mapped() -> None:
    result = read_medline(split_lines(NBIB), "medline-file", KEY)
    assert result.entries == 2 and result.errors == []
    r = result.records[0]
    assert r.source_id == r.pmid == "19683877"
    assert r.title == (
        "Ketamine produces effective and long-term pain relief in patients with Complex "
        "Regional Pain Syndrome Type 1."
    )
    assert r.authors == ("Sigtermans, Marnix J", "van Hilten, Jacobus J", "Trial Group")
    assert (r.year, r.journal, r.volume, r.issue, r.pages) == (2009, "Pain", "145", "3", "304-11")
    assert r.doi == "10.1016/j.pain.2009.06.023"
    assert r.issn == "1872-6623"
    assert r.keywords == ("Ketamine/*therapeutic use", "CRPS")
    assert r.publication_types == ("Journal Article", "Randomized Controlled Trial")
    assert r.language == "eng" and r.record_type == "JOUR"
    assert r.extra["medline"]["SO"] == "Pain. 2009 Oct;145(3):304-11."
    assert result.records[1].title == "Second record"


def test_records_without_blank_line_and_without_pmid() -> None:
    text = "PMID- 1\nTI  - one\nPMID- 2\nTI  - two\n\nTI  - no pmid here\nDP  - 2001\n"
    result = read_medline(split_lines(text), "x", KEY)
    assert [r.title for r in result.records] == ["one", "two", "no pmid here"]
    assert result.records[2].source_id == f"{KEY}#3"
    assert any("no PMID" in i.message and i.line == 6 for i in result.warnings)


def test_repeated_pmid_keeps_both() -> None:
    text = "PMID- 5\nTI  - a\n\nPMID- 5\nTI  - a\n"
    result = read_medline(split_lines(text), "x", KEY)
    assert [r.source_id for r in result.records] == [f"{KEY}#1", f"{KEY}#2"]


def test_damaged_line_is_reported() -> None:
    text = "PMID- 7\nTI  - ok\nthis line is not a field\n"
    result = read_medline(split_lines(text), "x", KEY)
    assert len(result.records) == 1
    assert result.warnings[0].line == 3
