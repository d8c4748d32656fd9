"""Case-resampling bootstrap of a fitted model, with lavaan's percentile and bca.simple CIs.

Each draw resamples the complete rows of every group with replacement (group sizes are kept,
as lavaan's ``bootstrapLavaan(type = "ordinary")`` does), computes the sample moments of the
resampled rows and refits the compiled model by maximum likelihood, starting from the
full-sample estimates. The refit is a BFGS iteration whose first inverse Hessian is the
inverse of the full-sample Hessian, so a draw needs only gradient evaluations and no parsing,
no pandas and no model compilation. Convergence is declared with the estimation core's
criterion (largest absolute gradient element below 1e-9).

Random numbers: draw ``b`` (0-based) takes its rows from
``numpy.random.default_rng(numpy.random.SeedSequence(seed).spawn(B)[b])``, so the draws do not
depend on how they are split among processes; every draw is computed from the same start
with BLAS limited to one thread, so ``jobs=1``, ``jobs=2`` and a Dask cluster give
bit-identical arrays.

Confidence intervals follow lavaan 0.6.14's ``parameterEstimates(boot.ci.type = "perc")`` and
``boot.ci.type = "bca.simple"`` (bias-corrected, no acceleration), both with the ``norm.inter``
interpolation of the boot package.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from ..errors import ModelError, OptionError, RiskModelWarning
from ._blas import one_blas_thread
from .data import sample_moments
from .objective import MLObjective, ModelKernel, moments_group
from .optimize import minimize

__all__ = [
    "BootstrapResult",
    "Derived",
    "bootstrap",
    "percentile_ci",
    "bca_simple_ci",
    "bootstrap_se",
    "spec_quantities",
    "derived_values",
    "DerivedEvaluator",
    "CI_COLUMNS",
]

#: Columns of :attr:`BootstrapResult.ci` (and of the JSON ``bootstrap.ci`` records).
CI_COLUMNS = ["lhs", "op", "rhs", "label", "est", "se", "ci_lower_perc", "ci_upper_perc",
              "ci_lower_bc", "ci_upper_bc"]

_TOL = 1e-9          # the estimation core's convergence criterion (max |gradient|)
_MAX_ITER = 250      # BFGS iterations per draw before the draw counts as failed
_ADMISSIBLE_EPS = np.finfo(float).eps ** 0.75   # lavaan's post.check tolerance


# ------------------------------------------------------------------------------------------
# confidence intervals (deterministic functions of the draws)
# ------------------------------------------------------------------------------------------

def _qnorm(p):
    from scipy.special import ndtri
    return ndtri(p)


def _pnorm(x):
    from scipy.special import ndtr
    return ndtr(x)


def _norm_inter(t: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """boot's ``norm.inter``: order statistics interpolated on the normal-quantile scale.

    ``t`` holds the finite draws (any order); for each ``alpha`` the (R + 1) * alpha-th order
    statistic, interpolated between its neighbours k and k + 1 (k = trunc((R + 1) * alpha)) on
    the scale of ``qnorm(k / (R + 1))``; k = 0 gives the minimum, k = R the maximum.
    """
    t = np.sort(t)
    r = len(t)
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    out = np.full(alpha.shape, np.nan)
    if r == 0:
        return out
    for i, a in enumerate(alpha):
        if not np.isfinite(a):
            continue
        rk = (r + 1) * a
        k = math.trunc(rk)
        if k == rk and 1 <= k <= r:
            out[i] = t[k - 1]
        elif k == 0:
            out[i] = t[0]
        elif k == r:
            out[i] = t[r - 1]
        elif 0 < k < r:
            z = float(_qnorm(a))
            z_k = float(_qnorm(k / (r + 1)))
            z_k1 = float(_qnorm((k + 1) / (r + 1)))
            tk, tk1 = t[k - 1], t[k]
            out[i] = tk + (z - z_k) / (z_k1 - z_k) * (tk1 - tk)
        # k > R (alpha = 1): R's tstar[R + 1] is NA
    return out


def _columns(draws) -> tuple[np.ndarray, bool]:
    arr = np.asarray(draws, dtype=float)
    if arr.ndim == 1:
        return arr[:, None], True
    if arr.ndim != 2:
        raise ValueError("The draws must be a vector or a matrix (draws x parameters).")
    return arr, False


def _check_level(level: float) -> None:
    if not (isinstance(level, (int, float)) and 0.0 < float(level) < 1.0):
        raise OptionError(f"The confidence level must be between 0 and 1, got {level!r}.")


def percentile_ci(draws, est=None, level: float = 0.95):
    """Percentile bootstrap confidence intervals, as lavaan computes them.

    Parameters
    ----------
    draws : array_like
        Bootstrap draws, a vector or a matrix with one column per parameter. Non-finite values
        (failed draws) are dropped column by column.
    est : array_like, optional
        The point estimates; not used by the percentile method (accepted for symmetry with
        :func:`bca_simple_ci`).
    level : float
        Confidence level.

    Returns
    -------
    lower, upper : numpy.ndarray (or floats for a vector of draws)

    Notes
    -----
    The bounds are boot's ``norm.inter(t, (1 -/+ level) / 2)``: with R finite draws sorted,
    rk = (R + 1) alpha and k = trunc(rk); an integer rk gives t_(k); otherwise
    t_(k) + (z_alpha - z_k) / (z_{k+1} - z_k) (t_(k+1) - t_(k)) with z_j = qnorm(j / (R + 1)).
    Matches lavaan 0.6.14 ``parameterEstimates(fit, boot.ci.type = "perc")``.

    References
    ----------
    Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*, eq. 5.8.
    """
    _check_level(level)
    arr, single = _columns(draws)
    alpha = np.array([(1 - level) / 2, (1 + level) / 2])
    lo = np.empty(arr.shape[1])
    hi = np.empty(arr.shape[1])
    for j in range(arr.shape[1]):
        col = arr[:, j]
        lo[j], hi[j] = _norm_inter(col[np.isfinite(col)], alpha)
    return (float(lo[0]), float(hi[0])) if single else (lo, hi)


def bca_simple_ci(draws, est, level: float = 0.95):
    """Bias-corrected (not accelerated) bootstrap confidence intervals: lavaan's bca.simple.

    Parameters
    ----------
    draws : array_like
        Bootstrap draws, a vector or a matrix with one column per parameter; non-finite values
        are dropped column by column.
    est : array_like
        Point estimates (one per column).
    level : float
        Confidence level.

    Returns
    -------
    lower, upper : numpy.ndarray (or floats for a vector of draws)

    Notes
    -----
    With the finite draws t of a parameter and its estimate t0: w = qnorm(#{t < t0} / R)
    (strictly below, ties not counted) and the bounds are ``norm.inter(t, pnorm(w + (w +
    z_alpha)))`` for z_alpha = qnorm((1 -/+ level) / 2) (acceleration a = 0). A column whose
    draws have zero variance keeps the estimate as both bounds. Matches lavaan 0.6.14
    ``parameterEstimates(fit, boot.ci.type = "bca.simple")``.

    References
    ----------
    Efron, B. (1987). Better bootstrap confidence intervals. *JASA*, 82, 171-185.
    """
    _check_level(level)
    arr, single = _columns(draws)
    est = np.atleast_1d(np.asarray(est, dtype=float))
    if est.shape[0] != arr.shape[1]:
        raise ValueError("One estimate per column of draws is needed.")
    zalpha = _qnorm(np.array([(1 - level) / 2, (1 + level) / 2]))
    lo = np.empty(arr.shape[1])
    hi = np.empty(arr.shape[1])
    for j in range(arr.shape[1]):
        t = arr[:, j]
        t = t[np.isfinite(t)]
        t0 = est[j]
        if len(t) < 2 or np.var(t) == 0.0:
            lo[j] = hi[j] = t0
            continue
        w = _qnorm(np.sum(t < t0) / len(t))
        a = 0.0
        with np.errstate(invalid="ignore"):  # w = -Inf gives NaN bounds, as in lavaan
            adj = _pnorm(w + (w + zalpha) / (1 - a * (w + zalpha)))
        lo[j], hi[j] = _norm_inter(t, adj)
    return (float(lo[0]), float(hi[0])) if single else (lo, hi)


def bootstrap_se(draws, ddof: int = 0):
    """Bootstrap standard errors: the standard deviation of the finite draws per column.

    Notes
    -----
    lavaan 0.6.14 divides by R for free parameters (``ddof=0``, its bootstrap ``vcov`` is
    ``cov(BOOT) * (R - 1) / R``) but by R - 1 for defined parameters (``ddof=1``, ``cov`` of
    the defined values); :func:`bootstrap` follows both.
    """
    arr, single = _columns(draws)
    out = np.empty(arr.shape[1])
    for j in range(arr.shape[1]):
        t = arr[:, j]
        t = t[np.isfinite(t)]
        out[j] = np.std(t, ddof=ddof) if len(t) > ddof else np.nan
    return float(out[0]) if single else out


# ------------------------------------------------------------------------------------------
# derived quantities (standardized loadings, total effects) evaluated in every draw
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Derived:
    """A quantity computed from the parameters in every draw: ``sum(coef * term)``.

    Attributes
    ----------
    name : str
        Name shown in the ``lhs`` column (op ``:=``).
    expression : str
        Human-readable definition shown in the ``rhs`` column.
    terms : tuple of (coef, kind, lhs, op, rhs)
        ``kind`` is ``"est"`` (the unstandardized value of the model row ``lhs op rhs``),
        ``"std_all"`` (its completely standardized value; ``=~`` and ``~`` rows) or
        ``"total"`` (the total effect of ``rhs`` on ``lhs``, op ``"~"``) or ``"total_std"``
        (that total effect times sd(rhs) / sd(lhs)).
    """

    name: str
    expression: str
    terms: tuple[tuple[float, str, str, str, str], ...]


def _path_products(partable, cause: str, outcome: str) -> list[list[str]]:
    """Every directed path cause -> ... -> outcome through the regressions, as label lists."""
    regs = partable[partable["op"] == "~"]
    by_rhs: dict[str, list[tuple[str, str]]] = {}
    for r in regs.itertuples():
        name = r.label if r.label else f"{r.lhs}~{r.rhs}"
        by_rhs.setdefault(r.rhs, []).append((r.lhs, name))
    out: list[list[str]] = []

    def walk(node, labels, seen):
        if node == outcome and labels:
            out.append(labels)
            return
        for nxt, name in by_rhs.get(node, []):
            if nxt not in seen:
                walk(nxt, labels + [name], seen | {nxt})

    walk(cause, [], {cause})
    return out


def spec_quantities(spec, model) -> tuple[Derived, ...]:
    """The derived quantities a spec's hypotheses and effects need, for one compiled model.

    Parameters
    ----------
    spec : riskmodel_sem.survey.spec.Spec
    model : riskmodel_sem.sem.model.CompiledModel
        The model the spec was fitted with (its parameter table decides which paths exist).

    Returns
    -------
    tuple of Derived
        For each ``loading_order`` hypothesis and each other indicator, ``<id>_<strongest>_<other>``
        = std_all(dimension =~ strongest) - std_all(dimension =~ other); for each effect of
        the spec, ``total_<cause>_<outcome>`` = the total effect of the effect's first construct
        on its last (when at least one path connects them).
    """
    pt = model.partable
    loads = {(r.lhs, r.rhs) for r in pt[pt["op"] == "=~"].itertuples()}
    out: list[Derived] = []
    for h in getattr(spec, "hypotheses", ()):
        if h.kind != "loading_order":
            continue
        dim = h.dimension or h.lhs
        best = h.strongest or h.rhs
        for other in h.others:
            if (dim, best) in loads and (dim, other) in loads:
                out.append(Derived(
                    f"{h.id}_{best}_{other}",
                    f"std_all({dim}=~{best}) - std_all({dim}=~{other})",
                    ((1.0, "std_all", dim, "=~", best), (-1.0, "std_all", dim, "=~", other)),
                ))
    seen = set()
    for e in getattr(spec, "effects", ()):
        cause, outcome = e.path[0], e.path[-1]
        if (cause, outcome) in seen or cause == outcome:
            continue
        paths = _path_products(pt, cause, outcome)
        if not paths:
            continue
        seen.add((cause, outcome))
        expr = " + ".join("*".join(p) for p in paths)
        out.append(Derived(f"total_{cause}_{outcome}", expr,
                           ((1.0, "total", outcome, "~", cause),)))
    return tuple(out)


class DerivedEvaluator:
    """Evaluates a tuple of :class:`Derived` from the RAM matrices (A, S) quickly.

    Parameters
    ----------
    model : CompiledModel
    derived : sequence of Derived

    Raises
    ------
    ModelError
        When a term names a row that is not in the model or an unknown kind.

    Notes
    -----
    Calling it with (A, S) of group 1 gives ``sum(coef * term)`` per quantity, with E =
    (I - A)^-1: ``est`` terms read A or S, ``total`` terms E (lavaan's total effects), and
    ``std_all``/``total_std`` terms are multiplied by sd(cause) / sd(outcome) from
    diag(E S E') (lavaan's ``std.all``).
    """

    def __init__(self, model, derived: Sequence[Derived]):
        index = {v: i for i, v in enumerate(model.observed + model.latent)}
        self.names = tuple(d.name for d in derived)
        self.p = len(model.observed)
        terms = []
        for d in derived:
            for coef, kind, lhs, op, rhs in d.terms:
                if lhs not in index or rhs not in index:
                    raise ModelError(f"The derived quantity {d.name} uses {lhs} {op} {rhs}, "
                                     "which is not in the model.")
                if op == "=~":
                    i, j, mat = index[rhs], index[lhs], "A"
                elif op == "~":
                    i, j, mat = index[lhs], index[rhs], "A"
                elif op == "~~":
                    i, j, mat = index[lhs], index[rhs], "S"
                else:
                    raise ModelError(f"The derived quantity {d.name} uses op {op!r}; use =~, ~ "
                                     "or ~~.")
                if kind in ("total", "total_std"):
                    mat = "E"
                elif kind not in ("est", "std_all"):
                    raise ModelError(f"Unknown kind {kind!r} in derived quantity {d.name}.")
                if kind == "std_all" and mat != "A":
                    raise ModelError(f"The derived quantity {d.name}: std_all terms need an "
                                     "=~ or ~ row.")
                terms.append((len(terms), float(coef), kind, mat, i, j))
        self.terms = tuple(terms)
        self.owner = np.repeat(np.arange(len(derived)), [len(d.terms) for d in derived])
        self.needs_sd = any(t[2] in ("std_all", "total_std") for t in terms)

    def __call__(self, A, S) -> np.ndarray:
        n = A.shape[0]
        E = np.linalg.inv(np.eye(n) - A)
        sd = np.sqrt(np.clip(np.diag(E @ S @ E.T), 0, None)) if self.needs_sd else None
        vals = np.empty(len(self.terms))
        for k, coef, kind, mat, i, j in self.terms:
            if mat == "E":
                v = E[i, j]
            elif mat == "A":
                v = A[i, j]
            else:
                v = S[i, j]
            if kind in ("std_all", "total_std"):
                v = v * sd[j] / sd[i]
            vals[k] = coef * v
        return np.bincount(self.owner, weights=vals, minlength=len(self.names))


def derived_values(model, theta, derived: Sequence[Derived]) -> np.ndarray:
    """Values of derived quantities at a parameter vector (group 1 of the model).

    Parameters
    ----------
    model : riskmodel_sem.sem.model.CompiledModel
    theta : numpy.ndarray
        Free parameters.
    derived : sequence of Derived

    Returns
    -------
    numpy.ndarray
        One value per derived quantity. ``std_all`` terms use the model-implied standard
        deviations (lavaan's ``std.all``); ``total`` terms are entries of (I - A)^-1, the sum
        over all directed paths of the products of their coefficients (lavaan's total effect).
    """
    if not derived:
        return np.zeros(0)
    A, S, _ = model.matrices(np.asarray(theta, dtype=float), 0)
    return DerivedEvaluator(model, derived)(A, S)


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


def _moments(X):
    return sample_moments(X)


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
    """lavaan's ``lavInspect(fit, "post.check")``: no negative variance, cov.lv and theta PSD."""
    kernel = task.kernel
    p = kernel.p
    for g in range(len(kernel.groups)):
        A, S, _ = kernel.matrices(theta, g, fixed)
        diag = np.diag(S)
        ov_ok = not np.any(diag[:p] < 0.0)
        lv_ok = not np.any(diag[p:] < 0.0)
        if not (ov_ok and lv_ok):
            return False
        if kernel.n > p:
            E = np.linalg.inv(np.eye(kernel.n) - A)
            cov_lv = (E @ S @ E.T)[p:, p:]
            if np.any(np.linalg.eigvalsh(cov_lv) < -_ADMISSIBLE_EPS):
                return False
        if np.any(np.linalg.eigvalsh(S[:p, :p]) < -_ADMISSIBLE_EPS):
            return False
    return True


_COMPILED: dict = {}


def _compiled_definitions(task) -> tuple:
    """The ``:=`` expressions compiled once per process (closures do not pickle)."""
    key = task.definitions
    if key not in _COMPILED:
        from .defined import compile_definition
        _COMPILED[key] = tuple((name, compile_definition(expr)) for name, expr in key)
    return _COMPILED[key]


def _defined_values(task, theta) -> list[float]:
    from .defined import evaluate_definitions

    env = {label: (float(theta[k]) if k >= 0 else value) for label, k, value in task.label_slots}
    values = evaluate_definitions(_compiled_definitions(task), env)
    return [values[name] for name, _ in task.definitions]


def _one_draw(task: _Task, b: int):
    """Row of draw b (free, defined, derived), its status (0 ok, 1 failed) and admissibility."""
    rng = np.random.default_rng(np.random.SeedSequence(task.seed, spawn_key=(b,)))
    row = np.full(task.width, np.nan)
    groups = []
    moments = []
    meanstructure = task.kernel.meanstructure
    for X in task.values:
        idx = rng.integers(0, X.shape[0], size=X.shape[0])
        mo = _moments(X[idx])
        try:
            chol = np.linalg.cholesky(mo.cov)
        except np.linalg.LinAlgError:
            return row, True, False, 0
        groups.append(moments_group(mo.n, mo.mean, mo.cov, meanstructure=meanstructure,
                                    logdet_s=2.0 * np.log(np.diag(chol)).sum()))
        moments.append(mo)
    fixed = _fixed_for(task, moments)
    # the draws need only the objective's value and gradient: no compiled model (whose
    # := closures do not pickle), just its index arrays
    objective = MLObjective(None, groups, task.kernel, fixed)
    try:
        res = minimize(objective, task.theta0, "bfgs", tol=_TOL, max_iter=_MAX_ITER,
                       hinv0=task.hinv0)
    except ModelError:
        res = None
    if res is None or not res.converged or not np.all(np.isfinite(res.theta)):
        return row, True, False, 0 if res is None else res.iterations
    theta, its = res.theta, res.iterations
    q = task.kernel.q
    row[:q] = theta
    k = q
    if task.definitions:
        vals = _defined_values(task, theta)
        row[k:k + len(vals)] = vals
        k += len(vals)
    if task.derived is not None:
        A, S, _ = task.kernel.matrices(theta, 0, fixed)
        row[k:] = task.derived(A, S)
    return row, False, _admissible(task, theta, fixed), its


def _run_chunk(task: _Task, start: int, stop: int):
    """Draws start..stop-1 with BLAS limited to one thread (bit-identical everywhere)."""
    rows = np.full((stop - start, task.width), np.nan)
    failed = np.zeros(stop - start, dtype=bool)
    admissible = np.zeros(stop - start, dtype=bool)
    iterations = np.zeros(stop - start, dtype=np.int64)
    with one_blas_thread():
        for i, b in enumerate(range(start, stop)):
            rows[i], failed[i], admissible[i], iterations[i] = _one_draw(task, b)
    return start, rows, failed, admissible, iterations, os.getpid()


# ------------------------------------------------------------------------------------------
# progress on stderr
# ------------------------------------------------------------------------------------------

class _Progress:
    def __init__(self, total: int, enabled: bool):
        self.total = total
        self.done = 0
        self.enabled = enabled
        self.start = time.perf_counter()

    def update(self, k: int) -> None:
        self.done += k
        if not self.enabled:
            return
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(f"\rBootstrap [{'#' * filled}{'.' * (width - filled)}] "
                         f"{self.done}/{self.total} draws, {elapsed:.1f} s")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


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
        from .._json import records

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

def _data_values(model, data, group, labels, n_obs):
    """Complete rows of the model's observed variables, split by group (as prepare() does)."""
    import pandas as pd

    observed = list(model.observed)
    missing = [v for v in observed if v not in data.columns]
    if missing:
        raise ModelError(f"The data have no column(s) {', '.join(missing)}.")
    frame = data[observed + ([group] if group else [])]
    if group:
        frame = frame[frame[group].notna()]
    values = frame[observed].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    keep = ~np.isnan(values).any(axis=1)
    if group:
        gvals = frame[group].to_numpy().astype(str)
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


def _chunks(B: int, jobs: int) -> list[tuple[int, int]]:
    size = max(1, min(10, math.ceil(B / (max(jobs, 1) * 8))))
    return [(s, min(s + size, B)) for s in range(0, B, size)]


def _execute(task, B, jobs, scheduler, progress):
    width = task.width
    rows = np.full((B, width), np.nan)
    failed = np.zeros(B, dtype=bool)
    admissible = np.zeros(B, dtype=bool)
    iterations = np.zeros(B, dtype=np.int64)
    elsewhere = [0]

    def store(result):
        start, r, f, a, it, pid = result
        if pid != os.getpid():
            elsewhere[0] += len(r)
        stop = start + len(r)
        rows[start:stop], failed[start:stop] = r, f
        admissible[start:stop], iterations[start:stop] = a, it
        progress.update(len(r))

    chunks = _chunks(B, jobs)
    if scheduler is not None:
        _execute_dask(task, chunks, scheduler, store)
    elif jobs == 1:
        for s, e in chunks:
            store(_run_chunk(task, s, e))
    else:
        _execute_pool(task, chunks, jobs, store)
    return rows, failed, admissible, iterations, elsewhere[0]


#: Whether this process computes chunks too when jobs > 1 (the tests switch it off to make
#: every chunk run in a worker process).
_LOCAL_WORK = True


def _worker_main(task, task_q, result_q) -> None:
    """Worker process: take chunks from the shared queue until it is empty."""
    import queue

    while True:
        try:
            chunk = task_q.get(timeout=1.0)
        except queue.Empty:
            return
        if chunk is None:
            return
        result_q.put(_run_chunk(task, *chunk))


def _execute_pool(task, chunks, jobs, store):
    """Run chunks on jobs - 1 worker processes and in this process, from one shared queue.

    Workers are started from a background thread and take a chunk only once they are ready,
    so this process computes chunks while they start; a chunk is never held by a worker that
    is still starting, and a pool that starts slowly never makes the run slower than
    ``jobs=1``. A chunk whose result does not come back within a few seconds is computed here
    as well (a draw gives the same numbers wherever it runs). Workers are ended by handle when
    the draws are done.
    """
    import queue
    import threading

    ctx = _mp_context()
    task_q, result_q = ctx.Queue(), ctx.Queue()
    for chunk in chunks:
        task_q.put(chunk)
    procs: list = []
    stop = threading.Event()

    def start_workers():
        for _ in range(jobs - 1):
            if stop.is_set():
                return
            proc = ctx.Process(target=_worker_main, args=(task, task_q, result_q), daemon=True)
            procs.append(proc)
            try:
                proc.start()
            except Exception:  # pragma: no cover - e.g. no more processes allowed
                return

    finished: set = set()

    def keep(result):
        start = result[0]
        if start not in finished:
            finished.add(start)
            store(result)

    starter = threading.Thread(target=start_workers, daemon=True)
    starter.start()
    try:
        waited = 0.0
        while len(finished) < len(chunks):
            try:
                while True:
                    keep(result_q.get_nowait())
            except queue.Empty:
                pass
            chunk = None
            if _LOCAL_WORK:
                try:
                    chunk = task_q.get(timeout=0.05)
                except queue.Empty:
                    pass
            if chunk is not None:
                keep(_run_chunk(task, *chunk))
                continue
            try:
                keep(result_q.get(timeout=0.25))
                waited = 0.0
            except queue.Empty:
                waited += 0.3
                if waited > (3.0 if _LOCAL_WORK else 300.0):
                    for s, e in chunks:
                        if s not in finished:
                            keep(_run_chunk(task, s, e))
    finally:
        stop.set()
        for proc in procs:
            if proc.pid is not None and proc.is_alive():
                proc.terminate()
        for proc in procs:
            if proc.pid is not None:
                proc.join(timeout=5)
        for q in (task_q, result_q):
            q.cancel_join_thread()
            q.close()


def _mp_context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["riskmodel_sem.sem.bootstrap"])
        return ctx
    return multiprocessing.get_context("spawn")


def _execute_dask(task, chunks, scheduler, store):
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - depends on the optional extra
        raise OptionError("Running the bootstrap on a Dask cluster needs the 'dask' extra: "
                          "pip install \"dask[distributed]\".") from None
    own = isinstance(scheduler, str)
    client = Client(scheduler) if own else scheduler
    try:
        [task_future] = client.scatter([task], broadcast=True)
        futures = client.map(_run_chunk, [task_future] * len(chunks),
                             [s for s, _ in chunks], [e for _, e in chunks], pure=False)
        for fut in as_completed(futures):
            store(fut.result())
    finally:
        if own:
            client.close()


def bootstrap(fit_or_model, data, B: int, seed: int | None = None, jobs: int = 1,
              scheduler=None, progress: bool | None = None, *, level: float = 0.95,
              spec=None, derived: Sequence[Derived] = (), group: str | None = None
              ) -> BootstrapResult:
    """Nonparametric (case-resampling) bootstrap of an ML fit.

    Parameters
    ----------
    fit_or_model : FitResult or str
        A fitted model (``estimation.fit_model``; ML or MLR point estimates, complete data) or
        lavaan syntax, which is fitted first.
    data : pandas.DataFrame
        The data the model was (or is to be) fitted to.
    B : int
        Number of draws.
    seed : int, optional
        Root seed; without one a fresh seed is drawn and recorded in the result.
    jobs : int
        Processes on this machine: this one plus ``jobs - 1`` workers (forkserver, or spawn
        where there is none), each with BLAS limited to one thread. Workers take chunks of
        draws from a shared queue once started; this process computes chunks meanwhile.
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
        For a bad B, seed, jobs or level, or a fit with missing data (FIML).
    ModelError
        When the data do not match the fit.

    Notes
    -----
    Draw b uses ``default_rng(SeedSequence(seed).spawn(B)[b])`` to pick its rows (numpy's
    generator, so the rows differ from R's); the refit starts from the full-sample estimates.
    Free-parameter SEs divide by R and ``:=``/derived SEs by R - 1, as lavaan 0.6.14's
    ``se = "bootstrap"`` does; percentile and bca.simple bounds match
    ``parameterEstimates(boot.ci.type = "perc" / "bca.simple")`` for the same draws.

    Examples
    --------
    >>> res = bootstrap(fit, data, B=500, seed=1, jobs=2)  # doctest: +SKIP
    >>> res.row("ind", ":=")[["ci_lower_perc", "ci_upper_perc"]]  # doctest: +SKIP
    """
    import pandas as pd

    from .estimation import FitResult, fit_model

    if isinstance(B, bool) or not isinstance(B, (int, np.integer)) or B < 1:
        raise OptionError(f"The number of bootstrap draws must be a positive integer, got {B!r}.")
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise OptionError(f"The number of jobs must be a positive integer, got {jobs!r}.")
    _check_level(level)
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
    if fit.missing != "listwise":
        raise OptionError("The bootstrap needs complete data (missing = listwise); FIML fits "
                          "are not supported.")
    if fit.model is None or fit.theta is None:
        raise ModelError("The fit holds no compiled model; refit it with fit_model().")
    if fit.model.ngroups > 1 and not group:
        raise OptionError("A multi-group fit needs the group column (group=...).")
    model = fit.model
    theta0 = np.asarray(fit.theta, dtype=float)
    values = _data_values(model, data, group if model.ngroups > 1 else None,
                          fit.group_labels, fit.n_obs)
    moments = [_moments(v) for v in values]
    kernel = ModelKernel(model)
    objective = MLObjective(model, [moments_group(mo.n, mo.mean, mo.cov,
                                                  meanstructure=model.meanstructure)
                                    for mo in moments], kernel)
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
        exo=_exo_positions(model), width=0,
    )
    width = model.n_free + len(definitions) + len(quantities)
    task = replace(task, width=width)

    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = _Progress(int(B), show)
    t0 = time.perf_counter()
    try:
        with one_blas_thread():  # also keeps idle BLAS threads from spinning in this process
            rows, failed, admissible, iterations, elsewhere = _execute(task, int(B), int(jobs),
                                                                       scheduler, bar)
    finally:
        bar.close()
    elapsed = time.perf_counter() - t0

    n_def = len(definitions)
    q = model.n_free
    # point estimates of every column
    est_def = np.array(_defined_values(task, theta0)) if n_def else np.zeros(0)
    est_der = derived_values(model, theta0, quantities) if quantities else np.zeros(0)
    est = np.concatenate([theta0, est_def, est_der])
    se = np.concatenate([bootstrap_se(rows[:, :q], ddof=0),
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
