"""Pooling of study effect sizes: the same numbers as R's metafor, from first principles.

Pure functions over numpy arrays (layer 2: numpy/scipy and :mod:`review.errors` only).

- Inverse-variance fixed effect and random effects with the DerSimonian-Laird, REML and
  Paule-Mandel estimators of tau² (:func:`rma`), optionally with the Hartung-Knapp-Sidik-Jonkman
  adjustment (metafor ``test="knha"``).
- Mantel-Haenszel (:func:`mantel_haenszel`, metafor ``rma.mh``) and Peto (:func:`peto`,
  metafor ``rma.peto``) for binary outcomes.
- Subgroup analysis with the test for subgroup differences (:func:`subgroup_analysis`),
  meta-regression on one covariate (:func:`meta_regression`), Egger's regression test
  (:func:`egger_test`, metafor ``regtest``) and leave-one-out (:func:`leave_one_out`).

Every tau² is solved to convergence (REML Fisher scoring to a step below 1e-10, Paule-Mandel
by Brent's root search to machine precision), so the values equal metafor run with
``control=list(threshold=1e-10, tol=1e-12)`` to far better than 1e-6. The formulas follow
metafor 3.8's ``rma.uni`` (Viechtbauer 2010, J Stat Softw 36(3)); each is cited where used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from review.errors import StudyDataError
from review.twobytwo import add_half_to_zero_cells, log_rr_or_rd

__all__ = [
    "METHODS",
    "RANDOM_METHODS",
    "Coefficient",
    "EggerTest",
    "MetaRegression",
    "MetaResult",
    "SubgroupResult",
    "egger_test",
    "leave_one_out",
    "mantel_haenszel",
    "meta_regression",
    "peto",
    "result_dict",
    "rma",
    "subgroup_analysis",
]

Floats = NDArray[np.float64]
METHODS = ("FE", "DL", "REML", "PM")
RANDOM_METHODS = ("DL", "REML", "PM")
LEVEL = 0.95
_REML_THRESHOLD = 1e-10
_MAXITER = 10_000


@dataclass(frozen=True)
class MetaResult:
    """One pooled analysis, with the statistics metafor reports for ``rma``/``rma.mh``/``rma.peto``.

    ``weights`` are percent of the total weight, in input order. ``tau2`` is 0 for FE and None
    for MH/Peto (not defined); ``pi_low``/``pi_high`` equal the CI when tau² = 0 (FE, MH, Peto).
    ``test`` is ``"z"`` or ``"knha"`` (t distribution with ``df`` degrees of freedom).
    """

    method: str
    test: str
    k: int
    estimate: float
    se: float
    stat: float
    pval: float
    ci_low: float
    ci_high: float
    tau2: float | None
    i2: float
    h2: float
    q: float
    q_df: int
    q_pval: float
    pi_low: float
    pi_high: float
    weights: Floats
    yi: Floats
    vi: Floats
    df: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def tau(self) -> float | None:
        """Square root of tau² (None where tau² is not defined)."""
        return None if self.tau2 is None else float(np.sqrt(self.tau2))


@dataclass(frozen=True)
class Coefficient:
    """One meta-regression coefficient with its test and 95% CI."""

    name: str
    estimate: float
    se: float
    stat: float
    pval: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class MetaRegression:
    """A mixed-effects meta-regression (metafor ``rma(yi, vi, mods = ~ x)``)."""

    method: str
    test: str
    k: int
    coefficients: tuple[Coefficient, ...]
    qm: float
    qm_df: tuple[int, int | None]
    qm_pval: float
    q: float
    q_df: int
    q_pval: float
    tau2: float
    i2: float
    h2: float
    r2: float | None


@dataclass(frozen=True)
class SubgroupResult:
    """Per-subgroup fits and the test for subgroup differences (Cochrane Handbook 10.11.3.1)."""

    groups: dict[str, MetaResult]
    q_between: float
    df_between: int
    q_between_pval: float


@dataclass(frozen=True)
class EggerTest:
    """Egger's regression test for funnel-plot asymmetry (metafor ``regtest``, predictor = SE)."""

    stat: float
    pval: float
    df: int | None
    limit_estimate: float
    limit_ci_low: float
    limit_ci_high: float
    method: str
    test: str


@dataclass
class _Fit:
    beta: Floats
    vb: Floats
    tau2: float
    w: Floats
    stat: Floats
    pval: Floats
    ci_low: Floats
    ci_high: Floats
    crit: float
    df: int | None
    q: float
    q_pval: float
    i2: float
    h2: float
    qm: float
    qm_df: tuple[int, int | None]
    qm_pval: float
    test: str
    notes: list[str] = field(default_factory=list)


