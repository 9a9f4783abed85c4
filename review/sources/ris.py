"""RIS exports (Scopus, Web of Science, Embase/Ovid, ProQuest, EndNote, Zotero) <-> Records.

The file is split into entries on ``TY``/``ER`` lines here, and each entry is parsed on its own
with rispy: a corrupt entry is reported by line and the entries after it still import (rispy
alone silently drops text before a ``TY``, an entry without ``ER`` at the end of the file, and
repeated single-value tags). Tags that do not map to a :class:`~review.records.Record` field
are kept in ``record.extra["ris"]`` under rispy's names, and written back on export, so
``read_ris(write_ris(records))`` gives the same records.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import rispy
from rispy.config import TAG_KEY_MAPPING

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

__all__ = ["RIS_TYPES", "read_ris", "ris_entry", "stream_ris", "write_ris"]

#: RIS reference types (TY) rispy knows, e.g. JOUR, CONF, CHAP, ABST.
RIS_TYPES: frozenset[str] = frozenset(rispy.TYPE_OF_REFERENCE_MAPPING)

# A tag line: two-character tag at the start of the line, one or two spaces, a dash. rispy wants
# exactly "XX  - "; lines written with one space or no space after the dash are made canonical.
_TAG = re.compile(r"^([A-Z][A-Z0-9])  ?-(?: (.*)|(.*))?$")
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UPPER_DIGITS = _UPPER | frozenset("0123456789")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PMID_NOTE = re.compile(r"^\s*PMID:?\s*(\d{1,9})\s*$", re.IGNORECASE)
_PUBMED_URL = re.compile(r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d{1,9})")
_DIGITS = re.compile(r"^\s*(\d{1,9})\s*$")
_PUBMED_AN = re.compile(r"^\s*(?:PUBMED|MEDLINE)\s+(\d{1,9})\s*$", re.IGNORECASE)  # Cochrane CENTRAL
_PMID_IN_NOTE = re.compile(r"\bPMID:?\s*(?:NLM)?(\d{1,9})\b")

_NAME = TAG_KEY_MAPPING  # tag -> rispy name
_UNKNOWN = _NAME["UK"]
_MULTILINE_TAGS = frozenset({"AB", "N2", "N1"})  # continuation lines keep their line break

# Record field <- rispy names, first non-empty value wins; on export the field is written under
# the first name, so reading the export picks the same value again.
_TITLE = ("title", "primary_title")
_JOURNAL = ("secondary_title", "alternate_title3", "journal_name", "alternate_title2", "alternate_title1")
_ABSTRACT = ("abstract", "notes_abstract")


class _EntryParser(rispy.RisParser):
    """rispy's parser for one entry: repeated tags become lists, continuation lines are joined.

    rispy joins a continuation line to a single-value tag with a space and fails when that tag
    was repeated (a list); here abstracts and notes keep their line breaks and lists extend
    their last value. URLs are not split on ';' (a URL may hold one).
    """

    def __init__(self) -> None:
        super().__init__(enforce_list_tags=False, delimiter_tags_mapping={})

    def _add_tag(self, record: dict, tag: str, content: str, extend_multiline: bool = False) -> None:
        if not extend_multiline or (tag in self.list_tags and tag not in _MULTILINE_TAGS):
            super()._add_tag(record, tag, content, extend_multiline)
            return
        if content == "":
            return  # a blank line inside an entry
        sep = "\n" if tag in _MULTILINE_TAGS else " "
        name = self.mapping.get(tag) if tag else None
        if name is None or name == _UNKNOWN:
            bucket = record.setdefault(_UNKNOWN, defaultdict(list))
            values = bucket[tag or "??"]
        elif name not in record:
            record[name] = content
            return
        else:
            values = record[name]
            if not isinstance(values, list):
                record[name] = f"{values}{sep}{content}"
                return
        if values:
            values[-1] = f"{values[-1]}{sep}{content}"
        else:
            values.append(content)


class _Writer(rispy.RisWriter):
    """rispy's writer without the "1." header line before each entry, with CRLF line ends."""

    NEWLINE = "\r\n"

    def set_header(self, count: int) -> str:
        return ""


class _Entry:
    __slots__ = ("has_ty", "lines", "start")

    def __init__(self, start: int, has_ty: bool) -> None:
        self.start = start
        self.has_ty = has_ty
        self.lines: list[str] = []


