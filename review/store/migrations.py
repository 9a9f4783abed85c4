"""Ordered schema migrations of the project store (``PRAGMA user_version``).

Each migration runs in one transaction and records itself in ``_migrations``. A migration that
has shipped in a release is never edited: add a new one at the end of ``MIGRATIONS``.
Pattern: sqlite-utils ``sqlite_utils/migrations.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MIGRATIONS", "Migration", "statements"]


def statements(sql: str) -> list[str]:
    """Split a schema script on ';' (the schema has no triggers or string semicolons)."""
    return [s.strip() for s in sql.split(";") if s.strip()]


@dataclass(frozen=True)
class Migration:
    """One step of the schema: a version number, a name and the function that applies it."""

    version: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for stmt in statements(sql):
            conn.execute(stmt)

    return apply


CORE = """
CREATE TABLE project_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE records (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    pmid TEXT, doi TEXT, title TEXT, authors TEXT NOT NULL DEFAULT '[]', year INTEGER,
    journal TEXT, volume TEXT, issue TEXT, pages TEXT, abstract TEXT,
    keywords TEXT NOT NULL DEFAULT '[]', publication_types TEXT NOT NULL DEFAULT '[]',
    language TEXT, issn TEXT, url TEXT, record_type TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    added_at TEXT NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX records_pmid ON records (pmid);
CREATE INDEX records_doi ON records (doi);

CREATE TABLE searches (
    id INTEGER PRIMARY KEY,
    database TEXT NOT NULL,
    label TEXT,
    query TEXT NOT NULL,
    query_translation TEXT,
    eutils_url TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',
    count INTEGER,
    retrieved INTEGER NOT NULL DEFAULT 0,
    new_records INTEGER NOT NULL DEFAULT 0,
    software_version TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT '{}',
    error TEXT
);
CREATE TABLE search_hits (
    search_id INTEGER NOT NULL REFERENCES searches (id),
    record_id INTEGER NOT NULL REFERENCES records (id),
    PRIMARY KEY (search_id, record_id)
);
CREATE TABLE search_responses (
    id INTEGER PRIMARY KEY,
    search_id INTEGER NOT NULL REFERENCES searches (id),
    seq INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    params TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (search_id, seq)
);
CREATE INDEX searches_query ON searches (database, label, query);

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_hash TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    encoding TEXT NOT NULL DEFAULT 'utf-8',
    file_path TEXT,
    imported_at TEXT NOT NULL,
    records_in INTEGER NOT NULL,
    records_read INTEGER NOT NULL DEFAULT 0,
    records_new INTEGER NOT NULL,
    errors INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0,
    software_version TEXT NOT NULL
);
CREATE TABLE import_records (
    import_id INTEGER NOT NULL REFERENCES imports (id),
    record_id INTEGER NOT NULL REFERENCES records (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (import_id, position)
);
CREATE TABLE import_issues (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports (id),
    line INTEGER,
    severity TEXT NOT NULL,
    message TEXT NOT NULL
)
"""

DEDUP = """
CREATE TABLE dedup_runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    software_version TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    n_records INTEGER,
    n_groups INTEGER
);
CREATE TABLE dedup_groups (
    run_id INTEGER NOT NULL REFERENCES dedup_runs (id),
    record_id INTEGER NOT NULL REFERENCES records (id),
    group_id INTEGER NOT NULL,
    kept INTEGER NOT NULL,
    PRIMARY KEY (run_id, record_id)
);
CREATE TABLE dedup_pairs (
    run_id INTEGER NOT NULL REFERENCES dedup_runs (id),
    a INTEGER NOT NULL REFERENCES records (id),
    b INTEGER NOT NULL REFERENCES records (id),
    score REAL,
    verdict TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (run_id, a, b)
);
CREATE INDEX dedup_groups_run_group ON dedup_groups (run_id, group_id);
CREATE TABLE dedup_judgements (
    id INTEGER PRIMARY KEY,
    a INTEGER NOT NULL REFERENCES records (id),
    b INTEGER NOT NULL REFERENCES records (id),
    same INTEGER NOT NULL,
    reviewer TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    workbook_hash TEXT,
    note TEXT,
    CHECK (a < b)
);
CREATE INDEX dedup_judgements_pair ON dedup_judgements (a, b)
"""

SCREENING = """
CREATE TABLE workbook_exports (
    id INTEGER PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    stage TEXT,
    reviewer TEXT,
    created_at TEXT NOT NULL,
    n_rows INTEGER NOT NULL,
    file_name TEXT
);
CREATE TABLE workbook_export_records (
    export_id INTEGER NOT NULL REFERENCES workbook_exports (id),
    record_id INTEGER NOT NULL REFERENCES records (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (export_id, record_id)
);
CREATE TABLE screening_batches (
    id INTEGER PRIMARY KEY,
    stage TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    role TEXT NOT NULL,
    file_name TEXT NOT NULL,
    workbook_hash TEXT NOT NULL UNIQUE,
    export_token TEXT,
    imported_at TEXT NOT NULL,
    n_rows INTEGER NOT NULL DEFAULT 0,
    n_decisions INTEGER NOT NULL DEFAULT 0,
    software_version TEXT
);
CREATE TABLE screening_decisions (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES screening_batches (id),
    record_id INTEGER NOT NULL REFERENCES records (id),
    stage TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    role TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('include', 'exclude', 'maybe')),
    reason TEXT,
    note TEXT,
    decided_at TEXT NOT NULL,
    sheet_row INTEGER
);
CREATE INDEX screening_decisions_record ON screening_decisions (stage, record_id, reviewer)
"""

EXTRACTION = """
CREATE TABLE extraction_batches (
    id INTEGER PRIMARY KEY,
    form TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'extractor' CHECK (role IN ('extractor', 'resolver')),
    file_name TEXT NOT NULL,
    workbook_hash TEXT NOT NULL,
    export_token TEXT,
    imported_at TEXT NOT NULL
);
CREATE TABLE extraction_values (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES extraction_batches (id),
    study TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT,
    reviewer TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX extraction_values_key ON extraction_values (study, entity, entity_key, field);
CREATE INDEX extraction_values_batch ON extraction_values (batch_id);
CREATE INDEX extraction_batches_reviewer ON extraction_batches (role, reviewer, form)
"""

# A file stored in batches: its records wait here, out of every stage's sight, until the file
# has been read to the end; then they move to ``records`` and the run to ``imports`` at once.
IMPORT_PENDING = """
CREATE TABLE import_pending (
    id INTEGER PRIMARY KEY,
    file_hash TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    format TEXT NOT NULL,
    file_name TEXT NOT NULL,
    started_at TEXT NOT NULL
);
CREATE TABLE import_pending_records (
    pending_id INTEGER NOT NULL REFERENCES import_pending (id),
    position INTEGER NOT NULL,
    line INTEGER,
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    pmid TEXT, doi TEXT, title TEXT, authors TEXT NOT NULL DEFAULT '[]', year INTEGER,
    journal TEXT, volume TEXT, issue TEXT, pages TEXT, abstract TEXT,
    keywords TEXT NOT NULL DEFAULT '[]', publication_types TEXT NOT NULL DEFAULT '[]',
    language TEXT, issn TEXT, url TEXT, record_type TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    added_at TEXT NOT NULL,
    PRIMARY KEY (pending_id, position)
)
"""

MIGRATIONS: list[Migration] = [
    Migration(1, "core: records, searches, imports", _script(CORE)),
    Migration(2, "dedup: runs, groups, pairs, judgements", _script(DEDUP)),
    Migration(3, "screening: exports, batches, decisions", _script(SCREENING)),
    Migration(4, "extraction: batches, values", _script(EXTRACTION)),
    Migration(5, "imports: batches of a file's import not finished yet", _script(IMPORT_PENDING)),
]
