"""Benchmark: whole processes as a user runs them, ours against lavaan and semopy, in one run.

Usage::

    python benchmarks/bench_process.py [--repeat 5] [--draws 500] [--fiml-draws 100]
        [--xlsx-rows 20000] [--out benchmarks/bench_process.md]

The paper's model (``specs/gcrm.yaml``) on N = 500 respondents simulated from its population
values, written as CSV. Each command is a fresh process, timed from start to exit (wall
clock), so start-up and imports count as a user waits for them:

- ``fit``: ``riskmodel-sem fit DATA.csv --spec gcrm.yaml --json OUT`` (estimates, SEs, every fit
  measure, standardized solution, R², defined parameters, modification indices) against
  ``Rscript lavaan_fit.R`` (``sem()``, ``fitMeasures``, ``parameterEstimates(standardized =
  TRUE)``, ``lavInspect(, "r2")``, ``modindices``, JSON out) and a Python process that fits the
  same model with semopy (``Model.fit`` and ``calc_stats``);
- ``bootstrap``: ``--bootstrap DRAWS --jobs 1`` and ``--jobs 2`` against lavaan's
  ``se = "bootstrap"`` serially and with ``parallel = "multicore", ncpus = 2``;
- ``FIML bootstrap``: the same survey with 10 % of the answers missing completely at random,
  ``--missing fiml --bootstrap FIML_DRAWS --jobs 2`` against lavaan's ``missing = "ml"``,
  ``se = "bootstrap"`` on two cores;
- ``read xlsx``: ``--xlsx-rows`` x 33 answers in a workbook read and coded
  (``survey.readers.read_survey``), and a whole ``fit`` of that workbook, for time and peak
  memory (ours only: lavaan users read workbooks with other packages).

Every run records its wall clock, its CPU time (user + system, of the process and its
children, from ``wait4``) and its peak resident memory. The shared machine is often busy with
other work, which stretches wall clocks (and makes a second core worth less) but hardly CPU
times, so both are reported.

Runs alternate between the tools (ours, lavaan, semopy, ours, ...) so that a slow phase of
the shared machine hits all of them; medians of ``--repeat`` runs and their ratios are written
to ``--out``. Needs ``Rscript`` with lavaan and jsonlite (Debian: ``r-cran-lavaan``,
``r-cran-jsonlite``); without R the lavaan rows are left out and say so.
"""

from __future__ import annotations

import argparse
import os
import resource
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

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


READ_SCRIPT = """
import sys
from riskmodel_sem.survey.readers import read_survey
from riskmodel_sem.survey.spec import load_spec
read_survey(sys.argv[1], load_spec(sys.argv[2]))
"""


def _run(cmd, env=None) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of the process tree, peak resident MB of the largest
    process) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # the peak memory from /usr/bin/time's %M: a process forked from this one inherits this
    # process's peak resident memory (Linux keeps it across exec), so wait4's own figure
    # would be this process's size; /usr/bin/time is small when it forks the command
    peak_file = tempfile.NamedTemporaryFile(suffix=".peak", delete=False).name
    wrapper = (["/usr/bin/time", "-f", "%M", "-o", peak_file]
               if os.path.exists("/usr/bin/time") else [])
    proc = subprocess.Popen(wrapper + list(cmd), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_kb = usage.ru_maxrss
    if wrapper:
        with open(peak_file, encoding="ascii") as fh:
            peak_kb = int(fh.read().split()[-1])
    os.unlink(peak_file)
    return wall, cpu, peak_kb / 1024.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--fiml-draws", type=int, default=100)
    parser.add_argument("--xlsx-rows", type=int, default=20000)
    parser.add_argument("--skip-lavaan-serial", action="store_true",
                        help="leave out lavaan's one-core bootstrap (the slowest run)")
    parser.add_argument("--out", default=str(HERE / "bench_process.md"))
    args = parser.parse_args(argv)

    from riskmodel_sem.survey.simulate import simulate_survey
    from riskmodel_sem.survey.spec import load_spec

    spec_path = ROOT / "specs" / "gcrm.yaml"
    spec = load_spec(spec_path)
    tmp = Path(tempfile.mkdtemp(prefix="bench_process_"))
    data = tmp / "survey.csv"
    frame = simulate_survey(spec, args.n, 20231)
    frame.to_csv(data, index=False)
    items = [c for c in frame.columns if c in set(spec.item_codes)]
    holes = np.random.default_rng(20231).random((len(frame), len(items))) < 0.10
    missing = frame.copy()
    missing[items] = missing[items].mask(holes)
    data_missing = tmp / "survey_missing.csv"
    missing.to_csv(data_missing, index=False)
    big = tmp / "survey_big.xlsx"
    simulate_survey(spec, args.xlsx_rows, 20232).to_excel(big, index=False)
    read_py = tmp / "read_xlsx.py"
    read_py.write_text(READ_SCRIPT, encoding="utf-8")
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
    # byte-compiled modules, as an installed package has them (pip compiles at install):
    # without them every start compiles the package's sources again
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "riskmodel_sem")],
                   check=True, env=env)

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
            if rscript and (jobs == 2 or not args.skip_lavaan_serial) else None,
        }
    cases[f"FIML bootstrap {args.fiml_draws}, 2 cores"] = {
        "ours": ours + ["fit", str(data_missing), "--spec", str(spec_path), "--missing", "fiml",
                        "--bootstrap", str(args.fiml_draws), "--seed", "1", "--jobs", "2",
                        "--json", str(tmp / "ours_fiml_boot.json")],
        "lavaan": [rscript, str(HERE / "lavaan_fit.R"), str(lav), str(data_missing),
                   str(tmp / "lavaan_fiml_boot.json"), str(args.fiml_draws), "2", "1", "ml"]
        if rscript else None,
    }
    cases[f"read xlsx {args.xlsx_rows} x 33"] = {
        "ours": [sys.executable, str(read_py), str(big), str(spec_path)],
    }
    cases[f"fit xlsx {args.xlsx_rows} x 33"] = {
        "ours": ours + ["fit", str(big), "--spec", str(spec_path), "--quiet",
                        "--json", str(tmp / "ours_big.json")],
    }
    # --quiet is not an option of every version of the command: drop it when refused
    probe = subprocess.run(cases["fit"]["ours"], capture_output=True, env=env)
    if probe.returncode == 2 and b"--quiet" in probe.stderr:
        for case in cases.values():
            case["ours"] = [a for a in case["ours"] if a != "--quiet"]
    runs: dict[str, dict[str, list[tuple[float, float, float]]]] = {
        c: {t: [] for t in cmds} for c, cmds in cases.items()}
    load_start = os.getloadavg()[0]
    for r in range(args.repeat):
        for case, cmds in cases.items():
            for tool, cmd in cmds.items():
                if cmd is not None:
                    runs[case][tool].append(_run(cmd, env))
        print(f"round {r + 1}/{args.repeat} done", file=sys.stderr)
        # the table so far: a run cut short still leaves the rounds it completed
        _write(args, runs, r + 1, load_start, rscript)
    shutil.rmtree(tmp, ignore_errors=True)


