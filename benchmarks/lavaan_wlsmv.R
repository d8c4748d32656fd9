#!/usr/bin/env Rscript
## Times one WLSMV analysis in lavaan as a user runs it (inside R, so R's start-up and package
## loading are not counted): sem(model, data, ordered = TRUE, estimator = "WLSMV") followed by
## fitMeasures, parameterEstimates(standardized = TRUE), lavInspect(fit, "r2") and modindices.
## Usage: Rscript lavaan_wlsmv.R MODEL.lav DATA.csv REPEAT OUT.json [ML]
## Writes the elapsed seconds of each run (after one warm-up) and lavaan's chi-square. With ML
## as fifth argument the same analysis is timed by maximum likelihood (the items continuous).
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(args[1], encoding = "UTF-8"), collapse = "\n")
data <- read.csv(args[2])
reps <- as.integer(args[3])
ml <- length(args) >= 5 && args[5] == "ML"
run <- function(all = TRUE) {
  fit <- if (ml) sem(model, data = data) else
    sem(model, data = data, ordered = TRUE, estimator = "WLSMV")
  if (all) {
    fm <- fitMeasures(fit)
    est <- parameterEstimates(fit, standardized = TRUE)
    r2 <- lavInspect(fit, "r2")
    mi <- modindices(fit)
  }
  fit
}
fit <- run()
all <- vapply(seq_len(reps), function(i) system.time(run(TRUE))[["elapsed"]], 0)
est <- vapply(seq_len(reps), function(i) system.time(run(FALSE))[["elapsed"]], 0)
writeLines(toJSON(list(all = I(all), estimates = I(est), chisq = fitMeasures(fit, "chisq")[[1]],
                       version = as.character(packageVersion("lavaan"))),
                  digits = NA, auto_unbox = TRUE), args[4])
