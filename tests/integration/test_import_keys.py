"""Keys and names that must not lose or double records across imports (tester's findings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.errors import InputError
from review.project import Project
from review.project.imports import export_library, import_file
from review.sources import read_file


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def _cnki(*titles: str) -> str:
    """CNKI-like RIS: Chinese titles and authors, same journal and year, no DOI and no AN."""
    return "".join(
        f"TY  - JOUR\r\nTI  - {t}\r\nAU  - 张伟\r\nAU  - 李娜\r\nPY  - 2019\r\nT2  - 中国疼痛医学杂志\r\nER  - \r\n"
        for t in titles
    )


def test_entries_in_other_scripts_keep_their_own_content_key(project: Project, tmp_path: Path) -> None:
    one = _write(
        tmp_path / "part1.ris",
        _cnki("氯胺酮治疗复杂性区域疼痛综合征的临床研究", "镁剂联合氯胺酮治疗CRPS I型的随机对照试验"),
    )
    two = _write(tmp_path / "part2.ris", _cnki("艾司氯胺酮对复杂性区域疼痛综合征患者睡眠质量的影响"))
    assert import_file(project, one, "cnki").records_new == 2
    second = import_file(project, two, "cnki")
    titles = sorted(r.title or "" for r in project.store.get_records().values())
    assert second.records_new == 1 and len(titles) == 3
    assert "艾司氯胺酮对复杂性区域疼痛综合征患者睡眠质量的影响" in titles
    # Latin-script keys are those of before (the key the previous release gave this entry)
    latin = _write(
        tmp_path / "latin.ris", "TY  - JOUR\r\nTI  - Ketamine in CRPS\r\nAU  - Müller, J\r\nER  - \r\n"
    )
    assert read_file(latin, "x").records[0].source_id == "c:852da5864c2a98001ff2c114#1"


def test_a_key_column_numbered_by_hand_is_local_to_the_file(project: Project, tmp_path: Path) -> None:
    one = _write(
        tmp_path / "b1.csv",
        "Key,Title,Author,Year\r\n1,Ketamine for CRPS,Smith J,2010\r\n2,Lidocaine for CRPS,Lee K,2011\r\n",
    )
    two = _write(
        tmp_path / "b2.csv",
        "Key,Title,Author,Year\r\n1,Esketamine nasal spray in CRPS,Ng P,2020\r\n2,Memantine for CRPS,Ode T,2014\r\n",
    )
    import_file(project, one, "handsearch")
    assert import_file(project, two, "handsearch").records_new == 2
    assert project.store.record_count() == 4
    # Zotero's own keys stay keys: the same library exported again adds nothing
    zot = _write(tmp_path / "z.csv", "Key,Title,Author,Year\r\nABCD2345,Ketamine for CRPS,Smith J,2010\r\n")
    assert read_file(zot, "zotero").records[0].source_id == "ABCD2345"


def test_a_key_already_stored_for_another_paper_is_named(project: Project, tmp_path: Path) -> None:
    one = _write(tmp_path / "z1.csv", "Key,Title,Author,Year\r\nABCD2345,Ketamine for CRPS,Smith J,2010\r\n")
    two = _write(tmp_path / "z2.csv", "Key,Title,Author,Year\r\nABCD2345,Memantine for CRPS,Ode T,2014\r\n")
    import_file(project, one, "zotero")
    second = import_file(project, two, "zotero")
    (warning,) = [w for w in second.warnings if "ABCD2345" in w]
    assert warning.startswith(
        "z2.csv, line 2: entry 1 has the key 'ABCD2345' of record 1 already in the project"
    )
    assert "'Ketamine for CRPS'" in warning and second.records_new == 0
    assert project.store.import_issues(second.import_id)[-1]["message"] in warning


def test_one_database_is_one_source_whatever_its_case(project: Project, tmp_path: Path) -> None:
    text = "TY  - JOUR\r\nTI  - Ketamine in CRPS\r\nAU  - Smith, J\r\nPY  - 2009\r\nER  - \r\n"
    first = _write(tmp_path / "a.ris", text)
    again = _write(tmp_path / "b.ris", text.replace("\r\n", "\r"))  # the same export, saved again
    import_file(project, first, "Embase")
    result = import_file(project, again, "EMBASE")
    assert result.records_new == 0 and result.source == "Embase"
    assert result.warnings[0] == "b.ris: source 'EMBASE' taken as 'Embase', as this project spells it"
    assert [r.source for r in project.store.import_runs()] == ["Embase", "Embase"]


def test_excel_sep_line_sets_the_delimiter(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "x.csv", "sep=;\r\ntitle;authors;year\r\nKetamine, a trial;Smith J;2009\r\n;Lee K;2010\r\n"
    )
    result = read_file(path, "x")
    assert [(r.title, r.authors, r.year) for r in result.records] == [
        ("Ketamine, a trial", ("Smith J",), 2009),
        (None, ("Lee K",), 2010),
    ]
    assert [str(i) for i in result.issues] == ["line 4: row 2 has no title; imported anyway"]


def test_text_that_is_no_library_is_refused_unless_csv_is_asked_for(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "summary.txt",
        "1. Schwartzman RJ, Alexander GM, Grothusen JR. Outpatient intravenous ketamine. Pain. 2009.\r\n"
        "PMID: 19783373\r\n\r\n2. Sigtermans MJ, van Hilten JJ. Ketamine produces pain relief. Pain. 2009.\r\n",
    )
    with pytest.raises(
        InputError, match=r"summary.txt, line 1: header has none of the columns .* --format csv"
    ):
        read_file(path, "pubmed")
    forced = read_file(path, "pubmed", fmt="csv")
    assert forced.warnings[0].message.startswith("header has none of the columns")


def test_export_refuses_an_empty_project_and_a_folder(project: Project, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no records to export yet"):
        export_library(project, tmp_path / "empty.ris")
    assert not (tmp_path / "empty.ris").exists()
    with pytest.raises(InputError, match="is a folder"):
        export_library(project, tmp_path)


def test_a_group_author_survives_the_csv_round_trip(project: Project, tmp_path: Path) -> None:
    nbib = _write(
        tmp_path / "group.nbib",
        "PMID- 19783373\nTI  - Ketamine for CRPS.\nCN  - Complex Regional Pain Syndrome and Ketamine Study Group\n",
    )
    import_file(project, nbib, "pubmed")
    export_library(project, tmp_path / "out.csv", fmt="csv")
    (again,) = read_file(tmp_path / "out.csv", "again").records
    assert again.authors == ("Complex Regional Pain Syndrome and Ketamine Study Group",)
