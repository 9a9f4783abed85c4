"""Screening workbooks round trip through real openpyxl files, edited the way people edit them.

Every refused workbook must leave the store exactly as it was.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.errors import InputError, ReviewError
from review.project import Project, init_project
from review.project.screen import (
    export_conflicts,
    export_screening,
    import_screening,
    screening_outcomes,
    screening_status,
)
from review.records import Record
from review.screening import cohen_kappa

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"
TA, FT = "title-abstract", "full-text"
N = 24


def _records(start: int, n: int) -> list[Record]:
    out = []
    for i in range(start, start + n):
        title = f"Trial {i} of ketamine for complex regional pain syndrome"
        if i == 3:
            title = '=HYPERLINK("http://evil.example","click")'
        if i == 4:
            title = "-2 dB: a formula-looking title"
        out.append(
            Record(
                source="test",
                source_id=str(i),
                pmid=str(1000 + i) if i % 2 else None,
                doi=f"10.1000/t.{i}",
                title=title,
                authors=("Smith, J", "Doe, A"),
                year=2000 + i % 20,
                journal="@Pain journal" if i == 5 else "Pain",
                abstract=f"Background: randomised trial number {i}. " * 5,
            )
        )
    return out


@pytest.fixture
def proj(project: Project) -> Project:
    project.store.add_records(_records(1, N))
    return project


def _snapshot(project: Project) -> tuple[Any, ...]:
    store = project.store
    return (
        store.screening_decisions(),
        store.screening_batches(),
        screening_status(project),
    )


def _headers(ws: Any) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1] if c.value is not None}


def fill(
    path: Path,
    decide: Callable[[int], str | None],
    *,
    reason: Callable[[int], str | None] | None = None,
    sort: bool = False,
    delete: set[int] = frozenset(),  # type: ignore[assignment]
    style: Callable[[str], str] = lambda s: s,
) -> list[int]:
    """Fill a workbook as a screener would: optionally sort by title, delete rows, type decisions."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    h = _headers(ws)
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    if delete:
        rows = [r for r in rows if r[h["record_id"] - 1] not in delete]
    if sort:
        rows.sort(key=lambda r: str(r[h["title"] - 1] or ""), reverse=True)
    ws.delete_rows(2, ws.max_row)
    for i, r in enumerate(rows, start=2):
        for j, v in enumerate(r, start=1):
            ws.cell(row=i, column=j).value = v
    ids = []
    for i in range(2, ws.max_row + 1):
        rid = ws.cell(row=i, column=h["record_id"]).value
        if rid is None:
            continue
        ids.append(int(rid))
        value = decide(int(rid))
        ws.cell(row=i, column=h["decision"]).value = None if value is None else style(value)
        if reason is not None:
            ws.cell(row=i, column=h["reason"]).value = reason(int(rid))
    wb.save(path)
    return ids


def a_rule(rid: int) -> str:
    return "include" if rid % 3 else "exclude"


def b_rule(rid: int) -> str:
    return a_rule(rid) if rid % 5 else ("exclude" if a_rule(rid) == "include" else "include")


def test_exported_workbook_layout(proj: Project, tmp_path: Path) -> None:
    out = tmp_path / "A.xlsx"
    msg = export_screening(proj, stage=TA, reviewer="A", out=out)
    assert f"{N} records" in msg
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert ws.title == "Screening"
    head = [c.value for c in ws[1]]
    assert head[0] == "record_id"
    assert {"title", "authors", "year", "journal", "abstract", "decision", "note", "pubmed", "doi"} <= set(
        head
    )
    assert "reason" not in head
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(head))}{N + 1}"
    assert ws.max_row == N + 1
    h = _headers(ws)
    ids = [ws.cell(row=i, column=1).value for i in range(2, N + 2)]
    assert ids == list(range(1, N + 1))
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and lists[0].formula1 == '"include,exclude,maybe"'
    # formula injection: written as text with Excel's quote prefix, value unchanged
    row3 = ids.index(3) + 2
    cell = ws.cell(row=row3, column=h["title"])
    assert cell.data_type == "s" and cell.quotePrefix
    assert cell.value == '=HYPERLINK("http://evil.example","click")'
    assert ws.cell(row=ids.index(4) + 2, column=h["title"]).value.startswith("-2 dB")
    assert ws.cell(row=ids.index(5) + 2, column=h["journal"]).quotePrefix
    assert ws.cell(row=2, column=h["abstract"]).alignment.wrap_text
    assert ws.cell(row=2, column=h["pubmed"]).value.startswith(
        '=HYPERLINK("https://pubmed.ncbi.nlm.nih.gov/1001/"'
    )
    instructions = "\n".join(str(c.value) for c in wb["Instructions"]["A"] if c.value)
    for criterion in proj.protocol.eligibility.include + proj.protocol.eligibility.exclude:
        assert criterion in instructions
    assert wb["review"].sheet_state == "veryHidden"
    meta = {r[0].value: r[1].value for r in wb["review"].iter_rows(min_row=2)}
    assert meta["project_id"] == proj.project_id and meta["stage"] == TA and meta["reviewer"] == "A"


