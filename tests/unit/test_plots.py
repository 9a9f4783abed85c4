"""Forest and funnel plots: files written, labels kept distinct, ratio ticks readable."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from review.plots import _label_lines, _ratio_ticks, forest_plot, funnel_plot
from review.pooling import rma


def test_long_labels_wrap_to_two_lines_and_stay_distinct() -> None:
    stem = "Schwartzman and the Complex Regional Pain Syndrome Investigators Consortium multicentre trial"
    shown = [_label_lines(f"{stem} {year}") for year in (2001, 2002, 2003)]
    assert len(set(shown)) == 3
    assert all(s.count("\n") == 1 and len(max(s.split("\n"), key=len)) <= 46 for s in shown)
    assert shown[0].endswith("2001")
    assert _label_lines("Sigtermans 2009") == "Sigtermans 2009"


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (0.27, 1.8, [0.3, 0.5, 0.7, 1.0, 1.5]),
        (0.01, 100, [0.01, 0.1, 1.0, 10.0, 100.0]),
        (0.9, 1.1, [0.9, 0.95, 1.0, 1.05, 1.1]),
    ],
)
def test_ratio_ticks_are_round_numbers(lo: float, hi: float, expected: list[float]) -> None:
    assert _ratio_ticks(math.log(lo), math.log(hi)) == pytest.approx(expected)


def test_forest_and_funnel_write_png_and_svg_with_text_inside_the_figure(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    k = 40
    yi = rng.normal(-1.0, 1.0, k)
    vi = rng.uniform(0.05, 0.5, k)
    labels = [f"A very long trial acronym and investigator group name, report {i}" for i in range(k)]
    res = rma(yi, vi, "REML", True)
    paths = forest_plot(
        labels, yi, vi, res, tmp_path / "forest", measure="MD", title="Pain", illustrative=True
    )
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and b"<svg" in paths[1].read_bytes()[:500]
    assert "ILLUSTRATIVE DATA" in paths[1].read_text()
    fpaths = funnel_plot(
        yi[:5], vi[:5], rma(yi[:5], vi[:5], "REML", False), tmp_path / "funnel", measure="MD"
    )
    assert "too few studies" in fpaths[1].read_text()


def test_a_long_title_wraps_inside_the_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pooled analyses' titles ("outcome description: comparison, window") run to 120
    characters; neither plot may cut them off at the figure's edges."""
    import review.plots as plots

    seen: list[str] = []
    save = plots._save

    def checked(fig: Any, path: Any) -> Any:
        fig.canvas.draw()
        box = fig.bbox
        texts = list(fig.texts) + [t for ax in fig.axes for t in (ax.title, *ax.texts)]
        for text in texts:
            if not text.get_text().strip():
                continue
            ext = text.get_window_extent()
            assert ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1, text.get_text()
            seen.append(text.get_text())
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", checked)
    title = (
        "Participants with any adverse event or with psychomimetic effects: "
        "Spinal cord stimulation vs control, 2 weeks to 3 months"
    )
    yi, vi = np.array([-1.2, -2.1, -0.4]), np.array([0.3, 0.45, 0.25])
    res = rma(yi, vi, "REML", True)
    forest_plot(["A", "B", "C"], yi, vi, res, tmp_path / "f", measure="MD", title=title, illustrative=True)
    funnel_plot(yi, vi, res, tmp_path / "u", measure="MD", title=title, illustrative=True)
    assert sum("psychomimetic" in t for t in seen) == 2
