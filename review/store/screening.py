"""The store's part for screening workbooks and decisions (append-only).

Three things are kept: every workbook handed out (``workbook_exports`` with its token and
the records it listed), every workbook taken back (``screening_batches``, one per distinct
file, by SHA-256) and every decision (``screening_decisions``: record, stage, reviewer,
role, decision, reason, note, time, sheet row). Nothing here updates or deletes: a later
decision supersedes an earlier one by coming later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from review.errors import StoreError
from review.records import record_notes
from review.store._base import StoreBase, dumps, loads, now

__all__ = ["DecisionRow", "ScreeningStoreMixin"]

#: Columns of :meth:`ScreeningStoreMixin.screening_decisions` rows, in order.
DECISION_COLUMNS = (
    "id",
    "record_id",
    "stage",
    "reviewer",
    "decision",
    "role",
    "reason",
    "note",
    "decided_at",
    "batch_id",
)
DecisionRow = tuple[int, int, str, str, str, str, str | None, str | None, str, int]
#: ``project_meta`` key prefixes: merged duplicates shown as one row of an export, and the
#: saved time of an imported workbook (kept there to leave the shipped schema unchanged).
_MEMBERS = "screening_export_members:"
_SAVED = "screening_saved:"


class ScreeningStoreMixin(StoreBase):
    """Store methods for screening workbooks and decisions (append-only)."""

    def record_titles(self, ids: Iterable[int]) -> dict[int, str | None]:
        """Titles by record id (cheaper than whole records when checking returned workbooks)."""
        wanted = list(ids)
        out: dict[int, str | None] = {}
        for i in range(0, len(wanted), 900):
            chunk = wanted[i : i + 900]
            marks = ", ".join("?" for _ in chunk)
            out.update(
                self.conn.execute(f"SELECT id, title FROM records WHERE id IN ({marks})", chunk).fetchall()
            )
        return out

    def screening_fields(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """What a screening workbook shows of each record (title, authors, year, journal, abstract, pmid, doi).

        ``notes`` holds the notes its source kept (PubMed ``GeneralNote``, RIS ``N1``, a CSV
        ``notes`` column; see :func:`review.records.record_notes`), read from the JSON in SQL
        so the rest of ``extra`` is not decoded.
        """
        wanted = list(ids)
        keys = ("title", "authors", "year", "journal", "abstract", "pmid", "doi")
        out: dict[int, dict[str, Any]] = {}
        for i in range(0, len(wanted), 900):
            chunk = wanted[i : i + 900]
            marks = ", ".join("?" for _ in chunk)
            for row in self.conn.execute(
                f"SELECT id, {', '.join(keys)}, json_extract(extra, '$.notes', '$.ris.notes') "
                f"FROM records WHERE id IN ({marks})",
                chunk,
            ):
                data = dict(zip(keys, row[1:-1], strict=True))
                data["authors"] = tuple(loads(data["authors"]) or ())
                plain, ris = loads(row[-1]) or (None, None)  # two paths: a JSON array of both values
                data["notes"] = record_notes({"notes": plain, "ris": {"notes": ris}})
                out[int(row[0])] = data
        return out

    def add_workbook_export(
        self,
        *,
        token: str,
        kind: str,
        stage: str | None,
        reviewer: str | None,
        record_ids: Sequence[int],
        file_name: str | None = None,
        members: Mapping[int, Iterable[int]] | None = None,
    ) -> int:
        """Remember a workbook handed out: its token and the records it lists, in order.

        ``members`` maps a listed record to the duplicates a dedup run merged into it, when
        the workbook shows them as one (a conflict workbook): a resolution then settles all
        of them. Kept in ``project_meta`` under ``screening_export_members:TOKEN``.
        """
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO workbook_exports (token, kind, stage, reviewer, created_at, n_rows, file_name) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token, kind, stage, reviewer, now(), len(record_ids), file_name),
            )
            export_id = cur.lastrowid
            if export_id is None:  # pragma: no cover - sqlite always sets it
                raise StoreError("could not record the workbook export")
            conn.executemany(
                "INSERT INTO workbook_export_records (export_id, record_id, position) VALUES (?, ?, ?)",
                ((export_id, rid, i) for i, rid in enumerate(record_ids)),
            )
            if members:
                conn.execute(
                    "INSERT INTO project_meta (key, value) VALUES (?, ?)",
                    (f"{_MEMBERS}{token}", dumps({str(k): sorted(v) for k, v in members.items()})),
                )
        return int(export_id)

    def screening_export_members(self) -> dict[str, dict[int, frozenset[int]]]:
        """Export token -> {record listed: the merged duplicates it stood for} (see ``add_workbook_export``)."""
        rows = self.conn.execute(
            "SELECT key, value FROM project_meta WHERE substr(key, 1, ?) = ?", (len(_MEMBERS), _MEMBERS)
        ).fetchall()
        return {
            key[len(_MEMBERS) :]: {
                int(k): frozenset(int(i) for i in v) for k, v in (loads(value) or {}).items()
            }
            for key, value in rows
        }

    def screening_saved_times(self) -> dict[int, str]:
        """Batch id -> when its workbook was last saved (UTC ISO 8601), for batches where that was known."""
        rows = self.conn.execute(
            "SELECT key, value FROM project_meta WHERE substr(key, 1, ?) = ?", (len(_SAVED), _SAVED)
        ).fetchall()
        return {int(key[len(_SAVED) :]): str(value) for key, value in rows if value}

    def workbook_export(self, token: str) -> dict[str, Any] | None:
        """A handed-out workbook by its token (with ``record_ids``), or None if unknown."""
        row = self.conn.execute(
            "SELECT id, token, kind, stage, reviewer, created_at, n_rows, file_name "
            "FROM workbook_exports WHERE token = ?",
            (token,),
        ).fetchone()
        if row is None:
            return None
        keys = ("id", "token", "kind", "stage", "reviewer", "created_at", "n_rows", "file_name")
        out = dict(zip(keys, row, strict=True))
        out["record_ids"] = [
            r[0]
            for r in self.conn.execute(
                "SELECT record_id FROM workbook_export_records WHERE export_id = ? ORDER BY position",
                (row[0],),
            )
        ]
        return out

    def screening_batch_by_hash(self, workbook_hash: str) -> dict[str, Any] | None:
        """The earlier import of a workbook with exactly these bytes, or None."""
        row = self.conn.execute(
            "SELECT id, stage, reviewer, role, file_name, imported_at, n_decisions "
            "FROM screening_batches WHERE workbook_hash = ?",
            (workbook_hash,),
        ).fetchone()
        if row is None:
            return None
        keys = ("id", "stage", "reviewer", "role", "file_name", "imported_at", "n_decisions")
        return dict(zip(keys, row, strict=True))

    def add_screening_batch(
        self,
        *,
        stage: str,
        reviewer: str,
        role: str,
        file_name: str,
        workbook_hash: str,
        export_token: str | None,
        n_rows: int,
        decisions: Iterable[tuple[int, str, str | None, str | None, int | None]],
        software_version: str = "",
        saved_at: str | None = None,
    ) -> tuple[int, int]:
        """Append one imported workbook and its decisions in a single transaction.

        ``decisions`` holds (record_id, decision, reason, note, sheet_row); ``saved_at`` is
        when the workbook file was last saved (UTC ISO 8601, None when unknown), kept in
        ``project_meta`` under ``screening_saved:BATCH`` so a later, older copy can be told
        apart. Returns (batch id, decisions stored). If anything fails, nothing is stored.
        """
        stamp = now()
        rows = list(decisions)
        with self.transaction() as conn:
            if conn.execute(
                "SELECT 1 FROM screening_batches WHERE workbook_hash = ?", (workbook_hash,)
            ).fetchone():
                raise StoreError(f"{file_name} was imported already (same SHA-256); nothing was stored")
            cur = conn.execute(
                "INSERT INTO screening_batches (stage, reviewer, role, file_name, workbook_hash, export_token, "
                "imported_at, n_rows, n_decisions, software_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stage,
                    reviewer,
                    role,
                    file_name,
                    workbook_hash,
                    export_token,
                    stamp,
                    n_rows,
                    len(rows),
                    software_version,
                ),
            )
            batch = cur.lastrowid
            conn.executemany(
                "INSERT INTO screening_decisions (batch_id, record_id, stage, reviewer, role, decision, reason, "
                "note, decided_at, sheet_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (batch, rid, stage, reviewer, role, dec, why, note, stamp, sheet_row)
                    for rid, dec, why, note, sheet_row in rows
                ),
            )
            if saved_at:
                conn.execute(
                    "INSERT INTO project_meta (key, value) VALUES (?, ?)", (f"{_SAVED}{batch}", saved_at)
                )
        return int(batch or 0), len(rows)

    def screening_decisions(self, stage: str | None = None) -> list[DecisionRow]:
        """Every stored decision (oldest first), optionally of one stage; see ``DECISION_COLUMNS``."""
        sql = f"SELECT {', '.join(DECISION_COLUMNS)} FROM screening_decisions"
        if stage is None:
            return list(self.conn.execute(sql + " ORDER BY id"))
        return list(self.conn.execute(sql + " WHERE stage = ? ORDER BY id", (stage,)))

    def screening_batches(self) -> list[dict[str, Any]]:
        """Every imported workbook, oldest first (the audit trail of ``review screen import``)."""
        keys = (
            "id",
            "stage",
            "reviewer",
            "role",
            "file_name",
            "workbook_hash",
            "export_token",
            "imported_at",
            "n_rows",
            "n_decisions",
        )
        cur = self.conn.execute(f"SELECT {', '.join(keys)} FROM screening_batches ORDER BY id")
        return [dict(zip(keys, row, strict=True)) for row in cur]
