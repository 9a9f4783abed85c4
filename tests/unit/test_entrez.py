"""Entrez client pieces: NCBI's real esearch/epost/espell replies, Retry-After, date splitting."""

from __future__ import annotations

import datetime as dt
import email.message
import urllib.error
from pathlib import Path
from typing import Any

import pytest
from Bio import Entrez

from review.errors import EntrezError, InputError
from review.sources import entrez as E
from review.sources.entrez import DatePart, EntrezClient, plan_date_parts


def test_real_esearch_reply(entrez_dir: Path) -> None:
    record = E._read_esearch((entrez_dir / "esearch3.xml").read_bytes(), "PNAS[ta] AND 97[vi]")
    assert record["Count"] == "2651"
    assert record["QueryTranslation"] == '"proc natl acad sci u s a"[Journal] AND "97"[Volume]'
    assert E._search_warnings(record, "q") == []


def test_real_history_reply(entrez_dir: Path) -> None:
    record = E._read_esearch((entrez_dir / "esearch2.xml").read_bytes(), "q")
    assert record["Count"] == "42249" and record["QueryKey"] == "1"
    assert record["WebEnv"] == "MCID_6927d6e7fee3e90f880ec190"


def test_real_phrase_not_found_reply_gives_warnings(entrez_dir: Path) -> None:
    record = E._read_esearch((entrez_dir / "esearch8.xml").read_bytes(), "abcXYZ")
    assert record["Count"] == "0"
    assert E._search_warnings(record, "abcXYZ") == [
        "phrase not found in PubMed: abcXYZ",
        "PubMed says: No items found.",
    ]


def test_unknown_field_is_an_error() -> None:
    record: dict[str, Any] = {"Count": "3", "ErrorList": {"FieldNotFound": ["tiabx"], "PhraseNotFound": []}}
    with pytest.raises(
        EntrezError, match=r"does not know the field tag\(s\) tiabx: .*\(query: ketamine\[tiabx\]\)"
    ):
        E._search_warnings(record, "ketamine[tiabx]")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("epost2.xml", "PubMed refused the search: Invalid db name specified: nothing"),
        ("epost3.xml", "PubMed refused the search: Empty ID list; Nothing to store"),
    ],
)
def test_real_error_replies_are_clear(entrez_dir: Path, name: str, message: str) -> None:
    with pytest.raises(EntrezError, match=message):
        E._read_esearch((entrez_dir / name).read_bytes(), "q")


def test_reply_without_count_is_an_error(entrez_dir: Path) -> None:
    # espell's empty <ERROR/> does not raise in Bio.Entrez; it is still no esearch reply
    with pytest.raises(EntrezError, match="esearch reply has no <Count>"):
        E._read_esearch((entrez_dir / "espell.xml").read_bytes(), "biopythooon")


def test_html_and_truncated_esearch_replies_are_retryable(entrez_dir: Path) -> None:
    with pytest.raises(InputError, match="HTML page"):
        E._read_esearch((entrez_dir / "pubmed3.html").read_bytes(), "q")
    body = (entrez_dir / "esearch1.xml").read_bytes()
    with pytest.raises(InputError):
        E._read_esearch(body[: len(body) // 2], "q")


def _http_error(headers: dict[str, str]) -> urllib.error.HTTPError:
    msg = email.message.Message()
    for k, v in headers.items():
        msg[k] = v
    return urllib.error.HTTPError("http://x", 429, "Too Many Requests", msg, None)


def test_retry_after_seconds_and_date() -> None:
    assert E._retry_after(_http_error({"Retry-After": "7"})) == 7.0
    assert E._retry_after(_http_error({})) is None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    wait = E._retry_after(_http_error({"Retry-After": later.strftime("%a, %d %b %Y %H:%M:%S GMT")}))
    assert wait is not None and 25 <= wait <= 31


def test_backoff_grows_and_is_bounded() -> None:
    client = EntrezClient(backoff_base=0.5, backoff_max=3.0)
    waits = [client._wait(a, None) for a in (1, 2, 3, 4, 5)]
    assert 0.5 <= waits[0] <= 0.625 and 1.0 <= waits[1] <= 1.25 and 2.0 <= waits[2] <= 2.5
    assert waits[3] == waits[4] == 3.0
    assert client._wait(1, 4.0) == 4.0  # Retry-After wins over the back-off


def test_bad_base_url() -> None:
    with pytest.raises(InputError, match="must start with http"):
        EntrezClient(eutils_url="127.0.0.1:8000/entrez")
    assert EntrezClient(eutils_url="http://127.0.0.1:1/e").eutils_url == "http://127.0.0.1:1/e/"


def test_bio_entrez_is_restored_after_a_call() -> None:
    before = (Entrez.urlopen, Entrez.max_tries)
    client = EntrezClient()
    with client._bio_entrez():
        assert Entrez.urlopen is E._urlopen and Entrez.max_tries == 1
    assert (Entrez.urlopen, Entrez.max_tries) == before


class FakeCounts:
    """Stands in for EntrezClient.esearch: counts records by publication date."""

    def __init__(self, dates: list[dt.date]) -> None:
        self.dates = dates
        self.calls = 0

    def esearch(self, term: str, *, mindate: str, maxdate: str, **_: Any) -> Any:
        self.calls += 1
        lo = dt.date(*map(int, mindate.split("/")))
        hi = dt.date(*map(int, maxdate.split("/")))

        class R:
            count = sum(lo <= d <= hi for d in self.dates)

        return R()


def test_plan_date_parts_covers_everything_once() -> None:
    dates = [dt.date(1990, 1, 1) + dt.timedelta(days=3 * i) for i in range(1000)]
    fake = FakeCounts(dates)
    parts = plan_date_parts(fake, "q", 1000, limit=150)  # type: ignore[arg-type]
    assert sum(p.count for p in parts) == 1000 and all(0 < p.count <= 150 for p in parts)
    ends = [
        (dt.date(*map(int, p.mindate.split("/"))), dt.date(*map(int, p.maxdate.split("/")))) for p in parts
    ]
    assert all(a <= b for a, b in ends)
    assert all(ends[i][1] < ends[i + 1][0] for i in range(len(ends) - 1))  # no overlap
    assert sum(sum(a <= d <= b for a, b in ends) for d in dates) == 1000  # each record in one part


def test_plan_date_parts_refuses_undated_records() -> None:
    fake = FakeCounts([dt.date(2000, 1, 1)] * 20)
    with pytest.raises(EntrezError, match="finds 25 records but 20 when limited to publication dates"):
        plan_date_parts(fake, "q", 25, limit=10)  # type: ignore[arg-type]


def test_plan_date_parts_honours_protocol_dates() -> None:
    dates = [dt.date(1995 + i // 10, 1, 1) for i in range(100)]
    fake = FakeCounts(dates)
    parts = plan_date_parts(fake, "q", 50, mindate="2000", maxdate="2004", limit=20)  # type: ignore[arg-type]
    assert parts[0].mindate == "2000/01/01" and parts[-1].maxdate == "2004/12/31"
    assert sum(p.count for p in parts) == 50


def test_date_part_is_plain_data() -> None:
    assert DatePart("2000/01/01", "2000/12/31", 5).__dict__ == {
        "mindate": "2000/01/01",
        "maxdate": "2000/12/31",
        "count": 5,
    }
