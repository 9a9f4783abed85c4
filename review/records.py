"""The one bibliographic record model used by every stage, and its normalisers.

A :class:`Record` is what a source (PubMed reply, RIS/MEDLINE/CSV export) yields and what the
store keeps. ``COLUMNS`` names the fields and says what each means; the store's ``records``
table, CSV exports and DataFrames all use these names.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "COLUMNS",
    "ILLUSTRATIVE_LABEL",
    "LIST_COLUMNS",
    "Record",
    "is_illustrative_note",
    "normalise_doi",
    "normalise_pmid",
    "normalise_text",
    "parse_year",
    "record_note",
    "record_notes",
]

#: Record fields in order, with their meaning. List-valued fields are tuples of strings.
COLUMNS: dict[str, str] = {
    "source": "database or file the record came from (e.g. 'pubmed', 'embase')",
    "source_id": "the record's id within its source (PMID for PubMed, accession or row id)",
    "pmid": "PubMed id, digits only",
    "doi": "DOI, lower case, without 'https://doi.org/' or 'doi:'",
    "title": "article title",
    "authors": "authors as 'Family, Given' strings, in order",
    "year": "publication year (int)",
    "journal": "journal or book title",
    "volume": "volume",
    "issue": "issue",
    "pages": "pages as printed, e.g. '304-11'",
    "abstract": "abstract; structured sections as 'LABEL: text' paragraphs",
    "keywords": "author keywords and MeSH headings",
    "publication_types": "publication types (e.g. 'Randomized Controlled Trial')",
    "language": "language of the article",
    "issn": "ISSN or ISBN",
    "url": "link to the record",
    "record_type": "kind of reference (RIS TY, e.g. 'JOUR', 'CONF')",
}
LIST_COLUMNS: frozenset[str] = frozenset({"authors", "keywords", "publication_types"})

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|doi\s+)", re.IGNORECASE)
_DOI_SHAPE = re.compile(r"10\.\d{4,9}/[^\s\"]+")  # a quote ends it: no DOI holds one
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")


def normalise_doi(value: str | None) -> str | None:
    """DOI in canonical form: lower case, no resolver prefix, no surrounding space or dot.

    DOIs are case-insensitive (DOI Handbook 2.4), so lower case is lossless.
    Returns None for empty input or text that holds no DOI.
    """
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = _DOI_PREFIX.sub("", text).strip()
    match = _DOI_SHAPE.search(text)
    if not match:
        return None
    doi = match.group(0).rstrip(".,;)]}").lower()
    return doi or None


def normalise_pmid(value: str | int | None) -> str | None:
    """PMID as a string of digits (drops 'PMID:', '[pmid]', whitespace); None if absent."""
    if value is None:
        return None
    text = str(value).strip()
    match = re.search(r"\d+", text)
    if not match or int(match.group(0)) == 0:
        return None
    return str(int(match.group(0)))


def parse_year(value: str | int | None) -> int | None:
    """Four-digit year from text such as '2009', '2009 Dec', 'Winter 1998-1999'."""
    if value is None:
        return None
    if isinstance(value, int):
        return value if 1500 <= value <= 2199 else None
    match = _YEAR.search(str(value))
    return int(match.group(1)) if match else None


def normalise_text(value: str | None) -> str:
    """Lower-case ASCII words for matching: accents folded, punctuation and HTML tags dropped."""
    if not value:
        return ""
    text = re.sub(r"<[^>]+>", " ", value)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^0-9a-zA-Z]+", " ", text).lower()
    return " ".join(text.split())


#: The label shown beside a record whose notes say it is made up or not verified.
ILLUSTRATIVE_LABEL = "ILLUSTRATIVE / NOT VERIFIED"
_ILLUSTRATIVE = re.compile(
    r"illustrative|not\s+verified|unverified|made[- ]up|not\s+a\s+real\s+(?:publication|trial|record)",
    re.IGNORECASE,
)


def record_notes(extra: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The notes a source kept with a record, in order, without repeats.

    Where the readers keep them: ``extra['notes']`` (PubMed XML ``<GeneralNote>``, a CSV
    ``notes`` column; a string or a list) and ``extra['ris']['notes']`` (RIS ``N1``).
    """
    if not extra:
        return ()
    found: list[Any] = []
    for holder in (extra, extra.get("ris")):
        if isinstance(holder, Mapping):
            value = holder.get("notes")
            if isinstance(value, list | tuple):
                found += list(value)
            elif value is not None:
                found.append(value)
    return tuple(dict.fromkeys(c for c in (_clean(v) for v in found) if c is not None))


def is_illustrative_note(note: str | None) -> bool:
    """Whether a note says its record is made up, or its fields are illustrative / not verified."""
    return bool(note) and _ILLUSTRATIVE.search(str(note)) is not None


def record_note(notes: Iterable[str | None]) -> str | None:
    """What to show beside a record: its notes, led by ``ILLUSTRATIVE_LABEL`` when one says so.

    Everywhere a record is shown to a person (screening and conflict workbooks, extraction
    citations), a made-up or unverified record must carry that label (team standard: anything
    not verified is labelled illustrative wherever shown).
    """
    kept = [n for n in (_clean(v) for v in notes) if n is not None]
    if not kept:
        return None
    text = " | ".join(dict.fromkeys(kept))
    if any(is_illustrative_note(n) for n in kept):
        return f"{ILLUSTRATIVE_LABEL}: {text}"
    return text


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _clean_list(values: Iterable[Any] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    out = []
    for v in values:
        c = _clean(v)
        if c is not None:
            out.append(c)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Record:
    """One bibliographic record as a source gave it, normalised (see ``COLUMNS``)."""

    source: str
    source_id: str
    pmid: str | None = None
    doi: str | None = None
    title: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    abstract: str | None = None
    keywords: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    language: str | None = None
    issn: str | None = None
    url: str | None = None
    record_type: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "source", str(self.source).strip())
        set_(self, "source_id", str(self.source_id).strip())
        set_(self, "pmid", normalise_pmid(self.pmid))
        set_(self, "doi", normalise_doi(self.doi))
        set_(self, "year", parse_year(self.year))
        for name in (
            "title",
            "journal",
            "volume",
            "issue",
            "pages",
            "abstract",
            "language",
            "issn",
            "url",
            "record_type",
        ):
            set_(self, name, _clean(getattr(self, name)))
        for name in LIST_COLUMNS:
            set_(self, name, _clean_list(getattr(self, name)))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Record:
        """Build a record from a mapping with ``COLUMNS`` keys (unknown keys go to ``extra``)."""
        known = {k: data[k] for k in COLUMNS if k in data}
        extra = {k: v for k, v in data.items() if k not in COLUMNS and k != "extra"}
        extra.update(data.get("extra") or {})
        return cls(**known, extra=extra)

    def as_dict(self) -> dict[str, Any]:
        """The record's ``COLUMNS`` as a plain dict (lists as tuples; no ``extra``)."""
        return {name: getattr(self, name) for name in COLUMNS}

    def replace(self, **changes: Any) -> Record:
        """A copy with some fields changed (normalised again)."""
        return dataclasses.replace(self, **changes)

    @property
    def completeness(self) -> int:
        """How many fields hold a value: the dedup stage keeps the most complete member."""
        return sum(1 for name in COLUMNS if getattr(self, name) not in (None, ()))
