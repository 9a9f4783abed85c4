"""Screening workflow: hand out workbooks, take decisions back, report agreement and conflicts.

Layer 5: combines the store (decisions, exports), the pure screening rules
(:mod:`review.screening`) and the workbook I/O (:mod:`review.workbooks.screening`).
Importing validates the whole workbook first and then stores it in one transaction, so a
refused workbook leaves the store exactly as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from review import __version__
from review.errors import InputError, WorkbookError
from review.project import Project
from review.screening import (
    DECISIONS,
    RESOLVER,
    SCREENER,
    STAGES,
    Decision,
    Final,
    conflict_ids,
    current_decisions,
    decisions_on_records,
    final_decisions,
    normalise_decision,
    normalise_reason,
    reviewer_order,
    summarise_stage,
)
from review.workbooks.common import (
    column_letter,
    file_sha256,
    raise_problems,
    refuse_overwrite,
    reviewer_name,
)
from review.workbooks.screening import (
    ScreeningRow,
    SheetDecision,
    SheetDecisions,
    read_decisions,
    title_matches,
    write_screening_workbook,
)

__all__ = [
    "export_conflicts",
    "export_screening",
    "format_screening_status",
    "import_screening",
    "record_notes_shown",
    "screening_outcomes",
    "screening_status",
]


def _check_stage(stage: str) -> str:
    if stage not in STAGES:
        raise InputError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}")
    return stage


def unique_record_ids(project: Project) -> list[int]:
    """Records left after dedup (all records before any dedup run), ascending."""
    return sorted(int(r) for r in project.store.unique_record_ids())


def _aliases(project: Project) -> dict[int, int]:
    """Record id -> the id kept for its duplicate group in the latest dedup run.

    A decision on a record that a later dedup run merged into another one counts for the
    record kept, so re-running dedup never throws screening work away.
    """
    groups = project.store.dedup_groups()
    kept = {gid: rid for rid, (gid, is_kept) in groups.items() if is_kept}
    return {rid: kept[gid] for rid, (gid, _) in groups.items() if gid in kept and kept[gid] != rid}


def _duplicates(project: Project) -> dict[int, frozenset[int]]:
    """Record kept -> itself and the records the latest dedup run merged into it (groups of two or more)."""
    out: dict[int, set[int]] = {}
    for rid, kept in _aliases(project).items():
        out.setdefault(kept, {kept}).add(rid)
    return {k: frozenset(v) for k, v in out.items()}


def _decisions(project: Project) -> list[Decision]:
    """Every stored decision, oldest first, with merged duplicates pointing at the record kept.

    A decision given on a record that dedup later merged keeps that record as
    :attr:`Decision.member`, so disagreeing duplicates show up as a conflict; a resolution
    from a conflict workbook that showed merged duplicates as one row carries them as
    :attr:`Decision.covers`.
    """
    store = project.store
    alias = _aliases(project)
    members = store.screening_export_members()
    shown: dict[int, dict[int, frozenset[int]]] = {}
    if members:
        tokens = {b["id"]: b["export_token"] for b in store.screening_batches()}
        shown = {bid: members[t] for bid, t in tokens.items() if t in members}
    out = []
    for row in store.screening_decisions():
        rid, batch = int(row[1]), int(row[9])
        kept = alias.get(rid, rid)
        out.append(
            Decision(
                seq=row[0],
                record_id=kept,
                stage=row[2],
                reviewer=row[3],
                decision=row[4],
                role=row[5],
                reason=row[6],
                note=row[7],
                decided_at=row[8],
                batch_id=batch,
                member=None if kept == rid else rid,
                covers=shown.get(batch, {}).get(rid, frozenset()),
            )
        )
    return out


def _reasons(project: Project) -> tuple[str, ...]:
    return tuple(project.protocol.screening.exclusion_reasons)


def _k(project: Project) -> int:
    return int(project.protocol.screening.reviewers_per_record)


def _stage_records(project: Project, decisions: Sequence[Decision]) -> dict[str, list[int]]:
    """Records reaching each stage: all unique records, then those included at title/abstract."""
    unique = unique_record_ids(project)
    ta = final_decisions(decisions, STAGES[0], unique, _k(project), _reasons(project))
    return {STAGES[0]: unique, STAGES[1]: [rid for rid in unique if ta[rid].final == "include"]}


def record_notes_shown(project: Project, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The source notes to show with each record: its own, then those of its merged duplicates.

    A made-up or unverified record stays labelled whichever source's copy dedup kept (see
    :func:`review.records.record_note`, which turns these into the text shown).
    """
    fields = project.store.screening_fields(ids)
    merged: dict[int, list[int]] = {}
    for rid, kept in _aliases(project).items():
        if kept in fields:
            merged.setdefault(kept, []).append(rid)
    dups = project.store.screening_fields(sorted({r for rs in merged.values() for r in rs}))
    out: dict[int, tuple[str, ...]] = {}
    for rid, data in fields.items():
        notes = list(data.get("notes", ()))
        for other in sorted(merged.get(rid, ())):
            notes += [n for n in dups.get(other, {}).get("notes", ()) if n not in notes]
        out[rid] = tuple(notes)
    return out


