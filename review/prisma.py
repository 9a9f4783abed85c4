"""PRISMA 2020 flow counts derived from the review's own rows, never typed by hand.

Every number of the PRISMA 2020 flow diagram for new systematic reviews (Page et al., BMJ
2021;372:n71, figure 1 and its template for databases, registers and other methods) is
computed here from rows the store hands over: which record each database/register/other
source found, which records dedup kept, and the final screening outcome of each record at
each stage. The module is pure (layer 3): no store, no files except the CSV writer.

Definitions (also in the README):

* **identified** per source = distinct records that source found (a PubMed database = the
  distinct records of all its search runs; an imported source = the distinct records of all
  its imports). A record found by two sources counts once per source.
* **duplicates** = identified - unique records (records removed by the latest dedup run plus
  repeat finds of one stored record by a second source, merged on import).
* **records screened** = unique records (after duplicates, automation and other removals).
  Every one must have a final title/abstract decision; one still pending or in conflict is a
  problem, not a silent gap.
* **reports sought** = records included at title/abstract; **not retrieved** = full-text
  exclusions whose reason is a not-retrieved reason ("full text not available");
  **assessed** = sought - not retrieved; **excluded with reasons** = the other full-text
  exclusions counted per reason; **reports included** = full-text includes.
* **studies included** = distinct studies among included reports (several reports of one
  trial linked by extraction), else one study per report.
* **studies in meta-analysis** = included studies with at least one pooled result (NA when
  nothing was pooled).

While the review is in progress (a protocol update, a progress report, a living review) the
same flow is counted *provisionally*: records and reports without a final decision are
counted in boxes of their own, never as excluded or included (Cochrane Handbook chapter 4,
'studies awaiting classification'; PRISMA 2020 explanation and elaboration, item 16a):

* **records awaiting screening** / **in conflict** = records screened at title/abstract
  without a final decision (too few reviewers so far / reviewers disagree, no resolution);
  screened = excluded + awaiting + in conflict + sought.
* **reports awaiting classification** = reports sought without a final full-text decision
  (not yet retrieved or assessed by every reviewer, agreed 'maybe', or reviewers disagree);
  sought = not retrieved + awaiting classification + assessed, and assessed = excluded with
  reasons + included.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from review.errors import StoreError

__all__ = [
    "CSV_COLUMNS",
    "CSV_TEMPLATE",
    "NOT_RETRIEVED_REASONS",
    "PROVISIONAL_ROWS",
    "PrismaCounts",
    "Problem",
    "SourceCount",
    "check_flow",
    "count_flow",
    "csv_rows",
    "display_name",
    "format_list_cell",
    "provisional_stamp",
    "source_kind",
    "write_csv",
]

SourceKind = Literal["database", "register", "website", "organisation", "citation"]

CSV_COLUMNS = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")
"""The PRISMA2020 R package's CSV columns, in order (``inst/extdata/PRISMA.csv``, v1.1.4)."""

