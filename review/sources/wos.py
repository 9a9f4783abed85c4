"""Web of Science plain-text exports (``FN``/``PT`` ... ``ER`` tags) -> Records, with rispy's WokParser.

Entries are cut on ``PT``/``ER`` lines here and parsed one at a time, so a damaged entry is
reported by line and the entries after it still import. The Web of Science accession number
(``UT``, e.g. ``WOS:000322578800011``) is each record's key; fields that do not map to a
:class:`~review.records.Record` field are kept in ``record.extra["wos"]`` under rispy's names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import rispy
from rispy.config import WOK_TAG_KEY_MAPPING

from review.records import Record
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

__all__ = ["read_wos", "stream_wos"]

_TAG = re.compile(r"^([A-Z][A-Z0-9]) ")
_HEADER_TAGS = frozenset({"FN", "VR", "EF"})

# Web of Science document types -> RIS TY
_TYPES = {
    "article": "JOUR",
    "review": "JOUR",
    "letter": "JOUR",
    "editorial material": "JOUR",
    "meeting abstract": "ABST",
    "proceedings paper": "CONF",
    "book": "BOOK",
    "book chapter": "CHAP",
}


def _entries(lines: Iterable[str], issues: list[Issue]) -> Iterator[tuple[int, list[str]]]:
    """(first line, lines) of each PT ... ER entry; text outside entries is reported."""
    current: list[str] | None = None
    start = 0
    stray: list[int] = []
    for number, line in enumerate(lines, 1):
        tag = line[:2] if _TAG.match(line) or line.rstrip() in ("ER", "EF") else None
        if tag == "PT":
            if current is not None:
                issues.append(
                    Issue(start, "warning", f"entry has no ER line before the next PT (line {number})")
                )
                yield start, current
            current, start = [line], number
        elif tag == "ER" and line.rstrip() == "ER":
            if current is None:
                issues.append(Issue(number, "warning", "ER line without an entry before it was skipped"))
            else:
                yield start, current
                current = None
        elif current is not None:
            current.append(line)
        elif line.strip() and tag not in _HEADER_TAGS:
            stray.append(number)
    if current is not None:
        issues.append(Issue(start, "warning", "entry has no ER line at the end of the file; read to the end"))
        yield start, current
    if stray:
        issues.append(
            Issue(
                stray[0],
                "warning",
                f"{len(stray)} lines outside any entry were skipped (first: line {stray[0]})",
            )
        )


def _first(data: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.pop(name, None)
        if isinstance(value, list):
            value = value[0] if value else None
        if value and str(value).strip():
            return str(value).strip()
    return None


def _list(data: dict[str, Any], name: str) -> list[str]:
    value = data.pop(name, None)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def _split(values: list[str]) -> list[str]:
    return [part.strip() for v in values for part in v.split(";") if part.strip()]


def _to_record(parsed: dict[str, Any], source: str, source_id: str) -> Record:
    data = dict(parsed)
    authors = _list(data, "author_full_name") or _list(data, "authors")
    authors += _list(data, "group_authors")
    start, end = _first(data, "beginning_page"), _first(data, "ending_page")
    pages = f"{start}-{end}" if start and end else (start or end or _first(data, "article_number"))
    document_types = _split(_list(data, "document_type"))
    fields: dict[str, Any] = {
        "pmid": _first(data, "pubmed_id"),
        "doi": _first(data, "doi"),
        "title": _first(data, "document_title"),
        "year": _first(data, "publication_year"),
        "journal": _first(data, "publication_name"),
        "volume": _first(data, "volume"),
        "issue": _first(data, "issue"),
        "abstract": _first(data, "abstract"),
        "keywords": tuple(_split(_list(data, "author_keywords")) + _split(_list(data, "keywords_plus"))),
        "language": _first(data, "language"),
        "issn": _first(data, "issn", "eissn", "isbn"),
    }
    extra = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items() if v not in (None, "", [])}
    return Record(
        source=source,
        source_id=source_id,
        authors=tuple(authors),
        pages=pages,
        publication_types=tuple(document_types),
        record_type=_TYPES.get(document_types[0].lower(), "GEN") if document_types else "JOUR",
        extra={"wos": extra} if extra else {},
        **fields,
    )


def read_wos(lines: Sequence[str], source: str, key: str) -> ReadResult:
    """Read Web of Science plain-text lines into records (UT unique in the file is the key)."""
    return stream_wos(lines_of(lines), source, key).collect()


def stream_wos(open_lines: Callable[[], Iterable[str]], source: str, key: str) -> RecordStream:
    """Web of Science records one at a time from a line source read twice (UTs, then records)."""
    issues: list[Issue] = []
    uts: list[str | None] = []
    for _, body in _entries(open_lines(), issues):
        ut = next((line[3:].strip() for line in body if line.startswith("UT ")), None)
        uts.append(ut or None)
    ids = unique_ids(uts, issues, "UT")
    del uts
    return RecordStream(_wos_items(open_lines(), ids, source, key, issues), issues, "wos", entries=len(ids))


def _wos_items(
    lines: Iterable[str], ids: list[str | None], source: str, key: str, issues: list[Issue]
) -> Iterator[Item]:
    # tags rispy does not know (WoS adds new ones: C3, ZB, ...) are kept under "unknown_tag"
    parser = rispy.WokParser(enforce_list_tags=False, mapping={**WOK_TAG_KEY_MAPPING, "UK": "unknown_tag"})
    pairs = zip(_entries(lines, []), ids, strict=True)
    for position, ((start, body), ut) in enumerate(progress(pairs, len(ids), "reading WoS"), 1):
        try:
            result = parser.parse("\n".join([*(line for line in body if line.strip()), "ER"]))
            if len(result) != 1:
                raise ValueError(f"parsed into {len(result)} records")
            record = _to_record(dict(result[0]), source, ut or fallback_id(key, position))
        except Exception as exc:  # rispy raises bare exceptions on malformed input
            issues.append(Issue(start, "error", f"entry {position} could not be read ({exc}); skipped"))
            continue
        if not record.title:
            issues.append(Issue(start, "warning", f"entry {position} has no title; imported anyway"))
        yield Item(record, position, start)
    issues.sort(key=lambda i: (i.line is None, i.line or 0))