def _rows(
    project: Project, ids: Sequence[int], earlier: dict[int, dict[str, Any]] | None = None
) -> list[ScreeningRow]:
    fields = project.store.screening_fields(ids)
    notes = record_notes_shown(project, ids)
    extra = earlier or {}
    return [
        ScreeningRow(record_id=rid, earlier=extra.get(rid, {}), **{**fields[rid], "notes": notes[rid]})
        for rid in ids
    ]


def _write(
    project: Project,
    out: Path,
    *,
    kind: str,
    stage: str,
    reviewer: str,
    ids: Sequence[int],
    earlier_names: Sequence[str] = (),
    earlier: dict[int, dict[str, Any]] | None = None,
    members: dict[int, frozenset[int]] | None = None,
) -> None:
    token = uuid.uuid4().hex
    rows = _rows(project, ids, earlier)
    proto = project.protocol
    write_screening_workbook(
        out,
        rows,
        meta={
            "kind": kind,
            "project_id": project.project_id,
            "protocol_id": proto.id,
            "token": token,
            "software_version": __version__,
        },
        stage=stage,
        reviewer=reviewer,
        title=proto.title,
        include=proto.eligibility.include,
        exclude=proto.eligibility.exclude,
        reasons=_reasons(project),
        earlier=earlier_names,
    )
    # remember the export only once the file is written (a failed write stores nothing); if
    # storing fails, the workbook would be refused on import, so it is removed
    try:
        project.store.add_workbook_export(
            token=token,
            kind=kind,
            stage=stage,
            reviewer=reviewer,
            record_ids=list(ids),
            file_name=out.name,
            members=members,
        )
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def export_screening(project: Project, stage: str, reviewer: str, out: str | Path) -> str:
    """Write the workbook of records ``reviewer`` has not yet decided at ``stage``.

    Title/abstract lists every unique record (after dedup); full text lists the records
    whose title/abstract final decision is include. Records the reviewer already decided
    are left out, so after a search update the new workbook holds only the new records.
    """
    stage, reviewer, out = _check_stage(stage), reviewer_name(reviewer), Path(out)
    refuse_overwrite(out)
    decisions = _decisions(project)
    in_stage = _stage_records(project, decisions)[stage]
    done = current_decisions(decisions, stage, SCREENER).get(reviewer, {})
    todo = [rid for rid in in_stage if rid not in done]
    if not todo:
        if not in_stage:
            why = "no records reach this stage yet" + (
                " (none is included at title/abstract)" if stage == STAGES[1] else " (import or search first)"
            )
        else:
            why = f"{reviewer} has decided all {len(in_stage)} records of this stage"
        return f"nothing to screen at {stage} for {reviewer}: {why}; no workbook written"
    _write(project, out, kind="screening", stage=stage, reviewer=reviewer, ids=todo)
    return (
        f"wrote {out}: {len(todo)} records for {reviewer} to screen at {stage} "
        f"({len(in_stage) - len(todo)} already decided)"
    )