# --- helpers -------------------------------------------------------------------------------


def _as_arrays(yi: ArrayLike, vi: ArrayLike, labels: Sequence[str] | None) -> tuple[Floats, Floats]:
    y = np.atleast_1d(np.asarray(yi, dtype=float))
    v = np.atleast_1d(np.asarray(vi, dtype=float))
    if y.ndim != 1 or y.shape != v.shape:
        raise StudyDataError(f"yi and vi must be one value per study (got {y.shape} and {v.shape})")
    if y.size == 0:
        raise StudyDataError("no usable study: at least one study with yi and vi is needed")
    for i in range(y.size):
        name = str(labels[i]) if labels is not None else f"study {i + 1}"
        if not np.isfinite(y[i]):
            raise StudyDataError(f"yi must be a finite number, got {y[i]}", study=name)
        if not np.isfinite(v[i]) or v[i] <= 0:
            raise StudyDataError(f"vi must be a finite number > 0, got {v[i]}", study=name)
    return y, v


def _pstats(w: Floats, X: Floats, y: Floats) -> tuple[Floats, float, float]:
    """P y, tr(P) and tr(PP) for P = W - W X (X'WX)^-1 X' W in O(k p²), never forming P.

    With A = W X and M = (X'WX)^-1: tr(P) = sum w - tr(M A'A) and
    tr(PP) = sum w² - 2 tr(M A'WA) + tr((M A'A)²); y'Py = y.Py and y'PPy = |Py|².
    """
    A = w[:, None] * X
    M = np.linalg.inv(X.T @ A)
    Py: Floats = np.asarray(w * y - A @ (M @ (A.T @ y)), dtype=float)
    MAA = M @ (A.T @ A)
    tr_p = float(np.sum(w) - np.trace(MAA))
    tr_pp = float(np.sum(w**2) - 2.0 * np.trace(M @ (A.T @ (w[:, None] * A))) + np.trace(MAA @ MAA))
    return Py, tr_p, tr_pp


def _q_stat(y: Floats, w: Floats, X: Floats) -> float:
    Py, _, _ = _pstats(w, X, y)
    return float(y @ Py)


def _check_method(method: str) -> str:
    m = method.upper()
    if m == "EE":
        m = "FE"
    if m not in METHODS:
        raise StudyDataError(f"unknown pooling method {method!r}; use FE, DL, REML or PM")
    return m


def _tau2_dl(y: Floats, v: Floats, X: Floats) -> float:
    """DerSimonian & Laird (1986) moment estimator, generalised to meta-regression.

    tau² = max(0, (Q - (k - p)) / tr(P)), P built with W = diag(1/vi) (metafor ``method="DL"``;
    Cochrane Handbook 10.10.4.1).
    """
    k, p = X.shape
    Py, tr_p, _ = _pstats(1.0 / v, X, y)
    return max(0.0, (float(y @ Py) - (k - p)) / tr_p)


def _tau2_pm(y: Floats, v: Floats, X: Floats) -> float:
    """Paule & Mandel (1982) estimator: the tau² at which the generalised Q equals k - p.

    Q(tau²) = y' P(tau²) y decreases in tau²; its root is found with Brent's method to machine
    precision (metafor ``method="PM"`` uses ``uniroot``; DerSimonian & Kacker 2007).
    """
    k, p = X.shape
    target = float(k - p)

    def f(t: float) -> float:
        return _q_stat(y, 1.0 / (v + t), X) - target

    if f(0.0) <= 0:
        return 0.0
    hi = max(100.0, 10.0 * float(np.var(y)) + float(np.max(v)))
    while f(hi) > 0:
        hi *= 10.0
        if hi > 1e15:
            raise StudyDataError("Paule-Mandel tau² did not converge: heterogeneity beyond 1e15")
    root = optimize.brentq(f, 0.0, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=_MAXITER)
    return float(root)


def _reml_ll(y: Floats, v: Floats, X: Floats, tau2: float) -> float:
    """Restricted log-likelihood up to a constant (Viechtbauer 2005, eq. 9)."""
    w = 1.0 / (v + tau2)
    Py, _, _ = _pstats(w, X, y)
    _, logdet = np.linalg.slogdet(X.T @ (w[:, None] * X))
    return float(-0.5 * np.sum(np.log(v + tau2)) - 0.5 * logdet - 0.5 * (y @ Py))


