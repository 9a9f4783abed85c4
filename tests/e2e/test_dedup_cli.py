"""`review dedup-file` and `review dedup` / `review status --json` through the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from review.cli import cli
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
