"""PubMed MEDLINE / .nbib exports -> Records, parsed with Bio.Medline one record at a time.

Records are cut on blank lines and on ``PMID-`` lines here, so a damaged record is reported by
line and the records after it still import. Fields that do not map to a
:class:`~review.records.Record` field are kept in ``record.extra["medline"]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from Bio import Medline

from review.records import Record, parse_year
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

__all__ = ["read_medline", "stream_medline"]

_FIELD = re.compile(r"^[A-Z][A-Z0-9]{0,3} {0,3}- ")
_ISSN = re.compile(r"\b\d{4}-\d{3}[\dXx]\b")
_DOI_TAGGED = re.compile(r"^\s*(\S+)\s*\[doi\]\s*$")


def _blocks(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(first line number, lines) of each record: split on blank lines and on PMID- lines."""
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            if current:
                yield start, current
                current = []
            continue
        if line.startswith("PMID-") and current:
            yield start, current
            current = []
        if not current:
            start = number
        current.append(line)
    if current:
        yield start, current


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(v) for v in value if str(v).strip()]


def _record_type(data: dict[str, Any]) -> str:
    types = " ".join(_as_list(data.get("PT"))).lower()
    if "BTI" in data:
        return "CHAP" if "TI" in data else "BOOK"
    if "congress" in types:
        return "CONF"
    return "JOUR"


def _to_record(data: dict[str, Any], source: str, source_id: str) -> Record:
    data = dict(data)

    def take(key: str) -> list[str]:
        return _as_list(data.pop(key, None))

    def first(key: str) -> str | None:
        values = take(key)
        return values[0].strip() if values else None

    record_type = _record_type(data)
    pmid = first("PMID")
    title = first("TI") or first("BTI")
    authors = take("FAU") or take("AU")
    authors += take("CN")  # collective (group) authors, after people as PubMed lists them
    dp = _as_list(data.get("DP"))
    journal = first("JT") or first("TA")
    volume = first("VI")
    issue = first("IP")
    pages = first("PG")
    abstract = first("AB")
    keywords = take("MH") + take("OT")
    publication_types = take("PT")
    languages = _as_list(data.get("LA"))
    issn_raw = " ".join(_as_list(data.get("IS")))
    issn_match = _ISSN.search(issn_raw)
    doi = None
    for key in ("LID", "AID"):
        for value in _as_list(data.get(key)):
            m = _DOI_TAGGED.match(value)
            if m and doi is None:
                doi = m.group(1)
    extra = {k: v for k, v in data.items() if _as_list(v)}
    return Record(
        source=source,
        source_id=source_id,
        pmid=pmid,
        doi=doi,
        title=title,
        authors=tuple(authors),
        year=parse_year(dp[0]) if dp else None,
        journal=journal,
        volume=volume,
        issue=issue,
        pages=pages,
        abstract=abstract,
        keywords=tuple(keywords),
        publication_types=tuple(publication_types),
        language=languages[0] if languages else None,
        issn=issn_match.group(0) if issn_match else None,
        url=None,
        record_type=record_type,
        extra={"medline": extra} if extra else {},
    )


def _first_pmid(block: Sequence[str]) -> str | None:
    """The record's PMID as Bio.Medline will read it (the first ``PMID-`` line)."""
    for line in block:
        if line.startswith("PMID-"):
            return line[6:].strip() or None
    return None


def _parse_block(start: int, block: list[str], issues: list[Issue]) -> dict[str, Any] | None:
    """One record through Bio.Medline; None (with an error) if it cannot be parsed."""
    for offset, line in enumerate(block):
        if not line.startswith("      ") and not _FIELD.match(line):
            issues.append(
                Issue(
                    start + offset,
                    "warning",
                    f"not a MEDLINE field line ({line.strip()[:50]!r}); kept under its first 4 characters",
                )
            )
    try:
        records = list(Medline.parse([line + "\n" for line in block]))
    except Exception as exc:  # Bio.Medline raises bare errors on damaged input
        issues.append(Issue(start, "error", f"record could not be parsed ({exc}); skipped"))
        return None
    if len(records) != 1:
        issues.append(Issue(start, "error", f"record parsed into {len(records)} records; skipped"))
        return None
    return dict(records[0])


def read_medline(lines: Sequence[str], source: str, key: str) -> ReadResult:
    """Read MEDLINE lines (decoded, split) into records; the PMID is each record's key.

    Records without a PMID (or whose PMID repeats in the file) are keyed ``key:record-number``.
    """
    return stream_medline(lines_of(lines), source, key).collect()


def stream_medline(open_lines: Callable[[], Iterable[str]], source: str, key: str) -> RecordStream:
    """MEDLINE records one at a time from a line source read twice (PMIDs first, then records)."""
    issues: list[Issue] = []
    pmids: list[str | None] = []
    for start, block in _blocks(open_lines()):
        pmid = _first_pmid(block)
        if not pmid:
            issues.append(Issue(start, "warning", "record has no PMID; imported with a file-based key"))
        pmids.append(pmid)
    ids = unique_ids(pmids, issues, "PMID")
    del pmids
    items = _medline_items(open_lines(), ids, source, key, issues)
    return RecordStream(items, issues, "medline", entries=len(ids))


def _medline_items(
    lines: Iterable[str], ids: list[str | None], source: str, key: str, issues: list[Issue]
) -> Iterator[Item]:
    pairs = zip(_blocks(lines), ids, strict=True)
    for position, ((start, block), key_id) in enumerate(progress(pairs, len(ids), "reading MEDLINE"), 1):
        data = _parse_block(start, block, issues)
        if data is None:
            continue
        try:
            record = _to_record(data, source, key_id or fallback_id(key, position))
        except Exception as exc:
            issues.append(Issue(start, "error", f"record {position} could not be mapped ({exc}); skipped"))
            continue
        if not record.title:
            issues.append(Issue(start, "warning", f"record {position} has no title; imported anyway"))
        yield Item(record, position, start)
    issues.sort(key=lambda i: (i.line is None, i.line or 0))
