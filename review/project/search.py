"""Run the protocol's PubMed queries into the project store, logged for PRISMA-S.

For each query: esearch (count, NCBI's query translation, warnings); a search of more than
9,999 records is split by publication date (:func:`review.sources.entrez.plan_date_parts`);
each part is searched again with the history server and fetched with efetch in batches from
it (WebEnv/query_key), parsed by the streaming PubMed XML parser and stored. Every reply is
saved under ``raw/search-<id>/`` with its SHA-256 in ``search_responses``.

Re-running never duplicates: records are unique by (source='pubmed', PMID); a batch whose
records are all stored already is linked to the run without being fetched again, so a run
killed midway resumes where it stopped (the interrupted run's row is reused), and a rerun
of a finished search fetches only records it has not seen.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from review.errors import EntrezError, InputError, ReviewError
from review.project import Project
from review.protocol import SearchSpec
from review.sources.entrez import (
    MAX_RETRIEVABLE,
    NCBI_EUTILS,
    DatePart,
    EntrezClient,
    Reply,
    plan_date_parts,
)
from review.store.searches import ResponseRow

__all__ = ["DEFAULT_BATCH_SIZE", "SearchRun", "run_search", "run_searches"]

#: Records per efetch call. NCBI allows up to 10,000 for PubMed; 1,000 keeps each reply ~15 MB.
DEFAULT_BATCH_SIZE = 1000


@dataclass
class SearchRun:
    """The outcome of one protocol query: what PRISMA-S asks to report."""

    search_id: int
    label: str
    query: str
    count: int
    retrieved: int
    new_records: int
    query_translation: str | None = None
    parts: int = 1
    resumed: bool = False
    warnings: list[str] = field(default_factory=list)
    status: str = "complete"


def _say(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


def run_searches(
    project: Project,
    eutils_url: str | None = None,
    email: str | None = None,
    api_key: str | None = None,
    tool: str = "review",
    labels: Sequence[str] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    client: EntrezClient | None = None,
    progress: bool = True,
    max_retrievable: int = MAX_RETRIEVABLE,
) -> list[SearchRun]:
    """Run the protocol's PubMed queries (all, or those named in ``labels``) and store records.

    Parameters
    ----------
    project
        The open review project.
    eutils_url
        E-utilities base URL; NCBI's by default (e.g. a :class:`review.sources.replay.ReplayServer`).
    email, api_key, tool
        Sent to NCBI; ``email`` and ``api_key`` default to ``NCBI_EMAIL`` / ``NCBI_API_KEY``.
    labels
        Run only these queries of the protocol.
    batch_size
        Records per efetch call.
    client
        A configured :class:`EntrezClient` (tests pass one with short back-off); overrides
        ``eutils_url``, ``email``, ``api_key`` and ``tool``.
    progress
        Show a tqdm progress bar on stderr.
    max_retrievable
        Records PubMed serves per search (9,999); a bigger search is split by date.
    """
    specs = list(project.protocol.searches)
    if labels:
        known = {s.label for s in specs}
        unknown = [label for label in labels if label not in known]
        if unknown:
            raise InputError(
                f"no search labelled {', '.join(map(repr, unknown))} in the protocol; "
                f"its searches are {', '.join(sorted(known))}"
            )
        specs = [s for s in specs if s.label in labels]
    if client is None:
        email = email or os.environ.get("NCBI_EMAIL") or None
        api_key = api_key or os.environ.get("NCBI_API_KEY") or None
        client = EntrezClient(eutils_url=eutils_url or NCBI_EUTILS, email=email, api_key=api_key, tool=tool)
    if not client.email and client.eutils_url == NCBI_EUTILS:
        _say("warning: no e-mail given (--email or NCBI_EMAIL); NCBI asks for one with every request")
    if client.on_retry is None:
        client.on_retry = lambda message: _say(f"retrying: {message}")
    runs = []
    for spec in specs:
        if spec.database.lower() != "pubmed":
            _say(f"{spec.label}: database {spec.database!r} is not searched here; import its export instead")
            continue
        runs.append(
            run_search(
                project,
                spec,
                client,
                batch_size=batch_size,
                progress=progress,
                max_retrievable=max_retrievable,
            )
        )
    return runs


def _save_reply(project: Project, search_id: int, reply: Reply) -> tuple[int, ResponseRow]:
    """Write a raw reply (gzip) under raw/search-<id>/ and describe it for search_responses."""
    store = project.store
    seq = store.next_response_seq(search_id)
    folder = project.raw_dir / f"search-{search_id}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{seq:05d}-{reply.endpoint}.xml.gz"
    with gzip.open(path, "wb", compresslevel=5) as fh:
        fh.write(reply.body)
    row = ResponseRow(
        endpoint=reply.endpoint,
        params=reply.params,
        path=str(path.relative_to(project.root)),
        sha256=hashlib.sha256(reply.body).hexdigest(),
        bytes=len(reply.body),
        received_at=reply.received_at,
    )
    return seq, row


def _log_reply(project: Project, search_id: int, reply: Reply) -> None:
    seq, row = _save_reply(project, search_id, reply)
    project.store.add_search_response(search_id, seq, row)


def run_search(
    project: Project,
    spec: SearchSpec,
    client: EntrezClient,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
    max_retrievable: int = MAX_RETRIEVABLE,
) -> SearchRun:
    """Run one protocol query (see the module docstring); resumes an interrupted run of it."""
    if not 1 <= batch_size <= 10000:
        raise InputError(f"batch_size must be between 1 and 10000 (NCBI's efetch limit), got {batch_size}")
    store = project.store
    params: dict[str, Any] = {
        "db": "pubmed",
        "datetype": "pdat",
        "mindate": spec.mindate,
        "maxdate": spec.maxdate,
    }
    key = {"database": "pubmed", "label": spec.label, "query": spec.query, "eutils_url": client.eutils_url}
    previous = store.unfinished_search(**key, params=params)
    resumed = previous is not None
    search_id = previous.id if previous is not None else store.start_search(**key, params=params)
    if resumed:
        done = store.search_hit_count(search_id)
        _say(f"{spec.label}: resuming interrupted search run {search_id} ({done} records already stored)")
        store.update_search(search_id, status="running", error=None)
    try:
        return _run(project, spec, client, search_id, resumed, batch_size, progress, max_retrievable)
    except (ReviewError, KeyboardInterrupt) as exc:
        message = str(exc) or type(exc).__name__
        store.finish_search(search_id, status="failed", error=message)
        raise


def _run(
    project: Project,
    spec: SearchSpec,
    client: EntrezClient,
    search_id: int,
    resumed: bool,
    batch_size: int,
    progress: bool,
    limit: int,
) -> SearchRun:
    store = project.store
    query = spec.query
    whole = client.esearch(query, mindate=spec.mindate, maxdate=spec.maxdate)
    _log_reply(project, search_id, whole.reply)
    warnings = list(whole.warnings)
    for note in warnings:
        _say(f"{spec.label}: {note}")
    state: dict[str, Any] = {"warnings": warnings, "parts": []}
    store.update_search(search_id, count=whole.count, query_translation=whole.query_translation, state=state)

    if whole.count <= limit:
        parts = [DatePart(spec.mindate, spec.maxdate, whole.count)] if whole.count else []
    else:
        _say(f"{spec.label}: {whole.count} hits, more than PubMed's {limit}: splitting by publication date")
        parts = plan_date_parts(
            client, query, whole.count, mindate=spec.mindate, maxdate=spec.maxdate, limit=limit
        )
        _say(f"{spec.label}: {len(parts)} date parts of at most {limit} records")
    state["parts"] = [p.__dict__ for p in parts]
    store.update_search(search_id, state=state)

    bar = tqdm(
        total=whole.count,
        desc=spec.label,
        unit="rec",
        file=sys.stderr,
        disable=not progress,
        initial=0,
    )
    try:
        for index, part in enumerate(parts):
            _fetch_part(project, spec, client, search_id, part, index, batch_size, bar, state, limit)
    finally:
        bar.close()

    row = store.get_search(search_id)
    retrieved = store.search_hit_count(search_id)
    missing = whole.count - retrieved
    if missing > 0:
        note = f"{missing} of {whole.count} records could not be retrieved from PubMed"
        warnings.append(note)
        _say(f"{spec.label}: warning: {note}")
        store.update_search(search_id, state=state)
    final = store.finish_search(search_id, status="complete")
    return SearchRun(
        search_id=search_id,
        label=spec.label,
        query=query,
        count=whole.count,
        retrieved=final.retrieved,
        new_records=row.new_records,
        query_translation=whole.query_translation,
        parts=len(parts),
        resumed=resumed,
        warnings=warnings,
    )


def _fetch_part(
    project: Project,
    spec: SearchSpec,
    client: EntrezClient,
    search_id: int,
    part: DatePart,
    index: int,
    batch_size: int,
    bar: tqdm,
    state: dict[str, Any],
    limit: int = MAX_RETRIEVABLE,
) -> None:
    """Search one date part with the history server and fetch its records in batches."""
    store = project.store
    query = spec.query
    result = client.esearch(
        query,
        usehistory=True,
        retmax=min(max(part.count, 1), limit),
        mindate=part.mindate,
        maxdate=part.maxdate,
    )
    _log_reply(project, search_id, result.reply)
    if result.count > limit:
        raise EntrezError(
            f"date part {index + 1} ({part.mindate}-{part.maxdate}) now has {result.count} records, "
            f"more than PubMed's {limit}: run the search again to split it anew",
            query=query,
        )
    if result.count != part.count:
        _say(f"{spec.label}: date part {index + 1} had {part.count} records and now {result.count}")
    if not result.webenv or not result.query_key:
        raise EntrezError("esearch with usehistory=y returned no WebEnv/QueryKey", query=query)
    ids = result.ids
    already = store.search_hit_pmids(search_id)
    webenv, query_key = result.webenv, result.query_key
    for start in range(0, result.count, batch_size):
        window = ids[start : start + batch_size] if ids else []
        todo = [pmid for pmid in window if pmid not in already]
        if window and not todo:  # this batch is stored and linked already (an interrupted run)
            bar.update(len(window))
            continue
        stored = store.pubmed_record_ids(todo)
        if window and len(stored) == len(todo):  # all in the store from other searches: link them
            store.store_search_batch(search_id, [], known_ids=stored.values())
            already.update(todo)
            bar.update(len(window))
            continue
        size = min(batch_size, result.count - start)
        try:
            reply, records = client.efetch_history(webenv, query_key, start, size, query=query)
        except EntrezError as exc:
            if "history" not in str(exc).lower():
                raise
            # the history key expired (NCBI keeps it for a limited time): search again once
            again = client.esearch(
                query, usehistory=True, retmax=0, mindate=part.mindate, maxdate=part.maxdate
            )
            _log_reply(project, search_id, again.reply)
            if again.count != result.count or not again.webenv or not again.query_key:
                raise
            webenv, query_key = again.webenv, again.query_key
            reply, records = client.efetch_history(webenv, query_key, start, size, query=query)
        response = _save_reply(project, search_id, reply)
        state.setdefault("batches", 0)
        state["batches"] += 1
        store.store_search_batch(search_id, records, response=response, state=state)
        got = {r.source_id for r in records}
        already.update(got)
        lost = [pmid for pmid in window if pmid not in got and pmid not in already]
        if lost:
            _fetch_by_id(project, client, search_id, lost, query, state)
            already.update(lost)
        bar.update(size)


def _fetch_by_id(
    project: Project,
    client: EntrezClient,
    search_id: int,
    pmids: list[str],
    query: str,
    state: dict[str, Any],
) -> None:
    """Fetch by PMID the records a history batch left out; note any PubMed did not return."""
    reply, records = client.efetch_ids(pmids, query=query)
    response = _save_reply(project, search_id, reply)
    got = {r.source_id for r in records}
    absent = [p for p in pmids if p not in got]
    if absent:
        state.setdefault("not_returned", []).extend(absent)
    project.store.store_search_batch(search_id, records, response=response, state=state)


def replies_folder(project: Project, search_id: int) -> Path:
    """The folder holding the raw replies of a search run."""
    return project.raw_dir / f"search-{search_id}"
