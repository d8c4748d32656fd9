"""Reliability of each construct: Cronbach's alpha, McDonald's omega, CR and AVE.

* :func:`cronbach_alpha` reproduces ``psych::alpha`` (raw and standardized alpha, Feldt and
  Duhachek confidence intervals, alpha if an item is deleted, corrected item-total correlation
  ``r.drop``) from the answers.
* :func:`ordinal_alpha` is Zumbo, Gadermann & Zeisser's (2007) ordinal alpha: ``psych::alpha``
  on lavaan's polychoric correlation matrix.
* :func:`omega`, :func:`omega_higher_order` and :func:`ave` reproduce ``semTools::compRelSEM``
  and ``semTools::AVE`` (semTools 0.5.6 defaults) from a fitted CFA.
* :func:`composite_reliability` is the textbook CR of Fornell & Larcker (1981) computed from the
  standardized solution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ModelError, SurveyDataError
from ..sem.distributions import f_ppf, norm_cdf, norm_ppf
from ..sem.estimation import FitResult
from ..sem.polychoric import polychoric_matrix

__all__ = [
    "AlphaResult",
    "cronbach_alpha",
    "OrdinalAlphaResult",
    "ordinal_alpha",
    "feldt_ci",
    "omega",
    "omega_higher_order",
    "composite_reliability",
    "ave",
    "loadings",
]


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha of one scale, as ``psych::alpha`` reports it.

    Attributes
    ----------
    alpha : float
        Raw alpha (``$total$raw_alpha``).
    alpha_std : float
        Standardized alpha from the correlation matrix (``std.alpha``).
    alpha_ci_lower, alpha_ci_upper : float
        Feldt confidence interval (``$feldt``).
    ase : float
        Asymptotic standard error of Duhachek & Iacobucci (2004) (``ase``).
    duhachek_ci_lower, duhachek_ci_upper : float
        ``alpha -/+ z ase`` (as ``print.psych`` shows them).
    g6 : float
        Guttman's lambda 6 (``G6(smc)``).
    average_r : float
        Mean inter-item correlation.
    n_obs : int
        Rows used (psych's ``nsub``: all rows given, answered or not).
    n_items : int
    items : pandas.DataFrame
        Per item: item, n, mean, sd, raw_r, std_r, r_cor, citc (``r.drop``),
        alpha_if_deleted (``$alpha.drop$raw_alpha``), alpha_std_if_deleted,
        alpha_if_deleted_se.
    conf_level : float
    """

    alpha: float
    alpha_std: float
    alpha_ci_lower: float
    alpha_ci_upper: float
    ase: float
    duhachek_ci_lower: float
    duhachek_ci_upper: float
    g6: float
    average_r: float
    n_obs: int
    n_items: int
    items: pd.DataFrame
    conf_level: float = 0.95

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        out = {k: getattr(self, k) for k in (
            "alpha", "alpha_std", "alpha_ci_lower", "alpha_ci_upper", "ase",
            "duhachek_ci_lower", "duhachek_ci_upper", "g6", "average_r", "n_obs", "n_items",
            "conf_level")}
        out["items"] = self.items.to_dict(orient="records")
        return out


def _smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations ``1 - 1 / diag(R^{-1})`` (psych::smc for a PD matrix)."""
    try:
        return 1.0 - 1.0 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        return np.full(r.shape[0], np.nan)


def _alpha_parts(c: np.ndarray) -> dict:
    """psych's internal ``alpha.1``: raw and standardized alpha, G6, mean r and Q."""
    k = c.shape[0]
    sd = np.sqrt(np.diag(c))
    r = c / np.outer(sd, sd)
    total = c.sum()
    raw = (1.0 - np.trace(c) / total) * k / (k - 1)
    sum_r = r.sum()
    std = (1.0 - k / sum_r) * k / (k - 1)
    g6 = 1.0 - (k - _smc(r).sum()) / sum_r
    av_r = (sum_r - k) / (k * (k - 1))
    cc = c @ c
    q = (2.0 * k ** 2 / ((k - 1) ** 2 * total ** 3)) * (
        total * (np.trace(cc) + np.trace(c) ** 2) - 2.0 * np.trace(c) * cc.sum())
    return {"raw": raw, "std": std, "g6": g6, "av_r": av_r, "q": q}


