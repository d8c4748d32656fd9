"""Fit measures and modification indices, named and computed as lavaan 0.6.14 does.

Formulas (X2 the test statistic, df its degrees of freedom, B the baseline (independence)
model's statistic and df, N the total sample size, G the number of groups):

- CFI = 1 - max(X2 - df, 0) / max(X2 - df, B - dfB, 0) (Bentler 1990; ``lav_fit_cfi.R``)
- TLI = (B/dfB - X2/df) / (B/dfB - 1); NFI = (B - X2)/B; IFI = (B - X2)/(B - df);
  RNI = 1 - (X2 - df)/(B - dfB); RFI = (B/dfB - X2/df)/(B/dfB)
- RMSEA = sqrt(G) sqrt(max(X2 - df, 0) / (N df)) with a 90% CI from the noncentral chi-square
  and p-close = P(X2 >= x | ncp = N df .05^2 / G) (``lav_fit_rmsea.R``)
- SRMR (Bentler) = sqrt(mean of ((s_ij - sigma_ij) / sqrt(s_ii s_jj))^2) over i >= j
- logl, AIC = -2 logl + 2 npar, BIC = -2 logl + npar log N, BIC2 with (N + 2) / 24
- GFI = 1 - e'We / s'Ws with the normal-theory weight matrix, AGFI, PGFI (LISREL)
- with fixed.x covariates, logl and the information criteria conditional on them
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .distributions import chi2_cdf, chi2_ppf, chi2_sf, ncx2_cdf, ncx2_sf
from .model import compile_partable
from .objective import MLObjective, h1_information, model_delta, moments_group, vech_index
from .optimize import brentq

__all__ = ["fit_measures", "incremental_indices", "rmsea_measures", "modification_indices",
           "hoelter_cn",
           "score_test", "candidates", "n_moments", "baseline_model",
           "baseline_estimates", "baseline_statistic", "loglik_x"]

_LOG2PI = math.log(2.0 * math.pi)


def n_moments(model) -> int:
    """Number of sample moments lavaan counts (``ndat``): per group p(p+1)/2 [+ p] minus the
    moments of the fixed.x covariates."""
    p = len(model.observed)
    nx = len(model.ov_x)
    per_group = p * (p + 1) // 2 - nx * (nx + 1) // 2
    if model.meanstructure:
        per_group += p - nx
    return model.ngroups * per_group


def baseline_model(model, moments):
    """lavaan's baseline (independence) model as a compiled model: per group free variances
    (and means, with a mean structure) of the non-covariates; the observed exogenous
    covariates keep their sample moments under fixed.x and are saturated (free variances,
    covariances and means) otherwise (``lav_partable_independence``).

    Parameters
    ----------
    model : CompiledModel
    moments : list of SampleMoments
        Per group; the fixed.x covariates' moments are fixed at these values.

    Returns
    -------
    CompiledModel
        Free parameters per group: the variances, then the means of the other variables, then
        the covariates' free (co)variances and means (see :func:`baseline_estimates`).
    """
    observed = model.observed
    x = [v for v in observed if v in model.exogenous or v in model.ov_x]
    fixed = set(model.ov_x)
    y = [v for v in observed if v not in x]
    rows = []
    free = 0
    for g in range(1, model.ngroups + 1):
        for v in y:
            free += 1
            rows.append((v, "~~", v, g, free, np.nan, 0))
        if model.meanstructure:
            for v in y:
                free += 1
                rows.append((v, "~1", "", g, free, np.nan, 0))
        for i, a in enumerate(x):
            for b in x[i:]:
                exo = int(a in fixed)
                free += 1 - exo
                rows.append((a, "~~", b, g, 0 if exo else free, np.nan, exo))
        if model.meanstructure:
            for a in x:
                exo = int(a in fixed)
                free += 1 - exo
                rows.append((a, "~1", "", g, 0 if exo else free, np.nan, exo))
    pt = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "group", "free", "ustart", "exo"])
    pt["user"] = 0
    pt["label"] = ""
    pt["start"] = None
    return compile_partable(pt, observed, (), ngroups=model.ngroups,
                            meanstructure=model.meanstructure, moments=moments,
                            ov_x=tuple(v for v in x if v in fixed),
                            exogenous=tuple(x), source="baseline")


def baseline_estimates(base, values_by_group) -> np.ndarray:
    """Closed-form ML estimates of :func:`baseline_model`: per variable the mean and the
    variance (divisor n) of its observed values (the likelihood factorizes over variables);
    for free covariates their joint mean and covariance (by EM when values are missing)."""
    x = [i for i, v in enumerate(base.observed) if v in base.exogenous]
    y = [i for i, v in enumerate(base.observed) if i not in x]
    free_x = [i for i in x if base.observed[i] not in base.ov_x]
    theta = []
    for vals in values_by_group:
        theta.append(np.nanvar(vals[:, y], axis=0))
        if base.meanstructure:
            theta.append(np.nanmean(vals[:, y], axis=0))
        if free_x:
            from .em import em_estimate  # free covariates only

            xv = vals[:, free_x]
            xv = xv[~np.isnan(xv).all(axis=1)]
            em = em_estimate(xv)
            theta.append(_lower_by_column(em.cov))
            if base.meanstructure:
                theta.append(em.mean)
    return np.concatenate(theta)


def _lower_by_column(cov) -> np.ndarray:
    """Entries (i, j), j >= i, in the order ``for i: for j >= i`` (the baseline's rows)."""
    k = cov.shape[0]
    return np.array([cov[i, j] for i in range(k) for j in range(i, k)])


def baseline_statistic(model, moments) -> tuple[float, int]:
    """Chi-square and df of lavaan's independence model with complete data: N F at the
    closed-form estimates, which is sum_g n_g (sum_y log s_yy + log|S_xx| - log|S|)."""
    base = baseline_model(model, moments)
    x = [i for i, v in enumerate(base.observed) if v in base.exogenous]
    y = [i for i, v in enumerate(base.observed) if i not in x]
    free_x = [i for i in x if base.observed[i] not in base.ov_x]
    parts = []
    for m in moments:
        parts.append(np.diag(m.cov)[y])
        if model.meanstructure:
            parts.append(m.mean[y])
        if free_x:
            parts.append(_lower_by_column(m.cov[np.ix_(free_x, free_x)]))
            if model.meanstructure:
                parts.append(m.mean[free_x])
    theta = np.concatenate(parts)
    groups = [moments_group(m.n, m.mean, m.cov, meanstructure=model.meanstructure)
              for m in moments]
    n = sum(m.n for m in moments)
    chisq = n * MLObjective(base, groups).value(theta)
    return float(chisq), int(n_moments(model) - base.n_free)


def incremental_indices(chisq, df, b_chisq, b_df, c: float = 1.0, c_b: float = 1.0) -> dict:
    """CFI, TLI/NNFI and RNI (and, unscaled, RFI, NFI, PNFI, IFI) of a model against the
    baseline model.

    Parameters
    ----------
    chisq, df : float
        Test statistic of the model and its degrees of freedom.
    b_chisq, b_df : float
        The same for the baseline model.
    c, c_b : float
        Scaling factors of the two statistics (``c.hat``); 1 for the standard indices, the
        Yuan-Bentler factors for the robust ones (then RFI, NFI, PNFI and IFI are not given).

    Returns
    -------
    dict
        ``cfi``, ``tli``, ``nnfi``, ``rni`` (+ ``rfi``, ``nfi``, ``pnfi``, ``ifi`` when
        c = c_b = 1).

    Notes
    -----
    With t1 = X2 - c df and t2 = X2_B - c_B df_B: CFI = 1 - max(t1, 0) / max(t1, t2, 0) (1 when
    both are zero), TLI = 1 - (t1 df_B) / (t2 df), RNI = 1 - t1 / t2. c = 1 gives Bentler's
    (1990) CFI and Tucker-Lewis; the scaling factors give the robust CFI/TLI of
    Brosseau-Liard & Savalei (2014, eq. 15). NFI = (X2_B - X2) / X2_B, PNFI = (df / df_B) NFI,
    IFI = (X2_B - X2) / (X2_B - df), RFI = (X2_B/df_B - X2/df) / (X2_B/df_B). lavaan's edge
    rules are kept: at df = 0 CFI, TLI, NFI and RFI are 1; RFI is 1 when its numerator is
    negative, IFI when X2_B < df; RFI and NFI are NaN when df > df_B; RNI is NaN when
    t2 = 0; scaling applies only when df > 0 and both factors differ from 1. Matches
    ``lav_fit_cfi``, ``lav_fit_tli``, ``lav_fit_rni`` and ``lav_fit_nfi`` etc. of lavaan
    0.6.14 (``lav_fit_cfi.R``).

    References
    ----------
    Bentler, P. M. (1990). Comparative fit indexes in structural models. *Psychological
    Bulletin*, 107(2), 238-246. https://doi.org/10.1037/0033-2909.107.2.238

    Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for
    nonnormality. *Multivariate Behavioral Research*, 49(5), 460-470.
    https://doi.org/10.1080/00273171.2014.933697
    """
    unscaled = c == 1.0 and c_b == 1.0
    if not all(math.isfinite(v) for v in (chisq, df, b_chisq, b_df, c, c_b)):
        nan = {k: math.nan for k in ("cfi", "tli", "nnfi", "rni")}
        if unscaled:
            nan.update(rfi=math.nan, nfi=math.nan, pnfi=math.nan, ifi=math.nan)
        return nan
    if not (df > 0 and c != 1.0 and c_b != 1.0):
        c = c_b = 1.0  # lavaan scales only when both factors differ from one and df > 0
    t1, t2 = chisq - c * df, b_chisq - c_b * b_df
    a, b = max(t1, 0.0), max(t1, t2, 0.0)
    cfi = 1.0 if _all_equal_zero(a) and _all_equal_zero(b) else 1.0 - a / b
    if df > 0 and abs(t2 * df) > 0:
        tli = 1.0 - (t1 * b_df) / (t2 * df)
    else:
        tli = 1.0
    rni = math.nan if _all_equal_zero(t2) else 1.0 - t1 / t2
    out = {"cfi": cfi, "tli": tli, "nnfi": tli, "rni": rni}
    if unscaled:
        if df > b_df:
            rfi = math.nan
        elif df > 0 and b_df > 0:
            r1, r2 = b_chisq / b_df - chisq / df, b_chisq / b_df
            rfi = 1.0 if (r1 < 0 or r2 < 0) else r1 / r2
        else:
            rfi = 1.0
        if df > b_df or _all_equal_zero(b_chisq):
            nfi = math.nan
        else:
            nfi = (b_chisq - chisq) / b_chisq if df > 0 else 1.0
        pnfi = ((df / b_df) * (b_chisq - chisq) / b_chisq if b_df > 0 and b_chisq > 0
                else math.nan)
        i2 = b_chisq - df
        ifi = 1.0 if i2 < 0 else math.nan if _all_equal_zero(i2) else (b_chisq - chisq) / i2
        out.update(rfi=rfi, nfi=nfi, pnfi=pnfi, ifi=ifi)
    return out


def _all_equal_zero(x: float) -> bool:
    """R's ``isTRUE(all.equal(x, 0))``: an absolute difference below 1.5e-8."""
    return abs(x) < 1.5e-8


def _ncp_root(chisq, df, target, upper):
    fun = lambda lam: ncx2_cdf(chisq, df, lam) - target if lam > 0 else \
        chi2_cdf(chisq, df) - target
    return brentq(fun, 0.0, upper, xtol=1e-12, rtol=1e-12)


def rmsea_measures(chisq, df, n, ngroups=1, level=0.90, close=0.05, notclose=0.08) -> dict:
    """RMSEA, its confidence interval and the tests of close and not-close fit.

    Notes
    -----
    Matches ``lav_fit_rmsea``, ``lav_fit_rmsea_ci`` and ``lav_fit_rmsea_closefit`` of lavaan
    0.6.14: the noncentrality is divided by N (not N - 1) and multiplied by G; both bounds of
    the interval are 0 when df < 1 (a scaled RMSEA's df, tr(U Gamma), can be).
    """
    out = {"rmsea": math.nan, "rmsea_ci_lower": math.nan, "rmsea_ci_upper": math.nan,
           "rmsea_ci_level": level, "rmsea_pvalue": math.nan, "rmsea_close_h0": close,
           "rmsea_notclose_pvalue": math.nan, "rmsea_notclose_h0": notclose}
    if not (df > 0 and math.isfinite(chisq)):
        if df == 0:
            out.update(rmsea=0.0, rmsea_ci_lower=0.0, rmsea_ci_upper=0.0)
        return out
    g = math.sqrt(ngroups)
    out["rmsea"] = g * math.sqrt(max(chisq - df, 0.0) / (n * df))
    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2
    if df < 1 or chi2_cdf(chisq, df) < upper_p:
        lo = 0.0
    else:
        lo = _ncp_root(chisq, df, upper_p, max(chisq, 1.0) * 4)
    out["rmsea_ci_lower"] = g * math.sqrt(lo / (n * df))
    n_upper = max(n, chisq * 4)
    if df < 1 or ncx2_cdf(chisq, df, n_upper) > lower_p or chi2_cdf(chisq, df) < lower_p:
        hi = 0.0
    else:
        hi = _ncp_root(chisq, df, lower_p, n_upper)
    out["rmsea_ci_upper"] = g * math.sqrt(hi / (n * df))
    ncp_close = n * df * close ** 2 / ngroups
    out["rmsea_pvalue"] = float(ncx2_sf(chisq, df, ncp_close))
    ncp_not = n * df * notclose ** 2 / ngroups
    out["rmsea_notclose_pvalue"] = float(ncx2_cdf(chisq, df, ncp_not))
    return out


def _residual_measures(model, moments, theta) -> dict:
    """RMR, SRMR (Bentler and Mplus versions) and CRMR, with and without means."""
    p = len(model.observed)
    low = np.tril_indices(p)
    off = np.tril_indices(p, -1)
    acc = {k: [] for k in ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr",
                           "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean")}
    weights = []
    for g, mom in enumerate(moments):
        sigma, mu = model.implied(theta, g)
        s = mom.cov
        sd_s = np.sqrt(np.diag(s))
        sd_m = np.sqrt(np.diag(sigma))
        res = s - sigma
        std_res = res / np.outer(sd_s, sd_s)
        cor_res = s / np.outer(sd_s, sd_s) - sigma / np.outer(sd_m, sd_m)
        mean_res = mom.mean - mu
        rmr2 = np.sum(res[low] ** 2)
        bent2 = np.sum(std_res[low] ** 2)
        crmr2 = np.sum(cor_res[off] ** 2)
        mplus_diag = ((np.diag(s) - np.diag(sigma)) / np.diag(s)) ** 2
        mplus2 = crmr2 + np.sum(mplus_diag)
        nel, noff = len(low[0]), len(off[0])
        if model.meanstructure:
            mm = np.sum(mean_res ** 2)
            mstd = np.sum((mean_res / sd_s) ** 2)
            mmplus = np.sum((mom.mean / sd_s - mu / sd_m) ** 2)
            acc["rmr"].append(math.sqrt((rmr2 + mm) / (nel + p)))
            acc["srmr_bentler"].append(math.sqrt((bent2 + mstd) / (nel + p)))
            acc["crmr"].append(math.sqrt((crmr2 + mstd) / (noff + p)))
            acc["srmr_mplus"].append(math.sqrt((mplus2 + mmplus) / (nel + p)))
        else:
            acc["rmr"].append(math.sqrt(rmr2 / nel))
            acc["srmr_bentler"].append(math.sqrt(bent2 / nel))
            acc["crmr"].append(math.sqrt(crmr2 / noff) if noff else 0.0)
            acc["srmr_mplus"].append(math.sqrt(mplus2 / nel))
        acc["rmr_nomean"].append(math.sqrt(rmr2 / nel))
        acc["srmr_bentler_nomean"].append(math.sqrt(bent2 / nel))
        acc["crmr_nomean"].append(math.sqrt(crmr2 / noff) if noff else 0.0)
        acc["srmr_mplus_nomean"].append(math.sqrt(mplus2 / nel))
        weights.append(mom.n)
    w = np.asarray(weights, float) / sum(weights)
    out = {k: float(np.dot(w, v)) for k, v in acc.items()}
    out["srmr"] = out["srmr_bentler"]
    return out


