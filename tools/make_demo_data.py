"""(Re)generate the offline demo's package data in ``review/data/demo/`` from ``../shared/crps``.

usage: python tools/make_demo_data.py [--shared PATH]

The package itself never reads ``../shared``: this script transcribes the real bibliographic
fields of the CRPS trials and reviews listed in ``crps/trials.csv`` and ``crps/meta_analyses.csv``
into files that are committed under ``review/data/demo/``:

- ``pubmed_efetch.xml``: a PubMed efetch reply (NCBI's PubmedArticleSet format) holding the real
  papers (title, first author, journal, year, volume, issue, pages, DOI, PMID exactly as in the
  source; an empty source field is left out, never invented) mixed with MADE-UP off-topic records
  of the kind a real search also returns. A real paper with no PMID in the source gets a
  placeholder PMID in the demo range 99000001-99099999; made-up records get 99100001 and up.
  Every record carries a ``GeneralNote`` saying which of these it is.
- ``searches.json``: which PMIDs each protocol query "finds" in the demo.
- ``embase_export.ris``: an Embase-like RIS export overlapping the PubMed records (so dedup has
  work), with typical formatting differences, plus Embase-only records.
- ``provenance.csv``: one row per demo record: real or made up, PMID real or placeholder, the
  source file, row key(s) and URL(s) it was transcribed from.
- ``extraction_values.csv``: the outcome figures the scripted extractor types in, each with its
  source row and URL; ``illustrative=yes`` (with the reason) for every value that is not
  ``verified=yes`` in the source, that rests on an assumption, or that is made up.
- ``screening_script.csv``: the scripted screeners' decisions (a demonstration, not a judgement
  on the papers).
- ``protocol.yaml``: a copy of ``protocols/ketamine-crps.yaml``.

No abstract text is copied: real records have no abstract; made-up records have a short
made-up abstract.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from collections import OrderedDict
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "review" / "data" / "demo"
PLACEHOLDER_REAL = 99000001
PLACEHOLDER_MADE_UP = 99100001
SOURCE_NAME = "../shared/crps"

# --- real publications ------------------------------------------------------------------------

# trials.csv: publication id -> the row keys that describe it (several rows per paper).
TRIAL_PUBLICATIONS: dict[str, list[str]] = OrderedDict(
    [
        ("schwartzman2009", ["schwartzman2009"]),
        (
            "sigtermans2009",
            ["sigtermans2009_pain_wk1", "sigtermans2009_function", "sigtermans2009_ae_psychomimetic"],
        ),
        ("finch2009", ["finch2009"]),
        ("kemler2000", ["kemler2000_pain_6mo", "kemler2000_gpe_6mo", "kemler2000_complications"]),
        ("kemler2004", ["kemler2004_pain_2y", "kemler2004_gpe_2y"]),
        ("deer2017", ["deer2017_success_3mo"]),
        ("goebel2010", ["goebel2010_pain", "goebel2010_responders"]),
        ("perez2003", ["perez2003"]),
        ("zollinger1999", ["zollinger1999_incidence"]),
        (
            "zollinger2007",
            [
                "zollinger2007_incidence_200",
                "zollinger2007_incidence_500",
                "zollinger2007_incidence_1500",
                "zollinger2007_incidence_all",
            ],
        ),
        ("moseley2004", ["moseley2004"]),
        ("moseley2005", ["moseley2005"]),
        ("moseley2006", ["moseley2006_pain"]),
        ("varenna2000", ["varenna2000_pain_d40", "varenna2000_pain_d180_pooled"]),
        ("robinson2004", ["robinson2004"]),
        ("alendronate2004", ["alendronate_ar2004"]),
        ("adami1997", ["adami1997"]),
        ("neridronate2013", ["neridronate_rct_2013"]),
        ("vandevusse2004", ["vandevusse2004"]),
        (
            "kalita2006",
            [
                "kalita2006_crps_score",
                "kalita2006_crps_score_means",
                "kalita2006_responders",
                "kalita2006_barthel",
            ],
        ),
        ("oerlemans2000", ["oerlemans2000_iss_PT", "oerlemans2000_iss_OT"]),
        ("oerlemans1999", ["oerlemans1999_impairment_PT", "oerlemans1999_impairment_OT"]),
        ("cacchio2009a", ["cacchio2009a"]),
        ("cacchio2009b", ["cacchio2009b"]),
        ("meier2009", ["meier2009_brush", "meier2009_pinprick_ts"]),
        ("aydemir2006", ["aydemir2006"]),
        ("bonelli1983", ["bonelli1983"]),
        ("carroll2009", ["carroll2009"]),
        ("nascimento2010", ["nascimento2010"]),
    ]
)
# Rows of trials.csv deliberately not turned into bibliographic records, and why.
TRIALS_SKIPPED = {
    "goebel2017": "no title, journal or identifier in the source (only a secondary review table was seen)",
}

REVIEW_PUBLICATIONS: dict[str, list[str]] = OrderedDict(
    [
        (
            "zhu2024",
            [
                "zhu2024_overall",
                "zhu2024_bp_longterm_pain",
                "zhu2024_ketamine_longterm_pain",
                "zhu2024_rank",
                "zhu2024_bp_rr",
            ],
        ),
        ("zhao2018", ["zhao2018_event_immediate", "zhao2018_event_1to3mo"]),
        ("orhurhu2019", ["orhurhu2019_pain"]),
        (
            "ferraro2025",
            [
                "ferraro2025_pain_immediate",
                "ferraro2025_pain_short",
                "ferraro2025_pain_medium",
                "ferraro2025_pain_long",
                "ferraro2025_ae",
            ],
        ),
        ("brunner2009", ["brunner2009_pain"]),
        ("oconnell2013", ["oconnell2013_overview"]),
        ("cochrane_overview_pub3", ["cochrane_overview_update_pub3"]),
        ("stanton2013", ["stanton2013_lasb"]),
        ("cochrane_lasb2016", ["cochrane_lasb_2016"]),
        ("connolly2015", ["connolly2015_ketamine_sr"]),
        ("smart2016", ["smart2016_physio"]),
    ]
)
# meta_analyses.csv writes journal, volume, issue and pages in one cell; split as printed there.
REVIEW_JOURNAL_SPLIT: dict[str, tuple[str, str, str, str]] = {
    "Pharmaceuticals (Basel) 17(6):811": ("Pharmaceuticals (Basel)", "17", "6", "811"),
    "Curr Pain Headache Rep 22(2):12": ("Curr Pain Headache Rep", "22", "2", "12"),
    "Anesth Analg 129(1):241-254": ("Anesth Analg", "129", "1", "241-254"),
    "Ann Intern Med": ("Ann Intern Med", "", "", ""),
    "Eur J Pain 13(1):17-21": ("Eur J Pain", "13", "1", "17-21"),
    "Cochrane Database Syst Rev 2013;(4):CD009416": ("Cochrane Database Syst Rev", "", "4", "CD009416"),
    "Cochrane Database Syst Rev CD009416 (first update)": ("Cochrane Database Syst Rev", "", "", "CD009416"),
    "Cochrane Database Syst Rev 2013;(8):CD004598": ("Cochrane Database Syst Rev", "", "8", "CD004598"),
    "Cochrane Database Syst Rev CD004598": ("Cochrane Database Syst Rev", "", "", "CD004598"),
    "Pain Med 16(5):943-969": ("Pain Med", "16", "5", "943-969"),
    "Cochrane Database Syst Rev 2016, Issue 2 (CD010853)": (
        "Cochrane Database Syst Rev",
        "",
        "2",
        "CD010853",
    ),
}
KETAMINE_REVIEWS = {"zhu2024", "zhao2018", "orhurhu2019", "connolly2015", "oconnell2013"}

# --- made-up off-topic records (NOT real publications) ---------------------------------------

MADE_UP: list[dict[str, str]] = [
    {
        "key": "madeup_ketamine_depression",
        "search": "crps-ketamine",
        "title": "Single-dose intravenous ketamine for treatment-resistant depression in older adults: a pilot randomised trial",
        "authors": "Exemplar, Anna; Fictus, Ben",
        "journal": "Demo Journal of Psychiatry",
        "year": "2021",
        "abstract": "MADE-UP demo abstract. We randomised adults with depression (no pain condition) to ketamine or midazolam and measured mood scores.",
        "pubtype": "Randomized Controlled Trial",
    },
    {
        "key": "madeup_ketamine_rat_crps",
        "search": "crps-ketamine",
        "title": "Ketamine attenuates mechanical allodynia in a rat tibia-fracture model of complex regional pain syndrome",
        "authors": "Modello, Carla; Probus, Dan",
        "journal": "Demo Journal of Experimental Pain",
        "year": "2019",
        "abstract": "MADE-UP demo abstract. An animal study: rats with tibia fracture and cast immobilisation received ketamine or vehicle.",
        "pubtype": "Journal Article",
    },
    {
        "key": "madeup_ketamine_case_report",
        "search": "crps-ketamine",
        "title": "Prolonged outpatient ketamine infusions for refractory complex regional pain syndrome of the foot: a case report",
        "authors": "Specimen, Eva",
        "journal": "Demo Case Reports in Anesthesia",
        "year": "2022",
        "abstract": "MADE-UP demo abstract. One patient with CRPS of the foot received repeated ketamine infusions over six months.",
        "pubtype": "Case Reports",
    },
    {
        "key": "madeup_ketamine_cohort",
        "search": "crps-ketamine",
        "title": "Outcomes of a five-day ketamine infusion programme for complex regional pain syndrome: a retrospective cohort",
        "authors": "Fictus, Ben; Exemplar, Anna; Modello, Carla",
        "journal": "Demo Pain Medicine Reports",
        "year": "2020",
        "abstract": "MADE-UP demo abstract. Retrospective review of 48 patients with CRPS treated with ketamine infusions; no control group.",
        "pubtype": "Journal Article",
    },
    {
        "key": "madeup_ketamine_postop",
        "search": "crps-ketamine",
        "title": "Intraoperative low-dose ketamine and chronic postsurgical pain after knee arthroplasty: a randomised placebo-controlled trial",
        "authors": "Probus, Dan; Specimen, Eva",
        "journal": "Demo Journal of Anaesthesia",
        "year": "2018",
        "abstract": "MADE-UP demo abstract. Patients having knee arthroplasty (not CRPS) received ketamine or saline during surgery.",
        "pubtype": "Randomized Controlled Trial",
    },
    {
        "key": "madeup_nmda_review",
        "search": "crps-ketamine",
        "title": "NMDA receptor antagonists in neuropathic pain: a narrative review",
        "authors": "Modello, Carla",
        "journal": "Demo Reviews in Neurology",
        "year": "2023",
        "abstract": "MADE-UP demo abstract. A narrative review of NMDA receptor antagonists, including ketamine, for neuropathic pain.",
        "pubtype": "Review",
    },
    {
        "key": "madeup_scs_fbss",
        "search": "crps-other-treatments",
        "title": "High-frequency spinal cord stimulation versus conventional medical management for failed back surgery syndrome: a randomised trial",
        "authors": "Tester, Finn; Exemplar, Anna",
        "journal": "Demo Journal of Neuromodulation",
        "year": "2020",
        "abstract": "MADE-UP demo abstract. Patients with failed back surgery syndrome (no CRPS) were randomised to stimulation or medical management.",
        "pubtype": "Randomized Controlled Trial",
    },
    {
        "key": "madeup_stroke_shoulder",
        "search": "crps-other-treatments",
        "title": "Suprascapular nerve block for hemiplegic shoulder pain after stroke: a randomised controlled trial",
        "authors": "Sample, Greta; Tester, Finn",
        "journal": "Demo Stroke Rehabilitation",
        "year": "2017",
        "abstract": "MADE-UP demo abstract. Stroke survivors with shoulder pain were randomised to nerve block or sham injection.",
        "pubtype": "Randomized Controlled Trial",
    },
    {
        "key": "madeup_bisphosphonate_osteoporosis",
        "search": "crps-other-treatments",
        "title": "Zoledronic acid and fracture healing after distal radius fracture in postmenopausal women: a randomised trial",
        "authors": "Sample, Greta",
        "journal": "Demo Bone and Joint Reports",
        "year": "2016",
        "abstract": "MADE-UP demo abstract. Women with wrist fracture received zoledronic acid or placebo; the outcome was radiographic healing.",
        "pubtype": "Randomized Controlled Trial",
    },
    {
        "key": "madeup_crps_survey",
        "search": "crps-other-treatments",
        "title": "How pain physicians diagnose and treat complex regional pain syndrome: a national survey",
        "authors": "Placebo-Smith, Hugo; Sample, Greta",
        "journal": "Demo Pain Practice",
        "year": "2021",
        "abstract": "MADE-UP demo abstract. A questionnaire survey of pain physicians about diagnostic criteria and treatments used for CRPS.",
        "pubtype": "Journal Article",
    },
    {
        "key": "madeup_mirror_phantom",
        "search": "crps-other-treatments",
        "title": "Mirror therapy for phantom limb pain after lower-limb amputation: a randomised sham-controlled trial",
        "authors": "Tester, Finn; Placebo-Smith, Hugo",
        "journal": "Demo Journal of Rehabilitation",
        "year": "2019",
        "abstract": "MADE-UP demo abstract. Amputees with phantom limb pain (no CRPS) used a mirror or a covered mirror daily for four weeks.",
        "pubtype": "Randomized Controlled Trial",
    },
    {
        "key": "madeup_crps_physio_protocol",
        "search": "crps-other-treatments",
        "title": "Graded exposure therapy for complex regional pain syndrome: protocol for a randomised controlled trial",
        "authors": "Fictus, Ben; Sample, Greta",
        "journal": "Demo Trials Protocols",
        "year": "2024",
        "abstract": "MADE-UP demo abstract. Protocol of a planned trial; no results are reported.",
        "pubtype": "Clinical Trial Protocol",
    },
]
# Embase-only MADE-UP records (conference abstracts, as Embase exports hold many).
MADE_UP_EMBASE: list[dict[str, str]] = [
    {
        "key": "madeup_conf_ketamine_audit",
        "title": "Ketamine infusions for complex regional pain syndrome: a two-year service audit",
        "authors": "Exemplar, Anna; Probus, Dan",
        "journal": "Demo Pain Society Annual Meeting Abstracts",
        "year": "2023",
        "abstract": "MADE-UP demo abstract. Audit of a ketamine infusion service; conference abstract without comparison group.",
        "type": "CONF",
    },
    {
        "key": "madeup_conf_topical_ketamine",
        "title": "Topical ketamine cream for allodynia in complex regional pain syndrome: preliminary results of an open-label study",
        "authors": "Specimen, Eva; Modello, Carla",
        "journal": "Demo Neuropathic Pain Congress Abstracts",
        "year": "2022",
        "abstract": "MADE-UP demo abstract. Open-label, uncontrolled use of ketamine cream in twelve patients with CRPS.",
        "type": "CONF",
    },
    {
        "key": "madeup_embase_acupuncture",
        "title": "Electroacupuncture for post-traumatic complex regional pain syndrome: a randomised controlled trial",
        "authors": "Tester, Finn",
        "journal": "Demo Journal of Complementary Medicine",
        "year": "2018",
        "abstract": "MADE-UP demo abstract. Patients with CRPS after trauma were randomised to electroacupuncture or usual care.",
        "type": "JOUR",
    },
]

# Real records that the Embase-like export also holds (overlap), with the formatting differences
# Embase exports typically show; the values themselves are unchanged.
EMBASE_OVERLAP = [
    "schwartzman2009",
    "sigtermans2009",
    "kemler2000",
    "goebel2010",
    "moseley2006",
    "varenna2000",
    "perez2003",
    "zollinger2007",
    "kalita2006",
    "meier2009",
    "robinson2004",
    "zhu2024",
    "stanton2013",
    "connolly2015",
]
EMBASE_ONLY_REAL = ["aydemir2006"]  # a Turkish journal not in the demo PubMed reply

# A ClinicalTrials.gov search exported as CSV (a trial register, counted apart in PRISMA 2020).
REGISTER_REAL = ["nct02402530"]  # trials.csv rows that are registry records
MADE_UP_REGISTER: list[dict[str, str]] = [
    {
        "key": "madeup_register_ketamine_phantom",
        "id": "DEMO-CTG-0001",
        "title": "Oral ketamine for phantom limb pain after amputation (MADE-UP demo registry entry)",
        "year": "2021",
        "abstract": "MADE-UP demo registry entry: not a real trial. Condition: phantom limb pain (no CRPS).",
    },
]

# --- scripted screening: a demonstration of the workflow, not a judgement on the papers -------

TA_EXCLUDE_DESIGN = "review, editorial, letter or comment without original trial data"
# Title/abstract: reviewer A ("alice") and B ("bob"); where they differ, "carol" resolves.
TA_DISAGREE = {
    # key: (alice, bob, carol)
    "connolly2015": ("exclude", "include", "exclude"),
    "madeup_ketamine_cohort": ("maybe", "exclude", "exclude"),
    "moseley2005": ("include", "maybe", "include"),
    "madeup_embase_acupuncture": ("include", "exclude", "include"),
    "madeup_ketamine_case_report": ("exclude", "include", "exclude"),
}
# Full text: (decision, reason) for records that reach it; default include.
FT_DECISIONS = {
    "zollinger1999": ("exclude", "wrong outcome"),
    "zollinger2007": ("exclude", "wrong outcome"),
    "moseley2005": ("exclude", "wrong comparator"),
    "neridronate2013": ("exclude", "full text not available"),
    "nct02402530": ("exclude", "no usable data"),
    "aydemir2006": ("exclude", "full text not available"),
    "madeup_embase_acupuncture": ("exclude", "wrong intervention"),
    "vandevusse2004": ("include", ""),
}
# Full-text disagreements: key -> (alice, bob, carol) decision/reason strings "decision|reason".
FT_DISAGREE = {
    "deer2017": ("include|", "exclude|wrong comparator", "include|"),
    "cacchio2009b": ("include|", "exclude|wrong study design", "include|"),
}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def first_row(rows: dict[str, dict[str, str]], keys: list[str]) -> dict[str, str]:
    """The bibliographic fields of a publication: they are identical across its rows (checked)."""
    base = rows[keys[0]]
    fields = ("first_author", "year", "title", "journal", "volume", "issue", "pages", "doi", "pmid")
    for key in keys[1:]:
        for f in fields:
            if f in base and rows[key].get(f, "") != base.get(f, ""):
                raise SystemExit(f"{key}: {f} differs from {keys[0]}: {rows[key][f]!r} vs {base[f]!r}")
    return base


def urls(rows: dict[str, dict[str, str]], keys: list[str]) -> str:
    seen: list[str] = []
    for key in keys:
        for url in rows[key]["source_url"].split(" | "):
            if url.strip() and url.strip() not in seen:
                seen.append(url.strip())
    return " | ".join(seen)


def build_publications(shared: Path) -> list[dict[str, str]]:
    trials = {r["key"]: r for r in read_csv(shared / "crps" / "trials.csv")}
    metas = {r["key"]: r for r in read_csv(shared / "crps" / "meta_analyses.csv")}
    covered = (
        {k for keys in TRIAL_PUBLICATIONS.values() for k in keys} | set(TRIALS_SKIPPED) | set(REGISTER_REAL)
    )
    missing = set(trials) - covered
    if missing:
        raise SystemExit(f"trials.csv rows not mapped to a publication: {sorted(missing)}")
    covered_m = {k for keys in REVIEW_PUBLICATIONS.values() for k in keys}
    if set(metas) - covered_m:
        raise SystemExit(f"meta_analyses.csv rows not mapped: {sorted(set(metas) - covered_m)}")
    pubs: list[dict[str, str]] = []
    next_placeholder = PLACEHOLDER_REAL
    for pub, keys in TRIAL_PUBLICATIONS.items():
        row = first_row(trials, keys)
        pmid = row["pmid"]
        kind = "real"
        if not pmid:
            pmid, kind = str(next_placeholder), "placeholder"
            next_placeholder += 1
        pubs.append(
            {
                "key": pub,
                "kind": "trial",
                "made_up": "no",
                "pmid": pmid,
                "pmid_kind": kind,
                "first_author": row["first_author"],
                "authors": row["first_author"],
                "year": row["year"],
                "title": row["title"],
                "journal": row["journal"],
                "volume": row["volume"],
                "issue": row["issue"],
                "pages": row["pages"],
                "doi": row["doi"],
                "pubtype": "Randomized Controlled Trial",
                "abstract": "",
                "source_file": "crps/trials.csv",
                "source_rows": ";".join(keys),
                "source_url": urls(trials, keys),
                "verified": "yes" if all(trials[k]["verified"] == "yes" for k in keys) else "no",
                "search": "crps-ketamine"
                if "ketamine" in row["intervention_class"]
                else "crps-other-treatments",
            }
        )
    for pub, keys in REVIEW_PUBLICATIONS.items():
        row = first_row(metas, keys)
        journal, volume, issue, pages = REVIEW_JOURNAL_SPLIT[row["journal"]]
        pmid = row["pmid"]
        kind = "real"
        if not pmid:
            pmid, kind = str(next_placeholder), "placeholder"
            next_placeholder += 1
        pubs.append(
            {
                "key": pub,
                "kind": "review",
                "made_up": "no",
                "pmid": pmid,
                "pmid_kind": kind,
                "first_author": row["first_author"],
                "authors": row["first_author"],
                "year": row["year"],
                "title": row["title"],
                "journal": journal,
                "volume": volume,
                "issue": issue,
                "pages": pages,
                "doi": row["doi"],
                "pubtype": "Systematic Review",
                "abstract": "",
                "source_file": "crps/meta_analyses.csv",
                "source_rows": ";".join(keys),
                "source_url": urls(metas, keys),
                "verified": "yes" if all(metas[k]["verified"] == "yes" for k in keys) else "no",
                "search": "both" if pub in KETAMINE_REVIEWS else "crps-other-treatments",
            }
        )
    n = PLACEHOLDER_MADE_UP
    for item in MADE_UP:
        pubs.append(
            {
                "key": item["key"],
                "kind": "made-up",
                "made_up": "yes",
                "pmid": str(n),
                "pmid_kind": "placeholder",
                "first_author": item["authors"].split(",")[0],
                "authors": item["authors"],
                "year": item["year"],
                "title": item["title"],
                "journal": item["journal"],
                "volume": "",
                "issue": "",
                "pages": "",
                "doi": f"10.5555/demo.{n}",
                "pubtype": item["pubtype"],
                "abstract": item["abstract"],
                "source_file": "made up for the demo (tools/make_demo_data.py)",
                "source_rows": "",
                "source_url": "",
                "verified": "n/a",
                "search": item["search"],
            }
        )
        n += 1
    return pubs


# --- PubMed XML -------------------------------------------------------------------------------

XML_HEAD = (
    '<?xml version="1.0" ?>\n'
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)


def note_for(pub: dict[str, str]) -> str:
    if pub["made_up"] == "yes":
        return (
            "MADE-UP demo record: not a real publication. Invented for the offline demo of the review "
            "toolkit (tools/make_demo_data.py); its PMID and DOI (prefix 10.5555) are placeholders."
        )
    text = (
        f"Demo record: real publication; bibliographic fields transcribed from {SOURCE_NAME}/"
        f"{pub['source_file'].split('/')[-1]} rows {pub['source_rows'].replace(';', ', ')} "
        f"(source: {pub['source_url']}). Fields empty there are left out. Abstract not included."
    )
    if pub["pmid_kind"] == "placeholder":
        text += (
            f" PMID {pub['pmid']} is a DEMO PLACEHOLDER (range 99000001-99099999): "
            "the real PMID was not confirmed in the source."
        )
    if pub["verified"] != "yes":
        text += " Source row not verified: treat these fields as illustrative."
    return text


def article_xml(pub: dict[str, str]) -> str:
    e = escape
    lines = ["<PubmedArticle>", '  <MedlineCitation Status="MEDLINE" Owner="NLM">']
    lines.append(f'    <PMID Version="1">{pub["pmid"]}</PMID>')
    lines.append('    <Article PubModel="Print">')
    lines.append("      <Journal>")
    lines.append('        <JournalIssue CitedMedium="Print">')
    if pub["volume"]:
        lines.append(f"          <Volume>{e(pub['volume'])}</Volume>")
    if pub["issue"]:
        lines.append(f"          <Issue>{e(pub['issue'])}</Issue>")
    if pub["year"]:
        lines.append(f"          <PubDate><Year>{e(pub['year'])}</Year></PubDate>")
    lines.append("        </JournalIssue>")
    if pub["journal"]:
        lines.append(f"        <Title>{e(pub['journal'])}</Title>")
        lines.append(f"        <ISOAbbreviation>{e(pub['journal'])}</ISOAbbreviation>")
    lines.append("      </Journal>")
    lines.append(f"      <ArticleTitle>{e(pub['title'])}</ArticleTitle>")
    if pub["pages"]:
        lines.append(f"      <Pagination><MedlinePgn>{e(pub['pages'])}</MedlinePgn></Pagination>")
    if pub["doi"]:
        lines.append(f'      <ELocationID EIdType="doi" ValidYN="Y">{e(pub["doi"])}</ELocationID>')
    if pub["abstract"]:
        lines.append(f"      <Abstract><AbstractText>{e(pub['abstract'])}</AbstractText></Abstract>")
    if pub["authors"]:
        complete = "Y" if pub["made_up"] == "yes" else "N"  # real: only the first author is in the source
        lines.append(f'      <AuthorList CompleteYN="{complete}">')
        for author in pub["authors"].split(";"):
            last, _, fore = (p.strip() for p in author.partition(","))
            lines.append('        <Author ValidYN="Y">')
            lines.append(f"          <LastName>{e(last)}</LastName>")
            if fore:
                lines.append(f"          <ForeName>{e(fore)}</ForeName>")
                lines.append(f"          <Initials>{e(fore[0])}</Initials>")
            lines.append("        </Author>")
        lines.append("      </AuthorList>")
    lines.append("      <PublicationTypeList>")
    lines.append(f"        <PublicationType>{e(pub['pubtype'])}</PublicationType>")
    lines.append("      </PublicationTypeList>")
    lines.append("    </Article>")
    if pub["journal"]:
        lines.append(
            f"    <MedlineJournalInfo><MedlineTA>{e(pub['journal'])}</MedlineTA></MedlineJournalInfo>"
        )
    lines.append(f'    <GeneralNote Owner="NLM">{e(note_for(pub))}</GeneralNote>')
    lines.append("  </MedlineCitation>")
    lines.append("  <PubmedData>")
    lines.append("    <ArticleIdList>")
    lines.append(f'      <ArticleId IdType="pubmed">{pub["pmid"]}</ArticleId>')
    if pub["doi"]:
        lines.append(f'      <ArticleId IdType="doi">{e(pub["doi"])}</ArticleId>')
    lines.append("    </ArticleIdList>")
    lines.append("  </PubmedData>")
    lines.append("</PubmedArticle>")
    return "\n".join(lines)


# --- RIS --------------------------------------------------------------------------------------


def ris_record(pub: dict[str, str], number: int, ty: str = "JOUR") -> str:
    """One Embase-like RIS record; formatting varies as Embase's does, values do not."""
    out = [f"TY  - {ty}"]
    title = pub["title"]
    if number % 3 == 0 and not title.endswith((".", "?")):
        title += "."  # Embase exports often end titles with a full stop
    out.append(f"TI  - {title}")
    for author in pub["authors"].split(";") if pub["authors"] else []:
        out.append(f"AU  - {author.strip()}")
    if pub["year"]:
        out.append(f"PY  - {pub['year']}")
    if pub["journal"]:
        out.append(f"JF  - {pub['journal']}")
    if pub["volume"]:
        out.append(f"VL  - {pub['volume']}")
    if pub["issue"]:
        out.append(f"IS  - {pub['issue']}")
    if pub["pages"]:
        start, _, end = pub["pages"].partition("-")
        out.append(f"SP  - {start}")
        if end:
            out.append(f"EP  - {end}")
    if pub["doi"]:
        out.append(f"DO  - {'https://doi.org/' + pub['doi'] if number % 2 else pub['doi']}")
    if pub.get("abstract"):
        out.append(f"AB  - {pub['abstract']}")
    out.append(f"ID  - demo-embase-{number:04d}")
    note = (
        note_for(pub)
        if pub["made_up"] == "yes"
        else (
            f"Demo Embase-like record of a real publication; fields from {SOURCE_NAME}/"
            f"{pub['source_file'].split('/')[-1]} rows {pub['source_rows'].replace(';', ', ')}."
        )
    )
    if pub["made_up"] != "yes" and pub["verified"] != "yes":
        note += " Source row not verified: illustrative."
    out.append(f"N1  - {note}")
    out.append(f"DB  - Embase (demo export{', MADE-UP record' if pub['made_up'] == 'yes' else ''})")
    out.append("ER  - ")
    return "\n".join(out)


