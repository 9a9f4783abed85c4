"""Cochrane Library plain-text exports ("Record #1 of N", ``ID:``/``AU:``/``TI:`` lines) -> Records.

CENTRAL (and CDSR) search results exported from the Cochrane Library as plain text look like::

    Record #1 of 2
    ID: CN-00724525
    AU: Schwartzman RJ
    AU: Alexander GM
    TI: Outpatient intravenous ketamine for ...
    SO: Pain
    YR: 2009
    VL: 147
    NO: 1-3
    PG: 107-115
    PM: PUBMED 19783373
    XR: EMBASE 2009560341
    PT: Journal Article; Randomized Controlled Trial
    KY: Ketamine [administration & dosage]; Complex Regional Pain Syndromes [drug therapy]
    DOI: 10.1016/j.pain.2009.08.015
    AB: ...
    US: https://www.cochranelibrary.com/central/doi/10.1002/central/CN-00724525/full

Where the format description comes from: bibliometrix's ``cochrane2df`` (R/cochrane2df.R in
massimoaria/bibliometrix and cran/bibliometrix), which cuts records on lines starting
``Record #``, reads the tag from the first four characters (``AU:``, ``DOI:``) and maps ``ID``
(accession), ``YR`` (year), ``KY`` (keywords, ``;``-separated, MeSH qualifiers in ``[...]``),
``NO`` (issue), ``US`` (link), ``DOI``, one ``AU`` line per author; and the tester's sample
(``/work/team/import_cases/cochrane_central_plain.txt``) for ``PM: PUBMED n``, ``XR: EMBASE n``,
``PT``, ``VL``, ``PG``, ``AB``. No real export was found in the search corpus, so the reader is
lenient: tags it does not know (e.g. ``CC``, ``EM``) are kept in ``record.extra["cochrane"]``,
a line that is not a tag line continues the field above (abstracts keep their line breaks),
and authors may be one per line or ``;``-separated.

Records are cut on the ``Record #`` lines and read one at a time, so a damaged record is
reported by line and the records after it still import. The ``ID`` (``CN-…`` for CENTRAL,
``CD…`` for reviews) is each record's key when it is unique in the file.
"""

from __future__ import annotations

import itertools
import re
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

__all__ = ["is_central_doi", "looks_like_cochrane", "read_cochrane", "stream_cochrane"]

#: "Record #12 of 250" (the count may be missing in a hand-cut file)
_HEADER = re.compile(r"^\s*Record\s*#\s*(\d+)(?:\s+of\s+(\d+))?\s*$", re.IGNORECASE)
_HEADER_LOOSE = re.compile(r"^\s*Record\s*#", re.IGNORECASE)
_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}):(?:\s(.*)|)$")
#: tags known from the sources above; an unknown tag-shaped line inside an abstract continues it
_KNOWN = frozenset(
    {"ID", "AU", "TI", "SO", "YR", "VL", "NO", "PG", "XR", "PM", "PT", "KY", "AB", "DOI", "US", "CC", "EM"}
)
_SINGLE = frozenset({"ID", "TI", "SO", "YR", "VL", "NO", "PG", "DOI", "US", "AB", "PM"})
_LIST_TAGS = frozenset({"AU", "KY", "PT"})  # values split on ';'
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PUBMED = re.compile(r"\b(?:PUBMED|MEDLINE|PMID)\b:?\s*(\d{1,9})\b", re.IGNORECASE)


def is_central_doi(value: str | None) -> bool:
    """Whether a DOI is CENTRAL's own record DOI (``10.1002/central/CN-…``), not the article's.

    CENTRAL exports write it in the DOI field; doi.org does not resolve it and two copies of one
    trial (CENTRAL and Embase) never share it, so it is kept in ``extra`` and not used as the DOI.
    """
    doi = normalise_doi(value)
    return doi is not None and doi.startswith("10.1002/central/")


def looks_like_cochrane(head: str) -> bool:
    """Whether a file's first lines are a Cochrane Library plain-text export.

    The first non-blank line is ``Record #1 of N`` and a Cochrane tag line (``ID:``, ``AU:``,
    ``TI:``...) follows before any RIS ``TY  -`` line or BibTeX ``@`` entry (the Cochrane Library
    writes the same header above its RIS and BibTeX exports).
    """
    lines = [line.strip() for line in head.lstrip("\ufeff").splitlines() if line.strip()][:40]
    if not lines or not _HEADER.match(lines[0]):
        return False
    for line in lines[1:]:
        if line.startswith("@") or re.match(r"^TY  ?-", line):
            return False
        m = _TAG.match(line)
        if m and m.group(1) in _KNOWN:
            return True
    return False


class _Entry:
    __slots__ = ("header", "lines", "number", "start", "total")

    def __init__(self, start: int, header: bool, number: int | None, total: int | None) -> None:
        self.start = start
        self.header = header
        self.number = number
        self.total = total
        self.lines: list[tuple[int, str]] = []