def _tau2_reml(y: Floats, v: Floats, X: Floats, stepadj: float = 1.0) -> float:
    """Restricted maximum-likelihood tau² by Fisher scoring (Viechtbauer 2005, eq. 12).

    Exactly metafor's iteration: start from the Hedges (HE) estimate, update
    tau² += (y'PPy - tr(P)) / tr(PP), halving steps that would go below 0, and stop when a step
    changes tau² by less than 1e-10 (the threshold the reference values were made with; where
    the likelihood is flat near 0 the scoring creeps, and stopping by the same rule is what
    makes the numbers agree). As metafor, falls back to 0 if the restricted likelihood is
    higher there. ``stepadj`` shortens every step (metafor ``control=list(stepadj=)``).
    """
    k, p = X.shape
    ones = np.ones(k)
    P0y, _, _ = _pstats(ones, X, y)  # ordinary least squares: P0 = I - X (X'X)^-1 X'
    inv = np.linalg.inv(X.T @ X)
    tr_p0v = float(np.sum(v) - np.trace(inv @ (X.T @ (v[:, None] * X))))
    tau2 = max(0.0, (float(y @ P0y) - tr_p0v) / (k - p))
    change = _REML_THRESHOLD + 1.0
    it = 0
    while change > _REML_THRESHOLD:
        it += 1
        old = tau2
        Py, tr_p, tr_pp = _pstats(1.0 / (v + tau2), X, y)
        adj = (float(Py @ Py) - tr_p) / tr_pp
        if not np.isfinite(adj):
            adj = 0.0
        adj *= stepadj
        while tau2 + adj < 0:
            adj /= 2.0
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if it > _MAXITER:
            raise StudyDataError("REML tau² did not converge (Fisher scoring); try DL or PM")
    if tau2 > _REML_THRESHOLD and _reml_ll(y, v, X, 0.0) - _reml_ll(y, v, X, tau2) > 1e-12:
        tau2 = 0.0
    return max(0.0, tau2)


#: Note added when REML needed shortened steps (metafor stops with an error there by default).
REML_HALF_STEPS = (
    "REML: Fisher scoring oscillated with full steps, so steps were halved (metafor "
    "control=list(stepadj=0.5), the remedy its help gives; metafor's default stops with an error)"
)


def _estimate_tau2(method: str, y: Floats, v: Floats, X: Floats, notes: list[str] | None = None) -> float:
    if method == "FE" or y.size == 1:
        return 0.0
    if method == "DL":
        return _tau2_dl(y, v, X)
    if method == "PM":
        return _tau2_pm(y, v, X)
    try:
        return _tau2_reml(y, v, X)
    except StudyDataError:
        tau2 = _tau2_reml(y, v, X, stepadj=0.5)  # Fisher scoring can oscillate about the optimum
        if notes is not None:
            notes.append(REML_HALF_STEPS)
        return tau2


def _q_test(q: float, df: int) -> tuple[float, float, float]:
    """P value of Cochran's Q on ``df`` degrees of freedom, I² = (Q - df)/Q (floored at 0) and
    H² = Q/df, as metafor for fixed-effect fits (Higgins & Thompson 2002; Cochrane Handbook 10.10.2)."""
    q_pval = float(stats.chi2.sf(q, df))
    i2 = max(0.0, 100.0 * (q - df) / q) if q > 0 else 0.0
    return q_pval, i2, q / df


