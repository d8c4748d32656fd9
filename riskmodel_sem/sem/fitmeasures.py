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
from scipy import optimize

from .distributions import chi2_cdf, chi2_ppf, chi2_sf, ncx2_cdf, ncx2_sf
from .model import compile_partable, extend_model
from .objective import MLObjective, moments_group

__all__ = ["fit_measures", "incremental_indices", "rmsea_measures", "modification_indices",
           "score_tests", "score_test", "candidates", "n_moments", "baseline_model",
           "baseline_estimates", "baseline_statistic"]

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
    (and means, with a mean structure) of the non-covariates; fixed.x covariates keep their
    sample moments (``lav_partable_independence``).

    Parameters
    ----------
    model : CompiledModel
    moments : list of SampleMoments
        Per group; the covariates' moments are fixed at these values.

    Returns
    -------
    CompiledModel
        Free parameters per group: the variances, then the means.
    """
    observed = model.observed
    ov_x = [v for v in observed if v in model.ov_x]
    y = [v for v in observed if v not in ov_x]
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
        for i, a in enumerate(ov_x):
            for b in ov_x[i:]:
                rows.append((a, "~~", b, g, 0, np.nan, 1))
            if model.meanstructure:
                rows.append((a, "~1", "", g, 0, np.nan, 1))
    pt = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "group", "free", "ustart", "exo"])
    pt["user"] = 0
    pt["label"] = ""
    pt["start"] = None
    return compile_partable(pt, observed, (), ngroups=model.ngroups,
                            meanstructure=model.meanstructure, moments=moments,
                            ov_x=tuple(ov_x), source="baseline")


def baseline_estimates(base, values_by_group) -> np.ndarray:
    """Closed-form ML estimates of :func:`baseline_model`: per variable the mean and the
    variance (divisor n) of its observed values (the likelihood factorizes over variables)."""
    y = [i for i, v in enumerate(base.observed) if v not in base.ov_x]
    theta = []
    for vals in values_by_group:
        vals = vals[:, y]
        theta.append(np.nanvar(vals, axis=0))
        if base.meanstructure:
            theta.append(np.nanmean(vals, axis=0))
    return np.concatenate(theta)


def baseline_statistic(model, moments) -> tuple[float, int]:
    """Chi-square and df of lavaan's independence model with complete data: N F at the
    closed-form estimates, which is sum_g n_g (sum_y log s_yy + log|S_xx| - log|S|)."""
    base = baseline_model(model, moments)
    y = [i for i, v in enumerate(base.observed) if v not in base.ov_x]
    theta = np.concatenate([np.concatenate([np.diag(m.cov)[y]] +
                                           ([m.mean[y]] if model.meanstructure else []))
                            for m in moments])
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
    IFI = (X2_B - X2) / (X2_B - df), RFI = (X2_B/df_B - X2/df) / (X2_B/df_B). Matches
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
    t1, t2 = chisq - c * df, b_chisq - c_b * b_df
    keys = ("cfi", "tli", "nnfi", "rni")
    if not all(math.isfinite(v) for v in (t1, t2)):
        out = {k: math.nan for k in keys}
    else:
        a = max(t1, 0.0)
        b = max(t1, t2, 0.0)
        cfi = 1.0 if (math.isclose(a, 0.0, abs_tol=1.5e-8)
                      and math.isclose(b, 0.0, abs_tol=1.5e-8)) else 1.0 - a / b
        tli = 1.0 - (t1 * b_df) / (t2 * df) if df > 0 and b_df > 0 and abs(t2) > 0 else 1.0
        rni = 1.0 - t1 / t2 if t2 != 0 else math.nan
        out = {"cfi": cfi, "tli": tli, "nnfi": tli, "rni": rni}
    if c == 1.0 and c_b == 1.0:
        # lavaan's lav_fit_rfi: NA when df > df.null, 1 for df = 0 or a negative index
        if df > b_df:
            rfi = math.nan
        elif df > 0 and b_df > 0:
            t1, t2 = b_chisq / b_df - chisq / df, b_chisq / b_df
            rfi = 1.0 if t1 < 0 or t2 < 0 else t1 / t2
        else:
            rfi = 1.0
        nfi = (b_chisq - chisq) / b_chisq if b_chisq > 0 else math.nan
        out.update(rfi=rfi, nfi=nfi, pnfi=(df / b_df) * nfi if b_df > 0 else math.nan,
                   ifi=(b_chisq - chisq) / (b_chisq - df) if b_chisq != df else math.nan)
    return out


def _ncp_root(chisq, df, target, upper):
    fun = lambda lam: ncx2_cdf(chisq, df, lam) - target if lam > 0 else \
        chi2_cdf(chisq, df) - target
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
    if chi2_cdf(chisq, df) < upper_p:
        lo = 0.0
    else:
        lo = _ncp_root(chisq, df, upper_p, max(chisq, 1.0) * 4)
    out["rmsea_ci_lower"] = g * math.sqrt(lo / (n * df))
    n_upper = max(n, chisq * 4)
    if ncx2_cdf(chisq, df, n_upper) > lower_p or chi2_cdf(chisq, df) < lower_p:
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
    covariance (lavaan's ``WLS.V`` for ML; with fixed.x the rows and columns of the covariates'
    own variances, covariances and means are zero, as ``lav_mvnorm_information_expected``
    with ``x.idx``)."""
    vals, weights = [], []
    x = [model.observed.index(v) for v in model.ov_x if v in model.observed]
    for g, mom in enumerate(moments):
        sigma, mu = model.implied(theta, g)
        winv = np.linalg.inv(sigma)
        e = mom.cov - sigma
        s = mom.cov.copy()
        d, m = mom.mean - mu, mom.mean.copy()
        if x:  # fixed.x: the weight of the covariates' own moments is zero (lavaan's x.idx)
            e[np.ix_(x, x)] = 0.0
            s[np.ix_(x, x)] = 0.0
            d[x] = 0.0
            m[x] = 0.0
        t1 = 0.5 * np.trace(winv @ e @ winv @ e)
        t2 = 0.5 * np.trace(winv @ s @ winv @ s)
        if model.meanstructure:
            t1 += d @ winv @ d
            t2 += m @ winv @ m
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
    df = n_moments(model) - npar
    p = len(model.observed)
    if baseline is None:
        baseline = baseline_statistic(model, moments)
    b_chisq, b_df = baseline
    if logl is None:
        # complete data: logl_h1 in closed form and logl = logl_h1 - N F / 2
        unrestricted_logl = sum(-0.5 * mom.n * (p * _LOG2PI + np.linalg.slogdet(mom.cov)[1] + p)
                                for mom in moments)
        x = [model.observed.index(v) for v in model.ov_x if v in model.observed]
        if x:  # fixed.x: the likelihood of y given x (lavaan drops the marginal of x)
            unrestricted_logl -= sum(
                -0.5 * mom.n * (len(x) * _LOG2PI + np.linalg.slogdet(mom.cov[np.ix_(x, x)])[1]
                                + len(x)) for mom in moments)
        logl = unrestricted_logl - n * fmin2 / 2.0
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
    f = chisq / n
    out["cn_05"] = chi2_ppf(0.95, df) / f + 1 if df > 0 and f > 0 else math.nan
    out["cn_01"] = chi2_ppf(0.99, df) / f + 1 if df > 0 and f > 0 else math.nan
    gfi = _gfi(model, moments, theta)
    # lavaan's nel: every sample statistic, the covariates' included (length(WLS.obs))
    p_all = len(model.observed)
    nel = model.ngroups * (p_all * (p_all + 1) // 2 + (p_all if model.meanstructure else 0))
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

def candidates(model) -> list[tuple[str, str, str]]:
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


def modification_indices(model, moments, theta, groups=None) -> pd.DataFrame:
    """Univariate score tests for fixed-to-zero parameters (lavaan's ``modindices``).

    Parameters
    ----------
    model : CompiledModel
    moments : list of SampleMoments
    theta : numpy.ndarray
    groups : list of GroupData, optional
        The raw data by missing-data pattern (FIML); by default the sample moments.

    Notes
    -----
    For each candidate parameter j, with d_j the derivative of lavaan's fmin (F/2) and
    I the expected information of the extended model (pattern-wise with missing data):
    V = I_jj - I_j,theta I_theta,theta^{-1} I_theta,j, MI = N d_j^2 / V,
    EPC = -d_j / V; sepc_all standardizes the EPC like ``std_all`` (covariances by the residual
    standard deviations). Candidates with V < eps^(1/3) are dropped, as lavaan does.
    """
    cands = candidates(model)
    if not cands:
        return pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc_all"])
    ext = extend_model(model, cands, moments)
    theta_ext = np.concatenate([theta, np.zeros(len(cands))])
    if groups is None:
        groups = [moments_group(m.n, m.mean, m.cov, meanstructure=model.meanstructure)
                  for m in moments]
    objective = MLObjective(ext, groups)
    _, grad = objective.value_grad(theta_ext)
    d = 0.5 * grad[model.n_free:]
    if len(groups) == 1 and objective.complete:
        cross, diag = ext.candidate_information(theta_ext, model.n_free)
        info = model.expected_information(theta, 0)
        return score_tests(model, theta, cands, d, (info, cross, diag), objective.n)
    full = objective.expected_information(theta_ext)
    return score_tests(model, theta, cands, d, full, objective.n)


def score_test(d, information, n, tested, joint: bool = True) -> dict:
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
    i_rr_inv = np.linalg.inv(i_rr)
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


def score_tests(model, theta, candidates, d, information, n) -> pd.DataFrame:
    """MI, EPC and standardized EPC of candidate parameters from their fmin derivatives ``d``
    and the (unit) information of the extended model, whose first q rows and columns are the
    model's own parameters (or its blocks: the model's information, I[candidates, :q] and the
    diagonal of I[candidates, candidates]); see :func:`score_test`."""
    q = model.n_free
    test = score_test(d, information, n, np.arange(q, q + len(candidates)), joint=False)
    mi, epc = test["mi"], test["epc"]
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
