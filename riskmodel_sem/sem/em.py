"""The EM algorithm for the saturated (unrestricted) normal model with missing data.

One implementation, used by FIML (the h1 model and its log-likelihood), by data screening
(Mahalanobis distances) and by the validity module (correlations under ``missing = "fiml"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .objective import group_data, pattern_loglik, pattern_sums

__all__ = ["EMResult", "em_estimate", "em_saturated"]


@dataclass(frozen=True)
class EMResult:
    """ML mean vector and covariance (divisor n) of incomplete normal data.

    Attributes
    ----------
    mean, cov : numpy.ndarray
    loglik : float
        The maximized observed-data log-likelihood (lavaan's ``unrestricted.logl``).
    iterations : int
    converged : bool
    """

    mean: np.ndarray
    cov: np.ndarray
    loglik: float
    iterations: int
    converged: bool


def em_estimate(values: np.ndarray, tol: float = 1e-11, max_iter: int = 10000) -> EMResult:
    """Maximum-likelihood mean vector and covariance matrix of incomplete normal data by EM.

    Parameters
    ----------
    values : numpy.ndarray
        (n, p) data with NaN for missing entries; every row has at least one value and every
        column at least one observed value.
    tol : float
        Convergence criterion on the largest change of any mean or covariance element.
    max_iter : int

    Returns
    -------
    EMResult

    Notes
    -----
    Start: the observed means and variances (zero covariances). E-step per missing-data
    pattern: E[x_m | x_o] = mu_m + S_mo S_oo^-1 (x_o - mu_o) and Cov[x_m | x_o] =
    S_mm - S_mo S_oo^-1 S_om added to the cross-products; M-step: the completed means and
    cross-products (divisor n). Both from the pattern means and covariances and the one
    inverse K = S^-1 (S_mo S_oo^-1 = -(K_mm)^-1 K_mo, S_mm - S_mo S_oo^-1 S_om = (K_mm)^-1),
    all patterns at once (:func:`riskmodel_sem.sem.objective.pattern_sums`). Complete data give
    the sample moments in one step. Matches
    ``lav_mvnorm_missing_h1_estimate_moments`` (lavaan 0.6.14), run to a tighter tolerance.

    References
    ----------
    Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum likelihood from incomplete
    data via the EM algorithm. *JRSS B*, 39, 1-38.

    Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis with missing data* (2nd ed.),
    section 11.2. Wiley.
    """
    gd = group_data(values)
    n, p = values.shape
    mu = np.nanmean(values, axis=0)
    if gd.complete:
        pat = gd.patterns[0]
        return EMResult(pat.mean, pat.cov, gd.logl_h1, 1, True)
    sigma = np.diag(np.nanvar(values, axis=0))
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        sums = pattern_sums(sigma, mu, gd)
        if sums is None:
            break
        _, M, zbar, _ = sums
        new_mu = mu + zbar
        new_sigma = M - np.outer(zbar, zbar)
        new_sigma = 0.5 * (new_sigma + new_sigma.T)
        change = max(np.max(np.abs(new_mu - mu)), np.max(np.abs(new_sigma - sigma)))
        mu, sigma = new_mu, new_sigma
        if change < tol:
            converged = True
            break
    return EMResult(mu, sigma, pattern_loglik(sigma, mu, gd), it, converged)


def em_saturated(values: np.ndarray, tol: float = 1e-11, max_iter: int = 10000):
    """:func:`em_estimate` as a tuple ``(mean, cov, loglik, converged)``."""
    res = em_estimate(values, tol, max_iter)
    return res.mean, res.cov, res.loglik, res.converged