def test_two_reviewers_sorted_deleted_typed(proj: Project, tmp_path: Path) -> None:
    a, b = tmp_path / "A.xlsx", tmp_path / "B.xlsx"
    export_screening(proj, stage=TA, reviewer="A", out=a)
    export_screening(proj, stage=TA, reviewer="B", out=b)
    ids_a = fill(a, a_rule)
    ids_b = fill(b, b_rule, sort=True, delete={7, 8}, style=lambda s: "  " + s.capitalize() + " ")
    assert 7 not in ids_b and len(ids_b) == N - 2
    import_screening(proj, a)
    import_screening(proj, b)
    s = screening_status(proj)[TA]
    assert s["records"] == N
    want_a = [a_rule(r) for r in ids_a]
    assert s["reviewers"]["A"] == {
        "include": want_a.count("include"),
        "exclude": want_a.count("exclude"),
        "maybe": 0,
    }
    want_b = [b_rule(r) for r in ids_b]
    assert s["reviewers"]["B"] == {
        "include": want_b.count("include"),
        "exclude": want_b.count("exclude"),
        "maybe": 0,
    }
    both = sorted(ids_b)
    kappa = cohen_kappa([a_rule(r) for r in both], [b_rule(r) for r in both])
    assert kappa is not None and abs(s["kappa"] - kappa) < 1e-12
    assert s["both_decided"] == N - 2
    assert s["conflicts"] == sum(a_rule(r) != b_rule(r) for r in both)
    assert s["pending"] == 2  # the two rows B deleted

    before = _snapshot(proj)
    assert "imported already" in import_screening(proj, b)
    assert _snapshot(proj) == before

    # a re-saved copy (other bytes, same content) adds a batch but no decision
    copy = tmp_path / "B copy.xlsx"
    with zipfile.ZipFile(b) as zin, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.comment = b"saved again"
    msg = import_screening(proj, copy)
    assert "0 new or changed" in msg
    assert proj.store.screening_decisions() == before[0]
    assert screening_status(proj) == before[2]

    # B's next workbook holds only the two records B has not decided
    b2 = tmp_path / "B2.xlsx"
    assert "2 records" in export_screening(proj, stage=TA, reviewer="B", out=b2)
    assert sorted(fill(b2, lambda rid: None)) == [7, 8]
    import_screening(proj, b2)  # empty cells: nothing stored
    assert proj.store.screening_decisions() == before[0]


def test_later_workbook_supersedes_and_history_is_kept(proj: Project, tmp_path: Path) -> None:
    a = tmp_path / "A.xlsx"
    export_screening(proj, stage=TA, reviewer="A", out=a)
    fill(a, lambda rid: "include")
    import_screening(proj, a)
    fill(a, lambda rid: "exclude" if rid in (1, 2) else "include")
    msg = import_screening(proj, a)
    assert "2 new or changed" in msg
    assert "2 of A's earlier decisions were changed by this workbook" in msg  # an overturn is said aloud
    s = screening_status(proj)[TA]
    assert s["reviewers"]["A"] == {"include": N - 2, "exclude": 2, "maybe": 0}
    history = [d for d in proj.store.screening_decisions() if d[1] == 1]
    assert [d[4] for d in history] == ["include", "exclude"]


