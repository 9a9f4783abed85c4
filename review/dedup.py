"""Find records that are the same publication: exact keys, then blocked fuzzy matching.

The algorithm follows what a bibliographer does by hand (Rathbone et al. 2015, Syst Rev 4:6;
Hair et al. 2023, BMC Biol 21:189 ASySD; Wagner's bib-dedupe; duplicate definition after
Rathbone: the same bibliographic record however reported, including corrected versions and
Cochrane review updates, never a comment, a conference abstract or a reprint in another journal):

1. Normalise each record once (title without language tags, database notes, HTML or case;
   author family names; journal words for abbreviation-aware comparison; first/last page with
   '221-8' expanded to '221-228', e-locators, page counts and Excel-mangled ranges recognised;
   volume, issue and supplement numbers; DOI; PMID; Cochrane review number) and flag what kind
   of item it is (erratum, comment or reply, retraction, conference abstract/supplement,
   thesis).
2. Generate candidate pairs by BLOCKING, never all pairs: same DOI, PMID or Cochrane number,
   same title start, same title end, same (volume, first page, year), same (first page, year,
   first author), same (first author, year, longest title word). Blocks over ``MAX_BLOCK``
   records are compared only within a title-sorted window, so the cost grows near-linearly.
3. Score each candidate's titles with rapidfuzz (``process.cpdist``) and apply the vetoes that
   keep different publications apart (:func:`_conflict`): different DOIs or PMIDs, another
   kind of item, years more than one apart, different volume, issue or first page (after every
   page convention is tried), a conference abstract against a multi-page article. Then weigh
   the evidence (:func:`compare`): title, authors, year, journal, volume and pages. One article
   that its journal printed twice (same title, authors, abstract and length, years at most one
   apart; :func:`_reprinted`) is one publication despite its second DOI and volume.
4. Merge 'same' pairs best first with a union-find that refuses any merge that would put two
   conflicting records in one group (so A~B, B~C cannot chain two papers together).
   People's answers come first: a 'same' answer merges, a 'different' answer never merges.
5. Keep one record per group: PubMed's first, then the most complete.

Records that belong to another record's report join its group but are never the kept record
(:func:`_attaches`; their vetoes against the rest of the group are waived, the rest of the group
is still checked against the record they belong to):

- a correction notice (erratum, correction, corrigendum) that EXPLICITLY names its paper -- its
  title cites the paper's volume and first page ('... (vol 360, pg 542, 2009)', Embase's
  '(N Engl J Med (2009) 360 (542-544))', '[J. Strategic Inf. Syst. 21(3) (2012) 182-200]') or
  is 'Erratum/Correction/Corrigendum to <the paper's exact title>' -- in the same journal, with
  an author in common, printed after the paper in the same volume (later issue, or a page past
  the paper's last). In PRISMA terms it is part of that report, never a separate study. The
  same notice printed in a later volume (or where its place cannot be told) is only an
  'uncertain' pair for a person: a title alone cannot tell which of two same-titled papers of a
  journal it corrects. A notice that merely shares a title ('Erratum', a record with no
  correction wording) stays apart;
- the letter and the replies printed in one Embase '(multiple letters)' record: same journal,
  year, volume, issue and title, the letter on the record's first page, a reply on a later page
  of its range, all their authors among the record's. The letter and its reply are still never
  the same publication; the record that covers both is the one kept.

Pairs with good but not conclusive evidence are returned as 'uncertain' for a person to judge.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import multiprocessing as mp
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from review.errors import InputError
from review.records import Record, normalise_doi, normalise_pmid, parse_year

__all__ = [
    "DedupOutcome",
    "Pair",
    "Prepared",
    "candidate_pairs",
    "compare",
    "compare_pages",
    "correction_notice",
    "find_duplicates",
    "journal_match",
    "normal_title",
    "page_range",
    "prepare",
    "title_kind",
]

Verdict = Literal["same", "uncertain", "different"]

#: Largest block compared all-pairs; bigger blocks are compared within a sorted window.
MAX_BLOCK = 40
#: Window (neighbours each side) used inside big blocks.
WINDOW = 8

_GREEK = {
    "α": " alpha ",
    "β": " beta ",
    "γ": " gamma ",
    "δ": " delta ",
    "ε": " epsilon ",
    "κ": " kappa ",
    "λ": " lambda ",
    "μ": " mu ",
    "σ": " sigma ",
    "τ": " tau ",
    "ω": " omega ",
}
_GREEK_RE = re.compile("|".join(_GREEK))
_TAGS = re.compile(r"<[^>]+>")
_NONWORD = re.compile(r"[\W_]+", re.UNICODE)
# a trailing bracketed note such as "[Chinese]", "[Article in German]", "[see comments]"
_TRAILING_NOTE = re.compile(r"\s*[\[(][^\[\]()]{1,40}[\])]\s*\.?\s*$")
_LANG_NOTE = re.compile(
    r"[\[(]\s*(?:article\s+in\s+|in\s+)?(?:chinese|japanese|german|french|spanish|italian|russian|"
    r"polish|portuguese|dutch|czech|korean|hungarian|turkish|danish|swedish|norwegian|finnish|"
    r"hebrew|croatian|serbian|slovak|greek|persian|english\s+abstract)[^\]\)]*[\])]",
    re.IGNORECASE,
)
# notes databases append to a title: "[Erratum appears in ...]", "[see comments]", "[Retraction in ...]"
_NOTE = re.compile(
    r"\.?\s*\[(?:erratum|errata|comment|comments|retraction|retracted|see|corrected|published erratum|update|"
    r"reprint|expression of concern|summary for patients|review\]|\d+\s*refs?\b)[^\]]*(?:\]|$)",
    re.IGNORECASE,
)
# Web of Science's correction records end with "(vol 142, pg 310, 2003)"
# and Embase's with "(New England Journal of Medicine (2009) 360 (542-544))"
_WOS_CORRECTION = re.compile(
    r"\(\s*vol\.?\s*\d+\s*,?\s*(?:pg|p)\.?\s*[a-z]*\d+|\([^()]{3,}\(\s*(?:19|20)\d\d\s*\)\s*\d+\s*\(",
    re.IGNORECASE,
)
_HAS_REPLY = re.compile(r"reply|letters", re.IGNORECASE)
# every title_kind pattern needs one of these (a cheap first test; "re:" is tested apart)
_KIND_WORDS = (
    "errat",
    "corrig",
    "correct",
    "retract",
    "withdrawn",
    "concern",
    "duplicate",
    "reply",
    "response",
    "comment",
    "letter",
    "vol",
    "(19",
    "(20",
    "( 19",
    "( 20",
)
# what databases add to a correspondence title: "- Reply", "(multiple letters)"
_REPLY_TAIL = re.compile(
    r"[-:]\s*(?:author'?s'?\s+|authors'?\s+)?reply\s*\.?$|\(multiple letters\)", re.IGNORECASE
)
_STOP = frozenset(
    {"the", "a", "an", "of", "and", "in", "on", "for", "to", "with", "de", "la", "le", "der", "und"}
)
_JOURNAL_STOP = frozenset({"the", "of", "and", "in", "for", "on", "de", "la", "der", "und", "journal", "j"})

# What kind of item a title announces. A bibliographer never merges one kind with another.
_KIND_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "erratum",
        re.compile(
            r"^\s*(?:erratum|errata|corrigendum|correction|corrections)\b|\b(?:erratum|errata|corrigendum)\b"
            r"|\bcorrection\s+(?:to|of)\s*[:\-\"']|^\s*notice of (?:correction|duplicate)",
            re.IGNORECASE,
        ),
    ),
    # Embase's record of a letter printed together with its replies (one citation, all authors)
    ("letters", re.compile(r"\(multiple letters\)", re.IGNORECASE)),
    (
        "reply",
        re.compile(r"[-:]\s*(?:author'?s'?\s+|authors'?\s+)?reply\s*\.?$", re.IGNORECASE),
    ),
    (
        "retraction",
        re.compile(
            r"^\s*(?:retraction|retracted|withdrawn|notice of retraction)\b|\bexpression of concern\b", re.I
        ),
    ),
    (
        "reply",
        re.compile(
            r"^\s*(?:re\s*:|reply\b|in reply\b|response\s*:|comments?\s*(?:on\b|:)|commentary\s*(?:on\b|:)|"
            r"letter\s*(?:to\b|:)|editorial comment)|\b(?:author'?s'? reply|authors? response|"
            r"reply to|in reply to|response to (?:the )?(?:letter|comment|commentary|editorial|correspondence)|"
            r"comment on|commentary on)\b",
            re.IGNORECASE,
        ),
    ),
)
# A correction notice that names its paper by title: "Erratum to - <title>", "Corrigendum to
# "<title>"", "Correction: <title>", "ERRATUM - <title>" (not "Correction of ...", a paper's title)
_NOTICE_PREFIX = re.compile(
    r"^\s*(?:notice\s+of\s+)?(?:errat(?:um|a)|corrigend(?:um|a)|corrections?)\s*"
    r"(?:(?:to|for)\s*[:\-\u2013\u2014\"\u201c'\u2018]*\s+|[:\-\u2013\u2014\"\u201c'\u2018]+\s*)",
    re.IGNORECASE,
)
# ... or by citation: Web of Science "(vol 360, pg 542, 2009)", Embase "(New England Journal of
# Medicine (2009) 360 (542-544))", Elsevier "[J. Strategic Inf. Syst. 21(3) (2012) 182-200]"
_CITED = (
    re.compile(r"\(\s*vol\.?\s*(?P<vol>\d+)\s*,?\s*(?:pg|p)\.?\s*(?P<page>[a-z]*\d+)", re.IGNORECASE),
    re.compile(
        r"\([^()]{3,}\(\s*[^()]*?(?:19|20)\d\d\s*\)\s*(?P<vol>\d+)\s*(?:,\s*\d+\s*)?\(\s*(?P<page>[a-z]*\d+)",
        re.IGNORECASE,
    ),
    re.compile(
        r"\[[^\[\]]*?(?P<vol>\d+)\s*(?:\(\s*\d+\s*\)\s*)?\(\s*(?:19|20)\d\d\s*\)\s*,?\s*(?P<page>[a-z]*\d+)",
        re.IGNORECASE,
    ),
)
_COCHRANE_ID = re.compile(r"\b(CD\d{6})\b", re.IGNORECASE)
_COCHRANE_PUB = re.compile(r"(?<=14651858\.cd\d{6})\.pub\d+$")
_EXCEL_DATE = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.IGNORECASE)
#: Shortest normalised abstract whose fingerprint identifies a text (shorter ones are boilerplate).
_ABSTRACT_MIN = 200
_JOURNAL_WORD = re.compile(r"\b(?:journal|zeitschrift|revue|revista|rivista|tijdschrift)\b", re.IGNORECASE)
_PAGE_COUNT = re.compile(r"\d+\s*(?:p|pp|pages?)\.?", re.IGNORECASE)
_PAGE_NUM = re.compile(r"[A-Za-z]*\d+[A-Za-z]?")


_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _fold(text: str) -> str:
    """Lower-case words: HTML unescaped, tags dropped, Greek letters named, accents folded."""
    if "&" in text:
        text = html.unescape(html.unescape(text))
    if "<" in text:
        text = _TAGS.sub(" ", text)
    if not text.isascii():
        text = _GREEK_RE.sub(lambda m: _GREEK[m.group(0)], text)
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(_NONWORD.sub(" ", text.lower()).split())


def normal_title(title: str | None) -> str:
    """Title for matching: language notes such as '[Chinese]' and a short trailing note removed."""
    if not title:
        return ""
    text = title
    if "[" in text or "(" in text:
        text = _NOTE.sub(" ", text)
        text = _LANG_NOTE.sub(" ", text)
        if text.rstrip(" .").endswith((")", "]")):
            stripped = _TRAILING_NOTE.sub("", text)
            if len(stripped) >= 20:
                text = stripped
    if _HAS_REPLY.search(text):
        text = _REPLY_TAIL.sub(" ", text)
    return _fold(text)


def title_kind(title: str | None) -> str:
    """'erratum', 'retraction', 'reply' or '' (an ordinary paper) from the title's wording."""
    if not title:
        return ""
    low = title.lower()
    if not any(w in low for w in _KIND_WORDS) and not low.lstrip().startswith("re"):
        return ""
    if _WOS_CORRECTION.search(title):
        return "erratum"
    title = _NOTE.sub(" ", title)
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(title):
            return kind
    return ""


