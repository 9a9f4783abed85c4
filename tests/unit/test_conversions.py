"""Conversions of reported summary statistics to mean/SD, against worked examples and tables.

Expected values come from the sources, not from the code: the Cochrane Handbook's worked
examples, Wan et al. 2014 table 1 (xi(n) = 2 Phi^-1((n - 0.375)/(n + 0.25)), printed to 3
decimals), printed t tables, and exact identities (raw data, expected order statistics).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from review.conversions import (
    change_sd,
    combine_groups,
    convert_summary,
    correlation_from_change,
    from_ci,
    from_median_iqr,
    from_median_iqr_range,
    from_median_range,
    from_se,
    se_from_ci,
)
from review.errors import InputError

# Wan et al. 2014, BMC Med Res Methodol 14:135, table 1: xi(n) for the range-based SD.
WAN_TABLE_1 = {
    2: 1.128,
    3: 1.693,
    5: 2.326,
    10: 3.078,
    11: 3.173,
    20: 3.735,
    25: 3.931,
    30: 4.086,
    40: 4.322,
    50: 4.498,
}


@pytest.mark.parametrize(("n", "xi"), sorted(WAN_TABLE_1.items()))
def test_median_range_sd_follows_wan_table_1(n: int, xi: float) -> None:
    # Table 1 prints the exact expected range of n standard normals; eq. 9 replaces it by
    # Blom's 2 Phi^-1((n - 0.375)/(n + 0.25)), which Wan et al. use from n = 2 on: the SD from a
    # range equal to xi(n) is within 0.6% of 1 once n >= 10 (4.5% at n = 2).
    result = from_median_range(n, median=0.0, minimum=-xi / 2, maximum=xi / 2)
    assert result.sd == pytest.approx(1.0, rel=0.006 if n >= 10 else 0.045)
    assert result.sd == pytest.approx(xi / (2 * norm.ppf((n - 0.375) / (n + 0.25))), rel=1e-12)
    assert result.mean == pytest.approx(0.0, abs=1e-12)  # symmetric: mean = median


def test_change_sd_handbook_crossover_example() -> None:
    # Cochrane Handbook (5.1) 16.4.6.4: SD_E 2.38, SD_C 2.21, Corr 0.68, n = 10 -> SE(MD) = 0.583
    sd_diff = change_sd(2.38, 2.21, 0.68)
    assert sd_diff / math.sqrt(10) == pytest.approx(0.583, abs=5e-4)
    assert correlation_from_change(2.38, 2.21, sd_diff) == pytest.approx(0.68, abs=1e-12)


def test_se_to_sd_handbook_6_5_2_2() -> None:
    # SD = SE x sqrt(N): an SE of 0.51 in 30 participants is an SD of 2.793 (0.51 x 5.4772)
    result = from_se(30, mean=2.68, se=0.51)
    assert result.sd == pytest.approx(2.7933, abs=1e-4)
    assert result.mean == 2.68
    assert "6.5.2.2" in result.method


def test_ci_small_sample_uses_t_with_n_minus_1_df() -> None:
    # n = 25, 95% CI 30.0 to 34.2: t(0.975, 24) = 2.064 (printed t table), SD = 5 x 4.2 / 4.128 = 5.09
    result = from_ci(25, 30.0, 34.2)
    assert result.mean == pytest.approx(32.1)
    assert result.sd == pytest.approx(5 * 4.2 / (2 * 2.0639), rel=1e-4)
    assert "t(0.975, 24 df)" in result.method


@pytest.mark.parametrize(
    ("n", "q"),
    [(59, 2.00172), (60, 1.959964), (5, 2.776445), (400, 1.959964)],  # t(0.975, 58), z, t(0.975, 4), z
)
def test_ci_switches_from_t_to_z_at_60(n: int, q: float) -> None:
    result = from_ci(n, 1.0, 3.0)
    assert result.sd == pytest.approx(math.sqrt(n) * 2.0 / (2 * q), rel=2e-6)


def test_ci_large_sample_is_width_over_3_92() -> None:
    # Handbook: SD = sqrt(N) x (upper - lower) / 3.92 for large samples (3.92 = 2 x 1.96, rounded)
    assert from_ci(100, 10.0, 13.92).sd == pytest.approx(10.0, rel=1e-4)


def test_se_from_ci_of_a_difference() -> None:
    assert se_from_ci(-2.5, -0.3) == pytest.approx(2.2 / 3.919928, rel=1e-6)
    assert se_from_ci(-2.5, -0.3, n_total=23) == pytest.approx(2.2 / (2 * 2.079614), rel=1e-6)  # t(0.975, 21)


def _expected_order_stats(n: int) -> np.ndarray:
    """Blom's expected standard-normal order statistics: a 'typical' sample of size n."""
    i = np.arange(1, n + 1)
    return norm.ppf((i - 0.375) / (n + 0.25))


