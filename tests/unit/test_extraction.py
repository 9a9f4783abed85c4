"""The extraction form, cell-by-cell validation, consensus and the tidy arm pairs (pure)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from review.conversions import combine_groups, from_median_iqr, from_se
from review.errors import InputError
from review.extraction import (
    ROW,
    Context,
    Form,
    RawSheet,
    arm_pairs,
    consensus,
    from_cells,
    load_form,
    parse_form,
    study_label,
    to_cells,
    validate_sheets,
)
from review.project.extract import context_from_protocol
from review.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
FORM = ROOT / "extraction_forms" / "crps.yaml"
PROTOCOL = ROOT / "protocols" / "ketamine-crps.yaml"


@pytest.fixture(scope="module")
def form() -> Form:
    return load_form(FORM)


@pytest.fixture(scope="module")
def ctx() -> Context:
    return context_from_protocol(load_protocol(PROTOCOL))


def _sheets(form: Form, **rows: list[dict[str, Any]]) -> dict[str, RawSheet]:
    out = {}
    for sheet in form.sheets:
        cols = {f.name: get_column_letter(i) for i, f in enumerate(sheet.fields, start=1)}
        data = rows.get(sheet.entity, [])
        out[sheet.name] = RawSheet(sheet.name, cols, [(r, values) for r, values in enumerate(data, start=2)])
    return out


STUDY = {
    "record_id": 1,
    "study": "Trial 2020",
    "n_randomised": 60,
    "crps_criteria": "Budapest",
    "illustrative": "no",
}
ARMS = [
    {"study": "Trial 2020", "arm": "ket", "intervention_class": "iv_ketamine", "n_randomised": 30},
    {"study": "Trial 2020", "arm": "pla", "intervention_class": "placebo", "n_randomised": 30},
]


def _outcome(arm: str, **values: Any) -> dict[str, Any]:
    row = {"study": "Trial 2020", "arm": arm, "domain": "pain", "instrument": "NRS 0-10", "timepoint_days": 7}
    row.update({"stat_type": "mean/SD", "n": 30, "mean": 4.0, "sd": 2.0})
    row.update(values)
    return row


def test_real_form_loads_with_every_sheet(form: Form) -> None:
    assert [s.entity for s in form.sheets] == ["study", "arm", "outcome", "rob"]
    assert form.instrument("VAS 0-100 mm") is not None
    assert form.md_common_scale["pain"] == (0.0, 10.0)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"sheets": []}, "no 'name'"),
        ({"name": "x", "sheets": [], "bogus": 1}, "unknown form key 'bogus'"),
        (
            {"name": "x", "sheets": [{"name": "S", "entity": "study", "fields": [{"name": "study"}]}]},
            "must keep",
        ),
        ({"name": "x", "sheets": [{"name": "S", "entity": "zzz", "fields": []}]}, "entity must be one of"),
        (
            {"name": "x", "sheets": [], "instruments": [{"name": "A", "domain": "pain", "min": 5, "max": 1}]},
            "min must be below max",
        ),
    ],
)
def test_bad_forms_are_refused(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_form(data, "f.yaml")
    assert fragment in str(info.value)


def test_valid_extraction_has_no_problems(form: Form, ctx: Context) -> None:
    ext, problems = validate_sheets(
        form, ctx, _sheets(form, study=[STUDY], arm=ARMS, outcome=[_outcome("ket"), _outcome("pla")])
    )
    assert problems == []
    assert len(ext.entity("outcome")) == 2


def _cols(form: Form, entity: str) -> dict[str, str]:
    return {f.name: get_column_letter(i) for i, f in enumerate(form.sheet(entity).fields, start=1)}


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"sd": 0}, "sd", "SD must be > 0"),
        ({"sd": -1.5}, "sd", "SD must be > 0"),
        ({"n": 31}, "n", "larger than the 30 randomised"),
        ({"timepoint_days": None}, "timepoint_days", "timepoint_days"),
        ({"mean": 11.0}, "mean", "outside the NRS 0-10 scale"),
        ({"sd": 20.0}, "sd", "larger than any 30 values on the 0-10 scale can have"),
        ({"instrument": "Made-up Pain Scale"}, "instrument", "unknown instrument"),
        ({"stat_type": "mean and whatever"}, "stat_type", "not one of the dropdown values"),
        (
            {"stat_type": "median/IQR", "median": 4, "q1": 5, "q3": 3},
            "median",
            "q1 (5) is larger than q3 (3)",
        ),
        (
            {"stat_type": "mean/95% CI", "ci_low": 1.0, "ci_high": 3.0, "mean": 4.0},
            "mean",
            "outside its 95% CI",
        ),
        (
            {
                "domain": "adverse_events",
                "instrument": "Any adverse event",
                "stat_type": "events/N",
                "events": 40,
                "n": 30,
            },
            "events",
            "more than n",
        ),
        ({"stat_type": "events/N", "events": 4}, "stat_type", "the protocol pools pain as MD"),
        ({"arm": "nope"}, "arm", "not on the Arms sheet"),
        ({"n": "many"}, "n", "must be a number"),
        ({"n": 2.5}, "n", "whole number"),
        ({"mean": "4,500"}, "mean", "decimal comma or a thousands separator"),
    ],
)
def test_bad_cells_are_named(
    form: Form, ctx: Context, change: dict[str, Any], field: str, fragment: str
) -> None:
    change = dict(change)
    bad = _outcome(change.pop("arm", "ket"), **change)
    _ext, problems = validate_sheets(
        form, ctx, _sheets(form, study=[STUDY], arm=ARMS, outcome=[_outcome("pla"), bad])
    )
    assert problems, "the bad cell was accepted"
    first = problems[0]
    assert fragment in first.message
    assert (first.sheet, first.row, first.column) == ("Outcomes", 3, _cols(form, "outcome")[field])
    assert str(first).startswith(f"sheet 'Outcomes' cell {_cols(form, 'outcome')[field]}3: ")


def test_arm_larger_than_study_and_bad_rob(form: Form, ctx: Context) -> None:
    arms = [dict(ARMS[0], n_randomised=50), ARMS[1]]
    rob = [{"study": "Trial 2020", "domain": "all", "d1_randomisation": "high", "overall": "low"}]
    _e, problems = validate_sheets(form, ctx, _sheets(form, study=[STUDY], arm=arms, rob=rob))
    messages = [str(p) for p in problems]
    assert any("Arms" in m and "add up to 80, more than the 60 randomised" in m for m in messages)
    assert any(
        "Risk of bias" in m and "overall 'low' is better than the worst domain ('high')" in m
        for m in messages
    )


def test_choice_values_are_matched_case_insensitively(form: Form, ctx: Context) -> None:
    study = dict(STUDY, crps_criteria="budapest")
    ext, problems = validate_sheets(form, ctx, _sheets(form, study=[study], arm=ARMS))
    assert problems == []
    assert next(iter(ext.entity("study").values()))["crps_criteria"] == "Budapest"


def test_cells_round_trip(form: Form, ctx: Context) -> None:
    sheets = _sheets(form, study=[STUDY], arm=ARMS, outcome=[_outcome("ket", mean=3.25), _outcome("pla")])
    ext, _ = validate_sheets(form, ctx, sheets)
    cells = to_cells(ext)
    again = from_cells(form, cells)
    assert again.rows == {e: rows for e, rows in ext.rows.items() if rows}
    assert to_cells(again) == cells


def test_consensus_lists_cells_and_rows_and_applies_resolutions() -> None:
    k = '["S", "a"]'
    a = {("arm", k, "n_randomised"): "30", ("arm", k, "dose"): "1 mg", ("arm", '["S", "b"]', "arm"): "b"}
    b = {("arm", k, "n_randomised"): "31", ("arm", k, "dose"): "1 mg"}
    merged, open_ = consensus({"ann": a, "bob": b})
    assert merged == {("arm", k, "dose"): "1 mg"}
    assert {(d.key, d.field) for d in open_} == {(k, "n_randomised"), ('["S", "b"]', ROW)}
    n_dis = next(d for d in open_ if d.field == "n_randomised")
    assert dict(n_dis.values) == {"ann": "30", "bob": "31"}
    merged, open_ = consensus(
        {"ann": a, "bob": b}, {("arm", k, "n_randomised"): "30", ("arm", '["S", "b"]', ROW): "keep"}
    )
    assert open_ == []
    assert merged[("arm", k, "n_randomised")] == "30"
    assert merged[("arm", '["S", "b"]', "arm")] == "b"


def test_study_label() -> None:
    assert study_label("Sigtermans MJ", 2009) == "Sigtermans 2009"
    assert study_label("Kemler, M A", 2000, ["Kemler 2000"]) == "Kemler 2000a"


# --- tidy pairs ------------------------------------------------------------------------------


def _pairs(
    form: Form,
    ctx: Context,
    outcomes: list[dict[str, Any]],
    arms: list[dict[str, Any]] = ARMS,
    study: dict[str, Any] = STUDY,
) -> list[Any]:
    ext, problems = validate_sheets(form, ctx, _sheets(form, study=[study], arm=arms, outcome=outcomes))
    assert problems == [], [str(p) for p in problems]
    return arm_pairs(form, ctx, ext)


def test_pairs_convert_and_flag(form: Form, ctx: Context) -> None:
    pairs = _pairs(form, ctx, [_outcome("ket", stat_type="mean/SE", sd=None, se=0.5), _outcome("pla")])
    (p,) = pairs
    assert (p.comparison, p.window, p.measure, p.outcome_type) == (
        "IV ketamine vs placebo",
        "<= 2 weeks",
        "MD",
        "final",
    )
    assert p.data["sd1i"] == pytest.approx(from_se(30, 4.0, 0.5).sd)
    assert p.converted and "6.5.2.2" in p.conversion_method and p.conversion_method.startswith("arm 1:")
    assert p.illustrative is False
    assert p.direction.startswith("lower = better (pain")


def test_higher_is_better_scale_is_reversed_and_rescaled(form: Form, ctx: Context) -> None:
    relief = "Pain relief NRS 0-10 (higher = more relief)"
    rows = [_outcome("ket", instrument=relief, mean=7.0), _outcome("pla", instrument=relief, mean=3.0)]
    (p,) = _pairs(form, ctx, rows)
    # relief 7 vs 3 on 0-10, higher better -> pain-direction 3 vs 7: ketamine is better (MD < 0)
    assert (p.data["m1i"], p.data["m2i"]) == (3.0, 7.0)
    assert "reversed" in p.conversion_method
    vas = [
        _outcome("ket", instrument="VAS 0-100 mm", mean=40.0, sd=20.0),
        _outcome("pla", instrument="VAS 0-100 mm", mean=60.0, sd=25.0),
    ]
    (q,) = _pairs(form, ctx, vas)
    assert (q.data["m1i"], q.data["sd1i"], q.data["m2i"], q.data["sd2i"]) == pytest.approx(
        (4.0, 2.0, 6.0, 2.5)
    )
    assert "rescaled 0-100 to 0-10" in q.conversion_method


def test_change_scores_are_negated_not_reflected(form: Form, ctx: Context) -> None:
    relief = "Pain relief NRS 0-10 (higher = more relief)"
    rows = [
        _outcome("ket", instrument=relief, stat_type="change mean/SD", mean=3.0),
        _outcome("pla", instrument=relief, stat_type="change mean/SD", mean=1.0),
    ]
    (p,) = _pairs(form, ctx, rows)
    assert (p.data["m1i"], p.data["m2i"]) == (-3.0, -1.0)
    assert p.outcome_type == "change"


def test_windows_latest_time_point_and_instrument_priority(form: Form, ctx: Context) -> None:
    rows = [
        _outcome("ket", timepoint_days=30, mean=5.0),
        _outcome("pla", timepoint_days=30, mean=6.0),
        _outcome("ket", timepoint_days=84, mean=4.0),
        _outcome("pla", timepoint_days=84, mean=6.5),
        _outcome("ket", timepoint_days=84, instrument="VAS 0-100 mm", mean=10.0),
        _outcome("pla", timepoint_days=84, instrument="VAS 0-100 mm", mean=90.0),
        _outcome("ket", timepoint_days=200, mean=3.0),  # no placebo at 200: no > 3 months row
    ]
    ext, problems = validate_sheets(form, ctx, _sheets(form, study=[STUDY], arm=ARMS, outcome=rows))
    assert problems == []
    unused: list[dict[str, Any]] = []
    pairs = arm_pairs(form, ctx, ext, unused)
    assert [(p.window, p.timepoint_days, p.instrument) for p in pairs] == [
        ("2 weeks to 3 months", 84.0, "NRS 0-10")
    ]
    assert pairs[0].data["m1i"] == 4.0
    # nothing is dropped silently: the five rows not used are listed with the reason
    reasons = {(u["arm"], u["timepoint_days"], u["instrument"]): u["reason"] for u in unused}
    assert len(reasons) == 5
    assert "no matching row" in reasons[("ket", 200.0, "NRS 0-10")]
    assert reasons[("pla", 84.0, "VAS 0-100 mm")].startswith("another instrument")


def test_time_point_outside_windows_and_unpaired_class_are_reported(form: Form, ctx: Context) -> None:
    from dataclasses import replace

    narrow = replace(ctx, windows=ctx.windows[:1])  # only <= 2 weeks
    arms = [
        *ARMS,
        {
            "study": "Trial 2020",
            "arm": "gmi",
            "intervention_class": "graded_motor_imagery",
            "n_randomised": 10,
        },
    ]
    study = dict(STUDY, n_randomised=70)
    rows = [
        _outcome("ket", timepoint_days=30),
        _outcome("pla", timepoint_days=30),
        _outcome("gmi", n=10, timepoint_days=7),
    ]
    ext, problems = validate_sheets(form, narrow, _sheets(form, study=[study], arm=arms, outcome=rows))
    assert problems == []
    unused: list[dict[str, Any]] = []
    assert arm_pairs(form, narrow, ext, unused) == []
    reasons = {u["arm"]: u["reason"] for u in unused}
    assert reasons["ket"] == reasons["pla"] == "time point outside every follow-up window of the protocol"
    assert reasons["gmi"].startswith("no protocol comparison pairs 'graded_motor_imagery'")


def test_two_arms_of_one_class_are_combined(form: Form, ctx: Context) -> None:
    arms = [
        *ARMS,
        {"study": "Trial 2020", "arm": "ket-high", "intervention_class": "iv_ketamine", "n_randomised": 20},
    ]
    study = dict(STUDY, n_randomised=80)
    rows = [
        _outcome("ket", stat_type="median/IQR", mean=None, sd=None, median=4, q1=2, q3=6),
        _outcome("ket-high", n=20, mean=3.0, sd=1.5),
        _outcome("pla"),
    ]
    (p,) = _pairs(form, ctx, rows, arms=arms, study=study)
    low = from_median_iqr(30, 4, 2, 6)
    n, mean, sd = combine_groups(30, low.mean, low.sd, 20, 3.0, 1.5)
    assert (p.data["n1i"], p.data["m1i"], p.data["sd1i"]) == pytest.approx((n, mean, sd))
    assert "2 arms combined (Cochrane Handbook table 6.5.a)" in p.conversion_method


def test_binary_and_illustrative(form: Form, ctx: Context) -> None:
    rows = [
        _outcome(
            "ket",
            domain="adverse_events",
            instrument="Psychomimetic effects",
            stat_type="events/N",
            mean=None,
            sd=None,
            events=23,
            illustrative="yes",
        ),
        _outcome(
            "pla",
            domain="adverse_events",
            instrument="Psychomimetic effects",
            stat_type="events/N",
            mean=None,
            sd=None,
            events=5,
        ),
    ]
    (p,) = _pairs(form, ctx, rows)
    assert p.measure == "RR" and p.data == {"ai": 23.0, "n1i": 30.0, "ci": 5.0, "n2i": 30.0}
    assert p.illustrative is True
    assert not math.isnan(p.data["ai"])


def test_percent_of_n_becomes_events(form: Form, ctx: Context) -> None:
    # Sigtermans 2009: psychomimetic effects in 76% vs 18% of 30 per arm -> 23 and 5 events
    ae = {
        "domain": "adverse_events",
        "instrument": "Psychomimetic effects",
        "stat_type": "percent/N",
        "mean": None,
        "sd": None,
    }
    (p,) = _pairs(form, ctx, [_outcome("ket", percent=76, **ae), _outcome("pla", percent=18, **ae)])
    assert (p.data["ai"], p.data["ci"]) == (23.0, 5.0)
    assert "events = 76% of 30 = 23 (rounded)" in p.conversion_method and p.converted
    bad = _outcome("ket", percent=120, **ae)
    _e, problems = validate_sheets(form, ctx, _sheets(form, study=[STUDY], arm=ARMS, outcome=[bad]))
    assert any("percent" in pr.message for pr in problems)


def test_a_form_without_the_percent_column_does_not_offer_percent(ctx: Context) -> None:
    import yaml

    from review.extraction import choices_for

    data = yaml.safe_load(FORM.read_text(encoding="utf-8"))
    outcome = next(s for s in data["sheets"] if s["entity"] == "outcome")
    outcome["fields"] = [f for f in outcome["fields"] if f["name"] != "percent"]
    small = parse_form(data)
    stat = small.sheet("outcome").field("stat_type")
    assert "percent/N" not in choices_for(small, stat, ctx)
    assert "percent/N" in choices_for(load_form(FORM), stat, ctx)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mean=st.floats(0, 10, allow_nan=False),
    sd=st.floats(0.001, 5, allow_nan=False),
    day=st.integers(0, 3650),
    n=st.integers(2, 30),
)
def test_cells_round_trip_any_value(
    form: Form, ctx: Context, mean: float, sd: float, day: int, n: int
) -> None:
    rows = [_outcome("ket", mean=mean, sd=sd, timepoint_days=day, n=n)]
    ext, problems = validate_sheets(form, ctx, _sheets(form, study=[STUDY], arm=ARMS, outcome=rows))
    assert problems == []
    again = from_cells(form, to_cells(ext))
    (row,) = again.entity("outcome").values()
    assert (row["mean"], row["sd"], row["timepoint_days"], row["n"]) == (mean, sd, day, n)


def test_decimal_comma_typed_as_text_is_read(form: Form, ctx: Context) -> None:
    ext, problems = validate_sheets(
        form, ctx, _sheets(form, study=[STUDY], arm=ARMS, outcome=[_outcome("ket", mean="4,5", sd=" 2.25 ")])
    )
    assert problems == []
    (row,) = ext.entity("outcome").values()
    assert (row["mean"], row["sd"]) == (4.5, 2.25)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("0,002", 0.002),  # a leading 0 is never a thousands group
        ("-0,125", -0.125),
        ("12,5", 12.5),
        ("\u22122.4", -2.4),  # typographic minus, as PDFs print it
        ("\u2013 3".replace(" ", ""), -3.0),
        ("3.5\u00a0", 3.5),
        ("1\u202f250", 1250.0),  # a narrow no-break space groups thousands (French typography)
    ],
)
def test_numbers_as_pasted(typed: str, value: float) -> None:
    from review.extraction import parse_value

    spec = load_form(FORM).sheet("outcome").field("mean")
    assert parse_value(spec, typed, ()) == pytest.approx(value)


def test_an_ambiguous_thousands_comma_is_refused() -> None:
    from review.extraction import parse_value

    spec = load_form(FORM).sheet("outcome").field("mean")
    with pytest.raises(ValueError, match="decimal comma or a thousands separator"):
        parse_value(spec, "1,250", ())
