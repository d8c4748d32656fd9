#!/usr/bin/env Rscript
## make_ordinal_data.R -- the ordinal versions of the Holzinger-Swineford data used by the
## ordinal cases of the corpus (run from the repository root):
##   Rscript tests/lavaan_cases/data/make_ordinal_data.R
## Each score x1..x9 is cut at sample quantiles into k categories (right-closed intervals,
## ties go down): k = 3 at the 25/75% quantiles, k = 5 at 10/30/70/90% (the cut of
## tests/reference/holzinger1939_ordinal.csv), k = 7 at 5/15/35/65/85/95%. The missing-data
## version cuts holzinger1939_missing.csv the same way (NA stays NA); the mixed version keeps
## x4 and x7 continuous.
ROOT <- file.path("tests", "lavaan_cases", "data")
cut_items <- function(d, probs) {
  for (v in paste0("x", 1:9)) {
    cuts <- quantile(d[[v]], probs = probs, type = 7, names = FALSE, na.rm = TRUE)
    d[[v]] <- as.integer(cut(d[[v]], breaks = c(-Inf, cuts, Inf), right = TRUE))
  }
  d
}
hs <- read.csv(file.path(ROOT, "holzinger1939.csv"))
hsm <- read.csv(file.path(ROOT, "holzinger1939_missing.csv"))
p5 <- c(0.10, 0.30, 0.70, 0.90)
write.csv(cut_items(hs, c(0.25, 0.75)), file.path(ROOT, "hs_ordinal3.csv"), row.names = FALSE)
write.csv(cut_items(hs, p5), file.path(ROOT, "hs_ordinal5.csv"), row.names = FALSE)
write.csv(cut_items(hs, c(0.05, 0.15, 0.35, 0.65, 0.85, 0.95)),
          file.path(ROOT, "hs_ordinal7.csv"), row.names = FALSE)
write.csv(cut_items(hsm, p5), file.path(ROOT, "hs_ordinal5_missing.csv"), row.names = FALSE)
mixed <- cut_items(hs, p5)
mixed$x4 <- hs$x4
mixed$x7 <- hs$x7
write.csv(mixed, file.path(ROOT, "hs_ordinal5_mixed.csv"), row.names = FALSE)
