"""The store's part for import runs of export files: one row per new file, its records and issues.

A file is identified by the SHA-256 of its bytes: importing the same file again finds its row
and adds nothing. ``records_in`` is the number of entries the file holds (PRISMA: records
identified in that database), ``records_read`` how many became records, ``records_new`` how many
were not in the store before; ``import_records`` links each entry position to its record.

A large file is kept in batches as it is read, one transaction each
(:meth:`ImportStoreMixin.start_import`, ``add_import_batch``), in ``import_pending`` /
``import_pending_records``, which no stage reads; when the file has been read to the end,
``finish_import`` moves its records to ``records`` and records the run, in one transaction. So
``records`` and ``imports`` never hold half a file. An import stopped half-way (Ctrl-C, a
crash) is completed by importing the same file again: entries kept already are skipped, and
the run is recorded once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from review import __version__
from review.records import Record
from review.store._base import StoreBase, now
from review.store.records import _COLS, _row

__all__ = ["ImportRow", "ImportStoreMixin", "PendingImport"]

_COLUMNS = (
    "id",
    "source",
    "file_name",
    "file_hash",
    "format",
    "encoding",
    "file_path",
    "imported_at",
    "records_in",
    "records_read",
    "records_new",
    "errors",
    "warnings",
)

_INSERT_RUN = (
    "INSERT INTO imports (source, file_name, file_hash, format, encoding, file_path, imported_at, "
    "records_in, records_read, records_new, errors, warnings, software_version) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_RECORD_COLUMNS = ", ".join([*_COLS, "extra", "added_at"])
_INSERT_PENDING = (
    f"INSERT INTO import_pending_records (pending_id, position, line, {_RECORD_COLUMNS}) "
    f"VALUES (?, ?, ?, {', '.join('?' for _ in [*_COLS, 'extra', 'added_at'])}) "
    "ON CONFLICT (pending_id, position) DO NOTHING"
)
# the pending records not in the store yet, in file order (ORDER BY comes before the upsert clause)
_MOVE_PENDING = (
    f"INSERT INTO records ({_RECORD_COLUMNS}) "
    f"SELECT {', '.join(_COLS)}, extra, ? FROM import_pending_records WHERE pending_id = ? ORDER BY position "
    "ON CONFLICT (source, source_id) DO NOTHING"
)


def _insert_run(
    conn: sqlite3.Connection,
    file: tuple[str, str, str, str, str, str | None],
    counts: tuple[int, int, int],
    issue_rows: list[tuple[int | None, str, str]],
) -> int:
    """Insert an import run (source, file name, hash, format, encoding, path; entries, read, new)
    and its issues; return its id."""
    n_err = sum(1 for _, severity, _ in issue_rows if severity == "error")
    cur = conn.execute(_INSERT_RUN, (*file, now(), *counts, n_err, len(issue_rows) - n_err, __version__))
    import_id = int(cur.lastrowid or 0)
    conn.executemany(
        "INSERT INTO import_issues (import_id, line, severity, message) VALUES (?, ?, ?, ?)",
        [(import_id, line, severity, message) for line, severity, message in issue_rows],
    )
    return import_id


@dataclass(frozen=True)
class ImportRow:
    """One import run as stored (see the module docstring for the counts)."""

    id: int
    source: str
    file_name: str
    file_hash: str
    format: str
    encoding: str
    file_path: str | None
    imported_at: str
    records_in: int
    records_read: int
    records_new: int
    errors: int
    warnings: int


@dataclass(frozen=True)
class PendingImport:
    """An import of a file begun and not finished: its batches stored so far."""

    id: int
    file_hash: str
    source: str
    format: str
    file_name: str
    started_at: str
    stored: int


class ImportStoreMixin(StoreBase):
    """Import runs: added once per file (by hash), never changed."""

    if TYPE_CHECKING:  # provided by RecordStoreMixin in Store

        def add_records(self, records: Iterable[Record]) -> list[tuple[int, bool]]: ...

    def find_import(self, file_hash: str) -> ImportRow | None:
        """The import run of the file with this SHA-256, or None if it was never imported."""
        row = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM imports WHERE file_hash = ?", (file_hash,)
        ).fetchone()
        return None if row is None else ImportRow(*row)

    def add_import(
        self,
        *,
        source: str,
        file_name: str,
        file_path: str | None,
        file_hash: str,
        fmt: str,
        encoding: str,
        entries: int,
        records: Sequence[Record],
        positions: Sequence[int],
        issues: Iterable[tuple[int | None, str, str]],
    ) -> tuple[ImportRow, bool]:
        """Store a file's records and its import run in one transaction.

        Returns the run and True, or the earlier run of the same file (same hash) and False
        when it was imported before (then nothing is written).
        """
        issue_rows = list(issues)
        with self.transaction() as conn:
            earlier = self.find_import(file_hash)
            if earlier is not None:
                return earlier, False
            added = self.add_records(records)
            n_new = sum(1 for _, new in added if new)
            import_id = _insert_run(
                conn,
                (source, file_name, file_hash, fmt, encoding, file_path),
                (entries, len(added), n_new),
                issue_rows,
            )
            conn.executemany(
                "INSERT INTO import_records (import_id, record_id, position) VALUES (?, ?, ?)",
                [(import_id, rid, pos) for (rid, _), pos in zip(added, positions, strict=True)],
            )
        row = self.find_import(file_hash)
        assert row is not None
        return row, True

    def record_sources(self) -> list[str]:
        """The source names the project's records have, as spelt when stored, then those of
        imports not finished yet (their records are stored under that spelling when they are)."""
        rows = self.conn.execute(
            "SELECT source FROM (SELECT DISTINCT source, 0 AS pending FROM records "
            "UNION SELECT DISTINCT source, 1 FROM import_pending) GROUP BY source ORDER BY MIN(pending), source"
        )
        return [str(r[0]) for r in rows]

    def respell_pending(self, pending_id: int, source: str) -> None:
        """Give an unfinished import the project's spelling of its source (same name, other case)."""
        with self.transaction() as conn:
            conn.execute("UPDATE import_pending SET source = ? WHERE id = ?", (source, pending_id))
            conn.execute(
                "UPDATE import_pending_records SET source = ? WHERE pending_id = ?", (source, pending_id)
            )

    def pending_import(self, file_hash: str) -> PendingImport | None:
        """The unfinished import of the file with this SHA-256, or None."""
        row = self.conn.execute(
            "SELECT p.id, p.file_hash, p.source, p.format, p.file_name, p.started_at, "
            "(SELECT COUNT(*) FROM import_pending_records r WHERE r.pending_id = p.id) "
            "FROM import_pending p WHERE p.file_hash = ?",
            (file_hash,),
        ).fetchone()
        return None if row is None else PendingImport(*row)

    def pending_imports(self) -> list[PendingImport]:
        """Every import begun and not finished (interrupted), oldest first."""
        rows = self.conn.execute(
            "SELECT p.id, p.file_hash, p.source, p.format, p.file_name, p.started_at, "
            "(SELECT COUNT(*) FROM import_pending_records r WHERE r.pending_id = p.id) "
            "FROM import_pending p ORDER BY p.id"
        ).fetchall()
        return [PendingImport(*row) for row in rows]

    def start_import(self, *, file_hash: str, source: str, fmt: str, file_name: str) -> PendingImport:
        """Begin importing a file in batches, or return its unfinished import to complete it."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO import_pending (file_hash, source, format, file_name, started_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (file_hash) DO NOTHING",
                (file_hash, source, fmt, file_name, now()),
            )
        pending = self.pending_import(file_hash)
        assert pending is not None
        return pending

    def add_import_batch(
        self,
        pending_id: int,
        records: Iterable[Record],
        positions: Iterable[int],
        lines: Iterable[int | None],
    ) -> int:
        """Keep one batch of a file's records (one transaction) until the import is finished.

        The records wait in ``import_pending_records``, which no stage reads; entries this import
        kept already (an earlier, interrupted attempt) are skipped. Returns how many were added.
        """
        stamp = now()
        rows = zip(records, positions, lines, strict=True)
        with self.transaction() as conn:
            cur = conn.executemany(
                _INSERT_PENDING, ((pending_id, pos, line, *_row(rec, stamp)) for rec, pos, line in rows)
            )
        return max(cur.rowcount, 0)

    def key_conflicts(self, pending_id: int) -> list[tuple[int, int | None, str, int, str | None]]:
        """Entries of an unfinished import whose key is a stored record's with another title or DOI.

        Such an entry would not be stored (same source and key = same record): a bad id in the
        file, or an id reused for another paper. Returns (position, line, key, record id, stored
        title) for each, for a warning.
        """
        rows = self.conn.execute(
            "SELECT p.position, p.line, p.source_id, r.id, r.title FROM import_pending_records p "
            "JOIN records r ON r.source = p.source AND r.source_id = p.source_id "
            "WHERE p.pending_id = ? AND (lower(COALESCE(r.title, '')) != lower(COALESCE(p.title, '')) "
            "OR (r.doi IS NOT NULL AND p.doi IS NOT NULL AND lower(r.doi) != lower(p.doi))) "
            "ORDER BY p.position",
            (pending_id,),
        ).fetchall()
        return [(int(pos), line or None, key, int(rid), title) for pos, line, key, rid, title in rows]

    def finish_import(
        self,
        pending_id: int,
        *,
        file_path: str | None,
        encoding: str,
        entries: int,
        issues: Iterable[tuple[int | None, str, str]],
    ) -> tuple[ImportRow, bool]:
        """Store the records kept for a file and record its run, in one transaction.

        Records new to the store are added in file order, each entry is linked to its record
        (new or not) and the run gets the counts of every batch. Returns the run and True, or
        the earlier run and False when the same file was finished meanwhile (by another
        process); the pending rows are removed either way.
        """
        issue_rows = list(issues)
        with self.transaction() as conn:
            file_hash, source, fmt, file_name, read = conn.execute(
                "SELECT p.file_hash, p.source, p.format, p.file_name, "
                "(SELECT COUNT(*) FROM import_pending_records r WHERE r.pending_id = p.id) "
                "FROM import_pending p WHERE p.id = ?",
                (pending_id,),
            ).fetchone()
            earlier = self.find_import(file_hash)
            if earlier is None:
                new = conn.execute(_MOVE_PENDING, (now(), pending_id)).rowcount
                import_id = _insert_run(
                    conn,
                    (source, file_name, file_hash, fmt, encoding, file_path),
                    (entries, read, new),
                    issue_rows,
                )
                conn.execute(
                    "INSERT INTO import_records (import_id, record_id, position) "
                    "SELECT ?, r.id, p.position FROM import_pending_records p "
                    "JOIN records r ON r.source = p.source AND r.source_id = p.source_id "
                    "WHERE p.pending_id = ?",
                    (import_id, pending_id),
                )
            conn.execute("DELETE FROM import_pending_records WHERE pending_id = ?", (pending_id,))
            conn.execute("DELETE FROM import_pending WHERE id = ?", (pending_id,))
        row = self.find_import(file_hash)
        assert row is not None
        return row, earlier is None

    def import_runs(self) -> list[ImportRow]:
        """Every import run, oldest first."""
        rows = self.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM imports ORDER BY id").fetchall()
        return [ImportRow(*row) for row in rows]

    def import_issues(self, import_id: int) -> list[dict[str, Any]]:
        """The warnings and errors recorded for one import run, in file order."""
        rows = self.conn.execute(
            "SELECT line, severity, message FROM import_issues WHERE import_id = ? ORDER BY id", (import_id,)
        ).fetchall()
        return [{"line": line, "severity": sev, "message": msg} for line, sev, msg in rows]

    def import_record_ids(self, import_id: int) -> list[int]:
        """Record ids of an import run in file order."""
        rows = self.conn.execute(
            "SELECT record_id FROM import_records WHERE import_id = ? ORDER BY position", (import_id,)
        ).fetchall()
        return [int(r[0]) for r in rows]