def _canonical(line: str) -> tuple[str | None, str]:
    """(tag, canonical line) for a tag line, (None, line) for a continuation line."""
    if line[2:6] == "  - " and line[0] in _UPPER and line[1] in _UPPER_DIGITS and not line[-1].isspace():
        return line[:2], line  # already canonical: the common case, kept fast
    m = _TAG.match(line)
    if not m:
        return None, line
    value = (m.group(2) if m.group(2) is not None else m.group(3)) or ""
    return m.group(1), f"{m.group(1)}  - {value.strip()}"


def _split_entries(lines: Iterable[str], issues: list[Issue]) -> Iterator[_Entry]:
    """Cut the file into entries on TY/ER lines, reporting everything that is not inside one.

    Tag lines between an ER and the next TY belong to the entry above (Ovid writes ``NL`` there);
    tag lines closed by an ER of their own are an entry whose TY line is missing or corrupt.
    Other text outside entries (Ovid's "1." numbering and links) is reported in one warning.
    Entries are yielded one at a time, each once the next one starts (the lines after its ER
    may still belong to it), so only one entry's lines are held at a time.
    """
    held: _Entry | None = None  # the last entry ended, not yet yielded
    made = 0  # entries ended so far
    current: _Entry | None = None
    loose: list[tuple[int, str, str | None]] = []  # lines outside any entry
    skipped: list[tuple[int, str]] = []
    skipped_count = 0
    appended = 0

    def flush_loose(own_er: bool) -> Iterator[_Entry]:
        nonlocal appended, held, made, skipped_count
        tagged = [(n, text) for n, text, tag in loose if tag is not None]
        for n, text, tag in loose:
            if tag is None:
                skipped_count += 1
                if len(skipped) < 5:
                    skipped.append((n, text))
        if tagged and (own_er or not made):
            entry = _Entry(tagged[0][0], has_ty=False)
            entry.lines = [text for _, text in tagged]
            yield from end_entry(entry)
        elif tagged and held is not None:
            held.lines.extend(text for _, text in tagged)
            appended += 1
        loose.clear()

    def end_entry(entry: _Entry) -> Iterator[_Entry]:
        nonlocal held, made
        if held is not None:
            yield held
        held = entry
        made += 1

    for number, raw in enumerate(lines, 1):
        tag, text = _canonical(raw)
        if tag == "TY":
            if current is not None:
                issues.append(
                    Issue(
                        current.start,
                        "warning",
                        f"entry has no ER line before the next TY (line {number}); it was ended there",
                    )
                )
                yield from end_entry(current)
            yield from flush_loose(own_er=False)
            if held is not None:  # nothing after its ER can belong to it any more
                yield held
                held = None
            current = _Entry(number, has_ty=True)
            current.lines.append(text)
        elif tag == "ER":
            if current is None:
                if loose:
                    yield from flush_loose(own_er=True)
                else:
                    issues.append(Issue(number, "warning", "ER line without an entry before it was skipped"))
            else:
                yield from end_entry(current)
                current = None
        elif current is not None:
            current.lines.append(text)
        elif raw.strip():
            loose.append((number, text, tag))
    if current is not None:
        issues.append(
            Issue(
                current.start,
                "warning",
                "entry has no ER line at the end of the file; it was read to the end "
                "(check the file is complete)",
            )
        )
        yield from end_entry(current)
    yield from flush_loose(own_er=False)
    if held is not None:
        yield held
    if appended:
        issues.append(
            Issue(
                None,
                "warning",
                f"{appended} entries have tag lines after their ER line (as Ovid writes NL); "
                "they were kept with the entry above",
            )
        )
    if skipped:
        numbers = ", ".join(str(n) for n, _ in skipped[:5]) + (", ..." if skipped_count > 5 else "")
        issues.append(
            Issue(
                skipped[0][0],
                "warning",
                f"{skipped_count} lines of text outside any RIS entry were skipped (lines {numbers}; "
                f"first: {skipped[0][1].strip()[:60]!r})",
            )
        )