def _gfi(model, moments, theta) -> float:
    """LISREL GFI, 1 - e'We / s'Ws, with the normal-theory weight matrix at the implied
    covariance (lavaan's ``WLS.V`` for ML).

    With fixed.x covariates, W has the rows and columns of the covariates' own moments (their
    means and the x-by-x block of vech) set to zero, as ``lav_mvnorm_information_expected(x.idx
    = ...)`` does; so those moments drop out of both quadratic forms."""
    vals, weights = [], []
    x = _x_index(model)
    for g, mom in enumerate(moments):
        sigma, mu = model.implied(theta, g)
        winv = np.linalg.inv(sigma)
        e, s = mom.cov - sigma, mom.cov.copy()
        e[np.ix_(x, x)] = 0.0
        s[np.ix_(x, x)] = 0.0
        t1 = 0.5 * np.trace(winv @ e @ winv @ e)
        t2 = 0.5 * np.trace(winv @ s @ winv @ s)
        if model.meanstructure:
            d, m = mom.mean - mu, mom.mean.copy()
            d[x] = 0.0
            m[x] = 0.0
            t1 += d @ winv @ d
            t2 += m @ winv @ m
        vals.append(1.0 - t1 / t2)
        weights.append(mom.n)
    return float(np.dot(weights, vals) / sum(weights))


