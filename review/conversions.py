"""Summary-statistic conversions: one group's mean and SD from what a trial reported.

Pure functions (numpy/scipy + errors only, layer 2). Each returns a :class:`Conversion` whose
``method`` names the formula and its source, so every converted value can be flagged as such
in the tidy table. Impossible input (n < 1, low > high, q1 > q3, min > median, SD < 0, ...)
raises :class:`~review.errors.InputError` with one line saying what is wrong.

Sources
-------
- Cochrane Handbook for Systematic Reviews of Interventions v6.4, section 6.5.2.2 (SD from SE),
  6.5.2.3 (SD from a confidence interval), 6.5.2.8 (change-from-baseline SDs), table 6.5.a
  (combining groups).
- Wan X, Wang W, Liu J, Tong T. Estimating the sample mean and standard deviation from the sample
  size, median, range and/or interquartile range. BMC Med Res Methodol 2014;14:135 (SDs).
- Luo D, Wan X, Liu J, Tong T. Optimally estimating the sample mean from the sample size, median,
  mid-range, and/or mid-quartile range. Stat Methods Med Res 2018;27(6):1785-1805 (means).

The same estimators (Luo means, Wan SDs) are what R metafor's ``conv.fivenum`` uses by default
for the median/range and median/IQR cases.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from scipy.special import ndtri, stdtrit

from review.errors import InputError

__all__ = [
    "KINDS",
    "Conversion",
    "change_sd",
    "combine_groups",
    "convert_summary",
    "correlation_from_change",
    "from_ci",
    "from_median_iqr",
    "from_median_iqr_range",
    "from_median_range",
    "from_se",
    "sd_from_p",
    "se_from_ci",
]

#: z(0.975): the large-sample 95% multiplier (the Handbook rounds 2 x z to 3.92).
Z975 = float(ndtri(0.975))

#: Below this group size a 95% CI is converted with t(0.975, n - 1) (Handbook 6.5.2.3).
T_BELOW_N = 60

KINDS = ("se", "ci", "median-iqr", "median-range", "median-iqr-range")


@dataclass(frozen=True)
class Conversion:
    """A group's mean and SD and the method (with its source) that produced them."""

    mean: float
    sd: float
    method: str


