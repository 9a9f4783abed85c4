"""`import_file` streams a file and stores it in batches: same store as one transaction, and an
import stopped half-way (crash, Ctrl-C) is completed by running it again, without duplicates."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from review.errors import InputError, ReviewError
from review.project import Project, init_project, project_status
from review.project.imports import import_file
from review.records import Record
from review.sources import RecordStream, read_file, stream_file
from review.sources._common import Item

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"


def _ris(n: int) -> str:
    """n entries: even ones with an accession number, odd ones keyed by content, one twice, one untitled."""
    out = []
    for i in range(n):
        lines = ["TY  - JOUR", f"AU  - Author{i}, A", f"PY  - {2000 + i % 20}", f"T2  - Journal {i % 7}"]
        if i != 5:
            lines.append(f"TI  - Ketamine trial number {i}")
        if i % 2 == 0:
            lines.append(f"AN  - EMB{i}")
        out.append("\r\n".join(lines) + "\r\nER  - \r\n")
    out.append(out[3])  # the same entry twice, no accession: two records by occurrence number
    return "\r\n".join(out)


def _csv(n: int) -> str:
    """n data rows, the tenth empty (an error), a few with the wrong number of cells (warnings)."""
    rows = ["title,authors,year,journal,doi"]
    for i in range(n):
        if i == 9:
            rows.append(",,,,")
        elif i % 11 == 0:
            rows.append(f"Short row {i},Lee K")
        else:
            rows.append(f'"Lidocaine, study {i}",Smith J; Lee K,{2001 + i % 9},Pain,10.1000/x{i}')
    return "\r\n".join(rows) + "\r\n"


@pytest.fixture(params=["ris", "csv"])
def export(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / f"export.{request.param}"
    path.write_text(_ris(23) if request.param == "ris" else _csv(23), encoding="utf-8", newline="")
    return path


def _project(tmp_path: Path, name: str) -> Project:
    return init_project(tmp_path / name, PROTOCOL)


def _stored(project: Project) -> dict[str, Any]:
    """Everything the import put in the store: the run, its issues and its records in file order."""
    (run,) = project.store.import_runs()
    ids = project.store.import_record_ids(run.id)
    records = project.store.get_records(ids)
    return {
        "counts": (run.records_in, run.records_read, run.records_new, run.errors, run.warnings),
        "encoding": run.encoding,
        "issues": project.store.import_issues(run.id),
        "records": [records[i] for i in ids],
        "total": project.store.record_count(),
    }


def _count_batches(project: Project, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    real = project.store.add_import_batch

    def spy(pending_id: int, records: list[Record], *rest: list[int]) -> int:
        sizes.append(len(records))
        return real(pending_id, records, *rest)

    monkeypatch.setattr(project.store, "add_import_batch", spy)
    return sizes


def test_batches_store_what_one_transaction_stores(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, batched = _project(tmp_path, "whole"), _project(tmp_path, "batched")
    try:
        one = _count_batches(whole, monkeypatch)
        import_file(whole, export, "embase", batch_size=100_000)
        sizes = _count_batches(batched, monkeypatch)
        result = import_file(batched, export, "embase", batch_size=4)
        expected = read_file(export, "embase")
        got, want = _stored(batched), _stored(whole)
    finally:
        whole.close()
        batched.close()
    assert len(one) == 1
    assert sizes == [4] * (len(expected.records) // 4) + (
        [len(expected.records) % 4] if len(expected.records) % 4 else []
    )
    assert len(sizes) == math.ceil(len(expected.records) / 4) >= 5
    assert got == want
    # the stored records are read_file's, in file order; every entry is stored or reported
    assert got["records"] == expected.records
    entries, read, new, errors, warnings = got["counts"]
    assert (entries, read, new) == (expected.entries, len(expected.records), len(expected.records))
    assert entries == read + errors and (errors, warnings) == (len(expected.errors), len(expected.warnings))
    assert errors == (1 if export.suffix == ".csv" else 0) and warnings > 0
    assert [(i["line"], i["severity"], i["message"]) for i in got["issues"]] == [
        (i.line, i.severity, i.message) for i in expected.issues
    ]
    assert result.records_read == read and result.records_new == new and result.new_file


def _fail_in_second_batch(monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    """Fail on the 6th entry: a crash while its batch (4 per batch) is being stored, or Ctrl-C
    while the file is read."""
    import review.project.imports as imports_module
    import review.store.imports as store_module

    if failure == "crash":
        real_row = store_module._row
        calls = 0

        def row(record: Record, stamp: str) -> tuple[Any, ...]:
            nonlocal calls
            calls += 1
            if calls == 6:
                raise RuntimeError("disk full")
            return real_row(record, stamp)

        monkeypatch.setattr(store_module, "_row", row)
        return
    real_stream = imports_module.stream_file

    def stream(*args: Any, **kwargs: Any) -> RecordStream:
        out = real_stream(*args, **kwargs)

        def items(inner: Iterator[Item] = out.items) -> Iterator[Item]:
            for i, item in enumerate(inner, 1):
                if i == 6:
                    raise KeyboardInterrupt
                yield item

        out.items = items()
        return out

    monkeypatch.setattr(imports_module, "stream_file", stream)


@pytest.mark.parametrize("failure", ["crash", "ctrl-c"])
def test_interrupted_import_is_completed_by_running_it_again(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    clean = _project(tmp_path, "clean")
    project = _project(tmp_path, "interrupted")
    try:
        import_file(clean, export, "embase", batch_size=4)
        want = _stored(clean)
        with monkeypatch.context() as patch:
            _fail_in_second_batch(patch, failure)
            if failure == "crash":
                with pytest.raises(RuntimeError, match="disk full"):
                    import_file(project, export, "embase", batch_size=4)
            else:
                with pytest.raises(ReviewError, match=r"interrupted after 4 of .* run the same import again"):
                    import_file(project, export, "embase", batch_size=4)
        # the first batch is kept apart; the project has no record and no run of the file yet
        store = project.store
        assert store.record_count() == 0 and store.import_runs() == []
        pending = store.pending_import(read_file(export, "embase").sha256)
        assert pending is not None and pending.stored == 4 and pending.source == "embase"
        again = import_file(project, export, "embase", batch_size=4)
        assert again.new_file and again.resumed and "interrupted" in again.summary()
        got = _stored(project)
        assert store.pending_import(pending.file_hash) is None
        third = import_file(project, export, "embase", batch_size=4)
        assert not third.new_file and third.records_new == 0
        assert store.record_count() == want["total"] and len(store.import_runs()) == 1
    finally:
        clean.close()
        project.close()
    assert got == want  # one run, the right counts, no duplicates


def _crash_half_way(project: Project, export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Import ``export`` as 'embase' and crash in its second batch (the first is kept)."""
    with monkeypatch.context() as patch:
        _fail_in_second_batch(patch, "crash")
        with pytest.raises(RuntimeError):
            import_file(project, export, "embase", batch_size=4)


