"""Forest and funnel plots for a paper: PNG (200 dpi) and SVG, drawn with matplotlib's Agg backend.

Layer 3: takes numbers (labels, yi, vi and a :class:`review.pooling.MetaResult`), never a
project. Ratio measures (RR, OR, ROM) are drawn on a log axis labelled in ratios.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike
from scipy import stats

from review.effects import RATIO_MEASURES
from review.pooling import MetaResult

__all__ = ["MEASURE_NAMES", "forest_plot", "funnel_plot"]

MEASURE_NAMES = {
    "MD": "Mean difference",
    "SMD": "Standardised mean difference (Hedges' g)",
    "ROM": "Ratio of means",
    "RR": "Risk ratio",
    "OR": "Odds ratio",
    "RD": "Risk difference",
    "GEN": "Effect size",
}
METHOD_NAMES = {
    "FE": "Fixed-effect (inverse variance)",
    "DL": "Random-effects (DerSimonian-Laird)",
    "REML": "Random-effects (REML)",
    "PM": "Random-effects (Paule-Mandel)",
    "MH": "Fixed-effect (Mantel-Haenszel)",
    "PETO": "Fixed-effect (Peto)",
}
_Z = float(stats.norm.isf(0.025))
_ILLUSTRATIVE = "ILLUSTRATIVE DATA - not verified; do not cite"


def _outputs(path: str | Path) -> tuple[Path, Path]:
    p = Path(path)
    if p.suffix.lower() in (".png", ".svg", ".pdf"):
        p = p.with_suffix("")
    p.parent.mkdir(parents=True, exist_ok=True)
    return p.with_name(p.name + ".png"), p.with_name(p.name + ".svg")


def _save(fig: Figure, path: str | Path) -> list[Path]:
    png, svg = _outputs(path)
    fig.savefig(png, dpi=200)
    # SVG text stays text (not outlines), so it can be edited and searched in a manuscript.
    with plt.rc_context({"svg.fonttype": "none"}):
        fig.savefig(svg)
    plt.close(fig)
    return [png, svg]


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "P = n/a"
    return "P < 0.001" if p < 0.001 else f"P = {p:.3f}"


def _num(x: float, ratio: bool) -> str:
    v = math.exp(x) if ratio else x
    if not math.isfinite(v):
        return "n/a"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _label_lines(label: str, width: int = 46) -> str:
    """A study label on at most two lines of ``width`` characters.

    A longer label keeps its first line and its end (usually the year), so labels that share a
    long beginning stay distinguishable instead of being cut to the same text.
    """
    text = " ".join(str(label).split())
    if len(text) <= width:
        return text
    lines = textwrap.wrap(text, width)
    if len(lines) <= 2:
        return "\n".join(lines)
    tail = text[-(width - 1) :]
    space = tail.find(" ")
    if 0 <= space < width // 2:
        tail = tail[space + 1 :]
    return lines[0] + "\n…" + tail


def _ratio_ticks(lo: float, hi: float) -> list[float]:
    """Readable ratio ticks for a log axis spanning [lo, hi] (log units).

    Tries mantissa sets from coarse (decades) to fine (1-1.25-1.5-2-...) and keeps the first
    giving 4 to 9 ticks, so a narrow axis (0.4 to 1.3) gets 0.5, 0.7, 1 instead of odd values.
    """
    sets = (
        (1.0,),
        (1.0, 3.0),
        (1.0, 2.0, 5.0),
        (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
        (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0),
    )
    best: list[float] = []
    for steps in sets:
        ticks = [m * 10.0**e for e in range(-4, 5) for m in steps if lo <= math.log(m * 10.0**e) <= hi]
        if len(ticks) > 9:
            break
        best = ticks
        if len(ticks) >= 4:
            break
    if len(best) < 3:  # a narrow axis: evenly spaced ratios (0.9, 0.95, 1, 1.05)
        values = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(math.exp(lo), math.exp(hi))
        best = [float(t) for t in values if t > 0 and lo <= math.log(t) <= hi]
    return [float(f"{t:.4g}") for t in best]


def _favours(lower_is_better: bool | None, experimental: str, control: str) -> tuple[str, str]:
    if lower_is_better is None:
        return f"Lower with {experimental}", f"Higher with {experimental}"
    if lower_is_better:
        return f"Favours {experimental}", f"Favours {control}"
    return f"Favours {control}", f"Favours {experimental}"


def forest_plot(
    labels: Sequence[str],
    yi: ArrayLike,
    vi: ArrayLike,
    result: MetaResult,
    path: str | Path,
    *,
    measure: str = "GEN",
    title: str | None = None,
    experimental: str = "intervention",
    control: str = "control",
    lower_is_better: bool | None = None,
    illustrative: bool = False,
    unit: str | None = None,
) -> list[Path]:
    """Draw a forest plot and save it as PNG and SVG; returns the two paths.

    One row per study (square sized by its weight, 95% CI line, and on the right its effect
    with CI and weight in %), the pooled diamond, the prediction interval (random effects) as
    a bar under the diamond, the heterogeneity and overall-effect line, and under the axis
    which side favours which arm (``lower_is_better`` from the protocol's outcome; None says
    only "lower/higher with intervention"). ``illustrative=True`` stamps the figure as made
    from illustrative (unverified) data. A study whose yi or vi is NaN (no events, or only
    events, in both arms of a ratio: left out of the pooling) keeps its row, marked "Not
    estimable" with no weight, as RevMan shows it (Cochrane Handbook 10.4.4.2).
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    k = y.size
    ratio = measure in RATIO_MEASURES
    se = np.sqrt(v)
    lo, hi = y - _Z * se, y + _Z * se
    w = np.asarray(result.weights, dtype=float)
    estimable = np.isfinite(y) & np.isfinite(v)
    if w.size != k:
        w = np.full(k, 100.0 / max(1, int(estimable.sum())))
    w = np.where(estimable, w, np.nan)

    # Axis limits: everything that matters, with study CIs clipped (arrows) if they would
    # squash the picture.
    core = np.concatenate([y[estimable], [result.ci_low, result.ci_high, result.estimate, 0.0]])
    if result.tau2 and math.isfinite(result.pi_low):
        core = np.concatenate([core, [result.pi_low, result.pi_high]])
    span = float(np.ptp(core)) or 1.0
    xmin = max(float(np.min(np.concatenate([lo[estimable], core]))), float(np.min(core)) - 0.6 * span)
    xmax = min(float(np.max(np.concatenate([hi[estimable], core]))), float(np.max(core)) + 0.6 * span)
    pad = 0.05 * (xmax - xmin or 1.0)
    xmin, xmax = xmin - pad, xmax + pad

    shown = [_label_lines(str(lab)) for lab in labels]
    row_h = 0.36 if any("\n" in lab for lab in shown) else 0.26
    n_rows = k + 4
    # A long title (outcome: comparison, window) wraps rather than running off the figure.
    title_text = textwrap.fill(" ".join(title.split()), 95) if title else ""
    title_h = 0.3 + 0.22 * title_text.count("\n") if title_text else 0.0
    height = max(3.2, n_rows * row_h + 1.9 + (0.3 if illustrative else 0) + title_h)
    fig = plt.figure(figsize=(11.0, height))
    top = 1 - (0.45 + (0.3 if illustrative else 0) + title_h) / height
    bottom = 1.25 / height
    ax_l = fig.add_axes((0.01, bottom, 0.30, top - bottom))
    ax = fig.add_axes((0.32, bottom, 0.40, top - bottom))
    ax_r = fig.add_axes((0.73, bottom, 0.26, top - bottom))
    ymin, ymax = -3.2, k + 0.9
    for a in (ax_l, ax_r):
        a.set_xlim(0, 1)
        a.set_ylim(ymin, ymax)
        a.axis("off")
    ax.set_ylim(ymin, ymax)
    fs = 9 if k <= 25 else 8

    rows = k - np.arange(k)  # first study at the top
    header_y = k + 0.6
    ax_l.text(0.0, header_y, "Study", fontsize=fs, fontweight="bold", va="center")
    name = MEASURE_NAMES.get(measure, measure)
    ax_r.text(
        0.02,
        header_y,
        f"{measure if measure != 'GEN' else 'Effect'} [95% CI]",
        fontsize=fs,
        fontweight="bold",
        va="center",
    )
    ax_r.text(0.98, header_y, "Weight", fontsize=fs, fontweight="bold", va="center", ha="right")
    wmax = float(np.nanmax(w)) if np.any(np.isfinite(w)) else 1.0
    for i in range(k):
        r = rows[i]
        ax_l.text(0.0, r, shown[i], fontsize=fs, va="center", linespacing=1.0)
        if not estimable[i]:
            ax_r.text(0.02, r, "Not estimable", fontsize=fs, va="center", style="italic")
            ax_r.text(0.98, r, "-", fontsize=fs, va="center", ha="right")
            continue
        ax_r.text(
            0.02,
            r,
            f"{_num(y[i], ratio)} [{_num(lo[i], ratio)}, {_num(hi[i], ratio)}]",
            fontsize=fs,
            va="center",
        )
        ax_r.text(
            0.98, r, f"{w[i]:.1f}%" if math.isfinite(w[i]) else "-", fontsize=fs, va="center", ha="right"
        )
        a, b = max(lo[i], xmin), min(hi[i], xmax)
        ax.plot([a, b], [r, r], color="black", lw=0.9, solid_capstyle="butt")
        if lo[i] < xmin:
            ax.plot([xmin], [r], marker="<", color="black", ms=4)
        if hi[i] > xmax:
            ax.plot([xmax], [r], marker=">", color="black", ms=4)
        size = 3.5 + (7 if k > 25 else 10) * math.sqrt(max(w[i], 0) / wmax) if math.isfinite(w[i]) else 4
        if xmin <= y[i] <= xmax:
            ax.plot([y[i]], [r], marker="s", color="#1f4e79", ms=size, mec="#1f4e79")

    # Pooled diamond and prediction interval.
    dy = -1.0
    est, cl, ch = result.estimate, result.ci_low, result.ci_high
    ax.fill([cl, est, ch, est], [dy, dy + 0.35, dy, dy - 0.35], color="#c00000", zorder=3)
    pooled_label = METHOD_NAMES.get(result.method, result.method).replace(" (", ", ").rstrip(")")
    if result.test == "knha":
        pooled_label += ", HKSJ"
    ax_l.text(0.0, dy, f"Total ({pooled_label})", fontsize=fs, va="center", fontweight="bold")
    ax_r.text(
        0.02,
        dy,
        f"{_num(est, ratio)} [{_num(cl, ratio)}, {_num(ch, ratio)}]",
        fontsize=fs,
        va="center",
        fontweight="bold",
    )
    ax_r.text(0.98, dy, "100%", fontsize=fs, va="center", ha="right", fontweight="bold")
    has_pi = result.tau2 is not None and result.method not in ("FE", "MH", "PETO")
    if has_pi:
        py = dy - 0.75
        ax.plot([max(result.pi_low, xmin), min(result.pi_high, xmax)], [py, py], color="#c00000", lw=2.2)
        ax_l.text(0.0, py, "Prediction interval", fontsize=fs, va="center")
        ax_r.text(
            0.02,
            py,
            f"[{_num(result.pi_low, ratio)}, {_num(result.pi_high, ratio)}]",
            fontsize=fs,
            va="center",
        )

    null = 0.0
    ax.axvline(null, color="grey", lw=0.8, zorder=0)
    ax.axvline(est, color="#c00000", lw=0.6, ls=":", zorder=0)
    ax.set_xlim(xmin, xmax)
    ax.set_yticks([])
    for s in ("left", "right", "top"):
        ax.spines[s].set_visible(False)
    if ratio:
        ticks = _ratio_ticks(xmin, xmax)
        ax.set_xticks([math.log(t) for t in ticks])
        ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.tick_params(axis="x", labelsize=fs)
    xlabel = name + (f" ({unit})" if unit else "") + (" (log scale)" if ratio else "")
    ax.set_xlabel(xlabel, fontsize=fs + 1)
    left, right = _favours(lower_is_better, experimental, control)
    anchor = min(0.85, max(0.15, (null - xmin) / (xmax - xmin)))
    ax.annotate(
        "← " + left,
        xy=(anchor - 0.02, 0),
        xycoords="axes fraction",
        xytext=(0, -34),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=fs,
    )
    ax.annotate(
        right + " →",
        xy=(anchor + 0.02, 0),
        xycoords="axes fraction",
        xytext=(0, -34),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=fs,
    )
    het = (
        f"Heterogeneity: Q = {result.q:.2f}, df = {result.q_df} ({_p(result.q_pval)}); I² = {result.i2:.0f}%"
    )
    if has_pi and result.tau2 is not None:
        het = f"Heterogeneity: τ² = {result.tau2:.3g}; " + het[len("Heterogeneity: ") :]
    stat_name = f"t({result.df})" if result.test == "knha" else "Z"
    het += f"\nTest for overall effect: {stat_name} = {abs(result.stat):.2f} ({_p(result.pval)})"
    fig.text(0.01, 0.12 / height * 2, het, fontsize=fs, va="bottom", ha="left")
    if title_text:
        fig.text(0.01, 1 - 0.18 / height, title_text, fontsize=fs + 3, fontweight="bold", va="top")
    if illustrative:
        fig.text(
            0.99,
            1 - (0.3 + title_h) / height,
            _ILLUSTRATIVE,
            fontsize=fs + 1,
            color="#c00000",
            fontweight="bold",
            ha="right",
            va="center",
        )
    return _save(fig, path)


