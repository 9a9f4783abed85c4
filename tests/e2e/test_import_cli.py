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
    code, _, err = _run("import", str(project), str(path), "--source", "other", "--format", "csv")
    assert code == 0 and "already imported" in err and "as 'embase'" in err  # same bytes: not read again
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


def test_export_writes_only_records_kept_after_dedup(project: Path, tmp_path: Path) -> None:
    one = tmp_path / "scopus.ris"
    one.write_text(
        "TY  - JOUR\nTI  - Ketamine infusion for complex regional pain syndrome\nAU  - Smith, J\n"
        "PY  - 2009\nT2  - Pain\nVL  - 145\nSP  - 304-311\nDO  - 10.1016/j.pain.2009.06.023\nER  - \n\n"
        "TY  - JOUR\nTI  - Bisphosphonates in CRPS\nAU  - Lee, K\nPY  - 2013\nDO  - 10.1000/other\nER  - \n",
        encoding="utf-8",
    )
    two = tmp_path / "embase.ris"
    two.write_text(
        "TY  - JOUR\nT1  - Ketamine infusion for complex regional pain syndrome.\nA1  - Smith J.\n"
        "Y1  - 2009\nJF  - Pain\nVL  - 145\nSP  - 304\nEP  - 311\nDO  - https://doi.org/10.1016/J.PAIN.2009.06.023\n"
        "ER  - \n",
        encoding="utf-8",
    )
    for path, source in ((one, "scopus"), (two, "embase")):
        assert _run("import", str(project), str(path), "--source", source)[0] == 0
    code, _, err = _run("dedup", str(project))
    assert code == 0, err
    assert _status(project)["unique_records"] == 2
    out = tmp_path / "library.ris"
    code, _, err = _run("export", str(project), "--format", "ris", "--out", str(out))
    assert code == 0 and "wrote 2 records" in err
    text = out.read_text(encoding="utf-8")
    assert text.count("TY  - ") == 2 and "Bisphosphonates in CRPS" in text


