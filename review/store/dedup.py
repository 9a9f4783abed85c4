"""The store's part for duplicate groups, uncertain pairs and people's judgements."""

from __future__ import annotations

from review.store._base import StoreBase

__all__ = ["DedupStoreMixin"]


class DedupStoreMixin(StoreBase):
    """Store methods for duplicate groups, uncertain pairs and people's judgements."""

    def unique_record_count(self) -> int:
        """Records left after the latest dedup run (records added since count as unique)."""
        conn = self.conn
        row = conn.execute("SELECT MAX(id) FROM dedup_runs WHERE finished_at IS NOT NULL").fetchone()
        total = int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        if row is None or row[0] is None:
            return total
        run = row[0]
        removed = conn.execute(
            "SELECT COUNT(*) FROM dedup_groups WHERE run_id = ? AND kept = 0", (run,)
        ).fetchone()[0]
        return total - int(removed)
