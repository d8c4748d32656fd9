# Reference numbers for ordinal reliability and validity (riskmodel_sem.psychometrics):
# ordinal alpha (Zumbo, Gadermann & Zeisser 2007) = psych::alpha on lavaan's polychoric matrix,
# and semTools::htmt(..., ordered =) (HTMT2 and the original HTMT).
#
# Run from this folder after make_polychoric.R:  Rscript make_ordinal_psychometrics.R
# Writes ordinal_psychometrics.json.

stopifnot(packageVersion("lavaan") == "0.6.14", packageVersion("semTools") == "0.5.6",
          packageVersion("psych") == "2.2.9")
suppressPackageStartupMessages({library(lavaan); library(semTools); library(psych);
                                library(jsonlite)})

d <- read.csv("polychoric_data.csv")
constructs <- list(visual = 1:3, textual = 4:6, speed = 7:9)
variants <- list(o5 = "listwise", o3 = "listwise", o7 = "listwise", m5 = "pairwise")

mat <- function(m) {
  m <- as.matrix(m)
  setNames(lapply(colnames(m), function(j) setNames(as.list(unname(m[, j])), rownames(m))),
           colnames(m))
}

out <- list(source = list(lavaan = as.character(packageVersion("lavaan")),
                          semTools = as.character(packageVersion("semTools")),
                          psych = as.character(packageVersion("psych")),
                          R = R.version.string, script = "make_ordinal_psychometrics.R",
                          data = "polychoric_data.csv"),
            cases = list())
for (pre in names(variants)) {
  missing <- variants[[pre]]
  items <- lapply(constructs, function(i) paste0(pre, "_x", i))
  all_items <- unlist(items, use.names = FALSE)
  model <- paste(sapply(names(items), function(f) paste(f, "=~", paste(items[[f]], collapse = " + "))),
                 collapse = "\n")
  alphas <- list()
  for (f in names(items)) {
    it <- items[[f]]
    R <- unclass(lavCor(d[it], ordered = it, missing = missing))
    n <- if (missing == "listwise") sum(complete.cases(d[it])) else nrow(d)
    a <- psych::alpha(R, n.obs = n)
    alphas[[f]] <- list(items = it, n_obs = n,
                        call = sprintf("psych::alpha(lavCor(d[items], ordered = items, missing = \"%s\"), n.obs = %d)", missing, n),
                        total = as.list(a$total), feldt = list(lower = a$feldt$lower.ci[[1]], upper = a$feldt$upper.ci[[1]]),
                        alpha_drop = as.list(a$alpha.drop$raw_alpha),
                        item_stats = list(r = a$item.stats$r, r.cor = a$item.stats$r.cor,
                                          r.drop = a$item.stats$r.drop))
  }
  h2 <- semTools::htmt(model, data = d, ordered = all_items, missing = missing)
  h1 <- semTools::htmt(model, data = d, ordered = all_items, missing = missing, htmt2 = FALSE)
  out$cases[[pre]] <- list(missing = missing, model = model, alpha = alphas,
                           htmt = mat(h2), htmt_original = mat(h1),
                           calls = list(htmt = sprintf("semTools::htmt(model, data = d, ordered = <all items>, missing = \"%s\")", missing)))
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE), "ordinal_psychometrics.json")
