"""PRISMA 2020 for a project: gather the store's rows, count the flow, write CSV, JSON and diagram.

``write_prisma`` is what ``review prisma DIR --out-dir D`` runs; ``prisma_counts`` gives the
same counts (and any problems) as a dict for a notebook. Nothing is typed by hand: each number
comes from search hits, import rows, the latest dedup run, screening's final outcomes and, when
present, extraction's study links and the pooled effect table.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from review.diagram import draw_prisma
from review.errors import ReviewError, StoreError
from review.prisma import NOT_RETRIEVED_REASONS, PrismaCounts, Problem, count_flow, csv_rows, write_csv
from review.project import Project

__all__ = ["collect_counts", "prisma_counts", "prisma_frame", "write_prisma"]

OUTCOME_COLUMNS = ("record_id", "stage", "final", "reason")


def _optional(module: str, name: str) -> Any:
    """A function of another stage's workflow, or None while that stage is not installed."""
    try:
        mod = importlib.import_module(f"review.project.{module}")
    except ModuleNotFoundError as exc:
        if exc.name == f"review.project.{module}":
            return None
        raise
    return getattr(mod, name, None)


def _unique_ids(project: Project) -> set[int]:
    """Records kept after the latest dedup run, plus records added since (dedup's definition)."""
    return {int(i) for i in project.store.unique_record_ids()}


def _outcomes(project: Project) -> list[dict[str, Any]]:
    """Screening's final outcome rows (record_id, stage, final, reason)."""
    func = _optional("screen", "screening_outcomes")
    if func is None:
        return []
    frame = func(project)
    missing = [c for c in OUTCOME_COLUMNS if c not in frame.columns]
    if missing:
        raise StoreError(f"screening_outcomes() lacks columns {missing}: cannot count PRISMA screening")
    return list(frame[list(OUTCOME_COLUMNS)].to_dict("records"))


