"""The store's part for PubMed search runs (PRISMA-S log), their hits and raw replies.

A search run is one row of ``searches``: the exact query, NCBI's translation, when, how many
hits, how many records retrieved and new, the software version, the E-utilities URL and the
parameters. ``search_hits`` links the run to every record it found; ``search_responses`` lists
every raw reply saved under the project's ``raw/`` folder with its SHA-256, so the run can be
audited and replayed offline. A batch of fetched records, its hits, its reply and the run's
counters are written in one transaction: a run killed midway keeps whole batches only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from review import __version__
from review.records import Record
from review.store._base import StoreBase, dumps, loads, now

__all__ = ["ResponseRow", "SearchRow", "SearchStoreMixin"]

_SEARCH_COLS = (
    "id, database, label, query, query_translation, eutils_url, started_at, finished_at, status, "
    "count, retrieved, new_records, software_version, params, state, error"
)


@dataclass(frozen=True)
class ResponseRow:
    """A raw reply saved on disk: which call, with what parameters, where, and its hash."""

    endpoint: str
    params: dict[str, Any]
    path: str
    sha256: str
    bytes: int
    received_at: str


@dataclass(frozen=True)
class SearchRow:
    """One search run as logged (PRISMA-S items 8, 9 and 13)."""

    id: int
    database: str
    label: str | None
    query: str
    query_translation: str | None
    eutils_url: str | None
    started_at: str
    finished_at: str | None
    status: str
    count: int | None
    retrieved: int
    new_records: int
    software_version: str
    params: dict[str, Any]
    state: dict[str, Any]
    error: str | None


def _search_row(row: Sequence[Any]) -> SearchRow:
    values = list(row)
    values[13] = loads(values[13]) or {}
    values[14] = loads(values[14]) or {}
    return SearchRow(*values)


class SearchStoreMixin(StoreBase):
    """Store methods for PubMed search runs, their hits and raw replies."""

    if TYPE_CHECKING:  # provided by RecordStoreMixin in the composed Store

        def add_records(self, records: Iterable[Record]) -> list[tuple[int, bool]]: ...

    def start_search(
        self, *, database: str, label: str | None, query: str, eutils_url: str | None, params: dict[str, Any]
    ) -> int:
        """Log a new search run (status 'running') and return its id."""
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO searches (database, label, query, eutils_url, started_at, status, "
                "software_version, params) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
                (database, label, query, eutils_url, now(), __version__, dumps(params)),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def unfinished_search(
        self, *, database: str, label: str | None, query: str, eutils_url: str | None, params: dict[str, Any]
    ) -> SearchRow | None:
        """The latest run of this exact search that was interrupted or failed, to resume it."""
        row = self.conn.execute(
            f"SELECT {_SEARCH_COLS} FROM searches WHERE database = ? AND label IS ? AND query = ? "
            "AND eutils_url IS ? AND params = ? ORDER BY id DESC LIMIT 1",
            (database, label, query, eutils_url, dumps(params)),
        ).fetchone()
        if row is None:
            return None
        search = _search_row(row)
        return search if search.status in ("running", "failed") else None

    def get_search(self, search_id: int) -> SearchRow:
        """One search run by id."""
        row = self.conn.execute(f"SELECT {_SEARCH_COLS} FROM searches WHERE id = ?", (search_id,)).fetchone()
        if row is None:
            raise KeyError(search_id)
        return _search_row(row)

    def list_searches(self, *, status: str | None = None) -> list[SearchRow]:
        """All search runs in order (only those with ``status`` if given)."""
        sql = f"SELECT {_SEARCH_COLS} FROM searches"
        args: tuple[Any, ...] = ()
        if status is not None:
            sql += " WHERE status = ?"
            args = (status,)
        return [_search_row(r) for r in self.conn.execute(sql + " ORDER BY id", args).fetchall()]

    def searches_frame(self) -> pd.DataFrame:
        """The search log as a DataFrame (one row per run), for PRISMA-S reporting."""
        rows = [s.__dict__ for s in self.list_searches()]
        return pd.DataFrame(rows, columns=list(SearchRow.__dataclass_fields__))

    def update_search(self, search_id: int, **fields: Any) -> None:
        """Set some columns of a run (count, query_translation, state, status, error, ...)."""
        allowed = {"query_translation", "count", "status", "state", "error", "finished_at", "retrieved"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot update search columns {sorted(unknown)}")
        if "state" in fields:
            fields["state"] = dumps(fields["state"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as conn:
            conn.execute(f"UPDATE searches SET {sets} WHERE id = ?", (*fields.values(), search_id))

    def finish_search(
        self, search_id: int, *, status: str = "complete", error: str | None = None
    ) -> SearchRow:
        """Close a run: its status, finish time and the number of records it retrieved."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE searches SET status = ?, error = ?, finished_at = ?, "
                "retrieved = (SELECT COUNT(*) FROM search_hits WHERE search_id = ?) WHERE id = ?",
                (status, error, now(), search_id, search_id),
            )
        return self.get_search(search_id)

    def pubmed_record_ids(self, pmids: Iterable[str]) -> dict[str, int]:
        """Record ids of PubMed records already stored, by PMID."""
        wanted = list(dict.fromkeys(pmids))
        out: dict[str, int] = {}
        for i in range(0, len(wanted), 900):
            chunk = wanted[i : i + 900]
            rows = self.conn.execute(
                f"SELECT source_id, id FROM records WHERE source = 'pubmed' AND source_id IN "
                f"({', '.join('?' for _ in chunk)})",
                chunk,
            ).fetchall()
            out.update({str(pmid): int(rid) for pmid, rid in rows})
        return out

    def search_hit_pmids(self, search_id: int) -> set[str]:
        """PMIDs of the PubMed records a run has linked so far."""
        rows = self.conn.execute(
            "SELECT r.source_id FROM search_hits h JOIN records r ON r.id = h.record_id "
            "WHERE h.search_id = ? AND r.source = 'pubmed'",
            (search_id,),
        ).fetchall()
        return {str(r[0]) for r in rows}

    def search_hit_count(self, search_id: int) -> int:
        """How many records a run has linked."""
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM search_hits WHERE search_id = ?", (search_id,)
            ).fetchone()[0]
        )

    def search_hit_ids(self, search_id: int) -> list[int]:
        """Record ids a run found, in record-id order."""
        rows = self.conn.execute(
            "SELECT record_id FROM search_hits WHERE search_id = ? ORDER BY record_id", (search_id,)
        ).fetchall()
        return [int(r[0]) for r in rows]

    def next_response_seq(self, search_id: int) -> int:
        """The sequence number the next raw reply of a run gets (1 for the first)."""
        row = self.conn.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM search_responses WHERE search_id = ?", (search_id,)
        ).fetchone()
        return int(row[0]) + 1

    def add_search_response(self, search_id: int, seq: int, response: ResponseRow) -> None:
        """Log one raw reply saved on disk."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO search_responses (search_id, seq, endpoint, params, path, sha256, bytes, "
                "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    search_id,
                    seq,
                    response.endpoint,
                    dumps(response.params),
                    response.path,
                    response.sha256,
                    response.bytes,
                    response.received_at,
                ),
            )

    def search_responses(self, search_id: int) -> list[tuple[int, ResponseRow]]:
        """The raw replies of a run in the order received, as (seq, row)."""
        rows = self.conn.execute(
            "SELECT seq, endpoint, params, path, sha256, bytes, received_at FROM search_responses "
            "WHERE search_id = ? ORDER BY seq",
            (search_id,),
        ).fetchall()
        return [(int(r[0]), ResponseRow(r[1], loads(r[2]) or {}, r[3], r[4], int(r[5]), r[6])) for r in rows]

    def store_search_batch(
        self,
        search_id: int,
        records: Sequence[Record],
        *,
        known_ids: Iterable[int] = (),
        response: tuple[int, ResponseRow] | None = None,
        state: dict[str, Any] | None = None,
    ) -> tuple[list[int], int]:
        """Add a batch of fetched records and link them (and ``known_ids``) to the run, atomically.

        Returns the record ids linked and how many records were new to the store. The reply
        row, the hits, the run's ``new_records`` counter and its resume ``state`` are written
        in the same transaction as the records.
        """
        with self.transaction() as conn:
            added = self.add_records(records)
            new = sum(1 for _, is_new in added if is_new)
            ids = [rid for rid, _ in added] + list(known_ids)
            conn.executemany(
                "INSERT OR IGNORE INTO search_hits (search_id, record_id) VALUES (?, ?)",
                [(search_id, rid) for rid in ids],
            )
            if response is not None:
                self.add_search_response(search_id, *response)
            conn.execute(
                "UPDATE searches SET new_records = new_records + ?, "
                "retrieved = (SELECT COUNT(*) FROM search_hits WHERE search_id = ?) WHERE id = ?",
                (new, search_id, search_id),
            )
            if state is not None:
                conn.execute("UPDATE searches SET state = ? WHERE id = ?", (dumps(state), search_id))
        return ids, new
