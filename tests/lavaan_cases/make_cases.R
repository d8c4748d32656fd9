#!/usr/bin/env Rscript
## make_cases.R -- regenerates lavaan.json of every case in tests/lavaan_cases/
##
## Usage (from the repository root):
##   Rscript tests/lavaan_cases/make_cases.R            # every case
##   Rscript tests/lavaan_cases/make_cases.R CASE ...   # only these cases
##
## A case is a folder tests/lavaan_cases/<case>/ holding
##   model.lav   the model syntax, read with readLines() exactly as written;
##   case.json   {"description": ..., "data": <file in tests/lavaan_cases/data/>,
##                "function": "cfa" | "sem" | "lavaan", "options": {<lavaan arguments>},
##                "extras": {<name>: <R expression evaluated with fit, data, model>}}.
## The script fits do.call(<function>, c(list(model = model, data = data), options)) and writes
## lavaan.json: the call, the versions, parameterEstimates(fit, standardized = TRUE) (every
## column), fitMeasures(fit), lavInspect(fit, "r2"), modindices(fit) (all rows, sorted by mi),
## the value of every extra, and the warnings R gave. It also rewrites README.md, the index.
## Numbers are written with 15 significant digits.

suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})
options(warn = 1, stringsAsFactors = FALSE)

expected <- c(lavaan = "0.6.14", semTools = "0.5.6")
found <- vapply(names(expected), function(p) as.character(packageVersion(p)), "")
if (!identical(unname(found), unname(expected)) &&
    !identical(Sys.getenv("ALLOW_OTHER_VERSIONS"), "1")) {
  stop("package versions differ from the documented ones: ",
       paste(names(found), found, collapse = ", "))
}

ROOT <- file.path("tests", "lavaan_cases")
if (!dir.exists(ROOT)) stop("run this script from the repository root")

as_json_value <- function(x) {
  # data frames -> list of records; matrices -> {rownames, colnames, values (row-major)};
  # named vectors -> objects; lists recursively; lavaan's classes stripped.
  if (is.data.frame(x)) {
    x <- as.data.frame(x)
    rownames(x) <- NULL
    return(lapply(seq_len(nrow(x)), function(i) lapply(as.list(x[i, , drop = FALSE]),
                                                        function(v) unname(unclass(v)))))
  }
  if (is.matrix(x)) {
    m <- unclass(x)
    attributes(m) <- attributes(m)[c("dim", "dimnames")]
    return(list(rownames = rownames(m), colnames = colnames(m),
                values = lapply(seq_len(nrow(m)), function(i) unname(as.numeric(m[i, ])))))
  }
  if (is.list(x)) return(lapply(x, as_json_value))
  if (is.atomic(x)) {
    v <- unclass(x)
    nm <- names(v)
    attributes(v) <- NULL
    if (!is.null(nm) && length(v) > 0) { v <- as.list(v); names(v) <- nm }
    return(v)
  }
  stop("cannot write an object of class ", paste(class(x), collapse = "/"))
}

run_case <- function(name) {
  dir <- file.path(ROOT, name)
  case <- fromJSON(file.path(dir, "case.json"), simplifyVector = TRUE)
  data <- read.csv(file.path(ROOT, "data", case$data), check.names = FALSE)
  model <- paste(readLines(file.path(dir, "model.lav"), warn = FALSE), collapse = "\n")
  fun <- if (is.null(case[["function"]])) "sem" else case[["function"]]
  opts <- if (is.null(case$options)) list() else case$options
  warns <- character()
  keep_warning <- function(w) {
    warns <<- c(warns, conditionMessage(w))
    invokeRestart("muffleWarning")
  }
  fit <- withCallingHandlers(do.call(fun, c(list(model = model, data = data), opts)),
                             warning = keep_warning)
  est <- withCallingHandlers(parameterEstimates(fit, standardized = TRUE),
                             warning = keep_warning)
  mi <- tryCatch(withCallingHandlers(modindices(fit, sort. = TRUE), warning = keep_warning),
                 error = function(e) NULL)
  extras <- list()
  for (ex in names(case$extras)) {
    env <- new.env()
    assign("fit", fit, envir = env)
    assign("data", data, envir = env)
    assign("model", model, envir = env)
    value <- withCallingHandlers(eval(parse(text = case$extras[[ex]]), envir = env),
                                 warning = keep_warning)
    extras[[ex]] <- as_json_value(value)
  }
  opt_text <- if (length(opts)) paste0(", ", paste(names(opts), vapply(opts, function(o)
    paste(deparse(o), collapse = ""), ""), sep = " = ", collapse = ", ")) else ""
  out <- list(
    call = paste0(fun, "(model, data = read.csv(\"", case$data, "\")", opt_text, ")"),
    versions = as.list(found),
    converged = lavInspect(fit, "converged"),
    ngroups = lavInspect(fit, "ngroups"),
    group_labels = as.list(lavInspect(fit, "group.label")),
    nobs = as.list(lavInspect(fit, "nobs")),
    estimates = as_json_value(est),
    fit = as_json_value(fitMeasures(fit)),
    r2 = as_json_value(lavInspect(fit, "r2")),
    modindices = if (is.null(mi)) NULL else as_json_value(mi),
    extras = extras,
    warnings = as.list(unique(warns))
  )
  writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                    pretty = TRUE), file.path(dir, "lavaan.json"), useBytes = TRUE)
  fm <- fitMeasures(fit)
  data.frame(case = name, description = case$description, call = out$call,
             chisq = sprintf("%.3f", fm[["chisq"]]), df = sprintf("%g", fm[["df"]]))
}

args <- commandArgs(trailingOnly = TRUE)
all_cases <- sort(basename(dirname(Sys.glob(file.path(ROOT, "*", "case.json")))))
todo <- if (length(args)) args else all_cases
unknown <- setdiff(todo, all_cases)
if (length(unknown)) stop("no such case: ", paste(unknown, collapse = ", "))
for (name in todo) {
  cat("case", name, "\n")
  run_case(name)
}

## the index lists every case from its committed lavaan.json
rows <- lapply(all_cases, function(name) {
  dir <- file.path(ROOT, name)
  case <- fromJSON(file.path(dir, "case.json"), simplifyVector = TRUE)
  res <- if (file.exists(file.path(dir, "lavaan.json")))
    fromJSON(file.path(dir, "lavaan.json"), simplifyVector = FALSE) else NULL
  chisq <- if (is.null(res) || is.null(res$fit$chisq)) "" else sprintf("%.3f", res$fit$chisq)
  df <- if (is.null(res) || is.null(res$fit$df)) "" else sprintf("%g", res$fit$df)
  call <- if (is.null(res)) "" else res$call
  sprintf("| %s | %s | `%s` | %s | %s |", name, case$description, call, chisq, df)
})
writeLines(c(
  "# lavaan differential corpus",
  "",
  "Each folder is one case: `model.lav`, `case.json` (data, lavaan function, options, extras)",
  "and `lavaan.json`, the results of lavaan 0.6.14 / semTools 0.5.6 written by",
  "`Rscript tests/lavaan_cases/make_cases.R` (run from the repository root; give case names to",
  "regenerate only those). `tests/test_lavaan_cases.py` fits every case with riskmodel-sem and",
  "compares every parameterEstimates column, every fitMeasures entry, R-squared and the ten",
  "largest modification indices at 1e-4 relative; it needs no R.",
  "",
  "| case | description | lavaan call | chisq | df |",
  "|---|---|---|---:|---:|",
  unlist(rows)), file.path(ROOT, "README.md"), useBytes = TRUE)
