"""Import database exports into a project, and export the deduplicated library.

``import_file`` reads a file (format and encoding detected) as a stream, stores its records
once, a batch per transaction, and records the run (file name, SHA-256, source, format, date,
entries in, records new): the PRISMA "records identified" per database. The same file (same hash) imported again adds
nothing and makes no new run. ``export_library`` writes the records kept after dedup as RIS or
CSV for Zotero/EndNote, with their source notes (an illustrative record stays labelled).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from review.errors import InputError, ReviewError
from review.project import Project
from review.records import Record, record_notes
from review.sources import Issue, stream_file
from review.sources._common import Item, scan_file
from review.sources.csvfile import write_csv
from review.sources.ris import write_ris
from review.store.imports import ImportRow

__all__ = ["EXPORT_FORMATS", "ImportResult", "export_library", "import_file"]

#: Formats ``export_library`` writes.
EXPORT_FORMATS: tuple[str, ...] = ("ris", "csv")


@dataclass
class ImportResult:
    """What an import did: the run, how many entries/records, and every issue found."""

    file: Path
    source: str
    format: str
    encoding: str
    entries: int
    records_read: int
    records_new: int
    run: ImportRow
    new_file: bool
    issues: list[Issue] = field(default_factory=list)
    resumed: bool = False
    issues_file: Path | None = None

    @property
    def import_id(self) -> int:
        """The id of the import run (the earlier run when the file was imported before)."""
        return self.run.id

    @property
    def errors(self) -> list[Issue]:
        """Entries that could not be imported, by line."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[str]:
        """Every issue as one line naming the file and line (errors first marked ``error:``)."""
        name = self.file.name
        out = []
        for issue in self.issues:
            where = f"{name}, line {issue.line}" if issue.line is not None else name
            prefix = "error: " if issue.severity == "error" else ""
            out.append(f"{prefix}{where}: {issue.message}")
        return out

    def summary(self) -> str:
        """One line for people: what was read and what was added."""
        if not self.new_file:
            return (
                f"{self.file.name}: already imported on {self.run.imported_at} as {self.run.source!r} "
                f"(import {self.run.id}, {self.run.records_in} entries); nothing added"
            )
        errors = len(self.errors)
        lost = f", {errors} entries not imported (see errors above)" if errors else ""
        resumed = " (completed an import that was interrupted)" if self.resumed else ""
        return (
            f"{self.file.name} ({self.format}, {self.encoding}) as {self.source!r}: {self.entries} entries, "
            f"{self.records_read} records read, {self.records_new} new{lost}; import {self.run.id}{resumed}"
        )


#: Records stored per transaction by :func:`import_file` (memory stays flat however large the file).
BATCH_SIZE = 2000


def import_file(
    project: Project, path: str | Path, source: str, fmt: str = "auto", *, batch_size: int = BATCH_SIZE
) -> ImportResult:
    """Import one export file into the project's store, in batches as it is read.

    Parameters
    ----------
    project
        The open project.
    path
        RIS, MEDLINE/.nbib, PubMed XML or CSV file.
    source
        Database the file came from (e.g. ``"embase"``); PRISMA counts records per source.
    fmt
        ``"auto"`` or one of ``review.sources.FORMATS``.
    batch_size
        Records stored per transaction.

    Returns
    -------
    ImportResult
        With ``.warnings`` (lines naming file and line) and ``.summary()``.

    Raises
    ------
    InputError
        The file cannot be read or holds no entries; or an unfinished import of the same file
        was begun under another source name.
    ReviewError
        The import was interrupted (Ctrl-C): the batches read are kept, and importing the same
        file again completes it.

    Notes
    -----
    Records are kept ``batch_size`` at a time, each batch in its own transaction, apart from the
    project's records; when the file has been read to the end they are added to the records and
    the run (counts, issues) is recorded, in one transaction. If the import stops half-way,
    importing the same file again skips the entries kept already and completes it.
    """
    path = Path(path)
    source = source.strip()
    store = project.store
    scan = scan_file(path)
    earlier = store.find_import(scan.sha256)
    if earlier is not None:  # the same bytes were imported before: nothing to read or add
        return ImportResult(
            file=path,
            source=earlier.source,
            format=earlier.format,
            encoding=earlier.encoding,
            entries=earlier.records_in,
            records_read=earlier.records_read,
            records_new=0,
            run=earlier,
            new_file=False,
            issues=[],
        )
    spelt = next((s for s in store.record_sources() if s.casefold() == source.casefold()), source)
    notes: list[Issue] = []
    if spelt != source:  # one database, one name: its records are keyed and counted under one spelling
        notes.append(
            Issue(None, "warning", f"source {source!r} taken as {spelt!r}, as this project spells it")
        )
        source = spelt
    pending = store.pending_import(scan.sha256)
    if pending is not None and pending.source != source and pending.source.casefold() == source.casefold():
        store.respell_pending(pending.id, source)  # begun as 'scopus', the project now says 'Scopus'
        pending = store.pending_import(scan.sha256)
    if pending is not None and source and pending.source != source:
        raise InputError(
            f"an import of this file as {pending.source!r} began on {pending.started_at} and was not "
            f"finished ({pending.stored} entries read); import it again with --source {pending.source} "
            "to complete it",
            path=path,
        )
    stream = stream_file(path, source, fmt, scan=scan)
    if pending is not None and pending.format != stream.format:
        raise InputError(
            f"an import of this file as {pending.format} was not finished; import it again with "
            f"--format {pending.format} (or auto) to complete it",
            path=path,
        )
    pending = store.start_import(file_hash=scan.sha256, source=source, fmt=stream.format, file_name=path.name)
    read = 0
    batch: list[Item] = []
    try:
        for item in stream:
            batch.append(item)
            if len(batch) >= batch_size:
                read += _store_batch(project, pending.id, batch)
        if batch:
            read += _store_batch(project, pending.id, batch)
    except KeyboardInterrupt as exc:
        raise ReviewError(
            f"{path.name}: import interrupted after {read} of {stream.entries} entries; nothing was added "
            "to the project yet (the entries read are kept): run the same import again to complete it"
        ) from exc
    stream.issues[:0] = notes
    for position, line, key, record_id, title in store.key_conflicts(pending.id):
        stream.issues.append(
            Issue(
                line,
                "warning",
                f"entry {position} has the key {key!r} of record {record_id} already in the project, which "
                f"has another title or DOI ({(title or 'no title')[:60]!r}); it was not stored again: "
                "check the file's ids (is this another paper?)",
            )
        )
    run, new_file = store.finish_import(
        pending.id,
        file_path=str(path.resolve()),
        encoding=stream.encoding,
        entries=stream.entries,
        issues=[(i.line, i.severity, i.message) for i in stream.issues],
    )
    issues = stream.issues if new_file else []
    return ImportResult(
        file=path,
        source=source,
        format=stream.format,
        encoding=stream.encoding,
        entries=stream.entries,
        records_read=run.records_read if new_file else read,
        records_new=run.records_new if new_file else 0,
        run=run,
        new_file=new_file,
        issues=issues,
        resumed=pending.stored > 0,
        issues_file=_write_issues(project, run.id, path, issues) if issues else None,
    )


