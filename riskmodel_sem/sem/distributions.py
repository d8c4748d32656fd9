"""The distribution functions behind every test and interval, from :mod:`scipy.special`.

These are the functions :mod:`scipy.stats` itself evaluates (its ``chi2``, ``ncx2``, ``norm``
and ``f`` objects call the same special functions), without importing ``scipy.stats``, which
costs more than a second each time the command line starts. Arguments broadcast as numpy's.

Examples
--------
>>> round(float(chi2_sf(3.841458820694124, 1)), 6)
0.05
>>> round(float(norm_ppf(0.975)), 6)
1.959964
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["chi2_sf", "chi2_cdf", "chi2_ppf", "ncx2_cdf", "ncx2_sf", "ncx2_ppf", "norm_cdf",
           "norm_sf", "norm_ppf", "f_ppf"]


def chi2_sf(x, df):
    """P(X > x) for X ~ chi-square(df) (R's ``pchisq(x, df, lower.tail = FALSE)``)."""
    return special.chdtrc(df, x)


def chi2_cdf(x, df):
    """P(X <= x) for X ~ chi-square(df) (R's ``pchisq(x, df)``)."""
    return special.chdtr(df, x)


def chi2_ppf(q, df):
    """The q-quantile of chi-square(df) (R's ``qchisq(q, df)``): 2 P^-1(df/2, q) with P the
    regularized lower incomplete gamma function."""
    return 2.0 * special.gammaincinv(np.asarray(df, dtype=float) / 2.0, q)


def ncx2_cdf(x, df, nc):
    """P(X <= x) for X ~ noncentral chi-square(df, nc) (R's ``pchisq(x, df, ncp = nc)``); the
    central distribution when nc = 0."""
    x, df, nc = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, df, nc)))
    out = special.chdtr(df, x)
    pos = nc != 0
    if np.any(pos):
        out = np.where(pos, special.chndtr(x, df, np.where(pos, nc, 1.0)), out)
    return out[()] if out.ndim == 0 else out


def ncx2_sf(x, df, nc):
    """1 - P(X <= x) for X ~ noncentral chi-square(df, nc), computed as lavaan does
    (``1 - pchisq(x, df, ncp = nc)``)."""
    return 1.0 - ncx2_cdf(x, df, nc)


def ncx2_ppf(q, df, nc):
    """The q-quantile of noncentral chi-square(df, nc) (R's ``qchisq(q, df, ncp = nc)``); the
    central quantile when nc = 0."""
    q, df, nc = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (q, df, nc)))
    out = chi2_ppf(q, df)
    pos = nc != 0
    if np.any(pos):
        out = np.where(pos, special.chndtrix(q, df, np.where(pos, nc, 1.0)), out)
    return out[()] if out.ndim == 0 else out


def norm_cdf(x):
    """The standard normal distribution function (R's ``pnorm``)."""
    return special.ndtr(x)


def norm_sf(x):
    """P(Z > x) for a standard normal Z (R's ``pnorm(x, lower.tail = FALSE)``)."""
    return special.ndtr(np.negative(x))


def norm_ppf(q):
    """The q-quantile of the standard normal distribution (R's ``qnorm``)."""
    return special.ndtri(q)


def f_ppf(q, dfn, dfd):
    """The q-quantile of F(dfn, dfd) (R's ``qf``)."""
    return special.fdtri(dfn, dfd, q)
