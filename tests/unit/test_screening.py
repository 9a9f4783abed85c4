"""Screening rules (pure): decision spelling, Cohen's kappa, current and final decisions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.screening import (
    Decision,
    cohen_kappa,
    conflict_ids,
    current_decisions,
    final_decisions,
    normalise_decision,
    normalise_reason,
    reviewer_order,
    summarise_stage,
)

TA, FT = "title-abstract", "full-text"
REASONS = ("wrong population", "wrong intervention", "wrong study design")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("include", "include"),
        ("  Include ", "include"),
        ("EXCLUDE", "exclude"),
        ("Maybe\n", "maybe"),
        ("\tmaybe  ", "maybe"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_normalise_decision_accepts_case_and_spaces(cell: object, expected: str | None) -> None:
    assert normalise_decision(cell) == expected


@pytest.mark.parametrize("cell", ["yes", "in", "incl", "include!", "exclude maybe", 1, 0.0])
def test_normalise_decision_refuses_other_words(cell: object) -> None:
    with pytest.raises(ValueError, match="is not include/exclude/maybe"):
        normalise_decision(cell)


def test_normalise_reason_matches_protocol_spelling() -> None:
    assert normalise_reason("  Wrong   POPULATION ", REASONS) == "wrong population"
    assert normalise_reason("", REASONS) is None
    assert normalise_reason(None, REASONS) is None
    with pytest.raises(ValueError, match="not one of the protocol's reasons"):
        normalise_reason("too old", REASONS)


def test_kappa_hand_checked_two_categories() -> None:
    # 50 records: both include 20, A include/B exclude 5, A exclude/B include 10, both exclude 15.
    # p_o = 35/50 = 0.7; A includes 25 (0.5), B includes 30 (0.6);
    # p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    a = ["include"] * 20 + ["include"] * 5 + ["exclude"] * 10 + ["exclude"] * 15
    b = ["include"] * 20 + ["exclude"] * 5 + ["include"] * 10 + ["exclude"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)


def test_kappa_hand_checked_with_maybe() -> None:
    # 10 records, 7 agree: p_o = 0.7. A: 4 include, 4 exclude, 2 maybe; B the same margins.
    # p_e = (4*4 + 4*4 + 2*2) / 100 = 0.36; kappa = 0.34 / 0.64 = 0.53125.
    a = [
        "include",
        "include",
        "include",
        "exclude",
        "exclude",
        "exclude",
        "maybe",
        "maybe",
        "include",
        "exclude",
    ]
    b = [
        "include",
        "include",
        "exclude",
        "exclude",
        "exclude",
        "maybe",
        "maybe",
        "include",
        "include",
        "exclude",
    ]
    assert cohen_kappa(a, b) == pytest.approx(0.53125, abs=1e-12)


def test_kappa_matches_acceptance_formula() -> None:
    a = ["include", "exclude", "include", "include", "exclude", "exclude", "include"]
    b = ["include", "include", "include", "exclude", "exclude", "exclude", "include"]
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ia, ib = a.count("include"), b.count("include")
    pe = (ia * ib + (n - ia) * (n - ib)) / n**2
    assert cohen_kappa(a, b) == pytest.approx((po - pe) / (1 - pe), abs=1e-12)


def test_kappa_undefined_cases() -> None:
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["include"] * 4, ["include"] * 4) is None  # p_e = 1
    assert cohen_kappa(["include", "exclude"], ["exclude", "include"]) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        cohen_kappa(["include"], [])


labels = st.lists(
    st.tuples(
        st.sampled_from(["include", "exclude", "maybe"]), st.sampled_from(["include", "exclude", "maybe"])
    ),
    min_size=1,
    max_size=60,
)


@given(labels, st.randoms())
def test_kappa_invariants(pairs: list[tuple[str, str]], rnd: object) -> None:
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    k = cohen_kappa(a, b)
    if k is None:
        return
    assert k <= 1.0 + 1e-12
    assert k == pytest.approx(cohen_kappa(b, a))  # symmetric in the raters
    order = list(range(len(a)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    assert k == pytest.approx(cohen_kappa([a[i] for i in order], [b[i] for i in order]))
    if a == b:
        assert math.isclose(k, 1.0)


def _d(
    seq: int,
    rid: int,
    reviewer: str,
    decision: str,
    stage: str = TA,
    role: str = "screener",
    reason: str | None = None,
) -> Decision:
    return Decision(
        seq=seq, record_id=rid, stage=stage, reviewer=reviewer, decision=decision, role=role, reason=reason
    )


def test_later_decision_supersedes_earlier_one() -> None:
    ds = [_d(1, 1, "A", "include"), _d(2, 1, "B", "exclude"), _d(3, 1, "A", "exclude")]
    cur = current_decisions(ds, TA)
    assert cur["A"][1].decision == "exclude"
    assert final_decisions(ds, TA, [1])[1].final == "exclude"


def test_final_decisions_rules() -> None:
    ds = [
        _d(1, 1, "A", "include"),
        _d(2, 1, "B", "include"),  # agree include
        _d(3, 2, "A", "exclude"),
        _d(4, 2, "B", "include"),  # conflict
        _d(5, 3, "A", "include"),  # only one reviewer so far
        _d(6, 4, "A", "maybe"),
        _d(7, 4, "B", "maybe"),  # agreed maybe at title/abstract -> full text
        _d(8, 5, "A", "include"),
        _d(9, 5, "B", "maybe"),  # include vs maybe differ -> conflict
        _d(10, 6, "A", "exclude"),
        _d(11, 6, "B", "include"),
        _d(12, 6, "C", "exclude", role="resolver"),  # resolved
    ]
    finals = final_decisions(ds, TA, [1, 2, 3, 4, 5, 6, 7])
    got = {rid: f.final for rid, f in finals.items()}
    assert got == {
        1: "include",
        2: "conflict",
        3: "pending",
        4: "include",
        5: "conflict",
        6: "exclude",
        7: "pending",
    }
    assert finals[6].resolved
    assert conflict_ids(finals) == [2, 5]


def test_full_text_maybe_stays_open_and_reasons() -> None:
    ds = [
        _d(1, 1, "A", "maybe", FT),
        _d(2, 1, "B", "maybe", FT),
        _d(3, 2, "A", "exclude", FT, reason="wrong study design"),
        _d(4, 2, "B", "exclude", FT, reason="wrong population"),
        _d(5, 3, "A", "exclude", FT, reason="wrong intervention"),
        _d(6, 3, "B", "exclude", FT, reason="wrong intervention"),
    ]
    finals = final_decisions(ds, FT, [1, 2, 3], 2, REASONS)
    assert (finals[1].final, finals[1].undecided) == ("pending", True)
    assert conflict_ids(finals) == [1]
    # a tie between two reasons goes to the one the protocol lists first
    assert (finals[2].final, finals[2].reason) == ("exclude", "wrong population")
    assert finals[3].reason == "wrong intervention"


def test_one_reviewer_per_record_setting() -> None:
    ds = [_d(1, 1, "A", "include"), _d(2, 2, "A", "exclude")]
    finals = final_decisions(ds, TA, [1, 2, 3], reviewers_per_record=1)
    assert [finals[i].final for i in (1, 2, 3)] == ["include", "exclude", "pending"]


def test_summary_counts_kappa_on_records_both_decided() -> None:
    ds = [
        _d(1, 10, "B", "include"),  # B decided first: B is the first reviewer
        _d(2, 10, "A", "include"),
        _d(3, 11, "A", "exclude"),
        _d(4, 11, "B", "exclude"),
        _d(5, 12, "A", "exclude"),
        _d(6, 12, "B", "include"),
        _d(7, 13, "A", "include"),  # only A: not in kappa
        _d(8, 14, "C", "include"),  # C is third: not compared
        _d(9, 99, "A", "include"),  # not in scope (e.g. merged away by dedup)
    ]
    assert reviewer_order(ds, TA) == ["B", "A", "C"]
    s = summarise_stage(ds, TA, [10, 11, 12, 13, 14])
    assert s.records == 5
    assert s.reviewers == {
        "B": {"include": 2, "exclude": 1, "maybe": 0},
        "A": {"include": 2, "exclude": 2, "maybe": 0},
        "C": {"include": 1, "exclude": 0, "maybe": 0},
    }
    assert s.agreement is not None
    assert s.agreement.reviewers == ("B", "A")
    assert s.agreement.n == 3
    assert s.agreement.percent == pytest.approx(200 / 3)
    # B: inc, exc, inc ; A: inc, exc, exc -> po = 2/3, pe = (2*1 + 1*2)/9 = 4/9, kappa = (2/9)/(5/9) = 0.4
    assert s.kappa == pytest.approx(0.4)
    assert s.conflicts == 1
    assert s.finals == {"include": 1, "exclude": 1, "pending": 2, "conflict": 1}


def test_summary_without_two_reviewers_has_no_kappa() -> None:
    s = summarise_stage([_d(1, 1, "A", "include")], TA, [1, 2])
    assert s.kappa is None
    assert s.agreement is None
    assert s.reviewers == {"A": {"include": 1, "exclude": 0, "maybe": 0}}