def _fit(y: Floats, v: Floats, X: Floats, method: str, hksj: bool, level: float = LEVEL) -> _Fit:
    """Fit the (mixed-effects) model y = X b + u + e, u ~ N(0, tau²), e ~ N(0, vi).

    Weighted least squares with W = diag(1/(vi + tau²)) (Cochrane Handbook 10.3.1, 10.10.4);
    Knapp & Hartung (2003) / Hartung & Knapp (2001): Var(b) scaled by
    s² = sum w (y - Xb)² / (k - p) and t tests with k - p df (metafor ``test="knha"``, no
    truncation of s² at 1).
    """
    k, p = X.shape
    notes: list[str] = []
    if method == "FE":
        if p > k:
            raise StudyDataError(f"{p} coefficients need at least {p} studies, got {k}")
    elif k > 1 and p + 1 > k:
        raise StudyDataError(
            f"a random-effects model with {p} coefficients needs at least {p + 1} studies, got {k}"
        )
    test = "knha" if hksj else "z"
    if k == 1 and test != "z":
        test = "z"
        notes.append("one study: Hartung-Knapp adjustment not applicable (z test used, as metafor)")
    if k == 1:
        notes.append("one study: tau² set to 0 (as metafor)")
    tau2 = _estimate_tau2(method, y, v, X, notes)
    w = 1.0 / (v + tau2)
    inv: Floats = np.asarray(np.linalg.inv(X.T @ (w[:, None] * X)), dtype=float)
    beta = inv @ (X.T @ (w * y))
    vb = inv.copy()
    df: int | None = None
    if test == "knha":
        rss = float(np.sum(w * (y - X @ beta) ** 2))
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - p)
        vb = s2w * vb
        df = k - p
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = beta / se
    # Test of moderators (all coefficients but the intercept; the intercept alone when p = 1).
    btt = np.arange(1, p) if p > 1 else np.array([0])
    m = int(btt.size)
    sub = vb[np.ix_(btt, btt)]
    try:
        qm = float(beta[btt] @ np.linalg.solve(sub, beta[btt]))
    except np.linalg.LinAlgError:
        qm = float("nan")
    if test == "knha":
        assert df is not None
        qm = qm / m
        qm_df: tuple[int, int | None] = (m, df)
        qm_pval = float(stats.f.sf(qm, m, df)) if df > 0 else float("nan")
        pval = 2 * stats.t.sf(np.abs(stat), df) if df > 0 else np.full(p, np.nan)
        crit = float(stats.t.isf((1 - level) / 2, df)) if df > 0 else float("nan")
    else:
        qm_df = (m, None)
        qm_pval = float(stats.chi2.sf(qm, m))
        pval = 2 * stats.norm.sf(np.abs(stat))
        crit = float(stats.norm.isf((1 - level) / 2))
    # Heterogeneity: Cochran's Q with fixed-effect weights (Cochrane Handbook 10.10.2);
    # I² and H² from tau² and the typical within-study variance
    # vt = (k - p) / tr(P) (Higgins & Thompson 2002; metafor rma.uni) for random effects,
    # and from Q for the fixed-effect model.
    if k > p:
        P0y, tr_p0, _ = _pstats(1.0 / v, X, y)
        q = max(0.0, float(y @ P0y))
        q_pval, i2, h2 = _q_test(q, k - p)
        vt = (k - p) / tr_p0
        if method != "FE":
            i2 = 100.0 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1.0
    else:
        q, q_pval, i2, h2 = 0.0, 1.0, 0.0, 1.0
    return _Fit(
        beta=beta,
        vb=vb,
        tau2=tau2,
        w=w,
        stat=stat,
        pval=np.asarray(pval, dtype=float),
        ci_low=beta - crit * se,
        ci_high=beta + crit * se,
        crit=crit,
        df=df,
        q=q,
        q_pval=q_pval,
        i2=i2,
        h2=h2,
        qm=qm,
        qm_df=qm_df,
        qm_pval=qm_pval,
        test=test,
        notes=notes,
    )


# --- public API ----------------------------------------------------------------------------


def rma(
    yi: ArrayLike,
    vi: ArrayLike,
    method: str = "REML",
    hksj: bool = False,
    *,
    labels: Sequence[str] | None = None,
    level: float = LEVEL,
) -> MetaResult:
    """Pool effect sizes by inverse variance: fixed effect (``FE``) or random effects.

    Parameters
    ----------
    yi, vi
        Effect sizes (log scale for ratio measures) and sampling variances, vi > 0.
    method
        ``FE`` (metafor "EE"), ``DL``, ``REML`` (default) or ``PM``.
    hksj
        Hartung-Knapp-Sidik-Jonkman: scale the variance and use t(k - 1) (metafor ``test="knha"``).
    labels
        Study labels, used only in error messages.

    Notes
    -----
    - Estimate: mu = sum w y / sum w, Var = 1 / sum w, w = 1/(vi + tau²) (Cochrane Handbook
      10.3.1, 10.10.4).
    - tau²: DerSimonian & Laird (1986); REML (Viechtbauer 2005); Paule & Mandel (1982).
    - HKSJ: Hartung & Knapp (2001), Sidik & Jonkman (2002); Cochrane Handbook 10.10.4.2.
    - Prediction interval: mu ± crit sqrt(SE² + tau²), with crit the same normal (or t(k - 1)
      under HKSJ) quantile as the CI: metafor's ``predict()`` default (Riley et al. 2011 use
      t(k - 2) instead; metafor's is reported so the numbers agree).
    - k = 1: tau² = 0, Q = 0 (p = 1), I² = 0, H² = 1, z test (as metafor).
    """
    m = _check_method(method)
    y, v = _as_arrays(yi, vi, labels)
    X = np.ones((y.size, 1))
    f = _fit(y, v, X, m, hksj, level)
    est, se = float(f.beta[0]), float(np.sqrt(f.vb[0, 0]))
    half = f.crit * float(np.sqrt(se**2 + f.tau2))
    return MetaResult(
        method=m,
        test=f.test,
        k=int(y.size),
        estimate=est,
        se=se,
        stat=float(f.stat[0]),
        pval=float(f.pval[0]),
        ci_low=float(f.ci_low[0]),
        ci_high=float(f.ci_high[0]),
        tau2=f.tau2,
        i2=f.i2,
        h2=f.h2,
        q=f.q,
        q_df=max(0, y.size - 1),
        q_pval=f.q_pval,
        pi_low=est - half,
        pi_high=est + half,
        weights=100.0 * f.w / float(np.sum(f.w)),
        yi=y,
        vi=v,
        df=f.df,
        notes=tuple(f.notes),
    )


