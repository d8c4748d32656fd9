"""Robust ML (MLR) and full-information ML (FIML) for incomplete data, as lavaan 0.6.14 does.

Three fits are routed here by :func:`riskmodel_sem.sem.estimation.fit_model`:

- ``estimator="MLR", missing="listwise"``: ML point estimates; Huber-White sandwich standard
  errors ``vcov = A^-1 B A^-1 / N`` with ``A`` the observed information (Hessian of the unit
  ML objective) and ``B`` the cross-product of the casewise scores; the Yuan-Bentler test in
  its Mplus variant with the scaled and robust CFI/TLI/RMSEA (lavaan's ``estimator = "MLR"``).
- ``estimator="ML", missing="fiml"``: the casewise normal likelihood of the observed part of
  every row (with a mean structure), the unrestricted model by EM, the independence model
  in closed form, SEs from the observed information, and the FIML-corrected robust
  CFI/RMSEA of Zhang & Savalei (2023) (lavaan's ``missing = "ml"``).
- ``estimator="MLR", missing="fiml"``: both (lavaan's ``estimator = "MLR", missing = "ml"``).

Everything is written in terms of the saturated ("h1") parameters ``(mu, vech Sigma)`` of each
group and the model Jacobian ``Delta = d(mu, vech Sigma) / d theta``: casewise scores,
observed and expected information of the saturated model with missing data, and the
first-order (score cross-product) information.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from . import estimation
from ..errors import DataQualityWarning, ModelError
from .model import SampleMoments, compile_model

__all__ = ["fit_robust", "em_saturated", "yuan_bentler_mplus"]

_LOG2PI = math.log(2.0 * math.pi)


# ------------------------------------------------------------------------------------------
# data of one group, split by missing-data pattern
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Pattern:
    obs: np.ndarray      # indices of the observed variables
    rows: np.ndarray     # row indices into the group's values
    n: int
    mean: np.ndarray     # mean of the observed variables over these rows
    cov: np.ndarray      # covariance (divisor n) of the observed variables over these rows


@dataclass(frozen=True)
class _GroupData:
    values: np.ndarray   # (n, p), NaN where missing
    patterns: tuple[_Pattern, ...]
    n: int
    fixed_mean: np.ndarray | None  # sample mean used when the model has no mean structure

    @property
    def complete(self) -> bool:
        return len(self.patterns) == 1 and len(self.patterns[0].obs) == self.values.shape[1]


def _group_data(values: np.ndarray, fixed_mean: np.ndarray | None = None) -> _GroupData:
    mask = ~np.isnan(values)
    keys, inverse = np.unique(mask, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    patterns = []
    # complete pattern first, then by decreasing number of observed variables (stable)
    order = sorted(range(len(keys)), key=lambda k: (-int(keys[k].sum()), tuple(~keys[k])))
    for k in order:
        rows = np.flatnonzero(inverse == k)
        obs = np.flatnonzero(keys[k])
        x = values[np.ix_(rows, obs)]
        mean = x.mean(axis=0)
        c = x - mean
        patterns.append(_Pattern(obs, rows, len(rows), mean, c.T @ c / len(rows)))
    return _GroupData(values, tuple(patterns), values.shape[0], fixed_mean)


# ------------------------------------------------------------------------------------------
# the saturated (h1) parameterisation: (mu, vech Sigma)
# ------------------------------------------------------------------------------------------

def _vech_index(p: int):
    rows, cols = np.tril_indices(p)
    return cols, rows  # lavaan's vech order: column by column, lower triangle


def _delta(model, theta, g: int, with_mean: bool) -> np.ndarray:
    """Jacobian d(mu, vech Sigma)/d theta, shape (p [+] p*, q)."""
    d_sigma, d_mu = model.jacobian(theta, g)
    r, c = _vech_index(d_sigma.shape[1])
    cov_part = d_sigma[:, r, c].T
    return np.vstack([d_mu.T, cov_part]) if with_mean else cov_part


def _moments(model, theta, g: int, gd: _GroupData):
    sigma, mu = model.implied(theta, g)
    if gd.fixed_mean is not None:
        mu = gd.fixed_mean
    return sigma, mu


def _objective_terms(sigma, mu, gd: _GroupData, need_grad=True):
    """Unit objective f = -loglik / n (without the constant) of one group and its derivatives
    dF/dSigma (as tr(G dSigma)) and dF/dmu. None when a Sigma block is not positive definite."""
    p = len(mu)
    f = 0.0
    G = np.zeros((p, p))
    gm = np.zeros(p)
    for pat in gd.patterns:
        o = pat.obs
        s_oo = sigma[np.ix_(o, o)]
        try:
            chol = np.linalg.cholesky(s_oo)
        except np.linalg.LinAlgError:
            return None
        inv = np.linalg.inv(s_oo)
        d = pat.mean - mu[o]
        C = pat.cov + np.outer(d, d)
        w = pat.n / gd.n
        f += 0.5 * w * (2.0 * np.log(np.diag(chol)).sum() + np.sum(inv * C) + len(o) * _LOG2PI)
        if need_grad:
            G[np.ix_(o, o)] += 0.5 * w * (inv - inv @ C @ inv)
            gm[o] -= w * (inv @ d)
    return f, G, gm


def _loglik(sigma, mu, gd: _GroupData) -> float:
    terms = _objective_terms(sigma, mu, gd, need_grad=False)
    return -gd.n * terms[0] if terms is not None else -math.inf


def _objective(model, theta, groups, with_grad=True):
    """f(theta) = -loglik / N and its gradient (None when not positive definite)."""
    total = sum(gd.n for gd in groups)
    f = 0.0
    grad = np.zeros(model.n_free)
    for g, gd in enumerate(groups):
        sigma, mu = _moments(model, theta, g, gd)
        terms = _objective_terms(sigma, mu, gd, need_grad=with_grad)
        if terms is None:
            return None
        fg, G, gm = terms
        w = gd.n / total
        f += w * fg
        if with_grad:
            d_sigma, d_mu = model.jacobian(theta, g)
            grad += w * (d_sigma.reshape(model.n_free, -1) @ G.ravel())
            if gd.fixed_mean is None:
                grad += w * (d_mu @ gm)
    return (f, grad) if with_grad else f


def _h1_scores(sigma, mu, gd: _GroupData, with_mean: bool) -> np.ndarray:
    """Casewise scores d loglik_i / d(mu, vech Sigma), shape (n, [p +] p*)."""
    p = len(mu)
    r, c = _vech_index(p)
    factor = np.where(r == c, 1.0, 2.0)
    out = np.zeros((gd.n, (p if with_mean else 0) + len(r)))
    for pat in gd.patterns:
        o = pat.obs
        inv = np.linalg.inv(sigma[np.ix_(o, o)])
        z = (gd.values[np.ix_(pat.rows, o)] - mu[o]) @ inv  # (n_p, p_o)
        full = np.zeros((pat.n, p, p))
        full[:, o[:, None], o[None, :]] = 0.5 * (z[:, :, None] * z[:, None, :] - inv)
        cov_scores = full[:, r, c] * factor
        if with_mean:
            zm = np.zeros((pat.n, p))
            zm[:, o] = z
            out[pat.rows] = np.hstack([zm, cov_scores])
        else:
            out[pat.rows] = cov_scores
    return out


def _vech_sandwich(K: np.ndarray, p: int) -> np.ndarray:
    """D' K D for a (p^2, p^2) matrix K, with D the duplication matrix (vec = D vech)."""
    r, c = _vech_index(p)
    i1, i2 = r * p + c, c * p + r
    out = K[np.ix_(i1, i1)] + K[np.ix_(i1, i2)] + K[np.ix_(i2, i1)] + K[np.ix_(i2, i2)]
    half = np.where(r == c, 0.5, 1.0)
    return out * half[:, None] * half[None, :]


