"""The offline demo: a complete CRPS/ketamine review built from data bundled in the package.

:func:`build_demo` runs every stage through the same functions the CLI and the notebooks call:

1. ``init`` from the bundled copy of ``protocols/ketamine-crps.yaml``;
2. the protocol's PubMed searches through :func:`review.project.search.run_searches`, served by
   the local E-utilities :class:`review.sources.replay.ReplayServer` from ``data/demo/pubmed_efetch.xml``
   (real CRPS trials and reviews from the team's reference data, plus MADE-UP off-topic records);
3. import of an Embase-like RIS export that overlaps the PubMed records, and of a
   ClinicalTrials.gov register search (CSV);
4. deduplication;
5. title/abstract and full-text screening: workbooks exported per reviewer, filled by a scripted
   screener pair (alice, bob) with openpyxl, imported; their conflicts exported and resolved by a
   third reviewer (carol);
6. extraction: the extraction workbook filled by script with the figures in
   ``data/demo/extraction_values.csv`` (each with its source; ``illustrative`` where not verified,
   assumed or made up), imported; the tidy effect table written;
7. pooling with forest plots; 8. PRISMA 2020 counts and flow diagram.

The data files and their provenance are described in ``review/data/demo/README.md``; they are
(re)generated from the reference data by ``tools/make_demo_data.py``.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from review.errors import StoreError
from review.records import normalise_doi, normalise_pmid, normalise_text

__all__ = [
    "DEMO_REVIEWERS",
    "DemoReport",
    "build_demo",
    "demo_data_path",
    "demo_pubmed_articles",
    "demo_record_keys",
    "demo_replay_server",
    "fill_extraction_conflicts",
    "fill_extraction_workbook",
    "fill_screening_workbook",
    "open_demo",
]

#: The scripted screeners: two independent reviewers and the third who resolves conflicts.
DEMO_REVIEWERS = ("alice", "bob", "carol")
STAGES = ("title-abstract", "full-text")
_COLUMN = {"title-abstract": "ta", "full-text": "ft"}


@contextmanager
def demo_data_path(name: str) -> Iterator[Path]:
    """A bundled demo file (``review/data/demo/NAME``) as a real path for as long as it is needed."""
    ref = resources.files("review") / "data" / "demo" / name
    with resources.as_file(ref) as path:
        if not path.exists():
            raise StoreError(f"demo data file {name} is missing from the package (reinstall review)")
        yield path


def _read_csv(name: str) -> list[dict[str, str]]:
    with demo_data_path(name) as path, path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def demo_pubmed_articles() -> list[str]:
    """The ``<PubmedArticle>`` elements of the bundled efetch reply, as the replay server serves them."""
    with demo_data_path("pubmed_efetch.xml") as path:
        text = path.read_text(encoding="utf-8")
    return re.findall(r"<PubmedArticle>.*?</PubmedArticle>", text, re.S)


def demo_searches() -> dict[str, list[str]]:
    """Which PMIDs each protocol query finds in the demo (``data/demo/searches.json``)."""
    with demo_data_path("searches.json") as path:
        data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def demo_record_keys(project: Any) -> dict[int, str]:
    """Map each stored record id to its demo key (``provenance.csv``) by PMID, DOI, then title + year.

    Raises
    ------
    StoreError
        If a stored record matches no demo record (the store holds something the demo did not add).
    """
    prov = [r for r in _read_csv("provenance.csv") if r["kind"] != "not transcribed"]
    by_pmid = {r["pmid"]: r["key"] for r in prov if r["pmid"]}
    by_doi = {normalise_doi(r["doi"]): r["key"] for r in prov if r["doi"]}
    by_title: dict[tuple[str, str], str] = {}
    for r in prov:
        by_title.setdefault((normalise_text(r["title"]), r["year"]), r["key"])
    out: dict[int, str] = {}
    for rid, rec in project.store.get_records().items():
        key = by_pmid.get(normalise_pmid(rec.pmid) or "") if rec.source == "pubmed" else None
        key = key or (by_doi.get(rec.doi) if rec.doi else None)
        key = key or by_title.get((normalise_text(rec.title), str(rec.year or "")))
        if key is None:
            raise StoreError(f"record {rid} ({rec.title!r}) is not one of the demo records")
        out[rid] = key
    return out


def _header(ws: Any) -> tuple[int, dict[str, int]]:
    """The header row (1-based) of a workbook sheet that has a ``record_id`` column, and its columns."""
    for row in ws.iter_rows(min_row=1, max_row=15):
        names = {str(c.value).strip(): c.column for c in row if c.value is not None}
        if "record_id" in names:
            return row[0].row, names
    raise StoreError(f"sheet {ws.title!r} has no record_id header")


def fill_screening_workbook(path: Path, decide: Callable[[int], tuple[str, str | None] | None]) -> int:
    """Fill the ``decision`` (and ``reason``) cells of a screening or conflict workbook, as a screener does.

    ``decide(record_id)`` returns ``(decision, reason)`` or None to leave the row blank.
    Returns the number of rows filled. Uses openpyxl, like a person using Excel would leave it.
    """
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb.worksheets[0]
    head, cols = _header(ws)
    filled = 0
    for r in range(head + 1, ws.max_row + 1):
        rid = ws.cell(r, cols["record_id"]).value
        if rid in (None, ""):
            continue
        answer = decide(int(str(rid)))
        if answer is None:
            continue
        decision, reason = answer
        ws.cell(r, cols["decision"]).value = decision
        if reason and "reason" in cols:
            ws.cell(r, cols["reason"]).value = reason
        filled += 1
    wb.save(path)
    return filled


@dataclass
class DemoReport:
    """What the demo did (one line per step) and where each file is."""

    root: Path
    steps: list[str] = field(default_factory=list)
    files: list[tuple[str, Path]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def step(self, text: str) -> None:
        self.steps.append(text)

    def file(self, label: str, path: Path) -> None:
        self.files.append((label, path))

    def text(self) -> str:
        lines = [f"Demo review built in {self.root} ({time.perf_counter() - self.started:.1f} s)", ""]
        for i, step in enumerate(self.steps, 1):
            first, *rest = step.splitlines() or [""]
            lines.append(f"{i:>2}. {first}")
            lines += [f"    {line}" for line in rest]
        if self.files:
            lines += ["", "Files:"]
            width = max(len(label) for label, _ in self.files)
            lines += [f"  {label:<{width}}  {path}" for label, path in self.files]
        if self.missing:
            lines += ["", "Not run (stage not available in this build):"]
            lines += [f"  - {m}" for m in self.missing]
        lines += [
            "",
            "Real papers come from the team's CRPS reference data (provenance in the package's "
            "data/demo/provenance.csv); records marked MADE-UP are invented off-topic records, and "
            "every figure marked illustrative is not verified, rests on an assumption or is made up.",
        ]
        return "\n".join(lines)


def _screening_script() -> dict[str, dict[str, str]]:
    return {r["key"]: r for r in _read_csv("screening_script.csv")}


def _split(value: str) -> tuple[str, str | None] | None:
    if not value:
        return None
    decision, _, reason = value.partition("|")
    return decision, (reason or None)


def _hand_out(
    project: Any,
    export: Callable[..., str],
    out: Path,
    decide: Callable[[int], tuple[str, str | None] | None],
    **options: str,
) -> tuple[int, str] | None:
    """Export a workbook, fill it with ``decide`` and import it; None when the export wrote none.

    ``export_screening``/``export_conflicts`` write no file when there is nothing to screen or
    no conflict to resolve (and say so): then there is nothing to fill or import either.
    """
    from review.project.screen import import_screening

    message = export(project, out=out, **options)
    if not out.is_file():
        return None
    n = fill_screening_workbook(out, decide)
    return n, import_screening(project, out) or message


def _screen_stage(project: Any, stage: str, keys: dict[int, str], report: DemoReport) -> None:
    """Export, fill (alice and bob), import, then resolve the conflicts (carol) for one stage.

    A stage with nothing to screen, or with no conflicts, is reported as such and skipped.
    """
    from review.project.screen import export_conflicts, export_screening, screening_status

    script = _screening_script()
    col = _COLUMN[stage]
    wb_dir = project.workbook_dir

    def decider(reviewer: str) -> Callable[[int], tuple[str, str | None] | None]:
        def decide(rid: int) -> tuple[str, str | None] | None:
            value = script[keys[rid]][f"{col}_{reviewer}"]
            return _split(value) if stage == "full-text" else ((value, None) if value else None)

        return decide

    for reviewer in DEMO_REVIEWERS[:2]:
        out = wb_dir / f"{stage}_{reviewer}.xlsx"
        done = _hand_out(project, export_screening, out, decider(reviewer), stage=stage, reviewer=reviewer)
        if done is None:
            report.step(f"{stage} screening: nothing for {reviewer} to screen; no workbook")
            continue
        report.file(f"{stage} workbook ({reviewer})", out)
        report.step(f"{stage} screening: {reviewer} decided {done[0]} records in {out.name}")
    status = screening_status(project)[stage]
    conflicts = int(status.get("conflicts") or 0)
    kappa = status.get("kappa")
    kappa_text = f"{kappa:.2f}" if isinstance(kappa, float) else str(kappa)
    out = wb_dir / f"{stage}_conflicts_carol.xlsx"
    carol = DEMO_REVIEWERS[2]
    done = _hand_out(project, export_conflicts, out, decider(carol), stage=stage, reviewer=carol)
    if done is None:
        report.step(f"{stage}: Cohen's kappa alice/bob {kappa_text}, no conflicts for {carol} to resolve")
        return
    report.file(f"{stage} conflicts ({carol})", out)
    report.step(
        f"{stage}: Cohen's kappa alice/bob {kappa_text}, {conflicts} conflicts; {carol} resolved {done[0]} "
        f"in {out.name}"
    )


def build_demo(out: str | Path) -> str:
    """Build the complete offline demo review in OUT (a new or empty folder); return the report.

    Every stage runs through the same library functions as the CLI. Takes well under a minute.

    Raises
    ------
    StoreError
        If OUT exists and is not an empty folder.
    """
    from review.project import init_project, project_status

    root = Path(out)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise StoreError(f"{root} already exists and is not empty: give `review demo` a new folder")
    report = DemoReport(root=root)
    with demo_data_path("protocol.yaml") as protocol_path:
        project = init_project(root, protocol_path)
    try:
        report.step(f"created project {project.protocol.id!r} from the bundled ketamine-crps protocol")
        report.file("project store", root / "review.sqlite")
        _run_stages(project, report)
        status = project_status(project)
        report.step(
            f"status: {status['records']} records, {status['searches']} searches, "
            f"{status['imports']} imports, {status['unique_records']} unique after dedup"
        )
    finally:
        project.close()
    return report.text()


def _available(module: str, report: DemoReport, what: str) -> bool:
    import importlib

    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise  # the stage exists but something it needs does not: a real error
        report.missing.append(f"{what} ({module} is not in this build)")
        return False
    return True


def _demo_select(project: Any) -> Callable[[str], list[str]]:
    """What each protocol query finds in the demo: the PMIDs listed for its label in searches.json."""
    found = demo_searches()
    queries = {" ".join(s.query.split()): s.label for s in project.protocol.searches}

    def select(term: str) -> list[str]:
        text = " ".join(term.split())
        for query, label in queries.items():
            if query in text or text in query:
                return found.get(label, [])
        return [pmid for pmids in found.values() for pmid in pmids]

    return select


@contextmanager
def demo_replay_server(project: Any) -> Iterator[Any]:
    """The local E-utilities server answering the project's protocol queries with the demo records.

    Use its ``.url`` as ``eutils_url`` of :func:`review.project.search.run_searches`, exactly as the
    demo and the notebooks do; nothing leaves the machine.
    """
    from review.sources.replay import ReplayServer

    with ReplayServer(demo_pubmed_articles(), select=_demo_select(project)) as server:
        yield server


def open_demo(directory: str | Path) -> Any:
    """Open the demo project in DIRECTORY, building it first (offline) if the folder is new.

    The notebooks start with this, so each one runs on its own.
    """
    from review.project import STORE_FILE, open_project

    root = Path(directory)
    if not (root / STORE_FILE).exists():
        build_demo(root)
    return open_project(root)


def _run_stages(project: Any, report: DemoReport) -> None:
    from review.project.search import run_searches

    # 2. PubMed searches against the local replay server
    with demo_replay_server(project) as server:
        runs = run_searches(
            project,
            eutils_url=server.url,
            email="demo@example.org",
            api_key=None,
            tool="review-demo",
            labels=None,
        )
    for run in runs:
        report.step(
            f"PubMed search {run.label!r}: {run.count} hits, {run.retrieved} retrieved, {run.new_records} new "
            "(served offline by the local replay server)"
        )
    report.file("raw E-utilities replies", project.raw_dir)

    # 3. import the Embase-like RIS export
    if _available("review.project.imports", report, "import of the Embase-like RIS export"):
        from review.project.imports import import_file

        with demo_data_path("embase_export.ris") as ris:
            result = import_file(project, ris, source="embase", fmt="auto")
        report.step(f"import embase_export.ris (Embase-like export): {result.summary()}")
        with demo_data_path("ctgov_export.csv") as register:
            result = import_file(project, register, source="clinicaltrials.gov", fmt="auto")
        report.step(f"import ctgov_export.csv (trial register search): {result.summary()}")

    # 4. dedup
    if _available("review.project.dedup", report, "deduplication"):
        from review.project.dedup import run_dedup

        dedup = run_dedup(project)
        report.step(f"dedup: {dedup.summary()}")

    keys = demo_record_keys(project)

    # 5. screening
    for stage in STAGES:
        _screen_stage(project, stage, keys, report)

    # 6-8. extraction, pooling, PRISMA
    _extract(project, keys, report)
    out_dir = project.output_dir
    if _available("review.project.pool", report, "pooling and forest plots"):
        from review.project.pool import pool_project

        report.step(f"pooling: {pool_project(project, out_dir=out_dir / 'pooling')}")
        for path in sorted((out_dir / "pooling").rglob("*")):
            if path.suffix in (".png", ".svg", ".xlsx", ".csv") and path.is_file():
                kind = next((k for k in ("forest", "funnel") if path.name.startswith(k)), "")
                report.file(f"{kind + ' plot' if kind else 'pooled results'} {path.suffix[1:]}", path)
    if _available("review.project.prisma", report, "PRISMA counts and diagram"):
        from review.project.prisma import write_prisma

        report.step(f"PRISMA: {write_prisma(project, out_dir / 'prisma')}")
        for path in sorted((out_dir / "prisma").glob("prisma.*")):
            report.file(f"PRISMA {path.suffix[1:]}", path)


def _extract(project: Any, keys: dict[int, str], report: DemoReport) -> None:
    """Fill the extraction workbook from ``extraction_values.csv`` and import it."""
    if not _available("review.project.extract", report, "extraction"):
        return
    from review.project.extract import (
        export_extraction,
        export_extraction_conflicts,
        import_extraction,
        write_effect_table,
    )

    out = project.workbook_dir / "extraction_alice.xlsx"
    with demo_data_path("extraction_form.yaml") as form:
        export_extraction(project, form=str(form), reviewer="alice", out=out)
    counts = fill_extraction_workbook(out, keys)
    report.step(
        f"extraction: alice filled {counts['studies']} study rows, {counts['arms']} arms and "
        f"{counts['outcomes']} outcome rows ({counts['illustrative']} marked illustrative) in {out.name}; "
        + import_extraction(project, out).splitlines()[0]
    )
    report.file("extraction workbook (alice)", out)
    # a second extractor, with two scripted typing slips, then the third reviewer's resolution
    out_b = project.workbook_dir / "extraction_bob.xlsx"
    with demo_data_path("extraction_form.yaml") as form:
        export_extraction(project, form=str(form), reviewer="bob", out=out_b)
    fill_extraction_workbook(out_b, keys, slips=EXTRACTION_SLIPS)
    report.step(
        f"extraction: bob filled the same form independently in {out_b.name} "
        f"(with {len(EXTRACTION_SLIPS)} typing slips); " + import_extraction(project, out_b).splitlines()[0]
    )
    report.file("extraction workbook (bob)", out_b)
    conflicts = project.workbook_dir / "extraction_conflicts_carol.xlsx"
    report.step(
        f"extraction: {export_extraction_conflicts(project, out=conflicts, resolver='carol').splitlines()[0]}"
    )
    n = fill_extraction_conflicts(conflicts)
    report.step(
        f"extraction: carol checked {n} disagreeing cells against the source and kept alice's values; "
        + import_extraction(project, conflicts).splitlines()[0]
    )
    report.file("extraction conflicts (carol)", conflicts)
    table_dir = project.output_dir / "extraction"
    report.step(f"effect table: {write_effect_table(project, out_dir=table_dir).splitlines()[0]}")
    for path in sorted(table_dir.glob("*")):
        report.file(f"effect table {path.suffix[1:]}", path)


def _fill_sheet_rows(ws: Any, rows: list[dict[str, Any]], first: int | None = None) -> None:
    """Write rows under a header of field names in row 1 (from row FIRST, default after the last)."""
    cols = {str(c.value).strip(): c.column for c in ws[1] if c.value is not None}
    r = first if first is not None else ws.max_row + 1
    for row in rows:
        for name, value in row.items():
            if name in cols and value not in (None, ""):
                ws.cell(r, cols[name]).value = _number(value)
        r += 1


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    return value


#: Bob's scripted typing slips in the extraction form: (study, arm, domain, field) -> value typed.
EXTRACTION_SLIPS: dict[tuple[str, str, str, str], str] = {
    ("Varenna 2000", "placebo", "pain", "mean"): "25",  # 52 with its digits swapped
    ("Sigtermans 2009", "placebo", "pain", "se"): "0.84",  # 0.48 with its digits swapped
}


def fill_extraction_conflicts(path: Path) -> int:
    """Fill the ``resolved`` column of an extraction-conflict workbook with alice's values."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb.worksheets[0]
    for sheet in wb.worksheets:
        if sheet.sheet_state == "visible" and any(c.value == "resolved" for c in sheet[1]):
            ws = sheet
            break
    cols = {str(c.value).strip(): c.column for c in ws[1] if c.value is not None}
    filled = 0
    for r in range(2, ws.max_row + 1):
        a = ws.cell(r, cols["reviewer_a"]).value
        if a is None:
            continue
        value = ws.cell(r, cols["value_a"] if a == "alice" else cols["value_b"]).value
        if ws.cell(r, cols["field"]).value == "(row)":
            value = "keep" if value == "has the row" else "drop"
        ws.cell(r, cols["resolved"]).value = value
        filled += 1
    wb.save(path)
    return filled


