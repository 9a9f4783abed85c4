"""An older copy of a screening workbook never overturns newer decisions (real openpyxl files).

A screener saves several copies of one exported workbook; the copies are filled with openpyxl
as a person would and stamped with the time Excel writes on save (``dcterms:modified``).
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_screening_roundtrip import TA, N, _records, fill

from review.errors import WorkbookError
from review.project import Project
from review.project.screen import export_conflicts, export_screening, import_screening, screening_status
from review.workbooks.screening import saved_time

START = datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def saved_at(path: Path, when: datetime | None) -> None:
    """Stamp the file's saved time as Excel writes it (``dcterms:modified``), or remove it."""
    with zipfile.ZipFile(path) as zin:
        items = [(i, zin.read(i.filename)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                node = re.compile(r"<dcterms:modified[^>]*>[^<]*</dcterms:modified>")
                stamp = (
                    ""
                    if when is None
                    else (
                        '<dcterms:modified xsi:type="dcterms:W3CDTF">'
                        f"{when.isoformat(timespec='seconds')}Z</dcterms:modified>"
                    )
                )
                data = node.sub(stamp, text).encode("utf-8")
            zout.writestr(info, data)


def copy_of(src: Path, dst: Path, decide: Callable[[int], str | None], when: datetime | None) -> Path:
    """A copy of the workbook saved at ``when`` with these decisions."""
    shutil.copy(src, dst)
    fill(dst, decide)
    saved_at(dst, when)
    return dst


def _state(project: Project) -> tuple[Any, ...]:
    return project.store.screening_decisions(), project.store.screening_batches(), screening_status(project)


def older(rid: int) -> str | None:
    """Copy A: the first ten records, all included."""
    return "include" if rid <= 10 else None


def newer(rid: int) -> str | None:
    """Copy B, saved later: twenty records, and records 3 and 4 excluded after all."""
    if rid in (3, 4):
        return "exclude"
    return "include" if rid <= 20 else None


@pytest.fixture
def exported(project: Project, tmp_path: Path) -> Path:
    project.store.add_records(_records(1, N))
    out = tmp_path / "export.xlsx"
    export_screening(project, stage=TA, reviewer="Ann", out=out)
    return out


def _current(project: Project) -> dict[int, str]:
    return {row[1]: row[4] for row in project.store.screening_decisions()}


def test_saved_time_is_read_from_the_file(exported: Path, tmp_path: Path) -> None:
    when = START + timedelta(hours=1)
    a = copy_of(exported, tmp_path / "A.xlsx", older, when)
    assert saved_time(a) == when
    saved_at(a, None)
    assert saved_time(a) is None  # openpyxl would say "now"; the file says nothing
    assert saved_time(tmp_path / "missing.xlsx") is None


def test_an_older_copy_is_refused_and_forcing_it_is_said(
    project: Project, exported: Path, tmp_path: Path
) -> None:
    a = copy_of(exported, tmp_path / "A.xlsx", older, START + timedelta(hours=1))
    b = copy_of(exported, tmp_path / "B.xlsx", newer, START + timedelta(hours=2))
    import_screening(project, b)
    before = _state(project)
    with pytest.raises(WorkbookError) as err:
        import_screening(project, a)
    msg = str(err.value)
    assert msg.startswith("A.xlsx: is an older copy of Ann's title-abstract workbook than B.xlsx")
    assert f"before B.xlsx (saved {(START + timedelta(hours=2)):%Y-%m-%d %H:%M:%S} UTC, imported 20" in msg
    assert "would overturn 2 of Ann's newer decisions (rows 4, 5)" in msg
    assert "import the newest copy" in msg and "--force" in msg
    assert _state(project) == before  # nothing stored
    assert _current(project)[3] == "exclude"

    msg = import_screening(project, a, force=True)
    assert "imported with --force although it is an older copy than B.xlsx: 2 of Ann's newer" in msg
    assert _current(project)[3] == "include"  # as asked; B's exclusion stays in the history
    assert [row[4] for row in project.store.screening_decisions() if row[1] == 3] == ["exclude", "include"]


def test_resaved_copies_and_a_genuinely_newer_copy(project: Project, exported: Path, tmp_path: Path) -> None:
    b = copy_of(exported, tmp_path / "B.xlsx", newer, START + timedelta(hours=2))
    import_screening(project, b)
    # B saved again without changes: nothing to overturn, nothing new
    b2 = tmp_path / "B again.xlsx"
    shutil.copy(b, b2)
    saved_at(b2, START + timedelta(hours=3))
    assert "0 new or changed stored" in import_screening(project, b2)
    # the older copy A opened and saved again later: its time looks new, its decisions are old
    a = copy_of(exported, tmp_path / "A resaved.xlsx", older, START + timedelta(hours=4))
    before = _state(project)
    with pytest.raises(
        WorkbookError, match=r"although it was saved after B again.xlsx|although it was saved after B.xlsx"
    ):
        import_screening(project, a)
    assert _state(project) == before
    # a newer copy that changes a decision on purpose: the reviewer may change her mind
    c = copy_of(
        exported,
        tmp_path / "C.xlsx",
        lambda rid: "exclude" if rid == 5 else newer(rid),
        START + timedelta(hours=5),
    )
    msg = import_screening(project, c)
    assert "1 new or changed stored" in msg and "1 of Ann's earlier decisions were changed" in msg
    assert _current(project)[5] == "exclude"


def test_blank_cells_of_an_older_copy_erase_nothing(project: Project, exported: Path, tmp_path: Path) -> None:
    b = copy_of(exported, tmp_path / "B.xlsx", newer, START + timedelta(hours=2))
    import_screening(project, b)
    same_but_fewer = copy_of(
        exported,
        tmp_path / "A.xlsx",
        lambda rid: newer(rid) if rid <= 8 else None,
        START + timedelta(hours=1),
    )
    assert "0 new or changed stored" in import_screening(project, same_but_fewer)
    assert sum(screening_status(project)[TA]["reviewers"]["Ann"].values()) == 20


@pytest.mark.parametrize(
    ("offset", "why"),
    [
        (None, "it does not record when it was saved"),
        (timedelta(days=-3), "is before its export"),
        (timedelta(0), "is the time it was exported"),  # saved in the export's second, or never since
        (timedelta(days=30), "is in the future"),
    ],
)
def test_without_a_usable_saved_time_the_decisions_decide(
    project: Project, exported: Path, tmp_path: Path, offset: timedelta | None, why: str
) -> None:
    (created,) = project.store.conn.execute("SELECT created_at FROM workbook_exports").fetchone()
    export_time = datetime.fromisoformat(created).replace(tzinfo=None)
    stamp = None if offset is None else export_time + offset
    b = copy_of(exported, tmp_path / "B.xlsx", newer, stamp)
    import_screening(project, b)
    a = copy_of(exported, tmp_path / "A.xlsx", older, stamp)
    with pytest.raises(WorkbookError) as err:
        import_screening(project, a)
    msg = str(err.value)
    assert why in msg and "judged by its decisions it is older than B.xlsx (imported 20" in msg
    assert "it leaves 10 rows blank (rows 12, 13, 14, 15, 16, ...)" in msg
    assert "would overturn 2 of Ann's newer decisions (rows 4, 5)" in msg
    # a copy holding every decision made so far and changing one is taken as newer, and it is said
    c = copy_of(exported, tmp_path / "C.xlsx", lambda rid: "include" if rid in (3, 4) else newer(rid), stamp)
    msg = import_screening(project, c)
    assert "2 of Ann's earlier decisions were changed" in msg
    assert "it was compared with the earlier copies by its decisions only, since " in msg and why in msg


def test_an_older_copy_of_a_conflict_workbook_is_refused(
    project: Project, exported: Path, tmp_path: Path
) -> None:
    ann = copy_of(exported, tmp_path / "Ann.xlsx", lambda rid: "include", START + timedelta(minutes=5))
    import_screening(project, ann)
    ben = tmp_path / "Ben.xlsx"
    export_screening(project, stage=TA, reviewer="Ben", out=ben)
    fill(ben, lambda rid: "exclude" if rid <= 6 else "include")
    import_screening(project, ben)
    conflicts = tmp_path / "conflicts.xlsx"
    assert "6 conflicts" in export_conflicts(project, stage=TA, reviewer="Cy", out=conflicts)
    first = copy_of(
        conflicts,
        tmp_path / "Cy 1.xlsx",
        lambda rid: "include" if rid <= 3 else None,
        START + timedelta(hours=1),
    )
    second = copy_of(
        conflicts,
        tmp_path / "Cy 2.xlsx",
        lambda rid: "exclude" if rid == 2 else "include",
        START + timedelta(hours=2),
    )
    import_screening(project, second)
    with pytest.raises(
        WorkbookError,
        match=r"older copy of Cy's title-abstract workbook than Cy 2.xlsx.*overturn 1 of Cy's newer resolutions \(rows 3\)",
    ):
        import_screening(project, first)
    s = screening_status(project)[TA]
    assert (s["resolved"], s["conflicts"], s["excluded"]) == (6, 0, 1)


def test_copies_saved_by_openpyxl_moments_apart(project: Project, exported: Path, tmp_path: Path) -> None:
    """A script saving both copies within a second or two: whichever way the seconds fall, A is refused."""
    a, b = tmp_path / "A.xlsx", tmp_path / "B.xlsx"
    shutil.copy(exported, a)
    fill(a, older)
    shutil.copy(a, b)
    fill(b, newer)
    import_screening(project, b)
    with pytest.raises(
        WorkbookError, match=r"older copy .* would overturn 2 of Ann's newer decisions \(rows 4, 5\)"
    ):
        import_screening(project, a)
    assert "0 new or changed stored" in import_screening(project, exported)  # the untouched export: nothing
