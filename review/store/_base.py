"""Connection handling shared by the store's parts: transactions, time stamps, JSON columns."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

__all__ = ["StoreBase", "dumps", "loads", "now"]


def now() -> str:
    """The current UTC time as ISO 8601 with seconds and offset (store time stamps)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def dumps(value: Any) -> str:
    """JSON for a list/dict column (stable key order, UTF-8 kept readable)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=list)


def loads(text: str | None) -> Any:
    """Inverse of :func:`dumps`; None stays None."""
    return None if text is None else json.loads(text)


class StoreBase:
    """Holds the connection; every stage's part of the store builds on it."""

    conn: sqlite3.Connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is kept or none of it (BEGIN IMMEDIATE)."""
        if self.conn.in_transaction:
            # nested use joins the outer transaction
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