# --- extraction values ------------------------------------------------------------------------


# Included trials' study labels (reports of one trial share one label) and their design.
STUDIES: dict[str, tuple[str, str]] = {
    "schwartzman2009": ("Schwartzman 2009", "parallel RCT"),
    "sigtermans2009": ("Sigtermans 2009", "parallel RCT"),
    "finch2009": ("Finch 2009", "crossover RCT"),
    "kemler2000": ("Kemler 2000", "parallel RCT"),
    "kemler2004": ("Kemler 2000", "parallel RCT"),  # two-year follow-up report of the same trial
    "deer2017": ("Deer 2017", "parallel RCT"),
    "goebel2010": ("Goebel 2010", "crossover RCT"),
    "perez2003": ("Perez 2003", "parallel RCT"),
    "moseley2004": ("Moseley 2004", "parallel RCT"),
    "moseley2006": ("Moseley 2006", "parallel RCT"),
    "varenna2000": ("Varenna 2000", "parallel RCT"),
    "robinson2004": ("Robinson 2004", "parallel RCT"),
    "alendronate2004": ("Alendronate trial 2004", "parallel RCT"),
    "adami1997": ("Adami 1997", "parallel RCT"),
    "vandevusse2004": ("van de Vusse 2004", "crossover RCT"),
    "kalita2006": ("Kalita 2006", "parallel RCT"),
    "oerlemans1999": ("Oerlemans 1999", "parallel RCT"),
    "oerlemans2000": ("Oerlemans 1999", "parallel RCT"),  # second report of the same trial
    "cacchio2009a": ("Cacchio 2009a", "parallel RCT"),
    "cacchio2009b": ("Cacchio 2009b", "parallel RCT"),
    "meier2009": ("Meier 2009", "crossover RCT"),
    "bonelli1983": ("Bonelli 1983", "parallel RCT"),
    "carroll2009": ("Carroll 2009", "parallel RCT"),
    "nascimento2010": ("Nascimento 2010", "parallel RCT"),
}
# The form's criteria choices, read from the crps_criteria cell (anything else: not reported).
CRITERIA_CHOICE = {
    "IASP criteria, CRPS type I": "IASP 1994",
    "Budapest research criteria (per secondary table)": "Budapest",
    "chronic CRPS type 1 of paretic arm after stroke (Bruehl et al. criteria)": "other",
}


