"""(Re)write the walkthrough notebooks in ``notebooks/`` (source of truth for their cells).

usage: python tools/make_notebooks.py

Each notebook runs offline on the demo project by default (building it first if the folder is
new) and calls the same library functions as the ``review`` command. Outputs are not stored;
``tests/e2e/test_notebooks.py`` executes every notebook.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks"

LIVE_NOTE = """\
**Offline by default.** These notebooks run on the demo review that `review demo` builds (real
CRPS trials and reviews from the team's reference data, mixed with *made-up* off-topic records;
figures marked *illustrative* are not verified, rest on an assumption or are made up).

**To run live against NCBI PubMed**, set `LIVE = True` below, give your e-mail in `EMAIL` (NCBI
asks every tool for one) and, if you have one, your NCBI API key in `API_KEY` (10 requests/s
instead of 3; get it from your NCBI account settings). You can also set them in the environment
(`NCBI_EMAIL`, `NCBI_API_KEY`) before starting Jupyter. Set `PROJECT_DIR` to your own project
folder (made with `review init DIR --protocol protocols/ketamine-crps.yaml`)."""

SETUP = """\
import os
from pathlib import Path

LIVE = False  # True: search PubMed itself over the network; False: the offline demo
EMAIL = os.environ.get("NCBI_EMAIL", "")  # your e-mail, sent to NCBI with every request
API_KEY = os.environ.get("NCBI_API_KEY")  # optional NCBI API key
PROJECT_DIR = Path(os.environ.get("REVIEW_DEMO_DIR", "demo-review"))  # the review project folder
if LIVE and not EMAIL:
    raise ValueError("Set EMAIL (or NCBI_EMAIL) before searching PubMed live.")"""

OPEN = """\
from review.project import open_project, project_status
from review.project.demo import open_demo

# The demo project is built (offline, in seconds) the first time; a live project must exist.
project = open_project(PROJECT_DIR) if LIVE else open_demo(PROJECT_DIR)
project_status(project)"""


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
            "# 1. Searching PubMed\n\nThe protocol holds the PubMed queries (MeSH and free text). "
            "`run_searches` sends each one to NCBI E-utilities (esearch with the history server, then "
            "efetch in batches), keeps every raw reply in the project's `raw/` folder and stores each "
            "PubMed record once, however many queries find it. The CLI equivalent is "
            "`review search DIR --email you@example.org`.\n\n" + LIVE_NOTE,
        ),
        ("code", SETUP),
        (
            "md",
            "## A new project from the protocol\n\nA project is a folder made from a protocol "
            "(`review init`). Offline, this notebook makes its own small project next to the demo so "
            "you can watch the search happen.",
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
            "## Run the queries\n\nOffline, the queries go to a local E-utilities server "
            "(`review.sources.replay.ReplayServer`) that answers with the demo records, through exactly "
            "the same code as a live search.",
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
            "## What was stored\n\nEach record keeps its PubMed fields. In the demo, records whose "
            "abstract starts with *MADE-UP* are invented off-topic records; PMIDs from 99000001 are "
            "placeholders for real papers whose PMID the reference data does not confirm.",
        ),
        (
            "code",
            """\
records = project.store.records_frame()
records[["pmid", "year", "journal", "title"]].head(12)""",
        ),
        (
            "md",
            "## Running a search again adds nothing\n\nRepeating a search (or resuming an interrupted "
            "one) never duplicates a record: the store keys PubMed records by PMID.",
        ),
        (
            "code",
            """\
before = project_status(project)["records"]
for run in search():
    print(f"{run.label}: {run.new_records} new records")
assert project_status(project)["records"] == before
sorted(p.name for p in project.raw_dir.rglob("*") if p.is_file())[:5]""",
        ),
        ("code", "project.close()"),
    ],
    "02_import_dedup.ipynb": [
        (
            "md",
            "# 2. Importing other databases and removing duplicates\n\nExports from Embase, Scopus, "
            "Web of Science, CINAHL or Zotero (RIS, MEDLINE/.nbib, PubMed XML or CSV) are imported with "
            "`import_file` (`review import DIR FILE --source embase`); `run_dedup` (`review dedup DIR`) "
            "then groups the records that are the same publication across all sources.\n\n" + LIVE_NOTE,
        ),
        ("code", SETUP),
        ("code", OPEN),
        (
            "md",
            "## Records per source\n\nThe demo holds the PubMed search results and an Embase-like RIS "
            "export that overlaps them.",
        ),
        (
            "code",
            """\
records = project.store.records_frame()
records.groupby("source").size()""",
        ),
        (
            "md",
            "## Importing a file twice adds nothing\n\nThe demo's RIS export was imported when the demo "
            "was built; importing it again stores no new record.",
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
            "## Deduplication\n\nRecords are compared on DOI, PMID and a fuzzy match of title, authors, "
            "year, journal and pages; uncertain pairs go to a workbook for a person to decide "
            "(`review dedup DIR --answers dedup_review.xlsx`).",
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
            "## Which records were merged\n\nThe records kept after dedup are what the screeners see.",
        ),
        (
            "code",
            """\