def _item_statistics(c: np.ndarray, n: int | None):
    """psych::alpha's per-item columns from a covariance (or correlation) matrix ``c``:
    ``std_r`` (item-total correlation of standardized items), ``r_cor`` (the same corrected
    for overlap with SMCs), ``r_drop`` (corrected item-total correlation), and alpha, its
    standardized version and its Duhachek-Iacobucci SE with the item left out."""
    k = c.shape[0]
    sd = np.sqrt(np.diag(c))
    r = c / np.outer(sd, sd)
    std_r = r.sum(axis=0) / math.sqrt(r.sum())
    rc = r.copy()
    np.fill_diagonal(rc, _smc(r))
    r_cor = rc.sum(axis=0) / math.sqrt(rc.sum())
    r_drop = np.empty(k)
    drop_raw = np.empty(k)
    drop_std = np.empty(k)
    drop_se = np.full(k, np.nan)
    for i in range(k):
        keep = [j for j in range(k) if j != i]
        cd = c[np.ix_(keep, keep)]
        r_drop[i] = (c[:, i].sum() - c[i, i]) / math.sqrt(c[i, i] * cd.sum())
        if k > 2:
            p = _alpha_parts(cd)
            drop_raw[i], drop_std[i] = p["raw"], p["std"]
            if n is not None and n > k:
                drop_se[i] = math.sqrt(p["q"] / n)
        else:
            j = keep[0]
            drop_raw[i] = c[0, 1] / c[j, j]
            drop_std[i] = r[0, 1]
    return std_r, r_cor, r_drop, drop_raw, drop_std, drop_se


def feldt_ci(alpha: float, n_obs: int, n_items: int, conf_level: float = 0.95
             ) -> tuple[float, float]:
    """Feldt's confidence interval for Cronbach's alpha.

    Notes
    -----
    ``lower = 1 - (1 - alpha) F_{1-a/2}(n-1, (n-1)(k-1))``,
    ``upper = 1 - (1 - alpha) F_{a/2}(n-1, (n-1)(k-1))``; matches ``psych::alpha.ci`` (the
    ``$feldt`` element of ``psych::alpha``) and ``pingouin.cronbach_alpha``.

    References
    ----------
    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
    coefficient alpha. Applied Psychological Measurement, 11, 93-103.
    doi:10.1177/014662168701100107
    """
    a = 1.0 - conf_level
    df1 = n_obs - 1
    df2 = (n_obs - 1) * (n_items - 1)
    lower = 1.0 - (1.0 - alpha) * f_ppf(1.0 - a / 2.0, df1, df2)
    upper = 1.0 - (1.0 - alpha) * f_ppf(a / 2.0, df1, df2)
    return float(lower), float(upper)


