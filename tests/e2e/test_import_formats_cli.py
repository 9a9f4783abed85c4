"""Cochrane Library plain text and EndNote XML through `review import`, `review dedup` and `dedup-file`."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from review.cli import cli
from review.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"
DATA = ROOT / "tests" / "data"

COCHRANE = (
    "Record #1 of 2\r\n"
    "ID: CN-00724525\r\n"
    "AU: Schwartzman RJ\r\nAU: Alexander GM\r\n"
    "TI: Outpatient intravenous ketamine for the treatment of complex regional pain syndrome\r\n"
    "SO: Pain\r\nYR: 2009\r\nVL: 147\r\nNO: 1-3\r\nPG: 107-115\r\n"
    "PM: PUBMED 19783373\r\nDOI: 10.1016/j.pain.2009.08.015\r\n\r\n"
    "Record #2 of 2\r\n"
    "ID: CN-00724526\r\n"
    "AU: Schwartzman RJ; Alexander GM\r\n"
    "TI: Outpatient intravenous ketamine for the treatment of complex regional pain syndrome.\r\n"
    "SO: Pain\r\nYR: 2009\r\nVL: 147\r\nNO: 1-3\r\nPG: 107-15\r\nDOI: 10.1016/j.pain.2009.08.015\r\n"
)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stderr


def _status(project: Path) -> dict[str, int]:
    result = CliRunner().invoke(cli, ["status", str(project), "--json"])
    assert result.exit_code == 0
    return json.loads(result.stdout)


def _groups(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["id"]: row["group"] for row in csv.DictReader(fh)}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    code, err = _run("init", str(tmp_path / "p"), "--protocol", str(PROTOCOL))
    assert code == 0, err
    return tmp_path / "p"


def test_cochrane_and_endnote_import_name_bad_records_and_dedup_across_them(project: Path) -> None:
    code, err = _run("import", str(project), str(DATA / "cochrane_central.txt"), "--source", "central")
    assert code == 1  # one record could not be read: named, the rest stored
    assert "error: cochrane_central.txt, line 31: record 3 has no 'XX: value' field lines" in err
    assert "warning: cochrane_central.txt, line 34: record 4 has no title (TI); imported anyway" in err
    assert "6 entries, 5 records read, 5 new" in err
    code, err = _run("import", str(project), str(DATA / "endnote_library.xml"), "--source", "endnote")
    assert code == 1
    assert "error: endnote_library.xml, line 56: record 3 (starting line 53) is not well-formed XML" in err
    assert "5 entries, 4 records read, 4 new" in err
    assert _status(project)["records"] == 9
    code, err = _run("dedup", str(project))
    assert code == 0, err
    # Müller 2012 (same PMID and DOI) and Kowalczyk 2018 (same DOI) are in both files
    assert _status(project)["unique_records"] == 7


def test_format_can_be_forced_and_detection_needs_no_extension(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "central_export"  # no extension: detected from "Record #1 of 2"
    path.write_bytes(COCHRANE.encode("utf-8"))
    code, err = _run("import", str(project), str(path), "--source", "central")
    assert code == 0, err
    assert "2 entries, 2 records read, 2 new" in err
    xml = tmp_path / "library.txt"
    xml.write_bytes(
        (DATA / "endnote_library.xml").read_bytes().replace(b'<?xml version="1.0" encoding="UTF-8" ?>\n', b"")
    )
    code, err = _run("import", str(project), str(xml), "--source", "endnote", "--format", "endnote-xml")
    assert code == 1 and "5 entries, 4 records read, 4 new" in err


def test_dedup_file_reads_both_formats_with_readable_ids(tmp_path: Path) -> None:
    cochrane = tmp_path / "central.txt"
    cochrane.write_bytes(COCHRANE.encode("utf-8"))
    out = tmp_path / "groups.csv"
    code, err = _run("dedup-file", str(cochrane), "--out", str(out))
    assert code == 0, err
    assert _groups(out) == {"CN-00724525": "CN-00724525", "CN-00724526": "CN-00724525"}
    code, err = _run("dedup-file", str(DATA / "endnote_library.xml"), "--out", str(tmp_path / "en.csv"))
    assert code == 1  # record 3 could not be read: said, and the exit code says so
    assert "line 56: record 3" in err
    assert _groups(tmp_path / "en.csv") == {"11": "11", "12": "12", "14": "14", "15": "15"}  # rec-numbers


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<1>\nAccession Number\n  19783373\nTitle\n  Ketamine.\n", "Ovid display or text export"),
        ("<2>\nUI  - 19783373\nTI  - Ketamine.\n", "export the records again as RIS"),
        (
            "<!DOCTYPE html>\n<html><head><title>Session expired | Ovid</title></head><body></body></html>\n",
            "this is an HTML page ('Session expired | Ovid'), not a database export",
        ),
        ("<html><head><title>Export</title></head><body><p>TY  - JOUR</p></body></html>\n", "HTML page"),
        ("Record #1 of 1\n@article{S09,\nauthor = {Schwartzman, RJ},\ntitle = {Ketamine}\n}\n", "BibTeX"),
        ("%0 Journal Article\n%A Schwartzman, R. J.\n%T Ketamine\n", "EndNote/Refer tagged exports"),
    ],
)
def test_exports_that_cannot_be_read_say_what_to_do(
    project: Path, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "export.ris"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(project), str(path), "--source", "ovid"])
    assert isinstance(result.exception, InputError)  # main() prints it as one line and exits 1
    assert message in str(result.exception) and "PubMed XML" not in str(result.exception)
    assert _status(project)["records"] == 0


def test_ovid_text_export_is_one_line_through_the_command(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "ovid.txt"
    path.write_text("<1>\nAccession Number\n  19783373\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "review", "import", str(project), str(path), "--source", "ovid"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: {path}: this looks like an Ovid display or text export")
    assert len(proc.stderr.strip().splitlines()) == 1
