"""Pooling agrees with R metafor: every reference JSON, every method, every statistic.

Two sets of references, read by path and never copied:
- ``../shared/reference/metafor/`` (the team's; via the ``shared`` fixture);
- ``tests/data/metafor/`` (ours, made by ``make_extra.R`` with metafor 3.8-1: k = 1, 2, 3,
  tau² = 0, huge heterogeneity, zero and double-zero cells, 40 studies, meta-regression,
  subgroups, leave-one-out, Egger's test).

Tolerances: statistics 1e-6 relative (the references are converged to 1e-10, so exact
solutions agree far better; 1e-6 leaves room for the last digits of p-values near 0);
per-study yi/vi 1e-8 relative (closed forms: only rounding differs). The absolute floor of
1e-9 only matters for values that are 0 in R (tau² = 0, I² = 0).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from contract import META_KEYS

from review.pooling import egger_test, leave_one_out
from review.project.meta import run_meta

OURS = Path(__file__).resolve().parents[1] / "data" / "metafor"
REL, ABS = 1e-6, 1e-9


def _close(got: Any, want: Any, what: str, rel: float = REL, absol: float = ABS) -> None:
    assert got is not None, f"{what}: missing (want {want})"
    assert math.isclose(float(got), float(want), rel_tol=rel, abs_tol=absol), (
        f"{what}: got {got}, want {want}"
    )


def _files(folder: Path, suffix: str) -> list[Path]:
    return sorted(
        p for p in folder.glob(f"*{suffix}") if suffix != ".expected.json" or p.name.count(".") == 2
    )


def _run(csv: Path, measure: str, method: str, **kw: Any) -> dict[str, Any]:
    return run_meta(
        csv,
        measure=None if measure == "GEN" else measure,
        method=method.replace("_HKSJ", ""),
        hksj=method.endswith("_HKSJ"),
        diagnostics=False,  # Egger and leave-one-out are compared separately (extras files)
        **kw,
    )


def _check_plain(exp_path: Path) -> int:
    exp = json.loads(exp_path.read_text())
    csv = exp_path.with_name(exp_path.name.replace(".expected.json", ".csv"))
    measure = exp["measure"]
    k = len(exp["studies"])
    # The whole grid is there: every method the contract names for this kind of data.
    want = {"FE", "DL", "REML", "PM"} | ({"REML_HKSJ", "DL_HKSJ"} if k > 1 else set())
    if measure in ("RR", "OR", "RD"):
        want.add("MH")
    if measure == "OR":
        want.add("PETO")
    assert want <= set(exp), f"{exp_path.name}: reference grid incomplete, missing {want - set(exp)}"
    n = 0
    for method, block in exp.items():
        if method in ("measure", "studies"):
            continue
        got = _run(csv, measure, method)
        name = f"{exp_path.name}:{method}"
        assert len(got["studies"]) == k
        for i, st in enumerate(exp["studies"]):
            assert got["studies"][i]["study"] == st["study"]
            _close(got["studies"][i]["yi"], st["yi"], f"{name} study {i} yi", 1e-8, 1e-12)
            _close(got["studies"][i]["vi"], st["vi"], f"{name} study {i} vi", 1e-8, 1e-12)
        for key in META_KEYS:
            if key not in block or block[key] is None:
                continue
            if method in ("MH", "PETO") and key in ("tau2", "pi_low", "pi_high"):
                continue
            _close(got[key], block[key], f"{name}.{key}")
            n += 1
        if "weights" in block:
            weights = block["weights"] if isinstance(block["weights"], list) else [block["weights"]]
            for i, wt in enumerate(weights):
                _close(got["studies"][i]["weight"], wt, f"{name} weight {i}")
                n += 1
    return n


def _check_mods(exp_path: Path) -> int:
    exp = json.loads(exp_path.read_text())
    csv = exp_path.with_name(exp_path.name.replace(".mods.expected.json", ".csv"))
    n = 0
    for method, block in exp.items():
        if method in ("measure", "moderator"):
            continue
        got = _run(csv, exp["measure"], method, moderator=exp["moderator"])
        assert len(got["coefficients"]) == len(block["coefficients"]) == 2
        for i, c in enumerate(block["coefficients"]):
            assert got["coefficients"][i]["name"] == c["name"]
            for key in ("estimate", "se", "pval", "ci_low", "ci_high"):
                _close(got["coefficients"][i][key], c[key], f"{exp_path.name}:{method} coef {i}.{key}")
                n += 1
        for key in ("k", "qm", "qm_pval", "q", "q_pval", "tau2", "i2", "r2"):
            if method == "FE" and key in ("tau2", "i2", "r2"):
                continue
            _close(got[key], block[key], f"{exp_path.name}:{method}.{key}")
            n += 1
    return n


def _check_subgroups(exp_path: Path) -> int:
    exp = json.loads(exp_path.read_text())
    csv = exp_path.with_name(exp_path.name.replace(".subgroups.expected.json", ".csv"))
    n = 0
    for method in ("REML", "DL"):
        block = exp[method]
        got = _run(csv, exp["measure"], method, subgroup=exp["subgroup"])
        assert set(got["subgroups"]) == set(block["subgroups"])
        for g, sub in block["subgroups"].items():
            for key in ("k", "estimate", "se", "ci_low", "ci_high", "tau2", "i2"):
                _close(got["subgroups"][g][key], sub[key], f"{exp_path.name}:{method}[{g}].{key}")
                n += 1
        for key in ("q_between", "df_between", "q_between_pval"):
            _close(got[key], block[key], f"{exp_path.name}:{method}.{key}")
            n += 1
    return n


def _check_extras(path: Path) -> int:
    exp = json.loads(path.read_text())
    studies = json.loads(path.with_name(path.name.replace(".extras.json", ".expected.json")).read_text())[
        "studies"
    ]
    yi = [s["yi"] for s in studies]
    vi = [s["vi"] for s in studies]
    n = 0
    for method, block in exp.items():
        loo = leave_one_out(yi, vi, method)
        ref = block["leave1out"]
        for i, r in enumerate(loo):
            for key, attr in (
                ("estimate", "estimate"),
                ("se", "se"),
                ("pval", "pval"),
                ("ci_low", "ci_low"),
                ("ci_high", "ci_high"),
                ("q", "q"),
                ("q_pval", "q_pval"),
                ("tau2", "tau2"),
                ("i2", "i2"),
                ("h2", "h2"),
            ):
                _close(getattr(r, attr), ref[key][i], f"{path.name}:{method} leave1out[{i}].{key}")
                n += 1
        if block.get("egger"):
            eg = egger_test(yi, vi, method)
            _close(eg.stat, block["egger"]["stat"], f"{path.name}:{method} egger.stat")
            _close(eg.pval, block["egger"]["pval"], f"{path.name}:{method} egger.pval")
            _close(eg.limit_estimate, block["egger"]["limit_estimate"], f"{path.name}:{method} egger.limit")
            n += 3
    return n


def _params(folder: Path, suffix: str) -> list[Any]:
    return [pytest.param(p, id=p.name) for p in _files(folder, suffix)]


# --- the team's references (../shared) -----------------------------------------------------------


def test_shared_reference_grid_is_complete(shared: Path) -> None:
    folder = shared / "reference" / "metafor"
    names = {p.name for p in folder.glob("*.json")}
    for name in ("bcg_RR", "bcg_OR", "bcg_RD", "normand1999_MD", "normand1999_SMD", "hackshaw1998_GEN"):
        assert f"{name}.expected.json" in names
    assert "bcg_RR_ablat.mods.expected.json" in names
    assert "bcg_RR_ablat.subgroups.expected.json" in names


def test_shared_references_agree(shared: Path) -> None:
    folder = shared / "reference" / "metafor"
    n = sum(_check_plain(p) for p in _files(folder, ".expected.json"))
    n += sum(_check_mods(p) for p in folder.glob("*.mods.expected.json"))
    n += sum(_check_subgroups(p) for p in folder.glob("*.subgroups.expected.json"))
    assert n > 600  # every statistic of every method of every file was compared


# --- our own references (tests/data/metafor, made by make_extra.R) -------------------------------


def test_own_reference_grid_is_complete() -> None:
    names = {p.name for p in OURS.glob("*.json")}
    for stem in (
        "k1_GEN",
        "k2_GEN",
        "k3_MD",
        "k3_SMD",
        "homog_GEN",
        "huge_GEN",
        "zeros_OR",
        "zeros_RR",
        "zeros_RD",
        "niel_OR",
        "niel_RR",
        "niel_RD",
        "yusuf6_OR",
        "yusuf6_RR",
        "curtis40_MD",
        "curtis40_SMD",
        "curtis40_ROM",
        "raud_GEN",
        "bin1_OR",
        "bin1_RR",
        "bin1_RD",
        "dup_RR",
    ):
        assert f"{stem}.expected.json" in names, stem
    for stem in ("curtis40_ROM", "raud_GEN"):
        assert f"{stem}.mods.expected.json" in names
        assert f"{stem}.subgroups.expected.json" in names
        mods = json.loads((OURS / f"{stem}.mods.expected.json").read_text())
        assert {"FE", "DL", "REML", "PM", "REML_HKSJ", "DL_HKSJ"} <= set(mods)
    assert len(list(OURS.glob("*.extras.json"))) >= 15


@pytest.mark.parametrize("path", _params(OURS, ".expected.json"))
def test_own_references_plain(path: Path) -> None:
    assert _check_plain(path) > 0


@pytest.mark.parametrize("path", _params(OURS, ".mods.expected.json"))
def test_own_references_meta_regression(path: Path) -> None:
    assert _check_mods(path) > 0


@pytest.mark.parametrize("path", _params(OURS, ".subgroups.expected.json"))
def test_own_references_subgroups(path: Path) -> None:
    assert _check_subgroups(path) > 0


@pytest.mark.parametrize("path", _params(OURS, ".extras.json"))
def test_own_references_leave_one_out_and_egger(path: Path) -> None:
    assert _check_extras(path) > 0