def cronbach_alpha(data: pd.DataFrame, *, conf_level: float = 0.95) -> AlphaResult:
    """Cronbach's alpha of a scale with psych's item statistics.

    Parameters
    ----------
    data : pandas.DataFrame
        One numeric column per item (NaN = missing), items already keyed in one direction.
        Covariances use pairwise-complete rows (psych's default ``use = "pairwise"``); pass
        only complete rows for a listwise analysis.
    conf_level : float
        Level of the Feldt and Duhachek intervals.

    Returns
    -------
    AlphaResult

    Raises
    ------
    SurveyDataError
        With fewer than two items or two rows, or an item without variance.

    Notes
    -----
    With ``C`` the item covariance matrix and ``R`` the correlation matrix, ``k`` items:
    ``alpha = k/(k-1) (1 - tr C / 1'C1)``, ``alpha_std = k/(k-1) (1 - k / 1'R1)``;
    ``r.drop_i = (1'C_{.i} - C_ii) / sqrt(C_ii 1'C_{-i,-i}1)``; alpha if item deleted is alpha
    of ``C_{-i,-i}`` (for two items psych reports ``C_12 / C_jj``). The Duhachek-Iacobucci
    standard error is ``sqrt(Q / n)``. Matches ``psych::alpha(x, check.keys = FALSE)``
    (psych 2.2.9): ``$total``, ``$feldt``, ``$alpha.drop`` and ``$item.stats``.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika, 16, 297-334. doi:10.1007/BF02310555

    Duhachek, A., & Iacobucci, D. (2004). Alpha's standard error (ASE). Journal of Applied
    Psychology, 89, 792-808. doi:10.1037/0021-9010.89.5.792

    Examples
    --------
    >>> cronbach_alpha(hs[["x1", "x2", "x3"]]).alpha   # doctest: +SKIP
    0.6261...
    """
    x = data.apply(pd.to_numeric, errors="coerce").astype(float)
    k = x.shape[1]
    n = x.shape[0]
    if k < 2:
        raise SurveyDataError("Cronbach's alpha needs at least two items.")
    if n < 2:
        raise SurveyDataError("Cronbach's alpha needs at least two respondents.")
    c = x.cov().to_numpy()  # pairwise complete, divisor n - 1
    if np.any(~np.isfinite(c)) or np.any(np.diag(c) <= 0):
        bad = [col for col, v in zip(x.columns, np.diag(c)) if not v > 0]
        raise SurveyDataError(f"Cronbach's alpha cannot be computed: item(s) "
                              f"{', '.join(map(str, bad)) or '(pairs)'} have no variance or "
                              "too few answers.")
    parts = _alpha_parts(c)
    lower, upper = feldt_ci(parts["raw"], n, k, conf_level)
    ase = math.sqrt(parts["q"] / n)
    z = norm_ppf(0.5 + conf_level / 2.0)

    total = x.mean(axis=1, skipna=True)
    raw_r = np.array([total.corr(x[col]) for col in x.columns])
    std_r, r_cor, r_drop, drop_raw, drop_std, drop_se = _item_statistics(c, n)
    items = pd.DataFrame({
        "item": [str(col) for col in x.columns],
        "n": x.notna().sum().to_numpy().astype(int),
        "mean": x.mean().to_numpy(),
        "sd": x.std(ddof=1).to_numpy(),
        "raw_r": raw_r,
        "std_r": std_r,
        "r_cor": r_cor,
        "citc": r_drop,
        "alpha_if_deleted": drop_raw,
        "alpha_std_if_deleted": drop_std,
        "alpha_if_deleted_se": drop_se,
    })
    return AlphaResult(alpha=float(parts["raw"]), alpha_std=float(parts["std"]),
                       alpha_ci_lower=lower, alpha_ci_upper=upper, ase=ase,
                       duhachek_ci_lower=float(parts["raw"] - z * ase),
                       duhachek_ci_upper=float(parts["raw"] + z * ase),
                       g6=float(parts["g6"]), average_r=float(parts["av_r"]), n_obs=int(n),
                       n_items=int(k), items=items, conf_level=conf_level)


@dataclass(frozen=True)
class OrdinalAlphaResult:
    """Ordinal alpha of one scale (Zumbo, Gadermann & Zeisser 2007).

    Attributes
    ----------
    alpha : float
        Alpha of the polychoric correlation matrix (psych's ``raw_alpha`` = ``std.alpha``).
    ase : float
        Duhachek & Iacobucci's standard error with n = ``n_obs`` (psych's ``ase`` with
        ``n.obs``).
    ci_lower, ci_upper : float
        ``alpha -/+ z ase``.
    g6, average_r : float
        Guttman's lambda 6 and the mean polychoric correlation.
    n_obs, n_items : int
    items : pandas.DataFrame
        Per item: item, std_r, r_cor, citc (``r.drop``), alpha_if_deleted.
    missing : str
        How the polychoric correlations treated missing answers.
    label : str
        What the number is, for reports.
    """

    alpha: float
    ase: float
    ci_lower: float
    ci_upper: float
    g6: float
    average_r: float
    n_obs: int
    n_items: int
    items: pd.DataFrame
    missing: str = "listwise"
    conf_level: float = 0.95
    label: str = ("ordinal alpha (Zumbo, Gadermann & Zeisser 2007): Cronbach's alpha of the "
                  "polychoric correlations")

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        out = {k: getattr(self, k) for k in (
            "alpha", "ase", "ci_lower", "ci_upper", "g6", "average_r", "n_obs", "n_items",
            "missing", "conf_level", "label")}
        out["items"] = self.items.to_dict(orient="records")
        return out