def correction_notice(title: str | None) -> tuple[str, str, str]:
    """(normalised title of the paper, cited volume, cited first page) of a correction notice
    that names its paper explicitly, by a citation ('... (vol 360, pg 542, 2009)') or as
    'Erratum/Correction/Corrigendum to <title>'; ('', '', '') for any other title.

    Only such an explicit link lets a notice join its paper's group (see :func:`compare`).
    """
    if not title or title_kind(title) != "erratum":
        return "", "", ""
    text = _NOTE.sub(" ", title)
    volume = page = ""
    cut = len(text)
    for pattern in _CITED:
        found = pattern.search(text)
        if found:
            volume, page = str(int(found.group("vol"))), re.sub(r"\D", "", found.group("page"))
            page = str(int(page)) if page else ""
            cut = min(cut, found.start())
    prefix = _NOTICE_PREFIX.match(text)
    if not (volume or prefix):
        return "", "", ""  # 'Erratum', 'Correction of ...': no paper named
    body = text[prefix.end() if prefix else 0 : cut]
    opened: list[int] = []
    for i, ch in enumerate(body):  # a citation cut off by a database: '... (Proceedings of (Januar'
        if ch == "(":
            opened.append(i)
        elif ch == ")" and opened:
            opened.pop()
    if opened:
        body = body[: opened[0]]
    paper = normal_title(body)
    return (paper, volume, page) if len(paper.split()) >= 3 else ("", "", "")


def page_range(pages: str | None) -> tuple[str, str]:
    """First and last page as strings of digits (with prefix letters), '221-8' -> ('221', '228').

    MEDLINE prints ranges abbreviated ('221-8', '1297-306'); other databases print them in full
    ('221-228'). Expanding the end page makes both forms equal. An e-locator ('e1234') is kept
    as the first page.
    """
    if not pages:
        return "", ""
    text = str(pages).strip().strip("\"'")
    if _EXCEL_DATE.search(text):
        return "", ""  # '01-Jun': Excel turned the range 1-6 into a date; the pages are lost
    if _PAGE_COUNT.fullmatch(text):
        return "", ""  # '215 p': a page count (theses, books), not a page number
    nums = _PAGE_NUM.findall(text)
    if not nums:
        return "", ""
    if not re.match(r"[A-Za-z]{0,4}\d", text):
        # garbled start ('Suppl-29', 't-8'): only the end page can be trusted
        return "", re.sub(r"\D", "", nums[-1].lower()) if len(nums) >= 1 else ""
    first = nums[0].lower()
    last = nums[1].lower() if len(nums) > 1 else ""
    fd = re.sub(r"\D", "", first)
    ld = re.sub(r"\D", "", last)
    if fd and ld and len(ld) < len(fd):
        ld = fd[: len(fd) - len(ld)] + ld
    prefix = re.sub(r"\d.*", "", first)
    return prefix + fd if fd else first, ld