def test_many_warnings_are_cut_short_on_screen(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "untitled.ris"
    path.write_text("".join(f"TY  - GEN\nAU  - Person {i}\nER  - \n" for i in range(80)), encoding="utf-8")
    code, _, err = _run("import", str(project), str(path), "--source", "x")
    assert code == 0
    assert err.count("no title") == 50 and "... and 30 more warnings" in err
    listed = project / "output" / "imports" / "import-1-issues.csv"
    assert f"all 80 warnings and errors of this import: {listed}" in err
    with listed.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 80 and rows[79]["line"] == "238" and "no title" in rows[79]["message"]
    assert _status(project)["records"] == 80


def test_html_saved_as_xml_is_one_line_error(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "pubmed.xml"
    path.write_text("<html><head><title>Service unavailable</title></head><body></body></html>")
    proc = subprocess.run(
        [sys.executable, "-m", "review", "import", str(project), str(path), "--source", "pubmed"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1 and "HTML page" in proc.stderr


def test_partly_broken_file_then_its_correction_stores_each_entry_once(tmp_path: Path) -> None:
    """Entries not imported make the command fail; importing the fixed file adds only them."""
    from review.project import open_project

    proj = tmp_path / "p"
    assert (
        subprocess.run(
            [sys.executable, "-m", "review", "init", str(proj), "--protocol", str(PROTOCOL)],
            capture_output=True,
        ).returncode
        == 0
    )
    bad = tmp_path / "export.csv"
    bad.write_text('id,title,authors,year\n1,Alpha trial,Smith J,2001\n2,"Beta trial,Jones K,2002\n')
    res = subprocess.run(
        [sys.executable, "-m", "review", "import", str(proj), str(bad), "--source", "embase"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 1 and "line 3" in res.stderr and "Traceback" not in res.stderr
    bad.write_text('id,title,authors,year\n1,Alpha trial,Smith J,2001\n2,"Beta trial",Jones K,2002\n')
    res = subprocess.run(
        [sys.executable, "-m", "review", "import", str(proj), str(bad), "--source", "embase"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    with open_project(proj) as project:
        titles = sorted(r.title or "" for r in project.store.get_records().values())
    assert titles == ["Alpha trial", "Beta trial"]


NOTE = "MADE-UP demo record: not a real publication."
PUBMED_XML = """<?xml version="1.0" ?>
<PubmedArticleSet>
<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">99000031</PMID>
    <Article PubModel="Print">
      <Journal><JournalIssue><PubDate><Year>2014</Year></PubDate></JournalIssue><Title>Pain</Title></Journal>
      <ArticleTitle>Low-dose ketamine infusion for chronic complex regional pain syndrome.</ArticleTitle>
      <ELocationID EIdType="doi" ValidYN="Y">10.1000/made-up.31</ELocationID>
    </Article>
  </MedlineCitation>
</PubmedArticle>
</PubmedArticleSet>
"""
# the same made-up paper from another database, noted as made up; dedup keeps the PubMed copy
EMBASE_RIS = (
    "TY  - JOUR\r\nTI  - Low-dose ketamine infusion for chronic complex regional pain syndrome\r\n"
    "AU  - Doe, J\r\nAU  - Roe, R\r\nPY  - 2014\r\nT2  - Pain\r\nVL  - 155\r\nIS  - 2\r\nSP  - 100-108\r\n"
    f"DO  - 10.1000/made-up.31\r\nN1  - {NOTE}\r\nKW  - ketamine\r\nLA  - English\r\nER  - \r\n"
)


@pytest.mark.parametrize("fmt", ["ris", "csv"])
def test_export_keeps_the_illustrative_note_through_dedup_and_reimport(
    project: Path, tmp_path: Path, fmt: str
) -> None:
    from review.project import open_project
    from review.records import ILLUSTRATIVE_LABEL, record_note, record_notes

    xml, ris = tmp_path / "pubmed.xml", tmp_path / "embase.ris"
    xml.write_text(PUBMED_XML, encoding="utf-8")
    ris.write_text(EMBASE_RIS, encoding="utf-8")
    for path, source in ((xml, "pubmed"), (ris, "embase")):
        code, _, err = _run("import", str(project), str(path), "--source", source)
        assert code == 0, err
    assert _run("dedup", str(project))[0] == 0 and _status(project)["unique_records"] == 1
    out = tmp_path / f"library.{fmt}"
    code, _, err = _run("export", str(project), "--format", fmt, "--out", str(out))
    assert code == 0 and "wrote 1 records" in err, err
    text = out.read_bytes().decode("utf-8-sig")
    # the PubMed copy is the one kept; the note comes from the Embase copy merged into it
    if fmt == "ris":
        assert f"N1  - {NOTE}\r\n" in text and "AN  - 99000031\r\n" in text
    else:
        row = next(csv.DictReader(text.splitlines()))
        assert row["notes"] == NOTE and row["pmid"] == "99000031" and row["source"] == "pubmed"
    again = tmp_path / "again"
    assert _run("init", str(again), "--protocol", str(PROTOCOL))[0] == 0
    code, _, err = _run("import", str(again), str(out), "--source", "library")
    assert code == 0, err
    with open_project(again) as proj:
        (record,) = proj.store.get_records(None).values()
    assert record_note(record_notes(record.extra)) == f"{ILLUSTRATIVE_LABEL}: {NOTE}"


def test_export_refuses_to_overwrite_without_force(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "embase.ris"
    path.write_text(RIS, encoding="utf-8")
    assert _run("import", str(project), str(path), "--source", "embase")[0] == 0
    out = tmp_path / "library.ris"
    out.write_text("my annotated library\n", encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "review", "export", str(project), "--format", "ris", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "library.ris" in res.stderr and "exists already" in res.stderr and "--force" in res.stderr
    assert out.read_text(encoding="utf-8") == "my annotated library\n"
    code, _, err = _run("export", str(project), "--format", "ris", "--out", str(out), "--force")
    assert code == 0 and "wrote 4 records" in err
    assert out.read_text(encoding="utf-8").count("TY  - ") == 4
