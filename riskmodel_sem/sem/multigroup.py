"""Multi-group differences of the structural paths: Wald and likelihood-ratio tests.

For a multi-group fit (lavaan ``sem(..., group = , group.equal = )``) every regression
(op ``~``) is compared between every pair of groups in two ways:

* the Wald test of ``d = b_a - b_b`` with the model's covariance matrix of the estimates
  (delta method: ``se(d)^2 = V_aa + V_bb - 2 V_ab``), which is what lavaan gives for
  ``d := b1 - b2`` in a model labelled ``c(b1, b2)*x`` (the robust ``vcov`` under MLR);
* the chi-square difference test of the model with that one path equal in the two groups
  against the fitted model (the other groups keep their own value; every other constraint,
  such as ``group.equal``, stays), by :func:`riskmodel_sem.sem.comparison.difference_test`:
  the likelihood-ratio test under ML, the Satorra-Bentler (2001) scaled difference under
  MLR, as ``lavTestLRT(fit_equal, fit)``.

The omnibus test makes every structural path equal across all groups at once. The metric
invariance test beside them (paths are comparable only if the loadings are) compares the
model with equal loadings against the one without, all else as fitted.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from .._json import json_value, records
from ..errors import ModelError, OptionError, RiskModelWarning
from .comparison import difference_test
from .distributions import norm_sf
from .estimation import FitResult, check_group_equal, fit_model

__all__ = ["GroupComparison", "compare_groups", "equate_parameters", "equal_paths",
           "PATH_DIFFERENCE_COLUMNS"]

#: Columns of :attr:`GroupComparison.path_differences` (the JSON ``path_differences`` rows).
PATH_DIFFERENCE_COLUMNS = ["lhs", "op", "rhs", "label", "group_a", "group_b", "label_a",
                           "label_b", "est_a", "est_b", "diff", "se", "z", "pvalue",
                           "chisq_diff", "df_diff", "pvalue_lrt", "method"]


@dataclass(frozen=True)
class GroupComparison:
    """Differences of the structural paths between groups (immutable).

    Attributes
    ----------
    group : str
        The grouping column.
    group_labels : tuple of str
        The groups as written in the data, in lavaan's order (``group_a``/``group_b`` number
        them from 1).
    group_n : tuple of int
    group_equal : tuple of str
        lavaan's ``group.equal`` of the fit (kept in every test).
    path_differences : pandas.DataFrame
        ``PATH_DIFFERENCE_COLUMNS``: one row per regression and pair of groups. ``se``, ``z``,
        ``pvalue`` test the difference ``diff = est_a - est_b`` (Wald, delta method);
        ``chisq_diff``, ``df_diff``, ``pvalue_lrt`` the model with this path equal in the two
        groups against the fit (``method`` ``lrt`` or ``satorra.bentler.2001``). A path that
        is already equal in the two groups (a shared label, ``group.equal = "regressions"``)
        has diff 0 and no test (df_diff 0).
    omnibus : dict
        Every structural path equal across all groups against the fit: ``chisq_diff``,
        ``df_diff``, ``pvalue``, ``method``, ``scaling_factor``.
    metric : dict or None
        Equal loadings against free loadings (the rest as fitted): the difference test plus
        ``cfi``/``rmsea`` of both models and their changes; None for a model without
        loadings or fitted from a parameter table.
    equal : pandas.DataFrame
        The regressions held equal across groups by the fit itself: ``lhs, op, rhs, label,
        groups, reason`` (``"label"`` for a label shared by the groups, ``"group.equal"``).
    warnings : tuple of str
    """

    group: str
    group_labels: tuple[str, ...]
    group_n: tuple[int, ...]
    group_equal: tuple[str, ...]
    path_differences: pd.DataFrame
    omnibus: dict
    metric: dict | None
    equal: pd.DataFrame
    warnings: tuple[str, ...] = ()
    fits: dict = field(default_factory=dict, repr=False, compare=False)

    def group_sizes(self) -> list[dict]:
        """``[{group, label, n}]`` of the groups compared (the JSON key ``groups`` of a
        multi-group fit)."""
        return [{"group": k, "label": str(lab), "n": int(n)}
                for k, (lab, n) in enumerate(zip(self.group_labels, self.group_n), start=1)]

    def to_dict(self) -> dict:
        """JSON-ready ``{path_differences, path_differences_omnibus, metric_invariance,
        equal_paths, group_equal}`` (DESIGN.md §3)."""
        return {
            "group_equal": list(self.group_equal),
            "path_differences": records(self.path_differences),
            "path_differences_omnibus": json_value(dict(self.omnibus)),
            "metric_invariance": json_value(dict(self.metric)) if self.metric else None,
            "equal_paths": records(self.equal),
            "warnings": list(self.warnings),
        }


def equate_parameters(partable: pd.DataFrame, keys, groups=None) -> pd.DataFrame:
    """The parameter table with the rows ``(lhs, op, rhs)`` of ``keys`` made equal across
    ``groups`` (1-based group numbers; default all): they share the free number of the first
    of those groups' rows, and the free parameters are renumbered 1..q in table order.

    Fixed rows are left alone. The input is not modified. The inverse of
    :func:`riskmodel_sem.sem.comparison.release_parameters`.
    """
    pt = partable.copy()
    free = pt["free"].to_numpy().copy()
    ops, lhs, rhs = pt["op"].to_numpy(), pt["lhs"].to_numpy(), pt["rhs"].to_numpy()
    grp = pt["group"].to_numpy()
    wanted = None if groups is None else {int(g) for g in groups}
    for key in keys:
        hit = np.flatnonzero((lhs == key[0]) & (ops == key[1]) & (rhs == key[2]) & (free > 0)
                             & np.array([wanted is None or int(g) in wanted for g in grp]))
        if len(hit) < 2:
            continue
        first = free[hit[0]]
        for old in set(free[hit[1:]]) - {first}:
            free[free == old] = first
    order: dict[int, int] = {}
    for f in free:
        if f > 0 and f not in order:
            order[f] = len(order) + 1
    pt["free"] = [order.get(f, 0) if f > 0 else 0 for f in free]
    return pt


def _regressions(fit: FitResult) -> list[tuple[str, str, str]]:
    pt = fit.model.partable
    rows = pt[pt["op"] == "~"]
    return list(dict.fromkeys(zip(rows["lhs"], rows["op"], rows["rhs"])))


def _free_index(fit: FitResult) -> dict:
    pt = fit.model.partable
    return {(r.lhs, r.op, r.rhs, int(r.group)): int(r.free) - 1
            for r in pt.itertuples() if r.op == "~"}


def equal_paths(fit: FitResult) -> pd.DataFrame:
    """The regressions that the fit holds equal across groups (one free parameter for
    several groups): ``lhs, op, rhs, label, groups, reason``; ``reason`` is ``"label"`` when a
    user label shared by the groups makes them equal (lavaan's rule for a plain label in a
    multi-group model), ``"group.equal"`` otherwise."""
    pt = fit.model.partable
    rows = pt[(pt["op"] == "~") & (pt["free"] > 0)]
    out = []
    for key, part in rows.groupby(["lhs", "op", "rhs"], sort=False):
        for number, same in part.groupby("free", sort=False):
            if len(same) < 2:
                continue
            label = str(same["label"].iloc[0] or "")
            out.append({"lhs": key[0], "op": key[1], "rhs": key[2], "label": label,
                        "groups": ",".join(str(int(g)) for g in same["group"]),
                        "reason": "group.equal" if label.startswith(".p") or not label
                        else "label"})
    return pd.DataFrame(out, columns=["lhs", "op", "rhs", "label", "groups", "reason"])


def _refit(table, data, fit: FitResult, group, source, notes):
    ordinal = {}
    if fit.ordinal is not None:  # the same ordered items and parameterization
        stats = fit.ordinal.stats[0]
        ordinal = dict(ordered=tuple(v for v, o in zip(stats.names, stats.ordered) if o),
                       parameterization=fit.ordinal.parameterization)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RiskModelWarning)
        res = fit_model(table, data, estimator=fit.estimator, missing=fit.missing, group=group,
                        source=source, compute_modindices=False, **ordinal)
    if not res.converged:
        notes.append(f"{source}: the constrained model did not converge; its difference "
                     "test is not trustworthy.")
    for w in caught:
        if not issubclass(w.category, RiskModelWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return res


def compare_groups(fit: FitResult, data: pd.DataFrame, group: str, *, group_equal=(),
                   group_partial=(), metric: bool = True) -> GroupComparison:
    """Test every structural path for differences between the groups of a multi-group fit.

    Parameters
    ----------
    fit : FitResult
        A multi-group fit (:func:`riskmodel_sem.sem.estimation.fit_model` with ``group``).
    data : pandas.DataFrame
        The data it was fitted to (with the group column).
    group : str
        The grouping column.
    group_equal, group_partial : tuple
        The ``group.equal`` and ``group.partial`` the fit used (for the metric test's refit).
    metric : bool
        Also test equal loadings against free loadings.

    Returns
    -------
    GroupComparison

    Raises
    ------
    ModelError
        For a fit with one group or without a compiled model.

    Notes
    -----
    Wald: ``z = (b_a - b_b) / sqrt(V_aa + V_bb - 2 V_ab)``, two-sided normal p, as lavaan's
    ``parameterEstimates`` for ``d := b_a - b_b`` (``lav_model_vcov_se``). LRT: ``T = T0 -
    T1`` on ``df0 - df1`` (ML) or ``(T0 - T1) / c_d`` with ``c_d = (df0 c0 - df1 c1) /
    (df0 - df1)`` (MLR, Satorra & Bentler 2001), as ``lavaan::lavTestLRT``; with three or
    more groups a pairwise test constrains only the two groups compared.

    References
    ----------
    Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for
    moment structure analysis. Psychometrika, 66(4), 507-514. doi:10.1007/BF02296192
    """
    if fit.model is None or fit.vcov is None:
        raise ModelError("The fit holds no compiled model; refit it with fit_model().")
    G = fit.model.ngroups
    if G < 2:
        raise OptionError("Path differences need a fit with two or more groups (group=...).")
    group_equal = check_group_equal(group_equal)
    labels = tuple(fit.group_labels) or tuple(str(g) for g in range(1, G + 1))
    notes: list[str] = []
    theta, vcov = np.asarray(fit.theta, float), np.asarray(fit.vcov, float)
    est = fit.model.row_values(theta)
    pt = fit.model.partable
    row_of = {(r.lhs, r.op, r.rhs, int(r.group)): i
              for i, r in enumerate(pt.itertuples()) if r.op in ("=~", "~", "~~", "~1")}
    index = _free_index(fit)
    keys = _regressions(fit)
    rows = []
    for key in keys:
        path_label = str(pt.at[row_of[(*key, 1)], "label"] or "") if (*key, 1) in row_of else ""
        for a, b in combinations(range(1, G + 1), 2):
            ia, ib = index.get((*key, a), -1), index.get((*key, b), -1)
            ea, eb = float(est[row_of[(*key, a)]]), float(est[row_of[(*key, b)]])
            var = ((vcov[ia, ia] if ia >= 0 else 0.0) + (vcov[ib, ib] if ib >= 0 else 0.0)
                   - (2 * vcov[ia, ib] if ia >= 0 and ib >= 0 else 0.0))
            se = math.sqrt(max(var, 0.0)) if np.isfinite(var) else math.nan
            z = (ea - eb) / se if se > 0 else math.nan
            row = {"lhs": key[0], "op": key[1], "rhs": key[2], "label": path_label,
                   "group_a": a, "group_b": b, "label_a": labels[a - 1],
                   "label_b": labels[b - 1], "est_a": ea, "est_b": eb, "diff": ea - eb,
                   "se": se, "z": z, "pvalue": float(2 * norm_sf(abs(z))) if z == z
                   else math.nan}
            if ia < 0 or ib < 0 or ia == ib:  # fixed, or already equal: nothing to test
                row.update(chisq_diff=0.0 if ia == ib >= 0 else math.nan, df_diff=0,
                           pvalue_lrt=math.nan, method="")
            else:
                table = equate_parameters(pt, [key], groups=(a, b))
                res = _refit(table, data, fit, group,
                             f"{key[0]} ~ {key[2]} equal in groups {labels[a - 1]} and "
                             f"{labels[b - 1]}", notes)
                test = difference_test(res, fit)
                row.update(chisq_diff=test["chisq_diff"], df_diff=int(test["df_diff"]),
                           pvalue_lrt=test["pvalue"], method=test["method"])
            rows.append(row)
    differences = pd.DataFrame(rows, columns=PATH_DIFFERENCE_COLUMNS)

    omnibus = {"chisq_diff": math.nan, "df_diff": 0, "pvalue": math.nan, "method": "",
               "scaling_factor": math.nan}
    fits = {}
    table = equate_parameters(pt, keys)
    if keys and int(table["free"].max()) < fit.model.n_free:
        res = _refit(table, data, fit, group, "all structural paths equal across groups",
                     notes)
        fits["paths_equal"] = res
        test = difference_test(res, fit)
        omnibus = {k: test[k] for k in ("chisq_diff", "df_diff", "pvalue", "method",
                                        "scaling_factor")}

    metric_test = None
    has_loadings = bool((pt["op"] == "=~").any())
    if metric and has_loadings and isinstance(fit.syntax, str) and fit.syntax.strip():
        free_l = tuple(k for k in group_equal if k != "loadings")
        equal_l = tuple(dict.fromkeys(group_equal + ("loadings",)))
        fitted = {group_equal: fit}

        def get(kinds, name):
            if kinds in fitted:
                return fitted[kinds]
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always", RiskModelWarning)
                res = fit_model(fit.syntax, data, estimator=fit.estimator,
                                missing=fit.missing, group=group, group_equal=kinds,
                                group_partial=tuple(group_partial), source=name,
                                compute_modindices=False)
            fitted[kinds] = res
            return res

        configural = get(free_l, "free loadings")
        metric_fit = get(equal_l, "equal loadings")
        fits.update(configural=configural, metric=metric_fit)
        test = difference_test(metric_fit, configural)
        cfi, rmsea = (("cfi_robust", "rmsea_robust") if fit.estimator == "MLR"
                      and "cfi_robust" in fit.fit else ("cfi", "rmsea"))
        metric_test = {k: test[k] for k in ("chisq_diff", "df_diff", "pvalue", "method",
                                            "scaling_factor")}
        metric_test.update({
            "group_equal_free": list(free_l), "group_equal_equal": list(equal_l),
            "cfi_free": configural.fit.get(cfi), "cfi_equal": metric_fit.fit.get(cfi),
            "rmsea_free": configural.fit.get(rmsea), "rmsea_equal": metric_fit.fit.get(rmsea),
            "delta_cfi": metric_fit.fit.get(cfi, math.nan) - configural.fit.get(cfi, math.nan),
            "delta_rmsea": (metric_fit.fit.get(rmsea, math.nan)
                            - configural.fit.get(rmsea, math.nan)),
            "measures": [cfi, rmsea]})
    equal = equal_paths(fit)
    if "regressions" in group_equal:  # asked for: equal whatever holds them so
        equal["reason"] = "group.equal"
    shared = equal[equal["reason"] == "label"]
    if len(shared):
        paths = ", ".join(f"{r.lhs} ~ {r.rhs} ({r.label})" for r in shared.itertuples())
        notes.append(f"The label(s) of {paths} are shared by all groups, which holds those paths "
                     "equal across groups (lavaan's rule for a plain label); their differences "
                     "are not tested. Write c(a1, a2, ...) for one label per group.")
    return GroupComparison(group=group, group_labels=labels,
                           group_n=tuple(fit.group_n), group_equal=group_equal,
                           path_differences=differences, omnibus=omnibus, metric=metric_test,
                           equal=equal, warnings=tuple(dict.fromkeys(notes)),
                           fits=fits)
