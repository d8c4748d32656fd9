"""Bootstrap confidence intervals and standard errors (deterministic functions of the draws).

Percentile and bias-corrected (lavaan's ``bca.simple``) intervals with the ``norm.inter``
interpolation of the boot package, as lavaan 0.6.14's ``parameterEstimates(boot.ci.type =
"perc" / "bca.simple")`` computes them.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import OptionError
from ..distributions import norm_cdf, norm_ppf

__all__ = ["percentile_ci", "bca_simple_ci", "bootstrap_se", "check_level"]


# ------------------------------------------------------------------------------------------
# confidence intervals (deterministic functions of the draws)
# ------------------------------------------------------------------------------------------

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
            z = float(norm_ppf(a))
            z_k = float(norm_ppf(k / (r + 1)))
            z_k1 = float(norm_ppf((k + 1) / (r + 1)))
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


def check_level(level: float) -> None:
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
    check_level(level)
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
    check_level(level)
    arr, single = _columns(draws)
    est = np.atleast_1d(np.asarray(est, dtype=float))
    if est.shape[0] != arr.shape[1]:
        raise ValueError("One estimate per column of draws is needed.")
    zalpha = norm_ppf(np.array([(1 - level) / 2, (1 + level) / 2]))
    lo = np.empty(arr.shape[1])
    hi = np.empty(arr.shape[1])
    for j in range(arr.shape[1]):
        t = arr[:, j]
        t = t[np.isfinite(t)]
        t0 = est[j]
        if len(t) < 2 or np.var(t) == 0.0:
            lo[j] = hi[j] = t0
            continue
        w = norm_ppf(np.sum(t < t0) / len(t))
        a = 0.0
        with np.errstate(invalid="ignore"):  # w = -Inf gives NaN bounds, as in lavaan
            adj = norm_cdf(w + (w + zalpha) / (1 - a * (w + zalpha)))
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
