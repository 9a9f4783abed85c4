"""The command line: every command has help; init/status follow the contract; errors are one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from review.cli import cli

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, (*prefix, name))
    return out


@pytest.mark.parametrize("words", _commands(cli), ids=" ".join)
def test_every_command_has_help(words: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*words, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"review {' '.join(words)}" in readme, f"README does not document `review {' '.join(words)}`"


def _review(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "review", *args], capture_output=True, text=True, timeout=120
    )


def test_init_and_status(tmp_path: Path) -> None:
    proj = tmp_path / "p"
    res = _review("init", str(proj), "--protocol", str(PROTOCOL))
    assert res.returncode == 0, res.stderr
    assert (proj / "review.sqlite").exists() and (proj / "protocol.yaml").exists()
    res = _review("status", str(proj), "--json")
    data = json.loads(res.stdout)
    assert {k: data[k] for k in ("records", "searches", "imports", "unique_records")} == {
        "records": 0,
        "searches": 0,
        "imports": 0,
        "unique_records": 0,
    }


def test_malformed_protocol_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(PROTOCOL.read_text(encoding="utf-8").replace("question:", "questions:"), encoding="utf-8")
    res = _review("init", str(tmp_path / "p"), "--protocol", str(bad))
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown key questions" in lines[0], res.stderr


def test_init_refuses_a_used_folder(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "x.txt").write_text("x")
    res = _review("init", str(tmp_path / "p"), "--protocol", str(PROTOCOL))
    assert res.returncode == 1 and "not an empty folder" in res.stderr


def test_status_of_a_non_project_is_one_line(tmp_path: Path) -> None:
    res = _review("status", str(tmp_path), "--json")
    assert res.returncode == 1 and "not a review project" in res.stderr and "Traceback" not in res.stderr
