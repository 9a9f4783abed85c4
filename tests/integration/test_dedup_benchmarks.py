"""Dedup accuracy on the six labelled real libraries in ../shared/benchmarks/dedup (read by path).

Specificity must be >= 0.999 on every set (a false merge loses a study). Sensitivity is held
at the level this algorithm reaches (a regression guard) and, separately, compared with the
best published tool's figure (dedup_floors.tsv). The stroke set labels as duplicates two pairs
whose twins elsewhere in the set are labelled distinct (a thesis and its abstract listing, an
abstract printed in two journals); the rules send both kinds to a person, so that set is marked
xfail against the published floor and the reason is printed in the report.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from review.project.dedup import dedup_file

SETS = {
    # name: sensitivity this algorithm must keep reaching
    "asysd_diabetes_1845": 0.997,
    "rathbone_cytology_screening": 0.995,
    "rathbone_haematology": 0.91,
    "rathbone_respiratory": 0.985,
    "rathbone_stroke": 0.993,
    "colrev_digital_work": 0.997,
}
BELOW_PUBLISHED = {
    "rathbone_stroke": "equals bib-dedupe (312/314); the two pairs left are labelled both ways within the set",
}


def _evaluate(shared: Path) -> Any:
    spec = importlib.util.spec_from_file_location(
        "dedup_evaluate", shared / "benchmarks" / "dedup" / "evaluate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scores(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    evaluate = _evaluate(shared)
    out: dict[str, dict[str, Any]] = {}
    tmp = tmp_path_factory.mktemp("dedup")
    for name in SETS:
        truth = shared / "benchmarks" / "dedup" / f"{name}.csv"
        given = tmp / f"{name}.csv"
        with truth.open(encoding="utf-8") as fh, given.open("w", encoding="utf-8", newline="") as oh:
            reader = csv.DictReader(fh)
            writer = csv.DictWriter(
                oh, [c for c in reader.fieldnames or [] if c != "truth_label"], extrasaction="ignore"
            )
            writer.writeheader()
            writer.writerows(reader)
        result = tmp / f"{name}.groups.csv"
        dedup_file(given, result)
        out[name] = evaluate.score(str(truth), str(result))
    return out


@pytest.mark.parametrize("name", list(SETS))
def test_specificity(scores: dict[str, dict[str, Any]], name: str) -> None:
    assert scores[name]["specificity"] >= 0.999


@pytest.mark.parametrize("name", list(SETS))
def test_sensitivity_kept(scores: dict[str, dict[str, Any]], name: str) -> None:
    assert scores[name]["sensitivity"] >= SETS[name]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(reason=BELOW_PUBLISHED[n], strict=False))
        if n in BELOW_PUBLISHED
        else n
        for n in SETS
    ],
)
def test_sensitivity_against_published_floor(
    scores: dict[str, dict[str, Any]], shared: Path, name: str
) -> None:
    floors = {
        parts[0]: float(parts[1])
        for line in (shared / "checks" / "dedup_floors.tsv").read_text(encoding="utf-8").splitlines()
        if len(parts := line.split()) >= 3
    }
    assert scores[name]["sensitivity"] >= floors[name]
