"""The project store: one SQLite file (WAL, versioned schema) holding every record and decision.

Only this package touches ``sqlite3``. Decisions are append-only: nothing here updates or
deletes a record, a search, an import or a decision.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from review import __version__
from review.errors import MigrationError, StoreError
from review.store._base import now
from review.store.dedup import DedupStoreMixin
from review.store.extraction import ExtractionStoreMixin
from review.store.imports import ImportStoreMixin
from review.store.migrations import MIGRATIONS
from review.store.prisma import PrismaStoreMixin
from review.store.records import RecordStoreMixin
from review.store.screening import ScreeningStoreMixin
from review.store.searches import SearchStoreMixin

__all__ = ["SCHEMA_VERSION", "Store"]

SCHEMA_VERSION = MIGRATIONS[-1].version


class Store(
    RecordStoreMixin,
    SearchStoreMixin,
    ImportStoreMixin,
    DedupStoreMixin,
    ScreeningStoreMixin,
    ExtractionStoreMixin,
    PrismaStoreMixin,
):
    """A review's SQLite store. Open with ``Store(path)``; ``create=True`` makes a new one."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"no project store at {self.path}: run `review init` first")
        if create and self.path.exists():
            raise StoreError(f"{self.path} already exists: choose an empty folder")
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a readable review store: {exc}") from exc
        self._migrate()

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version this file is at (``PRAGMA user_version``)."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.schema_version
        if current > SCHEMA_VERSION:
            raise MigrationError(
                f"{self.path} was written by a newer review (schema {current}, this one knows "
                f"{SCHEMA_VERSION}): upgrade review"
            )
        pending = [m for m in MIGRATIONS if m.version > current]
        if not pending:
            return
        if current > 0:  # keep a copy of the old file before changing it
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copy2(self.path, self.path.with_name(f"{self.path.name}.v{current}.bak"))
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TEXT NOT NULL, software_version TEXT NOT NULL)"
        )
        for m in pending:
            try:
                with self.transaction() as conn:
                    m.apply(conn)
                    conn.execute(
                        "INSERT INTO _migrations VALUES (?, ?, ?, ?)", (m.version, m.name, now(), __version__)
                    )
                    conn.execute(f"PRAGMA user_version = {m.version}")
            except sqlite3.DatabaseError as exc:
                raise MigrationError(f"{self.path}: migration {m.version} ({m.name}) failed: {exc}") from exc

    def get_meta(self, key: str) -> str | None:
        """A project-level setting (project id, protocol hash, ...)."""
        row = self.conn.execute("SELECT value FROM project_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a project-level setting."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO project_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