def ordinal_alpha(data: pd.DataFrame, *, missing: str = "listwise",
                  conf_level: float = 0.95) -> OrdinalAlphaResult:
    """Ordinal alpha: Cronbach's alpha computed from the polychoric correlation matrix.

    Parameters
    ----------
    data : pandas.DataFrame
        One column of answer codes per item (NaN = missing), items keyed in one direction.
    missing : {"listwise", "pairwise"}
        Rows used by the polychoric correlations (``lavCor(missing = ...)``); ``n_obs`` is the
        number of complete rows (listwise) or of rows with any answer (pairwise).
    conf_level : float
        Level of the ``alpha -/+ z ase`` interval.

    Returns
    -------
    OrdinalAlphaResult

    Raises
    ------
    SurveyDataError
        With fewer than two items, an item with a single category or too few rows.

    Notes
    -----
    With ``R`` the k x k polychoric correlations (lavaan's two-step estimates,
    :func:`riskmodel_sem.sem.polychoric.polychoric_matrix`),
    ``alpha = k/(k-1) (1 - k / 1'R1)``. Matches
    ``psych::alpha(lavaan::lavCor(x, ordered = names(x)), n.obs = n)`` (psych 2.2.9):
    ``raw_alpha``, ``G6(smc)``, ``average_r``, ``ase``, ``alpha.drop`` and ``item.stats``'s
    ``r``, ``r.cor``, ``r.drop``. psych's Feldt interval for a correlation matrix ignores
    ``n.obs`` and is not reported. Ordinal alpha estimates the reliability of the latent
    continuous responses, not of the observed sum score; it is higher than alpha when
    answers are few and skewed.

    References
    ----------
    Zumbo, B. D., Gadermann, A. M., & Zeisser, C. (2007). Ordinal versions of coefficients
    alpha and theta for Likert rating scales. Journal of Modern Applied Statistical Methods,
    6, 21-29. doi:10.22237/jmasm/1177992180

    Gadermann, A. M., Guhn, M., & Zumbo, B. D. (2012). Estimating ordinal reliability for
    Likert-type and ordinal item response data. Practical Assessment, Research &
    Evaluation, 17(3). doi:10.7275/n560-j767
    """
    x = data.apply(pd.to_numeric, errors="coerce").astype(float)
    k = x.shape[1]
    if k < 2:
        raise SurveyDataError("Ordinal alpha needs at least two items.")
    names = [str(c) for c in x.columns]
    values = x.to_numpy()
    nan = np.isnan(values)
    n = int((~nan.any(axis=1)).sum() if missing == "listwise" else (~nan.all(axis=1)).sum())
    r = polychoric_matrix(values, names, missing=missing)
    parts = _alpha_parts(r)
    ase = math.sqrt(parts["q"] / n)
    z = norm_ppf(0.5 + conf_level / 2.0)
    std_r, r_cor, r_drop, drop_raw, _, _ = _item_statistics(r, n)
    items = pd.DataFrame({"item": names, "std_r": std_r, "r_cor": r_cor, "citc": r_drop,
                          "alpha_if_deleted": drop_raw})
    return OrdinalAlphaResult(alpha=float(parts["std"]), ase=ase,
                              ci_lower=float(parts["std"] - z * ase),
                              ci_upper=float(parts["std"] + z * ase), g6=float(parts["g6"]),
                              average_r=float(parts["av_r"]), n_obs=n, n_items=k, items=items,
                              missing=missing, conf_level=conf_level)


# ---------------------------------------------------------------------------------------------
# model-based reliability
# ---------------------------------------------------------------------------------------------