def funnel_plot(
    yi: ArrayLike,
    vi: ArrayLike,
    result: MetaResult,
    path: str | Path,
    *,
    measure: str = "GEN",
    title: str | None = None,
    egger_pval: float | None = None,
    illustrative: bool = False,
) -> list[Path]:
    """Funnel plot: effect against its standard error (inverted axis) with the pseudo 95%
    confidence region around the pooled estimate (Sterne et al. 2011; Cochrane Handbook 13.3.5.2).
    Saves PNG and SVG; returns the two paths."""
    y = np.asarray(yi, dtype=float)
    se = np.sqrt(np.asarray(vi, dtype=float))
    ratio = measure in RATIO_MEASURES
    fig, ax = plt.subplots(figsize=(6.0, 5.0))
    top = float(np.max(se)) * 1.08 if se.size else 1.0
    s = np.linspace(0, top, 50)
    est = result.estimate
    ax.fill_betweenx(s, est - _Z * s, est + _Z * s, color="#dde6f0", zorder=0, label="Pseudo 95% CI")
    ax.plot(est - _Z * s, s, color="grey", lw=0.8, ls="--")
    ax.plot(est + _Z * s, s, color="grey", lw=0.8, ls="--")
    ax.axvline(est, color="#c00000", lw=1.0, label="Pooled estimate")
    ax.scatter(y, se, s=28, color="#1f4e79", edgecolor="white", zorder=3, label="Studies")
    ax.set_ylim(top, 0)
    ax.set_ylabel("Standard error")
    name = MEASURE_NAMES.get(measure, measure)
    ax.set_xlabel(name + (" (log scale)" if ratio else ""))
    if ratio:
        lo, hi = ax.get_xlim()
        ticks = _ratio_ticks(lo, hi)
        if len(ticks) >= 2:
            ax.set_xticks([math.log(t) for t in ticks])
            ax.set_xticklabels([f"{t:g}" for t in ticks])
    heading = textwrap.fill(" ".join(title.split()), 60) if title else "Funnel plot"
    if egger_pval is not None and math.isfinite(egger_pval):
        heading += f"\nEgger's test {_p(egger_pval)} (k = {y.size})"
    ax.set_title(heading, fontsize=10)
    if y.size < 10:
        # Cochrane Handbook 13.3.5.4: asymmetry tests and visual judgement need >= 10 studies.
        ax.set_xlabel(
            f"{ax.get_xlabel()}\nk = {y.size}: too few studies (< 10) to judge asymmetry",
            fontsize=10,
        )
    ax.legend(fontsize=8, loc="best", framealpha=0.9)
    if illustrative:
        fig.text(
            0.5, 0.99, _ILLUSTRATIVE, fontsize=9, color="#c00000", ha="center", va="top", fontweight="bold"
        )
        fig.tight_layout(rect=(0, 0, 1, 0.95))
    else:
        fig.tight_layout()
    return _save(fig, path)
