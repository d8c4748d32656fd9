"""The normal-theory ML objective: one function for complete data, FIML and bootstrap refits.

Every fit minimizes lavaan's ML discrepancy (twice lavaan's ``fmin``)

    F(theta) = 2 (logl_h1 - logl(theta)) / N
             = sum_g (n_g / N) sum_p (n_p / n_g) [log|Sigma_oo| + tr(Sigma_oo^-1 C_p)] + const,

with, for missing-data pattern p of group g, ``Sigma_oo`` the implied covariance of its
observed variables, ``C_p = S_p + (ybar_p - mu_o)(ybar_p - mu_o)'`` and ``S_p`` the covariance
(divisor n_p) of those rows, and ``logl_h1`` the log-likelihood of the unrestricted model.
Complete data are the one-pattern case: then F is lavaan's

    F = log|Sigma| + tr(S Sigma^-1) - log|S| - p + (ybar - mu)' Sigma^-1 (ybar - mu)

(``lav_objective_ML``), and with missing data it is lavaan's FIML objective
(``lav_mvnorm_missing_loglik_samplestats``) shifted so that it is zero at the EM moments.

The gradient is analytic (dF/dSigma and dF/dmu mapped to the RAM matrices of
:mod:`riskmodel_sem.sem.model`); the expected information is analytic; the observed information
(Hessian) is analytic in the moments, with the second derivatives of the implied moments by
central differences of the gradient map; the casewise scores are analytic.
Evaluation runs on precomputed index arrays (:class:`ModelKernel`): the observed sinks (the
indicators of a measurement model) are split off, so that Sigma = F_R S_RR F_R' + S_KK is
computed on the r latent and other variables only; these are renumbered in a causal order so
that I - A_RR is unit lower triangular and its inverse is one LAPACK ``dtrtri`` call (recursive
models), and Sigma^-1 comes from its Cholesky factor (``dpotrf``/``dpotri``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dpotrf as _dpotrf
from scipy.linalg.lapack import dpotri as _dpotri
from scipy.linalg.lapack import dtrtri as _dtrtri

from .model import rank_two_information
from .numdiff import central_jacobian

__all__ = ["Pattern", "PatternBatch", "GroupData", "group_data", "moments_group", "MLObjective",
           "MLBatchObjective", "ModelKernel", "pattern_loglik", "pattern_sums",
           "embedded_inverses", "h1_scores", "h1_information", "model_delta", "vech_index",
           "pattern_information", "structured_information", "moment_information", "kron_sum",
           "vech_sandwich"]

_LOG2PI = math.log(2.0 * math.pi)


# ------------------------------------------------------------------------------------------
# data of one group, split by missing-data pattern
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pattern:
    """Rows of one group sharing a missing-data pattern.

    Attributes
    ----------
    obs : numpy.ndarray
        Indices of the observed variables.
    rows : numpy.ndarray
        Row indices into the group's values.
    n : int
    mean, cov : numpy.ndarray
        Mean and covariance (divisor n) of the observed variables over these rows.
    """

    obs: np.ndarray
    rows: np.ndarray
    n: int
    mean: np.ndarray
    cov: np.ndarray


@dataclass(frozen=True)
class GroupData:
    """The data of one group as the objective sees them.

    Attributes
    ----------
    values : numpy.ndarray
        (n, p) raw data with NaN where missing (empty when only sample moments are known).
    patterns : tuple of Pattern
        Complete pattern first.
    n : int
    fixed_mean : numpy.ndarray or None
        The mean used when the model has no mean structure (the sample mean).
    const : float
        The constant that makes F zero at the unrestricted estimates:
        ``sum_p (n_p/n) p_o log(2 pi) + 2 logl_h1 / n``; ``-(log|S| + p)`` for complete data.
    logl_h1 : float
        Log-likelihood of the unrestricted model of this group.
    logdet_s : float
        log|S| of complete data (NaN otherwise); F_g is then evaluated as
        log|Sigma| + tr(S Sigma^-1) - log|S| - p, in that order.
    batches : tuple of PatternBatch
        The same patterns stacked by number of missing variables (:func:`pattern_sums`).
    """

    values: np.ndarray
    patterns: tuple
    n: int
    fixed_mean: np.ndarray | None
    const: float
    logl_h1: float
    logdet_s: float = math.nan
    batches: tuple = ()

    @property
    def complete(self) -> bool:
        return len(self.patterns) == 1 and len(self.patterns[0].obs) == self.values.shape[1]


@dataclass(frozen=True)
class PatternBatch:
    """The patterns of one group with the same number m of missing variables, stacked, so
    that the likelihood terms of all of them are computed by a few array operations.

    Attributes
    ----------
    obs, mis : numpy.ndarray
        (P, p - m) and (P, m) indices of the observed and missing variables of each pattern.
    n : numpy.ndarray
        (P,) rows of each pattern.
    mean : numpy.ndarray
        (P, p) means of the observed variables, zero where missing.
    mask : numpy.ndarray
        (P, p) 1.0 where observed, 0.0 where missing.
    multi : numpy.ndarray
        Positions (in the batch) of the patterns whose rows are not all equal.
    cov : numpy.ndarray
        (len(multi), p - m, p - m) covariance matrices (divisor n_p) of those patterns (the
        others' are zero).
    scatter : numpy.ndarray
        (p, p) sum of n_p S_p over the batch, S_p embedded.
    """

    obs: np.ndarray
    mis: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    mask: np.ndarray
    multi: np.ndarray
    cov: np.ndarray
    scatter: np.ndarray


def _pattern_batches(patterns, p: int) -> tuple:
    """Stack patterns (in their order) into one :class:`PatternBatch` per missing count."""
    if len(patterns) == 1 and len(patterns[0].obs) == p:  # complete data: the batch directly
        pat = patterns[0]
        multi = pat.n > 1 and pat.cov.any()
        return (PatternBatch(
            obs=np.array(pat.obs, dtype=np.intp).reshape(1, p), mis=np.zeros((1, 0), np.intp),
            n=np.array([float(pat.n)]), mean=np.array(pat.mean, dtype=float).reshape(1, p),
            mask=np.ones((1, p)), multi=np.arange(1 if multi else 0, dtype=np.intp),
            cov=np.array(pat.cov).reshape(1, p, p) if multi else np.zeros((0, p, p)),
            scatter=pat.n * pat.cov if multi else np.zeros((p, p))),)
    by_m: dict = {}
    for pat in patterns:
        by_m.setdefault(p - len(pat.obs), []).append(pat)
    out = []
    for m, pats in by_m.items():
        obs = np.array([pt.obs for pt in pats], dtype=np.intp).reshape(len(pats), p - m)
        mask = np.zeros((len(pats), p))
        np.put_along_axis(mask, obs, 1.0, axis=1)
        mis = np.nonzero(mask == 0.0)[1].astype(np.intp).reshape(len(pats), m)
        mean = np.zeros((len(pats), p))
        np.put_along_axis(mean, obs, np.array([pt.mean for pt in pats]).reshape(obs.shape),
                          axis=1)
        n = np.array([pt.n for pt in pats], dtype=float)
        multi = np.array([i for i, pt in enumerate(pats) if pt.n > 1 and pt.cov.any()],
                         dtype=np.intp)
        cov = np.array([pats[i].cov for i in multi]).reshape(len(multi), p - m, p - m)
        scatter = np.zeros((p, p))
        for i, S in zip(multi, cov):
            scatter[np.ix_(obs[i], obs[i])] += n[i] * S
        out.append(PatternBatch(obs, mis, n, mean, mask, multi, cov, scatter))
    return tuple(out)


def _complete_constants(n, cov, logdet_s=None):
    p = cov.shape[0]
    if logdet_s is None:
        logdet_s = np.linalg.slogdet(cov)[1]
    return -(logdet_s + p), -0.5 * n * (p * _LOG2PI + logdet_s + p), logdet_s


def group_data(values: np.ndarray, fixed_mean: np.ndarray | None = None,
               logl_h1: float | None = None) -> GroupData:
    """Split one group's rows by missing-data pattern.

    Parameters
    ----------
    values : numpy.ndarray
        (n, p) data, NaN for missing answers; every row has at least one value.
    fixed_mean : numpy.ndarray, optional
        Mean used by models without a mean structure.
    logl_h1 : float, optional
        Log-likelihood of the unrestricted model (from :func:`riskmodel_sem.sem.em.em_saturated`
        with missing data); computed in closed form for complete data.
    """
    mask = ~np.isnan(values)
    n, p = values.shape
    if mask.all():
        keys, inverse = np.ones((1, p), bool), np.zeros(n, np.intp)
        order = np.zeros(1, np.intp)
    else:
        if p <= 64:  # one integer per row, its bits the mask (first variable highest)
            packed = np.zeros((n, 8), np.uint8)
            packed[:, :(p + 7) // 8] = np.packbits(mask, axis=1)
            _, first, inverse = np.unique(packed.view(">u8").ravel(), return_index=True,
                                              return_inverse=True)
            keys = mask[first]
        else:
            keys, inverse = np.unique(mask, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        # complete pattern first, then by decreasing number of observed variables, ties in
        # decreasing lexicographic order of the observed masks (np.unique sorts increasing)
        rev = np.arange(len(keys))[::-1]
        order = rev[np.argsort(-keys[rev].sum(axis=1), kind="stable")]
    rank = np.empty(len(keys), np.intp)
    rank[order] = np.arange(len(keys))
    sorted_rows = np.argsort(rank[inverse], kind="stable")  # rows pattern by pattern, in order
    counts = np.bincount(rank[inverse], minlength=len(keys))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    patterns = []
    for j, k in enumerate(order):
        rows = sorted_rows[starts[j]:starts[j] + counts[j]]
        obs = np.flatnonzero(keys[k])
        if len(rows) == 1:  # most patterns when almost every row has its own
            mean = values[rows[0], obs]
            patterns.append(Pattern(obs, rows, 1, mean, np.zeros((len(obs), len(obs)))))
            continue
        x = values[np.ix_(rows, obs)]
        mean = x.mean(axis=0)
        c = x - mean
        patterns.append(Pattern(obs, rows, len(rows), mean, c.T @ c / len(rows)))
    logdet_s = math.nan
    if len(patterns) == 1 and len(patterns[0].obs) == p:
        const, ll, logdet_s = _complete_constants(n, patterns[0].cov)
        if logl_h1 is None:
            logl_h1 = ll
    else:
        if logl_h1 is None:
            logl_h1 = math.nan
        const = sum(pt.n * len(pt.obs) for pt in patterns) / n * _LOG2PI + 2.0 * logl_h1 / n
    return GroupData(values, tuple(patterns), n, fixed_mean, float(const), float(logl_h1),
                     float(logdet_s), _pattern_batches(patterns, p))


def moments_group(n: int, mean: np.ndarray, cov: np.ndarray, *, meanstructure: bool,
                  logdet_s: float | None = None) -> GroupData:
    """A one-pattern group known only by its sample moments (n, mean, covariance with
    divisor n); ``logdet_s`` may be given when already computed."""
    p = len(mean)
    const, ll, logdet_s = _complete_constants(n, cov, logdet_s)
    pat = Pattern(np.arange(p), np.arange(0), n, mean, cov)
    return GroupData(np.zeros((0, p)), (pat,), n, None if meanstructure else mean, const, ll,
                     float(logdet_s), _pattern_batches((pat,), p))


# ------------------------------------------------------------------------------------------
# the model side: index arrays of the RAM matrices
# ------------------------------------------------------------------------------------------

def _topological_positions(n, rows, cols):
    """Positions that make A strictly lower triangular (edge col -> row), or None if cyclic."""
    parents = [set() for _ in range(n)]
    for i, j in zip(rows, cols):
        if i != j:
            parents[int(i)].add(int(j))
        else:
            return None
    order, state = [], [0] * n

    def visit(v):
        stack = [(v, iter(sorted(parents[v])))]
        state[v] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                state[node] = 2
                order.append(node)
            elif state[nxt] == 1:
                raise ValueError("cycle")
            elif state[nxt] == 0:
                state[nxt] = 1
                stack.append((nxt, iter(sorted(parents[nxt]))))

    try:
        for v in range(n):
            if state[v] == 0:
                visit(v)
    except ValueError:
        return None
    pos = np.empty(n, dtype=np.intp)
    pos[np.array(order, dtype=np.intp)] = np.arange(n)
    return pos


def _path_depth(n, rows, cols, causal, keep) -> int:
    """Length (in arrows) of the longest directed path among the variables ``keep`` of an
    acyclic graph with arrows col -> row, visited in the causal order ``causal``: A_RR^(d+1)
    = 0 for that length d."""
    level = np.zeros(n, dtype=np.intp)
    parents = [[] for _ in range(n)]
    for i, j in zip(rows, cols):
        if keep[int(i)] and keep[int(j)]:
            parents[int(i)].append(int(j))
    for v in causal:
        if parents[v]:
            level[v] = 1 + max(level[u] for u in parents[v])
    return int(level.max()) if n else 0


def _sinks(n, p, a_rows, a_cols, s_rows, s_cols):
    """Mask of the observed variables that are sinks of the RAM graph.

    A sink has no outgoing arrow (column of A zero) and covaries (S) only with other sinks, so
    that with the variables ordered (rest R, sinks K) A_RK = A_KK = 0 and S_RK = 0. ``a_*`` and
    ``s_*`` are the positions of the entries that are free or fixed at a nonzero value.
    """
    sink = np.zeros(n, dtype=bool)
    sink[:p] = True
    sink[np.asarray(a_cols, dtype=np.intp)] = False
    s_rows = np.asarray(s_rows, dtype=np.intp)
    s_cols = np.asarray(s_cols, dtype=np.intp)
    while True:  # a covariance with a non-sink makes both ends non-sinks
        mixed = sink[s_rows] != sink[s_cols]
        if not mixed.any():
            return sink
        sink[s_rows[mixed]] = False
        sink[s_cols[mixed]] = False


class ModelKernel:
    """A compiled model's free and fixed matrix entries as index arrays, in causal order.

    Built once per model (cheap to pickle: arrays and small dicts only); an objective or a
    bootstrap draw evaluates the implied moments and the gradient with it without pandas.

    Notes
    -----
    The variables of each group are split into the observed sinks K (observed variables with
    no outgoing arrow whose covariances involve only other sinks: the indicators of a
    measurement model) and the rest R (latent variables, observed covariates, observed
    variables with an outgoing path), and ordered R first (causal order, so that I - A_RR is
    unit lower triangular in a recursive model), then K in the model's observed order. Then
    A_RK = A_KK = 0 and S_RK = 0, so with L = A_KR, E_RR = (I - A_RR)^-1 and
    F_R = E[obs, R] (rows L E_RR for the sinks, rows of E_RR for the other observed variables)

        Sigma = F_R S_RR F_R' + S_KK,    mu = F_R m_R + m_K

    (S_KK and m_K added in the sinks' rows and columns), the RAM moments E[obs] S E[obs]' and
    E[obs] m without the (n, n) products. A model without sinks has K empty and F_R = E[obs],
    the plain RAM form (as with ``sinks=False``, which keeps every variable in R).

    Parameters
    ----------
    model : riskmodel_sem.sem.model.CompiledModel
    sinks : bool
        Split off the observed sinks (default); False evaluates the plain RAM form.
    """

    def __init__(self, model, sinks: bool = True):
        self.q = model.n_free
        self.p = len(model.observed)
        self.n = model.n_vars
        self.meanstructure = bool(model.meanstructure)
        self.groups = []
        p, n = self.p, self.n
        for b in model.blocks:
            af, sf, mf = b.a_par >= 0, b.s_par >= 0, b.m_par >= 0
            A0 = np.zeros((n, n))
            A0[b.a_rows[~af], b.a_cols[~af]] = b.a_val[~af]
            S0 = np.zeros((n, n))
            S0[b.s_rows[~sf], b.s_cols[~sf]] = b.s_val[~sf]
            S0[b.s_cols[~sf], b.s_rows[~sf]] = b.s_val[~sf]
            m0 = np.zeros(n)
            m0[b.m_rows[~mf]] = b.m_val[~mf]
            nz = af | (b.a_val != 0)
            snz = sf | (b.s_val != 0)
            topo = _topological_positions(n, b.a_rows[nz], b.a_cols[nz])
            tri = topo is not None
            causal = np.argsort(topo) if tri else np.arange(n)
            sink = (_sinks(n, p, b.a_rows[nz], b.a_cols[nz], b.s_rows[snz], b.s_cols[snz])
                    if sinks else np.zeros(n, dtype=bool))
            kobs = np.flatnonzero(sink).astype(np.intp)  # sinks, in observed order
            order = np.concatenate([causal[~sink[causal]], kobs])
            pos = np.empty(n, dtype=np.intp)
            pos[order] = np.arange(n)
            r = n - len(kobs)
            robs = np.flatnonzero(~sink[:p]).astype(np.intp)
            ap, sp, mp = b.a_par[af], b.s_par[sf], b.m_par[mf]
            ra, ca = pos[b.a_rows[af]], pos[b.a_cols[af]]
            rs, cs = pos[b.s_rows[sf]], pos[b.s_cols[sf]]
            s_in_r = rs < r
            rm = pos[b.m_rows[mf]]
            self.groups.append(dict(
                A0=A0, S0=S0, m0=m0,
                ar=b.a_rows[af], ac=b.a_cols[af], ap=ap,
                sr=b.s_rows[sf], sc=b.s_cols[sf], sp=sp,
                mr=b.m_rows[mf], mp=mp,
                # causal order (R, K): positions, the fixed matrices' blocks
                tri=tri, pos=pos, r=r, k=len(kobs), kobs=kobs, robs=robs, rpos=pos[robs],
                depth=(_path_depth(n, b.a_rows[nz], b.a_cols[nz], causal, ~sink) if tri
                       else -1),
                all_sinks=len(kobs) == p,
                buf0=self._blocks(A0, S0, m0, order, r),
                **self._fill(r, len(kobs), ra, ca, ap, rs, cs, sp, rm, mp),
                # the free entries in the gradient's order: A (rows of [R; K], columns of R),
                # S_RR, S_KK (positions in the blocks and, for S_KK, in Sigma), m ([R; K])
                ga_r=ra, ga_c=ca, ga_p=ap, ga_flat=ra * r + ca,
                srr=rs[s_in_r], scr=cs[s_in_r], srk=rs[~s_in_r] - r, sck=cs[~s_in_r] - r,
                gs_rr=rs[s_in_r] * r + cs[s_in_r],
                gs_kk=kobs[rs[~s_in_r] - r] * p + kobs[cs[~s_in_r] - r],
                gs_p=np.concatenate([sp[s_in_r], sp[~s_in_r]]),
                gm_r=rm, gm_p=mp,
                # dF/dS_ij counts twice off the diagonal (S_ij = S_ji)
                g_fac=np.concatenate([np.ones(len(ap)),
                                      np.where(rs[s_in_r] == cs[s_in_r], 1.0, 2.0),
                                      np.where(rs[~s_in_r] == cs[~s_in_r], 1.0, 2.0),
                                      np.ones(len(mp))]),
            ))
        self.par = np.concatenate([np.concatenate([g["ga_p"], g["gs_p"], g["gm_p"]])
                                   for g in self.groups]).astype(np.intp)

    @staticmethod
    def _blocks(A0, S0, m0, order, r):
        """The fixed matrices in causal order as one flat array holding the blocks
        I - A_RR (r, r), S_RR (r, r), L = A_KR (k, r), S_KK (k, k), m_R (r) and m_K (k), in
        that order (:meth:`state` fills in the free entries and takes views of the blocks).

        Raises
        ------
        ValueError
            When they have a nonzero entry outside those blocks (an arrow out of a sink or a
            covariance of a sink with a non-sink), which the partition does not allow for.
        """
        A = A0[order][:, order]
        S = S0[order][:, order]
        if np.any(A[:, r:]) or np.any(S[:r, r:]):
            raise ValueError("The fixed matrices have an arrow out of, or a covariance with, "
                             "a variable that the model treats as an observed sink.")
        m = m0[order]
        return np.concatenate([(np.eye(r) - A[:r, :r]).ravel(), S[:r, :r].ravel(),
                               A[r:, :r].ravel(), S[r:, r:].ravel(), m[:r], m[r:]])

    @staticmethod
    def _fill(r, k, ra, ca, ap, rs, cs, sp, rm, mp):
        """Where the free entries go in the flat array of :meth:`_blocks`: positions
        ``fill_at``, parameters ``fill_par`` and signs ``fill_sign`` (-1 in I - A_RR), both
        triangles of S; ``cuts``, the ends of the blocks."""
        cuts = np.cumsum([r * r, r * r, k * r, k * k, r, k])
        a_in_r, s_in_r, m_in_r = ra < r, rs < r, rm < r
        at = [ra[a_in_r] * r + ca[a_in_r],
              cuts[1] + (ra[~a_in_r] - r) * r + ca[~a_in_r]]
        par = [ap[a_in_r], ap[~a_in_r]]
        sign = [-np.ones(a_in_r.sum()), np.ones((~a_in_r).sum())]
        for i, j in ((rs, cs), (cs, rs)):
            at += [cuts[0] + i[s_in_r] * r + j[s_in_r],
                   cuts[2] + (i[~s_in_r] - r) * k + (j[~s_in_r] - r)]
            par += [sp[s_in_r], sp[~s_in_r]]
            sign += [np.ones(len(sp))]
        at += [cuts[3] + rm[m_in_r], cuts[4] + rm[~m_in_r] - r]
        par += [mp[m_in_r], mp[~m_in_r]]
        sign += [np.ones(len(mp))]
        return dict(fill_at=np.concatenate(at).astype(np.intp),
                    fill_par=np.concatenate(par).astype(np.intp),
                    fill_sign=np.concatenate(sign), cuts=tuple(int(c) for c in cuts))

    def matrices(self, theta, g, fixed=None):
        """(A, S, m) of group g in the model's variable order; ``fixed`` replaces the fixed
        matrices (A0, S0, m0) per group."""
        grp = self.groups[g]
        A0, S0, m0 = fixed[g] if fixed is not None else (grp["A0"], grp["S0"], grp["m0"])
        A = A0.copy()
        A[grp["ar"], grp["ac"]] = theta[grp["ap"]]
        S = S0.copy()
        sv = theta[grp["sp"]]
        S[grp["sr"], grp["sc"]] = sv
        S[grp["sc"], grp["sr"]] = sv
        m = m0.copy()
        m[grp["mr"]] = theta[grp["mp"]]
        return A, S, m

    def permuted_fixed(self, fixed):
        """Fixed matrices (A0, S0, m0) per group as the flat blocks of the causal order
        (:meth:`_blocks`).

        Raises
        ------
        ValueError
            When a fixed matrix has a nonzero entry where the partition into sinks and the
            rest has structural zeros.
        """
        if fixed is None:
            return None
        out = []
        for g, (A0, S0, m0) in enumerate(fixed):
            grp = self.groups[g]
            out.append(self._blocks(A0, S0, m0, np.argsort(grp["pos"]), grp["r"]))
        return out

    def _observed_rows(self, grp, sink_rows, rest_rows):
        """Stack rows of the sinks and of the other observed variables in observed order."""
        if grp["all_sinks"]:
            return sink_rows
        if not grp["k"]:
            return rest_rows
        out = np.empty((self.p,) + rest_rows.shape[1:])
        out[grp["kobs"]] = sink_rows
        out[grp["robs"]] = rest_rows
        return out

    def state(self, theta, g, fixed_p=None):
        """(E_RR, S_RR, F_R, Sigma, E_RR m_R, mu) of group g (class Notes; the last two None
        without a mean structure); None if I - A_RR is singular."""
        grp = self.groups[g]
        buf = (fixed_p[g] if fixed_p is not None else grp["buf0"]).copy()
        buf[grp["fill_at"]] = theta[grp["fill_par"]] * grp["fill_sign"]
        r, k = grp["r"], grp["k"]
        c0, c1, c2, c3, c4, _ = grp["cuts"]
        IA = buf[:c0].reshape(r, r)
        S = buf[c0:c1].reshape(r, r)
        if not r:  # every variable an observed sink (a baseline model)
            E = IA
        elif grp["tri"]:
            E, info = _dtrtri(IA, lower=1, unitdiag=1)
            if info != 0:
                return None
        else:
            try:
                E = np.linalg.inv(IA)
            except np.linalg.LinAlgError:
                return None
        if grp["all_sinks"]:  # a measurement model: F_R = L E_RR
            L = buf[c1:c2].reshape(k, r)
            FE = L @ E
            sigma = FE @ S @ FE.T
            sigma += buf[c2:c3].reshape(k, k)
        elif k:
            L = buf[c1:c2].reshape(k, r)
            FE = self._observed_rows(grp, L @ E, E[grp["rpos"]])
            sigma = FE @ S @ FE.T
            sigma[np.ix_(grp["kobs"], grp["kobs"])] += buf[c2:c3].reshape(k, k)
        else:
            FE = E[grp["rpos"]]
            sigma = FE @ S @ FE.T
        Em = mu = None
        if self.meanstructure:
            Em = E @ buf[c3:c4]
            if k:
                mu = self._observed_rows(grp, L @ Em + buf[c4:], Em[grp["rpos"]])
            else:
                mu = Em[grp["rpos"]]
        return E, S, FE, sigma, Em, mu

    def latent_covariance(self, theta, g, fixed_p=None):
        """Implied covariance matrix of the latent variables of group g, E S E' on them
        (Phi = E_RR S_RR E_RR' restricted to the latent variables, which are all in R), in the
        model's latent order; None if I - A_RR is singular."""
        st = self.state(theta, g, fixed_p)
        if st is None:
            return None
        E, S = st[0], st[1]
        El = E[self.groups[g]["pos"][self.p:]]
        return El @ S @ El.T

    def _full_observed(self, grp, FE):
        """E[obs] (p, n) in causal order from F_R: the sinks' columns are unit vectors."""
        r = grp["r"]
        out = np.zeros((self.p, self.n))
        out[:, :r] = FE
        out[grp["kobs"], r + np.arange(grp["k"])] = 1.0
        return out

    def expected_information(self, state, g) -> np.ndarray | None:
        """Unit expected information of group g at its state (:meth:`state`), complete-data
        form (:func:`riskmodel_sem.sem.model.rank_two_information`, the numbers of
        :meth:`CompiledModel.expected_information`), from the factored derivatives of the
        implied moments in causal order; None when Sigma is not positive definite."""
        grp = self.groups[g]
        E, S, FE, sigma, Em, _ = state
        ci = _chol_inv(sigma)
        if ci is None:
            return None
        full = self._full_observed(grp, FE)
        FESE = FE @ S @ E.T
        r = grp["r"]
        srows = np.concatenate([grp["srr"], r + grp["srk"]])
        scols = np.concatenate([grp["scr"], r + grp["sck"]])
        U = np.concatenate([full[:, grp["ga_r"]].T, full[:, srows].T])
        V = np.concatenate([FESE[:, grp["ga_c"]].T, full[:, scols].T])
        scale = np.concatenate([np.ones(len(grp["ga_r"])), np.where(srows == scols, 0.5, 1.0)])
        par = np.concatenate([grp["ga_p"], grp["gs_p"]])
        mean = None
        if self.meanstructure:
            Dmu = np.concatenate([full[:, grp["ga_r"]].T * Em[grp["ga_c"]][:, None],
                                  full[:, grp["gm_r"]].T])
            mean = (Dmu, np.concatenate([grp["ga_p"], grp["gm_p"]]))
        return rank_two_information(U, V, scale, par, ci[0], mean, self.q)

    def gradient_part(self, g, state, G, gmu):
        """Derivatives with respect to group g's free entries (in the order of :attr:`par`)
        from G = dF/dSigma (as tr(G dSigma), symmetric) and gmu = dF/dmu (None without a
        mean structure).

        Notes
        -----
        In the RAM form dF/dA = 2 FE'G FE S E' + FE'gmu (E m)', dF/dS = FE'G FE and
        dF/dm = FE'gmu with FE = E[obs]. Only the columns R of A are free, and with the
        partition of the class Notes (FE = [F_R, unit columns of the sinks]) they are
        dF/dA[:, R] = 2 [F_R'G F_R; G_K. F_R] S_RR E_RR' + [F_R'gmu; gmu_K] (E_RR m_R)',
        dF/dS_RR = F_R'G F_R, dF/dS_KK = G_KK, dF/dm = [F_R'gmu; gmu_K]: for a measurement
        model dF/dL = 2 G L Phi with Phi = E_RR S_RR E_RR'.
        """
        grp = self.groups[g]
        E, S, FE, _, Em, _ = state
        r = grp["r"]
        GF = G @ FE
        FtGF = np.empty((self.n, r))
        np.matmul(FE.T, GF, out=FtGF[:r])
        if grp["all_sinks"]:
            FtGF[r:] = GF
        elif grp["k"]:
            FtGF[r:] = GF[grp["kobs"]]
        dA = FtGF @ (S @ E.T)
        dA *= 2.0
        parts = [None, FtGF.take(grp["gs_rr"]), G.take(grp["gs_kk"])]
        if self.meanstructure:
            FEg = np.empty(self.n)
            np.matmul(FE.T, gmu, out=FEg[:r])
            FEg[r:] = gmu[grp["kobs"]]
            dA += np.outer(FEg, Em)
            parts.append(FEg.take(grp["gm_r"]))
        parts[0] = dA.take(grp["ga_flat"])
        out = np.concatenate(parts)
        out *= grp["g_fac"]
        return out

    # -- the same formulas for a stack of draws (bootstrap refits in lockstep) -----------

    def state_batch(self, theta, g, bufs=None):
        """:meth:`state` of group g for a stack of parameter vectors.

        Parameters
        ----------
        theta : numpy.ndarray
            (m, q) parameter vectors, one per draw.
        g : int
        bufs : numpy.ndarray, optional
            (m, len) fixed blocks of each draw (:meth:`permuted_fixed`, stacked); the
            compiled ones when None.

        Returns
        -------
        (E_RR, S_RR, F_R, Sigma, E_RR m_R, mu, ok)
            Each stacked over the draws (leading axis m); ``ok`` is False for the draws whose
            I - A_RR is singular (their entries are not meaningful).

        Notes
        -----
        The formulas of :meth:`state` (class Notes) with a leading batch axis: each draw's
        numbers come from its own slices (stacked ``matmul`` and ``inv`` work matrix by
        matrix), so they do not depend on which draws share the stack. E_RR of a recursive
        model is the finite series I + A_RR + ... + A_RR^d (d the longest path among R, A_RR
        nilpotent) by Horner's rule, a few stacked products instead of one ``dtrtri`` per
        draw; otherwise the stacked LU inverse. Both agree with :meth:`state` to rounding.
        """
        grp = self.groups[g]
        m = theta.shape[0]
        buf = (np.repeat(grp["buf0"][None, :], m, axis=0) if bufs is None
               else np.array(bufs, dtype=float))
        buf[:, grp["fill_at"]] = theta[:, grp["fill_par"]] * grp["fill_sign"]
        r, k = grp["r"], grp["k"]
        c0, c1, c2, c3, c4, _ = grp["cuts"]
        IA = buf[:, :c0].reshape(m, r, r)
        S = buf[:, c0:c1].reshape(m, r, r)
        ok = np.ones(m, dtype=bool)
        if not r:
            E = IA
        elif grp["tri"]:
            # A_RR strictly lower triangular with longest path d: E_RR = I + A + ... + A^d,
            # by Horner's rule E <- I + A E (d - 1 products; A^(d+1) = 0)
            eye = np.eye(r)
            A = eye - IA
            E = A + eye
            for _ in range(grp["depth"] - 1):
                E = A @ E
                E += eye
        else:
            E, ok = _stacked(np.linalg.inv, IA)
        if grp["all_sinks"]:
            L = buf[:, c1:c2].reshape(m, k, r)
            FE = L @ E
            sigma = FE @ S @ FE.transpose(0, 2, 1)
            sigma += buf[:, c2:c3].reshape(m, k, k)
        elif k:
            L = buf[:, c1:c2].reshape(m, k, r)
            FE = np.empty((m, self.p, r))
            FE[:, grp["kobs"]] = L @ E
            FE[:, grp["robs"]] = E[:, grp["rpos"]]
            sigma = FE @ S @ FE.transpose(0, 2, 1)
            kk = grp["kobs"]
            sigma[:, kk[:, None], kk[None, :]] += buf[:, c2:c3].reshape(m, k, k)
        else:
            FE = E[:, grp["rpos"]]
            sigma = FE @ S @ FE.transpose(0, 2, 1)
        Em = mu = None
        if self.meanstructure:
            Em = (E @ buf[:, c3:c4, None])[:, :, 0]
            if k:
                mu = np.empty((m, self.p))
                mu[:, grp["kobs"]] = (L @ Em[:, :, None])[:, :, 0] + buf[:, c4:]
                mu[:, grp["robs"]] = Em[:, grp["rpos"]]
            else:
                mu = Em[:, grp["rpos"]]
        return E, S, FE, sigma, Em, mu, ok

    def gradient_batch(self, g, state, G, gmu):
        """:meth:`gradient_part` for a stack of draws: (m, len) derivatives with respect to
        group g's free entries (in the order of :attr:`par`) from the stacked state
        (:meth:`state_batch`), G = dF/dSigma (m, p, p) and gmu = dF/dmu (m, p) or None.

        Notes
        -----
        dF/dA[:, R] = 2 [F_R'G F_R; G_K. F_R] S_RR E_RR' + [F_R'gmu; gmu_K] (E_RR m_R)',
        dF/dS_RR = F_R'G F_R, dF/dS_KK = G_KK, dF/dm = [F_R'gmu; gmu_K], as in
        :meth:`gradient_part`, draw by draw.
        """
        grp = self.groups[g]
        E, S, FE, _, Em, _, _ = state
        m = G.shape[0]
        r = grp["r"]
        GF = G @ FE
        FtGF = np.empty((m, self.n, r))
        FtGF[:, :r] = FE.transpose(0, 2, 1) @ GF
        if grp["all_sinks"]:
            FtGF[:, r:] = GF
        elif grp["k"]:
            FtGF[:, r:] = GF[:, grp["kobs"]]
        dA = FtGF @ (S @ E.transpose(0, 2, 1))
        dA *= 2.0
        parts = [None, FtGF.reshape(m, -1)[:, grp["gs_rr"]],
                 G.reshape(m, -1)[:, grp["gs_kk"]]]
        if self.meanstructure:
            FEg = np.empty((m, self.n))
            FEg[:, :r] = (FE.transpose(0, 2, 1) @ gmu[:, :, None])[:, :, 0]
            FEg[:, r:] = gmu[:, grp["kobs"]]
            dA += FEg[:, :, None] * Em[:, None, :]
            parts.append(FEg[:, grp["gm_r"]])
        parts[0] = dA.reshape(m, -1)[:, grp["ga_flat"]]
        out = np.concatenate(parts, axis=1)
        out *= grp["g_fac"]
        return out


# ------------------------------------------------------------------------------------------
# the objective
# ------------------------------------------------------------------------------------------

def _stacked(fun, X):
    """``fun`` (a stacked numpy.linalg function) of a stack of matrices, and per matrix
    whether it succeeded: when the stacked call fails, the matrices are taken one at a time
    (the same LAPACK call on each), the failed ones left as identity matrices."""
    try:
        return fun(X), np.ones(X.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        pass
    eye = np.eye(X.shape[-1])
    out = np.empty_like(X)
    ok = np.ones(X.shape[0], dtype=bool)
    for i in range(X.shape[0]):
        try:
            out[i] = fun(X[i:i + 1])[0]
        except np.linalg.LinAlgError:
            out[i] = eye
            ok[i] = False
    return out, ok



_MIRROR: dict = {}


def _chol_inv_stack(sigma, ok):
    """:func:`_chol_inv` of a stack (m, p, p), in place: ``sigma`` is overwritten by
    Sigma^-1 (exactly symmetric) and log|Sigma| (m,) is returned; ``ok`` (m,) is set False
    where Sigma is not positive definite (identity there). LAPACK ``dpotrf``/``dpotri``
    matrix by matrix (numpy's stacked inverse is several times slower at these sizes), on
    the Fortran-ordered views of the stack (no copies), with the mirroring and the
    logarithms done for the whole stack."""
    m, p = sigma.shape[0], sigma.shape[-1]
    eye = np.eye(p)
    for i in range(m):  # the upper triangle of sigma[i] is the lower one of sigma[i].T
        if ok[i]:
            _, info = _dpotrf(sigma[i].T, lower=1, clean=0, overwrite_a=1)
            if info == 0:
                continue
            ok[i] = False
        sigma[i] = eye
    logdet = 2.0 * np.log(np.diagonal(sigma, axis1=1, axis2=2)).sum(axis=1)
    for i in range(m):
        _, info = _dpotri(sigma[i].T, lower=1, overwrite_c=1)
        if info != 0:
            ok[i] = False
            sigma[i] = eye
            logdet[i] = 0.0
    done, other = _mirror_index(p)  # dpotri's triangle of sigma[i].T is sigma[i]'s upper
    flat = sigma.reshape(m, p * p)
    flat[:, other] = flat[:, done]
    return logdet


def _chol_inv(sigma):
    """(Sigma^-1, log|Sigma|) from the Cholesky factor (LAPACK ``dpotrf``, ``dpotri``), or
    None when Sigma is not positive definite. Sigma^-1 is exactly symmetric (its lower
    triangle mirrored)."""
    c, info = _dpotrf(sigma, lower=1, clean=0)
    if info != 0:
        return None
    logdet = 2.0 * np.log(c.diagonal()).sum()
    inv, info = _dpotri(c, lower=1)
    if info != 0:
        return None
    done, other = _mirror_index(inv.shape[0])
    if not inv.flags.f_contiguous:
        inv = np.asfortranarray(inv)
    flat = inv.T.reshape(-1)  # a view of the Fortran-ordered inverse
    flat[other] = flat[done]
    return inv, logdet


def _mirror_index(p: int):
    """Positions, in the row-major flat view of a p x p matrix, of the triangle LAPACK's
    ``dpotri`` computed when it was handed that matrix's transpose (in Fortran order) with
    ``lower=1``, and of the other triangle, which mirrors it (cached per p)."""
    if p not in _MIRROR:
        rows, cols = np.tril_indices(p, -1)
        _MIRROR[p] = (cols * p + rows, rows * p + cols)
    return _MIRROR[p]


def _batch_terms(K, mu, b: PatternBatch):
    """Per-pattern pieces of one batch from K = Sigma^-1: (A, log|K_mm|, d, z, Kd) with A the
    stack of K_mm^-1, d the embedded ybar_p - mu (zero where missing), Kd the rows K d and
    z = d - E_p K d (E_p the embedded A_p), so that Sigma_oo^-1 d_o = (K z)_o; None when
    some K_mm is not positive definite."""
    d = b.mean - b.mask * mu
    Kd = d @ K
    m = b.mis.shape[1]
    if not m:
        return None, 0.0, d, d, Kd
    P = len(b.n)
    Kmm = K.ravel()[b.mis[:, :, None] * K.shape[0] + b.mis[:, None, :]]
    try:
        L = np.linalg.cholesky(Kmm)
    except np.linalg.LinAlgError:
        return None
    logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
    A = np.linalg.inv(Kmm)
    rows = np.arange(P)[:, None]
    q = Kd[rows, b.mis]
    z = d.copy()
    z[rows, b.mis] = -(A @ q[:, :, None])[:, :, 0]
    return A, logdet, d, z, Kd


def pattern_sums(sigma, mu, gd: GroupData):
    """The missing-data sums of one group at (Sigma, mu), all patterns at once.

    Returns
    -------
    (f, M, zbar, K) or None
        f = sum_p w_p [log|Sigma_oo| + tr(Sigma_oo^-1 C_p)] (w_p = n_p/n); M and zbar such
        that sum_p w_p J_p (Sigma - C_p) J_p = K - K M K and sum_p w_p J_p d_p = K zbar, with
        J_p the embedded Sigma_oo^-1 and K = Sigma^-1; None when Sigma is not positive
        definite.

    Notes
    -----
    Every Sigma_oo^-1 comes from the one inverse K: J_p = K - K E_p K with E_p the embedded
    (K_mm)^-1 of the pattern's missing variables m, and log|Sigma_oo| = log|Sigma| +
    log|K_mm| (the rank-m update of ``lav_matrix_symmetric_inverse_update``, as lavaan's
    ``lav_mvnorm_missing_loglik_samplestats`` does), so a pattern costs O(m^3 + p^2), not
    O(p^3). With z_p = (I - E_p K) d_p and T_p = (I - E_p K) S_p (I - K E_p),
    M = sum_p w_p (E_p + z_p z_p' + T_p) and zbar = sum_p w_p z_p: also the E-step of EM,
    whose M-step is mu + zbar and M - zbar zbar' (:func:`riskmodel_sem.sem.em.em_estimate`).
    """
    p = len(mu)
    ci = _chol_inv(sigma)
    if ci is None:
        return None
    K, logdet_sigma = ci
    K = 0.5 * (K + K.T)
    f = 0.0
    flat = np.zeros(p * p)
    scatter = np.zeros((p, p))
    M = np.zeros((p, p))
    zbar = np.zeros(p)
    for b in gd.batches:
        terms = _batch_terms(K, mu, b)
        if terms is None:
            return None
        A, logdet, d, z, Kd = terms
        w = b.n / gd.n
        f += w @ (logdet + np.einsum("ij,ij->i", Kd, z))
        zw = z * w[:, None]
        M += zw.T @ z
        zbar += zw.sum(axis=0)
        m = b.mis
        if A is not None:
            idx = m[:, :, None] * p + m[:, None, :]
            flat += np.bincount(idx.ravel(), weights=(w[:, None, None] * A).ravel(),
                                minlength=p * p)
        scatter += b.scatter
        if len(b.multi) and A is not None:
            o, S, wm, mm = b.obs[b.multi], b.cov, w[b.multi], m[b.multi]
            Kmo = K[mm[:, :, None], o[:, None, :]]
            R = A[b.multi] @ (Kmo @ S)  # rows m of E_p K S_p
            f -= wm @ np.einsum("pij,pij->p", R, Kmo)
            wR = -wm[:, None, None] * R
            flat += np.bincount((mm[:, :, None] * p + o[:, None, :]).ravel(),
                                weights=wR.ravel(), minlength=p * p)
            flat += np.bincount((o[:, None, :] * p + mm[:, :, None]).ravel(),
                                weights=wR.ravel(), minlength=p * p)
            T = (R @ Kmo.transpose(0, 2, 1)) @ A[b.multi]
            flat += np.bincount((mm[:, :, None] * p + mm[:, None, :]).ravel(),
                                weights=(wm[:, None, None] * T).ravel(), minlength=p * p)
    # sum_p w_p S_p enters linearly: tr(K_oo S_p) summed is tr(K sum_p w_p S_p)
    scatter /= gd.n
    f += np.sum(K * scatter)
    flat += scatter.ravel()
    wsum = sum(float(b.n.sum()) for b in gd.batches) / gd.n
    return wsum * logdet_sigma + f, M + flat.reshape(p, p), zbar, K


def _missing_gradient(sigma, mu, gd):
    """(f, G, gmu) of :func:`pattern_sums`: G = sum_p w_p J_p (Sigma - C_p) J_p = dF_g/dSigma
    (as tr(G dSigma)) and gmu = -2 sum_p w_p J_p d_p = dF_g/dmu; None if not positive
    definite."""
    res = pattern_sums(sigma, mu, gd)
    if res is None:
        return None
    f, M, zbar, K = res
    wsum = sum(float(b.n.sum()) for b in gd.batches) / gd.n
    return f, wsum * K - K @ M @ K, -2.0 * (K @ zbar)


class MLObjective:
    """lavaan's ML discrepancy F of a model on data, with its derivatives.

    Parameters
    ----------
    model : riskmodel_sem.sem.model.CompiledModel
    groups : sequence of GroupData
        One per group (:func:`group_data` for raw data, :func:`moments_group` for moments).
    kernel : ModelKernel, optional
        Reused when given (bootstrap draws share one).
    fixed : list of (A0, S0, m0), optional
        Fixed matrices per group replacing the compiled ones (fixed.x moments of a draw).

    Notes
    -----
    ``value_grad`` returns F (module docstring) and dF/dtheta. ``expected_information`` and
    ``observed_information`` are the unit information of -logl/N, that is half the expected
    and observed Hessian of F; ``scores`` are the casewise d logl_i / d theta. Matches lavaan's
    ``lav_model_objective``, ``lav_model_gradient``, ``lav_model_information_expected``
    (``lav_mvnorm_missing_information_expected`` with missing data),
    ``lav_model_information_observed`` and ``lav_model_scores``.
    """

    def __init__(self, model, groups, kernel: ModelKernel | None = None, fixed=None):
        self.model = model
        self.groups = tuple(groups)
        self.kernel = kernel if kernel is not None else ModelKernel(model)
        self.fixed = fixed
        self.fixed_p = self.kernel.permuted_fixed(fixed)
        self.n = sum(gd.n for gd in self.groups)
        self.weights = [gd.n / self.n for gd in self.groups]
        self._complete = tuple(gd.complete for gd in self.groups)
        self.complete = all(self._complete)

    @property
    def n_free(self) -> int:
        return self.kernel.q

    def implied(self, theta, g):
        """(Sigma, mu) of group g in the model's variable order (mu is the fixed mean without
        a mean structure)."""
        gd = self.groups[g]
        if self.fixed_p is None:
            sigma, mu = self.model.implied(theta, g)
        else:
            A, S, m = self.kernel.matrices(theta, g, self.fixed)
            E = np.linalg.inv(np.eye(self.kernel.n) - A)
            p = self.kernel.p
            sigma, mu = (E @ S @ E.T)[:p, :p], (E @ m)[:p]
        return sigma, (gd.fixed_mean if gd.fixed_mean is not None else mu)

    def value_grad(self, theta, with_grad: bool = True):
        """(F, dF/dtheta) at theta, or None when an implied covariance matrix is not positive
        definite (F alone with ``with_grad=False``)."""
        res = self._evaluate(theta, with_grad)
        if res is None:
            return None
        fgs, parts = res
        f = 0.0
        for w, fg in zip(self.weights, fgs):
            f += w * fg
        if not with_grad:
            return f
        k = self.kernel
        grad = np.bincount(k.par, weights=parts[0] if len(parts) == 1 else np.concatenate(parts),
                           minlength=k.q)
        return f, grad

    def group_values(self, theta) -> list | None:
        """F_g of every group (F = sum_g (n_g/N) F_g), or None when not positive definite."""
        res = self._evaluate(theta, False)
        return None if res is None else res[0]

    def _evaluate(self, theta, with_grad):
        """(F_g per group, gradient parts per group) or None when not positive definite.

        A complete group uses the closed form F_g = log|Sigma| + tr(S Sigma^-1) - log|S| - p
        [+ d' Sigma^-1 d] with dF/dSigma = G = Sigma^-1 (Sigma - S - d d') Sigma^-1 and
        dF/dmu = -2 Sigma^-1 d; a group with missing data sums the same terms over its
        patterns (the casewise likelihood). :meth:`ModelKernel.gradient_part` maps G and
        dF/dmu to the free parameters.
        """
        k = self.kernel
        fgs = []
        parts = []
        mean_model = k.meanstructure
        for g, (gd, complete) in enumerate(zip(self.groups, self._complete)):
            st = k.state(theta, g, self.fixed_p)
            if st is None:
                return None
            sigma = st[3]
            mu = st[5] if mean_model else gd.fixed_mean
            gmu = None
            if complete:
                pat = gd.patterns[0]
                ci = _chol_inv(sigma)
                if ci is None:
                    return None
                inv, logdet = ci
                fg = logdet + np.vdot(pat.cov, inv) - gd.logdet_s - k.p
                resid = sigma - pat.cov
                if mean_model:
                    d = pat.mean - mu
                    invd = inv @ d
                    fg += d @ invd
                    resid -= np.outer(d, d)
                    gmu = -2.0 * invd
                if with_grad:
                    G = inv @ resid @ inv
            else:
                res = _missing_gradient(sigma, mu, gd)
                if res is None:
                    return None
                fg, G, gmu = res
                if not mean_model:
                    gmu = None
            fgs.append(fg if complete else fg + gd.const)
            if with_grad:
                part = k.gradient_part(g, st, G, gmu)
                w = self.weights[g]
                parts.append(part if w == 1.0 else w * part)
        return fgs, parts

    def value(self, theta) -> float | None:
        """F at theta (None when not positive definite)."""
        return self.value_grad(theta, with_grad=False)

    def gradient(self, theta) -> np.ndarray:
        res = self.value_grad(theta)
        return np.full(self.n_free, np.nan) if res is None else res[1]

    def loglik(self, theta) -> float:
        """The log-likelihood logl_h1 - N F / 2."""
        f = self.value(theta)
        return -math.inf if f is None else sum(gd.logl_h1 for gd in self.groups) - self.n * f / 2

    def expected_information(self, theta) -> np.ndarray:
        """Unit expected information sum_g (n_g/N) I_g; complete data:
        I_g[k, l] = 1/2 tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l) + dmu_k' Sigma^-1 dmu_l
        (:meth:`CompiledModel.expected_information`); missing data: the same per pattern
        (:func:`pattern_information`)."""
        if self.complete:
            return self.complete_information(theta)
        return moment_information(self, theta, "expected")

    def complete_information(self, theta) -> np.ndarray:
        """Unit expected information as if the data were complete (at the implied moments):
        sum_g (n_g/N) I_g of :meth:`ModelKernel.expected_information` (the numbers of
        :meth:`CompiledModel.expected_information`, with the draw's fixed matrices when
        ``fixed`` is given); FIML's cheap scoring matrix. NaN when an implied covariance
        matrix is not positive definite."""
        k = self.kernel
        info = np.zeros((k.q, k.q))
        for g, w in enumerate(self.weights):
            st = k.state(theta, g, self.fixed_p)
            part = None if st is None else k.expected_information(st, g)
            if part is None:
                return np.full((k.q, k.q), np.nan)
            info += w * part
        return info

    def observed_information(self, theta, h: float = 1e-5) -> np.ndarray:
        """Unit observed information: half the Hessian of F (lavaan's ``observed.information =
        "hessian"``).

        Notes
        -----
        With missing data: H = sum_g (n_g/N) Delta_g' H_h1,g Delta_g
        (:func:`moment_information`, analytic) plus the second derivatives of the implied
        moments contracted with dF/dSigma and dF/dmu, sum_ij G_ij d2Sigma_ij / dtheta_k
        dtheta_l + g' d2mu / dtheta_k dtheta_l, taken as central differences of the gradient
        map with G and g held fixed (no pass over the patterns). With complete data, where a
        gradient costs no more than that map, the central differences of the analytic
        gradient itself. Either way symmetrized.
        """
        k = self.kernel
        if self.complete:
            full = central_jacobian(self.gradient, theta, h=h)
            return 0.25 * (full + full.T)
        H = moment_information(self, theta, "observed")
        held = []
        for g, gd in enumerate(self.groups):
            sigma, mu = self.implied(theta, g)
            res = _missing_gradient(sigma, mu, gd)
            if res is None:
                return np.full((k.q, k.q), np.nan)
            held.append(res[1:])

        def contracted(t):
            parts = []
            for g, (G, gmu) in enumerate(held):
                st = k.state(t, g, self.fixed_p)
                parts.append(self.weights[g] * k.gradient_part(
                    g, st, G, gmu if k.meanstructure else None))
            return np.bincount(k.par, weights=np.concatenate(parts), minlength=k.q)

        second = central_jacobian(contracted, theta, h=h)
        return H + 0.25 * (second + second.T)

    def scores(self, theta) -> np.ndarray:
        """Casewise scores d logl_i / d theta, stacked over groups, shape (N, q)."""
        blocks = []
        for g, gd in enumerate(self.groups):
            sigma, mu = self.implied(theta, g)
            with_mean = gd.fixed_mean is None
            blocks.append(h1_scores(sigma, mu, gd, with_mean)
                          @ model_delta(self.model, theta, g, with_mean))
        return np.vstack(blocks)


class MLBatchObjective:
    """The complete-data ML discrepancy of :class:`MLObjective` for a stack of data sets
    (bootstrap draws) that share one model, evaluated for all of them at once.

    Parameters
    ----------
    kernel : ModelKernel
    draws : sequence of sequence of GroupData
        Per draw, its groups (complete data: :func:`moments_group`); every draw has the same
        group sizes.
    fixed : sequence, optional
        Per draw, its fixed matrices (A0, S0, m0) per group (or None for the compiled ones).

    Raises
    ------
    ValueError
        When a group has missing data, the draws' group sizes differ, or their fixed
        matrices change A_RR (fixed.x draws change S and m only).

    Notes
    -----
    ``value_grad(theta, idx)`` evaluates, for the draws ``idx`` at the rows of ``theta``,

        F = sum_g (n_g / N) [log|Sigma| + tr(S Sigma^-1) - log|S| - p + d' Sigma^-1 d],
        G = Sigma^-1 (Sigma - S - d d') Sigma^-1,    dF/dmu = -2 Sigma^-1 d  (d = ybar - mu)

    (``lav_objective_ML``), the formulas of :meth:`MLObjective._evaluate` with a leading
    batch axis (:meth:`ModelKernel.state_batch`, :meth:`ModelKernel.gradient_batch`);
    Sigma^-1 and log|Sigma| come from the Cholesky factor as in :func:`_chol_inv`
    (``dpotrf``/``dpotri``, draw by draw).
    tests/test_objective.py checks the two objectives against each other. A draw's numbers
    do not depend on the other draws of the stack.
    """

    def __init__(self, kernel: ModelKernel, draws, fixed=None):
        self.kernel = kernel
        draws = [tuple(gs) for gs in draws]
        self.m = len(draws)
        ng = len(kernel.groups)
        if any(len(gs) != ng for gs in draws):
            raise ValueError(f"Every draw needs {ng} group(s) of data.")
        if not all(gd.complete for gs in draws for gd in gs):
            raise ValueError("The stacked objective takes complete data only.")
        sizes = {tuple(gd.n for gd in gs) for gs in draws}
        if len(sizes) != 1:
            raise ValueError("The draws' group sizes differ.")
        ns = sizes.pop()
        self.n = sum(ns)
        self.weights = [n_g / self.n for n_g in ns]
        self.cov = [np.array([gs[g].patterns[0].cov for gs in draws]) for g in range(ng)]
        self.mean = [np.array([gs[g].patterns[0].mean for gs in draws]) for g in range(ng)]
        self.logdet_s = [np.array([gs[g].logdet_s for gs in draws]) for g in range(ng)]
        self.fixed_mean = [None if draws[0][g].fixed_mean is None else self.mean[g]
                           for g in range(ng)]
        self.bufs = [None] * ng
        if fixed is not None and any(fx is not None for fx in fixed):
            perm = [kernel.permuted_fixed(fx) if fx is not None else
                    [grp["buf0"] for grp in kernel.groups] for fx in fixed]
            self.bufs = [np.array([pf[g] for pf in perm]) for g in range(ng)]
            for g, grp in enumerate(kernel.groups):
                # the series for E_RR stops at the compiled paths' longest one
                c0 = grp["cuts"][0]
                if grp["tri"] and np.any(self.bufs[g][:, :c0] != grp["buf0"][:c0]):
                    raise ValueError("The draws' fixed matrices change A among the latent "
                                     "and other non-sink variables; only S and m may "
                                     "differ from the compiled ones.")
        par = kernel.par
        self._unique = len(par) == kernel.q and len(np.unique(par)) == len(par)

    @property
    def n_free(self) -> int:
        return self.kernel.q

    def value_grad(self, theta, idx=None):
        """F and dF/dtheta of the draws ``idx`` (all when None) at the rows of ``theta``.

        Returns
        -------
        (f, grad, ok)
            (m,), (m, q) and (m,) bool: ``ok`` is False where an implied covariance matrix
            is not positive definite (F and the gradient there are NaN).
        """
        k = self.kernel
        theta = np.asarray(theta, dtype=float)
        idx = np.arange(self.m) if idx is None else np.asarray(idx, dtype=np.intp)
        m = len(idx)
        f = np.zeros(m)
        ok = np.ones(m, dtype=bool)
        parts = []
        for g, w in enumerate(self.weights):
            bufs = None if self.bufs[g] is None else self.bufs[g][idx]
            st = k.state_batch(theta, g, bufs)
            ok &= st[6]
            sigma = st[3]
            if not st[6].all():
                sigma = np.where(st[6][:, None, None], sigma, np.eye(k.p))
            cov = self.cov[g][idx]
            resid = sigma - cov
            inv = sigma  # overwritten (the gradient needs no Sigma)
            logdet = _chol_inv_stack(inv, ok)
            fg = logdet + (cov * inv).sum(axis=(1, 2)) - self.logdet_s[g][idx] - k.p
            gmu = None
            if k.meanstructure:
                d = self.mean[g][idx] - st[5]
                invd = (inv @ d[:, :, None])[:, :, 0]
                fg += (d * invd).sum(axis=1)
                resid -= d[:, :, None] * d[:, None, :]
                gmu = -2.0 * invd
            G = inv @ resid @ inv
            part = k.gradient_batch(g, st, G, gmu)
            parts.append(part if w == 1.0 else w * part)
            f += w * fg
        grad_parts = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        if self._unique:
            grad = np.empty((m, k.q))
            grad[:, k.par] = grad_parts
        else:
            offs = (np.arange(m) * k.q)[:, None] + k.par[None, :]
            grad = np.bincount(offs.ravel(), weights=grad_parts.ravel(),
                               minlength=m * k.q).reshape(m, k.q)
        f[~ok] = np.nan
        grad[~ok] = np.nan
        return f, grad, ok


# ------------------------------------------------------------------------------------------
# the saturated (h1) parameterisation (mu, vech Sigma)
# ------------------------------------------------------------------------------------------

def vech_index(p: int):
    """Row and column indices of lavaan's vech order (column by column, lower triangle)."""
    rows, cols = np.tril_indices(p)
    return cols, rows


def model_delta(model, theta, g: int, with_mean: bool) -> np.ndarray:
    """Jacobian Delta = d(mu, vech Sigma) / d theta of group g, shape ([p +] p*, q)."""
    d_sigma, d_mu = model.jacobian(theta, g)
    r, c = vech_index(d_sigma.shape[1])
    cov_part = d_sigma[:, r, c].T
    return np.vstack([d_mu.T, cov_part]) if with_mean else cov_part


def pattern_loglik(sigma, mu, gd: GroupData) -> float:
    """Observed-data log-likelihood of one group at (Sigma, mu):
    -1/2 sum_p n_p [p_o log(2 pi) + log|Sigma_oo| + tr(Sigma_oo^-1 C_p)] (:func:`pattern_sums`)."""
    res = pattern_sums(sigma, mu, gd)
    if res is None:
        return -math.inf
    n_obs = sum(float(b.n @ b.mask.sum(axis=1)) for b in gd.batches)
    return float(-0.5 * (n_obs * _LOG2PI + gd.n * res[0]))


def h1_scores(sigma, mu, gd: GroupData, with_mean: bool) -> np.ndarray:
    """Casewise scores d logl_i / d(mu, vech Sigma), shape (n, [p +] p*)
    (``lav_mvnorm_missing_scores_mu_vech_sigma``)."""
    p = len(mu)
    r, c = vech_index(p)
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


def vech_sandwich(K: np.ndarray, p: int) -> np.ndarray:
    """D' K D for a (p^2, p^2) matrix K, with D the duplication matrix (vec = D vech)."""
    r, c = vech_index(p)
    i1, i2 = r * p + c, c * p + r
    out = K[np.ix_(i1, i1)] + K[np.ix_(i1, i2)] + K[np.ix_(i2, i1)] + K[np.ix_(i2, i2)]
    half = np.where(r == c, 0.5, 1.0)
    return out * half[:, None] * half[None, :]


def kron_sum(As: np.ndarray, Bs: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_k w_k (A_k (x) B_k) for stacks of (p, p) matrices, by one matrix product."""
    P, p, _ = As.shape
    R = (As.reshape(P, -1) * w[:, None]).T @ Bs.reshape(P, -1)  # [(a,c),(b,d)]
    return R.reshape(p, p, p, p).transpose(0, 2, 1, 3).reshape(p * p, p * p)


def embedded_inverses(sigma, mu, gd: GroupData):
    """Per batch of patterns (:class:`PatternBatch`): the batch, the stack J of Sigma_oo^-1
    embedded in p x p (zero in the rows and columns of the missing variables), from the one
    inverse K = Sigma^-1 as J = K - K[:, m] (K_mm)^-1 K[m, :], and the embedded ybar_p - mu.

    Raises
    ------
    numpy.linalg.LinAlgError
        When Sigma is singular.
    """
    p = len(mu)
    K = np.linalg.inv(sigma)
    K = 0.5 * (K + K.T)
    out = []
    for b in gd.batches:
        terms = _batch_terms(K, mu, b)
        if terms is None:
            raise np.linalg.LinAlgError("A pattern's implied covariance matrix is singular.")
        A, _, d, _, _ = terms
        J = np.broadcast_to(K, (len(b.n), p, p))
        if A is not None:
            Km = K[:, b.mis].transpose(1, 0, 2)
            J = (J - Km @ A @ Km.transpose(0, 2, 1)) * (b.mask[:, :, None] * b.mask[:, None, :])
        out.append((b, J, d))
    return out


def h1_information(sigma, mu, gd: GroupData, with_mean: bool, kind: str) -> np.ndarray:
    """Unit information of the saturated model of one group with missing data.

    ``kind="observed"``: the Hessian of -logl/n at (mu, Sigma); ``kind="expected"``: the
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
    Js, Ms, Vs, ws = [], [], [], []
    for b, J, d in embedded_inverses(sigma, mu, gd):
        Js.append(J)
        ws.append(b.n / gd.n)
        if kind == "observed":
            v = np.einsum("pij,pj->pi", J, d)
            Mb = v[:, :, None] * v[:, None, :]
            if len(b.multi):
                o = b.obs[b.multi]
                Sh = np.zeros((len(b.multi), p, p))
                Sh[np.arange(len(b.multi))[:, None, None], o[:, :, None], o[:, None, :]] = b.cov
                Jm = J[b.multi]
                Mb[b.multi] += Jm @ Sh @ Jm
            Ms.append(Mb)
            Vs.append(v)
    Js = np.concatenate(Js)
    w = np.concatenate(ws)
    if kind == "observed":
        Ms, Vs = np.concatenate(Ms), np.concatenate(Vs)
    if kind == "expected":
        K = 0.5 * kron_sum(Js, Js, w)
    else:
        K = -0.5 * kron_sum(Js, Js, w) + 0.5 * (kron_sum(Js, Ms, w) + kron_sum(Ms, Js, w))
    cov = vech_sandwich(K, p)
    if not with_mean:
        return cov
    mm = np.einsum("k,kab->ab", w, Js)
    if kind == "expected":
        cross = np.zeros((p, cov.shape[0]))
    else:
        mc = np.einsum("n,nab,nc->abc", w, Js, Vs).reshape(p, p * p)
        r, c = vech_index(p)
        cross = mc[:, r * p + c] + np.where(r == c, 0.0, 1.0) * mc[:, c * p + r]
    return np.block([[mm, cross], [cross.T, cov]])


def pattern_information(objective: MLObjective, theta, kind: str = "expected") -> np.ndarray:
    """sum_g (n_g/N) Delta_g' I_h1,g Delta_g at the model-implied moments, accumulated pattern
    by pattern (never forming the p^2 x p^2 saturated information).

    Notes
    -----
    With X_k = Sigma_oo^-1 dSigma_k,oo, a_k = dmu_k,o, v = Sigma_oo^-1 d, N = Sigma_oo^-1 C,
    C = S_p + d d' and d = ybar_p - mu_o, pattern p contributes (n_p/n) times
    expected: 1/2 tr(X_k X_l) + a_k' Sigma_oo^-1 a_l;
    observed: -1/2 tr(X_k X_l) + 1/2 [tr(X_k X_l N) + tr(X_l X_k N)] + u_k' a_l + a_k' u_l
    + a_k' Sigma_oo^-1 a_l with u_k = X_k v (without the second derivatives of the moments).
    """
    model = objective.model
    q = model.n_free
    info = np.zeros((q, q))
    for g, gd in enumerate(objective.groups):
        sigma, mu = objective.implied(theta, g)
        d_sigma, d_mu = model.jacobian(theta, g)
        use = np.flatnonzero(np.abs(d_sigma).reshape(q, -1).sum(axis=1)
                             + np.abs(d_mu).sum(axis=1) > 0)
        with_mean = gd.fixed_mean is None
        for pat in gd.patterns:
            o = pat.obs
            w = objective.weights[g] * (pat.n / gd.n)
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


def structured_information(objective: MLObjective, theta, kind: str = "expected") -> np.ndarray:
    """sum_g (n_g/N) Delta_g' I_h1,g Delta_g with the saturated information
    (:func:`h1_information`) at the model-implied moments; the same matrix as
    :func:`pattern_information`, cheaper when there are many parameters."""
    model = objective.model
    info = np.zeros((model.n_free, model.n_free))
    for g, gd in enumerate(objective.groups):
        sigma, mu = objective.implied(theta, g)
        with_mean = gd.fixed_mean is None
        delta = model_delta(model, theta, g, with_mean)
        info += objective.weights[g] * delta.T @ h1_information(sigma, mu, gd, with_mean,
                                                                  kind) @ delta
    return info


def moment_information(objective: MLObjective, theta, kind: str = "expected") -> np.ndarray:
    """Delta' I_h1 Delta (expected or observed, without second derivatives of the moments) by
    :func:`pattern_information` or :func:`structured_information`, whichever costs fewer
    operations: about P q^2 p^2 against P p^4 + p*^2 q for P patterns, q parameters, p
    variables and p* saturated moments."""
    q = objective.n_free
    p = objective.kernel.p
    n_pat = sum(len(gd.patterns) for gd in objective.groups)
    p_star = p * (p + 3) // 2
    if n_pat * q * q * p * p > n_pat * p ** 4 + p_star * p_star * q:
        return structured_information(objective, theta, kind)
    return pattern_information(objective, theta, kind)
