"""NCBI E-utilities through Bio.Entrez: esearch with the history server, efetch in batches.

The calls go through ``Bio.Entrez.esearch`` / ``Bio.Entrez.efetch`` unchanged (their rate limit
of 3 requests/s, 10/s with an API key, included). Three things are added around them:

* **Another base URL.** Bio.Entrez hard-codes ``https://eutils.ncbi.nlm.nih.gov/entrez/eutils/``
  in every function. While a :class:`EntrezClient` call runs, ``Bio.Entrez.urlopen`` (the one
  function all of them call) is wrapped so that the URL is rewritten to ``eutils_url`` and a
  timeout is set: one place, whatever E-utility is called.
* **Bounded retries with back-off.** Bio.Entrez retries a 429/5xx three times with no pause and
  does not retry a dropped connection or a cut-off body. Here ``Bio.Entrez.max_tries`` is 1
  during our calls and :meth:`EntrezClient._request` retries 429 (waiting ``Retry-After``),
  5xx, time-outs, dropped connections and truncated/unparseable XML, with exponential back-off.
* **Clear errors.** ``<ERROR>`` replies, unknown fields and HTML pages become
  :class:`~review.errors.EntrezError`; phrase-not-found and other warnings are returned.

PubMed serves at most 9,999 records of one search; :func:`plan_date_parts` splits a bigger
search by publication date (``datetype=pdat``) until every part fits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import http.client
import io
import logging
import random
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from Bio import Entrez
from Bio.Entrez import Parser as EntrezParser

from review.errors import EntrezError, InputError
from review.records import Record
from review.sources.pubmed_xml import parse_pubmed_xml_bytes

__all__ = [
    "MAX_RETRIEVABLE",
    "NCBI_EUTILS",
    "DatePart",
    "EntrezClient",
    "Reply",
    "SearchResult",
    "plan_date_parts",
]

log = logging.getLogger(__name__)

#: NCBI's E-utilities base URL (what Bio.Entrez hard-codes).
NCBI_EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
#: PubMed serves at most this many records of one search (esearch refuses retstart > 9,998).
MAX_RETRIEVABLE = 9999

_active: ContextVar[EntrezClient | None] = ContextVar("review_entrez_client", default=None)
_real_urlopen: Callable[..., Any] = urllib.request.urlopen


def _urlopen(request: Any, *args: Any, **kwargs: Any) -> Any:
    """Bio.Entrez's ``urlopen``, pointed at the active client's base URL, with its time-out."""
    client = _active.get()
    if client is None or not isinstance(request, urllib.request.Request):
        return _real_urlopen(request, *args, **kwargs)
    url = request.full_url
    if url.startswith(NCBI_EUTILS):
        request.full_url = client.eutils_url + url[len(NCBI_EUTILS) :]
    return _real_urlopen(request, timeout=client.timeout)


class _Retryable(Exception):
    """A failure worth another try (after ``wait`` seconds, if given)."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


@dataclass(frozen=True)
class Reply:
    """One raw E-utilities reply as received: kept so a search can be audited and replayed."""

    endpoint: str
    params: dict[str, Any]
    body: bytes
    received_at: str
    attempts: int


@dataclass
class SearchResult:
    """What esearch said: count, ids (if asked), history key, NCBI's translation, warnings."""

    count: int
    ids: list[str]
    query_translation: str | None
    webenv: str | None
    query_key: str | None
    warnings: list[str]
    reply: Reply


@dataclass(frozen=True)
class DatePart:
    """A publication-date slice of a search (``datetype=pdat``) and how many records it holds."""

    mindate: str | None
    maxdate: str | None
    count: int


