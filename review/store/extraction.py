"""The store's part for extraction workbooks and values (append-only).

Each imported workbook is a batch (form, reviewer, role, file hash). An extractor's batch holds
the whole of that reviewer's extraction at the time (a snapshot); their *current* extraction is
their latest batch. A resolver's batch holds only the cells it settles; the latest resolution
of a cell wins. Nothing is ever updated or deleted, so the history of every cell is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from review import __version__
from review.store._base import StoreBase, now

__all__ = ["ExtractionStoreMixin"]

#: (entity, row key JSON, field)
Cell = tuple[str, str, str]


class ExtractionStoreMixin(StoreBase):
    """Store methods for extraction workbooks and values (append-only)."""

    def extraction_batch_seen(self, workbook_hash: str, reviewer: str, role: str) -> bool:
        """Whether this exact workbook file was already imported for this reviewer and role."""
        row = self.conn.execute(
            "SELECT 1 FROM extraction_batches WHERE workbook_hash = ? AND reviewer = ? AND role = ?",
            (workbook_hash, reviewer, role),
        ).fetchone()
        return row is not None

    def add_extraction_batch(
        self,
        *,
        form: str,
        reviewer: str,
        role: str,
        file_name: str,
        workbook_hash: str,
        export_token: str | None,
        cells: Mapping[Cell, str | None],
    ) -> int:
        """Store one imported workbook and its cells in one transaction; returns the batch id."""
        at = now()
        with self.transaction() as conn:
            seen = conn.execute(
                "SELECT id FROM extraction_batches WHERE workbook_hash = ? AND reviewer = ? AND role = ?",
                (workbook_hash, reviewer, role),
            ).fetchone()
            if seen is not None:  # the same file imported meanwhile by another process
                return int(seen[0])
            cur = conn.execute(
                "INSERT INTO extraction_batches (form, reviewer, role, file_name, workbook_hash, "
                "export_token, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (form, reviewer, role, file_name, workbook_hash, export_token, at),
            )
            batch = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO extraction_values (batch_id, study, entity, entity_key, field, value, "
                "reviewer, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (batch, _study_of(entity, key, cells), entity, key, name, value, reviewer, at)
                    for (entity, key, name), value in sorted(cells.items())
                ],
            )
            conn.execute(
                "INSERT INTO project_meta (key, value) VALUES ('extraction_software', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (__version__,),
            )
        return batch

    def latest_extraction_batch(self, form: str, reviewer: str) -> tuple[int, str | None, str, str] | None:
        """An extractor's latest batch of a form: (id, export token, file name, imported at)."""
        row = self.conn.execute(
            "SELECT id, export_token, file_name, imported_at FROM extraction_batches "
            "WHERE form = ? AND reviewer = ? AND role = 'extractor' ORDER BY id DESC LIMIT 1",
            (form, reviewer),
        ).fetchone()
        return None if row is None else (int(row[0]), row[1], str(row[2]), str(row[3]))

    def extraction_current(self, form: str | None = None) -> dict[str, dict[Cell, str]]:
        """Each extractor's current cells (their latest batch), optionally for one form."""
        sql = (
            "SELECT b.id, b.reviewer FROM extraction_batches b WHERE b.role = 'extractor'"
            + (" AND b.form = ?" if form else "")
            + " AND b.id = (SELECT MAX(id) FROM extraction_batches c WHERE c.reviewer = b.reviewer "
            "AND c.role = 'extractor'" + (" AND c.form = b.form" if form else "") + ")"
        )
        out: dict[str, dict[Cell, str]] = {}
        for batch, reviewer in self.conn.execute(sql, (form,) if form else ()).fetchall():
            cells: dict[Cell, str] = {}
            for entity, key, name, value in self.conn.execute(
                "SELECT entity, entity_key, field, value FROM extraction_values WHERE batch_id = ?", (batch,)
            ):
                if value is not None:
                    cells[(entity, key, name)] = value
            out[str(reviewer)] = cells
        return out

    def extraction_resolutions(self) -> dict[Cell, str | None]:
        """The latest resolver value of every resolved cell (None = resolved as empty)."""
        out: dict[Cell, str | None] = {}
        for entity, key, name, value in self.conn.execute(
            "SELECT v.entity, v.entity_key, v.field, v.value FROM extraction_values v "
            "JOIN extraction_batches b ON b.id = v.batch_id WHERE b.role = 'resolver' ORDER BY v.id"
        ):
            out[(entity, key, name)] = value
        return out

    def extraction_forms_used(self) -> list[str]:
        """Forms of imported extraction workbooks, latest first."""
        rows = self.conn.execute("SELECT form FROM extraction_batches GROUP BY form ORDER BY MAX(id) DESC")
        return [str(r[0]) for r in rows]

    def extraction_history(self) -> list[dict[str, Any]]:
        """Every imported extraction batch (who, when, which file, how many cells)."""
        rows = self.conn.execute(
            "SELECT b.id, b.form, b.reviewer, b.role, b.file_name, b.workbook_hash, b.imported_at, "
            "COUNT(v.id) FROM extraction_batches b LEFT JOIN extraction_values v ON v.batch_id = b.id "
            "GROUP BY b.id ORDER BY b.id"
        ).fetchall()
        keys = ("batch", "form", "reviewer", "role", "file_name", "workbook_hash", "imported_at", "cells")
        return [dict(zip(keys, r, strict=True)) for r in rows]


def _study_of(entity: str, key: str, cells: Mapping[Cell, str | None]) -> str:
    """The study label of a cell's row (for the index), from its 'study' cell if there is one."""
    value = cells.get((entity, key, "study"))
    return value if value is not None else key
