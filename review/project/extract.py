"""Extraction workflow: forms -> reviewer workbooks -> validated store -> tidy effect table.

- :func:`export_extraction` writes one workbook per reviewer with the included studies (full
  text final decision *include*) pre-filled, plus whatever that reviewer already extracted.
- :func:`import_extraction` validates a whole workbook first (every problem names its sheet
  and cell) and stores it in one transaction; the same workbook again changes nothing.
  Conflict workbooks filled by a resolver are imported by the same call.
- :func:`export_extraction_conflicts` lists, cell by cell, where two extractors disagree.
- :func:`effect_table` / :func:`write_effect_table` build the tidy long table (one row per study
  x comparison x outcome x window) that pooling reads, with effect sizes from
  :func:`review.effects.escalc`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from review import __version__
from review.effects import escalc
from review.errors import InputError, StudyDataError, WorkbookError
from review.extraction import (
    OPTIONAL_CELLS,
    ROW,
    ArmPair,
    Cell,
    Context,
    Disagreement,
    DomainSpec,
    Form,
    Problem,
    RawSheet,
    arm_pairs,
    check_extraction,
    choices_for,
    consensus,
    from_cells,
    parse_form,
    parse_value,
    study_label,
    to_cells,
    validate_sheets,
    value_text,
)
from review.project import Project
from review.protocol import Protocol
from review.records import ILLUSTRATIVE_LABEL, record_note
from review.store._base import now
from review.workbooks.common import refuse_overwrite, reviewer_name
from review.workbooks.extraction import (
    Column,
    SheetLayout,
    read_form_workbook,
    read_workbook_meta,
    write_form_workbook,
    write_table_workbook,
)

__all__ = [
    "EFFECT_COLUMNS",
    "context_from_protocol",
    "effect_table",
    "export_extraction",
    "export_extraction_conflicts",
    "extraction_disagreements",
    "import_extraction",
    "included_record_ids",
    "resolve_form",
    "study_records",
    "write_effect_table",
]

#: The tidy table's columns (the contract with pooling), then a few more for readers.
EFFECT_COLUMNS = (
    "study",
    "record_ids",
    "comparison",
    "intervention_class",
    "control_class",
    "outcome_domain",
    "instrument",
    "window",
    "timepoint_days",
    "measure",
    "yi",
    "vi",
    "n1",
    "n2",
    "converted",
    "conversion_method",
    "illustrative",
    "source",
    "crps_duration_months",
    "crps_criteria",
    "direction",
    "outcome_type",
    "rob_overall",
    "events1",
    "events2",
    "md_scale",
)

COLUMN_NOTES = {
    "study": "Study label (reports of one trial share it).",
    "record_ids": "Store record ids of the trial's reports, ';'-separated.",
    "comparison": "Protocol comparison (analysis.comparisons).",
    "intervention_class": "Class of arm 1 (experimental).",
    "control_class": "Class(es) of arm 2; several control arms are combined (Handbook table 6.5.a).",
    "outcome_domain": "Protocol outcome domain.",
    "instrument": "Instrument used (protocol's order of preference when a study reports several).",
    "window": "Protocol follow-up window holding the time point.",
    "timepoint_days": "Time point used, days since start of treatment (latest in the window).",
    "measure": "Effect measure from the protocol outcome (MD, SMD, ROM on the log scale; RR, OR log; RD).",
    "yi": "Effect size, arm 1 vs arm 2, as metafor escalc. Continuous rows are direction-aligned: "
    "for pain (and every outcome where the protocol says lower is better) lower = better, so a "
    "negative MD/SMD favours arm 1.",
    "vi": "Sampling variance of yi (metafor escalc defaults).",
    "n1": "Participants analysed in arm 1.",
    "n2": "Participants analysed in arm 2.",
    "converted": "True when any input value was derived (SD from SE/CI/median, rescaled, direction reversed, arms combined).",
    "conversion_method": "How: each conversion with its source (Cochrane Handbook 6.5.2, Wan 2014, Luo 2018).",
    "illustrative": "True when a value was not checked against the full text (e.g. not verified=yes in the "
    "reference data) or was made up: illustrative only, not evidence.",
    "source": "Where the values were read.",
    "crps_duration_months": "Mean or median duration of CRPS (meta-regression moderator).",
    "crps_criteria": "Diagnostic criteria (Budapest / IASP 1994 / ...; subgroup).",
    "direction": "Which direction is better on this row (after alignment).",
    "outcome_type": "final values, change from baseline, or events.",
    "rob_overall": "Cochrane RoB 2 overall judgement for the study and domain ('all' if not per domain).",
    "events1": "Binary outcomes: participants with the event in arm 1 (empty for continuous rows).",
    "events2": "Binary outcomes: participants with the event in arm 2 (a study with no events, or only "
    "events, in both arms is not estimable for RR and OR and is left out of their pooling).",
    "md_scale": "MD rows: the scale the difference is on (the form's common scale, e.g. 0-10 for pain, "
    "else the instrument's range).",
}

FORMS_DIR = "extraction_forms"
_META_KIND = "extraction"
_CONFLICT_KIND = "extraction-conflicts"
_WIDTH = {"citation": 50, "description": 30, "notes": 30, "source": 30, "support": 40}


# --- forms and context ---------------------------------------------------------------------------


def _form_candidates(project: Project, name: str) -> list[Path]:
    here = Path(__file__).resolve().parents[2]
    return [
        project.root / FORMS_DIR / f"{name}.yaml",
        Path.cwd() / FORMS_DIR / f"{name}.yaml",
        here / FORMS_DIR / f"{name}.yaml",
    ]


def resolve_form(project: Project, form: str) -> tuple[Form, str]:
    """Find a form by path or name (project, working folder, the package's ``extraction_forms``).

    Returns the form and its YAML text; the text is kept in the project so a workbook is always
    read back with the form it was made from.
    """
    import yaml

    path = Path(form)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        candidates = [path]
    else:
        candidates = _form_candidates(project, form)
    for cand in candidates:
        if cand.is_file():
            text = cand.read_text(encoding="utf-8")
            try:
                parsed = parse_form(yaml.safe_load(text), cand)
            except yaml.YAMLError as exc:
                raise InputError(f"not valid YAML: {exc}", path=cand) from exc
            return parsed, text
    raise InputError(
        f"no extraction form {form!r}: looked in {', '.join(str(c) for c in candidates)}; "
        "give --form NAME of a file in extraction_forms/ or a path to a form YAML"
    )


def _stored_form(project: Project, name: str) -> Form:
    import yaml

    text = project.store.get_meta(f"extraction_form:{name}")
    if text is None:
        return resolve_form(project, name)[0]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse_form(yaml.load(text, Loader=loader), f"form {name!r} stored in the project")


def context_from_protocol(protocol: Protocol) -> Context:
    """What extraction needs from the protocol: classes, domains, windows, comparisons."""
    return Context(
        intervention_classes=tuple(protocol.intervention_classes),
        domains={
            o.domain: DomainSpec(tuple(o.instruments), bool(o.lower_is_better), o.measure.upper())
            for o in protocol.outcomes
        },
        windows=tuple(protocol.follow_up_windows),
        comparisons=tuple(
            (c.label, c.intervention, tuple(c.controls)) for c in protocol.analysis.comparisons
        ),
    )


def included_record_ids(project: Project) -> list[int]:
    """Records whose full-text final decision is include (the studies to extract)."""
    from review.project.screen import screening_outcomes

    frame = screening_outcomes(project)
    mask = (frame["stage"] == "full-text") & (frame["final"] == "include")
    return sorted(int(r) for r in frame.loc[mask, "record_id"])


def _columns(form: Form, ctx: Context, entity: str) -> tuple[Column, ...]:
    sheet = form.sheet(entity)
    studies, arms = form.sheet("study").name, form.sheet("arm").name
    refs = {
        ("arm", "study"): (studies, "study"),
        ("outcome", "study"): (studies, "study"),
        ("outcome", "arm"): (arms, "arm"),
        ("rob", "study"): (studies, "study"),
    }
    return tuple(
        Column(
            name=f.name,
            label=f.label,
            kind=f.type,
            choices=choices_for(form, f, ctx) if f.type == "choice" else (),
            minimum=f.minimum,
            maximum=f.maximum,
            prefilled=f.prefilled,
            help=f.help,
            width=_WIDTH.get(f.name, max(12.0, min(28.0, len(f.name) + 4.0))),
            ref=refs.get((entity, f.name)),
        )
        for f in sheet.fields
    )


# --- export ------------------------------------------------------------------------------------


def export_extraction(
    project: Project,
    form: str,
    reviewer: str,
    out: str | Path,
    *,
    record_ids: Sequence[int] | None = None,
) -> str:
    """Write ``reviewer``'s extraction workbook for the included studies.

    Studies are the records whose full-text final decision is include (``record_ids`` overrides
    this, e.g. in a notebook before screening is finished). The reviewer's current extraction,
    if any, is pre-filled so a workbook can be exported again, edited and re-imported.
    """
    reviewer = reviewer_name(reviewer)
    refuse_overwrite(Path(out))
    parsed, text = resolve_form(project, form)
    ctx = context_from_protocol(project.protocol)
    ids = list(record_ids) if record_ids is not None else included_record_ids(project)
    if not ids:
        raise InputError(
            "no records have a full-text final decision of include yet: finish full-text screening "
            "(`review screen export/import ... --stage full-text`) before extraction"
        )
    records = project.store.get_records(ids)
    unknown = [i for i in ids if i not in records]
    if unknown:
        raise InputError(f"record id {unknown[0]} is not in the project")
    from review.project.screen import record_notes_shown

    notes = record_notes_shown(project, ids)
    current = project.store.extraction_current(parsed.name).get(reviewer, {})
    mine = from_cells(parsed, current)
    prior_studies = {row.get("record_id"): row for row in mine.entity("study").values()}
    labels: list[str] = []
    study_rows: list[dict[str, Any]] = []
    for rid in ids:
        rec = records[rid]
        first = rec.authors[0] if rec.authors else None
        citation = f"{first or 'Anonymous'}{' et al.' if len(rec.authors) > 1 else ''} {rec.year or ''}. {rec.title or ''}"
        row: dict[str, Any] = dict(prior_studies.get(rid, {}))
        if "study" not in row:
            row["study"] = study_label(first, rec.year, labels)
        labels.append(row["study"])
        note = record_note(notes.get(rid, ()))
        if note and note.startswith(ILLUSTRATIVE_LABEL):  # a made-up or unverified record says so
            citation = f"[{ILLUSTRATIVE_LABEL}] {citation.strip()}"
        row["record_id"], row["citation"] = rid, citation.strip()
        study_rows.append(row)
    arm_rows: list[dict[str, Any]] = list(mine.entity("arm").values())
    sheets = [
        SheetLayout(parsed.sheet("study").name, _columns(parsed, ctx, "study"), study_rows, blank_rows=10),
        SheetLayout(parsed.sheet("arm").name, _columns(parsed, ctx, "arm"), arm_rows, blank_rows=40),
        SheetLayout(
            parsed.sheet("outcome").name,
            _columns(parsed, ctx, "outcome"),
            list(mine.entity("outcome").values()),
            blank_rows=400,
        ),
        SheetLayout(
            parsed.sheet("rob").name,
            _columns(parsed, ctx, "rob"),
            list(mine.entity("rob").values()),
            blank_rows=60,
        ),
    ]
    project.store.set_meta(f"extraction_form:{parsed.name}", text)
    token = uuid.uuid4().hex
    # what this reviewer's extraction was when the workbook left: a later import of another
    # workbook makes this one out of date (see _refuse_stale)
    latest = project.store.latest_extraction_batch(parsed.name, reviewer)
    project.store.set_meta(f"extraction_export:{token}", str(latest[0] if latest else 0))
    path = write_form_workbook(
        out,
        sheets,
        {
            "kind": _META_KIND,
            "project_id": project.project_id,
            "form": parsed.name,
            "form_version": parsed.version,
            "reviewer": reviewer,
            "token": token,
            "created_at": now(),
            "software": f"review {__version__}",
        },
    )
    return f"wrote {path}: extraction form {parsed.name!r} for {reviewer}, {len(ids)} included records"


def _sheet_fields(form: Form) -> dict[str, list[str]]:
    return {s.name: [f.name for f in s.fields] for s in form.sheets}


def _raise(problems: Sequence[Problem], path: Path) -> None:
    if not problems:
        return
    first = problems[0]
    message = first.message
    if len(problems) > 1:
        more = "; ".join(str(p) for p in problems[1:8])
        message += f" (and {len(problems) - 1} more: {more}{'; ...' if len(problems) > 8 else ''})"
    message += "; nothing was imported - correct the workbook and import it again"
    raise WorkbookError(message, path=path, sheet=first.sheet, row=first.row, column=first.column)


def _refuse_stale(project: Project, path: Path, form: str, reviewer: str, token: str | None) -> None:
    """Refuse a workbook exported before another of the reviewer's workbooks was imported.

    An extractor's import is their whole extraction (a snapshot), so an out-of-date workbook
    would silently drop what the newer import added.
    """
    base = project.store.get_meta(f"extraction_export:{token}") if token else None
    latest = project.store.latest_extraction_batch(form, reviewer)
    if base is None or latest is None or latest[0] <= int(base) or latest[1] == token:
        return
    raise WorkbookError(
        f"is out of date: {reviewer}'s extraction changed after it was exported ({latest[2]} was "
        f"imported at {latest[3]}), and importing it would drop those values. Export a fresh workbook "
        "(it comes pre-filled with everything imported so far), enter this workbook's new values "
        f"there and import that; or pass --force to make this workbook {reviewer}'s whole extraction",
        path=path,
    )


def import_extraction(project: Project, file: str | Path, *, force: bool = False) -> str:
    """Validate a filled extraction (or conflict-resolution) workbook and store it.

    Every cell is checked before anything is written; on any problem nothing is stored and the
    error names sheet and cell (and counts the others). The same workbook imported again, or a
    workbook with the same values, adds nothing.
    """
    path = Path(file)
    meta, digest = read_workbook_meta(path)
    if meta.get("project_id") != project.project_id:
        raise WorkbookError(
            "was exported from another project (its project id differs): import it into the project it came from",
            path=path,
        )
    kind = meta.get("kind")
    if kind == _CONFLICT_KIND:
        return _import_resolutions(project, path, meta)
    if kind != _META_KIND:
        hint = " (import it with `review screen import`)" if kind in ("screening", "conflicts") else ""
        raise WorkbookError(f"is a {kind!r} workbook, not an extraction workbook{hint}", path=path)
    reviewer = reviewer_name(meta.get("reviewer", ""))
    form = _stored_form(project, meta.get("form", ""))
    if project.store.extraction_batch_seen(digest, reviewer, "extractor"):
        return f"{path.name} was already imported for {reviewer}: nothing changed"
    if not force:
        _refuse_stale(project, path, form.name, reviewer, meta.get("token"))
    ctx = context_from_protocol(project.protocol)
    _meta, raw, digest = read_form_workbook(path, _sheet_fields(form), OPTIONAL_CELLS)
    sheets = {name: RawSheet(name, cells.columns, cells.rows) for name, cells in raw.items()}
    ext, problems = validate_sheets(form, ctx, sheets)
    _raise(problems, path)
    filled = any(ext.entity(e) for e in ("arm", "outcome", "rob")) or any(
        set(row) - {"record_id", "citation", "study"} for row in ext.entity("study").values()
    )
    if not filled:
        return f"{path.name}: nothing is filled in beyond the pre-filled study rows - nothing imported"
    cells = to_cells(ext)
    current = project.store.extraction_current(form.name).get(reviewer)
    if current == cells:
        return f"{path.name}: same values as {reviewer}'s current extraction - nothing changed"
    before = current or {}
    changed = sum(1 for c, v in cells.items() if before.get(c) != v) + sum(
        1 for c in before if c not in cells
    )
    project.store.add_extraction_batch(
        form=form.name,
        reviewer=reviewer,
        role="extractor",
        file_name=path.name,
        workbook_hash=digest,
        export_token=meta.get("token"),
        cells=cells,
    )
    counts = {e: len(ext.entity(e)) for e in ("study", "arm", "outcome", "rob")}
    return (
        f"imported {path.name} for {reviewer}: {counts['study']} study reports, {counts['arm']} arms, "
        f"{counts['outcome']} outcome rows, {counts['rob']} risk-of-bias rows ({changed} cells changed)"
        + _removed_rows_note(before, cells, reviewer)
    )


_ENTITY_NAMES = {"study": "study", "arm": "arm", "outcome": "outcome", "rob": "risk-of-bias"}


def _removed_rows_note(before: Mapping[Cell, str], after: Mapping[Cell, str], reviewer: str) -> str:
    """Name the rows of the reviewer's earlier extraction that this workbook no longer has.

    The import is the reviewer's whole extraction, so a deleted row (on purpose or by a slip
    while re-sorting) leaves it; the store keeps the old values, but the person should see it.
    """
    kept = {(e, k) for e, k, _f in after}
    gone = sorted({(e, k) for e, k, _f in before if (e, k) not in kept and e in _ENTITY_NAMES})
    if not gone:
        return ""
    shown = "; ".join(f"{_ENTITY_NAMES[e]} {' / '.join(str(x) for x in json.loads(k))}" for e, k in gone[:5])
    more = f" and {len(gone) - 5} more" if len(gone) > 5 else ""
    return (
        f". {len(gone)} row(s) {reviewer} imported before are not in this workbook and are no longer "
        f"in {reviewer}'s extraction (their history is kept): {shown}{more}. If a row was deleted by "
        "mistake, export again, re-enter it and import"
    )


# --- double extraction -------------------------------------------------------------------------

_CONFLICT_COLUMNS = (
    "sheet",
    "row_key",
    "field",
    "reviewer_a",
    "value_a",
    "reviewer_b",
    "value_b",
    "resolved",
)
_CONFLICT_KEYS = ("entity", "entity_key", "field_name")


def extraction_disagreements(project: Project) -> list[Disagreement]:
    """Open disagreements between extractors (cells not yet settled by a resolver)."""
    _cells, open_ = consensus(project.store.extraction_current(), project.store.extraction_resolutions())
    return open_


def export_extraction_conflicts(project: Project, out: str | Path, *, resolver: str = "resolver") -> str:
    """Write the open disagreements, one cell per row, with a ``resolved`` column to fill in.

    For a row that only one extractor has (``field`` = ``(row)``), write ``keep`` or ``drop``.
    Otherwise write the correct value (a value one of them gave, or another; ``(empty)``, as the
    sheet shows a cell one of them left empty, to settle on no value); leave blank to keep the
    disagreement open. Import the filled workbook with ``review extract import``.
    """
    current = project.store.extraction_current()
    if len(current) < 2:
        return f"fewer than two extractors have imported workbooks ({len(current)}): nothing to compare"
    refuse_overwrite(Path(out))
    open_ = extraction_disagreements(project)
    forms = project.store.extraction_forms_used()
    form = _stored_form(project, forms[0])
    names = {s.entity: s.name for s in form.sheets}
    reviewers = sorted(current)
    rows = []
    for d in open_:
        a, b = reviewers[0], reviewers[1]
        others = [r for r in reviewers[2:] if d.values.get(r) is not None]
        rows.append(
            {
                "sheet": names.get(d.entity, d.entity),
                "row_key": " / ".join(json.loads(d.key)),
                "field": "(row)" if d.field == ROW else d.field,
                "reviewer_a": a,
                "value_a": _shown(d.values.get(a))
                if d.field != ROW
                else ("has the row" if d.values.get(a) else "no such row"),
                "reviewer_b": b,
                "value_b": _shown(d.values.get(b))
                if d.field != ROW
                else ("has the row" if d.values.get(b) else "no such row"),
                "resolved": None,
                "entity": d.entity,
                "entity_key": d.key,
                "field_name": d.field,
                **({"note": "also: " + ", ".join(f"{r}={d.values[r]}" for r in others)} if others else {}),
            }
        )
    columns = (
        Column("sheet", "Sheet of the extraction workbook", width=14, prefilled=True),
        Column("row_key", "Row (study / arm / domain / instrument / day)", width=40, prefilled=True),
        Column("field", "Field", width=20, prefilled=True),
        Column("reviewer_a", "Reviewer A", width=12, prefilled=True),
        Column("value_a", "A's value", width=18, prefilled=True),
        Column("reviewer_b", "Reviewer B", width=12, prefilled=True),
        Column("value_b", "B's value", width=18, prefilled=True),
        Column(
            "resolved",
            "Resolved value",
            help="the agreed value, or (empty) for no value; for (row): keep or drop",
            width=18,
        ),
        Column("note", "Other reviewers", width=20, prefilled=True),
        Column("entity", "internal", width=8, prefilled=True),
        Column("entity_key", "internal", width=8, prefilled=True),
        Column("field_name", "internal", width=8, prefilled=True),
    )
    path = write_form_workbook(
        out,
        [SheetLayout("Conflicts", columns, rows, blank_rows=0)],
        {
            "kind": _CONFLICT_KIND,
            "project_id": project.project_id,
            "form": form.name,
            "reviewer": reviewer_name(resolver),
            "token": uuid.uuid4().hex,
            "created_at": now(),
            "software": f"review {__version__}",
        },
    )
    return f"wrote {path}: {len(rows)} disagreements between {', '.join(reviewers)} to resolve"


def _shown(value: str | None) -> str:
    return "(empty)" if value is None else value


#: What a resolver writes to settle a cell on "no value" (the Conflicts sheet shows "(empty)").
_EMPTY_WORDS = ("(empty)", "empty")


def _import_resolutions(project: Project, path: Path, meta: dict[str, str]) -> str:
    resolver = reviewer_name(meta.get("reviewer", "resolver"))
    form = _stored_form(project, meta.get("form", ""))
    ctx = context_from_protocol(project.protocol)
    _meta, raw, digest = read_form_workbook(path, {"Conflicts": (*_CONFLICT_COLUMNS, *_CONFLICT_KEYS)})
    if project.store.extraction_batch_seen(digest, resolver, "resolver"):
        return f"{path.name} was already imported: nothing changed"
    sheet = raw.get("Conflicts")
    if sheet is None:
        raise WorkbookError(
            "has no 'Conflicts' sheet: use the workbook from `review extract conflicts`", path=path
        )
    problems: list[Problem] = []
    cells: dict[tuple[str, str, str], str | None] = {}
    existing = project.store.extraction_resolutions()
    touched: dict[tuple[str, str], int] = {}  # (entity, key JSON) -> first Conflicts row resolving it
    col = sheet.columns["resolved"]
    for rownum, values in sheet.rows:
        value = values.get("resolved")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        entity, key, name = (str(values.get(k) or "") for k in _CONFLICT_KEYS)
        if name == ROW:
            decision = str(value).strip().casefold()
            if decision not in ("keep", "drop"):
                problems.append(
                    Problem(
                        "Conflicts",
                        rownum,
                        col,
                        f"write keep or drop for a (row) disagreement, got {value!r}",
                    )
                )
                continue
            cells[(entity, key, name)] = decision
            touched.setdefault((entity, key), rownum)
            continue
        try:
            spec = form.sheet(entity).field(name)
        except KeyError:
            problems.append(
                Problem(
                    "Conflicts",
                    rownum,
                    None,
                    "the hidden entity/field cells were changed: export the conflicts again",
                )
            )
            continue
        if str(value).strip().casefold() in _EMPTY_WORDS:
            cells[(entity, key, name)] = None  # the cell is empty (as one extractor left it)
            touched.setdefault((entity, key), rownum)
            continue
        try:
            typed = parse_value(spec, value, choices_for(form, spec, ctx) if spec.type == "choice" else ())
        except ValueError as exc:
            problems.append(Problem("Conflicts", rownum, col, str(exc)))
            continue
        cells[(entity, key, name)] = value_text(typed)
        touched.setdefault((entity, key), rownum)
    _raise(problems, path)
    new = {c: v for c, v in cells.items() if existing.get(c, object()) != v}
    if not new:
        return f"{path.name}: no new resolutions - nothing changed"
    _raise(_resolved_problems(project, form, ctx, {**existing, **new}, touched, col), path)
    project.store.add_extraction_batch(
        form=form.name,
        reviewer=resolver,
        role="resolver",
        file_name=path.name,
        workbook_hash=digest,
        export_token=meta.get("token"),
        cells=new,
    )
    left = len(extraction_disagreements(project))
    return f"imported {len(new)} resolutions by {resolver} from {path.name}; {left} disagreements left"


def _resolved_problems(
    project: Project,
    form: Form,
    ctx: Context,
    resolutions: Mapping[Cell, str | None],
    touched: Mapping[tuple[str, str], int],
    column: str | None,
) -> list[Problem]:
    """Cross-check the consensus a resolver's values make (a value outside its scale, n above
    the arm's, a mean outside its CI...), naming the Conflicts row of each resolved row that
    fails: a resolution is checked as strictly as an extractor's workbook."""
    merged, _open = consensus(project.store.extraction_current(form.name), resolutions)
    ext = from_cells(form, merged)
    for entity, rows in ext.rows.items():
        for key in rows:
            k = json.dumps([value_text(x) for x in key], ensure_ascii=False)
            if (entity, k) in touched:
                ext.rows_at[(entity, key)] = touched[(entity, k)]
    return [
        Problem("Conflicts", p.row, column, f"with the resolved value(s), sheet {p.sheet!r}: {p.message}")
        for p in check_extraction(form, ctx, ext)
        if p.row is not None
    ]


