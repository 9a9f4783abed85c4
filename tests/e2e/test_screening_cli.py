"""`review screen ...` through the command line: JSON on stdout, one-line errors on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from review.cli import main
from review.project import Project
from review.records import Record


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _fill(path: Path, value: str) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    col = [c.value for c in ws[1]].index("decision") + 1
    for row in range(2, ws.max_row + 1):
        ws.cell(row=row, column=col).value = value
    wb.save(path)


@pytest.mark.parametrize("command", ["export", "import", "status", "conflicts"])
def test_screen_commands_have_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = _run(capsys, "screen", command, "--help")
    assert code == 0 and "Usage" in out


def test_screen_cli_round_trip(project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project.store.add_records(
        [Record(source="t", source_id=str(i), title=f"Ketamine trial {i}", year=2010) for i in range(6)]
    )
    root = str(project.root)
    project.close()
    a, b = tmp_path / "A.xlsx", tmp_path / "B.xlsx"
    assert (
        _run(
            capsys, "screen", "export", root, "--stage", "title-abstract", "--reviewer", "A", "--out", str(a)
        )[0]
        == 0
    )
    assert (
        _run(
            capsys, "screen", "export", root, "--stage", "title-abstract", "--reviewer", "B", "--out", str(b)
        )[0]
        == 0
    )
    _fill(a, "include")
    _fill(b, " Exclude ")
    assert _run(capsys, "screen", "import", root, str(a))[0] == 0
    assert _run(capsys, "screen", "import", root, str(b))[0] == 0
    code, out, _ = _run(capsys, "screen", "status", root, "--json")
    assert code == 0
    data = json.loads(out)
    ta = data["title-abstract"]
    assert ta["records"] == 6
    assert ta["reviewers"] == {
        "A": {"include": 6, "exclude": 0, "maybe": 0},
        "B": {"include": 0, "exclude": 6, "maybe": 0},
    }
    assert ta["kappa"] == pytest.approx(0.0)  # p_o = 0, p_e = 0
    assert ta["conflicts"] == 6
    assert data["full-text"]["records"] == 0 and data["full-text"]["kappa"] is None

    c = tmp_path / "C.xlsx"
    assert (
        _run(
            capsys, "screen", "export", root, "--stage", "title-abstract", "--reviewer", "C", "--out", str(c)
        )[0]
        == 0
    )
    _fill(c, "yes")
    code, out, err = _run(capsys, "screen", "import", root, str(c))
    assert code == 1 and out == ""
    assert "cell H2: decision 'yes' is not include/exclude/maybe" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert json.loads(_run(capsys, "screen", "status", root, "--json")[1]) == data

    code, _, err = _run(
        capsys, "screen", "conflicts", root, "--reviewer", "R", "--out", str(tmp_path / "R.xlsx")
    )
    assert code == 0 and "6 conflicts" in err
    code, out, _ = _run(capsys, "screen", "status", root)
    assert "Cohen's kappa" in out and "6 conflicts" in out
