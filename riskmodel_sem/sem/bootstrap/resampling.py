"""Case-resampling bootstrap of a fitted model, with lavaan's percentile and bca.simple CIs.

Each draw resamples the complete rows of every group with replacement (group sizes are kept,
as lavaan's ``bootstrapLavaan(type = "ordinary")`` does), computes the sample moments of the
resampled rows and refits the compiled model by maximum likelihood, starting from the
full-sample estimates. A FIML fit (``missing = "fiml"``, lavaan's ``missing = "ml"``) resamples
the rows it used, each with its missing answers, and refits by FIML on the draw's own
missing-data patterns, as lavaan's ``se = "bootstrap"`` does with ``missing = "ml"``. The
refit is a BFGS iteration whose first inverse Hessian is the inverse of the full-sample
Hessian, so a draw needs only gradient evaluations and no parsing, no pandas and no model
compilation. Convergence is declared with the estimation core's
criterion (largest absolute gradient element below 1e-9). Fisher scoring with the draw's own
analytic expected information (:meth:`MLObjective.complete_information`) reaches the same
optimum but not sooner: on the paper's model it converges linearly (the gradient shrinks by
about 0.4 per step, the expected information departing from the Hessian), 15 steps for
BFGS's 16, each dearer; steps with the full-sample Hessian held fixed do not converge in
some draws. So BFGS, whose updates correct that Hessian, stays the refit.

Complete-data ML draws of a model without ==, <, > constraints are refitted together, a
chunk at a time (:func:`_batch_draws`): the same BFGS for each draw, with F and its gradient
evaluated for all the draws still iterating in one stacked evaluation
(:class:`~riskmodel_sem.sem.objective.MLBatchObjective`,
:func:`~riskmodel_sem.sem.optimize.bfgs_batch`). A draw's numbers do not depend on the other
draws of its chunk; they equal the draw-by-draw refit's to the optimizer's tolerance. FIML,
constrained and ordinal draws are refitted one by one.

Random numbers: draw ``b`` (0-based) takes its rows from
``numpy.random.default_rng(numpy.random.SeedSequence(seed).spawn(B)[b])``, so the draws do not
depend on how they are split among processes; every draw is computed from the same start
with BLAS limited to one thread, whatever chunk it is in, so ``jobs=1``, ``jobs=2`` and a Dask
cluster give bit-identical arrays.

Confidence intervals follow lavaan 0.6.14's ``parameterEstimates(boot.ci.type = "perc")`` and
``boot.ci.type = "bca.simple"`` (bias-corrected, no acceleration), both with the ``norm.inter``
interpolation of the boot package.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field, fields, replace
from typing import Any, Sequence

import numpy as np

from ...progress import progress_enabled
from ...errors import (DataQualityWarning, ModelError, OptionError, RiskModelError,
                       RiskModelWarning)
from ...limits import MAX_BOOTSTRAP_DRAWS, MIN_BOOTSTRAP_DRAWS, max_jobs
from .._blas import one_blas_thread
from ..constraints import ReducedObjective, constraint_set, linear_reduction, sqp_minimize
from ..data import column_values, sample_moments
from ..objective import group_data
from ..defined import compile_definition, evaluate_definitions
from ..objective import MLBatchObjective, MLObjective, ModelKernel, moments_group
from ..optimize import bfgs_batch, minimize
from .derived import Derived, DerivedEvaluator, derived_values, spec_quantities
from .executors import Progress, execute
from .intervals import bca_simple_ci, bootstrap_se, check_level, percentile_ci

__all__ = ["bootstrap", "BootstrapResult", "CI_COLUMNS"]

#: Columns of :attr:`BootstrapResult.ci` (and of the JSON ``bootstrap.ci`` records).
CI_COLUMNS = ["lhs", "op", "rhs", "label", "est", "se", "ci_lower_perc", "ci_upper_perc",
              "ci_lower_bc", "ci_upper_bc"]

_TOL = 1e-9          # the estimation core's convergence criterion (max |gradient|)
_MAX_ITER = 250      # BFGS iterations per draw before the draw counts as failed
_ADMISSIBLE_EPS = np.finfo(float).eps ** 0.75   # lavaan's post.check tolerance
_ORDINAL_TOL = 1e-10     # the ordinal fit's criterion (estimation.fit_ordinal)
_ORDINAL_MAX_ITER = 500
#: Draws refitted together (:func:`_batch_draws`): at most ``_BATCH_CHUNK`` in a chunk
#: (about four chunks per process), of which at most ``_BATCH_WINDOW`` iterate at once (a
#: draw joins when another one is done); larger stacks gain little per draw.
_BATCH_CHUNK = 128
_BATCH_WINDOW = 32


# ------------------------------------------------------------------------------------------
# the work of one draw, and of a chunk of draws (runs in worker processes)
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Task:
    """Everything a worker needs; numpy arrays and small Python objects only."""

    kernel: Any             # objective.ModelKernel of the model
    values: tuple
    theta0: np.ndarray
    hinv0: np.ndarray
    seed: int
    definitions: tuple      # (name, expression) of the := rows, in order
    label_slots: tuple      # (label, free index or -1, fixed value)
    derived: Any            # DerivedEvaluator or None
    exo: tuple              # per group: (S rows, S cols, obs i, obs j, m rows, obs k)
    width: int
    fiml: bool = False      # rows with missing answers, refitted by FIML
    constraints: Any = None  # constraints.ConstraintSet of ==, <, > rows, or None
    reduction: Any = None    # (K, k0, hinv0 over alpha) when they are linear equalities


def _fixed_for(task, moments):
    """Per-group fixed matrices with the exogenous covariates' entries taken from the draw."""
    if not any(len(e[0]) or len(e[4]) for e in task.exo):
        return None
    fixed = []
    for g, grp in enumerate(task.kernel.groups):
        sr, sc, oi, oj, mr, ok = task.exo[g]
        S0 = grp["S0"].copy()
        vals = moments[g].cov[oi, oj]
        S0[sr, sc] = vals
        S0[sc, sr] = vals
        m0 = grp["m0"].copy()
        m0[mr] = moments[g].mean[ok]
        fixed.append((grp["A0"], S0, m0))
    return fixed


