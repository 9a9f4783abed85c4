"""Screening logic (pure): current decisions, final decisions, agreement and conflicts.

Decisions arrive in the order they were stored (append-only history). This module works out,
without touching the store or any file,

* each reviewer's *current* decision per record and stage (the latest one they gave),
* the *final* decision per record and stage (agreement of the screeners, or a third
  reviewer's resolution),
* agreement between the first two reviewers (Cohen's kappa and percent agreement),
* the conflicts a third reviewer has to resolve, and which records reach full text.

Rules (Cochrane Handbook for Systematic Reviews of Interventions v6.4, chapter 4.6.4-4.6.6):
records are screened by ``reviewers_per_record`` people independently; disagreements are
resolved by a third person. At title/abstract, "maybe" means "retrieve the full text to
decide", so records that every screener marked maybe go on to full text; records marked
include by one reviewer and maybe by another are a disagreement like any other, since the
contract counts any difference as a conflict. At full text, "maybe" cannot close a record:
records every screener marked maybe stay open (``undecided``) until a third reviewer decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "DECISIONS",
    "FINALS",
    "STAGES",
    "Agreement",
    "Decision",
    "Final",
    "StageSummary",
    "cohen_kappa",
    "conflict_ids",
    "current_decisions",
    "decisions_on_records",
    "final_decisions",
    "normalise_decision",
    "normalise_reason",
    "reviewer_order",
    "summarise_stage",
]

#: The screening stages, in order.
STAGES: tuple[str, ...] = ("title-abstract", "full-text")
#: What a screener may answer.
DECISIONS: tuple[str, ...] = ("include", "exclude", "maybe")
#: What a record's final state at a stage can be.
FINALS: tuple[str, ...] = ("include", "exclude", "pending", "conflict")

SCREENER = "screener"
RESOLVER = "resolver"


def normalise_decision(value: object) -> str | None:
    """A cell's decision as ``include``/``exclude``/``maybe``; None when empty.

    Case and surrounding or repeated spaces do not matter ("  Include " is include), since
    people type into the dropdown cell as often as they choose from it.

    Raises
    ------
    ValueError
        When the cell holds anything else (the message says what it held).
    """
    if value is None:
        return None
    text = " ".join(str(value).split()).casefold()
    if not text:
        return None
    if text in DECISIONS:
        return text
    raise ValueError(f"decision {str(value).strip()!r} is not include/exclude/maybe")


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def normalise_reason(value: object, reasons: Sequence[str]) -> str | None:
    """A cell's exclusion reason as spelled in the protocol; None when empty.

    Raises
    ------
    ValueError
        When the text is not one of ``reasons`` (ignoring case and spacing).
    """
    if value is None:
        return None
    text = _key(str(value))
    if not text:
        return None
    for reason in reasons:
        if _key(reason) == text:
            return reason
    raise ValueError(
        f"reason {str(value).strip()!r} is not one of the protocol's reasons ({'; '.join(reasons)})"
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """One stored screening decision (a row of the append-only history)."""

    seq: int  # store order: later decisions have larger seq
    record_id: int
    stage: str
    reviewer: str
    decision: str
    role: str = SCREENER
    reason: str | None = None
    note: str | None = None
    decided_at: str = ""
    batch_id: int | None = None
    #: The record the decision was given on, when a later dedup run merged it into
    #: ``record_id`` (the record kept); None when it was given on ``record_id`` itself.
    member: int | None = None
    #: For a resolution: the records (duplicates merged into ``record_id``) the third reviewer
    #: saw as one when deciding; empty means ``on`` alone.
    covers: frozenset[int] = frozenset()

    @property
    def on(self) -> int:
        """The record this decision was given on (before any merge by dedup)."""
        return self.record_id if self.member is None else self.member


@dataclass(frozen=True, slots=True)
class Final:
    """A record's final state at one stage, and why."""

    record_id: int
    stage: str
    final: str  # include / exclude / pending / conflict
    reason: str | None = None
    resolved: bool = False  # decided by a third reviewer
    undecided: bool = False  # full text: every screener said maybe
    merged: bool = False  # decided on two or more records a later dedup run merged into this one


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement between two reviewers on the records both decided."""

    reviewers: tuple[str, str]
    n: int
    percent: float | None
    kappa: float | None


@dataclass(frozen=True, slots=True)
class StageSummary:
    """Everything ``review screen status`` shows for one stage."""

    stage: str
    records: int
    reviewers: dict[str, dict[str, int]]
    agreement: Agreement | None
    conflicts: int
    finals: dict[str, int]
    resolved: int
    undecided: int
    merged_conflicts: int = 0  # conflicts between duplicates screened apart, merged later by dedup

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa between the first two reviewers (None when undefined)."""
        return None if self.agreement is None else self.agreement.kappa


