"""Standardized solutions, R-squared and Heywood checks from a fitted parameter vector.

``std_lv`` rescales latent variables to unit variance, ``std_all`` rescales every variable by
its model-implied standard deviation, ``std_nox`` every variable but the observed exogenous
covariates (lavaan's ``ov.x``), as lavaan's ``standardizedSolution`` /
``parameterEstimates(standardized = TRUE)`` do. Standard errors of ``std_all`` come from the
delta method with a numerical Jacobian of the standardization (lavaan's
``standardizedSolution(type = "std.all")`` column ``se``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .constraints import constraint_set
from .defined import evaluate_definitions
from .numdiff import central_jacobian

__all__ = ["standardized_values", "standardized_solution", "r_squared", "heywood_cases",
           "entry_factors"]


def standardized_values(model, theta, kind: str = "std_all") -> np.ndarray:
    """Standardized value of every model row (parameter-table order), then the ``:=`` rows.

    Notes
    -----
    With sd the model-implied standard deviations (observed variables kept at 1 for
    ``std_lv``): loadings and regressions b * sd(predictor) / sd(outcome); variances
    s_ii / sd_i^2; covariances s_ij / sqrt(s_ii s_jj) (residual correlations, lavaan's
    ``cov.std``), except that ``std_lv`` keeps covariances between observed variables
    unstandardized; intercepts m_i / sd_i. Defined parameters and the ``==``/``<``/``>``
    rows (lhs - rhs, rhs - lhs for ``<``) are evaluated on the standardized values, as
    lavaan's ``standardizedSolution`` does.
    """
    return _standardized_batch(model, np.asarray(theta, float)[None, :], kind)[0]


def _standardized_batch(model, thetas: np.ndarray, kind: str, s_diag=None) -> np.ndarray:
    """:func:`standardized_values` for each row of ``thetas`` (B, q), vectorized over B;
    ``s_diag`` ({group: (indices, values (B, k))}) replaces fixed variances that are
    functions of the parameters."""
    r = model.rows
    nb = thetas.shape[0]
    out = np.empty((nb, len(r.kind)))
    for g in range(model.ngroups):
        A, S, m = model.matrices_batch(thetas, g)
        if s_diag and g in s_diag:
            idx, vals = s_diag[g]
            S[:, idx, idx] = vals
        k = r.group == g
        i, j, kd = r.i[k], np.maximum(r.j[k], 0), r.kind[k]
        values = np.select([kd <= 1, kd == 2], [A[:, i, j], S[:, i, j]], m[:, i])
        out[:, k] = values * _factors(model, A, S, i, j, kd, kind)
    if not r.definitions and not r.constraints:
        return out
    extra = np.empty((nb, len(r.definitions) + len(r.constraints)))
    cset = constraint_set(model)
    for b in range(nb):
        env = {lab: out[b, k] for lab, k in r.labels.items()}
        values = evaluate_definitions(r.definitions, env)
        env.update(values)
        extra[b, :len(r.definitions)] = [values[name] for name, _ in r.definitions]
        if r.constraints:
            extra[b, len(r.definitions):] = cset.row_values(env)
    return np.concatenate([out, extra], axis=1)


def _factors(model, A, S, i, j, kd, kind) -> np.ndarray:
    """The factor that standardizes the value of each matrix entry (i, j) of kind ``kd``
    (0 loading, 1 regression, 2 (co)variance, 3 intercept), shape (B, len(i)), from stacked
    matrices A and S (B, n, n); see :func:`standardized_values`."""
    p = len(model.observed)
    n = model.n_vars
    E = np.linalg.inv(np.eye(n) - A)
    sd = np.sqrt(np.clip(np.einsum("bij,bij->bi", E @ S, E), 0, None))
    rsd = np.sqrt(np.abs(np.einsum("bii->bi", S)))
    if kind == "std_lv":
        sd[:, :p] = 1.0
    own = sd  # the sd an outcome (or indicator) is divided by
    if kind == "std_nox":  # covariates keep their scale, except as outcomes of a path
        x = [model.observed.index(v) for v in model.exogenous if v in model.observed]
        own = sd.copy()
        sd[:, x] = 1.0
        rsd[:, x] = 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        path = sd[:, j] / own[:, i]
        var = 1.0 / sd[:, i] ** 2
        cov = 1.0 / (rsd[:, i] * rsd[:, j])
        if kind == "std_lv":
            cov = np.where((i < p) & (j < p), 1.0, cov)
        mean = 1.0 / sd[:, i]
    return np.select([kd <= 1, (kd == 2) & (i == j), kd == 2], [path, var, cov], mean)


def entry_factors(model, theta, group, i, j, kd, kind: str = "std_all") -> np.ndarray:
    """Standardization factors of arbitrary matrix entries of a fitted model (entries that
    need not be parameters of it, e.g. candidates of modification indices): a value v of
    entry k standardizes to v * factor[k], with the model's own standard deviations at
    ``theta`` (how lavaan's ``lav_standardize_*`` scale ``sepc.lv``, ``sepc.all`` and
    ``sepc.nox``).

    Parameters
    ----------
    model : CompiledModel
    theta : numpy.ndarray
    group, i, j, kd : numpy.ndarray
        0-based group, matrix row and column, and kind (0 ``=~`` with i the indicator, 1 ``~``
        with i the outcome, 2 ``~~``, 3 ``~1``) of each entry.
    kind : {"std_lv", "std_all", "std_nox"}
    """
    group, i, j, kd = (np.asarray(a, int) for a in (group, i, j, kd))
    out = np.empty(len(i))
    for g in range(model.ngroups):
        k = group == g
        A, S, _ = model.matrices(np.asarray(theta, float), g)
        out[k] = _factors(model, A[None], S[None], i[k], np.maximum(j[k], 0), kd[k], kind)[0]
    return out


def standardized_solution(model, theta, vcov, estimates: pd.DataFrame,
                          fixed_variances=None) -> pd.DataFrame:
    """Columns ``std_lv``, ``std_all``, ``std_nox`` and ``se_std_all`` aligned with the
    estimates table.

    ``se_std_all`` is the delta-method SE sqrt(J V J') with J the central-difference Jacobian
    of the std_all values (all 2q perturbed parameter vectors evaluated in one batch).
    ``fixed_variances``, a function of the perturbed parameter vectors (B, q) returning
    {group: (variable indices, variances (B, k))}, gives fixed variances that are functions
    of the parameters (the residual variances of ordered latent responses in the delta
    parameterization, 1/Delta^2 minus the explained variance), so that J follows them as
    lavaan's ``standardizedSolution`` does.
    """
    std_lv = standardized_values(model, theta, "std_lv")
    std_all = standardized_values(model, theta, "std_all")
    std_nox = standardized_values(model, theta, "std_nox")

    def values(thetas):
        extra = fixed_variances(thetas) if fixed_variances is not None else None
        return _standardized_batch(model, thetas, "std_all", extra)
    jac = central_jacobian(values, theta, h=1e-6, vectorized=True)
    with np.errstate(invalid="ignore"):
        var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
    se = np.sqrt(np.clip(var, 0, None))
    se[np.abs(jac).sum(axis=1) < 1e-12] = 0.0
    return pd.DataFrame({"std_lv": std_lv, "std_all": std_all, "std_nox": std_nox,
                         "se_std_all": se},
                        index=estimates.index)


def r_squared(model, theta) -> dict:
    """R-squared of each endogenous variable: 1 - residual variance / implied variance.

    Matches ``lavInspect(fit, "r2")``: observed indicators and dependent variables and latent
    variables that are regressed or are indicators of a higher-order factor; NaN (lavaan's NA)
    where the residual variance is negative.
    """
    names = model.observed + model.latent
    r = model.rows  # i: the indicator of a =~ row, the outcome of a ~ row
    endo = {names[i] for i in r.i[r.kind <= 1].tolist()}
    out = {}
    for g in range(model.ngroups):
        full, _ = model.implied(theta, g, all_vars=True)
        _, S, _ = model.matrices(theta, g)
        for i, v in enumerate(names):
            if v in endo:
                key = v if model.ngroups == 1 else f"{v}.g{g + 1}"
                r2 = float(1.0 - S[i, i] / full[i, i])
                out[key] = r2 if r2 <= 1.0 else float("nan")  # a negative residual variance
    return out


def heywood_cases(model, theta, estimates: pd.DataFrame) -> list[str]:
    """Negative variances and standardized values beyond one in absolute value."""
    op, lhs, rhs = (estimates[c].to_numpy() for c in ("op", "lhs", "rhs"))
    est, std = (estimates[c].to_numpy(dtype=float) for c in ("est", "std_all"))
    same = lhs == rhs
    with np.errstate(invalid="ignore"):
        negative = (op == "~~") & same & (est < 0)
        beyond = (((op == "=~") | (op == "~~")) & ~same & np.isfinite(std)
                  & (np.abs(std) > 1.0 + 1e-8))
    out = [f"negative variance {lhs[k]} ~~ {rhs[k]} = {est[k]:.3f}"
           for k in np.flatnonzero(negative)]
    out += [f"standardized {lhs[k]} {op[k]} {rhs[k]} = {std[k]:.3f}"
            for k in np.flatnonzero(beyond)]
    return out