def _refused(proj: Project, path: Path, match: str) -> None:
    before = _snapshot(proj)
    with pytest.raises(ReviewError, match=match):
        import_screening(proj, path)
    assert _snapshot(proj) == before


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)


@pytest.fixture
def filled(proj: Project, tmp_path: Path) -> Path:
    a = tmp_path / "A.xlsx"
    export_screening(proj, stage=TA, reviewer="A", out=a)
    fill(a, a_rule)
    return a


def test_invalid_decision_names_the_cell(proj: Project, filled: Path) -> None:
    _edit(filled, lambda wb: wb.worksheets[0].cell(row=7, column=8, value="yes"))
    _refused(proj, filled, r"A.xlsx, sheet 'Screening', cell H7: decision 'yes' is not include/exclude/maybe")


def test_several_problems_are_counted(proj: Project, filled: Path) -> None:
    def bad(wb: Any) -> None:
        for row in (3, 9, 12):
            wb.worksheets[0].cell(row=row, column=8, value="Inclued")

    _edit(filled, bad)
    _refused(proj, filled, r"cell H3: .*and 2 more problems: H9, H12")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda ws: ws.cell(row=5, column=1, value=ws.cell(row=4, column=1).value),
            r"cell A5: record_id 3 appears twice",
        ),
        (
            lambda ws: ws.cell(row=5, column=1, value=9999),
            r"cell A5: record_id 9999 was not in this workbook",
        ),
        (lambda ws: ws.cell(row=5, column=1, value="abc"), r"cell A5: record_id 'abc' is not a record id"),
        (
            lambda ws: setattr(ws.cell(row=5, column=1), "value", None),
            r"cell A5: a decision is given but record_id is empty",
        ),
        (
            lambda ws: ws.cell(row=5, column=2, value="Another title entirely"),
            r"cell B5: the title does not belong",
        ),
        (lambda ws: ws.cell(row=1, column=8, value="verdict"), r"no 'decision' column"),
        (lambda ws: ws.cell(row=1, column=9, value="decision"), r"two columns are headed 'decision'"),
    ],
)
def test_damaged_rows_are_refused(
    proj: Project, filled: Path, change: Callable[[Any], None], match: str
) -> None:
    _edit(filled, lambda wb: change(wb.worksheets[0]))
    _refused(proj, filled, match)


def test_titles_sorted_without_ids_are_refused(proj: Project, filled: Path) -> None:
    def shuffle_titles(wb: Any) -> None:
        ws = wb.worksheets[0]
        titles = [ws.cell(row=i, column=2).value for i in range(2, ws.max_row + 1)]
        for i, t in enumerate(reversed(titles), start=2):
            ws.cell(row=i, column=2).value = t

    _edit(filled, shuffle_titles)
    _refused(proj, filled, r"the title does not belong to record")


def test_record_id_of_another_workbook_is_refused(proj: Project, tmp_path: Path) -> None:
    a = tmp_path / "A.xlsx"
    export_screening(proj, stage=TA, reviewer="A", out=a)
    fill(a, a_rule, delete={5})
    import_screening(proj, a)
    a2 = tmp_path / "A2.xlsx"
    export_screening(proj, stage=TA, reviewer="A", out=a2)  # only record 5
    _edit(a2, lambda wb: wb.worksheets[0].cell(row=3, column=1, value=6))
    _edit(a2, lambda wb: wb.worksheets[0].cell(row=3, column=8, value="include"))
    _refused(proj, a2, r"record_id 6 was not in this workbook")


def test_workbook_of_another_project_is_refused(proj: Project, filled: Path, tmp_path: Path) -> None:
    other = init_project(tmp_path / "other", PROTOCOL)
    try:
        other.store.add_records(_records(1, N))
        _refused(other, filled, r"belongs to another project")
    finally:
        other.close()


