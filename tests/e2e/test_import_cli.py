"""`review import` and `review export` through the command line (click's CliRunner)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from review.cli import cli

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"

RIS = (
    "TY  - JOUR\r\nTI  - Ketamine in CRPS\r\nAU  - Smith, J\r\nPY  - 2009\r\nDO  - 10.1000/a\r\nER  - \r\n\r\n"
    "TY  - JOUR\r\nTI  - Broken entry without ER\r\n\r\n"
    "TY  - JOUR\r\nAU  - No Title\r\nER  - \r\n\r\n"
    "TY  - JOUR\r\nTI  - Ketamine in CRPS\r\nAU  - Smith, J\r\nPY  - 2009\r\nDO  - 10.1000/a\r\nER  - \r\n"
)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _status(project: Path) -> dict[str, int]:
    code, out, _ = _run("status", str(project), "--json")
    assert code == 0
    return json.loads(out)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    code, _, err = _run("init", str(tmp_path / "p"), "--protocol", str(PROTOCOL))
    assert code == 0, err
    return tmp_path / "p"


def test_import_warns_by_line_and_reimport_adds_nothing(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "embase.ris"
    path.write_bytes(RIS.encode("cp1252"))
    code, out, err = _run("import", str(project), str(path), "--source", "embase")
    assert code == 0, err
    assert out == ""  # messages go to stderr
    assert "warning: embase.ris, line 8: entry has no ER line before the next TY (line 11)" in err
    assert "warning: embase.ris, line 11: entry 3 has no title; imported anyway" in err
    assert "4 entries, 4 records read, 4 new" in err
    assert _status(project)["records"] == 4 and _status(project)["imports"] == 1
    code, _, err = _run("import", str(project), str(path), "--source", "embase")
    assert code == 0 and "already imported" in err
    status = _status(project)
    assert (status["records"], status["imports"], status["unique_records"]) == (4, 1, 4)


def test_unreadable_file_is_one_line_error(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("nothing bibliographic here\n")
    proc = subprocess.run(
        [sys.executable, "-m", "review", "import", str(project), str(path), "--source", "x"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    code, err = proc.returncode, proc.stderr
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "notes.txt" in err and "cannot tell the format" in err


@pytest.mark.parametrize("fmt", ["ris", "csv"])
def test_export_reimports_into_a_new_project(project: Path, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "embase.ris"
    path.write_text(RIS, encoding="utf-8")
    assert _run("import", str(project), str(path), "--source", "embase")[0] == 0
    out = tmp_path / f"library.{fmt}"
    code, _, err = _run("export", str(project), "--format", fmt, "--out", str(out))
    assert code == 0 and "wrote 4 records" in err
    if fmt == "csv":
        rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
        assert [r["title"] for r in rows] == [
            "Ketamine in CRPS",
            "Broken entry without ER",
            "",
            "Ketamine in CRPS",
        ]
        assert rows[0]["doi"] == "10.1000/a" and rows[0]["authors"] == "Smith, J"
    code, _, err = _run("init", str(tmp_path / "q"), "--protocol", str(PROTOCOL))
    code, _, err = _run("import", str(tmp_path / "q"), str(out), "--source", "library")
    assert code == 0, err
    assert _status(tmp_path / "q")["records"] == 4