def fill_extraction_workbook(
    path: Path, keys: dict[int, str], slips: dict[tuple[str, str, str, str], str] | None = None
) -> dict[str, int]:
    """Fill an exported extraction workbook with the bundled demo figures, as an extractor would.

    Studies rows (pre-filled with record ids) get their study label, design, criteria and N from
    ``extraction_studies.csv``; arms and arm-level outcomes come from ``extraction_values.csv``,
    each with its source and ``illustrative`` flag. Returns counts of what was filled.
    """
    from openpyxl import load_workbook

    studies = {r["publication"]: r for r in _read_csv("extraction_studies.csv")}
    values = _read_csv("extraction_values.csv")
    wb = load_workbook(path)
    ws = wb["Studies"]
    cols = {str(c.value).strip(): c.column for c in ws[1] if c.value is not None}
    filled = 0
    for r in range(2, ws.max_row + 1):
        rid = ws.cell(r, cols["record_id"]).value
        if rid in (None, ""):
            continue
        study = studies.get(keys.get(int(str(rid)), ""))
        if study is None:
            continue
        row = {
            "study": study["study"],
            "design": study["design"],
            "crps_criteria": study["crps_criteria"],
            "n_randomised": study["n_randomised"],
            "illustrative": study["illustrative"],
            "source": f"{study['source_url']} (reference data row {study['source_row']})",
            "notes": f"criteria as reported: {study['crps_criteria_as_reported']}"
            if study["crps_criteria_as_reported"]
            else "",
        }
        for name, value in row.items():
            if name in cols and value not in (None, ""):
                ws.cell(r, cols[name]).value = _number(value)
        filled += 1
    arms: dict[tuple[str, str], dict[str, Any]] = {}
    for v in values:
        arms.setdefault(
            (v["study"], v["arm"]),
            {
                "study": v["study"],
                "arm": v["arm"],
                "intervention_class": v["intervention_class"],
                "n_randomised": v["n"],
            },
        )
    ws_arms = wb["Arms"]
    for arm_row in ws_arms.iter_rows(min_row=2):  # the export pre-fills two arm rows per study
        for cell in arm_row:
            cell.value = None
    _fill_sheet_rows(ws_arms, list(arms.values()), first=2)
    outcomes = []
    for v in values:
        for (study_label, arm, domain, name), typed in (slips or {}).items():
            if (v["study"], v["arm"], v["domain"]) == (study_label, arm, domain):
                v = {**v, name: typed}
        outcomes.append(
            {
                **{
                    k: v[k]
                    for k in ("study", "arm", "domain", "instrument", "timepoint_days", "timepoint_reported")
                },
                **{k: v[k] for k in ("stat_type", "n", "mean", "sd", "se", "ci_low", "ci_high", "events")},
                "illustrative": v["illustrative"],
                "source": f"{v['source_url']} (reference data row {v['source_row']})",
                "notes": "; ".join(x for x in (v["illustrative_reason"], v["how_obtained"]) if x),
            }
        )
    _fill_sheet_rows(wb["Outcomes"], outcomes)
    wb.save(path)
    return {
        "studies": filled,
        "arms": len(arms),
        "outcomes": len(outcomes),
        "illustrative": sum(v["illustrative"] == "yes" for v in values),
    }