def _values(data: Mapping[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _pick(data: dict[str, Any], names: Iterable[str], keep: bool = False) -> str | None:
    """First non-empty value under the first name that has one; consumed unless ``keep``."""
    for name in names:
        values = _values(data, name)
        for i, value in enumerate(values):
            if value.strip():
                if not keep:
                    rest = values[:i] + values[i + 1 :]
                    _put(data, name, rest)
                return value.strip()
    return None


def _take_all(data: dict[str, Any], name: str) -> list[str]:
    values = [v.strip() for v in _values(data, name) if v.strip()]
    data.pop(name, None)
    return values


def _put(data: dict[str, Any], name: str, values: list[str]) -> None:
    values = [v for v in values if v.strip()]
    if values:
        data[name] = values
    else:
        data.pop(name, None)


def _take_if(data: dict[str, Any], name: str, test: Any) -> list[str]:
    """Consume the values of ``name`` for which ``test(value)`` holds; return them."""
    values = _values(data, name)
    hit = [v.strip() for v in values if v.strip() and test(v)]
    _put(data, name, [v for v in values if not (v.strip() and test(v))])
    return hit


def _find_pmid(data: dict[str, Any]) -> str | None:
    """PubMed id from where databases put it (checked in this order).

    ``N1``/``M2`` ``PMID: n`` (our export; consumed), ``AN`` when the database is PubMed/MEDLINE
    (EndNote's PubMed import, Ovid MEDLINE), ``C2`` in Scopus exports, ``C5`` in Embase (Ovid)
    exports of records also in MEDLINE, ``AN  - PUBMED n`` (Cochrane CENTRAL), ``PMID: NLMn``
    inside a note (EBSCO/CINAHL), and a PubMed link in ``UR``/``L2``.
    """
    for name in ("notes", "note"):
        hits = _take_if(data, name, lambda v: _PMID_NOTE.match(v) is not None)
        if hits:
            m = _PMID_NOTE.match(hits[0])
            return m.group(1) if m else None
    database = " ".join(_values(data, "name_of_database") + _values(data, "database_provider")).lower()
    checks = [
        ("accession_number", ("pubmed", "medline", "nlm")),
        ("custom2", ("scopus",)),
        ("custom5", ("embase",)),
    ]
    for name, marks in checks:
        if any(mark in database for mark in marks):
            for value in _values(data, name):
                m = _DIGITS.match(value) or _PMID_NOTE.match(value)
                if m:
                    return m.group(1)
    for value in _values(data, "accession_number"):
        m = _PMID_NOTE.match(value) or _PUBMED_AN.match(value)
        if m:
            return m.group(1)
    for name in ("notes", "note"):  # EBSCO (CINAHL): "... PMID: NLM19783373." inside a longer note
        for value in _values(data, name):
            m = _PMID_IN_NOTE.search(value)
            if m:
                return m.group(1)
    for name in ("urls", "file_attachments2"):
        for value in _values(data, name):
            m = _PUBMED_URL.search(value)
            if m:
                return m.group(1)
    return None


def _to_record(
    parsed: dict[str, Any], source: str, source_id: str, line: int, issues: list[Issue], position: int
) -> Record:
    data = dict(parsed)
    unknown = data.pop(_UNKNOWN, None)
    record_type = (_pick(data, ["type_of_reference"]) or "GEN").upper()
    data.pop("type_of_reference", None)
    title = _pick(data, _TITLE)
    authors = _take_all(data, "authors") + _take_all(data, "first_authors")

    year = None
    for value in _values(data, "year"):
        year = parse_year(value)
        if year is not None:
            _take_if(data, "year", lambda v, value=value: v == value)
            break
    if year is None:
        bad = [v for v in _values(data, "year") if v.strip()]
        if bad:
            issues.append(
                Issue(line, "warning", f"entry {position}: PY {bad[0]!r} is not a year; kept as it is")
            )
        for name in ("publication_year", "date"):
            for value in _values(data, name):
                year = year or parse_year(value)

    journal = _pick(data, _JOURNAL)
    volume = _pick(data, ["volume"])
    issue = _pick(data, ["number"])
    start, end = _pick(data, ["start_page"]), None
    if start and "-" in start:
        last = start.rsplit("-", 1)[1].strip()
        _take_if(data, "end_page", lambda v: v.strip() == last)
        pages: str | None = start
    else:
        end = _pick(data, ["end_page"])
        pages = f"{start}-{end}" if start and end else (start or end)
    abstract = _pick(data, _ABSTRACT)
    keywords = _take_all(data, "keywords")
    publication_types = _take_if(data, "type_of_work", lambda v: normalise_doi(v) is None)
    language = _pick(data, ["language"])
    issn = _pick(data, ["issn"])
    doi = None
    for value in _values(data, "doi"):
        if normalise_doi(value):
            doi = value
            _take_if(data, "doi", lambda v, value=value: v == value)
            break
    if doi is None:  # EndNote puts DOIs in M3; links hold them too
        for name in ("type_of_work", "urls", "file_attachments2", "notes", "note"):
            for value in _values(data, name):
                if normalise_doi(value) and (name == "type_of_work" or "doi" in value.lower()):
                    doi = doi or value
    pmid = _find_pmid(data)
    url = _pick(data, ["urls"])  # after the DOI and PMID, which may come from a link

    extra_ris: dict[str, Any] = {k: _values(data, k) for k in data if _values(data, k)}
    if unknown:
        extra_ris[_UNKNOWN] = {tag: list(vals) for tag, vals in unknown.items() if vals}
    return Record(
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
        url=url,
        record_type=record_type,
        extra={"ris": extra_ris} if extra_ris else {},
    )


def read_ris(lines: Sequence[str], source: str, key: str) -> ReadResult:
    """Read RIS lines (already decoded and split) into records, entry by entry.

    Parameters
    ----------
    lines
        The file's lines without line ends.
    source
        Database name stored with each record (``--source``).
    key
        Short file hash: records without a usable accession number (``AN``, unique in the
        file) are keyed ``key:entry-number``, so two identical-looking entries both stay.
    """
    return stream_ris(lines_of(lines), source, key).collect()


def stream_ris(open_lines: Callable[[], Iterable[str]], source: str, key: str) -> RecordStream:
    """RIS records one at a time, from a line source that can be read twice (see :func:`read_ris`).

    The first pass cuts the entries and keeps only each one's ``AN`` (is it unique in the
    file?); the records come from the second, so memory does not grow with the file.
    """
    issues: list[Issue] = []
    ids = unique_ids(
        (_first_value(entry.lines, "AN") for entry in _split_entries(open_lines(), issues)),
        issues,
        "accession number",
    )
    items = _ris_items(open_lines(), ids, source, key, issues)
    return RecordStream(items, issues, "ris", entries=len(ids))


def _ris_items(
    lines: Iterable[str], ids: list[str | None], source: str, key: str, issues: list[Issue]
) -> Iterator[Item]:
    parser = _EntryParser()
    # the same cut as the first pass (whose warnings are already in ``issues``)
    pairs = zip(_split_entries(lines, []), ids, strict=True)
    for position, (entry, acc) in enumerate(progress(pairs, len(ids), "reading RIS"), 1):
        parsed = _parse_entry(parser, entry, issues)
        if parsed is None:
            continue
        source_id = acc or fallback_id(key, position)
        try:
            record = _to_record(parsed, source, source_id, entry.start, issues, position)
        except Exception as exc:  # a value of a shape no mapping expects
            issues.append(
                Issue(entry.start, "error", f"entry {position} could not be mapped ({exc}); skipped")
            )
            continue
        if not record.title:
            issues.append(Issue(entry.start, "warning", f"entry {position} has no title; imported anyway"))
        yield Item(record, position, entry.start)
    issues.sort(key=lambda i: (i.line is None, i.line or 0))


def _first_value(lines: Sequence[str], tag: str) -> str | None:
    """The first non-empty value of a tag among an entry's (canonical) lines."""
    prefix = f"{tag}  - "
    for text in lines:
        if text.startswith(prefix) and text[6:].strip():
            return text[6:].strip()
    return None


def _parse_entry(parser: _EntryParser, entry: _Entry, issues: list[Issue]) -> dict[str, Any] | None:
    """One entry through rispy, after dropping binary lines; None (with an error) if it fails."""
    if not entry.has_ty:
        issues.append(
            Issue(
                entry.start,
                "warning",
                "entry has no TY line (its start is missing or corrupt); imported as type GEN: check it",
            )
        )
    bad = {i for i, text in enumerate(entry.lines) if _CONTROL.search(text)}
    for i in sorted(bad):
        issues.append(
            Issue(
                entry.start + i,
                "warning",
                f"control characters (binary data?) in this line; line skipped: {entry.lines[i][:40]!r}",
            )
        )
    lines = [text for i, text in enumerate(entry.lines) if i not in bad] if bad else entry.lines
    titles = sum(1 for text in lines if text[:2] in ("TI", "T1") and _TAG.match(text))
    if titles > 1:
        issues.append(
            Issue(
                entry.start,
                "warning",
                f"entry has {titles} title lines: two records may have run together "
                "(a missing ER/TY line?); the first title is used, the rest kept in extra",
            )
        )
    body = lines if entry.has_ty else ["TY  - GEN", *lines]
    try:
        result = parser.parse("\n".join([*body, "ER  - "]))
    except Exception as exc:  # rispy raises bare exceptions on malformed input
        issues.append(
            Issue(entry.start, "error", f"entry could not be parsed ({type(exc).__name__}: {exc}); skipped")
        )
        return None
    if len(result) != 1:
        issues.append(Issue(entry.start, "error", f"entry parsed into {len(result)} records; skipped"))
        return None
    return dict(result[0])


def _safe(value: str, multiline: bool) -> str:
    """One value ready for a RIS line: line breaks kept only where the reader joins them back."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        return " ".join(value.split("\n"))
    # a continuation line that looks like a tag line would start a new tag: indent it
    return "\n".join((" " + part if _looks_like_tag(part) else part) for part in value.split("\n"))


def _looks_like_tag(line: str) -> bool:
    """Would this reader or rispy (``XX  -`` with upper-case letters) read the line as a tag?"""
    return bool(_TAG.match(line)) or (line[2:5] == "  -" and line[:2].isupper() and line[:1].isalpha())


def ris_entry(record: Record) -> dict[str, Any]:
    """A record as a rispy dict: Record fields under their canonical tags, then ``extra['ris']``."""
    extra: dict[str, Any] = {k: v for k, v in dict(record.extra.get("ris") or {}).items()}
    unknown = extra.pop(_UNKNOWN, None)
    entry: dict[str, Any] = {}

    def put(name: str, values: Iterable[str | None], multiline: bool = False) -> None:
        vals = [_safe(v, multiline) for v in values if v]
        vals += [_safe(v, multiline) for v in _values(extra, name)]
        extra.pop(name, None)
        if vals:
            entry[name] = vals

    rtype = record.record_type or ("JOUR" if record.journal else "GEN")
    entry["type_of_reference"] = rtype
    put(_TITLE[0], [record.title])
    put("authors", record.authors)
    put("year", [str(record.year) if record.year else None])
    put(_JOURNAL[0], [record.journal])
    put("volume", [record.volume])
    put("number", [record.issue])
    put("start_page", [record.pages])
    put(_ABSTRACT[0], [record.abstract], multiline=True)
    put("keywords", record.keywords)
    put("doi", [record.doi])  # before M3: Zotero reads an M3 that looks like a DOI as the DOI
    put("type_of_work", record.publication_types)
    put("language", [record.language])
    put("issn", [record.issn])
    put("urls", [record.url])
    # the PMID, then the notes another reader kept (PubMed GeneralNote, a CSV notes column): a
    # record marked illustrative / not verified stays marked in Zotero and when imported again
    in_ris = set(_values(extra, "notes"))
    notes = [n for n in _values(record.extra, "notes") if n.strip() and n not in in_ris]
    put("notes", [f"PMID: {record.pmid}" if record.pmid else None, *notes], multiline=True)
    if not _values(extra, "accession_number"):
        # the record's key, so importing the export keys the record the same way
        put("accession_number", [record.source_id])
    for name in list(extra):
        if name in _NAME.values():
            entry[name] = [_safe(v, name in ("notes", "notes_abstract")) for v in _values(extra, name)]
    if unknown:
        entry[_UNKNOWN] = {tag: [_safe(v, False) for v in vals] for tag, vals in dict(unknown).items()}
    return entry


def write_ris(records: Iterable[Record]) -> str:
    """RIS text for the records (rispy's writer, CRLF line ends, no numbering lines).

    Zotero and EndNote read it: title TI, authors AU, year PY, journal T2, pages SP, DOI DO,
    abstract AB, publication types M3, PMID as an ``N1  - PMID: n`` note, the source's notes
    (e.g. "not verified: illustrative") as ``N1`` lines, the record's key as ``AN`` when it has no
    accession number of its own, other tags as imported.
    """
    entries = [ris_entry(r) for r in records]
    return _Writer(enforce_list_tags=False).formats(entries) if entries else ""