def _admissible(task, theta, fixed) -> bool:
    """lavaan's ``lavInspect(fit, "post.check")``: no negative variance, cov.lv and theta PSD.

    cov.lv is the kernel's latent covariance matrix (:meth:`ModelKernel.latent_covariance`);
    a diagonal theta with no negative variance is PSD without an eigendecomposition."""
    kernel = task.kernel
    p = kernel.p
    fixed_p = kernel.permuted_fixed(fixed)
    for g in range(len(kernel.groups)):
        _, S, _ = kernel.matrices(theta, g, fixed)
        diag = np.diag(S)
        ov_ok = not np.any(diag[:p] < 0.0)
        lv_ok = not np.any(diag[p:] < 0.0)
        if not (ov_ok and lv_ok):
            return False
        if kernel.n > p:
            cov_lv = kernel.latent_covariance(theta, g, fixed_p)
            if cov_lv is None or np.any(np.linalg.eigvalsh(cov_lv) < -_ADMISSIBLE_EPS):
                return False
        theta_ov = S[:p, :p]
        if (np.count_nonzero(theta_ov) > np.count_nonzero(diag[:p])
                and np.any(np.linalg.eigvalsh(theta_ov) < -_ADMISSIBLE_EPS)):
            return False
    return True


_COMPILED: dict = {}


def _compiled_definitions(task) -> tuple:
    """The ``:=`` expressions compiled once per process (closures do not pickle)."""
    key = task.definitions
    if key not in _COMPILED:
        _COMPILED[key] = tuple((name, compile_definition(expr)) for name, expr in key)
    return _COMPILED[key]


def _defined_values(task, theta) -> list[float]:
    env = {label: (float(theta[k]) if k >= 0 else value) for label, k, value in task.label_slots}
    values = evaluate_definitions(_compiled_definitions(task), env)
    return [values[name] for name, _ in task.definitions]


def _resample(task: _Task, b: int):
    """Draw b's data: per group the resampled rows' :class:`GroupData`, and the draw's fixed
    matrices (fixed.x covariates' moments, or None); None when a group's sample covariance
    matrix is not positive definite (FIML: when its patterns cannot be fitted)."""
    rng = np.random.default_rng(np.random.SeedSequence(task.seed, spawn_key=(b,)))
    groups = []
    moments = []
    meanstructure = task.kernel.meanstructure
    exo = any(len(e[0]) or len(e[4]) for e in task.exo)
    for X in task.values:
        idx = rng.integers(0, X.shape[0], size=X.shape[0])
        if task.fiml:
            gd = _fiml_group(X[idx])
            if gd is None:
                return None
            groups.append(gd)
            if exo:  # the covariates are complete: their moments are the rows' moments
                moments.append(sample_moments(X[idx]))
            continue
        mo = sample_moments(X[idx])
        try:
            chol = np.linalg.cholesky(mo.cov)
        except np.linalg.LinAlgError:
            return None
        groups.append(moments_group(mo.n, mo.mean, mo.cov, meanstructure=meanstructure,
                                    logdet_s=2.0 * np.log(np.diag(chol)).sum()))
        moments.append(mo)
    return groups, (_fixed_for(task, moments) if exo else None)


