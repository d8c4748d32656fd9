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
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = ["fit_measures", "incremental_indices", "rmsea_measures", "modification_indices",
           "score_tests"]

_LOG2PI = math.log(2.0 * math.pi)


def _n_moments(model) -> int:
    p = len(model.observed)
    nx = len(model.ov_x)
    per_group = p * (p + 1) // 2 - nx * (nx + 1) // 2
    if model.meanstructure:
        per_group += p - nx
    return model.ngroups * per_group


def baseline_statistic(model, moments) -> tuple[float, int]:
    """Chi-square and df of lavaan's independence model (variances free, fixed.x covariates
    keep their sample covariances)."""
    x_idx = [model.observed.index(v) for v in model.ov_x]
    y_idx = [i for i in range(len(model.observed)) if i not in x_idx]
    chisq = 0.0
    for mom in moments:
        logdet_s = np.linalg.slogdet(mom.cov)[1]
        f = np.sum(np.log(np.diag(mom.cov)[y_idx]))
        if x_idx:
            f += np.linalg.slogdet(mom.cov[np.ix_(x_idx, x_idx)])[1]
        chisq += mom.n * (f - logdet_s)
    npar_b = model.ngroups * len(y_idx) * (2 if model.meanstructure else 1)
    return float(chisq), int(_n_moments(model) - npar_b)


def incremental_indices(chisq, df, b_chisq, b_df) -> dict:
    """CFI, TLI/NNFI, RFI, NFI, IFI and RNI from a model and a baseline statistic."""
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, b_chisq - b_df, 0.0)
    cfi = 1.0 if (t1 == 0 and t2 == 0) else 1.0 - t1 / t2
    if df > 0 and b_df > 0:
        tli = (b_chisq / b_df - chisq / df) / (b_chisq / b_df - 1.0)
        rfi = (b_chisq / b_df - chisq / df) / (b_chisq / b_df)
    else:
        tli, rfi = 1.0, math.nan
    nfi = (b_chisq - chisq) / b_chisq if b_chisq > 0 else math.nan
    pnfi = (df / b_df) * nfi if b_df > 0 else math.nan
    ifi = (b_chisq - chisq) / (b_chisq - df) if b_chisq != df else math.nan
    rni = 1.0 - (chisq - df) / (b_chisq - b_df) if b_chisq != b_df else math.nan
    return {"cfi": cfi, "tli": tli, "nnfi": tli, "rfi": rfi, "nfi": nfi, "pnfi": pnfi,
            "ifi": ifi, "rni": rni}


def _ncp_root(chisq, df, target, upper):
    fun = lambda lam: stats.ncx2.cdf(chisq, df, lam) - target if lam > 0 else \
        stats.chi2.cdf(chisq, df) - target
    return optimize.brentq(fun, 0.0, upper, xtol=1e-12, rtol=1e-12)


def rmsea_measures(chisq, df, n, ngroups=1, level=0.90, close=0.05, notclose=0.08) -> dict:
    """RMSEA, its confidence interval and the tests of close and not-close fit.

    Notes
    -----
    Matches ``lav_fit_rmsea``, ``lav_fit_rmsea_ci`` and ``lav_fit_rmsea_closefit`` of lavaan
    0.6.14: the noncentrality is divided by N (not N - 1) and multiplied by G.
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
    if stats.chi2.cdf(chisq, df) < upper_p:
        lo = 0.0
    else:
        lo = _ncp_root(chisq, df, upper_p, max(chisq, 1.0) * 4)
    out["rmsea_ci_lower"] = g * math.sqrt(lo / (n * df))
    n_upper = max(n, chisq * 4)
    if stats.ncx2.cdf(chisq, df, n_upper) > lower_p or stats.chi2.cdf(chisq, df) < lower_p:
        hi = 0.0
    else:
        hi = _ncp_root(chisq, df, lower_p, n_upper)
    out["rmsea_ci_upper"] = g * math.sqrt(hi / (n * df))
    ncp_close = n * df * close ** 2 / ngroups
    out["rmsea_pvalue"] = float(stats.ncx2.sf(chisq, df, ncp_close))
    ncp_not = n * df * notclose ** 2 / ngroups
    out["rmsea_notclose_pvalue"] = float(stats.ncx2.cdf(chisq, df, ncp_not))
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
    covariance (lavaan's ``WLS.V`` for ML)."""
    vals, weights = [], []
    for g, mom in enumerate(moments):
        sigma, mu = model.implied(theta, g)
        winv = np.linalg.inv(sigma)
        e = mom.cov - sigma
        t1 = 0.5 * np.trace(winv @ e @ winv @ e)
        t2 = 0.5 * np.trace(winv @ mom.cov @ winv @ mom.cov)
        if model.meanstructure:
            d = mom.mean - mu
            t1 += d @ winv @ d
            t2 += mom.mean @ winv @ mom.mean
        vals.append(1.0 - t1 / t2)
        weights.append(mom.n)
    return float(np.dot(weights, vals) / sum(weights))


