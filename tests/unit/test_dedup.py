"""The dedup algorithm (review.dedup): normalisers, pair rules, blocking, safe merging, answers."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.dedup import (
    candidate_pairs,
    compare,
    compare_pages,
    correction_notice,
    find_duplicates,
    journal_match,
    normal_title,
    page_range,
    prepare,
    title_kind,
)
from review.records import Record

PAPER = {
    "title": "Ketamine for complex regional pain syndrome: a randomized controlled trial",
    "authors": "Schwartzman, R J; Alexander, G M; Grothusen, J R",
    "year": "2009",
    "journal": "Pain",
    "volume": "147",
    "issue": "1-3",
    "pages": "107-15",
    "doi": "10.1016/j.pain.2009.08.015",
}


def rec(**changes: object) -> dict[str, object]:
    out: dict[str, object] = dict(PAPER)
    out.update(changes)
    return out


def verdict(a: dict[str, object], b: dict[str, object]) -> str:
    return compare(prepare(a), prepare(b))[0]


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ("221-8", ("221", "228")),
        ("221-228", ("221", "228")),
        ("1297-306", ("1297", "1306")),
        ("S417-S429", ("s417", "429")),
        ("e12724", ("e12724", "")),
        ("215 p", ("", "")),  # a page count, not a page
        ("Suppl-29", ("", "29")),  # garbled start: only the end page is kept
        ("01-Jun", ("", "")),  # Excel turned 1-6 into a date
        ('"233-8, 230-5"', ("233", "238")),
        ("", ("", "")),
        (None, ("", "")),
    ],
)
def test_page_range(pages: str | None, expected: tuple[str, str]) -> None:
    assert page_range(pages) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("221-8", "221-228", "eq"),
        ("e12724", "1-6", "unknown"),  # article number against a page count
        ("945", "943-945", "compatible"),  # one database gives only the end page
        ("2297-2108", "2097-2108", "compatible"),  # one typed digit
        ("S3-89", "S78-S89", "compatible"),  # both ranges end on the same page
        ("107-15", "231-40", "conflict"),
        ("", "107-15", "unknown"),
    ],
)
def test_compare_pages(a: str, b: str, expected: str) -> None:
    assert compare_pages(prepare(rec(pages=a)), prepare(rec(pages=b))) == expected


def test_journal_abbreviations_and_acronyms() -> None:
    def words(name: str) -> tuple[str, ...]:
        return prepare({"journal": name}).journal

    assert journal_match(words("Curr Opin Lipidol"), words("Current opinion in lipidology")) == 1.0
    assert (
        journal_match(words("J Am Soc Nephrol"), words("Journal of the American Society of Nephrology"))
        == 1.0
    )
    assert (
        journal_match(words("HICSS 2018"), words("Hawaii International Conference on System Sciences")) == 1.0
    )
    assert journal_match(words("Dtsch Med Wochenschr"), words("Deutsche Medizinische Wochenschrift")) == 1.0
    assert journal_match(words("Pain"), words("Lancet")) < 0.5
    # an acronym may take more than one letter of a word: AMCIS = AMericas Conference on IS
    amcis = words("Americas Conference on Information Systems")
    assert journal_match(words("Amcis 2017 Proceedings"), amcis) == 1.0
    assert journal_match(words("ECIS 2017"), amcis) < 0.5
    assert journal_match(words("ICIS"), words("European Conference on Information Systems")) < 0.5
    icis = words("International Conference on Information Systems")
    assert journal_match(words("ICIS : Transforming Society with Digital Innovation"), icis) == 1.0
    # ordinary words are no acronyms of a long name
    assert journal_match(words("Critical Care"), words("Current Atherosclerosis Reports")) < 0.5
    assert journal_match(words("Acta Pharmacol Sin"), words("Asian Cardiovascular and Thoracic Annals")) < 0.5
    acm = words(
        "Proceedings of the 25th ACM International Conference on Information and Knowledge Management"
    )
    assert journal_match(words("Pain"), acm) < 0.5


def test_one_conference_paper_under_two_names_of_its_proceedings() -> None:
    paper = {
        "title": "The Unique Challenges of Seller Uncertainty in Sharing Economy-A Decision Making Perspective",
        "authors": "Lei, Yu; Yayla, Ali Alper; Kahai, Surinder",
        "year": "2017",
        "journal": "Americas Conference on Information Systems",
    }
    assert (
        verdict(paper, {**paper, "journal": "Amcis 2017 Proceedings", "authors": "Lei, Y; Yayla, A A"})
        == "same"
    )
    # the minitrack's introduction of the next year is another item (its own DOI)
    intro = {
        "title": "Introduction to the Minitrack on Crowdsourcing and Digital Workforce in the Gig Economy",
        "authors": "Deng, Xuefei; Taylor, Joseph; Moussawi, Sara",
        "journal": "Proceedings of the Annual Hawaii International Conference on System Sciences",
    }
    assert (
        verdict(
            {**intro, "year": "2021", "doi": "10.24251/HICSS.2021.510"},
            {**intro, "year": "2022", "doi": "10.24251/HICSS.2022.544"},
        )
        == "different"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (  # one title, author and year in a journal and at a workshop: a person decides
            {
                "title": "Graded motor imagery for CRPS in primary care",
                "authors": "Moseley, L",
                "year": "2020",
                "journal": "Journal of Pain Management",
            },
            {
                "title": "Graded motor imagery for CRPS in primary care",
                "authors": "Moseley, L",
                "year": "2020",
                "journal": "Workshop of Pain Management",
            },
        ),
        (  # one title, venue and year, other authors (a recurring call or tutorial)
            {
                "title": "Tutorial proposal for the 2009 pain congress",
                "authors": "Douglas, D; Cronan, P",
                "year": "2010",
                "journal": "World Congress on Pain",
            },
            {
                "title": "Tutorial proposal for the 2009 pain congress",
                "authors": "Jafar, M; Furner, C",
                "year": "2010",
                "journal": "World Congress on Pain",
            },
        ),
        (  # a record of the journal itself ('UNKNOWN' author, a DOI cut short) is no article of it
            {
                "title": "Ketamine infusions in CRPS: a cohort",
                "authors": "Clary, G; Dick, G",
                "year": "2022",
                "journal": "Pain Reports",
                "volume": "50",
                "pages": "122-142",
                "doi": "10.1097/PR9.0000000000001",
            },
            {"title": "Pain Reports", "authors": "UNKNOWN", "doi": "10.1097/PR9."},
        ),
    ],
)
def test_look_alikes_are_not_merged(a: dict[str, object], b: dict[str, object]) -> None:
    assert verdict(a, b) != "same"
    groups = find_duplicates([a, b]).group.tolist()
    assert groups[0] != groups[1]


def test_a_central_record_doi_is_not_the_articles() -> None:
    central = rec(doi="10.1002/central/CN-00712345", journal="Pain", pages="107-115")
    assert verdict(rec(), central) == "same"
    assert verdict(central, rec(doi="10.1002/central/CN-00799999", title="Magnesium for CRPS")) == "different"


def test_normal_title_drops_notes_and_language_tags() -> None:
    assert normal_title("Efficacy of batroxobin. [Chinese]") == normal_title("Efficacy of batroxobin")
    assert normal_title("HPV testing in screening. [Review] [72 refs]") == "hpv testing in screening"
    assert normal_title("Title.[Erratum appears in J Pediatr. 2003 Jun") == "title"
    assert normal_title("&lt;i&gt;In vivo&lt;/i&gt; β-cell") == "in vivo beta cell"
    assert normal_title("ЗАЙНЯТІСТЬ І МОТИВАЦІЯ") != ""  # other scripts are kept, not erased


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Erratum: Severe deficiency of ADAMTS13", "erratum"),
        ("Long-term effect of eculizumab (vol 85, pg 553, 2010)", "erratum"),
        ("Eculizumab for aHUS (New England Journal of Medicine (2009) 360 (542-544))", "erratum"),
        ("Corrigendum to 'Ketamine for CRPS'", "erratum"),
        ("Retraction notice", "retraction"),
        ("Reply to: Ketamine for CRPS", "reply"),
        ("Atypical HUS and streptococcus - Reply", "reply"),
        ("Atypical HUS and streptococcus (multiple letters) [1]", "letters"),
        ("Comment on: ketamine infusions", "reply"),
        ("Ketamine for CRPS.[Erratum appears in Pain 2010;148:350]", ""),  # a note, not an erratum
        ("Response to ketamine in CRPS: a cohort", ""),
        ("Ketamine for complex regional pain syndrome", ""),
    ],
)
def test_title_kind(title: str, kind: str) -> None:
    assert title_kind(title) == kind


@pytest.mark.parametrize(
    "other",
    [
        # PubMed vs Embase vs Web of Science formats of one paper
        rec(pages="107-115", journal="PAIN", authors="Schwartzman RJ; Alexander GM; Grothusen JR", doi=None),
        rec(title=PAPER["title"].upper() + ".", doi=None),
        rec(title=PAPER["title"].replace("randomized", "randomised"), doi=None),
        rec(title="Ketamine for complex regional pain syndrome: a randomized controled trial", doi=None),
        rec(year="2010", doi=None),  # same volume and pages: the year was mistyped
        rec(
            title="Ketamine dans le syndrome douloureux régional complexe [French]", doi=None, pages="107-115"
        ),
    ],
)
def test_same_publication(other: dict[str, object]) -> None:
    assert verdict(rec(), other) == "same"


@pytest.mark.parametrize(
    ("other", "why"),
    [
        (rec(title="Erratum", pages="350", doi=None), "erratum vs paper"),  # names no paper
        (rec(title="Reply to: " + str(PAPER["title"]), pages="351-2", doi=None), "reply vs paper"),
        (
            rec(journal="Pain. Conference: World Congress", issue="Suppl 1", pages=None, doi=None),
            "conference",
        ),
        (rec(year="2013", volume=None, pages=None, doi=None), "years differ"),
        (rec(doi="10.1016/j.pain.2010.01.001"), "different DOI"),
        (rec(volume="150", doi=None), "different volume"),
        (rec(pages="231-40", doi=None), "different pages"),
    ],
)
def test_traps_never_merge(other: dict[str, object], why: str) -> None:
    v, _, reason = compare(prepare(rec()), prepare(other))
    assert v == "different"
    assert why.split()[0] in reason


def test_cochrane_review_versions_are_one_review() -> None:
    base = {"authors": "Good, P; Cavenagh, J", "journal": "Cochrane Database of Systematic Reviews"}
    old = {
        **base,
        "title": "Medically assisted hydration for palliative care patients",
        "year": "2008",
        "pages": "CD006273",
        "doi": "10.1002/14651858.CD006273.pub2",
    }
    new = {
        **base,
        "title": "Medically assisted hydration for adult palliative care patients",
        "year": "2014",
        "pages": "CD006273",
        "doi": "10.1002/14651858.CD006273.pub3",
    }
    other = {**new, "pages": "CD001234", "doi": "10.1002/14651858.CD001234.pub3"}
    assert verdict(old, new) == "same"
    assert verdict(new, other) == "different"


def test_numbered_series_and_a_changed_word_do_not_merge() -> None:
    base = {"authors": "Low, D; File, T", "year": "2011", "journal": "J Antimicrob Chemother", "volume": "66"}
    focus1 = {**base, "title": "FOCUS 1: a randomized trial of ceftaroline", "pages": "iii19-iii32"}
    focus2 = {**base, "title": "FOCUS 2: a randomized trial of ceftaroline", "pages": "iii33-iii44"}
    assert verdict(focus1, focus2) == "different"
    trial = {"authors": "Alexion Pharmaceuticals, Inc", "year": "2011"}
    adult = {**trial, "title": "An open-label multi-centre trial of eculizumab in adult patients with aHUS"}
    child = {
        **trial,
        "title": "An open-label multi-centre trial of eculizumab in pediatric patients with aHUS",
    }
    assert verdict(adult, child) != "same"


def test_abstract_with_its_papers_doi_is_not_the_paper() -> None:
    abstract = rec(journal="Pain. Conference: 12th World Congress on Pain", issue="Suppl 1", pages="S45")
    assert verdict(rec(), abstract) == "different"


def test_shared_supplement_doi_does_not_merge_different_abstracts() -> None:
    a = rec(title="GLP-1 reduces intestinal lipid availability", doi="10.2337/db13-388-679", pages="A163")
    b = rec(
        title="DPP-4 inhibitor attenuates vascular smooth muscle proliferation", doi="10.2337/db13-388-679"
    )
    assert verdict(a, b) == "different"


ABSTRACT = (
    "Background: ketamine infusions are used for complex regional pain syndrome, but their effect "
    "beyond the infusion period is uncertain. Methods: we randomised 60 patients to a four-hour "
    "infusion or placebo on ten days and followed them for twelve weeks. Results: pain fell more "
    "with ketamine during the first month; the difference had faded by week twelve."
)


def test_an_article_the_journal_printed_twice_is_one_publication() -> None:
    first = rec(abstract=ABSTRACT, year="2009", volume="147", pages="107-15", doi="10.1016/j.pain.2009.1")
    again = rec(abstract=ABSTRACT, year="2010", volume="148", pages="56-64", doi="10.1016/j.pain.2008.9")
    v, _, reason = compare(prepare(first), prepare(again))
    assert (v, reason.split()[0]) == ("same", "one")
    # anything that shows another text or another place keeps them apart
    other_text = {**again, "abstract": "Objective: a different study of the same question. " + ABSTRACT[:150]}
    assert verdict(first, other_text) == "different"
    assert verdict(first, {**again, "pages": "56-70"}) == "different"  # another length
    assert verdict(first, {**again, "year": "2011"}) == "different"  # years two apart
    assert verdict(first, {**again, "journal": "Anesthesia and Analgesia"}) == "different"
    assert verdict(first, {**again, "abstract": None}) == "different"  # no text to compare
    assert verdict(first, {**again, "authors": "Schwartzman, R J; Grothusen, J R"}) == "different"


def test_two_reports_of_one_trial_are_no_reprint() -> None:
    """Same background text, authors, journal and length; another part, follow-up or ending."""
    methods = ABSTRACT.split("Results:")[0]
    part1 = rec(title="Ketamine for CRPS, part 1: pain", abstract=ABSTRACT, doi="10.1016/j.pain.2009.1")
    part2 = rec(
        title="Ketamine for CRPS, part 2: pain",
        year="2010",
        volume="148",
        pages="56-64",
        abstract=ABSTRACT,
        doi="10.1016/j.pain.2010.2",
    )
    assert verdict(part1, part2) == "different"
    later = {
        **part2,
        "title": part1["title"],
        "abstract": methods + "Results: at two years pain had returned.",
    }
    assert verdict(part1, later) == "different"  # same first 300 letters, another result
    # two PMIDs are two PubMed entries: such a pair is not taken for a reprint
    same_text = {**part2, "title": part1["title"]}
    assert verdict(part1, same_text) == "same"
    assert verdict({**part1, "pmid": "19000001"}, {**same_text, "pmid": "20000002"}) == "different"


def test_find_duplicates_groups_and_keeps_pubmed_record() -> None:
    records = [
        Record(source="embase", source_id="e1", **{**PAPER, "doi": None, "pages": "107-115"}),  # type: ignore[arg-type]
        Record(source="pubmed", source_id="19783371", pmid="19783371", **PAPER),  # type: ignore[arg-type]
        Record(source="scopus", source_id="s1", title="Something else entirely about CRPS", year=2009),
    ]
    out = find_duplicates(records)
    assert out.group.tolist() == [1, 1, 2]
    assert out.kept.tolist() == [False, True, True]
    assert out.n_groups == 2


def test_transitive_chain_is_not_merged() -> None:
    # A ~ B and B ~ C, but A and C have different DOIs: they must not end in one group
    a = rec(doi="10.1016/j.pain.2009.08.015", pages=None, volume=None)
    b = rec(doi=None, pages=None, volume=None)
    c = rec(doi="10.1016/j.pain.2009.99.999", pages=None, volume=None)
    out = find_duplicates([a, b, c])
    assert out.group[0] != out.group[2]
    assert out.n_groups == 2


def test_answers_override_the_algorithm() -> None:
    a, b = rec(), rec(doi=None, pages="107-115")
    assert find_duplicates([a, b]).n_groups == 1
    assert find_duplicates([a, b], answers={(0, 1): False}).n_groups == 2
    far = rec(title="A different title altogether", doi=None)
    out = find_duplicates([a, far], answers={(0, 1): True})
    assert out.n_groups == 1
    assert any(p.verdict == "same" and p.reason == "answered by a person" for p in out.pairs)


def test_uncertain_pairs_are_reported_not_merged() -> None:
    a = rec(journal="Pain", volume=None, pages=None, doi=None)
    b = rec(journal="ACP Journal Club", volume=None, pages=None, doi=None)
    out = find_duplicates([a, b])
    assert out.n_groups == 2
    assert [(p.a, p.b) for p in out.uncertain()] == [(0, 1)]


def test_dataframe_input() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame([rec(), rec(doi=float("nan"), pages="107-115"), rec(title="Other", doi=None)])
    assert find_duplicates(frame).group.tolist() == [0, 0, 2]


def test_blocking_is_near_linear() -> None:
    rng = random.Random(3)
    words = [
        "pain",
        "ketamine",
        "regional",
        "complex",
        "trial",
        "cohort",
        "nerve",
        "block",
        "infusion",
        "dose",
        "outcome",
    ]
    rows = [
        {"title": " ".join(rng.choice(words) for _ in range(9)) + f" {i}", "year": str(2000 + i % 20)}
        for i in range(3000)
    ]
    pairs = candidate_pairs([prepare(r) for r in rows])
    assert len(pairs) < 20 * len(rows)  # all pairs would be 4.5 million
    assert (pairs[:, 0] < pairs[:, 1]).all()


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_partition_does_not_depend_on_order(rnd: random.Random) -> None:
    records = [
        rec(),
        rec(doi=None, pages="107-115"),
        rec(title="Erratum: " + str(PAPER["title"]), pages="350", doi=None),
        rec(year="2013", volume="40", pages="1-9", doi=None),
        rec(year="2013", volume="40", pages="1-9", doi=None, journal="Pain (Amsterdam)"),
        rec(title="Graded motor imagery for CRPS", doi=None, pages="2129-34"),
    ]
    order = list(range(len(records)))
    rnd.shuffle(order)
    shuffled = find_duplicates([records[i] for i in order])

    def partition(groups: list[int], idx: list[int]) -> set[frozenset[int]]:
        by: dict[int, set[int]] = {}
        for pos, g in enumerate(groups):
            by.setdefault(g, set()).add(idx[pos])
        return {frozenset(v) for v in by.values()}

    plain = find_duplicates(records)
    assert partition(shuffled.group.tolist(), order) == partition(
        plain.group.tolist(), list(range(len(records)))
    )


def test_parallel_normalising_gives_the_same_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    import review.dedup as dedup

    records = [rec(), rec(doi=None, pages="107-115"), rec(title="Erratum: x", pages="350", doi=None)] * 10
    serial = find_duplicates(records)
    monkeypatch.setattr(dedup, "PARALLEL_FROM", 5)
    parallel = find_duplicates(records)
    assert parallel.group.tolist() == serial.group.tolist()
    assert parallel.kept.tolist() == serial.kept.tolist()


def test_same_pmid_is_one_article_even_with_a_translated_title() -> None:
    english = rec(pmid="19783371", doi=None)
    french = rec(pmid="19783371", doi=None, title="Kétamine dans le syndrome douloureux régional complexe")
    assert verdict(english, french) == "same"
    # a DOI shared by a whole supplement is not enough on its own
    other = rec(title="Vitamin C after wrist fracture", doi=PAPER["doi"], pages=None)
    assert verdict(rec(pages=None), other) == "different"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Pain relief after ketamine (vol 147, pg 107, 2009)", ("pain relief after ketamine", "147", "107")),
        (
            "Pain relief after ketamine (Pain (2009) 147 (107-115))",
            ("pain relief after ketamine", "147", "107"),
        ),
        (
            'Corrigendum to "Pain relief after ketamine" [Eur. J. Pain 13(2) (2009) 107-115]',
            ("pain relief after ketamine", "13", "107"),
        ),
        ("Erratum to - Pain relief after ketamine", ("pain relief after ketamine", "", "")),
        ("ERRATUM - Pain relief after ketamine", ("pain relief after ketamine", "", "")),
        ("Correction: Pain relief after ketamine (Pain (Janu", ("pain relief after ketamine", "", "")),
        ("Erratum", ("", "", "")),  # names no paper
        ("Correction of pain relief after ketamine", ("", "", "")),  # a paper's own title
        ("Pain relief after ketamine.[Erratum appears in Pain 2010;148:350]", ("", "", "")),
    ],
)
def test_correction_notice_names_its_paper(title: str, expected: tuple[str, str, str]) -> None:
    assert correction_notice(title) == expected


def _notice(**changes: object) -> dict[str, object]:
    # PAPER is Pain 147(1-3):107-15, 2009
    fields: dict[str, object] = {"title": "Erratum to - " + str(PAPER["title"]), "issue": "3", "pages": "350"}
    return rec(**{**fields, "doi": "10.1016/x.1", **changes})


def test_correction_notice_joins_its_paper_and_is_never_kept() -> None:
    wos = rec(
        title=str(PAPER["title"]) + " (vol 147, pg 107, 2009)",
        authors="Schwartzman, R J",
        issue="3",
        pages="350",
        doi=None,
    )
    titled = _notice(year="2009")
    paper, copy = rec(), rec(doi=None, pages="107-115", journal="PAIN")
    for notice in (wos, titled):
        v, _, reason = compare(prepare(notice), prepare(paper))
        assert (v, reason.split(",")[0]) == ("same", "correction notice naming this paper")
    out = find_duplicates([wos, paper, titled, copy])
    assert out.n_groups == 1
    assert out.kept.tolist() == [False, True, False, False]  # the paper, never a notice


@pytest.mark.parametrize(
    ("notice", "expected"),
    [
        # a later volume: a title cannot tell which of two same-titled papers it corrects
        (_notice(year="2010", volume="148"), "uncertain"),
        # same volume but printed before the paper: not a notice of it
        (_notice(issue=None, pages="20"), "uncertain"),
        # cites another page of that volume: another paper of the same title
        (rec(title=str(PAPER["title"]) + " (vol 147, pg 401, 2009)", pages="350", doi=None), "different"),
        # another journal, or no author in common
        (_notice(journal="Anesthesiology"), "different"),
        (_notice(authors="Smith, A"), "different"),
        # a notice that only shares a title: no explicit link
        (rec(title="Erratum", issue="3", pages="350", doi=None), "different"),
    ],
)
def test_correction_notice_without_a_clear_link_stays_apart(notice: dict[str, object], expected: str) -> None:
    assert verdict(notice, rec()) == expected
    assert find_duplicates([notice, rec()]).n_groups == 2


def test_multiple_letters_record_holds_the_letter_and_its_reply() -> None:
    base = {
        "title": "Atypical hemolytic uremic syndrome associated with streptococcus",
        "year": "2004",
        "journal": "Pediatric Nephrology",
        "volume": "19",
        "issue": "8",
    }
    letters = {
        **base,
        "title": base["title"] + " (multiple letters) [1]",
        "authors": "Yildiz, B; Kural, N; Shepherd, A B; Baliga, R",
        "pages": "943-945",
    }
    letter = {**base, "authors": "Yildiz, B; Kural, N", "pages": "943-944"}
    reply = {
        **base,
        "title": base["title"] + " - Reply",
        "authors": "Shepherd, A B; Baliga, R",
        "pages": "945",
    }
    assert verdict(letter, reply) == "different"  # a reply is not the letter it answers
    assert verdict(letters, letter) == "same"  # same first page, volume, issue, year and title
    assert verdict(letters, reply) == "same"  # printed inside the record's pages, its authors
    out = find_duplicates([letter, reply, letters])
    assert out.n_groups == 1
    assert out.kept.tolist() == [False, False, True]  # the record that covers both is kept
    # a reply by authors the record does not list, or on a page outside it, is not part of it
    stranger = {**reply, "authors": "Smith, A"}
    outside = {**reply, "pages": "950"}
    assert verdict(letters, stranger) == "different"
    assert verdict(letters, outside) == "different"
    assert find_duplicates([letter, stranger, letters]).n_groups == 2


def test_two_letters_on_one_page_with_no_author_in_common_go_to_a_person() -> None:
    """One heading, one page, two single-author letters: not merged without a person."""
    letter = {
        "title": "Primary secretory otitis media in Cavalier King Charles spaniels",
        "year": "2004",
        "journal": "Journal of Small Animal Practice",
        "volume": "45",
        "issue": "4",
        "pages": "222",
    }
    a = prepare({**letter, "authors": "Stern-Bertholtz, W"})
    b = prepare({**letter, "authors": "Rusbridge, C"})
    assert compare(a, b)[0] == "uncertain"


def test_group_author_against_a_person_on_one_article_is_the_same_paper() -> None:
    """A collective author against its writing committee, same full citation: one paper."""
    paper = {
        "title": "Results of a randomized trial on the management of cytology interpretations",
        "year": "2003",
        "journal": "American Journal of Obstetrics and Gynecology",
        "volume": "188",
        "pages": "1383-1392",
    }
    a = prepare({**paper, "authors": "Solomon, D"})
    b = prepare({**paper, "authors": "Group, ASCUS-LSIL Triage Study (ALTS)"})
    assert compare(a, b)[0] == "same"