@dataclass
class EntrezClient:
    """PubMed through Bio.Entrez, with another base URL, retries and clear errors.

    Parameters
    ----------
    eutils_url
        Base URL of the E-utilities (NCBI's by default), ending in ``/``.
    email, api_key, tool
        Sent with every request as NCBI asks; an API key raises the rate limit to 10/s.
    max_attempts
        Tries per request before giving up (429, 5xx, time-outs, drops, cut-off XML).
    backoff_base, backoff_max
        Waits are ``backoff_base * 2**(attempt - 1)`` seconds (plus jitter), at most
        ``backoff_max``; a ``Retry-After`` header is honoured instead when given.
    timeout
        Seconds to wait for a connection or a read.
    """

    eutils_url: str = NCBI_EUTILS
    email: str | None = None
    api_key: str | None = None
    tool: str = "review"
    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    timeout: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    on_retry: Callable[[str], None] | None = None
    retries: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        url = (self.eutils_url or NCBI_EUTILS).strip()
        if not url.startswith(("http://", "https://")):
            raise InputError(f"E-utilities URL must start with http:// or https://, got {url!r}")
        self.eutils_url = url if url.endswith("/") else url + "/"

    # --- plumbing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _bio_entrez(self) -> Iterator[None]:
        """Point Bio.Entrez at our URL, with its own retries off (ours are bounded and pause)."""
        token = _active.set(self)
        saved = (Entrez.urlopen, Entrez.max_tries)
        Entrez.urlopen = _urlopen  # type: ignore[assignment]
        Entrez.max_tries = 1
        try:
            with warnings.catch_warnings():
                # Bio.Entrez warns when no e-mail is given; run_searches says it once instead
                warnings.filterwarnings("ignore", message=r"\s*Email address is not specified")
                yield
        finally:
            Entrez.urlopen, Entrez.max_tries = saved
            _active.reset(token)

    def _identity(self) -> dict[str, Any]:
        return {"tool": self.tool, "email": self.email, "api_key": self.api_key}

    def _wait(self, attempt: int, hint: float | None) -> float:
        if hint is not None:  # the server said how long: honour it (up to five minutes)
            return min(max(hint, 0.0), 300.0)
        base = self.backoff_base * 2 ** (attempt - 1)
        return min(base * (1 + 0.25 * random.random()), self.backoff_max)

    def _request(
        self,
        endpoint: str,
        call: Callable[[], Any],
        params: dict[str, Any],
        check: Callable[[bytes], Any],
        query: str | None,
    ) -> tuple[Reply, Any]:
        """Run one E-utility call with bounded retries; ``check`` parses the body or raises."""
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                body = self._fetch(call)
                try:
                    parsed = check(body)
                except InputError as exc:  # cut off or not XML: NCBI under load does this
                    raise _Retryable(f"unusable reply: {exc}") from exc
                reply = Reply(
                    endpoint=endpoint,
                    params={k: v for k, v in params.items() if k not in ("api_key", "email")},
                    body=body,
                    received_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    attempts=attempt,
                )
                return reply, parsed
            except _Retryable as exc:
                last = str(exc)
                if attempt == self.max_attempts:
                    break
                wait = self._wait(attempt, exc.wait)
                message = f"{endpoint}: {last}; retry {attempt}/{self.max_attempts - 1} in {wait:.1f}s"
                self.retries.append(message)
                log.info(message)
                if self.on_retry is not None:
                    self.on_retry(message)
                self.sleep(wait)
        raise EntrezError(
            f"{endpoint} at {self.eutils_url} failed {self.max_attempts} times; last error: {last}. "
            "Run the search again later: it resumes where it stopped",
            query=query,
        )

    def _fetch(self, call: Callable[[], Any]) -> bytes:
        """Call Bio.Entrez and read the whole body, mapping transient failures to _Retryable."""
        try:
            with self._bio_entrez():
                handle = call()
            try:
                data = handle.read()
            finally:
                handle.close()
        except urllib.error.HTTPError as exc:
            detail = _http_detail(exc)
            if exc.code == 429:
                raise _Retryable(f"HTTP 429 too many requests{detail}", _retry_after(exc)) from exc
            if exc.code >= 500:
                raise _Retryable(f"HTTP {exc.code}{detail}", _retry_after(exc)) from exc
            raise EntrezError(
                f"E-utilities refused the request: HTTP {exc.code} {exc.reason}{detail}"
            ) from exc
        except urllib.error.URLError as exc:
            raise _Retryable(f"connection failed: {exc.reason}") from exc
        except TimeoutError as exc:
            raise _Retryable(f"timed out after {self.timeout:g}s") from exc
        except (http.client.HTTPException, ConnectionError) as exc:
            raise _Retryable(f"connection dropped: {type(exc).__name__} {exc}") from exc
        if isinstance(data, str):  # Bio.Entrez wraps text/plain replies in a TextIOWrapper
            data = data.encode("utf-8")
        return bytes(data)

    # --- E-utilities ------------------------------------------------------------------------

    def esearch(
        self,
        term: str,
        *,
        retmax: int = 0,
        retstart: int = 0,
        usehistory: bool = False,
        mindate: str | None = None,
        maxdate: str | None = None,
        datetype: str = "pdat",
    ) -> SearchResult:
        """Run one PubMed esearch; phrase-not-found comes back as a warning, errors raise."""
        params: dict[str, Any] = {"db": "pubmed", "term": term, "retmax": retmax, "retstart": retstart}
        if usehistory:
            params["usehistory"] = "y"
        if mindate or maxdate:
            params.update(
                datetype=datetype, mindate=mindate or "1700/01/01", maxdate=maxdate or _far_future()
            )
        ident = self._identity()

        def call() -> Any:
            return Entrez.esearch(**params, **ident)

        def check(body: bytes) -> dict[str, Any]:
            return _read_esearch(body, term)

        reply, record = self._request("esearch", call, params, check, term)
        notes = _search_warnings(record, term)
        return SearchResult(
            count=int(record.get("Count", 0)),
            ids=[str(i) for i in record.get("IdList", [])],
            query_translation=str(record["QueryTranslation"]) if record.get("QueryTranslation") else None,
            webenv=str(record["WebEnv"]) if record.get("WebEnv") else None,
            query_key=str(record["QueryKey"]) if record.get("QueryKey") else None,
            warnings=notes,
            reply=reply,
        )

    def efetch_history(
        self, webenv: str, query_key: str, retstart: int, retmax: int, *, query: str | None = None
    ) -> tuple[Reply, list[Record]]:
        """Fetch PubMed XML for records ``retstart .. retstart+retmax`` of a history search."""
        params: dict[str, Any] = {
            "db": "pubmed",
            "WebEnv": webenv,
            "query_key": query_key,
            "retstart": retstart,
            "retmax": retmax,
            "retmode": "xml",
        }
        return self._efetch(params, query)

    def efetch_ids(self, pmids: Sequence[str], *, query: str | None = None) -> tuple[Reply, list[Record]]:
        """Fetch PubMed XML for a list of PMIDs (POST when long, as Bio.Entrez decides)."""
        params: dict[str, Any] = {"db": "pubmed", "id": ",".join(pmids), "retmode": "xml"}
        return self._efetch(params, query)

    def _efetch(self, params: dict[str, Any], query: str | None) -> tuple[Reply, list[Record]]:
        ident = self._identity()

        def call() -> Any:
            return Entrez.efetch(**params, **ident)

        def check(body: bytes) -> list[Record]:
            try:
                return parse_pubmed_xml_bytes(body, name="efetch reply")
            except EntrezError as exc:
                raise EntrezError(str(exc), query=query) from exc

        return self._request("efetch", call, params, check, query)


