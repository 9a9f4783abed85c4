"""Study effect sizes and their sampling variances, equal to R metafor's ``escalc`` defaults.

Pure functions over numpy arrays (layer 2). Each measure follows ``metafor::escalc`` with its
default arguments (``vtype="LS"``, ``add=1/2``, ``to="only0"``, ``drop00=FALSE``) so that the
values agree with metafor to machine precision:

========  =====================================================================================
MD        raw mean difference, heteroscedastic variance (Cochrane Handbook 6.5.1.1)
SMD       Hedges' g with the exact gamma-function bias correction (Hedges 1981)
ROM       log ratio of means (Hedges, Gurevitch & Curtis 1999)
RR        log risk ratio (Cochrane Handbook 6.4.1.2)
OR        log odds ratio (Cochrane Handbook 6.4.1.2)
RD        risk difference (Cochrane Handbook 6.4.1.2)
========  =====================================================================================

Studies with a zero cell in their 2x2 table get 1/2 added to all four cells before the binary
measures are computed (metafor ``add=1/2, to="only0"``; Cochrane Handbook 10.4.4.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from review.errors import StudyDataError
from review.twobytwo import add_half_to_zero_cells, log_rr_or_rd

__all__ = [
    "BINARY_MEASURES",
    "CONTINUOUS_MEASURES",
    "MEASURES",
    "RATIO_MEASURES",
    "EffectSizes",
    "escalc",
    "hedges_correction",
]

CONTINUOUS_MEASURES = ("MD", "SMD", "ROM")
BINARY_MEASURES = ("RR", "OR", "RD")
MEASURES = CONTINUOUS_MEASURES + BINARY_MEASURES
#: Measures analysed on the log scale (back-transform with exp for display).
RATIO_MEASURES = frozenset({"RR", "OR", "ROM"})

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class EffectSizes:
    """Per-study effect sizes ``yi`` and sampling variances ``vi`` (ratio measures on the log scale).

    ``corrected`` flags the studies whose 2x2 table had 1/2 added to each cell.
    """

    measure: str
    yi: Floats
    vi: Floats
    corrected: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.yi.shape[0])


def hedges_correction(df: ArrayLike) -> Floats:
    """Exact small-sample bias correction J(m) of Hedges (1981) for ``m`` degrees of freedom.

    Notes
    -----
    J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)), computed on the log scale as metafor's
    ``.cmicalc`` does (Hedges 1981, eq. 6e; Borenstein et al. 2009, 4.3). Undefined for m <= 1.
    """
    m = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.exp(gammaln(m / 2.0) - np.log(np.sqrt(m / 2.0)) - gammaln((m - 1.0) / 2.0))
    return np.where(m > 1, out, np.nan)


def _arr(name: str, value: Any, k: int | None) -> Floats:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.ndim != 1:
        raise StudyDataError(f"{name} must be one value per study, got an array of shape {arr.shape}")
    if k is not None and arr.shape[0] != k:
        raise StudyDataError(f"{name} has {arr.shape[0]} values but the other arrays have {k}")
    return arr


def _study(labels: Sequence[str] | None, i: int) -> str:
    return str(labels[i]) if labels is not None else f"study {i + 1}"


def _arrays(names: tuple[str, ...], arrays: dict[str, Any]) -> list[Floats]:
    missing = [n for n in names if arrays.get(n) is None]
    if missing:
        raise StudyDataError(f"escalc needs {', '.join(names)}; missing {', '.join(missing)}")
    out: list[Floats] = []
    k: int | None = None
    for n in names:
        a = _arr(n, arrays[n], k)
        k = a.shape[0]
        out.append(a)
    return out


def _check(
    cond: Floats | NDArray[np.bool_], message: str, values: Floats, labels: Sequence[str] | None
) -> None:
    bad = np.flatnonzero(~np.asarray(cond, dtype=bool))
    if bad.size:
        i = int(bad[0])
        raise StudyDataError(f"{message}, got {values[i]:g}", study=_study(labels, i))


def escalc(measure: str, *, labels: Sequence[str] | None = None, **arrays: Any) -> EffectSizes:
    """Effect sizes and sampling variances as ``metafor::escalc(measure, ...)`` with its defaults.

    Parameters
    ----------
    measure
        ``MD``, ``SMD`` or ``ROM`` (arrays ``m1i, sd1i, n1i, m2i, sd2i, n2i``; arm 1 is the
        experimental arm) or ``RR``, ``OR`` or ``RD`` (arrays ``ai, n1i, ci, n2i``: events and
        totals per arm).
    labels
        Study labels, used only to name a study in an error.

    Returns
    -------
    EffectSizes
        ``yi`` (log scale for RR, OR, ROM) and ``vi`` per study, in input order.

    Raises
    ------
    StudyDataError
        Missing arrays, unequal lengths, n <= 0, sd < 0, events < 0 or > n, non-positive means
        for ROM, or too few participants for SMD; the message names the study.

    Notes
    -----
    Continuous (metafor ``vtype="LS"``):

    - MD: yi = m1 - m2, vi = sd1²/n1 + sd2²/n2 (Cochrane Handbook 6.5.1.1).
    - SMD: s_p² = ((n1-1) sd1² + (n2-1) sd2²)/(n1+n2-2), d = (m1-m2)/s_p, yi = J(n1+n2-2) d with
      J the exact gamma correction, vi = 1/n1 + 1/n2 + yi²/(2 (n1+n2)) (Hedges 1981;
      Hedges & Olkin 1985, eq. 5.14; metafor ``escalc`` documentation).
    - ROM: yi = log(m1/m2), vi = sd1²/(n1 m1²) + sd2²/(n2 m2²) (Hedges, Gurevitch & Curtis 1999).

    Binary, with a = events1, b = n1 - a, c = events2, d = n2 - c, after adding 1/2 to every
    cell of a table with a zero cell (Cochrane Handbook 6.4.1.2, 10.4.4.2):

    - RR: yi = log((a/n1)/(c/n2)), vi = 1/a - 1/n1 + 1/c - 1/n2.
    - OR: yi = log(a d/(b c)), vi = 1/a + 1/b + 1/c + 1/d.
    - RD: yi = a/n1 - c/n2, vi = p1(1-p1)/n1 + p2(1-p2)/n2.
    """
    measure = measure.upper()
    if measure in CONTINUOUS_MEASURES:
        m1, sd1, n1, m2, sd2, n2 = _arrays(("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"), arrays)
        for name, v in (("m1i", m1), ("sd1i", sd1), ("n1i", n1), ("m2i", m2), ("sd2i", sd2), ("n2i", n2)):
            _check(np.isfinite(v), f"{name} must be a finite number", v, labels)
        _check(n1 > 0, "n1i must be > 0", n1, labels)
        _check(n2 > 0, "n2i must be > 0", n2, labels)
        _check(sd1 >= 0, "sd1i must be >= 0", sd1, labels)
        _check(sd2 >= 0, "sd2i must be >= 0", sd2, labels)
        corrected = np.zeros(m1.shape[0], dtype=bool)
        if measure == "MD":
            yi = m1 - m2
            vi = sd1**2 / n1 + sd2**2 / n2
        elif measure == "SMD":
            df = n1 + n2 - 2.0
            _check(df > 1, "SMD needs n1i + n2i >= 4 for the bias correction", n1 + n2, labels)
            sdp = np.sqrt(((n1 - 1.0) * sd1**2 + (n2 - 1.0) * sd2**2) / df)
            _check(sdp > 0, "SMD needs a pooled SD > 0", sdp, labels)
            yi = hedges_correction(df) * (m1 - m2) / sdp
            vi = 1.0 / n1 + 1.0 / n2 + yi**2 / (2.0 * (n1 + n2))
        else:  # ROM
            _check(m1 > 0, "ROM needs a positive mean in arm 1 (m1i)", m1, labels)
            _check(m2 > 0, "ROM needs a positive mean in arm 2 (m2i)", m2, labels)
            yi = np.log(m1 / m2)
            vi = sd1**2 / (n1 * m1**2) + sd2**2 / (n2 * m2**2)
        return EffectSizes(measure, yi, vi, corrected)

    if measure in BINARY_MEASURES:
        ai, n1, ci, n2 = _arrays(("ai", "n1i", "ci", "n2i"), arrays)
        for name, v in (("ai", ai), ("n1i", n1), ("ci", ci), ("n2i", n2)):
            _check(np.isfinite(v), f"{name} must be a finite number", v, labels)
        _check(n1 > 0, "n1i must be > 0", n1, labels)
        _check(n2 > 0, "n2i must be > 0", n2, labels)
        _check(ai >= 0, "ai (events in arm 1) must be >= 0", ai, labels)
        _check(ci >= 0, "ci (events in arm 2) must be >= 0", ci, labels)
        _check(ai <= n1, "ai (events in arm 1) must be <= n1i", ai, labels)
        _check(ci <= n2, "ci (events in arm 2) must be <= n2i", ci, labels)
        a, b, c, d, corrected = add_half_to_zero_cells(ai, n1 - ai, ci, n2 - ci)
        yi, vi = log_rr_or_rd(a, b, c, d, measure)
        return EffectSizes(measure, yi, vi, corrected)

    raise StudyDataError(f"unknown effect measure {measure!r}; use one of {', '.join(MEASURES)}")
