"""The streaming PubMed XML parser on NCBI's real efetch replies (../shared) and own odd records."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from Bio import Entrez

from review.errors import EntrezError, InputError
from review.sources.pubmed_xml import iter_pubmed_xml, parse_pubmed_xml, parse_pubmed_xml_bytes

DATA = Path(__file__).resolve().parents[1] / "data"

# Values read off the XML of ../shared/fixtures/fetched/biopython/entrez/pubmed*.xml
REAL = {
    "12091962": {
        "file": "pubmed1.xml",
        "title": "The treatment of AIDS behind the walls of correctional facilities.",
        "authors": ("Olivero, J Michael",),
        "year": 1990,  # PubDate Year 1990, Season Spring
        "journal": "Social justice (San Francisco, Calif.)",
        "volume": "17",
        "issue": "1",
        "pages": "113-25",
        "doi": None,
        "abstract": None,
        "publication_types": ("Journal Article", "Review"),
        "issn": "1043-1578",
    },
    "9997": {
        "file": "pubmed1.xml",
        "title": "Magnetic studies of Chromatium flavocytochrome C552. A mechanism for heme-flavin interaction.",
        "authors": ("Strekas, T C",),
        "year": 1976,
        "journal": "Biochimica et biophysica acta",
        "volume": "446",
        "issue": "1",
        "pages": "179-91",
        "doi": "10.1016/0005-2795(76)90109-4",
        "publication_types": ("Journal Article",),
        "issn": "0006-3002",
    },
    "11748933": {
        "file": "pubmed2.xml",
        "title": (
            "Is cryopreservation a homogeneous process? Ultrastructure and motility of untreated, prefreezing, "
            "and postthawed spermatozoa of Diplodus puntazzo (Cetti)."
        ),
        "year": 2001,
        "journal": "Cryobiology",
        "volume": "42",
        "issue": "4",
        "pages": "244-55",
        "doi": "10.1006/cryo.2001.2328",
        "n_authors": 8,
        "first_author": "Taddei, A R",
    },
    "11700088": {
        "file": "pubmed2.xml",
        "title": "Proton MRI of (13)C distribution by J and chemical shift editing.",
        "year": 2001,
        "volume": "153",
        "issue": "1",
        "pages": "117-23",
        "doi": "10.1006/jmre.2001.2429",
        "keywords": (),
    },
    "27797938": {
        "file": "pubmed4.xml",
        # inline <i>TERT</i> kept as text
        "title": "Leucocyte telomere length, genetic variants at the TERT gene region and risk of pancreatic cancer.",
        "year": 2017,
        "journal": "Gut",
        "volume": "66",
        "issue": "6",
        "pages": "1116-1122",
        "doi": "10.1136/gutjnl-2016-312510",
        "n_authors": 22,
        "first_author": "Bao, Ying",
        "abstract_labels": ["OBJECTIVE", "DESIGN", "RESULTS", "CONCLUSIONS"],
        "issn": "1468-3288",
    },
    "28775130": {
        "file": "pubmed5.xml",
        "title": "Occupational pesticide exposure and subclinical hypothyroidism among male pesticide applicators.",
        "year": 2018,
        "journal": "Occupational and environmental medicine",
        "pages": "79-89",
        "doi": "10.1136/oemed-2017-104431",
        "n_authors": 12,
        "first_author": "Lerro, Catherine C",
        "abstract_labels": ["OBJECTIVES", "METHODS", "RESULTS", "CONCLUSIONS"],
    },
    "30108519": {
        "file": "pubmed6.xml",
        "title": (
            'A "Blood Relationship" Between the Overlooked Minimum Lactate Equivalent and Maximal Lactate '
            "Steady State in Trained Runners. Back to the Old Days?"
        ),
        "authors": ("Garcia-Tabar, Ibai", "Gorostiaga, Esteban M"),
        "year": 2018,
        "journal": "Frontiers in physiology",
        "volume": "9",
        "issue": None,
        "pages": "1034",
        "doi": "10.3389/fphys.2018.01034",
        "issn": "1664-042X",
    },
    "29963580": {
        "file": "pubmed7.xml",
        "title": "Development of a pulmonary imaging biomarker pipeline for phenotyping of chronic lung disease.",
        "year": 2018,
        "journal": "Journal of medical imaging (Bellingham, Wash.)",
        "volume": "5",
        "issue": "2",
        "pages": "026002",
        "doi": "10.1117/1.jmi.5.2.026002",  # from PubmedData, not the ReferenceList's ArticleIdLists
        "n_authors": 9,
        "last_author": "Canadian Respiratory Research Network",  # a CollectiveName
    },
}


@pytest.fixture(scope="module")
def parsed(entrez_dir: Path) -> dict[str, object]:
    out = {}
    for path in sorted(entrez_dir.glob("pubmed*.xml")):
        for rec in parse_pubmed_xml(path):
            out[rec.pmid] = (path.name, rec)
    return out


def test_all_real_articles_are_parsed(parsed: dict[str, object]) -> None:
    assert sorted(parsed) == sorted(REAL)


@pytest.mark.parametrize("pmid", sorted(REAL))
def test_real_field_values(parsed: dict[str, tuple[str, object]], pmid: str) -> None:
    name, rec = parsed[pmid]
    want = REAL[pmid]
    assert name == want["file"]
    assert rec.source == "pubmed" and rec.source_id == pmid and rec.pmid == pmid
    assert rec.record_type == "JOUR"
    assert rec.url == f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
    for key in (
        "title",
        "authors",
        "year",
        "journal",
        "volume",
        "issue",
        "pages",
        "doi",
        "publication_types",
        "issn",
    ):
        if key in want:
            assert getattr(rec, key) == want[key], key
    if "abstract" in want:
        assert rec.abstract == want["abstract"]
    if "n_authors" in want:
        assert len(rec.authors) == want["n_authors"]
    if "first_author" in want:
        assert rec.authors[0] == want["first_author"]
    if "last_author" in want:
        assert rec.authors[-1] == want["last_author"]
    if "abstract_labels" in want:
        labels = [line.split(":", 1)[0] for line in rec.abstract.split("\n")]
        assert labels == want["abstract_labels"]
    if "keywords" in want:
        assert rec.keywords == want["keywords"]
    assert rec.language == "eng"


def test_mesh_and_keywords(parsed: dict[str, tuple[str, object]]) -> None:
    _, rec = parsed["12091962"]
    assert rec.extra["mesh"][:3] == [
        "AIDS Serodiagnosis",
        "Acquired Immunodeficiency Syndrome",
        "Civil Rights",
    ]
    assert len(rec.extra["mesh"]) == 19
    assert rec.extra["author_keywords"] == ["Health Care and Public Health", "Legal Approach"]
    assert "Prisoners" in rec.keywords and "Legal Approach" in rec.keywords
    _, rec = parsed["27797938"]
    assert rec.extra["pmc"] == "PMC5442267"
    assert rec.keywords[-1] == "PANCREATIC CANCER"


def test_structured_abstract_text(parsed: dict[str, tuple[str, object]]) -> None:
    _, rec = parsed["27797938"]
    assert rec.abstract.startswith(
        "OBJECTIVE: Telomere shortening occurs as an early event in pancreatic tumorigenesis"
    )
    # <sub>trend</sub> and <sup>2</sup> are flattened into the text, nothing dropped
    assert "p trend=0.048" not in rec.abstract and "ptrend=0.048" in rec.abstract
    assert rec.abstract.endswith("were associated with risk of pancreatic cancer.")


def test_agrees_with_bio_entrez_read(entrez_dir: Path) -> None:
    for path in sorted(entrez_dir.glob("pubmed*.xml")):
        with open(path, "rb") as fh:
            bio = Entrez.read(fh)["PubmedArticle"]
        ours = parse_pubmed_xml(path)
        assert [str(a["MedlineCitation"]["PMID"]) for a in bio] == [r.pmid for r in ours]
        for art, rec in zip(bio, ours, strict=True):
            article = art["MedlineCitation"]["Article"]
            assert len(article.get("AuthorList", [])) == len(rec.authors)
            assert rec.journal == str(article["Journal"]["Title"])


def test_html_reply_is_a_clear_error(entrez_dir: Path) -> None:
    with pytest.raises(
        InputError, match=r"pubmed3\.html: expected PubMed XML .* HTML page \('PmFetch response'\)"
    ):
        parse_pubmed_xml(entrez_dir / "pubmed3.html")


def test_truncated_reply_names_line_and_records_read(entrez_dir: Path) -> None:
    data = (entrez_dir / "pubmed2.xml").read_bytes()
    with pytest.raises(InputError, match=r"line \d+: malformed or truncated PubMed XML after 1 records"):
        parse_pubmed_xml_bytes(data[: int(len(data) * 0.7)], name="reply")


def test_eutils_error_reply() -> None:
    body = b'<?xml version="1.0" ?><eFetchResult><ERROR>Cannot retrieve query from history</ERROR></eFetchResult>'
    with pytest.raises(EntrezError, match="Cannot retrieve query from history"):
        parse_pubmed_xml_bytes(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "data starts with ''"),
        (b'{"error":"API rate limit exceeded"}', "got JSON"),
        (b"<eSearchResult><Count>1</Count></eSearchResult>", "got <eSearchResult> with no records"),
        (b"<foo/>", "root element is <foo>"),
    ],
)
def test_not_pubmed_xml(body: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_pubmed_xml_bytes(body)


def test_book_article_medline_date_and_odd_authors() -> None:
    book, article = parse_pubmed_xml(DATA / "pubmed_book_medlinedate.xml")
    assert book.pmid == "32809474" and book.record_type == "CHAP"
    assert book.title == "Complex Regional Pain Syndrome"
    assert book.journal == "StatPearls"
    assert book.authors == ("Dey, Sanjay", "Guthmiller, Kevin B")  # editors left out
    assert book.year == 2025
    assert book.abstract == "EXCERPT: Complex regional pain syndrome is a chronic pain condition."
    assert book.extra["bookaccession"] == "NBK560639"
    assert book.publication_types == ("Study Guide",)

    assert article.year == 1998  # MedlineDate "1998 Dec-1999 Jan"
    assert article.doi == "10.1016/s0304-3959(98)00xxx-1"  # ELocationID, not the reference's DOI
    assert article.title == "Ketamine for complex regional pain syndrome: a test record."
    assert article.authors == ("Smith, AB Jr", "CRPS Trial Group")  # ValidYN="N" left out
    assert article.abstract == (
        "BACKGROUND: First section.\nMETHODS: Second section over two lines.\nUnlabelled closing sentence."
    )
    assert article.pages == "303-311"
    assert article.language == "eng; ger"
    assert article.keywords == ("Complex Regional Pain Syndromes", "Ketamine", "ketamine", "CRPS")


def test_streams_from_a_generator_of_chunks(pubmed_articles: list[str]) -> None:
    """iterparse reads chunk by chunk: records come out before the input ends."""
    head = b'<?xml version="1.0" ?>\n<PubmedArticleSet>\n'
    body = "\n".join(pubmed_articles * 50).encode()
    stream = io.BytesIO(head + body + b"\n</PubmedArticleSet>\n")
    it = iter_pubmed_xml(stream, name="stream")
    first = next(it)
    assert first.pmid == "12091962"
    assert stream.tell() < len(stream.getvalue())  # not everything read yet
    assert 1 + sum(1 for _ in it) == 400


def test_general_notes_are_kept(parsed: dict[str, tuple[str, object]]) -> None:
    """<GeneralNote> goes to extra['notes'] in order (the demo marks made-up records there)."""
    _, rec = parsed["12091962"]
    assert rec.extra["notes"] == ["14 fn.", "KIE BoB Subject Heading: AIDS", "63 refs."]  # type: ignore[attr-defined]
    _, rec = parsed["9997"]
    assert "notes" not in rec.extra  # type: ignore[attr-defined]


def test_demo_made_up_and_unverified_records_carry_their_note() -> None:
    from review.project.demo import demo_data_path
    from review.records import is_illustrative_note

    with demo_data_path("pubmed_efetch.xml") as path:
        records = parse_pubmed_xml(path)
    flagged = {r.pmid for r in records if any(is_illustrative_note(n) for n in r.extra.get("notes", ()))}
    made_up = {r.pmid for r in records if r.pmid and int(r.pmid) >= 99100001}
    assert len(made_up) == 12 and made_up <= flagged
    assert len(flagged - made_up) == 6  # real papers whose source row is not verified=yes
