"""Final decisions of duplicates screened apart and merged later by dedup (pure rules)."""

from __future__ import annotations

from review.screening import RESOLVER, Decision, final_decisions, summarise_stage

TA, FT = "title-abstract", "full-text"
KEPT, DUP = 10, 11  # a later dedup run merged record 11 into record 10


def _d(seq: int, on: int, reviewer: str, decision: str, **kw: object) -> Decision:
    """A decision given on record ``on``, which now counts for the record kept."""
    kept = KEPT if on in (KEPT, DUP) else on
    return Decision(
        seq=seq,
        record_id=kept,
        stage=kw.pop("stage", TA),  # type: ignore[arg-type]
        reviewer=reviewer,
        decision=decision,
        member=None if on == kept else on,
        **kw,  # type: ignore[arg-type]
    )


def test_disagreeing_duplicates_are_a_conflict_not_the_latest_decision() -> None:
    # each reviewer included one copy and excluded the other: before, the later (exclude) won
    ds = [
        _d(1, KEPT, "Ann", "include"),
        _d(2, KEPT, "Ben", "include"),
        _d(3, DUP, "Ann", "exclude"),
        _d(4, DUP, "Ben", "exclude"),
    ]
    final = final_decisions(ds, TA, [KEPT])[KEPT]
    assert (final.final, final.merged) == ("conflict", True)
    s = summarise_stage(ds, TA, [KEPT])
    assert (s.conflicts, s.merged_conflicts, s.finals["exclude"]) == (1, 1, 0)


def test_one_reviewer_split_is_a_conflict_even_if_the_other_agrees_with_her_latest() -> None:
    ds = [_d(1, KEPT, "Ann", "include"), _d(2, DUP, "Ann", "exclude"), _d(3, DUP, "Ben", "exclude")]
    assert final_decisions(ds, TA, [KEPT])[KEPT].final == "conflict"


def test_agreeing_duplicates_carry_over_without_rework() -> None:
    # Ann screened one copy, Ben the other: together they are the two screeners the protocol asks
    ds = [_d(1, KEPT, "Ann", "include"), _d(2, DUP, "Ben", "include")]
    final = final_decisions(ds, TA, [KEPT])[KEPT]
    assert (final.final, final.merged, final.resolved) == ("include", True, False)
    # one reviewer on both copies is still one reviewer: pending for the second
    ds = [_d(1, KEPT, "Ann", "exclude"), _d(2, DUP, "Ann", "exclude")]
    assert final_decisions(ds, TA, [KEPT])[KEPT].final == "pending"
    assert final_decisions(ds, TA, [KEPT], reviewers_per_record=1)[KEPT].final == "exclude"


def test_full_text_reasons_of_agreeing_duplicates_count_each_reviewer_once() -> None:
    reasons = ("wrong population", "wrong intervention")
    ds = [
        _d(1, KEPT, "Ann", "exclude", stage=FT, reason="wrong intervention"),
        _d(2, DUP, "Ann", "exclude", stage=FT, reason="wrong population"),  # Ann's latest
        _d(3, DUP, "Ben", "exclude", stage=FT, reason="wrong population"),
    ]
    final = final_decisions(ds, FT, [KEPT], reasons=reasons)[KEPT]
    assert (final.final, final.reason) == ("exclude", "wrong population")
    maybe = [_d(1, KEPT, "Ann", "maybe", stage=FT), _d(2, DUP, "Ben", "maybe", stage=FT)]
    final = final_decisions(maybe, FT, [KEPT])[KEPT]
    assert (final.final, final.undecided) == ("pending", True)
    ta_maybe = [_d(1, KEPT, "Ann", "maybe"), _d(2, DUP, "Ben", "maybe")]  # retrieve the full text
    assert final_decisions(ta_maybe, TA, [KEPT])[KEPT].final == "include"


def test_a_resolution_that_saw_the_merged_duplicates_settles_them() -> None:
    split = [_d(1, KEPT, "Ann", "include"), _d(2, DUP, "Ben", "exclude")]
    both = frozenset({KEPT, DUP})
    res = _d(3, KEPT, "Cy", "exclude", role=RESOLVER, reason=None, covers=both)
    final = final_decisions([*split, res], TA, [KEPT])[KEPT]
    assert (final.final, final.resolved, final.merged) == ("exclude", True, True)
    # a later dedup run adding a third duplicate someone decided otherwise reopens it
    third = Decision(seq=4, record_id=KEPT, stage=TA, reviewer="Ann", decision="include", member=12)
    assert final_decisions([*split, res, third], TA, [KEPT])[KEPT].final == "conflict"


def test_an_older_resolution_of_one_duplicate_is_only_that_duplicates_decision() -> None:
    # record 10 was a conflict resolved to include before dedup; its duplicate 11 was excluded by both
    ds = [
        _d(1, KEPT, "Ann", "include"),
        _d(2, KEPT, "Ben", "exclude"),
        _d(3, KEPT, "Cy", "include", role=RESOLVER),
        _d(4, DUP, "Ann", "exclude"),
        _d(5, DUP, "Ben", "exclude"),
    ]
    assert final_decisions(ds, TA, [KEPT])[KEPT].final == "conflict"
    # ... and when the duplicate agrees with the resolution, it carries over as resolved
    agree = [*ds[:3], _d(4, DUP, "Ann", "include"), _d(5, DUP, "Ben", "include")]
    final = final_decisions(agree, TA, [KEPT])[KEPT]
    assert (final.final, final.resolved) == ("include", True)


def test_records_never_merged_keep_the_usual_rules() -> None:
    ds = [
        Decision(seq=1, record_id=1, stage=TA, reviewer="Ann", decision="include"),
        Decision(seq=2, record_id=1, stage=TA, reviewer="Ann", decision="exclude"),  # she changed her mind
        Decision(seq=3, record_id=1, stage=TA, reviewer="Ben", decision="exclude"),
    ]
    final = final_decisions(ds, TA, [1])[1]
    assert (final.final, final.merged) == ("exclude", False)