def _matrices(fit: FitResult):
    """(A, full covariance of all variables, observed names, latent names) of a 1-group fit."""
    if fit.model is None or fit.theta is None:
        raise ModelError("The fit result holds no compiled model; refit with fit_model.")
    if fit.model.ngroups != 1:
        raise ModelError("Model-based reliability is implemented for single-group fits only.")
    a, _, _ = fit.model.matrices(fit.theta, 0)
    full, _ = fit.model.implied(fit.theta, 0, all_vars=True)
    return a, full, list(fit.model.observed), list(fit.model.latent)


def _total_cov(fit: FitResult, total_cov) -> pd.DataFrame:
    if total_cov is None:
        return fit.sample_cov
    if isinstance(total_cov, pd.DataFrame):
        return total_cov
    obs = list(fit.observed)
    return pd.DataFrame(np.asarray(total_cov, dtype=float), index=obs, columns=obs)


def loadings(fit: FitResult) -> dict[str, dict[str, float]]:
    """Unstandardized loadings ``{factor: {indicator: lambda}}`` of the observed indicators."""
    a, _, obs, lat = _matrices(fit)
    p = len(obs)
    out: dict[str, dict[str, float]] = {}
    for j, f in enumerate(lat):
        col = a[:p, p + j]
        ind = {obs[i]: float(col[i]) for i in range(p) if col[i] != 0.0}
        if ind:
            out[f] = ind
    return out


def omega(fit: FitResult, *, total_cov=None) -> dict[str, float]:
    """McDonald's omega of each factor, as ``semTools::compRelSEM(fit)``.

    Parameters
    ----------
    fit : FitResult
        A single-group fit with continuous indicators.
    total_cov : pandas.DataFrame or ndarray, optional
        Covariance of the observed variables to use as the total variance. By default the
        fit's ``sample_cov``: the saturated model's covariance with divisor n (compRelSEM's
        ``obs.var = TRUE``), which for a FIML fit is the EM estimate (lavaan's ``sampstat``).

    Returns
    -------
    dict
        ``{factor: omega}`` for every factor with at least two observed indicators (semTools'
        ``dropSingle = TRUE``), in the model's latent order.

    Notes
    -----
    ``omega_f = (sum_i lambda_i)^2 phi_f / 1' S_f 1`` with the unstandardized loadings of f,
    ``phi_f`` the model-implied (total) variance of f (``lavInspect(fit, "cov.lv")``) and
    ``S_f`` the observed covariance of f's indicators, so residual covariances among them
    lower omega. semTools 0.5.6 defaults: ``obs.var = TRUE``, ``tau.eq = FALSE``; matches
    ``semTools::compRelSEM``.

    References
    ----------
    McDonald, R. P. (1999). Test theory: A unified treatment. Erlbaum.

    Bentler, P. M. (2009). Alpha, dimension-free, and model-based internal consistency
    reliability. Psychometrika, 74, 137-143. doi:10.1007/s11336-008-9100-1
    """
    a, full, obs, lat = _matrices(fit)
    s = _total_cov(fit, total_cov)
    p = len(obs)
    ordered = _ordered_items(fit)
    out: dict[str, float] = {}
    for j, f in enumerate(lat):
        col = a[:p, p + j]
        idx = np.flatnonzero(col != 0.0)
        if len(idx) < 2:
            continue
        names = [obs[i] for i in idx]
        lam = col[idx]
        if any(v in ordered for v in names):
            if not all(v in ordered for v in names):
                out[f] = math.nan  # semTools: no omega for a mix of ordered and continuous
                continue
            truevar = np.outer(lam, lam) * full[p + j, p + j]
            out[f] = _omega_categorical(fit, names, truevar, s.loc[names, names].to_numpy())
            continue
        common = lam.sum() ** 2 * full[p + j, p + j]
        out[f] = float(common / s.loc[names, names].to_numpy().sum())
    return out


def _ordered_items(fit: FitResult) -> set:
    est = fit.estimates
    return set(est.loc[est["op"] == "|", "lhs"])


