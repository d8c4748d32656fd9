"""Ordinal indicators: thresholds, the delta/theta parameterizations and the (D)WLS objective.

A model with ordered indicators is fitted to the sample statistics of lavaan's categorical
approach (Muthen 1984): per group the vector

    s = (thresholds of the ordered variables and -means of the continuous ones, in variable
         order; variances of the continuous variables; the off-diagonal lower triangle of the
         polychoric / polyserial / Pearson covariance matrix, column by column)

(``lavInspect(fit, "wls.obs")``) with its asymptotic covariance ``Gamma`` (NACOV, n times the
ACOV; ``lavInspect(fit, "gamma")``). The structural model is the RAM model of
:mod:`riskmodel_sem.sem.model` for the latent responses y*; this module adds the threshold
parameters (rows ``x | t1``), the scaling rows (``x ~*~ x``) and maps (Sigma*, mu*) to the
implied vector

    delta parameterization:  sigma_ij = d_i d_j Sigma*_ij (i != j),  Sigma*_ii = 1 / d_i^2,
                             threshold_ik = d_i (tau_ik - mu*_i)
    theta parameterization:  residual variances of y* fixed at 1, d_i = 1 / sqrt(Sigma*_ii)

(``lav_lisrel.R``: ``computeDelta``, ``computeTH``). The discrepancy is lavaan's
``estimator.DWLS`` (``lav_objective.R``) with twice lavaan's ``fmin``:

    F(theta) = sum_g (n_g / N) (s_g - sigma_g)' W_g (s_g - sigma_g),

with W_g = diag(Gamma_g)^-1 (DWLS, the WLSMV family) or the identity (ULS). Its gradient is
-2 sum_g (n_g/N) Delta_g' W_g e_g with the analytic Jacobian Delta_g = d sigma_g / d theta
built from :meth:`CompiledModel.jacobian`; Gauss-Newton (``expected_information``,
sum_g (n_g/N) Delta_g' W_g Delta_g, lavaan's expected information for these estimators) drives
:func:`riskmodel_sem.sem.optimize.minimize`.

References
----------
Muthen, B. (1984). A general structural equation model with dichotomous, ordered categorical,
and continuous latent variable indicators. *Psychometrika*, 49(1), 115-132.
https://doi.org/10.1007/BF02294210

Muthen, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted least
squares and quadratic estimating equations in latent variable modeling with categorical and
continuous outcomes. Unpublished technical report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ModelError, OptionError
from .distributions import chi2_sf

__all__ = ["ORDINAL_ESTIMATORS", "CategoricalLayout", "ordinal_partable", "CategoricalObjective",
           "robust_vcov", "scaled_shifted", "baseline_jacobian", "catml_quantities",
           "check_ordinal_options"]

#: lavaan's estimators for ordered data: name -> (discrepancy, robust SEs, test)
ORDINAL_ESTIMATORS = {
    "WLSMV": ("DWLS", "robust.sem", "scaled.shifted"),
    "ULSMV": ("ULS", "robust.sem", "scaled.shifted"),
    "DWLS": ("DWLS", "standard", "standard"),
    "ULS": ("ULS", "standard", "standard"),
}


def check_ordinal_options(estimator: str, parameterization: str) -> tuple[str, str]:
    """Normalized (estimator, parameterization); OptionError for anything lavaan would not
    accept for ordered data."""
    est = str(estimator).upper()
    if est not in ORDINAL_ESTIMATORS:
        raise OptionError(f"Estimator {estimator!r} does not handle ordered variables; use "
                          "WLSMV, ULSMV, DWLS or ULS.")
    par = str(parameterization).lower()
    if par not in ("delta", "theta"):
        raise OptionError(f"Unknown parameterization {parameterization!r}; use delta or "
                          "theta.")
    return est, par


@dataclass(frozen=True)
class CategoricalLayout:
    """Where each entry of one group's statistics vector comes from.

    Attributes
    ----------
    ordered : numpy.ndarray of bool
        Per observed variable (model order).
    th_var, th_par : numpy.ndarray
        Per threshold/mean entry: its variable and the free parameter (-1 for the mean of a
        continuous variable, fixed threshold: -2 with value in ``th_val``).
    th_val : numpy.ndarray
        Fixed threshold values (NaN when free).
    num : numpy.ndarray
        Indices of the continuous variables.
    off_r, off_c : numpy.ndarray
        Off-diagonal pairs in lavaan's order (lower triangle, column by column).
    delta_par : numpy.ndarray
        Per observed variable: free parameter of its scaling row (-1: fixed at ``delta_val``).
    delta_val : numpy.ndarray
    y_idx, x_idx : numpy.ndarray or None
        With observed covariates (lavaan's ``conditional.x``): the positions of the
        endogenous observed variables (those the other fields describe) and of the
        covariates in the model's observed variables; the statistics then hold the slopes
        of every variable on every covariate (by covariate) after the thresholds.
    """

    ordered: np.ndarray
    th_var: np.ndarray
    th_par: np.ndarray
    th_val: np.ndarray
    num: np.ndarray
    off_r: np.ndarray
    off_c: np.ndarray
    delta_par: np.ndarray
    delta_val: np.ndarray
    y_idx: np.ndarray | None = None
    x_idx: np.ndarray | None = None

    @property
    def n_slopes(self) -> int:
        return 0 if self.x_idx is None else len(self.ordered) * len(self.x_idx)

    @property
    def n_univariate(self) -> int:
        """Entries before the covariances: thresholds / intercepts, slopes, variances."""
        return len(self.th_var) + self.n_slopes + len(self.num)

    @property
    def size(self) -> int:
        return self.n_univariate + len(self.off_r)


def ordinal_partable(pt: pd.DataFrame, observed, ordered, n_thresholds: dict,
                     parameterization: str = "delta",
                     group_equal: tuple[str, ...] = (), id_cat: str = "lavaan",
                     group_partial: tuple = ()) -> pd.DataFrame:
    """lavaan's parameter table for ordered indicators, from a meanstructure table of
    :func:`riskmodel_sem.sem.syntax.build_partable`.

    For every ordered variable: its intercept is fixed at 0, its residual variance is fixed
    (delta: not a parameter, reported as 1 / delta^2 minus the explained variance; theta: 1),
    threshold rows ``x | t1 .. tK`` are added (free; shared across groups with
    ``group_equal`` "thresholds") and a scaling row ``x ~*~ x`` fixed at 1. In groups 2..G
    with thresholds equal, lavaan frees the scaling rows (delta) or the residual variances
    (theta), the intercepts stay fixed and the latent means are free (unless "means" is
    equal too), as ``lavaanify`` of lavaan 0.6.14 does. With ``id_cat="Wu.Estabrook.2016"``
    the intercepts of the ordered latent responses are free in groups 2..G instead of the
    latent means, until "intercepts" are equal too (then the means are free): the
    identification of Wu & Estabrook (2016) that ``semTools::measEq.syntax(...,
    ID.cat = "Wu.Estabrook.2016")`` writes. Free parameters are renumbered in table order
    (shared numbers stay shared), thresholds placed after the loadings and regressions as
    lavaan lists them.

    References
    ----------
    Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
    different levels of invariance for ordered categorical outcomes. *Psychometrika*, 81(4),
    1014-1045. https://doi.org/10.1007/s11336-016-9506-0
    """
    from .syntax import partial_keys

    partial = partial_keys(group_partial)
    ordered = set(ordered)
    pt = pt.copy().reset_index(drop=True)
    ngroups = int(pt["group"].max())
    is_ord = pt["lhs"].isin(ordered)
    resid = (pt["op"] == "~~") & is_ord & (pt["lhs"] == pt["rhs"])
    inter = (pt["op"] == "~1") & is_ord
    th_equal = "thresholds" in group_equal
    for k in np.flatnonzero(resid.to_numpy()):
        g = int(pt.at[k, "group"])
        if parameterization == "theta" and th_equal and g > 1:
            continue  # free residual variances in groups 2..G
        pt.at[k, "free"] = 0
        pt.at[k, "ustart"] = 1.0
        pt.at[k, "label"] = pt.at[k, "label"] if pt.at[k, "user"] else ""
    for k in np.flatnonzero(inter.to_numpy()):
        pt.at[k, "free"] = 0
        pt.at[k, "ustart"] = 0.0
    new_rows = []
    first_th: dict = {}
    for g in range(1, ngroups + 1):
        for v in observed:
            if v not in ordered:
                continue
            for t in range(1, n_thresholds[v] + 1):
                key = (v, t)
                row = dict(lhs=v, op="|", rhs=f"t{t}", user=0, group=g, free=-1,
                           ustart=np.nan, exo=0, label="", start=None, line=0)
                if th_equal and g > 1 and (v, "|", f"t{t}") not in partial:
                    row["free"] = -first_th[key]  # marks sharing (resolved below)
                    row["label"] = f"__th_{v}_{t}"
                elif g == 1 or not th_equal:
                    first_th[key] = len(new_rows) + 1
                    if th_equal and (v, "|", f"t{t}") not in partial:
                        row["label"] = f"__th_{v}_{t}"
                new_rows.append(row)
    scale_rows = []
    for g in range(1, ngroups + 1):
        for v in observed:
            if v not in ordered:
                continue
            free = parameterization == "delta" and th_equal and g > 1
            scale_rows.append(dict(lhs=v, op="~*~", rhs=v, user=0, group=g,
                                   free=-1 if free else 0, ustart=np.nan if free else 1.0,
                                   exo=0, label="", start=None, line=0))
    # lavaan's order: =~ and ~ rows, thresholds, variances/covariances, scaling, intercepts
    body = pt[~pt["op"].isin([":=", "==", "<", ">"])]
    tail = pt[pt["op"].isin([":=", "==", "<", ">"])]
    first = body[body["op"].isin(["=~", "~"])]
    middle = body[body["op"] == "~~"]
    last = body[body["op"] == "~1"]
    th = pd.DataFrame(new_rows, columns=list(new_rows[0].keys())) if new_rows else None
    sc = pd.DataFrame(scale_rows) if scale_rows else None
    parts = [first] + ([th] if th is not None else []) + [middle] + \
            ([sc] if sc is not None else []) + [last]
    out = pd.concat(parts, ignore_index=True)
    wu = id_cat == "Wu.Estabrook.2016"
    if th_equal and ngroups > 1 and wu:
        # Wu & Estabrook: the latent-response intercepts of groups 2..G are free (with equal
        # intercepts only those released by group.partial; the latent means are then free)
        released = {lhs for lhs, op, _ in partial if op == "~1"}
        free_int = ordered if "intercepts" not in group_equal else ordered & released
        m = (out["op"] == "~1") & out["lhs"].isin(free_int) & (out["group"] > 1)
        out.loc[m, "free"] = -1
        out.loc[m, "ustart"] = np.nan
    if th_equal and ngroups > 1 and wu and "intercepts" in group_equal \
            and "means" not in group_equal:
        lv = set(out.loc[out["op"] == "=~", "lhs"])
        m = (out["op"] == "~1") & out["lhs"].isin(lv) & (out["group"] > 1)
        out.loc[m, "free"] = -1
        out.loc[m, "ustart"] = np.nan
    elif not wu and th_equal and ngroups > 1 and "means" not in group_equal:
        # lavaan frees the latent means of groups 2..G once the thresholds are equal (as it
        # does with equal intercepts of continuous indicators)
        lv = set(out.loc[out["op"] == "=~", "lhs"])
        m = (out["op"] == "~1") & out["lhs"].isin(lv) & (out["group"] > 1)
        out.loc[m, "free"] = -1
        out.loc[m, "ustart"] = np.nan
    # renumber: old shared numbers keep sharing; new free rows (-1) get their own number;
    # threshold rows of groups 2..G with thresholds equal share the group-1 number
    numbers: dict = {}
    nxt = 0
    free_col = []
    th_rows = {}
    for k, (op, lhs, rhs, f, lab) in enumerate(zip(out["op"], out["lhs"], out["rhs"],
                                                    out["free"], out["label"])):
        f = int(f)
        if f == 0:
            free_col.append(0)
            continue
        if op == "|" and th_equal and (lhs, "|", rhs) not in partial:
            key = ("th", lhs, rhs)
            if key not in th_rows:
                nxt += 1
                th_rows[key] = nxt
            free_col.append(th_rows[key])
            continue
        if f > 0:
            if f not in numbers:
                nxt += 1
                numbers[f] = nxt
            free_col.append(numbers[f])
        else:
            nxt += 1
            free_col.append(nxt)
        del lab
    out["free"] = free_col
    out["label"] = [("" if str(l).startswith("__th_") else l) for l in out["label"]]
    if len(tail):
        out = pd.concat([out, tail], ignore_index=True)
    out["id"] = np.arange(1, len(out) + 1)
    out["plabel"] = [f".p{i}." for i in out["id"]]
    if th_equal and ngroups > 1:
        # shared parameters carry the plabel of their first row as label (parameterEstimates)
        first_label = {}
        labels = out["label"].tolist()
        for k, (f, pl) in enumerate(zip(out["free"], out["plabel"])):
            if f > 0 and out.at[k, "op"] == "|":
                if f in first_label:
                    labels[k] = first_label[f]
                    labels[list(out["free"]).index(f)] = first_label[f]
                else:
                    first_label[f] = pl
        out["label"] = labels
    return out


def layout_for(model, ordered, parameterization: str,
               exo: tuple[str, ...] = ()) -> list[CategoricalLayout]:
    """The :class:`CategoricalLayout` of each group of a compiled ordinal model (``exo``:
    the observed covariates the statistics are conditional on)."""
    pt = model.partable
    obs = [v for v in model.observed if v not in set(exo)]
    y_idx = x_idx = None
    if exo:
        y_idx = np.array([model.observed.index(v) for v in obs], int)
        x_idx = np.array([model.observed.index(v) for v in exo], int)
    index = {v: i for i, v in enumerate(obs)}
    p = len(obs)
    ordered = set(ordered)
    is_ord = np.array([v in ordered for v in obs])
    off_c, off_r = np.triu_indices(p, 1)  # column by column below the diagonal
    order = np.lexsort((off_r, off_c))
    off_r, off_c = off_r[order], off_c[order]
    columns = zip(pt["op"].tolist(), pt["lhs"].tolist(), pt["group"].tolist(),
                  pt["free"].tolist(), pt["ustart"].tolist())
    ths: dict = {}
    scales: dict = {}
    for op, lhs, group, free, ustart in columns:
        if op == "|":
            ths.setdefault((int(group), lhs), []).append((int(free), ustart))
        elif op == "~*~":
            scales[(int(group), lhs)] = (int(free), ustart)
    out = []
    for g in range(1, model.ngroups + 1):
        th_var, th_par, th_val = [], [], []
        for i, v in enumerate(obs):
            if is_ord[i]:
                for f, u in ths.get((g, v), ()):
                    th_var.append(i)
                    th_par.append(f - 1 if f > 0 else -2)
                    th_val.append(np.nan if f > 0 else float(u))
            else:
                th_var.append(i)
                th_par.append(-1)
                th_val.append(np.nan)
        dpar = np.full(p, -1)
        dval = np.ones(p)
        for (gg, v), (f, u) in scales.items():
            if gg != g:
                continue
            if f > 0:
                dpar[index[v]] = f - 1
            else:
                dval[index[v]] = float(u)
        out.append(CategoricalLayout(is_ord, np.array(th_var, int), np.array(th_par, int),
                                     np.array(th_val, float), np.flatnonzero(~is_ord),
                                     off_r.astype(int), off_c.astype(int), dpar, dval,
                                     y_idx, x_idx))
    return out


def _threshold_jacobian(lay, theta, d, dd, mu, d_mean) -> np.ndarray:
    """Rows of Delta for the (standardized) thresholds and the means of continuous variables:
    d/dtheta of d_i (tau_ik - mu_i) for ordered i, of -mu_i for continuous i, given the
    scaling d, its derivatives dd (q x p), the (residual) means mu and their derivatives
    d_mean (q x p)."""
    ext = np.append(theta, [np.nan, np.nan])
    tau = np.where(lay.th_par >= 0, ext[lay.th_par], lay.th_val)
    J_th = np.zeros((len(lay.th_var), len(theta)))
    o = lay.ordered[lay.th_var]
    vi = lay.th_var
    J_th[o] = (-(d[vi[o]])[:, None] * d_mean[:, vi[o]].T
               + (tau[o] - mu[vi[o]])[:, None] * dd[:, vi[o]].T)
    free_th = np.flatnonzero(o & (lay.th_par >= 0))
    J_th[free_th, lay.th_par[free_th]] += d[vi[free_th]]
    J_th[~o] = -d_mean[:, vi[~o]].T
    return J_th


class CategoricalObjective:
    """lavaan's DWLS / ULS discrepancy of a model with ordered indicators.

    Parameters
    ----------
    model : riskmodel_sem.sem.model.CompiledModel
        Compiled from :func:`ordinal_partable` (thresholds are free parameters that no RAM
        matrix uses).
    layouts : list of CategoricalLayout
    stats : sequence
        One object per group with ``n``, ``wls_obs`` and ``gamma``
        (:class:`riskmodel_sem.sem.polychoric.OrdinalStats`).
    weight : {"DWLS", "ULS"}
    parameterization : {"delta", "theta"}

    Notes
    -----
    ``value_grad`` returns F (module docstring) and its gradient; ``expected_information`` is
    half its Gauss-Newton Hessian, sum_g (n_g/N) Delta_g' W_g Delta_g. Matches lavaan's
    ``estimator.DWLS`` and ``lav_model_information_expected`` for these estimators.
    """

    def __init__(self, model, layouts, stats, weight: str = "DWLS",
                 parameterization: str = "delta"):
        self.model = model
        self.layouts = layouts
        self.stats = tuple(stats)
        self.parameterization = parameterization
        self.n = sum(int(s.n) for s in self.stats)
        # n_g / N weighs the information, (n_g - 1) / N the discrepancy (lavaan's fx.group
        # is 1/2 (n_g - 1)/n_g e'We, so that the test statistic is sum_g (n_g - 1) e'We)
        self.weights = [int(s.n) / self.n for s in self.stats]
        self.fweights = [(int(s.n) - 1) / self.n for s in self.stats]
        self.obs = [np.asarray(s.wls_obs, float) for s in self.stats]
        if weight == "ULS":
            self.W = [np.ones(len(o)) for o in self.obs]
        else:
            self.W = []
            for s in self.stats:
                d = np.diag(np.asarray(s.gamma, float))
                if np.any(d <= 0):
                    raise ModelError("The asymptotic variance of a sample statistic is zero; "
                                     "an item may have a category nobody answered.")
                self.W.append(1.0 / d)
        for o, lay in zip(self.obs, layouts):
            if len(o) != lay.size:
                raise ModelError(f"The sample statistics have {len(o)} entries where the "
                                 f"model expects {lay.size}.")

    @property
    def n_free(self) -> int:
        return self.model.n_free

    def exo_names(self) -> tuple[str, ...]:
        """The observed covariates the statistics are conditional on (``conditional.x``)."""
        x = self.layouts[0].x_idx
        return () if x is None else tuple(self.model.observed[i] for i in x)

    def ordered_names(self) -> list[str]:
        """The ordered variables."""
        lay = self.layouts[0]
        ys = (list(self.model.observed) if lay.y_idx is None
              else [self.model.observed[i] for i in lay.y_idx])
        return [v for v, o in zip(ys, lay.ordered) if o]

    def with_model(self, model) -> "CategoricalObjective":
        """The same discrepancy (statistics, weights, parameterization) for another compiled
        model of the same variables: a model with more free parameters (modification
        indices, released equality constraints)."""
        out = CategoricalObjective.__new__(CategoricalObjective)
        out.__dict__.update(self.__dict__)
        out.model = model
        out.layouts = layout_for(model, self.ordered_names(), self.parameterization,
                                 self.exo_names())
        out._jac_cache = {}
        return out

    # --- the implied statistics ---------------------------------------------------------
    def _delta(self, theta, lay, sigma0):
        """Scaling factors d (one per observed variable) and the residual variances of the
        ordered y* (delta: 1/d^2 - explained; theta: 1)."""
        p = len(lay.ordered)
        if self.parameterization == "delta":
            d = lay.delta_val.copy()
            k = lay.delta_par >= 0
            d[k] = theta[lay.delta_par[k]]
            return d
        d = np.ones(p)
        d[lay.ordered] = 1.0 / np.sqrt(sigma0[lay.ordered, lay.ordered])
        return d

    def scaling_factors(self, theta, g) -> np.ndarray:
        """Scaling factors d of group g's observed variables (1 for continuous ones and
        covariates): the ``~*~`` values (delta parameterization) or 1/sqrt(Sigma*_ii)
        (theta; the variance given the covariates with ``conditional.x``)."""
        lay = self.layouts[g]
        sigma0, _, _ = self.reduced_form(theta, g)
        d = self._delta(theta, lay, sigma0)
        if lay.y_idx is None:
            return d
        out = np.ones(len(self.model.observed))
        out[lay.y_idx] = d
        return out

    def reduced_form(self, theta, g):
        """(Sigma*, mu*, Pi) of the latent responses of group g: their implied covariance
        matrix and means, or with observed covariates x (lavaan's ``conditional.x``) the
        reduced form given x: Pi = Sigma*_yx Sigma_xx^-1, the residual covariance
        Sigma*_yy - Pi Sigma_xy and the intercepts mu*_y - Pi mu_x (``computeSigmaHat``,
        ``computePI`` and ``computeTH`` of ``lav_model_implied`` with conditional.x; the
        covariates are exogenous, so none of these depends on their fixed moments). Pi is
        None without covariates. Sigma* has the model's fixed residual variances of the
        ordered y* on its diagonal (before the delta parameterization's rescaling)."""
        lay = self.layouts[g]
        full, mu_all = self.model.implied(theta, g, all_vars=True)
        if lay.y_idx is None:
            p = len(lay.ordered)
            return full[:p, :p].copy(), mu_all[:p], None
        y, x = lay.y_idx, lay.x_idx
        sxx = full[np.ix_(x, x)]
        pi = np.linalg.solve(sxx, full[np.ix_(x, y)]).T
        sigma0 = full[np.ix_(y, y)] - pi @ full[np.ix_(x, y)]
        mu = mu_all[y] - pi @ mu_all[x]
        return sigma0, mu, pi

    def implied(self, theta, g):
        """(sigma vector, Sigma (p x p, with the scaling applied), mu*) of group g."""
        lay = self.layouts[g]
        sigma0, mu, pi = self.reduced_form(theta, g)
        d = self._delta(theta, lay, sigma0)
        if self.parameterization == "delta":
            sigma0[lay.ordered, lay.ordered] = 1.0 / d[lay.ordered] ** 2
        sigma = sigma0 * np.outer(d, d)
        th = np.empty(len(lay.th_var))
        ext = np.append(theta, [np.nan, np.nan])
        tau = np.where(lay.th_par >= 0, ext[lay.th_par], lay.th_val)
        o = lay.ordered[lay.th_var]
        th[o] = d[lay.th_var[o]] * (tau[o] - mu[lay.th_var[o]])
        th[~o] = -mu[lay.th_var[~o]]
        slopes = [] if pi is None else [(d[:, None] * pi).T.ravel()]
        vec = np.concatenate([th] + slopes + [np.diag(sigma)[lay.num],
                                              sigma[lay.off_r, lay.off_c]])
        return vec, sigma, mu

    def jacobian(self, theta, g) -> np.ndarray:
        """Delta_g = d sigma_g / d theta, shape (len(sigma_g), q) (the last one computed per
        group is kept: the optimizer asks for the gradient and the information at the same
        point)."""
        theta = np.asarray(theta, float)
        cache = self.__dict__.setdefault("_jac_cache", {})
        hit = cache.get(g)
        if hit is not None and hit[0].shape == theta.shape and np.array_equal(hit[0], theta):
            return hit[1]
        out = self._jacobian(theta, g)
        cache[g] = (theta.copy(), out)
        return out

    def _jacobian(self, theta, g) -> np.ndarray:
        """Delta_g = d sigma_g / d theta, shape (len(sigma_g), q).

        Built from the factored derivatives of :meth:`CompiledModel.entry_terms` (dSigma* =
        u v' + v u' per free matrix entry): only the entries sigma needs (off-diagonal pairs,
        the variances of continuous variables and, for the theta parameterization, of the
        ordered ones) are formed.
        """
        lay = self.layouts[g]
        if lay.y_idx is not None:
            return self._jacobian_conditional(theta, g)
        q = self.n_free
        p = len(lay.ordered)
        U, V, scale, par, mean = self.model.entry_terms(theta, g)
        r, c = lay.off_r, lay.off_c
        d_off = np.zeros((q, len(r)))
        np.add.at(d_off, par, scale[:, None] * (U[:, r] * V[:, c] + V[:, r] * U[:, c]))
        d_diag = np.zeros((q, p))
        np.add.at(d_diag, par, 2.0 * scale[:, None] * U * V)
        d_mu = np.zeros((q, p))
        if mean is not None:
            np.add.at(d_mu, mean[1], mean[0])
        full, mu_all = self.model.implied(theta, g, all_vars=True)
        sigma0 = full[:p, :p]
        mu = mu_all[:p]
        d = self._delta(theta, lay, sigma0)
        dd = np.zeros((q, p))  # d d_i / d theta
        if self.parameterization == "delta":
            k = np.flatnonzero(lay.delta_par >= 0)
            dd[lay.delta_par[k], k] = 1.0
        else:
            o = np.flatnonzero(lay.ordered)
            dd[:, o] = -0.5 * np.diag(sigma0)[o] ** -1.5 * d_diag[:, o]
        J_th = _threshold_jacobian(lay, theta, d, dd, mu, d_mu)
        J_var = d_diag[:, lay.num].T
        J_off = ((d[r] * d[c])[:, None] * d_off.T
                 + (sigma0[r, c])[:, None] * (dd[:, r].T * d[c][:, None]
                                              + d[r][:, None] * dd[:, c].T))
        return np.vstack([J_th, J_var, J_off])

    def _jacobian_conditional(self, theta, g) -> np.ndarray:
        """Delta_g with observed covariates: the derivatives of the reduced form
        (:meth:`reduced_form`) from those of the implied moments of all observed variables,
        dPi = dSigma_yx Sigma_xx^-1, dSigma_res = dSigma_yy - dPi Sigma_xy - Pi dSigma_xy,
        dmu_res = dmu_y - dPi mu_x (Sigma_xx and mu_x are fixed), then scaled as in
        :meth:`_jacobian`."""
        lay = self.layouts[g]
        q = self.n_free
        y, x = lay.y_idx, lay.x_idx
        d_sigma, d_mu = self.model.jacobian(theta, g)
        full, mu_all = self.model.implied(theta, g)
        sxx_inv = np.linalg.inv(full[np.ix_(x, x)])
        sxy = full[np.ix_(x, y)]
        pi = (sxx_inv @ sxy).T
        d_syx = d_sigma[:, y][:, :, x]                      # (q, py, k)
        d_pi = d_syx @ sxx_inv                               # (q, py, k)
        d_res = (d_sigma[:, y][:, :, y] - d_pi @ sxy
                 - np.swapaxes(d_pi @ sxy, 1, 2))
        d_int = d_mu[:, y] - d_pi @ mu_all[x]
        sigma0 = full[np.ix_(y, y)] - pi @ sxy
        mu = mu_all[y] - pi @ mu_all[x]
        d = self._delta(theta, lay, sigma0)
        p = len(lay.ordered)
        dd = np.zeros((q, p))
        if self.parameterization == "delta":
            k = np.flatnonzero(lay.delta_par >= 0)
            dd[lay.delta_par[k], k] = 1.0
        else:
            o = np.flatnonzero(lay.ordered)
            dd[:, o] = -0.5 * np.diag(sigma0)[o] ** -1.5 * d_res[:, o, o]
        J_th = _threshold_jacobian(lay, theta, d, dd, mu, d_int)
        # slopes d_i Pi_ik, by covariate k then variable i
        J_sl = (d[None, :, None] * d_pi + pi[None, :, :] * dd[:, :, None])
        J_sl = np.transpose(J_sl, (2, 1, 0)).reshape(-1, q)
        J_var = d_res[:, lay.num, lay.num].T
        r, c = lay.off_r, lay.off_c
        J_off = ((d[r] * d[c])[:, None] * d_res[:, r, c].T
                 + (sigma0[r, c])[:, None] * (dd[:, r].T * d[c][:, None]
                                              + d[r][:, None] * dd[:, c].T))
        return np.vstack([J_th, J_sl, J_var, J_off])

    # --- objective ----------------------------------------------------------------------
    def residuals(self, theta):
        return [s - self.implied(theta, g)[0] for g, s in enumerate(self.obs)]

    def value_grad(self, theta, with_grad: bool = True):
        theta = np.asarray(theta, float)
        f = 0.0
        grad = np.zeros(self.n_free)
        for g, s in enumerate(self.obs):
            e = s - self.implied(theta, g)[0]
            if not np.all(np.isfinite(e)):
                return None
            we = self.W[g] * e
            f += self.fweights[g] * float(e @ we)
            if with_grad:
                grad -= 2.0 * self.fweights[g] * (self.jacobian(theta, g).T @ we)
        return (f, grad) if with_grad else f

    def value(self, theta):
        return self.value_grad(theta, with_grad=False)

    def gradient(self, theta):
        return self.value_grad(theta)[1]

    def expected_information(self, theta) -> np.ndarray:
        """Half the Gauss-Newton Hessian of F, sum_g ((n_g - 1)/N) Delta' W Delta (the
        optimizer's scoring matrix)."""
        return self._information(theta, self.fweights)

    observed_information = expected_information

    def unit_information(self, theta) -> np.ndarray:
        """lavaan's expected information of these estimators, sum_g (n_g/N) Delta' W
        Delta (``lav_model_information_expected``), for standard errors and tests."""
        return self._information(theta, self.weights)

    def _information(self, theta, weights) -> np.ndarray:
        info = np.zeros((self.n_free, self.n_free))
        for g in range(len(self.obs)):
            D = self.jacobian(theta, g)
            info += weights[g] * (D.T * self.W[g]) @ D
        return info

    def group_chisq(self, theta) -> list[float]:
        """Per group (n_g - 1) e_g' W_g e_g (lavaan's ``stat.group``)."""
        return [(int(s.n) - 1) * float(e @ (self.W[g] * e))
                for g, (s, e) in enumerate(zip(self.stats, self.residuals(theta)))]


# ------------------------------------------------------------------------------------------
# robust standard errors and the scaled-shifted test
# ------------------------------------------------------------------------------------------

def robust_vcov(objective: CategoricalObjective, theta, e_inv) -> np.ndarray:
    """lavaan's ``se = "robust.sem"``: E^-1 (sum_g (n_g/N) Delta' W Gamma_g W Delta) E^-1 /
    (N - G) (``lav_model_nvcov_robust_sem``; lavaan divides by N - G for these estimators),
    E the expected information (:meth:`CategoricalObjective.unit_information`)."""
    B = np.zeros_like(e_inv)
    for g, s in enumerate(objective.stats):
        WD = objective.jacobian(theta, g) * objective.W[g][:, None]
        B += objective.weights[g] * WD.T @ np.asarray(s.gamma, float) @ WD
    return e_inv @ B @ e_inv / (objective.n - len(objective.stats))


def _ugamma(deltas, Ws, gammas, fg, e_inv):
    """U Gamma over all groups: U = V - V Delta E^-1 Delta' V with V = diag(f_g W_g) and
    Gamma = diag(Gamma_g / f_g) (``lav_test_satorra_bentler_trace_original``)."""
    V = np.concatenate([f * w for f, w in zip(fg, Ws)])
    D = np.vstack(deltas)
    n = len(V)
    G = np.zeros((n, n))
    k = 0
    for f, gm in zip(fg, gammas):
        m = gm.shape[0]
        G[k:k + m, k:k + m] = gm / f
        k += m
    VD = V[:, None] * D
    U = np.diag(V) - VD @ e_inv @ VD.T
    return U @ G


def scaled_shifted(stat: float, df: int, ug) -> dict:
    """lavaan's scaled-shifted (mean- and variance-adjusted, Asparouhov & Muthen 2010) test:
    a = sqrt(df / tr((U Gamma)^2)), T = a X2 + df - a tr(U Gamma), scaling factor 1/a."""
    tr1 = float(np.trace(ug))
    tr2 = float(np.sum(ug * ug.T))
    if df <= 0 or tr2 <= 0:
        return {"stat": stat, "df": df, "scaling": math.nan, "shift": math.nan,
                "pvalue": math.nan, "trace": tr1}
    a = math.sqrt(df / tr2)
    shift = df - a * tr1
    t = stat * a + shift
    return {"stat": t, "df": df, "scaling": 1.0 / a, "shift": shift,
            "pvalue": float(chi2_sf(t, df)), "trace": tr1}


def ugamma(objective: CategoricalObjective, theta, e_inv, deltas=None):
    """U Gamma of a fitted categorical model (or of the baseline with its ``deltas``)."""
    if deltas is None:
        deltas = [objective.jacobian(theta, g) for g in range(len(objective.obs))]
    return _ugamma(deltas, objective.W, [np.asarray(s.gamma, float) for s in objective.stats],
                   objective.weights, e_inv)


def baseline_jacobian(layouts) -> tuple[list[np.ndarray], int]:
    """Jacobians of lavaan's independence model for ordered data (thresholds, means and
    variances of continuous variables and slopes on observed covariates free per group, all
    correlations zero) and its number of free parameters."""
    out = []
    k = 0
    sizes = [l.n_univariate for l in layouts]
    q = sum(sizes)
    for lay, m in zip(layouts, sizes):
        D = np.zeros((lay.size, q))
        D[np.arange(m), k + np.arange(m)] = 1.0
        out.append(D)
        k += m
    return out, q


def catml_quantities(objective: CategoricalObjective, theta, e_inv, df: int) -> dict | None:
    """The ingredients of lavaan's robust CFI/TLI/RMSEA for ordered data (Savalei 2021,
    ``lav_fit_catml_dwls``): the ML statistic of the model-implied against the polychoric
    correlation matrix, its correction c.hat3 = tr(WiU' V WiU Gamma) / df3 and the baseline's.
    None (lavaan: NA) with continuous variables, a polychoric matrix that is not positive
    definite, or free scaling factors / residual variances of the latent responses (groups
    2..G with equal thresholds), where lavaan's catML refit fails."""
    if any(len(l.num) or l.n_slopes for l in objective.layouts):
        return None  # lavaan: NA with continuous variables or conditional.x
    if any(np.any(l.delta_par >= 0) for l in objective.layouts):
        return None  # lavaan's catML refit fails with free scaling factors (NA)
    pt = objective.model.partable
    ordered = set(objective.ordered_names())
    if objective.parameterization == "theta" and bool(
            ((pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(ordered)
             & (pt["free"] > 0)).any()):
        return None  # ... and with free residual variances of the latent responses (theta)
    xx3 = 0.0
    xx3_null = 0.0
    V_blocks, G_blocks, D_blocks, W_blocks = [], [], [], []
    for g, lay in enumerate(objective.layouts):
        p = len(lay.ordered)
        s = objective.obs[g]
        R = np.eye(p)
        m = len(lay.th_var)
        R[lay.off_r, lay.off_c] = s[m:]
        R[lay.off_c, lay.off_r] = s[m:]
        ev = np.linalg.eigvalsh(R)
        if np.any(ev < np.finfo(float).eps ** 0.5):
            return None
        _, P, _ = objective.implied(theta, g)
        P = P.copy()
        np.fill_diagonal(P, 1.0)
        sign, logdet_p = np.linalg.slogdet(P)
        if sign <= 0:
            return None
        Pinv = np.linalg.inv(P)
        logdet_r = np.linalg.slogdet(R)[1]
        fg = objective.weights[g]
        xx3 += int(objective.stats[g].n) * (logdet_p + np.sum(R * Pinv) - logdet_r - p)
        xx3_null += int(objective.stats[g].n) * (-logdet_r)
        # ML expected information of the correlations at the implied matrix
        r, c = lay.off_r, lay.off_c
        V = (Pinv[np.ix_(r, r)] * Pinv[np.ix_(c, c)] + Pinv[np.ix_(r, c)] * Pinv[np.ix_(c, r)])
        V_blocks.append(fg * V)
        W_blocks.append(fg * objective.W[g][m:])
        G_blocks.append(np.asarray(objective.stats[g].gamma, float)[m:, m:] / fg)
        D_blocks.append(objective.jacobian(theta, g)[m:])
    n_all = sum(len(w) for w in W_blocks)
    V = np.zeros((n_all, n_all))
    G = np.zeros((n_all, n_all))
    k = 0
    for v, gm in zip(V_blocks, G_blocks):
        m = v.shape[0]
        V[k:k + m, k:k + m] = v
        G[k:k + m, k:k + m] = gm
        k += m
    W = np.concatenate(W_blocks)
    D = np.vstack(D_blocks)
    WiU = np.eye(n_all) - D @ e_inv @ (D.T * W)
    df3 = df
    ks = float(np.trace(WiU.T @ V @ WiU @ G))
    df3_null = n_all
    return {"xx3": xx3, "df3": df3, "c_hat3": ks / df3 if df3 > 0 else math.nan,
            "xx3_null": xx3_null, "df3_null": df3_null,
            "c_hat3_null": float(np.trace(G)) / df3_null}


# ------------------------------------------------------------------------------------------
# fit measures
# ------------------------------------------------------------------------------------------

def residual_measures(objective: CategoricalObjective, theta) -> dict:
    """RMR, SRMR (Bentler, Mplus), CRMR and WRMR of a categorical fit, on the correlation
    scale, with and without the thresholds ("means"), as ``lav_fit_srmr_lavobject`` and
    ``lav_fit_wrmr`` compute them for ordered data."""
    acc = {k: [] for k in ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean",
                           "crmr", "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean")}
    w = []
    wrmr = []
    nel = 0
    for g, lay in enumerate(objective.layouts):
        s = objective.obs[g]
        vec, sigma, _ = objective.implied(theta, g)
        e = s - vec
        wrmr.append(float(np.sum(e ** 2 * objective.W[g])))
        nel += len(s)
        p = len(lay.ordered)
        m = len(lay.th_var)
        S = np.array(sigma, copy=True)
        nn = len(lay.num)
        mv = m + lay.n_slopes
        S[lay.num, lay.num] = s[mv:mv + nn]
        S[lay.off_r, lay.off_c] = s[mv + nn:]
        S[lay.off_c, lay.off_r] = s[mv + nn:]
        sd_s = np.sqrt(np.diag(S))
        sd_m = np.sqrt(np.diag(sigma))
        low = np.tril_indices(p)
        off = np.tril_indices(p, -1)
        res = S - sigma
        std_res = res / np.outer(sd_s, sd_s)
        cor_res = S / np.outer(sd_s, sd_s) - sigma / np.outer(sd_m, sd_m)
        # the mean part: thresholds of the ordered variables (the means of continuous ones
        # are reproduced exactly and lavaan does not count them)
        th_res = e[:m][lay.ordered[lay.th_var]]
        m = len(th_res)
        rmr2, bent2, crmr2 = (np.sum(res[low] ** 2), np.sum(std_res[low] ** 2),
                              np.sum(cor_res[off] ** 2))
        mplus2 = crmr2 + np.sum(((np.diag(S) - np.diag(sigma)) / np.diag(S)) ** 2)
        # lavaan counts the covariates among the variables (pta$nvar) with conditional.x
        nexo = 0 if lay.x_idx is None else len(lay.x_idx)
        nl, no = len(low[0]) + nexo, len(off[0])
        mm = np.sum(th_res ** 2)
        acc["rmr"].append(math.sqrt((rmr2 + mm) / (nl + m)))
        acc["srmr_bentler"].append(math.sqrt((bent2 + mm) / (nl + m)))
        acc["crmr"].append(math.sqrt((crmr2 + mm) / (no + m)))
        acc["srmr_mplus"].append(math.sqrt((mplus2 + mm) / (nl + m)))
        acc["rmr_nomean"].append(math.sqrt(rmr2 / nl))
        acc["srmr_bentler_nomean"].append(math.sqrt(bent2 / nl))
        acc["crmr_nomean"].append(math.sqrt(crmr2 / no) if no else 0.0)
        acc["srmr_mplus_nomean"].append(math.sqrt(mplus2 / nl))
        w.append(int(objective.stats[g].n))
    wts = np.asarray(w, float) / sum(w)
    out = {k: float(np.dot(wts, v)) for k, v in acc.items()}
    # lavaan: with ordered data srmr is the Bentler version without the thresholds, and the
    # Mplus version is not given
    out["srmr"] = out["srmr_bentler_nomean"]
    out["srmr_mplus"] = out["srmr_mplus_nomean"] = math.nan
    # lavaan: sqrt(X2 / nel) with nel the number of statistics of the first group
    nel = len(objective.obs[0])
    out["wrmr"] = math.sqrt(sum((int(s.n) - 1) * v for s, v in zip(objective.stats, wrmr))
                            / nel) if nel else math.nan
    return out


def gfi_measures(objective: CategoricalObjective, theta, df: int, npar: int) -> dict:
    """GFI = 1 - e'We / s'Ws with the estimator's weights (lavaan's ``lav_fit_gfi`` with
    ``WLS.V``), AGFI and PGFI, per group weighted by n_g."""
    vals, ws, nel = [], [], 0
    for g, s in enumerate(objective.obs):
        e = s - objective.implied(theta, g)[0]
        W = objective.W[g]
        vals.append(1.0 - float(e @ (W * e)) / float(s @ (W * s)))
        ws.append(int(objective.stats[g].n))
        nel += len(s)
    gfi = float(np.dot(ws, vals) / sum(ws))
    return {"gfi": gfi, "agfi": 1 - (nel / df) * (1 - gfi) if df > 0 else 1.0,
            "pgfi": (df / nel) * gfi if nel else math.nan}


def modification_indices(model, report, objective: CategoricalObjective, theta, ordered,
                         parameterization: str, exo: tuple[str, ...] = (),
                         moments=None) -> pd.DataFrame:
    """lavaan's ``modindices`` of a categorical fit (one group or several).

    Parameters
    ----------
    model : CompiledModel
        The fitted model (:func:`ordinal_partable`; parameters shared across groups by
        ``group.equal`` carry one number).
    report : CompiledModel
        The reporting model (residual variances of the latent responses at their implied
        values), for the standardized EPCs.
    objective : CategoricalObjective
    theta : numpy.ndarray
    ordered : sequence of str
    parameterization : {"delta", "theta"}
    exo : tuple of str
        The observed covariates of a ``conditional.x`` fit.
    moments : list of SampleMoments, optional
        Their sample moments (for the fixed.x rows of the extended model).

    Returns
    -------
    pandas.DataFrame
        ``lhs, op, rhs`` (+ ``group`` with several groups), ``mi, epc, sepc_lv, sepc_all,
        sepc_nox``, sorted by decreasing MI.

    Notes
    -----
    The candidates are lavaan's (``lav_partable_full`` merged with ``lav_object_extended(
    all.free = TRUE)``): every fixed row of the table (fixed loadings, the intercepts of the
    latent responses, latent means, the scaling rows ``~*~``, ...) and the rows of
    :func:`riskmodel_sem.sem.fitmeasures.candidates` the model lacks, in every group. They
    are appended as free parameters at their fixed values; with d the derivative of lavaan's
    fmin (F/2, summed over the groups) and I the expected information sum_g (n_g/N)
    Delta_g' W_g Delta_g of the extended model, MI = N d^2 / V and EPC = -d / V with
    V = I_jj - I_j. I_..^-1 I_.j (:func:`riskmodel_sem.sem.fitmeasures.score_test`).
    Parameters held equal across groups are one parameter of the fitted model, which is
    lavaan's augmented inverse of the information under the ``==`` constraints (freeing them
    is :func:`riskmodel_sem.sem.comparison.score_tests`' job, lavaan's ``lavTestScore``;
    ``modindices`` lists only the new parameters). Candidates with V < eps^(1/3) (not
    identified, e.g. an intercept of a latent response next to free thresholds) are left
    out, as lavaan does. sepc.lv / sepc.all standardize the EPC with the reporting model as
    ``modindices(standardized = TRUE, cov.std = TRUE)``: loadings by the factor's and the
    latent response's standard deviations, covariances by the residual standard deviations,
    intercepts by the variable's standard deviation; sepc.nox is sepc.all except that a
    regression on a covariate is not scaled by the covariate's standard deviation. Matches
    lavaan 0.6.14 ``modindices()`` for DWLS, WLSMV, ULS and ULSMV.
    """
    from .fitmeasures import candidates, score_test
    from .model import compile_partable

    G = model.ngroups
    pt = model.partable
    table = candidates(model, theta)
    if exo:
        # conditional.x (lav_partable_full with strict.exo): no regressions of a covariate
        # and no intercepts of the covariates among the new rows
        new = table["candidate"] & (table["user"] == 10)
        drop = new & (((table["op"] == "~") & table["lhs"].isin(exo))
                      | ((table["op"] == "~1") & table["lhs"].isin(exo)))
        table = table[~drop].reset_index(drop=True)
        cand_rows = np.flatnonzero(table["candidate"].to_numpy(bool))
        order = np.argsort(table["free"].to_numpy()[cand_rows], kind="stable")
        renumbered = table["free"].to_numpy().copy()
        renumbered[cand_rows[order]] = model.n_free + 1 + np.arange(len(cand_rows))
        table["free"] = renumbered
    q = model.n_free
    # the non-RAM rows: thresholds and scaling rows; fixed ones become candidates too
    other = pt[pt["op"].isin(["|", "~*~"])].copy()
    other["candidate"] = False
    counter = int(table["free"].max()) if len(table) else q
    counter = max(counter, q)
    for idx in other.index[other["free"].to_numpy() <= 0]:
        counter += 1
        other.loc[idx, ["free", "candidate"]] = [counter, True]
    ext_pt = pd.concat([table, other], ignore_index=True)
    cand = ext_pt["candidate"].to_numpy(bool)
    columns = (["lhs", "op", "rhs"] + (["group"] if G > 1 else [])
               + ["mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"])
    if not cand.any():
        return pd.DataFrame(columns=columns)
    ext = compile_partable(ext_pt.drop(columns="candidate"), model.observed, model.latent,
                           ngroups=G, meanstructure=True, syntax=model.syntax,
                           ov_x=tuple(exo), moments=moments)
    ext_obj = objective.with_model(ext)
    par = ext_pt["free"].to_numpy(int) - 1
    theta_ext = np.concatenate([theta, np.zeros(ext.n_free - q)])
    theta_ext[par[cand]] = ext_pt.loc[cand, "ustart"].to_numpy(float)
    nc = ext.n_free - q
    d = np.zeros(nc)
    cross = np.zeros((nc, q))
    diag = np.zeros(nc)
    for g in range(G):
        D = ext_obj.jacobian(theta_ext, g)
        W = objective.W[g]
        e = objective.obs[g] - ext_obj.implied(theta_ext, g)[0]
        Dc = D[:, q:]
        d -= objective.fweights[g] * (Dc.T @ (W * e))  # derivative of lavaan's fmin
        cross += objective.weights[g] * ((Dc.T * W) @ D[:, :q])
        diag += objective.weights[g] * np.einsum("ij,i,ij->j", Dc, W, Dc)
    info = objective.unit_information(theta)
    test = score_test(d, (info, cross, diag), objective.n, None, joint=False)
    order = np.argsort(par[cand])
    rows = ext_pt[cand].iloc[order]
    mi, epc = test["mi"], test["epc"]
    sepc_lv, sepc_all = _standardized_epc(report, theta, rows, epc)
    # std.nox leaves the covariates unscaled: a regression on one is divided by the
    # dependent variable's standard deviation only
    sepc_nox = sepc_all.copy()
    on_x = (rows["op"].to_numpy() == "~") & rows["rhs"].isin(set(exo)).to_numpy()
    if on_x.any():
        sepc_nox[on_x] = sepc_all[on_x] / np.array([_sd_of(report, theta, int(g) - 1, r)
                                                    for g, r in zip(rows["group"][on_x],
                                                                    rows["rhs"][on_x])])
    out = pd.DataFrame({"lhs": rows["lhs"].to_numpy(), "op": rows["op"].to_numpy(),
                        "rhs": rows["rhs"].to_numpy()})
    if G > 1:
        out["group"] = rows["group"].to_numpy(int)
    out["mi"], out["epc"] = mi, epc
    out["sepc_lv"], out["sepc_all"], out["sepc_nox"] = sepc_lv, sepc_all, sepc_nox
    out = out[np.isfinite(out["mi"])]
    return out.sort_values("mi", ascending=False, kind="stable").reset_index(drop=True)


def _sd_of(report, theta, g, name) -> float:
    """Model-implied standard deviation of a variable of the reporting model in group g."""
    full_cov, _ = report.implied(theta, g, all_vars=True)
    i = (report.observed + report.latent).index(name)
    return float(np.sqrt(abs(full_cov[i, i])))


def _standardized_epc(report, theta, rows, epc):
    """sepc.lv and sepc.all of categorical candidates (``lav_standardize_lv`` /
    ``lav_standardize_all`` with ``cov.std = TRUE``), from the reporting model of each
    candidate's group."""
    idx = {v_: i for i, v_ in enumerate(report.observed + report.latent)}
    p = len(report.observed)
    per_group = {}
    sepc_lv = np.full(len(rows), np.nan)
    sepc_all = np.full(len(rows), np.nan)
    for k, (lhs, op, rhs, g, ustart) in enumerate(zip(rows["lhs"], rows["op"], rows["rhs"],
                                                      rows["group"], rows["ustart"])):
        g = int(g) - 1
        if g not in per_group:
            full_cov, _ = report.implied(theta, g, all_vars=True)
            _, S, _ = report.matrices(theta, g)
            per_group[g] = (np.sqrt(np.abs(np.diag(full_cov))), S)
        sd, S = per_group[g]
        e = epc[k]
        if op == "=~":
            sepc_all[k] = e * sd[idx[lhs]] / sd[idx[rhs]]
            sepc_lv[k] = e * sd[idx[lhs]]
        elif op == "~":
            sepc_all[k] = e * sd[idx[rhs]] / sd[idx[lhs]]
            lv_l, lv_r = idx[lhs] >= p, idx[rhs] >= p
            sepc_lv[k] = e * (sd[idx[rhs]] if lv_r else 1.0) / (sd[idx[lhs]] if lv_l else 1.0)
        elif op == "~~" and lhs == rhs:
            # a freed variance shows its own value (cov.std), 0 when below sqrt(eps)
            v = abs(float(ustart)) * np.sign(e)
            small = abs(float(ustart)) < math.sqrt(np.finfo(float).eps)
            sepc_all[k] = 0.0 if small else v / sd[idx[lhs]] ** 2
            sepc_lv[k] = 0.0 if small else (v / sd[idx[lhs]] ** 2 if idx[lhs] >= p else v)
        elif op == "~~":
            prod = S[idx[lhs], idx[lhs]] * S[idx[rhs], idx[rhs]]
            sepc_all[k] = e / math.sqrt(prod) if prod > 0 else math.nan
            sepc_lv[k] = e if idx[lhs] < p else sepc_all[k]
        elif op == "~1":
            sepc_all[k] = e / sd[idx[lhs]]
            sepc_lv[k] = e / sd[idx[lhs]] if idx[lhs] >= p else e
        elif op == "|":
            sepc_all[k] = e / sd[idx[lhs]]
            sepc_lv[k] = e
        else:  # a scaling row standardizes to 1 (lav_standardize_all)
            sepc_all[k] = np.sign(e)
            sepc_lv[k] = e
    return sepc_lv, sepc_all


def satorra_2000(restricted, general, theta0, theta1, t0: float, t1: float, m: int) -> dict:
    """lavaan's difference test for WLSMV/ULSMV fits: Satorra's (2000) test with the
    scaled-shifted correction (``lavTestLRT(..., method = "satorra.2000")``, the default for
    these estimators, ``lav_test_diff_Satorra2000`` with ``A.method = "delta"``).

    Parameters
    ----------
    restricted, general : CategoricalObjective
        The nested (H0) and the nesting (H1) model, fitted to the same statistics.
    theta0, theta1 : numpy.ndarray
        Their estimates.
    t0, t1 : float
        Their standard test statistics; ``m`` the difference of their degrees of freedom.

    Notes
    -----
    With Delta1, Delta0 the Jacobians of the implied statistics at each model's estimates,
    A spans the orthogonal complement of pinv(Delta1) Delta0 (the restrictions in H1's
    parameters), P the information of H1 and PAAPAAP = P^-1 A' (A P^-1 A')^+ A P^-1:
    U = V Delta1 PAAPAAP Delta1' V with V = diag(W_g), UG = U diag(f_g Gamma_g);
    a = sqrt(m / tr(UG^2)), b = m - a tr(UG) (tr(UG) = sum_g f_g tr(U_g Gamma_g)) and
    T = a (T0 - T1) + b on m degrees of freedom.

    References
    ----------
    Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of
    moment structures. In Heijmans, Pollock & Satorra (Eds.), Innovations in Multivariate
    Statistical Analysis (pp. 233-247). Kluwer.
    """
    from scipy.linalg import null_space

    G = len(general.obs)
    D1 = [general.jacobian(theta1, g) for g in range(G)]
    D0 = [restricted.jacobian(theta0, g) for g in range(G)]
    H = np.linalg.pinv(np.vstack(D1)) @ np.vstack(D0)
    A = null_space(H.T).T
    P_inv = np.linalg.inv(general.unit_information(theta1))
    APA = A @ P_inv @ A.T
    PAAPAAP = P_inv @ A.T @ np.linalg.pinv(APA) @ A @ P_inv
    fg = general.weights
    gammas = [np.asarray(s.gamma, float) for s in general.stats]
    V = np.concatenate(general.W)
    Dall = np.vstack(D1)
    U = (V[:, None] * Dall) @ PAAPAAP @ (Dall.T * V[None, :])
    n = len(V)
    Gf = np.zeros((n, n))
    k = 0
    for f, gm in zip(fg, gammas):
        Gf[k:k + gm.shape[0], k:k + gm.shape[0]] = f * gm
        k += gm.shape[0]
    UG = U @ Gf
    tr1 = float(np.trace(UG))
    tr2 = float(np.sum(UG * UG.T))
    out = {"chisq_diff": t0 - t1, "df_diff": m, "pvalue": math.nan,
           "method": "satorra.2000", "scaling_factor": math.nan, "shift": math.nan}
    if m <= 0 or tr2 <= 0:
        return out
    a = math.sqrt(m / tr2)
    b = m - a * tr1
    out.update(chisq_diff=(t0 - t1) * a + b, scaling_factor=1.0 / a, shift=b,
               pvalue=float(chi2_sf((t0 - t1) * a + b, m)))
    return out