def export_conflicts(project: Project, stage: str, reviewer: str, out: str | Path) -> str:
    """Write the records the screeners disagree on (and, at full text, agreed maybes) for a third reviewer."""
    stage, reviewer, out = _check_stage(stage), reviewer_name(reviewer), Path(out)
    refuse_overwrite(out)
    decisions = _decisions(project)
    in_stage = _stage_records(project, decisions)[stage]
    finals = final_decisions(decisions, stage, in_stage, _k(project), _reasons(project))
    ids = conflict_ids(finals)
    if not ids:
        return f"no conflicts at {stage}: nothing for a third reviewer; no workbook written"
    wanted = set(ids)
    given: dict[int, dict[str, list[Decision]]] = {}  # record kept -> reviewer -> decisions on its duplicates
    for name, per in decisions_on_records(decisions, stage, SCREENER).items():
        for d in per.values():
            if d.record_id in wanted:
                given.setdefault(d.record_id, {}).setdefault(name, []).append(d)
    names = [n for n in reviewer_order(decisions, stage) if any(n in g for g in given.values())]
    earlier: dict[int, dict[str, Any]] = {}
    for rid in ids:
        earlier[rid] = {}
        for n, ds in given.get(rid, {}).items():
            if len(ds) == 1:
                earlier[rid][n] = (ds[0].decision, ds[0].reason, ds[0].note)
            else:  # this reviewer screened duplicates dedup merged later: show each one
                ds = sorted(ds, key=lambda d: d.on)
                earlier[rid][n] = tuple(
                    "; ".join(f"{v} (record {d.on})" for d in ds if (v := getattr(d, part))) or None
                    for part in ("decision", "reason", "note")
                )
    merged = {k: v for k, v in _duplicates(project).items() if k in wanted}
    _write(
        project,
        out,
        kind="conflicts",
        stage=stage,
        reviewer=reviewer,
        ids=ids,
        earlier_names=names,
        earlier=earlier,
        members=merged,
    )
    n_merged = sum(finals[rid].merged for rid in ids)
    return f"wrote {out}: {len(ids)} conflicts at {stage} for {reviewer} to resolve" + (
        f" ({n_merged} between duplicates screened apart and merged later by dedup)" if n_merged else ""
    )


def _utc(text: str) -> datetime:
    """A store time stamp (ISO 8601 with offset) as a naive UTC datetime."""
    when = datetime.fromisoformat(text)
    return when if when.tzinfo is None else when.astimezone(UTC).replace(tzinfo=None)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def _usable_saved_time(sheet: SheetDecisions, export: dict[str, Any]) -> tuple[str | None, str | None]:
    """The workbook's saved time as a store stamp, or None and why it cannot be used.

    A time that is missing, not after the export (the program that filled the workbook did
    not record its save, or the computer's clock is wrong) or more than a day ahead cannot
    order two copies, so they are then compared by their decisions alone. Times have whole
    seconds: two copies saved in the same second are told apart by their decisions too.
    """
    saved = sheet.saved_at
    if saved is None:
        return None, "it does not record when it was saved"
    exported = _utc(str(export["created_at"]))
    if saved < exported - timedelta(seconds=2):
        return None, (
            f"its saved time ({_stamp(saved)}) is before its export ({_stamp(exported)}): the clock of "
            "the computer that saved it is wrong"
        )
    if saved <= exported:  # the export's own time: not saved since, or saved by a program that keeps it
        return (
            None,
            f"its saved time ({_stamp(saved)}) is the time it was exported, so it tells no copy from another",
        )
    if saved > datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1):
        return None, f"its saved time ({_stamp(saved)}) is in the future: the computer's clock is wrong"
    return saved.replace(tzinfo=UTC).isoformat(timespec="seconds"), None