def _one_draw(task: _Task, b: int):
    """Row of draw b (free, defined, derived), its status (0 ok, 1 failed) and admissibility."""
    row = np.full(task.width, np.nan)
    data = _resample(task, b)
    if data is None:
        return row, True, False, 0
    groups, fixed = data
    # the draws need only the objective's value and gradient: no compiled model (whose
    # := closures do not pickle), just its index arrays
    objective = MLObjective(None, groups, task.kernel, fixed)
    try:
        if task.reduction is not None:
            # linear equality constraints: the same BFGS over alpha, theta = k0 + K alpha
            K, k0, hinv0 = task.reduction
            reduced = ReducedObjective(objective, K, k0)
            res = minimize(reduced, reduced.alpha(task.theta0), "bfgs", tol=_TOL,
                           max_iter=_MAX_ITER, hinv0=hinv0)
            res = replace(res, theta=reduced.theta(res.theta))
        elif task.constraints is not None:
            res = sqp_minimize(objective, task.theta0, task.constraints, tol=_TOL)
        else:
            res = minimize(objective, task.theta0, "bfgs", tol=_TOL, max_iter=_MAX_ITER,
                           hinv0=task.hinv0)
    except ModelError:
        res = None
    if res is None or not res.converged or not np.all(np.isfinite(res.theta)):
        return row, True, False, 0 if res is None else res.iterations
    theta = res.theta
    _fill_row(task, row, theta, lambda: task.kernel.matrices(theta, 0, fixed)[:2])
    return row, False, _admissible(task, theta, fixed), res.iterations


def _fill_row(task, row, theta, matrices) -> None:
    """A converged draw's row: the free parameters, the defined ones (:=) and the derived
    quantities, these from the (A, S) that ``matrices()`` returns (called only if needed)."""
    k = len(theta)
    row[:k] = theta
    if task.definitions:
        vals = _defined_values(task, theta)
        row[k:k + len(vals)] = vals
        k += len(vals)
    if task.derived is not None:
        row[k:] = task.derived(*matrices())


def _fiml_group(values):
    """The draw's rows split by missing-data pattern, or None when a variable has fewer than
    two answers or two variables are never answered together (FIML cannot estimate their
    covariance; lavaan's draw fails too). The objective's constant is left at zero: a refit
    needs its minimum, not the chi-square."""
    seen = ~np.isnan(values)
    if (seen.sum(axis=0) < 2).any():
        return None
    together = seen.T.astype(float) @ seen
    if not together.all():
        return None
    return group_data(values, logl_h1=0.0)


def _batched(task) -> bool:
    """Whether the draws of ``task`` are refitted together (:func:`_batch_draws`): complete
    data, no ==, <, > constraints, not ordinal."""
    return isinstance(task, _Task) and not task.fiml and task.constraints is None


def _batch_draws(task: _Task, start: int, stop: int, rows, failed, admissible,
                 iterations) -> None:
    """Draws start..stop-1 refitted together: the same resampling and the same BFGS as
    :func:`_one_draw`, with F and its gradient evaluated for all the draws still iterating
    at once (:class:`MLBatchObjective`, :func:`bfgs_batch`). Each draw's numbers are those
    it gets alone (in a chunk of one draw), whichever draws share its chunk."""
    data = [_resample(task, b) for b in range(start, stop)]
    live = [i for i, d in enumerate(data) if d is not None]
    failed[:] = True
    if not live:
        return
    fixed = [data[i][1] for i in live]
    objective = MLBatchObjective(task.kernel, [data[i][0] for i in live],
                                 fixed if any(fx is not None for fx in fixed) else None)
    res = bfgs_batch(objective, task.theta0, task.hinv0, tol=_TOL, max_iter=_MAX_ITER,
                     window=_BATCH_WINDOW)
    for j, i in enumerate(live):
        iterations[i] = res.iterations[j]
        theta = res.theta[j]
        if not res.converged[j] or not np.all(np.isfinite(theta)):
            continue
        fx = fixed[j]
        _fill_row(task, rows[i], theta, lambda: task.kernel.matrices(theta, 0, fx)[:2])
        failed[i] = False
        admissible[i] = _admissible(task, theta, fx)


def _run_chunk(task, start: int, stop: int):
    """Draws start..stop-1 (ML, or ordinal for an ``_OrdinalTask``) with BLAS limited to one
    thread (bit-identical everywhere); complete-data ML draws without constraints are
    refitted together (:func:`_batch_draws`), the others one by one."""
    rows = np.full((stop - start, task.width), np.nan)
    failed = np.zeros(stop - start, dtype=bool)
    admissible = np.zeros(stop - start, dtype=bool)
    iterations = np.zeros(stop - start, dtype=np.int64)
    with one_blas_thread():
        if _batched(task):
            _batch_draws(task, start, stop, rows, failed, admissible, iterations)
        else:
            draw = _one_ordinal_draw if isinstance(task, _OrdinalTask) else _one_draw
            for i, b in enumerate(range(start, stop)):
                rows[i], failed[i], admissible[i], iterations[i] = draw(task, b)
    return start, rows, failed, admissible, iterations, os.getpid()


