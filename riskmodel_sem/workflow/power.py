"""Power and sample size for a spec's hypothesized model, before the survey goes out.

Two answers, both from the spec's ``population`` values:

* **Analytic** (:func:`power_analysis` without Monte Carlo): the RMSEA tests of close and
  not-close fit for the model's degrees of freedom (MacCallum, Browne & Sugawara, 1996), and
  the Wald power of every labelled structural path and ``:=`` effect from the asymptotic
  standard errors of the population model fitted to its own covariance matrix
  (:func:`riskmodel_sem.sem.estimation.fit_population`).
* **Monte Carlo**: ``reps`` surveys per sample size drawn as ``simulate`` draws them (five
  Likert categories by default), each fitted with the chosen estimator; per parameter the
  rejection rate (power), its Monte Carlo standard error, the bias and the coverage of the 95%
  Wald interval around the pseudo-true value (the model fitted to the population covariance
  of the answers as drawn), and the rejection rate of the model chi-square.

Replication ``r`` at sample size ``n`` draws its survey with the seed
``SeedSequence(seed, spawn_key=(n, r))``, so results do not depend on ``jobs``, on a Dask
scheduler, or on which other sample sizes are asked for.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._json import records
from ..errors import OptionError, SpecError
from ..progress import progress_enabled
from ..sem.bootstrap.executors import Progress, execute
from ..sem.defined import defined_jacobian, defined_values
from ..sem.distributions import norm_ppf, norm_sf
from ..sem.estimation import check_options, fit_population, refit
from ..sem.power import (RMSEA_CONVENTION, rmsea_n_required, rmsea_power, wald_n_required,
                         wald_power)
from ..sem.standardize import standardized_values
from ..survey.simulate import population_covariance, simulate_survey
from ..survey.spec import Spec

__all__ = ["PowerResult", "power_analysis", "DEFAULT_NS", "MAX_REPLICATIONS"]

#: Sample sizes examined when none are given.
DEFAULT_NS = (150, 300, 600)
#: Upper bound of ``reps`` (replications per sample size).
MAX_REPLICATIONS = 100_000
#: Largest sample size of a Monte Carlo replication.
MAX_MC_N = 100_000
#: Estimators of the Monte Carlo fits.
MC_ESTIMATORS = ("ML", "MLR")


@dataclass(frozen=True)
class PowerResult:
    """Analytic and Monte Carlo power of a spec's hypothesized model (immutable).

    Attributes
    ----------
    ns : tuple of int
        The sample sizes examined.
    alpha, target : float
        Significance level and the power a required N must reach.
    df : int
        Degrees of freedom of the hypothesized model.
    rmsea : pandas.DataFrame
        ``n, power_close, power_notclose``.
    n_required_close, n_required_notclose : int or None
        Smallest N reaching ``target`` (None above 1,000,000).
    paths : pandas.DataFrame
        ``label, kind, lhs, rhs, est, std, n, se, power``: analytic Wald power of each labelled
        structural path (kind "path") and ``:=`` effect (kind "effect"); ``est`` on the model's
        scale (marker identification), ``std`` the population standardized value.
    paths_required : pandas.DataFrame
        ``label, n_required``.
    curves : pandas.DataFrame
        ``series, n, power``: analytic power on a grid of N for plots (series are the labels,
        ``rmsea_close`` and ``rmsea_notclose``).
    monte_carlo : pandas.DataFrame or None
        ``label, n, power, mcse, bias, relative_bias, coverage, converged, reps, true``.
    monte_carlo_chisq : pandas.DataFrame or None
        ``n, rejection_rate, mcse, converged, reps``: the model chi-square test at ``alpha``.
    estimator, data : str
        Estimator of the Monte Carlo fits; "likert" or "continuous" answers.
    reps, seed : int
    warnings : tuple of str
    """

    ns: tuple
    alpha: float
    target: float
    df: int
    rmsea: pd.DataFrame
    n_required_close: int | None
    n_required_notclose: int | None
    paths: pd.DataFrame
    paths_required: pd.DataFrame
    curves: pd.DataFrame
    monte_carlo: pd.DataFrame | None
    monte_carlo_chisq: pd.DataFrame | None
    estimator: str
    data: str
    reps: int
    seed: int
    warnings: tuple = ()

    def to_dict(self) -> dict:
        """JSON-ready results: ``analytic.rmsea``, ``analytic.paths``, ``monte_carlo`` and
        ``monte_carlo_chisq`` (DESIGN.md §3), and the settings under ``power``."""
        return {
            "power": {"ns": list(self.ns), "alpha": self.alpha, "target_power": self.target,
                      "estimator": self.estimator, "data": self.data, "reps": self.reps,
                      "seed": self.seed, "df": self.df},
            "analytic": {
                "rmsea": {"df": self.df, "alpha": self.alpha, "rmsea_h0": 0.05,
                          "rmsea_close_alternative": 0.08,
                          "rmsea_notclose_alternative": 0.01,
                          "convention": RMSEA_CONVENTION,
                          "rows": records(self.rmsea),
                          "n_required_close": self.n_required_close,
                          "n_required_notclose": self.n_required_notclose},
                "paths": {"rows": records(self.paths),
                          "n_required": records(self.paths_required)},
                "curves": records(self.curves),
            },
            "monte_carlo": None if self.monte_carlo is None else records(self.monte_carlo),
            "monte_carlo_chisq": (None if self.monte_carlo_chisq is None
                                  else records(self.monte_carlo_chisq)),
            "warnings": list(self.warnings),
        }


# ------------------------------------------------------------------------------------------
# the parameters whose power is reported
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Slot:
    label: str
    kind: str          # "path" or "effect"
    lhs: str
    rhs: str
    index: int         # free-parameter index (paths) or position among the := rows (effects)
    std_index: int     # position in standardized_values()


def _slots(model) -> list[_Slot]:
    """Labelled free structural regressions (op ``~``), then the ``:=`` rows."""
    rows = model.rows
    pt = model.partable
    model_rows = pt[pt["op"].isin(["=~", "~", "~~", "~1"])].reset_index(drop=True)
    out = []
    for label, k in rows.labels.items():
        if rows.kind[k] == 1 and rows.free[k] >= 0:
            r = model_rows.iloc[k]
            out.append(_Slot(label, "path", str(r["lhs"]), str(r["rhs"]), int(rows.free[k]),
                             int(k)))
    out.sort(key=lambda s: s.index)
    n_rows = len(rows.kind)
    defs = pt[pt["op"] == ":="].reset_index(drop=True)
    for j, (name, _) in enumerate(rows.definitions):
        out.append(_Slot(str(name), "effect", str(name), str(defs.iloc[j]["rhs"]), j,
                         n_rows + j))
    return out


def _values(slots, theta, defined) -> np.ndarray:
    return np.array([theta[s.index] if s.kind == "path" else defined[s.index] for s in slots])


# ------------------------------------------------------------------------------------------
# Monte Carlo replications (run in this process, worker processes or on a Dask cluster)
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Task:
    spec: Spec
    model: object
    theta0: np.ndarray
    ns: tuple
    reps: int
    seed: int
    continuous: bool
    estimator: str
    slots: tuple
    alpha: float
    width: int


def replication_seed(seed: int, n: int, rep: int) -> int:
    """The survey seed of replication ``rep`` at sample size ``n``."""
    return int(np.random.SeedSequence(seed, spawn_key=(n, rep)).generate_state(1)[0])


def _one_replication(task: _Task, b: int):
    n = task.ns[b // task.reps]
    rep = b % task.reps
    frame = simulate_survey(task.spec, n, replication_seed(task.seed, n, rep),
                            continuous=task.continuous, recoded=True)
    values = frame[list(task.model.observed)].to_numpy(dtype=float)
    res = refit(task.model, values, task.theta0, estimator=task.estimator)
    est = _values(task.slots, res.theta, res.defined)
    se = _values(task.slots, res.se, res.defined_se)
    row = np.concatenate([[res.pvalue], est, se])
    return row, not res.converged, res.admissible


def _run_chunk(task: _Task, start: int, stop: int):
    rows = np.full((stop - start, task.width), np.nan)
    failed = np.zeros(stop - start, dtype=bool)
    admissible = np.zeros(stop - start, dtype=bool)
    iterations = np.zeros(stop - start, dtype=np.int64)
    for i, b in enumerate(range(start, stop)):
        rows[i], failed[i], admissible[i] = _one_replication(task, b)
    return start, rows, failed, admissible, iterations, os.getpid()


def _summarize(task: _Task, rows, failed, true: np.ndarray):
    z = float(norm_ppf(0.975))
    L = len(task.slots)
    out, chisq = [], []
    for k, n in enumerate(task.ns):
        block = rows[k * task.reps:(k + 1) * task.reps]
        ok = ~failed[k * task.reps:(k + 1) * task.reps] & np.isfinite(block).all(axis=1)
        good = block[ok]
        m = len(good)
        p_model = good[:, 0]
        rate = float(np.mean(p_model < task.alpha)) if m else math.nan
        chisq.append({"n": n, "rejection_rate": rate,
                      "mcse": math.sqrt(rate * (1 - rate) / m) if m else math.nan,
                      "converged": m, "reps": task.reps})
        for j, slot in enumerate(task.slots):
            est, se = good[:, 1 + j], good[:, 1 + L + j]
            pvals = 2 * norm_sf(np.abs(est / se))
            power = float(np.mean(pvals < task.alpha)) if m else math.nan
            bias = float(np.mean(est) - true[j]) if m else math.nan
            out.append({
                "label": slot.label, "n": n, "power": power,
                "mcse": math.sqrt(power * (1 - power) / m) if m else math.nan,
                "bias": bias,
                "relative_bias": bias / true[j] if m and true[j] != 0 else math.nan,
                "coverage": float(np.mean(np.abs(est - true[j]) <= z * se)) if m else math.nan,
                "converged": m, "reps": task.reps, "true": float(true[j])})
    return pd.DataFrame(out), pd.DataFrame(chisq)


# ------------------------------------------------------------------------------------------
# the analysis
# ------------------------------------------------------------------------------------------

def _check(ns, reps, seed, alpha, target, jobs) -> tuple[int, ...]:
    ns = tuple(int(n) for n in ns)
    if not ns:
        raise OptionError("--n needs at least one sample size.")
    if any(n < 10 or n > MAX_MC_N for n in ns):
        raise OptionError(f"Sample sizes must lie between 10 and {MAX_MC_N:,}, got "
                          f"{', '.join(map(str, ns))}.")
    if len(set(ns)) != len(ns):
        raise OptionError("--n lists a sample size twice.")
    if isinstance(reps, bool) or int(reps) != reps or not 0 <= reps <= MAX_REPLICATIONS:
        raise OptionError(f"--reps must be a whole number from 0 to {MAX_REPLICATIONS:,}, got "
                          f"{reps!r}.")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise OptionError(f"The seed must be a non-negative integer, got {seed!r}.")
    if not 0.0 < alpha < 0.5:
        raise OptionError(f"--alpha must lie between 0 and 0.5, got {alpha!r}.")
    if not 0.0 < target < 1.0:
        raise OptionError(f"--power must lie between 0 and 1, got {target!r}.")
    if isinstance(jobs, bool) or int(jobs) != jobs or jobs < 1:
        raise OptionError(f"--jobs must be a positive whole number, got {jobs!r}.")
    return tuple(sorted(ns))


def _grid(ns, required) -> np.ndarray:
    top = max([*ns, *[r for r in required if r is not None and r <= 5000]]) * 1.25
    return np.unique(np.round(np.geomspace(30, max(top, 100), 40)).astype(int))


def power_analysis(spec: Spec, *, ns=DEFAULT_NS, reps: int = 0, seed: int = 20231,
                   alpha: float = 0.05, target: float = 0.80, estimator: str = "ML",
                   likert: bool = True, jobs: int = 1, scheduler=None,
                   progress: bool | None = None) -> PowerResult:
    """Analytic and (with ``reps`` > 0) Monte Carlo power of the spec's hypothesized model.

    Parameters
    ----------
    spec : Spec
        A spec with a ``population`` block; its ``model_syntax()`` is the model.
    ns : sequence of int
        Sample sizes.
    reps : int
        Monte Carlo replications per sample size (0: analytic only).
    seed : int
        Seed of the replications.
    alpha : float
        Significance level of every test.
    target : float
        Power a required N must reach.
    estimator : {"ML", "MLR"}
        Estimator of the Monte Carlo fits.
    likert : bool
        Cut the simulated answers into the spec's Likert categories (default), or keep them
        continuous.
    jobs : int
        Local worker processes for the replications.
    scheduler : distributed.Client, optional
        Run the replications on a Dask cluster instead.
    progress : bool, optional
        Progress bar on stderr (default: when stderr is a terminal).

    Returns
    -------
    PowerResult

    Raises
    ------
    SpecError
        If the spec has no population values.
    OptionError
        For out-of-range options.

    Notes
    -----
    RMSEA power: :func:`riskmodel_sem.sem.power.rmsea_power` (noncentrality (N - 1) df
    RMSEA^2, as semTools' ``findRMSEApower``). Path power: two-sided Wald test with
    se(N) = se_1 / sqrt(N), se_1 from the unit expected information of the population model
    fitted to its own continuous covariance matrix (lavaan's SEs of
    ``sem(model, sample.cov = Sigma, sample.nobs = N, sample.cov.rescale = FALSE)``).

    References
    ----------
    MacCallum, R. C., Browne, M. W., & Sugawara, H. M. (1996). Power analysis and determination
    of sample size for covariance structure modeling. *Psychological Methods*, 1(2), 130-149.
    Muthén, L. K., & Muthén, B. O. (2002). How to use a Monte Carlo study to decide on sample
    size and determine power. *Structural Equation Modeling*, 9(4), 599-620.
    """
    ns = _check(ns, reps, seed, alpha, target, jobs)
    estimator, _ = check_options(estimator, "listwise")
    if estimator not in MC_ESTIMATORS:
        raise OptionError(f"power --estimator {estimator}: Monte Carlo power is available for "
                          f"{' and '.join(MC_ESTIMATORS)}.")
    if spec.population is None:
        raise SpecError(f"{spec.source}: power needs the population values of a YAML spec "
                        "(its 'population' block); a lavaan model file has none.")
    syntax = spec.model_syntax()
    sigma = population_covariance(spec)
    pop = fit_population(syntax, sigma.to_numpy(), list(sigma.columns), source=str(spec.source))
    warnings = []
    if not pop.converged:
        warnings.append("The model did not converge on the population covariance matrix; "
                        "the analytic standard errors may be wrong.")
    if pop.f_ml > 1e-8:
        warnings.append(f"The hypothesized model does not reproduce the population covariance "
                        f"matrix (F_ML = {pop.f_ml:.4g}); path power refers to the pseudo-true "
                        "values the model converges to.")
    model, theta = pop.model, pop.theta
    slots = _slots(model)
    vcov1 = np.linalg.inv(pop.information)
    defined = defined_values(model, theta) if model.rows.definitions else np.zeros(0)
    jac = (defined_jacobian(model, theta) if model.rows.definitions
           else np.zeros((0, model.n_free)))
    var_def = np.einsum("ij,jk,ik->i", jac, vcov1, jac)
    std = standardized_values(model, theta, "std_all")
    est = _values(slots, theta, defined)
    se1 = np.array([math.sqrt(vcov1[s.index, s.index]) if s.kind == "path"
                    else math.sqrt(max(var_def[s.index], 0.0)) for s in slots])

    df = pop.df
    if df > 0:
        rm = pd.DataFrame({"n": list(ns),
                           "power_close": rmsea_power(df, ns, alpha=alpha),
                           "power_notclose": rmsea_power(df, ns, alpha=alpha, rmsea1=0.01)})
        req_close = rmsea_n_required(df, target, alpha=alpha)
        req_not = rmsea_n_required(df, target, alpha=alpha, rmsea1=0.01)
    else:
        rm = pd.DataFrame(columns=["n", "power_close", "power_notclose"])
        req_close = req_not = None
        warnings.append("The model has no degrees of freedom: RMSEA power is undefined.")

    rows = []
    for s, e, s1 in zip(slots, est, se1):
        for n in ns:
            se = s1 / math.sqrt(n)
            rows.append({"label": s.label, "kind": s.kind, "lhs": s.lhs, "rhs": s.rhs,
                         "est": float(e), "std": float(std[s.std_index]), "n": n, "se": se,
                         "power": float(wald_power(e, se, alpha=alpha))})
    paths = pd.DataFrame(rows, columns=["label", "kind", "lhs", "rhs", "est", "std", "n", "se",
                                        "power"])
    required = [wald_n_required(float(e), float(s1), target, alpha=alpha)
                for e, s1 in zip(est, se1)]
    paths_required = pd.DataFrame({"label": [s.label for s in slots], "n_required": required})

    grid = _grid(ns, [req_close, req_not, *required])
    curves = []
    for s, e, s1 in zip(slots, est, se1):
        curves += [{"series": s.label, "n": int(n),
                    "power": float(wald_power(e, s1 / math.sqrt(n), alpha=alpha))} for n in grid]
    if df > 0:
        for name, r1 in (("rmsea_close", 0.08), ("rmsea_notclose", 0.01)):
            vals = rmsea_power(df, grid, alpha=alpha, rmsea1=r1)
            curves += [{"series": name, "n": int(n), "power": float(v)}
                       for n, v in zip(grid, vals)]

    mc = mc_chisq = None
    if reps:
        mc, mc_chisq = _monte_carlo(spec, syntax, ns, reps, seed, alpha, estimator, likert,
                                    jobs, scheduler, progress, slots, pop)
        short = mc_chisq[mc_chisq["converged"] < mc_chisq["reps"]]
        for _, r in short.iterrows():
            warnings.append(f"N = {int(r['n'])}: {int(r['reps'] - r['converged'])} of "
                            f"{int(r['reps'])} replications did not converge and are left out.")
    return PowerResult(ns, float(alpha), float(target), int(df), rm, req_close, req_not, paths,
                       paths_required, pd.DataFrame(curves), mc, mc_chisq, estimator,
                       "likert" if likert else "continuous", int(reps), int(seed),
                       tuple(warnings))


def _monte_carlo(spec, syntax, ns, reps, seed, alpha, estimator, likert, jobs, scheduler,
                 progress, slots, pop):
    if likert:
        sig = population_covariance(spec, categorized=True)
        truth = fit_population(syntax, sig.to_numpy(), list(sig.columns), source=str(spec.source))
    else:
        truth = pop
    defined = defined_values(truth.model, truth.theta) if truth.model.rows.definitions \
        else np.zeros(0)
    true = _values(slots, truth.theta, defined)
    task = _Task(spec, truth.model, truth.theta, tuple(ns), int(reps), int(seed), not likert,
                 estimator, tuple(slots), float(alpha), 1 + 2 * len(slots))
    total = len(ns) * reps
    bar = Progress(total, progress_enabled(progress), label="Monte Carlo", unit="replication")
    try:
        rows, failed, _, _, _ = execute(_run_chunk, task, total, jobs, scheduler, bar)
    finally:
        bar.close()
    return _summarize(task, rows, failed, true)