@pytest.mark.parametrize("n", [9, 41, 401])
def test_median_estimators_recover_a_normal_sample(n: int) -> None:
    # mean 10, SD 2: the five-number summary of a typical normal sample gives back ~10 and ~2
    x = 10 + 2 * _expected_order_stats(n)
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    lo, hi = x.min(), x.max()
    for result in (
        from_median_range(n, med, lo, hi),
        from_median_iqr(n, med, q1, q3),
        from_median_iqr_range(n, med, q1, q3, lo, hi),
    ):
        assert result.mean == pytest.approx(10, abs=1e-9)  # symmetric sample
        assert result.sd == pytest.approx(2, rel=0.06)
    # the range estimator is exact for the expected extremes (that is how Wan built xi(n))
    assert from_median_range(n, med, lo, hi).sd == pytest.approx(2, rel=1e-12)


def test_median_iqr_weights_luo_2018() -> None:
    # skewed: mean = w (q1 + q3)/2 + (1 - w) median with w = 0.7 + 0.39/n; n = 39 -> w = 0.71
    result = from_median_iqr(39, median=4.0, q1=3.0, q3=7.0)
    assert result.mean == pytest.approx(0.71 * 5.0 + 0.29 * 4.0)
    assert result.sd == pytest.approx(4.0 / (2 * norm.ppf((0.75 * 39 - 0.125) / 39.25)))


def test_median_range_weight_luo_2018() -> None:
    # w = 4 / (4 + n^0.75); n = 16 -> 16^0.75 = 8, w = 1/3
    result = from_median_range(16, median=3.0, minimum=0.0, maximum=12.0)
    assert result.mean == pytest.approx(6.0 / 3 + 3.0 * 2 / 3)


def test_five_number_weights_luo_2018() -> None:
    # n = 16: w1 = 2.2 / (2.2 + 8) ; w2 = 0.7 - 0.72 / 16^0.55
    w1, w2 = 2.2 / 10.2, 0.7 - 0.72 / 16**0.55
    result = from_median_iqr_range(16, 3.0, 2.0, 6.0, 0.0, 12.0)
    assert result.mean == pytest.approx(w1 * 6.0 + w2 * 4.0 + (1 - w1 - w2) * 3.0)


@settings(max_examples=60, deadline=None)
@given(
    a=st.lists(st.floats(-50, 50), min_size=2, max_size=30),
    b=st.lists(st.floats(-50, 50), min_size=2, max_size=30),
)
def test_combine_groups_equals_pooled_raw_data(a: list[float], b: list[float]) -> None:
    # Handbook table 6.5.a gives exactly the mean and SD of the two groups' data put together
    n, mean, sd = combine_groups(len(a), np.mean(a), np.std(a, ddof=1), len(b), np.mean(b), np.std(b, ddof=1))
    both = np.array(a + b)
    assert n == len(both)
    assert mean == pytest.approx(both.mean(), abs=1e-9)
    assert sd == pytest.approx(both.std(ddof=1), abs=1e-7)


