"""Full-information ML (FIML) for incomplete data, as lavaan 0.6.14's ``missing = "ml"``.

The estimator is the casewise normal likelihood of the observed part of every row, with a mean
structure: :class:`riskmodel_sem.sem.objective.MLObjective` on the data split by missing-data
pattern (complete data are its one-pattern case). This module prepares those data and the
unrestricted (h1) model by EM (:mod:`riskmodel_sem.sem.em`), and computes the statistics that
only exist with missing data: the FIML-corrected robust RMSEA/CFI ingredients of Zhang &
Savalei (2023) and lavaan's GFI for ``missing = "ml"``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.linalg import block_diag

from ..errors import ModelError
from .data import compile_source, model_data, split_groups
from .em import em_estimate
from .model import SampleMoments
from .objective import (MLObjective, embedded_inverses, group_data, h1_information, model_delta,
                        moments_group, vech_index)

__all__ = ["prepare_fiml", "fiml_corrected", "gfi_missing"]


def _group_f(model, theta, g, group) -> float:
    """The complete-data ML discrepancy F_g of group g of a model at given sample moments."""
    return float(MLObjective(model, [group] * model.ngroups).group_values(theta)[g])


def fiml_corrected(model, theta, base, theta_b, groups, h1, df, b_df, version,
                    e_inv_model=None, basis=None) -> dict:
    """Zhang & Savalei (2023) FIML-corrected ingredients for the robust RMSEA and CFI.

    Notes
    -----
    X2_3 = N F_ML(model at theta_hat; EM moments) and likewise for the baseline model;
    with W_m the observed information of the saturated model with missing data and W_c the
    complete-data information, both at the EM moments, U = W_m - W_m Delta (Delta' W_m
    Delta)^-1 Delta' W_m, and k = tr(W_c W_m^-1 U W_m^-1) (version V6, ML) or
    k = tr(U W_m^-1 W_c W_m^-1 U Gamma) with Gamma = W_m^-1 J_m W_m^-1 (version V3, MLR);
    c_hat = k / df. Matches ``lav_fit_fiml_corrected`` (lavaan 0.6.14), including its W_c
    from a refit with lavaan's default fixed.x = TRUE: with ``fixed.x = FALSE`` the rows and
    columns of the observed covariates' own moments are zero in W_c.
    With ``==``/``<``/``>`` constraints, ``basis`` is the null space K of the active
    constraints' Jacobian and (Delta' W_m Delta)^-1 becomes K (K' Delta' W_m Delta K)^-1 K'
    (lavaan's augmented ``inverted.information``).

    References
    ----------
    Zhang, X., & Savalei, V. (2023). New computations for RMSEA and CFI following FIML and TS
    estimation with missing data. *Psychological Methods*, 28(2), 263-283.
    https://doi.org/10.1037/met0000445
    """
    total = sum(gd.n for gd in groups)
    x3 = x3b = 0.0
    p = len(model.observed)
    free_x = [model.observed.index(v) for v in model.exogenous if v not in model.ov_x]
    r, c = vech_index(p)
    xmask = np.concatenate([np.isin(np.arange(p), free_x),
                            np.isin(r, free_x) & np.isin(c, free_x)])
    Wm, Wc, Wmi, Gam, D, DB = [], [], [], [], [], []
    for g, gd in enumerate(groups):
        fg = gd.n / total
        s, m = h1.sigma[g], h1.mu[g]
        em_group = moments_group(gd.n, m, s, meanstructure=True)
        x3 += gd.n * _group_f(model, theta, g, em_group)
        x3b += gd.n * _group_f(base, theta_b, g, em_group)
        wm = h1.A1[g]
        keep = h1.keep[g]
        wc = h1_information(s, m, em_group, True, "expected")
        if free_x:  # lavaan refits the model with its default fixed.x = TRUE for W_c
            wc[xmask, :] = 0.0
            wc[:, xmask] = 0.0
        wc = wc[np.ix_(keep, keep)]
        wmi = np.linalg.inv(wm)
        Wm.append(fg * wm)
        Wc.append(fg * wc)
        Wmi.append(wmi / fg)
        Gam.append(wmi @ h1.B1[g] @ wmi / fg)
        D.append(model_delta(model, theta, g, True)[keep])
        DB.append(model_delta(base, theta_b, g, True)[keep])
    Wm, Wc, Wmi, Gam = (block_diag(*x) for x in (Wm, Wc, Wmi, Gam))
    D, DB = np.vstack(D), np.vstack(DB)

    def k_value(delta, basis=None):
        info = delta.T @ Wm @ delta
        if basis is None:
            e_inv = np.linalg.inv(info)
        else:
            e_inv = basis @ np.linalg.inv(basis.T @ info @ basis) @ basis.T
        U = Wm - Wm @ delta @ e_inv @ delta.T @ Wm
        if version == "V3":
            return float(np.trace(U @ Wmi @ Wc @ Wmi @ U @ Gam))
        return float(np.trace(Wc @ Wmi @ U @ Wmi))

    c3 = k_value(D, basis) / df if df > 0 else math.nan
    c3b = k_value(DB) / b_df if b_df > 0 else math.nan
    return {"x3": x3, "c3": c3, "x3_null": x3b, "c3_null": c3b}


def _expected_quadratic(E, e_mu, sigma, gd) -> float:
    """x' W x for x = (e_mu, vech E) and W the pattern-wise expected information at sigma:
    sum_p (n_p/n) [1/2 tr(S_oo^-1 E_oo S_oo^-1 E_oo) + e_mu,o' S_oo^-1 e_mu,o]."""
    out = 0.0
    for b, J, _ in embedded_inverses(sigma, np.zeros(len(e_mu)), gd):
        X = J @ E
        quad = 0.5 * np.einsum("pij,pji->p", X, X) + np.einsum("i,pij,j->p", e_mu, J, e_mu)
        out += (b.n / gd.n) @ quad
    return float(out)


def gfi_missing(model, theta, groups, df) -> dict:
    """LISREL GFI, AGFI and PGFI of a FIML fit, as lavaan 0.6.14 computes them.

    Notes
    -----
    GFI = 1 - e'We / s'Ws per group (weighted by n_g), where s holds lavaan's ``WLS.obs`` for
    ``missing = "ml"``: the means of the observed values and the pairwise-complete covariance
    matrix (divisor n_ij - 1) rescaled by (n - 1)/n; e = s - (mu, vech Sigma) of the model; and
    W is the pattern-wise expected information of the saturated model at the model-implied
    moments (``lav_model_h1_information_expected``), with the rows and columns of fixed.x
    covariates' own moments set to zero. AGFI = 1 - (nel/df)(1 - GFI),
    PGFI = (df/nel) GFI. Matches ``lav_fit_gfi_lavobject``.
    """
    vals, weights = [], []
    nel = 0
    for g, gd in enumerate(groups):
        sigma, mu = model.implied(theta, g)
        frame = pd.DataFrame(gd.values)
        cov = frame.cov().to_numpy() * (gd.n - 1) / gd.n
        mean = np.nanmean(gd.values, axis=0)
        e_cov, e_mean = cov - sigma, mean - mu
        x = [model.observed.index(v) for v in model.ov_x]  # fixed.x moments drop out
        for c_, m_ in ((cov, mean), (e_cov, e_mean)):
            c_[np.ix_(x, x)] = 0.0
            m_[x] = 0.0
        s_quad = _expected_quadratic(cov, mean, sigma, gd)
        e_quad = _expected_quadratic(e_cov, e_mean, sigma, gd)
        p = len(mu)
        nel += p * (p + 1) // 2 + p
        vals.append(1.0 - e_quad / s_quad)
        weights.append(gd.n)
    gfi = float(np.dot(weights, vals) / sum(weights))
    return {"gfi": gfi, "agfi": 1 - (nel / df) * (1 - gfi) if df > 0 else 1.0,
            "pgfi": (df / nel) * gfi if nel else math.nan}


def prepare_fiml(syntax, data, group, group_equal, source, fixed_x=True, orthogonal=False,
                 std_lv=False, group_partial=()):
    """Rows with at least one observed model variable, split by group and pattern; the EM
    moments of every group; the model compiled with a mean structure."""
    ov_x, observed, values, group_values = model_data(syntax, data, group, source)
    keep = ~np.isnan(values).all(axis=1)
    notes = []
    dropped = int((~keep).sum())
    if dropped:
        notes.append(f"{source}: {dropped} row(s) with no answer on any model variable were "
                     "left out (lavaan does the same).")
    x_idx = [observed.index(v) for v in ov_x if v in observed] if fixed_x else []
    if x_idx:
        bad = keep & np.isnan(values[:, x_idx]).any(axis=1)
        if bad.any():
            notes.append(f"{source}: {int(bad.sum())} row(s) with missing values on the "
                         "exogenous covariate(s) were left out (fixed.x, as lavaan does).")
            keep &= ~bad
    labels, groups_idx = split_groups(keep, group_values)
    groups, moments, h1 = [], [], []
    for idx in groups_idx:
        vals = values[idx]
        if len(idx) < 2:
            raise ModelError(f"{source}: only {len(idx)} usable row(s)"
                             f"{' in a group' if group else ''}; the model needs more rows.")
        counts = (~np.isnan(vals)).sum(axis=0)
        if (counts < 2).any():
            empty = [observed[i] for i in np.flatnonzero(counts < 2)]
            raise ModelError(f"{source}: variable(s) {', '.join(empty)} have fewer than two "
                             "observed values.")
        seen = (~np.isnan(vals)).astype(float)
        together = seen.T @ seen  # rows answering both of each pair (lavaan's coverage x n)
        never = [(observed[i], observed[j]) for i, j in zip(*np.nonzero(np.triu(together == 0)))]
        if never:
            pairs = "; ".join(f"{a} and {b}" for a, b in never[:3])
            more = f" (and {len(never) - 3} more pairs)" if len(never) > 3 else ""
            raise ModelError(f"{source}: no row{' of a group' if group else ''} answers both "
                             f"{pairs}{more} (0% coverage), so FIML cannot estimate their "
                             "covariance; collect answers to both or use --missing listwise.")
        em = em_estimate(vals)
        mu, sigma, logl = em.mean, em.cov, em.loglik
        if not em.converged:
            notes.append(f"{source}: the EM algorithm for the unrestricted model did not "
                         "converge; the chi-square test is approximate.")
        sd = np.sqrt(np.diag(sigma))
        if np.linalg.eigvalsh(sigma / np.outer(sd, sd)).min() <= 1e-10:  # scale-free
            raise ModelError(f"{source}: the EM estimate of the covariance matrix is not "
                             "positive definite; some items may be collinear or too sparse.")
        gd = group_data(vals, logl_h1=logl)
        groups.append(gd)
        moments.append(SampleMoments(n=len(idx), mean=mu, cov=sigma,
                                     patterns=tuple((pt.obs, pt.n, pt.mean, pt.cov)
                                                    for pt in gd.patterns),
                                     complete=gd.complete))
        h1.append((sigma, mu, logl))
    model = compile_source(syntax, observed, meanstructure=True, ngroups=len(groups),
                           group_equal=group_equal, group_partial=group_partial,
                           moments=moments, source=source,
                           fixed_x=fixed_x, orthogonal=orthogonal, std_lv=std_lv)
    return model, moments, groups, h1, labels, notes