# ------------------------------------------------------------------------------------------
# the draws of a fit with ordered items (DWLS / ULS on thresholds and polychorics)
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _OrdinalTask:
    """What a worker needs for the draws of a fit with ordered items."""

    model: Any              # the compiled estimation model (thresholds as free parameters)
    layouts: tuple          # categorical.CategoricalLayout per group
    weight: str             # "DWLS" or "ULS"
    parameterization: str   # "delta" or "theta"
    values: tuple           # per group: the rows the fit used (model order, NaN missing)
    names: tuple
    ordered: tuple
    levels: tuple           # categories of each ordered variable (None for continuous ones)
    missing: str            # "listwise" or "pairwise"
    theta0: np.ndarray
    seed: int
    definitions: tuple
    label_slots: tuple
    derived: Any
    width: int

    def __reduce__(self):
        """Pickled (for a Dask cluster) without the compiled model, whose ``:=`` functions
        do not pickle: it is compiled again from its parameter table where it arrives."""
        state = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "model"}
        m = self.model
        return _ordinal_task_from, (state, m.partable, tuple(m.observed), tuple(m.latent),
                                    int(m.ngroups), m.syntax)


def _ordinal_task_from(state, partable, observed, latent, ngroups, syntax) -> _OrdinalTask:
    from ..model import compile_partable

    model = compile_partable(partable, list(observed), list(latent), ngroups=ngroups,
                             meanstructure=True, syntax=syntax, ov_x=())
    return _OrdinalTask(model=model, **state)


def _ordinal_matrices(task, objective, theta, g):
    """(A, S) of group g with the residual variances of the ordered latent responses at
    their implied values (delta: 1/d^2 minus the explained variance), as lavaan reports them
    and checks them in ``post.check``."""
    A, S, _ = task.model.matrices(theta, g)
    lay = task.layouts[g]
    if task.parameterization == "delta":
        full, _ = task.model.implied(theta, g, all_vars=True)
        d = objective.scaling_factors(theta, g)
        o = np.flatnonzero(lay.ordered)
        S[o, o] += 1.0 / d[o] ** 2 - full[o, o]
    return A, S


def _ordinal_admissible(task, objective, theta) -> bool:
    """lavaan's ``post.check`` of a categorical fit: no negative residual or latent variance,
    latent and residual covariance matrices positive semidefinite."""
    p = len(task.names)
    for g in range(len(task.layouts)):
        A, S = _ordinal_matrices(task, objective, theta, g)
        if np.any(np.diag(S) < 0.0):
            return False
        n = S.shape[0]
        if n > p:
            E = np.linalg.inv(np.eye(n) - A)
            if np.any(np.linalg.eigvalsh((E @ S @ E.T)[p:, p:]) < -_ADMISSIBLE_EPS):
                return False
        if np.any(np.linalg.eigvalsh(S[:p, :p]) < -_ADMISSIBLE_EPS):
            return False
    return True


def _one_ordinal_draw(task: _OrdinalTask, b: int):
    """Draw b of a fit with ordered items: resample each group's rows, recompute the
    thresholds, polychoric correlations and the diagonal weights from the draw
    (:func:`~riskmodel_sem.sem.polychoric.ordinal_stats`), refit from the full-sample
    estimates. A draw whose statistics cannot be computed (an answer category nobody in the
    draw chose) or whose refit does not converge fails, as lavaan's draw does."""
    from ..categorical import CategoricalObjective
    from ..polychoric import ordinal_stats

    rng = np.random.default_rng(np.random.SeedSequence(task.seed, spawn_key=(b,)))
    row = np.full(task.width, np.nan)
    stats = []
    for X in task.values:
        idx = rng.integers(0, X.shape[0], size=X.shape[0])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RiskModelWarning)
                stats.append(ordinal_stats(X[idx], task.names, task.ordered,
                                           missing=task.missing, levels=task.levels,
                                           acov=task.weight != "ULS"))
        except (RiskModelError, np.linalg.LinAlgError):
            return row, True, False, 0
    try:
        objective = CategoricalObjective(task.model, list(task.layouts), stats, task.weight,
                                         task.parameterization)
        res = minimize(objective, task.theta0, "scoring", tol=_ORDINAL_TOL,
                       max_iter=_ORDINAL_MAX_ITER)
    except (ModelError, np.linalg.LinAlgError):
        res = None
    if res is None or not res.converged or not np.all(np.isfinite(res.theta)):
        return row, True, False, 0 if res is None else res.iterations
    theta = res.theta
    _fill_row(task, row, theta, lambda: _ordinal_matrices(task, objective, theta, 0))
    return row, False, _ordinal_admissible(task, objective, theta), res.iterations


