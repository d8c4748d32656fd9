#!/usr/bin/env Rscript
## Times lavaan 0.6.14's bootstrap of an ordinal fit inside R (R's start-up and package loading
## are not counted): sem(model, data, ordered = TRUE, estimator = "DWLS", se = "bootstrap",
## bootstrap = R) - lavaan's se = "bootstrap" refuses estimator = "WLSMV" and the point
## estimates are the same - against the same fit with se = "none" and test = "none", so that
## (bootstrap - plain) / R is the time of one draw (after one untimed warm-up fit).
## Usage: Rscript lavaan_ordinal_bootstrap.R MODEL.lav DATA.csv R OUT.json
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(args[1], encoding = "UTF-8"), collapse = "\n")
data <- read.csv(args[2])
R <- as.integer(args[3])
fit0 <- sem(model, data = data, ordered = TRUE, estimator = "DWLS", se = "none",
            test = "none")  # warm-up: R's first calls of lavaan's functions are slower
plain <- system.time(sem(model, data = data, ordered = TRUE, estimator = "DWLS",
                         se = "none", test = "none"))[["elapsed"]]
set.seed(1)
boot <- system.time(fit <- sem(model, data = data, ordered = TRUE, estimator = "DWLS",
                               se = "bootstrap", bootstrap = R))[["elapsed"]]
used <- nrow(lavInspect(fit, "boot"))
writeLines(toJSON(list(plain = plain, bootstrap = boot, draws = R, used = used,
                       version = as.character(packageVersion("lavaan"))),
                  digits = NA, auto_unbox = TRUE), args[4])