def _write_issues(project: Project, import_id: int, path: Path, issues: list[Issue]) -> Path:
    """Every warning and error of an import as a CSV a person can sort (the screen shows the first)."""
    out = project.output_dir / "imports" / f"import-{import_id}-issues.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "line", "severity", "message"])
        writer.writerows([path.name, i.line, i.severity, i.message] for i in issues)
    return out


def _store_batch(project: Project, pending_id: int, batch: list[Item]) -> int:
    """Store a batch of read records (one transaction) and empty it; return how many it held."""
    n = len(batch)
    project.store.add_import_batch(
        pending_id, [i.record for i in batch], [i.position for i in batch], [i.line or None for i in batch]
    )
    batch.clear()
    return n


def export_library(project: Project, out: str | Path, fmt: str = "ris", *, force: bool = False) -> int:
    """Write the deduplicated library (records kept after the latest dedup run) to ``out``.

    RIS (UTF-8, CRLF) is what Zotero and EndNote import; CSV has the store's record id, every
    record field and the source's notes. Each record carries its notes and those of the
    duplicates merged into it, so one marked illustrative / not verified stays marked. An
    existing ``out`` is refused unless ``force``. Returns the number of records written.
    """
    from review.project.screen import record_notes_shown

    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r}: expected one of {', '.join(EXPORT_FORMATS)}")
    out = Path(out)
    if out.is_dir():
        raise InputError("is a folder: give the name of the file to write, e.g. library.ris", path=out)
    if out.exists() and not force:
        raise InputError(
            "exists already; choose another file name, or pass --force to overwrite it", path=out
        )
    store = project.store
    records = store.get_records(store.unique_record_ids())
    if not records:
        raise InputError(
            "the project has no records to export yet (import or search first); nothing written", path=out
        )
    order = sorted(records)
    shown = record_notes_shown(project, order)
    kept = [_with_notes(records[i], shown.get(i, ())) for i in order]
    text = write_ris(kept) if fmt == "ris" else write_csv(kept, order)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # newline="" keeps the writers' CRLF as is; a BOM lets Excel open the CSV as UTF-8
        with out.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as fh:
            fh.write(text)
    except OSError as exc:
        raise InputError(f"cannot write the export: {exc.strerror or exc}", path=out) from exc
    return len(kept)


def _with_notes(record: Record, notes: Sequence[str]) -> Record:
    """The record with ``notes`` (its own and its merged duplicates') where the writers read them."""
    own = record_notes(record.extra)
    extra_notes = [n for n in notes if n not in own]
    if not extra_notes:
        return record
    top = record.extra.get("notes")
    mine = [top] if isinstance(top, str) else list(top or ())
    return record.replace(extra={**record.extra, "notes": [*mine, *extra_notes]})