@pytest.mark.parametrize(
    ("kind", "n", "values", "fragment"),
    [
        ("se", 0, {"mean": 1, "se": 1}, "n must be at least 1"),
        ("se", 10, {"mean": 1, "se": -1}, "se must be >= 0"),
        ("ci", 20, {"low": 5, "high": 3}, "low (5) is larger than high (3)"),
        ("ci", 1, {"low": 1, "high": 3}, "at least 2"),
        ("median-iqr", 20, {"median": 5, "q1": 6, "q3": 4}, "q1 (6) is larger than q3 (4)"),
        ("median-iqr", 20, {"median": 9, "q1": 4, "q3": 6}, "median (9) is larger than q3 (6)"),
        ("median-range", 20, {"median": 1, "minimum": 2, "maximum": 5}, "min (2) is larger than median (1)"),
        (
            "median-iqr-range",
            20,
            {"median": 5, "q1": 4, "q3": 6, "minimum": 4.5, "maximum": 9},
            "min (4.5) is larger than q1 (4)",
        ),
        ("median-iqr", 20, {"median": 5, "q1": 4}, "needs --q3"),
        ("se", 20, {"mean": 5, "se": 1, "q1": 4}, "does not use --q1"),
        ("bogus", 20, {}, "unknown conversion"),
        ("se", 2.5, {"mean": 1, "se": 1}, "whole number"),
        ("se", 10, {"mean": float("nan"), "se": 1}, "finite"),
    ],
)
def test_impossible_input_is_refused(kind: str, n: float, values: dict[str, float], fragment: str) -> None:
    with pytest.raises(InputError, match=None) as info:
        convert_summary(kind, n, **values)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_convert_summary_accepts_min_max_aliases() -> None:
    a = convert_summary("median-range", 12, median=5, min=1, max=11)
    b = convert_summary("median-range", 12, median=5, minimum=1, maximum=11)
    assert a == b


def test_cli_convert_json_and_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from review.cli import main

    main(["convert", "ci", "--n", "60", "--low", "1", "--high", "3", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["sd"] == pytest.approx(math.sqrt(60) / 1.959963984540054, rel=1e-9)
    with pytest.raises(SystemExit) as bad:
        main(["convert", "median-iqr", "--n", "20", "--median", "5", "--q1", "6", "--q3", "4", "--json"])
    assert bad.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "q1 (6) is larger than q3 (4)" in err[0] and "Traceback" not in err[0]


def test_sd_from_p_value_of_a_t_test() -> None:
    """Cochrane Handbook 6.5.2.3 with R's qt: 12.9 / qt(1 - 0.008/2, 49) / sqrt(1/25 + 1/26)."""
    from review.conversions import sd_from_p

    sd, method = sd_from_p(25, -23.4, 26, -10.5, 0.008)
    assert sd == pytest.approx(16.655397599498134, rel=1e-12)
    assert "49 df" in method and "6.5.2.3" in method
    for args, fragment in (
        ((25, 1.0, 26, 1.0, 0.2), "means are equal"),
        ((25, 1.0, 26, 2.0, 1.0), "between 0 and 1"),
        ((1, 1.0, 1, 2.0, 0.2), "at least 3 participants"),
    ):
        with pytest.raises(InputError, match=fragment):
            sd_from_p(*args)


def test_convert_command_reads_numbers_as_copied_from_a_paper(capsys: pytest.CaptureFixture[str]) -> None:
    """A decimal comma and a typographic minus (U+2212) as a PDF prints them; an ambiguous
    '1,000' is refused with one line rather than read as 1."""
    import json

    from review.cli import main

    main(["convert", "ci", "--n", "60", "--low", "\u22121,5", "--high", "0,5", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["mean"] == pytest.approx(-0.5)
    assert out["sd"] == pytest.approx(math.sqrt(60) * 2 / (2 * 1.959963984540054), rel=1e-9)
    with pytest.raises(SystemExit) as bad:
        main(["convert", "se", "--n", "30", "--mean", "1,000", "--se", "1"])
    assert bad.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "thousands separator" in err[0]
