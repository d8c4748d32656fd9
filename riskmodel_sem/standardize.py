"""Standardized solutions, R-squared and Heywood checks from a fitted parameter vector.

``std_lv`` rescales latent variables to unit variance, ``std_all`` rescales every variable by
its model-implied standard deviation, as lavaan's ``standardizedSolution`` /
``parameterEstimates(standardized = TRUE)`` do. Standard errors of ``std_all`` come from the
delta method with a numerical Jacobian of the standardization (lavaan's
``standardizedSolution(type = "std.all")`` column ``se``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .defined import evaluate_definitions

__all__ = ["standardized_values", "standardized_solution", "r_squared", "heywood_cases"]


def _scales(model, theta, group):
    full, _ = model.implied(theta, group, all_vars=True)
    sd = np.sqrt(np.clip(np.diag(full), 0, None))
    p = len(model.observed)
    sd_lv = sd.copy()
    sd_lv[:p] = 1.0
    return sd_lv, sd


def standardized_values(model, theta, kind: str = "std_all") -> np.ndarray:
    """Standardized value of every model row (in parameter-table order, ``:=`` included)."""
    pt = model.partable
    idx = {v: i for i, v in enumerate(model.observed + model.latent)}
    rows = pt[pt["op"].isin(["=~", "~", "~~", "~1"])]
    out = np.empty(len(rows))
    cache = {}
    for k, r in enumerate(rows.itertuples()):
        g = r.group - 1
        if g not in cache:
            A, S, m = model.matrices(theta, g)
            sd_lv, sd_all = _scales(model, theta, g)
            cache[g] = (A, S, m, sd_lv if kind == "std_lv" else sd_all)
        A, S, m, sd = cache[g]
        if r.op == "=~":
            i, j = idx[r.rhs], idx[r.lhs]
            out[k] = A[i, j] * sd[j] / sd[i]
        elif r.op == "~":
            i, j = idx[r.lhs], idx[r.rhs]
            out[k] = A[i, j] * sd[j] / sd[i]
        elif r.op == "~~":
            i, j = idx[r.lhs], idx[r.rhs]
            if i == j:
                out[k] = S[i, i] / sd[i] ** 2
            elif kind == "std_lv" and i < len(model.observed) and j < len(model.observed):
                out[k] = S[i, j]  # observed variables keep their scale in std.lv
            else:
                # lavaan: covariances between residuals are standardized by residual SDs
                out[k] = S[i, j] / np.sqrt(S[i, i] * S[j, j]) if S[i, i] * S[j, j] > 0 else np.nan
        else:
            i = idx[r.lhs]
            out[k] = m[i] / sd[i]
    # defined parameters on the standardized scale
    values = {}
    for r, v in zip(rows.itertuples(), out):
        if r.label:
            values.setdefault(r.label, v)
    defined = evaluate_definitions(pt, values)
    return np.concatenate([out, [defined[n] for n in pt.loc[pt["op"] == ":=", "lhs"]]])


def standardized_solution(model, theta, vcov, estimates: pd.DataFrame) -> pd.DataFrame:
    """Columns ``std_lv``, ``std_all`` and ``se_std_all`` aligned with the estimates table."""
    std_lv = standardized_values(model, theta, "std_lv")
    std_all = standardized_values(model, theta, "std_all")
    q = model.n_free
    jac = np.zeros((len(std_all), q))
    for k in range(q):
        h = 1e-6 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        jac[:, k] = (standardized_values(model, up) - standardized_values(model, down)) / (2 * h)
    with np.errstate(invalid="ignore"):
        var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
    se = np.sqrt(np.clip(var, 0, None))
    se[np.abs(jac).sum(axis=1) < 1e-12] = 0.0
    return pd.DataFrame({"std_lv": std_lv, "std_all": std_all, "se_std_all": se},
                        index=estimates.index)


def r_squared(model, theta) -> dict:
    """R-squared of each endogenous variable: 1 - residual variance / implied variance.

    Matches ``lavInspect(fit, "r2")``: observed indicators and dependent variables and latent
    variables that are regressed or are indicators of a higher-order factor.
    """
    pt = model.partable
    endo = set(pt.loc[pt["op"] == "=~", "rhs"]) | set(pt.loc[pt["op"] == "~", "lhs"])
    names = model.observed + model.latent
    out = {}
    for g in range(model.ngroups):
        full, _ = model.implied(theta, g, all_vars=True)
        _, S, _ = model.matrices(theta, g)
        for i, v in enumerate(names):
            if v in endo:
                key = v if model.ngroups == 1 else f"{v}.g{g + 1}"
                out[key] = float(1.0 - S[i, i] / full[i, i])
    return out


def heywood_cases(model, theta, estimates: pd.DataFrame) -> list[str]:
    """Negative variances and standardized values beyond one in absolute value."""
    out = []
    var = estimates[(estimates["op"] == "~~") & (estimates["lhs"] == estimates["rhs"])]
    for r in var.itertuples():
        if r.est < 0:
            out.append(f"negative variance {r.lhs} ~~ {r.rhs} = {r.est:.3f}")
    cov = estimates[(estimates["op"].isin(["=~", "~~"])) & (estimates["lhs"] != estimates["rhs"])]
    for r in cov.itertuples():
        if np.isfinite(r.std_all) and abs(r.std_all) > 1.0 + 1e-8:
            out.append(f"standardized {r.lhs} {r.op} {r.rhs} = {r.std_all:.3f}")
    return out