def test_not_a_workbook_and_damaged_files(proj: Project, filled: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.xlsx"
    text.write_text("record_id,decision\n1,include\n", encoding="utf-8")
    _refused(proj, text, r"notes.xlsx: cannot be read as an Excel workbook")
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(filled.read_bytes()[:4000])
    _refused(proj, cut, r"cut.xlsx: cannot be read as an Excel workbook")
    nometa = tmp_path / "nometa.xlsx"
    shutil.copy(filled, nometa)
    _edit(nometa, lambda wb: wb.remove(wb["review"]))
    _refused(proj, nometa, r"has no hidden 'review' sheet")
    pasted = tmp_path / "pasted.xlsx"
    src = openpyxl.load_workbook(filled).worksheets[0]
    wb = openpyxl.Workbook()
    for row in src.iter_rows(values_only=True):
        wb.active.append(row)
    wb.save(pasted)
    _refused(proj, pasted, r"was not written by `review`")
    tampered = tmp_path / "tampered.xlsx"
    shutil.copy(filled, tampered)

    def other_reviewer(wb: Any) -> None:
        for row in wb["review"].iter_rows():
            if row[0].value == "reviewer":
                row[1].value = "Z"

    _edit(tampered, other_reviewer)
    _refused(proj, tampered, r"hidden 'review' sheet was changed")
    with zipfile.ZipFile(filled) as z:
        assert "xl/workbook.xml" in z.namelist()


def test_export_refuses_to_overwrite(proj: Project, filled: Path) -> None:
    with pytest.raises(InputError, match="exists already"):
        export_screening(proj, stage=TA, reviewer="A", out=filled)


def test_full_text_flow_conflicts_and_outcomes(proj: Project, tmp_path: Path) -> None:
    a, b = tmp_path / "A.xlsx", tmp_path / "B.xlsx"
    export_screening(proj, stage=TA, reviewer="A", out=a)
    export_screening(proj, stage=TA, reviewer="B", out=b)
    fill(a, a_rule)
    fill(b, b_rule)
    import_screening(proj, a)
    import_screening(proj, b)
    conflicts = [r for r in range(1, N + 1) if a_rule(r) != b_rule(r)]
    agreed_in = [r for r in range(1, N + 1) if a_rule(r) == b_rule(r) == "include"]

    # third reviewer resolves title/abstract conflicts: include the even ids
    c = tmp_path / "C.xlsx"
    assert f"{len(conflicts)} conflicts" in export_conflicts(proj, stage=TA, reviewer="C", out=c)
    wb = openpyxl.load_workbook(c)
    assert wb.worksheets[0].title == "Conflicts"
    assert {"decision by A", "decision by B", "decision"} <= set(_headers(wb.worksheets[0]))
    fill(c, lambda rid: "maybe")
    _refused(proj, c, r"decision 'maybe' is not allowed in this workbook: use include or exclude")
    fill(c, lambda rid: "include" if rid % 2 == 0 else "exclude")
    import_screening(proj, c)
    ta = screening_status(proj)[TA]
    assert ta["conflicts"] == 0 and ta["resolved"] == len(conflicts)
    assert "no conflicts" in export_conflicts(proj, stage=TA, reviewer="C", out=tmp_path / "none.xlsx")

    reaching = sorted(agreed_in + [r for r in conflicts if r % 2 == 0])
    fa, fb = tmp_path / "FA.xlsx", tmp_path / "FB.xlsx"
    export_screening(proj, stage=FT, reviewer="A", out=fa)
    export_screening(proj, stage=FT, reviewer="B", out=fb)
    book = openpyxl.load_workbook(fa)
    head = _headers(book.worksheets[0])
    assert "reason" in head
    (reason_dv,) = [
        dv for dv in book.worksheets[0].data_validations.dataValidation if "Instructions" in str(dv.formula1)
    ]
    cells = str(reason_dv.formula1).split("!")[1].replace("$", "")
    listed = [c.value for row in book["Instructions"][cells] for c in row]
    assert listed == list(proj.protocol.screening.exclusion_reasons)
    ids = fill(
        fa,
        lambda rid: "exclude" if rid % 4 == 1 else "include",
        reason=lambda rid: "wrong population" if rid % 4 == 1 else None,
    )
    assert sorted(ids) == reaching
    # an exclusion without a reason, then an unknown reason, are refused
    fill(fb, lambda rid: "exclude")
    _refused(proj, fb, r"excluded without a reason")
    fill(fb, lambda rid: "exclude", reason=lambda rid: "too small")
    _refused(proj, fb, r"reason 'too small' is not one of the protocol's reasons")
    fill(
        fb,
        lambda rid: "exclude" if rid % 4 == 1 else "include",
        reason=lambda rid: " Wrong Population " if rid % 4 == 1 else None,
    )
    import_screening(proj, fa)
    import_screening(proj, fb)
    ft = screening_status(proj)[FT]
    assert ft["records"] == len(reaching)
    assert ft["kappa"] is not None and ft["conflicts"] == 0

    out = screening_outcomes(proj)
    assert list(out.columns) == ["record_id", "stage", "final", "reason"]
    assert len(out[out.stage == TA]) == N
    ft_rows = out[out.stage == FT].set_index("record_id")
    assert sorted(ft_rows.index) == reaching
    for rid in reaching:
        if rid % 4 == 1:
            assert (ft_rows.loc[rid, "final"], ft_rows.loc[rid, "reason"]) == ("exclude", "wrong population")
        else:
            assert ft_rows.loc[rid, "final"] == "include"


def test_search_update_new_records_in_new_workbook(proj: Project, tmp_path: Path) -> None:
    a = tmp_path / "A.xlsx"
    export_screening(proj, stage=TA, reviewer="A", out=a)
    fill(a, a_rule)
    import_screening(proj, a)
    before = proj.store.screening_decisions()
    proj.store.add_records(_records(N + 1, 5))
    a2 = tmp_path / "A2.xlsx"
    assert "5 records" in export_screening(proj, stage=TA, reviewer="A", out=a2)
    assert sorted(fill(a2, a_rule)) == list(range(N + 1, N + 6))
    import_screening(proj, a2)
    after = proj.store.screening_decisions()
    assert after[: len(before)] == before
    assert screening_status(proj)[TA]["records"] == N + 5
    assert sum(screening_status(proj)[TA]["reviewers"]["A"].values()) == N + 5
    assert "nothing to screen" in export_screening(proj, stage=TA, reviewer="A", out=tmp_path / "A3.xlsx")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    choices=st.lists(st.sampled_from([None, "include", "exclude", "maybe"]), min_size=N, max_size=N),
    spacing=st.sampled_from([lambda s: s, str.upper, lambda s: f"  {s.capitalize()} ", lambda s: f"\t{s}\n"]),
    sort=st.booleans(),
    drop=st.sets(st.integers(1, N), max_size=5),
)
def test_roundtrip_property(
    tmp_path_factory: pytest.TempPathFactory,
    choices: list[str | None],
    spacing: Callable[[str], str],
    sort: bool,
    drop: set[int],
) -> None:
    tmp = tmp_path_factory.mktemp("rt")
    project = init_project(tmp / "p", PROTOCOL)
    try:
        project.store.add_records(_records(1, N))
        path = tmp / "A.xlsx"
        export_screening(project, stage=TA, reviewer="A", out=path)
        fill(path, lambda rid: choices[rid - 1], sort=sort, delete=drop, style=spacing)
        import_screening(project, path)
        stored = {d[1]: d[4] for d in project.store.screening_decisions()}
        want = {rid: c for rid, c in enumerate(choices, start=1) if c is not None and rid not in drop}
        assert stored == want
    finally:
        project.close()


