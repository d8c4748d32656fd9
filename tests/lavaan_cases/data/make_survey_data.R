#!/usr/bin/env Rscript
## make_survey_data.R -- real Likert survey data for the ordinal cases of the corpus, taken from
## data sets that ship with R packages (run from the repository root):
##   Rscript tests/lavaan_cases/data/make_survey_data.R
## bfi.csv         psych::bfi (psych 2.2.9): 2800 respondents of the SAPA project, 25 Big-Five
##                 items on a 6-point scale (1 very inaccurate .. 6 very accurate), with their
##                 missing answers; gender (1 male, 2 female), education, age.
## bfi3.csv        the A, C, E and N items recoded 0..2 (1-2 -> 0, 3-4 -> 1, 5-6 -> 2), gender.
## bfi4_text.csv   (missing answers written NA, as text columns need) the A and C items in 4 categories written as text whose alphabetical order
##                 is the answer order ("a_dis" < "b_sdis" < "c_sagr" < "d_agr" for 1-2, 3, 4,
##                 5-6: disagree, slightly disagree, slightly agree, agree), gender.
## bfi5.csv        the same items in 5 categories (1-2 merged), gender.
## bfi_small.csv   the first 200 respondents with complete A and C answers, 6 categories:
##                 sparse categories and empty cells in the bivariate tables.
## talor.csv       psych::Tal_Or (Tal-Or, Cohen, Tsfati & Gunther 2010), N = 123: import, a
##                 7-point item, pmi and reaction (averages of 7-point items), cond, gender.
## satact.csv      psych::sat.act, N = 700: education (6 categories, 0..5), ACT, SATV, SATQ
##                 (with missing values), gender, age.
suppressPackageStartupMessages(library(psych))
ROOT <- file.path("tests", "lavaan_cases", "data")
items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5))
b <- psych::bfi
write.csv(b, file.path(ROOT, "bfi.csv"), row.names = FALSE, na = "")
recode <- function(x, map) map[x]
b3 <- b[, c(items, "gender")]
b4 <- b3
b5 <- b3
text4 <- c("a_dis", "a_dis", "b_sdis", "c_sagr", "d_agr", "d_agr")
for (v in items) {
  b3[[v]] <- as.integer(recode(b[[v]], c(0, 0, 1, 1, 2, 2)))
  b4[[v]] <- recode(b[[v]], text4)
  b5[[v]] <- as.integer(recode(b[[v]], c(1, 1, 2, 3, 4, 5)))
}
write.csv(b3, file.path(ROOT, "bfi3.csv"), row.names = FALSE, na = "")
ac <- c(paste0("A", 1:5), paste0("C", 1:5))
write.csv(b4[, c(ac, "gender")], file.path(ROOT, "bfi4_text.csv"), row.names = FALSE)
write.csv(b5, file.path(ROOT, "bfi5.csv"), row.names = FALSE, na = "")
small <- b[stats::complete.cases(b[, ac]), c(ac, "gender")][1:200, ]
write.csv(small, file.path(ROOT, "bfi_small.csv"), row.names = FALSE, na = "")
t <- psych::Tal_Or
attributes(t)[c("variable.labels", "codepage")] <- NULL
for (v in names(t)) attr(t[[v]], "value.labels") <- NULL
write.csv(t, file.path(ROOT, "talor.csv"), row.names = FALSE, na = "")
write.csv(psych::sat.act, file.path(ROOT, "satact.csv"), row.names = FALSE, na = "")
