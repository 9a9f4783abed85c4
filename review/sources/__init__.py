"""Readers of bibliographic files and replies: RIS, MEDLINE/.nbib, PubMed XML, CSV, Web of Science,
Cochrane Library plain text and EndNote XML -> Records.

:func:`read_file` detects the format and returns a :class:`ReadResult`: the records, the
problems found (each naming its line), the format and how many entries the file holds. Every
entry either becomes a record or is named by an error: nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from review.errors import InputError
from review.records import Record, normalise_text
from review.sources._common import (
    FileScan,
    Issue,
    Item,
    ReadResult,
    RecordStream,
    TextFile,
    fallback_id,
    file_key,
    scan_file,
    unique_ids,
)
from review.sources.cochrane import looks_like_cochrane
from review.sources.endnote_xml import looks_like_endnote_xml

__all__ = [
    "CONTENT_KEY_PREFIX",
    "FORMATS",
    "Issue",
    "ReadResult",
    "RecordStream",
    "detect_format",
    "read_file",
    "stream_file",
]

#: Prefix of the key of an entry without a database accession (a hash of its content, see
#: ``_content_key``): no id a person can look up.
CONTENT_KEY_PREFIX = "c:"

#: Formats read_file understands (``fmt`` values besides "auto").
FORMATS: tuple[str, ...] = ("ris", "medline", "pubmed-xml", "csv", "wos", "cochrane", "endnote-xml")

_RIS_LINE = re.compile(r"^TY  ?-", re.MULTILINE)
_MEDLINE_LINE = re.compile(r"^PMID- ", re.MULTILINE)
_WOK_LINE = re.compile(r"^(FN |PT [A-Z]\s*$)", re.MULTILINE)
_EXTENSIONS = {
    ".ris": "ris",
    ".nbib": "medline",
    ".medline": "medline",
    ".xml": "pubmed-xml",
    ".csv": "csv",
    ".tsv": "csv",
}


_OVID_NUMBER = re.compile(r"<\d+>[ \t]*(?:\r?\n|\r|$)")
_WEB_PAGE = re.compile(r"(?:<!--.*?-->\s*)*<(?:!DOCTYPE\s+html|html[\s>]|head[\s>]|body[\s>])", re.I | re.S)
_PAGE_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_COCHRANE_HEADER = re.compile(r"Record\s*#\s*1\s+of\s+\d+\s*(?:\r?\n|\r)\s*@", re.I)


def _refuse_unreadable(path: str | Path, text: str) -> None:
    """One clear message for exports review cannot read, so they are not parsed as something else."""
    if _OVID_NUMBER.match(text):
        raise InputError(
            "this looks like an Ovid display or text export (records numbered <1>, <2>, ...), which cannot "
            "be read: in Ovid, export the records again as RIS (Export, format RIS) and import that file",
            path=path,
        )
    if _WEB_PAGE.match(text):
        title = _PAGE_TITLE.search(text[:20_000])
        named = f" ({' '.join(title.group(1).split())[:80]!r})" if title else ""
        raise InputError(
            f"this is an HTML page{named}, not a database export (a login or error page saved under the "
            "export's name?): export the records again from the database, e.g. as RIS",
            path=path,
        )
    if _COCHRANE_HEADER.match(text) or re.match(r"@[A-Za-z]+\s*[{(]", text):
        raise InputError(
            "BibTeX exports (e.g. the Cochrane Library's) cannot be read: export the records again as RIS, "
            "or from the Cochrane Library as plain text, and import that file",
            path=path,
        )
    if re.match(r"%0 ", text):
        raise InputError(
            "EndNote/Refer tagged exports (%0, %A, %T lines) cannot be read: export the records again as "
            "RIS (in EndNote: File > Export, output style RefMan (RIS) Export) and import that file",
            path=path,
        )


def detect_format(path: str | Path, head: str) -> str:
    """The format of a file from its first characters (content first, then the extension).

    Raises
    ------
    InputError
        When neither the content nor the extension says what the file is.
    """
    text = head.lstrip("\ufeff \t\r\n")
    _refuse_unreadable(path, text)
    if looks_like_endnote_xml(text):
        return "endnote-xml"
    if text.startswith("<"):
        return "pubmed-xml"
    if looks_like_cochrane(text):
        return "cochrane"
    sample = text[:200_000]
    ris = _RIS_LINE.search(sample)
    medline = _MEDLINE_LINE.search(sample)
    if ris and (not medline or ris.start() < medline.start()):
        return "ris"
    if medline:
        return "medline"
    if _WOK_LINE.search(sample[:2000]):
        return "wos"
    by_extension = _EXTENSIONS.get(Path(path).suffix.lower())
    if by_extension:
        return by_extension
    first = sample.split("\n", 1)[0]
    if any(d in first for d in (",", ";", "\t")):
        return "csv"
    raise InputError(
        "cannot tell the format: expected RIS (TY  - lines), MEDLINE (PMID- lines), PubMed XML, EndNote XML, "
        "Cochrane Library plain text (Record #1 of N) or CSV "
        "with a header row; give --format if it is one of them",
        path=path,
    )


def _stream_xml(path: Path, source: str, key: str, articles: int) -> RecordStream:
    """PubMed XML records one at a time (the search stage's streaming parser, run twice).

    The first pass only notes each record's PMID (a PMID twice in the file is no key) and
    where the file breaks off, so both passes read the same records.
    """
    from review.sources.pubmed_xml import iter_pubmed_xml

    pmids: list[str] = []
    broken: InputError | None = None
    try:
        for record in iter_pubmed_xml(path, name=str(path)):
            pmids.append(record.source_id)
    except InputError as exc:
        if not pmids:
            raise  # not PubMed XML at all (an HTML page, another XML): one clear error
        broken = exc
    read = len(pmids)
    issues: list[Issue] = []
    stream = RecordStream(iter(()), issues, "pubmed-xml", entries=articles)
    if broken is not None:
        issues.append(
            Issue(
                broken.line,
                "error",
                f"{broken}; the {max(articles - read, 0)} articles after the first {read} were not imported",
            )
        )
        stream.entries = max(articles, read + 1)
    else:
        missing = articles - read
        if missing > 0:
            issues.append(
                Issue(None, "error", f"{missing} of {articles} articles had no PMID and were not imported")
            )
        stream.entries = max(articles, read)
    # a PMID twice in one file: both articles are kept, keyed by file + position like other formats
    ids = unique_ids(pmids, issues, "PMID")
    del pmids

    def items() -> Iterator[Item]:
        records = itertools.islice(iter_pubmed_xml(path, name=str(path)), read)
        for position, (record, kept) in enumerate(zip(records, ids, strict=True), 1):
            record = record.replace(source=source)
            if kept is None:
                record = record.replace(source_id=fallback_id(key, position))
            if not record.title:
                issues.append(Issue(None, "warning", f"article {position} (PMID {record.pmid}) has no title"))
            yield Item(record, position, 0)

    stream.items = items()
    return stream


_NOT_WORD = re.compile(r"[\W_]+")
_TAGS = re.compile(r"<[^>]+>")


def _key_text(value: str | None) -> str:
    """Text for a content key: :func:`~review.records.normalise_text` (ASCII words), unless that
    drops most of the letters (a title in Chinese or Cyrillic): then the letters of every script
    are kept, so two such titles do not share a key. Keys of Latin-script text stay as they were.
    """
    if not value:
        return ""
    ascii_words = normalise_text(value)
    text = unicodedata.normalize("NFKD", _TAGS.sub(" ", value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = " ".join(_NOT_WORD.sub(" ", text).lower().split())
    return ascii_words if 2 * len(ascii_words.replace(" ", "")) >= len(words.replace(" ", "")) else words


def _content_key(record: Record) -> str:
    """A key from what the entry says (not where it sits): the same entry keeps it in a corrected file."""
    fields = [
        _key_text(record.title),
        "|".join(_key_text(a) for a in record.authors),
        str(record.year or ""),
        _key_text(record.journal),
        record.volume or "",
        record.issue or "",
        record.pages or "",
        record.doi or "",
        record.pmid or "",
        _key_text(record.abstract)[:500],
        record.record_type or "",
    ]
    return CONTENT_KEY_PREFIX + hashlib.sha1("\x1f".join(fields).encode("utf-8")).hexdigest()[:24]


def _content_keys(items: Iterable[Item], key: str) -> Iterator[Item]:
    """Give entries with no database accession a content key instead of file hash + position.

    Keys tied to the file would make a corrected re-export (one bad entry fixed, so a new
    file hash) store every good entry a second time. Identical entries within one file stay
    distinct records through an occurrence number.
    """
    seen: Counter[str] = Counter()
    for item in items:
        record = item.record
        if record.source_id.startswith((f"{key}#", f"{key}:")):
            base = _content_key(record)
            seen[base] += 1
            item = item._replace(record=record.replace(source_id=f"{base}#{seen[base]}"))
        yield item


def read_file(path: str | Path, source: str, fmt: str = "auto") -> ReadResult:
    """Read a bibliographic file into records, detecting its format and encoding.

    Parameters
    ----------
    path
        The export file (RIS, MEDLINE/.nbib, PubMed XML, CSV, Web of Science plain text, Cochrane
        Library plain text or EndNote XML).
    source
        Database name stored with each record (e.g. ``"embase"``).
    fmt
        ``"auto"`` (detect) or one of :data:`FORMATS`.

    Returns
    -------
    ReadResult
        Records, issues naming lines, the format, entry count, encoding and SHA-256.

    Raises
    ------
    InputError
        The file cannot be read, its format is unknown, or it holds no entries at all.
    """
    return stream_file(path, source, fmt).collect()


def stream_file(
    path: str | Path, source: str, fmt: str = "auto", *, scan: FileScan | None = None
) -> RecordStream:
    """Records of a bibliographic file one at a time, as :func:`read_file` reads them.

    The file is read a few times from disk (hash and encoding, entry ids, records) but never
    held whole, so memory does not grow with the file. ``scan`` is the file's
    :func:`~review.sources._common.scan_file` when the caller has it already.

    Raises
    ------
    InputError
        As :func:`read_file`, before the first record.
    """
    path = Path(path)
    if scan is None:
        scan = scan_file(path)
    if scan.blank:
        raise InputError("the file is empty", path=path)
    key = file_key(scan.sha256)
    source = source.strip()
    if not source:
        raise InputError("a source name is needed (e.g. --source embase)", path=path)
    if fmt not in ("auto", *FORMATS):
        raise InputError(f"unknown format {fmt!r}: expected one of auto, {', '.join(FORMATS)}", path=path)
    notes: list[Issue] = []
    encoding = "utf-8"
    if fmt == "pubmed-xml" or (fmt == "auto" and _is_pubmed_xml(path, scan.head)):
        stream = _stream_xml(path, source, key, scan.xml_articles)
    else:
        text = TextFile(scan)
        head = text.head(200_000)
        if "\x00" in head[:4096]:
            raise InputError(
                "the file holds binary data (NUL bytes): is it a zipped or Word/Excel file? "
                "export RIS, MEDLINE, PubMed XML or CSV",
                path=path,
            )
        kind = detect_format(path, head) if fmt == "auto" else fmt
        del head
        notes, encoding = text.notes, text.encoding
        if kind == "pubmed-xml":
            stream = _stream_xml(path, source, key, scan.xml_articles)
        elif kind == "csv":
            from review.sources.csvfile import stream_csv

            stream = stream_csv(
                lambda: text.lines(keepends=True), source, key, path=path if fmt == "auto" else None
            )
        else:
            from review.sources.cochrane import stream_cochrane
            from review.sources.endnote_xml import stream_endnote_xml
            from review.sources.medline import stream_medline
            from review.sources.ris import stream_ris
            from review.sources.wos import stream_wos

            reader = {
                "ris": stream_ris,
                "medline": stream_medline,
                "wos": stream_wos,
                "cochrane": stream_cochrane,
                "endnote-xml": stream_endnote_xml,
            }[kind]
            stream = reader(text.lines, source, key)
    if stream.entries == 0:
        raise InputError(f"no {stream.format} entries found in the file", path=path)
    stream.encoding, stream.sha256 = encoding, scan.sha256
    stream.items = _finish(stream, _content_keys(stream.items, key), notes)
    return stream


def _is_pubmed_xml(path: Path, head: bytes) -> bool:
    """Whether a file is read by the PubMed XML parser: it starts with ``<`` and is not EndNote XML.

    An Ovid ``<1>`` export or a web page gets its own message (:func:`detect_format`).
    """
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith(b"<") and detect_format(path, start.decode("utf-8", "replace")) == "pubmed-xml"


def _finish(stream: RecordStream, items: Iterable[Item], notes: list[Issue]) -> Iterator[Item]:
    """Yield the items, then put the file's encoding notes first and check every entry is accounted for."""
    read = 0
    for item in items:
        read += 1
        yield item
    stream.issues[:0] = notes
    errors = sum(1 for i in stream.issues if i.severity == "error")
    unaccounted = stream.entries - read - errors
    if unaccounted > 0:  # a guard: every entry is a record or a named error
        stream.issues.append(
            Issue(None, "error", f"{unaccounted} entries were neither imported nor reported by the reader")
        )