def test_an_unfinished_import_is_completed_under_its_own_source(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, "p")
    try:
        _crash_half_way(project, export, monkeypatch)
        (unfinished,) = project_status(project)["unfinished_imports"]
        assert unfinished["file"] == export.name and unfinished["source"] == "embase"
        assert unfinished["entries_kept"] == 4
        with pytest.raises(InputError, match=r"as 'embase' began on .* import it again with --source embase"):
            import_file(project, export, "scopus", batch_size=4)
        import_file(project, export, "embase", batch_size=4)
        (run,) = project.store.import_runs()
        sources = {r.source for r in project.store.get_records().values()}
        assert project_status(project)["unfinished_imports"] == []
    finally:
        project.close()
    assert run.source == "embase" and sources == {"embase"}


def test_an_unfinished_import_takes_the_spelling_the_project_settled_on_later(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Begun as 'embase' and interrupted; another file then makes 'Embase' the project's name."""
    project = _project(tmp_path, "p")
    other = tmp_path / f"other{export.suffix}"
    other.write_text(_ris(6) if export.suffix == ".ris" else _csv(6), encoding="utf-8", newline="")
    try:
        _crash_half_way(project, export, monkeypatch)
        # the unfinished import's spelling is the project's until another is stored
        assert import_file(project, other, "EMBASE").source == "embase"
        done = import_file(project, export, "Embase", batch_size=4)
        sources = {r.source for r in project.store.get_records().values()}
        runs = project.store.import_runs()
    finally:
        project.close()
    assert done.new_file and done.resumed
    assert sources == {"embase"} and [r.source for r in runs] == ["embase", "embase"]


def test_an_unfinished_import_is_respelt_when_records_came_in_another_way(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records stored as 'Embase' (not by import) while an import as 'embase' waits: one name."""
    project = _project(tmp_path, "p")
    try:
        _crash_half_way(project, export, monkeypatch)
        project.store.add_records([Record(source="Embase", source_id="E1", title="Mirror therapy in CRPS")])
        done = import_file(project, export, "embase", batch_size=4)
        sources = {r.source for r in project.store.get_records().values()}
    finally:
        project.close()
    assert done.new_file and done.resumed and done.source == "Embase" and sources == {"Embase"}


def test_records_already_in_the_store_are_not_new(export: Path, tmp_path: Path) -> None:
    """A file that repeats part of an earlier one: only the rest is new, each entry still linked."""
    project = _project(tmp_path, "p")
    try:
        part = tmp_path / f"part{export.suffix}"
        part.write_text(_ris(12) if export.suffix == ".ris" else _csv(12), encoding="utf-8", newline="")
        first = import_file(project, part, "embase", batch_size=4)
        second = import_file(project, export, "embase", batch_size=4)
        runs = project.store.import_runs()
        linked = project.store.import_record_ids(runs[1].id)
        total = project.store.record_count()
    finally:
        project.close()
    assert 0 < first.records_new < second.records_read
    assert second.records_new == second.records_read - first.records_read
    assert runs[1].records_new == second.records_new and len(linked) == second.records_read
    assert total == second.records_read


def test_stream_gives_entries_first_and_issues_at_the_end(export: Path) -> None:
    stream = stream_file(export, "embase")
    assert stream.entries == (24 if export.suffix == ".ris" else 23)
    first = next(iter(stream))
    assert first.position == 1 and first.record.source == "embase"
    rest = list(stream)
    assert [first.record, *(i.record for i in rest)] == read_file(export, "embase").records
    assert stream.issues == read_file(export, "embase").issues