def _older_copy(
    project: Project,
    sheet: SheetDecisions,
    export: dict[str, Any],
    mine: dict[int, Decision],
    changes: Sequence[tuple[SheetDecision, Decision]],
    saved: str | None,
    unusable: str | None,
) -> tuple[str, str, int] | None:
    """Why this workbook is an older copy whose changes would overturn newer decisions, or None.

    A change overturns a newer decision when the workbook that gave the current decision was
    saved later than this one (both times usable), or when this workbook leaves blank rows
    that an earlier-imported copy of the same export decided while changing others - what an
    older copy does (also one saved again later, which makes its time look new). The message
    names the newer workbook, when it was imported, how many decisions would be overturned
    (with rows) and what to do; returned with the newer workbook's name and that count.
    """
    if not changes:
        return None
    store = project.store
    token, reviewer = str(export["token"]), str(export["reviewer"])
    batches = {int(b["id"]): b for b in store.screening_batches()}
    saved_times = store.screening_saved_times()
    same_export = {int(b["id"]) for b in batches.values() if b["export_token"] == token}
    left_blank = sorted(
        row for rid, row in sheet.blank_ids.items() if rid in mine and mine[rid].batch_id in same_export
    )
    by_time: list[tuple[int, int]] = []  # (sheet row, batch of the newer decision)
    by_evidence: list[tuple[int, int]] = []
    for d, old in changes:
        batch = int(old.batch_id or 0)
        theirs = saved_times.get(batch)
        if saved is not None and theirs is not None and theirs > saved:
            by_time.append((d.row, batch))
        elif left_blank and batch in same_export:
            by_evidence.append((d.row, batch))
    hits = sorted(by_time + by_evidence)
    if not hits:
        return None
    newest = batches[max(b for _, b in hits)]
    name, when = newest["file_name"], _stamp(_utc(str(newest["imported_at"])))
    theirs = saved_times.get(int(newest["id"]))
    if by_time and theirs is not None and saved is not None:
        why = (
            f"it was last saved {_stamp(_utc(saved))}, before {name} (saved {_stamp(_utc(theirs))}, "
            f"imported {when})"
        )
    else:
        rows = ", ".join(str(r) for r in left_blank[:5]) + (", ..." if len(left_blank) > 5 else "")
        seen = f"{name} (imported {when})"
        if unusable is not None:
            why = f"{unusable}; judged by its decisions it is older than {seen}: it leaves {len(left_blank)}"
        elif saved is not None and theirs is not None and theirs < saved:
            why = f"although it was saved after {seen}, it leaves {len(left_blank)}"
        else:
            why = f"it leaves {len(left_blank)}"
        why += (
            f" row{'s' if len(left_blank) != 1 else ''} blank (rows {rows}) that an earlier-imported copy of "
            "this workbook had decided, as an older copy does"
        )
    shown = ", ".join(str(r) for r, _ in hits[:5]) + (", ..." if len(hits) > 5 else "")
    what = "resolutions" if export["kind"] == "conflicts" else "decisions"
    message = (
        f"is an older copy of {reviewer}'s {export['stage']} workbook than {name}: {why}. Importing it would "
        f"overturn {len(hits)} of {reviewer}'s newer {what} (rows {shown}). Nothing was imported: import the "
        f"newest copy of the workbook instead, or, if this copy really holds the {what} wanted, import it "
        "again with --force (the overturned ones stay in the history)"
    )
    return message, str(name), len(hits)