def meta_regression(
    yi: ArrayLike,
    vi: ArrayLike,
    x: ArrayLike,
    method: str = "REML",
    hksj: bool = False,
    *,
    name: str = "x",
    labels: Sequence[str] | None = None,
    level: float = LEVEL,
) -> MetaRegression:
    """Meta-regression on one study-level covariate (metafor ``rma(yi, vi, mods = ~ x)``).

    Notes
    -----
    Weighted least squares on [1, x] with W = diag(1/(vi + tau²)), tau² by the chosen estimator
    of the residual heterogeneity (Cochrane Handbook 10.11.4; Viechtbauer 2005; Thompson &
    Higgins 2002). QM is the Wald test of the slope (F(1, k - 2) under HKSJ); Q is the residual
    heterogeneity test; I² is residual, from tau² and vt = (k - 2)/tr(P). R² is the proportion
    of tau² explained, max(0, (tau²_0 - tau²)/tau²_0), tau²_0 from the model without the
    covariate with the same estimator (Raudenbush 2009; metafor); None for FE.
    """
    m = _check_method(method)
    y, v = _as_arrays(yi, vi, labels)
    xs = np.asarray(x, dtype=float)
    if xs.shape != y.shape:
        raise StudyDataError(f"the moderator needs one value per study ({y.size}), got {xs.size}")
    if not np.all(np.isfinite(xs)):
        raise StudyDataError("the moderator must be a finite number for every study")
    if np.ptp(xs) == 0:
        raise StudyDataError("the moderator has the same value in every study; nothing to regress on")
    X = np.column_stack([np.ones(y.size), xs])
    f = _fit(y, v, X, m, hksj, level)
    se = np.sqrt(np.diag(f.vb))
    coefs = tuple(
        Coefficient(
            name="intercept" if j == 0 else name,
            estimate=float(f.beta[j]),
            se=float(se[j]),
            stat=float(f.stat[j]),
            pval=float(f.pval[j]),
            ci_low=float(f.ci_low[j]),
            ci_high=float(f.ci_high[j]),
        )
        for j in range(2)
    )
    r2: float | None = None
    if m != "FE":
        tau2_0 = _estimate_tau2(m, y, v, np.ones((y.size, 1)))
        r2 = 0.0 if tau2_0 == 0 else max(0.0, 100.0 * (tau2_0 - f.tau2) / tau2_0)
    return MetaRegression(
        method=m,
        test=f.test,
        k=int(y.size),
        coefficients=coefs,
        qm=f.qm,
        qm_df=f.qm_df,
        qm_pval=f.qm_pval,
        q=f.q,
        q_df=int(y.size - 2),
        q_pval=f.q_pval,
        tau2=f.tau2,
        i2=f.i2,
        h2=f.h2,
        r2=r2,
    )