# --- studies and their reports -----------------------------------------------------------------


def study_records(project: Project) -> dict[int, str]:
    """Record id -> study label for every extracted report (reports of one trial share a label).

    The extractor links a report to its study on the form's study sheet (one row per included
    report, keyed by ``record_id``; reports of one trial are given the same ``study`` label, as
    the Cochrane Handbook 4.6.2 / PRISMA 2020 item 16a count studies, not reports). Built from
    the extractors' consensus: a report whose label is still in disagreement is left out (PRISMA
    then counts it as a study of its own until the disagreement is resolved).
    """
    forms = project.store.extraction_forms_used()
    if not forms:
        return {}
    out: dict[int, str] = {}
    for name in forms:
        form = _stored_form(project, name)
        cells, _open = consensus(
            project.store.extraction_current(form.name), project.store.extraction_resolutions()
        )
        for row in from_cells(form, cells).entity("study").values():
            rid, label = row.get("record_id"), row.get("study")
            if rid is None or label is None or not str(label).strip():
                continue
            out.setdefault(int(rid), str(label).strip())
    return out


# --- tidy table ----------------------------------------------------------------------------------


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in EFFECT_COLUMNS})


def _effects(pairs: Sequence[ArmPair]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    by_measure: dict[str, list[int]] = {}
    for i, p in enumerate(pairs):
        by_measure.setdefault(p.measure, []).append(i)
    yi = np.full(len(pairs), np.nan)
    vi = np.full(len(pairs), np.nan)
    for measure, idx in by_measure.items():
        keys = (
            ("ai", "n1i", "ci", "n2i")
            if measure in ("RR", "OR", "RD")
            else ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
        )
        arrays = {k: np.array([pairs[i].data[k] for i in idx]) for k in keys}
        labels = [f"{pairs[i].study} ({pairs[i].outcome_domain}, {pairs[i].window})" for i in idx]
        es = escalc(measure, labels=labels, **arrays)
        yi[idx], vi[idx] = es.yi, es.vi
    for i, p in enumerate(pairs):
        rows.append(
            {
                "study": p.study,
                "record_ids": p.record_ids,
                "comparison": p.comparison,
                "intervention_class": p.intervention_class,
                "control_class": p.control_class,
                "outcome_domain": p.outcome_domain,
                "instrument": p.instrument,
                "window": p.window,
                "timepoint_days": p.timepoint_days,
                "measure": p.measure,
                "yi": float(yi[i]),
                "vi": float(vi[i]),
                "n1": int(p.data["n1i"]),
                "n2": int(p.data["n2i"]),
                "converted": p.converted,
                "conversion_method": p.conversion_method,
                "illustrative": p.illustrative,
                "source": p.source,
                "crps_duration_months": p.crps_duration_months,
                "crps_criteria": p.crps_criteria,
                "direction": p.direction,
                "outcome_type": p.outcome_type,
                "rob_overall": p.rob_overall,
                "events1": int(p.data["ai"]) if "ai" in p.data else None,
                "events2": int(p.data["ci"]) if "ci" in p.data else None,
                "md_scale": p.md_scale,
            }
        )
    return rows


def effect_table(project: Project, unused: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """The tidy long table pooling reads: one row per study x comparison x outcome x window.

    Built from the consensus of the extractors (agreed or resolved cells; cells still in
    disagreement are left out, so a row that needs them is missing until they are resolved).
    Outcome rows that no effect row uses are appended to ``unused`` with the reason.
    """
    forms = project.store.extraction_forms_used()
    if not forms:
        return _empty()
    form = _stored_form(project, forms[0])
    ctx = context_from_protocol(project.protocol)
    cells, _open = consensus(
        project.store.extraction_current(form.name), project.store.extraction_resolutions()
    )
    ext = from_cells(form, cells)
    try:
        pairs = arm_pairs(form, ctx, ext, unused)
    except InputError as exc:
        raise StudyDataError(f"cannot build the effect table: {exc}") from exc
    if not pairs:
        return _empty()
    frame = pd.DataFrame(_effects(pairs), columns=list(EFFECT_COLUMNS))
    for col in ("events1", "events2"):  # whole numbers, empty on continuous rows
        frame[col] = frame[col].astype("Int64")
    return frame


def write_effect_table(project: Project, out_dir: str | Path | None = None) -> str:
    """Write ``effect_table.csv`` and a formatted ``effect_table.xlsx``; returns a summary line."""
    folder = Path(out_dir) if out_dir is not None else project.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    unused: list[dict[str, Any]] = []
    frame = effect_table(project, unused)
    csv_path = folder / "effect_table.csv"
    frame.to_csv(csv_path, index=False)
    unused_path = folder / "effect_table_unused_outcomes.csv"
    pd.DataFrame(
        unused, columns=["study", "arm", "domain", "instrument", "timepoint_days", "stat_type", "reason"]
    ).to_csv(unused_path, index=False)
    records: list[dict[str, Any]] = [
        {
            str(k): (None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v)
            for k, v in row.items()
        }
        for row in frame.to_dict(orient="records")
    ]
    xlsx_path = write_table_workbook(
        folder / "effect_table.xlsx", list(EFFECT_COLUMNS), records, COLUMN_NOTES
    )
    open_ = extraction_disagreements(project)
    n_ill = int(frame["illustrative"].astype(bool).sum()) if len(frame) else 0
    note = f"; {len(open_)} disagreements still open (`review extract conflicts`)" if open_ else ""
    if unused:
        note += f"; {len(unused)} outcome rows not used, with the reason, in {unused_path.name}"
    return (
        f"wrote {csv_path} and {xlsx_path}: {len(frame)} rows "
        f"({int(frame['converted'].astype(bool).sum()) if len(frame) else 0} with converted values, "
        f"{n_ill} illustrative){note}"
    )