unique = set(project.store.unique_record_ids())
merged = records[~records.index.isin(unique)]  # indexed by record_id
print(f"{len(merged)} records merged into a record kept from another source")
merged[["source", "year", "doi", "title"]].head(20)""",
        ),
        ("code", "project.close()"),
    ],
    "03_screening.ipynb": [
        (
            "md",
            "# 3. Screening in Excel\n\nEach screener gets a workbook (`review screen export DIR --stage "
            "title-abstract --reviewer NAME --out FILE.xlsx`) with a `decision` column (include / "
            "exclude / maybe; at full text also a `reason`). Returned workbooks are read back with "
            "`review screen import`; records where the two screeners disagree go to a third reviewer "
            "(`review screen conflicts`). In the demo, alice and bob screen and carol resolves.\n\n"
            + LIVE_NOTE,
        ),
        ("code", SETUP),
        ("code", OPEN),
        (
            "md",
            "## Progress, agreement and conflicts\n\nCohen's kappa is computed between the first two "
            "reviewers on the records both decided.",
        ),
        (
            "code",
            """\
from review.project.screen import format_screening_status, screening_status

print(format_screening_status(screening_status(project)))""",
        ),
        (
            "md",
            "## What a screener's workbook looks like\n\nThe first sheet has one row per record: "
            "`record_id` (do not change), title, authors, year, journal, abstract, and the decision.",
        ),
        (
            "code",
            """\
import pandas as pd

workbook = project.workbook_dir / "title-abstract_alice.xlsx"
pd.read_excel(workbook, sheet_name=0).head(8)""",
        ),
        (
            "md",
            "## Handing out a workbook to a new screener\n\n`export_screening` writes the records this "
            "reviewer has not decided yet. (Here: a workbook for 'dana', not filled in.)",
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
            "## Final decisions per stage\n\n`screening_outcomes` gives each record's final decision "
            "at each stage (after conflict resolution); extraction takes the full-text includes.",
        ),
        (
            "code",
            """\
from review.project.screen import screening_outcomes

outcomes = screening_outcomes(project)
outcomes.groupby(["stage", "final"]).size()""",
        ),
        (
            "code",
            """\
outcomes[(outcomes.stage == "full-text") & (outcomes.final == "exclude")].groupby("reason").size()""",
        ),
        ("code", "project.close()"),
    ],
    "04_extraction_pooling.ipynb": [
        (
            "md",
            "# 4. Extraction and pooling\n\nExtraction workbooks (`review extract export DIR --form crps "
            "--reviewer NAME --out FILE.xlsx`) have one sheet per entity (studies, arms, outcomes, risk "
            "of bias) with dropdowns and number checks. Imported values are converted (SE, CI, median/IQR "
            "to mean and SD, with the method recorded), put on a common scale and turned into the tidy "
            "effect table that pooling reads (`review extract table`, `review pool DIR`).\n\n"
            "In the demo every figure carries its source; values that are not verified in the reference "
            "data, rest on an assumption, or are made up are marked **illustrative**, and stay marked in "
            "every table and plot.\n\n" + LIVE_NOTE,
        ),
        ("code", SETUP),
        ("code", OPEN),
        ("md", "## The tidy effect table\n\nOne row per study x comparison x outcome x follow-up window."),
        (
            "code",
            """\
from review.project.extract import effect_table

table = effect_table(project)
cols = [c for c in ["study", "comparison", "outcome_domain", "window", "measure", "yi", "vi", "illustrative"] if c in table]
table[cols]""",
        ),
        (
            "md",
            "## Pooling every comparison x outcome x window\n\n`pool_project` follows the protocol's "
            "analysis plan (REML with the Hartung-Knapp adjustment here) and writes tables and forest "
            "plots (PNG and SVG).",
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
            "## The pooled results\n\nOne row per analysis of the plan; `illustrative` is True when "
            "any study in it rests on illustrative figures.",
        ),
        (
            "code",
            """\
import pandas as pd

pooled = pd.read_csv(pool_dir / "pooled_results.csv")
pooled = pooled[pooled["k"] > 0]
pooled[["outcome", "comparison", "window", "k", "measure", "effect_text", "i2", "illustrative", "studies"]]""",
        ),
        (
            "md",
            "## Forest plots\n\nEach plot says so in red when it rests on illustrative data.",
        ),
        (
            "code",
            """\
from IPython.display import Image, display

for png in sorted(pool_dir.rglob("*forest*.png"))[:3]:
    print(png.name)
    display(Image(filename=str(png), width=700))""",
        ),
        ("code", "project.close()"),
    ],
    "05_prisma.ipynb": [
        (
            "md",
            "# 5. PRISMA 2020 flow\n\nEvery count comes from the store's history (searches, imports, "
            "dedup, screening decisions), never typed by hand. `write_prisma` (`review prisma DIR "
            "--out-dir D`) writes the CSV read by the PRISMA2020 R package and Shiny app, a JSON copy "
            "and the flow diagram as SVG and PNG.\n\n" + LIVE_NOTE,
        ),
        ("code", SETUP),
        ("code", OPEN),
        (
            "code",
            """\
from review.project.prisma import write_prisma

prisma_dir = Path("notebook-prisma")
print(write_prisma(project, prisma_dir))""",
        ),
        ("md", "## The counts\n\nThe CSV has the 34 rows of the PRISMA2020 package's template."),
        (
            "code",
            """\
import pandas as pd

pd.read_csv(prisma_dir / "prisma.csv")[["data", "n"]].dropna()""",
        ),
        ("md", "## The flow diagram"),
        (
            "code",
            """\
from IPython.display import Image

Image(filename=str(prisma_dir / "prisma.png"), width=800)""",
        ),
        ("code", "project.close()"),
    ],
}


def main() -> None:
    NB.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nbformat.write(notebook(cells), NB / name)
        print(f"wrote {NB / name}")


if __name__ == "__main__":
    main()
