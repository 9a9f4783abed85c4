"""What every file reader shares: issues, results, decoding, line splitting and record keys.

Readers never drop an entry silently: each entry either becomes a :class:`~review.records.Record`
or is named in an :class:`Issue` of severity ``"error"`` (count in = records + errors).
"""

from __future__ import annotations

import codecs
import hashlib
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from tqdm import tqdm

from review.records import Record

__all__ = [
    "Issue",
    "ReadResult",
    "decode_bytes",
    "file_key",
    "progress",
    "sha256_bytes",
    "split_lines",
    "unique_ids",
]

Severity = Literal["warning", "error"]
T = TypeVar("T")

#: Files with fewer entries than this are read without a progress bar.
PROGRESS_FROM = 5000

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_BYTES = re.compile(rb"(\r\n|\r|\n)")


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem found while reading a file: the line it starts on, how bad, and what to do.

    ``severity`` is ``"warning"`` when the entry was still imported (e.g. it has no title) and
    ``"error"`` when an entry could not be imported at all.
    """

    line: int | None
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.message}"


@dataclass
class ReadResult:
    """Records read from one file, the problems found, and how the file was read.

    ``entries`` counts the entries the file holds (RIS ``TY`` lines, MEDLINE ``PMID-`` records,
    CSV data rows, PubMed XML articles); every entry is either in ``records`` or named by an
    error in ``issues``. ``positions[i]`` is the 1-based entry number of ``records[i]`` and
    ``lines[i]`` the line it starts on.
    """

    records: list[Record]
    issues: list[Issue]
    format: str
    entries: int = 0
    encoding: str = "utf-8"
    sha256: str = ""
    positions: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        """Issues for entries that could not be imported."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Issues for entries that were imported with a caveat."""
        return [i for i in self.issues if i.severity == "warning"]


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of a file's bytes: the identity of an import (same hash = same file)."""
    return hashlib.sha256(data).hexdigest()


def file_key(digest: str) -> str:
    """Short file identity used in fallback record keys (first 16 hex digits of the SHA-256)."""
    return digest[:16]


def decode_bytes(data: bytes) -> tuple[str, str, list[Issue]]:
    """Decode a file: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252, else Latin-1.

    Returns the text (without BOM), the encoding used and a warning when the file was not UTF-8,
    so a person can check accented names came through.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig", []
        except UnicodeDecodeError:
            data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    return _decode_by_line(data)


def _decode_by_line(data: bytes) -> tuple[str, str, list[Issue]]:
    """A file that is not all UTF-8: each line as UTF-8 when it is, else Windows-1252/Latin-1.

    Line by line, one stray byte (a pasted name) does not turn the file's valid UTF-8 accents
    into mojibake; a file written wholly in Windows-1252 comes out as it would decoded whole.
    """
    pieces = _LINE_BREAK_BYTES.split(data)  # text, break, text, break, ...
    out: list[str] = []
    legacy: list[int] = []
    used: set[str] = set()
    utf8_multibyte = False
    for i, piece in enumerate(pieces):
        if i % 2:
            out.append(piece.decode("ascii"))
            continue
        try:
            out.append(piece.decode("utf-8"))
            utf8_multibyte = utf8_multibyte or not piece.isascii()
        except UnicodeDecodeError:
            legacy.append(i // 2 + 1)
            try:
                out.append(piece.decode("cp1252"))
                used.add("cp1252")
            except UnicodeDecodeError:
                out.append(piece.decode("latin-1"))
                used.add("latin-1")
    old = "latin-1" if "latin-1" in used else "cp1252"
    encoding = f"utf-8+{old}" if utf8_multibyte else old
    shown = ", ".join(str(n) for n in legacy[:5]) + (", ..." if len(legacy) > 5 else "")
    note = Issue(
        legacy[0],
        "warning",
        f"{len(legacy)} of the file's lines are not UTF-8 (line {shown}); read as {old}: "
        "check accented characters",
    )
    return "".join(out), encoding, [note]


def split_lines(text: str) -> list[str]:
    """Split on Windows (CRLF), Unix (LF) and old Mac (CR) line ends, and only on those.

    ``str.splitlines`` also splits on form feeds and Unicode separators that occur inside
    abstracts, so it is not used.
    """
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def unique_ids(ids: Iterable[str | None]) -> tuple[list[str | None], Counter[str]]:
    """Keep ids that occur once; ids seen more than once in a file become None (not a key).

    Returns the filtered ids and the counts of repeated ones (for a warning).
    """
    ids = list(ids)
    counts = Counter(i for i in ids if i)
    repeated = Counter({k: v for k, v in counts.items() if v > 1})
    return [i if i and counts[i] == 1 else None for i in ids], repeated


def fallback_id(key: str, position: int) -> str:
    """Record key for an entry without a usable accession: file hash + entry number."""
    return f"{key}#{position}"


def progress(items: Iterable[T], total: int, what: str) -> Iterator[T]:
    """Iterate with a tqdm bar on stderr when there are many entries (long imports show progress)."""
    yield from tqdm(
        items,
        total=total,
        desc=what,
        unit="entries",
        file=sys.stderr,
        leave=False,
        disable=total < PROGRESS_FROM,
    )
