"""Readers of bibliographic files and replies: RIS, MEDLINE/.nbib, PubMed XML, CSV -> Records.

:func:`read_file` detects the format and returns a :class:`ReadResult`: the records, the
problems found (each naming its line), the format and how many entries the file holds. Every
entry either becomes a record or is named by an error: nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

from review.errors import InputError
from review.records import Record, normalise_text
from review.sources._common import (
    Issue,
    ReadResult,
    decode_bytes,
    fallback_id,
    file_key,
    sha256_bytes,
    split_lines,
    unique_ids,
)

__all__ = ["FORMATS", "Issue", "ReadResult", "detect_format", "read_file"]

#: Formats read_file understands (``fmt`` values besides "auto").
FORMATS: tuple[str, ...] = ("ris", "medline", "pubmed-xml", "csv", "wos")

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


def detect_format(path: str | Path, head: str) -> str:
    """The format of a file from its first characters (content first, then the extension).

    Raises
    ------
    InputError
        When neither the content nor the extension says what the file is.
    """
    text = head.lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "pubmed-xml"
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
        "cannot tell the format: expected RIS (TY  - lines), MEDLINE (PMID- lines), PubMed XML or CSV "
        "with a header row; give --format if it is one of them",
        path=path,
    )


def _read_xml(path: Path, data: bytes, source: str, key: str) -> ReadResult:
    from review.sources.pubmed_xml import iter_pubmed_xml  # the search stage's streaming parser

    entries = len(re.findall(rb"<(?:PubmedArticle|PubmedBookArticle)[\s>]", data))
    out = ReadResult(records=[], issues=[], format="pubmed-xml", entries=entries)
    try:
        for record in iter_pubmed_xml(path, name=str(path)):
            out.records.append(record.replace(source=source))
            out.positions.append(len(out.records))
            out.lines.append(0)
    except InputError as exc:
        if not out.records:
            raise  # not PubMed XML at all (an HTML page, another XML): one clear error
        out.issues.append(
            Issue(
                exc.line,
                "error",
                f"{exc}; the {max(entries - len(out.records), 0)} articles after the first "
                f"{len(out.records)} were not imported",
            )
        )
        out.entries = max(entries, len(out.records) + 1)
    else:
        missing = entries - len(out.records)
        if missing > 0:
            out.issues.append(
                Issue(None, "error", f"{missing} of {entries} articles had no PMID and were not imported")
            )
        out.entries = max(entries, len(out.records))
    # a PMID twice in one file: both articles are kept, keyed by file + position like other formats
    ids, repeated = unique_ids(r.source_id for r in out.records)
    for pmid, n in repeated.items():
        out.issues.append(Issue(None, "warning", f"PMID {pmid} occurs {n} times in the file; all kept"))
    for i, (record, kept) in enumerate(zip(out.records, ids, strict=True)):
        if kept is None:
            out.records[i] = record.replace(source_id=fallback_id(key, out.positions[i]))
        if not record.title:
            out.issues.append(Issue(None, "warning", f"article {i + 1} (PMID {record.pmid}) has no title"))
    return out


def _content_key(record: Record) -> str:
    """A key from what the entry says (not where it sits): the same entry keeps it in a corrected file."""
    fields = [
        normalise_text(record.title),
        "|".join(normalise_text(a) for a in record.authors),
        str(record.year or ""),
        normalise_text(record.journal),
        record.volume or "",
        record.issue or "",
        record.pages or "",
        record.doi or "",
        record.pmid or "",
        normalise_text(record.abstract)[:500],
        record.record_type or "",
    ]
    return "c:" + hashlib.sha1("\x1f".join(fields).encode("utf-8")).hexdigest()[:24]


def _content_keys(result: ReadResult, key: str) -> None:
    """Give entries with no database accession a content key instead of file hash + position.

    Keys tied to the file would make a corrected re-export (one bad entry fixed, so a new
    file hash) store every good entry a second time. Identical entries within one file stay
    distinct records through an occurrence number.
    """
    seen: Counter[str] = Counter()
    for i, record in enumerate(result.records):
        if not record.source_id.startswith((f"{key}#", f"{key}:")):
            continue
        base = _content_key(record)
        seen[base] += 1
        result.records[i] = record.replace(source_id=f"{base}#{seen[base]}")


def read_file(path: str | Path, source: str, fmt: str = "auto") -> ReadResult:
    """Read a bibliographic file into records, detecting its format and encoding.

    Parameters
    ----------
    path
        The export file (RIS, MEDLINE/.nbib, PubMed XML or CSV).
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
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    if not data.strip():
        raise InputError("the file is empty", path=path)
    digest = sha256_bytes(data)
    key = file_key(digest)
    source = source.strip()
    if not source:
        raise InputError("a source name is needed (e.g. --source embase)", path=path)
    if fmt not in ("auto", *FORMATS):
        raise InputError(f"unknown format {fmt!r}: expected one of auto, {', '.join(FORMATS)}", path=path)
    if fmt == "pubmed-xml" or (fmt == "auto" and data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")):
        result = _read_xml(path, data, source, key)
        result.sha256 = digest
    else:
        text, encoding, notes = decode_bytes(data)
        if "\x00" in text[:4096]:
            raise InputError(
                "the file holds binary data (NUL bytes): is it a zipped or Word/Excel file? "
                "export RIS, MEDLINE, PubMed XML or CSV",
                path=path,
            )
        kind = detect_format(path, text[:200_000]) if fmt == "auto" else fmt
        if kind == "pubmed-xml":
            result = _read_xml(path, data, source, key)
        elif kind == "csv":
            from review.sources.csvfile import read_csv

            del data  # only the text is needed now (large files)
            result = read_csv(text, source, key)
        else:
            from review.sources.medline import read_medline
            from review.sources.ris import read_ris
            from review.sources.wos import read_wos

            del data
            held = [split_lines(text)]
            del text  # only the lines are needed now
            reader = {"ris": read_ris, "medline": read_medline, "wos": read_wos}[kind]
            # hand the lines over without keeping a name for them here, so the reader can let
            # them go entry by entry (memory on large files)
            result = reader(held.pop(), source, key)
        result.issues[:0] = notes
        result.encoding = encoding
        result.sha256 = digest
    if result.entries == 0:
        raise InputError(f"no {result.format} entries found in the file", path=path)
    _content_keys(result, key)
    unaccounted = result.entries - len(result.records) - len(result.errors)
    if unaccounted > 0:  # a guard: every entry is a record or a named error
        result.issues.append(
            Issue(None, "error", f"{unaccounted} entries were neither imported nor reported by the reader")
        )
    return result
