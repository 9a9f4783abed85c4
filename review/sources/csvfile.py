"""CSV libraries <-> Records: the generic shape, Zotero's and EndNote's column names.

Generic shape (the CLI contract of ``review dedup-file``): ``id,title,authors,year,journal,volume,issue,pages,
doi,pmid,isbn,abstract`` (other columns kept in ``extra``), ``authors`` one string with names
separated by ``;`` (or `` and `` when there is no ``;``). Column names are matched without
regard to case. A file's own row id (``id``, Zotero ``Key``, EndNote ``Record Number``) is kept
in ``record.extra["id"]``.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from review.errors import InputError
from review.records import COLUMNS, LIST_COLUMNS, Record, normalise_doi, parse_year, record_notes
from review.sources._common import Issue, Item, ReadResult, RecordStream, fallback_id, progress, unique_ids
from review.sources.ris import RIS_TYPES

__all__ = ["EXPORT_COLUMNS", "read_csv", "stream_csv", "write_csv"]

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # abstracts can exceed csv's 128 kB default

#: Columns of a CSV export: the store's record id, every Record field, then the source's notes
#: (joined by `` | ``; read back into ``extra['notes']``, so an illustrative record stays labelled).
EXPORT_COLUMNS: list[str] = ["id", *COLUMNS, "notes"]

# Record field <- header names (lower case), first non-empty column wins.
_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title", "ti", "article title", "document title", "primary title"),
    "authors": ("authors", "author", "au", "author full names", "author(s)"),
    "year": ("year", "publication year", "published year", "py", "pubyear", "publication date", "date"),
    "journal": (
        "journal",
        "publication title",
        "source title",
        "secondary title",
        "journal/book",
        "journal title",
        "jt",
        "so",
    ),
    "volume": ("volume", "vl", "vi"),
    "issue": ("issue", "number", "is", "ip"),
    "pages": ("pages", "page", "pg", "page numbers", "page range"),
    "doi": ("doi", "di"),
    "pmid": ("pmid", "pubmed id", "pubmed_id", "pubmedid"),
    "issn": ("issn", "isbn", "isbn/issn", "sn", "issn/isbn"),
    "abstract": ("abstract", "abstract note", "ab"),
    "keywords": (
        "keywords",
        "manual tags",
        "automatic tags",
        "author keywords",
        "index keywords",
        "mesh terms",
        "kw",
    ),
    "publication_types": (
        "publication_types",
        "publication type",
        "publication types",
        "document type",
        "pt",
    ),
    "language": ("language", "la", "language of original document"),
    "url": ("url", "link", "ur"),
    "record_type": ("record_type", "item type", "reference type", "type", "ty"),
}
_ALL_VALUES = frozenset({"keywords", "publication_types"})  # every matching column contributes
# PubMed's "Save > CSV" export: authors as "Smith J, Lee K", one row per PMID
_PUBMED_CSV = frozenset({"pmid", "citation", "first author"})
_ID_COLUMNS = (
    "key",
    "accession number",
    "an",
    "eid",
    "ut",
    "ut (unique wos id)",
    "id",
    "record number",
    "record_id",
    "pmid",
)
# library- or database-wide ids: Zotero Key, accession numbers, Scopus EID, Web of Science UT
_GLOBAL_IDS = frozenset({"key", "accession number", "an", "eid", "ut", "ut (unique wos id)", "pmid"})
_START_END = (("start page", "end page"), ("page start", "page end"), ("sp", "ep"), ("bp", "ep"))
_ARTICLE_NUMBER = ("art. no.", "article number", "ar")  # e-locator, the pages of online-only articles
# Web of Science "Tab-delimited" exports: two-letter tags as headers. PG is the page count, SP the
# conference sponsors, PM the PMID, DE/ID the keywords, DT the document type (PT is "J")
_WOS_HEADER = frozenset({"pt", "au", "ti", "so", "ut"})
_WOS_FIELDS: dict[str, tuple[str, ...]] = {
    **_FIELDS,
    "authors": ("af", "au"),
    "pages": (),
    "pmid": ("pm",),
    "keywords": ("de", "id"),
    "publication_types": ("dt",),
    "record_type": (),
}

# Zotero "Item Type" and EndNote "Reference Type" -> RIS TY (Zotero RIS.js exportTypeMap).
_TYPES = {
    "journalarticle": "JOUR",
    "journal article": "JOUR",
    "magazinearticle": "MGZN",
    "newspaperarticle": "NEWS",
    "book": "BOOK",
    "edited book": "EDBOOK",
    "booksection": "CHAP",
    "book section": "CHAP",
    "conferencepaper": "CONF",
    "conference paper": "CPAPER",
    "conference proceedings": "CONF",
    "thesis": "THES",
    "report": "RPRT",
    "webpage": "ELEC",
    "web page": "ELEC",
    "manuscript": "MANSCPT",
    "patent": "PAT",
    "preprint": "UNPB",
    "electronic article": "EJOUR",
    "document": "GEN",
    "generic": "GEN",
}
_PMID_EXTRA = re.compile(r"\bPMID:\s*(\d{1,9})\b", re.IGNORECASE)


_SEP_LINE = re.compile(r'^"?sep=([,;\t|])"?\s*$', re.IGNORECASE)


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# older Scopus CSVs: "Schwartzman, R.J., Alexander, G.M., Kiefer, R.-T." (commas only)
_COMMA_AUTHORS = re.compile(
    r"\s*[^,;]+,\s*(?:[A-Z][a-z]?\.\s?-?\s?)+(?:,\s*[^,;]+,\s*(?:[A-Z][a-z]?\.\s?-?\s?)+)+\s*"
)


def _split_authors(value: str) -> list[str]:
    if ";" in value:
        parts = value.split(";")
    elif _COMMA_AUTHORS.fullmatch(value):
        parts = re.split(r"(?<=\.)\s*,\s*", value)
    else:
        parts = re.split(r"\s+and\s+", value)
    return [p.strip() for p in parts if p.strip()]


def _split_list(value: str) -> list[str]:
    return [p.strip() for p in value.split(";") if p.strip()]


def _unclosed_quote(lines: Iterable[str], line: int) -> bool:
    """True when the text from ``line`` (1-based) to the end holds an odd number of quotes.

    Python's csv reader (non-strict) reads an unclosed quote to the end of the file as one cell.
    """
    quotes = sum(text.count('"') for text in itertools.islice(lines, line - 1, None))
    return quotes % 2 == 1


# PubMed "Save > CSV" Citation: "Pain. 2009 Dec 15;147(1-3):107-15. doi: ..."
_CITATION = re.compile(r";\s*(?P<volume>[^();:\s]+)?\s*(?:\((?P<issue>[^)]+)\))?:(?P<pages>[^.;\s]+)")


def _from_citation(data: dict[str, Any], extra_cells: list[str], columns: list[str]) -> None:
    """Volume, issue and pages from PubMed's Citation column, where the CSV has no columns for them."""
    lower = [c.lower() for c in columns]
    if "citation" not in lower:
        return
    m = _CITATION.search(extra_cells[lower.index("citation")])
    if m:
        for field in ("volume", "issue", "pages"):
            data[field] = data[field] or m.group(field)