def _split(lines: Iterable[str], issues: list[Issue]) -> Iterator[_Entry]:
    """Cut the file into records on ``Record #`` lines; text before the first one is reported.

    Tag lines before the first header are a record whose header is missing (imported, with a
    warning); other text there is reported in one warning.
    """
    current: _Entry | None = None
    loose: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, 1):
        line = raw.lstrip("\ufeff") if number == 1 else raw
        m = _HEADER.match(line)
        if m or _HEADER_LOOSE.match(line):
            if current is not None:
                yield current
            elif loose:
                yield from _loose_entry(loose, issues)
                loose = []
            if m:
                current = _Entry(number, True, int(m.group(1)), int(m.group(2)) if m.group(2) else None)
            else:
                issues.append(
                    Issue(number, "warning", f"record header {line.strip()[:40]!r} is not 'Record #n of N'")
                )
                current = _Entry(number, True, None, None)
        elif current is not None:
            current.lines.append((number, line))
        elif line.strip():
            loose.append((number, line))
    if current is not None:
        yield current
    elif loose:
        yield from _loose_entry(loose, issues)


def _loose_entry(loose: list[tuple[int, str]], issues: list[Issue]) -> Iterator[_Entry]:
    tagged = [(n, text) for n, text in loose if _TAG.match(text)]
    if tagged:
        issues.append(
            Issue(
                loose[0][0], "warning", "field lines before the first 'Record #' line were read as a record"
            )
        )
        entry = _Entry(loose[0][0], False, None, None)
        entry.lines = loose
        yield entry
    else:
        shown = loose[0][1].strip()[:60]
        issues.append(
            Issue(
                loose[0][0],
                "warning",
                f"{len(loose)} lines before the first 'Record #' line were skipped (first: {shown!r})",
            )
        )


def _fields(entry: _Entry, position: int, issues: list[Issue]) -> dict[str, list[str]]:
    """Tag -> values of one record; continuation lines extend the value above."""
    fields: dict[str, list[str]] = {}
    last: str | None = None
    stray: list[int] = []
    control = False
    for number, raw in entry.lines:
        line = _CONTROL.sub("", raw)
        control = control or line != raw
        if not line.strip():
            continue
        m = _TAG.match(line)
        tag = m.group(1) if m else None
        if tag is not None and tag not in _KNOWN and last == "AB" and not line[:1].isspace():
            tag = None  # "AIM: ..." inside an abstract
        if tag is not None and m is not None:
            fields.setdefault(tag, []).append((m.group(2) or "").strip())
            last = tag
        elif last is not None:
            values = fields[last]
            sep = "\n" if last == "AB" else " "
            values[-1] = f"{values[-1]}{sep}{line.strip()}" if values[-1] else line.strip()
        else:
            stray.append(number)
            fields.setdefault("_text", []).append(line.strip())
    if control:
        issues.append(
            Issue(entry.start, "warning", f"record {position}: control characters (binary data) were removed")
        )
    if stray and len(fields) > 1:  # a record with no field at all is an error (reported by the caller)
        issues.append(
            Issue(
                stray[0],
                "warning",
                f"record {position}: {len(stray)} lines before its first field are not 'XX: value' lines; "
                "kept in extra['cochrane']['_text']",
            )
        )
    return fields


def _first_id(entry: _Entry) -> str | None:
    for _, line in entry.lines:
        if line.startswith("ID:") and line[3:].strip():
            return line[3:].strip()
    return None


def _split_list(values: list[str]) -> list[str]:
    return [part.strip() for v in values for part in re.split(r";|\n", v) if part.strip()]


def _record_type(types: Sequence[str], source_title: str | None, accession: str | None) -> str:
    text = " ".join(types).lower()
    if "conference" in text or "congress" in text:
        return "CONF"
    if "trial registry" in text or "registry record" in text:
        return "GEN"
    if accession and re.match(r"^CD\d", accession):
        return "JOUR"  # a Cochrane review (CDSR)
    if source_title and "clinicaltrials.gov" in source_title.lower():
        return "GEN"
    return "JOUR"