# The package's template rows (data, node, box, description, boxtext, tooltips, url);
# the parser finds rows by ``data`` and the title rows by ``box``. All 34 must be written.
CSV_TEMPLATE: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies",
     "Grey title box; Previous studies", "prevstud.html"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review",
     "Studies included in previous version of review", "Studies included in previous version of review",
     "previous_studies.html"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review",
     "Reports of studies included in previous version of review", "NA", "previous_reports.html"),
    ("NA", "node6", "newstud", "Yellow title box; Identification of new studies via databases and registers",
     "Identification of new studies via databases and registers",
     "Yellow title box; Identification of new studies via databases and registers", "newstud.html"),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases",
     "Records identified from: Databases and Registers", "database_results.html"),
    ("database_specific_results", "NA", "box2", "Records identified from: specific databases",
     "Specific Databases", "NA", "database_results.html"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers", "NA", "NA"),
    ("register_specific_results", "NA", "box2", "Records identified from: specific registers",
     "Specific Registers", "NA", "database_results.html"),
    ("NA", "node16", "othstud", "Grey title box; Identification of new studies via other methods",
     "Identification of new studies via other methods",
     "Grey title box; Identification of new studies via other methods", "othstud.html"),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites",
     "Records identified from: Websites, Organisations and Citation Searching", "website_results.html"),
    ("organisation_results", "", "box11", "Records identified from: Organisations", "Organisations", "NA", "NA"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching", "Citation searching",
     "NA", "NA"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records", "Duplicate records",
     "duplicates.html"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools",
     "Records marked as ineligible by automation tools", "NA", "NA"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons", "Records removed for other reasons",
     "NA", "NA"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)", "Records screened",
     "Records screened (databases and registers)", "records_screened.html"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)", "Records excluded",
     "Records excluded (databases and registers)", "records_excluded.html"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval (databases and registers)",
     "Reports sought for retrieval", "Reports sought for retrieval (databases and registers)",
     "dbr_sought_reports.html"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved (databases and registers)",
     "Reports not retrieved", "Reports not retrieved (databases and registers)",
     "dbr_notretrieved_reports.html"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)",
     "Reports sought for retrieval", "Reports sought for retrieval (other)", "other_sought_reports.html"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)", "Reports not retrieved",
     "Reports not retrieved (other)", "other_notretrieved_reports.html"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility (databases and registers)",
     "Reports assessed for eligibility", "Reports assessed for eligibility (databases and registers)",
     "dbr_assessed.html"),
    ("dbr_excluded", "node14", "box9", "Reports excluded (databases and registers): reasons and numbers",
     "Reports excluded", "Reports excluded (databases and registers)", "dbrexcludedrecords.html"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)",
     "Reports assessed for eligibility", "Reports assessed for eligibility (other)", "other_assessed.html"),
    ("other_excluded", "node21", "box15", "Reports excluded (other): reasons and numbers", "Reports excluded",
     "Reports excluded (other)", "other_excluded.html"),
    ("new_studies", "node15", "box10", "New studies included in review", "New studies included in review",
     "New studies included in review", "new_studies.html"),
    ("new_reports", "NA", "box10", "Reports of new included studies", "Reports of new included studies", "NA",
     "NA"),
    ("total_studies", "node22", "box16", "Total studies included in review", "Total studies included in review",
     "Total studies included in review", "total_studies.html"),
    ("total_reports", "NA", "box16", "Reports of total included studies", "Reports of total included studies",
     "NA", "NA"),
    ("identification", "node1", "identification", "Blue identification box", "Identification",
     "Blue identification box", "identification.html"),
    ("screening", "node2", "screening", "Blue screening box", "Screening", "Blue screening box",
     "screening.html"),
    ("included", "node3", "included", "Blue included box", "Included", "Blue included box", "included.html"),
    ("total_studies_ma", "node23", "box17", "Total studies included in meta-analysis",
     "Total studies included in meta-analysis", "Total studies included in meta-analysis",
     "total_studies_meta_analysis.html"),
    ("total_reports_ma", "NA", "box17", "Reports of total included studies in meta-analysis",
     "Reports of total included studies in meta-analysis", "NA", "NA"),
)  # fmt: skip

# Rows a provisional CSV adds after the template's 34 (same columns). The PRISMA2020 parser finds
# its rows by substring (``grep(key, data)``) and the title rows by box, so these keys contain no
# key of the template and their boxes repeat existing ones (the package ignores them).
PROVISIONAL_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("provisional", "box2", "PROVISIONAL: review in progress (counts as of the date in n); not for publication",
     "PROVISIONAL"),
    ("dbr_awaiting_records", "box5", "Records awaiting screening: no final title/abstract decision yet "
     "(databases and registers)", "Records awaiting screening"),
    ("dbr_conflict_records", "box5", "Records in conflict: reviewers disagree at title/abstract and no resolution "
     "yet (databases and registers)", "Records in conflict awaiting resolution"),
    ("dbr_awaiting_reports", "box7", "Reports awaiting classification: not yet retrieved or without a final "
     "full-text decision (databases and registers)", "Reports awaiting retrieval or full-text decision"),
    ("dbr_conflict_reports", "box7", "Reports in conflict: reviewers disagree at full text and no resolution yet "
     "(databases and registers)", "Reports in conflict awaiting resolution"),
    ("other_awaiting_records", "box13", "Records awaiting screening (other methods)", "Records awaiting screening"),
    ("other_conflict_records", "box13", "Records in conflict at title/abstract (other methods)",
     "Records in conflict awaiting resolution"),
    ("other_awaiting_reports", "box13", "Reports awaiting classification (other methods)",
     "Reports awaiting retrieval or full-text decision"),
    ("other_conflict_reports", "box13", "Reports in conflict at full text (other methods)",
     "Reports in conflict awaiting resolution"),
)  # fmt: skip
"""Extra rows of a provisional CSV: (data, box, description, boxtext); node, tooltips, url are NA."""

NOT_RETRIEVED_REASONS = ("full text not available", "not retrieved", "report not retrieved")
"""Full-text exclusion reasons that mean the report could not be obtained (PRISMA box 'not retrieved')."""