_EXCEL_DATE = re.compile(
    r"^(?:\d{1,2}-(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)-\d{2})$",
    re.IGNORECASE,
)
_PMID_CELL = re.compile(r"^(?:PMID:?\s*)?(?:NLM)?\d{1,9}$", re.IGNORECASE)
_UNUSABLE = {
    "year": "is not a year",
    "doi": "is not a DOI",
    "pmid": "is not a PubMed id (Excel writes long numbers as 1.98E+07: format the column as text)",
}


def _unusable(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, cell) for year, DOI and PMID cells that hold something else (``in press``, ``n.d.``)."""
    out = []
    if data["year"] and parse_year(data["year"]) is None:
        out.append(("year", data["year"]))
    if data["doi"] and normalise_doi(data["doi"]) is None:
        out.append(("doi", data["doi"]))
    if data["pmid"] and not _PMID_CELL.match(data["pmid"]):
        out.append(("pmid", data["pmid"]))
    return out


def _record_type(value: str | None) -> tuple[str | None, str | None]:
    """(RIS type, raw value when it had to be guessed)."""
    if not value:
        return None, None
    upper = value.strip().upper()
    if upper in RIS_TYPES:
        return upper, None
    mapped = _TYPES.get(value.strip().lower())
    return (mapped, None) if mapped else ("GEN", value.strip())


class _Broken(Exception):
    """The csv module gave up at a line (the rest of the file cannot be read)."""

    def __init__(self, line: int, error: csv.Error) -> None:
        super().__init__(str(error))
        self.line = line


def _rows(lines: Iterable[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of every row that is not a blank line, the header included."""
    reader = csv.reader(lines, delimiter=delimiter)
    previous_end = 0
    try:
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if row:
                yield start, row
    except csv.Error as exc:
        raise _Broken(previous_end + 1, exc) from exc


