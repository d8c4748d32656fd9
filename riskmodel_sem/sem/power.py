"""Analytic power: the RMSEA tests of close and not-close fit, and Wald tests of parameters.

Two analytic answers to "how many respondents does the model need?":

* :func:`rmsea_power` and :func:`rmsea_n_required`: the power of the tests of close fit
  (H0: RMSEA <= .05 against RMSEA = .08) and of not-close fit (H0: RMSEA >= .05 against RMSEA =
  .01) for a model with ``df`` degrees of freedom, after MacCallum, Browne & Sugawara (1996).
* :func:`wald_power` and :func:`wald_n_required`: the power of the two-sided Wald test of one
  parameter whose asymptotic standard error at N is ``se1 / sqrt(N)`` (the expected-information
  SE of the population model fitted to its own covariance matrix,
  :func:`riskmodel_sem.sem.estimation.fit_population`).

Nothing here draws random numbers; Monte Carlo power lives in
:mod:`riskmodel_sem.workflow.power`.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import OptionError
from .distributions import ncx2_cdf, ncx2_ppf, norm_cdf, norm_ppf

__all__ = ["rmsea_power", "rmsea_n_required", "wald_power", "wald_n_required",
           "RMSEA_CONVENTION", "MAX_N"]

#: The sample-size convention of the RMSEA noncentrality, stated in results and reports.
RMSEA_CONVENTION = ("noncentrality (N - 1) * df * RMSEA^2 / G (MacCallum, Browne & Sugawara, "
                    "1996; semTools::findRMSEApower)")

#: Largest N searched for a required sample size.
MAX_N = 1_000_000


def _check(alpha: float, n) -> None:
    if not 0.0 < alpha < 1.0:
        raise OptionError(f"The significance level must lie between 0 and 1, got {alpha!r}.")
    if np.any(np.asarray(n) < 2):
        raise OptionError("Sample sizes must be at least 2.")


def rmsea_power(df: int, n, *, alpha: float = 0.05, rmsea0: float = 0.05,
                rmsea1: float = 0.08, ngroups: int = 1):
    """Power of the RMSEA test of H0: RMSEA = ``rmsea0`` against RMSEA = ``rmsea1``.

    Parameters
    ----------
    df : int
        Degrees of freedom of the model (positive).
    n : int or array_like of int
        Total sample size(s).
    alpha : float
        Significance level.
    rmsea0, rmsea1 : float
        RMSEA under the null and the alternative hypothesis. ``rmsea1 > rmsea0`` is the test of
        close fit (defaults .05 against .08); ``rmsea1 < rmsea0`` the test of not-close fit
        (.05 against .01).
    ngroups : int
        Number of groups G.

    Returns
    -------
    float or numpy.ndarray

    Notes
    -----
    With lambda_i = (N - 1) df rmsea_i^2 / G: for close fit, c = qchisq(1 - alpha, df, lambda_0)
    and power = P(chi2(df, lambda_1) > c); for not-close fit, c = qchisq(alpha, df, lambda_0) and
    power = P(chi2(df, lambda_1) < c). Matches ``semTools::findRMSEApower`` (which also uses
    N - 1) and MacCallum, Browne & Sugawara (1996).

    References
    ----------
    MacCallum, R. C., Browne, M. W., & Sugawara, H. M. (1996). Power analysis and determination
    of sample size for covariance structure modeling. *Psychological Methods*, 1(2), 130-149.
    https://doi.org/10.1037/1082-989X.1.2.130

    Examples
    --------
    >>> round(float(rmsea_power(20, 200)), 4)
    0.4544
    """
    if not df > 0:
        raise OptionError(f"RMSEA power needs a model with positive degrees of freedom, got "
                          f"df = {df}.")
    _check(alpha, n)
    n = np.asarray(n, dtype=float)
    lam0 = (n - 1) * df * rmsea0 ** 2 / ngroups
    lam1 = (n - 1) * df * rmsea1 ** 2 / ngroups
    if rmsea1 > rmsea0:
        out = 1.0 - ncx2_cdf(ncx2_ppf(1 - alpha, df, lam0), df, lam1)
    else:
        out = ncx2_cdf(ncx2_ppf(alpha, df, lam0), df, lam1)
    return out[()] if np.ndim(out) == 0 else out


def _smallest_n(power_at, target: float, n_min: int = 2) -> int | None:
    """Smallest integer N >= n_min with power_at(N) >= target (power increasing in N), or None
    when even MAX_N does not reach it."""
    if power_at(n_min) >= target:
        return n_min
    if power_at(MAX_N) < target:
        return None
    lo, hi = n_min, n_min
    while power_at(hi) < target:
        lo, hi = hi, min(hi * 2, MAX_N)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if power_at(mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi


def rmsea_n_required(df: int, power: float = 0.80, *, alpha: float = 0.05,
                     rmsea0: float = 0.05, rmsea1: float = 0.08, ngroups: int = 1) -> int | None:
    """Smallest N whose :func:`rmsea_power` reaches ``power`` (None if above 1,000,000).

    Examples
    --------
    >>> rmsea_n_required(20)
    434
    """
    if not 0.0 < power < 1.0:
        raise OptionError(f"The target power must lie between 0 and 1, got {power!r}.")
    return _smallest_n(lambda n: float(rmsea_power(df, n, alpha=alpha, rmsea0=rmsea0,
                                                   rmsea1=rmsea1, ngroups=ngroups)), power)


def wald_power(est, se, *, alpha: float = 0.05):
    """Power of the two-sided Wald test of H0: parameter = 0 when its value is ``est`` and its
    standard error ``se``.

    Notes
    -----
    power = Phi(|est|/se - z) + Phi(-|est|/se - z), z = Phi^-1(1 - alpha/2): the probability
    that |est_hat / se| exceeds z when est_hat ~ N(est, se^2).
    """
    _check(alpha, 2)
    est = np.abs(np.asarray(est, dtype=float))
    se = np.asarray(se, dtype=float)
    z = float(norm_ppf(1 - alpha / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = est / se
    out = norm_cdf(ratio - z) + norm_cdf(-ratio - z)
    return out[()] if np.ndim(out) == 0 else out


def wald_n_required(est: float, se1: float, power: float = 0.80, *,
                    alpha: float = 0.05) -> int | None:
    """Smallest N at which :func:`wald_power` with SE ``se1 / sqrt(N)`` reaches ``power``;
    None for a parameter of zero or an N above 1,000,000."""
    if not 0.0 < power < 1.0:
        raise OptionError(f"The target power must lie between 0 and 1, got {power!r}.")
    if not (math.isfinite(est) and math.isfinite(se1)) or est == 0 or se1 <= 0:
        return None
    return _smallest_n(lambda n: float(wald_power(est, se1 / math.sqrt(n), alpha=alpha)),
                       power)
