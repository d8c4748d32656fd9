"""Sample statistics of ordinal (and mixed ordinal / continuous) data, as lavaan 0.6.14.

One group at a time (the caller splits groups): thresholds from the marginal proportions,
polychoric correlations (two ordered variables), polyserial correlations (one continuous, one
ordered) and Pearson correlations (two continuous variables), each by two-step maximum
likelihood with the univariate parameters held fixed (Olsson 1979; Olsson, Drasgow & Dorans
1982), and the asymptotic covariance matrix of all of them from the casewise scores with
Muthen's (1984) two-step correction. These are the statistics lavaan's DWLS / WLSMV / ULSMV
estimators fit (``lavInspect(fit, "wls.obs")`` and ``lavInspect(fit, "gamma")``) and the
correlations ``lavCor(data, ordered = ...)`` returns.

The bivariate normal distribution function is Genz's double-precision version of the
Drezner & Wesolowsky (1989) Gauss-Legendre method, the algorithm of the Fortran routine behind
R's ``pbivnorm`` that lavaan calls; all pairs of variables are handled at once in numpy.

References
----------
Muthen, B. (1984). A general structural equation model with dichotomous, ordered categorical,
and continuous latent variable indicators. Psychometrika, 49, 115-132. doi:10.1007/BF02294210
Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation coefficient.
Psychometrika, 44, 443-460. doi:10.1007/BF02296207
Olsson, U., Drasgow, F. & Dorans, N. J. (1982). The polyserial correlation coefficient.
Psychometrika, 47, 337-347. doi:10.1007/BF02294164
Drezner, Z. & Wesolowsky, G. O. (1990). On the computation of the bivariate normal integral.
Journal of Statistical Computation and Simulation, 35, 101-107. doi:10.1080/00949659008811236
Genz, A. (2004). Numerical computation of rectangular bivariate and trivariate normal and t
probabilities. Statistics and Computing, 14, 251-260. doi:10.1023/B:STCO.0000035304.20635.31

Examples
--------
>>> import numpy as np
>>> round(float(bivariate_normal_cdf(0.0, 0.0, 0.5)), 12)
0.333333333333
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import special

from ..errors import DataQualityWarning, ModelError, OptionError, SurveyDataError

__all__ = ["OrdinalStats", "ordinal_stats", "conditional_stats", "polychoric_matrix",
           "bivariate_normal_cdf", "MAX_CATEGORIES"]

#: An ordered variable with more answer categories than this is refused: it is a rating or a
#: count to be analysed as continuous, and its polychoric tables are mostly empty cells.
MAX_CATEGORIES = 20

_SQRT_EPS = np.sqrt(np.finfo(float).eps)
_TWO_PI = 2.0 * np.pi

# Gauss-Legendre nodes (positive half) and weights with 6, 12 and 20 points.
_GL = {
    6: (np.array([0.9324695142031522, 0.6612093864662647, 0.2386191860831970]),
        np.array([0.1713244923791705, 0.3607615730481384, 0.4679139345726904])),
    12: (np.array([0.9815606342467191, 0.9041172563704750, 0.7699026741943050,
                   0.5873179542866171, 0.3678314989981802, 0.1252334085114692]),
         np.array([0.04717533638651177, 0.1069393259953183, 0.1600783285433464,
                   0.2031674267230659, 0.2334925365383547, 0.2491470458134029])),
    20: (np.array([0.9931285991850949, 0.9639719272779138, 0.9122344282513259,
                   0.8391169718222188, 0.7463319064601508, 0.6360536807265150,
                   0.5108670019508271, 0.3737060887154196, 0.2277858511416451,
                   0.07652652113349733]),
         np.array([0.01761400713915212, 0.04060142980038694, 0.06267204833410906,
                   0.08327674157670475, 0.1019301198172404, 0.1181945319615184,
                   0.1316886384491766, 0.1420961093183821, 0.1491729864726037,
                   0.1527533871307259])),
}


@dataclass(frozen=True)
class OrdinalStats:
    """The sample statistics of one group for lavaan's categorical estimators.

    Attributes
    ----------
    n : int
        Number of rows used (after listwise deletion; all non-empty rows with pairwise).
    names : tuple of str
        Observed variables in model order.
    ordered : tuple of bool
        Which variables are ordered.
    thresholds : ndarray
        Thresholds in lavaan's order: per ordered variable t1..tk (see ``th_index``).
    th_index : tuple of (int, int)
        For each threshold the variable index (0-based, into ``names``) and its number 1..k.
    means, variances : ndarray
        Mean and variance (divisor n) of each continuous variable; 0 and 1 for ordered ones.
    correlations : ndarray
        p x p polychoric / polyserial / Pearson correlations.
    wls_obs : ndarray
        ``lavInspect(fit, "wls.obs")``: thresholds with minus the mean of each continuous
        variable in its place, the variances of the continuous variables, then the
        covariances below the diagonal column by column (correlations scaled by the standard
        deviations of continuous variables).
    gamma : ndarray
        ``lavInspect(fit, "gamma")``: n times the asymptotic covariance matrix of ``wls_obs``.
    wls_names : tuple of str
        lavaan's names of the ``wls_obs`` elements (``x1|t1``, ``y~1``, ``y~~y``, ``x1~~x2``).
    categories : tuple of tuple of float
        The answer values of each ordered variable in order (empty for continuous ones).
    zero_cell_pairs : tuple of (str, str)
        Pairs of ordered variables whose bivariate table has an empty cell.
    exo_names : tuple of str
        With observed covariates (:func:`conditional_stats`, lavaan's ``conditional.x``):
        their names; empty otherwise.
    slopes : ndarray
        p x k probit (ordered) or linear (continuous) regression slopes on the covariates;
        ``thresholds``, ``means``, ``variances`` and ``correlations`` are then the
        intercept-side thresholds, the intercepts, residual variances and residual
        correlations given the covariates.
    exo_mean, exo_cov : ndarray
        Mean and covariance (divisor n) of the covariates, where ``fixed.x`` fixes them.
    """

    n: int
    names: tuple[str, ...]
    ordered: tuple[bool, ...]
    thresholds: np.ndarray
    th_index: tuple[tuple[int, int], ...]
    means: np.ndarray
    variances: np.ndarray
    correlations: np.ndarray
    wls_obs: np.ndarray
    gamma: np.ndarray
    wls_names: tuple[str, ...] = ()
    categories: tuple[tuple[float, ...], ...] = ()
    zero_cell_pairs: tuple[tuple[str, str], ...] = ()
    exo_names: tuple[str, ...] = ()
    slopes: np.ndarray | None = None
    exo_mean: np.ndarray | None = None
    exo_cov: np.ndarray | None = None


# ---------------------------------------------------------------------------------------------
# bivariate normal distribution


def _bvu(h, k, r):
    """P(X > h, Y > k) for standard bivariate normal (X, Y) with correlation r (1-D arrays,
    finite h and k, |r| <= 1); Genz's version of Drezner & Wesolowsky's method."""
    out = np.empty(h.shape)
    ar = np.abs(r)
    small = ar < 0.925
    for npt, sel in ((6, small & (ar < 0.3)), (12, small & (ar >= 0.3) & (ar < 0.75)),
                     (20, small & (ar >= 0.75))):
        if not sel.any():
            continue
        x, w = _GL[npt]
        hh, kk, rr = h[sel], k[sel], r[sel]
        hk = (hh * kk)[:, None]
        hs = ((hh * hh + kk * kk) / 2.0)[:, None]
        asr = np.arcsin(rr)
        nodes = np.concatenate([(1.0 - x) / 2.0, (1.0 + x) / 2.0])
        ww = np.concatenate([w, w])
        sn = np.sin(asr[:, None] * nodes[None, :])
        total = np.exp((sn * hk - hs) / (1.0 - sn * sn)) @ ww
        out[sel] = total * asr / (2.0 * _TWO_PI) + special.ndtr(-hh) * special.ndtr(-kk)
    big = ~small
    if big.any():
        x, w = _GL[20]
        hh, kk, rr = h[big], k[big].copy(), r[big]
        neg = rr < 0
        kk[neg] = -kk[neg]
        hk = hh * kk
        bvn = np.zeros(hh.shape)
        inner = np.abs(rr) < 1.0
        if inner.any():
            hi, ki, ri, hki = hh[inner], kk[inner], rr[inner], hk[inner]
            a_s = (1.0 - ri) * (1.0 + ri)
            a = np.sqrt(a_s)
            bs = (hi - ki) ** 2
            c = (4.0 - hki) / 8.0
            d = (12.0 - hki) / 16.0
            val = a * np.exp(-(bs / a_s + hki) / 2.0) * (
                1.0 - c * (bs - a_s) * (1.0 - d * bs / 5.0) / 3.0 + c * d * a_s * a_s / 5.0)
            tail = hki > -160.0
            b = np.sqrt(bs)
            with np.errstate(over="ignore", invalid="ignore"):
                corr = (np.exp(-hki / 2.0) * np.sqrt(_TWO_PI) * special.ndtr(-b / a) * b
                        * (1.0 - c * bs * (1.0 - d * bs / 5.0) / 3.0))
            val = val - np.where(tail, corr, 0.0)
            nodes = np.concatenate([(1.0 - x) / 2.0, (1.0 + x) / 2.0])
            ww = np.concatenate([w, w])
            xs = a_s[:, None] * nodes[None, :] ** 2
            rs = np.sqrt(1.0 - xs)
            bsc, hkc, cc, dc = bs[:, None], hki[:, None], c[:, None], d[:, None]
            terms = (np.exp(-bsc / (2.0 * xs) - hkc / (1.0 + rs)) / rs
                     - np.exp(-(bsc / xs + hkc) / 2.0) * (1.0 + cc * xs * (1.0 + dc * xs)))
            val = val + (a / 2.0) * (terms @ ww)
            bvn[inner] = -val / _TWO_PI
        pos = rr > 0
        bvn[pos] = bvn[pos] + special.ndtr(-np.maximum(hh[pos], kk[pos]))
        bvn[neg] = -bvn[neg] + np.maximum(0.0, special.ndtr(-hh[neg]) - special.ndtr(-kk[neg]))
        out[big] = bvn
    return out


def bivariate_normal_cdf(x, y, rho):
    """P(X <= x, Y <= y) for a standard bivariate normal pair with correlation ``rho``.

    Parameters
    ----------
    x, y, rho : array_like
        Upper limits and correlations (broadcast together); infinite limits are allowed.

    Returns
    -------
    ndarray or float

    Notes
    -----
    Genz's double-precision refinement of Drezner & Wesolowsky's (1990) method (Gauss-Legendre
    rules with 6, 12 or 20 points by |rho|, a separate expansion for |rho| >= 0.925), the
    algorithm of the Fortran routine behind R's ``pbivnorm::pbivnorm``, whose values (used by
    lavaan's ``lav_bvord_noexo_pi``) it matches to 1e-15.
    """
    x, y, r = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, y, rho)))
    shape = x.shape
    x, y, r = x.ravel(), y.ravel(), r.ravel()
    if np.any(np.abs(r) > 1.0):
        raise OptionError("A correlation passed to bivariate_normal_cdf is outside [-1, 1].")
    # like pbivnorm, which replaces infinite limits by the largest double
    x = np.clip(x, -40.0, 40.0)
    y = np.clip(y, -40.0, 40.0)
    out = _bvu(-x, -y, r)
    out = out.reshape(shape)
    return out[()] if out.ndim == 0 else out


def _dbinorm(u, v, rho):
    """The standard bivariate normal density (lavaan's ``dbinorm``)."""
    r2 = 1.0 - rho * rho
    return np.exp(-(u * u - 2.0 * rho * u * v + v * v) / (2.0 * r2)) / (_TWO_PI * np.sqrt(r2))


# ---------------------------------------------------------------------------------------------
# one-dimensional safeguarded Newton, all pairs at once


def _solve(score, lo, hi, start, *, tol=1e-8, max_iter=200):
    """Roots of decreasing score functions (one per pair) inside [lo, hi], by Newton steps
    (``score(rho, idx)`` returns the scores and their derivatives, or None for a central
    difference)
    kept inside a shrinking bracket (bisection when a step would leave it); a score still
    positive (negative) at ``hi`` (``lo``) gives the bound, as lavaan's bounded ``nlminb``."""
    rho = np.clip(np.asarray(start, dtype=float), lo + 1e-3, hi - 1e-3)
    lo = np.full(rho.shape, lo)
    hi = np.full(rho.shape, hi)
    active = np.ones(rho.shape, bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        r = rho[idx]
        g, h = score(r, idx)
        if h is None:
            eps = 1e-6
            h = (score(r + eps, idx)[0] - score(r - eps, idx)[0]) / (2.0 * eps)
        up, down = g > 0, g < 0
        lo[idx[up]] = np.maximum(lo[idx[up]], r[up])
        hi[idx[down]] = np.minimum(hi[idx[down]], r[down])
        with np.errstate(divide="ignore", invalid="ignore"):
            new = r - g / h
        bad = ~np.isfinite(new) | (h >= 0) | (new <= lo[idx]) | (new >= hi[idx])
        new[bad] = (lo[idx][bad] + hi[idx][bad]) / 2.0
        new[g == 0] = r[g == 0]
        step = np.abs(new - r)
        rho[idx] = new
        # a Newton step of size d leaves an error of order d**2
        done = ((step < tol) & ~bad) | (g == 0) | (hi[idx] - lo[idx] < 1e-13)
        active[idx[done]] = False
    return rho


# ---------------------------------------------------------------------------------------------
# ordinal_stats


def _coding(values, names, ordered, levels, group):
    """Integer codes 0..K-1 (-1 for missing) of the ordered columns and their categories."""
    n, p = values.shape
    codes = np.full((n, p), -1, dtype=np.int64)
    cats: list[tuple[float, ...]] = []
    where = f" in group {group}" if group is not None else ""
    for j in range(p):
        if not ordered[j]:
            cats.append(())
            continue
        col = values[:, j]
        obs = ~np.isnan(col)
        present = np.unique(col[obs])
        if levels is not None and levels[j] is not None and len(levels[j]) > 0:
            lev = np.asarray(sorted(float(v) for v in levels[j]))
            unknown = np.setdiff1d(present, lev)
            if unknown.size:
                raise SurveyDataError(
                    f"Ordered variable {names[j]!r} has the value {unknown[0]:g}{where}, "
                    f"which is not one of its categories {', '.join(f'{v:g}' for v in lev)}.")
        else:
            lev = present
        if lev.size > MAX_CATEGORIES:
            raise OptionError(
                f"Ordered variable {names[j]!r} has {lev.size} categories; more than "
                f"{MAX_CATEGORIES} answer categories cannot be treated as ordinal: analyse it as "
                "continuous (leave it out of ordered=).")
        if lev.size > 12:
            warnings.warn(f"Ordered variable {names[j]!r} has {lev.size} categories (more than "
                          "12, where lavaan warns too).", DataQualityWarning, stacklevel=3)
        if lev.size < 2:
            raise SurveyDataError(
                f"Ordered variable {names[j]!r} has a single category{where}"
                + (f" ({lev[0]:g})" if lev.size else "")
                + "; a threshold model needs at least two answer categories.")
        code = np.searchsorted(lev, col[obs])
        freq = np.bincount(code, minlength=lev.size)
        if np.any(freq == 0):
            raise SurveyDataError(
                f"Some categories of ordered variable {names[j]!r} are empty{where}; "
                f"frequencies of {', '.join(f'{v:g}' for v in lev)} are "
                f"[{' '.join(str(int(f)) for f in freq)}] (lavaan stops here too: merge "
                "categories or drop the variable).")
        codes[obs, j] = code
        cats.append(tuple(float(v) for v in lev))
    return codes, cats


def ordinal_stats(values: np.ndarray, names: Sequence[str], ordered: Sequence[bool], *,
                  missing: str = "listwise", levels=None, zero_add=(0.5, 0.0),
                  zero_keep_margins: bool = True, group=None, acov: bool = True) -> OrdinalStats:
    """Thresholds, polychoric / polyserial / Pearson correlations and their asymptotic
    covariance for one group, as lavaan 0.6.14's ``muthen1984()``.

    Parameters
    ----------
    values : ndarray, shape (n, p)
        The group's data in model order; NaN marks a missing answer. Ordered columns hold the
        answer codes (any numbers; their sorted distinct values are the categories).
    names : sequence of str
        Variable names (used in messages and ``wls_names``).
    ordered : sequence of bool
        Which columns are ordered.
    missing : {"listwise", "pairwise"}
        ``"listwise"`` drops every row with a missing value first; ``"pairwise"`` (lavaan's
        ``missing = "pairwise"``) uses each variable's and each pair's available answers and
        counts every non-empty row in ``n``.
    levels : sequence of sequences, optional
        The categories of each ordered variable over all groups (lavaan takes them from the
        whole data set); a category with no answer in this group is then an error, as in
        lavaan.
    zero_add, zero_keep_margins
        lavaan's ``zero.add`` (default ``c(0.5, 0)``: 0.5 is added to the empty cell of a 2 x 2
        table, keeping the margins, and nothing to larger tables) and ``zero.keep.margins``.
    group : str, optional
        The group's label, named in messages.
    acov : bool
        Compute ``gamma`` (the default); with False ``gamma`` is an empty 0 x 0 array and only
        the thresholds and correlations are estimated (about twice as fast).

    Returns
    -------
    OrdinalStats

    Raises
    ------
    SurveyDataError
        An ordered variable with one category, with an empty category (``levels`` given),
        or too few rows.
    OptionError
        More than :data:`MAX_CATEGORIES` categories, or an unknown ``missing``.

    Notes
    -----
    Step 1 fits each variable alone: thresholds ``qnorm`` of the cumulative proportions
    (``lav_uvord_fit`` without covariates), mean and variance (divisor n) of continuous
    variables. Step 2 maximizes each pair's likelihood over the correlation with step 1
    fixed (``lav_bvord_cor_twostep_fit``, ``lav_bvmix_cor_twostep_fit``,
    ``lav_bvreg_cor_twostep_fit``: Pearson's r with complete data). With S the n x q casewise
    scores of all step 1 and step 2 parameters, A the block-triangular matrix of their
    derivatives (A11 per variable, A21 the cross derivatives of each correlation's score
    with its variables' parameters, A22 diagonal), the asymptotic covariance is
    ``A^-1 S'S A^-T`` (Muthen 1984), mapped to covariances for continuous variables;
    ``gamma`` is n times it (``lavInspect(fit, "gamma")``).
    """
    values = np.array(values, dtype=float, copy=True)
    if values.ndim != 2:
        raise OptionError("ordinal_stats needs a two-dimensional array of answers.")
    names = tuple(str(v) for v in names)
    ordered = tuple(bool(v) for v in ordered)
    n_rows, p = values.shape
    if len(names) != p or len(ordered) != p:
        raise OptionError(f"ordinal_stats got {p} columns but {len(names)} names and "
                          f"{len(ordered)} ordered flags.")
    if missing not in ("listwise", "pairwise"):
        raise OptionError(f"Unknown missing={missing!r} for ordinal data; use 'listwise' or "
                          "'pairwise'.")
    nan = np.isnan(values)
    if missing == "listwise":
        values = values[~nan.any(axis=1)]
    else:
        values = values[~nan.all(axis=1)]
    n = values.shape[0]
    where = f" in group {group}" if group is not None else ""
    if n < 2:
        raise SurveyDataError(f"Only {n} usable row(s){where}; ordinal sample statistics "
                              "need at least two.")
    codes, cats = _coding(values, names, ordered, levels, group)
    ordv = np.array(ordered)
    obs = ~np.isnan(values)

    # ---- step 1: univariate ----------------------------------------------------------------
    nth_var = np.array([len(cats[j]) - 1 if ordv[j] else 1 for j in range(p)])
    th_end = np.cumsum(nth_var)
    th_start = th_end - nth_var
    nth = int(th_end[-1]) if p else 0
    num_idx = np.flatnonzero(~ordv)
    nnum = num_idx.size
    kmax = max([len(c) for c in cats] + [2])
    # boundaries per ordered variable: -inf, t1..t(K-1), +inf, padded with +inf
    bounds = np.full((p, kmax + 1), np.inf)
    bounds[:, 0] = -np.inf
    means = np.zeros(p)
    variances = np.ones(p)
    th_list, th_index, th_all = [], [], np.zeros(nth)
    sc_th = np.zeros((n, nth))
    sc_var = np.zeros((n, nnum))
    for j in range(p):
        o = obs[:, j]
        if ordv[j]:
            k = len(cats[j])
            freq = np.bincount(codes[o, j], minlength=k).astype(float)
            tau = special.ndtri(np.cumsum(freq)[:-1] / freq.sum())
            bounds[j, 1:k] = tau
            th_list.append(tau)
            th_index.extend((j, t + 1) for t in range(k - 1))
            th_all[th_start[j]:th_end[j]] = tau
            # casewise scores of the thresholds (lav_uvord_scores)
            c = codes[o, j]
            up, low = bounds[j, c + 1], bounds[j, c]
            pi = special.ndtr(up) - special.ndtr(low)
            dup, dlow = _dnorm(up), _dnorm(low)
            rows = np.flatnonzero(o)
            s = np.zeros((rows.size, k - 1))
            has_up = c < k - 1
            s[has_up, c[has_up]] = dup[has_up] / pi[has_up]
            has_low = c > 0
            s[has_low, c[has_low] - 1] = -dlow[has_low] / pi[has_low]
            sc_th[rows, th_start[j]:th_end[j]] = s
        else:
            y = values[o, j]
            mu = y.mean()
            var = np.mean((y - mu) ** 2)
            if not var > 0:
                raise SurveyDataError(f"Continuous variable {names[j]!r} has no variance{where}.")
            means[j], variances[j] = mu, var
            th_all[th_start[j]] = mu
            res = np.where(o, values[:, j] - mu, 0.0)
            sc_th[:, th_start[j]] = res / var
            sc_var[:, np.searchsorted(num_idx, j)] = np.where(
                o, -1.0 / (2.0 * var) + res * res / (2.0 * var * var), 0.0)

    # ---- step 2: pairs (j < i, lavaan's vech order below the diagonal) ------------------------
    jj, ii = np.triu_indices(p, k=1)           # j < i
    order = np.lexsort((ii, jj))               # column by column: j outer, i inner
    pj, pi_ = jj[order], ii[order]
    pstar = pj.size
    cor = np.eye(p)
    sc_cor = np.zeros((n, pstar))
    a21 = np.zeros((pstar, nth + nnum))
    zero_pairs: list[tuple[str, str]] = []
    both_ord = ordv[pj] & ordv[pi_]
    both_num = ~ordv[pj] & ~ordv[pi_]
    mixed = ~both_ord & ~both_num

    if both_ord.any():
        sel = np.flatnonzero(both_ord)
        rho, zp = _polychoric(codes, obs, bounds, cats, pi_[sel], pj[sel], names, zero_add,
                              zero_keep_margins)
        zero_pairs.extend(zp)
        cor[pi_[sel], pj[sel]] = cor[pj[sel], pi_[sel]] = rho
        if acov:
            _polychoric_scores(rho, codes, obs, bounds, cats, pi_[sel], pj[sel], sel, th_start,
                               sc_cor, a21)
    if mixed.any():
        sel = np.flatnonzero(mixed)
        num = np.where(ordv[pi_[sel]], pj[sel], pi_[sel])
        ordi = np.where(ordv[pi_[sel]], pi_[sel], pj[sel])
        rho = _polyserial(values, codes, obs, bounds, means, variances, num, ordi)
        cor[num, ordi] = cor[ordi, num] = rho
        if acov:
            _polyserial_scores(rho, values, codes, obs, bounds, cats, means, variances, num, ordi,
                               sel, th_start, nth, num_idx, sc_cor, a21)
    if both_num.any():
        sel = np.flatnonzero(both_num)
        rho = _pearson(values, obs, means, variances, pi_[sel], pj[sel])
        cor[pi_[sel], pj[sel]] = cor[pj[sel], pi_[sel]] = rho
        if acov:
            _pearson_scores(rho, values, obs, means, variances, pi_[sel], pj[sel], sel, th_start,
                            nth, num_idx, sc_cor, a21)
    near_one = np.flatnonzero(np.abs(cor[pi_, pj]) > 0.99)
    for q in near_one:
        warnings.warn(f"The correlation between {names[pi_[q]]} and {names[pj[q]]}{where} is "
                      "(nearly) 1.0.", DataQualityWarning, stacklevel=2)

    sds = np.sqrt(variances)
    cov = cor * np.outer(sds, sds)
    wls_w = np.zeros((0, 0))
    if acov:
        wls_w = n * _acov(sc_th, sc_var, sc_cor, a21, ordv, names, where, th_start, th_end,
                          num_idx, nth, pi_, pj, cor, sds)
    th_obs = th_all.copy()
    th_obs[th_start[num_idx]] *= -1.0
    wls_obs = np.concatenate([th_obs, variances[num_idx], cov[pi_, pj]])
    wls_names = []
    for j in range(p):
        if ordv[j]:
            wls_names.extend(f"{names[j]}|t{t + 1}" for t in range(nth_var[j]))
        else:
            wls_names.append(f"{names[j]}~1")
    wls_names.extend(f"{names[j]}~~{names[j]}" for j in num_idx)
    wls_names.extend(f"{names[j]}~~{names[i]}" for i, j in zip(pi_, pj))
    thresholds = np.concatenate(th_list) if th_list else np.zeros(0)
    return OrdinalStats(
        n=int(n), names=names, ordered=ordered, thresholds=thresholds,
        th_index=tuple(th_index), means=means, variances=variances, correlations=cor,
        wls_obs=wls_obs, gamma=wls_w, wls_names=tuple(wls_names), categories=tuple(cats),
        zero_cell_pairs=tuple(zero_pairs))


def polychoric_matrix(values: np.ndarray, names: Sequence[str],
                      ordered: Sequence[bool] | None = None, *,
                      missing: str = "listwise") -> np.ndarray:
    """The p x p matrix of polychoric (and polyserial / Pearson) correlations, as
    ``lavCor(data, ordered = ...)`` in lavaan 0.6.14.

    Parameters
    ----------
    values : ndarray, shape (n, p)
        Answers (NaN for missing).
    names : sequence of str
        Variable names, for messages.
    ordered : sequence of bool, optional
        Which columns are ordered; all of them by default.
    missing : {"listwise", "pairwise"}
        As in :func:`ordinal_stats`.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> x = np.array([[1, 1], [1, 2], [2, 2], [2, 3], [3, 3], [3, 2], [1, 1], [2, 1]])
    >>> round(float(polychoric_matrix(x, ["a", "b"])[0, 1]), 4)
    0.6912
    """
    values = np.asarray(values, dtype=float)
    if ordered is None:
        ordered = [True] * values.shape[1]
    return ordinal_stats(values, names, ordered, missing=missing, acov=False).correlations


def _muthen_t(s11, sc_cor, a21, blocks, names, pi_, pj, where, first_step, no_information):
    """T = S B^-T of Muthen's (1984) two-step covariance B^-1 S'S B^-T = T'T, with
    B = [[A11, 0], [A21, A22]]: A11 = S11'S11 block diagonal (``blocks``: the first-step
    columns of each variable), A22 = diag(S22'S22) of the correlations' scores ``sc_cor``,
    A21 given (lavaan's ``lav_muthen1984``).

    Raises
    ------
    ModelError
        A variable's first-step scores are degenerate (``first_step`` names what cannot be
        estimated), or a correlation's scores are all zero (``no_information``, a format with
        ``a``, ``b`` and ``where``).
    """
    size11 = s11.shape[1]
    a11_inv = np.zeros((size11, size11))
    for j, idx in enumerate(blocks):
        block = s11[:, idx].T @ s11[:, idx]
        try:
            a11_inv[np.ix_(idx, idx)] = np.linalg.inv(block)
        except np.linalg.LinAlgError:
            raise ModelError(f"The scores of variable {names[j]!r}{where} are degenerate; "
                             f"its {first_step} cannot be estimated.") from None
    a22 = np.einsum("ij,ij->j", sc_cor, sc_cor)
    if np.any(a22 == 0):
        bad = int(np.flatnonzero(a22 == 0)[0])
        raise ModelError(no_information.format(a=names[pi_[bad]], b=names[pj[bad]],
                                               where=where))
    a22_inv = 1.0 / a22
    a21_inv = -(a22_inv[:, None] * a21) @ a11_inv
    return np.hstack([s11 @ a11_inv.T, s11 @ a21_inv.T + sc_cor * a22_inv[None, :]])


def _acov(sc_th, sc_var, sc_cor, a21, ordv, names, where, th_start, th_end, num_idx, nth, pi_, pj,
          cor, sds):
    """n times the asymptotic covariance of (thresholds, variances, correlations) from the
    casewise scores (lavaan's ``muthen1984``: ``A^-1 S'S A^-T``, then mapped to covariances)."""
    p = len(names)
    nnum = num_idx.size
    pstar = pi_.size
    # B^-1 S'S B^-T with B = [[A11, 0], [A21, A22]] (A11 block diagonal per variable, A22
    # diagonal), formed as T'T with T = S B^-T so that no q x q x q product is needed
    s11 = np.hstack([sc_th, sc_var])
    size11 = nth + nnum
    blocks = [list(range(th_start[j], th_end[j]))
              + ([] if ordv[j] else [nth + int(np.searchsorted(num_idx, j))])
              for j in range(p)]
    t = _muthen_t(s11, sc_cor, a21, blocks, names, pi_, pj, where, "thresholds",
                  "The correlation of {a} and {b}{where} has no information (no row answers "
                  "both).")
    if nnum:
        h = np.eye(size11 + pstar)
        for q in range(pstar):
            i, j = pi_[q], pj[q]
            if not ordv[i] and not ordv[j]:
                vi = nth + int(np.searchsorted(num_idx, i))
                vj = nth + int(np.searchsorted(num_idx, j))
                h[size11 + q, vi] = sds[j] * cor[i, j] / (2.0 * sds[i])
                h[size11 + q, vj] = sds[i] * cor[i, j] / (2.0 * sds[j])
                h[size11 + q, size11 + q] = sds[i] * sds[j]
            elif not ordv[i] or not ordv[j]:
                m = i if not ordv[i] else j
                vm = nth + int(np.searchsorted(num_idx, m))
                h[size11 + q, vm] = cor[i, j] / (2.0 * sds[m])
                h[size11 + q, size11 + q] = sds[m]
        t = t @ h.T
        # lavaan's wls.obs holds minus the means
        t[:, th_start[num_idx]] *= -1.0
    return t.T @ t


def _dnorm(x):
    with np.errstate(over="ignore"):
        return np.where(np.isfinite(x), np.exp(-0.5 * np.square(np.where(np.isfinite(x), x, 0.0)))
                        / np.sqrt(_TWO_PI), 0.0)


# ---------------------------------------------------------------------------------------------
# polychoric


def _tables(codes, obs, a, b, kmax):
    """Bivariate frequency tables (pairs x kmax x kmax) of ordered columns a and b."""
    npair = a.size
    both = obs[:, a] & obs[:, b]
    flat = (np.arange(npair)[None, :] * kmax * kmax + codes[:, a] * kmax + codes[:, b])
    counts = np.bincount(flat[both], minlength=npair * kmax * kmax)
    return counts.reshape(npair, kmax, kmax).astype(float)


class _Grid:
    """Cell probabilities and their derivatives in rho for many pairs of ordered variables."""

    def __init__(self, ta, tb):
        self.ta, self.tb = ta, tb              # (pairs, kmax + 1) boundaries
        fa, fb = np.isfinite(ta), np.isfinite(tb)
        self.fin = fa[:, :, None] & fb[:, None, :]
        self.ua = np.where(fa, ta, 0.0)[:, :, None] * np.ones(tb.shape)[:, None, :]
        self.ub = np.where(fb, tb, 0.0)[:, None, :] * np.ones(ta.shape)[:, :, None]
        # distribution function on the boundary grid where one limit is infinite
        base = np.zeros(self.fin.shape)
        pa = special.ndtr(ta)[:, :, None] * np.ones(tb.shape)[:, None, :]
        pb = special.ndtr(tb)[:, None, :] * np.ones(ta.shape)[:, :, None]
        top_a = np.isposinf(ta)[:, :, None] & np.ones(tb.shape, bool)[:, None, :]
        top_b = np.isposinf(tb)[:, None, :] & np.ones(ta.shape, bool)[:, :, None]
        base = np.where(top_a & top_b, 1.0, base)
        base = np.where(top_a & ~top_b, pb, base)
        base = np.where(top_b & ~top_a, pa, base)
        base = np.where(np.isneginf(ta)[:, :, None] | np.isneginf(tb)[:, None, :], 0.0, base)
        self.base = base

    def cells(self, rho, idx=None):
        """(PI, phi, gnorm) for the pairs ``idx`` at correlations ``rho``."""
        sl = slice(None) if idx is None else idx
        fin, ua, ub = self.fin[sl], self.ua[sl], self.ub[sl]
        r = np.broadcast_to(rho[:, None, None], fin.shape)
        grid = self.base[sl].copy()
        grid[fin] = bivariate_normal_cdf(ua[fin], ub[fin], r[fin])
        dens = np.zeros(fin.shape)
        dens[fin] = _dbinorm(ua[fin], ub[fin], r[fin])
        rr = 1.0 - r * r
        guv = (ua * ub * rr - r * (ua * ua - 2.0 * r * ua * ub + ub * ub) + r * rr) / (rr * rr)
        gd = np.where(fin, dens * guv, 0.0)

        def diff(g):
            return g[:, 1:, 1:] - g[:, :-1, 1:] - g[:, 1:, :-1] + g[:, :-1, :-1]
        return diff(grid), diff(dens), diff(gd)


def _polychoric(codes, obs, bounds, cats, a, b, names, zero_add, keep_margins):
    """Two-step ML polychoric correlations of the ordered pairs (a, b) (lavaan's
    ``lav_bvord_cor_twostep_fit`` with its 2 x 2 special cases)."""
    kmax = bounds.shape[1] - 1
    freq = _tables(codes, obs, a, b, kmax)
    ka = np.array([len(cats[v]) for v in a])
    kb = np.array([len(cats[v]) for v in b])
    valid = (np.arange(kmax)[None, :, None] < ka[:, None, None]) & \
            (np.arange(kmax)[None, None, :] < kb[:, None, None])
    empty = ((freq == 0) & valid).any(axis=(1, 2))
    zero_pairs = [(names[b[q]], names[a[q]]) for q in np.flatnonzero(empty)]
    fit_freq = freq.copy()
    rho = np.full(a.size, np.nan)
    two = (ka == 2) & (kb == 2)
    for q in np.flatnonzero(two):
        f = fit_freq[q, :2, :2]
        nzero = int((f == 0).sum())
        if nzero == 2:
            warnings.warn(f"Two empty cells in the 2 x 2 table of {names[b[q]]} and "
                          f"{names[a[q]]}.", DataQualityWarning, stacklevel=3)
            rho[q] = 1.0 if f[0, 0] > 0 else -1.0
            continue
        if nzero == 1 and zero_add[0] > 0:
            z = float(zero_add[0])
            if keep_margins:
                sign = 1.0 if (f[0, 0] == 0 or f[1, 1] == 0) else -1.0
                f += sign * z * np.array([[1.0, -1.0], [-1.0, 1.0]])
            else:
                f[f == 0] += z
        if f[0, 0] * f[1, 1] == f[0, 1] * f[1, 0]:
            rho[q] = 0.0
        elif bounds[a[q], 1] == 0.0 and bounds[b[q], 1] == 0.0:
            rho[q] = -np.cos(2.0 * np.pi * f[0, 0] / f.sum())
    big = ~two
    if zero_add[1] > 0:
        fit_freq[big] = np.where((fit_freq[big] == 0) & valid[big], zero_add[1], fit_freq[big])
    todo = np.flatnonzero(np.isnan(rho))
    if todo.size:
        grid = _Grid(bounds[a[todo]], bounds[b[todo]])
        ff = fit_freq[todo]
        vv = valid[todo]

        def score(r, idx):
            pi, phi, gn = grid.cells(r, idx)
            ok = vv[idx] & (pi > _SQRT_EPS)
            pis = np.where(ok, pi, 1.0)
            f = np.where(ok, ff[idx], 0.0)
            g = (f * phi / pis).sum(axis=(1, 2))
            h = (f * (gn / pis - phi * phi / (pis * pis))).sum(axis=(1, 2))
            return g, h

        start = np.zeros(todo.size)
        rho[todo] = _solve(score, -0.999, 0.999, start)
    return rho, zero_pairs


def _polychoric_scores(rho, codes, obs, bounds, cats, a, b, sel, th_start, sc_cor, a21):
    """Casewise scores of the polychoric correlations and their cross-products with the
    bivariate threshold scores (``lav_bvord_cor_scores``)."""
    kmax = bounds.shape[1] - 1
    freq = _tables(codes, obs, a, b, kmax)
    ta, tb = bounds[a], bounds[b]
    grid = _Grid(ta, tb)
    pi, phi, _ = grid.cells(rho)
    pi = np.maximum(pi, _SQRT_EPS)             # lav_bvord_noexo_pi_cache
    ok = pi > _SQRT_EPS                        # lav_bvord_cor_scores_cache: lik <= sqrt(eps) -> NA
    inv = np.where(ok, 1.0 / pi, 0.0)
    drho = phi * inv                           # pairs x kmax x kmax
    both = obs[:, a] & obs[:, b]
    ca = np.where(both, codes[:, a], 0)
    cb = np.where(both, codes[:, b], 0)
    q = np.arange(a.size)[None, :]
    sc_cor[:, sel] = np.where(both, drho[q, ca, cb], 0.0)
    # derivative of each cell's log probability in the thresholds of a and b
    r = rho[:, None, None]
    rr = np.sqrt(1.0 - r * r)
    up_a, low_a = ta[:, 1:, None], ta[:, :-1, None]      # category u's bounds (pairs x kmax x 1)
    up_b, low_b = tb[:, None, 1:], tb[:, None, :-1]
    with np.errstate(invalid="ignore"):
        z1a = _dnorm(up_a) * (special.ndtr((up_b - r * up_a) / rr)
                              - special.ndtr((low_b - r * up_a) / rr))
        z2a = _dnorm(low_a) * (special.ndtr((up_b - r * low_a) / rr)
                               - special.ndtr((low_b - r * low_a) / rr))
        z1b = _dnorm(up_b) * (special.ndtr((up_a - r * up_b) / rr)
                              - special.ndtr((low_a - r * up_b) / rr))
        z2b = _dnorm(low_b) * (special.ndtr((up_a - r * low_b) / rr)
                               - special.ndtr((low_a - r * low_b) / rr))
    z1a, z2a, z1b, z2b = (np.nan_to_num(z) for z in (z1a, z2a, z1b, z2b))
    m = freq * drho * inv
    s1a, s2a = (m * z1a).sum(axis=2), (m * z2a).sum(axis=2)   # pairs x kmax (category of a)
    s1b, s2b = (m * z1b).sum(axis=1), (m * z2b).sum(axis=1)
    for t, (va, vb) in enumerate(zip(a, b)):
        k_a, k_b = len(cats[va]) - 1, len(cats[vb]) - 1
        row = sel[t]
        a21[row, th_start[va]:th_start[va] + k_a] = s1a[t, :k_a] - s2a[t, 1:k_a + 1]
        a21[row, th_start[vb]:th_start[vb] + k_b] = s1b[t, :k_b] - s2b[t, 1:k_b + 1]


# ---------------------------------------------------------------------------------------------
# polyserial


def _mix_parts(rho, values, codes, obs, bounds, means, variances, num, ordi):
    """Per-case pieces of the polyserial likelihood (cases x pairs)."""
    both = obs[:, num] & obs[:, ordi]
    sd = np.sqrt(variances[num])
    z = np.where(both, (np.nan_to_num(values[:, num]) - means[num]) / sd, 0.0)
    c = np.where(both, codes[:, ordi], 0)
    up = np.take_along_axis(bounds[ordi].T, c + 1, axis=0)
    low = np.take_along_axis(bounds[ordi].T, c, axis=0)
    # lavaan's +-100 in place of infinite bounds
    up = np.where(np.isposinf(up), 100.0, up)
    low = np.where(np.isneginf(low), -100.0, low)
    r = np.broadcast_to(rho, z.shape)
    rr = np.sqrt(1.0 - r * r)
    t1 = (up - r * z) / rr
    t0 = (low - r * z) / rr
    p = np.maximum(special.ndtr(t1) - special.ndtr(t0), np.finfo(float).eps)
    return both, z, up, low, r, rr, t1, t0, p, sd


def _mix_score(rho, values, codes, obs, bounds, means, variances, num, ordi, fit_mask=True):
    both, z, up, low, r, rr, t1, t0, p, sd = _mix_parts(rho, values, codes, obs, bounds, means,
                                                        variances, num, ordi)
    d1, d0 = _dnorm(t1), _dnorm(t0)
    drho = (d1 * (up * r - z) - d0 * (low * r - z)) / (p * rr ** 3)
    keep = both
    if fit_mask:
        # lav_bvmix_lik_cache drops cases whose likelihood is below sqrt(eps)
        py1 = np.exp(-0.5 * z * z) / (np.sqrt(_TWO_PI) * sd)
        keep = both & (py1 * p >= _SQRT_EPS)
    return np.where(keep, drho, 0.0), (both, z, up, low, r, rr, t1, t0, p, sd, d1, d0)


def _polyserial(values, codes, obs, bounds, means, variances, num, ordi):
    """Two-step ML polyserial correlations (``lav_bvmix_cor_twostep_fit``)."""
    def score(r, idx):
        s, _ = _mix_score(r[None, :], values, codes, obs, bounds, means, variances, num[idx],
                          ordi[idx])
        return s.sum(axis=0), None
    return _solve(score, -0.995, 0.995, np.zeros(num.size))


def _polyserial_scores(rho, values, codes, obs, bounds, cats, means, variances, num, ordi, sel,
                       th_start, nth, num_idx, sc_cor, a21):
    """Casewise scores of polyserial correlations (``lav_bvmix_cor_scores``)."""
    drho, parts = _mix_score(rho[None, :], values, codes, obs, bounds, means, variances, num,
                             ordi, fit_mask=False)
    both, z, up, low, r, rr, t1, t0, p, sd, d1, d0 = parts
    sc_cor[:, sel] = drho
    inv = 1.0 / p
    dd = d1 - d0
    dmu = np.where(both, (z + inv * (r / rr) * dd) / sd, 0.0)
    dvar = np.where(both, ((z * z - 1.0) + inv * r * z / rr * dd) / (2.0 * sd * sd), 0.0)
    c = np.where(both, codes[:, ordi], -5)
    for t, (vn, vo) in enumerate(zip(num, ordi)):
        row = sel[t]
        a21[row, th_start[vn]] = drho[:, t] @ dmu[:, t]
        a21[row, nth + int(np.searchsorted(num_idx, vn))] = drho[:, t] @ dvar[:, t]
        k = len(cats[vo]) - 1
        for u in range(k):
            s = np.where(c[:, t] == u, d1[:, t], 0.0) - np.where(c[:, t] == u + 1, d0[:, t], 0.0)
            a21[row, th_start[vo] + u] = drho[:, t] @ np.where(both[:, t], s * inv[:, t] / rr[:, t],
                                                                  0.0)


# ---------------------------------------------------------------------------------------------
# Pearson


def _pearson(values, obs, means, variances, a, b):
    """Pearson correlations; with missing answers the two-step ML correlation with each
    variable's own mean and variance held fixed (``lav_bvreg_cor_twostep_fit``)."""
    rho = np.zeros(a.size)
    for q, (i, j) in enumerate(zip(a, b)):
        both = obs[:, i] & obs[:, j]
        x, y = values[both, i], values[both, j]
        if both.all():
            xc, yc = x - x.mean(), y - y.mean()
            rho[q] = (xc @ yc) / np.sqrt((xc @ xc) * (yc @ yc))
            continue
        u_all = (x - means[i]) / np.sqrt(variances[i])
        v_all = (y - means[j]) / np.sqrt(variances[j])
        scale = np.sqrt(variances[i] * variances[j])
        xc, yc = x - x.mean(), y - y.mean()
        r = float((xc @ yc) / np.sqrt((xc @ xc) * (yc @ yc))) if x.size > 1 else 0.0
        # lavaan (lav_bvreg_lik_cache) leaves out the cases whose bivariate normal density,
        # on the variables' own scale, is below sqrt(eps) at the current correlation: the
        # set is updated until it no longer changes
        keep = None
        for _ in range(50):
            dens = _dbinorm(u_all, v_all, r) / scale
            new_keep = dens >= math.sqrt(np.finfo(float).eps)
            if keep is not None and np.array_equal(new_keep, keep):
                break
            keep = new_keep
            u, v = u_all[keep], v_all[keep]

            def score(rv, idx, u=u, v=v):
                rv = rv[:, None]
                rr = 1.0 - rv * rv
                zz = u * u - 2.0 * rv * u * v + v * v
                return (rv / rr + u * v / rr - zz * rv / (rr * rr)).sum(axis=1), None
            r = float(_solve(score, -0.999, 0.999, np.array([r]))[0])
        rho[q] = r
    return rho


def _pearson_scores(rho, values, obs, means, variances, a, b, sel, th_start, nth, num_idx,
                    sc_cor, a21):
    """Casewise scores of Pearson correlations (``lav_bvreg_cor_scores``)."""
    for q, (i, j) in enumerate(zip(a, b)):
        both = obs[:, i] & obs[:, j]
        r = rho[q]
        rr = 1.0 - r * r
        vi, vj = variances[i], variances[j]
        si, sj = np.sqrt(vi), np.sqrt(vj)
        y1 = np.where(both, np.nan_to_num(values[:, i]) - means[i], 0.0)
        y2 = np.where(both, np.nan_to_num(values[:, j]) - means[j], 0.0)
        dmu1 = (2.0 * y1 / vi - 2.0 * r * y2 / (si * sj)) / (2.0 * rr)
        dmu2 = -(2.0 * r * y1 / (si * sj) - 2.0 * y2 / vj) / (2.0 * rr)
        dv1 = -(0.5 / vi - (y1 * y1 / (vi * vi) - r * y1 * y2 / (vi * si * sj)) / (2.0 * rr))
        dv2 = -(0.5 / vj + (r * y1 * y2 / (vj * si * sj) - y2 * y2 / (vj * vj)) / (2.0 * rr))
        zz = y1 * y1 / vi - 2.0 * r * y1 * y2 / (si * sj) + y2 * y2 / vj
        drho = np.where(both, r / rr + (y1 * y2 / (si * sj * rr) - zz * r / (rr * rr)), 0.0)
        dmu1, dmu2, dv1, dv2 = (np.where(both, v, 0.0) for v in (dmu1, dmu2, dv1, dv2))
        row = sel[q]
        sc_cor[:, row] = drho
        a21[row, th_start[i]] = drho @ dmu1
        a21[row, th_start[j]] = drho @ dmu2
        a21[row, nth + int(np.searchsorted(num_idx, i))] = drho @ dv1
        a21[row, nth + int(np.searchsorted(num_idx, j))] = drho @ dv2


# ---------------------------------------------------------------------------------------------
# conditional on observed covariates (lavaan's conditional.x = TRUE)

_BIG = 100.0  # lavaan's stand-in for the infinite outer thresholds (lav_uvord_init_cache)


def conditional_stats(values: np.ndarray, names: Sequence[str], ordered: Sequence[bool],
                      exo: np.ndarray, exo_names: Sequence[str], *, levels=None,
                      group=None) -> OrdinalStats:
    """Sample statistics of ordered (and continuous) variables given observed covariates, as
    lavaan 0.6.14's ``muthen1984(..., eXo = )`` (``conditional.x = TRUE``, the default for
    ordered data with exogenous covariates).

    Parameters
    ----------
    values : ndarray, shape (n, p)
        The endogenous variables of one group in model order, complete rows (listwise).
    names : sequence of str
    ordered : sequence of bool
    exo : ndarray, shape (n, k)
        The observed covariates of the same rows.
    exo_names : sequence of str
    levels : sequence, optional
        Categories of each ordered variable over all groups (see :func:`ordinal_stats`).
    group : str, optional
        The group's label, for messages.

    Returns
    -------
    OrdinalStats
        ``thresholds`` of the probit regressions, ``means`` the intercepts of the linear
        ones, ``variances`` their residual variances, ``slopes``, ``correlations`` the
        residual polychoric / polyserial / Pearson correlations, ``wls_obs`` lavaan's order
        (thresholds with minus the intercept of each continuous variable, the slopes by
        covariate, the residual variances, the residual covariances) and ``gamma`` n times
        their asymptotic covariance.

    Notes
    -----
    Step 1 fits each ordered variable by a probit regression, P(y <= k | x) =
    Phi(tau_k - x'beta) (``lav_uvord_fit``, Newton's method on the concave log-likelihood),
    each continuous one by least squares with residual variance RSS / n (``lav_uvreg_fit``).
    Step 2 maximizes each pair's bivariate likelihood over the residual correlation with the
    step 1 parameters fixed (``lav_bvord_cor_twostep_fit``, ``lav_bvmix_cor_twostep_fit``;
    the correlation of the residuals for two continuous variables). The asymptotic
    covariance is Muthen's (1984) ``A^-1 S'S A^-T`` from the casewise scores S, with the
    blocks of A the cross-products of the scores (``muthen1984``), mapped to covariances
    for continuous variables. No cell is adjusted for empty bivariate tables (lavaan does not
    either with covariates).

    References
    ----------
    Muthen, B. (1984). A general structural equation model with dichotomous, ordered
    categorical, and continuous latent variable indicators. Psychometrika, 49, 115-132.
    doi:10.1007/BF02294210
    """
    values = np.asarray(values, dtype=float)
    X = np.asarray(exo, dtype=float)
    names = tuple(str(v) for v in names)
    exo_names = tuple(str(v) for v in exo_names)
    ordered = tuple(bool(v) for v in ordered)
    n, p = values.shape
    k = X.shape[1]
    where = f" in group {group}" if group is not None else ""
    if np.isnan(values).any() or np.isnan(X).any():
        raise OptionError("conditional_stats needs complete rows (listwise deletion).")
    if n < 2:
        raise SurveyDataError(f"Only {n} usable row(s){where}; ordinal sample statistics "
                              "need at least two.")
    codes, cats = _coding(values, names, ordered, levels, group)
    ordv = np.array(ordered)
    X1 = np.column_stack([np.ones(n), X])
    if np.linalg.matrix_rank(X1) < k + 1:
        raise SurveyDataError(f"The covariates {', '.join(exo_names)}{where} are collinear "
                              "(or one is constant); the regressions on them cannot be "
                              "estimated.")
    nth_var = np.array([len(cats[j]) - 1 if ordv[j] else 1 for j in range(p)])
    th_end = np.cumsum(nth_var)
    th_start = th_end - nth_var
    nth = int(th_end[-1])
    num_idx = np.flatnonzero(~ordv)
    nnum = num_idx.size
    th_all = np.zeros(nth)
    slopes = np.zeros((p, k))
    variances = np.ones(p)
    sc_th = np.zeros((n, nth))
    sc_sl = np.zeros((n, p * k))
    sc_var = np.zeros((n, nnum))
    # per variable: upper / lower standardized bounds (ordered) or residuals (continuous)
    z1 = np.zeros((n, p))
    z2 = np.zeros((n, p))
    resid = np.zeros((n, p))
    th_list, th_index = [], []
    for j in range(p):
        sl_cols = j + p * np.arange(k)
        if ordv[j]:
            tau, beta, u, lo, s_th, s_sl = _probit_fit(codes[:, j], len(cats[j]), X, names[j],
                                                       where)
            th_all[th_start[j]:th_end[j]] = tau
            slopes[j] = beta
            z1[:, j], z2[:, j] = u, lo
            sc_th[:, th_start[j]:th_end[j]] = s_th
            sc_sl[:, sl_cols] = s_sl
            th_list.append(tau)
            th_index.extend((j, t + 1) for t in range(len(tau)))
        else:
            y = values[:, j]
            coef, *_ = np.linalg.lstsq(X1, y, rcond=None)
            res = y - X1 @ coef
            evar = float(res @ res) / n
            if not evar > 0:
                raise SurveyDataError(f"Continuous variable {names[j]!r} has no residual "
                                      f"variance given the covariates{where}.")
            th_all[th_start[j]] = coef[0]
            slopes[j] = coef[1:]
            variances[j] = evar
            resid[:, j] = res
            sc_th[:, th_start[j]] = res / evar
            sc_sl[:, sl_cols] = X * (res / evar)[:, None]
            sc_var[:, np.searchsorted(num_idx, j)] = -1.0 / (2.0 * evar) + res * res / (
                2.0 * evar * evar)

    jj, ii = np.triu_indices(p, k=1)
    order = np.lexsort((ii, jj))
    pj, pi_ = jj[order], ii[order]
    pstar = pj.size
    cor = np.eye(p)
    sc_cor = np.zeros((n, pstar))
    size11 = nth + p * k + nnum
    a21 = np.zeros((pstar, size11))
    h21 = np.zeros((pstar, size11))
    h22 = np.ones(pstar)
    sds = np.sqrt(variances)

    def sl_idx(v):
        return nth + v + p * np.arange(k)

    def var_idx(v):
        return nth + p * k + int(np.searchsorted(num_idx, v))

    both_ord = np.flatnonzero(ordv[pi_] & ordv[pj])
    if both_ord.size:
        a, b = pi_[both_ord], pj[both_ord]
        rho = _x_polychoric(z1[:, a], z2[:, a], z1[:, b], z2[:, b])
        cor[a, b] = cor[b, a] = rho
        for t, q in enumerate(both_ord):
            i, j = a[t], b[t]
            s = _x_polychoric_scores(rho[t], z1[:, i], z2[:, i], z1[:, j], z2[:, j],
                                     codes[:, i], codes[:, j], nth_var[i], nth_var[j], X)
            sc_cor[:, q] = s["rho"]
            a21[q, th_start[i]:th_end[i]] = s["rho"] @ s["th1"]
            a21[q, th_start[j]:th_end[j]] = s["rho"] @ s["th2"]
            a21[q, sl_idx(i)] = s["rho"] @ s["sl1"]
            a21[q, sl_idx(j)] = s["rho"] @ s["sl2"]
    mixed = np.flatnonzero(ordv[pi_] != ordv[pj])
    if mixed.size:
        num = np.where(ordv[pi_[mixed]], pj[mixed], pi_[mixed])
        ordi = np.where(ordv[pi_[mixed]], pi_[mixed], pj[mixed])
        zz = resid[:, num] / sds[num]
        rho = _x_polyserial(zz, z1[:, ordi], z2[:, ordi])
        cor[num, ordi] = cor[ordi, num] = rho
        for t, q in enumerate(mixed):
            m, o = num[t], ordi[t]
            s = _x_polyserial_scores(rho[t], zz[:, t], sds[m], z1[:, o], z2[:, o], codes[:, o],
                                     nth_var[o], X)
            sc_cor[:, q] = s["rho"]
            a21[q, th_start[m]] = s["rho"] @ s["mu1"]
            a21[q, th_start[o]:th_end[o]] = s["rho"] @ s["th2"]
            a21[q, sl_idx(m)] = s["rho"] @ s["sl1"]
            a21[q, sl_idx(o)] = s["rho"] @ s["sl2"]
            a21[q, var_idx(m)] = s["rho"] @ s["var1"]
            h21[q, var_idx(m)] = rho[t] / (2.0 * sds[m])
            h22[q] = sds[m]
    both_num = np.flatnonzero(~ordv[pi_] & ~ordv[pj])
    for q in both_num:
        i, j = pi_[q], pj[q]
        e1, e2 = resid[:, i], resid[:, j]
        r = float(e1 @ e2 / np.sqrt((e1 @ e1) * (e2 @ e2)))
        cor[i, j] = cor[j, i] = r
        v1, v2 = variances[i], variances[j]
        s1, s2 = sds[i], sds[j]
        rr = 1.0 - r * r
        dmu1 = (2.0 * e1 / v1 - 2.0 * r * e2 / (s1 * s2)) / (2.0 * rr)
        dmu2 = -(2.0 * r * e1 / (s1 * s2) - 2.0 * e2 / v2) / (2.0 * rr)
        dv1 = -(0.5 / v1 - (e1 * e1 / (v1 * v1) - r * e1 * e2 / (v1 * s1 * s2)) / (2.0 * rr))
        dv2 = -(0.5 / v2 + (r * e1 * e2 / (v2 * s1 * s2) - e2 * e2 / (v2 * v2)) / (2.0 * rr))
        zq = e1 * e1 / v1 - 2.0 * r * e1 * e2 / (s1 * s2) + e2 * e2 / v2
        drho = r / rr + (e1 * e2 / (s1 * s2 * rr) - zq * r / (rr * rr))
        sc_cor[:, q] = drho
        a21[q, th_start[i]] = drho @ dmu1
        a21[q, th_start[j]] = drho @ dmu2
        a21[q, sl_idx(i)] = drho @ (dmu1[:, None] * X)
        a21[q, sl_idx(j)] = drho @ (dmu2[:, None] * X)
        a21[q, var_idx(i)] = drho @ dv1
        a21[q, var_idx(j)] = drho @ dv2
        h21[q, var_idx(i)] = s2 * r / (2.0 * s1)
        h21[q, var_idx(j)] = s1 * r / (2.0 * s2)
        h22[q] = s1 * s2
    for q in np.flatnonzero(np.abs(cor[pi_, pj]) > 0.99):
        warnings.warn(f"The residual correlation between {names[pi_[q]]} and {names[pj[q]]}"
                      f"{where} is (nearly) 1.0.", DataQualityWarning, stacklevel=2)

    # Muthen (1984): B^-1 S'S B^-T with B = [[A11, 0], [A21, A22]]
    s11 = np.hstack([sc_th, sc_sl, sc_var])
    blocks = [list(range(th_start[j], th_end[j])) + list(sl_idx(j))
              + ([] if ordv[j] else [var_idx(j)]) for j in range(p)]
    t = _muthen_t(s11, sc_cor, a21, blocks, names, pi_, pj, where,
                  "regression on the covariates",
                  "The residual correlation of {a} and {b}{where} has no information.")
    if nnum:
        h = np.eye(size11 + pstar)
        h[size11:, :size11] = h21
        h[size11 + np.arange(pstar), size11 + np.arange(pstar)] = h22
        t = t @ h.T
        t[:, th_start[num_idx]] *= -1.0
    gamma = n * (t.T @ t)
    cov = cor * np.outer(sds, sds)
    th_obs = th_all.copy()
    th_obs[th_start[num_idx]] *= -1.0
    wls_obs = np.concatenate([th_obs, slopes.T.ravel(), variances[num_idx], cov[pi_, pj]])
    wls_names = []
    for j in range(p):
        if ordv[j]:
            wls_names.extend(f"{names[j]}|t{t + 1}" for t in range(nth_var[j]))
        else:
            wls_names.append(f"{names[j]}~1")
    wls_names.extend(f"{names[j]}~{x}" for x in exo_names for j in range(p))
    wls_names.extend(f"{names[j]}~~{names[j]}" for j in num_idx)
    wls_names.extend(f"{names[j]}~~{names[i]}" for i, j in zip(pi_, pj))
    means = np.where(ordv, 0.0, th_all[th_start])
    xm = X.mean(axis=0)
    xc = X - xm
    return OrdinalStats(
        n=int(n), names=names, ordered=ordered,
        thresholds=np.concatenate(th_list) if th_list else np.zeros(0),
        th_index=tuple(th_index), means=means, variances=variances, correlations=cor,
        wls_obs=wls_obs, gamma=gamma, wls_names=tuple(wls_names), categories=tuple(cats),
        exo_names=exo_names, slopes=slopes, exo_mean=xm, exo_cov=xc.T @ xc / (n - 1))


def _probit_fit(code, ncat, X, name, where):
    """ML ordinal probit regression P(y <= k | x) = Phi(tau_k - x'beta) by Newton's method
    (``lav_uvord_fit``; lavaan's starting values). Returns tau, beta, the upper and lower
    standardized bounds of each case (+-100 for the open ends, as lavaan) and the casewise
    scores of tau and beta (``lav_uvord_scores``)."""
    n, k = X.shape
    nth = ncat - 1
    if nth == 1:
        tau = np.zeros(1)
    else:
        tau = special.ndtri(np.arange(1, nth + 1) / (nth + 1))
    theta = np.concatenate([tau, np.zeros(k)])
    rows = np.arange(n)
    has_up = code < nth
    has_low = code > 0
    # design of the upper (z1) and lower (z2) bound of each case
    D1 = np.zeros((n, nth + k))
    D2 = np.zeros((n, nth + k))
    D1[rows[has_up], code[has_up]] = 1.0
    D2[rows[has_low], code[has_low] - 1] = 1.0
    D1[:, nth:] = -X
    D2[:, nth:] = -X
    off1 = np.where(has_up, 0.0, _BIG)
    off2 = np.where(has_low, 0.0, -_BIG)

    def parts(th):
        u = D1 @ th + off1
        lo = D2 @ th + off2
        big = lo > 1
        pr = np.where(big, special.ndtr(-lo) - special.ndtr(-u), special.ndtr(u) - special.ndtr(lo))
        return u, lo, pr

    def loglik(th):
        tt = th[:nth]
        if nth > 1 and np.any(np.diff(tt) <= 0):
            return -np.inf
        _, _, pr = parts(th)
        if np.any(pr <= 0):
            return -np.inf
        return float(np.sum(np.log(pr)))

    ll = loglik(theta)
    for _ in range(200):
        u, lo, pr = parts(theta)
        d1, d2 = _dnorm(u), _dnorm(lo)
        a1, a2 = d1 / pr, -d2 / pr
        grad = D1.T @ a1 + D2.T @ a2
        h11 = -u * d1 / pr - a1 * a1
        h22 = -lo * (-d2) / pr - a2 * a2
        h12 = -a1 * a2
        H = (D1.T * h11) @ D1 + (D2.T * h22) @ D2 + (D1.T * h12) @ D2 + (D2.T * h12) @ D1
        try:
            step = -np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            raise SurveyDataError(f"The probit regression of {name!r} on the covariates{where} "
                                  "failed; the covariates may not be of full rank.") from None
        t = 1.0
        while True:
            new = theta + t * step
            ll_new = loglik(new)
            if ll_new >= ll - 1e-12 * abs(ll) or t < 1e-10:
                break
            t /= 2.0
        theta, ll = new, ll_new
        if np.max(np.abs(t * step)) < 1e-12:
            break
    u, lo, pr = parts(theta)
    d1, d2 = _dnorm(u), _dnorm(lo)
    s_th = np.zeros((n, nth))
    s_th[rows[has_up], code[has_up]] += d1[has_up] / pr[has_up]
    s_th[rows[has_low], code[has_low] - 1] -= d2[has_low] / pr[has_low]
    s_sl = -X * ((d1 - d2) / pr)[:, None]
    return theta[:nth], theta[nth:], u, lo, s_th, s_sl


def _rect_prob(u1, l1, u2, l2, rho):
    """P(l1 < Z1 <= u1, l2 < Z2 <= u2) for standard bivariate normal pairs (lavaan's
    ``pbinorm``)."""
    return (bivariate_normal_cdf(u1, u2, rho) - bivariate_normal_cdf(l1, u2, rho)
            - bivariate_normal_cdf(u1, l2, rho) + bivariate_normal_cdf(l1, l2, rho))


def _x_polychoric(u1, l1, u2, l2):
    """Residual polychoric correlations of many pairs (columns) given the covariates:
    the root of the score of the casewise bivariate likelihood (``lav_bvord_cor_twostep_fit``
    with ``eXo``), cases with likelihood below sqrt(eps) left out as lavaan does."""
    def score(r, idx):
        rr = np.broadcast_to(r[None, :], u1[:, idx].shape)
        a, b, c, d = u1[:, idx], l1[:, idx], u2[:, idx], l2[:, idx]
        lik = _rect_prob(a, b, c, d, rr)
        phi = (_dbinorm(a, c, rr) - _dbinorm(b, c, rr) - _dbinorm(a, d, rr)
               + _dbinorm(b, d, rr))
        ok = lik >= _SQRT_EPS
        return np.where(ok, phi / np.where(ok, lik, 1.0), 0.0).sum(axis=0), None
    return _solve(score, -0.999, 0.999, np.zeros(u1.shape[1]), tol=1e-10)


def _x_polychoric_scores(rho, u1, l1, u2, l2, c1, c2, nth1, nth2, X):
    """Casewise scores of a residual polychoric correlation and of the bivariate likelihood
    in both variables' thresholds and slopes (``lav_bvord_cor_scores_cache`` with eXo)."""
    lik = _rect_prob(u1, l1, u2, l2, np.full(u1.shape, rho))
    ok = lik > _SQRT_EPS
    inv = np.where(ok, 1.0 / np.where(ok, lik, 1.0), 0.0)
    R = np.sqrt(1.0 - rho * rho)

    def sides(a, b, c, d):
        za = _dnorm(a) * (special.ndtr((c - rho * a) / R) - special.ndtr((d - rho * a) / R))
        zb = _dnorm(b) * (special.ndtr((c - rho * b) / R) - special.ndtr((d - rho * b) / R))
        return za, zb
    y1z1, y1z2 = sides(u1, l1, u2, l2)
    y2z1, y2z2 = sides(u2, l2, u1, l1)
    n = u1.shape[0]
    rows = np.arange(n)

    def th_scores(code, nth, zu, zl):
        s = np.zeros((n, nth))
        up = code < nth
        low = code > 0
        s[rows[up], code[up]] += zu[up]
        s[rows[low], code[low] - 1] -= zl[low]
        return s * inv[:, None]
    phi = (_dbinorm(u1, u2, rho) - _dbinorm(l1, u2, rho) - _dbinorm(u1, l2, rho)
           + _dbinorm(l1, l2, rho))
    return {"rho": phi * inv,
            "th1": th_scores(c1, nth1, y1z1, y1z2), "th2": th_scores(c2, nth2, y2z1, y2z2),
            "sl1": X * ((y1z2 - y1z1) * inv)[:, None], "sl2": X * ((y2z2 - y2z1) * inv)[:, None]}


def _x_polyserial(zz, u2, l2):
    """Residual polyserial correlations (columns of standardized residuals zz of the
    continuous variable and bounds of the ordered one), ``lav_bvmix_cor_twostep_fit``."""
    def score(r, idx):
        z, a, b = zz[:, idx], u2[:, idx], l2[:, idx]
        R = np.sqrt(1.0 - r * r)[None, :]
        rr = r[None, :]
        t1 = (a - rr * z) / R
        t0 = (b - rr * z) / R
        pr = np.maximum(special.ndtr(t1) - special.ndtr(t0), np.finfo(float).eps)
        lik = np.exp(-0.5 * z * z) / np.sqrt(_TWO_PI) * pr
        g = (_dnorm(t1) * (a * rr - z) - _dnorm(t0) * (b * rr - z)) / (pr * R ** 3)
        return np.where(lik >= _SQRT_EPS, g, 0.0).sum(axis=0), None
    return _solve(score, -0.995, 0.995, np.zeros(zz.shape[1]), tol=1e-10)


def _x_polyserial_scores(rho, z, sd, u2, l2, c2, nth2, X):
    """Casewise scores of a residual polyserial correlation and of the bivariate likelihood
    in the intercept, slopes and residual variance of the continuous variable and the
    thresholds and slopes of the ordered one (``lav_bvmix_cor_scores_cache``)."""
    R = np.sqrt(1.0 - rho * rho)
    t1 = (u2 - rho * z) / R
    t0 = (l2 - rho * z) / R
    d1, d0 = _dnorm(t1), _dnorm(t0)
    pr = np.maximum(special.ndtr(t1) - special.ndtr(t0), np.finfo(float).eps)
    inv = 1.0 / pr
    dd = d1 - d0
    mu1 = (z + inv * (rho / R) * dd) / sd
    var1 = ((z * z - 1.0) + inv * rho * z / R * dd) / (2.0 * sd * sd)
    n = z.shape[0]
    rows = np.arange(n)
    th2 = np.zeros((n, nth2))
    up = c2 < nth2
    low = c2 > 0
    th2[rows[up], c2[up]] += d1[up]
    th2[rows[low], c2[low] - 1] -= d0[low]
    th2 *= (inv / R)[:, None]
    return {"rho": inv / R ** 3 * (d1 * (u2 * rho - z) - d0 * (l2 * rho - z)),
            "mu1": mu1, "var1": var1, "th2": th2, "sl1": X * mu1[:, None],
            "sl2": X * ((d0 - d1) * inv / R)[:, None]}