def _to_record(
    fields: dict[str, list[str]], source: str, source_id: str, line: int, position: int, issues: list[Issue]
) -> Record:
    data = {k: list(v) for k, v in fields.items()}

    def one(tag: str) -> str | None:
        values = [v for v in data.pop(tag, []) if v]
        if len(values) > 1 and tag in _SINGLE:
            issues.append(
                Issue(
                    line,
                    "warning",
                    f"record {position}: {tag} occurs {len(values)} times; the first is used, "
                    f"the others kept in extra['cochrane']['{tag}']",
                )
            )
            data[tag] = values[1:]
        return values[0] if values else None

    accession = one("ID")
    year_text = one("YR")
    year = parse_year(year_text)
    if year_text and year is None:
        issues.append(
            Issue(line, "warning", f"record {position}: YR {year_text!r} is not a year; kept as it is")
        )
        data.setdefault("YR", []).insert(0, year_text)
    pm = one("PM")
    pmid = None
    if pm:
        m = _PUBMED.search(pm) or re.fullmatch(r"\s*(\d{1,9})\s*", pm)
        if m:
            pmid = m.group(1)
        else:
            data.setdefault("PM", []).insert(0, pm)
    if pmid is None:  # some exports list the PubMed id among the cross-references
        for value in data.get("XR", []):
            m = _PUBMED.search(value)
            if m:
                pmid = m.group(1)
                break
    types = _split_list(data.pop("PT", []))
    journal = one("SO")
    doi = one("DOI")
    if is_central_doi(doi):  # names the CENTRAL record, not the article: no DOI to match on
        data.setdefault("DOI", []).insert(0, str(doi))
        doi = None
    record = Record(
        source=source,
        source_id=source_id,
        pmid=pmid,
        doi=doi,
        title=one("TI"),
        authors=tuple(_split_list(data.pop("AU", []))),
        year=year,
        journal=journal,
        volume=one("VL"),
        issue=one("NO"),
        pages=one("PG"),
        abstract=one("AB"),
        keywords=tuple(_split_list(data.pop("KY", []))),
        publication_types=tuple(types),
        url=one("US"),
        record_type=_record_type(types, journal, accession),
        extra={},
    )
    if doi and record.doi is None:
        data.setdefault("DOI", []).insert(0, doi)
        issues.append(Issue(line, "warning", f"record {position}: DOI {doi!r} is not a DOI; kept in extra"))
    extra: dict[str, Any] = {k: v for k, v in data.items() if v}
    if accession and accession != source_id:  # a repeated ID: the record is keyed otherwise
        extra["ID"] = [accession]
    return record.replace(extra={"cochrane": extra}) if extra else record


def read_cochrane(lines: Sequence[str], source: str, key: str) -> ReadResult:
    """Read Cochrane Library plain-text lines (decoded, split) into records.

    Records without an ``ID`` (or whose ID repeats in the file) are keyed by file and position.
    """
    return stream_cochrane(lines_of(lines), source, key).collect()


def stream_cochrane(open_lines: Callable[[], Iterable[str]], source: str, key: str) -> RecordStream:
    """Cochrane records one at a time from a line source read twice (IDs first, then records)."""
    issues: list[Issue] = []
    accessions: list[str | None] = []
    numbers: list[int | None] = []
    total: int | None = None
    for entry in _split(open_lines(), issues):
        accessions.append(_first_id(entry))
        numbers.append(entry.number)
        total = total if total is not None else entry.total
    ids = unique_ids(accessions, issues, "ID")
    found = len(ids)
    if total is not None and total != found:
        issues.append(
            Issue(
                None,
                "warning",
                f"the file says 'of {total}' records but holds {found}: check the export is complete",
            )
        )
    expected = [n for n in numbers if n is not None]
    if expected and expected != list(range(expected[0], expected[0] + len(expected))):
        gaps = [b for a, b in itertools.pairwise(expected) if b != a + 1]
        issues.append(
            Issue(
                None,
                "warning",
                f"record numbers are not consecutive (e.g. #{gaps[0]}): check records are missing",
            )
        )
    del accessions, numbers
    items = _items(open_lines(), ids, source, key, issues)
    return RecordStream(items, issues, "cochrane", entries=found)


def _items(
    lines: Iterable[str], ids: list[str | None], source: str, key: str, issues: list[Issue]
) -> Iterator[Item]:
    pairs = zip(_split(lines, []), ids, strict=True)
    for position, (entry, accession) in enumerate(progress(pairs, len(ids), "reading Cochrane"), 1):
        fields = _fields(entry, position, issues)
        if not any(k != "_text" for k in fields):
            text = fields.get("_text", [""])[0][:60]
            issues.append(
                Issue(
                    entry.start,
                    "error",
                    f"record {position} has no 'XX: value' field lines"
                    + (f" (first line: {text!r})" if text else "")
                    + "; skipped: is the export cut short or edited? export the record again",
                )
            )
            continue
        try:
            record = _to_record(
                fields, source, accession or fallback_id(key, position), entry.start, position, issues
            )
        except Exception as exc:  # a value of a shape no mapping expects
            issues.append(
                Issue(entry.start, "error", f"record {position} could not be mapped ({exc}); skipped")
            )
            continue
        if not record.title:
            issues.append(
                Issue(entry.start, "warning", f"record {position} has no title (TI); imported anyway")
            )
        yield Item(record, position, entry.start)
    issues.sort(key=lambda i: (i.line is None, i.line or 0))