def _far_future() -> str:
    return f"{dt.date.today().year + 5}/12/31"


def _http_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read(300).decode("utf-8", "replace").strip() if exc.fp is not None else ""
    except Exception:
        body = ""
    return f" ({body[:200]})" if body else ""


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), if any."""
    value = exc.headers.get("Retry-After") if exc.headers is not None else None
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _read_esearch(body: bytes, term: str) -> dict[str, Any]:
    """Parse an esearch reply with Bio.Entrez.read; ERROR and non-XML replies become errors."""
    head = body.lstrip()[:300].lower()
    if head.startswith(b"<html") or head.startswith(b"<!doctype html"):
        raise InputError("esearch replied with an HTML page instead of XML")
    try:
        record = Entrez.read(io.BytesIO(body))
    except RuntimeError as exc:  # Bio.Entrez raises RuntimeError for <ERROR>text</ERROR>
        raise EntrezError(f"PubMed refused the search: {exc}", query=term) from exc
    except EntrezParser.NotXMLError as exc:
        raise InputError(f"esearch reply is not XML: {exc}") from exc
    except EntrezParser.CorruptedXMLError as exc:
        raise InputError(f"esearch reply is cut off or corrupted: {exc}") from exc
    except Exception as exc:  # expat errors on truncated bodies
        if type(exc).__name__ == "ExpatError":
            raise InputError(f"esearch reply is malformed XML: {exc}") from exc
        raise
    if not isinstance(record, dict) or "Count" not in record:
        raise EntrezError(f"esearch reply has no <Count>: {body[:200]!r}", query=term)
    return dict(record)


def _search_warnings(record: dict[str, Any], term: str) -> list[str]:
    """NCBI's ErrorList/WarningList as messages; an unknown field tag is an error."""
    notes: list[str] = []
    errors = record.get("ErrorList") or {}
    fields = [str(f) for f in errors.get("FieldNotFound", []) or []]
    if fields:
        raise EntrezError(
            f"PubMed does not know the field tag(s) {', '.join(fields)}: fix the query "
            "(PubMed would otherwise search without them)",
            query=term,
        )
    for phrase in errors.get("PhraseNotFound", []) or []:
        notes.append(f"phrase not found in PubMed: {phrase}")
    warns = record.get("WarningList") or {}
    for phrase in warns.get("QuotedPhraseNotFound", []) or []:
        notes.append(f"quoted phrase not found: {phrase}")
    for phrase in warns.get("PhraseIgnored", []) or []:
        notes.append(f"phrase ignored by PubMed: {phrase}")
    for message in warns.get("OutputMessage", []) or []:
        notes.append(f"PubMed says: {message}")
    return notes