def _ordinal_task(fit, data, group, seed, quantities) -> _OrdinalTask:
    """The task of the draws of a fit with ordered items (``fit.ordinal`` holds the
    estimation model, its layouts and the full-sample statistics)."""
    from ..categorical import ORDINAL_ESTIMATORS

    objective = fit.ordinal
    model = objective.model
    first = objective.stats[0]
    if getattr(first, "exo_names", ()):
        raise OptionError("The bootstrap of fits with ordered items and observed covariates "
                          f"({', '.join(first.exo_names)}; lavaan's conditional.x) is not "
                          "supported; leave --bootstrap out (the fit's robust SEs are "
                          "lavaan's) or model the covariates as indicators.")
    values = _data_values(model, data, group if model.ngroups > 1 else None,
                          fit.group_labels, fit.n_obs, fiml=fit.missing == "pairwise")
    levels = tuple(np.asarray(c, dtype=float) if o else None
                   for c, o in zip(first.categories, first.ordered))
    definitions, slots = _definitions(model)
    return _OrdinalTask(
        model=model, layouts=tuple(objective.layouts),
        weight=ORDINAL_ESTIMATORS[fit.estimator][0],
        parameterization=objective.parameterization, values=values,
        names=tuple(first.names), ordered=tuple(first.ordered), levels=levels,
        missing=fit.missing, theta0=np.asarray(fit.theta, dtype=float), seed=seed,
        definitions=definitions, label_slots=slots,
        derived=DerivedEvaluator(fit.model, quantities) if quantities else None,
        width=model.n_free + len(definitions) + len(quantities))