def hoelter_cn(chisq, df, n, alpha) -> float:
    """Hoelter's critical N, chi2_{1-alpha}(df) / (X2 / N) + 1; NaN for a saturated model with
    X2 below machine epsilon, 1 when df = 0 otherwise (``lav_fit_cn``)."""
    if df == 0 and chisq < np.finfo(float).eps:
        return math.nan
    quantile = chi2_ppf(1 - alpha, df) if df > 0 else 0.0
    if chisq <= 0:
        return math.inf if quantile > 0 else math.nan
    return quantile / (chisq / n) + 1


def _x_index(model) -> list[int]:
    """Positions of the fixed.x covariates among the observed variables."""
    return [model.observed.index(v) for v in model.ov_x]


def loglik_x(model, moments) -> float:
    """Log-likelihood of the fixed.x covariates at their sample moments,
    sum_g -n_g/2 (p_x log(2 pi) + log|S_xx,g| + p_x).

    lavaan 0.6.14 subtracts it from ``logl`` and ``unrestricted.logl`` (so AIC, BIC and BIC2),
    which are then conditional on the covariates (``lav_mvnorm_loglik_samplestats`` and
    ``lav_mvnorm_h1_loglik_samplestats`` with ``x.idx``; with missing data the x block of the
    EM moments, ``lav_mvnorm_missing_loglik_samplestats``)."""
    x = _x_index(model)
    if not x:
        return 0.0
    px = len(x)
    return float(sum(-0.5 * mom.n * (px * _LOG2PI + np.linalg.slogdet(mom.cov[np.ix_(x, x)])[1]
                                     + px) for mom in moments))


