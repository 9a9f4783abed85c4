"""Streaming parser for PubMed XML (efetch ``retmode=xml`` replies and PubMed "XML" exports).

``Bio.Entrez.parse`` cannot stream a ``PubmedArticleSet`` and ``Bio.Entrez.read`` holds the
whole reply in memory, so this module walks the file with :func:`xml.etree.ElementTree.iterparse`
and clears each ``PubmedArticle`` / ``PubmedBookArticle`` once it is turned into a
:class:`~review.records.Record`: memory stays flat however many records a file holds
(``bench/parse_pubmed.py`` measures it). Element names follow NLM's PubMed DTD
(https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from review.errors import EntrezError, InputError
from review.records import Record, normalise_doi, parse_year

__all__ = ["iter_pubmed_xml", "parse_pubmed_xml", "parse_pubmed_xml_bytes", "record_from_element"]

_ARTICLE_TAGS = frozenset({"PubmedArticle", "PubmedBookArticle"})
_SPACE = re.compile(r"\s+")


def _text(elem: ET.Element | None) -> str | None:
    """All text inside an element (inline markup such as <i>, <sup> kept as plain text)."""
    if elem is None:
        return None
    text = _SPACE.sub(" ", "".join(elem.itertext())).strip()
    return text or None


def _texts(elems: list[ET.Element]) -> list[str]:
    out = []
    for e in elems:
        t = _text(e)
        if t:
            out.append(t)
    return out


def _abstract(parent: ET.Element | None) -> str | None:
    """Abstract paragraphs; a structured section is written 'LABEL: text'."""
    if parent is None:
        return None
    abstract = parent.find("Abstract")
    if abstract is None:
        return None
    parts = []
    for section in abstract.findall("AbstractText"):
        text = _text(section)
        if not text:
            continue
        label = (section.get("Label") or "").strip()
        parts.append(f"{label}: {text}" if label else text)
    return "\n".join(parts) or None


def _authors(parent: ET.Element | None) -> list[str]:
    """Authors as 'Family, Given' (or the group name of a CollectiveName), editors left out."""
    out: list[str] = []
    if parent is None:
        return out
    for author_list in parent.findall("AuthorList"):
        if author_list.get("Type", "authors") != "authors":
            continue
        for author in author_list.findall("Author"):
            if author.get("ValidYN", "Y") == "N":
                continue
            collective = _text(author.find("CollectiveName"))
            if collective:
                out.append(collective)
                continue
            last = _text(author.find("LastName"))
            given = _text(author.find("ForeName")) or _text(author.find("Initials"))
            suffix = _text(author.find("Suffix"))
            if last:
                name = f"{last}, {given}" if given else last
                out.append(f"{name} {suffix}" if suffix else name)
    return out


def _year_of(date: ET.Element | None) -> int | None:
    """Year of a PubDate: <Year>, else the first year in <MedlineDate> ('1998 Dec-1999 Jan')."""
    if date is None:
        return None
    return parse_year(_text(date.find("Year"))) or parse_year(_text(date.find("MedlineDate")))


def _pages(article: ET.Element) -> str | None:
    pagination = article.find("Pagination")
    if pagination is None:
        return None
    pgn = _text(pagination.find("MedlinePgn"))
    if pgn:
        return pgn
    start, end = _text(pagination.find("StartPage")), _text(pagination.find("EndPage"))
    if start and end:
        return f"{start}-{end}"
    return start


def _doi(article_ids: ET.Element | None, locations: list[ET.Element]) -> str | None:
    """DOI from PubmedData/ArticleIdList (IdType="doi"), else from ELocationID (EIdType="doi")."""
    if article_ids is not None:
        for aid in article_ids.findall("ArticleId"):
            if aid.get("IdType") == "doi":
                doi = normalise_doi(_text(aid))
                if doi:
                    return doi
    for loc in locations:
        if loc.get("EIdType") == "doi" and loc.get("ValidYN", "Y") != "N":
            doi = normalise_doi(_text(loc))
            if doi:
                return doi
    return None


def _other_ids(article_ids: ET.Element | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if article_ids is None:
        return out
    for aid in article_ids.findall("ArticleId"):
        kind, value = aid.get("IdType"), _text(aid)
        if kind and value and kind not in ("pubmed", "doi") and kind not in out:
            out[kind] = value
    return out


def _mesh(citation: ET.Element) -> list[str]:
    out = []
    for heading in citation.iterfind("MeshHeadingList/MeshHeading"):
        name = _text(heading.find("DescriptorName"))
        if name:
            out.append(name)
    return out


def _keywords(citation: ET.Element) -> list[str]:
    return _texts(citation.findall("KeywordList/Keyword"))


def _article_record(elem: ET.Element) -> Record:
    citation = elem.find("MedlineCitation")
    if citation is None:
        raise ValueError("PubmedArticle without MedlineCitation")
    pmid = _text(citation.find("PMID"))
    article = citation.find("Article")
    if article is None:
        raise ValueError(f"PMID {pmid}: PubmedArticle without Article")
    journal = article.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    article_ids = elem.find("PubmedData/ArticleIdList")
    title = _text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle"))
    year = _year_of(issue.find("PubDate") if issue is not None else None)
    if year is None:  # electronic publication date, then the date PubMed received it
        year = parse_year(_text(article.find("ArticleDate/Year")))
    if year is None:
        for date in elem.iterfind("PubmedData/History/PubMedPubDate"):
            if date.get("PubStatus") in ("pubmed", "entrez"):
                year = parse_year(_text(date.find("Year")))
                if year:
                    break
    journal_title = None
    issn = None
    if journal is not None:
        journal_title = _text(journal.find("Title")) or _text(journal.find("ISOAbbreviation"))
        issn = _text(journal.find("ISSN"))
    journal_title = journal_title or _text(citation.find("MedlineJournalInfo/MedlineTA"))
    issn = issn or _text(citation.find("MedlineJournalInfo/ISSNLinking"))
    mesh = _mesh(citation)
    keywords = _keywords(citation)
    extra: dict[str, Any] = {"mesh": mesh, "author_keywords": keywords}
    extra.update(_other_ids(article_ids))
    notes = _texts(citation.findall("GeneralNote"))
    if notes:  # e.g. NLM's or a publisher's remarks; the demo marks made-up / unverified records here
        extra["notes"] = notes
    status = _text(elem.find("PubmedData/PublicationStatus"))
    if status:
        extra["publication_status"] = status
    return Record(
        source="pubmed",
        source_id=pmid or "",
        pmid=pmid,
        doi=_doi(article_ids, article.findall("ELocationID")),
        title=title,
        authors=tuple(_authors(article)),
        year=year,
        journal=journal_title,
        volume=_text(issue.find("Volume")) if issue is not None else None,
        issue=_text(issue.find("Issue")) if issue is not None else None,
        pages=_pages(article),
        abstract=_abstract(article),
        keywords=tuple(dict.fromkeys(mesh + keywords)),
        publication_types=tuple(_texts(article.findall("PublicationTypeList/PublicationType"))),
        language="; ".join(_texts(article.findall("Language"))) or None,
        issn=issn,
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else None,
        record_type="JOUR",
        extra=extra,
    )


def _book_record(elem: ET.Element) -> Record:
    doc = elem.find("BookDocument")
    if doc is None:
        raise ValueError("PubmedBookArticle without BookDocument")
    pmid = _text(doc.find("PMID"))
    book = doc.find("Book")
    book_title = _text(book.find("BookTitle")) if book is not None else None
    chapter = _text(doc.find("ArticleTitle"))
    article_ids = elem.find("PubmedBookData/ArticleIdList")
    if article_ids is None:
        article_ids = doc.find("ArticleIdList")
    year = _year_of(book.find("PubDate") if book is not None else None)
    if year is None:
        year = parse_year(_text(doc.find("ContributionDate/Year")))
    authors = _authors(doc)
    if not authors and book is not None:
        authors = _authors(book)
    keywords = _keywords(doc)
    extra: dict[str, Any] = {"mesh": [], "author_keywords": keywords}
    extra.update(_other_ids(article_ids))
    notes = _texts(doc.findall("GeneralNote"))
    if notes:
        extra["notes"] = notes
    publisher = _text(book.find("Publisher/PublisherName")) if book is not None else None
    if publisher:
        extra["publisher"] = publisher
    return Record(
        source="pubmed",
        source_id=pmid or "",
        pmid=pmid,
        doi=_doi(article_ids, doc.findall("ELocationID")),
        title=chapter or book_title,
        authors=tuple(authors),
        year=year,
        journal=book_title if chapter else None,
        volume=_text(book.find("Volume")) if book is not None else None,
        pages=_pages(doc),
        abstract=_abstract(doc),
        keywords=tuple(keywords),
        publication_types=tuple(_texts(doc.findall("PublicationType"))),
        language="; ".join(_texts(doc.findall("Language"))) or None,
        issn=_text(book.find("Isbn")) if book is not None else None,
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else None,
        record_type="CHAP" if chapter else "BOOK",
        extra=extra,
    )


def record_from_element(elem: ET.Element) -> Record:
    """One ``PubmedArticle`` or ``PubmedBookArticle`` element as a Record (source 'pubmed')."""
    if elem.tag == "PubmedBookArticle":
        return _book_record(elem)
    return _article_record(elem)


def _sniff(head: bytes, where: str) -> None:
    """Refuse an HTML page or an E-utilities error early, with a message saying what came."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<html") or text.startswith(b"<!doctype html") or b"<html" in text[:300]:
        match = re.search(rb"<title>(.*?)</title>", head, re.I | re.S)
        title = match.group(1).decode("utf-8", "replace").strip() if match else "no title"
        raise InputError(
            f"expected PubMed XML (<PubmedArticleSet>) but got an HTML page ({title!r})", path=where
        )
    if text.startswith(b"{"):
        raise InputError(
            f"expected PubMed XML but got JSON: {head[:200].decode('utf-8', 'replace')}", path=where
        )
    if not text.startswith(b"<"):
        snippet = head[:80].decode("utf-8", "replace").strip()
        raise InputError(f"expected PubMed XML but the data starts with {snippet!r}", path=where)


