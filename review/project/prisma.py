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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from review.diagram import draw_prisma
from review.errors import ReviewError, StoreError
from review.prisma import (
    NOT_RETRIEVED_REASONS,
    PrismaCounts,
    Problem,
    count_flow,
    csv_rows,
    provisional_stamp,
    write_csv,
)
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


def prisma_frame(project: Project, *, provisional: bool = False) -> pd.DataFrame:
    """The 34 rows of ``prisma.csv`` as a table (``data, boxtext, n``) for a notebook to show.

    ``provisional`` adds the rows of records and reports awaiting a decision, marked with today's date.
    """
    rows = csv_rows(collect_counts(project), provisional=datetime.now(UTC) if provisional else None)
    return pd.DataFrame(rows)[["data", "box", "boxtext", "n"]]


PROVISIONAL_HINT = (
    "for interim counts marked PROVISIONAL, with the undecided in boxes of their own, run "
    "`review prisma DIR --out-dir D --provisional`"
)


def _raise_if_inconsistent(counts: PrismaCounts, provisional: bool = False) -> None:
    """Refuse counts that would not add up; name the stage and records, and the provisional option when it helps."""
    blocking = counts.blocking(provisional)
    if blocking:
        detail = "; ".join(str(p) for p in blocking)
        hint = f" ({PROVISIONAL_HINT})" if not provisional and all(p.awaiting for p in blocking) else ""
        raise StoreError(f"PRISMA counts would not add up: {detail}{hint}")


def _summary(counts: PrismaCounts) -> str:
    c = counts
    ta_open = c.records_awaiting + c.records_in_conflict
    ft_open = c.dbr_reports_awaiting + c.dbr_reports_in_conflict
    waiting = f" (awaiting a decision {ta_open})" if ta_open else ""
    classify = f", awaiting classification {ft_open}" if ft_open else ""
    return (
        f"identified {c.identified} ({', '.join(f'{s.name} {s.records}' for s in c.sources)}), "
        f"duplicates {c.duplicates}, screened {c.records_screened}{waiting}, excluded {c.records_excluded}, "
        f"sought {c.dbr_sought}, not retrieved {c.dbr_not_retrieved}{classify}, assessed {c.dbr_assessed}, "
        f"included {c.new_studies} studies / {c.new_reports} reports"
    )


def write_prisma(
    project: Project, out_dir: str | Path, *, provisional: bool = False, as_of: datetime | None = None
) -> str:
    """Write ``prisma.csv`` (PRISMA2020 package format), ``prisma.json``, ``prisma.svg`` and ``prisma.png``.

    Raises :class:`~review.errors.StoreError` naming the stage and records when the store is
    inconsistent (records awaiting screening, unresolved conflicts, decisions on records that
    never reached a stage). Returns a short report of what was written.

    With ``provisional`` the review may be unfinished: records awaiting a title/abstract
    decision or in conflict, and reports awaiting classification, are counted in boxes and
    CSV rows of their own (Cochrane Handbook chapter 4, 'studies awaiting classification'),
    never as excluded or included, and every file is marked PROVISIONAL with ``as_of`` (default
    now, UTC). The files are ``prisma-provisional.*``, so a final report in the same folder is
    never overwritten nor mistaken for this one. Other inconsistencies still refuse.
    """
    counts = collect_counts(project)
    _raise_if_inconsistent(counts, provisional)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = counts.as_dict()
    data["project"] = {"protocol": project.protocol.id, "title": project.protocol.title}
    data["audit"] = _audit(project)
    stamp: datetime | None = None
    stem = "prisma"
    if provisional:
        stamp = as_of or datetime.now(UTC)
        stem = "prisma-provisional"
        data["provisional"] = {
            "as_of": provisional_stamp(stamp),
            "note": "PROVISIONAL: the review is in progress; these counts are not for publication",
        }
    csv_path = write_csv(counts, out / f"{stem}.csv", provisional=stamp)
    json_path = out / f"{stem}.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    png, svg = draw_prisma(data, out / stem)
    head = "PRISMA 2020"
    if stamp is not None:
        head = f"PROVISIONAL PRISMA 2020 as of {provisional_stamp(stamp)} (not for publication)"
    lines = [f"{head}: {_summary(counts)}"]
    if stamp is not None and counts.records_screened and not counts.unfinished:
        lines.append(
            "note: every record has a final decision: run without --provisional for the final report"
        )
    lines += [f"warning: {p}" for p in counts.warnings]
    if stamp is not None:
        lines += [f"awaiting: {p}" for p in counts.errors if p.awaiting]
    lines += [f"wrote {p}" for p in (csv_path, json_path, svg, png)]
    return "\n".join(lines)