# Well-known names so the diagram says "Embase", not "embase-ovid". Lower-case keys.
_DISPLAY = {
    "pubmed": "PubMed",
    "medline": "MEDLINE",
    "embase": "Embase",
    "central": "CENTRAL",
    "cochrane": "CENTRAL",
    "cochrane central": "CENTRAL",
    "scopus": "Scopus",
    "wos": "Web of Science",
    "web of science": "Web of Science",
    "webofscience": "Web of Science",
    "cinahl": "CINAHL",
    "psycinfo": "PsycINFO",
    "lilacs": "LILACS",
    "clinicaltrials.gov": "ClinicalTrials.gov",
    "clinicaltrials": "ClinicalTrials.gov",
    "ctgov": "ClinicalTrials.gov",
    "ictrp": "WHO ICTRP",
    "who ictrp": "WHO ICTRP",
    "euctr": "EU CTR",
    "isrctn": "ISRCTN",
    "anzctr": "ANZCTR",
    "chictr": "ChiCTR",
    "drks": "DRKS",
    "ctri": "CTRI",
}
_REGISTERS = {"ClinicalTrials.gov", "WHO ICTRP", "EU CTR", "ISRCTN", "ANZCTR", "ChiCTR", "DRKS", "CTRI"}
_OTHER_PATTERNS: tuple[tuple[str, SourceKind], ...] = (
    (r"citation|snowball|reference list|backward|forward|hand ?search", "citation"),
    (r"website|web site|google|grey|gray", "website"),
    (r"organi[sz]ation|manufacturer|expert|contact", "organisation"),
    (r"regist(er|ry)|trial ?reg", "register"),
)


def display_name(source: str) -> str:
    """The name shown for a source: well-known databases spelled as usual, else as given."""
    key = re.sub(r"[\s_-]+", " ", source.strip().lower())
    if key in _DISPLAY:
        return _DISPLAY[key]
    first = key.split(" ")[0] if key else key
    return _DISPLAY.get(first, source.strip())


def source_kind(source: str) -> SourceKind:
    """Which PRISMA identification box a source belongs to: database, register or an other method.

    Trial registers (ClinicalTrials.gov, WHO ICTRP, ...) go to 'Registers'; sources named for
    citation searching, websites or organisations go to the 'other methods' column; any
    other source is a bibliographic database.
    """
    name = display_name(source)
    if name in _REGISTERS:
        return "register"
    low = source.lower()
    for pattern, kind in _OTHER_PATTERNS:
        if re.search(pattern, low):
            return kind
    return "database"


def _clean_label(text: str) -> str:
    """A list-cell label: no commas or semicolons (they delimit the PRISMA2020 cell), capitalised."""
    label = re.sub(r"\s*[,;]\s*", " - ", str(text)).strip()
    label = re.sub(r"\s+", " ", label)
    return label[:1].upper() + label[1:] if label else "Reason not recorded"


def format_list_cell(items: Iterable[tuple[str, int]]) -> str:
    """``Label, N; Label, N`` as the PRISMA2020 package parses it (labels cleaned of , and ;)."""
    return "; ".join(f"{_clean_label(label)}, {int(n)}" for label, n in items)


@dataclass(frozen=True)
class Problem:
    """Where the store is inconsistent for PRISMA: stage, what is wrong, the records concerned.

    ``severity`` 'error' blocks a PRISMA report (the flow would not add up or would hide
    records); 'warning' is shown beside the counts. ``awaiting`` marks an error that only says
    a stage is unfinished (records or reports without a final decision): a provisional report
    counts those in boxes of their own instead of refusing.
    """

    where: str
    message: str
    record_ids: tuple[int, ...] = ()
    severity: Literal["error", "warning"] = "error"
    awaiting: bool = False

    def __str__(self) -> str:
        ids = ""
        if self.record_ids:
            shown = ", ".join(str(i) for i in self.record_ids[:10])
            more = f" and {len(self.record_ids) - 10} more" if len(self.record_ids) > 10 else ""
            ids = f" (record ids {shown}{more})"
        return f"{self.where}: {self.message}{ids}"


@dataclass(frozen=True)
class SourceCount:
    """Records one source identified, as listed in the identification box."""

    name: str
    kind: SourceKind
    records: int