def _digits(value: str | None) -> str:
    if not value:
        return ""
    match = re.search(r"\d+", str(value))
    return str(int(match.group(0))) if match else ""


_ISSUE = re.compile(r"\s*(?:no\.?\s*|issue\s*)?(\d{1,4})(?:\s*[-/]\s*\d{1,4})?\s*", re.IGNORECASE)


def _issue(value: Any) -> str:
    """An issue number ('3', 'No. 3', '3-4' -> '3'); '' for anything else (e-locators, notes)."""
    if value is None:
        return ""
    match = _ISSUE.fullmatch(str(value))
    return str(int(match.group(1))) if match else ""


_INITIALS_ONLY = re.compile(r"^[a-z]{1,3}$")


def _surnames(authors: Sequence[str] | str | None) -> tuple[str, ...]:
    """Author family names in order (folded), from 'Family, G.' / 'G. Family' / 'Family G' forms."""
    if not authors:
        return ()
    if isinstance(authors, str):
        parts: Iterable[str] = re.split(r";|\s+and\s+|\n", authors)
    else:
        parts = authors
    out: list[str] = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if "," in part:
            family = part.split(",", 1)[0]
            words = _fold(family).split()
        else:
            words = [w for w in _fold(part).split() if not _INITIALS_ONLY.match(w) or len(w) > 3]
            # 'Adeli K' and 'K Adeli': the long word is the family name
            words = [w for w in words if len(w) > 1] or _fold(part).split()[:1]
        if words:
            out.append(" ".join(words))
    return tuple(out)


def _journal_words(journal: str | None) -> tuple[str, ...]:
    if not journal:
        return ()
    text = journal.split("=")[0]
    return tuple(w for w in _fold(text).split() if w not in _JOURNAL_STOP)


def _abbreviates(short: str, word: str) -> bool:
    """ISO 4 style: 'curr' ~ 'current', 'dtsch' ~ 'deutsche' (same first letter, the rest in order)."""
    if word.startswith(short):
        return True
    if len(short) < 3 or short[0] != word[0] or len(short) >= len(word):
        return False
    it = iter(word[1:])
    return all(ch in it for ch in short[1:])


def journal_match(a: Sequence[str], b: Sequence[str]) -> float:
    """1.0 when one journal name abbreviates the other ('Curr Opin Lipidol' ~ 'Current opinion
    in lipidology'), else the rapidfuzz token ratio of the two (0-1); 0.5 if either is missing."""
    if not a or not b:
        return 0.5
    if a == b:
        return 1.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) == len(long_) and all(
        _abbreviates(s, l) or _abbreviates(l, s) for s, l in zip(short, long_, strict=True)
    ):
        return 1.0
    # each abbreviated word must abbreviate a word of the full name, in order
    j = 0
    for s in short:
        while j < len(long_) and not _abbreviates(s, long_[j]):
            j += 1
        if j == len(long_):
            break
        j += 1
    else:
        if len(short) >= 2 or len(long_) == 1:
            return 1.0
    if _acronym_of(a, b) or _acronym_of(b, a):
        return 1.0
    return fuzz.token_set_ratio(" ".join(a), " ".join(b)) / 100.0


_MEETING_WORDS = frozenset({"conference", "congress", "symposium", "workshop", "meeting", "colloquium"})
_PROCEEDINGS_WORDS = frozenset({"proceedings", "proc", "annual", "edition"})


def _acronym_of(full: Sequence[str], other: Sequence[str]) -> bool:
    """True when ``other`` is an acronym of a run of 3+ words of ``full``: their initials
    ('Hawaii International Conference on System Sciences' ~ 'HICSS 2018'), or for a meeting up
    to three letters a word ('Americas Conference on Information Systems' ~ 'AMCIS 2017
    Proceedings'). ``other`` must be the acronym alone (years and 'proceedings' aside) or, for a
    meeting's whole name, an acronym of 4+ letters leading or ending ``other`` ('ICIS:
    Transforming Society ...', '..., AMCIS'). Without these
    limits ordinary words are spelled from long names ('acta' from 'Asian Cardiovascular and
    Thoracic Annals', 'pain' from 'Proceedings of ACM International ...')."""
    words = [w for w in full if not w[0].isdigit()]
    rest = [w for w in other if w.isalpha() and w not in _PROCEEDINGS_WORDS]
    if len(words) < 3 or not rest:
        return False
    alone = len(rest) == 1
    for acronym in {rest[0], rest[-1]}:
        if not (3 if alone else 4) <= len(acronym) <= 8:
            continue
        for i, word in enumerate(words if alone else words[:1]):  # beside a theme: the whole name
            if word[0] != acronym[0]:
                continue
            initials = _spelled_by(acronym, words, i, 1)
            if initials >= 3 and (alone or _MEETING_WORDS.intersection(words[i : i + initials])):
                return True
            used = _spelled_by(acronym, words, i, 3)
            if used >= 3 and _MEETING_WORDS.intersection(words[i : i + used]):
                return True
    return False


def _spelled_by(acronym: str, words: Sequence[str], start: int, longest: int) -> int:
    """Fewest words from ``words[start]`` on whose prefixes (1 to ``longest`` letters each, no
    word skipped) spell ``acronym`` exactly; 0 when they cannot."""
    if start >= len(words):
        return 0
    word, best = words[start], 0
    for n in range(1, min(longest, len(word), len(acronym)) + 1):
        if not acronym.startswith(word[:n]):
            break  # a longer prefix of the word cannot match either
        rest = acronym[n:]
        more = _spelled_by(rest, words, start + 1, longest) if rest else 0
        if rest and not more:
            continue
        best = more + 1 if not best else min(best, more + 1)
    return best


@dataclass(frozen=True, slots=True)
class Prepared:
    """One record's normalised matching fields (see :func:`prepare`)."""

    title: str
    numbers: frozenset[str]
    surnames: tuple[str, ...]
    name_tokens: frozenset[str]
    year: int | None
    journal: tuple[str, ...]
    volume: str
    issue: str
    first_page: str
    last_page: str
    doi: str
    pmid: str
    kind: str
    cochrane: str
    supplement: frozenset[str]
    conference: bool
    thesis: bool
    generic: bool
    completeness: int
    pubmed: bool

    page_digits: str  # the first page's digits ('S12' -> '12')
    multi_page: bool  # the pages span more than one page (an article, not an abstract)
    notice: str = ""  # a correction notice: the normalised title of the paper it names
    cited: tuple[str, str] = ("", "")  # a correction notice: the volume and first page it cites
    abstract: str = ""  # fingerprint of the whole normalised abstract ('' if absent or short)
    named_journal: bool = False  # the venue calls itself a journal ('Journal of ...', '... Journal')


_FIELDS = (
    "title",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "abstract",
    "isbn",
)
_SUPPL = re.compile(r"suppl|supplement|meeting\s*a[b]?stracts?|abstracts?\b|^\s*s\d+\s*$", re.IGNORECASE)
_CONF_SPLIT = re.compile(r"\.?\s*\bconference\s*:|\.\s*(?:conference|meeting|congress)\b", re.IGNORECASE)
_CONF_WORDS = re.compile(
    r"\b(?:abstracts?|conference|congress|proceedings|meeting|symposium|workshop|colloquium|"
    r"conf|proc|symp|congr)\b",
    re.IGNORECASE,
)
# Titles that many different items share: they only match with a full citation
_GENERIC = re.compile(
    r"^(?:editorial|editor s (?:comments?|note|introduction)|guest editorial|introduction|preface|foreword|"
    r"letter|letters|reply|response|comment|commentary|correspondence|erratum|correction|corrigendum|"
    r"in this issue|news|book reviews?|announcements?|abstracts?|index|contents|table of contents|"
    r"obituary|acknowledgements?|reviewers|errata|notes?|highlights)\b",
)