def _omega_categorical(fit: FitResult, names, truevar, total) -> float:
    """Green & Yang's (2009) omega of the sum of ordered items: the variance of the summed
    category scores due to the factor over their total variance, with the thresholds and the
    scaling factors of the fit (semTools' ``omegaCat``, used by ``compRelSEM`` for ordered
    indicators).

    Notes
    -----
    With t the model thresholds times the scaling factors s, R = diag(s) truevar diag(s) and
    P the polychoric correlations (``obs.var = TRUE``):
    omega = sum_jj' [sum_cc' Phi2(t_jc, t_j'c'; R_jj') - sum_c Phi(t_jc) sum_c' Phi(t_j'c')]
    / sum_jj' [sum_cc' Phi2(t_jc, t_j'c'; P_jj') - sum_c Phi(t_jc) sum_c' Phi(t_j'c')].

    References
    ----------
    Green, S. B., & Yang, Y. (2009). Reliability of summed item scores using structural
    equation modeling: An alternative to coefficient alpha. *Psychometrika*, 74(1), 155-167.
    https://doi.org/10.1007/s11336-008-9099-3
    """
    from ..sem.polychoric import bivariate_normal_cdf

    est = fit.estimates
    if "group" in est.columns:
        est = est[est["group"] == 1]
    th = {v: est.loc[(est["op"] == "|") & (est["lhs"] == v), "est"].to_numpy(dtype=float)
          for v in names}
    scale_rows = est[est["op"] == "~*~"].set_index("lhs")["est"]
    scales = np.array([float(scale_rows.get(v, 1.0)) for v in names])
    R = truevar * np.outer(scales, scales)
    sd = np.sqrt(np.diag(total))
    P = total / np.outer(sd, sd)
    t = [th[v] * s_ for v, s_ in zip(names, scales)]
    phi1 = [norm_cdf(x).sum() for x in t]
    num = den = 0.0
    for j in range(len(names)):
        for k in range(len(names)):
            a, b = np.meshgrid(t[j], t[k], indexing="ij")
            prod = phi1[j] * phi1[k]
            num += bivariate_normal_cdf(a, b, R[j, k]).sum() - prod
            den += bivariate_normal_cdf(a, b, P[j, k]).sum() - prod
    return float(num / den)


def omega_higher_order(fit: FitResult, higher, *, total_cov=None) -> dict[str, float]:
    """Omega of the composite of a higher-order factor's items, as
    ``semTools::compRelSEM(fit, higher = ...)``.

    Parameters
    ----------
    fit : FitResult
        A single-group second-order model.
    higher : str or sequence of str
        The higher-order factor(s).
    total_cov : optional
        As in :func:`omega`.

    Returns
    -------
    dict
        The first-order omegas of :func:`omega` followed by ``{higher: omega_L1}``.

    Raises
    ------
    ModelError
        If a name is not a latent variable with latent indicators.

    Notes
    -----
    For the observed indicators of the higher-order factor ``h`` and of its first-order
    factors, ``omega_h = 1' L B Phi B' L' 1 / 1' S 1`` with ``L`` their loadings on
    ``(h, first-order factors)``, ``B`` the loadings among those latent variables and ``Phi``
    their model-implied covariance: the share of the total score's variance due to ``h``
    (``omegaL1`` of Jorgensen et al.). Matches ``semTools::compRelSEM(fit, higher = "g")``.

    References
    ----------
    Jorgensen, T. D., Pornprasertmanit, S., Schoemann, A. M., & Rosseel, Y. (2022). semTools:
    Useful tools for structural equation modeling. R package 0.5-6.
    """
    if isinstance(higher, str):
        higher = [higher]
    a, full, obs, lat = _matrices(fit)
    s = _total_cov(fit, total_cov)
    p = len(obs)
    out = omega(fit, total_cov=total_cov)
    for h in higher:
        if h not in lat:
            raise ModelError(f"{h!r} is not a latent variable of the model.")
        jh = p + lat.index(h)
        lat_ind = [f for k_, f in enumerate(lat) if a[p + k_, jh] != 0.0]
        if not lat_ind:
            raise ModelError(f"{h!r} has no latent indicators; it is not a higher-order factor.")
        group = [h] + lat_ind
        gi = [p + lat.index(g) for g in group]
        ind = sorted({i for g in gi for i in np.flatnonzero(a[:p, g] != 0.0)})
        names = [obs[i] for i in ind]
        lmat = a[np.ix_(ind, gi)]
        bmat = a[np.ix_(gi, gi)]
        phi = full[np.ix_(gi, gi)]
        lb = lmat @ bmat
        ordered = _ordered_items(fit)
        if any(v in ordered for v in names):
            out[h] = (_omega_categorical(fit, names, lb @ phi @ lb.T,
                                         s.loc[names, names].to_numpy())
                      if all(v in ordered for v in names) else math.nan)
            continue
        common = (lb @ phi @ lb.T).sum()
        out[h] = float(common / s.loc[names, names].to_numpy().sum())
    return out