def import_screening(project: Project, file: str | Path, *, force: bool = False) -> str:
    """Read a filled screening or conflict workbook and append its decisions.

    Everything is checked first (project, token, ids, decisions, reasons, titles); any
    problem refuses the whole workbook and stores nothing. A workbook whose bytes were
    imported before changes nothing; rows whose decision equals the reviewer's current one
    add nothing, so importing a re-saved copy is safe too. Empty decision cells mean "not
    screened yet" and store nothing. An older copy of a workbook (saved before the one that
    gave the reviewer's current decisions, or missing decisions an earlier-imported copy of
    the same export had) that would overturn newer decisions is refused, unless ``force``.
    """
    path = Path(file)
    if not path.is_file():
        raise InputError("no such workbook", path=path)
    store = project.store
    digest = file_sha256(path)
    seen = store.screening_batch_by_hash(digest)
    if seen is not None:
        return (
            f"{path.name} was imported already on {seen['imported_at']} ({seen['reviewer']}, {seen['stage']}): "
            "nothing changed"
        )
    reasons = _reasons(project)
    project_id = project.project_id
    export: dict[str, Any] = {}

    def rules(meta: dict[str, str]) -> tuple[bool, Iterable[str]]:
        got = meta.get("project_id", "")
        if got != project_id:
            raise WorkbookError(
                f"belongs to another project (id {got or 'missing'}), not to {project.root} (id {project_id}): "
                "import it into the project that exported it",
                path=path,
            )
        kind = meta.get("kind", "")
        if kind and kind not in ("screening", "conflicts"):  # another stage's workbook
            hint = " (import it with `review extract import`)" if kind.startswith("extraction") else ""
            raise WorkbookError(f"is a workbook of kind {kind!r}, not a screening workbook{hint}", path=path)
        found = store.workbook_export(meta.get("token", ""))
        if found is None:
            raise WorkbookError(
                "its export token is not known to this project (was the store restored from an older copy?): "
                "export a new workbook",
                path=path,
            )
        if (found["kind"], found["stage"], found["reviewer"]) != (
            meta.get("kind"),
            meta.get("stage"),
            meta.get("reviewer"),
        ):
            raise WorkbookError("its hidden 'review' sheet was changed: export a new workbook", path=path)
        if found["kind"] not in ("screening", "conflicts"):
            raise WorkbookError(f"is a {found['kind']} workbook, not a screening workbook", path=path)
        export.update(found)
        allowed = ("include", "exclude") if found["kind"] == "conflicts" else DECISIONS
        return found["stage"] == STAGES[1], allowed

    sheet = read_decisions(
        path,
        normalise_decision=normalise_decision,
        normalise_reason=lambda v: normalise_reason(v, reasons),
        rules=rules,
    )
    stage, reviewer = str(export["stage"]), str(export["reviewer"])
    role = RESOLVER if export["kind"] == "conflicts" else SCREENER
    listed = set(export["record_ids"])
    problems: list[tuple[int, str | None, str]] = []
    id_letter = column_letter(sheet.columns["record_id"])
    for rid, row in sorted(sheet.ids.items(), key=lambda kv: kv[1]):
        if rid not in listed:
            problems.append(
                (
                    row,
                    id_letter,
                    f"record_id {rid} was not in this workbook when it was exported: put the original id back",
                )
            )
    titles = store.record_titles([rid for rid in sheet.ids if rid in listed])
    if "title" in sheet.columns:
        t_letter = column_letter(sheet.columns["title"])
        for rid, row in sorted(sheet.ids.items(), key=lambda kv: kv[1]):
            if rid in titles and not title_matches(sheet.titles.get(rid), titles[rid]):
                problems.append(
                    (
                        row,
                        t_letter,
                        f"the title does not belong to record {rid} - were rows sorted without their record_id "
                        "column, or a title edited? undo that",
                    )
                )
    problems.sort()
    raise_problems(problems, path=path, sheet=sheet.sheet)

    mine = decisions_on_records(_decisions(project), stage, role).get(reviewer, {})
    new = []
    changes: list[tuple[SheetDecision, Decision]] = []
    for d in sheet.decisions:
        old = mine.get(d.record_id)
        if old is not None and (old.decision, old.reason, old.note) == (d.decision, d.reason, d.note):
            continue
        if old is not None:
            changes.append((d, old))
        new.append((d.record_id, d.decision, d.reason, d.note, d.row))
    changed = sum(old.decision != d.decision for d, old in changes)
    saved, unusable = _usable_saved_time(sheet, export)
    refusal = _older_copy(project, sheet, export, mine, changes, saved, unusable)
    if refusal is not None and not force:
        raise WorkbookError(refusal[0], path=path)
    store.add_screening_batch(
        stage=stage,
        reviewer=reviewer,
        role=role,
        file_name=path.name,
        workbook_hash=digest,
        export_token=str(export["token"]),
        n_rows=len(sheet.ids),
        decisions=new,
        software_version=__version__,
        saved_at=saved,
    )
    counts = {k: sum(1 for d in sheet.decisions if d.decision == k) for k in DECISIONS}
    what = "resolutions" if role == RESOLVER else "decisions"
    return (
        f"{path.name}: {len(sheet.decisions)} {what} by {reviewer} at {stage} "
        f"({', '.join(f'{v} {k}' for k, v in counts.items() if v)}); {len(new)} new or changed stored, "
        f"{len(sheet.decisions) - len(new)} unchanged; {sheet.blank} rows not screened yet"
        + (
            f"; {changed} of {reviewer}'s earlier {what} were changed by this workbook (the earlier ones stay "
            "in the history; if this was an older copy, import the newer workbook again)"
            if changed and refusal is None
            else ""
        )
        + (
            f"; imported with --force although it is an older copy than {refusal[1]}: "
            f"{refusal[2]} of {reviewer}'s newer {what} were overturned"
            if refusal is not None
            else ""
        )
        + (
            f"; it was compared with the earlier copies by its decisions only, since {unusable}"
            if unusable is not None and changes and refusal is None
            else ""
        )
    )


