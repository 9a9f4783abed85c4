"""`review meta` through the command line: JSON contract, forest plot, and bad input as one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from contract import META_KEYS

from review.cli import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def _csv(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


BINARY = "study,events1,n1,events2,n2,year,design\nA,4,123,11,139,1948,random\nB,6,306,29,303,1949,random\nC,3,231,11,220,1960,alt\nD,0,50,4,52,1977,alt\n"


def test_meta_json_has_the_contract_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    code, stdout, err = _run(
        ["meta", str(_csv(tmp_path, BINARY)), "--measure", "OR", "--json", str(out)], capsys
    )
    assert code == 0, err
    data = json.loads(out.read_text())
    assert set(data) >= set(META_KEYS)
    assert data["k"] == 4 and data["method"] == "REML"
    assert [s["study"] for s in data["studies"]] == ["A", "B", "C", "D"]
    assert sum(s["weight"] for s in data["studies"]) == pytest.approx(100)
    assert "OR pooled by REML: k = 4" in stdout
    assert "too few studies to judge asymmetry" in stdout  # Egger's test at k = 4 carries the caveat


def test_meta_mh_peto_mod_subgroup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _csv(tmp_path, BINARY)
    out = tmp_path / "r.json"
    for extra in (["--method", "MH"], ["--method", "PETO"]):
        code, _, err = _run(["meta", str(src), "--measure", "OR", *extra, "--json", str(out)], capsys)
        assert code == 0, err
        assert json.loads(out.read_text())["tau2"] is None
    code, _, err = _run(["meta", str(src), "--measure", "RR", "--mod", "year", "--json", str(out)], capsys)
    assert code == 0, err
    data = json.loads(out.read_text())
    assert [c["name"] for c in data["coefficients"]] == ["intercept", "year"]
    assert {"qm", "qm_pval", "q", "q_pval", "tau2", "i2", "r2"} <= set(data)
    code, stdout, err = _run(
        ["meta", str(src), "--measure", "RR", "--subgroup", "design", "--json", str(out)], capsys
    )
    assert code == 0, err
    data = json.loads(out.read_text())
    assert set(data["subgroups"]) == {"random", "alt"}
    assert data["df_between"] == 1
    assert "test for subgroup differences" in stdout


def test_meta_forest_writes_png_and_svg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        [
            "meta",
            str(_csv(tmp_path, BINARY)),
            "--measure",
            "RR",
            "--forest",
            str(tmp_path / "plots" / "forest"),
        ],
        capsys,
    )
    assert code == 0, err
    png = tmp_path / "plots" / "forest.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "plots" / "forest.svg").read_text(encoding="utf-8")
    assert "<svg" in svg[:400]
    # titled by measure and model, not by the input file's name ("in")
    assert "Risk ratio, random-effects (REML)</text>" in svg
    assert ">in</text>" not in svg


def test_meta_forest_title_option_and_default_with_hksj(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _csv(tmp_path, BINARY, name="s40.csv")
    args = ["meta", str(data), "--measure", "OR", "--method", "DL", "--hksj", "--forest"]
    code, _, err = _run([*args, str(tmp_path / "default")], capsys)
    assert code == 0, err
    svg = (tmp_path / "default.svg").read_text(encoding="utf-8")
    assert "Odds ratio, random-effects (DerSimonian-Laird), HKSJ</text>" in svg
    assert "s40" not in svg
    code, _, err = _run(
        [*args, str(tmp_path / "mine"), "--title", "Ketamine vs placebo: pain at 12 weeks"], capsys
    )
    assert code == 0, err
    svg = (tmp_path / "mine.svg").read_text(encoding="utf-8")
    assert "Ketamine vs placebo: pain at 12 weeks</text>" in svg
    assert "Odds ratio, random-effects" not in svg


@pytest.mark.parametrize(
    ("text", "args", "fragment"),
    [
        ("study,yi\nA,0.1\n", [], "missing column(s) vi"),
        ("study,events1,n1,events2\nA,1,10,2\n", ["--measure", "RR"], "missing column(s) n2"),
        (
            "study,events1,n1,events2,n2\nA,1,10,2,10\nB,1,0,2,10\n",
            ["--measure", "OR"],
            "line 3: study 'B': n1 must be > 0",
        ),
        ("study,m1,sd1,n1,m2,sd2,n2\nA,1,-1,10,2,1,10\n", ["--measure", "MD"], "sd1 must be >= 0"),
        (
            "study,events1,n1,events2,n2\nA,12,10,2,10\n",
            ["--measure", "RR"],
            "events1 (12) is larger than n1 (10)",
        ),
        (
            "study,events1,n1,events2,n2\nA,1.5,10,2,10\n",
            ["--measure", "RR"],
            "events1 must be a whole number of participants, got 1.5",
        ),
        ("study,yi,vi\n", [], "no usable study"),
        ("study,yi,vi\nA,abc,0.1\n", [], "yi must be a number"),
        ("study,yi,vi\nA,0.1,0.1\n", ["--method", "MH"], "needs binary data"),
        (
            "study,events1,n1,events2,n2\nA,1,10,2,10\n",
            ["--measure", "RR", "--method", "PETO"],
            "odds ratios only",
        ),
        ("study,m1,sd1,n1,m2,sd2,n2\nA,1,1,10,2,1,10\n", [], "need --measure MD, SMD or ROM"),
    ],
)
def test_bad_input_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, args: list[str], fragment: str
) -> None:
    code, stdout, err = _run(["meta", str(_csv(tmp_path, text)), *args], capsys)
    assert code != 0
    assert stdout.strip() == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert fragment in lines[0]
    assert "Traceback" not in err


def test_semicolon_csv_with_decimal_commas_and_typographic_minus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel in a decimal-comma locale saves 'CSV' with ';' and '5,1'; a PDF pastes '−0,2'
    (U+2212). Both read as the comma-separated file with decimal points does."""
    plain = _csv(tmp_path, "study,m1,sd1,n1,m2,sd2,n2\nA,5.1,2,20,6,2,20\nB,-0.2,2.5,30,6,2,31\n")
    semi = _csv(
        tmp_path,
        "\ufeffstudy;m1;sd1;n1;m2;sd2;n2\nA;5,1;2;20;6;2;20\nB;\u22120,2;2,5;30;6;2;31\n",
        name="semi.csv",
    )
    results = []
    for path in (plain, semi):
        out = tmp_path / f"{path.stem}.json"
        code, _stdout, err = _run(["meta", str(path), "--measure", "MD", "--json", str(out)], capsys)
        assert code == 0, err
        results.append(json.loads(out.read_text()))
    assert results[1]["estimate"] == results[0]["estimate"]
    assert [s["yi"] for s in results[1]["studies"]] == pytest.approx([-0.9, -6.2])