def subgroup_analysis(
    yi: ArrayLike,
    vi: ArrayLike,
    groups: Sequence[str],
    method: str = "REML",
    hksj: bool = False,
    *,
    labels: Sequence[str] | None = None,
    level: float = LEVEL,
) -> SubgroupResult:
    """Pool each subgroup separately (own tau²) and test for subgroup differences.

    Notes
    -----
    The test for subgroup differences is Cochran's Q of a fixed-effect meta-analysis of the
    subgroup estimates with their standard errors, df = (number of subgroups) - 1 (Cochrane
    Handbook 10.11.3.1; Borenstein et al. 2009, ch. 19; metafor's worked example
    ``rma(estimates, sei = ses, method = "EE")``; RevMan's "test for subgroup differences").
    """
    y, v = _as_arrays(yi, vi, labels)
    g = [str(x) for x in groups]
    if len(g) != y.size:
        raise StudyDataError(f"the subgroup column needs one value per study ({y.size}), got {len(g)}")
    fits: dict[str, MetaResult] = {}
    for value in sorted(set(g)):
        idx = [i for i, x in enumerate(g) if x == value]
        sub_labels = [labels[i] for i in idx] if labels is not None else None
        fits[value] = rma(y[idx], v[idx], method, hksj, labels=sub_labels, level=level)
    if len(fits) < 2:
        raise StudyDataError(f"subgroup analysis needs at least two subgroups, got {len(fits)}")
    est = np.array([r.estimate for r in fits.values()])
    ses = np.array([r.se for r in fits.values()])
    between = rma(est, ses**2, "FE")
    return SubgroupResult(
        groups=fits,
        q_between=between.q,
        df_between=len(fits) - 1,
        q_between_pval=between.q_pval,
    )


def egger_test(
    yi: ArrayLike, vi: ArrayLike, method: str = "REML", hksj: bool = False, *, level: float = LEVEL
) -> EggerTest:
    """Egger's regression test: the slope on the standard error in ``rma(yi, vi, mods = ~ sqrt(vi))``.

    Notes
    -----
    Egger et al. (1997) as generalised by Sterne & Egger (2005) and implemented in metafor's
    ``regtest()`` (model = "rma", predictor = "sei"): the test statistic and p-value are those
    of the SE coefficient; the intercept is the limit estimate (effect as SE -> 0). Cochrane
    Handbook 13.3.5.4 advises the test only with at least 10 studies.
    """
    y, v = _as_arrays(yi, vi, None)
    if y.size < 3:
        raise StudyDataError(f"Egger's test needs at least 3 studies, got {y.size}")
    m = _check_method(method)
    X = np.column_stack([np.ones(y.size), np.sqrt(v)])
    f = _fit(y, v, X, m, hksj, level)
    return EggerTest(
        stat=float(f.stat[1]),
        pval=float(f.pval[1]),
        df=f.df,
        limit_estimate=float(f.beta[0]),
        limit_ci_low=float(f.ci_low[0]),
        limit_ci_high=float(f.ci_high[0]),
        method=m,
        test=f.test,
    )


def leave_one_out(
    yi: ArrayLike, vi: ArrayLike, method: str = "REML", hksj: bool = False, *, level: float = LEVEL
) -> list[MetaResult]:
    """Refit without each study in turn (metafor ``leave1out``); result i omits study i."""
    y, v = _as_arrays(yi, vi, None)
    if y.size < 2:
        raise StudyDataError("leave-one-out needs at least 2 studies")
    keep = np.ones(y.size, dtype=bool)
    out = []
    for i in range(y.size):
        keep[:] = True
        keep[i] = False
        out.append(rma(y[keep], v[keep], method, hksj, level=level))
    return out


# --- binary-outcome methods ----------------------------------------------------------------


def _tables(ai: ArrayLike, n1i: ArrayLike, ci: ArrayLike, n2i: ArrayLike) -> tuple[Floats, ...]:
    a = np.atleast_1d(np.asarray(ai, dtype=float))
    n1 = np.atleast_1d(np.asarray(n1i, dtype=float))
    c = np.atleast_1d(np.asarray(ci, dtype=float))
    n2 = np.atleast_1d(np.asarray(n2i, dtype=float))
    if not (a.shape == n1.shape == c.shape == n2.shape) or a.ndim != 1:
        raise StudyDataError("ai, n1i, ci, n2i must have one value per study")
    if a.size == 0:
        raise StudyDataError("no usable study: at least one 2x2 table is needed")
    if (
        np.any(n1 <= 0)
        or np.any(n2 <= 0)
        or np.any(a < 0)
        or np.any(c < 0)
        or np.any(a > n1)
        or np.any(c > n2)
    ):
        raise StudyDataError("each 2x2 table needs 0 <= events <= n and n > 0 in both arms")
    return a, n1 - a, c, n2 - c