@dataclass(frozen=True)
class PrismaCounts:
    """All PRISMA 2020 flow counts of one review, with the problems found while counting."""

    sources: tuple[SourceCount, ...]
    duplicates: int
    excluded_automatic: int
    excluded_other: int
    records_screened: int
    records_excluded: int
    dbr_sought: int
    dbr_not_retrieved: int
    dbr_assessed: int
    dbr_excluded: tuple[tuple[str, int], ...]
    other_sought: int = 0
    other_not_retrieved: int = 0
    other_assessed: int = 0
    other_excluded: tuple[tuple[str, int], ...] = ()
    new_studies: int = 0
    new_reports: int = 0
    studies_ma: int | None = None
    reports_ma: int | None = None
    previous_studies: int | None = None
    previous_reports: int | None = None
    study_grouping: str = "one study per report"
    records_awaiting: int = 0
    records_in_conflict: int = 0
    dbr_reports_awaiting: int = 0
    dbr_reports_in_conflict: int = 0
    other_records_awaiting: int = 0
    other_records_in_conflict: int = 0
    other_reports_awaiting: int = 0
    other_reports_in_conflict: int = 0
    problems: tuple[Problem, ...] = field(default=())

    def _of(self, *kinds: str) -> tuple[SourceCount, ...]:
        return tuple(s for s in self.sources if s.kind in kinds)

    @property
    def databases(self) -> tuple[SourceCount, ...]:
        """Bibliographic databases, in the order given."""
        return self._of("database")

    @property
    def registers(self) -> tuple[SourceCount, ...]:
        """Trial registers."""
        return self._of("register")

    @property
    def other_sources(self) -> tuple[SourceCount, ...]:
        """Websites, organisations and citation searching (the 'other methods' column)."""
        return self._of("website", "organisation", "citation")

    @property
    def has_other_methods(self) -> bool:
        """Whether the diagram needs the 'other methods' column."""
        return bool(self.other_sources) or self.other_sought > 0

    @property
    def database_results(self) -> int:
        """Records identified from databases (sum over databases)."""
        return sum(s.records for s in self.databases)

    @property
    def register_results(self) -> int:
        """Records identified from registers (sum over registers)."""
        return sum(s.records for s in self.registers)

    def other_results(self, kind: str) -> int:
        """Records identified by one other method ('website', 'organisation', 'citation')."""
        return sum(s.records for s in self.sources if s.kind == kind)

    @property
    def identified(self) -> int:
        """Records identified from databases and registers."""
        return self.database_results + self.register_results

    @property
    def total_studies(self) -> int:
        """Studies included in the review (previous version plus new)."""
        return self.new_studies + (self.previous_studies or 0)

    @property
    def total_reports(self) -> int:
        """Reports of the included studies (previous version plus new)."""
        return self.new_reports + (self.previous_reports or 0)

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Problems that make the flow wrong or incomplete."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Problems worth reporting that do not change the counts."""
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def unfinished(self) -> int:
        """Records and reports still without a final decision, both columns (0 = screening complete)."""
        return (
            self.records_awaiting
            + self.records_in_conflict
            + self.dbr_reports_awaiting
            + self.dbr_reports_in_conflict
            + self.other_records_awaiting
            + self.other_records_in_conflict
            + self.other_reports_awaiting
            + self.other_reports_in_conflict
        )

    def blocking(self, provisional: bool = False) -> tuple[Problem, ...]:
        """The errors that stop a report: all of them, or for a provisional one those not about unfinished stages."""
        return tuple(p for p in self.errors if not (provisional and p.awaiting))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counts, keyed as the PRISMA2020 CSV rows plus lists and problems."""

        def listing(items: Iterable[SourceCount]) -> list[dict[str, Any]]:
            return [{"name": s.name, "records": s.records} for s in items]

        return {
            "database_results": self.database_results,
            "database_specific_results": listing(self.databases),
            "register_results": self.register_results,
            "register_specific_results": listing(self.registers),
            "website_results": self.other_results("website"),
            "organisation_results": self.other_results("organisation"),
            "citations_results": self.other_results("citation"),
            "identified": self.identified,
            "duplicates": self.duplicates,
            "excluded_automatic": self.excluded_automatic,
            "excluded_other": self.excluded_other,
            "records_screened": self.records_screened,
            "records_excluded": self.records_excluded,
            "dbr_sought_reports": self.dbr_sought,
            "dbr_notretrieved_reports": self.dbr_not_retrieved,
            "dbr_assessed": self.dbr_assessed,
            "dbr_excluded": [{"reason": r, "reports": n} for r, n in self.dbr_excluded],
            "dbr_excluded_total": sum(n for _, n in self.dbr_excluded),
            "other_sought_reports": self.other_sought,
            "other_notretrieved_reports": self.other_not_retrieved,
            "other_assessed": self.other_assessed,
            "other_excluded": [{"reason": r, "reports": n} for r, n in self.other_excluded],
            "new_studies": self.new_studies,
            "new_reports": self.new_reports,
            "total_studies": self.total_studies,
            "total_reports": self.total_reports,
            "total_studies_ma": self.studies_ma,
            "total_reports_ma": self.reports_ma,
            "previous_studies": self.previous_studies,
            "previous_reports": self.previous_reports,
            "study_grouping": self.study_grouping,
            "records_awaiting": self.records_awaiting,
            "records_in_conflict": self.records_in_conflict,
            "dbr_reports_awaiting": self.dbr_reports_awaiting,
            "dbr_reports_in_conflict": self.dbr_reports_in_conflict,
            "other_records_awaiting": self.other_records_awaiting,
            "other_records_in_conflict": self.other_records_in_conflict,
            "other_reports_awaiting": self.other_reports_awaiting,
            "other_reports_in_conflict": self.other_reports_in_conflict,
            "unfinished": self.unfinished,
            "flow_checks": check_flow(self),
            "problems": [
                {
                    "severity": p.severity,
                    "where": p.where,
                    "message": p.message,
                    "record_ids": list(p.record_ids),
                    "awaiting": p.awaiting,
                }
                for p in self.problems
            ],
        }


def check_flow(counts: PrismaCounts) -> list[str]:
    """The arithmetic of the flow: each step's count from the one before (empty list = adds up).

    identified - duplicates - automation - other = screened; screened - excluded - awaiting
    screening - in conflict = sought; sought - not retrieved - awaiting classification =
    assessed; assessed - excluded with reasons = included reports (plus the same for the
    other-methods column, whose included reports join the total). The awaiting terms are 0
    once screening is complete, which gives the PRISMA 2020 template's own arithmetic.
    """
    c = counts
    other_included = c.other_assessed - sum(n for _, n in c.other_excluded)
    steps = [
        ("records screened", c.records_screened,
         c.identified - c.duplicates - c.excluded_automatic - c.excluded_other),
        ("reports sought for retrieval", c.dbr_sought,
         c.records_screened - c.records_excluded - c.records_awaiting - c.records_in_conflict),
        ("reports assessed for eligibility", c.dbr_assessed,
         c.dbr_sought - c.dbr_not_retrieved - c.dbr_reports_awaiting - c.dbr_reports_in_conflict),
        ("reports of new included studies", c.new_reports,
         c.dbr_assessed - sum(n for _, n in c.dbr_excluded) + other_included),
        ("reports assessed (other methods)", c.other_assessed,
         c.other_sought - c.other_not_retrieved - c.other_reports_awaiting - c.other_reports_in_conflict),
    ]  # fmt: skip
    bad = [f"{name} = {got}, but the flow gives {want}" for name, got, want in steps if got != want]
    if c.new_studies > c.new_reports:
        bad.append(f"studies included ({c.new_studies}) exceed reports included ({c.new_reports})")
    if c.studies_ma is not None and c.studies_ma > c.total_studies:
        bad.append(f"studies in meta-analysis ({c.studies_ma}) exceed studies included ({c.total_studies})")
    negative = [name for name, got, _ in steps if got < 0]
    bad += [f"{name} is negative" for name in negative]
    return bad


def _norm_reason(reason: Any) -> str:
    if reason is None or (isinstance(reason, float) and reason != reason):  # NaN from pandas
        return ""
    return re.sub(r"\s+", " ", str(reason)).strip()


def _pl(n: int, noun: str, plural: str | None = None) -> str:
    """'1 record', '3 records' (messages a clinician reads)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _ids(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(int(v) for v in values))