def _after_header(
    rows: Iterator[tuple[int, list[str]]],
) -> tuple[int, list[str] | None, Iterator[tuple[int, list[str]]]]:
    """The header's line and cells (first row with a non-blank cell), and the rows after it."""
    for line, row in rows:
        if any(c.strip() for c in row):
            return line, [c.strip().lstrip("\ufeff") for c in row], rows
    return 0, None, rows


def read_csv(text: str, source: str, key: str) -> ReadResult:
    """Read a CSV library (header row + one record per row) into records.

    Rows with an id in a library- or database-wide column (Zotero ``Key``, ``Accession Number``)
    are keyed by it; other ids (``id``, EndNote ``Record Number``) are local to the file and
    keyed ``key:id``; rows without a unique id ``key:row-number``.
    """
    return stream_csv(lambda: iter(io.StringIO(text, newline="")), source, key).collect()


def stream_csv(
    open_lines: Callable[[], Iterable[str]], source: str, key: str, *, path: Path | None = None
) -> RecordStream:
    """CSV records one row at a time from a line source (lines with their ends) read twice.

    The first pass finds the header, each row's id (is it unique in the file?) and where the
    csv module gives up; records come from the second, so a large file is never held whole.
    ``path`` is given when the format was guessed, not chosen: then a header with none of the
    bibliographic columns is an error naming the file (it is some other text), not a warning.
    """
    issues: list[Issue] = []
    out = RecordStream(iter(()), issues, "csv")

    def lines() -> Iterator[str]:
        source_lines = iter(open_lines())
        first = next(source_lines, None)
        if first is not None:
            first = first.lstrip("\ufeff")
            # Excel's "sep=;" line names the delimiter: read as a blank line (line numbers kept)
            yield "\n" if _SEP_LINE.match(first) else first
            yield from source_lines

    first_line = next(iter(open_lines()), "").lstrip("\ufeff")
    sep = _SEP_LINE.match(first_line)
    delimiter = sep.group(1) if sep else _delimiter(first_line)

    # pass 1: header, each row's first line and id, where the csv module gives up
    header_line, header, rows = _after_header(_rows(lines(), delimiter))
    if header is None:
        return out
    lower = [h.lower() for h in header]

    def columns(names: Iterable[str]) -> list[int]:
        return [lower.index(n) for n in names if n in lower]

    id_col = next(iter(columns(_ID_COLUMNS)), None)
    starts: list[int] = []
    raw_ids: list[str | None] = []
    last: list[str] = []
    try:
        for start, row in rows:
            starts.append(start)
            raw_ids.append(row[id_col].strip() if id_col is not None and id_col < len(row) else None)
            last = row
    except _Broken as exc:
        issues.append(
            Issue(
                exc.line,
                "error",
                f"CSV could not be read from here on ({exc}); rows after this line were not imported "
                "(an unclosed quote?)",
            )
        )
        out.entries += 1
    if starts and any("\n" in c or "\r" in c for c in last) and _unclosed_quote(lines(), starts[-1]):
        line = starts.pop()
        raw_ids.pop()
        issues.append(
            Issue(
                line,
                "error",
                f"a quoted cell opened on line {line} is never closed: the rest of the file was not "
                "imported (close the quote and import again)",
            )
        )
        out.entries += 1
        # the rows the open cell swallowed, each named (count in = stored + reported)
        try:
            for n, _ in _rows(itertools.islice(lines(), line, None), delimiter):
                issues.append(
                    Issue(
                        line + n,
                        "error",
                        f"this row is inside the quoted cell opened on line {line}; not imported",
                    )
                )
                out.entries += 1
        except _Broken:
            pass  # the rest is no CSV at all: the first error names where it starts
    out.entries += len(starts)

    wos = set(lower) >= _WOS_HEADER
    field_cols = {f: columns(names) for f, names in (_WOS_FIELDS if wos else _FIELDS).items()}
    start_end = next(
        (
            (lower.index(a), lower.index(b))
            for a, b in ((("bp", "ep"),) if wos else _START_END)
            if a in lower and b in lower
        ),
        None,
    )
    article_col = next(iter(columns(_ARTICLE_NUMBER)), None)
    fixed: set[int] = set()  # columns always consumed (id, list fields)
    for f in _ALL_VALUES:
        fixed.update(field_cols[f])
    if id_col is not None:
        fixed.add(id_col)
    if not any(field_cols[f] for f in ("title", "authors", "doi", "pmid", "abstract")):
        message = (
            "header has none of the columns title, authors, doi, pmid, abstract "
            f"(found: {', '.join(header[:8])}...): is this a library export?"
        )
        if path is not None:  # the format was guessed: a text that is no library is refused
            raise InputError(
                f"{message} Export the library as RIS, MEDLINE (PubMed format) or CSV with a header "
                "row, or give --format csv to read this file anyway",
                path=path,
                line=header_line,
            )
        issues.append(Issue(header_line, "warning", message))
    ids = unique_ids(raw_ids, issues, "id")
    id_is_global = id_col is not None and lower[id_col] in _GLOBAL_IDS
    # a Zotero Key is 8 letters and digits; a "Key" column numbered 1, 2, ... (a spreadsheet
    # made by hand) holds row numbers, which are local to the file
    if id_is_global and lower[id_col or 0] == "key" and all(v is None or v.isdigit() for v in raw_ids):
        id_is_global = False
    pubmed_csv = set(lower) >= _PUBMED_CSV

    own_export = lower[: len(EXPORT_COLUMNS)] == EXPORT_COLUMNS
    layout = _Layout(header, field_cols, start_end, article_col, fixed, id_is_global, pubmed_csv, own_export)
    out.items = _csv_items(lines(), delimiter, len(starts), raw_ids, ids, layout, source, key, issues)
    return out


