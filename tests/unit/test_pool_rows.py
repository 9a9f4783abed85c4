"""Pooling's fallback that picks effect rows by intervention/control class (no comparison label)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from review.project.pool import _arm_names, _rows_for
from review.protocol import Comparison, Outcome


def _frame(dtype: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outcome_domain": ["pain", "pain", "pain", "function"],
            "window": ["<= 2 weeks"] * 4,
            "comparison": [None, None, "other", None],
            "intervention_class": ["ketamine", None, "ketamine", "ketamine"],
            "control_class": ["placebo", "placebo", None, "placebo"],
        }
    ).astype(dtype)


@pytest.mark.parametrize("dtype", ["object", "str", "string"])
def test_rows_by_class_when_no_row_has_the_comparison_label(dtype: str) -> None:
    """Missing classes (None, NaN, pd.NA of a nullable string column) are no match, never an error."""
    outcome = Outcome(domain="pain")
    comp = Comparison(label="ketamine-vs-placebo", intervention="ketamine", controls=("placebo",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas 3 warns on `&` between boolean and str dtypes
        rows = _rows_for(_frame(dtype), outcome, comp, "<= 2 weeks")
        none = _rows_for(_frame(dtype).iloc[:0], outcome, comp, "<= 2 weeks")
    assert list(rows.index) == [0]
    assert none.empty


@pytest.mark.parametrize(
    ("label", "intervention", "controls", "expected"),
    [
        ("IV ketamine vs placebo", "iv_ketamine", ("placebo",), ("IV ketamine", "placebo")),
        (
            "Spinal cord stimulation vs. control",
            "scs",
            ("usual_care", "sham"),
            ("Spinal cord stimulation", "control"),
        ),
        (
            "Graded motor imagery versus usual care",
            "gmi",
            ("usual_care",),
            ("Graded motor imagery", "usual care"),
        ),
        (
            "ketamine-vs-placebo",
            "iv_ketamine",
            ("placebo", "usual_care"),
            ("iv ketamine", "placebo / usual care"),
        ),
    ],
)
def test_favours_labels_name_the_arms_as_the_protocol_label_does(
    label: str, intervention: str, controls: tuple[str, ...], expected: tuple[str, str]
) -> None:
    """'Favours IV ketamine', not the class name 'iv ketamine'; a label without 'vs' falls back to classes."""
    assert _arm_names(Comparison(label=label, intervention=intervention, controls=controls)) == expected