_KEYS = (*_FIELDS, "source", "record_type")


def _fields(row: Any) -> dict[str, Any]:
    """The matching fields of a Record or a mapping; NaN (pandas) and '' become None."""
    if isinstance(row, Record):
        return {
            "title": row.title,
            "authors": row.authors or None,
            "year": row.year,
            "journal": row.journal,
            "volume": row.volume,
            "issue": row.issue,
            "pages": row.pages,
            "doi": row.doi,
            "pmid": row.pmid,
            "abstract": row.abstract,
            "isbn": row.issn,
            "source": row.source,
            "record_type": row.record_type,
        }
    out: dict[str, Any] = {}
    get = row.get
    for name in _KEYS:
        value = get(name)
        if value is not None and (value == "" or (isinstance(value, float) and value != value)):
            value = None  # empty cell, or NaN from pandas
        out[name] = value
    return out


_THESIS = re.compile(r"dissertation|thesis|\bph\.?\s?d\b|\bm\.?\s?phil\b|doctoral", re.IGNORECASE)


def _is_thesis(record_type: Any, journal: str, volume: Any, issue: Any, pages: Any) -> bool:
    """A thesis, or its listing in Dissertation Abstracts (RIS type THES, 'Ph.D.', 'Dissertation ...')."""
    if str(record_type or "").upper() == "THES":
        return True
    return any(_THESIS.search(str(x)) for x in (journal, volume, issue) if x) or bool(
        pages and _PAGE_COUNT.fullmatch(str(pages).strip()) and not journal
    )


def prepare(row: Record | Mapping[str, Any]) -> Prepared:
    """Normalise one record (a Record or a mapping with COLUMNS-style keys) for matching."""
    f = _fields(row)
    year = parse_year(f["year"] if isinstance(f["year"], int) else str(f["year"] or ""))
    raw_title = f["title"]
    raw_title = str(raw_title) if raw_title is not None else ""
    title = normal_title(raw_title)
    authors = f["authors"]
    if authors is not None and not isinstance(authors, (str, tuple, list)):
        authors = str(authors)
    surnames = _surnames(authors)
    names = authors if isinstance(authors, str) else "; ".join(authors or ())
    journal = f["journal"]
    journal = str(journal) if journal is not None else ""
    volume = f["volume"]
    issue = f["issue"]
    pages = f["pages"]
    first, last = page_range(str(pages) if pages is not None else None)
    first_digits, last_digits = _digits(first), _digits(last)
    doi = normalise_doi(str(f["doi"] or "")) or ""
    # versions of a Cochrane review (.pub2, .pub3) are one review (Rathbone 2015; bib-dedupe)
    doi = _COCHRANE_PUB.sub("", doi)
    if doi.startswith("10.1002/central/"):
        doi = ""  # CENTRAL's DOI of its own record (CN-...), never the article's: no veto, no key
    cochrane = _COCHRANE_ID.search(" ".join(str(x) for x in (pages, doi, volume, issue, raw_title) if x))
    pmid = normalise_pmid(str(f["pmid"] or "")) or ""
    source = str(f["source"] or "").lower()
    suppl_text = " ".join(str(x) for x in (volume, issue) if x is not None)
    in_suppl = any(_SUPPL.search(str(x)) for x in (volume, issue) if x is not None)
    conference = bool(_CONF_WORDS.search(journal)) or in_suppl
    journal_main = _CONF_SPLIT.split(journal, maxsplit=1)[0] or journal
    filled = sum(1 for n in _FIELDS if f[n] not in (None, "", ()))
    words = [w for w in title.split() if w not in _STOP]
    kind = title_kind(raw_title)
    notice, cited_volume, cited_page = correction_notice(raw_title) if kind == "erratum" else ("", "", "")
    return Prepared(
        title=title,
        numbers=frozenset(str(int(x)) for x in re.findall(r"\d+", title)),
        surnames=surnames,
        name_tokens=frozenset(w for w in _fold(names).split() if len(w) > 1),
        year=year,
        journal=_journal_words(journal_main),
        volume=_volume(volume, year),
        issue="" if in_suppl else _issue(issue),
        first_page=first,
        last_page=last,
        page_digits=first_digits,
        multi_page=bool(first_digits and last_digits and int(last_digits) > int(first_digits)),
        doi=doi,
        pmid=pmid,
        kind=kind,
        cochrane=cochrane.group(1).upper() if cochrane else "",
        supplement=frozenset(str(int(x)) for x in re.findall(r"\d+", suppl_text))
        if in_suppl
        else frozenset(),
        conference=conference,
        thesis=_is_thesis(f["record_type"], journal, volume, issue, pages),
        generic=len(words) <= 2 or (len(words) <= 3 and bool(_GENERIC.match(title))),
        completeness=filled,
        pubmed=source == "pubmed" or bool(pmid),
        notice=notice,
        cited=(cited_volume, cited_page),
        abstract=_abstract_key(f["abstract"]),
        named_journal=bool(_JOURNAL_WORD.search(journal_main)),
    )


def _volume(value: Any, year: int | None) -> str:
    """Volume number; a 'volume' that is the publication year (magazines) counts as missing."""
    digits = _digits(str(value) if value is not None else None)
    return "" if digits and year is not None and digits == str(year) else digits


def _one_edit(x: str, y: str) -> bool:
    """True when two page numbers differ by one typo (one character changed, added or dropped)."""
    return fuzz.ratio(x, y) >= 100.0 * (1 - 2 / (len(x) + len(y))) - 1e-9 if x and y else False


def _is_elocator(p: Prepared) -> bool:
    """An article number ('e12724', 'a1754', 'c1804') rather than a printed page."""
    return bool(re.fullmatch(r"[ace]\d{3,}", p.first_page)) and not p.last_page


def compare_pages(a: Prepared, b: Prepared) -> str:
    """'eq' (same first page), 'compatible', 'unknown' or 'conflict'.

    Databases record pages differently: an e-locator against printed pages, an abbreviated or
    truncated range, only the end page, a typo in one digit. Only first pages that cannot be
    reconciled in any of these ways are a conflict.
    """
    fa, fb = a.page_digits, b.page_digits
    la, lb = a.last_page, b.last_page
    if fa and fa == fb:
        return "eq"
    if not (fa or la) or not (fb or lb):
        return "unknown"
    if _is_elocator(a) != _is_elocator(b):
        return "unknown"
    if la and la == lb and (a.multi_page or not fa) and (b.multi_page or not fb):
        return "compatible"
    if not fa and la and ((lb and lb.endswith(la)) or (fb and fb.endswith(la))):
        return "compatible"
    if not fb and lb and ((la and la.endswith(lb)) or (fa and fa.endswith(lb))):
        return "compatible"
    if fa and fb:
        if (not la and fa in (fb, lb)) or (not lb and fb in (fa, la)):
            return "compatible"  # one database gives a single page of the other's range
        if la and la == lb and _one_edit(fa, fb):
            return "compatible"
        return "conflict"
    return "unknown"


def _shifted(a: Prepared, b: Prepared) -> bool:
    """A database shifted a's fields one place: no volume, its issue is b's volume, its page b's issue."""
    return (
        not a.volume and bool(a.issue) and a.issue == b.volume and bool(b.issue) and a.page_digits == b.issue
    )


def _same_volume(a: Prepared, b: Prepared) -> bool:
    """Same volume, allowing for a supplement number put in the volume field by one database."""
    if not a.volume or not b.volume:
        return False
    return a.volume == b.volume or a.volume in b.supplement or b.volume in a.supplement


