"""Benchmark: whole processes as a user runs them, ours against lavaan and semopy, in one run.

Usage::

    python benchmarks/bench_process.py [--repeat 5] [--draws 500] [--out benchmarks/bench_process.md]

The paper's model (``specs/gcrm.yaml``) on N = 500 respondents simulated from its population
values, written as CSV. Each command is a fresh process, timed from start to exit (wall
clock), so start-up and imports count as a user waits for them:

- ``fit``: ``riskmodel-sem fit DATA.csv --spec gcrm.yaml --json OUT`` (estimates, SEs, every fit
  measure, standardized solution, R², defined parameters, modification indices) against
  ``Rscript lavaan_fit.R`` (``sem()``, ``fitMeasures``, ``parameterEstimates(standardized =
  TRUE)``, ``lavInspect(, "r2")``, ``modindices``, JSON out) and a Python process that fits the
  same model with semopy (``Model.fit`` and ``calc_stats``);
- ``bootstrap``: ``--bootstrap DRAWS --jobs 1`` and ``--jobs 2`` against lavaan's
  ``se = "bootstrap"`` serially and with ``parallel = "multicore", ncpus = 2``.

Runs alternate between the tools (ours, lavaan, semopy, ours, ...) so that a slow phase of
the shared machine hits all of them; medians of ``--repeat`` runs and their ratios are written
to ``--out``. Needs ``Rscript`` with lavaan and jsonlite (Debian: ``r-cran-lavaan``,
``r-cran-jsonlite``); without R the lavaan rows are left out and say so.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent

SEMOPY_SCRIPT = """
import sys, warnings
warnings.simplefilter("ignore")
import pandas as pd, semopy
model = open(sys.argv[1], encoding="utf-8").read()
data = pd.read_csv(sys.argv[2])
m = semopy.Model(model)
m.fit(data)
m.inspect(std_est=True).to_json(sys.argv[3])
semopy.calc_stats(m)
"""


def _run(cmd, env=None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--out", default=str(HERE / "bench_process.md"))
    args = parser.parse_args(argv)

    from riskmodel_sem.survey.simulate import simulate_survey
    from riskmodel_sem.survey.spec import load_spec

    spec_path = ROOT / "specs" / "gcrm.yaml"
    spec = load_spec(spec_path)
    tmp = Path(tempfile.mkdtemp(prefix="bench_process_"))
    data = tmp / "survey.csv"
    simulate_survey(spec, args.n, 20231).to_csv(data, index=False)
    lav = tmp / "model.lav"
    lav.write_text(spec.model_syntax(), encoding="utf-8")
    semopy_model = tmp / "model_semopy.txt"  # semopy reads no labels or := definitions
    semopy_model.write_text("\n".join(
        line.replace("H1*", "").replace("H2*", "").replace("H3*", "").replace("H4*", "")
        .replace("H5*", "") for line in spec.model_syntax().splitlines() if ":=" not in line),
        encoding="utf-8")
    semopy_py = tmp / "semopy_fit.py"
    semopy_py.write_text(SEMOPY_SCRIPT, encoding="utf-8")
    ours = [sys.executable, "-m", "riskmodel_sem"]
    rscript = shutil.which("Rscript")
    env = dict(os.environ)

    cases = {
        "fit": {
            "ours": ours + ["fit", str(data), "--spec", str(spec_path), "--quiet",
                            "--json", str(tmp / "ours.json")],
            "lavaan": [rscript, str(HERE / "lavaan_fit.R"), str(lav), str(data),
                       str(tmp / "lavaan.json")] if rscript else None,
            "semopy": [sys.executable, str(semopy_py), str(semopy_model), str(data),
                       str(tmp / "semopy.json")],
        },
    }
    for jobs in (1, 2):
        cases[f"bootstrap {args.draws}, {jobs} core{'s' if jobs > 1 else ''}"] = {
            "ours": ours + ["fit", str(data), "--spec", str(spec_path), "--bootstrap",
                            str(args.draws), "--seed", "1", "--jobs", str(jobs),
                            "--json", str(tmp / f"ours_boot{jobs}.json")],
            "lavaan": [rscript, str(HERE / "lavaan_fit.R"), str(lav), str(data),
                       str(tmp / f"lavaan_boot{jobs}.json"), str(args.draws), str(jobs), "1"]
            if rscript else None,
        }
    # --quiet is not an option of every version of the command: drop it when refused
    probe = subprocess.run(cases["fit"]["ours"], capture_output=True)
    if probe.returncode == 2 and b"--quiet" in probe.stderr:
        for case in cases.values():
            case["ours"] = [a for a in case["ours"] if a != "--quiet"]
    times: dict[str, dict[str, list[float]]] = {c: {t: [] for t in cmds} for c, cmds in
                                                 cases.items()}
    for r in range(args.repeat):
        for case, cmds in cases.items():
            for tool, cmd in cmds.items():
                if cmd is not None:
                    times[case][tool].append(_run(cmd, env))
        print(f"round {r + 1}/{args.repeat} done", file=sys.stderr)
    lines = [
        "# Whole-process benchmark: ours against lavaan and semopy",
        "",
        f"`python benchmarks/bench_process.py --repeat {args.repeat} --draws {args.draws}` "
        f"(generated file). The paper's model, N = {args.n} simulated respondents as CSV; every "
        "command a fresh process, wall clock from start to exit; runs alternate between the "
        f"tools; medians of {args.repeat} runs. Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        + (subprocess.run([rscript, "--version"], capture_output=True, text=True)
           .stdout.splitlines()[0] if rscript else "R not installed") + ".",
        "",
        "| case | ours (s) | lavaan (s) | semopy (s) | ours / lavaan | ours / semopy |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for case, by_tool in times.items():
        med = {t: statistics.median(v) if v else None for t, v in by_tool.items()}
        cell = lambda x: "" if x is None else f"{x:.2f}"  # noqa: E731
        ratio = lambda a, b: "" if a is None or b is None else f"{a / b:.2f}"  # noqa: E731
        lines.append(f"| {case} | {cell(med.get('ours'))} | {cell(med.get('lavaan'))} | "
                     f"{cell(med.get('semopy'))} | {ratio(med.get('ours'), med.get('lavaan'))} "
                     f"| {ratio(med.get('ours'), med.get('semopy'))} |")
    if not rscript:
        lines += ["", "Rscript was not found: the lavaan columns are empty."]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