def current_decisions(
    decisions: Iterable[Decision], stage: str, role: str = SCREENER
) -> dict[str, dict[int, Decision]]:
    """Each reviewer's latest decision per record at a stage: ``{reviewer: {record_id: Decision}}``.

    A later decision by the same reviewer (a later workbook) supersedes an earlier one; the
    earlier one stays in the history, it is only no longer current.
    """
    out: dict[str, dict[int, Decision]] = {}
    for d in sorted((d for d in decisions if d.stage == stage and d.role == role), key=lambda d: d.seq):
        out.setdefault(d.reviewer, {})[d.record_id] = d
    return out


def reviewer_order(decisions: Iterable[Decision], stage: str) -> list[str]:
    """Screeners of a stage ordered by their first decision (the first two are compared)."""
    first: dict[str, int] = {}
    for d in decisions:
        if d.stage == stage and d.role == SCREENER and (d.reviewer not in first or d.seq < first[d.reviewer]):
            first[d.reviewer] = d.seq
    return sorted(first, key=lambda r: first[r])


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' paired labels; None when undefined.

    Notes
    -----
    kappa = (p_o - p_e) / (1 - p_e), with p_o the share of items both raters labelled alike
    and p_e = sum over categories c of p_a(c) p_b(c), each rater's marginal share
    (Cohen 1960, Educ Psychol Meas 20:37-46; Cochrane Handbook v6.4 §4.6.4 recommends
    reporting it for screening). Categories are include/exclude/maybe; a category neither
    rater used adds zero to p_e, so with only include/exclude this is the usual 2x2 kappa.
    Undefined (None) when there are no items or p_e = 1 (both raters used one and the same
    category for everything).
    """
    if len(a) != len(b):
        raise ValueError("the two raters must label the same items")
    n = len(a)
    if n == 0:
        return None
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[c] * cb[c] for c in ca.keys() | cb.keys()) / (n * n)
    if pe >= 1.0:
        return None
    return (po - pe) / (1.0 - pe)


def _agreement(
    current: Mapping[str, Mapping[int, Decision]], pair: tuple[str, str], scope: set[int]
) -> Agreement:
    da, db = current.get(pair[0], {}), current.get(pair[1], {})
    both = sorted(rid for rid in da.keys() & db.keys() if rid in scope)
    la = [da[r].decision for r in both]
    lb = [db[r].decision for r in both]
    n = len(both)
    percent = None if n == 0 else 100.0 * sum(x == y for x, y in zip(la, lb, strict=True)) / n
    return Agreement(reviewers=pair, n=n, percent=percent, kappa=cohen_kappa(la, lb))


def _pick_reason(reasons: Sequence[str | None], order: Sequence[str]) -> str | None:
    """The most frequent exclusion reason; ties go to the one listed first in the protocol."""
    given = [r for r in reasons if r]
    if not given:
        return None
    counts = Counter(given)
    rank = {r: i for i, r in enumerate(order)}
    return min(counts, key=lambda r: (-counts[r], rank.get(r, len(rank)), r))


def decisions_on_records(
    decisions: Iterable[Decision], stage: str, role: str = SCREENER
) -> dict[str, dict[int, Decision]]:
    """Each reviewer's latest decision per record *as given* (before dedup merged any records).

    Like :func:`current_decisions`, but keyed by :attr:`Decision.on`: two duplicates a later
    dedup run merged keep one current decision each, so a reviewer who decided them
    differently is seen to disagree with herself.
    """
    out: dict[str, dict[int, Decision]] = {}
    for d in sorted((d for d in decisions if d.stage == stage and d.role == role), key=lambda d: d.seq):
        out.setdefault(d.reviewer, {})[d.on] = d
    return out


def _settle(given: Sequence[Decision], rid: int, stage: str, k: int, reasons: Sequence[str]) -> Final:
    """The screeners' rule for one record: agreement of at least ``k`` of them, else pending or conflict."""
    values = {d.decision for d in given}
    if len(values) > 1:
        return Final(rid, stage, "conflict")
    if len(given) < max(1, k):
        return Final(rid, stage, "pending")
    (value,) = values
    if value == "maybe":
        if stage == STAGES[0]:
            return Final(rid, stage, "include")
        return Final(rid, stage, "pending", undecided=True)
    if value == "exclude":
        return Final(rid, stage, "exclude", _pick_reason([d.reason for d in given], reasons))
    return Final(rid, stage, "include")


