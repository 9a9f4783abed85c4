"""Every user error through ``review.cli.main`` is one line on stderr (no usage block, no traceback)
and stores nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from review.cli import main
from review.records import Record


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code: Any = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return (code if isinstance(code, int) else 1), out, err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("export", "DIR", "--format", "xyz", "--out", "x.ris"), "'xyz' is not one of 'ris', 'csv'"),
        (("export", "DIR", "--format", "ris"), "Missing option '--out'"),
        (("prisma", "DIR"), "Missing option '--out-dir'"),
        (("import", "DIR", "no-such-file.ris", "--source", "x"), "does not exist"),
        (("frobnicate",), "No such command 'frobnicate'"),
        (("screen", "export", "DIR", "--stage", "full", "--reviewer", "a", "--out", "a.xlsx"), "'full'"),
    ],
)
def test_wrong_options_and_paths_are_one_line(
    capsys: pytest.CaptureFixture[str], project: Any, args: tuple[str, ...], expected: str
) -> None:
    args = tuple(str(project.root) if a == "DIR" else a for a in args)
    code, out, err = _main(capsys, *args)
    line = _one_line(err)
    assert code == 2 and out == "" and expected in line and "--help" in line


def test_a_group_alone_still_shows_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _main(capsys, "screen")
    assert code == 2 and "Usage: review screen" in err and "export" in err


def test_an_output_folder_that_cannot_be_made_is_one_line(
    capsys: pytest.CaptureFixture[str], project: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    root = str(project.root)
    for args in (
        ("pool", root, "--out-dir", str(blocker / "pooled")),
        ("prisma", root, "--out-dir", str(blocker / "prisma")),
        ("extract", "table", root, "--out-dir", str(blocker / "table")),
    ):
        code, out, err = _main(capsys, *args)
        assert code == 1 and out == "" and str(blocker) in _one_line(err), args
    project.store.add_records([Record(source="x", source_id="1", title="A trial")])
    before = project.store.conn.execute("SELECT COUNT(*) FROM workbook_exports").fetchone()
    code, _out, err = _main(
        capsys,
        "screen",
        "export",
        root,
        "--stage",
        "title-abstract",
        "--reviewer",
        "a",
        "--out",
        str(blocker / "a.xlsx"),
    )
    assert code == 1 and "cannot create its folder" in _one_line(err)
    assert project.store.conn.execute("SELECT COUNT(*) FROM workbook_exports").fetchone() == before


def test_a_workbook_of_another_stage_is_named_as_such(
    capsys: pytest.CaptureFixture[str], project: Any, tmp_path: Path
) -> None:
    project.store.add_records([Record(source="x", source_id="1", title="A trial")])
    root = str(project.root)
    wb = tmp_path / "ta.xlsx"
    assert (
        _main(
            capsys, "screen", "export", root, "--stage", "title-abstract", "--reviewer", "a", "--out", str(wb)
        )[0]
        == 0
    )
    book = openpyxl.load_workbook(wb)
    meta = book["review"]
    for row in meta.iter_rows(min_row=2):
        if row[0].value == "kind":
            row[1].value = "extraction"
    book.save(wb)
    code, _out, err = _main(capsys, "screen", "import", root, str(wb))
    assert code == 1 and "not a screening workbook (import it with `review extract import`)" in _one_line(err)
    assert project.store.screening_decisions() == []
