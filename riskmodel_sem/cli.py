"""The ``riskmodel-sem`` command line: a thin layer over :mod:`riskmodel_sem.commands`.

``main(argv)`` parses arguments, runs one command and returns the exit status: 0 when done
(warnings are printed on stderr), 2 for bad input or usage (one line on stderr naming the file,
sheet, row, column or spec line; ``--debug`` shows the traceback), 1 for an internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings

from . import __version__, limits
from .errors import OptionError, RiskModelError, RiskModelWarning

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        raise OptionError(f"{message[0].upper()}{message[1:]}"
                          f"{'' if message.endswith('.') else '.'} See '{self.prog} --help'.")


def _one_line(text: str) -> str:
    """A message on one line: line breaks (in a file name, say) shown as \\n."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _int_option(name, minimum, maximum=None, why=""):
    """An argparse type: a whole number from ``minimum`` to ``maximum`` (a number or a
    function giving it), ``why`` saying what the maximum is."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, got {text!r}")
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"{name} must be at least {minimum}, got {value}" if minimum else
                f"{name} must not be negative, got {value}")
        top = maximum() if callable(maximum) else maximum
        if top is not None and value > top:
            raise argparse.ArgumentTypeError(f"{name} must be at most {top}{why}, got {value}")
        return value
    return parse


def _draws(text):
    """--bootstrap: 0 (none) or MIN_BOOTSTRAP_DRAWS to MAX_BOOTSTRAP_DRAWS draws."""
    value = _int_option("bootstrap", 0, limits.MAX_BOOTSTRAP_DRAWS)(text)
    if 0 < value < limits.MIN_BOOTSTRAP_DRAWS:
        raise argparse.ArgumentTypeError(
            f"bootstrap needs at least {limits.MIN_BOOTSTRAP_DRAWS} draws for a 95% interval "
            f"(1000 or more are usual), got {value}")
    return value


def _kinds(text):
    """--group-equal: comma-separated group.equal kinds (checked by the fit against lavaan's
    names, so that the command line needs no numerical library to start)."""
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    if not kinds:
        raise argparse.ArgumentTypeError("group-equal needs at least one kind, e.g. loadings")
    return tuple(dict.fromkeys(kinds))


def _partial(text):
    """--group-partial: comma-separated parameters such as GIV=~SYM or FIN1~1."""
    items = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in items if not any(op in k for op in ("=~", "~~", "~", "|"))]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"group.partial parameter(s) {', '.join(map(repr, bad)) or repr(text)} name no "
            "parameter; write them as lavaan does, e.g. GIV=~SYM, FIN1~1, FIN1~~FIN1, FIN1|t2")
    return tuple(items)


_JOBS = _int_option("jobs", 1, limits.max_jobs, " (the cores this machine has)")


def _sample_sizes(text):
    """--n: comma-separated sample sizes from 10 to 100000."""
    parts = [t.strip() for t in text.split(",")]
    one = _int_option("n", 10, 100_000)
    sizes = tuple(one(t) for t in parts if t)
    if not sizes:
        raise argparse.ArgumentTypeError(f"n needs sample sizes such as 150,300,600, got {text!r}")
    if len(set(sizes)) != len(sizes):
        raise argparse.ArgumentTypeError(f"n lists a sample size twice: {text!r}")
    return sizes


def _fraction(name, upper):
    """An argparse type: a number strictly between 0 and ``upper``."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}")
        if not 0.0 < value < upper:
            raise argparse.ArgumentTypeError(f"{name} must lie between 0 and {upper:g}, "
                                             f"got {text}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command in DESIGN.md §3 (plus a few extensions)."""
    parser = _Parser(prog="riskmodel-sem",
                     description="Structural-equation analysis of Likert surveys for "
                                 "validating risk models, with lavaan's numbers.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def common(p, data=True, out=True, json_=True):
        if data:
            p.add_argument("data", metavar="DATA", help="survey file: .xlsx, .csv or .sav")
            p.add_argument("--sheet", help="worksheet of an .xlsx file (default: the first "
                                           "sheet that is not a codebook)")
            p.add_argument("--id", dest="id_column", metavar="COL",
                           help="respondent id column (default: id/序号/编号 if present)")
            p.add_argument("--no-ids", action="store_true",
                           help="leave respondent ids (phone numbers, accounts) out of every "
                                "output; respondents are named by their row in the file")
        if out:
            p.add_argument("--out", metavar="DIR",
                           help="folder for report.xlsx, report.html, report.docx, diagram.svg, "
                                "diagram.png and results.json")
        if json_:
            p.add_argument("--json", metavar="FILE", help="write machine-readable results")
        p.add_argument("--lang", choices=["zh", "en"],
                       help="language of report labels (default: the spec's)")
        p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
        quiet(p)

    def quiet(p):
        p.add_argument("--quiet", action="store_true",
                       help="no progress bars or step messages (warnings are still printed)")

    def screening_options(p):
        p.add_argument("--duration", metavar="COL",
                       help="completion-time column for flagging speeders (default: the "
                            "spec's survey.duration)")
        p.add_argument("--drop-flagged", action="store_true",
                       help="leave out the respondents that screening flags (careless, "
                            "speeders, outliers); with --out they go to cleaned.xlsx")

    def min_group_size(p):
        p.add_argument("--min-group-size", type=_int_option("min-group-size", 2), metavar="N",
                       help="leave out groups with fewer than N usable rows (with a warning "
                            "naming them)")

    def estimation_options(p):
        p.add_argument("--estimator", choices=["ML", "MLR", "WLSMV", "ULSMV", "DWLS", "ULS"],
                       default=None, type=str.upper,
                       help="ML (lavaan's default), MLR (robust SEs, scaled test), or for "
                            "ordered items WLSMV (default with --ordered), ULSMV, DWLS, ULS")
        p.add_argument("--ordered", metavar="all|ITEM,ITEM", default=None,
                       help="treat these items (or all) as ordinal: thresholds and polychoric "
                            "correlations, as lavaan's ordered =; with WLSMV, ULSMV, DWLS or "
                            "ULS and no --ordered every item is ordered")
        p.add_argument("--missing", choices=["listwise", "fiml", "pairwise"],
                       default="listwise",
                       help="drop incomplete rows, use full-information ML, or (ordered "
                            "items) pairwise-available answers; default listwise")

    p = sub.add_parser("demo", help="bundled survey + the paper's spec -> full report")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="output folder (default: reports/demo)")
    p.add_argument("--lang", choices=["zh", "en"], help="report language (default: the spec's)")
    p.add_argument("--bootstrap", type=_draws, default=limits.DEMO_BOOTSTRAP,
                   metavar="N", help="bootstrap draws of the indirect effects "
                                     f"(default {limits.DEMO_BOOTSTRAP}; 0 for none)")
    p.add_argument("--seed", type=_int_option("seed", 0), default=20231,
                   help="random seed (default 20231)")
    p.add_argument("--jobs", type=_JOBS, default=1, metavar="J",
                   help="worker processes for the bootstrap (same results for any J)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    quiet(p)

    p = sub.add_parser("report", help="the whole analysis of a survey in one report")
    p.add_argument("--spec", required=True, metavar="SPEC",
                   help="YAML spec (riskmodel-sem init drafts one) or lavaan model file")
    estimation_options(p)
    p.add_argument("--group", metavar="COL",
                   help="also test measurement invariance across the groups of COL")
    p.add_argument("--bootstrap", type=_draws, default=0, metavar="N",
                   help="bootstrap draws for the indirect effects (0: none)")
    p.add_argument("--seed", type=_int_option("seed", 0), default=20231,
                   help="random seed (default 20231)")
    p.add_argument("--jobs", type=_JOBS, default=1, metavar="J",
                   help="worker processes for the bootstrap (same results for any J)")
    screening_options(p)
    common(p)
    for action in p._actions:  # noqa: SLF001 - --out is required for a report
        if action.dest == "out":
            action.required = True
            action.help = "folder for report.xlsx, report.html, results.json (and cleaned.xlsx)"

    p = sub.add_parser("init", help="draft a spec from a questionnaire export")
    p.add_argument("data", metavar="SURVEY", help="the platform's export: .xlsx, .csv or .sav "
                                                  "(Wenjuanxing, Qualtrics, Credamo, ...)")
    p.add_argument("--sheet", help="worksheet of an .xlsx file (default: the first data sheet)")
    p.add_argument("--out", required=True, metavar="SPEC.yaml", help="the spec to write")
    p.add_argument("--seed", type=_int_option("seed", 0), default=20231,
                   help="seed of the parallel analysis (default 20231)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    quiet(p)

    p = sub.add_parser("validate", help="screening, reliability, validity, CFA")
    p.add_argument("--spec", required=True, metavar="SPEC",
                   help="YAML spec or lavaan model file (.lav)")
    estimation_options(p)
    screening_options(p)
    p.add_argument("--seed", type=_int_option("seed", 0), default=20231,
                   help="random seed (default 20231)")
    common(p)

    p = sub.add_parser("fit", help="fit the hypothesized model")
    p.add_argument("--spec", required=True, metavar="SPEC",
                   help="YAML spec or lavaan model file (.lav)")
    estimation_options(p)
    p.add_argument("--bootstrap", type=_draws, default=0, metavar="N",
                   help="bootstrap draws for CIs of paths and indirect effects (0: none)")
    p.add_argument("--seed", type=_int_option("seed", 0), default=20231,
                   help="random seed (default 20231)")
    p.add_argument("--jobs", type=_JOBS, default=1, metavar="J",
                   help="worker processes for the bootstrap (same results for any J)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the bootstrap on a Dask cluster at this address")
    p.add_argument("--group", metavar="COL",
                   help="one multi-group fit across the groups of COL (its header, or the "
                        "header without the question number); every path is free per group "
                        "and compared between groups")
    p.add_argument("--group-equal", type=_kinds, metavar="KINDS",
                   help="parameters equal across groups, as lavaan's group.equal: "
                        "loadings,intercepts,means,residuals,residual.covariances,"
                        "lv.variances,lv.covariances,regressions")
    p.add_argument("--group-partial", type=_partial, metavar="PARAMS",
                   help="exceptions to --group-equal, as lavaan's group.partial "
                        "(e.g. \"GIV=~SYM,FIN1~1\")")
    min_group_size(p)
    p.add_argument("--crosscheck", choices=["semopy"], metavar="ENGINE",
                   help="refit with semopy and report the largest difference of the free "
                        "estimates (JSON key 'crosscheck'); needs --missing listwise, no --group")
    p.add_argument("--summary", action="store_true",
                   help="print a lavaan-style summary (test statistics, fit indices, "
                        "estimates) to standard output")
    screening_options(p)
    common(p)

    p = sub.add_parser("compare", help="compare alternative specifications")
    p.add_argument("--spec", required=True, action="append", metavar="SPEC",
                   help="YAML spec or lavaan model file; repeat to compare several")
    p.add_argument("--alternatives", action="store_true",
                   help="also fit the alternatives M0-M7 generated from a YAML spec")
    estimation_options(p)
    screening_options(p)
    common(p)

    p = sub.add_parser("invariance", help="measurement invariance across groups")
    p.add_argument("--spec", required=True, metavar="SPEC",
                   help="YAML spec or lavaan model file (.lav)")
    p.add_argument("--group", required=True, metavar="COL",
                   help="group column (its header, or the header without the question number)")
    min_group_size(p)
    estimation_options(p)
    screening_options(p)
    common(p)

    p = sub.add_parser("power", help="power and sample size from the spec's population values")
    p.add_argument("--spec", required=True, metavar="SPEC",
                   help="YAML spec with a population block")
    p.add_argument("--n", dest="ns", type=_sample_sizes, default=(150, 300, 600),
                   metavar="N,N,...", help="sample sizes (default 150,300,600)")
    p.add_argument("--reps", type=_int_option("reps", 0, 100_000), default=0, metavar="R",
                   help="Monte Carlo replications per sample size (default 0: analytic power "
                        "only; 500 or more are usual)")
    p.add_argument("--seed", type=_int_option("seed", 0), default=20231,
                   help="random seed of the replications (default 20231)")
    p.add_argument("--alpha", type=_fraction("alpha", 0.5), default=0.05,
                   help="significance level (default 0.05)")
    p.add_argument("--power", dest="target", type=_fraction("power", 1.0), default=0.80,
                   help="power a required N must reach (default 0.80)")
    p.add_argument("--estimator", choices=["ML", "MLR", "WLSMV", "ULSMV"], default="ML",
                   type=str.upper, help="estimator of the Monte Carlo fits (default ML; WLSMV "
                                        "and ULSMV treat every item as ordered)")
    p.add_argument("--continuous", action="store_true",
                   help="simulate continuous answers instead of the spec's Likert categories")
    p.add_argument("--jobs", type=_JOBS, default=1, metavar="J",
                   help="worker processes for the replications (same results for any J)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the replications on a Dask cluster at this address")
    common(p, data=False)

    p = sub.add_parser("simulate", help="simulate a survey from the spec's population values")
    p.add_argument("--spec", required=True, metavar="SPEC",
                   help="YAML spec or lavaan model file (.lav)")
    p.add_argument("--n", required=True, type=_int_option("n", 1, limits.MAX_SIMULATED_RESPONDENTS), metavar="N",
                   help="number of respondents")
    p.add_argument("--seed", type=_int_option("seed", 0), default=20230602,
                   help="random seed (default 20230602, the bundled survey's)")
    p.add_argument("--out", required=True, metavar="FILE", help=".xlsx or .csv")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    quiet(p)
    return parser


def main(argv=None) -> int:
    """Run the command line; return the exit status (0 done, 2 bad input, 1 internal error).

    The numerical libraries are imported only once a command runs (``--help`` needs none)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        # every command runs with one BLAS thread (commands.run): asked before numpy loads,
        # OpenBLAS starts no idle threads, whose spinning cost a fit 0.2 s of CPU
        for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")
        from . import commands
        from .progress import set_quiet

        set_quiet(getattr(args, "quiet", False))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RiskModelWarning)
            written = commands.run(args)
        seen = set()
        for w in caught:
            if issubclass(w.category, RiskModelWarning):
                text = str(w.message)
                if text not in seen:
                    seen.add(text)
                    print(f"riskmodel-sem: warning: {_one_line(text)}", file=sys.stderr)
        if not getattr(args, "quiet", False):
            for path in written:
                print(f"wrote {path}", file=sys.stderr)
        return 0
    except RiskModelError as exc:
        if debug:
            traceback.print_exc()
        print(f"riskmodel-sem: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        written = getattr(exc, "written", ())  # outputs.InterruptedAfterWriting
        if written:
            print("riskmodel-sem: interrupted after the outputs were written whole: "
                  + _one_line(", ".join(map(str, written))) + ".", file=sys.stderr)
        else:
            print("riskmodel-sem: interrupted; no output was written.", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: say so in one line unless debugging
        if debug:
            traceback.print_exc()
        print(f"riskmodel-sem: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
              "(run again with --debug for the traceback).", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