def _kron_sum(As: np.ndarray, Bs: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_k w_k (A_k (x) B_k) for stacks of (p, p) matrices, by one matrix product."""
    P, p, _ = As.shape
    R = (As.reshape(P, -1) * w[:, None]).T @ Bs.reshape(P, -1)  # [(a,c),(b,d)]
    return R.reshape(p, p, p, p).transpose(0, 2, 1, 3).reshape(p * p, p * p)


def _h1_information(sigma, mu, gd: _GroupData, with_mean: bool, kind: str) -> np.ndarray:
    """Unit information of the saturated model of one group with missing data.

    ``kind="observed"``: the Hessian of -loglik/n at (mu, Sigma); ``kind="expected"``: the
    pattern-wise expected information, sum_p (n_p/n) [Sigma_oo^-1 ; 1/2 D'(Sigma_oo^-1 (x)
    Sigma_oo^-1)D]. Both match ``lav_mvnorm_missing_information_observed_samplestats`` and
    ``lav_mvnorm_missing_information_expected``.

    Notes
    -----
    With J the embedded Sigma_oo^-1, M = J C J (C = S_p + d d', d = ybar_p - mu_o) and
    v = J d, the observed information has blocks sum_p w_p J (mu, mu),
    sum_p w_p D'[-1/2 J (x) J + 1/2 (J (x) M + M (x) J)]D (Sigma, Sigma) and the mixed block
    d(-v)/d vec(Sigma) = J (x) v'.
    """
    p = len(mu)
    P = len(gd.patterns)
    Js = np.zeros((P, p, p))
    Ms = np.zeros((P, p, p))
    Vs = np.zeros((P, p))
    w = np.empty(P)
    for k, pat in enumerate(gd.patterns):
        o = pat.obs
        inv = np.linalg.inv(sigma[np.ix_(o, o)])
        Js[k][np.ix_(o, o)] = inv
        w[k] = pat.n / gd.n
        if kind == "observed":
            d = pat.mean - mu[o]
            Ms[k][np.ix_(o, o)] = inv @ (pat.cov + np.outer(d, d)) @ inv
            Vs[k][o] = inv @ d
    if kind == "expected":
        K = 0.5 * _kron_sum(Js, Js, w)
    else:
        K = -0.5 * _kron_sum(Js, Js, w) + 0.5 * (_kron_sum(Js, Ms, w) + _kron_sum(Ms, Js, w))
    cov = _vech_sandwich(K, p)
    if not with_mean:
        return cov
    mm = np.einsum("k,kab->ab", w, Js)
    if kind == "expected":
        cross = np.zeros((p, cov.shape[0]))
    else:
        mc = np.einsum("n,nab,nc->abc", w, Js, Vs).reshape(p, p * p)
        r, c = _vech_index(p)
        cross = mc[:, r * p + c] + np.where(r == c, 0.0, 1.0) * mc[:, c * p + r]
    return np.block([[mm, cross], [cross.T, cov]])


# ------------------------------------------------------------------------------------------
# EM for the unrestricted model
# ------------------------------------------------------------------------------------------

def em_saturated(values: np.ndarray, tol: float = 1e-11, max_iter: int = 10000):
    """Maximum-likelihood mean vector and covariance matrix of incomplete normal data by EM.

    Parameters
    ----------
    values : numpy.ndarray
        (n, p) data with NaN for missing entries; every row has at least one value.
    tol : float
        Convergence criterion on the largest change of any mean or covariance element.
    max_iter : int

    Returns
    -------
    mean : numpy.ndarray
    cov : numpy.ndarray
        Covariance with divisor n.
    loglik : float
        The maximized observed-data log-likelihood (lavaan's ``unrestricted.logl``).
    converged : bool

    Notes
    -----
    E-step: for each missing-data pattern, E[x_m | x_o] = mu_m + S_mo S_oo^-1 (x_o - mu_o) and
    Cov[x_m | x_o] = S_mm - S_mo S_oo^-1 S_om; M-step: the complete-data moments. Matches
    ``lav_mvnorm_missing_h1_estimate_moments`` (lavaan 0.6.14), run to a tighter tolerance.

    References
    ----------
    Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis with missing data* (2nd ed.),
    section 11.2. Wiley.
    """
    gd = _group_data(values)
    n, p = values.shape
    mu = np.nanmean(values, axis=0)
    sigma = np.diag(np.nanvar(values, axis=0))
    converged = False
    for _ in range(max_iter):
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for pat in gd.patterns:
            o = pat.obs
            m = np.setdiff1d(np.arange(p), o)
            x = gd.values[np.ix_(pat.rows, o)]
            full = np.empty((pat.n, p))
            full[:, o] = x
            extra = np.zeros((p, p))
            if len(m):
                beta = sigma[np.ix_(m, o)] @ np.linalg.inv(sigma[np.ix_(o, o)])
                full[:, m] = mu[m] + (x - mu[o]) @ beta.T
                extra[np.ix_(m, m)] = pat.n * (sigma[np.ix_(m, m)] - beta @ sigma[np.ix_(o, m)])
            t1 += full.sum(axis=0)
            t2 += full.T @ full + extra
        new_mu = t1 / n
        new_sigma = t2 / n - np.outer(new_mu, new_mu)
        change = max(np.max(np.abs(new_mu - mu)), np.max(np.abs(new_sigma - sigma)))
        mu, sigma = new_mu, new_sigma
        if change < tol:
            converged = True
            break
    return mu, sigma, _loglik(sigma, mu, gd), converged


# ------------------------------------------------------------------------------------------
# the independence (baseline) model as a small model object
# ------------------------------------------------------------------------------------------

class _Independence:
    """lavaan's baseline model: free variances (and means) of the non-covariates; fixed.x
    covariates keep their sample moments. Parameters: per group, variances then means."""

    def __init__(self, p, x_idx, ngroups, meanstructure, fixed):
        self.p = p
        self.x_idx = list(x_idx)
        self.y_idx = [i for i in range(p) if i not in self.x_idx]
        self.ngroups = ngroups
        self.meanstructure = meanstructure
        self.fixed = fixed  # per group (cov, mean) used for the covariate block
        self.per_group = len(self.y_idx) * (2 if meanstructure else 1)
        self.n_free = ngroups * self.per_group

    def _slice(self, theta, g):
        t = theta[g * self.per_group:(g + 1) * self.per_group]
        ny = len(self.y_idx)
        return t[:ny], (t[ny:] if self.meanstructure else None)

    def implied(self, theta, g=0):
        var, mean = self._slice(theta, g)
        cov_x, mean_x = self.fixed[g]
        sigma = np.zeros((self.p, self.p))
        sigma[self.y_idx, self.y_idx] = var
        mu = np.zeros(self.p)
        if self.x_idx:
            sigma[np.ix_(self.x_idx, self.x_idx)] = cov_x[np.ix_(self.x_idx, self.x_idx)]
            mu[self.x_idx] = mean_x[self.x_idx]
        if mean is not None:
            mu[self.y_idx] = mean
        return sigma, mu

    def jacobian(self, theta, g=0):
        d_sigma = np.zeros((self.n_free, self.p, self.p))
        d_mu = np.zeros((self.n_free, self.p))
        base = g * self.per_group
        ny = len(self.y_idx)
        for k, i in enumerate(self.y_idx):
            d_sigma[base + k, i, i] = 1.0
            if self.meanstructure:
                d_mu[base + ny + k, i] = 1.0
        return d_sigma, d_mu

    def estimates(self, groups):
        """Closed-form ML estimates: per variable the mean and variance (divisor n) of its
        observed values (the likelihood factorizes over variables)."""
        theta = []
        for gd in groups:
            vals = gd.values[:, self.y_idx]
            theta.append(np.nanvar(vals, axis=0))
            if self.meanstructure:
                theta.append(np.nanmean(vals, axis=0))
        return np.concatenate(theta)


# ------------------------------------------------------------------------------------------
# information matrices of a model (CompiledModel or _Independence)
# ------------------------------------------------------------------------------------------

def _pattern_information(model, theta, groups, kind: str) -> np.ndarray:
    """sum_g (n_g/N) Delta_g' I_h1,g Delta_g at the model-implied moments, accumulated pattern
    by pattern (never forming the p^2 x p^2 saturated information).

    Notes
    -----
    With X_k = Sigma_oo^-1 dSigma_k,oo, a_k = dmu_k,o, v = Sigma_oo^-1 d, N = Sigma_oo^-1 C,
    C = S_p + d d' and d = ybar_p - mu_o, pattern p contributes (n_p/n) times
    expected: 1/2 tr(X_k X_l) + a_k' Sigma_oo^-1 a_l;
    observed: -1/2 tr(X_k X_l) + 1/2 [tr(X_k X_l N) + tr(X_l X_k N)] + u_k' a_l + a_k' u_l
    + a_k' Sigma_oo^-1 a_l with u_k = X_k v (the Hessian of -loglik/n along Sigma(theta), mu(theta)
    without the second derivatives of the moments).
    """
    total = sum(gd.n for gd in groups)
    q = model.n_free
    info = np.zeros((q, q))
    for g, gd in enumerate(groups):
        sigma, mu = _moments(model, theta, g, gd)
        d_sigma, d_mu = model.jacobian(theta, g)
        use = np.flatnonzero(np.abs(d_sigma).reshape(q, -1).sum(axis=1)
                             + np.abs(d_mu).sum(axis=1) > 0)
        with_mean = gd.fixed_mean is None
        for pat in gd.patterns:
            o = pat.obs
            w = (gd.n / total) * (pat.n / gd.n)
            inv = np.linalg.inv(sigma[np.ix_(o, o)])
            A = d_sigma[np.ix_(use, o, o)]
            a = d_mu[np.ix_(use, o)]
            X = inv @ A  # (r, p_o, p_o)
            r = len(use)
            Xf = X.reshape(r, -1)
            XtT = X.transpose(0, 2, 1).reshape(r, -1)
            tr_xx = Xf @ XtT.T  # tr(X_k X_l)
            if kind == "expected":
                block = 0.5 * tr_xx
                if with_mean:
                    block += a @ inv @ a.T
            else:
                dvec = pat.mean - mu[o]
                N = inv @ (pat.cov + np.outer(dvec, dvec))
                XM = (X @ N).transpose(0, 2, 1).reshape(r, -1)
                t1 = Xf @ XM.T  # tr(X_k X_l M)
                block = -0.5 * tr_xx + 0.5 * (t1 + t1.T)
                if with_mean:
                    u = X @ (inv @ dvec)  # (r, p_o)
                    ua = u @ a.T
                    block += ua + ua.T + a @ inv @ a.T
            info[np.ix_(use, use)] += w * block
    return 0.5 * (info + info.T)


def _hessian(model, theta, groups) -> np.ndarray:
    """Observed information: the Hessian of -loglik/N (lavaan's ``observed.information =
    "hessian"``): the pattern-wise part plus the second derivatives of the implied moments
    contracted with dF/dSigma and dF/dmu (by central differences of the Jacobian)."""
    H = _pattern_information(model, theta, groups, "observed")
    total = sum(gd.n for gd in groups)
    q = model.n_free
    contractions = []
    for g, gd in enumerate(groups):
        sigma, mu = _moments(model, theta, g, gd)
        terms = _objective_terms(sigma, mu, gd)
        if terms is None:
            return np.full((q, q), np.nan)
        contractions.append((gd.n / total, terms[1].ravel(), terms[2], gd.fixed_mean is None))
    second = np.zeros((q, q))
    for k in range(q):
        h = 1e-5 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        for g, (w, G, gm, with_mean) in enumerate(contractions):
            ds_u, dm_u = model.jacobian(up, g)
            ds_d, dm_d = model.jacobian(down, g)
            col = (ds_u - ds_d).reshape(q, -1) @ G
            if with_mean:
                col = col + (dm_u - dm_d) @ gm
            second[:, k] += w * col / (2 * h)
    H = H + 0.5 * (second + second.T)
    return H


def _scores(model, theta, groups) -> np.ndarray:
    """Casewise scores d loglik_i / d theta, stacked over groups, shape (N, q)."""
    blocks = []
    for g, gd in enumerate(groups):
        sigma, mu = _moments(model, theta, g, gd)
        with_mean = gd.fixed_mean is None
        blocks.append(_h1_scores(sigma, mu, gd, with_mean) @ _delta(model, theta, g, with_mean))
    return np.vstack(blocks)


def _structured_information(model, theta, groups, kind) -> np.ndarray:
    """sum_g (n_g/N) Delta_g' I_h1,g Delta_g with I_h1 at the model-implied moments."""
    total = sum(gd.n for gd in groups)
    info = np.zeros((model.n_free, model.n_free))
    for g, gd in enumerate(groups):
        sigma, mu = _moments(model, theta, g, gd)
        with_mean = gd.fixed_mean is None
        delta = _delta(model, theta, g, with_mean)
        info += (gd.n / total) * delta.T @ _h1_information(sigma, mu, gd, with_mean, kind) @ delta
    return info


# ------------------------------------------------------------------------------------------
# Yuan-Bentler (Mplus variant) scaling
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _H1:
    """Unrestricted moments and information of every group (h1.information unstructured)."""

    sigma: tuple
    mu: tuple
    A1: tuple        # observed information of the saturated model (unit, per group)
    B1: tuple        # first-order information of the saturated model (unit, per group)
    ndat: int
    keep: tuple      # per group: saturated parameters kept (fixed.x moments removed)


def _h1_keep(p, x_idx, with_mean) -> np.ndarray:
    """Saturated parameters that are not moments among fixed.x covariates (lavaan zeroes
    those rows of the h1 information and leaves them out of ndat)."""
    r, c = _vech_index(p)
    xs = np.zeros(p, bool)
    xs[list(x_idx)] = True
    keep_cov = ~(xs[r] & xs[c])
    return np.concatenate([~xs, keep_cov]) if with_mean else keep_cov


def _h1_quantities(groups, h1_moments, x_idx=()) -> _H1:
    A1, B1, keeps = [], [], []
    ndat = 0
    for gd, (sigma, mu) in zip(groups, h1_moments):
        with_mean = gd.fixed_mean is None
        mu_eval = gd.fixed_mean if not with_mean else mu
        keep = _h1_keep(len(mu), x_idx, with_mean)
        a1 = _h1_information(sigma, mu_eval, gd, with_mean, "observed")
        sc = _h1_scores(sigma, mu_eval, gd, with_mean)[:, keep]
        A1.append(a1[np.ix_(keep, keep)])
        B1.append(sc.T @ sc / gd.n)
        keeps.append(keep)
        ndat += int(keep.sum())
    return _H1(tuple(s for s, _ in h1_moments), tuple(m for _, m in h1_moments), tuple(A1),
               tuple(B1), ndat, tuple(keeps))


def yuan_bentler_mplus(chisq, df, h1: _H1, e_inv, b0, npar) -> dict:
    """Yuan-Bentler scaling factor, Mplus variant (lavaan's ``test = "yuan.bentler.mplus"``).

    Parameters
    ----------
    chisq, df : float
        The unscaled likelihood-ratio statistic and its degrees of freedom.
    h1 : _H1
        Observed (A1) and first-order (B1) unit information of the saturated model per group,
        at the unrestricted estimates.
    e_inv : numpy.ndarray
        Inverse of the model's unit observed information.
    b0 : numpy.ndarray
        The model's unit first-order information (mean casewise score cross-product).
    npar : int

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
        out["pvalue_scaled"] = float(stats.chi2.sf(out["chisq_scaled"], df))
    else:
        out.update(scaling=math.nan, chisq_scaled=math.nan, pvalue_scaled=math.nan)
    return out


# ------------------------------------------------------------------------------------------
# optimization for FIML
# ------------------------------------------------------------------------------------------

def _newton_polish(model, theta, groups, f, grad, tol, max_steps=10):
    """Newton steps on the observed information until max |gradient| < tol (each step is
    accepted only if it does not increase the objective). Returns (theta, f, grad, steps)."""
    steps = 0
    for _ in range(max_steps):
        if np.max(np.abs(grad)) < tol:
            break
        H = _hessian(model, theta, groups)
        if not np.all(np.isfinite(H)):
            break
        try:
            step = -np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            break
        res = _objective(model, theta + step, groups)
        if res is None or res[0] > f + 1e-12 * max(1.0, abs(f)):
            break
        theta = theta + step
        f, grad = res
        steps += 1
    return theta, f, grad, steps


def _optimize_fiml(model, theta, groups, max_iter=500, tol=1e-8):
    """Scoring steps with the complete-data expected information and step halving, then
    Newton steps on the observed information (Hessian); L-BFGS-B when scoring stalls.

    Returns (theta, iterations, converged, f)."""
    current = _objective(model, theta, groups)
    if current is None:
        raise ModelError("The starting values give a non-positive-definite implied covariance "
                         "matrix; give start values in the model syntax.")
    f, grad = current
    it = 0
    stalled = False
    for it in range(1, max_iter + 1):
        if np.max(np.abs(grad)) < 1e-6:
            break
        # complete-data expected information: cheap, and close enough for linear convergence
        stubs = [_complete_stub(*model.implied(theta, g), gd.n)
                 for g, gd in enumerate(groups)]
        info = _pattern_information(model, theta, stubs, "expected")
        try:
            step = -np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(info, grad, rcond=None)[0]
        alpha, accepted = 1.0, False
        for _ in range(30):
            res = _objective(model, theta + alpha * step, groups)
            if res is not None and res[0] <= f + 1e-4 * alpha * float(grad @ step):
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            stalled = True
            break
        theta = theta + alpha * step
        f, grad = res
    if stalled or np.max(np.abs(grad)) >= 1e-6:
        def fun(t):
            r = _objective(model, t, groups)
            return (1e10, np.zeros_like(t)) if r is None else r
        opt = optimize.minimize(fun, theta, jac=True, method="L-BFGS-B",
                                options={"maxiter": 5000, "gtol": 1e-10, "ftol": 1e-15})
        theta = opt.x
        f, grad = _objective(model, theta, groups)
        it += int(opt.nit)
    theta, f, grad, steps = _newton_polish(model, theta, groups, f, grad, tol * 1e-2)
    it += steps
    converged = bool(np.max(np.abs(grad)) < tol)
    return theta, it, converged, f


# ------------------------------------------------------------------------------------------
# data preparation
# ------------------------------------------------------------------------------------------

def _prepare_fiml(syntax, data, group, group_equal, source):
    """Rows with at least one observed model variable, split by group and pattern; the EM
    moments of every group; the model compiled with a mean structure."""
    roles, observed, values, group_values = estimation.model_data(syntax, data, group, source)
    keep = ~np.isnan(values).all(axis=1)
    notes = []
    dropped = int((~keep).sum())
    if dropped:
        notes.append(f"{source}: {dropped} row(s) with no answer on any model variable were "
                     "left out (lavaan does the same).")
    x_idx = [observed.index(v) for v in roles.ov_x if v in observed]
    if x_idx:
        bad = keep & np.isnan(values[:, x_idx]).any(axis=1)
        if bad.any():
            notes.append(f"{source}: {int(bad.sum())} row(s) with missing values on the "
                         "exogenous covariate(s) were left out (fixed.x, as lavaan does).")
            keep &= ~bad
    labels, groups_idx = estimation.split_groups(keep, group_values)
    groups, moments, h1 = [], [], []
    for idx in groups_idx:
        vals = values[idx]
        if len(idx) < 2:
            raise ModelError(f"{source}: only {len(idx)} usable row(s)"
                             f"{' in a group' if group else ''}; the model needs more rows.")
        counts = (~np.isnan(vals)).sum(axis=0)
        if (counts < 2).any():
            empty = [observed[i] for i in np.flatnonzero(counts < 2)]
            raise ModelError(f"{source}: variable(s) {', '.join(empty)} have fewer than two "
                             "observed values.")
        mu, sigma, logl, conv = em_saturated(vals)
        if not conv:
            notes.append(f"{source}: the EM algorithm for the unrestricted model did not "
                         "converge; the chi-square test is approximate.")
        eig = np.linalg.eigvalsh(sigma)
        if eig.min() <= 1e-10 * max(eig.max(), 1.0):
            raise ModelError(f"{source}: the EM estimate of the covariance matrix is not "
                             "positive definite; some items may be collinear or too sparse.")
        gd = _group_data(vals)
        groups.append(gd)
        moments.append(SampleMoments(n=len(idx), mean=mu, cov=sigma,
                                     patterns=tuple((pt.obs, pt.n, pt.mean, pt.cov)
                                                    for pt in gd.patterns),
                                     complete=gd.complete))
        h1.append((sigma, mu, logl))
    model = compile_model(syntax, observed, meanstructure=True, ngroups=len(groups),
                          group_equal=group_equal, moments=moments, source=source)
    return model, moments, groups, h1, labels, notes


# ------------------------------------------------------------------------------------------
# fit measures built from the robust ingredients
# ------------------------------------------------------------------------------------------

def _scaled_measures(chisq, df, n, G, yb, b_chisq, b_df, yb_base) -> dict:
    """lavaan's ``*.scaled`` and ``*.robust`` measures for a Yuan-Bentler-scaled test."""
    from .fitmeasures import incremental_indices, rmsea_measures

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
    out.update(_robust_incremental(chisq, df, b_chisq, b_df, c, cb))
    # "scaled" RMSEA: the unscaled statistic on tr(U Gamma) degrees of freedom
    sc = rmsea_measures(chisq, yb["trace"], n, G)
    for k in ("rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue",
              "rmsea_notclose_pvalue"):
        out[f"{k}_scaled"] = sc[k]
    out.update(_robust_rmsea(chisq, df, n, G, c))
    return out


def _robust_incremental(x2, df, bx2, bdf, c, cb) -> dict:
    """Robust CFI/TLI/RNI (Brosseau-Liard & Savalei 2014, eq. 15): noncentralities
    X2 - c df and X2_B - c_B df_B (``lav_fit_cfi`` with c.hat)."""
    t1, t2 = x2 - c * df, bx2 - cb * bdf
    if not all(math.isfinite(v) for v in (t1, t2)):
        return {k: math.nan for k in ("cfi_robust", "tli_robust", "nnfi_robust", "rni_robust")}
    a = max(t1, 0.0)
    b = max(t1, t2, 0.0)
    cfi = 1.0 if (math.isclose(a, 0.0, abs_tol=1.5e-8) and math.isclose(b, 0.0, abs_tol=1.5e-8)) \
        else 1.0 - a / b
    tli = 1.0 - (t1 * bdf) / (t2 * df) if df > 0 and abs(t2) > 0 else 1.0
    rni = 1.0 - t1 / t2 if t2 != 0 else math.nan
    return {"cfi_robust": cfi, "tli_robust": tli, "nnfi_robust": tli, "rni_robust": rni}


def _robust_rmsea(x2, df, n, G, c) -> dict:
    """Robust RMSEA sqrt(max(X2/(N df) - c/N, 0)) sqrt(G) with its CI and close-fit tests
    computed from X2/c with the noncentrality multiplied by c (``lav_fit_rmsea_lavobject``)."""
    from .fitmeasures import rmsea_measures

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
        out[key] = float(stats.ncx2.sf(x2 / c, df, ncp) if upper
                         else stats.ncx2.cdf(x2 / c, df, ncp))
    return out


def _complete_f_ml(sigma, mu, s, m) -> float:
    """The complete-data ML discrepancy (times one, lavaan's 2 * fmin) of (Sigma, mu) at
    sample moments (S, m)."""
    inv = np.linalg.inv(sigma)
    d = m - mu
    p = len(m)
    return (np.linalg.slogdet(sigma)[1] + np.sum(s * inv) - np.linalg.slogdet(s)[1] - p
            + d @ inv @ d)


def _fiml_corrected(model, theta, base, theta_b, groups, h1: _H1, df, b_df, version,
                    e_inv_model=None) -> dict:
    """Zhang & Savalei (2023) FIML-corrected ingredients for the robust RMSEA and CFI.

    Notes
    -----
    X2_3 = N F_ML(model at theta_hat; EM moments) and likewise for the baseline model;
    with W_m the observed information of the saturated model with missing data and W_c the
    complete-data information, both at the EM moments, U = W_m - W_m Delta (Delta' W_m
    Delta)^-1 Delta' W_m, and k = tr(W_c W_m^-1 U W_m^-1) (version V6, ML) or
    k = tr(U W_m^-1 W_c W_m^-1 U Gamma) with Gamma = W_m^-1 J_m W_m^-1 (version V3, MLR);
    c_hat = k / df. Matches ``lav_fit_fiml_corrected`` (lavaan 0.6.14).

    References
    ----------
    Zhang, X., & Savalei, V. (2023). New computations for RMSEA and CFI following FIML and TS
    estimation with missing data. *Psychological Methods*, 28(2), 263-283.
    https://doi.org/10.1037/met0000445
    """
    total = sum(gd.n for gd in groups)
    x3 = x3b = 0.0
    Wm, Wc, Wmi, Gam, D, DB = [], [], [], [], [], []
    for g, gd in enumerate(groups):
        fg = gd.n / total
        s, m = h1.sigma[g], h1.mu[g]
        sig, mu = model.implied(theta, g)
        x3 += gd.n * _complete_f_ml(sig, mu, s, m)
        sig_b, mu_b = base.implied(theta_b, g)
        x3b += gd.n * _complete_f_ml(sig_b, mu_b, s, m)
        wm = h1.A1[g]
        keep = h1.keep[g]
        wc = _h1_information(s, m, _complete_stub(s, m, gd.n), True, "expected")
        wc = wc[np.ix_(keep, keep)]
        wmi = np.linalg.inv(wm)
        Wm.append(fg * wm)
        Wc.append(fg * wc)
        Wmi.append(wmi / fg)
        Gam.append(wmi @ h1.B1[g] @ wmi / fg)
        D.append(_delta(model, theta, g, True)[keep])
        DB.append(_delta(base, theta_b, g, True)[keep])
    from scipy.linalg import block_diag
    Wm, Wc, Wmi, Gam = (block_diag(*x) for x in (Wm, Wc, Wmi, Gam))
    D, DB = np.vstack(D), np.vstack(DB)

    def k_value(delta):
        e_inv = np.linalg.inv(delta.T @ Wm @ delta)
        U = Wm - Wm @ delta @ e_inv @ delta.T @ Wm
        if version == "V3":
            return float(np.trace(U @ Wmi @ Wc @ Wmi @ U @ Gam))
        return float(np.trace(Wc @ Wmi @ U @ Wmi))

    c3 = k_value(D) / df if df > 0 else math.nan
    c3b = k_value(DB) / b_df if b_df > 0 else math.nan
    return {"x3": x3, "c3": c3, "x3_null": x3b, "c3_null": c3b}


def _complete_stub(sigma, mu, n) -> _GroupData:
    """A one-pattern group whose sample moments are (sigma, mu) (for complete-data
    information at given moments)."""
    p = len(mu)
    pat = _Pattern(np.arange(p), np.arange(0), n, mu, sigma)
    return _GroupData(np.zeros((0, p)), (pat,), n, None)


def _expected_quadratic(E, e_mu, sigma, gd: _GroupData) -> float:
    """x' W x for x = (e_mu, vech E) and W the pattern-wise expected information at sigma:
    sum_p (n_p/n) [1/2 tr(S_oo^-1 E_oo S_oo^-1 E_oo) + e_mu,o' S_oo^-1 e_mu,o]."""
    out = 0.0
    for pat in gd.patterns:
        o = pat.obs
        inv = np.linalg.inv(sigma[np.ix_(o, o)])
        X = inv @ E[np.ix_(o, o)]
        out += (pat.n / gd.n) * (0.5 * np.sum(X * X.T) + e_mu[o] @ inv @ e_mu[o])
    return float(out)


def _gfi_missing(model, theta, groups, df) -> dict:
    """LISREL GFI, AGFI and PGFI of a FIML fit, as lavaan 0.6.14 computes them.

    Notes
    -----
    GFI = 1 - e'We / s'Ws per group (weighted by n_g), where s holds lavaan's ``WLS.obs`` for
    ``missing = "ml"``: the means of the observed values and the pairwise-complete covariance
    matrix (divisor n_ij - 1) rescaled by (n - 1)/n; e = s - (mu, vech Sigma) of the model; and
    W is the pattern-wise expected information of the saturated model at the model-implied
    moments (``lav_model_h1_information_expected``). AGFI = 1 - (nel/df)(1 - GFI),
    PGFI = (df/nel) GFI. Matches ``lav_fit_gfi_lavobject``.
    """
    vals, weights = [], []
    nel = 0
    for g, gd in enumerate(groups):
        sigma, mu = model.implied(theta, g)
        frame = pd.DataFrame(gd.values)
        cov = frame.cov().to_numpy() * (gd.n - 1) / gd.n
        mean = np.nanmean(gd.values, axis=0)
        s_quad = _expected_quadratic(cov, mean, sigma, gd)
        e_quad = _expected_quadratic(cov - sigma, mean - mu, sigma, gd)
        p = len(mu)
        nel += p * (p + 1) // 2 + p
        vals.append(1.0 - e_quad / s_quad)
        weights.append(gd.n)
    gfi = float(np.dot(weights, vals) / sum(weights))
    return {"gfi": gfi, "agfi": 1 - (nel / df) * (1 - gfi) if df > 0 else 1.0,
            "pgfi": (df / nel) * gfi if nel else math.nan}


# ------------------------------------------------------------------------------------------
# modification indices with missing data
# ------------------------------------------------------------------------------------------

def _fiml_modindices(model, moments, theta, groups) -> pd.DataFrame:
    """Score tests for fixed-to-zero parameters with the FIML gradient and the pattern-wise
    expected information (lavaan's ``modindices`` for ``missing = "ml"``)."""
    from .fitmeasures import _candidates, score_tests
    from .model import _compile_extended

    cands = _candidates(model)
    cols = ["lhs", "op", "rhs", "mi", "epc", "sepc_all"]
    if not cands:
        return pd.DataFrame(columns=cols)
    ext = _compile_extended(model, cands, moments)
    q = model.n_free
    theta_ext = np.concatenate([theta, np.zeros(len(cands))])
    _, grad = _objective(ext, theta_ext, groups)
    d = grad[q:]
    full = (_structured_information(ext, theta_ext, groups, "expected")
            if ext.n_free > 2 * model.n_free + 50
            else _pattern_information(ext, theta_ext, groups, "expected"))
    return score_tests(model, theta, cands, d, full, sum(gd.n for gd in groups))


# ------------------------------------------------------------------------------------------
# the entry point
# ------------------------------------------------------------------------------------------

def fit_robust(syntax, data, estimator="MLR", missing="listwise", group=None, group_equal=(),
               source="model", compute_modindices=True):
    """Fit a model by MLR and/or FIML and compute lavaan's statistics.

    Parameters
    ----------
    syntax : str
        lavaan model syntax.
    data : pandas.DataFrame
        Numeric columns named as the model's observed variables; NaN marks a missing answer.
    estimator : {"ML", "MLR"}
        ``"MLR"``: Huber-White sandwich SEs and the Yuan-Bentler (Mplus) scaled test.
    missing : {"listwise", "fiml"}
        ``"fiml"``: casewise likelihood of the observed values with a mean structure.
    group : str, optional
        Column defining groups.
    group_equal : tuple of str
        lavaan's ``group.equal``.
    source : str
        Name of the model for messages.
    compute_modindices : bool
        Compute modification indices (single-group fits).

    Returns
    -------
    riskmodel_sem.sem.estimation.FitResult

    Raises
    ------
    ModelError
        When the data cannot support the model.

    Notes
    -----
    MLR (complete data): vcov = A^-1 B A^-1 / N with A the Hessian of -loglik/N and B the mean
    cross-product of the casewise scores (lavaan ``se = "robust.huber.white"`` with
    ``information = "observed"``); the test is scaled by c = tr(U Gamma) / df
    (:func:`yuan_bentler_mplus`). Modification indices use the expected information, as
    lavaan's ``modindices()`` does.

    FIML: rows whose model variables are all missing are dropped (as lavaan does);
    chisq = 2 (logl_h1 - logl_h0) with logl_h1 from EM (:func:`em_saturated`); the baseline
    model has per-variable means and variances; residual-based measures (SRMR, RMR, GFI)
    compare the model with the EM moments; SEs come from the inverse Hessian (observed
    information), or the sandwich with MLR. Matches ``cfa(..., missing = "ml")`` and
    ``cfa(..., estimator = "MLR", missing = "ml")`` of lavaan 0.6.14.

    References
    ----------
    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
    In G. A. Marcoulides & R. E. Schumacker (Eds.), *Advanced structural equation modeling*
    (pp. 243-277). Erlbaum.

    Savalei, V. (2010). Expected versus observed information in SEM with incomplete normal and
    nonnormal data. *Psychological Methods*, 15(4), 352-367. https://doi.org/10.1037/a0020143
    """
    from . import fitmeasures

    estimator = str(estimator).upper()
    missing = str(missing).lower()
    robust_se = estimator == "MLR"
    notes: list[str] = []
    if missing == "listwise":
        model, moments, values, labels = estimation.prepare(
            syntax, data, group=group, group_equal=group_equal, source=source)
        groups = [_group_data(v, None if model.meanstructure else m.mean)
                  for v, m in zip(values, moments)]
        logdet_s = [np.linalg.slogdet(m.cov)[1] for m in moments]
        theta0 = estimation._start_values(model, moments)
        theta, iterations, converged, fmin2 = estimation._optimize(model, theta0, moments,
                                                                   logdet_s)
        if converged:
            # a Newton step on the observed information takes the gradient to ~1e-12, so that
            # sandwich SEs do not carry the optimizer's tolerance
            start = _objective(model, theta, groups)
            theta, _, _, _ = _newton_polish(model, theta, groups, *start, tol=1e-11,
                                            max_steps=3)
            fmin2 = estimation._discrepancy(model, theta, moments, logdet_s)
        h1_moments = [(m.cov, m.mean) for m in moments]
        logl = unrestricted = None
        baseline = None
    else:
        model, moments, groups, h1_list, labels, notes = _prepare_fiml(
            syntax, data, group, group_equal, source)
        theta0 = estimation._start_values(model, moments)
        theta, iterations, converged, f = _optimize_fiml(model, theta0, groups)
        total = sum(gd.n for gd in groups)
        logl = -total * f
        unrestricted = sum(h[2] for h in h1_list)
        fmin2 = 2.0 * (unrestricted - logl) / total
        h1_moments = [(h[0], h[1]) for h in h1_list]
    total = sum(gd.n for gd in groups)
    G = len(groups)

    # baseline model
    x_idx = [model.observed.index(v) for v in model.ov_x]
    base = _Independence(len(model.observed), x_idx, G, model.meanstructure,
                         [(s, m) for s, m in h1_moments])
    theta_b = base.estimates(groups) if missing == "fiml" else np.concatenate(
        [np.concatenate([np.diag(m.cov)[base.y_idx]] +
                        ([m.mean[base.y_idx]] if model.meanstructure else []))
         for m in moments])
    if missing == "fiml":
        logl_b = sum(-gd.n * _objective_terms(*base.implied(theta_b, g), gd, False)[0]
                     for g, gd in enumerate(groups))
        b_chisq = 2.0 * (unrestricted - logl_b)
        b_df = fitmeasures._n_moments(model) - base.n_free
        baseline = (float(b_chisq), int(b_df))
    else:
        baseline = fitmeasures.baseline_statistic(model, moments)
    b_chisq, b_df = baseline
    df = fitmeasures._n_moments(model) - model.n_free
    chisq = total * fmin2

    # information, vcov
    hess = _hessian(model, theta, groups)
    try:
        hess_inv = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        hess_inv = np.full_like(hess, np.nan)
    extra: dict = {}
    h1 = None
    if robust_se or missing == "fiml":
        h1 = _h1_quantities(groups, h1_moments, x_idx)
    if robust_se:
        sc = _scores(model, theta, groups)
        b0 = sc.T @ sc / total
        vcov = hess_inv @ b0 @ hess_inv / total
        yb = yuan_bentler_mplus(chisq, df, h1, hess_inv, b0, model.n_free)
        hess_b = _hessian(base, theta_b, groups)
        sc_b = _scores(base, theta_b, groups)
        yb_b = yuan_bentler_mplus(b_chisq, b_df, h1, np.linalg.inv(hess_b),
                                  sc_b.T @ sc_b / total, base.n_free)
        extra.update(_scaled_measures(chisq, df, total, G, yb, b_chisq, b_df, yb_b))
    else:
        vcov = hess_inv / total
    if missing == "fiml":
        fc = _fiml_corrected(model, theta, base, theta_b, groups, h1, df, b_df,
                             "V3" if robust_se else "V6")
        for k in [k for k in extra if k.endswith("_robust")]:
            del extra[k]
        extra.update(_robust_incremental(fc["x3"], df, fc["x3_null"], b_df, fc["c3"],
                                         fc["c3_null"]))
        extra.update(_robust_rmsea(fc["x3"], df, total, G, fc["c3"]))
        extra.update(_gfi_missing(model, theta, groups, df))

    info = (estimation._expected_information(model, theta, moments)
            if missing == "listwise" else hess)
    em_moments = [SampleMoments(n=gd.n, mean=m, cov=s) for gd, (s, m) in zip(groups, h1_moments)]
    result = estimation.assemble(
        model, em_moments if missing == "fiml" else moments, theta, info, fmin2, iterations,
        converged, estimator=estimator, missing=missing, labels=labels, source=source,
        compute_modindices=compute_modindices, vcov=vcov, test_extra=extra, logl=logl,
        unrestricted_logl=unrestricted, baseline=baseline)
    changes = {}
    if missing == "fiml" and compute_modindices and model.ngroups == 1:
        changes["modindices"] = _fiml_modindices(model, moments, theta, groups)
    for msg in notes:
        warnings.warn(msg, DataQualityWarning, stacklevel=3)
    if notes:
        changes["warnings"] = tuple(notes) + result.warnings
    return dataclasses.replace(result, **changes) if changes else result