@dataclass(frozen=True)
class _Layout:
    """What the header says: columns of each field, which are always consumed, the id's scope."""

    header: list[str]
    field_cols: dict[str, list[int]]
    start_end: tuple[int, int] | None
    article_col: int | None
    fixed: set[int]
    id_is_global: bool
    pubmed_csv: bool
    own_export: bool


def _csv_items(
    lines: Iterable[str],
    delimiter: str,
    count: int,
    raw_ids: list[str | None],
    ids: list[str | None],
    layout: _Layout,
    source: str,
    key: str,
    issues: list[Issue],
) -> Iterator[Item]:
    """Pass 2: the same rows again, mapped one at a time."""
    header, field_cols, start_end = layout.header, layout.field_cols, layout.start_end
    article_col = layout.article_col
    fixed, id_is_global, pubmed_csv = layout.fixed, layout.id_is_global, layout.pubmed_csv
    _, _, rows = _after_header(_rows(lines, delimiter))
    body = itertools.islice(rows, count)
    stream = progress(zip(body, raw_ids, ids, strict=True), count, "reading CSV")
    for position, ((line, row), raw_id, row_id) in enumerate(stream, 1):
        if not any(c.strip() for c in row):
            issues.append(Issue(line, "error", f"row {position} is empty; nothing to import"))
            continue
        if len(row) == len(header) + 1 and not row[-1].strip():
            row = row[:-1]  # a delimiter at the end of every row (Web of Science): no cell
        if len(row) != len(header):
            issues.append(
                Issue(
                    line,
                    "warning",
                    f"row {position} has {len(row)} cells but the header has {len(header)}; "
                    "cells matched by position, extra cells kept in extra['_cells']",
                )
            )
        cells = row + [""] * (len(header) - len(row))
        if layout.own_export:
            cells = [_unguard(c) for c in cells]
        else:
            for col, cell in enumerate(cells):
                if cell.startswith("="):
                    cells[col] = _formula_text(cell)
                    shown = f"its text {cells[col]!r} was used" if cells[col] != cell else "kept as it is"
                    column = header[col] if col < len(header) else f"cell {col + 1}"
                    issues.append(
                        Issue(line, "warning", f"row {position}: {column} holds an Excel formula; {shown}")
                    )
        used = set(fixed)

        def cell_value(field: str, cells: list[str] = cells, used: set[int] = used) -> str | None:
            for col in field_cols[field]:
                if cells[col].strip():
                    used.add(col)
                    return cells[col].strip()
            return None

        data: dict[str, Any] = {f: cell_value(f) for f in _FIELDS if f not in LIST_COLUMNS}
        if pubmed_csv:
            data["authors"] = [
                a.strip() for a in (cell_value("authors") or "").rstrip(".").split(",") if a.strip()
            ]
            _from_citation(data, extra_cells=cells, columns=header)
        elif layout.own_export:  # our writer joins with "; ": a group author "A and B" is one name
            data["authors"] = _split_list(cell_value("authors") or "")
        else:
            data["authors"] = _split_authors(cell_value("authors") or "")
        for f in _ALL_VALUES:
            data[f] = [item for col in field_cols[f] for item in _split_list(cells[col])]
        if not data["pages"] and start_end:
            sp, ep = cells[start_end[0]].strip(), cells[start_end[1]].strip()
            used.update(start_end)
            data["pages"] = f"{sp}-{ep}" if sp and ep else (sp or ep or None)
        if not data["pages"] and article_col is not None and cells[article_col].strip():
            used.add(article_col)
            data["pages"] = cells[article_col].strip()
        extra: dict[str, Any] = {
            header[i]: cells[i] for i in range(len(header)) if i not in used and cells[i].strip()
        }
        if len(row) > len(header):
            extra["_cells"] = row[len(header) :]
        if not data["pmid"]:
            for text_value in extra.values():
                m = _PMID_EXTRA.search(text_value) if isinstance(text_value, str) else None
                if m:
                    data["pmid"] = m.group(1)
                    break
        for field in ("issue", "pages"):
            if data[field] and _EXCEL_DATE.match(data[field]):
                issues.append(
                    Issue(
                        line,
                        "warning",
                        f"row {position}: {field} {data[field]!r} looks like a date Excel made of a range "
                        "(1-3 -> 3-Jan): check it in the source",
                    )
                )
        for field, value in _unusable(data):  # kept as it was, with a warning, as RIS does
            issues.append(
                Issue(line, "warning", f"row {position}: {field} {value!r} {_UNUSABLE[field]}; kept in extra")
            )
            extra[field] = value
            data[field] = None
        data["record_type"], raw_type = _record_type(data["record_type"])
        if raw_type:
            extra["type"] = raw_type
        if raw_id:
            extra["id"] = raw_id
        if row_id and id_is_global:
            source_id = row_id
        elif row_id:
            source_id = f"{key}:{row_id}"
        else:
            source_id = fallback_id(key, position)
        try:
            record = Record(source=source, source_id=source_id, extra=extra, **data)
        except Exception as exc:
            issues.append(Issue(line, "error", f"row {position} could not be mapped ({exc}); skipped"))
            continue
        if not record.title:
            issues.append(Issue(line, "warning", f"row {position} has no title; imported anyway"))
        yield Item(record, position, line)
    issues.sort(key=lambda i: (i.line is None, i.line or 0))


