"""Every real export in ../shared/fixtures/fetched imports with no entry lost, and round-trips.

Pattern: asreview ``tests/test_readers.py::test_reader`` (one parametrised test over real files).
The expected counts are made here independently of the readers: ``TY  -`` lines for RIS,
``PMID-`` lines for MEDLINE, data rows for CSV.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from review.records import COLUMNS
from review.sources import read_file
from review.sources._common import split_lines
from review.sources.ris import read_ris, write_ris

pytestmark = pytest.mark.shared

FILES = [
    "asreview/baseline_empty_values.ris",
    "asreview/baseline_reference_types.ris",
    "asreview/embase.ris",
    "asreview/faulty_year.ris",
    "asreview/ovid_psycinfo.ris",
    "asreview/proquest.ris",
    "asreview/pubmed_endnote.txt",
    "asreview/pubmed_zotero.ris",
    "asreview/ris_issue_1099.txt",
    "asreview/ris_issue_992.txt",
    "asreview/scopus.ris",
    "asreview/web_of_science.txt",
    "asysd/ris_export.txt",
    "asysd/scopus.ris",
    "asysd/wos_test.ris",
    "asysd/zotero_export.ris",
    "biopython/medline/pubmed_result1.txt",
    "biopython/medline/pubmed_result2.txt",
    "biopython/medline/pubmed_result3.txt",
    "asysd/zotero_export.csv",
]
TOTAL = 2506


def _expected(path: Path) -> tuple[str, int]:
    """(format, number of entries) counted without the readers."""
    text = path.read_bytes().decode("utf-8-sig")
    if path.suffix == ".csv":
        return "csv", len(list(csv.reader(io.StringIO(text, newline="")))) - 1
    lines = re.split(r"\r\n|\r|\n", text)
    if any(line.startswith("PMID- ") for line in lines):
        return "medline", sum(1 for line in lines if line.startswith("PMID- "))
    return "ris", sum(1 for line in lines if line.startswith("TY  -"))


def test_the_files_hold_the_stated_total(shared: Path) -> None:
    assert sum(_expected(shared / "fixtures/fetched" / f)[1] for f in FILES) == TOTAL


@pytest.mark.parametrize("name", FILES)
def test_every_entry_is_read(shared: Path, name: str) -> None:
    path = shared / "fixtures/fetched" / name
    fmt, n = _expected(path)
    result = read_file(path, "test")
    assert (result.format, result.entries, len(result.records)) == (fmt, n, n)
    assert result.errors == []
    assert len({r.source_id for r in result.records}) == n  # every entry stored on its own
    for issue in result.issues:
        assert str(issue)  # each names its line or says it is about the whole file


@pytest.mark.parametrize("name", FILES)
def test_ris_export_round_trip(shared: Path, name: str) -> None:
    first = read_file(shared / "fixtures/fetched" / name, "test").records
    again = read_ris(split_lines(write_ris(first)), "test", "unused").records
    assert len(again) == len(first)
    for a, b in zip(first, again, strict=True):
        fields = list(COLUMNS)
        accession = a.extra.get("ris", {}).get("accession_number")
        if accession and a.source_id != accession[0]:
            # an accession number repeated in the file keys both entries by file + position,
            # which a different file (the export) cannot reproduce
            fields.remove("source_id")
        assert {c: getattr(b, c) for c in fields} == {c: getattr(a, c) for c in fields}
        if "ris" in a.extra:
            extra = dict(b.extra["ris"])
            if "accession_number" not in a.extra["ris"]:
                assert extra.pop("accession_number") == [a.source_id]
            assert json.loads(json.dumps(extra)) == json.loads(json.dumps(dict(a.extra["ris"])))


def test_title_less_records_are_imported_with_warnings(shared: Path) -> None:
    result = read_file(shared / "fixtures/fetched/asreview/baseline_empty_values.ris", "test")
    assert len(result.records) == 4
    untitled = [r for r in result.records if not r.title]
    assert len(untitled) == 2
    assert sum("no title" in i.message for i in result.warnings) == 2


def test_import_all_twice_adds_nothing_the_second_time(shared: Path, project: object) -> None:
    from review.project import Project, project_status
    from review.project.imports import import_file

    assert isinstance(project, Project)
    for round_ in (1, 2):
        for name in FILES:
            path = shared / "fixtures/fetched" / name
            result = import_file(project, path, source=name.replace("/", "-"))
            assert result.new_file == (round_ == 1)
            if round_ == 1:
                assert result.records_new == result.entries == _expected(path)[1]
        status = project_status(project)
        assert (status["records"], status["imports"]) == (TOTAL, len(FILES))
    runs = project.store.import_runs()
    assert sum(r.records_in for r in runs) == TOTAL
    assert all(len(project.store.import_record_ids(r.id)) == r.records_read for r in runs)


@pytest.mark.parametrize(
    "name", ["pubmed1.xml", "pubmed2.xml", "pubmed4.xml", "pubmed5.xml", "pubmed6.xml", "pubmed7.xml"]
)
def test_pubmed_xml_files_are_read(shared: Path, name: str) -> None:
    path = shared / "fixtures/fetched/biopython/entrez" / name
    expected = len(re.findall(rb"<Pubmed(?:Book)?Article>", path.read_bytes()))
    result = read_file(path, "pubmed-xml")
    assert result.format == "pubmed-xml" and result.entries == expected
    assert len(result.records) + len(result.errors) == expected
    assert all(r.source == "pubmed-xml" and r.pmid for r in result.records)


def test_html_reply_is_a_clear_error(shared: Path) -> None:
    from review.errors import InputError

    with pytest.raises(InputError, match="HTML"):
        read_file(shared / "fixtures/fetched/biopython/entrez/pubmed3.html", "pubmed", fmt="pubmed-xml")
