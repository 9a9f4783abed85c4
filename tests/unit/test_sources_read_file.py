"""read_file: format detection, encodings, line ends and files that cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.errors import InputError
from review.sources import detect_format, read_file
from review.sources._common import decode_bytes, split_lines

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize(
    ("name", "head", "want"),
    [
        ("a.txt", "TY  - JOUR\nTI  - x\nER  - \n", "ris"),
        ("a.txt", "\n\nPMID- 1\nTI  - x\n", "medline"),
        ("a.nbib", "PMID- 1\n", "medline"),
        ("a.xml", '<?xml version="1.0"?>\n<PubmedArticleSet>', "pubmed-xml"),
        ("a.csv", "id,title\n1,x\n", "csv"),
        ("export", "Key\tTitle\nA\tB\n", "csv"),
        ("a.ris", "1.\nTY  - JOUR\n", "ris"),
    ],
)
def test_detect_format(name: str, head: str, want: str) -> None:
    assert detect_format(name, head) == want


def test_web_of_science_plain_text_is_detected() -> None:
    assert (
        detect_format("savedrecs.txt", "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Smith\n")
        == "wos"
    )


def test_unknown_format() -> None:
    with pytest.raises(InputError, match="cannot tell the format"):
        detect_format("notes.txt", "just some words")


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        (b"caf\xc3\xa9", "café", "utf-8"),
        (b"\xef\xbb\xbfcaf\xc3\xa9", "café", "utf-8-sig"),
        (b"caf\xe9 \x80", "café €", "cp1252"),
        (b"caf\xe9 \x81", "café \x81", "latin-1"),
        ("café".encode("utf-16"), "café", "utf-16"),
    ],
)
def test_decode(data: bytes, text: str, encoding: str) -> None:
    got, used, notes = decode_bytes(data)
    assert (got, used) == (text, encoding)
    assert bool(notes) == (encoding in ("cp1252", "latin-1"))


def test_one_stray_byte_does_not_spoil_the_utf8_lines() -> None:
    data = "TI  - Müller\r\n".encode() + b"AU  - Garc\xeda\r\n" + "AB  - café\r".encode()
    text, encoding, notes = decode_bytes(data)
    assert text == "TI  - Müller\r\nAU  - García\r\nAB  - café\r"
    assert encoding == "utf-8+cp1252"
    assert notes[0].line == 2 and "1 of the file's lines are not UTF-8 (line 2)" in notes[0].message


def test_split_lines_only_on_line_ends() -> None:
    assert split_lines("a\r\nb\rc\nd\x0ce\u2028f\n") == ["a", "b", "c", "d\x0ce\u2028f"]


def test_empty_binary_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ris"
    empty.write_bytes(b"  \n")
    with pytest.raises(InputError, match="empty"):
        read_file(empty, "x")
    binary = tmp_path / "lib.ris"
    binary.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(InputError, match="binary"):
        read_file(binary, "x")
    with pytest.raises(InputError, match="cannot read"):
        read_file(tmp_path / "missing.ris", "x")
    with pytest.raises(InputError, match="no ris entries"):
        (tmp_path / "none.ris").write_text("just text\n")
        read_file(tmp_path / "none.ris", "x", fmt="ris")


def test_pubmed_xml_goes_to_the_search_stage_parser(tmp_path: Path) -> None:
    path = DATA / "pubmed_book_medlinedate.xml"
    result = read_file(path, "pubmed-export")
    assert result.format == "pubmed-xml"
    assert len(result.records) + len(result.errors) >= result.entries >= 1
    assert all(r.source == "pubmed-export" for r in result.records)


def test_truncated_pubmed_xml_keeps_what_was_read(tmp_path: Path) -> None:
    article = (
        "<PubmedArticle><MedlineCitation><PMID>{n}</PMID><Article><ArticleTitle>T{n}</ArticleTitle>"
        "</Article></MedlineCitation></PubmedArticle>"
    )
    path = tmp_path / "cut.xml"
    body = "".join(article.format(n=n) for n in (1, 2, 3))
    path.write_text(f"<?xml version='1.0'?><PubmedArticleSet>{body}<PubmedArticle><Medline")
    result = read_file(path, "pubmed")
    assert [r.pmid for r in result.records] == ["1", "2", "3"]
    assert result.entries == 4 and len(result.errors) == 1


def test_pubmed_xml_with_a_pmid_twice_keeps_both(tmp_path: Path) -> None:
    article = (
        "<PubmedArticle><MedlineCitation><PMID>{n}</PMID><Article><ArticleTitle>T{n}</ArticleTitle>"
        "</Article></MedlineCitation></PubmedArticle>"
    )
    path = tmp_path / "twice.xml"
    body = "".join(article.format(n=n) for n in (7, 8, 7))
    path.write_text(f"<?xml version='1.0'?><PubmedArticleSet>{body}</PubmedArticleSet>")
    result = read_file(path, "pubmed")
    ids = [r.source_id for r in result.records]
    assert ids[1] == "8" and len(set(ids)) == 3
    assert ids[0].startswith("c:") and ids[0].endswith("#1") and ids[2] == ids[0][:-1] + "2"
    assert any("occurs 2 times" in i.message for i in result.warnings)


def test_keys_without_accession_come_from_content_not_position(tmp_path: Path) -> None:
    """A corrected re-export (new hash, entries moved) gives the same entries the same keys."""
    first = tmp_path / "a.csv"
    first.write_text("id,title,authors,year\n1,Alpha trial,Smith J,2001\n2,Beta trial,Jones K,2002\n")
    second = tmp_path / "b.csv"
    second.write_text(
        "id,title,authors,year\n1,Gamma trial,Lee M,2003\n2,Alpha trial,Smith J,2001\n"
        "3,Beta trial,Jones K,2002\n"
    )
    a = {r.title: r.source_id for r in read_file(first, "x").records}
    b = {r.title: r.source_id for r in read_file(second, "x").records}
    assert a["Alpha trial"] == b["Alpha trial"] and a["Beta trial"] == b["Beta trial"]
