"""Robust (MLR) standard errors and test statistics, as lavaan 0.6.14 computes them.

- Huber-White sandwich standard errors ``vcov = A^-1 B A^-1 / N`` with ``A`` the observed
  information (unit Hessian of -logl/N) and ``B`` the cross-product of the casewise scores
  (lavaan ``se = "robust.huber.white"``, ``information = "observed"``);
- the Yuan-Bentler test in its Mplus variant (``test = "yuan.bentler.mplus"``) and the
  scaled and robust CFI/TLI/RMSEA built from it.

Everything is written in terms of the saturated ("h1") parameters ``(mu, vech Sigma)`` of each
group: the observed and first-order information of the saturated model with (or without)
missing data, from :mod:`riskmodel_sem.sem.objective`. The estimator itself (complete data or
FIML) lives in :mod:`riskmodel_sem.sem.estimation` and :mod:`riskmodel_sem.sem.fiml`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .distributions import chi2_sf, ncx2_cdf, ncx2_sf
from .fitmeasures import incremental_indices, rmsea_measures
from .objective import h1_information, h1_scores, vech_index

__all__ = ["H1Information", "h1_quantities", "sandwich", "yuan_bentler_mplus",
           "scaled_measures", "robust_rmsea"]


@dataclass(frozen=True)
class H1Information:
    """Unrestricted moments and information of every group (h1.information unstructured)."""

    sigma: tuple
    mu: tuple
    A1: tuple        # observed information of the saturated model (unit, per group)
    B1: tuple        # first-order information of the saturated model (unit, per group)
    ndat: int
    keep: tuple      # per group: saturated parameters kept (fixed.x moments removed)


def sandwich(objective, theta):
    """Huber-White sandwich of an ML fit.

    Returns
    -------
    vcov : numpy.ndarray
        A^-1 B A^-1 / N with A the unit observed information and B the mean cross-product of
        the casewise scores.
    a_inv : numpy.ndarray
        A^-1 (NaN when A is singular).
    b : numpy.ndarray
        B.

    Notes
    -----
    Matches lavaan's ``lav_model_nvcov_robust_sandwich`` with ``information = "observed"``.
    """
    A = objective.observed_information(theta)
    try:
        a_inv = np.linalg.inv(A)
    except np.linalg.LinAlgError:
        a_inv = np.full_like(A, np.nan)
    sc = objective.scores(theta)
    b = sc.T @ sc / objective.n
    return a_inv @ b @ a_inv / objective.n, a_inv, b


def _h1_keep(p, x_idx, with_mean) -> np.ndarray:
    """Saturated parameters that are not moments among fixed.x covariates (lavaan zeroes
    those rows of the h1 information and leaves them out of ndat)."""
    r, c = vech_index(p)
    xs = np.zeros(p, bool)
    xs[list(x_idx)] = True
    keep_cov = ~(xs[r] & xs[c])
    return np.concatenate([~xs, keep_cov]) if with_mean else keep_cov


def h1_quantities(groups, h1_moments, x_idx=()) -> H1Information:
    A1, B1, keeps = [], [], []
    ndat = 0
    for gd, (sigma, mu) in zip(groups, h1_moments):
        with_mean = gd.fixed_mean is None
        mu_eval = gd.fixed_mean if not with_mean else mu
        keep = _h1_keep(len(mu), x_idx, with_mean)
        a1 = h1_information(sigma, mu_eval, gd, with_mean, "observed")
        sc = h1_scores(sigma, mu_eval, gd, with_mean)[:, keep]
        A1.append(a1[np.ix_(keep, keep)])
        B1.append(sc.T @ sc / gd.n)
        keeps.append(keep)
        ndat += int(keep.sum())
    return H1Information(tuple(s for s, _ in h1_moments), tuple(m for _, m in h1_moments),
                         tuple(A1), tuple(B1), ndat, tuple(keeps))


def yuan_bentler_mplus(chisq, df, h1: H1Information, e_inv, b0, npar) -> dict:
    """Yuan-Bentler scaling factor, Mplus variant (lavaan's ``test = "yuan.bentler.mplus"``).

    Parameters
    ----------
    chisq, df : float
        The unscaled likelihood-ratio statistic and its degrees of freedom.
    h1 : H1Information
        Observed (A1) and first-order (B1) unit information of the saturated model per group,
        at the unrestricted estimates.
    e_inv : numpy.ndarray
        Inverse of the model's unit observed information.
    b0 : numpy.ndarray
        The model's unit first-order information (mean casewise score cross-product).
    npar : int
        lavaan's ``nx.free``: free rows of the parameter table, each parameter held equal to
        another counted separately.

    Returns
    -------
    dict
        ``scaling`` (c), ``chisq_scaled`` = chisq / c, ``pvalue_scaled``, ``trace`` (tr(U Gamma)),
        ``scaling_h1`` and ``scaling_h0``.

    Notes
    -----
    tr(U Gamma) = sum_g tr(B1_g A1_g^-1) - tr(B0 E^-1), c = tr(U Gamma) / df,
    scaling.factor.h1 = sum_g tr(B1_g A1_g^-1) / ndat, scaling.factor.h0 = tr(B0 E^-1) / npar.
    Matches ``lav_test_yuan_bentler_mplus_trace`` (lavaan 0.6.14).

    References
    ----------
    Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and covariance
    structure analysis with nonnormal missing data. *Sociological Methodology*, 30, 165-200.
    https://doi.org/10.1111/0081-1750.00078
    """
    trace_h1 = sum(float(np.sum(b * np.linalg.inv(a).T)) for a, b in zip(h1.A1, h1.B1))
    trace_h0 = float(np.sum(b0 * e_inv.T))
    trace = trace_h1 - trace_h0
    out = {"trace": trace, "scaling_h1": trace_h1 / h1.ndat, "scaling_h0": trace_h0 / npar}
    if df > 0:
        c = trace / df
        out["scaling"] = c if c > 0 else math.nan
        out["chisq_scaled"] = chisq / out["scaling"]
        out["pvalue_scaled"] = float(chi2_sf(out["chisq_scaled"], df))
    else:
        out.update(scaling=math.nan, chisq_scaled=math.nan, pvalue_scaled=math.nan)
    return out


def scaled_measures(chisq, df, n, G, yb, b_chisq, b_df, yb_base) -> dict:
    """lavaan's ``*.scaled`` and ``*.robust`` measures for a Yuan-Bentler-scaled test."""
    c, cb = yb["scaling"], yb_base["scaling"]
    x2s, bx2s = yb["chisq_scaled"], yb_base["chisq_scaled"]
    out = {
        "chisq_scaled": x2s, "df_scaled": df, "pvalue_scaled": yb["pvalue_scaled"],
        "chisq_scaling_factor": c,
        "baseline_chisq_scaled": bx2s, "baseline_df_scaled": b_df,
        "baseline_pvalue_scaled": yb_base["pvalue_scaled"],
        "baseline_chisq_scaling_factor": cb,
        "scaling_factor_h1": yb["scaling_h1"], "scaling_factor_h0": yb["scaling_h0"],
    }
    inc = incremental_indices(x2s, df, bx2s, b_df)
    for k in ("cfi", "tli", "nnfi", "rfi", "nfi", "pnfi", "ifi", "rni"):
        out[f"{k}_scaled"] = inc[k]
    rob = incremental_indices(chisq, df, b_chisq, b_df, c, cb)
    out.update({f"{k}_robust": v for k, v in rob.items()})
    # "scaled" RMSEA: the unscaled statistic on tr(U Gamma) degrees of freedom
    sc = rmsea_measures(chisq, yb["trace"], n, G)
    for k in ("rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue",
              "rmsea_notclose_pvalue"):
        out[f"{k}_scaled"] = sc[k]
    out.update(robust_rmsea(chisq, df, n, G, c))
    return out


def robust_rmsea(x2, df, n, G, c) -> dict:
    """Robust RMSEA sqrt(max(X2/(N df) - c/N, 0)) sqrt(G) with its CI and close-fit tests
    computed from X2/c with the noncentrality multiplied by c (``lav_fit_rmsea_lavobject``)."""
    out = {}
    if not (math.isfinite(c) and df > 0):
        return {k: math.nan for k in ("rmsea_robust", "rmsea_ci_lower_robust",
                                      "rmsea_ci_upper_robust", "rmsea_pvalue_robust",
                                      "rmsea_notclose_pvalue_robust")}
    out["rmsea_robust"] = math.sqrt(max(x2 / (n * df) - c / n, 0.0)) * math.sqrt(G)
    rm = rmsea_measures(x2 / c, df, n, G)
    out["rmsea_ci_lower_robust"] = rm["rmsea_ci_lower"] * math.sqrt(c)
    out["rmsea_ci_upper_robust"] = rm["rmsea_ci_upper"] * math.sqrt(c)
    # close-fit tests: ncp = N df h0^2 / (c G)
    for key, h0, upper in (("rmsea_pvalue_robust", 0.05, True),
                           ("rmsea_notclose_pvalue_robust", 0.08, False)):
        ncp = n * df * h0 ** 2 / (c * G)
        out[key] = float(ncx2_sf(x2 / c, df, ncp) if upper
                         else ncx2_cdf(x2 / c, df, ncp))
    return out