def count_flow(
    identified: Iterable[tuple[int, str]],
    unique_ids: Collection[int],
    outcomes: Iterable[Mapping[str, Any]],
    *,
    record_ids: Collection[int] | None = None,
    excluded_automatic: Collection[int] = (),
    excluded_other: Collection[int] = (),
    not_retrieved_reasons: Iterable[str] = NOT_RETRIEVED_REASONS,
    study_of: Mapping[int, str] | None = None,
    pooled_studies: Collection[str] | None = None,
    kinds: Mapping[str, SourceKind] | None = None,
    previous_studies: int | None = None,
    previous_reports: int | None = None,
) -> PrismaCounts:
    """Count the PRISMA 2020 flow from rows.

    Parameters
    ----------
    identified
        ``(record_id, source)`` for every record each source found (search hits grouped by
        database, import rows grouped by source); repeats are counted once per source.
    unique_ids
        Record ids kept after the latest dedup run (all records when none has run).
    outcomes
        Rows with ``record_id, stage ('title-abstract'|'full-text'), final
        ('include'|'exclude'|'pending'|'conflict'), reason`` (screening's final outcomes).
    record_ids
        Every record id in the store, to find records no source claims (reported as a problem).
    excluded_automatic, excluded_other
        Unique records removed before screening by automation tools or for other reasons.
    not_retrieved_reasons
        Full-text exclusion reasons that mean 'report not retrieved' (compared case-blind).
    study_of
        Record id -> study label linking several reports of one study (from extraction).
    pooled_studies
        Study labels with at least one pooled result (None when nothing has been pooled).
    kinds
        Source -> kind overrides (else :func:`source_kind` decides from the name).

    Returns
    -------
    PrismaCounts
        The counts; ``problems`` says where the rows are inconsistent (records without a
        final decision, decisions on records that never reached a stage, ...).
    """
    kinds = dict(kinds or {})
    problems: list[Problem] = []
    unique = {int(i) for i in unique_ids}

    # -- identification: distinct records per source, grouped by display name
    found: dict[str, set[int]] = {}
    kind_of: dict[str, SourceKind] = {}
    named: dict[str, str] = {}  # source as stored -> display name (a few sources, many rows)
    for rid, source in identified:
        name = named.get(source)
        if name is None:
            name = named[source] = display_name(str(source))
            if name not in kind_of:
                kind_of[name] = kinds.get(str(source)) or kinds.get(name) or source_kind(str(source))
        found.setdefault(name, set()).add(int(rid))
    claimed: set[int] = set().union(*found.values()) if found else set()
    if record_ids is not None:
        orphans = {int(i) for i in record_ids} - claimed
        if orphans:
            problems.append(
                Problem(
                    "identification",
                    f"{_pl(len(orphans), 'stored record')} found by no search run or import, so no "
                    "database can be credited with them: import them through `review import`",
                    _ids(orphans),
                )
            )
        strays = unique - {int(i) for i in record_ids}
        if strays:
            problems.append(
                Problem("dedup", f"{_pl(len(strays), 'unique record id')} not in the store", _ids(strays))
            )
    order = {"database": 0, "register": 1, "website": 2, "organisation": 3, "citation": 4}
    names = sorted(found, key=lambda n: (order[kind_of[n]], -len(found[n]), n.lower()))
    sources = tuple(SourceCount(n, kind_of[n], len(found[n])) for n in names)

    dbr_records: set[int] = set()
    other_records: set[int] = set()
    for n in names:
        (dbr_records if kind_of[n] in ("database", "register") else other_records).update(found[n])
    other_records -= dbr_records  # a record a database also found follows the database route
    dbr_unique = unique & dbr_records
    other_unique = unique & other_records
    identified_dbr = sum(len(found[n]) for n in names if kind_of[n] in ("database", "register"))
    duplicates = identified_dbr - len(dbr_unique)

    auto = {int(i) for i in excluded_automatic} & dbr_unique
    other_removed = ({int(i) for i in excluded_other} & dbr_unique) - auto
    to_screen = dbr_unique - auto - other_removed

    # -- screening outcomes: one final per record and stage
    final: dict[str, dict[int, tuple[str, str]]] = {"title-abstract": {}, "full-text": {}}
    for row in outcomes:
        stage = str(row["stage"])
        if stage not in final:
            problems.append(Problem("screening", f"unknown stage {stage!r} in screening outcomes"))
            continue
        rid = int(row["record_id"])
        if rid in final[stage]:
            problems.append(Problem(stage, "two final outcomes for one record", (rid,)))
        final[stage][rid] = (str(row["final"]), _norm_reason(row.get("reason")))
    ta, ft = final["title-abstract"], final["full-text"]

    def unfinished(
        stage: dict[int, tuple[str, str]],
        records: set[int],
        where: str,
        noun: str,
        conflict_text: str,
        pending_text: str,
        pending_noun: str | None = None,
    ) -> tuple[set[int], set[int]]:
        """The records of one stage with no final decision, named: (unresolved conflicts, pending)."""
        undecided = {r for r in records if stage.get(r, ("pending", ""))[0] not in ("include", "exclude")}
        conflicts = {r for r in undecided if stage.get(r, ("", ""))[0] == "conflict"}
        pending = undecided - conflicts
        if conflicts:
            problems.append(
                Problem(where, f"{_pl(len(conflicts), noun)} {conflict_text}", _ids(conflicts), awaiting=True)
            )
        if pending:
            problems.append(
                Problem(where, f"{_pl(len(pending), pending_noun or noun)} {pending_text}", _ids(pending),
                        awaiting=True)
            )  # fmt: skip
        return conflicts, pending

    def route(records: set[int], label: str) -> dict[str, Any]:
        """Title/abstract then full text for one column of the diagram."""
        where_ta = "title-abstract" + label
        where_ft = "full-text" + label
        ta_conflict, ta_pending = unfinished(ta, records, where_ta, "record",
                   "with disagreeing decisions and no resolution: export the conflicts, resolve them and "
                   "import the workbook",
                   "awaiting screening (no final decision): finish screening before reporting PRISMA")  # fmt: skip
        excluded = {r for r in records if ta.get(r, ("", ""))[0] == "exclude"}
        sought = {r for r in records if ta.get(r, ("", ""))[0] == "include"}
        ft_conflict, ft_pending = unfinished(ft, sought, where_ft, "report",
                   "with disagreeing decisions and no resolution: resolve the conflicts",
                   "included at title/abstract without a final full-text decision yet", pending_noun="record")  # fmt: skip
        blocked = {r.lower() for r in not_retrieved_reasons}
        ft_excl = {r: ft[r][1] for r in sought if ft.get(r, ("", ""))[0] == "exclude"}
        not_retrieved = {r for r, why in ft_excl.items() if why.lower() in blocked}
        reasons: Counter[str] = Counter()
        no_reason: set[int] = set()
        for r, why in ft_excl.items():
            if r in not_retrieved:
                continue
            if not why:
                no_reason.add(r)
            reasons[why or "Reason not recorded"] += 1
        if no_reason:
            problems.append(
                Problem(where_ft, f"{_pl(len(no_reason), 'report')} excluded without a reason (PRISMA 2020 item "
                        "16a asks for one): shown as 'Reason not recorded'", _ids(no_reason), "warning")
            )  # fmt: skip
        included = {r for r in sought if ft.get(r, ("", ""))[0] == "include"}
        return {
            "excluded": excluded,
            "sought": sought,
            "not_retrieved": not_retrieved,
            # a report awaiting classification is sought but not (yet) assessed
            "assessed": sought - not_retrieved - ft_conflict - ft_pending,
            "reasons": tuple(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0].lower()))),
            "included": included,
            "ta_pending": ta_pending,
            "ta_conflict": ta_conflict,
            "ft_pending": ft_pending,
            "ft_conflict": ft_conflict,
        }

    dbr = route(to_screen, "")
    oth = route(other_unique, " (other methods)")

    # -- decisions on records that never reached the stage: reported, never counted
    off_ta = set(ta) - to_screen - other_unique
    removed_decided = {r for r in off_ta if ta[r][0] in ("include", "exclude") and r not in unique}
    if removed_decided:
        problems.append(
            Problem("title-abstract", f"{_pl(len(removed_decided), 'screened record')} later removed as "
                    "duplicates (their decisions are kept but not counted)", _ids(removed_decided), "warning")
        )  # fmt: skip
    off_ft = {r for r in ft if ft[r][0] in ("include", "exclude")} - dbr["sought"] - oth["sought"]
    if off_ft & unique:
        problems.append(
            Problem("full-text", f"{_pl(len(off_ft & unique), 'record')} with a full-text decision but not "
                    "included at title/abstract: screen them at title/abstract first", _ids(off_ft & unique))
        )  # fmt: skip
    if off_ft - unique:
        problems.append(
            Problem("full-text", f"{_pl(len(off_ft - unique), 'record')} with a full-text decision later removed "
                    "as duplicates (decisions kept, not counted)", _ids(off_ft - unique), "warning")
        )  # fmt: skip

    # -- studies: several reports of one study counted once
    included = dbr["included"] | oth["included"]
    grouping = "one study per report"
    if study_of:
        grouping = "reports linked to studies by extraction"
        studies = {study_of.get(r, f"record {r}") for r in included}
    else:
        studies = {f"record {r}" for r in included}
    studies_ma: int | None = None
    reports_ma: int | None = None
    if pooled_studies is not None:
        pooled = {str(s) for s in pooled_studies}
        in_ma = studies & pooled
        studies_ma = len(in_ma)
        reports_ma = sum(1 for r in included if (study_of or {}).get(r, f"record {r}") in in_ma)
        unknown = pooled - studies
        if unknown:
            problems.append(
                Problem("pooling", f"{_pl(len(unknown), 'pooled study', 'pooled studies')} not among the included studies: "
                        + ", ".join(sorted(unknown)[:5]), (), "warning")
            )  # fmt: skip

    counts = PrismaCounts(
        sources=sources,
        duplicates=duplicates,
        excluded_automatic=len(auto),
        excluded_other=len(other_removed),
        records_screened=len(to_screen),
        records_excluded=len(dbr["excluded"]),
        dbr_sought=len(dbr["sought"]),
        dbr_not_retrieved=len(dbr["not_retrieved"]),
        dbr_assessed=len(dbr["assessed"]),
        dbr_excluded=dbr["reasons"],
        other_sought=len(oth["sought"]),
        other_not_retrieved=len(oth["not_retrieved"]),
        other_assessed=len(oth["assessed"]),
        other_excluded=oth["reasons"],
        new_studies=len(studies),
        new_reports=len(included),
        studies_ma=studies_ma,
        reports_ma=reports_ma,
        previous_studies=previous_studies,
        previous_reports=previous_reports,
        study_grouping=grouping,
        records_awaiting=len(dbr["ta_pending"]),
        records_in_conflict=len(dbr["ta_conflict"]),
        dbr_reports_awaiting=len(dbr["ft_pending"]),
        dbr_reports_in_conflict=len(dbr["ft_conflict"]),
        other_records_awaiting=len(oth["ta_pending"]),
        other_records_in_conflict=len(oth["ta_conflict"]),
        other_reports_awaiting=len(oth["ft_pending"]),
        other_reports_in_conflict=len(oth["ft_conflict"]),
        problems=tuple(problems),
    )
    if not counts.blocking(provisional=True):
        bad = check_flow(counts)
        if bad:  # cannot happen; kept as a guard against a counting bug
            problems.append(Problem("flow", "; ".join(bad)))
            counts = PrismaCounts(**{**counts.__dict__, "problems": tuple(problems)})
    return counts


