"""Time the power command: 300 Monte Carlo replications of the paper's model at three sample
sizes, as a whole process with one and two worker processes (medians of repeated runs).

Usage::

    python benchmarks/bench_power.py [--repeat 3] [--reps 300]

Prints a Markdown table; the target of the power issue is under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(reps: int, jobs: int, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "riskmodel_sem", "power", "--spec",
                    str(ROOT / "specs" / "gcrm.yaml"), "--n", "150,300,600", "--reps", str(reps),
                    "--jobs", str(jobs), "--json", str(out)], check=True, cwd=ROOT,
                   capture_output=True)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reps", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        times = {1: [], 2: []}
        for _ in range(args.repeat):  # interleaved, so that both see the same machine load
            for jobs in (1, 2):
                times[jobs].append(_run(args.reps, jobs, Path(tmp) / "p.json"))
    print(f"| reps x sizes | jobs | median s | runs |\n|---|---:|---:|---|")
    for jobs, ts in times.items():
        print(f"| {args.reps} x 3 | {jobs} | {statistics.median(ts):.1f} | "
              f"{', '.join(f'{t:.1f}' for t in ts)} |")


if __name__ == "__main__":
    main()