def _iv_heterogeneity(
    a: Floats, b: Floats, c: Floats, d: Floats, measure: str, beta: float
) -> tuple[Floats, Floats, float, int, float, float, float]:
    """Cochran's Q around the MH/Peto estimate with escalc yi/vi (add 1/2 to zero cells,
    studies with no events or only events in both arms dropped: metafor ``drop00=TRUE``)."""
    keep = ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
    a, b, c, d = a[keep], b[keep], c[keep], d[keep]
    a, b, c, d, _ = add_half_to_zero_cells(a, b, c, d)
    if measure != "PETO":
        y, v = log_rr_or_rd(a, b, c, d, measure)
    else:
        n1, n2 = a + b, c + d
        n = n1 + n2
        xt, yt = a + c, b + d
        E = xt * n1 / n
        V = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
        y = (a - E) / V
        v = 1 / V
    k_yi = int(y.size)
    if k_yi > 1:
        q = max(0.0, float(np.sum((y - beta) ** 2 / v)))
        q_pval, i2, h2 = _q_test(q, k_yi - 1)
    else:
        q, q_pval, i2, h2 = 0.0, 1.0, 0.0, 1.0
    return y, v, q, k_yi, q_pval, i2, h2


def _one_step_result(
    method: str,
    k: int,
    beta: float,
    se: float,
    level: float,
    *,
    q: float,
    q_df: int,
    q_pval: float,
    i2: float,
    h2: float,
    weights: Floats,
    yi: Floats,
    vi: Floats,
) -> MetaResult:
    """The result of a fixed-effect MH/Peto estimate: z test and Wald CI
    (Cochrane Handbook 10.4.2), no tau², so the prediction interval is the CI."""
    z = beta / se
    crit = float(stats.norm.isf((1 - level) / 2))
    lo, hi = beta - crit * se, beta + crit * se
    return MetaResult(
        method=method,
        test="z",
        k=k,
        estimate=beta,
        se=se,
        stat=z,
        pval=float(2 * stats.norm.sf(abs(z))),
        ci_low=lo,
        ci_high=hi,
        tau2=None,
        i2=i2,
        h2=h2,
        q=q,
        q_df=q_df,
        q_pval=q_pval,
        pi_low=lo,
        pi_high=hi,
        weights=weights,
        yi=yi,
        vi=vi,
    )


def mantel_haenszel(
    ai: ArrayLike,
    n1i: ArrayLike,
    ci: ArrayLike,
    n2i: ArrayLike,
    measure: str = "OR",
    *,
    level: float = LEVEL,
) -> MetaResult:
    """Mantel-Haenszel fixed-effect pooling of 2x2 tables (metafor ``rma.mh`` defaults).

    Notes
    -----
    Cochrane Handbook 10.4.2; counts are used as they are (no continuity correction).

    - OR: Mantel & Haenszel (1959); variance of log OR by Robins, Breslow & Greenland (1986).
    - RR: Greenland & Robins (1985) estimator and variance of log RR.
    - RD: weights n1 n2 / N; variance by Sato, Greenland & Robins (1989).

    Q (df = studies with a usable yi - 1) compares escalc's per-study effects with the MH
    estimate using inverse-variance weights; I² = (Q - df)/Q, H² = Q/df, as metafor.
    Weights (percent) are metafor's ``weights.rma.mh``: b c/N (OR), c n1/N (RR), n1 n2/N (RD).
    """
    measure = measure.upper()
    if measure not in ("OR", "RR", "RD"):
        raise StudyDataError(f"Mantel-Haenszel pools RR, OR or RD, not {measure!r}")
    a, b, c, d = _tables(ai, n1i, ci, n2i)
    n1, n2 = a + b, c + d
    N = n1 + n2
    wts: Floats
    if measure == "OR":
        R, S = a * d / N, b * c / N
        if R.sum() == 0 or S.sum() == 0:
            raise StudyDataError(
                "Mantel-Haenszel odds ratio is undefined: no study has events in one arm and non-events in the other"
            )
        beta = float(np.log(R.sum() / S.sum()))
        Pi, Qi = (a + d) / N, (b + c) / N
        Rs, Ss = R.sum(), S.sum()
        se = float(
            np.sqrt(
                0.5 * (np.sum(Pi * R) / Rs**2 + np.sum(Pi * S + Qi * R) / (Rs * Ss) + np.sum(Qi * S) / Ss**2)
            )
        )
        wts = b * c / N
    elif measure == "RR":
        if a.sum() == 0 or c.sum() == 0:
            raise StudyDataError(
                "Mantel-Haenszel risk ratio is undefined: no events in one of the arms in any study"
            )
        r_sum, s_sum = float(np.sum(a * n2 / N)), float(np.sum(c * n1 / N))
        beta = float(np.log(r_sum / s_sum))
        se = float(np.sqrt(np.sum((n1 / N) * (n2 / N) * (a + c) - (a / N) * c) / (r_sum * s_sum)))
        wts = np.asarray(c * n1 / N, dtype=float)
    else:
        W = np.sum(n1 * n2 / N)
        beta = float(np.sum(a * (n2 / N) - c * (n1 / N)) / W)
        var = (
            beta * np.sum(c * (n1 / N) ** 2 - a * (n2 / N) ** 2 + (n1 / N) * (n2 / N) * (n2 - n1) / 2)
            + np.sum(a * (n2 - c) / N + c * (n1 - a) / N) / 2
        ) / W**2
        se = float(np.sqrt(var))
        wts = n1 * n2 / N
    if not np.isfinite(se) or se <= 0:
        raise StudyDataError("Mantel-Haenszel standard error is undefined for these tables")
    y, v, q, k_yi, q_pval, i2, h2 = _iv_heterogeneity(a, b, c, d, measure, beta)
    total = float(np.sum(wts))
    return _one_step_result(
        "MH",
        int(a.size),
        beta,
        se,
        level,
        q=q,
        q_df=max(0, k_yi - 1),
        q_pval=q_pval,
        i2=i2,
        h2=h2,
        weights=100 * wts / total if total > 0 else np.full(a.size, np.nan),
        yi=y,
        vi=v,
    )


