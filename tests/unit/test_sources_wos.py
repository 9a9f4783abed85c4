"""Web of Science plain-text exports (FN/PT ... ER) read with rispy's WokParser."""

from __future__ import annotations

from pathlib import Path

from review.sources import read_file
from review.sources._common import split_lines
from review.sources.wos import read_wos

KEY = "0000111122223333"

WOS = """FN Clarivate Analytics Web of Science
VR 1.0
PT J
AU Gomes, D
   Otsuki, DA
AF Gomes, Daniela
   Otsuki, Denise A.
TI Generalized progressive retinal atrophy in Cocker Spaniel
   dogs
SO CIENCIA RURAL
LA Portuguese
DT Article
DE retinal; Cocker Spaniels
ID DOGS; CATARACT
AB Generalized progressive retinal atrophy is a common disease.
SN 0103-8478
EI 1678-4596
PY 2013
VL 43
IS 8
BP 1405
EP 1414
DI 10.1590/S0103-84782013005000101
PM 23122173
UT WOS:000322578800011
ZB 3
C3 Universidade de Sao Paulo
ER

PT J
AU Lee, K
TI Second paper
PY 2014
UT WOS:000000000000002
ER

EF
"""


def test_fields_are_mapped() -> None:
    result = read_wos(split_lines(WOS), "wos", KEY)
    assert result.entries == 2 and result.issues == []
    r = result.records[0]
    assert r.source_id == "WOS:000322578800011"
    assert r.title == "Generalized progressive retinal atrophy in Cocker Spaniel dogs"
    assert r.authors == ("Gomes, Daniela", "Otsuki, Denise A.")
    assert (r.year, r.journal, r.volume, r.issue, r.pages) == (2013, "CIENCIA RURAL", "43", "8", "1405-1414")
    assert (r.doi, r.pmid, r.issn) == ("10.1590/s0103-84782013005000101", "23122173", "0103-8478")
    assert r.keywords == ("retinal", "Cocker Spaniels", "DOGS", "CATARACT")
    assert r.publication_types == ("Article",) and r.record_type == "JOUR"
    assert r.extra["wos"]["eissn"] == "1678-4596"
    assert r.extra["wos"]["unknown_tag"] == {"ZB": ["3"], "C3": ["Universidade de Sao Paulo"]}
    assert result.records[1].authors == ("Lee, K",)


def test_damaged_entry_keeps_the_next(tmp_path: Path) -> None:
    text = WOS.replace("Sao Paulo\nER\n", "Sao Paulo\n")  # the first entry's ER line is lost
    path = tmp_path / "savedrecs.txt"
    path.write_text(text, encoding="utf-8")
    result = read_file(path, "wos")
    assert result.format == "wos"
    assert [r.title for r in result.records] == [
        "Generalized progressive retinal atrophy in Cocker Spaniel dogs",
        "Second paper",
    ]
    assert "no ER line before the next PT" in result.warnings[0].message
