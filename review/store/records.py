"""The store's record table: insert once by (source, source_id), read back as Records or a DataFrame."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from review.records import COLUMNS, LIST_COLUMNS, Record
from review.store._base import StoreBase, dumps, loads, now

__all__ = ["RecordStoreMixin"]

_COLS = list(COLUMNS)
_INSERT = (
    f"INSERT INTO records ({', '.join(_COLS)}, extra, added_at) "
    f"VALUES ({', '.join('?' for _ in _COLS)}, ?, ?) "
    "ON CONFLICT (source, source_id) DO NOTHING"
)


def _row(record: Record, stamp: str) -> tuple[Any, ...]:
    values = [dumps(list(getattr(record, c))) if c in LIST_COLUMNS else getattr(record, c) for c in _COLS]
    return (*values, dumps(dict(record.extra)), stamp)


def _record(row: Sequence[Any]) -> Record:
    data = dict(zip(["id", *_COLS, "extra"], row, strict=True))
    for c in LIST_COLUMNS:
        data[c] = tuple(loads(data[c]) or ())
    data["extra"] = loads(data["extra"]) or {}
    data.pop("id")
    return Record(**data)


class RecordStoreMixin(StoreBase):
    """Records are added once and never changed or deleted."""

    def add_records(self, records: Iterable[Record]) -> list[tuple[int, bool]]:
        """Store records not seen before; return (record id, newly added) for each, in order."""
        stamp = now()
        out: list[tuple[int, bool]] = []
        with self.transaction() as conn:
            for rec in records:
                cur = conn.execute(_INSERT, _row(rec, stamp))
                if cur.rowcount == 1 and cur.lastrowid is not None:
                    out.append((cur.lastrowid, True))
                else:
                    (rid,) = conn.execute(
                        "SELECT id FROM records WHERE source = ? AND source_id = ?",
                        (rec.source, rec.source_id),
                    ).fetchone()
                    out.append((rid, False))
        return out

    def record_count(self) -> int:
        """How many records the store holds."""
        return int(self.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def get_records(self, ids: Iterable[int] | None = None) -> dict[int, Record]:
        """Records by id (all of them when ``ids`` is None)."""
        sql = f"SELECT id, {', '.join(_COLS)}, extra FROM records"
        if ids is None:
            rows = self.conn.execute(sql + " ORDER BY id").fetchall()
        else:
            wanted = list(ids)
            rows = []
            for i in range(0, len(wanted), 900):
                chunk = wanted[i : i + 900]
                rows += self.conn.execute(
                    sql + f" WHERE id IN ({', '.join('?' for _ in chunk)})", chunk
                ).fetchall()
        return {row[0]: _record(row) for row in rows}

    def records_frame(self, ids: Iterable[int] | None = None) -> pd.DataFrame:
        """Records as a DataFrame indexed by record id, one column per ``COLUMNS`` field."""
        recs = self.get_records(ids)
        frame = pd.DataFrame([r.as_dict() for r in recs.values()], index=list(recs), columns=_COLS)
        frame.index.name = "record_id"
        return frame
