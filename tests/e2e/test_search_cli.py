"""`review search` from the command line against a local E-utilities server on 127.0.0.1.

Includes the acceptance case "kill the search midway and run it again: every record once":
a real `review search` process is killed (SIGKILL) after its first batches are stored.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from review.cli import cli, main
from review.sources.replay import ReplayServer, repeat_articles, spread_dates

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"


def _status(runner: CliRunner, project: Path) -> dict[str, int]:
    result = runner.invoke(cli, ["status", str(project), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_search_command_stores_records_once(tmp_path: Path, pubmed_articles: list[str]) -> None:
    runner = CliRunner()
    project = tmp_path / "p"
    assert runner.invoke(cli, ["init", str(project), "--protocol", str(PROTOCOL)]).exit_code == 0
    with ReplayServer(repeat_articles(pubmed_articles, 45), dates=spread_dates(45)) as server:
        args = [
            "search",
            str(project),
            "--eutils-url",
            server.url,
            "--email",
            "t@example.org",
            "--batch-size",
            "20",
        ]
        first = runner.invoke(cli, args)
        assert first.exit_code == 0, first.output
        assert "crps-ketamine: 45 hits, 45 retrieved, 45 new records" in first.stderr
        assert "crps-other-treatments: 45 hits, 45 retrieved, 0 new records" in first.stderr
        assert first.stdout == ""
        assert _status(runner, project)["records"] == 45
        second = runner.invoke(cli, args)
        assert second.exit_code == 0, second.output
        assert "crps-ketamine: 45 hits, 45 retrieved, 0 new records" in second.stderr
    status = _status(runner, project)
    assert (status["records"], status["searches"]) == (45, 4)


def test_search_error_is_one_line(
    tmp_path: Path, pubmed_articles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "p"
    CliRunner().invoke(cli, ["init", str(project), "--protocol", str(PROTOCOL)])
    with (
        ReplayServer(repeat_articles(pubmed_articles, 3), esearch_faults=["error"]) as server,
        pytest.raises(SystemExit) as exit_info,
    ):
        main(["search", str(project), "--eutils-url", server.url, "--email", "t@example.org"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("error: PubMed refused the search: Invalid query (query: (")
    assert "Traceback" not in err


def test_search_help_names_eutils_url() -> None:
    result = CliRunner().invoke(cli, ["search", "--help"])
    assert result.exit_code == 0 and "--eutils-url" in result.output and "--batch-size" in result.output


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_killed_midway_then_rerun_stores_every_record_once(
    tmp_path: Path, pubmed_articles: list[str]
) -> None:
    project = tmp_path / "p"
    exe = shutil.which("review")
    review = [exe] if exe else [sys.executable, "-c", "from review.cli import main; main()"]
    subprocess.run(
        [*review, "init", str(project), "--protocol", str(PROTOCOL)], check=True, capture_output=True
    )
    n = 120
    with ReplayServer(repeat_articles(pubmed_articles, n), dates=spread_dates(n), delay=0.3) as server:
        args = [*review, "search", str(project), "--eutils-url", server.url, "--email", "t@example.org"]
        proc = subprocess.Popen([*args, "--batch-size", "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        store = project / "review.sqlite"
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            try:
                with sqlite3.connect(store, timeout=1) as conn:
                    stored = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
            except sqlite3.Error:
                continue
            if stored >= 20:
                break
        assert proc.poll() is None, "the search finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        with sqlite3.connect(store) as conn:
            partial = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        assert 20 <= partial < n

        server.delay = 0.0
        done = subprocess.run([*args, "--batch-size", "10"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "resuming interrupted search run 1" in done.stderr
    status = json.loads(
        subprocess.run(
            [*review, "status", str(project), "--json"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert status["records"] == n and status["searches"] == 2
    with sqlite3.connect(project / "review.sqlite") as conn:
        assert conn.execute("SELECT COUNT(DISTINCT source_id) FROM records").fetchone()[0] == n
        rows = conn.execute("SELECT id, status, retrieved FROM searches ORDER BY id").fetchall()
    assert rows == [(1, "complete", n), (2, "complete", n)]