def _n(value: int | None) -> str:
    return "NA" if value is None else str(int(value))


def provisional_stamp(as_of: datetime) -> str:
    """The date a provisional report is stamped with: ``2026-11-25 14:30 UTC`` (naive times are taken as UTC)."""
    return f"{_utc(as_of):%Y-%m-%d %H:%M} UTC"


def _utc(as_of: datetime) -> datetime:
    return as_of.astimezone(UTC) if as_of.tzinfo is not None else as_of


def csv_rows(counts: PrismaCounts, *, provisional: datetime | None = None) -> list[dict[str, str]]:
    """The 34 rows of the PRISMA2020 package's CSV, filled from ``counts`` (every key once).

    With ``provisional`` (the time of counting) the rows are marked PROVISIONAL with that
    date in the labels the package draws (the title box, and the screened and sought boxes
    say how many still await a decision), and the :data:`PROVISIONAL_ROWS` follow with the
    records and reports awaiting a decision, so the file can never pass for a final one.
    """
    c = counts
    other = c.has_other_methods
    n: dict[str, str] = {
        "previous_studies": _n(c.previous_studies),
        "previous_reports": _n(c.previous_reports),
        "database_results": _n(c.database_results),
        "database_specific_results": format_list_cell((s.name, s.records) for s in c.databases) or "NA",
        "register_results": _n(c.register_results) if c.registers else "NA",
        "register_specific_results": format_list_cell((s.name, s.records) for s in c.registers) or "NA",
        "website_results": _n(c.other_results("website")) if other else "NA",
        "organisation_results": _n(c.other_results("organisation")) if other else "NA",
        "citations_results": _n(c.other_results("citation")) if other else "NA",
        "duplicates": _n(c.duplicates),
        "excluded_automatic": _n(c.excluded_automatic),
        "excluded_other": _n(c.excluded_other),
        "records_screened": _n(c.records_screened),
        "records_excluded": _n(c.records_excluded),
        "dbr_sought_reports": _n(c.dbr_sought),
        "dbr_notretrieved_reports": _n(c.dbr_not_retrieved),
        "other_sought_reports": _n(c.other_sought) if other else "NA",
        "other_notretrieved_reports": _n(c.other_not_retrieved) if other else "NA",
        "dbr_assessed": _n(c.dbr_assessed),
        "dbr_excluded": format_list_cell(c.dbr_excluded) or "NA",
        "other_assessed": _n(c.other_assessed) if other else "NA",
        "other_excluded": format_list_cell(c.other_excluded) or "NA",
        "new_studies": _n(c.new_studies),
        "new_reports": _n(c.new_reports),
        "total_studies": _n(c.total_studies),
        "total_reports": _n(c.total_reports),
        "total_studies_ma": _n(c.studies_ma),
        "total_reports_ma": _n(c.reports_ma),
    }
    label: dict[str, str] = {}
    if provisional is not None:
        stamp = provisional_stamp(provisional)
        ta_open = c.records_awaiting + c.records_in_conflict
        ft_open = c.dbr_reports_awaiting + c.dbr_reports_in_conflict
        o_open = c.other_reports_awaiting + c.other_reports_in_conflict
        label = {
            "newstud": f"PROVISIONAL ({stamp}; review in progress - not for publication): "
            "Identification of new studies via databases and registers",
            "othstud": f"PROVISIONAL ({stamp}): Identification of new studies via other methods",
            "records_screened": f"Records screened (PROVISIONAL: {ta_open} of them await a decision)",
            "dbr_sought_reports": f"Reports sought for retrieval (PROVISIONAL: {ft_open} await classification)",
            "other_sought_reports": f"Reports sought for retrieval (PROVISIONAL: {o_open} await classification)",
            "new_studies": "New studies included so far (PROVISIONAL)",
            "total_studies": "Total studies included so far (PROVISIONAL)",
        }
        undecided = (c.records_awaiting, c.records_in_conflict, c.dbr_reports_awaiting, c.dbr_reports_in_conflict,
                     c.other_records_awaiting, c.other_records_in_conflict, c.other_reports_awaiting,
                     c.other_reports_in_conflict)  # fmt: skip
        for (key, *_), count in zip(PROVISIONAL_ROWS[1:], undecided, strict=True):
            n[key] = _n(count) if other or key.startswith("dbr_") else "NA"
        n["provisional"] = _utc(provisional).date().isoformat()
        label["provisional"] = (
            f"PROVISIONAL - review in progress - counts as of {stamp} - not for publication"
        )
    template = list(CSV_TEMPLATE)
    if provisional is not None:
        template += [(data, "NA", box, desc, text, "NA", "NA") for data, box, desc, text in PROVISIONAL_ROWS]
    rows = []
    for data, node, box, description, boxtext, tooltips, url in template:
        value = n.get(data, "NA")  # title rows (identification, screening, included, NA) carry no count
        text = label.get(data if data != "NA" else box, boxtext)
        rows.append(
            dict(zip(CSV_COLUMNS, (data, node, box, description, text, tooltips, url, value), strict=True))
        )
    return rows


def write_csv(counts: PrismaCounts, path: str | Path, *, provisional: datetime | None = None) -> Path:
    """Write the PRISMA2020 CSV (UTF-8); refuses counts whose flow does not add up.

    A final CSV has the template's 34 rows and needs every record decided; a ``provisional``
    one (stamped with that time, see :func:`csv_rows`) counts the undecided in rows of their own.
    """
    bad = check_flow(counts)
    blocking = counts.blocking(provisional=provisional is not None)
    if blocking or bad:
        raise StoreError(
            "PRISMA counts are inconsistent, not writing the CSV: "
            + "; ".join([str(p) for p in blocking] + bad)
        )
    out = Path(path)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_rows(counts, provisional=provisional))
    return out
