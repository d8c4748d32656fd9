#!/usr/bin/env Rscript
## lavaan 0.6.14's bootstrap (se = "bootstrap") of WLSMV fits with ordered items.
## Run from tests/reference: Rscript make_ordinal_bootstrap.R
## Two fits on holzinger1939_ordinal.csv (x1..x9 cut into 5 ordered categories):
##   cfa: the 3-factor CFA, every item ordered;
##   sem: the same items with visual -> textual -> speed and visual -> speed, and the
##        indirect effect ind := a * b.
## lavaan refuses se = "bootstrap" with estimator = "WLSMV" ("use (D)WLS estimator for
## bootstrap"): the bootstrap of a WLSMV fit is that of estimator = "DWLS", whose point
## estimates are the same (WLSMV = DWLS estimates + robust SEs + scaled-shifted test).
## Each draw resamples the rows, recomputes the thresholds, polychoric correlations and the
## diagonal weight matrix, and refits DWLS from the full-sample estimates
## (lav_bootstrap_internal). Writes ordinal_bootstrap.json (per fit: the call, the number of
## draws used, every free and := parameter's estimate, bootstrap SE, percentile and
## bca.simple bounds) and ordinal_bootstrap_<fit>_draws.csv (the draws lavaan used, columns
## as coef(fit), then the := parameters). Tests compare our draws' SEs and bounds with these
## within Monte-Carlo error (different random numbers).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
hs <- read.csv("holzinger1939_ordinal.csv")
items <- paste0("x", 1:9)
B <- 1000L
models <- list(
  cfa = "visual  =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed   =~ x7 + x8 + x9",
  sem = paste("visual  =~ x1 + x2 + x3", "textual =~ x4 + x5 + x6",
              "speed   =~ x7 + x8 + x9", "textual ~ a*visual", "speed ~ b*textual + visual",
              "ind := a*b", sep = "\n"))
out <- list()
for (name in names(models)) {
  set.seed(20231)
  t0 <- proc.time()[["elapsed"]]
  fit <- sem(models[[name]], data = hs, ordered = items, estimator = "DWLS",
             se = "bootstrap", bootstrap = B)
  secs <- proc.time()[["elapsed"]] - t0
  draws <- lavInspect(fit, "boot")
  pe <- as.data.frame(parameterEstimates(fit, ci = TRUE, level = 0.95, boot.ci.type = "perc"))
  bc <- as.data.frame(parameterEstimates(fit, ci = TRUE, level = 0.95,
                                         boot.ci.type = "bca.simple"))
  pt <- parTable(fit)
  key <- paste(pe$lhs, pe$op, pe$rhs)
  pe$free <- pt$free[match(key, paste(pt$lhs, pt$op, pt$rhs))]
  keep <- pe$free > 0 | pe$op == ":="
  def <- NULL
  if (any(pe$op == ":=")) {
    def <- t(apply(draws, 1, function(x) fit@Model@def.function(x)))
    if (nrow(def) == 1L) def <- t(def)
    colnames(def) <- pe$lhs[pe$op == ":="]
  }
  out[[name]] <- list(
    call = sprintf('sem(model, data = hs, ordered = paste0("x", 1:9), estimator = "DWLS", se = "bootstrap", bootstrap = %d)', B),
    model = models[[name]], seed = 20231L, seconds = secs,
    draws_requested = B, draws_used = nrow(draws),
    draws_file = sprintf("ordinal_bootstrap_%s_draws.csv", name),
    parameters = data.frame(lhs = pe$lhs[keep], op = pe$op[keep], rhs = pe$rhs[keep],
                            free = pe$free[keep], est = pe$est[keep], se_boot = pe$se[keep],
                            perc.lower = pe$ci.lower[keep], perc.upper = pe$ci.upper[keep],
                            bc.lower = bc$ci.lower[keep], bc.upper = bc$ci.upper[keep]))
  d <- as.data.frame(cbind(draws, def))
  write.csv(cbind(draw = seq_len(nrow(d)), d), out[[name]]$draws_file, row.names = FALSE)
  cat(sprintf("%s: %d draws used of %d, %.1f s\n", name, nrow(draws), B, secs))
}
out$source <- list(lavaan = as.character(packageVersion("lavaan")), R = R.version.string,
                   script = "make_ordinal_bootstrap.R", data = "holzinger1939_ordinal.csv")
out$notes <- paste("se_boot is lavaan's bootstrap standard error: SD of the draws used with",
                   "divisor R for free parameters, R - 1 for := parameters (lavaan 0.6.14).")
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "ordinal_bootstrap.json")
