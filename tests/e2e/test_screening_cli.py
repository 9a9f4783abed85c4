"""`review screen ...` through the command line: JSON on stdout, one-line errors on stderr."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def _export(capsys: pytest.CaptureFixture[str], root: str, reviewer: str, out: Path) -> int:
    """`review screen export` at title/abstract; the exit code."""
    args = ("screen", "export", root, "--stage", "title-abstract", "--reviewer", reviewer, "--out", str(out))
    return _run(capsys, *args)[0]


def _stamp(path: Path, when: str) -> None:
    """Give the file the saved time Excel would write (``dcterms:modified``, UTC)."""
    with zipfile.ZipFile(path) as zin:
        items = [(i, zin.read(i.filename)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + when.encode(), data)
            zout.writestr(info, data)


def test_screen_import_refuses_an_older_copy(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project.store.add_records([Record(source="t", source_id=str(i), title=f"Trial {i}") for i in range(4)])
    root = str(project.root)
    project.close()
    w = tmp_path / "ann.xlsx"
    assert _export(capsys, root, "Ann", w) == 0
    old, new = tmp_path / "ann monday.xlsx", tmp_path / "ann tuesday.xlsx"
    shutil.copy(w, old)
    _fill(old, "include")
    shutil.copy(old, new)
    _fill(new, "exclude")  # she changed her mind on Tuesday
    later = datetime.now(UTC) + timedelta(hours=2)
    _stamp(old, (later - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    _stamp(new, later.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert _run(capsys, "screen", "import", root, str(new))[0] == 0
    code, out, err = _run(capsys, "screen", "import", root, str(old))
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(
        "error: ann monday.xlsx: is an older copy of Ann's title-abstract workbook than ann tuesday.xlsx"
    )
    assert "would overturn 4 of Ann's newer decisions (rows 2, 3, 4, 5)" in err and "--force" in err
    ta = json.loads(_run(capsys, "screen", "status", root, "--json")[1])["title-abstract"]
    assert ta["reviewers"]["Ann"] == {"include": 0, "exclude": 4, "maybe": 0}
    code, _, err = _run(capsys, "screen", "import", root, str(old), "--force")
    assert code == 0 and "imported with --force" in err
    ta = json.loads(_run(capsys, "screen", "status", root, "--json")[1])["title-abstract"]
    assert ta["reviewers"]["Ann"] == {"include": 4, "exclude": 0, "maybe": 0}


RIS = """TY  - JOUR
TI  - Low-dose ketamine infusion for complex regional pain syndrome: a randomised controlled trial
AU  - {author}
PY  - 2015
JO  - Pain Medicine
VL  - 16
SP  - 100
DO  - 10.1000/pm.2015.100
ER  -
"""


def test_records_screened_apart_then_merged_by_dedup(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ann and Ben include the Embase copy; the Scopus copy arrives later and both exclude it; dedup merges them."""
    root = str(project.root)
    project.close()
    embase, scopus = tmp_path / "embase.ris", tmp_path / "scopus.ris"
    embase.write_text(RIS.format(author="Smith, John"), encoding="utf-8")
    scopus.write_text(RIS.format(author="Smith, J"), encoding="utf-8")

    def screen(name: str, value: str) -> None:
        out = tmp_path / f"{name}-{value}.xlsx"
        assert _export(capsys, root, name, out) == 0
        _fill(out, value)
        assert _run(capsys, "screen", "import", root, str(out))[0] == 0

    assert _run(capsys, "import", root, str(embase), "--source", "embase")[0] == 0
    assert _run(capsys, "dedup", root)[0] == 0
    screen("Ann", "include")
    screen("Ben", "include")
    assert _run(capsys, "import", root, str(scopus), "--source", "scopus")[0] == 0
    screen("Ann", "exclude")
    screen("Ben", "exclude")

    def status() -> dict[str, Any]:
        return json.loads(_run(capsys, "screen", "status", root, "--json")[1])["title-abstract"]

    assert (status()["records"], status()["included"], status()["excluded"]) == (2, 1, 1)
    assert _run(capsys, "dedup", root)[0] == 0
    ta = status()
    assert (ta["records"], ta["conflicts"], ta["merged_conflicts"], ta["included"], ta["excluded"]) == (
        1,
        1,
        1,
        0,
        0,
    )
    code, _, err = _run(capsys, "prisma", root, "--out-dir", str(tmp_path / "prisma"))
    assert code == 1 and "conflict" in err
    cy = tmp_path / "cy.xlsx"
    code, _, err = _run(capsys, "screen", "conflicts", root, "--reviewer", "Cy", "--out", str(cy))
    assert code == 0 and "1 between duplicates screened apart" in err
    _fill(cy, "include")
    assert _run(capsys, "screen", "import", root, str(cy))[0] == 0
    ta = status()
    assert (ta["conflicts"], ta["resolved"], ta["included"]) == (0, 1, 1)