# ------------------------------------------------------------------------------------------
# the result
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap draws and the confidence intervals computed from them (immutable).

    Attributes
    ----------
    draws : numpy.ndarray
        B x (q + n_defined): the free parameters (in the order of the parameter table's
        ``free`` column, lavaan's ``coef()``) and the ``:=`` parameters of every draw; failed
        draws are rows of NaN.
    derived_draws : numpy.ndarray
        B x n_derived: the derived quantities (:class:`Derived`) of every draw.
    names : tuple of str
        Column names of ``draws`` (``lhs op rhs`` or label) followed by those of
        ``derived_draws``.
    n : int
        Number of draws requested (B).
    seed : int
        The seed (root entropy of the SeedSequence).
    failed : int
        Draws whose sample covariance matrix was not positive definite or whose refit did not
        converge (excluded from SEs and CIs, as lavaan excludes them).
    nonadmissible : int
        Converged draws with a nonadmissible solution (negative variance, or a latent or
        residual covariance matrix that is not positive semidefinite); kept, as lavaan keeps
        them by default.
    level : float
        Confidence level of the intervals.
    ci : pandas.DataFrame
        ``CI_COLUMNS``: one row per free parameter, ``:=`` parameter and derived quantity
        (op ``:=``, name in ``lhs``), with the bootstrap SE and the percentile and
        bias-corrected (bca.simple) bounds.
    admissible : numpy.ndarray
        Per draw, True when the solution is admissible (False for failed draws).
    iterations : numpy.ndarray
        BFGS iterations of every draw.
    elapsed : float
        Seconds spent on the draws.
    remote_draws : int
        Draws computed in other processes (workers or a Dask cluster).
    """

    draws: np.ndarray
    derived_draws: np.ndarray
    names: tuple[str, ...]
    n: int
    seed: int
    failed: int
    nonadmissible: int
    level: float
    ci: Any
    admissible: np.ndarray = field(repr=False)
    iterations: np.ndarray = field(repr=False, compare=False)
    elapsed: float = field(default=0.0, compare=False)
    remote_draws: int = field(default=0, compare=False)

    def to_dict(self) -> dict:
        """JSON-ready ``{n, seed, failed, nonadmissible, level, ci: [...]}``."""
        from ..._json import records

        return {"n": int(self.n), "seed": int(self.seed), "failed": int(self.failed),
                "nonadmissible": int(self.nonadmissible), "level": float(self.level),
                "ci": records(self.ci)}

    def draws_frame(self):
        """All draws as a DataFrame with the columns named by :attr:`names`."""
        import pandas as pd

        return pd.DataFrame(np.hstack([self.draws, self.derived_draws]), columns=list(self.names))

    def row(self, lhs: str, op: str, rhs: str = ""):
        """The ``ci`` row of one parameter (``rhs`` may be omitted for ``:=`` rows)."""
        ci = self.ci
        sel = (ci["lhs"] == lhs) & (ci["op"] == op)
        if op != ":=" or rhs:
            sel &= ci["rhs"] == rhs
        if not sel.any():
            raise KeyError(f"{lhs} {op} {rhs}")
        return ci[sel].iloc[0]


# ------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------

def _data_values(model, data, group, labels, n_obs, fiml=False):
    """The rows of the model's observed variables the fit used, split by group, read as the
    fit read them (:func:`~riskmodel_sem.sem.data.column_values`): complete rows, or with
    ``fiml`` the rows with at least one answer and every fixed.x covariate answered."""
    with warnings.catch_warnings():  # the fit has reported the data's remarks already
        warnings.simplefilter("ignore", DataQualityWarning)
        values, gvals = column_values(data, list(model.observed), group)
    if fiml:
        missing = np.isnan(values)
        keep = ~missing.all(axis=1)
        x_idx = [model.observed.index(v) for v in model.ov_x if v in model.observed]
        if x_idx:
            keep &= ~missing[:, x_idx].any(axis=1)
    else:
        keep = ~np.isnan(values).any(axis=1)
    if group:
        out = tuple(np.ascontiguousarray(values[keep & (gvals == lab)]) for lab in labels)
    else:
        out = (np.ascontiguousarray(values[keep]),)
    if n_obs is not None and sum(len(v) for v in out) != n_obs:
        raise ModelError(f"The data give {sum(len(v) for v in out)} complete rows but the fit "
                         f"used {n_obs}; pass the data the model was fitted to.")
    return out


def _exo_positions(model):
    pt = model.partable
    obs = {v: i for i, v in enumerate(model.observed)}
    index = {v: i for i, v in enumerate(model.observed + model.latent)}
    out = []
    for g in range(1, model.ngroups + 1):
        rows = pt[(pt["group"] == g) & (pt["exo"] == 1) & (pt["free"] == 0)]
        cov = rows[rows["op"] == "~~"]
        mean = rows[rows["op"] == "~1"]
        out.append((
            np.array([index[v] for v in cov["lhs"]], dtype=np.intp),
            np.array([index[v] for v in cov["rhs"]], dtype=np.intp),
            np.array([obs[v] for v in cov["lhs"]], dtype=np.intp),
            np.array([obs[v] for v in cov["rhs"]], dtype=np.intp),
            np.array([index[v] for v in mean["lhs"]], dtype=np.intp),
            np.array([obs[v] for v in mean["lhs"]], dtype=np.intp),
        ))
    return tuple(out)


def _definitions(model):
    """(name, expression) of the ``:=`` rows and (label, free index or -1, fixed value)."""
    pt = model.partable
    defs = tuple((r.lhs, r.rhs) for r in pt[pt["op"] == ":="].itertuples())
    slots = []
    seen = set()
    for r in pt[(pt["label"] != "") & (pt["op"] != ":=")].itertuples():
        if r.label in seen:
            continue
        seen.add(r.label)
        slots.append((r.label, int(r.free) - 1 if r.free > 0 else -1,
                      float(r.ustart) if r.free <= 0 else math.nan))
    return defs, tuple(slots)


def bootstrap(fit_or_model, data, B: int, seed: int | None = None, jobs: int = 1,
              scheduler=None, progress: bool | None = None, *, level: float = 0.95,
              spec=None, derived: Sequence[Derived] = (), group: str | None = None
              ) -> BootstrapResult:
    """Nonparametric (case-resampling) bootstrap of an ML fit or a fit with ordered items.

    Parameters
    ----------
    fit_or_model : FitResult or str
        A fitted model (``estimation.fit_model``; ML or MLR point estimates, complete data or
        FIML; or a fit with ordered items, WLSMV / ULSMV / DWLS / ULS, listwise or pairwise,
        whose draws recompute the thresholds, polychoric correlations and weights and refit
        from the full-sample estimates, as lavaan's ``se = "bootstrap"`` with
        ``estimator = "DWLS"``) or lavaan syntax, which is fitted first (complete rows).
    data : pandas.DataFrame
        The data the model was (or is to be) fitted to.
    B : int
        Number of draws.
    seed : int, optional
        Root seed; without one a fresh seed is drawn and recorded in the result.
    jobs : int
        Processes on this machine: this one plus ``jobs - 1`` workers (forked once on Linux,
        spawned elsewhere), each with BLAS limited to one thread. Every process takes the
        next chunk of draws from one shared queue; the workers are ended and joined before
        the call returns.
    scheduler : str or distributed.Client, optional
        Address of a Dask scheduler (or a Client): the same chunks of draws run there.
    progress : bool, optional
        Show a progress bar on stderr; by default only when stderr is a terminal.
    level : float
        Confidence level of the intervals.
    spec : riskmodel_sem.survey.spec.Spec, optional
        Adds the quantities its hypotheses and effects need (:func:`spec_quantities`).
    derived : sequence of Derived
        Further quantities to bootstrap.
    group : str, optional
        The grouping column of a multi-group fit (rows are resampled within groups).

    Returns
    -------
    BootstrapResult

    Raises
    ------
    OptionError
        For a bad B, seed, jobs or level.
    ModelError
        When the data do not match the fit.

    Notes
    -----
    Draw b uses ``default_rng(SeedSequence(seed).spawn(B)[b])`` to pick its rows (numpy's
    generator, so the rows differ from R's); the refit starts from the full-sample estimates.
    Free-parameter SEs divide by R and ``:=``/derived SEs by R - 1, as lavaan 0.6.14's
    ``se = "bootstrap"`` does (for fits with ordered items lavaan's free-parameter SEs are
    also multiplied by sqrt(N / (N - G)), its divisor of every non-ML vcov, and so are ours);
    percentile and bca.simple bounds match
    ``parameterEstimates(boot.ci.type = "perc" / "bca.simple")`` for the same draws.

    Examples
    --------
    >>> res = bootstrap(fit, data, B=500, seed=1, jobs=2)  # doctest: +SKIP
    >>> res.row("ind", ":=")[["ci_lower_perc", "ci_upper_perc"]]  # doctest: +SKIP
    """
    from ..estimation import FitResult, fit_model

    if isinstance(B, bool) or not isinstance(B, (int, np.integer)) or B < 1:
        raise OptionError(f"The number of bootstrap draws must be a positive integer, got {B!r}.")
    if not MIN_BOOTSTRAP_DRAWS <= B <= MAX_BOOTSTRAP_DRAWS:
        raise OptionError(f"The number of bootstrap draws must be from {MIN_BOOTSTRAP_DRAWS} (the "
                          f"fewest that place the bounds of a 95% interval) to "
                          f"{MAX_BOOTSTRAP_DRAWS}, got {B}.")
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise OptionError(f"The number of jobs must be a positive integer, got {jobs!r}.")
    jobs = min(int(jobs), max_jobs())  # never more worker processes than cores
    check_level(level)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OptionError(f"The seed must be a non-negative integer, got {seed!r}.")
    seed = int(seed)
    if isinstance(fit_or_model, str):
        fit = fit_model(fit_or_model, data, group=group, compute_modindices=False)
    elif isinstance(fit_or_model, FitResult):
        fit = fit_or_model
    else:
        raise OptionError("bootstrap() needs a FitResult or lavaan model syntax.")
    ordinal = getattr(fit, "ordinal", None) is not None
    if not ordinal and fit.missing not in ("listwise", "fiml"):
        raise OptionError(f"The bootstrap does not support missing = {fit.missing!r}.")
    fiml = fit.missing == "fiml"
    if fit.model is None or fit.theta is None:
        raise ModelError("The fit holds no compiled model; refit it with fit_model().")
    if fit.model.ngroups > 1 and not group:
        raise OptionError("A multi-group fit needs the group column (group=...).")
    if ordinal:
        quantities = tuple(derived) + (spec_quantities(spec, fit.model) if spec is not None
                                       else ())
        task = _ordinal_task(fit, data, group, seed, quantities)
        # lavaan's vcov of these estimators is N / (N - G) times the draws' covariance
        # (lav_model_vcov divides N * cov by N - G for every estimator but ML)
        n = int(fit.n_obs)
        return _run(fit.model, task, _run_chunk, B, jobs, scheduler, progress, level,
                    quantities, se_scale=math.sqrt(n / (n - fit.model.ngroups)))
    model = fit.model
    theta0 = np.asarray(fit.theta, dtype=float)
    values = _data_values(model, data, group if model.ngroups > 1 else None,
                          fit.group_labels, fit.n_obs, fiml=fiml)
    kernel = ModelKernel(model)
    if fiml:
        full = [group_data(v, logl_h1=0.0) for v in values]
    else:
        full = [moments_group(mo.n, mo.mean, mo.cov, meanstructure=model.meanstructure)
                for mo in (sample_moments(v) for v in values)]
    objective = MLObjective(model, full, kernel)
    with one_blas_thread():
        H = 2.0 * objective.observed_information(theta0)
    if not np.all(np.isfinite(H)) or np.linalg.eigvalsh(H)[0] <= 0:
        H = 2.0 * objective.expected_information(theta0)
    try:
        hinv0 = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        hinv0 = np.linalg.pinv(H)

    quantities = tuple(derived) + (spec_quantities(spec, model) if spec is not None else ())
    definitions, slots = _definitions(model)
    task = _Task(
        kernel=kernel, values=values, theta0=theta0, hinv0=hinv0, seed=seed,
        definitions=definitions, label_slots=slots,
        derived=DerivedEvaluator(model, quantities) if quantities else None,
        exo=_exo_positions(model), width=0, fiml=fiml,
    )
    width = model.n_free + len(definitions) + len(quantities)
    task = replace(task, width=width)
    cset = constraint_set(model)
    if cset is not None:
        # every draw honours the model's ==, <, > constraints
        reduced = linear_reduction(objective, theta0, cset)
        reduction = None
        if reduced is not None:
            hinv_a = np.linalg.pinv(reduced.K.T @ H @ reduced.K)
            reduction = (reduced.K, reduced.k0, hinv_a)
        task = replace(task, constraints=cset, reduction=reduction)

    return _run(model, task, _run_chunk, B, jobs, scheduler, progress, level, quantities)


def _run(model, task, run_chunk, B, jobs, scheduler, progress, level, quantities,
         se_scale: float = 1.0):
    """Run the draws of ``task`` and build the :class:`BootstrapResult` (SEs, intervals);
    the free parameters' SEs are multiplied by ``se_scale``."""
    import pandas as pd

    definitions = task.definitions
    width = task.width
    theta0 = task.theta0
    seed = task.seed
    show = progress_enabled(progress)
    bar = Progress(int(B), show)
    t0 = time.perf_counter()
    try:
        with one_blas_thread():  # also keeps idle BLAS threads from spinning in this process
            batched = _batched(task)
            rows, failed, admissible, iterations, elsewhere = execute(
                run_chunk, task, int(B), int(jobs), scheduler, bar,
                max_chunk=_BATCH_CHUNK if batched else 10, per_job=4 if batched else 8)
    finally:
        bar.close()
    elapsed = time.perf_counter() - t0

    n_def = len(definitions)
    q = model.n_free
    # point estimates of every column
    est_def = np.array(_defined_values(task, theta0)) if n_def else np.zeros(0)
    est_der = derived_values(model, theta0, quantities) if quantities else np.zeros(0)
    est = np.concatenate([theta0, est_def, est_der])
    se = np.concatenate([se_scale * bootstrap_se(rows[:, :q], ddof=0),
                         bootstrap_se(rows[:, q:], ddof=1) if width > q else np.zeros(0)])
    lo_p, hi_p = percentile_ci(rows, est, level)
    lo_b, hi_b = bca_simple_ci(rows, est, level)

    pt = model.partable
    free_rows = pt[pt["free"] > 0]
    recs = []
    multi = model.ngroups > 1
    for r in free_rows.itertuples():
        k = int(r.free) - 1
        rec = {"lhs": r.lhs, "op": r.op, "rhs": r.rhs, "label": r.label}
        if multi:
            rec["group"] = int(r.group)
        recs.append((rec, k))
    for j, (name, _) in enumerate(definitions):
        rhs = pt.loc[(pt["op"] == ":=") & (pt["lhs"] == name), "rhs"].iloc[0]
        recs.append(({"lhs": name, "op": ":=", "rhs": rhs, "label": name}, q + j))
    for j, d in enumerate(quantities):
        recs.append(({"lhs": d.name, "op": ":=", "rhs": d.expression, "label": d.name},
                     q + n_def + j))
    table = []
    for rec, k in recs:
        rec = dict(rec)
        rec.update(est=est[k], se=se[k], ci_lower_perc=lo_p[k], ci_upper_perc=hi_p[k],
                   ci_lower_bc=lo_b[k], ci_upper_bc=hi_b[k])
        table.append(rec)
    columns = CI_COLUMNS[:4] + (["group"] if multi else []) + CI_COLUMNS[4:]
    ci = pd.DataFrame(table, columns=columns)

    names = []
    for r in free_rows.drop_duplicates("free").sort_values("free").itertuples():
        names.append(r.label or f"{r.lhs}{r.op}{r.rhs}")
    names += [name for name, _ in definitions] + [d.name for d in quantities]

    n_failed = int(failed.sum())
    if n_failed:
        warnings.warn(f"{n_failed} of {B} bootstrap draws failed (non-positive-definite "
                      "sample covariance or no convergence) and were left out.",
                      RiskModelWarning, stacklevel=2)
    return BootstrapResult(
        draws=rows[:, :q + n_def].copy(),
        derived_draws=rows[:, q + n_def:].copy(),
        names=tuple(names),
        n=int(B),
        seed=seed,
        failed=n_failed,
        nonadmissible=int((~admissible & ~failed).sum()),
        level=float(level),
        ci=ci,
        admissible=admissible,
        iterations=iterations,
        elapsed=elapsed,
        remote_draws=int(elsewhere),
    )