def peto(ai: ArrayLike, n1i: ArrayLike, ci: ArrayLike, n2i: ArrayLike, *, level: float = LEVEL) -> MetaResult:
    """Peto's one-step odds ratio (metafor ``rma.peto`` defaults).

    Notes
    -----
    Yusuf et al. (1985); Cochrane Handbook 10.4.4.2. With O - E = a - (a+c) n1/N and
    V = (a+c)(b+d) n1 n2 / (N² (N - 1)) per study: log OR = sum(O - E)/sum V, SE = 1/sqrt(sum V),
    Q = sum (O - E)²/V - (sum(O - E))²/sum V over studies with V > 0. Weights are V (percent).
    """
    a, b, c, d = _tables(ai, n1i, ci, n2i)
    n1, n2 = a + b, c + d
    N = n1 + n2
    xt, yt = a + c, b + d
    E = xt * n1 / N
    with np.errstate(invalid="ignore", divide="ignore"):
        V = np.where(N > 1, xt * yt * (n1 / N) * (n2 / N) / (N - 1), 0.0)
    if V.sum() == 0:
        raise StudyDataError(
            "Peto's method cannot be used: one of the two outcomes never occurred in any table"
        )
    beta = float(np.sum(a - E) / V.sum())
    se = float(1 / np.sqrt(V.sum()))
    pos = V > 0
    q = max(0.0, float(np.sum((a - E)[pos] ** 2 / V[pos]) - np.sum(a - E) ** 2 / V[pos].sum()))
    keep = ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
    k_yi = int(keep.sum())
    y, v, *_ = _iv_heterogeneity(a, b, c, d, "PETO", beta)
    if int(pos.sum()) > 1:
        q_pval, i2, h2 = _q_test(q, k_yi - 1)
    else:
        q_pval, i2, h2 = 1.0, 0.0, 1.0
    return _one_step_result(
        "PETO",
        int(a.size),
        beta,
        se,
        level,
        q=q,
        q_df=max(0, k_yi - 1),
        q_pval=q_pval,
        i2=i2,
        h2=h2,
        weights=100 * V / V.sum(),
        yi=y,
        vi=v,
    )


def result_dict(res: MetaResult) -> dict[str, Any]:
    """Plain-number summary of a :class:`MetaResult` (for JSON and tables)."""
    return {
        "method": res.method,
        "test": res.test,
        "k": res.k,
        "estimate": res.estimate,
        "se": res.se,
        "stat": res.stat,
        "pval": res.pval,
        "ci_low": res.ci_low,
        "ci_high": res.ci_high,
        "tau2": res.tau2,
        "i2": res.i2,
        "h2": res.h2,
        "q": res.q,
        "q_df": res.q_df,
        "q_pval": res.q_pval,
        "pi_low": res.pi_low,
        "pi_high": res.pi_high,
    }
