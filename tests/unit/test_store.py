"""The store: versioned schema, records added once, transactions all-or-nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from review.errors import MigrationError, StoreError
from review.records import Record
from review.store import SCHEMA_VERSION, Store


def test_new_store_is_at_latest_version_with_wal(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite", create=True) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [r[0] for r in store.conn.execute("SELECT version FROM _migrations ORDER BY version")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_records_are_added_once(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite", create=True) as store:
        a = Record(source="pubmed", source_id="1", title="A", authors=("X, Y",), keywords=("k",))
        b = Record(source="pubmed", source_id="2", title="B")
        first = store.add_records([a, b])
        assert [new for _, new in first] == [True, True]
        again = store.add_records([b, a])
        assert again == [(first[1][0], False), (first[0][0], False)]
        assert store.record_count() == 2
        assert store.get_records([first[0][0]])[first[0][0]] == a
        frame = store.records_frame()
        assert list(frame["title"]) == ["A", "B"]


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite", create=True) as store:
        with pytest.raises(RuntimeError), store.transaction() as conn:
            conn.execute("INSERT INTO records (source, source_id, added_at) VALUES ('x', '1', 'now')")
            raise RuntimeError("boom")
        assert store.record_count() == 0


def test_opening_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="review init"):
        Store(tmp_path / "missing.sqlite")


def test_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Store(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(MigrationError, match="newer review"):
        Store(path)


def test_old_store_is_copied_then_upgraded(tmp_path: Path) -> None:
    """A store at version 1 (records only) is backed up and brought to the latest schema."""
    from review.store.migrations import MIGRATIONS

    path = tmp_path / "s.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL, software_version TEXT NOT NULL)"
    )
    MIGRATIONS[0].apply(conn)
    conn.execute("INSERT INTO _migrations VALUES (1, 'core', 'then', '0.0')")
    conn.execute(
        "INSERT INTO records (source, source_id, title, added_at) VALUES ('pubmed', '9', 'Old', 'then')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.record_count() == 1
    assert (tmp_path / "s.sqlite.v1.bak").exists()