def fit_measures(model, moments, theta, fmin2, *, estimator="ML", extra=None, logl=None,
                 unrestricted_logl=None, baseline=None, n_eq=0) -> dict:
    """lavaan's ``fitMeasures()`` for an ML fit (names with "_" for ".").

    ``fmin2`` is the minimized discrepancy F (twice lavaan's ``fmin``). ``extra`` adds
    robust (scaled) measures computed by the caller; ``logl`` and ``baseline`` override the
    complete-data formulas (FIML). With fixed.x covariates, ``logl``, ``unrestricted_logl``,
    AIC, BIC and BIC2 are conditional on them (:func:`loglik_x`), GFI leaves their moments out
    and AGFI/PGFI count all p(p+1)/2 [+ p] sample moments, as lavaan 0.6.14 reports them.
    ``n_eq`` is the rank of the Jacobian of the ``==`` constraints: lavaan's ``npar`` is the
    number of free parameters minus ``n_eq`` (``lav_utils_get_npar``) and the df grow by it
    (``lav_model_test``).
    """
    n = sum(m.n for m in moments)
    npar = model.n_free - n_eq
    chisq = n * fmin2
    df = n_moments(model) - npar
    p = len(model.observed)
    if baseline is None:
        baseline = baseline_statistic(model, moments)
    b_chisq, b_df = baseline
    if logl is None:
        # complete data: logl_h1 in closed form and logl = logl_h1 - N F / 2
        unrestricted_logl = sum(-0.5 * mom.n * (p * _LOG2PI + np.linalg.slogdet(mom.cov)[1] + p)
                                for mom in moments)
        logl = unrestricted_logl - n * fmin2 / 2.0
    logl_x = loglik_x(model, moments)
    logl, unrestricted_logl = logl - logl_x, unrestricted_logl - logl_x
    out = {
        "npar": npar,
        "fmin": fmin2 / 2.0,
        "chisq": chisq,
        "df": df,
        "pvalue": float(chi2_sf(chisq, df)) if df > 0 else math.nan,
        "baseline_chisq": b_chisq,
        "baseline_df": b_df,
        "baseline_pvalue": float(chi2_sf(b_chisq, b_df)),
    }
    out.update(incremental_indices(chisq, df, b_chisq, b_df))
    out.update({
        "logl": float(logl),
        "unrestricted_logl": float(unrestricted_logl),
        "aic": -2 * logl + 2 * npar,
        "bic": -2 * logl + npar * math.log(n),
        "ntotal": int(n),
        "bic2": -2 * logl + npar * math.log((n + 2) / 24),
    })
    out.update(rmsea_measures(chisq, df, n, model.ngroups))
    out.update(_residual_measures(model, moments, theta))
    out["cn_05"] = hoelter_cn(chisq, df, n, 0.05)
    out["cn_01"] = hoelter_cn(chisq, df, n, 0.01)
    gfi = _gfi(model, moments, theta)
    nel = model.ngroups * (p * (p + 1) // 2 + (p if model.meanstructure else 0))  # x included
    out["gfi"] = gfi
    out["agfi"] = 1 - (nel / df) * (1 - gfi) if df > 0 else 1.0
    out["pgfi"] = (df / nel) * gfi if nel else math.nan
    out["mfi"] = math.exp(-0.5 * (chisq - df) / n)
    out["ecvi"] = chisq / n + 2 * npar / n
    if extra:
        out.update(extra)
    return out


# ------------------------------------------------------------------------------------------
# modification indices
# ------------------------------------------------------------------------------------------

def candidates(model, theta) -> pd.DataFrame:
    """lavaan's candidate parameters for modification indices: the extended parameter table.

    Returns the model rows of the parameter table (``=~``, ``~``, ``~~``, ``~1``) with the
    candidates numbered as free parameters q+1, q+2, ... and a column ``candidate``; their
    values at ``theta`` are in ``ustart`` (the fixed value or sample moment, 0 for new rows).

    Notes
    -----
    As ``modindices()`` builds it (``lav_partable_full`` merged into the table with
    ``lav_object_extended(all.free = TRUE)``), per group:

    - every fixed row of the table (a covariance fixed to 0, a fixed loading, intercept or
      latent mean, the fixed.x covariates' moments);
    - loadings of every latent variable on every observed variable that is neither an
      exogenous covariate nor in a regression (``~``) on either side;
    - covariances among the observed indicators, and among the latent variables;
    - regressions of every variable in a ``~`` row on every other such variable, except an
      indicator on a latent variable;
    - with a mean structure, intercepts of all variables;

    leaving out what is already in the table (``a ~ b`` and ``b =~ a`` being one entry).
    """
    pt = model.partable
    rows = pt[pt["op"].isin(["=~", "~", "~~", "~1"])].copy()
    q = model.n_free
    values = model.row_values(theta)
    observed, latent = model.observed, model.latent
    x_names = set(model.exogenous) | set(model.ov_x)
    nox = [v for v in observed if v not in x_names]
    indicators = set(rows.loc[rows["op"] == "=~", "rhs"]) & set(observed)
    reg = rows[rows["op"] == "~"]
    eqs = list(dict.fromkeys(list(reg["lhs"]) + list(reg["rhs"])))
    eqs_set = set(eqs)
    fixed = rows["free"].to_numpy() <= 0
    counter = q + int(fixed.sum())
    free = rows["free"].to_numpy().copy()
    free[fixed] = np.arange(q + 1, counter + 1)  # the fixed rows first, in table order
    rows["free"] = free
    rows["candidate"] = fixed
    rows["ustart"] = np.where(fixed, values, rows["ustart"].to_numpy(float))
    new: dict[str, list] = {"lhs": [], "op": [], "rhs": [], "group": [], "free": []}
    for g in range(1, model.ngroups + 1):
        mine = rows[rows["group"] == g]
        present = set(zip(mine["lhs"], mine["op"], mine["rhs"]))
        present |= {(r, "~~", l) for l, o, r in present if o == "~~"}
        present |= {(r, "~", l) for l, o, r in present if o == "=~"}
        present |= {(r, "=~", l) for l, o, r in present if o == "~"}
        wanted = [(lv, "=~", ov) for lv in latent for ov in nox if ov not in eqs_set]
        ind = [v for v in nox if v in indicators]
        wanted += [(ind[i], "~~", b) for i in range(len(ind)) for b in ind[i:]]
        wanted += [(latent[i], "~~", b) for i in range(len(latent)) for b in latent[i:]]
        wanted += [(a, "~", b) for a in eqs for b in eqs
                   if a != b and not (a in indicators and b in latent)]
        if model.meanstructure:
            wanted += [(v, "~1", "") for v in observed + latent]
        for key in wanted:
            if key not in present:
                present.add(key)
                if key[1] == "~~":
                    present.add((key[2], "~~", key[0]))
                counter += 1
                for column, value in zip(("lhs", "op", "rhs", "group", "free"),
                                         (*key, g, counter)):
                    new[column].append(value)
    if new["free"]:
        added = pd.DataFrame({"lhs": new["lhs"], "op": new["op"], "rhs": new["rhs"],
                              "user": 10, "group": new["group"], "free": new["free"],
                              "ustart": 0.0, "exo": 0, "label": "", "start": None,
                              "candidate": True})
        rows = pd.concat([rows, added], ignore_index=True)
    return rows.reset_index(drop=True)


def modification_indices(model, moments, theta, groups=None, basis=None) -> pd.DataFrame:
    """Univariate score tests of lavaan's candidate parameters (lavaan's ``modindices``).

    Parameters
    ----------
    model : CompiledModel
    moments : list of SampleMoments
    theta : numpy.ndarray
    groups : list of GroupData, optional
        The raw data by missing-data pattern (FIML); by default the sample moments.
    basis : numpy.ndarray, optional
        With ``==``/``<``/``>`` constraints, the null space K of the active constraints'
        Jacobian: the model's information is then inverted as K (K' I K)^-1 K' (lavaan's
        ``inverted.information``, ``lav_model_information_augment_invert``).

    Returns
    -------
    pandas.DataFrame
        ``lhs, op, rhs`` (+ ``group`` with several groups), ``mi, epc, sepc_lv, sepc_all,
        sepc_nox``, sorted by decreasing MI; candidates whose MI is not defined are left out.

    Notes
    -----
    Candidates: :func:`candidates`. For each candidate parameter j, with d_j the derivative
    of lavaan's fmin (F/2) at the estimates (candidates at their fixed values) and I the
    expected information of the extended model (pattern-wise with missing data; with fixed.x
    covariates, the saturated information with the rows of their own moments zeroed, as
    lavaan's ``x.idx`` does): V = I_jj - I_j,theta I_theta,theta^{-1} I_theta,j, MI = N d_j^2 / V,
    EPC = -d_j / V. Candidates with V < eps^(1/3) are dropped, as lavaan does. The
    standardized EPCs scale the EPC with the fitted model's standard deviations as
    ``std_lv``, ``std_all`` and ``std_nox`` do (covariances by residual standard deviations;
    a freed variance other than a fixed.x covariate's shows its estimate standardized; a
    variance whose value is below sqrt(eps) shows 0; for ``sepc_all`` a covariance with a
    fixed.x covariate is divided by the square root of that covariate's variance EPC, NaN
    when it is below sqrt(eps), lavaan's arithmetic), as
    ``modindices(standardized = TRUE, cov.std = TRUE)``.
    """
    from .standardize import entry_factors

    table = candidates(model, theta)
    cand = table["candidate"].to_numpy(bool)
    if not cand.any():
        return pd.DataFrame(columns=_mi_columns(model))
    ext = compile_partable(table.drop(columns="candidate"), model.observed, model.latent,
                           ngroups=model.ngroups, meanstructure=model.meanstructure,
                           moments=moments, syntax=model.syntax, ov_x=model.ov_x,
                           exogenous=model.exogenous)
    q = model.n_free
    par = table["free"].to_numpy(int) - 1
    theta_ext = np.concatenate([theta, np.zeros(ext.n_free - q)])
    theta_ext[par[cand]] = table.loc[cand, "ustart"].to_numpy(float)
    if groups is None:
        groups = [moments_group(m.n, m.mean, m.cov, meanstructure=model.meanstructure)
                  for m in moments]
    objective = MLObjective(ext, groups)
    _, grad = objective.value_grad(theta_ext)
    d = 0.5 * grad[q:]
    if model.ov_x:
        information = _information_without_x(objective, theta_ext)
    elif len(groups) == 1 and objective.complete:
        cross, diag = ext.candidate_information(theta_ext, q)
        information = (model.expected_information(theta, 0), cross, diag)
    else:
        information = objective.expected_information(theta_ext)
    test = score_test(d, information, objective.n, np.arange(q, ext.n_free), joint=False,
                      basis=basis)
    # rows in the order of their parameter numbers q, q+1, ...
    order = np.argsort(par[cand])
    rows = table[cand].iloc[order]
    epc = test["epc"]
    out = pd.DataFrame({"lhs": rows["lhs"].to_numpy(), "op": rows["op"].to_numpy(),
                        "rhs": rows["rhs"].to_numpy()})
    if model.ngroups > 1:
        out["group"] = rows["group"].to_numpy(int)
    out["mi"], out["epc"] = test["mi"], epc
    r = ext.rows
    k = np.flatnonzero(cand)[order]  # ext.rows follow the table's order
    variance = (r.kind[k] == 2) & (r.i[k] == r.j[k])
    own = variance & (rows["exo"].to_numpy() != 1)  # a freed variance shows its estimate
    value = np.where(own, np.abs(rows["ustart"].to_numpy(float)), np.abs(epc))
    small = variance & (value < math.sqrt(np.finfo(float).eps))
    # std_all divides a covariance by the square roots of the variances' values in the same
    # list, where a fixed.x covariate's variance holds its own EPC (NaN when below sqrt(eps))
    exo_var = variance & ~own
    x_sd = {(g, i): (math.sqrt(abs(e)) if np.isfinite(e) and abs(e) >= math.sqrt(
        np.finfo(float).eps) else math.nan)
        for g, i, e in zip(r.group[k][exo_var], r.i[k][exo_var], epc[exo_var])}
    for kind in ("std_lv", "std_all", "std_nox"):
        f = entry_factors(model, theta, r.group[k], r.i[k], r.j[k], r.kind[k], kind)
        if kind == "std_all" and x_sd:
            for n, (g, i, j, kd) in enumerate(zip(r.group[k], r.i[k], r.j[k], r.kind[k])):
                if kd == 2 and i != j and ((g, i) in x_sd or (g, j) in x_sd):
                    _, S, _ = model.matrices(theta, g)
                    f[n] = 1.0 / (x_sd.get((g, i), math.sqrt(abs(S[i, i])))
                                  * x_sd.get((g, j), math.sqrt(abs(S[j, j]))))
        with np.errstate(invalid="ignore"):
            sepc = np.sign(epc) * value * f
        out[f"sepc_{kind[4:]}"] = np.where(small, 0.0, sepc)
    out = out[np.isfinite(out["mi"])]
    return out.sort_values("mi", ascending=False, kind="stable").reset_index(drop=True)


def _mi_columns(model) -> list[str]:
    return (["lhs", "op", "rhs"] + (["group"] if model.ngroups > 1 else [])
            + ["mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"])


def _information_without_x(objective, theta) -> np.ndarray:
    """sum_g (n_g/N) Delta_g' W_g Delta_g with W_g the saturated model's expected information
    (pattern-wise with missing data) at the implied moments and the rows of the fixed.x
    covariates' own moments (their means and x-by-x covariances) set to zero, as lavaan's
    ``lav_mvnorm_information_expected(x.idx = ...)`` in the extended model of ``modindices``."""
    model = objective.model
    x = [model.observed.index(v) for v in model.ov_x]
    p = len(model.observed)
    r, c = vech_index(p)
    xx = np.isin(r, x) & np.isin(c, x)
    info = np.zeros((model.n_free, model.n_free))
    for g, gd in enumerate(objective.groups):
        sigma, mu = objective.implied(theta, g)
        with_mean = gd.fixed_mean is None
        delta = model_delta(model, theta, g, with_mean)
        drop = np.concatenate([np.isin(np.arange(p), x), xx]) if with_mean else xx
        delta[drop] = 0.0
        info += objective.weights[g] * delta.T @ h1_information(sigma, mu, gd, with_mean,
                                                                  "expected") @ delta
    return info


def score_test(d, information, n, tested, joint: bool = True, basis=None) -> dict:
    """Score (Lagrange multiplier) tests of freeing parameters of an extended model at
    estimates where they are held at their constrained values.

    Parameters
    ----------
    d : numpy.ndarray
        Derivatives of lavaan's fmin (F/2) with respect to the tested parameters.
    information : numpy.ndarray or tuple
        The unit expected information of the extended model (all its parameters), or the
        blocks ``(I_rr, I_tr, diag I_tt)`` with r the other parameters (univariate tests only).
    n : int
        Total sample size N.
    tested : sequence of int
        Indices of the tested parameters in ``information`` (ignored for blocks).
    joint : bool
        Also compute the joint test of all tested parameters.
    basis : numpy.ndarray, optional
        Null space K of the model's active constraints: I_rr^-1 is then K (K' I_rr K)^-1 K'.

    Returns
    -------
    dict
        ``mi`` and ``epc`` per tested parameter (NaN where V_j < eps^(1/3)), and ``lm`` (joint
        statistic, NaN without it) on ``df`` = number of tested parameters.

    Notes
    -----
    With V = I_tt - I_tr I_rr^-1 I_rt (the information of the tested parameters given the
    others): univariate MI_j = N d_j^2 / V_jj and EPC_j = -d_j / V_jj (lavaan's
    ``modindices``), joint LM = N d' V^- d (lavaan's ``lavTestScore``, which equals
    N d' I^- d at a constrained optimum, where the other derivatives vanish).
    """
    d = np.asarray(d, dtype=float)
    if isinstance(information, tuple):
        i_rr, i_tr, i_tt_diag = information
        i_tt = None
    else:
        tested = np.asarray(tested, dtype=int)
        rest = np.setdiff1d(np.arange(information.shape[0]), tested)
        i_rr = information[np.ix_(rest, rest)]
        i_tr = information[np.ix_(tested, rest)]
        i_tt = information[np.ix_(tested, tested)]
        i_tt_diag = np.diag(i_tt)
    if basis is None:
        i_rr_inv = np.linalg.inv(i_rr)
    else:
        i_rr_inv = basis @ np.linalg.inv(basis.T @ i_rr @ basis) @ basis.T
    v = i_tt_diag - np.einsum("ij,jk,ik->i", i_tr, i_rr_inv, i_tr)
    ok = v >= np.finfo(float).eps ** (1 / 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(ok, n * d ** 2 / v, np.nan)
        epc = np.where(ok, -d / v, np.nan)
    lm = math.nan
    if joint and i_tt is not None:
        V = i_tt - i_tr @ i_rr_inv @ i_tr.T
        lm = float(n * d @ np.linalg.lstsq(V, d, rcond=None)[0])
    return {"mi": mi, "epc": epc, "lm": lm, "df": len(d)}
