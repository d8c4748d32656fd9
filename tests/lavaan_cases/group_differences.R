## group_differences.R -- differences of the structural paths between the groups of a
## multi-group lavaan fit, as lavaan users compute them. Sourced by the extras of the mg_*
## cases (make_cases.R evaluates them from the repository root):
##   source("tests/lavaan_cases/group_differences.R", local = TRUE); group_differences(fit)
##
## For every regression (op "~") and every pair of groups a < b:
##   * the Wald test of d = b_a - b_b with lavInspect(fit, "vcov") (the delta method: what
##     parameterEstimates gives for `d := b1 - b2` in a model labelled c(b1, b2)*x);
##   * lavTestLRT(fit_equal, fit), fit_equal being the fitted parameter table with one more
##     row `<plabel a> == <plabel b>` (only those two groups; every other constraint kept).
## The omnibus test makes every regression equal across all groups; the metric test compares
## group.equal with and without "loadings" (the rest as in the fit).
## A path already equal in the two groups (same label) gets diff 0 and no test (df_diff 0).

constrained_fit <- function(fit, pairs) {
  pt <- parTable(fit)
  keep <- c("id", "lhs", "op", "rhs", "user", "block", "group", "free", "ustart", "exo",
            "label", "plabel")
  tab <- pt[, keep]
  for (p in pairs) {
    tab <- rbind(tab, data.frame(id = max(tab$id) + 1L, lhs = p[1], op = "==", rhs = p[2],
                                 user = 1L, block = 0L, group = 0L, free = 0L, ustart = NA,
                                 exo = 0L, label = "", plabel = ""))
  }
  update(fit, model = tab)
}

lrt <- function(restricted, general) {
  t <- lavTestLRT(restricted, general)
  c(chisq_diff = t[2, "Chisq diff"], df_diff = t[2, "Df diff"], pvalue = t[2, "Pr(>Chisq)"])
}

group_differences <- function(fit) {
  pt <- parTable(fit)
  G <- lavInspect(fit, "ngroups")
  V <- lavInspect(fit, "vcov")
  regs <- unique(pt[pt$op == "~", c("lhs", "rhs")])
  rows <- list()
  omnibus_pairs <- list()
  for (i in seq_len(nrow(regs))) {
    sel <- function(g) pt[pt$op == "~" & pt$lhs == regs$lhs[i] & pt$rhs == regs$rhs[i] &
                            pt$group == g, ]
    for (a in 1:(G - 1)) for (b in (a + 1):G) {
      ra <- sel(a); rb <- sel(b)
      same <- nchar(ra$label) > 0 && ra$label == rb$label
      va <- if (ra$free > 0) V[ra$free, ra$free] else 0
      vb <- if (rb$free > 0) V[rb$free, rb$free] else 0
      cab <- if (ra$free > 0 && rb$free > 0) V[ra$free, rb$free] else 0
      se <- if (same) 0 else sqrt(va + vb - 2 * cab)
      d <- ra$est - rb$est
      z <- if (se > 0) d / se else NA
      test <- c(chisq_diff = if (same) 0 else NA, df_diff = 0, pvalue = NA)
      if (!same && ra$free > 0 && rb$free > 0) {
        test <- lrt(constrained_fit(fit, list(c(ra$plabel, rb$plabel))), fit)
      }
      rows[[length(rows) + 1]] <- data.frame(
        lhs = ra$lhs, op = "~", rhs = ra$rhs, group_a = a, group_b = b, est_a = ra$est,
        est_b = rb$est, diff = d, se = se, z = z, pvalue = if (is.na(z)) NA else
          2 * pnorm(-abs(z)), chisq_diff = test[["chisq_diff"]], df_diff = test[["df_diff"]],
        pvalue_lrt = test[["pvalue"]])
    }
    r1 <- sel(1)
    for (g in 2:G) {
      rg <- sel(g)
      if (!(nchar(r1$label) > 0 && r1$label == rg$label) && r1$free > 0 && rg$free > 0)
        omnibus_pairs[[length(omnibus_pairs) + 1]] <- c(r1$plabel, rg$plabel)
    }
  }
  omnibus <- if (length(omnibus_pairs)) as.list(lrt(constrained_fit(fit, omnibus_pairs), fit))
             else list(chisq_diff = NA, df_diff = 0, pvalue = NA)
  ge <- lavInspect(fit, "options")$group.equal
  ge <- ge[nchar(ge) > 0]
  free_loadings <- setdiff(ge, "loadings")
  if (!length(free_loadings)) free_loadings <- ""  # lavaan's "nothing equal"
  configural <- update(fit, group.equal = free_loadings)
  metric <- update(fit, group.equal = union(ge, "loadings"))
  list(path_differences = do.call(rbind, rows), omnibus = omnibus,
       metric = as.list(lrt(metric, configural)))
}