# --- splitting a search past 9,999 records by publication date ----------------------------


def _as_date(text: str, *, end: bool) -> dt.date:
    parts = [int(p) for p in text.replace("-", "/").split("/") if p.strip()]
    if not parts:
        raise InputError(f"date must be YYYY, YYYY/MM or YYYY/MM/DD, got {text!r}")
    year = parts[0]
    month = parts[1] if len(parts) > 1 else (12 if end else 1)
    if len(parts) > 2:
        day = parts[2]
    elif end:
        day = ((dt.date(year + (month == 12), month % 12 + 1, 1)) - dt.timedelta(days=1)).day
    else:
        day = 1
    return dt.date(year, month, day)


def _fmt(day: dt.date) -> str:
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def plan_date_parts(
    client: EntrezClient,
    term: str,
    total: int,
    *,
    mindate: str | None = None,
    maxdate: str | None = None,
    limit: int = MAX_RETRIEVABLE,
    on_count: Callable[[DatePart], None] | None = None,
) -> list[DatePart]:
    """Split a search by publication date until each part has at most ``limit`` records.

    Halves the date range recursively (esearch ``retmax=0`` counts each half). The parts'
    counts must add up to ``total`` (the count of the whole search), else records would be
    silently missing: that, and a single day holding more than ``limit`` records, raise
    :class:`EntrezError`.
    """
    lo = (
        _as_date(mindate, end=False) if mindate else dt.date(1700, 1, 1)
    )  # PubMed's oldest records are from the 1780s
    hi = _as_date(maxdate, end=True) if maxdate else _as_date(_far_future(), end=True)
    parts: list[DatePart] = []

    def count(a: dt.date, b: dt.date) -> DatePart:
        result = client.esearch(term, mindate=_fmt(a), maxdate=_fmt(b))
        part = DatePart(_fmt(a), _fmt(b), result.count)
        if on_count is not None:
            on_count(part)
        return part

    def split(a: dt.date, b: dt.date, known: DatePart) -> None:
        if known.count <= limit:
            if known.count > 0:
                parts.append(known)
            return
        if a == b:
            raise EntrezError(
                f"{known.count} records have the publication date {_fmt(a)}, more than the {limit} "
                "PubMed serves for one search: narrow the query",
                query=term,
            )
        mid = a + (b - a) // 2
        left = count(a, mid)
        right = count(mid + dt.timedelta(days=1), b)
        if left.count + right.count != known.count:
            raise EntrezError(
                f"PubMed counts do not add up when splitting {_fmt(a)}-{_fmt(b)} by publication date: "
                f"{left.count} + {right.count} != {known.count}; run the search again",
                query=term,
            )
        split(a, mid, left)
        split(mid + dt.timedelta(days=1), b, right)

    whole = count(lo, hi)
    if whole.count != total:
        raise EntrezError(
            f"the search finds {total} records but {whole.count} when limited to publication dates "
            f"{_fmt(lo)}-{_fmt(hi)}: some records have no usable publication date, so it cannot be "
            "split to get past PubMed's 9,999-record limit; narrow the query",
            query=term,
        )
    split(lo, hi, whole)
    if sum(p.count for p in parts) != total:
        raise EntrezError(
            f"date parts hold {sum(p.count for p in parts)} records, the search {total}", query=term
        )
    return parts