def test_peto_and_mh_forest_rows_are_the_ones_the_method_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As metafor's forest plots of rma.peto / rma.mh (3.8-1): Peto's per-study OR
    exp((O - E)/V) with 1/2 added to a table with a zero cell (A: log OR 1.390278, vi 1.176389
    -> 4.02 [0.48, 33.7]; C: 1.750093, 0.729205 -> 5.76 [1.08, 30.7]), and a study with no
    events in either arm "Not estimable" rather than escalc's 0.5-corrected OR of 1. The JSON
    ``studies`` keep escalc's yi and vi (the contract)."""
    data = _csv(tmp_path, "study,events1,n1,events2,n2\nA,3,10,1,12\nB,0,20,0,20\nC,5,30,0,28\n")
    out = tmp_path / "p.json"
    for method, measure in (("PETO", "OR"), ("MH", "RR")):
        forest = tmp_path / method
        code, _stdout, err = _run(
            [
                "meta",
                str(data),
                "--measure",
                measure,
                "--method",
                method,
                "--json",
                str(out),
                "--forest",
                str(forest),
            ],
            capsys,
        )
        assert code == 0, err
        svg = forest.with_suffix(".svg").read_text()
        assert "Not estimable" in svg and "1.00 [" not in svg
        if method == "PETO":
            assert "4.02 [0.48, 33.7]" in svg and "5.76 [1.08, 30.7]" in svg
            got = json.loads(out.read_text())
            assert got["estimate"] == pytest.approx(1.788009397161231, rel=1e-8)
            assert got["studies"][0]["yi"] == pytest.approx(1.550597412411167, rel=1e-10)  # escalc
