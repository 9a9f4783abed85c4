"""A review project: a folder holding the protocol, the SQLite store and the files people get.

Layout of a project folder::

    DIR/protocol.yaml     copy of the protocol the project was made from
    DIR/review.sqlite     the store: the single source of truth
    DIR/raw/              raw E-utilities replies, kept so searches can be audited and replayed
    DIR/workbooks/        Excel workbooks handed to people
    DIR/output/           tables, plots and PRISMA files

Stage workflows (search, import, dedup, screening, extraction, pooling, PRISMA) live in the
submodules of this package; each takes a :class:`Project`.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from review import __version__
from review.errors import StoreError
from review.protocol import Protocol, load_protocol
from review.store import Store
from review.store._base import now

__all__ = ["PROTOCOL_FILE", "STORE_FILE", "Project", "init_project", "open_project", "project_status"]

STORE_FILE = "review.sqlite"
PROTOCOL_FILE = "protocol.yaml"


@dataclass
class Project:
    """An open review project: its folder, store and protocol."""

    root: Path
    store: Store
    protocol: Protocol

    @property
    def raw_dir(self) -> Path:
        """Where raw E-utilities replies are kept."""
        return self.root / "raw"

    @property
    def workbook_dir(self) -> Path:
        """Where workbooks for people are written by default."""
        return self.root / "workbooks"

    @property
    def output_dir(self) -> Path:
        """Where tables, plots and PRISMA files are written by default."""
        return self.root / "output"

    @property
    def project_id(self) -> str:
        """The project's unique id (written into every workbook it hands out)."""
        value = self.store.get_meta("project_id")
        if value is None:
            raise StoreError(f"{self.store.path} has no project id: it was not made by `review init`")
        return value

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def init_project(directory: str | Path, protocol_path: str | Path) -> Project:
    """Create a project folder from a protocol (validated first); the folder must be new or empty."""
    protocol = load_protocol(protocol_path)
    root = Path(directory)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise StoreError(f"{root} already exists and is not an empty folder: choose a new folder")
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("raw", "workbooks", "output"):
        (root / sub).mkdir(exist_ok=True)
    shutil.copyfile(protocol_path, root / PROTOCOL_FILE)
    store = Store(root / STORE_FILE, create=True)
    digest = hashlib.sha256(Path(protocol_path).read_bytes()).hexdigest()
    for key, value in {
        "project_id": str(uuid.uuid4()),
        "created_at": now(),
        "created_with": __version__,
        "protocol_id": protocol.id,
        "protocol_sha256": digest,
    }.items():
        store.set_meta(key, value)
    return Project(root=root, store=store, protocol=protocol)


def open_project(directory: str | Path) -> Project:
    """Open an existing project folder (made by :func:`init_project`)."""
    root = Path(directory)
    if not (root / STORE_FILE).exists():
        raise StoreError(f"{root} is not a review project (no {STORE_FILE}): run `review init {root}` first")
    protocol = load_protocol(root / PROTOCOL_FILE)
    return Project(root=root, store=Store(root / STORE_FILE), protocol=protocol)


def project_status(project: Project) -> dict[str, Any]:
    """Counts for ``review status``: records, search runs, import runs, records left after dedup."""
    store = project.store
    conn = store.conn
    records = store.record_count()
    searches = int(conn.execute("SELECT COUNT(*) FROM searches WHERE status = 'complete'").fetchone()[0])
    imports = int(conn.execute("SELECT COUNT(*) FROM imports").fetchone()[0])
    return {
        "records": records,
        "searches": searches,
        "imports": imports,
        "unique_records": store.unique_record_count(),
        "protocol": project.protocol.id,
        "project_id": project.project_id,
        # interrupted imports: nothing of them is in the project until the import is run again
        "unfinished_imports": [
            {"file": p.file_name, "source": p.source, "entries_kept": p.stored, "started_at": p.started_at}
            for p in store.pending_imports()
        ],
    }
