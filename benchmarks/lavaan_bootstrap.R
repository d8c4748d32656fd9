#!/usr/bin/env Rscript
## Times lavaan 0.6.14's bootstrap of an ML fit inside R (R's start-up and package loading are
## not counted): sem(model, data, se = "bootstrap", bootstrap = R, parallel = "multicore",
## ncpus = NCPUS) - the full-sample fit, the draws and the standard errors, as
## riskmodel_sem's bootstrap(fit, data, R, jobs = NCPUS) is timed from a fitted model - after
## one untimed warm-up fit; each of REPEAT runs is timed separately, and the plain fit
## (se = "standard") once more so that its time can be subtracted.
## Usage: Rscript lavaan_bootstrap.R MODEL.lav DATA.csv R NCPUS REPEAT OUT.json
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(args[1], encoding = "UTF-8"), collapse = "\n")
data <- read.csv(args[2])
R <- as.integer(args[3])
ncpus <- as.integer(args[4])
repeats <- as.integer(args[5])
fit0 <- sem(model, data = data)  # warm-up: R's first calls of lavaan's functions are slower
plain <- system.time(sem(model, data = data))[["elapsed"]]
times <- numeric(repeats)
used <- integer(repeats)
for (i in seq_len(repeats)) {
  set.seed(i)
  times[i] <- system.time(fit <- sem(
    model, data = data, se = "bootstrap", bootstrap = R,
    parallel = if (ncpus > 1) "multicore" else "no", ncpus = ncpus))[["elapsed"]]
  used[i] <- nrow(lavInspect(fit, "boot"))
}
writeLines(toJSON(list(plain = plain, bootstrap = times, draws = R, used = used, ncpus = ncpus,
                       version = as.character(packageVersion("lavaan"))),
                  digits = NA, auto_unbox = FALSE), args[6])