def iter_pubmed_xml(source: str | Path | IO[bytes], *, name: str | None = None) -> Iterator[Record]:
    """Yield the records of a PubMed XML file or binary stream, one at a time (streaming).

    Parameters
    ----------
    source
        A path, or a binary file object (an efetch reply, ``io.BytesIO``).
    name
        How to name the input in error messages (defaults to the path).

    Raises
    ------
    InputError
        Not XML, HTML, cut off or not a ``PubmedArticleSet``; names the input and the line.
    EntrezError
        An E-utilities ``<ERROR>`` reply (e.g. an expired history key).
    """
    if isinstance(source, (str, Path)):
        where = name or str(source)
        with open(source, "rb") as fh:
            yield from _iter_stream(fh, where)
    else:
        yield from _iter_stream(source, name or getattr(source, "name", None) or "PubMed XML")


def _iter_stream(stream: IO[bytes], where: str) -> Iterator[Record]:
    head = stream.read(2048)
    _sniff(head, where)
    rest = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 16)
    context = ET.iterparse(rest, events=("start", "end"))
    root: ET.Element | None = None
    seen_articles = 0
    try:
        for event, elem in context:
            if event == "start":
                if root is None:
                    root = elem
                    if root.tag not in ("PubmedArticleSet", "PubmedBookArticleSet", *_ARTICLE_TAGS):
                        if root.tag.startswith("e") and root.tag.endswith("Result"):
                            continue  # an E-utilities reply: look for its <ERROR> below
                        raise InputError(
                            f"expected <PubmedArticleSet> but the root element is <{root.tag}>", path=where
                        )
                continue
            if elem.tag in _ARTICLE_TAGS:
                try:
                    record = record_from_element(elem)
                except ValueError as exc:
                    raise InputError(f"record {seen_articles + 1}: {exc}", path=where) from exc
                seen_articles += 1
                elem.clear()
                if root is not None and root is not elem:
                    root.clear()
                if record.source_id:
                    yield record
            elif elem.tag == "ERROR" and root is not None and root.tag.endswith("Result"):
                raise EntrezError(f"E-utilities replied with an error: {_text(elem) or 'no message'}")
    except ET.ParseError as exc:
        line, column = exc.position
        raise InputError(
            f"malformed or truncated PubMed XML after {seen_articles} records (column {column}): {exc}",
            path=where,
            line=line,
        ) from exc
    if root is not None and root.tag.endswith("Result") and root.tag not in _ARTICLE_TAGS:
        raise InputError(f"expected <PubmedArticleSet> but got <{root.tag}> with no records", path=where)


class _Prefixed(io.RawIOBase):
    """A raw stream that first gives back bytes already read (the sniffed head), then the rest."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(view))
        n = len(data)
        view[:n] = data
        return n


def parse_pubmed_xml(source: str | Path | IO[bytes], *, name: str | None = None) -> list[Record]:
    """All records of a PubMed XML file or stream as a list (see :func:`iter_pubmed_xml`)."""
    return list(iter_pubmed_xml(source, name=name))


def parse_pubmed_xml_bytes(data: bytes, *, name: str = "PubMed XML") -> list[Record]:
    """All records of a PubMed XML reply held in memory (an efetch body)."""
    return list(iter_pubmed_xml(io.BytesIO(data), name=name))