def test_decisions_follow_records_merged_by_a_later_dedup(proj: Project, tmp_path: Path) -> None:
    a = tmp_path / "A.xlsx"
    export_screening(proj, stage=TA, reviewer="A", out=a)
    fill(a, a_rule)
    import_screening(proj, a)
    # a new record arrives and a later dedup run keeps it in place of record 2
    ((new_id, _),) = proj.store.add_records(_records(100, 1))
    groups = [(rid, rid, True) for rid in range(1, N + 1) if rid != 2] + [(2, 2, False), (new_id, 2, True)]
    proj.store.save_dedup_run(
        started_at="2026-01-01T00:00:00+00:00", software_version="t", params={}, groups=groups, pairs=[]
    )
    s = screening_status(proj)[TA]
    assert s["records"] == N
    assert sum(s["reviewers"]["A"].values()) == N  # A's decision on record 2 counts for the record kept
    assert "nothing to screen" in export_screening(proj, stage=TA, reviewer="A", out=tmp_path / "A2.xlsx")
    out = screening_outcomes(proj)
    assert new_id in set(out.record_id) and 2 not in set(out.record_id)


def test_renamed_and_reordered_sheets_are_found(proj: Project, filled: Path) -> None:
    def rename(wb: Any) -> None:
        wb.worksheets[0].title = "My screening"
        wb.move_sheet("Instructions", offset=-1)

    _edit(filled, rename)
    msg = import_screening(proj, filled)
    assert f"{N} decisions" in msg