def ave(fit: FitResult, *, total_cov=None) -> dict[str, float]:
    """Average variance extracted of each factor, as ``semTools::AVE(fit)``.

    Parameters
    ----------
    fit : FitResult
        A single-group fit.
    total_cov : optional
        As in :func:`omega`.

    Returns
    -------
    dict
        ``{factor: AVE}`` for factors with at least two observed indicators; NaN when an
        indicator of the factor loads on another factor too.

    Notes
    -----
    ``AVE_f = sum_i lambda_i^2 phi_f / sum_i s_ii`` with the observed item variances
    ``s_ii`` (``obs.var = TRUE``); matches ``semTools::AVE`` (0.5.6). With standardized
    loadings and model-implied variances it is Fornell & Larcker's ``mean(lambda_std^2)``.

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
    unobservable variables and measurement error. Journal of Marketing Research, 18, 39-50.
    doi:10.2307/3151312
    """
    a, full, obs, lat = _matrices(fit)
    s = _total_cov(fit, total_cov)
    p = len(obs)
    lam_obs = a[:p, p:]
    multi = [j for j in range(len(lat)) if np.count_nonzero(lam_obs[:, j]) > 1]
    cross = np.sum(np.round(lam_obs[:, multi], 5) != 0, axis=1) > 1
    out: dict[str, float] = {}
    for j in multi:
        idx = np.flatnonzero(lam_obs[:, j] != 0.0)
        if np.any(cross[idx]):
            out[lat[j]] = float("nan")
            continue
        names = [obs[i] for i in idx]
        common = np.sum(lam_obs[idx, j] ** 2) * full[p + j, p + j]
        out[lat[j]] = float(common / np.diag(s.loc[names, names].to_numpy()).sum())
    return out


def composite_reliability(fit: FitResult) -> dict[str, float]:
    """Composite (construct) reliability from the standardized solution.

    Parameters
    ----------
    fit : FitResult
        A single-group fit.

    Returns
    -------
    dict
        ``{factor: CR}`` for factors with at least two observed indicators.

    Notes
    -----
    ``CR = (sum_i lambda_i)^2 / ((sum_i lambda_i)^2 + sum_i theta_i)`` with the completely
    standardized loadings ``lambda_i`` (``std.all``) and residual variances
    ``theta_i = std.all`` of ``x_i ~~ x_i`` (``1 - lambda_i^2`` for simple structure): the
    model-implied reliability of the sum of the *standardized* items. compRelSEM's omega
    refers to the sum of the raw items, so the two differ when item variances differ.

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Journal of Marketing Research, 18, 39-50.
    doi:10.2307/3151312

    Hair, J. F., Black, W. C., Babin, B. J., & Anderson, R. E. (2019). Multivariate data
    analysis (8th ed.). Cengage.
    """
    est = fit.estimates
    if "group" in est.columns and est["group"].nunique() > 1:
        raise ModelError("Composite reliability is implemented for single-group fits only.")
    obs = set(fit.observed)
    load = est[(est["op"] == "=~") & est["rhs"].isin(obs)]
    resid = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"]) & est["lhs"].isin(obs)]
    theta = dict(zip(resid["lhs"], resid["std_all"].astype(float)))
    out: dict[str, float] = {}
    for f, rows in load.groupby("lhs", sort=False):
        if len(rows) < 2:
            continue
        lam = rows["std_all"].to_numpy(dtype=float)
        err = sum(theta.get(v, np.nan) for v in rows["rhs"])
        num = lam.sum() ** 2
        out[str(f)] = float(num / (num + err))
    return out