def _conflict(a: Prepared, b: Prepared) -> str:
    """Why two records cannot be one publication ('' when nothing forbids it).

    A shared DOI or PMID outweighs a page or volume discrepancy (databases print e-locators,
    page counts and supplements differently) but never a different kind of item or a year
    more than one apart.
    """
    if a.cochrane and b.cochrane:
        # one Cochrane review in all its versions (updates change the year and the title)
        return "" if a.cochrane == b.cochrane else "different Cochrane reviews"
    if _reprinted(a, b):
        return ""  # the journal's second printing has its own DOI, volume and year
    if a.doi and b.doi and a.doi != b.doi:
        return "different DOI"
    if a.pmid and b.pmid and a.pmid != b.pmid:
        return "different PMID"
    if a.kind != b.kind:
        return f"{a.kind or 'paper'} vs {b.kind or 'paper'}"
    if a.year and b.year and abs(a.year - b.year) > 1:
        return "years differ"
    if (a.doi and a.doi == b.doi) or (a.pmid and a.pmid == b.pmid):
        # a shared DOI outweighs page conventions, but an abstract can carry its paper's DOI
        article = b if a.conference else a
        printed = article.multi_page and article.first_page[:1].isdigit()  # not S12-S13, i22-i23
        if a.conference != b.conference and printed and compare_pages(a, b) not in ("eq", "compatible"):
            return "conference abstract vs article (shared DOI)"
        return ""
    if _shifted(a, b) or _shifted(b, a):
        return ""
    if (
        _same_abstract(a, b, fuzz.ratio(a.title, b.title) / 100.0)
        and journal_match(a.journal, b.journal) < 0.5
    ):
        return ""  # one abstract in two journals' supplements: their volumes and pages differ
    if a.thesis and b.thesis:
        return ""  # a thesis and its Dissertation Abstracts listing: volume and pages mean other things
    vol_eq = _same_volume(a, b)
    if a.volume and b.volume and not vol_eq:
        return "different volume"
    fa, fb = a.page_digits, b.page_digits
    pages = compare_pages(a, b)
    same_range = (
        pages == "eq" and a.multi_page and a.last_page == b.last_page and fuzz.ratio(a.title, b.title) >= 90
    )
    if (
        a.issue
        and b.issue
        and a.issue != b.issue
        and a.volume == b.volume
        and a.issue not in (fa, fb)
        and b.issue not in (fa, fb)
        and not same_range
    ):
        return "different issue"
    if pages == "conflict" and not _same_issue_item(a, b):
        return "different pages"
    if a.conference != b.conference:
        article = b if a.conference else a
        suppl_volume = vol_eq and a.volume != b.volume
        if article.multi_page and not suppl_volume and pages not in ("eq", "compatible"):
            return "conference abstract vs article"
    return ""


def _length(p: Prepared) -> int:
    """Pages spanned by a multi-page record's range (last minus first)."""
    return _int(_digits(p.last_page)) - _int(p.page_digits)


def _abstract_key(abstract: Any) -> str:
    """A fingerprint of the whole abstract after normalising case, punctuation and markup."""
    text = _fold(str(abstract)) if abstract else ""
    return (
        hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()
        if len(text) >= _ABSTRACT_MIN
        else ""
    )


def _reprinted(a: Prepared, b: Prepared) -> bool:
    """One article printed twice by its journal (a production error put right in a later issue).

    The text is the same, so everything but its place is: the title (with the same numbers:
    'Part 1' and 'Part 2' are two papers), the authors in order (two or more), the journal, the
    whole abstract (both present and long) and the number of pages; the years are at most one
    apart and PubMed, if it lists both, gives them one PMID. Separate reports of one trial share
    background text, not their whole abstract.
    """
    if not (a.abstract and a.abstract == b.abstract and a.multi_page and b.multi_page):
        return False
    if a.year is None or b.year is None or abs(a.year - b.year) > 1:
        return False
    return (
        not (a.pmid and b.pmid and a.pmid != b.pmid)
        and a.numbers == b.numbers
        and len(a.surnames) >= 2
        and a.surnames == b.surnames
        and _length(a) == _length(b)
        and fuzz.ratio(a.title, b.title) >= 98
        and journal_match(a.journal, b.journal) >= 0.8
    )


def _same_issue_item(a: Prepared, b: Prepared) -> bool:
    """Same journal, year, volume and issue (or both meeting abstracts), the same authors (two or
    more, in order) and the same title.

    Databases disagree on the pages of meeting abstracts and e-pages ('e3' against 'e8-e9');
    with everything else identical the pages alone do not make it a different publication.
    """
    return bool(
        not (a.multi_page and b.multi_page)  # two printed page ranges are two articles
        and a.volume
        and a.volume == b.volume
        and ((a.issue and a.issue == b.issue) or (_abstract_like(a) and _abstract_like(b)))
        and a.year == b.year
        and len(a.surnames) >= 2
        and a.surnames == b.surnames
        and journal_match(a.journal, b.journal) >= 0.8
        and fuzz.ratio(a.title, b.title) >= 97
    )


def _abstract_like(p: Prepared) -> bool:
    """A meeting abstract: conference or supplement record, or one short-numbered S/e/A page."""
    if p.conference:
        return True
    first = p.first_page
    return (
        bool(first)
        and first[0] in "sea"
        and len(p.page_digits) <= 4
        and not p.multi_page
        and (not p.last_page or p.last_page == p.page_digits)
    )


def _same_abstract(a: Prepared, b: Prepared, title_sim: float) -> bool:
    """One meeting abstract printed in two journals: both abstracts, same year, same title and
    the same authors in the same order (two or more)."""
    return (
        title_sim >= 0.97
        and a.year is not None
        and a.year == b.year
        and len(a.surnames) >= 2
        and a.surnames == b.surnames
        and _abstract_like(a)
        and _abstract_like(b)
    )


def _author_score(a: Prepared, b: Prepared) -> float:
    """Share of one list's family names found among the other's name words (0-1); 0.5 if missing.

    Name words include given names, so 'Andrea, C.' (names swapped by a database) still
    matches 'Carignani, Andrea'.
    """
    if not a.surnames or not b.surnames:
        return 0.5
    best = 0.0
    for x, y in ((a, b), (b, a)):
        fam = {w for name in x.surnames for w in name.split() if len(w) > 1}
        if not fam:
            continue
        best = max(best, len(fam & y.name_tokens) / len(fam))
    if best < 1.0:
        first = fuzz.ratio(a.surnames[0], b.surnames[0]) / 100.0
        if first >= 0.85:
            best = max(best, min(first, 0.9))
    return best


_COLLECTIVE = frozenset(
    {
        "group",
        "study",
        "studies",
        "consortium",
        "committee",
        "investigators",
        "collaboration",
        "collaborative",
        "collaborators",
        "network",
        "trialists",
    }
)


def _authors_may_differ(a: Prepared, b: Prepared, authors: float) -> bool:
    """Whether one title and citation with author lists that hardly agree can still be one paper.

    A group author against its writing committee, or a mangled author field, on a full article
    (a page range): yes. Two single-page items on one page under one heading with no author in
    common are usually two letters printed together: no, a person decides.
    """
    if authors > 0.0 or (a.multi_page and b.multi_page):
        return True
    return bool((a.name_tokens | b.name_tokens) & _COLLECTIVE)


def _words_agree(a: str, b: str) -> bool:
    """Every word found in only one title is a spelling variant of a word of the other.

    'pediatric' against 'adult' is a different study; 'haemolysis' against 'hemolysis' is not.
    """
    wa, wb = set(a.split()), set(b.split())
    for only, other in ((wa - wb, wb), (wb - wa, wa)):
        for w in only:
            if len(w) <= 3 or w in _STOP:
                continue
            spelled = any(fuzz.ratio(w, o) >= 75 for o in other if abs(len(o) - len(w)) <= 3)
            # joined/split words: 'jobspecific' vs 'job specific'
            joined = w in b.replace(" ", "") and w in a.replace(" ", "")
            if not spelled and not joined:
                return False
    return True


