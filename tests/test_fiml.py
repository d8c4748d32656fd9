"""The missing-data sums of the FIML objective, EM and the saturated information, computed for
all patterns at once from one inverse, against the pattern-by-pattern definitions."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel_sem.sem.em import em_estimate
from riskmodel_sem.sem.objective import group_data, h1_information, pattern_loglik, pattern_sums

_LOG2PI = np.log(2.0 * np.pi)


def _incomplete(n=300, p=9, rate=0.15, seed=3, duplicate_patterns=True):
    rng = np.random.default_rng(seed)
    L = rng.normal(0.0, 0.6, (p, 2))
    X = rng.standard_normal((n, 2)) @ L.T + rng.standard_normal((n, p)) + 3.0
    holes = rng.random((n, p)) < rate
    if duplicate_patterns:  # a few patterns shared by many rows (multi-row patterns)
        holes[: n // 3] = False
        holes[n // 3: n // 2, :2] = True
        holes[n // 3: n // 2, 2:] = False
    holes[holes.all(axis=1), 0] = False
    X[holes] = np.nan
    return X


def _direct(sigma, mu, gd):
    """sum_p w_p [log|S_oo| + tr(S_oo^-1 C_p)], dF/dSigma and dF/dmu, one pattern at a time."""
    p = len(mu)
    f, G, gmu = 0.0, np.zeros((p, p)), np.zeros(p)
    for pat in gd.patterns:
        o = pat.obs
        s_oo = sigma[np.ix_(o, o)]
        inv = np.linalg.inv(s_oo)
        d = pat.mean - mu[o]
        C = pat.cov + np.outer(d, d)
        w = pat.n / gd.n
        f += w * (np.linalg.slogdet(s_oo)[1] + np.sum(inv * C))
        G[np.ix_(o, o)] += w * inv @ (s_oo - C) @ inv
        gmu[o] -= 2.0 * w * inv @ d
    return f, G, gmu


@pytest.mark.parametrize("duplicate_patterns", [True, False])
def test_pattern_sums_equal_the_pattern_by_pattern_terms(duplicate_patterns):
    X = _incomplete(duplicate_patterns=duplicate_patterns)
    gd = group_data(X)
    assert len(gd.patterns) > 50
    assert sum(len(b.n) for b in gd.batches) == len(gd.patterns)
    p = X.shape[1]
    rng = np.random.default_rng(7)
    B = rng.normal(size=(p, p))
    sigma = B @ B.T / p + np.eye(p)
    mu = rng.normal(3.0, 0.2, p)
    f, M, zbar, K = pattern_sums(sigma, mu, gd)
    f_ref, G_ref, gmu_ref = _direct(sigma, mu, gd)
    np.testing.assert_allclose(f, f_ref, rtol=1e-12)
    np.testing.assert_allclose(K - K @ M @ K, G_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(-2.0 * K @ zbar, gmu_ref, rtol=1e-9, atol=1e-12)
    # the log-likelihood adds the 2 pi constant of every observed value
    ll = -0.5 * (np.sum(~np.isnan(X)) * _LOG2PI + len(X) * f_ref)
    np.testing.assert_allclose(pattern_loglik(sigma, mu, gd), ll, rtol=1e-12)


def test_group_data_orders_patterns_complete_first_then_by_observed_count():
    X = _incomplete()
    gd = group_data(X)
    keys = [tuple(np.isin(np.arange(X.shape[1]), pt.obs)) for pt in gd.patterns]
    expected = sorted(keys, key=lambda k: (-sum(k), tuple(not v for v in k)))
    assert keys == expected
    rows = np.concatenate([pt.rows for pt in gd.patterns])
    assert sorted(rows.tolist()) == list(range(len(X)))
    for pt in gd.patterns:
        assert np.all(np.diff(pt.rows) > 0)
        x = X[np.ix_(pt.rows, pt.obs)]
        assert not np.isnan(x).any()
        assert np.isnan(np.delete(X[pt.rows], pt.obs, axis=1)).all()
        np.testing.assert_allclose(pt.mean, x.mean(axis=0), rtol=1e-13)
        np.testing.assert_allclose(pt.cov, np.cov(x.T, bias=True).reshape(pt.cov.shape),
                                   atol=1e-12)


def test_em_estimate_solves_the_score_equations_of_the_saturated_model():
    X = _incomplete(duplicate_patterns=False)
    em = em_estimate(X)
    assert em.converged
    gd = group_data(X)
    f, M, zbar, K = pattern_sums(em.cov, em.mean, gd)
    # d logl / d Sigma and d logl / d mu vanish at the ML estimates
    assert np.max(np.abs(K - K @ M @ K)) < 1e-8
    assert np.max(np.abs(K @ zbar)) < 1e-8
    # and it is the maximum: a small move lowers the log-likelihood
    ll = pattern_loglik(em.cov, em.mean, gd)
    np.testing.assert_allclose(em.loglik, ll, rtol=1e-12)
    assert pattern_loglik(em.cov * 1.001, em.mean, gd) < ll
    assert pattern_loglik(em.cov, em.mean + 1e-3, gd) < ll


@pytest.mark.parametrize("kind", ["expected", "observed"])
def test_h1_information_equals_the_numerical_hessian_of_the_loglikelihood(kind):
    X = _incomplete(n=200, p=5)
    gd = group_data(X)
    em = em_estimate(X)
    p = X.shape[1]
    r, c = np.tril_indices(p)
    r, c = c, r  # lavaan's vech order

    def loglik(x):
        mu = x[:p]
        S = np.zeros((p, p))
        S[r, c] = x[p:]
        S[c, r] = x[p:]
        return pattern_loglik(S, mu, gd) / gd.n

    x0 = np.concatenate([em.mean, em.cov[r, c]])
    info = h1_information(em.cov, em.mean, gd, True, kind)
    if kind == "observed":
        h = 1e-4
        k = len(x0)
        H = np.zeros((k, k))
        for i in range(k):
            for j in range(k):
                e_i, e_j = np.eye(k)[i] * h, np.eye(k)[j] * h
                H[i, j] = (loglik(x0 + e_i + e_j) - loglik(x0 + e_i - e_j)
                           - loglik(x0 - e_i + e_j) + loglik(x0 - e_i - e_j)) / (4 * h * h)
        np.testing.assert_allclose(info, -H, rtol=1e-4, atol=1e-6)
    else:
        # pattern-wise expected information, one pattern at a time
        ref = np.zeros_like(info)
        for pat in gd.patterns:
            o = pat.obs
            inv = np.zeros((p, p))
            inv[np.ix_(o, o)] = np.linalg.inv(em.cov[np.ix_(o, o)])
            w = pat.n / gd.n
            ref[:p, :p] += w * inv
            kk = 0.5 * np.kron(inv, inv)
            i1, i2 = r * p + c, c * p + r
            block = (kk[np.ix_(i1, i1)] + kk[np.ix_(i1, i2)] + kk[np.ix_(i2, i1)]
                     + kk[np.ix_(i2, i2)])
            half = np.where(r == c, 0.5, 1.0)
            ref[p:, p:] += w * block * half[:, None] * half[None, :]
        np.testing.assert_allclose(info, ref, rtol=1e-10, atol=1e-12)