def fit_measures(model, moments, theta, fmin2, *, estimator="ML", extra=None, logl=None,
                 unrestricted_logl=None, baseline=None) -> dict:
    """lavaan's ``fitMeasures()`` for an ML fit (names with "_" for ".").

    ``fmin2`` is the minimized discrepancy F (twice lavaan's ``fmin``). ``extra`` adds
    robust (scaled) measures computed by the caller; ``logl`` and ``baseline`` override the
    complete-data formulas (FIML).
    """
    n = sum(m.n for m in moments)
    npar = model.n_free
    chisq = n * fmin2
    df = _n_moments(model) - npar
    p = len(model.observed)
    if baseline is None:
        baseline = baseline_statistic(model, moments)
    b_chisq, b_df = baseline
    if logl is None:
        logl = 0.0
        unrestricted_logl = 0.0
        for g, mom in enumerate(moments):
            sigma, mu = model.implied(theta, g)
            inv = np.linalg.inv(sigma)
            d = mom.mean - mu
            quad = d @ inv @ d if model.meanstructure else 0.0
            logl += -0.5 * mom.n * (p * _LOG2PI + np.linalg.slogdet(sigma)[1]
                                    + np.sum(mom.cov * inv) + quad)
            unrestricted_logl += -0.5 * mom.n * (p * _LOG2PI + np.linalg.slogdet(mom.cov)[1] + p)
    out = {
        "npar": npar,
        "fmin": fmin2 / 2.0,
        "chisq": chisq,
        "df": df,
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else math.nan,
        "baseline_chisq": b_chisq,
        "baseline_df": b_df,
        "baseline_pvalue": float(stats.chi2.sf(b_chisq, b_df)),
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
    f = chisq / n
    out["cn_05"] = stats.chi2.ppf(0.95, df) / f + 1 if df > 0 and f > 0 else math.nan
    out["cn_01"] = stats.chi2.ppf(0.99, df) / f + 1 if df > 0 and f > 0 else math.nan
    gfi = _gfi(model, moments, theta)
    nel = _n_moments(model)
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

def _candidates(model) -> list[tuple[str, str, str]]:
    pt = model.partable
    present = {(r.lhs, r.op, r.rhs) for r in pt.itertuples()}
    present |= {(r.rhs, r.op, r.lhs) for r in pt.itertuples() if r.op == "~~"}
    # "a ~ b" and "b =~ a" are the same matrix entry
    present |= {(r.rhs, "~", r.lhs) for r in pt.itertuples() if r.op == "=~"}
    out = []
    nox = [v for v in model.observed if v not in model.ov_x]
    for lv in model.latent:
        for ov in nox:
            if (lv, "=~", ov) not in present:
                out.append((lv, "=~", ov))
    for i, a in enumerate(nox):
        for b in nox[i + 1:]:
            if (a, "~~", b) not in present:
                out.append((a, "~~", b))
    for i, a in enumerate(model.latent):
        for b in model.latent[i + 1:]:
            if (a, "~~", b) not in present:
                out.append((a, "~~", b))
    for a in model.latent:
        for b in model.latent:
            if a != b and (a, "~", b) not in present and (b, "~", a) not in present:
                out.append((a, "~", b))
    return out


def modification_indices(model, moments, theta) -> pd.DataFrame:
    """Univariate score tests for fixed-to-zero parameters (lavaan's ``modindices``).

    Notes
    -----
    For each candidate parameter j, with d_j the derivative of lavaan's fmin (F/2) and
    I the expected information of the extended model:
    V = I_jj - I_j,theta I_theta,theta^{-1} I_theta,j, MI = N d_j^2 / V,
    EPC = -d_j / V; sepc_all standardizes the EPC like ``std_all`` (covariances by the residual
    standard deviations). Candidates with V < eps^(1/3) are dropped, as lavaan does.
    """
    from .estimation import _discrepancy, _expected_information
    from .model import _compile_extended

    cands = _candidates(model)
    if not cands:
        return pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc_all"])
    ext = _compile_extended(model, cands, moments)
    theta_ext = np.concatenate([theta, np.zeros(len(cands))])
    logdet_s = [np.linalg.slogdet(m.cov)[1] for m in moments]
    _, grad = _discrepancy(ext, theta_ext, moments, logdet_s, with_grad=True)
    d = 0.5 * grad[model.n_free:]
    if len(moments) == 1:
        cross, diag = ext.candidate_information(theta_ext, model.n_free)
        info = _expected_information(model, theta, moments)
        return score_tests(model, theta, cands, d, (info, cross, diag), moments[0].n)
    full = _expected_information(ext, theta_ext, moments)
    return score_tests(model, theta, cands, d, full, sum(m.n for m in moments))


def score_tests(model, theta, candidates, d, information, n) -> pd.DataFrame:
    """MI, EPC and standardized EPC of candidate parameters from their fmin derivatives ``d``
    and the (unit) information of the extended model, whose first q rows and columns are the
    model's own parameters (or its blocks: the model's information, I[candidates, :q] and the
    diagonal of I[candidates, candidates]). Shared by complete-data and FIML modification
    indices."""
    q = model.n_free
    if isinstance(information, tuple):
        i11, i21, i22_diag = information
    else:
        i11, i21, i22_diag = (information[:q, :q], information[q:, :q],
                              np.diag(information)[q:])
    v = i22_diag - np.einsum("ij,jk,ik->i", i21, np.linalg.inv(i11), i21)
    ok = v >= np.finfo(float).eps ** (1 / 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(ok, n * d ** 2 / v, np.nan)
        epc = np.where(ok, -d / v, np.nan)
    full_cov, _ = model.implied(theta, 0, all_vars=True)
    sd = np.sqrt(np.diag(full_cov))
    _, S, _ = model.matrices(theta, 0)
    idx = {v_: i for i, v_ in enumerate(model.observed + model.latent)}
    sepc = np.empty(len(candidates))
    for k, (lhs, op, rhs) in enumerate(candidates):
        if op == "=~":
            sepc[k] = epc[k] * sd[idx[lhs]] / sd[idx[rhs]]
        elif op == "~":
            sepc[k] = epc[k] * sd[idx[rhs]] / sd[idx[lhs]]
        else:
            prod = S[idx[lhs], idx[lhs]] * S[idx[rhs], idx[rhs]]
            sepc[k] = epc[k] / math.sqrt(prod) if prod > 0 else math.nan
    table = pd.DataFrame({"lhs": [c[0] for c in candidates], "op": [c[1] for c in candidates],
                          "rhs": [c[2] for c in candidates], "mi": mi, "epc": epc,
                          "sepc_all": sepc})
    table = table[np.isfinite(table["mi"])]
    return table.sort_values("mi", ascending=False, kind="stable").reset_index(drop=True)
