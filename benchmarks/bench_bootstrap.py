"""Benchmark: bootstrap of the paper's model, ours against a naive semopy loop, in one run.

Usage::

    python benchmarks/bench_bootstrap.py [--repeat 3] [--draws 500] [--semopy-draws 5]
                                         [--out benchmarks/RESULTS.md]

For N = 500 and N = 20000 respondents simulated from the paper's population values
(``simulate_survey(load_spec("specs/gcrm.yaml"), n, seed)``) it times:

- ours, per draw: ``bootstrap(fit, data, 100, seed, jobs=1)``, time spent on the draws / 100
  (without the one-off set-up: data selection, full-sample Hessian, CI table);
- ours, ``--draws`` draws with ``jobs=1`` and with ``jobs=2`` (wall time of the whole call,
  including the full-sample Hessian and, for jobs=2, forking the worker process; the first
  jobs=2 call of a Python process is reported separately as "cold"), and their ratio (two
  jobs share the chunks of draws: the ratio approaches 2 on an otherwise idle machine);
- semopy 2.3.11, naive loop: ``Model(syntax without :=).fit(resampled rows)`` for
  ``--semopy-draws`` draws, per draw, extrapolated to ``--draws``.

- lavaan 0.6.14 in the same run, for the sizes of ``--lavaan-sizes``:
  ``sem(model, data, se = "bootstrap", bootstrap = B)`` serially and with
  ``parallel = "multicore", ncpus = 2``, timed inside R by ``benchmarks/lavaan_bootstrap.R``
  (R's start-up and package loading not counted; its time includes lavaan's full-sample fit,
  reported separately), ``--lavaan-repeat`` runs each.

Medians of ``--repeat`` runs. ``benchmarks/bench_process.py`` runs lavaan and ours side by side
as whole processes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from riskmodel_sem.sem import estimation  # noqa: E402
from riskmodel_sem.sem.crosscheck import semopy_model  # noqa: E402
from riskmodel_sem.sem.bootstrap import bootstrap  # noqa: E402
from riskmodel_sem.survey.simulate import simulate_survey  # noqa: E402
from riskmodel_sem.survey.spec import load_spec  # noqa: E402



def _wall(func):
    start = time.perf_counter()
    out = func()
    return time.perf_counter() - start, out


def _lavaan(syntax, data, B, ncpus, repeat, tmp):
    """Median seconds of lavaan's bootstrap of B draws inside R, with its plain fit time and
    the draws it kept; None without Rscript."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    model, csv, out = tmp / "model.lav", tmp / f"data{len(data)}.csv", tmp / "lavaan.json"
    model.write_text(syntax, encoding="utf-8")
    data.to_csv(csv, index=False)
    subprocess.run([rscript, str(ROOT / "benchmarks" / "lavaan_bootstrap.R"), str(model),
                    str(csv), str(B), str(ncpus), str(repeat), str(out)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = json.loads(out.read_text(encoding="utf-8"))
    return dict(time=statistics.median(res["bootstrap"]), plain=res["plain"][0],
                used=min(res["used"]), version=res["version"][0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--semopy-draws", type=int, default=5)
    parser.add_argument("--sizes", default="500,20000")
    parser.add_argument("--lavaan-sizes", default="500",
                        help="sizes at which lavaan runs too (comma-separated; empty: none)")
    parser.add_argument("--lavaan-repeat", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    spec = load_spec(ROOT / "specs" / "gcrm.yaml")
    syntax = spec.model_syntax()
    B = args.draws
    load_start = os.getloadavg()[0]
    rows = []
    lavaan_sizes = {int(s) for s in args.lavaan_sizes.split(",") if s}
    tmp = Path(tempfile.mkdtemp(prefix="bench_bootstrap_"))
    for n in (int(s) for s in args.sizes.split(",")):
        data = simulate_survey(spec, n, 20231 + n)[list(spec.item_codes)].astype(float)
        fit = estimation.fit_model(syntax, data, compute_modindices=False)
        per_draw = statistics.median(bootstrap(fit, data, 100, seed=1, jobs=1).elapsed / 100
                                     for _ in range(args.repeat))
        cold, res2 = _wall(lambda: bootstrap(fit, data, B, seed=1, jobs=2))
        ones, twos = [], []
        for _ in range(args.repeat):  # interleaved, so a busy phase of the machine hits both
            ones.append(_wall(lambda: bootstrap(fit, data, B, seed=1, jobs=1))[0])
            twos.append(_wall(lambda: bootstrap(fit, data, B, seed=1, jobs=2))[0])
        serial, two = statistics.median(ones), statistics.median(twos)
        share = res2.remote_draws / B
        res1 = bootstrap(fit, data, B, seed=1, jobs=1)
        same = bool(np.array_equal(res1.draws, res2.draws, equal_nan=True))
        rng = np.random.default_rng(1)

        def semopy_draw():
            idx = rng.integers(0, n, size=n)
            model = semopy_model(syntax)
            model.fit(data.iloc[idx].reset_index(drop=True))

        semopy_draw()  # warm-up
        sem = statistics.median(_wall(semopy_draw)[0] for _ in range(args.semopy_draws))
        lav1 = lav2 = None
        if n in lavaan_sizes:
            lav1 = _lavaan(syntax, data, B, 1, args.lavaan_repeat, tmp)
            lav2 = _lavaan(syntax, data, B, 2, args.lavaan_repeat, tmp)
        row = dict(n=n, per_draw=per_draw, serial=serial, cold=cold, two=two, semopy=sem,
                   share=share, lav1=lav1, lav2=lav2,
                   failed=res1.failed, nonadmissible=res1.nonadmissible,
                   iterations=float(np.median(res1.iterations)), same=same)
        rows.append(row)
        print(f"N={n}: {per_draw * 1e3:.1f} ms/draw; {B} draws: jobs=1 {serial:.2f} s, "
              f"jobs=2 {two:.2f} s (cold {cold:.2f} s); semopy {sem * 1e3:.0f} ms/draw; "
              f"jobs 1 = jobs 2: {same}"
              + (f"; lavaan {lav1['time']:.2f} s / {lav2['time']:.2f} s" if lav1 else ""),
              flush=True)

    cmd = (f"python benchmarks/bench_bootstrap.py --repeat {args.repeat} --draws {B} "
           f"--semopy-draws {args.semopy_draws} --sizes {args.sizes} "
           f"--lavaan-sizes {args.lavaan_sizes} --lavaan-repeat {args.lavaan_repeat}")
    version = next((r["lav1"]["version"] for r in rows if r["lav1"]), None)
    lines = [
        "# Bootstrap of the paper's model: riskmodel-sem, semopy and lavaan",
        "",
        f"Command: `{cmd}`; machine: `nproc` = {os.cpu_count()}, Python "
        f"{platform.python_version()}, numpy {np.__version__}; medians of {args.repeat} runs "
        "(semopy: of its draws), all measured in this one run. The machine is shared and "
        "noisy: compare the ratios, not absolute times across runs. 1-minute load average "
        f"at start {load_start:.2f}, at end {os.getloadavg()[0]:.2f} (a load near 2 means the "
        "other core was busy with other work, so jobs=2 could not gain much).",
        "",
        f"lavaan {version or '(no Rscript on this machine: not run)'}, in this run: "
        "`sem(model, data, se = \"bootstrap\", bootstrap = B)` timed inside R "
        "(`benchmarks/lavaan_bootstrap.R`; its full-sample fit included), serially and with "
        "`parallel = \"multicore\", ncpus = 2`.",
        "",
        f"| N | ours per draw (ms) | ours {B} draws, jobs=1 (s) | ours {B} draws, jobs=2 (s) "
        "| jobs=2 cold start (s) | lavaan jobs=1 (s) | lavaan 2 cores (s) "
        "| semopy per draw (ms) | semopy, extrapolated (s) "
        "| jobs=1 / jobs=2 | draws by the worker (jobs=2) | semopy / ours (jobs=1) | lavaan / ours, one core "
        "| lavaan / ours, two cores | median BFGS iterations | failed | nonadmissible "
        "| jobs 1 = jobs 2 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        l1, l2 = r["lav1"], r["lav2"]
        lav1 = f"{l1['time'] / r['serial']:.1f}" if l1 else "—"
        lav2 = f"{l2['time'] / r['two']:.1f}" if l2 else "—"
        t1 = f"{l1['time']:.2f}" if l1 else "—"
        t2 = f"{l2['time']:.2f}" if l2 else "—"
        lines.append(
            f"| {r['n']} | {r['per_draw'] * 1e3:.1f} | {r['serial']:.2f} | {r['two']:.2f} "
            f"| {r['cold']:.2f} | {t1} | {t2} "
            f"| {r['semopy'] * 1e3:.0f} | {r['semopy'] * B:.0f} "
            f"| {r['serial'] / r['two']:.2f} | {r['share']:.0%} "
            f"| {r['semopy'] * B / r['serial']:.0f} | {lav1} | {lav2} | {r['iterations']:.0f} "
            f"| {r['failed']} | {r['nonadmissible']} | {'yes' if r['same'] else 'NO'} |")
    lines += [
        "",
        "Ours: `riskmodel_sem.sem.bootstrap.bootstrap(fit, data, B, seed=1, jobs=J)` on the fitted "
        "hypothesized model; each draw resamples rows, computes the sample moments and refits by "
        "BFGS from the full-sample estimates (first inverse Hessian: the full-sample one) to "
        "max |gradient| < 1e-9, with BLAS at one thread; the draws of a chunk iterate in lockstep "
        "(their F and gradients evaluated as one stack). The jobs=2 times include starting "
        "the worker process (forked once from this process before the draws are queued: it "
        "imports and unpickles nothing) and ending it; both processes take chunks of draws "
        "from one queue. The cold column is the first jobs=2 call of the process.",
        "",
        "semopy: a new `semopy.Model` per draw fitted to the resampled rows (its default "
        "SLSQP), as a user would loop it; estimates only, no defined parameters.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
