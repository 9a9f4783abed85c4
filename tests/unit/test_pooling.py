"""Pooling (review.pooling): hand-worked values, the defining equations of each estimator, and
hypothesis invariants. Agreement with metafor itself is tested in
tests/integration/test_metafor_reference.py (and live in test_metafor_live.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from review.errors import StudyDataError
from review.pooling import (
    egger_test,
    leave_one_out,
    mantel_haenszel,
    meta_regression,
    peto,
    rma,
    subgroup_analysis,
)

Y = np.array([-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37, -0.34, 0.45, -0.02])
V = np.array([0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223, 0.004, 0.056, 0.073, 0.012, 0.532, 0.071])

studies = st.lists(
    st.tuples(st.floats(-3, 3, allow_nan=False), st.floats(0.01, 2.0, allow_nan=False)),
    min_size=2,
    max_size=15,
)


def _q(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w = 1 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    return float(np.sum(w * (y - mu) ** 2))


def test_fixed_effect_by_hand() -> None:
    w = 1 / V
    mu = np.sum(w * Y) / np.sum(w)
    res = rma(Y, V, "FE")
    assert res.estimate == pytest.approx(mu, rel=1e-12)
    assert res.se == pytest.approx(math.sqrt(1 / np.sum(w)), rel=1e-12)
    q = _q(Y, V, 0.0)
    assert res.q == pytest.approx(q, rel=1e-12)
    assert res.q_pval == pytest.approx(stats.chi2.sf(q, len(Y) - 1), rel=1e-10)
    assert res.i2 == pytest.approx(100 * (q - 12) / q, rel=1e-12)
    assert res.tau2 == 0
    assert (res.pi_low, res.pi_high) == (res.ci_low, res.ci_high)


def test_dersimonian_laird_by_hand() -> None:
    w = 1 / V
    q = _q(Y, V, 0.0)
    tau2 = (q - (len(Y) - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w))
    res = rma(Y, V, "DL")
    assert res.tau2 == pytest.approx(tau2, rel=1e-12)
    ws = 1 / (V + tau2)
    assert res.estimate == pytest.approx(np.sum(ws * Y) / np.sum(ws), rel=1e-12)
    # I² from tau² and the typical within-study variance equals (Q - df)/Q for DL
    assert res.i2 == pytest.approx(100 * (q - 12) / q, rel=1e-10)
    assert res.pi_low == pytest.approx(
        res.estimate - 1.959963984540054 * math.sqrt(res.se**2 + tau2), rel=1e-12
    )


def test_paule_mandel_solves_its_equation() -> None:
    res = rma(Y, V, "PM")
    assert res.tau2 is not None and res.tau2 > 0
    assert _q(Y, V, res.tau2) == pytest.approx(len(Y) - 1, rel=1e-10)


def test_reml_score_is_zero_at_the_estimate() -> None:
    res = rma(Y, V, "REML")
    t = res.tau2
    assert t is not None and t > 0
    w = 1 / (V + t)
    P = np.diag(w) - np.outer(w, w) / np.sum(w)
    score = -0.5 * np.trace(P) + 0.5 * Y @ P @ P @ Y  # Viechtbauer (2005), eq. 11
    assert abs(score) < 1e-6 * np.trace(P)


def test_hksj_by_hand() -> None:
    res = rma(Y, V, "DL", hksj=True)
    plain = rma(Y, V, "DL")
    assert res.tau2 is not None
    w = 1 / (V + res.tau2)
    s2 = np.sum(w * (Y - plain.estimate) ** 2) / (len(Y) - 1)
    assert res.se == pytest.approx(math.sqrt(s2 / np.sum(w)), rel=1e-12)
    crit = stats.t.isf(0.025, len(Y) - 1)
    assert res.ci_high - res.estimate == pytest.approx(crit * res.se, rel=1e-12)
    assert res.pi_high - res.estimate == pytest.approx(crit * math.sqrt(res.se**2 + res.tau2), rel=1e-12)
    assert res.df == len(Y) - 1 and res.test == "knha"


def test_k1_is_the_study_itself() -> None:
    for method in ("FE", "DL", "REML", "PM"):
        res = rma([0.4], [0.04], method, hksj=True)
        assert res.estimate == 0.4 and res.se == pytest.approx(0.2)
        assert res.tau2 == 0 and res.q == 0 and res.q_pval == 1 and res.i2 == 0 and res.h2 == 1
        assert res.test == "z" and res.notes


def test_homogeneous_studies_give_tau2_zero() -> None:
    y = np.array([0.2, 0.21, 0.19, 0.2])
    v = np.array([0.05, 0.04, 0.06, 0.05])
    for method in ("DL", "REML", "PM"):
        res = rma(y, v, method)
        assert res.tau2 == 0
        assert res.i2 == 0


def test_huge_heterogeneity_converges() -> None:
    y = np.array([-30.0, 25.0, 2.0, 54.0, -18.0, 79.0])
    v = np.full(6, 1e-3)
    for method in ("DL", "REML", "PM"):
        res = rma(y, v, method)
        assert res.tau2 is not None and res.tau2 > 500
        assert res.i2 > 99.99


@pytest.mark.parametrize(
    ("yi", "vi", "fragment"),
    [([1.0, np.nan], [0.1, 0.1], "yi must be"), ([1.0], [0.0], "vi must be"), ([], [], "no usable study")],
)
def test_bad_values_are_clear_errors(yi: list[float], vi: list[float], fragment: str) -> None:
    with pytest.raises(StudyDataError, match=fragment):
        rma(yi, vi)
    with pytest.raises(StudyDataError, match="unknown pooling method"):
        rma([1.0, 2.0], [0.1, 0.1], "XYZ")


def test_mantel_haenszel_single_table_equals_the_study() -> None:
    a, n1, c, n2 = 4, 30, 9, 31
    res = mantel_haenszel([a], [n1], [c], [n2], "OR")
    assert res.estimate == pytest.approx(math.log(a * (n2 - c) / ((n1 - a) * c)))
    rr = mantel_haenszel([a], [n1], [c], [n2], "RR")
    assert rr.estimate == pytest.approx(math.log((a / n1) / (c / n2)))
    rd = mantel_haenszel([a], [n1], [c], [n2], "RD")
    assert rd.estimate == pytest.approx(a / n1 - c / n2)
    assert res.k == 1 and res.q == 0 and res.tau2 is None


def test_mantel_haenszel_zero_cells_use_raw_counts() -> None:
    # MH needs no continuity correction; a double-zero study adds nothing to the OR
    with_dz = mantel_haenszel([0, 3, 5], [20, 30, 40], [0, 6, 9], [20, 30, 41], "OR")
    without = mantel_haenszel([3, 5], [30, 40], [6, 9], [30, 41], "OR")
    assert with_dz.estimate == pytest.approx(without.estimate, rel=1e-14)
    assert with_dz.k == 3 and with_dz.q_df == 1  # Q only over studies with a usable yi
    with pytest.raises(StudyDataError, match="undefined"):
        mantel_haenszel([0, 0], [10, 10], [0, 0], [10, 10], "OR")


def test_peto_by_hand() -> None:
    a, n1, c, n2 = np.array([4, 6]), np.array([120, 300]), np.array([11, 29]), np.array([140, 300])
    N = n1 + n2
    E = (a + c) * n1 / N
    Vv = (a + c) * (N - a - c) * n1 * n2 / (N**2 * (N - 1))
    res = peto(a, n1, c, n2)
    assert res.estimate == pytest.approx(np.sum(a - E) / np.sum(Vv), rel=1e-12)
    assert res.se == pytest.approx(1 / math.sqrt(np.sum(Vv)), rel=1e-12)
    assert np.sum(res.weights) == pytest.approx(100)
    with pytest.raises(StudyDataError, match="never occurred"):
        peto([0, 0], [10, 10], [0, 0], [10, 10])


def test_meta_regression_fixed_effect_is_weighted_least_squares() -> None:
    x = np.arange(len(Y), dtype=float)
    reg = meta_regression(Y, V, x, "FE", name="x")
    W = np.diag(1 / V)
    X = np.column_stack([np.ones(len(Y)), x])
    b = np.linalg.solve(X.T @ W @ X, X.T @ W @ Y)
    assert [c.estimate for c in reg.coefficients] == pytest.approx(list(b), rel=1e-10)
    assert reg.coefficients[1].name == "x" and reg.r2 is None
    slope = reg.coefficients[1]
    assert reg.qm == pytest.approx((slope.estimate / slope.se) ** 2, rel=1e-10)
    with pytest.raises(StudyDataError, match="same value"):
        meta_regression(Y, V, np.ones(len(Y)))


def test_subgroups_between_q_is_fixed_effect_q_of_subgroup_estimates() -> None:
    groups = ["a"] * 5 + ["b"] * 4 + ["c"] * 4
    sg = subgroup_analysis(Y, V, groups, "DL")
    est = np.array([r.estimate for r in sg.groups.values()])
    se = np.array([r.se for r in sg.groups.values()])
    assert sg.q_between == pytest.approx(_q(est, se**2, 0.0), rel=1e-12)
    assert sg.df_between == 2
    assert sg.groups["a"].estimate == pytest.approx(rma(Y[:5], V[:5], "DL").estimate)
    with pytest.raises(StudyDataError, match="at least two subgroups"):
        subgroup_analysis(Y, V, ["a"] * len(Y))


def test_egger_and_leave_one_out() -> None:
    eg = egger_test(Y, V, "FE")
    X = np.column_stack([np.ones(len(Y)), np.sqrt(V)])
    W = np.diag(1 / V)
    b = np.linalg.solve(X.T @ W @ X, X.T @ W @ Y)
    assert eg.limit_estimate == pytest.approx(b[0], rel=1e-10)
    loo = leave_one_out(Y, V, "REML")
    assert len(loo) == len(Y)
    assert loo[3].estimate == pytest.approx(rma(np.delete(Y, 3), np.delete(V, 3), "REML").estimate)
    with pytest.raises(StudyDataError):
        egger_test(Y[:2], V[:2])


def test_reml_that_oscillates_takes_half_steps_as_metafors_remedy() -> None:
    """metafor 3.8-1: rma(method="REML") stops ("Fisher scoring algorithm did not converge");
    rma(..., control=list(stepadj=0.5)) gives tau2 = 0.0843692951097, b = 0.285706265001."""
    y = np.array([0.0, 0.75, 0.6875, 0.6875, 0.6875])
    v = np.array([0.015625, 0.5, 0.5, 0.5, 0.5])
    res = rma(y, v, "REML")
    assert res.tau2 == pytest.approx(0.0843692951097, abs=1e-9)
    assert res.estimate == pytest.approx(0.285706265001, abs=1e-9)
    assert any("stepadj=0.5" in n for n in res.notes)
    assert not any("stepadj" in n for n in rma(Y, V, "REML").notes)  # the usual path is untouched


# --- invariants ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(studies, st.sampled_from(["FE", "DL", "REML", "PM"]), st.booleans())
def test_invariants(data: list[tuple[float, float]], method: str, hksj: bool) -> None:
    y = np.array([d[0] for d in data])
    v = np.array([d[1] for d in data])
    res = rma(y, v, method, hksj)
    assert res.tau2 is not None and res.tau2 >= 0
    assert y.min() - 1e-9 <= res.estimate <= y.max() + 1e-9
    assert sum(res.weights) == pytest.approx(100)
    assert (0 <= res.i2 < 100 and res.h2 >= 1 - 1e-12) or method == "FE"
    assert res.ci_low <= res.estimate <= res.ci_high
    assert res.pi_low <= res.ci_low + 1e-12 and res.pi_high >= res.ci_high - 1e-12
    assert 0 <= res.pval <= 1 and 0 <= res.q_pval <= 1
    # order of studies does not matter
    perm = rma(y[::-1], v[::-1], method, hksj)
    assert perm.estimate == pytest.approx(res.estimate, rel=1e-9, abs=1e-12)
    assert perm.tau2 == pytest.approx(res.tau2, rel=1e-6, abs=1e-10)
    # rescaling yi by c and vi by c² rescales estimate by c and tau² by c²
    c = 3.0
    sc = rma(c * y, c**2 * v, method, hksj)
    assert sc.estimate == pytest.approx(c * res.estimate, rel=1e-6, abs=1e-9)
    assert sc.tau2 == pytest.approx(c**2 * res.tau2, rel=1e-5, abs=1e-8)
    assert sc.i2 == pytest.approx(res.i2, rel=1e-5, abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(studies)
def test_dl_truncates_at_zero_and_pm_reml_are_nonnegative(data: list[tuple[float, float]]) -> None:
    y = np.array([d[0] for d in data])
    v = np.array([d[1] for d in data])
    q = _q(y, v, 0.0)
    dl = rma(y, v, "DL")
    if q <= len(y) - 1:
        assert dl.tau2 == 0  # statsmodels' DL would go negative here; metafor truncates
    else:
        assert dl.tau2 is not None and dl.tau2 > 0
    pm = rma(y, v, "PM")
    assert pm.tau2 is not None
    if pm.tau2 > 0:
        assert _q(y, v, pm.tau2) == pytest.approx(len(y) - 1, rel=1e-8)