_HYPERLINK = re.compile(r'^=\s*HYPERLINK\(\s*"([^"]*)"\s*(?:[,;]\s*"([^"]*)"\s*)?\)\s*$', re.IGNORECASE)


def _formula_text(cell: str) -> str:
    """What an Excel ``=HYPERLINK("url","text")`` cell shows (its text, else its link); other
    formulas are kept as they are."""
    m = _HYPERLINK.match(cell)
    return (m.group(2) or m.group(1)) if m else cell


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _guard(text: str) -> str:
    """A cell Excel would run as a formula (``=``, ``+``, ``-``, ``@``) gets a leading ``'``
    (OWASP CSV injection); :func:`read_csv` takes it off again when it reads its own export."""
    return "'" + text if text.lstrip("'").startswith(_FORMULA_START) else text


def _unguard(text: str) -> str:
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(_FORMULA_START) else text


def _cell(record: Record, name: str, record_id: int | None) -> str:
    if name == "id":
        return "" if record_id is None else str(record_id)
    if name == "notes":
        return _guard(" | ".join(record_notes(record.extra)))
    value = getattr(record, name)
    if name in LIST_COLUMNS:
        return _guard("; ".join(value))
    return "" if value is None else _guard(str(value))


def write_csv(records: Sequence[Record], ids: Sequence[int] | None = None) -> str:
    """CSV text (``EXPORT_COLUMNS``; lists joined with ``; ``) that :func:`read_csv` reads back."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for i, record in enumerate(records):
        rid = ids[i] if ids is not None else None
        writer.writerow([_cell(record, c, rid) for c in EXPORT_COLUMNS])
    return buffer.getvalue()