def _write(args, runs, rounds, load_start, rscript) -> None:
    """The Markdown table of the medians of the rounds completed so far."""
    load_end = os.getloadavg()[0]
    lines = [
        "# Whole-process benchmark: ours against lavaan and semopy",
        "",
        f"`python benchmarks/bench_process.py --repeat {args.repeat} --draws {args.draws} "
        f"--fiml-draws {args.fiml_draws} --xlsx-rows {args.xlsx_rows}"
        f"{' --skip-lavaan-serial' if args.skip_lavaan_serial else ''}` (generated file; "
        f"{rounds} of {args.repeat} rounds completed). The "
        f"paper's model, N = {args.n} simulated respondents as CSV (FIML: 10 % of the answers "
        "missing completely at random); every command a fresh process, from start to exit; "
        f"runs alternate between the tools; medians of {rounds} runs. Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        + (subprocess.run([rscript, "--version"], capture_output=True, text=True)
           .stdout.splitlines()[0] if rscript else "R not installed")
        + f"; 1-minute load average {load_start:.1f} at the start and {load_end:.1f} at the end "
        "(other work on the machine: above 2, wall clocks stretch and a second core is worth "
        "less).",
        "",
        "| case | ours wall (s) | lavaan wall (s) | semopy wall (s) | ours / lavaan, wall "
        "| ours CPU (s) | lavaan CPU (s) | ours / lavaan, CPU | ours / semopy, wall "
        "| ours peak MB | lavaan peak MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def med(case, tool, k):
        values = [run[k] for run in runs[case].get(tool, [])]
        return statistics.median(values) if values else None

    def cell(x, fmt="{:.2f}"):
        return "" if x is None else fmt.format(x)

    def ratio(a, b):
        return "" if a is None or b is None else f"{a / b:.2f}"

    for case in runs:
        w = {t: med(case, t, 0) for t in ("ours", "lavaan", "semopy")}
        c = {t: med(case, t, 1) for t in ("ours", "lavaan")}
        m = {t: med(case, t, 2) for t in ("ours", "lavaan")}
        lines.append(
            f"| {case} | {cell(w['ours'])} | {cell(w['lavaan'])} | {cell(w['semopy'])} "
            f"| {ratio(w['ours'], w['lavaan'])} | {cell(c['ours'])} | {cell(c['lavaan'])} "
            f"| {ratio(c['ours'], c['lavaan'])} | {ratio(w['ours'], w['semopy'])} "
            f"| {cell(m['ours'], '{:.0f}')} | {cell(m['lavaan'], '{:.0f}')} |")
    one = [r[0] for r in runs[f"bootstrap {args.draws}, 1 core"]["ours"]]
    two = [r[0] for r in runs[f"bootstrap {args.draws}, 2 cores"]["ours"]]
    lines += ["", f"Ours, {args.draws} draws: jobs 1 / jobs 2 wall = "
              f"{statistics.median(one) / statistics.median(two):.2f} (whole process, start-up "
              "and the full-sample fit included)."]
    if not rscript:
        lines += ["", "Rscript was not found: the lavaan columns are empty."]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