def _finite(name: str, value: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number, got {value!r}") from exc
    if not math.isfinite(x):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    return x


def _check_n(n: float, minimum: int = 1, why: str = "") -> int:
    if isinstance(n, bool) or not isinstance(n, int | float) or not float(n).is_integer():
        raise InputError(f"n must be a whole number of participants, got {n!r}")
    if n < minimum:
        extra = f" ({why})" if why else ""
        raise InputError(f"n must be at least {minimum}{extra}, got {int(n)}")
    return int(n)


def _order(*pairs: tuple[str, float]) -> None:
    """Require the named values to be in non-decreasing order (min <= q1 <= median ...)."""
    for (na, a), (nb, b) in itertools.pairwise(pairs):
        if a > b:
            raise InputError(f"{na} ({a:g}) is larger than {nb} ({b:g}): check the reported values")


def from_se(n: int, mean: float, se: float) -> Conversion:
    """SD from the standard error of a group mean.

    Notes
    -----
    SD = SE x sqrt(n) (Cochrane Handbook 6.5.2.2).
    """
    n = _check_n(n)
    mean, se = _finite("mean", mean), _finite("se", se)
    if se < 0:
        raise InputError(f"se must be >= 0, got {se:g}")
    return Conversion(mean, se * math.sqrt(n), "SD = SE x sqrt(n) (Cochrane Handbook 6.5.2.2)")


def _ci_multiplier(n: int) -> tuple[float, str]:
    if n < T_BELOW_N:
        return float(stdtrit(n - 1, 0.975)), f"t(0.975, {n - 1} df)"
    return Z975, "z(0.975) = 1.96 (2 x 1.96 = 3.92)"


def from_ci(n: int, low: float, high: float) -> Conversion:
    """Mean and SD of a group from the 95% confidence interval of its mean.

    Notes
    -----
    mean = (low + high) / 2; SD = sqrt(n) x (high - low) / (2 q), q = t(0.975, n - 1) when
    n < 60 and z(0.975) = 1.96 otherwise (Cochrane Handbook 6.5.2.3, which rounds 2 x 1.96 to
    3.92). The interval is assumed symmetric about the mean.
    """
    n = _check_n(n, 2, "a t-based interval needs at least 2 participants")
    low, high = _finite("low", low), _finite("high", high)
    _order(("low", low), ("high", high))
    q, label = _ci_multiplier(n)
    sd = math.sqrt(n) * (high - low) / (2 * q)
    return Conversion(
        (low + high) / 2, sd, f"SD = sqrt(n) x CI width / (2 x {label}) (Cochrane Handbook 6.5.2.3)"
    )


def se_from_ci(low: float, high: float, n_total: int | None = None) -> float:
    """Standard error of an estimate (e.g. a mean difference) from its 95% CI.

    Notes
    -----
    SE = (high - low) / (2 q) with q = z(0.975) (Cochrane Handbook 6.5.2.3); for a difference
    of means from small trials, q = t(0.975, n1 + n2 - 2) when ``n_total`` (n1 + n2) < 60.
    """
    low, high = _finite("low", low), _finite("high", high)
    _order(("low", low), ("high", high))
    if n_total is not None and _check_n(n_total, 3) < T_BELOW_N:
        q = float(stdtrit(n_total - 2, 0.975))
    else:
        q = Z975
    return (high - low) / (2 * q)


def _xi_range(n: int) -> float:
    """Wan 2014 eq. 9 / table 1: xi(n) = 2 Phi^-1((n - 0.375) / (n + 0.25))."""
    return 2 * float(ndtri((n - 0.375) / (n + 0.25)))


def _eta_iqr(n: int) -> float:
    """Wan 2014 eq. 16: eta(n) = 2 Phi^-1((0.75 n - 0.125) / (n + 0.25))."""
    return 2 * float(ndtri((0.75 * n - 0.125) / (n + 0.25)))


def from_median_iqr(n: int, median: float, q1: float, q3: float) -> Conversion:
    """Mean and SD from the median and interquartile range (scenario C3 of Wan 2014).

    Notes
    -----
    mean = w (q1 + q3) / 2 + (1 - w) median, w = 0.7 + 0.39 / n (Luo et al. 2018);
    SD = (q3 - q1) / (2 Phi^-1((0.75 n - 0.125) / (n + 0.25))) (Wan et al. 2014, eq. 16).
    """
    n = _check_n(n, 2, "quartiles of a single value carry no spread")
    median, q1, q3 = _finite("median", median), _finite("q1", q1), _finite("q3", q3)
    _order(("q1", q1), ("q3", q3))
    _order(("q1", q1), ("median", median), ("q3", q3))
    w = 0.7 + 0.39 / n
    mean = w * (q1 + q3) / 2 + (1 - w) * median
    sd = (q3 - q1) / _eta_iqr(n)
    return Conversion(mean, sd, "median/IQR: mean Luo et al. 2018, SD Wan et al. 2014 eq. 16")


def from_median_range(n: int, median: float, minimum: float, maximum: float) -> Conversion:
    """Mean and SD from the median and range (minimum, maximum; scenario C1 of Wan 2014).

    Notes
    -----
    mean = w (min + max) / 2 + (1 - w) median, w = 4 / (4 + n^0.75) (Luo et al. 2018);
    SD = (max - min) / (2 Phi^-1((n - 0.375) / (n + 0.25))) (Wan et al. 2014, eq. 9).
    """
    n = _check_n(n, 2, "the range of a single value carries no spread")
    median, lo, hi = _finite("median", median), _finite("min", minimum), _finite("max", maximum)
    _order(("min", lo), ("max", hi))
    _order(("min", lo), ("median", median), ("max", hi))
    w = 4 / (4 + n**0.75)
    mean = w * (lo + hi) / 2 + (1 - w) * median
    sd = (hi - lo) / _xi_range(n)
    return Conversion(mean, sd, "median/range: mean Luo et al. 2018, SD Wan et al. 2014 eq. 9")


def from_median_iqr_range(
    n: int, median: float, q1: float, q3: float, minimum: float, maximum: float
) -> Conversion:
    """Mean and SD from the five-number summary (scenario C2 of Wan 2014).

    Notes
    -----
    mean = w1 (min + max) / 2 + w2 (q1 + q3) / 2 + (1 - w1 - w2) median with
    w1 = 2.2 / (2.2 + n^0.75), w2 = 0.7 - 0.72 / n^0.55 (Luo et al. 2018);
    SD = (max - min) / (4 Phi^-1((n - 0.375) / (n + 0.25)))
    + (q3 - q1) / (4 Phi^-1((0.75 n - 0.125) / (n + 0.25))) (Wan et al. 2014, eq. 15).
    """
    n = _check_n(n, 2, "a single value carries no spread")
    median, q1, q3 = _finite("median", median), _finite("q1", q1), _finite("q3", q3)
    lo, hi = _finite("min", minimum), _finite("max", maximum)
    _order(("min", lo), ("max", hi))
    _order(("q1", q1), ("q3", q3))
    _order(("min", lo), ("q1", q1), ("median", median), ("q3", q3), ("max", hi))
    w1 = 2.2 / (2.2 + n**0.75)
    w2 = 0.7 - 0.72 / n**0.55
    mean = w1 * (lo + hi) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * median
    sd = (hi - lo) / (2 * _xi_range(n)) + (q3 - q1) / (2 * _eta_iqr(n))
    return Conversion(mean, sd, "median/IQR/range: mean Luo et al. 2018, SD Wan et al. 2014 eq. 15")


_REQUIRED: dict[str, tuple[str, ...]] = {
    "se": ("mean", "se"),
    "ci": ("low", "high"),
    "median-iqr": ("median", "q1", "q3"),
    "median-range": ("median", "minimum", "maximum"),
    "median-iqr-range": ("median", "q1", "q3", "minimum", "maximum"),
}

_OPTION = {"minimum": "min", "maximum": "max"}


def convert_summary(kind: str, n: int, **values: float) -> Conversion:
    """Mean and SD of one group from the summary statistics of ``kind`` (``review convert``).

    ``kind`` is one of :data:`KINDS`; ``values`` are the ones that kind needs: ``se``: mean, se;
    ``ci``: low, high; ``median-iqr``: median, q1, q3; ``median-range``: median, minimum (or
    min), maximum (or max); ``median-iqr-range``: all five. Values not used by the kind are an
    error (they would be silently ignored otherwise).
    """
    if kind not in _REQUIRED:
        raise InputError(f"unknown conversion {kind!r}; choose one of {', '.join(KINDS)}")
    given = {{"min": "minimum", "max": "maximum"}.get(k, k): v for k, v in values.items() if v is not None}
    need = _REQUIRED[kind]
    missing = [k for k in need if k not in given]
    if missing:
        names = ", ".join(f"--{_OPTION.get(k, k)}" for k in missing)
        raise InputError(f"{kind} needs {names}")
    extra = [k for k in given if k not in need]
    if extra:
        names = ", ".join(f"--{_OPTION.get(k, k)}" for k in extra)
        raise InputError(
            f"{kind} does not use {names}: give only {', '.join('--' + _OPTION.get(k, k) for k in need)}"
        )
    if kind == "se":
        return from_se(n, given["mean"], given["se"])
    if kind == "ci":
        return from_ci(n, given["low"], given["high"])
    if kind == "median-iqr":
        return from_median_iqr(n, given["median"], given["q1"], given["q3"])
    if kind == "median-range":
        return from_median_range(n, given["median"], given["minimum"], given["maximum"])
    return from_median_iqr_range(
        n, given["median"], given["q1"], given["q3"], given["minimum"], given["maximum"]
    )


def sd_from_p(n1: int, mean1: float, n2: int, mean2: float, p: float) -> tuple[float, str]:
    """The SD of both groups from the exact two-sided P value of a t test of their means.

    Notes
    -----
    Cochrane Handbook 6.5.2.3: t = t^-1(1 - P/2, n1 + n2 - 2), SE of the difference =
    |mean1 - mean2| / t, SD = SE / sqrt(1/n1 + 1/n2) (the same in both groups). Only an exact
    P value can be used ("P < 0.05" cannot), and equal means carry no information on the SD.
    """
    n1, n2 = _check_n(n1), _check_n(n2)
    if n1 + n2 < 3:
        raise InputError(f"a t test of two groups needs at least 3 participants, got {n1} + {n2}")
    p = _finite("P value", p)
    if not 0 < p < 1:
        raise InputError(f"the P value must be between 0 and 1 (exclusive), got {p:g}")
    diff = abs(_finite("mean", mean1) - _finite("mean", mean2))
    if diff == 0:
        raise InputError("the two means are equal, so the P value says nothing about the SD")
    df = n1 + n2 - 2
    t = float(stdtrit(df, 1 - p / 2))
    sd = diff / t / math.sqrt(1 / n1 + 1 / n2)
    return sd, f"SD from P = {p:g} of the difference (t, {df} df; Cochrane Handbook 6.5.2.3)"


def combine_groups(
    n1: int, mean1: float, sd1: float, n2: int, mean2: float, sd2: float
) -> tuple[int, float, float]:
    """Combine two groups (e.g. two doses of one drug) into one: (n, mean, SD).

    Notes
    -----
    N = N1 + N2; M = (N1 M1 + N2 M2) / N;
    SD = sqrt(((N1 - 1) SD1^2 + (N2 - 1) SD2^2 + N1 N2 / N (M1^2 + M2^2 - 2 M1 M2)) / (N - 1))
    (Cochrane Handbook table 6.5.a). This equals the SD of the pooled raw data.
    """
    n1, n2 = _check_n(n1), _check_n(n2)
    m1, s1, m2, s2 = (
        _finite(k, v) for k, v in (("mean1", mean1), ("sd1", sd1), ("mean2", mean2), ("sd2", sd2))
    )
    for name, s in (("sd1", s1), ("sd2", s2)):
        if s < 0:
            raise InputError(f"{name} must be >= 0, got {s:g}")
    n = n1 + n2
    if n < 2:
        raise InputError("combining groups needs at least 2 participants in all")
    mean = (n1 * m1 + n2 * m2) / n
    var = ((n1 - 1) * s1**2 + (n2 - 1) * s2**2 + n1 * n2 / n * (m1**2 + m2**2 - 2 * m1 * m2)) / (n - 1)
    return n, mean, math.sqrt(var)


def change_sd(sd_baseline: float, sd_final: float, corr: float) -> float:
    """SD of change from baseline, imputed from baseline and final SDs and a correlation.

    Notes
    -----
    SD_change = sqrt(SD_b^2 + SD_f^2 - 2 Corr SD_b SD_f) (Cochrane Handbook 6.5.2.8, eq. for
    imputing a change-from-baseline SD).
    """
    b, f, r = _finite("sd_baseline", sd_baseline), _finite("sd_final", sd_final), _finite("corr", corr)
    if b < 0 or f < 0:
        raise InputError(f"SDs must be >= 0, got baseline {b:g}, final {f:g}")
    if not -1 <= r <= 1:
        raise InputError(f"a correlation must lie in [-1, 1], got {r:g}")
    return math.sqrt(max(b**2 + f**2 - 2 * r * b * f, 0.0))


def correlation_from_change(sd_baseline: float, sd_final: float, sd_change: float) -> float:
    """Correlation between baseline and final values, from a study reporting all three SDs.

    Notes
    -----
    Corr = (SD_b^2 + SD_f^2 - SD_change^2) / (2 SD_b SD_f) (Cochrane Handbook 6.5.2.8); used to
    impute the change SD of other studies with :func:`change_sd`.
    """
    b, f, c = (
        _finite(k, v)
        for k, v in (("sd_baseline", sd_baseline), ("sd_final", sd_final), ("sd_change", sd_change))
    )
    if b <= 0 or f <= 0 or c < 0:
        raise InputError(f"SDs must be positive, got baseline {b:g}, final {f:g}, change {c:g}")
    r = (b**2 + f**2 - c**2) / (2 * b * f)
    if not -1 <= r <= 1:
        raise InputError(f"these SDs imply a correlation of {r:.3f}, outside [-1, 1]: check them")
    return r
