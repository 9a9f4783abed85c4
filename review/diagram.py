"""The PRISMA 2020 flow diagram drawn with matplotlib, laid out as the statement's template.

Layout follows the PRISMA 2020 flow diagram for new systematic reviews which included searches
of databases, registers and other sources (Page et al., BMJ 2021;372:n71, figure 1): a
yellow title over the databases-and-registers column, a grey one over the other-methods
column (drawn only when such sources exist), blue side bars for Identification, Screening and
Included, records flowing down the left column and removals to the right. Every box is sized
from its measured text, so long database lists and exclusion reasons wrap inside their box.

While the review is in progress (``data["provisional"]``, or any record still undecided) the
diagram is marked PROVISIONAL with its date (a red banner and a faint watermark), and the
records and reports without a final decision get dashed amber boxes of their own beside the
step they wait at (records awaiting screening or in conflict; reports awaiting
classification, Cochrane Handbook chapter 4), never folded into excluded or included.

The input is the plain dict ``review.prisma.PrismaCounts.as_dict()`` writes to
``prisma.json`` (this module does not import other stages).
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

__all__ = ["draw_prisma", "prisma_figure"]

FONT = 8.5
PAD = 0.09  # inches between a box edge and its text
ROW_GAP = 0.34  # inches between rows (room for the arrow)
COL_GAP = 0.45
SIDE_W = 0.36
MARGIN = 0.18
YELLOW = "#FFE699"
GREY = "#D9D9D9"
BLUE = "#BDD7EE"
INK = "#1A1A1A"
AMBER = "#FCE4D6"  # boxes of records and reports still awaiting a decision
AMBER_EDGE = "#C55A11"
ALERT = "#B00020"  # the PROVISIONAL banner and watermark
ALERT_FILL = "#FDECEA"
STACK_GAP = 0.16  # inches between two boxes stacked beside one step


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _n(value: Any) -> str:
    """A count as printed in a box; the caller's '(n = ' is kept on one line by _wrap."""
    return "NA" if value is None else f"{int(value):,}"


_NBSP = "\u00a0"


def _keep(text: str) -> str:
    """Glue '(n = 12)' together so wrapping never splits a count from its label."""
    return text.replace("(n = ", f"(n{_NBSP}={_NBSP}")


@dataclass
class _Box:
    """One box: its lines (text, indent level), alignment and, after layout, its place in inches."""

    lines: list[tuple[str, int]]
    align: str = "left"
    fill: str = "white"
    bold: bool = False
    edge: str = INK
    dashed: bool = False
    x: float = 0.0
    y: float = 0.0  # bottom
    w: float = 0.0
    h: float = 0.0
    text: str = ""

    @property
    def top(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def _listing(title: str, items: Sequence[Mapping[str, Any]], name: str, value: str) -> list[tuple[str, int]]:
    """A box's title and one indented line per item; a title with no items below loses its colon."""
    if not items:
        return [(title.rstrip(":"), 0)]
    lines = [(title, 0)]
    lines += [(f"{_cap(str(item[name]))} (n = {_n(item[value])})", 1) for item in items]
    return lines


def _boxes(data: Mapping[str, Any]) -> dict[str, _Box]:
    """The content of every box from the counts dict."""
    dbs = data.get("database_specific_results") or []
    regs = data.get("register_specific_results") or []
    ident: list[tuple[str, int]] = [("Records identified from:", 0)]
    ident += [(f"Databases (n = {_n(data['database_results'])})", 1)]
    ident += [(f"{d['name']} (n = {_n(d['records'])})", 2) for d in dbs]
    if regs or data.get("register_results"):
        ident += [(f"Registers (n = {_n(data.get('register_results'))})", 1)]
        ident += [(f"{r['name']} (n = {_n(r['records'])})", 2) for r in regs]
    removed = [
        ("Records removed before screening:", 0),
        (f"Duplicate records removed (n = {_n(data['duplicates'])})", 1),
        (f"Records marked as ineligible by automation tools (n = {_n(data['excluded_automatic'])})", 1),
        (f"Records removed for other reasons (n = {_n(data['excluded_other'])})", 1),
    ]
    reasons = data.get("dbr_excluded") or []
    excluded = _listing(
        f"Reports excluded (n = {_n(sum(r['reports'] for r in reasons))}):", reasons, "reason", "reports"
    )
    marked = _is_provisional(data)
    so_far = " so far" if marked else ""
    included = [
        (f"Studies included in review{so_far} (n = {_n(data['total_studies'])})", 0),
        (f"Reports of included studies{so_far} (n = {_n(data['total_reports'])})", 0),
    ]
    screened = "Records screened or awaiting a decision" if marked else "Records screened"
    boxes = {
        "identified": _Box(ident),
        "removed": _Box(removed),
        "screened": _Box([(f"{screened} (n = {_n(data['records_screened'])})", 0)]),
        "excluded": _Box([(f"Records excluded (n = {_n(data['records_excluded'])})", 0)]),
        "sought": _Box([(f"Reports sought for retrieval (n = {_n(data['dbr_sought_reports'])})", 0)]),
        "notretrieved": _Box([(f"Reports not retrieved (n = {_n(data['dbr_notretrieved_reports'])})", 0)]),
        "assessed": _Box([(f"Reports assessed for eligibility (n = {_n(data['dbr_assessed'])})", 0)]),
        "reasons": _Box(excluded),
        "included": _Box(included),
    }
    if data.get("total_studies_ma") is not None:
        boxes["ma"] = _Box(
            [
                (f"Studies included in meta-analysis{so_far} (n = {_n(data['total_studies_ma'])})", 0),
                (f"Reports of studies in meta-analysis{so_far} (n = {_n(data.get('total_reports_ma'))})", 0),
            ]
        )
    if _has_other(data):
        other = [("Records identified from:", 0)]
        for key, label in (
            ("website_results", "Websites"),
            ("organisation_results", "Organisations"),
            ("citations_results", "Citation searching"),
        ):
            if data.get(key):
                other.append((f"{label} (n = {_n(data[key])})", 1))
        oreasons = data.get("other_excluded") or []
        boxes.update(
            {
                "o_identified": _Box(other),
                "o_sought": _Box(
                    [(f"Reports sought for retrieval (n = {_n(data['other_sought_reports'])})", 0)]
                ),
                "o_notretrieved": _Box(
                    [(f"Reports not retrieved (n = {_n(data['other_notretrieved_reports'])})", 0)]
                ),
                "o_assessed": _Box(
                    [(f"Reports assessed for eligibility (n = {_n(data['other_assessed'])})", 0)]
                ),
                "o_reasons": _Box(
                    _listing(
                        f"Reports excluded (n = {_n(sum(r['reports'] for r in oreasons))}):",
                        oreasons,
                        "reason",
                        "reports",
                    )
                ),
            }
        )
    boxes.update(_awaiting_boxes(data, other=_has_other(data)))
    if marked:
        boxes["banner"] = _Box(
            [(_banner_text(data), 0)], align="center", fill=ALERT_FILL, bold=True, edge=ALERT
        )
    for key in ("screened", "sought", "assessed", "o_sought", "o_assessed", "included", "ma"):
        if key in boxes:
            boxes[key].align = "center"
    return boxes


def _count(data: Mapping[str, Any], key: str) -> int:
    return int(data.get(key) or 0)


def _awaiting(title: str, parts: Sequence[tuple[str, int]]) -> _Box | None:
    """A dashed amber box of records or reports without a final decision, one line per kind (None if none)."""
    total = sum(n for _, n in parts)
    if not total:
        return None
    lines = [(f"{title} (n = {_n(total)}):", 0)] + [(f"{label} (n = {_n(n)})", 1) for label, n in parts if n]
    return _Box(lines, fill=AMBER, edge=AMBER_EDGE, dashed=True)


def _awaiting_boxes(data: Mapping[str, Any], *, other: bool) -> dict[str, _Box]:
    """The boxes of unfinished steps: records awaiting a title/abstract decision, reports awaiting classification."""
    waiting = "Awaiting screening"
    conflict = "In conflict, awaiting resolution"
    retrieval = "Awaiting retrieval or decision"
    found = {
        "awaiting": _awaiting(
            "Records awaiting a decision",
            [(waiting, _count(data, "records_awaiting")), (conflict, _count(data, "records_in_conflict"))],
        ),
        "ft_awaiting": _awaiting(
            "Reports awaiting classification",
            [
                (retrieval, _count(data, "dbr_reports_awaiting")),
                (conflict, _count(data, "dbr_reports_in_conflict")),
            ],
        ),
    }
    if other:
        found["o_ta_awaiting"] = _awaiting(
            "Records awaiting a decision",
            [
                (waiting, _count(data, "other_records_awaiting")),
                (conflict, _count(data, "other_records_in_conflict")),
            ],
        )
        found["o_ft_awaiting"] = _awaiting(
            "Reports awaiting classification",
            [
                (retrieval, _count(data, "other_reports_awaiting")),
                (conflict, _count(data, "other_reports_in_conflict")),
            ],
        )
    return {k: b for k, b in found.items() if b is not None}


_UNFINISHED = (
    "records_awaiting",
    "records_in_conflict",
    "dbr_reports_awaiting",
    "dbr_reports_in_conflict",
    "other_records_awaiting",
    "other_records_in_conflict",
    "other_reports_awaiting",
    "other_reports_in_conflict",
)


def _is_provisional(data: Mapping[str, Any]) -> bool:
    """Marked PROVISIONAL when asked, and always while a record or report awaits a decision."""
    return bool(data.get("provisional")) or any(_count(data, k) for k in _UNFINISHED)


def _as_of(data: Mapping[str, Any]) -> str:
    info = data.get("provisional")
    return str(info.get("as_of")) if isinstance(info, Mapping) and info.get("as_of") else "date not recorded"


def _banner_text(data: Mapping[str, Any]) -> str:
    """The banner over a provisional diagram: what it is, its date, what is still open."""
    ta = sum(_count(data, k) for k in _UNFINISHED if "records" in k)
    ft = sum(_count(data, k) for k in _UNFINISHED if "reports" in k)
    open_ = []
    if ta:
        open_.append(
            f"{ta:,} record{'s' if ta != 1 else ''} await{'' if ta != 1 else 's'} a title/abstract decision"
        )
    if ft:
        open_.append(f"{ft:,} report{'s' if ft != 1 else ''} await{'' if ft != 1 else 's'} classification")
    done = "every record has a final decision" if _count(data, "records_screened") else "no records yet"
    state = "; ".join(open_) if open_ else done
    return (
        f"PROVISIONAL \u2014 review in progress, not for publication. Counts as of {_as_of(data)}: {state}."
    )


def _has_other(data: Mapping[str, Any]) -> bool:
    return any(data.get(k) for k in ("website_results", "organisation_results", "citations_results")) or bool(
        data.get("other_sought_reports")
    )


def _text_size(fig: Figure, text: str, weight: str = "normal") -> tuple[float, float]:
    """Width and height in inches of ``text`` as drawn (measured by the renderer)."""
    t = fig.text(0, 0, text, fontsize=FONT, weight=weight, linespacing=1.3)
    bb = t.get_window_extent(renderer=fig.canvas.get_renderer())  # type: ignore[attr-defined]
    t.remove()
    return bb.width / fig.dpi, bb.height / fig.dpi


def _wrap(fig: Figure, lines: list[tuple[str, int]], width: float, weight: str = "normal") -> str:
    """Wrap the lines (each with an indent level) so the widest drawn line fits ``width`` inches."""
    chars = max(12, int(width / (0.56 * FONT / 72)))
    while True:
        out: list[str] = []
        for text, level in lines:
            first = "    " * level
            out += textwrap.wrap(
                _keep(text), chars, initial_indent=first, subsequent_indent=first + "   "
            ) or [""]
        joined = "\n".join(out)
        if chars <= 12 or _text_size(fig, joined, weight)[0] <= width:
            return joined
        chars -= 2


# Boxes drawn below another in the same row and column: (upper, lower). Each gets an arrow of its own.
_STACKS = (("excluded", "awaiting"), ("notretrieved", "ft_awaiting"), ("o_notretrieved", "o_ft_awaiting"))


def prisma_figure(data: Mapping[str, Any]) -> Figure:
    """The PRISMA 2020 flow diagram of ``data`` (the ``prisma.json`` dict) as a matplotlib figure."""
    other = _has_other(data)
    box_w = 2.75 if other else 3.35
    n_cols = 4 if other else 2
    x0 = MARGIN + SIDE_W + 0.22
    cols = [x0 + i * (box_w + COL_GAP) for i in range(n_cols)]
    if other:
        cols[2] += 0.25  # a clear gap between the two columns of the template
        cols[3] += 0.25
    fig_w = cols[-1] + box_w + MARGIN
    fig = plt.figure(figsize=(fig_w, 10), dpi=100)
    boxes = _boxes(data)
    banner = boxes.pop("banner", None)
    col_of = {
        "identified": 0,
        "removed": 1,
        "screened": 0,
        "excluded": 1,
        "awaiting": 1,
        "sought": 0,
        "notretrieved": 1,
        "ft_awaiting": 1,
        "assessed": 0,
        "reasons": 1,
        "included": 0,
        "ma": 0,
        "o_identified": 2,
        "o_ta_awaiting": 3,
        "o_sought": 2,
        "o_notretrieved": 3,
        "o_ft_awaiting": 3,
        "o_assessed": 2,
        "o_reasons": 3,
    }
    for key, box in boxes.items():
        box.x, box.w = cols[col_of[key]], box_w
        box.text = _wrap(fig, box.lines, box_w - 2 * PAD)
        box.h = _text_size(fig, box.text)[1] + 2 * PAD
    stacks = [(a, b) for a, b in _STACKS if a in boxes and b in boxes]
    lower = {b: a for a, b in stacks}
    upper = {a: b for a, b in stacks}
    rows = [
        ["identified", "removed", "o_identified", "o_ta_awaiting"],
        ["screened", "excluded", "awaiting"],
        ["sought", "notretrieved", "ft_awaiting", "o_sought", "o_notretrieved", "o_ft_awaiting"],
        ["assessed", "reasons", "o_assessed", "o_reasons"],
        ["included"],
    ]
    if "ma" in boxes:
        rows.append(["ma"])
    # header titles, and over them the PROVISIONAL banner across the whole width
    heads = [("Identification of new studies via databases and registers", cols[0], cols[1] + box_w, YELLOW)]
    if other:
        heads.append(("Identification of new studies via other methods", cols[2], cols[3] + box_w, GREY))
    head_text = [_wrap(fig, [(t, 0)], (b - a) - 2 * PAD, "bold") for t, a, b, _ in heads]
    head_h = max(_text_size(fig, t, "bold")[1] for t in head_text) + 2 * PAD
    banner_h = 0.0
    if banner is not None:
        banner.x, banner.w = MARGIN, fig_w - 2 * MARGIN
        banner.text = _wrap(fig, banner.lines, banner.w - 2 * PAD, "bold")
        banner.h = _text_size(fig, banner.text, "bold")[1] + 2 * PAD
        banner_h = banner.h + 0.16

    def natural(key: str) -> float:
        """The height a box needs in its row (a stacked pair needs both and the gap)."""
        if key in upper:
            return boxes[key].h + STACK_GAP + boxes[upper[key]].h
        return boxes[key].h

    heights = [max(natural(k) for k in row if k in boxes and k not in lower) for row in rows]
    last = len(rows) - 1
    bars = [("Identification", 0, 0), ("Screening", 1, 3), ("Included", 4, last)]
    for label, first, end in bars:  # a side bar must be long enough for its rotated label
        need = _text_size(fig, label, "bold")[0] * (FONT + 0.5) / FONT + 2 * PAD
        have = sum(heights[first : end + 1]) + ROW_GAP * (end - first)
        if have < need:
            heights[first] += need - have
            for k in rows[first]:
                if k in boxes and k in ("included", "ma"):
                    boxes[k].h = heights[first]
    total_h = MARGIN + banner_h + head_h + 0.28 + sum(heights) + ROW_GAP * (len(rows) - 1) + MARGIN
    fig.set_size_inches(fig_w, total_h)
    y = total_h - MARGIN - banner_h - head_h - 0.28
    row_top: list[float] = []
    for row, h in zip(rows, heights, strict=True):
        row_top.append(y)
        for k in row:
            if k not in boxes or k in lower:
                continue
            box = boxes[k]
            if k in upper:  # two boxes beside one step share the row, each grown by half the spare height
                below = boxes[upper[k]]
                spare = (h - natural(k)) / 2
                box.h += spare
                below.h += spare
                box.y = y - box.h
                below.y = y - h
            else:
                box.h = h if k not in ("included", "ma") else box.h
                box.y = y - box.h
        y -= h + ROW_GAP
    if banner is not None:
        banner.y = total_h - MARGIN - banner.h

    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, fig_w)
    ax.set_ylim(0, total_h)
    ax.axis("off")

    def rect(box: _Box, lw: float = 0.9) -> None:
        ax.add_patch(
            Rectangle(
                (box.x, box.y),
                box.w,
                box.h,
                facecolor=box.fill,
                edgecolor=box.edge,
                linewidth=lw,
                linestyle=(0, (4, 2.5)) if box.dashed else "solid",
                joinstyle="miter",
            )
        )

    def rounded(x: float, yb: float, w: float, h: float, fill: str) -> None:
        """A title or phase box: rounded corners, as in the PRISMA 2020 template."""
        style = f"round,pad=0,rounding_size={min(0.1, w / 4, h / 4):.3f}"
        ax.add_patch(
            FancyBboxPatch((x, yb), w, h, boxstyle=style, facecolor=fill, edgecolor=INK, linewidth=0.9)
        )

    # titles over the columns
    for (_, a, b, fill), text in zip(heads, head_text, strict=True):
        top = total_h - MARGIN - banner_h
        rounded(a, top - head_h, b - a, head_h, fill)
        ax.text(
            (a + b) / 2,
            top - head_h / 2,
            text,
            ha="center",
            va="center",
            fontsize=FONT,
            weight="bold",
            linespacing=1.3,
            color=INK,
        )

    # side bars
    for label, first, end in bars:
        top = row_top[first]
        bottom = row_top[end] - heights[end]
        rounded(MARGIN, bottom, SIDE_W, top - bottom, BLUE)
        ax.text(
            MARGIN + SIDE_W / 2,
            (top + bottom) / 2,
            label,
            rotation=90,
            ha="center",
            va="center",
            fontsize=FONT + 0.5,
            weight="bold",
            color=INK,
        )

    def write(box: _Box, color: str = INK) -> None:
        """The box's text, centred or left-aligned with the padding."""
        centred = box.align == "center"
        ax.text(
            box.cx if centred else box.x + PAD,
            box.cy,
            box.text,
            ha="center" if centred else "left",
            va="center",
            fontsize=FONT,
            weight="bold" if box.bold else "normal",
            linespacing=1.3,
            multialignment="center" if centred else "left",
            color=color,
        )

    if banner is not None:
        rect(banner, lw=1.6)
        write(banner, ALERT)
        # a watermark over the whole figure, so a cropped copy still says what it is
        angle = float(np.degrees(np.arctan2(total_h, fig_w)))
        mark = fig.text(0.5, 0.5, "PROVISIONAL", ha="center", va="center", rotation=angle, fontsize=100,
                        weight="bold", color=ALERT, alpha=0.07, zorder=10)  # fmt: skip
        width = _text_size(fig, "PROVISIONAL", "bold")[0] * 100 / FONT  # unrotated, at 100 pt
        mark.set_fontsize(100 * 0.7 * float(np.hypot(fig_w, total_h)) / width)

    for box in boxes.values():
        rect(box)
        write(box)

    def arrow(start: tuple[float, float], end: tuple[float, float], *via: tuple[float, float]) -> None:
        points = [start, *via, end]
        for p, q in itertools.pairwise(points[:-1]):
            ax.plot([p[0], q[0]], [p[1], q[1]], color=INK, linewidth=0.9, solid_capstyle="butt")
        ax.add_patch(
            FancyArrowPatch(
                points[-2],
                points[-1],
                arrowstyle="-|>",
                mutation_scale=9,
                color=INK,
                linewidth=0.9,
                shrinkA=0,
                shrinkB=0,
            )
        )

    def down(a: str, b: str) -> None:
        arrow((boxes[a].cx, boxes[a].y), (boxes[b].cx, boxes[b].top))

    def right(a: str, b: str) -> None:
        if b not in boxes:
            return
        if b in lower or b in upper:  # one of two boxes beside the step: aim at its own middle
            yy = boxes[b].cy
        else:
            yy = min(boxes[a].cy, boxes[b].cy) if boxes[a].h == boxes[b].h else boxes[a].cy
        arrow((boxes[a].x + boxes[a].w, yy), (boxes[b].x, yy))

    for top_key, bottom_key in (
        ("identified", "screened"),
        ("screened", "sought"),
        ("sought", "assessed"),
        ("assessed", "included"),
    ):
        down(top_key, bottom_key)
    for left_key, right_key in (
        ("identified", "removed"),
        ("screened", "excluded"),
        ("screened", "awaiting"),
        ("sought", "notretrieved"),
        ("sought", "ft_awaiting"),
        ("assessed", "reasons"),
    ):
        right(left_key, right_key)
    if "ma" in boxes:
        down("included", "ma")
    if other:
        down("o_identified", "o_sought")
        down("o_sought", "o_assessed")
        right("o_identified", "o_ta_awaiting")
        right("o_sought", "o_notretrieved")
        right("o_sought", "o_ft_awaiting")
        right("o_assessed", "o_reasons")
        src, inc = boxes["o_assessed"], boxes["included"]
        arrow((src.cx, src.y), (inc.x + inc.w, inc.cy), (src.cx, inc.cy))
    return fig


def draw_prisma(data: Mapping[str, Any], stem: str | Path, *, dpi: int = 300) -> tuple[Path, Path]:
    """Draw the flow diagram to ``stem.png`` (``dpi``, default 300) and ``stem.svg``; return both paths."""
    fig = prisma_figure(data)
    stem = Path(stem)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    meta = {"Title": "PRISMA 2020 flow diagram"}
    if _is_provisional(data):
        meta["Title"] += f" - PROVISIONAL, counts as of {_as_of(data)}, not for publication"
    try:
        fig.savefig(png, dpi=dpi, facecolor="white", metadata=meta)
        # SVG text stays text (not outlines), so the counts can be edited in a manuscript.
        with plt.rc_context({"svg.fonttype": "none"}):
            fig.savefig(svg, facecolor="white", metadata=meta)
    finally:
        plt.close(fig)
    return png, svg