def study_rows(shared: Path, included: list[str]) -> list[dict[str, str]]:
    """One row per included report: its study label and study-level fields from the source."""
    trials = {r["key"]: r for r in read_csv(shared / "crps" / "trials.csv")}
    rows = []
    for pub in included:
        if pub not in STUDIES:
            continue
        key = TRIAL_PUBLICATIONS[pub][0]
        row = trials[key]
        study, design = STUDIES[pub]
        rows.append(
            {
                "publication": pub,
                "study": study,
                "design": design,
                "crps_criteria": CRITERIA_CHOICE.get(row["crps_criteria"], "not reported"),
                "crps_criteria_as_reported": row["crps_criteria"],
                "n_randomised": row["n_randomised"],
                "source_row": key,
                "source_url": row["source_url"],
                "illustrative": "no"
                if all(trials[k]["verified"] == "yes" for k in TRIAL_PUBLICATIONS[pub])
                else "yes",
            }
        )
    return rows


def extraction_rows(shared: Path) -> list[dict[str, str]]:
    """Arm-level outcome rows for the extraction form, each with its source and illustrative flag."""
    trials = {r["key"]: r for r in read_csv(shared / "crps" / "trials.csv")}
    rows: list[dict[str, str]] = []
    fields = [
        "study",
        "publication",
        "arm",
        "intervention_class",
        "domain",
        "instrument",
        "timepoint_days",
        "timepoint_reported",
        "stat_type",
        "n",
        "mean",
        "sd",
        "se",
        "ci_low",
        "ci_high",
        "events",
        "illustrative",
        "illustrative_reason",
        "how_obtained",
        "source_row",
        "source_verified",
        "source_url",
    ]

    def add(key: str, arms: list[dict[str, object]], **kw: object) -> None:
        for arm in arms:
            row: dict[str, object] = {f: "" for f in fields}
            row.update(kw)
            row.update(arm)
            row["source_row"] = key
            row["source_verified"] = trials[key]["verified"]
            row["source_url"] = trials[key]["source_url"]
            if trials[key]["verified"] != "yes":
                row["illustrative"] = "yes"
            # the extraction form's statistic names (review.extraction.STAT_TYPES)
            prefix = "change mean" if row["stat_type"] == "mean_change" else "mean"
            spread = "SD" if row["sd"] != "" else "SE" if row["se"] != "" else "95% CI"
            row["stat_type"] = f"{prefix}/{spread}"
            rows.append({f: str(row[f]) for f in fields})

    s = trials["sigtermans2009_pain_wk1"]
    add(
        "sigtermans2009_pain_wk1",
        [
            {
                "arm": "ketamine",
                "intervention_class": "iv_ketamine",
                "n": s["n_intervention"],
                "mean": s["int_value"],
                "se": s["int_spread"],
            },
            {
                "arm": "placebo",
                "intervention_class": "placebo",
                "n": s["n_control"],
                "mean": s["ctrl_value"],
                "se": s["ctrl_spread"],
            },
        ],
        study="Sigtermans 2009",
        publication="sigtermans2009",
        domain="pain",
        instrument="NRS 0-10",
        timepoint_days=7,
        timepoint_reported=s["timepoint"],
        stat_type="mean",
        illustrative="yes",
        illustrative_reason="the source prints mean +/- without saying SD or SEM; entered as SE (SEM)",
        how_obtained="means, +/- values and n as in the source",
    )
    made_up = "MADE-UP numbers: the source gives no per-arm figures; invented to show pooling, in the direction the source reports"
    add(
        "schwartzman2009",
        [
            {"arm": "ketamine", "intervention_class": "iv_ketamine", "n": 9, "mean": 5.1, "sd": 2.2},
            {"arm": "placebo", "intervention_class": "placebo", "n": 10, "mean": 7.0, "sd": 1.9},
        ],
        study="Schwartzman 2009",
        publication="schwartzman2009",
        domain="pain",
        instrument="NRS 0-10",
        timepoint_days=10,
        timepoint_reported="end of 10-day treatment",
        stat_type="mean",
        illustrative="yes",
        illustrative_reason=made_up + " (p<0.05 reductions with ketamine)",
        how_obtained="made up for the demo",
    )
    add(
        "sigtermans2009_function",
        [
            {"arm": "ketamine", "intervention_class": "iv_ketamine", "n": 30, "mean": 9.8, "sd": 4.1},
            {"arm": "placebo", "intervention_class": "placebo", "n": 30, "mean": 10.1, "sd": 4.3},
        ],
        study="Sigtermans 2009",
        publication="sigtermans2009",
        domain="function",
        instrument="Walking Ability Questionnaire",
        timepoint_days=84,
        timepoint_reported="week 12",
        stat_type="mean",
        illustrative="yes",
        illustrative_reason="MADE-UP numbers and instrument: the source reports no functional improvement but gives no figures",
        how_obtained="made up for the demo",
    )
    add(
        "schwartzman2009",
        [
            {"arm": "ketamine", "intervention_class": "iv_ketamine", "n": 9, "mean": 38, "sd": 14},
            {"arm": "placebo", "intervention_class": "placebo", "n": 10, "mean": 41, "sd": 13},
        ],
        study="Schwartzman 2009",
        publication="schwartzman2009",
        domain="function",
        instrument="Pain Disability Index",
        timepoint_days=84,
        timepoint_reported="3 months",
        stat_type="mean",
        illustrative="yes",
        illustrative_reason="MADE-UP numbers and instrument: a forum summary of the source reports no difference in function; no figures",
        how_obtained="made up for the demo",
    )
    k = trials["kemler2000_pain_6mo"]
    add(
        "kemler2000_pain_6mo",
        [
            {
                "arm": "SCS + PT",
                "intervention_class": "spinal_cord_stimulation",
                "n": k["n_intervention"],
                "mean": k["int_value"],
                "sd": 2.5,
            },
            {
                "arm": "PT",
                "intervention_class": "physical_therapy",
                "n": k["n_control"],
                "mean": k["ctrl_value"],
                "sd": 2.0,
            },
        ],
        study="Kemler 2000",
        publication="kemler2000",
        domain="pain",
        instrument="VAS 0-10 cm",
        timepoint_days=182,
        timepoint_reported=k["timepoint"],
        stat_type="mean_change",
        illustrative="yes",
        illustrative_reason="SDs are not in the source: 2.5 and 2.0 are assumed",
        how_obtained="mean changes from baseline and n as in the source (intention to treat); SDs assumed",
    )
    m = trials["moseley2006_pain"]
    lo1, hi1 = (float(x) for x in m["int_spread"].split(";"))
    lo2, hi2 = (float(x) for x in m["ctrl_spread"].split(";"))
    add(
        "moseley2006_pain",
        [
            {
                "arm": "GMI",
                "intervention_class": "graded_motor_imagery",
                "n": 25,
                "mean": -float(m["int_value"]),
                "ci_low": -hi1,
                "ci_high": -lo1,
            },
            {
                "arm": "control",
                "intervention_class": "physical_therapy",
                "n": 26,
                "mean": -float(m["ctrl_value"]),
                "ci_low": -hi2,
                "ci_high": -lo2,
            },
        ],
        study="Moseley 2006",
        publication="moseley2006",
        domain="pain",
        instrument="VAS 0-100 mm",
        timepoint_days=42,
        timepoint_reported=m["timepoint"],
        stat_type="mean_change",
        illustrative="yes",
        illustrative_reason="per-arm n not in the source (51 randomised, mixed CRPS1 and phantom limb pain): 25/26 assumed",
        how_obtained="the source's mean decrease and its 95% CI entered as a (negative) change from baseline",
    )
    for key, study, pub, days, tp, n1, n2, m1, m2, why_n in [
        ("varenna2000_pain_d40", "Varenna 2000", "varenna2000", 40, "day 40", 15, 17, 30, 52, ""),
        ("robinson2004", "Robinson 2004", "robinson2004", 91, "3 months", 14, 13, 38, 55, ""),
        (
            "adami1997",
            "Adami 1997",
            "adami1997",
            28,
            "4 weeks",
            10,
            10,
            35,
            58,
            "; per-arm n assumed 10/10 (20 randomised)",
        ),
    ]:
        add(
            key,
            [
                {
                    "arm": "bisphosphonate",
                    "intervention_class": "bisphosphonate",
                    "n": n1,
                    "mean": m1,
                    "sd": 20,
                },
                {"arm": "placebo", "intervention_class": "placebo", "n": n2, "mean": m2, "sd": 22},
            ],
            study=study,
            publication=pub,
            domain="pain",
            instrument="VAS 0-100 mm",
            timepoint_days=days,
            timepoint_reported=tp,
            stat_type="mean",
            illustrative="yes",
            illustrative_reason=made_up + why_n,
            how_obtained="made up for the demo",
        )
    return rows