def _settle_merged(
    screeners: Mapping[int, Sequence[Decision]],
    resolutions: Mapping[int, Decision],
    rid: int,
    stage: str,
    k: int,
    reasons: Sequence[str],
) -> Final:
    """A record kept for duplicates that were screened separately before a dedup run merged them.

    Each duplicate brings its own resolution if a third reviewer settled it, else its
    screeners' current decisions. When all of these agree, they carry over to the record kept
    (counting each reviewer once, so two screeners who each decided one of the duplicates
    alike settle it); any two that differ - also one reviewer who decided the duplicates
    differently - make a conflict for a third reviewer (Cochrane Handbook v6.4 §4.6.4: one
    study, one decision). Nothing is dropped: every duplicate's decisions are weighed.
    """
    votes: list[tuple[str, str | None]] = []
    latest: dict[str, Decision] = {}  # each screener's latest decision on any of the duplicates
    resolved = False
    for member in sorted(screeners.keys() | resolutions.keys()):
        res = resolutions.get(member)
        if res is not None:
            votes.append((res.decision, res.reason))
            resolved = True
            continue
        for d in screeners.get(member, ()):
            votes.append((d.decision, d.reason))
            if d.reviewer not in latest or d.seq > latest[d.reviewer].seq:
                latest[d.reviewer] = d
    values = {v for v, _ in votes}
    if len(values) > 1:
        return Final(rid, stage, "conflict", merged=True)
    if not resolved and len(latest) < max(1, k):
        return Final(rid, stage, "pending", merged=True)
    (value,) = values
    if value == "maybe":  # only screeners give maybe
        if stage == STAGES[0]:
            return Final(rid, stage, "include", merged=True)
        return Final(rid, stage, "pending", undecided=True, merged=True)
    reason = None
    if value == "exclude":
        given = [r.reason for r in resolutions.values()] + [d.reason for d in latest.values()]
        reason = _pick_reason(given, reasons)
    return Final(rid, stage, value, reason, resolved=resolved, merged=True)


