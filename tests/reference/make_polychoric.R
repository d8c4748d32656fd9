# Reference numbers for riskmodel_sem.sem.polychoric (ordinal sample statistics).
#
# Run from this folder:  Rscript make_polychoric.R
# Writes polychoric_data.csv (the derived ordinal / mixed / missing variables, built from
# holzinger1939.csv, holzinger1939_ordinal.csv and holzinger1939_missing.csv) and
# polychoric_lavaan.json: for each case lavaan 0.6.14's thresholds, sample statistics,
# lavInspect(fit, "wls.obs"), lavInspect(fit, "gamma") (per group) and lavCor(..., ordered =).
# The statistics do not depend on the model; a one-factor model over all variables is fitted
# with estimator = "WLSMV" only to reach them.

stopifnot(packageVersion("lavaan") == "0.6.14")
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})

hs <- read.csv("holzinger1939.csv")
hs_ord <- read.csv("holzinger1939_ordinal.csv")
hs_mis <- read.csv("holzinger1939_missing.csv")
x <- paste0("x", 1:9)

cut_q <- function(v, probs) {
  br <- unique(quantile(v, probs, na.rm = TRUE, names = FALSE))
  as.integer(cut(v, c(-Inf, br, Inf), right = TRUE))
}

d <- data.frame(id = hs$id, school = hs$school)
for (v in x) d[[paste0("o5_", v)]] <- hs_ord[[v]]
for (v in x) d[[paste0("o3_", v)]] <- cut_q(hs[[v]], c(0.3, 0.7))
for (v in x) d[[paste0("o7_", v)]] <- cut_q(hs[[v]], (1:6) / 7)
for (v in x) d[[paste0("o2_", v)]] <- cut_q(hs[[v]], 0.5)
for (v in x) d[[paste0("c_", v)]] <- hs[[v]]
# missing answers where holzinger1939_missing.csv has them (x1, x5, x9)
for (v in x) {
  d[[paste0("m5_", v)]] <- ifelse(is.na(hs_mis[[v]]), NA, hs_ord[[v]])
  d[[paste0("mc_", v)]] <- hs_mis[[v]]
}
write.csv(d, "polychoric_data.csv", row.names = FALSE, na = "")

cases <- list(
  hs5 = list(vars = paste0("o5_", x), ordered = paste0("o5_", x)),
  hs3 = list(vars = paste0("o3_", x), ordered = paste0("o3_", x)),
  hs7 = list(vars = paste0("o7_", x), ordered = paste0("o7_", x)),
  binary = list(vars = paste0("o2_", x), ordered = paste0("o2_", x)),
  mixed = list(vars = c(paste0("c_", x[1:3]), paste0("o5_", x[4:9])),
               ordered = paste0("o5_", x[4:9])),
  mixed_interleaved = list(vars = c("o5_x1", "c_x2", "o3_x3", "c_x4", "o7_x5", "c_x6"),
                           ordered = c("o5_x1", "o3_x3", "o7_x5")),
  pairwise5 = list(vars = paste0("m5_", x), ordered = paste0("m5_", x), missing = "pairwise"),
  listwise5 = list(vars = paste0("m5_", x), ordered = paste0("m5_", x), missing = "listwise"),
  pairwise_mixed = list(vars = c(paste0("mc_", x[1:3]), paste0("m5_", x[4:9])),
                        ordered = paste0("m5_", x[4:9]), missing = "pairwise"),
  listwise_mixed = list(vars = c(paste0("mc_", x[1:3]), paste0("m5_", x[4:9])),
                        ordered = paste0("m5_", x[4:9]), missing = "listwise"),
  hs5_school = list(vars = paste0("o5_", x), ordered = paste0("o5_", x), group = "school")
)

mat <- function(m) unname(lapply(seq_len(nrow(m)), function(i) unname(m[i, ])))

out <- list(source = list(lavaan = as.character(packageVersion("lavaan")),
                          R = R.version.string, script = "make_polychoric.R",
                          data = "polychoric_data.csv"),
            cases = list())
for (nm in names(cases)) {
  cs <- cases[[nm]]
  missing <- if (is.null(cs$missing)) "listwise" else cs$missing
  model <- paste("f =~", paste(cs$vars, collapse = " + "))
  args <- list(model = model, data = d, ordered = cs$ordered, estimator = "WLSMV",
               missing = missing)
  if (!is.null(cs$group)) args$group <- cs$group
  fit <- do.call("cfa", args)
  wls <- lavInspect(fit, "wls.obs")
  gam <- lavInspect(fit, "gamma")
  ss <- lavInspect(fit, "sampstat")
  nobs <- lavInspect(fit, "nobs")
  if (is.null(cs$group)) { wls <- list(wls); gam <- list(gam); ss <- list(ss) }
  groups <- list()
  for (g in seq_along(wls)) {
    s <- ss[[g]]
    groups[[g]] <- list(n = nobs[[g]], wls_obs = unname(wls[[g]]),
                        wls_names = names(wls[[g]]), gamma = mat(gam[[g]]),
                        cov = mat(s$cov), mean = unname(s$mean), th = unname(s$th),
                        th_names = names(s$th))
  }
  lc <- NULL
  if (is.null(cs$group)) {
    lc <- lavCor(d[cs$vars], ordered = cs$ordered, missing = missing)
    lc <- mat(unclass(lc))
  }
  out$cases[[nm]] <- list(variables = cs$vars, ordered = cs$ordered, missing = missing,
                          group = if (is.null(cs$group)) NULL else cs$group,
                          group_labels = lavInspect(fit, "group.label"),
                          groups = groups, lavcor = lc)
}
# pbivnorm, the bivariate normal distribution function lavaan calls, on a grid that visits
# every branch of the algorithm (|rho| < 0.3, < 0.75, < 0.925, >= 0.925, negative rho)
grid <- expand.grid(x = c(-3.1, -1.2, -0.3, 0, 0.45, 1.7, 2.9),
                    y = c(-2.4, -0.8, 0, 0.2, 1.1, 3.3),
                    rho = c(-0.999, -0.95, -0.8, -0.5, -0.1, 0, 0.2, 0.5, 0.74, 0.8, 0.93,
                            0.99, 0.999))
out$pbivnorm <- list(x = grid$x, y = grid$y, rho = grid$rho,
                     p = pbivnorm::pbivnorm(grid$x, grid$y, grid$rho))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", pretty = FALSE),
           "polychoric_lavaan.json")
