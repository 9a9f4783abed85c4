"""Hypothesis strategies shared by the test suite (pattern: attrs ``tests/strategies.py``).

``records()`` makes :class:`~review.records.Record` values as an import produces them: text
fields are single lines without surrounding space, abstracts may have several lines, DOIs and
PMIDs are in normal form and the RIS type is one rispy knows.
"""

from __future__ import annotations

from hypothesis import strategies as st

from review.records import Record, normalise_doi
from review.sources.ris import RIS_TYPES

__all__ = ["abstracts", "dois", "one_line", "pmids", "records"]

_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Co", "Cn"))


def _stripped(text: str) -> str:
    return text.strip()


#: One line of text with no surrounding white space (what a reader gives for a field).
one_line = st.text(_CHARS, min_size=1, max_size=40).map(_stripped).filter(bool)

#: An abstract: one to four non-empty stripped lines joined by line breaks.
abstracts = st.lists(one_line, min_size=1, max_size=4).map("\n".join)

#: A DOI in the form ``normalise_doi`` returns.
dois = st.from_regex(r"10\.[0-9]{4,6}/[a-z0-9][a-z0-9./_-]{0,20}[a-z0-9]", fullmatch=True).filter(
    lambda d: normalise_doi(d) == d
)

#: A PubMed id (digits, no leading zero).
pmids = st.integers(min_value=1, max_value=99_999_999).map(str)


def _optional(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.none() | strategy


def _no_hidden_ids(record: Record) -> bool:
    """False when a field would be read back as a DOI/PMID the record does not have.

    Readers take a DOI from a link or a PMID from a PubMed link when the record has none, so
    such records are not fixed points of import.
    """
    if any(normalise_doi(t) for t in record.publication_types):
        return False
    url = record.url or ""
    if record.doi is None and "doi" in url.lower() and normalise_doi(url):
        return False
    return not (record.pmid is None and ("pubmed" in url.lower() or "pmid" in record.source_id.lower()))


@st.composite
def _records(draw: st.DrawFn, source: str) -> Record:
    return Record(
        source=source,
        source_id=draw(st.from_regex(r"[A-Za-z0-9:._-]{1,20}", fullmatch=True)),
        pmid=draw(_optional(pmids)),
        doi=draw(_optional(dois)),
        title=draw(_optional(one_line)),
        authors=tuple(draw(st.lists(one_line, max_size=4))),
        year=draw(st.none() | st.integers(min_value=1500, max_value=2199)),
        journal=draw(_optional(one_line)),
        volume=draw(_optional(one_line)),
        issue=draw(_optional(one_line)),
        pages=draw(_optional(one_line)),
        abstract=draw(_optional(abstracts)),
        keywords=tuple(draw(st.lists(one_line, max_size=4))),
        publication_types=tuple(draw(st.lists(one_line, max_size=2))),
        language=draw(_optional(one_line)),
        issn=draw(_optional(one_line)),
        url=draw(_optional(one_line)),
        record_type=draw(st.sampled_from(sorted(RIS_TYPES))),
    )


def records(source: str = "test") -> st.SearchStrategy[Record]:
    """A record as an import produces it (see the module docstring)."""
    return _records(source).filter(_no_hidden_ids)
