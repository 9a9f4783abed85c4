"""``run_searches`` end to end through Bio.Entrez against a local E-utilities server on 127.0.0.1.

The server (:class:`review.sources.replay.ReplayServer`) serves the real PubMed articles of
../shared/fixtures/fetched/biopython/entrez, repeated with new PMIDs for paging, and injects
the faults NCBI shows under load. No test touches the network.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from review.errors import EntrezError
from review.project import Project, project_status
from review.project.search import run_searches
from review.sources.entrez import EntrezClient
from review.sources.replay import ReplayServer, repeat_articles, spread_dates

QUERY_LABELS = ("crps-ketamine", "crps-other-treatments")


def fast_client(url: str, **kwargs: Any) -> EntrezClient:
    """A client whose back-off waits are milliseconds (Retry-After is still honoured).

    With an API key Bio.Entrez spaces requests 0.1 s apart instead of 0.37 s.
    """
    kwargs.setdefault("api_key", "test-key")
    return EntrezClient(eutils_url=url, email="test@example.org", backoff_base=0.01, **kwargs)


@pytest.fixture
def replay(pubmed_articles: list[str]) -> Iterator[Any]:
    """Factory: a started ReplayServer over ``n`` copies of the real articles (stopped after)."""
    servers: list[ReplayServer] = []

    def make(n: int = 40, **kwargs: Any) -> ReplayServer:
        arts = repeat_articles(pubmed_articles, n)
        kwargs.setdefault("dates", spread_dates(n))
        server = ReplayServer(arts, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def _records_once(project: Project, n: int) -> None:
    status = project_status(project)
    assert status["records"] == n
    rows = project.store.conn.execute("SELECT COUNT(DISTINCT source_id), COUNT(*) FROM records").fetchone()
    assert rows == (n, n)


def test_faults_then_every_record_once_and_rerun_adds_none(project: Project, replay: Any) -> None:
    server = replay(130, faults=["429", "500", "drop", "truncate", "html"], retry_after=1)
    client = fast_client(server.url)
    runs = run_searches(project, client=client, batch_size=50, progress=False)
    assert [r.label for r in runs] == list(QUERY_LABELS)
    first, second = runs
    assert (first.count, first.retrieved, first.new_records) == (130, 130, 130)
    assert (second.count, second.retrieved, second.new_records) == (130, 130, 0)
    _records_once(project, 130)
    # each fault was met and retried once; the 429 waited its Retry-After
    assert len(client.retries) == 5
    assert "HTTP 429" in client.retries[0] and "in 1.0s" in client.retries[0]
    assert "HTTP 500" in client.retries[1]
    assert "connection dropped" in client.retries[2]
    assert "truncated" in client.retries[3]
    assert "HTML page" in client.retries[4]
    # the second query's records were all stored: linked without fetching them again
    efetches = [r for r in server.requests if r[0] == "efetch"]
    assert len(efetches) == 5 + 3

    again = run_searches(project, client=client, batch_size=50, progress=False)
    assert [r.new_records for r in again] == [0, 0]
    assert [r.retrieved for r in again] == [130, 130]
    _records_once(project, 130)
    assert project_status(project)["searches"] == 4


def test_search_log_for_prisma_s_and_raw_replies(project: Project, replay: Any) -> None:
    server = replay(30)
    run_searches(project, client=fast_client(server.url), labels=["crps-ketamine"], progress=False)
    (row,) = project.store.list_searches()
    spec = project.protocol.searches[0]
    assert row.database == "pubmed" and row.label == "crps-ketamine"
    assert row.query == spec.query
    assert row.query_translation == spec.query  # the replay echoes the term as its translation
    assert (row.count, row.retrieved, row.new_records, row.status) == (30, 30, 30, "complete")
    assert row.eutils_url == server.url
    assert row.software_version and row.started_at <= (row.finished_at or "")
    assert row.params["datetype"] == "pdat"
    assert len(project.store.search_hit_ids(row.id)) == 30
    responses = project.store.search_responses(row.id)
    assert [r.endpoint for _, r in responses] == ["esearch", "esearch", "efetch"]
    for _, resp in responses:
        body = gzip.decompress((project.root / resp.path).read_bytes())
        assert hashlib.sha256(body).hexdigest() == resp.sha256 and len(body) == resp.bytes
        assert "api_key" not in resp.params and "email" not in resp.params
    assert responses[1][1].params["usehistory"] == "y"
    assert responses[2][1].params["WebEnv"] == "MCID_replay"


def test_split_by_publication_date_past_the_cap(project: Project, replay: Any) -> None:
    server = replay(61, cap=10)
    runs = run_searches(
        project,
        client=fast_client(server.url),
        labels=["crps-ketamine"],
        batch_size=4,
        progress=False,
        max_retrievable=10,
    )
    (run,) = runs
    assert run.count == 61 and run.retrieved == 61 and run.parts >= 7
    _records_once(project, 61)
    parts = project.store.get_search(run.search_id).state["parts"]
    assert sum(p["count"] for p in parts) == 61 and all(p["count"] <= 10 for p in parts)
    # no efetch ever asked past the cap
    assert all(int(p.get("retstart", 0)) < 10 for name, _, p in server.requests if name == "efetch")


def test_more_than_the_cap_on_one_day_is_a_clear_error(project: Project, replay: Any) -> None:
    import datetime as dt

    server = replay(12, cap=5, dates=[dt.date(2020, 1, 1)] * 12)
    with pytest.raises(
        EntrezError, match=r"12 records have the publication date 2020/01/01, more than the 5"
    ):
        run_searches(
            project,
            client=fast_client(server.url),
            labels=["crps-ketamine"],
            progress=False,
            max_retrievable=5,
        )
    (row,) = project.store.list_searches()
    assert row.status == "failed" and "2020/01/01" in (row.error or "")
    assert project_status(project)["searches"] == 0


def test_interrupted_fetch_resumes_and_stores_each_record_once(project: Project, replay: Any) -> None:
    server = replay(100)
    client = fast_client(server.url)
    real = client.efetch_history
    calls = {"n": 0}

    def dying(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C (or the process was killed) here
        return real(*args, **kwargs)

    client.efetch_history = dying  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        run_searches(project, client=client, labels=["crps-ketamine"], batch_size=20, progress=False)
    assert project.store.record_count() == 40  # two whole batches, nothing half-written
    assert project_status(project)["searches"] == 0

    client.efetch_history = real  # type: ignore[method-assign]
    before = sum(1 for r in server.requests if r[0] == "efetch")
    (run,) = run_searches(project, client=client, labels=["crps-ketamine"], batch_size=20, progress=False)
    assert run.resumed and run.search_id == 1
    assert (run.retrieved, run.new_records) == (100, 100)
    assert sum(1 for r in server.requests if r[0] == "efetch") - before == 3  # only the 3 missing batches
    _records_once(project, 100)
    assert project_status(project)["searches"] == 1


def test_esearch_error_reply_is_a_clear_error(project: Project, replay: Any) -> None:
    server = replay(5, esearch_faults=["error"])
    with pytest.raises(EntrezError, match=r"PubMed refused the search: Invalid query \(query: \("):
        run_searches(project, client=fast_client(server.url), labels=["crps-ketamine"], progress=False)
    assert project.store.list_searches()[0].status == "failed"


def test_efetch_error_reply_is_a_clear_error(project: Project, replay: Any) -> None:
    server = replay(5, faults=["error"])
    with pytest.raises(EntrezError, match="E-utilities replied with an error: Backend unavailable"):
        run_searches(project, client=fast_client(server.url), labels=["crps-ketamine"], progress=False)


def test_phrase_not_found_is_a_warning_on_the_run(project: Project, replay: Any) -> None:
    server = replay(5, phrase_not_found=["Sudeck*"])
    (run,) = run_searches(project, client=fast_client(server.url), labels=["crps-ketamine"], progress=False)
    assert run.warnings == ["phrase not found in PubMed: Sudeck*"]
    assert project.store.get_search(run.search_id).state["warnings"] == run.warnings
    assert run.retrieved == 5


def test_gives_up_after_bounded_retries(project: Project, replay: Any) -> None:
    server = replay(5, faults=["500"] * 10)
    client = fast_client(server.url, max_attempts=3)
    with pytest.raises(
        EntrezError,
        match=r"efetch at http://127\.0\.0\.1:\d+/entrez/eutils/ failed 3 times; last error: HTTP 500",
    ):
        run_searches(project, client=client, labels=["crps-ketamine"], progress=False)
    assert len(client.retries) == 2
    # the next run resumes the failed one and completes it
    (run,) = run_searches(project, client=fast_client(server.url), labels=["crps-ketamine"], progress=False)
    assert run.resumed and run.retrieved == 5


def test_efetch_by_id_posts_long_lists(replay: Any) -> None:
    server = replay(250)
    client = fast_client(server.url)
    pmids = [str(90000001 + i) for i in range(250)]
    _, records = client.efetch_ids(pmids)
    assert [r.pmid for r in records] == pmids
    assert server.requests[-1][:2] == ("efetch", "POST")  # Bio.Entrez posts 200+ ids
    _, records = client.efetch_ids(pmids[:3])
    assert server.requests[-1][:2] == ("efetch", "GET") and len(records) == 3


def test_esearch_paging_and_the_retstart_cap(replay: Any) -> None:
    server = replay(30, cap=10)
    client = fast_client(server.url)
    page = client.esearch("x", retmax=5, retstart=5)
    assert page.count == 30 and page.ids == [str(90000006 + i) for i in range(5)]
    with pytest.raises(EntrezError, match="'retstart' cannot be larger than 9"):
        client.esearch("x", retmax=5, retstart=10)
    dated = client.esearch("x", mindate="1990", maxdate="2001/06", retmax=100)
    # 30 dates ~426 days apart from 1990-01-01: the first 10 fall before July 2001
    assert [d.isoformat() for d in spread_dates(30)[9:11]] == ["2000-07-02", "2001-09-01"]
    assert dated.count == len(dated.ids) == 10
    assert dated.reply.params == {
        "db": "pubmed",
        "term": "x",
        "retmax": 100,
        "retstart": 0,
        "datetype": "pdat",
        "mindate": "1990",
        "maxdate": "2001/06",
    }
    sent = server.requests[-1][2]
    assert (sent["api_key"], sent["email"], sent["tool"]) == ("test-key", "test@example.org", "review")


def test_expired_history_key_is_searched_again(project: Project, replay: Any) -> None:
    server = replay(12, faults=["expired"])
    (run,) = run_searches(project, client=fast_client(server.url), labels=["crps-ketamine"], progress=False)
    assert run.retrieved == 12
    names = [name for name, _, _ in server.requests]
    assert names == ["esearch", "esearch", "efetch", "esearch", "efetch"]


def test_timeouts_are_retried_then_reported(replay: Any) -> None:
    server = replay(3, delay=1.0)
    client = fast_client(server.url, timeout=0.2, max_attempts=2)
    with pytest.raises(EntrezError, match=r"efetch .* failed 2 times; last error: timed out after 0.2s"):
        client.efetch_ids(["90000001"])
    assert len(client.retries) == 1


def test_records_left_out_of_a_history_batch_are_fetched_by_id(project: Project, replay: Any) -> None:
    server = replay(30, omit=["90000007", "90000021"])
    (run,) = run_searches(
        project, client=fast_client(server.url), labels=["crps-ketamine"], batch_size=10, progress=False
    )
    assert run.retrieved == 30
    _records_once(project, 30)
    by_id = [p["id"] for name, _, p in server.requests if name == "efetch" and "id" in p]
    assert by_id == ["90000007", "90000021"]
