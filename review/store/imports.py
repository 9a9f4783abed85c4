"""The store's part for import runs of export files: one row per new file, its records and issues.

A file is identified by the SHA-256 of its bytes: importing the same file again finds its row
and adds nothing. ``records_in`` is the number of entries the file holds (PRISMA: records
identified in that database), ``records_read`` how many became records, ``records_new`` how many
were not in the store before; ``import_records`` links each entry position to its record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from review import __version__
from review.records import Record
from review.store._base import StoreBase, now

__all__ = ["ImportRow", "ImportStoreMixin"]

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
            n_err = sum(1 for _, severity, _ in issue_rows if severity == "error")
            cur = conn.execute(
                "INSERT INTO imports (source, file_name, file_hash, format, encoding, file_path, imported_at, "
                "records_in, records_read, records_new, errors, warnings, software_version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    source,
                    file_name,
                    file_hash,
                    fmt,
                    encoding,
                    file_path,
                    now(),
                    entries,
                    len(added),
                    n_new,
                    n_err,
                    len(issue_rows) - n_err,
                    __version__,
                ),
            )
            import_id = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO import_records (import_id, record_id, position) VALUES (?, ?, ?)",
                [(import_id, rid, pos) for (rid, _), pos in zip(added, positions, strict=True)],
            )
            conn.executemany(
                "INSERT INTO import_issues (import_id, line, severity, message) VALUES (?, ?, ?, ?)",
                [(import_id, line, severity, message) for line, severity, message in issue_rows],
            )
        row = self.find_import(file_hash)
        assert row is not None
        return row, True

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
