#!/usr/bin/env Rscript
## make_power_reference.R -- independent numbers for the power analysis of specs/gcrm.yaml
##
## Usage (from tests/reference/):   Rscript make_power_reference.R
## Writes power_gcrm.json:
##  * the population covariance matrix of the 33 continuous items, built here from the
##    population values of specs/gcrm.yaml (copied below) by lavaan's own implied moments of
##    the population model with every parameter fixed;
##  * lavaan's standard errors of the hypothesized model fitted to that matrix
##    (sem(model, sample.cov = Sigma, sample.nobs = N, sample.cov.rescale = FALSE)) at each N,
##    for the labelled paths H1-H5 and the defined indirect effects;
##  * semTools' findRMSEApower / findRMSEAsamplesize for the model's df (N - 1 convention).
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
stopifnot(as.character(packageVersion("lavaan")) == "0.6.14")

lam <- list(FIN = c(FIN1 = .80, FIN2 = .75, FIN3 = .70), SYM = c(SYM1 = .75, SYM2 = .70, SYM3 = .72),
            MGT = c(MGT1 = .78, MGT2 = .74, MGT3 = .70), DOV = c(DOV1 = .76, DOV2 = .72, DOV3 = .70),
            PRC = c(PRC1 = .80, PRC2 = .74, PRC3 = .71), PRV = c(PRV1 = .77, PRV2 = .75, PRV3 = .69),
            INS = c(INS1 = .79, INS2 = .73, INS3 = .70), EXC = c(EXC1 = .74, EXC2 = .72, EXC3 = .68),
            CHT = c(CHT1 = .81, CHT2 = .76, CHT3 = .72), DIV = c(DIV1 = .78, DIV2 = .74, DIV3 = .71),
            RSP = c(RSP1 = .76, RSP2 = .73, RSP3 = .70))
gam <- list(GIV = c(FIN = .85, SYM = .65, MGT = .70), PLT = c(DOV = .72, PRC = .75, PRV = .68),
            SOL = c(INS = .74, EXC = .66, CHT = .70), ENV = c(DIV = .76, RSP = .72))
## standardized structural model: SOL ~ .35 PLT + .25 ENV; GIV ~ .30 PLT + .20 ENV + .35 SOL;
## PLT ~~ .30 ENV; every latent variable has variance 1
B <- matrix(0, 4, 4, dimnames = list(c("PLT", "ENV", "SOL", "GIV"), c("PLT", "ENV", "SOL", "GIV")))
B["SOL", c("PLT", "ENV")] <- c(.35, .25)
B["GIV", c("PLT", "ENV", "SOL")] <- c(.30, .20, .35)
Phi <- diag(4); dimnames(Phi) <- dimnames(B); Phi["PLT", "ENV"] <- Phi["ENV", "PLT"] <- .30
## residual variances of SOL and GIV so that their total variance is 1
IB <- solve(diag(4) - B)
for (v in c("SOL", "GIV")) {
  Phi[v, v] <- 0
  total <- (IB %*% Phi %*% t(IB))[v, v]
  Phi[v, v] <- 1 - total
}
lines <- c()
for (f in names(lam)) lines <- c(lines, sprintf("%s =~ %s", f, paste0(lam[[f]], "*", names(lam[[f]]), collapse = " + ")))
for (d in names(gam)) lines <- c(lines, sprintf("%s =~ %s", d, paste0(gam[[d]], "*", names(gam[[d]]), collapse = " + ")))
lines <- c(lines, "SOL ~ 0.35*PLT + 0.25*ENV", "GIV ~ 0.30*PLT + 0.20*ENV + 0.35*SOL",
           "PLT ~~ 1*PLT + 0.30*ENV", "ENV ~~ 1*ENV",
           sprintf("SOL ~~ %.17g*SOL", Phi["SOL", "SOL"]), sprintf("GIV ~~ %.17g*GIV", Phi["GIV", "GIV"]))
for (f in names(lam)) for (i in names(lam[[f]])) lines <- c(lines, sprintf("%s ~~ %.17g*%s", i, 1 - lam[[f]][[i]]^2, i))
for (d in names(gam)) for (f in names(gam[[d]])) lines <- c(lines, sprintf("%s ~~ %.17g*%s", f, 1 - gam[[d]][[f]]^2, f))
pop_model <- paste(lines, collapse = "\n")
items <- unlist(lapply(lam, names), use.names = FALSE)
dummy <- diag(length(items)); dimnames(dummy) <- list(items, items)
pop <- lavaan(pop_model, sample.cov = dummy, sample.nobs = 1000, do.fit = FALSE, auto.var = FALSE)
Sigma <- lavInspect(pop, "implied")$cov[items, items]

hyp <- paste(
  paste(sprintf("%s =~ %s", names(lam), sapply(lam, function(x) paste(names(x), collapse = " + "))), collapse = "\n"),
  paste(sprintf("%s =~ %s", names(gam), sapply(gam, function(x) paste(names(x), collapse = " + "))), collapse = "\n"),
  "SOL ~ H2*PLT + H4*ENV", "GIV ~ H1*PLT + H3*ENV + H5*SOL",
  "PLT_SOL_GIV := H2*H5", "ENV_SOL_GIV := H4*H5", sep = "\n")
ns <- c(150, 300, 600)
alpha <- 0.05
ses <- list()
for (n in ns) {
  fit <- sem(hyp, sample.cov = Sigma, sample.nobs = n, sample.cov.rescale = FALSE)
  pe <- parameterEstimates(fit)
  pe <- pe[pe$label != "" , c("label", "est", "se")]
  ses[[as.character(n)]] <- pe
  df <- fitMeasures(fit)[["df"]]
}
out <- list(
  call = "sem(hyp, sample.cov = Sigma, sample.nobs = n, sample.cov.rescale = FALSE)",
  versions = list(lavaan = as.character(packageVersion("lavaan")),
                  semTools = as.character(packageVersion("semTools"))),
  items = items, sigma = unname(split(Sigma, row(Sigma))), df = df, alpha = alpha, ns = ns,
  se = lapply(ses, function(d) lapply(seq_len(nrow(d)), function(i) as.list(d[i, ]))),
  rmsea = lapply(ns, function(n) list(
    n = n, power_close = findRMSEApower(.05, .08, df, n, alpha),
    power_notclose = findRMSEApower(.05, .01, df, n, alpha))),
  n_required_close = findRMSEAsamplesize(.05, .08, df, .80, alpha),
  n_required_notclose = findRMSEAsamplesize(.05, .01, df, .80, alpha))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "power_gcrm.json")
