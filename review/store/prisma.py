"""The store's read-only part for PRISMA: which source found which record, and dedup results.

Nothing here writes; every PRISMA count is derived from these rows (see ``review.prisma``).
"""

from __future__ import annotations

from typing import Any

from review.store._base import StoreBase

__all__ = ["PrismaStoreMixin"]


class PrismaStoreMixin(StoreBase):
    """Reads the rows PRISMA counts are made from (search hits, import rows, dedup groups)."""

    def prisma_identified(self) -> list[tuple[int, str]]:
        """``(record_id, source)`` once per record and source: search hits by database, imports by source."""
        rows = self.conn.execute(
            "SELECT DISTINCT h.record_id, s.database FROM search_hits h JOIN searches s ON s.id = h.search_id "
            "UNION "
            "SELECT DISTINCT r.record_id, i.source FROM import_records r JOIN imports i ON i.id = r.import_id"
        ).fetchall()
        return [(int(rid), str(source)) for rid, source in rows]

    def prisma_record_ids(self) -> list[int]:
        """Every stored record id."""
        return [int(r[0]) for r in self.conn.execute("SELECT id FROM records ORDER BY id")]

    def prisma_search_runs(self) -> list[dict[str, Any]]:
        """Search runs with their status and hit counts (to report unfinished runs)."""
        rows = self.conn.execute(
            "SELECT s.id, s.database, s.label, s.status, s.count, s.retrieved, "
            "(SELECT COUNT(*) FROM search_hits h WHERE h.search_id = s.id) "
            "FROM searches s ORDER BY s.id"
        ).fetchall()
        keys = ("id", "database", "label", "status", "count", "retrieved", "hits")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def prisma_import_runs(self) -> list[dict[str, Any]]:
        """Import runs: source, file and how many records each brought."""
        rows = self.conn.execute(
            "SELECT i.id, i.source, i.file_name, i.records_in, i.records_new, "
            "(SELECT COUNT(DISTINCT r.record_id) FROM import_records r WHERE r.import_id = i.id) "
            "FROM imports i ORDER BY i.id"
        ).fetchall()
        keys = ("id", "source", "file_name", "records_in", "records_new", "records")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def prisma_dedup_removed(self) -> tuple[int | None, list[int]]:
        """The latest finished dedup run id and the records it removed (``kept = 0``); (None, []) if none."""
        row = self.conn.execute("SELECT MAX(id) FROM dedup_runs WHERE finished_at IS NOT NULL").fetchone()
        if row is None or row[0] is None:
            return None, []
        run = int(row[0])
        removed = self.conn.execute(
            "SELECT record_id FROM dedup_groups WHERE run_id = ? AND kept = 0 ORDER BY record_id", (run,)
        ).fetchall()
        return run, [int(r[0]) for r in removed]
