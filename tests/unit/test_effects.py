"""Effect sizes (review.effects.escalc) against hand-worked values and metafor's rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.effects import escalc, hedges_correction
from review.errors import StudyDataError


def test_hedges_correction_exact_gamma_value() -> None:
    # J(10) = Gamma(5) / (sqrt(5) Gamma(4.5)); Gamma(4.5) = 3.5 * 2.5 * 1.5 * 0.5 * sqrt(pi)
    want = 24 / (math.sqrt(5) * 3.5 * 2.5 * 1.5 * 0.5 * math.sqrt(math.pi))
    assert hedges_correction(10)[()] == pytest.approx(want, rel=1e-14)
    # and it is not the 1 - 3/(4m - 1) approximation
    assert abs(hedges_correction(10)[()] - (1 - 3 / 39)) > 1e-5
    assert np.isnan(hedges_correction(1)[()])


def test_md_by_hand() -> None:
    es = escalc("MD", m1i=[10.0], sd1i=[2.0], n1i=[20], m2i=[12.0], sd2i=[3.0], n2i=[25])
    assert es.yi[0] == pytest.approx(-2.0)
    assert es.vi[0] == pytest.approx(4 / 20 + 9 / 25)


def test_smd_by_hand() -> None:
    n1, n2, s1, s2 = 20, 25, 2.0, 3.0
    sp = math.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    m = n1 + n2 - 2
    j = math.exp(math.lgamma(m / 2) - 0.5 * math.log(m / 2) - math.lgamma((m - 1) / 2))
    g = j * (10 - 12) / sp
    es = escalc("SMD", m1i=[10.0], sd1i=[s1], n1i=[n1], m2i=[12.0], sd2i=[s2], n2i=[n2])
    assert es.yi[0] == pytest.approx(g, rel=1e-13)
    assert es.vi[0] == pytest.approx(1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2)), rel=1e-13)


def test_rom_by_hand() -> None:
    es = escalc("ROM", m1i=[8.0], sd1i=[2.0], n1i=[10], m2i=[4.0], sd2i=[1.0], n2i=[12])
    assert es.yi[0] == pytest.approx(math.log(2))
    assert es.vi[0] == pytest.approx(4 / (10 * 64) + 1 / (12 * 16))


def test_binary_by_hand() -> None:
    a, n1, c, n2 = 4, 123, 11, 139
    rr = escalc("RR", ai=[a], n1i=[n1], ci=[c], n2i=[n2])
    assert rr.yi[0] == pytest.approx(math.log((a / n1) / (c / n2)))
    assert rr.vi[0] == pytest.approx(1 / a - 1 / n1 + 1 / c - 1 / n2)
    orr = escalc("OR", ai=[a], n1i=[n1], ci=[c], n2i=[n2])
    assert orr.yi[0] == pytest.approx(math.log(a * (n2 - c) / ((n1 - a) * c)))
    assert orr.vi[0] == pytest.approx(1 / a + 1 / (n1 - a) + 1 / c + 1 / (n2 - c))
    rd = escalc("RD", ai=[a], n1i=[n1], ci=[c], n2i=[n2])
    p1, p2 = a / n1, c / n2
    assert rd.yi[0] == pytest.approx(p1 - p2)
    assert rd.vi[0] == pytest.approx(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)


def test_zero_cell_adds_half_to_all_four_cells_of_that_study_only() -> None:
    es = escalc("OR", ai=[0, 5], n1i=[10, 20], ci=[3, 6], n2i=[12, 20])
    assert es.corrected.tolist() == [True, False]
    assert es.yi[0] == pytest.approx(math.log(0.5 * 9.5 / (10.5 * 3.5)))
    assert es.vi[0] == pytest.approx(1 / 0.5 + 1 / 10.5 + 1 / 3.5 + 1 / 9.5)
    assert es.yi[1] == pytest.approx(math.log(5 * 14 / (15 * 6)))
    # all events in one arm is a zero cell too (b = 0)
    rr = escalc("RR", ai=[10], n1i=[10], ci=[3], n2i=[12])
    assert rr.yi[0] == pytest.approx(math.log((10.5 / 11) / (3.5 / 13)))


def test_double_zero_study_kept_with_correction() -> None:
    # metafor escalc default drop00=FALSE: a study with no events in both arms gets 1/2 added
    es = escalc("RD", ai=[0], n1i=[10], ci=[0], n2i=[12])
    assert es.yi[0] == pytest.approx(0.5 / 11 - 0.5 / 13)


@pytest.mark.parametrize(
    ("measure", "arrays", "fragment"),
    [
        ("MD", dict(m1i=[1], sd1i=[-1], n1i=[5], m2i=[1], sd2i=[1], n2i=[5]), "sd1i must be >= 0"),
        ("SMD", dict(m1i=[1], sd1i=[1], n1i=[0], m2i=[1], sd2i=[1], n2i=[5]), "n1i must be > 0"),
        ("ROM", dict(m1i=[-1], sd1i=[1], n1i=[5], m2i=[1], sd2i=[1], n2i=[5]), "positive mean"),
        ("RR", dict(ai=[6], n1i=[5], ci=[1], n2i=[5]), "must be <= n1i"),
        ("OR", dict(ai=[1], n1i=[5], ci=[-1], n2i=[5]), "ci (events in arm 2) must be >= 0"),
        ("RR", dict(ai=[1], n1i=[5], ci=[1]), "missing n2i"),
        ("XX", dict(ai=[1]), "unknown effect measure"),
    ],
)
def test_bad_input_names_the_study(measure: str, arrays: dict[str, list[float]], fragment: str) -> None:
    with pytest.raises(StudyDataError, match=fragment.replace("(", r"\(").replace(")", r"\)")) as info:
        escalc(measure, labels=["Smith 2019"], **arrays)
    if measure != "XX" and "missing" not in fragment:
        assert "Smith 2019" in str(info.value)


@given(
    st.floats(-50, 50),
    st.floats(0.1, 20),
    st.integers(2, 500),
    st.floats(-50, 50),
    st.floats(0.1, 20),
    st.integers(2, 500),
)
def test_swapping_arms_negates_md_and_smd(
    m1: float, s1: float, n1: int, m2: float, s2: float, n2: int
) -> None:
    for measure in ("MD", "SMD"):
        a = escalc(measure, m1i=[m1], sd1i=[s1], n1i=[n1], m2i=[m2], sd2i=[s2], n2i=[n2])
        b = escalc(measure, m1i=[m2], sd1i=[s2], n1i=[n2], m2i=[m1], sd2i=[s1], n2i=[n1])
        assert a.yi[0] == pytest.approx(-b.yi[0], abs=1e-12)
        assert a.vi[0] == pytest.approx(b.vi[0], rel=1e-12)
        assert a.vi[0] > 0


@given(st.integers(0, 60), st.integers(1, 60), st.integers(0, 60), st.integers(1, 60))
def test_swapping_arms_negates_log_ratios(a: int, n1: int, c: int, n2: int) -> None:
    a, c = min(a, n1), min(c, n2)
    for measure in ("RR", "OR", "RD"):
        x = escalc(measure, ai=[a], n1i=[n1], ci=[c], n2i=[n2])
        y = escalc(measure, ai=[c], n1i=[n2], ci=[a], n2i=[n1])
        assert np.isfinite(x.yi[0]) and x.vi[0] > 0
        assert x.yi[0] == pytest.approx(-y.yi[0], abs=1e-12)
        assert x.vi[0] == pytest.approx(y.vi[0], rel=1e-12)
