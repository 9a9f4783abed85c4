"""Dedup workflow: group the project's records, keep people's answers, hand out uncertain pairs.

``run_dedup`` reads every stored record, applies people's latest answers (a 'same' answer
always merges, a 'different' answer never does), groups the rest with :mod:`review.dedup`,
stores the run (groups, kept records, pairs) and writes the pairs nobody has answered yet to
``workbooks/dedup_review.xlsx``. Running it again on unchanged records and answers changes
nothing. ``dedup_file`` does the same for one library file without a project.
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from review import __version__
from review.dedup import DedupOutcome, find_duplicates
from review.errors import InputError
from review.project import Project
from review.records import Record, record_notes
from review.sources import CONTENT_KEY_PREFIX, read_file
from review.store._base import now
from review.store.dedup import DedupJudgement
from review.workbooks.dedup import ReviewPair, read_dedup_review, write_dedup_review

__all__ = ["REVIEW_WORKBOOK", "DedupFileResult", "DedupResult", "dedup_file", "run_dedup"]

#: File name of the workbook of uncertain pairs (in the project's workbook folder).
REVIEW_WORKBOOK = "dedup_review.xlsx"
#: Algorithm parameters recorded with each run (a change of algorithm shows in the history).
PARAMS: dict[str, Any] = {"algorithm": "review.dedup blocked fuzzy + vetoes", "version": 1}


@dataclass
class DedupResult:
    """What a dedup run did."""

    run_id: int | None
    records: int
    unique: int
    merged_groups: int
    uncertain: int
    answers_added: int
    answers_in_force: int
    workbook: Path | None
    seconds: float
    unchanged: bool = False

    @property
    def duplicates_removed(self) -> int:
        """Records set aside as duplicates (PRISMA: duplicate records removed)."""
        return self.records - self.unique

    def summary(self) -> str:
        """One paragraph for the command line."""
        lines = [
            f"{self.records} records -> {self.unique} unique ({self.duplicates_removed} duplicates removed "
            f"in {self.merged_groups} groups) in {self.seconds:.1f} s"
            + (" - unchanged since the last run" if self.unchanged else f" (run {self.run_id})"),
        ]
        if self.answers_added or self.answers_in_force:
            lines.append(f"people's answers: {self.answers_added} new, {self.answers_in_force} in force")
        if self.uncertain and self.workbook is not None:
            lines.append(
                f"{self.uncertain} uncertain pairs to check in {self.workbook} "
                f"(then: review dedup DIR --answers {self.workbook.name})"
            )
        else:
            lines.append("no uncertain pairs left to check")
        return "\n".join(lines)


def _progress(it: Iterable[Any], total: int, desc: str) -> Iterable[Any]:
    return tqdm(
        it,
        total=total,
        desc=desc,
        unit="rec" if desc == "normalising" else "pair",
        file=sys.stderr,
        leave=False,
        disable=total < 5000,
    )


def _import_answers(project: Project, answers: Path) -> int:
    sheet = read_dedup_review(answers, project_id=project.project_id)
    known = set(project.store.get_records({x for a in sheet.answers for x in (a.a, a.b)}))
    missing = [a for a in sheet.answers if a.a not in known or a.b not in known]
    if missing:
        m = missing[0]
        raise InputError(
            f"row {m.row} names record {m.a if m.a not in known else m.b}, which this project does not hold: "
            "was the workbook written by another project?",
            path=answers,
        )
    return project.store.add_dedup_judgements(
        [DedupJudgement(a.a, a.b, a.same, a.reviewer, now(), sheet.sha256, a.note) for a in sheet.answers]
    )


def run_dedup(project: Project, answers: Path | None = None) -> DedupResult:
    """Group duplicate records across all sources of a project (see module docstring).

    ``answers`` is a filled dedup_review.xlsx: its answers are stored first (append-only, with
    reviewer, time and the workbook's hash) and then applied.
    """
    t0 = time.perf_counter()
    store = project.store
    added = _import_answers(project, Path(answers)) if answers is not None else 0
    book = project.workbook_dir / REVIEW_WORKBOOK
    if book.exists() and (answers is None or Path(answers).resolve() != book.resolve()):
        # answers typed into the workbook but not imported yet would be lost when it is
        # rewritten below: import them first
        added += _import_answers(project, book)
    records = store.get_records()
    ids = list(records)
    position = {rid: i for i, rid in enumerate(ids)}
    judged = store.dedup_judgements()
    answer_map = {
        (min(position[j.a], position[j.b]), max(position[j.a], position[j.b])): j.same
        for j in judged
        if j.a in position and j.b in position
    }
    outcome: DedupOutcome = find_duplicates([records[i] for i in ids], answers=answer_map, progress=_progress)
    groups = [
        (ids[i], ids[int(g)], bool(k))
        for i, (g, k) in enumerate(zip(outcome.group, outcome.kept, strict=True))
    ]
    pairs = [(ids[p.a], ids[p.b], p.score, p.verdict, p.reason) for p in outcome.pairs]
    previous = store.latest_dedup_run()
    unchanged = (
        previous is not None
        and previous["params"] == PARAMS
        and store.dedup_groups(int(previous["id"])) == {r: (g, k) for r, g, k in groups}
        and {(p["a"], p["b"], p["verdict"]) for p in store.dedup_pairs(int(previous["id"]))}
        == {(a, b, v) for a, b, _, v, _ in pairs}
    )
    if unchanged and previous is not None:
        run_id: int | None = int(previous["id"])
    else:
        run_id = store.save_dedup_run(
            started_at=now(), software_version=__version__, params=PARAMS, groups=groups, pairs=pairs
        )
    uncertain = outcome.uncertain()
    workbook: Path | None = None
    if uncertain:
        rows = [
            ReviewPair(
                a=ids[p.a],
                b=ids[p.b],
                score=p.score,
                reason=p.reason,
                record_a=records[ids[p.a]].as_dict(),
                record_b=records[ids[p.b]].as_dict(),
                notes_a=record_notes(records[ids[p.a]].extra),
                notes_b=record_notes(records[ids[p.b]].extra),
            )
            for p in sorted(uncertain, key=lambda p: -p.score)
        ]
        workbook = write_dedup_review(
            project.workbook_dir / REVIEW_WORKBOOK,
            rows,
            {"project_id": project.project_id, "run_id": run_id, "written_at": now()},
        )
    merged = sum(1 for m in outcome.members().values() if len(m) > 1)
    return DedupResult(
        run_id=run_id,
        records=len(ids),
        unique=outcome.n_groups,
        merged_groups=merged,
        uncertain=len(uncertain),
        answers_added=added,
        answers_in_force=len(answer_map),
        workbook=workbook,
        seconds=time.perf_counter() - t0,
        unchanged=unchanged,
    )


@dataclass(frozen=True)
class DedupFileResult:
    """What ``dedup_file`` did: counts, the file written, and the entries it could not read."""

    records: int
    unique: int
    uncertain: int
    seconds: float
    out: Path
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        line = (
            f"{self.records} records -> {self.unique} unique ({self.records - self.unique} duplicates), "
            f"{self.uncertain} uncertain pairs left apart, {self.seconds:.1f} s; wrote {self.out}"
        )
        if self.errors:
            line += (
                f"\nerror: {len(self.errors)} entries could not be read and are not in {self.out.name}: "
                + "; ".join(self.errors[:5])
                + ("; ..." if len(self.errors) > 5 else "")
                + ": fix those lines and run dedup-file again"
            )
        return line


def _record_ids(records: list[Record], path: Path) -> list[str]:
    """The id a person knows each record by, unique within the file.

    A CSV's own id column is used as it is (repeated ids are an error: the output could not tell
    the records apart); otherwise a database accession (PMID, WoS UT, AN), and for an entry
    without one ``entry-N``, the Nth record read from the file.
    """
    own = [str(r.extra["id"]) if r.extra and r.extra.get("id") not in (None, "") else None for r in records]
    if all(own):
        counts = Counter(own)
        repeated = sorted(k for k, v in counts.items() if k and v > 1)
        if repeated:
            raise InputError(
                f"the id column repeats {len(repeated)} ids (e.g. {', '.join(map(repr, repeated[:3]))}): "
                "each row needs its own id so the output names one record; number the rows anew",
                path=path,
            )
        return [str(i) for i in own]
    ids: list[str] = []
    seen: Counter[str] = Counter()
    for n, (record, mine) in enumerate(zip(records, own, strict=True), start=1):
        accession = record.source_id if not record.source_id.startswith(CONTENT_KEY_PREFIX) else ""
        base = mine or accession or f"entry-{n}"
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return ids


def dedup_file(input_path: str | Path, out_path: str | Path) -> DedupFileResult:
    """Deduplicate one library file: write ``id,group`` for every record read.

    ``group`` is the id of the record kept for the group (so a record without duplicates has
    its own id). Uncertain pairs are not merged: without a person to ask, a missed duplicate
    costs less than a lost study. Entries that cannot be read are listed in ``errors`` (the
    command then exits 1); the input file is never overwritten.
    """
    t0 = time.perf_counter()
    src, out = Path(input_path), Path(out_path)
    if out.is_dir():
        raise InputError("--out is a folder: name the CSV file to write", path=out)
    if out.exists() and out.resolve() == src.resolve():
        raise InputError("--out is the input file itself: name another file for the id,group table", path=out)
    result = read_file(src, "file")
    records = list(result.records)
    errors = tuple(str(i) for i in result.issues if i.severity == "error")
    warnings = tuple(str(i) for i in result.issues if i.severity != "error")
    if not records:
        raise InputError("holds no records to deduplicate" + (f" ({errors[0]})" if errors else ""), path=src)
    ids = _record_ids(records, src)
    outcome = find_duplicates(records, progress=_progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "group"])
        for i, g in enumerate(outcome.group.tolist()):
            writer.writerow([ids[i], ids[g]])
    return DedupFileResult(
        records=len(records),
        unique=outcome.n_groups,
        uncertain=len(outcome.uncertain()),
        seconds=time.perf_counter() - t0,
        out=out,
        errors=errors,
        warnings=warnings,
    )
