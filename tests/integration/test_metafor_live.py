"""Optional: run R's metafor live on fresh random data sets and compare (skipped without R).

Needs ``Rscript`` with metafor and jsonlite (Debian: r-base-core r-cran-metafor r-cran-jsonlite).
Covers what fixed references cannot: new data every seed, zero cells, k = 3.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from review.effects import escalc
from review.pooling import mantel_haenszel, peto, rma

R_SCRIPT = r"""
suppressMessages({library(metafor); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1])
tight <- list(threshold = 1e-10, tol = 1e-12, maxiter = 10000)
out <- list()
for (ms in c("OR", "RR", "RD")) {
  es <- escalc(ms, ai = d$a, n1i = d$n1, ci = d$c, n2i = d$n2)
  r <- list(yi = as.numeric(es$yi), vi = as.numeric(es$vi))
  for (m in c("EE", "DL", "REML", "PM")) for (t in c("z", "knha")) {
    f <- rma(yi, vi, data = es, method = m, test = t, control = tight)
    p <- predict(f)
    r[[paste(m, t)]] <- list(estimate = as.numeric(f$b), se = f$se, tau2 = f$tau2, i2 = f$I2, q = f$QE,
                             pval = f$pval, pi_low = if (is.null(p$pi.lb)) p$ci.lb else p$pi.lb)
  }
  h <- rma.mh(ai = d$a, n1i = d$n1, ci = d$c, n2i = d$n2, measure = ms)
  r[["MH"]] <- list(estimate = as.numeric(h$b), se = h$se, q = h$QE, i2 = h$I2)
  if (ms == "OR") {
    h <- rma.peto(ai = d$a, n1i = d$n1, ci = d$c, n2i = d$n2)
    r[["PETO"]] <- list(estimate = as.numeric(h$b), se = h$se, q = h$QE, i2 = h$I2)
  }
  out[[ms]] <- r
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA), args[2])
"""


def _have_metafor() -> bool:
    if shutil.which("Rscript") is None:
        return False
    p = subprocess.run(
        ["Rscript", "-e", "suppressMessages({library(metafor); library(jsonlite)})"],
        capture_output=True,
        timeout=60,
    )
    return p.returncode == 0


pytestmark = pytest.mark.skipif(not _have_metafor(), reason="needs Rscript with metafor and jsonlite")


def _close(got: float, want: float, what: str) -> None:
    assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9), f"{what}: got {got}, want {want}"


@pytest.mark.parametrize("seed", [3, 11, 2024])
def test_live_metafor_binary_with_zero_cells(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = 3 if seed == 3 else int(rng.integers(4, 12))
    n1 = rng.integers(8, 80, k)
    n2 = rng.integers(8, 80, k)
    a = rng.binomial(n1, rng.uniform(0.0, 0.3, k))
    c = rng.binomial(n2, rng.uniform(0.05, 0.4, k))
    a[0] = 0  # always one zero cell
    csv = tmp_path / "d.csv"
    csv.write_text("a,n1,c,n2\n" + "\n".join(f"{a[i]},{n1[i]},{c[i]},{n2[i]}" for i in range(k)) + "\n")
    script = tmp_path / "live.R"
    script.write_text(R_SCRIPT)
    out = tmp_path / "out.json"
    subprocess.run(["Rscript", str(script), str(csv), str(out)], check=True, capture_output=True, timeout=120)
    ref = json.loads(out.read_text())
    for ms, r in ref.items():
        es = escalc(ms, ai=a, n1i=n1, ci=c, n2i=n2)
        for i in range(k):
            _close(float(es.yi[i]), r["yi"][i], f"{ms} yi[{i}]")
            _close(float(es.vi[i]), r["vi"][i], f"{ms} vi[{i}]")
        for m in ("EE", "DL", "REML", "PM"):
            for t in ("z", "knha"):
                want = r[f"{m} {t}"]
                got = rma(es.yi, es.vi, "FE" if m == "EE" else m, hksj=t == "knha")
                for key in ("estimate", "se", "tau2", "i2", "q", "pval", "pi_low"):
                    _close(float(getattr(got, key)), want[key], f"seed {seed} {ms} {m} {t} {key}")
        try:
            mh = mantel_haenszel(a, n1, c, n2, ms)
        except Exception:  # metafor gives NA where MH is undefined; we raise
            continue
        for key in ("estimate", "se", "q", "i2"):
            _close(float(getattr(mh, key)), r["MH"][key], f"seed {seed} {ms} MH {key}")
        if ms == "OR":
            pe = peto(a, n1, c, n2)
            for key in ("estimate", "se", "q", "i2"):
                _close(float(getattr(pe, key)), r["PETO"][key], f"seed {seed} PETO {key}")
