# Extra metafor reference values for review's pooling tests (cases beyond ../shared's set):
# k = 1, k = 2, k = 3, tau^2 = 0, huge heterogeneity, zero and double-zero cells, 40 studies,
# meta-regression and subgroups on other data, leave-one-out and Egger's test.
# Made with R 4.2.2, metafor 3.8-1 and metadat (Debian bookworm packages r-base-core,
# r-cran-metafor): `Rscript make_extra.R OUTDIR` (OUTDIR = this folder).
# Same JSON layout as ../shared/reference/metafor so checks/compare_meta.py can read it.
suppressMessages({library(metafor); library(metadat); library(jsonlite)})
out <- commandArgs(TRUE)[1]
tight <- list(threshold = 1e-10, tol = 1e-12, maxiter = 10000)
dir.create(out, showWarnings = FALSE, recursive = TRUE)
js <- function(x, file) writeLines(toJSON(x, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"), file.path(out, file))

block <- function(f) {
  p <- predict(f)
  list(k = f$k, estimate = as.numeric(f$b), se = f$se, ci_low = f$ci.lb, ci_high = f$ci.ub, pval = f$pval,
       tau2 = f$tau2, i2 = f$I2, h2 = f$H2, q = f$QE, q_pval = f$QEp,
       pi_low = if (is.null(p$pi.lb)) p$ci.lb else p$pi.lb, pi_high = if (is.null(p$pi.ub)) p$ci.ub else p$pi.ub,
       weights = as.numeric(weights(f)))
}
mhblock <- function(f) list(k = f$k, estimate = as.numeric(f$b), se = f$se, ci_low = f$ci.lb, ci_high = f$ci.ub,
                            pval = f$pval, q = f$QE, q_pval = f$QEp, i2 = f$I2, h2 = f$H2, weights = as.numeric(weights(f)))

extras <- function(es, method) {
  f <- rma(yi, vi, data = es, method = method, control = tight)
  l <- leave1out(f)
  r <- if (f$k >= 3) regtest(f) else NULL
  list(method = method,
       leave1out = list(estimate = l$estimate, se = l$se, pval = l$pval, ci_low = l$ci.lb, ci_high = l$ci.ub,
                        q = l$Q, q_pval = l$Qp, tau2 = l$tau2, i2 = l$I2, h2 = l$H2),
       egger = if (is.null(r)) NULL else list(stat = r$zval, pval = r$pval, limit_estimate = as.numeric(r$est)))
}

case <- function(name, input, es, measure, binary = NULL) {
  write.csv(input, file.path(out, paste0(name, ".csv")), row.names = FALSE)
  r <- list(measure = measure, studies = data.frame(study = input$study, yi = as.numeric(es$yi), vi = as.numeric(es$vi)))
  for (m in c("FE", "DL", "REML", "PM")) r[[m]] <- block(rma(yi, vi, data = es, method = if (m == "FE") "EE" else m, control = tight))
  if (nrow(input) > 1) {
    r[["REML_HKSJ"]] <- block(rma(yi, vi, data = es, method = "REML", test = "knha", control = tight))
    r[["DL_HKSJ"]] <- block(rma(yi, vi, data = es, method = "DL", test = "knha", control = tight))
    r[["PM_HKSJ"]] <- block(rma(yi, vi, data = es, method = "PM", test = "knha", control = tight))
  }
  if (!is.null(binary)) {
    r[["MH"]] <- mhblock(rma.mh(ai = binary$ai, n1i = binary$n1i, ci = binary$ci, n2i = binary$n2i, measure = measure))
    if (measure == "OR") r[["PETO"]] <- mhblock(rma.peto(ai = binary$ai, n1i = binary$n1i, ci = binary$ci, n2i = binary$n2i))
  }
  js(r, paste0(name, ".expected.json"))
  if (nrow(input) >= 2) js(list(REML = extras(es, "REML"), DL = extras(es, "DL")), paste0(name, ".extras.json"))
}
binary <- function(name, study, ai, n1i, ci, n2i, measures, extra = NULL) {
  input <- data.frame(study = study, events1 = ai, n1 = n1i, events2 = ci, n2 = n2i)
  if (!is.null(extra)) input <- cbind(input, extra)
  for (ms in measures) case(paste0(name, "_", ms), input, escalc(ms, ai = ai, n1i = n1i, ci = ci, n2i = n2i), ms,
                            list(ai = ai, n1i = n1i, ci = ci, n2i = n2i))
}
continuous <- function(name, study, m1, sd1, n1, m2, sd2, n2, measures, extra = NULL) {
  input <- data.frame(study = study, m1 = m1, sd1 = sd1, n1 = n1, m2 = m2, sd2 = sd2, n2 = n2)
  if (!is.null(extra)) input <- cbind(input, extra)
  for (ms in measures) case(paste0(name, "_", ms), input,
                            escalc(ms, m1i = m1, sd1i = sd1, n1i = n1, m2i = m2, sd2i = sd2, n2i = n2), ms)
}
generic <- function(name, study, yi, vi, extra = NULL) {
  input <- data.frame(study = study, yi = yi, vi = vi)
  if (!is.null(extra)) input <- cbind(input, extra)
  case(paste0(name, "_GEN"), input, data.frame(yi = yi, vi = vi), "GEN")
}
mods <- function(name, input, es, col, measure) {
  r <- list(measure = measure, moderator = col)
  for (m in c("REML", "DL", "FE", "PM", "REML_HKSJ", "DL_HKSJ")) {
    f <- rma(es$yi, es$vi, mods = ~ input[[col]], method = if (m == "FE") "EE" else sub("_HKSJ", "", m),
             test = if (grepl("HKSJ", m)) "knha" else "z", control = tight)
    r[[m]] <- list(k = f$k, coefficients = lapply(seq_along(f$b), function(i) list(name = if (i == 1) "intercept" else col,
                   estimate = f$b[i], se = f$se[i], pval = f$pval[i], ci_low = f$ci.lb[i], ci_high = f$ci.ub[i])),
                   qm = f$QM, qm_pval = f$QMp, q = f$QE, q_pval = f$QEp, tau2 = f$tau2, i2 = f$I2,
                   r2 = if (is.null(f$R2)) NULL else f$R2)
  }
  js(r, paste0(name, ".mods.expected.json"))
}
subgroups <- function(name, input, es, col, measure) {
  r <- list(measure = measure, subgroup = col)
  for (m in c("REML", "DL")) {
    g <- sort(unique(as.character(input[[col]])))
    fits <- lapply(g, function(v) rma(es$yi[input[[col]] == v], es$vi[input[[col]] == v], method = m, control = tight))
    names(fits) <- g
    b <- rma(sapply(fits, function(f) as.numeric(f$b)), sei = sapply(fits, function(f) f$se), method = "EE")
    r[[m]] <- list(subgroups = lapply(fits, function(f) list(k = f$k, estimate = as.numeric(f$b), se = f$se,
                   ci_low = f$ci.lb, ci_high = f$ci.ub, tau2 = f$tau2, i2 = f$I2)),
                   q_between = b$QE, df_between = length(g) - 1, q_between_pval = b$QEp)
  }
  js(r, paste0(name, ".subgroups.expected.json"))
}

# 40 studies of plant growth under elevated CO2 (ROM, MD, SMD), moderator time, subgroups fungrp.
cu <- dat.curtis1998[1:40, ]
continuous("curtis40", paste0(cu$paper, "-", cu$id), cu$m1i, cu$sd1i, cu$n1i, cu$m2i, cu$sd2i, cu$n2i, c("MD", "SMD", "ROM"),
           extra = data.frame(time = cu$time, fungrp = cu$fungrp))
inp <- read.csv(file.path(out, "curtis40_ROM.csv"))
es <- escalc("ROM", m1i = inp$m1, sd1i = inp$sd1, n1i = inp$n1, m2i = inp$m2, sd2i = inp$sd2, n2i = inp$n2)
mods("curtis40_ROM", inp, es, "time", "ROM")
subgroups("curtis40_ROM", inp, es, "fungrp", "ROM")

# Catheter-related infections: many zero cells (OR, RR, RD), MH and Peto.
ni <- dat.nielweise2007
binary("niel", paste(ni$author, ni$year), ni$ai, ni$n1i, ni$ci, ni$n2i, c("OR", "RR", "RD"))

# Beta-blocker trials (Yusuf 1985, table 6): small tables with zero cells.
y <- dat.yusuf1985[dat.yusuf1985$table == "6", ]
y <- y[!is.na(y$ai), ]
binary("yusuf6", as.character(y$trial), y$ai, y$n1i, y$ci, y$n2i, c("OR", "RR"))

# Teacher expectancy (generic yi/vi, 19 studies), moderator weeks, subgroups by weeks > 1.
ra <- dat.raudenbush1985
generic("raud", paste(ra$author, ra$year), ra$yi, ra$vi, extra = data.frame(weeks = ra$weeks, contact = ifelse(ra$weeks > 1, "more", "little")))
inp <- read.csv(file.path(out, "raud_GEN.csv"))
mods("raud_GEN", inp, data.frame(yi = inp$yi, vi = inp$vi), "weeks", "GEN")
subgroups("raud_GEN", inp, data.frame(yi = inp$yi, vi = inp$vi), "contact", "GEN")

# Small and edge cases.
continuous("k3", c("A", "B", "C"), c(4.1, 5.0, 3.2), c(2.0, 2.5, 1.9), c(10, 12, 8), c(5.9, 6.1, 5.5), c(2.2, 2.4, 2.1), c(9, 13, 8), c("MD", "SMD"))
generic("k1", "Only 2020", 0.4, 0.04)
generic("k2", c("First", "Second"), c(0.1, 0.9), c(0.02, 0.05))
generic("homog", paste("Trial", 1:6), c(0.20, 0.21, 0.19, 0.20, 0.22, 0.18), c(0.04, 0.05, 0.03, 0.06, 0.05, 0.04))
generic("huge", paste("Trial", 1:8), c(-3.1, 2.5, 0.2, 5.4, -1.8, 7.9, 0.0, -6.2), c(0.010, 0.020, 0.015, 0.010, 0.030, 0.012, 0.020, 0.025))
binary("zeros", c("Z1 2001", "Z2 2003", "Z3 2005", "Z4 2009", "Z5 2012"), c(0, 2, 0, 5, 1), c(20, 35, 15, 60, 40),
       c(3, 6, 0, 9, 0), c(21, 33, 16, 58, 41), c("OR", "RR", "RD"))
binary("bin1", "Solo 2015", 4, 30, 9, 31, c("OR", "RR", "RD"))
binary("dup", c("Same", "Same", "Other"), c(3, 5, 8), c(40, 42, 50), c(7, 9, 10), c(41, 40, 52), c("RR"))
