"""(Re)write the walkthrough notebooks in ``notebooks/`` (source of truth for their cells).

usage: python tools/make_notebooks.py [--no-execute]

Each notebook runs offline on the demo project by default (building it first if the folder is
new) and calls the same library functions as the ``review`` command. The notebooks are stored
*with their outputs* (tables, forest plots, the PRISMA diagram), so they read as a walkthrough
before anyone runs them: this script executes each one on a fresh demo in a temporary folder
(progress bars off) and saves the result. ``--no-execute`` writes the cells only.
``tests/e2e/test_notebooks.py`` executes every notebook again.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks"
PROGRESS = re.compile(r"\d+%\|")

LIVE_NOTE = """\
### How to run this notebook

**Offline (the default).** Run the cells from the top (*Run > Run All Cells*). They work on the
demo review that `review demo` builds in the folder `demo-review/` next to the notebook, in
about 10 seconds the first time. The demo mixes real CRPS trials and reviews (citations from the
team's reference data) with *made-up* off-topic records; every outcome figure marked
*illustrative* is not verified, rests on an assumption or is made up, so **do not read clinical
conclusions from the demo**.

**Live, on your own review.** Make a project once from a terminal
(`review init my-review --protocol protocols/ketamine-crps.yaml`), then in the first code cell
below set `LIVE = True`, `PROJECT_DIR = Path("my-review")` and `EMAIL = "you@example.org"`
(NCBI asks every tool for a contact address). An NCBI API key (free, from your NCBI account
settings) raises the limit from 3 to 10 requests per second: put it in `API_KEY`. You can also
set `NCBI_EMAIL` and `NCBI_API_KEY` in the environment before starting Jupyter, so they never
appear in the notebook. Only the search notebook talks to NCBI; the others read your project."""

SETUP = """\
import os
from pathlib import Path

LIVE = False  # True: your own project (and, in notebook 1, a real PubMed search)
EMAIL = os.environ.get("NCBI_EMAIL", "")  # your e-mail, sent to NCBI with every request
API_KEY = os.environ.get("NCBI_API_KEY")  # optional NCBI API key (10 requests/s instead of 3)
PROJECT_DIR = Path(os.environ.get("REVIEW_DEMO_DIR", "demo-review"))  # the review project folder
if LIVE and not EMAIL:
    raise ValueError("Set EMAIL (or NCBI_EMAIL) before searching PubMed live.")"""

OPEN = """\
from review.project import open_project, project_status
from review.project.demo import open_demo

# The demo project is built (offline, in about 10 s) the first time; a live project must exist.
project = open_project(PROJECT_DIR) if LIVE else open_demo(PROJECT_DIR)
project_status(project)"""

OPEN_NOTE = (
    "## Open the project\n\n`project_status` counts what the project holds so far: records "
    "stored, search runs, import runs and the records left after removing duplicates "
    "(`review status DIR` on the command line)."
)


def notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [new_markdown_cell(t) if kind == "md" else new_code_cell(t) for kind, t in cells]
    return nb


NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01_search.ipynb": [
        (
            "md",
            "# 1. Searching PubMed\n\n"
            "The first step of the review: run the protocol's PubMed searches and keep a record of "
            "them good enough for PRISMA-S (what was searched, when, how many hits). The protocol "
            "holds the queries (MeSH terms and free text), so every member of the team runs exactly "
            "the same search. `run_searches` sends each query to NCBI E-utilities, keeps every raw "
            "reply in the project's `raw/` folder and stores each PubMed record once, however many "
            "queries find it. On the command line: `review search DIR --email you@example.org`.\n\n"
            + LIVE_NOTE,
        ),
        ("code", SETUP),
        (
            "md",
            "## Step 1: a project made from the protocol\n\n"
            "A project is a folder made from a protocol (`review init DIR --protocol FILE`). Offline, "
            "this notebook makes a small project of its own (`notebook-search/`) from the demo's copy "
            "of `protocols/ketamine-crps.yaml`, so you can watch the search happen. These are the "
            "queries it will run, exactly as written in the protocol:",
        ),
        (
            "code",
            """\
from review.project import init_project, open_project, project_status, STORE_FILE
from review.project.demo import demo_data_path, demo_replay_server

SEARCH_DIR = PROJECT_DIR if LIVE else Path("notebook-search")
if (SEARCH_DIR / STORE_FILE).exists():
    project = open_project(SEARCH_DIR)
else:
    with demo_data_path("protocol.yaml") as protocol_file:  # = protocols/ketamine-crps.yaml
        project = init_project(SEARCH_DIR, protocol_file)
for spec in project.protocol.searches:
    print(f"[{spec.label}]")
    print(" ".join(spec.query.split()), end="\\n\\n")""",
        ),
        (
            "md",
            "## Step 2: run the queries\n\n"
            "For each query: esearch (count and NCBI's own translation of the query), then efetch "
            "in batches of 1,000 records. Searches of more than 9,999 hits are split by publication "
            "date automatically, and failed requests are retried. Offline, the queries go to a local "
            "E-utilities server (`review.sources.replay.ReplayServer`) that answers with the demo "
            "records, through exactly the same code as a live search.\n\n"
            "*hits* is PubMed's count, *retrieved* the records downloaded, *new* those not already "
            "in the project (the two queries overlap, so the second adds fewer than it finds).",
        ),
        (
            "code",
            """\
from review.project.search import run_searches

def search():
    if LIVE:
        return run_searches(project, eutils_url=None, email=EMAIL, api_key=API_KEY, tool="review-notebook", labels=None)
    with demo_replay_server(project) as server:
        return run_searches(project, eutils_url=server.url, email="demo@example.org", api_key=None,
                            tool="review-notebook", labels=None)

for run in search():
    print(f"{run.label}: {run.count} hits, {run.retrieved} retrieved, {run.new_records} new records")
project_status(project)""",
        ),
        (
            "md",
            "## Step 3: the search log (for the methods section and PRISMA-S)\n\n"
            "Every run is logged with the exact query, NCBI's translation of it, the date and time "
            "(UTC), the count and the software version. This table is what you report as the search "
            "strategy; `project.store.searches_frame()` returns it.",
        ),
        (
            "code",
            """\
log = project.store.searches_frame()
log[["id", "label", "started_at", "status", "count", "retrieved", "new_records", "software_version"]]""",
        ),
        (
            "md",
            "## Step 4: what was stored\n\n"
            "Each record keeps its PubMed fields (title, authors, journal, year, DOI, PMID, abstract, "
            "MeSH terms, publication types). In the demo, records whose abstract starts with "
            "*MADE-UP* are invented off-topic records, and PMIDs from 99000001 are placeholders for "
            "real papers whose PMID the reference data does not confirm.",
        ),
        (
            "code",
            """\
records = project.store.records_frame()
records["year"] = records["year"].astype("Int64")
records[["pmid", "year", "journal", "title"]].head(12)""",
        ),
        (
            "md",
            "## Step 5: running a search again adds nothing\n\n"
            "Updating the search before publication, or resuming one interrupted by a lost "
            "connection, never duplicates a record: PubMed records are keyed by PMID, and a rerun "
            "only links the records it finds to the new run. Every raw reply is kept (gzip) under "
            "`raw/search-<run>/`, so the search can be audited later.",
        ),
        (
            "code",
            """\
before = project_status(project)["records"]
for run in search():
    print(f"{run.label}: {run.new_records} new records")
assert project_status(project)["records"] == before
for folder in sorted(p for p in project.raw_dir.iterdir() if p.is_dir()):
    print(f"{folder.name}: {len(list(folder.iterdir()))} raw replies kept")""",
        ),
        ("md", "Close the project (the store is a SQLite file) when you are done."),
        ("code", "project.close()"),
    ],
    "02_import_dedup.ipynb": [
        (
            "md",
            "# 2. Importing other databases and removing duplicates\n\n"
            "A Cochrane-standard search covers more than PubMed: Embase, CENTRAL, CINAHL, Web of "
            "Science, Scopus and trial registers. Their exports (RIS, MEDLINE/.nbib, PubMed XML, "
            "Web of Science plain text or CSV) are imported with `import_file` "
            "(`review import DIR FILE --source embase`). The same paper then appears several times, "
            "so `run_dedup` (`review dedup DIR`) groups the records that are one publication and "
            "keeps one of each group for screening.\n\n" + LIVE_NOTE,
        ),
        ("code", SETUP),
        ("md", OPEN_NOTE),
        ("code", OPEN),
        (
            "md",
            "## Step 1: records per source\n\n"
            "The demo holds the PubMed search results, an Embase-like RIS export (14 of its 18 "
            "records are also in PubMed, formatted differently) and a ClinicalTrials.gov register "
            "search. These counts are PRISMA's *records identified* per database.",
        ),
        (
            "code",
            """\
records = project.store.records_frame()
records["year"] = records["year"].astype("Int64")
records.groupby("source").size().rename("records")""",
        ),
        (
            "md",
            "## Step 2: importing a file twice adds nothing\n\n"
            "Each import is logged with the file's SHA-256; importing the same file again (say, by "
            "mistake, or after a crash) stores nothing new. Every warning (a record without a title, "
            "an odd line) is printed with the file and line, and nothing is dropped silently.",
        ),
        (
            "code",
            """\
from review.project.imports import import_file
from review.project.demo import demo_data_path

with demo_data_path("embase_export.ris") as ris:
    result = import_file(project, ris, source="embase", fmt="auto")
print(result.summary())
project_status(project)""",
        ),
        (
            "md",
            "## Step 3: deduplication\n\n"
            "Records are matched on DOI and PMID, and otherwise on a fuzzy comparison of title, "
            "authors, year, journal, volume and pages, with the vetoes a bibliographer would apply "
            "(an erratum is not its paper; *FOCUS 1* is not *FOCUS 2*). Pairs that are likely but not "
            "certain go to a workbook for a person to decide (`review dedup DIR --answers "
            "dedup_review.xlsx`). Running it again on unchanged records changes nothing.",
        ),
        (
            "code",
            """\
from review.project.dedup import run_dedup

dedup = run_dedup(project)
print(dedup.summary())
status = project_status(project)
print(f"{status['records']} records -> {status['unique_records']} unique")""",
        ),
        (
            "md",
            "## Step 4: which records were merged, and into what\n\n"
            "Each group keeps one record (PubMed's when there is one); the others count as "
            "*duplicates removed* in PRISMA. Check a few groups: each row below is a removed record "
            "and the record kept in its place.",
        ),
        (
            "code",
            """\
import pandas as pd

rows = []
for group in project.store.duplicate_groups().values():
    kept = group[0][0]  # the kept record comes first
    for record_id, source, is_kept in group[1:]:
        rows.append({"removed": record_id, "removed_source": source, "kept": kept,
                     "kept_source": records.loc[kept, "source"], "year": records.loc[record_id, "year"],
                     "title": records.loc[record_id, "title"][:80]})
merged = pd.DataFrame(rows)
print(f"{len(merged)} records merged into a record kept from the same or another source")
merged.head(20)""",
        ),
        ("code", "project.close()"),
    ],
    "03_screening.ipynb": [
        (
            "md",
            "# 3. Screening in Excel\n\n"
            "Two reviewers screen every record independently (Cochrane Handbook §4.6), first on "
            "title and abstract, then on the full text. Each screener gets an Excel workbook "
            "(`review screen export DIR --stage title-abstract --reviewer NAME --out FILE.xlsx`) "
            "with a `decision` column (include / exclude / maybe; at full text also a `reason` from "
            "the protocol's list). Returned workbooks are read back with `review screen import`; "
            "records where the two disagree go to a third reviewer (`review screen conflicts`). In "
            "the demo, alice and bob screen and carol resolves the disagreements.\n\n" + LIVE_NOTE,
        ),
        ("code", SETUP),
        ("md", OPEN_NOTE),
        ("code", OPEN),
        (
            "md",
            "## Step 1: progress, agreement and conflicts\n\n"
            "Per stage: how far each screener has got, their agreement (percent, and Cohen's kappa, "
            "which corrects for agreement by chance: above 0.6 is usually called substantial), and "
            "how many records are still in conflict. `review screen status DIR` prints the same.",
        ),
        (
            "code",
            """\
from review.project.screen import format_screening_status, screening_status

print(format_screening_status(screening_status(project)))""",
        ),
        (
            "md",
            "## Step 2: what a screener's workbook looks like\n\n"
            "One row per record: `record_id` (do not change it), title, authors, year, journal, "
            "abstract, and the `decision` to fill in from a drop-down. Screeners may sort and filter "
            "freely; a workbook with a bad cell is refused as a whole, with the cell named, so "
            "nothing is half-imported. Here are the first rows of alice's returned workbook:",
        ),
        (
            "code",
            """\
import pandas as pd

workbook = project.workbook_dir / "title-abstract_alice.xlsx"
sheet = pd.read_excel(workbook, sheet_name=0)
sheet[["record_id", "title", "authors", "year", "decision"]].head(8)""",
        ),
        (
            "md",
            "## Step 3: handing out a workbook to a new screener\n\n"
            "`export_screening` writes the records this reviewer has not decided yet; after a search "
            "update, only the new records. Here: a workbook for a new screener, dana, not filled in.",
        ),
        (
            "code",
            """\
from review.project.screen import export_screening

out = Path("notebook-screening") / "title-abstract_dana.xlsx"
out.parent.mkdir(exist_ok=True)
if not out.exists():
    print(export_screening(project, stage="title-abstract", reviewer="dana", out=out))""",
        ),
        (
            "md",
            "## Step 4: final decisions per stage\n\n"
            "`screening_outcomes` gives each record's final decision at each stage, after conflict "
            "resolution. Records included at title/abstract go on to full text; full-text includes "
            "are the studies to extract. These counts feed the PRISMA diagram.",
        ),
        (
            "code",
            """\
from review.project.screen import screening_outcomes

outcomes = screening_outcomes(project)
outcomes.groupby(["stage", "final"]).size().unstack(fill_value=0)""",
        ),
        (
            "md",
            "Full-text exclusions with their reasons (PRISMA reports each reason with its count):",
        ),
        (
            "code",
            """\
outcomes[(outcomes.stage == "full-text") & (outcomes.final == "exclude")].groupby("reason").size().rename("reports")""",
        ),
        ("code", "project.close()"),
    ],
    "04_extraction_pooling.ipynb": [
        (
            "md",
            "# 4. Extraction and pooling\n\n"
            "Two reviewers extract each included study into an Excel workbook made from the "
            "extraction form (`review extract export DIR --form crps --reviewer NAME --out "
            "FILE.xlsx`): one sheet each for studies, arms, outcomes and risk of bias (RoB 2), with "
            "drop-downs and number checks. Their disagreements are resolved cell by cell by a third "
            "reviewer. The values are then converted where needed (SE, CI, median/IQR to mean and "
            "SD, VAS 0-100 to 0-10, with the method recorded), and turned into the tidy effect table "
            "that pooling reads (`review extract table`, then `review pool DIR`).\n\n"
            "In the demo every figure carries its source; values that are not verified in the "
            "reference data, rest on an assumption, or are made up are marked **illustrative**, and "
            "stay marked in every table and plot.\n\n" + LIVE_NOTE,
        ),
        ("code", SETUP),
        ("md", OPEN_NOTE),
        ("code", OPEN),
        (
            "md",
            "## Step 1: the tidy effect table\n\n"
            "One row per study x comparison x outcome x follow-up window of the protocol (<= 2 "
            "weeks, 2 weeks to 3 months, > 3 months). `yi` is the effect (MD on a 0-10 pain scale, "
            "lower = better; SMD for function) and `vi` its variance, computed as R's metafor "
            "`escalc` does. `conversion_method` says how each number was derived.",
        ),
        (
            "code",
            """\
import pandas as pd

from review.project.extract import effect_table

table = effect_table(project)
cols = ["study", "comparison", "outcome_domain", "window", "measure", "yi", "vi", "n1", "n2", "illustrative"]
table[cols].round(3)""",
        ),
        (
            "code",
            """\
with pd.option_context("display.max_colwidth", 110):
    display(table[["study", "outcome_domain", "conversion_method"]].head(6))""",
        ),
        (
            "md",
            "## Step 2: pooling every comparison x outcome x window\n\n"
            "`pool_project` follows the protocol's analysis plan: random effects (REML) with the "
            "Hartung-Knapp-Sidik-Jonkman adjustment, which is safer with few trials. A window with "
            "a single study is reported, not pooled. It writes an Excel summary and the forest and "
            "funnel plots (PNG for slides, SVG for the paper).",
        ),
        (
            "code",
            """\
from review.project.pool import pool_project

pool_dir = Path("notebook-pooling")
print(pool_project(project, out_dir=pool_dir))""",
        ),
        (
            "md",
            "## Step 3: the pooled results\n\n"
            "One row per analysis with data: number of studies *k*, the pooled effect with its 95% "
            "CI, I² (the share of variation due to heterogeneity rather than chance) and whether any "
            "study in it rests on illustrative figures.",
        ),
        (
            "code",
            """\
pooled = pd.read_csv(pool_dir / "pooled_results.csv")
pooled = pooled[pooled["k"] > 0]
pooled[["outcome", "comparison", "window", "k", "measure", "effect_text", "i2", "illustrative"]]""",
        ),
        (
            "md",
            "## Step 4: forest plots\n\n"
            "One row per study (square sized by its weight, line = 95% CI), the pooled diamond, the "
            "prediction interval (where the effect of a new study would fall), the heterogeneity "
            "statistics, and which side favours which treatment. Each plot says so in red when it "
            "rests on illustrative data.",
        ),
        (
            "code",
            """\
from IPython.display import SVG, display

for svg in sorted(pool_dir.rglob("forest_*.svg"))[:3]:
    print(svg.stem)
    display(SVG(filename=str(svg)))""",
        ),
        (
            "md",
            "A funnel plot is drawn from 3 studies on, but asymmetry (small-study effects) can only be "
            "judged from about 10 studies (Cochrane Handbook §13.3.5.4); the plot says so.",
        ),
        (
            "code",
            """\
for svg in sorted(pool_dir.rglob("funnel_*.svg"))[:1]:
    display(SVG(filename=str(svg)))""",
        ),
        ("code", "project.close()"),
    ],
    "05_prisma.ipynb": [
        (
            "md",
            "# 5. PRISMA 2020 flow diagram\n\n"
            "Every count of the PRISMA 2020 flow diagram (Page et al., BMJ 2021;372:n71) comes from "
            "the project's history (searches, imports, deduplication, screening decisions), never "
            "typed by hand, and the flow is checked to add up. `write_prisma` (`review prisma DIR "
            "--out-dir D`) writes the diagram (SVG for the paper, 300-dpi PNG), the CSV read by the "
            "PRISMA2020 R package and its Shiny app, and a JSON copy with where each count comes "
            "from.\n\n" + LIVE_NOTE,
        ),
        ("code", SETUP),
        ("md", OPEN_NOTE),
        ("code", OPEN),
        (
            "md",
            "## Step 1: write the PRISMA files\n\n"
            "If the review is not finished (records awaiting screening, unresolved conflicts) this "
            "stops with a message naming the records, instead of drawing a diagram that does not add up.",
        ),
        (
            "code",
            """\
from review.project.prisma import write_prisma

prisma_dir = Path("notebook-prisma")
print(write_prisma(project, prisma_dir))""",
        ),
        (
            "md",
            "## Step 2: the counts\n\n"
            "The rows of the PRISMA2020 package's template that have a count (upload `prisma.csv` to "
            "the PRISMA2020 Shiny app to draw its interactive version).",
        ),
        (
            "code",
            """\
import pandas as pd

with pd.option_context("display.max_colwidth", 90):
    display(pd.read_csv(prisma_dir / "prisma.csv")[["data", "boxtext", "n"]].dropna(subset=["n"]))""",
        ),
        ("md", "## Step 3: the flow diagram"),
        (
            "code",
            """\
from IPython.display import SVG

SVG(filename=str(prisma_dir / "prisma.svg"))""",
        ),
        ("code", "project.close()"),
    ],
}


def notebooks() -> dict[str, nbformat.NotebookNode]:
    """The five notebooks, cells only."""
    return {name: notebook(cells) for name, cells in NOTEBOOKS.items()}


def execute(nbs: dict[str, nbformat.NotebookNode]) -> None:
    """Run each notebook on its own fresh copy of the demo in a temporary folder (outputs kept)."""
    from nbclient import NotebookClient

    from review.project.demo import build_demo

    os.environ["TQDM_DISABLE"] = "1"  # no progress bars in the stored outputs
    for var in ("NCBI_EMAIL", "NCBI_API_KEY", "REVIEW_DEMO_DIR"):
        os.environ.pop(var, None)
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "built" / "demo-review"
        build_demo(demo)
        for name, nb in nbs.items():
            work = Path(tmp) / Path(name).stem
            shutil.copytree(demo, work / "demo-review")
            NotebookClient(
                nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
            ).execute()
            _drop_progress_bars(nb)
            print(f"executed {name}")


def _drop_progress_bars(nb: nbformat.NotebookNode) -> None:
    """Remove tqdm progress bars (stderr) from stored outputs: noise on a page that is read, not run."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.outputs
                if not (
                    o.output_type == "stream"
                    and o.name == "stderr"
                    and (PROGRESS.search(o.text) or not o.text.strip())
                )
            ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-execute", action="store_true", help="write the cells without running them")
    args = parser.parse_args()
    nbs = notebooks()
    if not args.no_execute:
        execute(nbs)
    NB.mkdir(exist_ok=True)
    for name, nb in nbs.items():
        nbformat.write(nb, NB / name)
        print(f"wrote {NB / name}")


if __name__ == "__main__":
    main()