def _contained_title(a: str, b: str) -> bool:
    """The shorter title (5+ words, 70 %+ of the longer's words) appears whole inside the longer
    one, as when a database adds a column name ('How I did it ... Upwork's CEO on ...')."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    n_short, n_long = len(short.split()), len(long_.split())
    return n_short >= 5 and n_short >= 0.7 * n_long and f" {short} " in f" {long_} "


def _prefix_title(a: str, b: str) -> bool:
    """One title is the other's main title (the other adds a subtitle), at least 3 words long."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short.split()) >= 3 and long_.startswith(short + " ")


def _int(digits: str) -> int:
    return int(digits) if digits.isdigit() else -1


def _after(later: Prepared, earlier: Prepared) -> bool:
    """``later`` is printed after ``earlier`` in the same volume: a later issue, or (same or
    unknown issue) a first page past ``earlier``'s last page."""
    if later.issue and earlier.issue and later.issue != earlier.issue:
        return int(later.issue) > int(earlier.issue)
    end = _int(earlier.last_page or earlier.page_digits)
    return end >= 0 and _int(later.page_digits) > end


def _notice_link(notice: Prepared, paper: Prepared) -> str:
    """'join' when the correction notice explicitly names this paper and is printed after it in
    the same volume; 'ask' when it names it but is printed elsewhere; '' otherwise.

    The notice must name the paper (its title, or the volume and first page it cites), in the
    same journal, with agreeing authors. A title alone cannot tell which of two same-titled
    papers of one journal a notice in a later volume corrects, so those pairs go to a person.
    """
    if paper.kind or paper.notice or not paper.title or not (notice.journal and paper.journal):
        return ""
    named = (
        fuzz.ratio(notice.notice, paper.title) >= 90 and _words_agree(notice.notice, paper.title)
    ) or _prefix_title(notice.notice, paper.title)  # a title cut short by a database
    if not named or journal_match(notice.journal, paper.journal) < 0.8 or _author_score(notice, paper) < 0.5:
        return ""
    if notice.year and paper.year and not 0 <= notice.year - paper.year <= 2:
        return ""
    volume, page = notice.cited
    if volume and (volume != paper.volume or (page and paper.page_digits and page != paper.page_digits)):
        return ""  # it cites another paper of that title
    same_volume = (notice.volume and notice.volume == paper.volume) or (
        not notice.volume and not paper.volume and notice.year is not None and notice.year == paper.year
    )
    return "join" if same_volume and _after(notice, paper) else "ask"


def _part_of(part: Prepared, letters: Prepared) -> bool:
    """``part`` is the letter or a reply printed in a '(multiple letters)' record: same journal,
    year, volume, issue and title, its pages inside the record's range (the letter on its first
    page, a reply after it) and all its authors among the record's."""
    if part.kind not in ("", "reply") or not letters.multi_page or not part.page_digits:
        return False
    if not (part.volume and part.volume == letters.volume and part.year == letters.year):
        return False
    if (part.issue and letters.issue and part.issue != letters.issue) or fuzz.ratio(
        part.title, letters.title
    ) < 95:
        return False
    first, last, page = int(letters.page_digits), int(letters.last_page), int(part.page_digits)
    if not (page == first if part.kind == "" else first < page <= last):
        return False
    family = {w for name in part.surnames for w in name.split() if len(w) > 1}
    return (
        bool(family) and family <= letters.name_tokens and journal_match(part.journal, letters.journal) >= 0.8
    )


def _attaches(x: Prepared, anchor: Prepared) -> bool:
    """``x`` belongs to ``anchor``'s report without being a copy of it: a correction notice of
    that paper in its volume, or a letter or reply printed in that multiple-letters record."""
    if x.notice:
        return _notice_link(x, anchor) == "join"
    return anchor.kind == "letters" and x.kind != "letters" and _part_of(x, anchor)


def _link(a: Prepared, b: Prepared) -> tuple[str, str]:
    """('join' | 'ask' | '', reason) for a notice or a multiple-letters part and its anchor."""
    if a.notice or b.notice:
        for x, y in ((a, b), (b, a)):
            if x.notice:
                link = _notice_link(x, y)
                if link == "join":
                    return link, "correction notice naming this paper, printed after it in its volume"
                if link == "ask":
                    return (
                        link,
                        "correction notice naming this paper, printed in another volume (or its place unclear)?",
                    )
    if "letters" in (a.kind, b.kind) and (_attaches(a, b) or _attaches(b, a)):
        return "join", "letter or reply printed in this multiple-letters record"
    return "", ""


def _attached(prep: Sequence[Prepared], members: Sequence[int]) -> set[int]:
    """Members that belong to another member's report (:func:`_attaches`); never kept."""
    if not any(prep[m].notice or prep[m].kind == "letters" for m in members):
        return set()
    anchors = [z for z in members if prep[z].kind in ("", "letters") and not prep[z].notice]
    return {
        m
        for m in members
        if (prep[m].notice or prep[m].kind in ("", "reply"))
        and any(z != m and _attaches(prep[m], prep[z]) for z in anchors)
    }


