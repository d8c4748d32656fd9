"""What the command line imports: a command loads only what it uses.

Each check runs the real command in a fresh interpreter and lists ``sys.modules`` after it
finished; these are not timing tests (a module that comes back on the path fails them whatever
the machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import GCRM_SPEC, ROOT

#: Never imported by ``riskmodel-sem fit`` (ML, MLR or FIML, no bootstrap) nor ``--help``:
#: scipy.stats' distribution objects (the distributions come from
#: :mod:`riskmodel_sem.sem.distributions`), scipy.optimize (only SLSQP for inequality or
#: nonlinear constraints and the L-BFGS-B fallback use it), scipy.sparse (the score tests sum
#: their terms per parameter with numpy) and the report's libraries.
NOT_ON_FIT_PATH = ("scipy.stats", "scipy.optimize", "scipy.sparse", "jinja2", "openpyxl",
                   "matplotlib", "docx", "semopy")

#: Parts of the package a fit imports only when its options need them: the screening (for
#: the estimator advice of ``demo`` and ``report``), the robust statistics (MLR, FIML) and the
#: FIML data and EM algorithm (FIML; EM also for free exogenous covariates).
ONLY_FOR = {
    "riskmodel_sem.psychometrics.screening": (),
    "riskmodel_sem.sem.robust": ("MLR", "FIML"),
    "riskmodel_sem.sem.fiml": ("FIML",),
    "riskmodel_sem.sem.em": ("FIML",),
}

#: ``riskmodel-sem --help`` parses arguments only.
NOT_ON_HELP_PATH = ("numpy", "pandas", "scipy", "yaml")

_PROBE = """
import json, sys
from riskmodel_sem.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run(args, cwd) -> tuple[int, set[str]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["code"], set(out["modules"])


def _loaded(modules: set[str], names) -> list[str]:
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory):
    from riskmodel_sem.survey.simulate import simulate_survey
    from riskmodel_sem.survey.spec import load_spec

    path = tmp_path_factory.mktemp("startup") / "survey.csv"
    simulate_survey(load_spec(GCRM_SPEC), 200, seed=1).to_csv(path, index=False)
    return path


def test_help_imports_no_numerical_library(tmp_path):
    code, modules = _run(["--help"], tmp_path)
    assert code == 0
    assert _loaded(modules, NOT_ON_HELP_PATH) == []


@pytest.mark.parametrize("kind,options", [
    ("ML", []),
    pytest.param("MLR", ["--estimator", "MLR"], marks=pytest.mark.slow),
    pytest.param("FIML", ["--missing", "fiml"], marks=pytest.mark.slow),
], ids=["ML", "MLR", "FIML"])
def test_fit_imports_only_what_it_uses(small_csv, tmp_path, kind, options):
    code, modules = _run(["fit", str(small_csv), "--spec", str(GCRM_SPEC), "--json",
                          str(tmp_path / "o.json"), *options], tmp_path)
    assert code == 0 and (tmp_path / "o.json").is_file()
    assert "riskmodel_sem.sem.estimation" in modules  # the probe saw a real fit
    assert _loaded(modules, NOT_ON_FIT_PATH) == []
    unused = [name for name, kinds in ONLY_FOR.items() if kind not in kinds]
    assert _loaded(modules, unused) == []
    # the modules a fit of this kind needs are imported by it (the list above is not stale)
    assert _loaded(modules, [name for name, kinds in ONLY_FOR.items() if kind in kinds]) == \
        sorted(name for name, kinds in ONLY_FOR.items() if kind in kinds)


def test_simulate_does_not_import_scipy_linalg(tmp_path):
    """simulate does no linear algebra: the command's BLAS limit does not make it import
    scipy.linalg."""
    code, modules = _run(["simulate", "--spec", str(GCRM_SPEC), "--n", "20", "--out",
                          str(tmp_path / "s.csv")], tmp_path)
    assert code == 0 and (tmp_path / "s.csv").is_file()
    assert _loaded(modules, ("scipy.linalg",)) == []


def test_one_blas_thread_limits_every_blas_library_of_a_fit(small_csv, tmp_path):
    """The command's BLAS limit (built once, when the command starts) covers every BLAS
    library the fit loads (numpy's and scipy's), though the command imports scipy later."""
    probe = _PROBE.replace("print(json.dumps(", "from threadpoolctl import ThreadpoolController\n"
                           "from riskmodel_sem.sem import _blas\n"
                           "libs = lambda c: sorted(m.filepath for m in c.lib_controllers "
                           "if m.user_api == 'blas')\n"
                           "print(json.dumps({'seen': libs(_blas._CONTROLLER), "
                           "'loaded': libs(ThreadpoolController())}))\n"
                           "print(json.dumps(")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", probe, "fit", str(small_csv), "--spec",
                           str(GCRM_SPEC), "--json", str(tmp_path / "o.json")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    libs = json.loads(proc.stdout.strip().splitlines()[-2])
    assert libs["loaded"] and libs["seen"] == libs["loaded"]


def test_a_command_starts_blas_with_one_thread(small_csv, tmp_path):
    """Without a thread count in the environment, a command's BLAS libraries start with one
    thread (no idle OpenBLAS threads spinning beside the fit); a count the user set is kept."""
    probe = _PROBE.replace("print(json.dumps(", "from threadpoolctl import threadpool_info\n"
                           "print(json.dumps(sorted({m['num_threads'] for m in "
                           "threadpool_info() if m['user_api'] == 'blas'})))\n"
                           "print(json.dumps(")
    base = {k: v for k, v in os.environ.items()
            if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")}
    for extra, expected in (({}, [1]), ({"OPENBLAS_NUM_THREADS": "2"}, [2])):
        env = dict(base, PYTHONPATH=str(ROOT), **extra)
        proc = subprocess.run([sys.executable, "-c", probe, "fit", str(small_csv), "--spec",
                               str(GCRM_SPEC), "--json", str(tmp_path / "o.json")],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout.strip().splitlines()[-2]) == expected
