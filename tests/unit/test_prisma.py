"""PRISMA 2020 counts from rows: each step adds up, the CSV is the PRISMA2020 package's, problems say where."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.patches import FancyBboxPatch, Rectangle

from review.diagram import draw_prisma, prisma_figure
from review.errors import StoreError
from review.prisma import (
    CSV_COLUMNS,
    PROVISIONAL_ROWS,
    check_flow,
    count_flow,
    csv_rows,
    display_name,
    format_list_cell,
    source_kind,
    write_csv,
)

LIST_ROWS = {"database_specific_results", "register_specific_results", "dbr_excluded", "other_excluded"}


def _ta(rid: int, final: str) -> dict[str, Any]:
    return {"record_id": rid, "stage": "title-abstract", "final": final, "reason": None}


def _ft(rid: int, final: str, reason: str | None = None) -> dict[str, Any]:
    return {"record_id": rid, "stage": "full-text", "final": final, "reason": reason}


def scenario() -> dict[str, Any]:
    """PubMed found 1-10 (two searches, overlapping), Embase 11-16; dedup removed 11-14 (copies of 1-4)."""
    identified = [(i, "pubmed") for i in range(1, 8)] + [(i, "pubmed") for i in range(5, 11)]
    identified += [(i, "embase") for i in range(11, 17)]
    unique = set(range(1, 17)) - {11, 12, 13, 14}
    outcomes = [_ta(r, "include" if r in (1, 2, 3, 4, 15) else "exclude") for r in sorted(unique)]
    outcomes += [
        _ft(1, "include"),
        _ft(2, "include"),
        _ft(3, "exclude", "full text not available"),
        _ft(4, "exclude", "wrong population, adults"),
        _ft(15, "exclude", "wrong study design"),
    ]
    return {"identified": identified, "unique_ids": unique, "outcomes": outcomes, "record_ids": range(1, 17)}


def test_counts_of_a_known_review() -> None:
    c = count_flow(**scenario(), study_of={1: "Smith 2019", 2: "Smith 2019"}, pooled_studies={"Smith 2019"})
    assert [(s.name, s.kind, s.records) for s in c.sources] == [
        ("PubMed", "database", 10),
        ("Embase", "database", 6),
    ]
    assert (c.database_results, c.register_results, c.duplicates) == (16, 0, 4)
    assert (c.records_screened, c.records_excluded) == (12, 7)
    assert (c.dbr_sought, c.dbr_not_retrieved, c.dbr_assessed) == (5, 1, 4)
    assert c.dbr_excluded == (("wrong population, adults", 1), ("wrong study design", 1))
    assert (c.new_reports, c.new_studies, c.total_studies) == (2, 1, 1)  # two reports of one trial
    assert (c.studies_ma, c.reports_ma) == (1, 2)
    assert c.problems == ()
    assert check_flow(c) == []


def test_studies_equal_reports_without_links_and_ma_is_na_without_pooling() -> None:
    c = count_flow(**scenario())
    assert (c.new_reports, c.new_studies) == (2, 2)
    assert c.studies_ma is None
    row = {r["data"]: r["n"] for r in csv_rows(c)}
    assert row["total_studies_ma"] == "NA"
    assert c.study_grouping == "one study per report"


def test_a_record_two_sources_found_is_one_duplicate() -> None:
    s = scenario()
    s["identified"] = [*s["identified"], (1, "embase")]  # stored once, credited to both databases
    c = count_flow(**s)
    assert (c.database_results, c.duplicates, c.records_screened) == (17, 5, 12)
    assert check_flow(c) == []


def test_registers_and_other_methods_have_their_own_boxes() -> None:
    identified = [
        (1, "pubmed"),
        (2, "pubmed"),
        (3, "clinicaltrials.gov"),
        (4, "citation searching"),
        (2, "ictrp"),
    ]
    outcomes = [_ta(r, "include") for r in (1, 2, 3, 4)] + [_ft(r, "include") for r in (1, 2, 3, 4)]
    c = count_flow(identified, {1, 2, 3, 4}, outcomes, record_ids=[1, 2, 3, 4])
    assert [s.name for s in c.registers] == ["ClinicalTrials.gov", "WHO ICTRP"]
    assert (c.database_results, c.register_results, c.duplicates) == (2, 2, 1)
    assert c.other_results("citation") == 1
    assert (c.records_screened, c.other_sought, c.other_assessed) == (3, 1, 1)
    assert c.new_reports == 4  # both columns join in the included box
    assert check_flow(c) == []


@pytest.mark.parametrize(
    ("source", "kind", "name"),
    [
        ("pubmed", "database", "PubMed"),
        ("embase-ovid", "database", "Embase"),
        ("Web of Science", "database", "Web of Science"),
        ("ClinicalTrials.gov", "register", "ClinicalTrials.gov"),
        ("who_ictrp", "register", "WHO ICTRP"),
        ("Citation searching", "citation", "Citation searching"),
        ("websites", "website", "websites"),
        ("My trial registry", "register", "My trial registry"),
    ],
)
def test_source_kind_and_name(source: str, kind: str, name: str) -> None:
    assert source_kind(source) == kind
    assert display_name(source) == name


def test_list_cell_has_no_delimiters_inside_labels() -> None:
    cell = format_list_cell([("wrong population, adults; children", 3), ("Embase", 80)])
    assert cell == "Wrong population - adults - children, 3; Embase, 80"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_has_34_rows_exact_columns_and_parsable_cells(tmp_path: Path) -> None:
    c = count_flow(**scenario())
    path = write_csv(c, tmp_path / "prisma.csv")
    with path.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == CSV_COLUMNS
    rows = _read(path)
    assert len(rows) == 34
    keys = [r["data"] for r in rows if r["data"] != "NA"]
    assert len(keys) == len(set(keys)) == 31  # 34 less the three title rows keyed by box
    assert all(r["boxtext"] for r in rows)
    n = {r["data"]: r["n"] for r in rows}
    for key, value in n.items():
        if key in LIST_ROWS:
            assert value == "NA" or re.fullmatch(r"[^,;]+, \d+(; [^,;]+, \d+)*", value), (key, value)
        elif key != "NA":
            assert value == "NA" or value.isdigit(), (key, value)
    assert n["database_specific_results"] == "PubMed, 10; Embase, 6"
    assert n["dbr_excluded"] == "Wrong population - adults, 1; Wrong study design, 1"
    assert (n["database_results"], n["duplicates"], n["records_screened"]) == ("16", "4", "12")
    assert (n["dbr_sought_reports"], n["dbr_notretrieved_reports"], n["dbr_assessed"]) == ("5", "1", "4")
    assert (n["new_reports"], n["total_reports"]) == ("2", "2")
    assert n["register_results"] == "NA"  # no register searched: the line is hidden


def test_pending_and_conflicting_records_are_named() -> None:
    s = scenario()
    s["outcomes"] = [o for o in s["outcomes"] if o["record_id"] != 9] + [_ta(9, "pending")]
    s["outcomes"] = [
        o for o in s["outcomes"] if not (o["record_id"] == 10 and o["stage"] == "title-abstract")
    ]
    s["outcomes"].append(_ta(10, "conflict"))
    c = count_flow(**s)
    text = [str(p) for p in c.errors]
    assert any(
        t.startswith("title-abstract: 1 record with disagreeing") and "record ids 10" in t for t in text
    )
    assert any(
        t.startswith("title-abstract: 1 record awaiting screening") and "record ids 9" in t for t in text
    )
    with pytest.raises(StoreError, match=r"title-abstract: 1 record awaiting screening.*record ids 9"):
        write_csv(c, "/nonexistent/never-written.csv")


def test_full_text_gaps_and_stray_decisions_are_reported() -> None:
    s = scenario()
    s["outcomes"] = [o for o in s["outcomes"] if not (o["record_id"] == 2 and o["stage"] == "full-text")]
    s["outcomes"].append(_ft(9, "include"))  # excluded at title/abstract
    c = count_flow(**s)
    text = [str(p) for p in c.errors]
    assert any(
        t.startswith("full-text: 1 record included at title/abstract without a final") and "2)" in t
        for t in text
    )
    assert any(t.startswith("full-text: 1 record with a full-text decision but not included") for t in text)


def test_records_no_source_found_are_reported() -> None:
    s = scenario()
    s["record_ids"] = range(1, 18)
    s["unique_ids"] = s["unique_ids"] | {17}
    s["outcomes"] = [*s["outcomes"], _ta(17, "exclude")]
    c = count_flow(**s)
    assert [p.where for p in c.errors] == ["identification"]
    assert c.errors[0].record_ids == (17,)


def test_missing_reason_is_a_warning_with_a_label() -> None:
    s = scenario()
    s["outcomes"] = [o for o in s["outcomes"] if o["record_id"] != 15 or o["stage"] != "full-text"]
    s["outcomes"].append(_ft(15, "exclude", ""))
    c = count_flow(**s)
    assert c.errors == ()
    assert ("Reason not recorded", 1) in c.dbr_excluded
    assert c.warnings and c.warnings[0].record_ids == (15,)


@st.composite
def reviews(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 60))
    sources = draw(st.lists(st.sampled_from(["pubmed", "embase", "scopus", "ctgov"]), min_size=n, max_size=n))
    identified = [(i + 1, s) for i, s in enumerate(sources)]
    extra = draw(st.lists(st.tuples(st.integers(1, n), st.sampled_from(["pubmed", "embase"])), max_size=10))
    removed = set(draw(st.lists(st.integers(1, n), max_size=n // 2)))
    if len(removed) == n:
        removed.discard(n)
    unique = set(range(1, n + 1)) - removed
    outcomes = []
    for rid in sorted(unique):
        ta = draw(st.sampled_from(["include", "exclude"]))
        outcomes.append(_ta(rid, ta))
        if ta == "include":
            ft = draw(st.sampled_from(["include", "exclude"]))
            why = draw(st.sampled_from(["wrong population", "full text not available", "wrong outcome"]))
            outcomes.append(_ft(rid, ft, why if ft == "exclude" else None))
    return {
        "identified": identified + extra,
        "unique_ids": unique,
        "outcomes": outcomes,
        "record_ids": range(1, n + 1),
    }


@settings(max_examples=60, deadline=None)
@given(reviews())
def test_flow_adds_up_at_every_step(review: dict[str, Any]) -> None:
    c = count_flow(**review)
    assert c.errors == ()
    assert check_flow(c) == []
    assert sum(s.records for s in c.databases) == c.database_results
    assert c.identified - c.duplicates == len(review["unique_ids"]) == c.records_screened
    n = {r["data"]: r["n"] for r in csv_rows(c)}
    assert len(csv_rows(c)) == 34
    cell = n["database_specific_results"]  # NA when only registers were searched
    listed = [int(part.rpartition(",")[2]) for part in cell.split(";")] if cell != "NA" else []
    assert sum(listed) == int(n["database_results"])


def _many_databases() -> dict[str, Any]:
    names = ["pubmed", "embase", "central", "scopus", "wos", "cinahl", "psycinfo", "lilacs"]
    names += ["Latin American and Caribbean Health Sciences Literature regional index (long name)", "ictrp"]
    identified = [(k * 100 + j, s) for k, s in enumerate(names) for j in range(k + 2)]
    ids = {rid for rid, _ in identified}
    reasons = [
        "wrong population",
        "wrong study design (not randomised: cohort or case series)",
        "no usable data",
    ]
    outcomes = [_ta(r, "include") for r in ids] + [
        _ft(r, "exclude" if r % 3 else "include", reasons[r % 3] if r % 3 else None) for r in ids
    ]
    c = count_flow(identified, ids, outcomes, record_ids=ids, pooled_studies=set())
    return c.as_dict()


@pytest.mark.parametrize("case", ["known", "many-databases", "provisional", "provisional-other-methods"])
def test_diagram_text_stays_inside_boxes_and_boxes_do_not_overlap(case: str) -> None:
    data = {
        "known": lambda: count_flow(**scenario()).as_dict(),
        "many-databases": _many_databases,
        "provisional": lambda: _provisional_data(other=False),
        "provisional-other-methods": lambda: _provisional_data(other=True),
    }[case]()
    fig = prisma_figure(data)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    rects = [p.get_window_extent(renderer) for p in ax.patches if isinstance(p, Rectangle | FancyBboxPatch)]
    assert len(rects) >= 12  # header, 3 side bars, 9+ flow boxes
    for t in ax.texts:
        bb = t.get_window_extent(renderer)
        assert any(
            r.x0 - 0.5 <= bb.x0 and bb.x1 <= r.x1 + 0.5 and r.y0 - 0.5 <= bb.y0 and bb.y1 <= r.y1 + 0.5
            for r in rects
        ), f"text {t.get_text()!r} spills out of its box"
    for a, b in combinations(rects, 2):
        overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
        overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
        assert overlap_w <= 1 or overlap_h <= 1, "two boxes overlap"
    texts = "\n".join(t.get_text() for t in ax.texts).replace("\u00a0", " ")
    if case == "known":
        for needle in ("PubMed (n = 10)", "Duplicate records removed (n = 4)", "Records screened (n = 12)",
                       "Reports not retrieved (n = 1)", "Studies included in review (n = 2)"):  # fmt: skip
            assert needle in texts
    elif case == "many-databases":
        assert "Registers (n = 11)" in texts and "WHO ICTRP (n = 11)" in texts
        assert "PROVISIONAL" not in texts and not fig.texts  # a finished review: no banner, no watermark
    else:
        texts = " ".join(texts.split())  # a narrow column wraps a count onto the next line
        assert "PROVISIONAL \u2014 review in progress, not for publication" in texts
        assert "Counts as of 2026-11-25 15:04 UTC" in texts
        for needle in ("Records awaiting a decision (n = 2)", "Awaiting screening (n = 1)",
                       "In conflict, awaiting resolution (n = 1)", "Reports awaiting classification (n = 2)",
                       "Records screened or awaiting a decision (n = ", "Studies included in review so far"):  # fmt: skip
            assert needle in texts, needle
        assert [t.get_text() for t in fig.texts] == ["PROVISIONAL"]  # the watermark
        if case == "provisional-other-methods":
            assert (
                texts.count("Reports awaiting classification (n = 1)") == 1
            )  # other methods: 30 in conflict
            assert "Records awaiting a decision (n = 1)" in texts  # other methods: 31 awaits screening
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_diagram_files_png_300_dpi_and_svg(tmp_path: Path) -> None:
    png, svg = draw_prisma(count_flow(**scenario()).as_dict(), tmp_path / "prisma")
    assert png.stat().st_size > 10_000 and svg.stat().st_size > 10_000
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    from PIL import Image

    with Image.open(png) as img:
        assert round(img.info["dpi"][0]) == 300
        assert img.size[0] > 2000  # > 6.7 in wide at 300 dpi


def test_decisions_on_records_later_removed_as_duplicates_are_warnings_not_counted() -> None:
    s = scenario()
    s["outcomes"] = [*s["outcomes"], _ta(11, "include"), _ft(11, "include")]  # 11 was removed by dedup
    c = count_flow(**s)
    assert c.errors == ()
    assert [(p.where, p.record_ids) for p in c.warnings] == [("title-abstract", (11,)), ("full-text", (11,))]
    assert (c.records_screened, c.new_reports) == (12, 2)


# --- provisional counts: the review in progress ---------------------------------------------


def unfinished_scenario() -> dict[str, Any]:
    """``scenario`` half-way: 9 awaits screening, 10 in conflict; at full text 2 awaits, 15 in conflict."""
    s = scenario()
    keep = [o for o in s["outcomes"] if not (o["stage"] == "title-abstract" and o["record_id"] in (9, 10))]
    keep = [o for o in keep if not (o["stage"] == "full-text" and o["record_id"] in (2, 15))]
    s["outcomes"] = [*keep, _ta(9, "pending"), _ta(10, "conflict"), _ft(2, "pending"), _ft(15, "conflict")]
    return s


def _adds_up(c: Any) -> None:
    """Every provisional box adds up (PRISMA 2020 flow, with the undecided in boxes of their own)."""
    assert c.identified == c.duplicates + c.excluded_automatic + c.excluded_other + c.records_screened
    assert (
        c.records_screened == c.records_excluded + c.records_awaiting + c.records_in_conflict + c.dbr_sought
    )
    assert (
        c.dbr_sought
        == c.dbr_not_retrieved + c.dbr_reports_awaiting + c.dbr_reports_in_conflict + c.dbr_assessed
    )
    assert c.other_sought == (
        c.other_not_retrieved + c.other_reports_awaiting + c.other_reports_in_conflict + c.other_assessed
    )
    assert c.new_reports == c.dbr_assessed - sum(n for _, n in c.dbr_excluded) + c.other_assessed - sum(
        n for _, n in c.other_excluded
    )
    assert check_flow(c) == []


def test_undecided_records_and_reports_have_boxes_of_their_own() -> None:
    c = count_flow(**unfinished_scenario())
    assert (c.records_screened, c.records_excluded, c.records_awaiting, c.records_in_conflict) == (
        12,
        5,
        1,
        1,
    )
    assert (c.dbr_sought, c.dbr_not_retrieved, c.dbr_reports_awaiting, c.dbr_reports_in_conflict) == (
        5,
        1,
        1,
        1,
    )
    assert (c.dbr_assessed, c.dbr_excluded, c.new_reports) == (2, (("wrong population, adults", 1),), 1)
    assert c.unfinished == 4
    _adds_up(c)
    # the final report refuses, naming them; a provisional one does not
    assert {p.record_ids for p in c.blocking()} == {(9,), (10,), (2,), (15,)}
    assert all(p.awaiting for p in c.errors) and c.blocking(provisional=True) == ()


def test_a_provisional_report_still_refuses_integrity_errors() -> None:
    s = unfinished_scenario()
    s["record_ids"] = range(1, 18)  # record 17: stored, but no source found it
    c = count_flow(**s)
    assert [p.where for p in c.blocking(provisional=True)] == ["identification"]
    with pytest.raises(StoreError, match="identification: 1 stored record found by no search"):
        write_csv(c, "/nonexistent/never-written.csv", provisional=datetime(2026, 11, 25, tzinfo=UTC))


@st.composite
def unfinished_reviews(draw: st.DrawFn) -> dict[str, Any]:
    """Reviews stopped anywhere: every final outcome possible at both stages, in both columns."""
    n = draw(st.integers(1, 60))
    sources = draw(
        st.lists(st.sampled_from(["pubmed", "embase", "ctgov", "citation searching"]), min_size=n, max_size=n)
    )
    identified = [(i + 1, s) for i, s in enumerate(sources)]
    removed = set(draw(st.lists(st.integers(1, n), max_size=n // 2)))
    unique = set(range(1, n + 1)) - removed or {n}
    finals = st.sampled_from(["include", "exclude", "pending", "conflict"])
    outcomes = []
    for rid in sorted(unique):
        ta = draw(finals)
        outcomes.append(_ta(rid, ta))
        if ta == "include":
            ft = draw(finals)
            why = draw(st.sampled_from(["wrong population", "full text not available", "wrong outcome"]))
            outcomes.append(_ft(rid, ft, why if ft == "exclude" else None))
    return {
        "identified": identified,
        "unique_ids": unique,
        "outcomes": outcomes,
        "record_ids": range(1, n + 1),
    }


@settings(max_examples=80, deadline=None)
@given(unfinished_reviews())
def test_provisional_flow_adds_up_wherever_the_review_stopped(review: dict[str, Any]) -> None:
    c = count_flow(**review)
    assert c.blocking(provisional=True) == ()
    _adds_up(c)
    undecided = sum(o["final"] in ("pending", "conflict") for o in review["outcomes"])
    assert c.unfinished == undecided
    assert bool(c.blocking()) == (undecided > 0)
    rows = csv_rows(c, provisional=datetime(2026, 11, 25, 9, 5, tzinfo=UTC))
    n = {r["data"]: r["n"] for r in rows}
    assert len(rows) == 34 + len(PROVISIONAL_ROWS)
    assert (
        int(n["dbr_awaiting_records"]) + int(n["dbr_conflict_records"])
        == c.records_awaiting + c.records_in_conflict
    )


# The patterns the PRISMA2020 package's parser (R/PRISMA_data.R, v1.1.4) greps column 1 (`data`)
# and column 3 (`box`) for; each must find exactly one row, or the package reads a vector.
_R_DATA_PATTERNS = [
    "previous_studies",
    "previous_reports",
    "register_results",
    "database_results",
    "database_specific_results",
    "register_specific_results",
    "website_results",
    "organisation_results",
    "citations_results",
    "duplicates",
    "excluded_automatic",
    "excluded_other",
    "records_screened",
    "records_excluded",
    "dbr_sought_reports",
    "dbr_notretrieved_reports",
    "other_sought_reports",
    "other_notretrieved_reports",
    "dbr_assessed",
    "dbr_excluded",
    "other_assessed",
    "other_excluded",
    "new_studies",
    "new_reports",
    "total_studies$",
    "total_reports$",
    "identification",
    "screening",
    "included",
    "total_studies_ma",
    "total_reports_ma",
]


@pytest.mark.parametrize("provisional", [None, datetime(2026, 11, 25, 15, 4, tzinfo=UTC)])
def test_every_row_the_prisma2020_parser_looks_for_is_found_once(
    tmp_path: Path, provisional: datetime | None
) -> None:
    c = count_flow(**unfinished_scenario()) if provisional else count_flow(**scenario())
    rows = _read(write_csv(c, tmp_path / "prisma.csv", provisional=provisional))
    for pattern in _R_DATA_PATTERNS:
        hits = [r["data"] for r in rows if re.search(pattern, r["data"])]
        assert len(hits) == 1, (pattern, hits)
    for pattern in ("prevstud", "newstud", "othstud"):
        assert sum(bool(re.search(pattern, r["box"])) for r in rows) == 1, pattern
    assert all(r["boxtext"] for r in rows)


def test_provisional_csv_is_marked_and_counts_the_undecided(tmp_path: Path) -> None:
    c = count_flow(**unfinished_scenario())
    with pytest.raises(StoreError, match="awaiting screening"):
        write_csv(c, tmp_path / "final.csv")  # the default stays strict
    path = write_csv(c, tmp_path / "p.csv", provisional=datetime(2026, 11, 25, 15, 4, tzinfo=UTC))
    rows = _read(path)
    assert [r["data"] for r in rows[34:]] == [row[0] for row in PROVISIONAL_ROWS]
    n = {r["data"]: r["n"] for r in rows}
    text = {r["data"] if r["data"] != "NA" else r["box"]: r["boxtext"] for r in rows}
    assert n["provisional"] == "2026-11-25"
    assert "2026-11-25 15:04 UTC" in text["provisional"] and "not for publication" in text["provisional"]
    assert text["newstud"].startswith("PROVISIONAL (2026-11-25 15:04 UTC")
    assert text["records_screened"] == "Records screened (PROVISIONAL: 2 of them await a decision)"
    assert text["dbr_sought_reports"] == "Reports sought for retrieval (PROVISIONAL: 2 await classification)"
    assert (n["dbr_awaiting_records"], n["dbr_conflict_records"]) == ("1", "1")
    assert (n["dbr_awaiting_reports"], n["dbr_conflict_reports"]) == ("1", "1")
    assert n["other_awaiting_records"] == "NA"  # no other-methods column
    assert (n["records_excluded"], n["dbr_sought_reports"], n["dbr_assessed"]) == ("5", "5", "2")
    # the final CSV of a finished review carries no trace of the provisional rows
    final = _read(write_csv(count_flow(**scenario()), tmp_path / "final.csv"))
    assert len(final) == 34 and not any("PROVISIONAL" in r["boxtext"] for r in final)


def _provisional_data(other: bool) -> dict[str, Any]:
    s = unfinished_scenario()
    if other:
        s["identified"] += [(30, "citation searching"), (31, "citation searching"), (32, "website")]
        s["unique_ids"] = s["unique_ids"] | {30, 31, 32}
        s["record_ids"] = range(1, 33)
        s["identified"] += [(i, "pubmed") for i in range(17, 30)]
        s["unique_ids"] |= set(range(17, 30))
        s["outcomes"] += [_ta(i, "exclude") for i in range(17, 30)]
        s["outcomes"] += [_ta(30, "include"), _ta(31, "pending"), _ta(32, "include"), _ft(30, "conflict")]
        s["outcomes"] += [_ft(32, "include")]
    data = count_flow(**s).as_dict()
    data["provisional"] = {"as_of": "2026-11-25 15:04 UTC"}
    return data
