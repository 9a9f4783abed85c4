"""`review dedup-file` and `review dedup` / `review status --json` through the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from review.cli import cli
from review.errors import InputError
from review.project.dedup import dedup_file
from review.records import Record

DATA = Path(__file__).resolve().parent.parent / "data"
PROTOCOL = Path(__file__).resolve().parents[2] / "protocols" / "ketamine-crps.yaml"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_dedup_file_writes_one_row_per_record(tmp_path: Path) -> None:
    out = tmp_path / "groups.csv"
    result = CliRunner().invoke(cli, ["dedup-file", str(DATA / "dedup_small.csv"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    given = [r["id"] for r in _rows(DATA / "dedup_small.csv")]
    assert [r["id"] for r in rows] == given  # every record, ids exactly as in the input
    group = {r["id"]: r["group"] for r in rows}
    # one paper in PubMed, Embase and Web of Science formats
    assert group["p1"] == group["e1"] == group["w1"]
    assert group["id with, comma"] == group["gm"]
    # an erratum naming its paper, printed after it in its volume, joins it but is never kept
    assert group["err"] == group["p1"] == "p1"
    # the traps stay apart: conference abstract, comment, same title 13 years later, and a
    # corrigendum in a later volume (it could name either paper of that title: a person decides)
    for trap in ("c2", "r2"):
        assert group[trap] not in (group["p1"], group["p2"])
    assert group["y1"] != group["y2"]
    assert group["cy2"] not in (group["y1"], group["y2"])
    assert group["nt"] == "nt"  # a record without a title is kept on its own
    assert len(set(group.values())) == 9


def test_dedup_file_help_and_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["dedup-file", "--help"]).exit_code == 0
    assert runner.invoke(cli, ["dedup", "--help"]).exit_code == 0
    empty = tmp_path / "empty.csv"
    empty.write_text("id,title\n", encoding="utf-8")
    result = runner.invoke(cli, ["dedup-file", str(empty), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_dedup_file_never_overwrites_its_input(tmp_path: Path) -> None:
    library = tmp_path / "library.csv"
    library.write_text((DATA / "dedup_small.csv").read_text(encoding="utf-8"), encoding="utf-8")
    before = library.read_bytes()
    with pytest.raises(InputError, match=r"library\.csv: --out is the input file itself"):
        dedup_file(library, tmp_path / "." / "library.csv")
    assert CliRunner().invoke(cli, ["dedup-file", str(library), "--out", str(library)]).exit_code != 0
    assert library.read_bytes() == before


def test_dedup_file_refuses_repeated_ids(tmp_path: Path) -> None:
    library = tmp_path / "ids.csv"
    library.write_text(
        "id,title,year\n1,Ketamine for CRPS,2009\n2,Low-dose ketamine in CRPS type 1,2010\n"
        "2,Magnesium for CRPS type 1,2011\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"ids\.csv: the id column repeats 1 ids \(e\.g\. '2'\)"):
        dedup_file(library, tmp_path / "o.csv")
    assert not (tmp_path / "o.csv").exists()


def test_dedup_file_exits_1_when_entries_cannot_be_read(tmp_path: Path) -> None:
    library = tmp_path / "broken.csv"
    library.write_text(
        'id,title,year\n1,Ketamine for CRPS,2009\n2,"Magnesium for CRPS,2010\n3,Mirror therapy,2011\n',
        encoding="utf-8",
    )
    out = tmp_path / "o.csv"
    result = CliRunner().invoke(cli, ["dedup-file", str(library), "--out", str(out)])
    assert result.exit_code == 1
    assert "could not be read" in result.output and "line 3" in result.output
    assert [r["id"] for r in _rows(out)] == ["1"]  # what was read is still written


def test_dedup_file_names_ris_entries_by_accession_or_position(tmp_path: Path) -> None:
    library = tmp_path / "lib.ris"
    library.write_text(
        "TY  - JOUR\nTI  - Ketamine for complex regional pain syndrome\nAU  - Smith, J\nPY  - 2009\nER  - \n\n"
        "TY  - JOUR\nAN  - WOS:000123\nTI  - Mirror therapy for CRPS\nAU  - Lee, K\nPY  - 2011\nER  - \n",
        encoding="utf-8",
    )
    out = tmp_path / "o.csv"
    result = CliRunner().invoke(cli, ["dedup-file", str(library), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in _rows(out)] == ["entry-1", "WOS:000123"]


def test_project_dedup_is_idempotent_and_status_counts_unique(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "proj"
    assert runner.invoke(cli, ["init", str(root), "--protocol", str(PROTOCOL)]).exit_code == 0
    from review.project import open_project

    with open_project(root) as project:
        project.store.add_records(
            [
                Record(
                    source="pubmed",
                    source_id="17190949",
                    pmid="17190949",
                    title="Graded motor imagery for complex regional pain syndrome",
                    authors=("Moseley, G L",),
                    year=2006,
                    journal="Neurology",
                    volume="67",
                    issue="12",
                    pages="2129-34",
                ),
                Record(
                    source="embase",
                    source_id="E9",
                    title="Graded motor imagery for complex regional pain syndrome.",
                    authors=("Moseley GL",),
                    year=2006,
                    journal="Neurology",
                    volume="67",
                    issue="12",
                    pages="2129-2134",
                ),
                Record(source="embase", source_id="E10", title="Bisphosphonates in CRPS", year=2000),
            ]
        )
    status = runner.invoke(cli, ["status", str(root), "--json"])
    assert json.loads(status.stdout)["unique_records"] == 3
    first = runner.invoke(cli, ["dedup", str(root)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli, ["dedup", str(root)])
    assert second.exit_code == 0 and "unchanged" in second.output
    counts = json.loads(runner.invoke(cli, ["status", str(root), "--json"]).stdout)
    assert counts["records"] == 3
    assert counts["unique_records"] == 2
