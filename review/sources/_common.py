"""What every file reader shares: issues, results, decoding, line splitting and record keys.

Readers never drop an entry silently: each entry either becomes a :class:`~review.records.Record`
or is named in an :class:`Issue` of severity ``"error"`` (count in = records + errors).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple, TypeVar

from tqdm import tqdm

from review.records import Record

__all__ = [
    "FileScan",
    "Issue",
    "Item",
    "ReadResult",
    "RecordStream",
    "TextFile",
    "decode_bytes",
    "file_key",
    "progress",
    "scan_file",
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


class Item(NamedTuple):
    """One record as a reader yields it: the record, its 1-based entry number and first line."""

    record: Record
    position: int
    line: int


@dataclass
class RecordStream:
    """The records of one file as they are parsed, without holding them all (large files).

    Iterate it once to get :class:`Item` s. ``entries``, ``format`` and the file's identity are
    known before the first record; ``issues`` grows while reading and is complete (sorted by
    line) once the stream is exhausted, as is ``entries`` for PubMed XML cut off part way.
    """

    items: Iterator[Item]
    issues: list[Issue]
    format: str
    entries: int = 0
    encoding: str = "utf-8"
    sha256: str = ""

    def __iter__(self) -> Iterator[Item]:
        return self.items

    def collect(self) -> ReadResult:
        """Read the whole stream into a :class:`ReadResult` (small files, tests, dedup-file)."""
        out = ReadResult(records=[], issues=self.issues, format=self.format)
        for record, position, line in self.items:
            out.records.append(record)
            out.positions.append(position)
            out.lines.append(line)
        out.entries, out.encoding, out.sha256 = self.entries, self.encoding, self.sha256
        return out


#: Bytes read at a time when hashing and checking a file (memory does not grow with the file).
CHUNK = 1 << 20
_XML_ARTICLE = re.compile(rb"<(?:PubmedArticle|PubmedBookArticle)[\s>]")
_XML_TAIL = 24  # longer than any _XML_ARTICLE match


@dataclass(frozen=True)
class FileScan:
    """What one streaming pass over a file's bytes tells: its identity and how to decode it.

    ``encoding`` is ``utf-8``, ``utf-8-sig``, ``utf-16`` (with a BOM) or ``utf-16-le``/``-be``
    (without) when the whole file decodes so, else
    ``legacy`` (each line as UTF-8 when it is, else Windows-1252 / Latin-1; see
    :func:`decode_bytes`); ``bom`` is set when a UTF-8 BOM precedes legacy text.
    """

    path: Path
    sha256: str
    size: int
    head: bytes
    blank: bool
    encoding: str
    bom: bool
    xml_articles: int


def scan_file(path: str | Path) -> FileScan:
    """Hash a file and find its encoding in one pass of 1 MB chunks (no copy of the file kept).

    Raises
    ------
    InputError
        The file cannot be read.
    """
    from review.errors import InputError

    path = Path(path)
    digest = hashlib.sha256()
    size = 0
    head = b""
    blank = True
    articles = 0
    tail = b""
    decoder: codecs.IncrementalDecoder | None = None
    encoding = "utf-8"
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                if not head:
                    head = chunk[:65536]
                    if chunk.startswith(codecs.BOM_UTF8):
                        encoding, chunk = "utf-8-sig", chunk[len(codecs.BOM_UTF8) :]
                    elif chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                        encoding = "utf-16"
                    else:
                        encoding = _utf16_without_bom(head) or encoding
                    decoder = codecs.getincrementaldecoder("utf-8" if encoding == "utf-8-sig" else encoding)()
                size += len(chunk)
                blank = blank and not chunk.strip()
                if decoder is not None:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        decoder = None
                buf = tail + chunk
                cut = max(len(buf) - _XML_TAIL, 0)
                articles += sum(1 for m in _XML_ARTICLE.finditer(buf) if m.start() < cut)
                tail = buf[cut:]
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    articles += len(_XML_ARTICLE.findall(tail))
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            decoder = None
    bom = encoding == "utf-8-sig"
    if decoder is None:
        # a UTF-16 file that does not decode is read line by line like any other (as before)
        encoding = "legacy"
    return FileScan(path, digest.hexdigest(), size, head, blank, encoding, bom, articles)


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le`` / ``utf-16-be`` when the first bytes are text with a NUL beside every
    character (UTF-16 saved without its byte-order mark), else None."""
    sample = head[:4096]
    if len(sample) < 8:
        return None
    odd, even = sample[1::2], sample[0::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


class TextFile:
    """A text file read line by line, as often as a reader needs, decoded as :func:`decode_bytes` would.

    Lines are split on CRLF, LF and CR only (as :func:`split_lines`). For a file that is not all
    UTF-8, one pass at the start counts the lines that are not, for the warning in ``notes`` and
    the ``encoding`` name (``cp1252``, ``latin-1`` or ``utf-8+cp1252``...).
    """

    def __init__(self, scan: FileScan) -> None:
        self.scan = scan
        self.encoding = scan.encoding
        self.notes: list[Issue] = []
        if scan.encoding == "legacy":
            self._legacy_stats()

    def _raw(self) -> io.TextIOWrapper:
        codec = "latin-1" if self.scan.encoding == "legacy" else self.scan.encoding
        return io.TextIOWrapper(self.scan.path.open("rb"), encoding=codec, newline="")

    def lines(self, keepends: bool = False) -> Iterator[str]:
        """The file's lines (without their line ends unless ``keepends``)."""
        legacy = self.scan.encoding == "legacy"
        with self._raw() as fh:
            first = True
            for raw in fh:
                if first:
                    first = False
                    if self.scan.bom and raw.startswith("\xef\xbb\xbf"):
                        raw = raw[3:]
                body = raw.rstrip("\r\n")
                end = raw[len(body) :] if keepends else ""
                if legacy:
                    body = _decode_line(body.encode("latin-1"))[0]
                if body.startswith("\ufeff"):  # files joined with cat: each one's BOM starts a line
                    body = body.lstrip("\ufeff")
                yield body + end

    def head(self, limit: int) -> str:
        """The first ``limit`` characters or so (whole lines, with their line ends)."""
        parts: list[str] = []
        size = 0
        for line in self.lines(keepends=True):
            parts.append(line)
            size += len(line)
            if size >= limit:
                break
        return "".join(parts)[:limit]

    def _legacy_stats(self) -> None:
        legacy: list[int] = []
        used: set[str] = set()
        utf8_multibyte = False
        with self._raw() as fh:
            for number, raw in enumerate(fh, 1):
                if number == 1 and self.scan.bom and raw.startswith("\xef\xbb\xbf"):
                    raw = raw[3:]
                data = raw.rstrip("\r\n").encode("latin-1")
                codec = _decode_line(data)[1]
                if codec == "utf-8":
                    utf8_multibyte = utf8_multibyte or not data.isascii()
                else:
                    legacy.append(number)
                    used.add(codec)
        self.encoding, self.notes = _legacy_note(legacy, used, utf8_multibyte)


def _decode_line(data: bytes) -> tuple[str, str]:
    """One line's bytes as UTF-8 when they are, else Windows-1252, else Latin-1 (and which)."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _legacy_note(legacy: list[int], used: set[str], utf8_multibyte: bool) -> tuple[str, list[Issue]]:
    """The encoding name and the warning for a file whose ``legacy`` lines are not UTF-8."""
    if not legacy:  # cannot happen for a file that failed to decode, but never say "0 lines"
        return "utf-8", []
    old = "latin-1" if "latin-1" in used else "cp1252"
    encoding = f"utf-8+{old}" if utf8_multibyte else old
    shown = ", ".join(str(n) for n in legacy[:5]) + (", ..." if len(legacy) > 5 else "")
    note = Issue(
        legacy[0],
        "warning",
        f"{len(legacy)} of the file's lines are not UTF-8 (line {shown}); read as {old}: "
        "check accented characters",
    )
    return encoding, [note]


def lines_of(lines: Iterable[str]) -> Callable[[], Iterator[str]]:
    """A line source for the readers from lines already in memory (tests, small texts)."""
    held = lines if isinstance(lines, list | tuple) else list(lines)
    return lambda: iter(held)


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
        text, codec = _decode_line(piece)
        out.append(text)
        if codec == "utf-8":
            utf8_multibyte = utf8_multibyte or not piece.isascii()
        else:
            legacy.append(i // 2 + 1)
            used.add(codec)
    encoding, notes = _legacy_note(legacy, used, utf8_multibyte)
    return "".join(out), encoding, notes


def split_lines(text: str) -> list[str]:
    """Split on Windows (CRLF), Unix (LF) and old Mac (CR) line ends, and only on those.

    ``str.splitlines`` also splits on form feeds and Unicode separators that occur inside
    abstracts, so it is not used.
    """
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def unique_ids(ids: Iterable[str | None], issues: list[Issue], what: str) -> list[str | None]:
    """Keep ids that occur once; ids seen more than once in a file become None (not a key),
    with a warning naming each (``what``: the id's name in this format, e.g. 'PMID')."""
    ids = list(ids)
    counts = Counter(i for i in ids if i)
    for value, n in counts.items():
        if n > 1:
            issues.append(Issue(None, "warning", f"{what} {value!r} occurs {n} times in the file; all kept"))
    return [i if i and counts[i] == 1 else None for i in ids]


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
