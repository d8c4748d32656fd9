"""Benchmark: the bootstrap of WLSMV fits, ours against lavaan 0.6.14, side by side.

Usage::

    python benchmarks/bench_ordinal_bootstrap.py [--draws 500] [--lavaan-draws 500]
        [--paper-draws 40] [--lavaan-paper-draws 5] [--out benchmarks/bench_ordinal_bootstrap.md]

Two fits, every item ordered:

- the 3-factor CFA of the Holzinger-Swineford items cut into five categories
  (``tests/reference/holzinger1939_ordinal.csv``, N = 301, 9 items);
- the paper's model (33 items, N = 500 answers simulated from its population values,
  ``simulate_survey(load_spec("specs/gcrm.yaml"), 500, 20731)``).

Ours: ``bootstrap(fit, data, B, seed=1, jobs=1)`` on the WLSMV fit, in this process; the time
of the draws (``BootstrapResult.elapsed``), one core. lavaan: ``benchmarks/lavaan_ordinal_bootstrap.R``
in one R process, timed inside R: ``sem(..., estimator = "DWLS", se = "bootstrap", bootstrap =
R)`` minus the same fit with ``se = "none"``, one core. Both compared per draw; with fewer
draws than ``--draws`` (the paper's model) the 500-draw times are per-draw times times 500,
and the table says so (lavaan needs at least two draws: its vcov is their covariance).

The machine is shared and noisy: the two sides run one after the other in the same run, and
the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from riskmodel_sem.sem.bootstrap import bootstrap  # noqa: E402
from riskmodel_sem.sem.estimation import fit_model  # noqa: E402
from riskmodel_sem.survey.simulate import simulate_survey  # noqa: E402
from riskmodel_sem.survey.spec import load_spec  # noqa: E402

CFA = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _lavaan(model: str, data: pd.DataFrame, draws: int, tmp: Path) -> dict:
    (tmp / "model.lav").write_text(model, encoding="utf-8")
    data.to_csv(tmp / "data.csv", index=False)
    subprocess.run(["Rscript", str(ROOT / "benchmarks" / "lavaan_ordinal_bootstrap.R"),
                    str(tmp / "model.lav"), str(tmp / "data.csv"), str(draws),
                    str(tmp / "out.json")], check=True)
    out = json.loads((tmp / "out.json").read_text())
    out["per_draw"] = (out["bootstrap"] - out["plain"]) / draws
    return out


def _ours(model: str, data: pd.DataFrame, draws: int) -> dict:
    fit = fit_model(model, data, estimator="WLSMV", ordered=True, compute_modindices=False)
    res = bootstrap(fit, data, draws, seed=1, jobs=1)
    return {"per_draw": res.elapsed / draws, "elapsed": res.elapsed, "failed": res.failed,
            "iterations": float(np.median(res.iterations))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--lavaan-draws", type=int, default=500)
    parser.add_argument("--paper-draws", type=int, default=40)
    parser.add_argument("--lavaan-paper-draws", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "bench_ordinal_bootstrap.md"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    spec = load_spec(ROOT / "specs" / "gcrm.yaml")
    paper = simulate_survey(spec, 500, 20731)[list(spec.item_codes)].astype(int)
    hs = pd.read_csv(ROOT / "tests" / "reference" / "holzinger1939_ordinal.csv")
    cases = [("3-factor CFA, 9 items, N = 301", CFA, hs[[f"x{i}" for i in range(1, 10)]],
              args.draws, args.lavaan_draws),
             ("the paper's model, 33 items, N = 500", spec.model_syntax(), paper,
              args.paper_draws, args.lavaan_paper_draws)]
    load_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, model, data, ours_b, lav_b in cases:
            t0 = time.perf_counter()
            ours = _ours(model, data, ours_b)
            lav = _lavaan(model, data, lav_b, Path(tmp))
            rows.append((name, ours_b, lav_b, ours, lav))
            print(f"{name}: ours {ours['per_draw'] * 1e3:.0f} ms/draw ({ours_b} draws), lavaan "
                  f"{lav['per_draw'] * 1e3:.0f} ms/draw ({lav_b} draws), ratio "
                  f"{lav['per_draw'] / ours['per_draw']:.1f}; {time.perf_counter() - t0:.0f} s",
                  flush=True)
    B = args.draws
    cmd = (f"python benchmarks/bench_ordinal_bootstrap.py --draws {B} --lavaan-draws "
           f"{args.lavaan_draws} --paper-draws {args.paper_draws} --lavaan-paper-draws "
           f"{args.lavaan_paper_draws}")
    lines = [
        "# Bootstrap of WLSMV fits: riskmodel-sem against lavaan",
        "",
        f"Command: `{cmd}`; `nproc` = {os.cpu_count()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, lavaan {rows[0][4]['version']}; both in-process (lavaan timed "
        "inside R, ours inside Python), one core each, run one after the other. The machine is "
        f"shared: 1-minute load average {load_start:.2f} at the start, {os.getloadavg()[0]:.2f} "
        "at the end; compare the ratios, not absolute times across runs.",
        "",
        f"| fit | ours: draws timed | ours per draw (ms) | ours, {B} draws (s) | lavaan: draws "
        f"timed | lavaan per draw (ms) | lavaan, {B} draws (s) | lavaan / ours | ours: failed "
        "draws | ours: median iterations |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, ob, lb, ours, lav in rows:
        o500 = ours["per_draw"] * B
        l500 = lav["per_draw"] * B
        lines.append(
            f"| {name} | {ob} | {ours['per_draw'] * 1e3:.0f} | {o500:.1f}"
            f"{'' if ob == B else ' (extrapolated)'} | {lb} | {lav['per_draw'] * 1e3:.0f} "
            f"| {l500:.1f}{'' if lb == B else ' (extrapolated)'} "
            f"| {lav['per_draw'] / ours['per_draw']:.1f} | {ours['failed']} "
            f"| {ours['iterations']:.0f} |")
    lines += [
        "",
        "A draw, on both sides: resample the rows, recompute the thresholds, the polychoric "
        "correlations and the diagonal DWLS weights, refit from the full-sample estimates. "
        "Ours refits by the estimation core's Fisher scoring to max |gradient| < 1e-10 "
        "(`riskmodel_sem.sem.bootstrap.resampling._one_ordinal_draw`); lavaan by nlminb. "
        "lavaan's per-draw time is (bootstrap fit - plain fit) / R after an untimed warm-up fit, so "
        "its one-off work (data checks, the full-sample fit) is not counted; ours is the time "
        "of the draws alone.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
