#!/usr/bin/env Rscript
## lavaan 0.6.14's FIML bootstrap of the Holzinger-Swineford CFA with missing answers.
## Run from tests/reference: Rscript make_fiml_bootstrap.R
## Writes hs_cfa_fiml_bootstrap.json (call, bootstrap SEs, percentile CIs, draws used) and
## hs_fiml_bootstrap_draws.csv (every draw lavaan used, columns named as coef(fit)).
## The draws resample the rows with their missing answers and refit by FIML
## (se = "bootstrap" with missing = "ml"); tests compare our draws' SEs with these within
## Monte-Carlo error (different random numbers).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
hsm <- read.csv("holzinger1939_missing.csv")
HS.model <- "visual  =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed   =~ x7 + x8 + x9"
B <- 1000L
set.seed(20231)
t0 <- proc.time()[["elapsed"]]
fit <- cfa(HS.model, data = hsm, missing = "ml", se = "bootstrap", bootstrap = B)
secs <- proc.time()[["elapsed"]] - t0
draws <- lavInspect(fit, "boot")
pe <- as.data.frame(parameterEstimates(fit, ci = TRUE, level = 0.95, boot.ci.type = "perc"))
pt <- parTable(fit)
pe$free <- pt$free[match(paste(pe$lhs, pe$op, pe$rhs), paste(pt$lhs, pt$op, pt$rhs))]
pe <- pe[pe$free > 0, ]
out <- list(
  source = list(lavaan = as.character(packageVersion("lavaan")), R = R.version.string,
                script = "make_fiml_bootstrap.R",
                call = sprintf('cfa(HS.model, data = hsm, missing = "ml", se = "bootstrap", bootstrap = %d)', B),
                seed = 20231L, seconds = secs),
  model = HS.model, data = "holzinger1939_missing.csv", draws_requested = B,
  draws_used = nrow(draws), draws_file = "hs_fiml_bootstrap_draws.csv",
  parameters = data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, free = pe$free,
                          est = pe$est, se_boot = pe$se, perc.lower = pe$ci.lower,
                          perc.upper = pe$ci.upper),
  notes = paste("se_boot is lavaan's bootstrap standard error (SD of the draws used,",
                "divisor R, as lavaan 0.6.14 computes it for free parameters)."))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "hs_cfa_fiml_bootstrap.json")
d <- as.data.frame(draws)
write.csv(cbind(draw = seq_len(nrow(d)), d), "hs_fiml_bootstrap_draws.csv", row.names = FALSE)
cat(sprintf("%d draws used of %d, %.1f s\n", nrow(draws), B, secs))