def screening_rows(pubs: list[dict[str, str]], embase_only: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for pub in [*pubs, *embase_only]:
        key = pub["key"]
        if pub["kind"] == "trial":
            ta = "include"
            reason = ""
        elif pub["kind"] == "review":
            ta, reason = "exclude", TA_EXCLUDE_DESIGN
        else:
            ta, reason = "exclude", "off-topic (made-up record)"
        a, b, c = TA_DISAGREE.get(key, (ta, ta, ""))
        final_ta = c or a
        ft_a = ft_b = ft_c = ""
        if final_ta == "include":
            dec, why = FT_DECISIONS.get(key, ("include", ""))
            ft_a = ft_b = f"{dec}|{why}"
            if key in FT_DISAGREE:
                ft_a, ft_b, ft_c = FT_DISAGREE[key]
        out.append(
            {
                "key": key,
                "made_up": pub["made_up"],
                "ta_alice": a,
                "ta_bob": b,
                "ta_carol": c,
                "ta_note": reason,
                "ft_alice": ft_a,
                "ft_bob": ft_b,
                "ft_carol": ft_c,
            }
        )
    return out


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write (default: the package data)")
    args = parser.parse_args()
    shared: Path = args.shared
    write(shared, args.out)


def write(shared: Path, out: Path) -> None:
    """Write every demo data file into OUT from the reference data in SHARED."""
    global OUT
    OUT = out
    OUT.mkdir(parents=True, exist_ok=True)
    pubs = build_publications(shared)
    by_key = {p["key"]: p for p in pubs}

    in_pubmed = [p for p in pubs if p["key"] not in EMBASE_ONLY_REAL]
    articles = [article_xml(p) for p in in_pubmed]
    (OUT / "pubmed_efetch.xml").write_text(
        XML_HEAD + "<PubmedArticleSet>\n" + "\n".join(articles) + "\n</PubmedArticleSet>\n", encoding="utf-8"
    )
    searches: dict[str, list[str]] = {"crps-ketamine": [], "crps-other-treatments": []}
    for p in in_pubmed:
        labels = list(searches) if p["search"] == "both" else [p["search"]]
        for label in labels:
            searches[label].append(p["pmid"])
    (OUT / "searches.json").write_text(json.dumps(searches, indent=2) + "\n", encoding="utf-8")

    embase_only = []
    for n, item in enumerate(MADE_UP_EMBASE):
        embase_only.append(
            {
                **item,
                "kind": "made-up",
                "made_up": "yes",
                "pmid": "",
                "pmid_kind": "",
                "first_author": item["authors"].split(",")[0],
                "volume": "",
                "issue": "",
                "pages": "",
                "doi": f"10.5555/demo.embase.{n + 1}",
                "pubtype": "Conference Abstract" if item["type"] == "CONF" else "Article",
                "source_file": "made up for the demo (tools/make_demo_data.py)",
                "source_rows": "",
                "source_url": "",
                "verified": "n/a",
                "search": "",
            }
        )
    ris = []
    number = 1
    ris_keys = []
    for key in [*EMBASE_OVERLAP, *EMBASE_ONLY_REAL]:
        ris.append(ris_record(by_key[key], number))
        ris_keys.append((key, number))
        number += 1
    for item in embase_only:
        ris.append(ris_record(item, number, ty=item["type"]))
        ris_keys.append((item["key"], number))
        number += 1
    (OUT / "embase_export.ris").write_text("\n\n".join(ris) + "\n", encoding="utf-8")

    trials_rows = {r["key"]: r for r in read_csv(shared / "crps" / "trials.csv")}
    register: list[dict[str, str]] = []
    for key in REGISTER_REAL:
        row = trials_rows[key]
        nct = row["journal"].split()[-1]  # "ClinicalTrials.gov record NCT02402530"
        url = row["source_url"].split(" | ")[0]
        note = (
            f"Demo register record of a real trial; fields from {SOURCE_NAME}/trials.csv row {key} "
            f"(source: {url})."
        )
        if row["verified"] != "yes":
            note += " Source row not verified: illustrative."
        register.append(
            {
                "key": key,
                "id": nct,
                "title": row["title"],
                "year": row["year"],
                "url": url,
                "abstract": "",
                "notes": note,
                "made_up": "no",
                "verified": row["verified"],
                "source_url": row["source_url"],
            }
        )
    for item in MADE_UP_REGISTER:
        register.append(
            {
                **item,
                "url": "",
                "notes": "MADE-UP demo record: not a real trial or registry entry.",
                "made_up": "yes",
                "verified": "n/a",
                "source_url": "",
            }
        )
    with (OUT / "ctgov_export.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", "title", "year", "url", "abstract", "notes"])
        for r in register:
            writer.writerow([r["id"], r["title"], r["year"], r["url"], r["abstract"], r["notes"]])

    ris_ids = {key: f"demo-embase-{n:04d}" for key, n in ris_keys}
    prov = []
    for p in [*pubs, *embase_only]:
        prov.append(
            {
                "key": p["key"],
                "made_up": p["made_up"],
                "kind": p["kind"],
                "pmid": p["pmid"] if p["key"] not in EMBASE_ONLY_REAL else "",
                "pmid_kind": (p["pmid_kind"] if p["key"] not in EMBASE_ONLY_REAL else ""),
                "in_pubmed_xml": "yes" if p["key"] in {q["key"] for q in in_pubmed} else "no",
                "pubmed_searches": ";".join(
                    lbl
                    for lbl, ids in searches.items()
                    if p["pmid"] in ids and p["key"] not in EMBASE_ONLY_REAL
                ),
                "embase_ris_id": ris_ids.get(p["key"], ""),
                "first_author": p["first_author"],
                "year": p["year"],
                "title": p["title"],
                "journal": p["journal"],
                "doi": p["doi"],
                "source_file": p["source_file"],
                "source_rows": p["source_rows"],
                "source_url": p["source_url"],
                "source_verified": p["verified"],
                "illustrative": "yes" if p["made_up"] == "yes" or p["verified"] == "no" else "no",
            }
        )
    for r in register:
        prov.append(
            {
                "key": r["key"],
                "made_up": r["made_up"],
                "kind": "register" if r["made_up"] == "no" else "made-up",
                **{
                    f: ""
                    for f in (
                        "pmid",
                        "pmid_kind",
                        "pubmed_searches",
                        "embase_ris_id",
                        "first_author",
                        "journal",
                        "doi",
                    )
                },
                "in_pubmed_xml": "no",
                "year": r["year"],
                "title": r["title"],
                "source_file": "crps/trials.csv"
                if r["made_up"] == "no"
                else "made up for the demo (tools/make_demo_data.py)",
                "source_rows": r["key"] if r["made_up"] == "no" else "",
                "source_url": r["source_url"],
                "source_verified": r["verified"],
                "illustrative": "yes" if r["made_up"] == "yes" or r["verified"] == "no" else "no",
                "register_id": r["id"],
            }
        )
    for key, why in TRIALS_SKIPPED.items():
        prov.append(
            {
                "key": key,
                "made_up": "no",
                "kind": "not transcribed",
                **{
                    f: ""
                    for f in (
                        "pmid",
                        "pmid_kind",
                        "in_pubmed_xml",
                        "pubmed_searches",
                        "embase_ris_id",
                        "first_author",
                        "year",
                        "title",
                        "journal",
                        "doi",
                    )
                },
                "source_file": "crps/trials.csv",
                "source_rows": key,
                "source_url": why,
                "source_verified": "no",
                "illustrative": "",
            }
        )
    prov = [
        {**{k: v for k, v in row.items() if k != "register_id"}, "register_id": row.get("register_id", "")}
        for row in prov
    ]
    write_csv(OUT / "provenance.csv", prov)
    extraction = extraction_rows(shared)
    write_csv(OUT / "extraction_values.csv", extraction)
    register_pubs = [
        {"key": r["key"], "kind": "trial" if r["made_up"] == "no" else "made-up", "made_up": r["made_up"]}
        for r in register
    ]
    script = screening_rows(pubs, [*embase_only, *register_pubs])
    write_csv(OUT / "screening_script.csv", script)
    included = [r["key"] for r in script if (r["ft_carol"] or r["ft_alice"]).startswith("include")]
    write_csv(OUT / "extraction_studies.csv", study_rows(shared, included))
    shutil.copyfile(ROOT / "extraction_forms" / "crps.yaml", OUT / "extraction_form.yaml")
    shutil.copyfile(ROOT / "protocols" / "ketamine-crps.yaml", OUT / "protocol.yaml")
    print(
        f"wrote {OUT}: {len(in_pubmed)} PubMed articles, {len(ris)} RIS records, "
        f"{len(prov)} provenance rows, {len(extraction)} extraction rows, {len(included)} included reports"
    )


if __name__ == "__main__":
    main()