def test_empty_file_is_refused(proj: Project, tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    _refused(proj, empty, r"empty.xlsx: cannot be read as an Excel workbook")


def test_inserted_widened_columns_and_filtered_rows(proj: Project, filled: Path) -> None:
    def rearrange(wb: Any) -> None:
        ws = wb.worksheets[0]
        ws.insert_cols(2)  # a column of the screener's own, before the title
        ws.cell(row=1, column=2, value="My flag")
        ws.column_dimensions["H"].width = 80
        for row in range(2, 8):
            ws.row_dimensions[row].hidden = True  # filtered out, still data
        ws.auto_filter.ref = f"A1:M{ws.max_row}"

    _edit(filled, rearrange)
    import_screening(proj, filled)
    stored = {d[1]: d[4] for d in proj.store.screening_decisions()}
    assert stored == {rid: a_rule(rid) for rid in range(1, N + 1)}


def test_real_zotero_export_round_trip(shared: Path, project: Project, tmp_path: Path) -> None:
    """1,000 real records (long abstracts, odd characters) survive export, a sorted fill and import."""
    from review.sources import read_file

    result = read_file(shared / "fixtures" / "fetched" / "asysd" / "zotero_export.ris", "zotero")
    project.store.add_records(result.records)
    n = project.store.record_count()
    path = tmp_path / "A.xlsx"
    export_screening(project, stage=TA, reviewer="A", out=path)
    ids = fill(path, a_rule, sort=True, style=lambda s: f" {s.upper()} ")
    assert len(ids) == n
    import_screening(project, path)
    s = screening_status(project)[TA]
    want = [a_rule(r) for r in ids]
    assert s["reviewers"]["A"] == {
        "include": want.count("include"),
        "exclude": want.count("exclude"),
        "maybe": 0,
    }


def test_source_notes_and_illustrative_label_are_shown(project: Project, tmp_path: Path) -> None:
    """A made-up/unverified record is labelled in its own column; the screener's note is separate."""
    from review.records import ILLUSTRATIVE_LABEL
    from review.workbooks.screening import NOTE_COLUMN

    made_up = Record(
        source="pubmed",
        source_id="99100001",
        title="Made-up trial",
        extra={"notes": ["MADE-UP demo record."]},
    )
    plain = Record(
        source="embase", source_id="e1", title="Real trial", extra={"ris": {"notes": ["63 refs."]}}
    )
    bare = Record(source="embase", source_id="e2", title="Another real trial")
    (a, _), (b, _), (c, _) = project.store.add_records([made_up, plain, bare])
    out = tmp_path / "A.xlsx"
    export_screening(project, stage=TA, reviewer="A", out=out)
    ws = openpyxl.load_workbook(out).worksheets[0]
    h = _headers(ws)
    shown = {ws.cell(r, 1).value: ws.cell(r, h[NOTE_COLUMN]).value for r in range(2, ws.max_row + 1)}
    assert shown == {a: f"{ILLUSTRATIVE_LABEL}: MADE-UP demo record.", b: "63 refs.", c: None}
    assert ws.cell(2, h[NOTE_COLUMN]).font.b  # the label stands out
    fill(out, lambda rid: "include")
    import_screening(project, out)
    notes = {row[1]: row[7] for row in project.store.screening_decisions()}
    assert notes == {a: None, b: None, c: None}  # the record note is not taken as the screener's note
