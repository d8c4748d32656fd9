#!/usr/bin/env Rscript
## One lavaan run as a user makes it: CSV in, every statistic, JSON out.
## Usage: Rscript lavaan_fit.R MODEL.lav DATA.csv OUT.json [BOOTSTRAP_DRAWS NCPUS SEED [MISSING]]
## With BOOTSTRAP_DRAWS > 0: se = "bootstrap" (parallel = "multicore" when NCPUS > 1);
## MISSING = "ml" fits by FIML (the draws too), default "listwise".
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(args[1], encoding = "UTF-8"), collapse = "\n")
data <- read.csv(args[2])
draws <- if (length(args) >= 4) as.integer(args[4]) else 0L
ncpus <- if (length(args) >= 5) as.integer(args[5]) else 1L
if (length(args) >= 6) set.seed(as.integer(args[6]))
missing <- if (length(args) >= 7) args[7] else "listwise"
if (draws > 0) {
  fit <- sem(model, data = data, se = "bootstrap", bootstrap = draws, missing = missing,
             parallel = if (ncpus > 1) "multicore" else "no", ncpus = ncpus)
  est <- parameterEstimates(fit, boot.ci.type = "perc", standardized = TRUE)
} else {
  fit <- sem(model, data = data, missing = missing)
  est <- parameterEstimates(fit, standardized = TRUE)
}
out <- list(fit = as.list(fitMeasures(fit)), estimates = est,
            r2 = as.list(lavInspect(fit, "r2")),
            modindices = if (draws > 0) NULL else head(modindices(fit, sort. = TRUE), 10))
writeLines(toJSON(out, digits = NA, na = "null"), args[3])