def compare(a: Prepared, b: Prepared, title_sim: float | None = None) -> tuple[Verdict, float, str]:
    """Judge one pair: ('same'|'uncertain'|'different', score 0-1, reason).

    Hard vetoes first (:func:`_conflict`); then the evidence: title similarity (rapidfuzz
    Indel ratio of the normalised titles), authors, year, journal (abbreviation-aware), volume
    and pages. 'same' needs a near-identical title backed by the other fields, an identical
    DOI/PMID with a similar title, or the full citation (journal, year, volume, page range,
    authors) of a translated or retitled record.
    """
    link, link_reason = _link(a, b) if a.notice or b.notice or "letters" in (a.kind, b.kind) else ("", "")
    if link == "join":
        return "same", 0.9, link_reason
    why = _conflict(a, b)
    if why:
        return ("uncertain", 0.5, link_reason) if link == "ask" else ("different", 0.0, why)
    if title_sim is None:
        title_sim = fuzz.ratio(a.title, b.title) / 100.0 if a.title and b.title else 0.0
    authors = _author_score(a, b)
    journal = journal_match(a.journal, b.journal)
    same_year = a.year is not None and a.year == b.year
    vol_eq = _same_volume(a, b)
    page_eq = compare_pages(a, b) == "eq"
    last_eq = bool(a.last_page and a.last_page == b.last_page)
    id_eq = bool(
        (a.doi and a.doi == b.doi)
        or (a.pmid and a.pmid == b.pmid)
        or (a.cochrane and a.cochrane == b.cochrane)
    )
    # proceedings have no volume: the same venue, year and full page range stand in for it
    venue_eq = vol_eq or (
        not (a.volume and b.volume) and journal >= 0.8 and same_year and last_eq and a.multi_page
    )
    citation = venue_eq and page_eq
    full_citation = citation and last_eq and a.multi_page and journal >= 0.8
    score = (
        0.55 * title_sim + 0.2 * authors + 0.1 * journal + 0.05 * same_year + 0.05 * vol_eq + 0.05 * page_eq
    )
    # a conference record against a journal record that carries a DOI: maybe abstract vs paper
    article = b if a.conference else a
    # ... or a journal's record against a meeting that is not in a journal ('Journal of X' vs
    # 'Workshop of X'; not 'Journal of X. Conference: ...', an abstract printed in that journal)
    meeting = a if a.conference else b
    venues_differ = article.named_journal and not meeting.named_journal
    conf_mismatch = (
        a.conference != b.conference and not citation and not id_eq and (bool(article.doi) or venues_differ)
    )
    if not a.title or not b.title:
        # a record without a title: only an identical id or full citation
        if id_eq or (full_citation and same_year and authors >= 0.9):
            return "uncertain", score, "no title; citation matches"
        return "different", score, "no title"
    if a.generic or b.generic:
        # 'Editorial', "Editor's comments": many items share these titles
        pages_ok = (page_eq and (last_eq or not (a.last_page or b.last_page))) or not (
            a.first_page or b.first_page
        )
        similar = title_sim >= 0.9 or _prefix_title(a.title, b.title)
        if similar and (id_eq or (venue_eq and a.issue == b.issue and pages_ok and same_year)):
            return "same", score, "generic title, full citation matches"
        return "different", score, "generic title"
    # a volume belongs to one year: with the same volume a year one apart is a typing error
    year_ok = (
        same_year
        or (citation and a.year is not None and b.year is not None)
        or (id_eq and title_sim >= 0.9)
        or (vol_eq and a.volume == b.volume and journal >= 0.8)
    )
    if a.year is None or b.year is None:
        year_ok = citation or id_eq
    if a.pmid and a.pmid == b.pmid:
        # a PMID names one article (a translated title does not make it another); DOIs can be
        # shared by a whole supplement, so a DOI alone needs a similar title
        return "same", max(score, 0.95), "same PMID"
    if _reprinted(a, b):
        return "same", max(score, 0.95), "one article printed twice by its journal (same abstract and length)"
    if id_eq:
        if title_sim >= 0.8 or _prefix_title(a.title, b.title) or (title_sim >= 0.6 and authors >= 0.8):
            return "same", max(score, 0.95), "same DOI/PMID"
        if title_sim >= 0.6:
            return "uncertain", score, "same DOI/PMID, titles differ"
        return "different", score, "same DOI but different titles (supplement or shared DOI)"
    if a.thesis and b.thesis and title_sim >= 0.95 and authors >= 0.9:
        # the same work, but theses of one author on one topic can share a title: a person decides
        return "uncertain", score, "thesis and its Dissertation Abstracts listing?"
    if journal < 0.5 and _same_abstract(a, b, title_sim):
        # an encore abstract or one abstract printed in two supplements: a person decides
        return "uncertain", score, "the same meeting abstract in two journals?"
    if a.numbers and b.numbers and a.numbers != b.numbers and not citation:
        # 'FOCUS 1' vs 'FOCUS 2', 'Part I' vs 'Part II': a series, not one paper
        return "different", score, "numbers in the titles differ"
    if authors < 0.34 and not (title_sim >= 0.97 and citation and _authors_may_differ(a, b, authors)):
        return ("uncertain" if title_sim >= 0.95 and year_ok else "different"), score, "authors differ"
    verdict: Verdict = "different"
    reason = "titles differ"
    if title_sim >= 0.95 and year_ok:
        if journal < 0.5 and not citation and not (vol_eq and a.issue and a.issue == b.issue):
            # journal names are translated and abbreviated; volume and issue still identify it
            verdict, reason = "uncertain", "title, authors and year match, journals differ"
        elif not citation and not _words_agree(a.title, b.title):
            verdict, reason = "uncertain", "titles differ by a word"
        elif citation or journal >= 0.8 or authors >= 0.8:
            verdict, reason = "same", "title, authors and year match"
        else:
            verdict, reason = "uncertain", "title and year match, little else"
    elif (
        title_sim >= 0.90
        and year_ok
        and authors >= 0.5
        and (citation or (vol_eq and compare_pages(a, b) == "compatible" and _words_agree(a.title, b.title)))
    ):
        verdict, reason = "same", "title close, citation matches"
    elif title_sim >= 0.8 and citation and year_ok and authors >= 0.8 and journal >= 0.8:
        verdict, reason = "same", "citation and authors match, title close"
    elif (
        _prefix_title(a.title, b.title)
        and venue_eq
        and compare_pages(a, b) in ("eq", "compatible")
        and same_year
        and authors >= 0.8
    ):
        verdict, reason = "same", "main title and citation match (subtitle dropped)"
    elif _contained_title(a.title, b.title) and same_year and authors >= 0.8 and journal >= 0.8:
        verdict, reason = "same", "one title contains the other; journal, year and authors match"
    elif full_citation and same_year and (authors >= 0.8 or (authors == 0.5 and title_sim >= 0.7)):
        verdict, reason = "same", "journal, year, volume, page range and authors match (translated title?)"
    elif (
        title_sim >= 0.95
        and authors >= 0.8
        and a.year
        and b.year
        and not (a.volume or b.volume)
        and journal >= 0.8
    ):
        # proceedings carry the conference year or the publication year; a journal version
        # (with a volume) of a conference paper is never taken for it
        if _words_agree(a.title, b.title) and authors >= 0.9:
            verdict, reason = "same", "proceedings paper: title and authors match, years one apart"
        else:
            verdict, reason = "uncertain", "title and authors match, years one apart"
    elif title_sim >= 0.95 and authors >= 0.8 and a.year and b.year and journal >= 0.8:
        verdict, reason = "uncertain", "title and authors match, years one apart"
    elif title_sim >= 0.85 and (year_ok or citation):
        verdict, reason = "uncertain", "title close"
    elif citation and same_year and authors >= 0.8 and title_sim >= 0.5:
        verdict, reason = "uncertain", "citation matches, titles differ (translation?)"
    if verdict == "same" and conf_mismatch:
        return "uncertain", score, "conference record vs journal record: " + reason
    return verdict, score, reason


@dataclass(frozen=True, slots=True)
class Pair:
    """A compared pair of record positions (a < b) with its verdict."""

    a: int
    b: int
    verdict: Verdict
    score: float
    reason: str


@dataclass
class DedupOutcome:
    """Groups over the input records (by position) and the pairs behind them."""

    group: np.ndarray  # group number per record (the position of the group's kept record)
    kept: np.ndarray  # True for the one record kept per group
    pairs: list[Pair] = field(default_factory=list)
    n_candidates: int = 0

    @property
    def n_groups(self) -> int:
        """Unique publications found."""
        return int(self.kept.sum())

    def uncertain(self) -> list[Pair]:
        """Pairs a person should judge (not already in one group)."""
        return [p for p in self.pairs if p.verdict == "uncertain" and self.group[p.a] != self.group[p.b]]

    def members(self) -> dict[int, list[int]]:
        """Group number -> member positions (groups of one included)."""
        out: dict[int, list[int]] = defaultdict(list)
        for i, g in enumerate(self.group.tolist()):
            out[g].append(i)
        return dict(out)


def _blocks(prep: Sequence[Prepared]) -> Iterable[list[int]]:
    keys: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, p in enumerate(prep):
        if p.doi:
            keys[("doi", p.doi)].append(i)
        if p.pmid:
            keys[("pmid", p.pmid)].append(i)
        if p.cochrane:
            keys[("cd", p.cochrane)].append(i)
        squashed = p.title.replace(" ", "")
        if len(squashed) >= 12:
            keys[("t0", squashed[:24])].append(i)
            keys[("t1", squashed[-24:])].append(i)
        if p.notice:  # a correction notice meets its paper by the title it names
            named = p.notice.replace(" ", "")
            keys[("t0", named[:24])].append(i)
            keys[("t1", named[-24:])].append(i)
        if p.first_page and p.volume:
            keys[("vp", p.volume, p.page_digits, p.year)].append(i)
        if p.page_digits and p.surnames:
            keys[("pa", p.page_digits, p.year, p.surnames[0][:4])].append(i)
        if p.surnames and p.year:
            words = [w for w in p.title.split() if w not in _STOP]
            longest = max(words, key=len) if words else ""
            keys[("ay", p.surnames[0][:6], p.year, longest)].append(i)
    for members in keys.values():
        if len(members) > 1:
            yield members


