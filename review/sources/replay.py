"""A local stand-in for NCBI E-utilities that serves given PubMed articles over real HTTP.

Used by the tests (as a pytest fixture) and by the offline demo, so that ``review search``
runs the same Bio.Entrez code path with no network::

    from review.sources.replay import ReplayServer, articles_from_files

    articles = articles_from_files(["pubmed1.xml", "pubmed2.xml"])   # <PubmedArticle> strings
    with ReplayServer(articles, faults=["429", "500"]) as server:
        run_searches(project, eutils_url=server.url)                  # http://127.0.0.1:PORT/entrez/eutils/

What it serves, like PubMed does:

* ``esearch.fcgi``: every query finds all articles (or those ``select(term)`` returns), in the
  order given; ``Count``, paging with ``retstart``/``retmax`` (``retstart`` above 9,998 is
  refused with PubMed's own error), ``mindate``/``maxdate`` on each article's publication date
  (``datetype=pdat``), ``usehistory=y`` (``WebEnv``/``QueryKey``), ``QueryTranslation``;
* ``efetch.fcgi``: PubMed XML for a history search (only its first 9,999 records) or an
  ``id`` list, by GET or POST.

``faults`` makes the first efetch calls fail, in order, as NCBI's do under load: ``"429"``
(with ``Retry-After``), ``"500"``, ``"drop"`` (connection closed with no reply),
``"truncate"`` (a 200 whose XML is cut off halfway), ``"html"`` (an HTML error page),
``"error"`` (an ``<ERROR>`` reply) and ``"expired"`` (efetch: the history key is gone).
``esearch_faults`` does the same for esearch calls, and ``phrase_not_found`` lists phrases
reported in esearch's ``ErrorList`` as PubMed does.
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Collection, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "FAULTS",
    "ReplayServer",
    "article_date",
    "articles_from_files",
    "articles_from_text",
    "repeat_articles",
    "spread_dates",
]

#: Fault kinds a ReplayServer can inject.
FAULTS = frozenset({"429", "500", "503", "drop", "truncate", "html", "error", "expired"})
_CAP = 9999
_CAP_ERROR = (
    "Search Backend failed: Exception:\n'retstart' cannot be larger than 9998. For PubMed, "
    "ESearch can only retrieve the first 9,999 records matching the query."
)
_HEAD_SEARCH = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch '
    '20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
_HEAD_FETCH = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January '
    '2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)
_ARTICLE = re.compile(r"<(PubmedArticle|PubmedBookArticle)>.*?</\1>", re.S)
_PMID = re.compile(r"<PMID[^>]*>\s*(\d+)\s*</PMID>")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}


def articles_from_text(text: str) -> list[str]:
    """The ``<PubmedArticle>`` / ``<PubmedBookArticle>`` elements of a PubMed XML text."""
    return [m.group(0) for m in _ARTICLE.finditer(text)]


def articles_from_files(paths: Iterable[str | Path]) -> list[str]:
    """The article elements of PubMed XML files (``.gz`` too, e.g. a project's saved replies)."""
    out: list[str] = []
    for path in paths:
        p = Path(path)
        data = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        out += articles_from_text(data.decode("utf-8"))
    return out


def repeat_articles(articles: Sequence[str], n: int, *, first_pmid: int = 90000001) -> list[str]:
    """``n`` copies of real articles, cycling through them, each with its own PMID and DOI.

    Lets a few real records stand in for a big search (paging, batching, the 9,999 cap), as
    the acceptance checks' ``eutils_replay.py`` does.
    """
    if not articles:
        raise ValueError("no articles to repeat")
    out = []
    for i in range(n):
        pmid = str(first_pmid + i)
        art = re.sub(
            r"(<(?:MedlineCitation|BookDocument)[^>]*>\s*<PMID[^>]*>)\d+(</PMID>)",
            rf"\g<1>{pmid}\2",
            articles[i % len(articles)],
            count=1,
        )
        art = re.sub(r'(<ArticleId IdType="pubmed">)\d+(</ArticleId>)', rf"\g<1>{pmid}\2", art, count=1)
        art = re.sub(r'(IdType="doi"[^>]*>)([^<]+)(<)', rf"\g<1>\g<2>.r{i}\g<3>", art)
        out.append(art)
    return out


def spread_dates(n: int, *, start: dt.date = dt.date(1990, 1, 1), years: float = 35.0) -> list[dt.date]:
    """``n`` publication dates spread evenly over ``years`` from ``start`` (for ``dates=``)."""
    span = years * 365.25
    return [start + dt.timedelta(days=int(i * span / max(n, 1))) for i in range(n)]


def _pmid(article: str) -> str:
    match = _PMID.search(article)
    if not match:
        raise ValueError(f"article without <PMID>: {article[:120]!r}")
    return match.group(1)


def article_date(article: str) -> dt.date | None:
    """An article's publication date as PubMed's ``pdat`` uses it (PubDate, MedlineDate, ...)."""
    block = re.search(r"<PubDate>(.*?)</PubDate>", article, re.S)
    if block is None:
        block = re.search(r"<ArticleDate[^>]*>(.*?)</ArticleDate>", article, re.S)
    if block is None:
        return None
    inner = block.group(1)
    year = re.search(r"<Year>\s*(\d{4})", inner) or re.search(r"(\d{4})", inner)
    if year is None:
        return None
    month_text = re.search(r"<Month>\s*([^<]+?)\s*</Month>", inner)
    month = 1
    if month_text:
        value = month_text.group(1)
        month = int(value) if value.isdigit() else _MONTHS.get(value[:3].lower(), 1)
    else:
        medline = re.search(r"<MedlineDate>\s*\d{4}\s+([A-Za-z]{3})", inner)
        if medline:
            month = _MONTHS.get(medline.group(1).lower(), 1)
    day_text = re.search(r"<Day>\s*(\d+)", inner)
    day = int(day_text.group(1)) if day_text else 1
    try:
        return dt.date(int(year.group(1)), month, day)
    except ValueError:
        return dt.date(int(year.group(1)), month, 1)


def _to_date(text: str, *, end: bool) -> dt.date:
    parts = [int(x) for x in text.replace("-", "/").split("/") if x.strip()]
    y = parts[0]
    m = parts[1] if len(parts) > 1 else None
    d = parts[2] if len(parts) > 2 else None
    if end and m is None:
        return dt.date(y, 12, 31)
    if end and d is None:
        assert m is not None
        return dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date(y, m or 1, d or 1)


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that stays quiet when a client hangs up (a time-out test does)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class ReplayServer:
    """A threaded HTTP server on 127.0.0.1 answering esearch/efetch from a list of articles.

    Parameters
    ----------
    articles
        PubMed XML ``<PubmedArticle>`` strings (see :func:`articles_from_files`); PMIDs must differ.
    faults
        Failures for the first efetch calls, in order (kinds in :data:`FAULTS`).
    esearch_faults
        The same for the first esearch calls.
    dates
        Publication date of each article; read from the article's PubDate when not given.
    select
        ``select(term)`` -> PMIDs that query finds (default: every article).
    phrase_not_found
        Phrases esearch reports as not found (``ErrorList/PhraseNotFound``), with a warning.
    retry_after
        Seconds sent in ``Retry-After`` with a 429.
    cap
        Records one search serves (PubMed: 9,999); lower it to test splitting with few articles.
    delay
        Seconds to wait before answering each efetch (a slow server, to interrupt a search).
    omit
        PMIDs that efetch from the history server silently leaves out (PubMed does this now and
        then); efetch by id still returns them.
    port
        Port to listen on (0: any free port).
    """

    def __init__(
        self,
        articles: Sequence[str],
        *,
        faults: Sequence[str] = (),
        esearch_faults: Sequence[str] = (),
        dates: Sequence[dt.date] | None = None,
        select: Callable[[str], Collection[str]] | None = None,
        phrase_not_found: Sequence[str] = (),
        retry_after: int = 1,
        cap: int = _CAP,
        delay: float = 0.0,
        omit: Collection[str] = (),
        port: int = 0,
    ) -> None:
        for kind in [*faults, *esearch_faults]:
            if kind not in FAULTS:
                raise ValueError(f"unknown fault {kind!r}; choose from {sorted(FAULTS)}")
        self.pool: dict[str, str] = {}
        for art in articles:
            pmid = _pmid(art)
            if pmid in self.pool:
                raise ValueError(f"PMID {pmid} given twice")
            self.pool[pmid] = art
        self.order = list(self.pool)
        if dates is not None and len(dates) != len(self.order):
            raise ValueError(f"{len(dates)} dates for {len(self.order)} articles")
        self.dates: dict[str, dt.date | None] = {
            pmid: (dates[i] if dates is not None else article_date(self.pool[pmid]))
            for i, pmid in enumerate(self.order)
        }
        self.faults = list(faults)
        self.esearch_faults = list(esearch_faults)
        self.select = select
        self.phrase_not_found = list(phrase_not_found)
        self.retry_after = retry_after
        self.cap = cap
        self.delay = delay
        self.omit = frozenset(omit)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.calls = {"esearch": 0, "efetch": 0}
        self._history: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The E-utilities base URL to pass as ``eutils_url``."""
        return f"http://127.0.0.1:{self.port}/entrez/eutils/"

    def start(self) -> ReplayServer:
        """Serve in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="eutils-replay", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (for a command-line stand-in)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    # --- answers ------------------------------------------------------------------------------

    def _found(self, params: dict[str, str]) -> list[str]:
        term = params.get("term", "")
        ids = self.order
        if self.select is not None:
            chosen = set(self.select(term))
            ids = [i for i in ids if i in chosen]
        if params.get("mindate") or params.get("maxdate"):
            lo = _to_date(params.get("mindate") or "1800", end=False)
            hi = _to_date(params.get("maxdate") or "3000", end=True)
            ids = [i for i in ids if (d := self.dates[i]) is not None and lo <= d <= hi]
        return ids

    def esearch(self, params: dict[str, str]) -> tuple[int, str]:
        """Answer an esearch call: (HTTP status, body)."""
        start, size = int(params.get("retstart", 0) or 0), int(params.get("retmax", 20) or 0)
        if start > self.cap - 1:
            message = _CAP_ERROR.replace("9998", str(self.cap - 1)).replace("9,999", f"{self.cap:,}")
            return 200, _HEAD_SEARCH + f"<eSearchResult><ERROR>{message}</ERROR></eSearchResult>"
        found = self._found(params)
        page = found[start : start + size]
        history = ""
        if params.get("usehistory") == "y":
            with self._lock:
                key = str(len(self._history) + 1)
                self._history[key] = found[: self.cap]
            history = f"<QueryKey>{key}</QueryKey><WebEnv>MCID_replay</WebEnv>"
        term = _escape(params.get("term", ""))
        notes = ""
        if self.phrase_not_found:
            notes = (
                "<ErrorList>"
                + "".join(f"<PhraseNotFound>{_escape(p)}</PhraseNotFound>" for p in self.phrase_not_found)
                + "</ErrorList>"
            )
            if not found:
                notes += "<WarningList><OutputMessage>No items found.</OutputMessage></WarningList>"
        body = (
            f"<eSearchResult><Count>{len(found)}</Count><RetMax>{len(page)}</RetMax><RetStart>{start}</RetStart>"
            f"{history}<IdList>"
            + "".join(f"<Id>{i}</Id>" for i in page)
            + f"</IdList><TranslationSet/><QueryTranslation>{term}</QueryTranslation>{notes}</eSearchResult>"
        )
        return 200, _HEAD_SEARCH + body

    def efetch(self, params: dict[str, str]) -> tuple[int, str]:
        """Answer an efetch call: (HTTP status, body)."""
        if "id" in params:
            want = [i.strip() for i in params["id"].split(",") if i.strip() in self.pool]
        else:
            start, size = int(params.get("retstart", 0) or 0), int(params.get("retmax", 20) or 0)
            with self._lock:
                found = self._history.get(params.get("query_key", ""))
            if found is None or params.get("WebEnv") != "MCID_replay":
                return 200, (
                    '<?xml version="1.0" ?><eFetchResult><ERROR>Cannot retrieve query from history'
                    "</ERROR></eFetchResult>"
                )
            want = [i for i in found[start : start + size] if i not in self.omit]
        return 200, _HEAD_FETCH + "<PubmedArticleSet>\n" + "\n".join(
            self.pool[i] for i in want
        ) + "\n</PubmedArticleSet>\n"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _params(self) -> dict[str, str]:
                query = urllib.parse.urlsplit(self.path).query
                if self.command == "POST":
                    length = int(self.headers.get("Content-Length", 0) or 0)
                    query += "&" + self.rfile.read(length).decode("utf-8")
                return {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}

            def _send(self, code: int, body: str, headers: Sequence[tuple[str, str]] = ()) -> None:
                data = body.encode("utf-8")
                self.send_response(code)
                self.send_header("Content-Type", "text/xml; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _fault(self, kind: str, name: str, answer: Callable[[], tuple[int, str]]) -> None:
                if kind == "429":
                    self._send(
                        429, '{"error":"API rate limit exceeded"}', [("Retry-After", str(server.retry_after))]
                    )
                elif kind in ("500", "503"):
                    self._send(int(kind), "<html><body>Internal Server Error</body></html>")
                elif kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                elif kind == "html":
                    self._send(
                        200, "<html><head><title>Service unavailable</title></head><body>busy</body></html>"
                    )
                elif kind == "error" and name == "esearch":
                    self._send(
                        200, _HEAD_SEARCH + "<eSearchResult><ERROR>Invalid query</ERROR></eSearchResult>"
                    )
                elif kind == "expired":
                    self._send(
                        200,
                        '<?xml version="1.0" ?><eFetchResult><ERROR>Cannot retrieve query from history'
                        "</ERROR></eFetchResult>",
                    )
                elif kind == "error":
                    self._send(
                        200,
                        '<?xml version="1.0" ?><eFetchResult><ERROR>Backend unavailable</ERROR></eFetchResult>',
                    )
                else:  # truncate
                    code, body = answer()
                    self._send(code, body[: len(body) // 2])

            def do_GET(self) -> None:
                params = self._params()
                name = urllib.parse.urlsplit(self.path).path.rsplit("/", 1)[-1].removesuffix(".fcgi")
                with server._lock:
                    server.requests.append((name, self.command, params))
                    if name in server.calls:
                        server.calls[name] += 1
                    pending = (
                        server.faults
                        if name == "efetch"
                        else server.esearch_faults
                        if name == "esearch"
                        else []
                    )
                    kind = pending.pop(0) if pending else None
                if name == "esearch":
                    answer = lambda: server.esearch(params)  # noqa: E731
                elif name == "efetch":
                    answer = lambda: server.efetch(params)  # noqa: E731
                else:
                    self._send(404, "<html><body>not found</body></html>")
                    return
                if name == "efetch" and server.delay:
                    time.sleep(server.delay)
                if kind is not None:
                    self._fault(kind, name, answer)
                    return
                self._send(*answer())

            do_POST = do_GET

        return Handler


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
