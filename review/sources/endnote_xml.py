"""EndNote XML exports (``<xml><records><record>...``) -> Records, one record at a time.

EndNote's "File > Export > XML" writes one ``<record>`` per reference; every text value may be
wrapped in ``<style face=... font=... size=...>`` runs, which are read as plain text::

    <xml><records><record>
      <rec-number>1</rec-number>
      <ref-type name="Journal Article">17</ref-type>
      <contributors><authors><author><style>Schwartzman, R. J.</style></author></authors></contributors>
      <titles><title>...</title><secondary-title>Pain</secondary-title></titles>
      <periodical><full-title>Pain</full-title></periodical>
      <pages>107-15</pages><volume>147</volume><number>1-3</number>
      <dates><year>2009</year></dates>
      <accession-num>19783373</accession-num>
      <electronic-resource-num>10.1016/j.pain.2009.08.015</electronic-resource-num>
      <remote-database-name>Medline</remote-database-name>
      <keywords><keyword>...</keyword></keywords>
      <urls><related-urls><url>...</url></related-urls></urls>
      <abstract>...</abstract>
    </record></records></xml>

Element names as read by CAMARADES' ASySD (R/load_refs.R, ``load_search(method = "endnote")``:
``contributors/authors``, ``dates/year``, ``periodical/full-title`` else
``titles/secondary-title``, ``electronic-resource-num`` (DOI), ``titles/title``, ``pages``,
``volume``, ``number``, ``abstract``, ``rec-number``, ``isbn``, ``label``,
``remote-database-name``), and by the EndNote XML writers and readers found in public code
(``keywords/keyword``, ``urls/related-urls/url``, ``ref-type name=...``, ``<style>`` runs).

The file is cut into ``<record>...</record>`` pieces as its lines stream by (markup cannot
occur in XML text, where ``<`` is always written ``&lt;``) and each piece is parsed on its own
with :mod:`xml.etree.ElementTree`, then dropped: memory does not grow with the file, and a
malformed record is reported with its line while the records after it still import (a parser
run over the whole document, such as ``iterparse``, stops at the first error). ``rec-number``
is kept as the file's own id (``extra["id"]``, used by ``dedup-file``); ``accession-num`` is the
record's key when unique in the file, and its PMID when the record came from PubMed/MEDLINE.
Elements that do not map to a :class:`~review.records.Record` field are kept in
``record.extra["endnote"]`` under their element paths.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from review.records import Record, normalise_doi, parse_year
from review.sources._common import (
    Issue,
    Item,
    ReadResult,
    RecordStream,
    fallback_id,
    lines_of,
    progress,
    unique_ids,
)
from review.sources.cochrane import is_central_doi

__all__ = ["ENDNOTE_TYPES", "looks_like_endnote_xml", "read_endnote_xml", "stream_endnote_xml"]

#: EndNote reference type names -> RIS TY (EndNote's own RIS export uses the same pairs).
ENDNOTE_TYPES: dict[str, str] = {
    "journal article": "JOUR",
    "electronic article": "EJOUR",
    "book": "BOOK",
    "edited book": "EDBOOK",
    "electronic book": "EBOOK",
    "book section": "CHAP",
    "electronic book section": "ECHAP",
    "conference proceedings": "CONF",
    "conference paper": "CPAPER",
    "thesis": "THES",
    "report": "RPRT",
    "generic": "GEN",
    "web page": "ELEC",
    "magazine article": "MGZN",
    "newspaper article": "NEWS",
    "patent": "PAT",
    "manuscript": "MANSCPT",
    "unpublished work": "UNPB",
    "dataset": "DATA",
    "government document": "GOVDOC",
    "grant": "GRANT",
    "online database": "DBASE",
    "aggregated database": "AGGR",
    "serial": "SER",
    "statute": "STAT",
    "standard": "STAND",
    "pamphlet": "PAMP",
    "personal communication": "PCOMM",
    "audiovisual material": "ADVS",
    "film or broadcast": "VIDEO",
    "computer program": "COMP",
    "dictionary": "DICT",
    "encyclopedia": "ENCYC",
    "catalog": "CTLG",
    "case": "CASE",
    "bill": "BILL",
    "hearing": "HEAR",
    "map": "MAP",
    "figure": "FIGURE",
    "equation": "EQUA",
    "ancient text": "ANCIENT",
    "classical work": "CLSWK",
    "legal rule or regulation": "LEGAL",
    "online multimedia": "MULTI",
    "chart or table": "CHART",
}
#: EndNote's numeric reference types for files that give no ``name`` attribute
_TYPE_NUMBERS = {
    "17": "JOUR",
    "43": "EJOUR",
    "6": "BOOK",
    "28": "EDBOOK",
    "5": "CHAP",
    "10": "CONF",
    "47": "CPAPER",
    "32": "THES",
    "27": "RPRT",
    "13": "GEN",
    "12": "ELEC",
}

_RECORD_TOKEN = re.compile(r"<record(?=[\s/>])[^>]*?(/?)>|</record\s*>")
_OUTSIDE = re.compile(
    r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->|</?xml\s*>|</?records\s*>|<records\s*/>", re.S
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_PMID_NOTE = re.compile(r"^\s*PMID:?\s*(\d{1,9})\s*$", re.IGNORECASE)
_DIGITS = re.compile(r"^\s*(\d{1,9})\s*$")
_PUBMED_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d{1,9})")
_ROOT = re.compile(
    r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(?:xml|records)\s*>\s*(?:<records\s*>\s*)?<record[\s>]",
    re.S,
)


def looks_like_endnote_xml(head: str) -> bool:
    """Whether a file starts as EndNote XML: an ``<xml>`` (or ``<records>``) root holding ``<record>`` s."""
    return _ROOT.match(head.lstrip("\ufeff")) is not None


class _Piece:
    __slots__ = ("closed", "parts", "start", "unclosed")

    def __init__(self, start: int) -> None:
        self.start = start
        self.parts: list[str] = []
        self.closed = False
        self.unclosed = ""  # where a piece without </record> was ended, for the message


def _pieces(lines: Iterable[str], issues: list[Issue]) -> Iterator[_Piece]:
    """Cut the document into ``<record>...</record>`` pieces; report text outside them."""
    current: _Piece | None = None
    stray: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, 1):
        line = raw.lstrip("\ufeff") if number == 1 else raw
        pos = 0
        for m in _RECORD_TOKEN.finditer(line):
            before = line[pos : m.start()]
            if m.group(0).startswith("</"):
                if current is None:
                    issues.append(
                        Issue(number, "warning", "a </record> without a <record> before it was skipped")
                    )
                else:
                    current.parts.append(before + m.group(0))
                    current.closed = True
                    yield current
                    current = None
            else:
                if current is not None:
                    current.parts.append(before)
                    current.unclosed = f"before the next <record> (line {number})"
                    yield current
                elif before.strip():
                    stray.append((number, before))
                current = _Piece(number)
                current.parts.append(m.group(0))
                if m.group(1):  # <record/>: an empty record
                    current.closed = True
                    yield current
                    current = None
            pos = m.end()
        rest = line[pos:] + "\n"
        if current is not None:
            current.parts.append(rest)
        elif rest.strip():
            stray.append((number, rest))
    if current is not None:
        current.unclosed = "at the end of the file (is the file cut short?)"
        yield current
    left = [(n, _OUTSIDE.sub("", text).strip()) for n, text in stray]
    left = [(n, text) for n, text in left if text]
    if left:
        issues.append(
            Issue(
                left[0][0],
                "warning",
                f"text outside any <record> was skipped ({len(left)} lines; first: {left[0][1][:60]!r})",
            )
        )


def _parse(piece: _Piece, position: int, issues: list[Issue]) -> ET.Element | None:
    """One ``<record>`` piece as an element; None (with an error naming the line) if it is not XML."""
    text = "".join(piece.parts)
    candidates = [text] if piece.closed else [text + "</record>", text]
    cleaned = _CONTROL.sub("", text)
    if cleaned != text:
        candidates = [c for t in (cleaned,) for c in ([t] if piece.closed else [t + "</record>", t])]
    error: ET.ParseError | None = None
    for candidate in candidates:
        try:
            element = ET.fromstring(candidate)
        except ET.ParseError as exc:
            error = error or exc
            continue
        if cleaned != text:
            issues.append(
                Issue(
                    piece.start,
                    "warning",
                    f"record {position}: control characters (binary data) were removed",
                )
            )
        if piece.unclosed:
            issues.append(
                Issue(
                    piece.start,
                    "warning",
                    f"record {position} has no </record> {piece.unclosed}; it was ended there",
                )
            )
        return element
    assert error is not None
    if piece.unclosed:
        issues.append(
            Issue(
                piece.start,
                "error",
                f"record {position} has no </record> {piece.unclosed} and its elements are not closed; skipped",
            )
        )
        return None
    line, column = error.position
    where = piece.start + line - 1
    reason = str(error).split(":")[0]
    # a piece's first line may start part-way along the file's line: its column would mislead
    where_column = f" column {column + 1}" if line > 1 else ""
    issues.append(
        Issue(
            where,
            "error",
            f"record {position} (starting line {piece.start}) is not well-formed XML "
            f"({reason}, line {where}{where_column}); skipped: an unescaped '&' or '<' in a value, "
            "or a cut or edited file? export the record again",
        )
    )
    return None


def _text(elem: ET.Element | None) -> str | None:
    """The text of an element, ``<style>`` runs joined; line breaks kept, other runs of space folded."""
    if elem is None:
        return None
    raw = "".join(elem.itertext()).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", part).strip() for part in raw.split("\n")]
    text = "\n".join(part for part in lines if part)
    return text or None


def _texts(elems: Iterable[ET.Element]) -> list[str]:
    return [t for t in (_text(e) for e in elems) if t]


def _first_accession(piece: _Piece) -> str | None:
    """The accession number of a piece without parsing it (first pass: keys unique in the file)."""
    m = re.search(r"<accession-num[^>]*>(.*?)</accession-num>", "".join(piece.parts), re.S)
    if not m:
        return None
    value = re.sub(r"<[^>]+>", "", m.group(1)).strip()
    return value or None


def _leftovers(elem: ET.Element, used: set[int], path: str, out: dict[str, list[str]]) -> None:
    """Text of the elements not mapped to a field, under their paths (e.g. ``urls/pdf-urls/url``)."""
    for child in elem:
        if id(child) in used or child.tag == "style":
            continue
        name = f"{path}/{child.tag}" if path else child.tag
        leaves = [c for c in child if c.tag != "style"]
        if leaves:
            _leftovers(child, used, name, out)
            continue
        text = _text(child)
        if text:
            out.setdefault(name, []).append(text)
        for attr, value in child.attrib.items():
            if value.strip():
                out.setdefault(f"{name}@{attr}", []).append(value.strip())


def _to_record(
    elem: ET.Element, source: str, source_id: str, line: int, position: int, issues: list[Issue]
) -> tuple[Record, str | None]:
    used: set[int] = set()

    def find(path: str) -> ET.Element | None:
        found = elem.find(path)
        if found is not None:
            used.add(id(found))
        return found

    def find_all(path: str) -> list[ET.Element]:
        found = elem.findall(path)
        used.update(id(f) for f in found)
        return found

    own_id = _text(find("rec-number"))
    ref_type = find("ref-type")
    type_name = (ref_type.get("name") or "").strip() if ref_type is not None else ""
    type_code = (_text(ref_type) or "") if ref_type is not None else ""
    record_type = ENDNOTE_TYPES.get(type_name.lower()) or _TYPE_NUMBERS.get(type_code) or "GEN"
    extra: dict[str, Any] = {}
    if ref_type is not None:
        extra["ref-type"] = [v for v in (type_name, type_code) if v]

    authors = [a.rstrip(",").strip() for a in _texts(find_all("contributors/authors/author"))]
    title = _text(find("titles/title"))
    journal = None
    for path in (
        "periodical/full-title",
        "titles/secondary-title",
        "alt-periodical/full-title",
        "periodical/abbr-1",
    ):
        journal = _text(find(path))
        if journal:
            break
    year_text = _text(find("dates/year"))
    year = parse_year(year_text)
    if year_text and year is None:
        issues.append(
            Issue(line, "warning", f"record {position}: year {year_text!r} is not a year; kept as it is")
        )
        extra["dates/year"] = [year_text]
    if year is None:
        year = parse_year(_text(elem.find("dates/pub-dates/date")))

    doi_text = _text(find("electronic-resource-num"))
    doi = normalise_doi(doi_text)
    if doi_text and (doi is None or is_central_doi(doi)):  # CENTRAL's record DOI is not the article's
        extra["electronic-resource-num"] = [doi_text]
        doi = None
    work_types = [p.strip() for t in _texts(find_all("work-type")) for p in re.split(r";|\n", t) if p.strip()]
    publication_types = [t for t in work_types if normalise_doi(t) is None]
    doi = doi or next((t for t in work_types if normalise_doi(t) and not is_central_doi(t)), None)

    urls = _texts(find_all("urls/related-urls/url")) + _texts(find_all("urls/web-urls/url"))
    if doi is None:
        doi = next(
            (u for u in urls if "doi" in u.lower() and normalise_doi(u) and not is_central_doi(u)), None
        )

    database = " ".join(
        _texts(elem.findall("remote-database-name")) + _texts(elem.findall("remote-database-provider"))
    ).lower()
    accession = _text(find("accession-num"))
    notes = _texts(find_all("notes"))
    pmid = None
    for note in notes:
        m = _PMID_NOTE.match(note)
        if m:
            pmid = pmid or m.group(1)
    notes = [n for n in notes if not _PMID_NOTE.match(n)]  # the PMID is the record's (written back so)
    if pmid is None and accession:
        m = _PMID_NOTE.match(accession) or (
            _DIGITS.match(accession) if any(k in database for k in ("pubmed", "medline", "nlm")) else None
        )
        if m:
            pmid = m.group(1)
    if pmid is None:
        pmid = next((m.group(1) for u in urls if (m := _PUBMED_URL.search(u))), None)
    if accession:
        extra["accession-num"] = [accession]
    if notes:
        extra["notes"] = notes  # where record_notes() looks (an "illustrative" note stays shown)

    keywords = [k for t in _texts(find_all("keywords/keyword")) for k in t.split("\n") if k.strip()]
    pages = _text(find("pages"))
    volume = _text(find("volume"))
    issue = _text(find("number"))
    abstract = _text(find("abstract"))
    issn = _text(find("isbn"))
    language = _text(find("language"))
    if len(urls) > 1:
        extra["urls"] = urls[1:]
    leftovers: dict[str, list[str]] = {}
    _leftovers(elem, used, "", leftovers)
    extra.update(leftovers)
    record = Record(
        source=source,
        source_id=source_id,
        pmid=pmid,
        doi=doi,
        title=title,
        authors=tuple(authors),
        year=year,
        journal=journal,
        volume=volume,
        issue=issue,
        pages=pages,
        abstract=abstract,
        keywords=tuple(keywords),
        publication_types=tuple(publication_types),
        language=language,
        issn=issn,
        url=urls[0] if urls else None,
        record_type=record_type,
        extra={},
    )
    full: dict[str, Any] = {}
    if own_id:
        full["id"] = own_id
    if "notes" in extra:
        full["notes"] = extra.pop("notes")
    if extra:
        full["endnote"] = extra
    return (record.replace(extra=full) if full else record), own_id


def read_endnote_xml(lines: Sequence[str], source: str, key: str) -> ReadResult:
    """Read EndNote XML lines (decoded, split) into records (see the module's description)."""
    return stream_endnote_xml(lines_of(lines), source, key).collect()


def stream_endnote_xml(open_lines: Callable[[], Iterable[str]], source: str, key: str) -> RecordStream:
    """EndNote XML records one at a time from a line source read twice (accessions, then records)."""
    issues: list[Issue] = []
    ids = unique_ids(
        (_first_accession(piece) for piece in _pieces(open_lines(), issues)), issues, "accession number"
    )
    items = _items(open_lines(), ids, source, key, issues)
    return RecordStream(items, issues, "endnote-xml", entries=len(ids))


def _items(
    lines: Iterable[str], ids: list[str | None], source: str, key: str, issues: list[Issue]
) -> Iterator[Item]:
    pairs = zip(_pieces(lines, []), ids, strict=True)
    for position, (piece, accession) in enumerate(progress(pairs, len(ids), "reading EndNote XML"), 1):
        elem = _parse(piece, position, issues)
        if elem is None:
            continue
        try:
            record, own_id = _to_record(
                elem, source, accession or fallback_id(key, position), piece.start, position, issues
            )
        except Exception as exc:  # a value of a shape no mapping expects
            issues.append(
                Issue(piece.start, "error", f"record {position} could not be mapped ({exc}); skipped")
            )
            continue
        finally:
            elem.clear()
        if not record.title:
            label = f" (rec-number {own_id})" if own_id else ""
            issues.append(
                Issue(piece.start, "warning", f"record {position}{label} has no title; imported anyway")
            )
        yield Item(record, position, piece.start)
    issues.sort(key=lambda i: (i.line is None, i.line or 0))
