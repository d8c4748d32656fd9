"""Benchmark: one fit of the paper's model, ours against lavaan and semopy, in the same run.

Usage::

    python benchmarks/bench_fit.py [--repeat 7] [--out benchmarks/bench_fit.md]
    python benchmarks/bench_fit.py --wlsmv [--repeat 5] [--out benchmarks/bench_wlsmv.md]

``--wlsmv`` times the WLSMV fit of the paper's model with every item ordered (N = 500 Likert
answers simulated from the paper's population values) side by side with lavaan 0.6.14 on the
same file (``benchmarks/lavaan_wlsmv.R``, timed inside R): ``fit_model(..., estimator =
"WLSMV")`` with every statistic (thresholds and polychoric correlations with their asymptotic
covariance, estimates, robust SEs, the scaled-shifted test, all fit measures, standardized
solution, R², modification indices) against ``sem(..., ordered = TRUE, estimator = "WLSMV")``
with ``fitMeasures``, ``parameterEstimates(standardized = TRUE)``, ``lavInspect(fit, "r2")`` and
``modindices``; and the estimates alone on both sides.

For N = 500 and N = 20000 respondents simulated from the paper's population values it times
(median of ``--repeat`` runs, after one warm-up):

- ours, estimates only: parse + compile + starting values + Fisher scoring to lavaan's optimum;
- ours, everything: ``fit_model`` with SEs, all fit measures, the standardized solution with
  delta-method SEs, R², defined parameters and modification indices;
- semopy 2.3.11: ``Model(syntax).fit(data)`` (estimates only, its default SLSQP);
- lavaan 0.6.14, timed inside R by ``benchmarks/lavaan_wlsmv.R`` with ``ML`` (R's start-up and
  package loading not counted): ``sem(model, data)`` alone, and followed by ``fitMeasures``,
  ``parameterEstimates(standardized = TRUE)``, ``lavInspect(fit, "r2")`` and ``modindices``.

The machine is noisy: compare the ratios measured in one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from riskmodel_sem.sem import estimation  # noqa: E402
from riskmodel_sem.sem._blas import one_blas_thread  # noqa: E402
from riskmodel_sem.sem.crosscheck import semopy_model  # noqa: E402
from riskmodel_sem.sem.objective import MLObjective, group_data  # noqa: E402
from riskmodel_sem.survey.simulate import simulate_survey  # noqa: E402
from riskmodel_sem.survey.spec import load_spec  # noqa: E402


def _median_time(func, repeat):
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ours_estimates(syntax, data):
    with one_blas_thread():
        model, moments, values, _ = estimation.prepare(syntax, data)
        objective = MLObjective(model, [group_data(v, None if model.meanstructure else m.mean)
                                        for v, m in zip(values, moments)])
        theta0 = estimation._start_values(model, moments)
        return estimation._optimize(objective, theta0)[0]


def _lavaan(syntax, data, repeat, ml=False):
    """lavaan's times inside R (``benchmarks/lavaan_wlsmv.R``): its JSON (``all``, ``estimates``
    in seconds per run, ``chisq``, ``version``), or None without Rscript."""
    import json
    import shutil
    import subprocess
    import tempfile

    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        model_file, data_file = Path(tmp, "model.lav"), Path(tmp, "data.csv")
        result = Path(tmp, "lavaan.json")
        model_file.write_text(syntax, encoding="utf-8")
        data.to_csv(data_file, index=False)
        subprocess.run(["Rscript", str(ROOT / "benchmarks" / "lavaan_wlsmv.R"), str(model_file),
                        str(data_file), str(repeat), str(result)] + (["ML"] if ml else []),
                       check=True)
        lav = json.loads(result.read_text(encoding="utf-8"))
    for key in ("all", "estimates"):
        lav[key] = statistics.median(lav[key] if isinstance(lav[key], list) else [lav[key]])
    return lav


def wlsmv(repeat: int, out: str) -> None:
    """The WLSMV benchmark (module docstring); writes ``out``."""
    spec = load_spec(ROOT / "specs" / "gcrm.yaml")
    syntax = spec.model_syntax()
    data = simulate_survey(spec, 500, 20731)[list(spec.item_codes)].astype(float)
    lav = _lavaan(syntax, data, repeat)
    t_all = _median_time(lambda: estimation.fit_model(syntax, data, estimator="WLSMV"), repeat)
    t_est = _median_time(lambda: estimation.fit_model(syntax, data, estimator="WLSMV",
                                                      compute_modindices=False), repeat)
    ours = estimation.fit_model(syntax, data, estimator="WLSMV")
    l_all, l_est = lav["all"], lav["estimates"]
    lines = [
        "# WLSMV fit of the paper's model: riskmodel-sem against lavaan",
        "",
        f"Command: `python benchmarks/bench_fit.py --wlsmv --repeat {repeat}`; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, lavaan {lav['version']}; "
        f"medians of {repeat} runs after a warm-up, both timed in-process in one run. "
        "33 items, all ordered (5 categories), N = 500.",
        "",
        "| | lavaan (s) | ours (s) | ours / lavaan |",
        "|---|---:|---:|---:|",
        f"| everything (fit, fit measures, standardized estimates, R², modification indices) "
        f"| {l_all:.2f} | {t_all:.2f} | {t_all / l_all:.3f} |",
        f"| the fit alone (lavaan: `sem()`; ours: `fit_model` without modification indices) "
        f"| {l_est:.2f} | {t_est:.2f} | {t_est / l_est:.3f} |",
        "",
        f"Chi-square: lavaan {lav['chisq']:.6f}, ours {ours.fit['chisq']:.6f}.",
    ]
    Path(out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"wrote {out}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--wlsmv", action="store_true",
                        help="time the WLSMV fit against lavaan instead")
    args = parser.parse_args(argv)
    if args.wlsmv:
        wlsmv(args.repeat or 5, args.out or str(ROOT / "benchmarks" / "bench_wlsmv.md"))
        return
    args.repeat = args.repeat or 7
    args.out = args.out or str(ROOT / "benchmarks" / "bench_fit.md")
    spec = load_spec(ROOT / "specs" / "gcrm.yaml")
    syntax = spec.model_syntax()
    lines = [
        "# One fit of the paper's model: riskmodel-sem against lavaan and semopy",
        "",
        f"Command: `python benchmarks/bench_fit.py --repeat {args.repeat}`; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; "
        f"medians of {args.repeat} runs after a warm-up, all in one run, in-process (lavaan "
        "timed inside R).",
        "",
        "| N | ours, estimates (ms) | ours, all statistics (ms) | lavaan, estimates (ms) "
        "| lavaan, all statistics (ms) | ours / lavaan (estimates) | ours / lavaan (all) "
        "| semopy fit (ms) | semopy / ours (estimates) | semopy / ours (all) "
        "| max abs diff of estimates (semopy) | chi-square, ours / lavaan |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for n in (500, 20000):
        data = simulate_survey(spec, n, 20231 + n)[list(spec.item_codes)].astype(float)
        t_est = _median_time(lambda: _ours_estimates(syntax, data), args.repeat)
        t_all = _median_time(lambda: estimation.fit_model(syntax, data), args.repeat)

        def semopy_fit():
            model = semopy_model(syntax)
            model.fit(data)
            return model

        t_sem = _median_time(semopy_fit, args.repeat)
        lav = _lavaan(syntax, data, args.repeat, ml=True)
        fitted = estimation.fit_model(syntax, data, compute_modindices=False)
        ours = fitted.estimates
        theirs = semopy_fit().inspect()
        ours_reg = ours[ours["op"] == "~"].set_index(["lhs", "rhs"])["est"]
        diff = max(abs(float(r[3]) - ours_reg[(r[0], r[2])]) for r in
                   theirs.itertuples(index=False) if r[1] == "~" and (r[0], r[2]) in
                   ours_reg.index)
        l_est, l_all = (lav["estimates"], lav["all"]) if lav else (math.nan, math.nan)
        chisq = (f"{fitted.fit['chisq']:.6f} / {lav['chisq']:.6f}" if lav
                 else f"{fitted.fit['chisq']:.6f} / —")
        lines.append(f"| {n} | {t_est * 1e3:.1f} | {t_all * 1e3:.1f} | {l_est * 1e3:.1f} "
                     f"| {l_all * 1e3:.1f} | {t_est / l_est:.3f} | {t_all / l_all:.3f} "
                     f"| {t_sem * 1e3:.1f} | {t_sem / t_est:.1f} | {t_sem / t_all:.2f} "
                     f"| {diff:.1e} | {chisq} |")
        print(lines[-1], flush=True)
    lines += ["", "Estimates only is the like-for-like comparison with semopy (which computes no "
              "statistics in `fit`); the semopy column of differences compares the structural "
              "paths. The whole command, start-up included, is measured by "
              "`benchmarks/bench_process.py`."]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