def _summary(
    project: Project, decisions: Sequence[Decision], stage: str, ids: Sequence[int]
) -> dict[str, Any]:
    s = summarise_stage(decisions, stage, ids, _k(project), _reasons(project))
    agree = s.agreement
    return {
        "records": s.records,
        "reviewers": s.reviewers,
        "kappa": s.kappa,
        "conflicts": s.conflicts,
        "agreement": None if agree is None else agree.percent,
        "compared": [] if agree is None else list(agree.reviewers),
        "both_decided": 0 if agree is None else agree.n,
        "included": s.finals["include"],
        "excluded": s.finals["exclude"],
        "pending": s.finals["pending"],
        "resolved": s.resolved,
        "undecided": s.undecided,
        "merged_conflicts": s.merged_conflicts,
    }


def screening_status(project: Project) -> dict[str, Any]:
    """Per stage: records reaching it, each reviewer's current counts, kappa, conflicts (CONTRACT.md).

    ``kappa`` is Cohen's kappa between the first two reviewers (by first decision) on the
    records both decided (None with fewer than two reviewers or when undefined);
    ``agreement`` is their percent agreement. ``included``/``excluded``/``pending`` count
    final decisions; ``resolved`` counts records settled by a third reviewer,
    ``undecided`` full-text records every screener marked maybe and ``merged_conflicts`` the
    conflicts between duplicates screened apart that a later dedup run merged.
    """
    decisions = _decisions(project)
    scope = _stage_records(project, decisions)
    return {stage: _summary(project, decisions, stage, scope[stage]) for stage in STAGES}


def format_screening_status(data: dict[str, Any]) -> str:
    """``screening_status`` as a few readable lines per stage."""
    lines = []
    for stage in STAGES:
        s = data.get(stage)
        if s is None:
            continue
        lines.append(f"{stage}: {s['records']} records")
        if not s["reviewers"]:
            lines.append("  no decisions yet")
        for name, c in s["reviewers"].items():
            done = sum(c.values())
            lines.append(
                f"  {name}: {done}/{s['records']} screened - {c['include']} include, "
                f"{c['exclude']} exclude, {c['maybe']} maybe"
            )
        if s["compared"]:
            kappa = "undefined" if s["kappa"] is None else f"{s['kappa']:.3f}"
            pct = "-" if s["agreement"] is None else f"{s['agreement']:.1f}%"
            lines.append(
                f"  agreement {' vs '.join(s['compared'])} on {s['both_decided']} records: "
                f"{pct}, Cohen's kappa {kappa}"
            )
        lines.append(
            f"  final: {s['included']} include, {s['excluded']} exclude, {s['pending']} pending, "
            f"{s['conflicts']} conflicts ({s['resolved']} resolved by a third reviewer"
            + (f", {s['undecided']} maybe by all" if s["undecided"] else "")
            + (
                f", {s['merged_conflicts']} between duplicates screened apart and merged later by dedup"
                if s.get("merged_conflicts")
                else ""
            )
            + ")"
        )
        if s["conflicts"] or s["undecided"]:
            lines.append(f"  -> review screen conflicts DIR --stage {stage} --out conflicts.xlsx")
    return "\n".join(lines)


def screening_outcomes(project: Project) -> pd.DataFrame:
    """Final decision per record and stage: ``record_id, stage, final, reason``.

    One row per record reaching a stage (all unique records at title/abstract; the records
    included there at full text). ``final`` is include, exclude, pending or conflict;
    ``reason`` is the full-text exclusion reason. PRISMA counts and the list of studies to
    extract (full-text include) come from this table.
    """
    decisions = _decisions(project)
    scope = _stage_records(project, decisions)
    rows: list[Final] = []
    for stage in STAGES:
        finals = final_decisions(decisions, stage, scope[stage], _k(project), _reasons(project))
        rows += [finals[rid] for rid in scope[stage]]
    frame = pd.DataFrame(
        {
            "record_id": pd.Series([f.record_id for f in rows], dtype="int64"),
            "stage": pd.Series([f.stage for f in rows], dtype="object"),
            "final": pd.Series([f.final for f in rows], dtype="object"),
            "reason": pd.Series([f.reason for f in rows], dtype="object"),
        }
    )
    return frame
