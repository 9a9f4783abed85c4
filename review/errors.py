"""One exception tree whose messages a clinician can act on.

Every error the library raises on purpose is a :class:`ReviewError`. The CLI catches it in
one place, prints its message on one line and exits 1; anything else is a bug and keeps its
traceback. Messages say what was expected, what came instead and where.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "EntrezError",
    "InputError",
    "MigrationError",
    "ProtocolError",
    "ReviewError",
    "SourceError",
    "StoreError",
    "StudyDataError",
    "WorkbookError",
]


class ReviewError(Exception):
    """Base of every error raised on purpose by ``review``."""


class InputError(ReviewError, ValueError):
    """A file or value given by the user cannot be used (names the file and row)."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        line: int | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.row = row
        self.line = line
        where = []
        if self.path:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {row}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ProtocolError(InputError):
    """A protocol YAML is malformed: unknown key, missing field or wrong type."""


class SourceError(ReviewError):
    """A bibliographic source (database, reply, export) could not be read."""


class EntrezError(SourceError):
    """NCBI E-utilities refused or failed a request; carries the query."""

    def __init__(self, message: str, *, query: str | None = None) -> None:
        self.query = query
        super().__init__(f"{message} (query: {query})" if query else message)


class StoreError(ReviewError):
    """The project store is missing, locked or inconsistent."""


class MigrationError(StoreError):
    """The project store could not be upgraded to this version of ``review``."""


class WorkbookError(ReviewError, ValueError):
    """An Excel workbook handed back by a person cannot be used (names sheet, row, column)."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.sheet = sheet
        self.row = row
        self.column = column
        where = []
        if self.path:
            where.append(Path(self.path).name)
        if sheet:
            where.append(f"sheet {sheet!r}")
        if column and row is not None:
            where.append(f"cell {column}{row}")
        elif row is not None:
            where.append(f"row {row}")
        elif column:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class StudyDataError(ReviewError, ValueError):
    """A study's numbers cannot be used for an effect size or pooling (names the study)."""

    def __init__(self, message: str, *, study: str | None = None, row: int | None = None) -> None:
        self.study = study
        self.row = row
        where = ""
        if row is not None and study:
            where = f"row {row} ({study}): "
        elif study:
            where = f"{study}: "
        elif row is not None:
            where = f"row {row}: "
        super().__init__(where + message)
