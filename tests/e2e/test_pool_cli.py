"""`review pool DIR` through the command line on a project without extracted data."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from review.cli import cli

PROTOCOL = Path(__file__).resolve().parents[2] / "protocols" / "ketamine-crps.yaml"


def test_pool_empty_project_reports_every_plan_cell(tmp_path: Path) -> None:
    runner = CliRunner()
    project = tmp_path / "proj"
    assert runner.invoke(cli, ["init", str(project), "--protocol", str(PROTOCOL)]).exit_code == 0
    result = runner.invoke(cli, ["pool", str(project), "--out-dir", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "pooled 0 analyses" in result.output
    with (tmp_path / "out" / "pooled_results.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # 5 outcomes x 7 comparisons x 3 windows in the protocol's analysis plan
    assert len(rows) == 5 * 7 * 3
    assert {r["status"] for r in rows} == {"no studies"}
    assert (tmp_path / "out" / "pooled_results.xlsx").stat().st_size > 0