def _split_ids(value: Any) -> list[int]:
    """Record ids from an effect-table cell ('12;15', '12, 15', 12 or a list)."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, list | tuple | set):
        items = list(value)
    else:
        items = str(value).replace(",", ";").replace("|", ";").split(";")
    out = []
    for item in items:
        text = str(item).strip()
        if text.endswith(".0"):
            text = text[:-2]
        if text.isdigit():
            out.append(int(text))
    return out


def _studies(project: Project, notes: list[Problem]) -> tuple[dict[int, str] | None, set[str] | None]:
    """Record -> study links and studies with a pooled result, from extraction's effect table.

    Links come from ``review.project.extract.study_records(project) -> {record_id: study}``
    when extraction offers it, else from the ``record_ids`` column of the effect table.

    A study is 'in a meta-analysis' when ``review.project.pool.pooled_studies(project)`` lists
    it (if pooling offers that function), else when it has an effect row in a comparison,
    outcome and window of the analysis plan that holds at least two studies (what pooling
    combines).
    Returns (None, None) while there is no extraction yet; when the effect table cannot be
    built, says why in ``notes`` (a warning: studies are then counted one per report).
    """
    func = _optional("extract", "effect_table")
    if func is None:
        return None, None
    study_of: dict[int, str] = {}
    linker = _optional("extract", "study_records")  # every extracted study's reports, if offered
    if linker is not None:  # links hold even before any outcome figure is extracted
        study_of.update({int(k): str(v) for k, v in linker(project).items()})
    try:
        table = func(project)
    except ReviewError as exc:
        how = "linked by extraction's study labels" if study_of else "counted one per report"
        notes.append(Problem("extraction", f"no effect table ({exc}): studies {how}", severity="warning"))
        return (study_of or None), None
    if not isinstance(table, pd.DataFrame) or table.empty or "study" not in table.columns:
        return (study_of or None), None
    if "record_ids" in table.columns:
        for study, ids in zip(table["study"], table["record_ids"], strict=True):
            for rid in _split_ids(ids):
                study_of.setdefault(rid, str(study))
    pooled: set[str] = set()
    cell = [c for c in ("comparison", "outcome_domain", "window") if c in table.columns]
    usable = table
    if "yi" in table.columns and "vi" in table.columns:
        usable = table[table["yi"].notna() & table["vi"].notna()]
    planned = {c.label for c in project.protocol.analysis.comparisons}
    if planned and "comparison" in usable.columns:
        usable = usable[usable["comparison"].isin(planned)]
    if cell:
        for _, group in usable.groupby(cell, dropna=False):
            if group["study"].nunique() >= 2:
                pooled.update(str(s) for s in group["study"].unique())
    chosen = _optional("pool", "pooled_studies")  # the pooling stage's own list wins when offered
    if chosen is not None:
        pooled = {str(x) for x in chosen(project)}
    return (study_of or None), pooled


def collect_counts(
    project: Project,
    *,
    outcomes: list[Mapping[str, Any]] | pd.DataFrame | None = None,
    study_of: Mapping[int, str] | None = None,
    pooled_studies: Collection[str] | None = None,
) -> PrismaCounts:
    """Count the project's PRISMA 2020 flow from its store (arguments override a stage's rows).

    Parameters
    ----------
    outcomes
        Screening outcome rows; default ``review.project.screen.screening_outcomes(project)``.
    study_of, pooled_studies
        Report -> study links and pooled studies; default from extraction's effect table.
    """
    store = project.store
    record_ids = store.prisma_record_ids()
    extra: list[Problem] = []
    if isinstance(outcomes, pd.DataFrame):
        rows: list[Mapping[str, Any]] = [
            {str(k): v for k, v in r.items()} for r in outcomes.to_dict("records")
        ]
    elif outcomes is None:
        rows = list(_outcomes(project))
    else:
        rows = list(outcomes)
    if study_of is None and pooled_studies is None:
        study_of, pooled = _studies(project, extra)
        pooled_studies = pooled
    reasons = tuple(
        r
        for r in project.protocol.screening.exclusion_reasons
        if "not available" in r.lower() or "retriev" in r.lower()
    )
    counts = count_flow(
        store.prisma_identified(),
        _unique_ids(project),
        rows,
        record_ids=record_ids,
        not_retrieved_reasons=reasons + NOT_RETRIEVED_REASONS,
        study_of=study_of,
        pooled_studies=pooled_studies,
    )
    for run in store.prisma_search_runs():
        if run["status"] != "complete":
            extra.append(
                Problem(
                    "search",
                    f"search run {run['id']} ({run['label'] or run['database']}) is '{run['status']}': its "
                    f"{run['hits']} hits so far are counted; run `review search` again to finish it",
                    severity="warning",
                )
            )
        elif run["count"] is not None and int(run["count"]) != int(run["hits"]):
            extra.append(
                Problem(
                    "search",
                    f"search run {run['id']} ({run['label'] or run['database']}): the database reported "
                    f"{run['count']} records but {run['hits']} are stored; the stored records are counted",
                    severity="warning",
                )
            )
    if extra:
        counts = PrismaCounts(**{**counts.__dict__, "problems": counts.problems + tuple(extra)})
    return counts


def _audit(project: Project) -> dict[str, Any]:
    """Where the identification counts come from: each search run, each import, the dedup run used."""
    run, removed = project.store.prisma_dedup_removed()
    return {
        "searches": project.store.prisma_search_runs(),
        "imports": project.store.prisma_import_runs(),
        "dedup_run": run,
        "dedup_removed": len(removed),
    }


def prisma_counts(project: Project) -> dict[str, Any]:
    """The PRISMA 2020 counts as a dict (JSON keys of ``prisma.json``), problems included, never raising."""
    data = collect_counts(project).as_dict()
    data["audit"] = _audit(project)
    return data


def prisma_frame(project: Project) -> pd.DataFrame:
    """The 34 rows of ``prisma.csv`` as a table (``data, boxtext, n``) for a notebook to show."""
    rows = csv_rows(collect_counts(project))
    return pd.DataFrame(rows)[["data", "box", "boxtext", "n"]]


def _raise_if_inconsistent(counts: PrismaCounts) -> None:
    if counts.errors:
        detail = "; ".join(str(p) for p in counts.errors)
        raise StoreError(f"PRISMA counts would not add up: {detail}")


def write_prisma(project: Project, out_dir: str | Path) -> str:
    """Write ``prisma.csv`` (PRISMA2020 package format), ``prisma.json``, ``prisma.svg`` and ``prisma.png``.

    Raises :class:`~review.errors.StoreError` naming the stage and records when the store is
    inconsistent (records awaiting screening, unresolved conflicts, decisions on records that
    never reached a stage). Returns a short report of what was written.
    """
    counts = collect_counts(project)
    _raise_if_inconsistent(counts)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = counts.as_dict()
    data["project"] = {"protocol": project.protocol.id, "title": project.protocol.title}
    data["audit"] = _audit(project)
    csv_path = write_csv(counts, out / "prisma.csv")
    json_path = out / "prisma.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    png, svg = draw_prisma(data, out / "prisma")
    lines = [
        f"PRISMA 2020: identified {counts.identified} ({', '.join(f'{s.name} {s.records}' for s in counts.sources)}), "
        f"duplicates {counts.duplicates}, screened {counts.records_screened}, excluded {counts.records_excluded}, "
        f"sought {counts.dbr_sought}, not retrieved {counts.dbr_not_retrieved}, assessed {counts.dbr_assessed}, "
        f"included {counts.new_studies} studies / {counts.new_reports} reports",
    ]
    lines += [f"warning: {p}" for p in counts.warnings]
    lines += [f"wrote {p}" for p in (csv_path, json_path, svg, png)]
    return "\n".join(lines)