def final_decisions(
    decisions: Sequence[Decision],
    stage: str,
    record_ids: Iterable[int],
    reviewers_per_record: int = 2,
    reasons: Sequence[str] = (),
) -> dict[int, Final]:
    """The final state of each record at a stage.

    A third reviewer's (resolver's) latest decision settles a record. Otherwise, with the
    screeners' current decisions: any two that differ make a ``conflict``; fewer decisions
    than ``reviewers_per_record`` leave it ``pending``; agreement gives that decision, where
    an agreed "maybe" means include at title/abstract (retrieve the full text) and stays
    open (pending, ``undecided``) at full text. An excluded record's reason is the most
    frequent reason its excluders gave (ties: the protocol's order of reasons).

    Duplicates screened separately and merged later by dedup (decisions whose
    :attr:`Decision.member` differs from the record kept) are weighed together, see
    :func:`_settle_merged`: agreeing decisions carry over, differing ones are a conflict
    (``merged=True``). A resolution settles such a record only if the third reviewer saw all
    of its decided duplicates at once (:attr:`Decision.covers`, a conflict workbook exported
    after the merge); an older resolution of one duplicate counts as that duplicate's decision.
    """
    k = reviewers_per_record
    screeners: dict[int, dict[int, list[Decision]]] = {}  # record kept -> record decided -> decisions
    for per in decisions_on_records(decisions, stage, SCREENER).values():
        for d in per.values():
            screeners.setdefault(d.record_id, {}).setdefault(d.on, []).append(d)
    latest_resolution: dict[int, Decision] = {}
    member_resolution: dict[int, dict[int, Decision]] = {}
    for d in sorted((d for d in decisions if d.stage == stage and d.role == RESOLVER), key=lambda d: d.seq):
        if d.decision not in ("include", "exclude"):
            continue
        latest_resolution[d.record_id] = d
        member_resolution.setdefault(d.record_id, {})[d.on] = d
    out: dict[int, Final] = {}
    for rid in record_ids:
        by_member = screeners.get(rid, {})
        resolved_members = member_resolution.get(rid, {})
        decided = by_member.keys() | resolved_members.keys()
        res = latest_resolution.get(rid)
        if res is not None and decided <= (res.covers | {res.on}):
            out[rid] = Final(
                rid,
                stage,
                res.decision,
                res.reason if res.decision == "exclude" else None,
                resolved=True,
                merged=len(decided) > 1,
            )
        elif len(decided) > 1:
            out[rid] = _settle_merged(by_member, resolved_members, rid, stage, k, reasons)
        else:
            out[rid] = _settle([d for ds in by_member.values() for d in ds], rid, stage, k, reasons)
    return out


def conflict_ids(finals: Mapping[int, Final]) -> list[int]:
    """Records a third reviewer has to decide: disagreements, and at full text agreed maybes."""
    return sorted(rid for rid, f in finals.items() if f.final == "conflict" or f.undecided)


def summarise_stage(
    decisions: Sequence[Decision],
    stage: str,
    record_ids: Sequence[int],
    reviewers_per_record: int = 2,
    reasons: Sequence[str] = (),
) -> StageSummary:
    """Progress, agreement and conflicts at one stage over the records that reach it.

    Only decisions on records in ``record_ids`` count (a record merged away by a later dedup
    run, or no longer included at title/abstract, drops out of the figures but not out of
    the history).
    """
    scope = set(record_ids)
    current = current_decisions(decisions, stage, SCREENER)
    order = reviewer_order(decisions, stage)
    reviewers: dict[str, dict[str, int]] = {}
    for name in order:
        counts = Counter(d.decision for rid, d in current.get(name, {}).items() if rid in scope)
        reviewers[name] = {k: counts.get(k, 0) for k in DECISIONS}
    agreement = _agreement(current, (order[0], order[1]), scope) if len(order) >= 2 else None
    finals = final_decisions(decisions, stage, record_ids, reviewers_per_record, reasons)
    tally = Counter(f.final for f in finals.values())
    return StageSummary(
        stage=stage,
        records=len(scope),
        reviewers=reviewers,
        agreement=agreement,
        conflicts=tally.get("conflict", 0),
        finals={k: tally.get(k, 0) for k in FINALS},
        resolved=sum(f.resolved for f in finals.values()),
        undecided=sum(f.undecided for f in finals.values()),
        merged_conflicts=sum(f.final == "conflict" and f.merged for f in finals.values()),
    )