def candidate_pairs(prep: Sequence[Prepared]) -> np.ndarray:
    """Candidate pairs (i < j) from the blocking keys: an (n, 2) int array without repeats.

    Blocks up to MAX_BLOCK records are compared all-pairs; bigger ones only between records
    within WINDOW places of each other when sorted by title, so the work stays near-linear.
    """
    chunks: list[np.ndarray] = []
    small: list[tuple[int, int]] = []
    for members in _blocks(prep):
        if len(members) == 2:
            small.append((members[0], members[1]))
        elif len(members) <= MAX_BLOCK:
            small.extend(itertools.combinations(members, 2))
        else:
            order = sorted(members, key=lambda k: prep[k].title)
            o = np.asarray(order, dtype=np.int64)
            for w in range(1, WINDOW + 1):
                chunks.append(np.stack([o[:-w], o[w:]], axis=1))
    if small:
        chunks.append(np.asarray(small, dtype=np.int64))
    if not chunks:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(chunks)
    lo, hi = pairs.min(axis=1), pairs.max(axis=1)
    keep = lo != hi
    n = max(len(prep), 1)
    codes = np.unique(lo[keep] * n + hi[keep])  # one int per pair: sorting 1-D is fast
    return np.stack([codes // n, codes % n], axis=1)


class _Groups:
    """Union-find whose merges are refused when two members would conflict."""

    def __init__(self, prep: Sequence[Prepared], apart: set[tuple[int, int]]) -> None:
        self.parent = list(range(len(prep)))
        self.members: dict[int, list[int]] = {i: [i] for i in range(len(prep))}
        self.prep = prep
        self.apart = apart

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def compatible(self, ra: int, rb: int) -> bool:
        ma, mb = self.members[ra], self.members[rb]
        if len(ma) * len(mb) > 2500:
            return False  # pathological group sizes: leave apart rather than compare for ever
        attached: set[int] | None = None
        for x in ma:
            px = self.prep[x]
            for y in mb:
                key = (x, y) if x < y else (y, x)
                if key in self.apart:
                    return False
                if _conflict(px, self.prep[y]):
                    # a correction notice or a multiple-letters part belongs with its anchor's
                    # group; everything else in the group is checked against the anchor itself
                    if attached is None:
                        attached = _attached(self.prep, ma + mb)
                    if x not in attached and y not in attached:
                        return False
        return True

    def union(self, a: int, b: int, check: bool = True) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if check and not self.compatible(ra, rb):
            return False
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        return True


def _rows(data: Sequence[Record] | Any) -> list[Any]:
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        return list(data.to_dict("records"))
    return list(data)


#: Below this many records normalising runs in this process; above, in one process per core.
PARALLEL_FROM = 20_000
_ROWS: list[Any] = []


def _prepare_slice(bounds: tuple[int, int]) -> list[Prepared]:
    return [prepare(r) for r in _ROWS[bounds[0] : bounds[1]]]


def _prepare_all(rows: list[Any], wrap: Callable[[Iterable[Any], int, str], Iterable[Any]]) -> list[Prepared]:
    """prepare() every row; large libraries are split over the CPU cores (forked workers read
    the rows without copying them; only the small Prepared results come back)."""
    cores = os.cpu_count() or 1
    if len(rows) < PARALLEL_FROM or cores < 2 or "fork" not in mp.get_all_start_methods():
        return [prepare(r) for r in wrap(rows, len(rows), "normalising")]
    global _ROWS
    _ROWS = rows
    try:
        step = -(-len(rows) // (cores * 4))
        bounds = [(i, min(i + step, len(rows))) for i in range(0, len(rows), step)]
        with ProcessPoolExecutor(max_workers=cores, mp_context=mp.get_context("fork")) as pool:
            parts = list(wrap(pool.map(_prepare_slice, bounds), len(bounds), "normalising"))
    except (OSError, RuntimeError):  # no fork available here: do it in this process
        return [prepare(r) for r in wrap(rows, len(rows), "normalising")]
    finally:
        _ROWS = []
    return [p for part in parts for p in part]


def find_duplicates(
    data: Sequence[Record] | Any,
    *,
    answers: Mapping[tuple[int, int], bool] | None = None,
    progress: Callable[[Iterable[Any], int, str], Iterable[Any]] | None = None,
) -> DedupOutcome:
    """Group the records that are the same publication.

    Parameters
    ----------
    data
        Records, or a DataFrame/list of mappings with columns such as ``title, authors, year,
        journal, volume, issue, pages, doi, pmid, source`` (missing ones are fine).
    answers
        People's judgements by record position ``(i, j)`` (i < j): True = same publication
        (always merged), False = different (never in one group).
    progress
        Optional wrapper ``progress(iterable, total, description)`` such as tqdm.

    Returns
    -------
    DedupOutcome
        ``group`` per record (the position of the group's kept record), ``kept``, and the
        'same' and 'uncertain' pairs found.
    """
    rows = _rows(data)
    wrap = progress or (lambda it, total, desc: it)
    try:
        prep = _prepare_all(rows, wrap)
    except (TypeError, AttributeError) as exc:  # pragma: no cover - defensive
        raise InputError(f"cannot read the records to deduplicate: {exc}") from exc
    n = len(prep)
    answers = dict(answers or {})
    cand = candidate_pairs(prep)
    titles = [p.title for p in prep]
    if len(cand):
        sims = (
            cpdist(
                [titles[i] for i in cand[:, 0]],
                [titles[j] for j in cand[:, 1]],
                scorer=fuzz.ratio,
                workers=-1,
            )
            / 100.0
        )
    else:
        sims = np.zeros(0)
    pairs: list[Pair] = []
    for (i, j), sim in wrap(zip(cand.tolist(), sims.tolist(), strict=True), len(cand), "comparing"):
        if (i, j) in answers:
            continue
        # cheap exit: titles unrelated, no shared DOI and no shared citation
        # (a correction notice's title carries extra words: compare it anyway)
        unrelated = sim < 0.5 and not (prep[i].doi and prep[i].doi == prep[j].doi)
        if (
            unrelated
            and not (prep[i].page_digits and prep[i].page_digits == prep[j].page_digits)
            and not (prep[i].notice or prep[j].notice)
        ):
            continue
        verdict, score, reason = compare(prep[i], prep[j], sim)
        if verdict != "different":
            pairs.append(Pair(i, j, verdict, score, reason))
    apart = {k for k, same in answers.items() if not same}
    groups = _Groups(prep, apart)
    for (i, j), same in answers.items():
        if same:
            groups.union(i, j, check=False)
    for p in sorted((p for p in pairs if p.verdict == "same"), key=lambda p: -p.score):
        groups.union(p.a, p.b)
    for (i, j), same in answers.items():
        if not (0 <= i < n and 0 <= j < n):
            raise InputError(f"answer for pair ({i}, {j}) names a record outside 0..{n - 1}")
        pairs.append(Pair(min(i, j), max(i, j), "same" if same else "different", 1.0, "answered by a person"))
    group = np.empty(n, dtype=np.int64)
    kept = np.zeros(n, dtype=bool)
    for root, members in groups.members.items():
        pool = members
        if len(members) > 1 and any(prep[k].notice or prep[k].kind == "letters" for k in members):
            # a correction notice or a letter inside a multiple-letters record is never kept
            attached = _attached(prep, members)
            pool = [k for k in members if k not in attached] or members
        best = min(pool, key=lambda k: (not prep[k].pubmed, -prep[k].completeness, k))
        del root
        kept[best] = True
        group[members] = best
    return DedupOutcome(group=group, kept=kept, pairs=pairs, n_candidates=len(cand))
