"""Maximum-likelihood estimation (ML, MLR, FIML) with lavaan's statistics: ``fit_model``.

Every fit minimizes one objective, lavaan's normal-theory ML discrepancy (twice ``fmin``,
:class:`riskmodel_sem.sem.objective.MLObjective`)

    F = sum_g (n_g / N) [log|Sigma_g| + tr(S_g Sigma_g^{-1}) - log|S_g| - p
                         + (ybar_g - mu_g)' Sigma_g^{-1} (ybar_g - mu_g)]

for complete data (S_g with divisor n_g, lavaan's ``likelihood = "normal"``), and its casewise
form over missing-data patterns for FIML (:mod:`riskmodel_sem.sem.fiml`). It is minimized by
Fisher scoring with step halving (:func:`riskmodel_sem.sem.optimize.minimize`) from
lavaan-like starting values until the largest gradient element is below 1e-9 (FIML and MLR are
then polished by Newton steps on the observed information). Standard errors: ML from the
expected information, ``vcov = I(theta)^{-1} / N`` (lavaan's ``information = "expected"``);
FIML from the observed information; MLR the sandwich (:mod:`riskmodel_sem.sem.robust`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd

from . import fitmeasures, standardize
from ._blas import one_blas_thread
from .._json import json_value, records
from ..errors import (ConvergenceWarning, DataQualityWarning, HeywoodWarning,
                      IdentificationWarning, ModelError, OptionError)
from .data import (code_ordered_text, compile_source, model_data, model_variables, prepare,
                   sample_moments, split_groups)
from .defined import defined_parameters
from .distributions import chi2_ppf, chi2_sf, norm_ppf, norm_sf
from .constraints import (ReducedObjective, active_basis, constraint_set, linear_reduction,
                          n_equality, sqp_minimize)
from .fitmeasures import (baseline_estimates, baseline_model, hoelter_cn, incremental_indices,
                          n_moments, rmsea_measures)
from .model import CompiledModel, SampleMoments
from .objective import MLObjective, group_data, moments_group
from .optimize import minimize
from .categorical import ORDINAL_ESTIMATORS

__all__ = [
    "FitResult",
    "fit_model",
    "check_options",
    "check_group_equal",
    "GROUP_EQUAL_KINDS",
    "model_data",
    "sample_moments",
    "prepare",
    "split_groups",
    "assemble",
    "ESTIMATE_COLUMNS",
    "MODINDEX_COLUMNS",
    "PopulationFit",
    "fit_population",
    "Refit",
    "refit",
    "Estimates",
    "fit_estimates",
    "refit_without",
    "fix_parameter",
    "fit_ordinal",
    "resolve_estimator",
]

ESTIMATE_COLUMNS = ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower",
                    "ci_upper", "std_lv", "std_all"]
MODINDEX_COLUMNS = ["lhs", "op", "rhs", "mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"]
#: lavaan's ``group.equal`` kinds that a fit accepts.
GROUP_EQUAL_KINDS = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
                     "lv.variances", "lv.covariances", "regressions")


@dataclass(frozen=True)
class FitResult:
    """Results of one fitted model (immutable; DataFrames are copies owned by the result).

    Attributes
    ----------
    estimates : pandas.DataFrame
        lavaan's ``parameterEstimates(fit, standardized = TRUE)`` with snake_case columns
        (``ESTIMATE_COLUMNS``, plus ``se_std_all``). With several groups also lavaan's integer
        ``group`` (0 for ``:=`` rows) and ``group_label``, the group's value as written in
        the data (empty for ``:=`` rows).
    fit : dict
        lavaan's ``fitMeasures`` with "." replaced by "_".
    r2 : dict
        R-squared of every endogenous variable (observed indicators and latent outcomes).
    modindices : pandas.DataFrame
        Modification indices (``MODINDEX_COLUMNS``, plus ``group`` for several groups),
        sorted decreasingly.
    group_labels : tuple of str
        The groups' values in the data, in lavaan's group order (first appearance).
    group_n : tuple of int
        Rows used in each group (lavaan's ``lavInspect(fit, "nobs")``).
    ordinal : CategoricalObjective or None
        For fits with ordered variables: the discrepancy with its sample statistics
        (thresholds, polychoric correlations, their asymptotic covariance), which difference
        tests need.
    """

    estimates: pd.DataFrame
    fit: dict
    r2: dict
    modindices: pd.DataFrame
    n_obs: int
    estimator: str
    missing: str
    converged: bool
    iterations: int
    syntax: str
    observed: tuple[str, ...]
    latent: tuple[str, ...]
    implied_cov: pd.DataFrame
    sample_cov: pd.DataFrame
    group_labels: tuple[str, ...] = ()
    group_n: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    heywood: tuple[str, ...] = ()
    model: CompiledModel | None = field(default=None, repr=False, compare=False)
    theta: np.ndarray | None = field(default=None, repr=False, compare=False)
    vcov: np.ndarray | None = field(default=None, repr=False, compare=False)
    ordinal: object | None = field(default=None, repr=False, compare=False)

    def summary(self, fit_measures: bool = True) -> str:
        """lavaan's ``summary(fit, fit.measures = TRUE, standardized = TRUE)`` as text
        (:func:`riskmodel_sem.sem.summary.summary_text`)."""
        from .summary import summary_text

        return summary_text(self, fit_measures=fit_measures)

    def _repr_html_(self) -> str:
        from .summary import summary_html

        return summary_html(self.summary())

    def to_dict(self) -> dict:
        """JSON-ready dictionary with the keys of DESIGN.md §3 (``groups``: each group's
        ``group`` number, ``label`` and ``n``, for a multi-group fit)."""
        groups = {"groups": [{"group": g, "label": str(lab), "n": int(n)}
                             for g, (lab, n) in enumerate(zip(self.group_labels, self.group_n),
                                                          start=1)]
                  } if len(self.group_labels) > 1 else {}
        return {
            "estimator": self.estimator,
            "missing": self.missing,
            "n_obs": self.n_obs,
            "converged": self.converged,
            "iterations": self.iterations,
            "warnings": list(self.warnings),
            "heywood": list(self.heywood),
            "syntax": self.syntax,
            "fit": json_value(self.fit),
            "estimates": records(self.estimates),
            "r2": json_value(self.r2),
            "modindices": records(self.modindices),
            **groups,
        }


# ------------------------------------------------------------------------------------------
# starting values
# ------------------------------------------------------------------------------------------

def _start_values(model: CompiledModel, moments: list[SampleMoments]) -> np.ndarray:
    """Starting values in the spirit of lavaan's "simple"/"default" starts: loadings from the
    marker's covariances, residual variances half the observed variance, latent variances
    from the marker, regressions and covariances zero, intercepts the sample means."""
    records = model.partable.to_dict("records")
    theta = np.zeros(model.n_free)
    set_ = np.zeros(model.n_free, dtype=bool)
    obs = {v: i for i, v in enumerate(model.observed)}
    mom = moments[0]
    cov = mom.cov
    markers: dict[str, str] = {}
    indicators: dict[str, list[str]] = {}
    for r in records:
        if r["op"] == "=~":
            markers.setdefault(r["lhs"], r["rhs"])
            indicators.setdefault(r["lhs"], []).append(r["rhs"])

    def marker_obs(lv, depth=0):
        m = markers.get(lv)
        if m is None or depth > 10:
            return None
        return m if m in obs else marker_obs(m, depth + 1)

    for r in records:
        if r["free"] <= 0 or set_[r["free"] - 1]:
            continue
        r = SimpleNamespace(**r)
        k = r.free - 1
        value = 0.0
        if isinstance(r.start, (int, float)) and r.start is not None and not (
                isinstance(r.start, float) and math.isnan(r.start)):
            value = float(r.start)
        elif r.op == "=~":
            mk = marker_obs(r.lhs)
            if r.rhs in obs and mk is not None and mk != r.rhs:
                i, j = obs[r.rhs], obs[mk]
                # ratio of covariances with a third indicator of the same factor (fabin-like)
                others = [obs[o] for o in indicators[r.lhs]
                          if o in obs and o not in (r.rhs, mk)]
                if others and abs(cov[j, others[0]]) > 1e-8:
                    value = cov[i, others[0]] / cov[j, others[0]]
                else:
                    value = cov[i, j] / cov[j, j] if cov[j, j] > 0 else 1.0
                if not np.isfinite(value) or abs(value) > 10:
                    value = 1.0
            else:
                value = 1.0
        elif r.op == "~~" and r.lhs == r.rhs:
            if r.lhs in obs:
                value = 0.5 * cov[obs[r.lhs], obs[r.lhs]]
            else:
                mk = marker_obs(r.lhs)
                value = 0.05
                if mk is not None and r.lhs in markers:
                    value = max(0.05, 0.5 * cov[obs[mk], obs[mk]] *
                                (0.5 if markers[r.lhs] not in obs else 1.0))
        elif r.op == "~1" and r.lhs in obs:
            value = mom.mean[obs[r.lhs]]
        theta[k] = value
        set_[k] = True
    return theta


# ------------------------------------------------------------------------------------------
# optimization
# ------------------------------------------------------------------------------------------

def _optimize(objective, theta0, max_iter=500, tol=1e-9):
    """Fisher scoring of the ML objective. Returns (theta, iterations, converged, F)."""
    res = minimize(objective, theta0, "scoring", tol=tol, max_iter=max_iter)
    return res.theta, res.iterations, res.converged, res.fun


def _optimize_fiml(objective, theta0, max_iter=500, tol=2e-8):
    """FIML: scoring steps with the complete-data expected information at the implied moments
    until max |dF/dtheta| < 2e-6 (L-BFGS-B when scoring stalls), then Newton steps on the
    observed information. Returns (theta, iterations, converged, F)."""
    res = minimize(objective, theta0, "scoring", tol=0.0, max_iter=max_iter, stop_at=2e-6,
                   fallback=False, information=objective.complete_information)
    theta, it = res.theta, res.iterations
    if float(np.max(np.abs(res.grad))) >= 2e-6:
        res = minimize(objective, theta, "lbfgs", tol=2e-10, max_iter=5000)
        theta, it = res.theta, it + res.iterations
    res = minimize(objective, theta, "newton", tol=tol * 1e-2, max_iter=10)
    converged = bool(np.max(np.abs(res.grad)) < tol)
    return res.theta, it + res.iterations, converged, res.fun


def _estimate(objective, theta0, fiml, robust_se, source):
    """Minimize the objective from theta0 (FIML or complete data), honouring the model's
    ``==``/``<``/``>`` constraints: linear equalities by the reparametrization theta = k0 + K
    alpha (the same optimizers over alpha), other constraints by
    :func:`riskmodel_sem.sem.constraints.sqp_minimize`. Returns (theta, iterations,
    converged, F)."""
    target, start = objective, theta0
    cset = constraint_set(objective.model)
    if cset is not None:
        target = linear_reduction(objective, theta0, cset, source)
        if target is None:
            res = sqp_minimize(objective, theta0, cset, tol=2e-8 if fiml else 1e-9,
                               source=source)
            return res.theta, res.iterations, res.converged, res.fun
        start = target.alpha(theta0)
    if fiml:
        theta, iterations, converged, fmin2 = _optimize_fiml(target, start)
    else:
        theta, iterations, converged, fmin2 = _optimize(target, start)
        if robust_se and converged:
            # a Newton step on the observed information takes the gradient to ~1e-11, so that
            # sandwich SEs do not carry the optimizer's tolerance
            polished = minimize(target, theta, "newton", tol=2e-11, max_iter=3)
            theta, fmin2 = polished.theta, polished.fun
    if target is not objective:
        theta = target.theta(theta)
    return theta, iterations, converged, fmin2


def _scaled_inverse(info) -> np.ndarray:
    """info^-1 computed in correlation form (variables may differ in scale)."""
    d = np.sqrt(np.diag(info))
    return np.linalg.inv(info / np.outer(d, d)) / np.outer(d, d)


# ------------------------------------------------------------------------------------------
# the public entry point
# ------------------------------------------------------------------------------------------

def fit_model(
    syntax: str | pd.DataFrame,
    data: pd.DataFrame,
    *,
    estimator: str | None = None,
    missing: str = "listwise",
    group: str | None = None,
    group_equal: tuple[str, ...] = (),
    group_partial: tuple = (),
    source: str = "model",
    compute_modindices: bool = True,
    meanstructure: bool = False,
    fixed_x: bool = True,
    orthogonal: bool = False,
    std_lv: bool = False,
    ordered=None,
    parameterization: str = "delta",
    id_cat: str = "lavaan",
) -> FitResult:
    """Fit a lavaan-syntax model by maximum likelihood and compute lavaan's statistics.

    Parameters
    ----------
    syntax : str or pandas.DataFrame
        lavaan model syntax (``=~``, ``~``, ``~~``, ``~1``, ``:=``, labels, fixed values), or a
        parameter table as :func:`riskmodel_sem.sem.syntax.build_partable` makes it (possibly
        edited, e.g. by :func:`riskmodel_sem.sem.comparison.release_parameters`): its ``free``
        column then carries every constraint and ``group_equal`` is not used.
    data : pandas.DataFrame
        Numeric columns named as the model's observed variables (extra columns are ignored).
    estimator : {"ML", "MLR", "WLSMV", "ULSMV", "DWLS", "ULS"}, optional
        ``"ML"`` (the default without ordered variables): expected-information SEs and the
        likelihood-ratio test (lavaan's ``sem()`` default). The last four treat ordered
        variables as lavaan's categorical approach does (:func:`fit_ordinal`); ``"WLSMV"``
        is the default when ``ordered`` is given.
    missing : {"listwise", "fiml", "pairwise"}
        How rows with missing answers are handled (``"pairwise"`` only with ordered data).
    group : str, optional
        Column defining groups for a multi-group fit.
    group_equal : tuple of str
        lavaan's ``group.equal``: any of ``GROUP_EQUAL_KINDS`` (loadings, intercepts, means,
        residuals, residual.covariances, lv.variances, lv.covariances, regressions).
        Parameters with a user label keep it (lavaan: a label wins over ``group.equal``).
    group_partial : tuple
        lavaan's ``group.partial``: parameters exempt from ``group_equal``, as ``"F=~x2"``
        or ``(lhs, op, rhs)``; with ordered items also thresholds (``"x1|t2"``) and, under
        ``id_cat="Wu.Estabrook.2016"``, latent-response intercepts (``"x1~1"``).
    source : str
        Name of the model for messages.
    compute_modindices : bool
        Compute modification indices (the most expensive statistic for large models).
    meanstructure : bool
        lavaan's ``meanstructure = TRUE``: intercepts and latent means in the model. The mean
        structure is also on with FIML, with groups and whenever the syntax has ``~ 1``, as in
        lavaan.
    fixed_x : bool
        lavaan's ``fixed.x`` (default TRUE): observed exogenous covariates are fixed at their
        sample moments, and the log-likelihood and information criteria are conditional on
        them; ``False`` makes their variances, covariances and means free parameters.
    orthogonal : bool
        lavaan's ``orthogonal = TRUE``: the latent covariances that are free by default are
        fixed to zero.
    std_lv : bool
        lavaan's ``std.lv = TRUE``: every latent variable is scaled by fixing its (residual)
        variance to one instead of its first loading.
    ordered : True or sequence of str, optional
        Ordered (ordinal) observed variables, lavaan's ``ordered =``; True makes every
        observed variable ordered. With estimator WLSMV, ULSMV, DWLS or ULS and no
        ``ordered``, every observed variable is ordered.
    parameterization : {"delta", "theta"}
        lavaan's ``parameterization`` for ordered variables.
    id_cat : {"lavaan", "Wu.Estabrook.2016"}
        Identification of ordered multi-group models with equal thresholds (see
        :func:`fit_ordinal`).


    Returns
    -------
    FitResult

    Raises
    ------
    ModelError
        When the data cannot support the model (too few rows, non-positive-definite covariance,
        unknown variables, not identified).
    OptionError
        For an unknown estimator or missing-data method, or an unknown ``group_equal`` kind.

    Notes
    -----
    Point estimates, standard errors, ``fitMeasures``, ``parameterEstimates(standardized =
    TRUE)``, ``lavInspect(fit, "r2")`` and ``modindices`` match lavaan 0.6.14 (see the fidelity
    table in the README). Constraints written as ``==``, ``<`` and ``>`` rows hold at the
    estimates (:mod:`riskmodel_sem.sem.constraints`): linear equalities by reparametrization,
    others by SQP; SEs come from the information inverted on the null space of the equality
    and active inequality constraints (lavaan's ``lav_model_information_augment_invert``),
    ``npar`` and ``df`` count the rank of the equality constraints, and the constraint rows
    follow the estimates with lavaan's ``est`` (``remove.eq = FALSE, remove.ineq = FALSE``).

    Examples
    --------
    >>> res = fit_model("visual =~ x1 + x2 + x3", hs)  # doctest: +SKIP
    >>> round(res.fit["cfi"], 3)  # doctest: +SKIP
    1.0
    """
    estimator, ordered = resolve_estimator(estimator, ordered)
    estimator, missing = check_options(estimator, missing)
    if ordered is not None:
        if not fixed_x:
            # ordered data imply lavaan's conditional.x = TRUE
            raise OptionError(f"{source}: fixed.x = FALSE is not supported with ordered "
                              "variables (lavaan: \"fixed.x = FALSE is not supported when "
                              "conditional.x = TRUE\").")
        with one_blas_thread():
            return _fit_ordinal_data(syntax, data, estimator=estimator, missing=missing,
                                     group=group, group_equal=tuple(group_equal),
                                     source=source, ordered=ordered,
                                     parameterization=parameterization, id_cat=id_cat,
                                     group_partial=tuple(group_partial),
                                     std_lv=bool(std_lv), orthogonal=bool(orthogonal),
                                     compute_modindices=compute_modindices)
    group_equal = check_group_equal(group_equal)
    with one_blas_thread():
        return _fit(syntax, data, estimator=estimator, missing=missing, group=group,
                    group_equal=group_equal, group_partial=tuple(group_partial), source=source,
                    compute_modindices=compute_modindices, meanstructure=bool(meanstructure),
                    fixed_x=bool(fixed_x), orthogonal=bool(orthogonal), std_lv=bool(std_lv))


def resolve_estimator(estimator, ordered):
    """``(estimator, ordered)`` as lavaan resolves them: ordered variables without an
    estimator get WLSMV; WLSMV, ULSMV, DWLS or ULS without ``ordered`` make every observed
    variable ordered (``ordered = TRUE``); otherwise ML. ``ordered`` comes back as None
    (no ordered variables), True (all) or a tuple of names.

    Raises
    ------
    OptionError
        For ordered variables with ML or MLR.
    """
    if isinstance(ordered, str):
        ordered = True if ordered.strip().lower() == "all" else tuple(
            v.strip() for v in ordered.split(",") if v.strip())
    if ordered is False or (ordered is not None and ordered is not True and not len(ordered)):
        ordered = None
    if ordered is not None and ordered is not True:
        ordered = tuple(ordered)
    est = None if estimator is None else str(estimator).upper()
    if est is None:
        est = "WLSMV" if ordered is not None else "ML"
    if est in ORDINAL_ESTIMATORS:
        return est, (True if ordered is None else ordered)
    if ordered is not None:
        raise OptionError(f"Estimator {est} does not handle ordered variables; use WLSMV "
                          "(lavaan's default for ordered data), ULSMV, DWLS or ULS.")
    return est, None


def check_options(estimator, missing) -> tuple[str, str]:
    """Normalized ``(estimator, missing)``; OptionError for anything but ML/MLR (listwise or
    fiml) and WLSMV/ULSMV/DWLS/ULS (listwise or pairwise, as lavaan allows for ordered data)."""
    estimator, missing = str(estimator).upper(), str(missing).lower()
    if missing == "ml":
        missing = "fiml"
    if estimator not in ("ML", "MLR") + tuple(ORDINAL_ESTIMATORS):
        raise OptionError(f"Unknown estimator {estimator!r}; use ML, MLR, WLSMV, ULSMV, DWLS "
                          "or ULS.")
    if missing not in ("listwise", "fiml", "pairwise"):
        raise OptionError(f"Unknown missing-data method {missing!r}; use listwise, fiml or "
                          "pairwise.")
    if estimator not in ORDINAL_ESTIMATORS and missing == "pairwise":
        raise OptionError("missing = 'pairwise' (--missing pairwise) needs ordered variables "
                          "(estimator WLSMV, ULSMV, DWLS or ULS); use listwise or fiml.")
    if estimator in ORDINAL_ESTIMATORS and missing == "fiml":
        raise OptionError(f"Estimator {estimator} with missing data takes listwise or pairwise "
                          "deletion; lavaan's full-information ML for ordered data is not "
                          "supported.")
    return estimator, missing


def check_group_equal(group_equal) -> tuple[str, ...]:
    """``group_equal`` as a tuple of lavaan's ``group.equal`` kinds; OptionError naming an
    unknown kind (a single string such as ``"loadings,intercepts"`` is split at commas)."""
    if isinstance(group_equal, str):
        group_equal = [k for k in group_equal.replace(" ", "").split(",") if k]
    kinds = tuple(str(k).strip() for k in group_equal)
    unknown = [k for k in kinds if k not in GROUP_EQUAL_KINDS]
    if unknown:
        raise OptionError(f"Unknown group.equal kind(s) {', '.join(map(repr, unknown))}; use "
                          f"{', '.join(GROUP_EQUAL_KINDS)}.")
    return tuple(dict.fromkeys(kinds))


def _fit(syntax, data, *, estimator, missing, group, group_equal, source,
         compute_modindices, meanstructure=False, fixed_x=True, orthogonal=False,
         std_lv=False, group_partial=()):
    """ML, MLR, FIML and MLR-FIML fits: one objective (:class:`MLObjective`) on the data
    split by missing-data pattern, then lavaan's statistics."""
    robust_se = estimator == "MLR"
    notes: list[str] = []
    if missing == "listwise":
        model, moments, values, labels = prepare(syntax, data, group=group,
                                                 group_equal=group_equal,
                                                 meanstructure=meanstructure, fixed_x=fixed_x,
                                                 orthogonal=orthogonal, std_lv=std_lv,
                                                 source=source, group_partial=group_partial)
        groups = [group_data(v, None if model.meanstructure else m.mean)
                  for v, m in zip(values, moments)]
        objective = MLObjective(model, groups)
        theta0 = _start_values(model, moments)
        theta, iterations, converged, fmin2 = _estimate(objective, theta0, False, robust_se,
                                                        source)
        logl = unrestricted = None
        h1_moments = [(m.cov, m.mean) for m in moments]
    else:
        from .fiml import prepare_fiml

        model, moments, groups, h1_list, labels, notes = prepare_fiml(
            syntax, data, group, group_equal, source, fixed_x, orthogonal, std_lv,
            group_partial)
        objective = MLObjective(model, groups)
        theta0 = _start_values(model, moments)
        theta, iterations, converged, fmin2 = _estimate(objective, theta0, True, robust_se,
                                                        source)
        unrestricted = sum(h[2] for h in h1_list)
        logl = unrestricted - objective.n * fmin2 / 2.0
        h1_moments = [(h[0], h[1]) for h in h1_list]
    total = objective.n
    G = len(groups)
    fit_moments = [SampleMoments(n=gd.n, mean=m, cov=s)
                   for gd, (s, m) in zip(groups, h1_moments)]

    # the baseline (independence) model, fitted in closed form
    base = baseline_model(model, fit_moments)
    theta_b = baseline_estimates(base, [gd.values for gd in groups])
    base_objective = MLObjective(base, groups)
    b_chisq, b_df = total * base_objective.value(theta_b), n_moments(model) - base.n_free
    baseline = (float(b_chisq), int(b_df))
    cset = constraint_set(model)
    n_eq = n_equality(cset, theta)
    df = n_moments(model) - model.n_free + n_eq
    chisq = total * fmin2

    # with constraints, every information and the sandwich are taken on the null space of
    # the Jacobian of the equality and active inequality constraints, theta = theta^ + K a
    # (lavaan's lav_model_information_augment_invert)
    constrained = cset is not None
    K = active_basis(cset, theta)[0] if constrained else None
    se_objective = ReducedObjective(objective, K, theta) if constrained else objective
    at = np.zeros(K.shape[1]) if constrained else theta

    extra: dict = {}
    vcov = None
    if missing == "listwise" and not robust_se:
        info = se_objective.expected_information(at)
    else:  # MLR and FIML (their modules are imported only here)
        from .robust import (h1_quantities, robust_rmsea, sandwich, scaled_measures,
                             yuan_bentler_mplus)

        x_idx = [model.observed.index(v) for v in model.ov_x]
        h1 = h1_quantities(groups, h1_moments, x_idx)
        if robust_se:
            vcov, hess_inv, b0 = sandwich(se_objective, at)
            yb = yuan_bentler_mplus(chisq, df, h1, hess_inv, b0, _free_rows(model))
            _, hess_inv_b, b0_b = sandwich(base_objective, theta_b)
            yb_b = yuan_bentler_mplus(b_chisq, b_df, h1, hess_inv_b, b0_b, _free_rows(base))
            extra.update(scaled_measures(chisq, df, total, G, yb, b_chisq, b_df, yb_b))
            info = (se_objective.expected_information(at) if missing == "listwise"
                    else se_objective.observed_information(at))
        else:
            info = se_objective.observed_information(at)
            try:
                vcov = np.linalg.inv(info) / total
            except np.linalg.LinAlgError:
                vcov = np.full_like(info, np.nan)
        if missing == "fiml":
            from .fiml import fiml_corrected, gfi_missing

            fc = fiml_corrected(model, theta, base, theta_b, groups, h1, df, b_df,
                                "V3" if robust_se else "V6", basis=K)
            for k in [k for k in extra if k.endswith("_robust")]:
                del extra[k]
            rob = incremental_indices(fc["x3"], df, fc["x3_null"], b_df, fc["c3"],
                                      fc["c3_null"])
            extra.update({f"{k}_robust": v for k, v in rob.items()})
            extra.update(robust_rmsea(fc["x3"], df, total, G, fc["c3"]))
            extra.update(gfi_missing(model, theta, groups, df))
    if constrained:
        if vcov is None:
            vcov = _scaled_inverse(info) / total
        vcov = K @ vcov @ K.T
        # a parameter the active constraints determine has no sampling variance: SE 0 and no
        # z (lavaan's generalized inverse of the bordered information leaves rounding noise
        # there, printed as 0 or, when negative, NA)
        determined = np.linalg.norm(K, axis=1) < 1e-8
        vcov[determined, :] = 0.0
        vcov[:, determined] = 0.0

    for msg in notes:
        warnings.warn(msg, DataQualityWarning, stacklevel=3)
    return assemble(model, fit_moments, theta, info, fmin2, iterations, converged,
                    estimator=estimator, missing=missing, labels=labels, source=source,
                    compute_modindices=compute_modindices, vcov=vcov, test_extra=extra,
                    logl=logl, unrestricted_logl=unrestricted, baseline=baseline,
                    groups=groups if missing == "fiml" else None, notes=tuple(notes),
                    n_eq=n_eq, basis=K)


def _free_rows(model) -> int:
    """Number of free rows of the parameter table: lavaan's ``nx.free``, which counts every
    parameter held equal to another (by ``group.equal`` or a shared label) separately."""
    return int(np.count_nonzero(model.rows.free >= 0))


def _smallest_scaled_eigenvalue(info) -> float:
    """Smallest eigenvalue of the information in correlation form, D^-1 I D^-1 with
    D = sqrt(diag I): independent of the scales of the variables (and so of the parameters),
    unlike the eigenvalues of I itself. Zero when a parameter has no information at all."""
    if not info.size:
        return 1.0
    sym = (info + info.T) / 2
    d = np.diag(sym)
    if not np.all(d > 0):
        return 0.0
    return float(np.linalg.eigvalsh(sym / np.sqrt(np.outer(d, d))).min())


def assemble(model, moments, theta, info, fmin2, iterations, converged, *, estimator, missing,
             labels, source, compute_modindices, vcov=None, test_extra=None, logl=None,
             unrestricted_logl=None, baseline=None, groups=None, notes=(), n_eq=0,
             basis=None):
    """Build a FitResult from a converged parameter vector (shared by ML, MLR and FIML).

    ``groups`` (the data by missing-data pattern) make the modification indices FIML's;
    ``notes`` are earlier warnings to keep in the result. With ``==``/``<``/``>``
    constraints, ``info`` is the information on the null space ``basis`` (K) of the active
    constraints' Jacobian, ``vcov`` is given in theta, and ``n_eq`` is the rank of the
    equality constraints (lavaan's ``npar`` is q - n_eq)."""
    total_n = sum(m.n for m in moments)
    notes: list[str] = list(notes)
    if not converged:
        msg = f"{source}: the optimizer did not converge; estimates are not trustworthy."
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        notes.append(msg)
    smallest = _smallest_scaled_eigenvalue(info)
    singular = smallest < 1e-10
    if singular:
        # lavaan reports NA here too: standard errors of a model that is not (empirically)
        # identified are meaningless, however large they come out
        vcov = np.full_like(info, np.nan)
        msg = (f"{source}: the information matrix is singular (smallest eigenvalue "
               f"{smallest:.2e}); the model is probably not identified, so standard errors, "
               "z, p and confidence intervals are not reported.")
        warnings.warn(msg, IdentificationWarning, stacklevel=3)
        notes.append(msg)
    elif vcov is None:
        d = np.sqrt(np.diag(info))  # inverted in scaled form: variables may differ in scale
        vcov = np.linalg.inv(info / np.outer(d, d)) / np.outer(d, d) / total_n
    if singular and basis is not None:
        vcov = np.full((model.n_free, model.n_free), np.nan)
    estimates = _estimate_table(model, theta, vcov, labels)
    std = standardize.standardized_solution(model, theta, vcov, estimates)
    estimates = pd.concat([estimates, std], axis=1)
    heywood = standardize.heywood_cases(model, theta, estimates)
    if heywood:
        msg = f"{source}: Heywood case(s): {', '.join(heywood)}."
        warnings.warn(msg, HeywoodWarning, stacklevel=3)
        notes.append(msg)
    fit = fitmeasures.fit_measures(model, moments, theta, fmin2, estimator=estimator,
                                   extra=test_extra, logl=logl,
                                   unrestricted_logl=unrestricted_logl, baseline=baseline,
                                   n_eq=n_eq)
    r2 = standardize.r_squared(model, theta)
    if compute_modindices and singular:
        # lavaan's modindices() stops here ("information matrix is singular")
        notes.append(f"{source}: modification indices were not computed: the information "
                     "matrix is singular.")
    mi = (fitmeasures.modification_indices(model, moments, theta, groups, basis=basis)
          if compute_modindices and not singular
          else pd.DataFrame(columns=MODINDEX_COLUMNS[:3] + (["group"] if model.ngroups > 1
                                                             else []) + MODINDEX_COLUMNS[3:]))
    sigma = model.implied(theta, 0)[0]
    return FitResult(
        estimates=estimates,
        fit=fit,
        r2=r2,
        modindices=mi,
        n_obs=int(total_n),
        estimator=estimator,
        missing=missing,
        converged=bool(converged),
        iterations=int(iterations),
        syntax=model.syntax,
        observed=model.observed,
        latent=model.latent,
        implied_cov=pd.DataFrame(sigma, index=model.observed, columns=model.observed),
        sample_cov=pd.DataFrame(moments[0].cov, index=model.observed, columns=model.observed),
        group_labels=tuple(str(lab) for lab in labels),
        group_n=tuple(int(m.n) for m in moments),
        warnings=tuple(notes),
        heywood=tuple(heywood),
        model=model,
        theta=theta,
        vcov=vcov,
    )


def _estimate_table(model: CompiledModel, theta, vcov, labels) -> pd.DataFrame:
    """Parameter estimates with SEs, z, p and 95% Wald CIs; ``:=`` rows by the delta method;
    then the ``==``/``<``/``>`` rows with lavaan's ``est`` (lhs - rhs, or rhs - lhs for
    ``<``), SE 0 and no test, as ``parameterEstimates(..., remove.eq = FALSE, remove.ineq =
    FALSE)`` shows them.

    As lavaan's ``parameterEstimates``, an SE below sqrt(machine epsilon) is reported as 0 and
    gets no z, p (its CI collapses to the estimate)."""
    pt = model.partable
    rows = pt[pt["op"].isin(["=~", "~", "~~", "~1"])]
    se = np.zeros(len(rows))
    with np.errstate(invalid="ignore"):
        se_all = np.sqrt(np.clip(np.diag(vcov), 0, None))
    est = model.row_values(theta)
    free = model.rows.free
    se[free >= 0] = se_all[free[free >= 0]]
    table = pd.DataFrame({
        "lhs": rows["lhs"].to_numpy(), "op": rows["op"].to_numpy(),
        "rhs": rows["rhs"].to_numpy(), "label": rows["label"].to_numpy(),
        "est": est, "se": se,
    })
    if model.ngroups > 1:
        group = rows["group"].to_numpy().astype(int)
        table.insert(3, "group", group)
        names = np.array([str(lab) for lab in labels] if len(labels) == model.ngroups
                         else [str(g) for g in range(1, model.ngroups + 1)], dtype=object)
        table.insert(4, "group_label", names[group - 1])
    defined = defined_parameters(model, theta, vcov)
    if len(defined):
        if model.ngroups > 1:  # lavaan's parameterEstimates puts := rows in group 0
            defined = defined.assign(group=0, group_label="")
        table = pd.concat([table, defined], ignore_index=True)
    n_tested = len(table)
    cset = constraint_set(model)
    if cset is not None:
        cons = pt[pt["op"].isin(["==", "<", ">"])]
        table = pd.concat([table, pd.DataFrame({
            "lhs": cons["lhs"].to_numpy(), "op": cons["op"].to_numpy(),
            "rhs": cons["rhs"].to_numpy(), "label": "",
            "est": cset.row_values(cset.environment(theta)), "se": 0.0})],
            ignore_index=True)
        if model.ngroups > 1:
            table.loc[n_tested:, "group"] = 0  # lavaan's group of these rows
    free_mask = np.concatenate([rows["free"].to_numpy() > 0,
                                np.ones(n_tested - len(rows), bool),
                                np.zeros(len(table) - n_tested, bool)])
    se_col = table["se"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        se_col = np.where(se_col < math.sqrt(np.finfo(float).eps), 0.0, se_col)
    table["se"] = se_col
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(free_mask & (se_col > 0), table["est"].to_numpy() / se_col, np.nan)
    table["z"] = z
    table["pvalue"] = 2.0 * norm_sf(np.abs(z))
    crit = norm_ppf(0.975)
    table["ci_lower"] = table["est"] - crit * table["se"]
    table["ci_upper"] = table["est"] + crit * table["se"]
    return table


# ------------------------------------------------------------------------------------------
# a model fitted to population moments (power analysis)
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PopulationFit:
    """A model fitted by ML to a population covariance matrix.

    Attributes
    ----------
    model : CompiledModel
    theta : numpy.ndarray
        The (pseudo-)true parameter values: the minimizer of F_ML(Sigma_pop, Sigma(theta)).
    information : numpy.ndarray
        The unit expected information at ``theta``; ``inv(information) / N`` is the
        asymptotic covariance matrix of the estimates at sample size N.
    f_ml : float
        The ML discrepancy at the minimum (lavaan's ``2 * fmin``; 0 when the model holds in
        the population).
    df : int
        Degrees of freedom of the model.
    converged : bool
    """

    model: CompiledModel
    theta: np.ndarray
    information: np.ndarray
    f_ml: float
    df: int
    converged: bool

    def vcov(self, n: int) -> np.ndarray:
        """Asymptotic covariance matrix of the estimates at sample size ``n``."""
        return np.linalg.inv(self.information) / n


def fit_population(syntax, cov, observed, *, source: str = "model") -> PopulationFit:
    """Fit a model by ML to a population covariance matrix (no data, no mean structure).

    Parameters
    ----------
    syntax : str
        lavaan model syntax.
    cov : array_like
        Population covariance matrix of ``observed``.
    observed : sequence of str
        Names of the rows and columns of ``cov``.
    source : str
        Name of the model for messages.

    Returns
    -------
    PopulationFit

    Notes
    -----
    The estimates and the expected information equal lavaan's for
    ``sem(model, sample.cov = Sigma, sample.nobs = N, sample.cov.rescale = FALSE)``; the
    standard errors at N are ``sqrt(diag(inv(information)) / N)``, lavaan's expected-information
    SEs of that fit.
    """
    cov = np.asarray(cov, dtype=float)
    observed = tuple(observed)
    mom = SampleMoments(n=1, mean=np.zeros(len(observed)), cov=cov)
    with one_blas_thread():
        model = compile_source(syntax, observed, meanstructure=False, ngroups=1,
                               group_equal=(), moments=[mom], source=source)
        order = [observed.index(v) for v in model.observed]
        cov = cov[np.ix_(order, order)]
        mom = SampleMoments(n=1, mean=np.zeros(len(order)), cov=cov)
        objective = MLObjective(model, [moments_group(1, mom.mean, cov, meanstructure=False)])
        theta, _, converged, fmin2 = _optimize(objective, _start_values(model, [mom]))
        info = objective.expected_information(theta)
    df = n_moments(model) - model.n_free
    return PopulationFit(model, theta, info, float(fmin2), int(df), bool(converged))


@dataclass(frozen=True)
class Refit:
    """Estimates, standard errors and the model test of a compiled model refitted to new data.

    Attributes
    ----------
    theta, se : numpy.ndarray
        Free parameters and their standard errors (ML: expected information; MLR: sandwich).
    defined, defined_se : numpy.ndarray
        The ``:=`` parameters and their delta-method standard errors.
    chisq, pvalue : float
        The model test (MLR: the Yuan-Bentler scaled statistic, lavaan's ``chisq.scaled``).
    converged, admissible : bool
        Convergence, and lavaan's post.check (no negative variance).
    """

    theta: np.ndarray
    se: np.ndarray
    defined: np.ndarray
    defined_se: np.ndarray
    chisq: float
    pvalue: float
    converged: bool
    admissible: bool


def refit(model: CompiledModel, values: np.ndarray, theta0: np.ndarray, *,
          estimator: str = "ML") -> Refit:
    """Refit a compiled one-group model (no mean structure) to complete data, quickly.

    Parameters
    ----------
    model : CompiledModel
        The model, compiled once (for example :attr:`PopulationFit.model`).
    values : numpy.ndarray
        (n, p) complete data in the order of ``model.observed``.
    theta0 : numpy.ndarray
        Starting values (for example the population values).
    estimator : {"ML", "MLR"}

    Returns
    -------
    Refit

    Notes
    -----
    The same estimates, standard errors and test statistic as :func:`fit_model` with
    ``estimator`` on the same rows (Fisher scoring from ``theta0`` to max |gradient| < 1e-9),
    without parsing, pandas, fit indices, standardized values or modification indices: the
    work of one Monte Carlo replication.
    """
    estimator, _ = check_options(estimator, "listwise")
    with one_blas_thread():
        return _refit(model, values, theta0, estimator)


def _refit(model, values, theta0, estimator) -> Refit:
    from .defined import defined_jacobian, defined_values

    mom = sample_moments(values)
    group = group_data(values, mom.mean)
    objective = MLObjective(model, [group])
    theta, _, converged, fmin2 = _optimize(objective, np.asarray(theta0, dtype=float))
    n = values.shape[0]
    chisq = n * fmin2
    df = n_moments(model) - model.n_free
    try:
        if estimator == "MLR":
            from .robust import h1_quantities, sandwich, yuan_bentler_mplus

            polished = minimize(objective, theta, "newton", tol=2e-11, max_iter=3)
            theta = polished.theta
            chisq = n * polished.fun
            vcov, hess_inv, b0 = sandwich(objective, theta)
            x_idx = [model.observed.index(v) for v in model.ov_x]
            h1 = h1_quantities([group], [(mom.cov, mom.mean)], x_idx)
            yb = yuan_bentler_mplus(chisq, df, h1, hess_inv, b0, _free_rows(model))
            chisq = float(yb.get("chisq_scaled", math.nan))
        else:
            vcov = np.linalg.inv(objective.expected_information(theta)) / n
    except np.linalg.LinAlgError:
        vcov = np.full((model.n_free, model.n_free), np.nan)
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    if model.rows.definitions:
        defined = defined_values(model, theta)
        jac = defined_jacobian(model, theta)
        defined_se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0.0, None))
    else:
        defined = defined_se = np.zeros(0)
    pvalue = float(chi2_sf(chisq, df)) if df > 0 and math.isfinite(chisq) else math.nan
    A, S, _ = model.matrices(theta, 0)
    admissible = bool(np.all(np.diag(S) >= 0.0))
    return Refit(theta, se, defined, defined_se, float(chisq), pvalue, bool(converged),
                 admissible)


@dataclass(frozen=True)
class Estimates:
    """The estimates of a model and nothing else (see :func:`fit_estimates`).

    Attributes
    ----------
    model : CompiledModel
    theta : numpy.ndarray
        The free parameters at the minimum.
    f_ml : float
        The ML discrepancy there (lavaan's ``2 * fmin``; FIML: the casewise discrepancy).
    converged : bool
    iterations : int
    """

    model: CompiledModel
    theta: np.ndarray
    f_ml: float
    converged: bool
    iterations: int

    @property
    def r2(self) -> dict:
        """R-squared of every endogenous variable, as :attr:`FitResult.r2`."""
        return standardize.r_squared(self.model, self.theta)


def fit_estimates(syntax: str | pd.DataFrame, data: pd.DataFrame, *, missing: str = "listwise",
                  start: np.ndarray | None = None, source: str = "model") -> Estimates:
    """Estimate a one-group ML model without any statistic (no standard errors, tests, fit
    indices, standardized values or modification indices).

    Parameters
    ----------
    syntax : str or pandas.DataFrame
        lavaan model syntax or a parameter table, as for :func:`fit_model`.
    data : pandas.DataFrame
    missing : {"listwise", "fiml"}
    start : numpy.ndarray, optional
        Starting values of the free parameters (for a model refitted with a small change, the
        estimates of the model it was derived from); lavaan-like starts when omitted.
    source : str
        Name of the model for messages.

    Returns
    -------
    Estimates

    Notes
    -----
    The minimization of :func:`fit_model` with ``estimator="ML"`` (Fisher scoring to
    max |gradient| < 1e-9; FIML polished by Newton steps; constraints honoured), so the
    estimates are ML's (and MLR's, which are ML's) to the optimizer's tolerance;
    lavaan's ``lavaan(..., se = "none", test = "none")``.
    """
    _, missing = check_options("ML", missing)
    with one_blas_thread():
        model, moments, groups = _estimation_data(syntax, data, missing, source)
        return _estimates_only(model, moments, groups, start, missing == "fiml", source)


def fix_parameter(partable: pd.DataFrame, row, value: float = 0.0):
    """The parameter table with one free row fixed at ``value``.

    Parameters
    ----------
    partable : pandas.DataFrame
        A parameter table (``CompiledModel.partable``); not modified.
    row
        Index label of a free row.
    value : float

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray)
        The new table, whose remaining free parameters are numbered 1, 2, ... in the order of
        their old numbers, and those old numbers (``theta[kept - 1]`` carries estimates of
        the old table over to the new one).
    """
    free = partable["free"].to_numpy().copy()
    free[partable.index.get_loc(row)] = 0
    kept = np.array(sorted({int(f) for f in free if f > 0}), dtype=int)
    number = {f: k + 1 for k, f in enumerate(kept.tolist())}
    table = partable.copy()
    table["free"] = [number.get(int(f), 0) for f in free]
    table.loc[row, "ustart"] = value
    return table, kept


def refit_without(fit: FitResult, data: pd.DataFrame, rows, *,
                  source: str = "restricted model") -> list:
    """Estimates of a fitted one-group ML or MLR model without each of some of its free
    parameters (fixed at zero), one model per parameter, on the data of the fit.

    Parameters
    ----------
    fit : FitResult
        A single-group fit with estimator ML or MLR (listwise or FIML).
    data : pandas.DataFrame
        The rows the model was fitted to.
    rows : sequence
        Index labels of free rows of ``fit.model.partable``. The model without row ``r`` is
        the parameter table with that row fixed at 0 and the remaining free parameters
        numbered 1, 2, ... in their order.
    source : str
        Name of the models for messages.

    Returns
    -------
    list of Estimates or None
        One per row: the :func:`fit_estimates` of the reduced table, started from
        ``fit.theta`` without the dropped parameter; None where that model cannot be compiled
        or estimated (``ModelError``, ``ValueError``, ``LinAlgError``).

    Raises
    ------
    ModelError
        When the fit holds no compiled model, or the data cannot support the models (they
        all share the data).

    Notes
    -----
    The reduced models have the same variables and differ from each other only in the row
    fixed at zero, so the data are selected and their moments (with FIML, also the EM
    estimates of the unrestricted model) computed once; each model is then compiled from its
    table and estimated. Each result equals ``fit_estimates(table, data, missing=fit.missing,
    start=...)`` for its table (Cohen's f2,
    :func:`riskmodel_sem.workflow.structural.effect_sizes`, uses them).
    """
    if fit.model is None or fit.theta is None:
        raise ModelError(f"{source}: the fit holds no compiled model; refit it with "
                         "fit_model().")
    _, missing = check_options("ML", fit.missing)
    reduced = []
    for idx in rows:
        table, kept = fix_parameter(fit.model.partable, idx)
        reduced.append((table, fit.theta[kept - 1]))
    out = []
    if not reduced:
        return out
    with one_blas_thread():
        model, moments, groups = _estimation_data(reduced[0][0], data, missing, source)
        for k, (table, start) in enumerate(reduced):
            try:
                if k:  # the same variables and rows as the first: only the table differs
                    model = compile_source(table, model.observed,
                                           meanstructure=model.meanstructure, ngroups=1,
                                           group_equal=(), moments=moments, source=source)
                out.append(_estimates_only(model, moments, groups, start, missing == "fiml",
                                           source))
            except (ModelError, ValueError, np.linalg.LinAlgError):
                out.append(None)
    return out


def _estimation_data(syntax, data, missing, source):
    """``(model, moments, groups)`` of a one-group ML fit: the model compiled for the data's
    variables, the sample moments (FIML: the EM moments) and the objective's data."""
    if missing == "listwise":
        model, moments, values, _ = prepare(syntax, data, source=source)
        groups = [group_data(v, None if model.meanstructure else m.mean)
                  for v, m in zip(values, moments)]
    else:
        from .fiml import prepare_fiml

        model, moments, groups, _, _, _ = prepare_fiml(syntax, data, None, (), source)
    return model, moments, groups


def _estimates_only(model, moments, groups, start, fiml: bool, source) -> Estimates:
    """Minimize the ML objective of ``model`` on ``groups`` from ``start`` (lavaan-like
    starts when None) and return the :class:`Estimates`."""
    objective = MLObjective(model, groups)
    theta0 = _start_values(model, moments) if start is None else np.asarray(start, float)
    if theta0.shape != (model.n_free,):
        raise ValueError(f"{source}: {theta0.size} starting values for {model.n_free} free "
                         "parameters.")
    theta, iterations, converged, fmin2 = _estimate(objective, theta0, fiml, False, source)
    return Estimates(model, theta, float(fmin2), bool(converged), int(iterations))


# ------------------------------------------------------------------------------------------
# ordered indicators: DWLS / ULS on thresholds and polychoric correlations
# ------------------------------------------------------------------------------------------

def fit_ordinal(syntax: str | pd.DataFrame, stats, *, estimator: str = "WLSMV", parameterization: str = "delta",
                group_equal: tuple[str, ...] = (), labels: tuple[str, ...] = (),
                source: str = "model", missing: str = "listwise",
                id_cat: str = "lavaan", group_partial: tuple = (), std_lv: bool = False,
                orthogonal: bool = False, compute_modindices: bool = True) -> FitResult:
    """Fit a model with ordered indicators to their sample statistics, as lavaan 0.6.14.

    Parameters
    ----------
    syntax : str or pandas.DataFrame
        lavaan model syntax, or a complete parameter table of a model with ordered
        indicators (``FitResult.model.partable``, threshold and scaling rows included),
        possibly with rows made equal (:func:`riskmodel_sem.sem.multigroup.equate_parameters`);
        a table is fitted as it is: ``group_equal``, ``group_partial``, ``id_cat``, ``std_lv``
        and ``orthogonal`` are already in it.
    stats : sequence of OrdinalStats
        One per group (:func:`riskmodel_sem.sem.polychoric.ordinal_stats`): n, names,
        ordered, thresholds, th_index, correlations, wls_obs and gamma.
    estimator : {"WLSMV", "ULSMV", "DWLS", "ULS"}
        WLSMV: DWLS estimates, robust (sandwich) SEs and the scaled-shifted test; ULSMV the
        same with the unweighted discrepancy; DWLS and ULS with standard SEs and test.
    parameterization : {"delta", "theta"}
    group_equal : tuple of str
        lavaan's ``group.equal``, with ``"thresholds"``.
    labels : tuple of str
        Group labels.
    id_cat : {"lavaan", "Wu.Estabrook.2016"}
        Identification of multi-group models with equal thresholds: lavaan's (latent means
        free) or Wu & Estabrook's (latent-response intercepts free until the intercepts are
        equal), as ``semTools::measEq.syntax(ID.cat = )``; see
        :func:`riskmodel_sem.sem.categorical.ordinal_partable`.
    group_partial : tuple
        lavaan's ``group.partial``: parameters (``"x1|t2"``, ``"visual=~x2"``, ``"x3~1"``)
        exempt from ``group_equal``.
    std_lv, orthogonal : bool
        lavaan's ``std.lv`` and ``orthogonal``.
    compute_modindices : bool
        Compute the modification indices (lavaan's ``modindices``).

    Returns
    -------
    FitResult
        Estimates with threshold rows (op ``|``, rhs ``t1``...) and scaling rows (op
        ``~*~``), lavaan's fitMeasures for these estimators, R-squared of the latent
        responses.

    Notes
    -----
    Estimates minimize lavaan's DWLS/ULS discrepancy
    (:class:`riskmodel_sem.sem.categorical.CategoricalObjective`); robust SEs are lavaan's
    ``robust.sem`` sandwich E^-1 Delta' W Gamma W Delta E^-1 / N; the scaled-shifted test is
    Asparouhov & Muthen's (2010) as ``lav_test_satorra_bentler``; the robust CFI/TLI/RMSEA
    follow Savalei (2021) as ``lav_fit_catml_dwls``. Matches ``cfa(..., ordered = ...,
    estimator = "WLSMV")`` and ``parameterEstimates``, ``fitMeasures``,
    ``lavInspect(fit, "r2")``.
    """
    from . import categorical as cat
    from .model import compile_partable
    from .robust import robust_rmsea
    from .syntax import build_partable, parse_syntax, variable_roles

    estimator, parameterization = cat.check_ordinal_options(estimator, parameterization)
    weight, se_kind, test_kind = cat.ORDINAL_ESTIMATORS[estimator]
    stats = list(stats)
    G = len(stats)
    names = tuple(stats[0].names)
    exo = tuple(getattr(stats[0], "exo_names", ()))
    if isinstance(syntax, pd.DataFrame):
        table = syntax
        syntax = ""
        model_observed, model_x = model_variables(table, source)
        roles = SimpleNamespace(observed=model_observed, ov_x=model_x, latent=tuple(
            dict.fromkeys(table.loc[table["op"] == "=~", "lhs"])))
    else:
        table = None
        roles = variable_roles(parse_syntax(syntax, source))
    missing_vars = [v for v in roles.observed if v not in names + exo]
    if missing_vars:
        raise ModelError(f"{source}: variable(s) {', '.join(missing_vars)} of the model are "
                         "not in the data.")
    if tuple(v for v in roles.ov_x if v not in names) != exo:
        raise OptionError(f"{source}: exogenous observed covariates ({', '.join(roles.ov_x)}) "
                          "with ordered data need their sample statistics conditional on "
                          "them (lavaan's conditional.x = TRUE); conditional.x = FALSE with "
                          "ordered items and covariates is not supported.")
    observed = tuple(v for v in names if v in set(roles.observed))
    if observed != names:
        raise ModelError(f"{source}: the sample statistics must hold exactly the model's "
                         "observed variables, in data order.")
    ordered = tuple(v for v, o in zip(names, stats[0].ordered) if o)
    n_th = {}
    for v in ordered:
        i = names.index(v)
        n_th[v] = sum(1 for vi, _ in stats[0].th_index if vi == i)
    if table is not None:
        pt = table
    else:
        base_equal = tuple(e for e in group_equal if e != "thresholds")
        pt = build_partable(parse_syntax(syntax, source), meanstructure=True, ngroups=G,
                            group_equal=base_equal, group_partial=tuple(group_partial),
                            std_lv=std_lv, orthogonal=orthogonal, source=source)
        pt = cat.ordinal_partable(pt, observed + exo, ordered, n_th, parameterization,
                                  tuple(group_equal), id_cat, group_partial=tuple(group_partial))
    moments = [_stats_moments(s) for s in stats]
    model = compile_partable(pt, observed + exo, roles.latent, ngroups=G, meanstructure=True,
                             moments=moments if exo else None, syntax=syntax, ov_x=exo,
                             source=source)
    layouts = cat.layout_for(model, ordered, parameterization, exo)
    objective = cat.CategoricalObjective(model, layouts, stats, weight, parameterization)
    theta0 = _start_values(model, moments)
    theta0 = _ordinal_starts(model, theta0, stats, layouts)
    res = minimize(objective, theta0, "scoring", tol=1e-10, max_iter=500)
    theta, converged, iterations, fmin2 = res.theta, res.converged, res.iterations, res.fun
    N = objective.n
    info = objective.unit_information(theta)
    try:
        e_inv = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        e_inv = np.full_like(info, np.nan)
    # lavaan divides by N - G for these estimators (lav_model_vcov)
    vcov = (cat.robust_vcov(objective, theta, e_inv) if se_kind == "robust.sem"
            else e_inv / (N - G))
    q = model.n_free
    n_stats = sum(lay.size for lay in layouts)
    df = n_stats - q
    chisq = N * fmin2
    # baseline: thresholds (means, variances) free, correlations zero
    b_chisq = 0.0
    for g, lay in enumerate(layouts):
        m = lay.n_univariate
        s = objective.obs[g][m:]
        b_chisq += (int(stats[g].n) - 1) * float(s @ (objective.W[g][m:] * s))
    b_deltas, b_q = cat.baseline_jacobian(layouts)
    b_df = n_stats - b_q
    # lavaan gives no p-value for ULS (reference distribution unknown)
    uls = weight == "ULS"
    fit = {"npar": q, "fmin": fmin2 / 2.0, "chisq": chisq, "df": df,
           "pvalue": float(chi2_sf(chisq, df)) if df > 0 and not uls else math.nan}
    scaled = b_scaled = None
    if test_kind == "scaled.shifted":
        scaled = cat.scaled_shifted(chisq, df, cat.ugamma(objective, theta, e_inv))
        b_info = sum(w * (D.T * W) @ D for w, D, W in zip(objective.weights, b_deltas,
                                                         objective.W))
        b_scaled = cat.scaled_shifted(b_chisq, b_df, cat.ugamma(objective, theta,
                                                                 np.linalg.inv(b_info),
                                                                 b_deltas))
        fit.update({"chisq_scaled": scaled["stat"], "df_scaled": df,
                    "pvalue_scaled": scaled["pvalue"],
                    "chisq_scaling_factor": scaled["scaling"]})
    fit.update({"baseline_chisq": b_chisq, "baseline_df": b_df,
                "baseline_pvalue": float(chi2_sf(b_chisq, b_df)) if not uls else math.nan})
    if scaled is not None:
        fit.update({"baseline_chisq_scaled": b_scaled["stat"], "baseline_df_scaled": b_df,
                    "baseline_pvalue_scaled": b_scaled["pvalue"],
                    "baseline_chisq_scaling_factor": b_scaled["scaling"]})
    inc = incremental_indices(chisq, df, b_chisq, b_df)
    fit.update({k: inc[k] for k in ("cfi", "tli")})
    catml = None
    if scaled is not None:
        inc_s = incremental_indices(scaled["stat"], df, b_scaled["stat"], b_df)
        fit.update({"cfi_scaled": inc_s["cfi"], "tli_scaled": inc_s["tli"]})
        catml = cat.catml_quantities(objective, theta, e_inv, df)
        if catml is not None:
            rob = incremental_indices(catml["xx3"], df, catml["xx3_null"], b_df,
                                      catml["c_hat3"], catml["c_hat3_null"])
        else:
            rob = {k: math.nan for k in ("cfi", "tli", "nnfi", "rni")}
        fit.update({"cfi_robust": rob["cfi"], "tli_robust": rob["tli"]})
    if df > b_df:
        # lavaan's lav_fit_nfi and lav_fit_rfi give NA when the model has more degrees of
        # freedom than the baseline (equal thresholds across groups)
        inc.update(nfi=math.nan, rfi=math.nan)
        if scaled is not None:
            inc_s.update(nfi=math.nan, rfi=math.nan)
    fit.update({k: inc[k] for k in ("nnfi", "rfi", "nfi", "pnfi", "ifi", "rni")})
    if scaled is not None:
        fit.update({f"{k}_scaled": inc_s[k]
                    for k in ("nnfi", "rfi", "nfi", "pnfi", "ifi", "rni")})
        fit.update({"nnfi_robust": rob["nnfi"], "rni_robust": rob["rni"]})
    # lavaan's N of the RMSEA, CN and MFI is N - G for these estimators
    # (lav_utils_get_ntotal)
    Nr = N - G
    fit.update(rmsea_measures(chisq, df, Nr, G))
    if scaled is not None:
        rs = rmsea_measures(scaled["stat"], df, Nr, G)
        for k in ("rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue",
                  "rmsea_notclose_pvalue"):
            fit[f"{k}_scaled"] = rs[k]
        if catml is not None:
            fit.update(robust_rmsea(catml["xx3"], catml["df3"], Nr, G, catml["c_hat3"]))
        else:
            fit.update(robust_rmsea(math.nan, df, Nr, G, math.nan))
    fit.update(cat.residual_measures(objective, theta))
    fit["cn_05"] = hoelter_cn(chisq, df, Nr, 0.05)
    fit["cn_01"] = hoelter_cn(chisq, df, Nr, 0.01)
    fit.update(cat.gfi_measures(objective, theta, df, q))
    fit["mfi"] = math.exp(-0.5 * (chisq - df) / Nr)
    # the reporting model: residual variances of the ordered y* at their implied values
    report = _ordinal_report_model(model, objective, theta, layouts, parameterization,
                                   moments if exo else None)
    estimates = _ordinal_estimates(model, report, objective, theta, vcov, layouts, labels)
    r2 = standardize.r_squared(report, theta)
    mi = (cat.modification_indices(model, report, objective, theta, ordered, parameterization,
                                   exo, moments if exo else None)
          if compute_modindices else pd.DataFrame(
              columns=MODINDEX_COLUMNS[:3] + (["group"] if G > 1 else [])
              + MODINDEX_COLUMNS[3:]))
    notes: list[str] = []
    if not converged:
        msg = f"{source}: the optimizer did not converge; estimates are not trustworthy."
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
        notes.append(msg)
    heywood = standardize.heywood_cases(report, theta, estimates)
    if heywood:
        msg = f"{source}: Heywood case(s): {', '.join(heywood)}."
        warnings.warn(msg, HeywoodWarning, stacklevel=2)
        notes.append(msg)
    sigma = objective.implied(theta, 0)[1]
    p = len(observed)
    return FitResult(
        estimates=estimates, fit=fit, r2=r2, modindices=mi,
        n_obs=int(N), estimator=estimator, missing=missing, converged=bool(converged),
        iterations=int(iterations), syntax=syntax, observed=observed + exo,
        latent=model.latent,
        implied_cov=pd.DataFrame(sigma, index=observed, columns=observed),
        sample_cov=pd.DataFrame(moments[0].cov[:p, :p], index=observed, columns=observed),
        group_labels=tuple(labels), group_n=tuple(int(s.n) for s in stats),
        warnings=tuple(notes), heywood=tuple(heywood),
        model=report, theta=theta, vcov=vcov, ordinal=objective)


def _fit_ordinal_data(syntax, data, *, estimator, missing, group, group_equal, source,
                      ordered, parameterization, id_cat="lavaan", group_partial=(),
                      std_lv=False, orthogonal=False, compute_modindices=True) -> FitResult:
    """Sample statistics of the ordered data per group
    (:func:`riskmodel_sem.sem.polychoric.ordinal_stats`; with observed exogenous covariates
    :func:`riskmodel_sem.sem.polychoric.conditional_stats`, lavaan's default
    ``conditional.x = TRUE``), then :func:`fit_ordinal`."""
    from .polychoric import conditional_stats, ordinal_stats
    from .syntax import parse_syntax, variable_roles

    names_ordered = (model_variables(syntax, source)[0] if ordered is True
                     else [ordered] if isinstance(ordered, str) else list(ordered))
    data = code_ordered_text(data, names_ordered, source)
    ov_x, observed, values, groups = model_data(syntax, data, group, source)
    if isinstance(syntax, pd.DataFrame):
        exo = tuple(v for v in ov_x if v in observed)
    else:
        exo = tuple(v for v in variable_roles(parse_syntax(syntax, source)).ov_x
                    if v in observed)
    if ordered is True:
        is_ord = [v not in exo for v in observed]
    else:
        names = [ordered] if isinstance(ordered, str) else list(ordered)
        unknown = [v for v in names if v not in observed]
        if unknown:
            raise OptionError(f"{source}: ordered variable(s) {', '.join(unknown)} are not "
                              "observed variables of the model.")
        ord_x = [v for v in names if v in exo]
        if ord_x:
            # lavaan: "exogenous variable(s) declared as ordered in data", then numeric
            warnings.warn(f"{source}: exogenous variable(s) declared as ordered: "
                          f"{', '.join(ord_x)}; they are used as numeric covariates, as "
                          "lavaan does.", DataQualityWarning, stacklevel=3)
        is_ord = [v in names and v not in exo for v in observed]
    levels = [np.unique(values[:, j][~np.isnan(values[:, j])]) if o else None
              for j, o in enumerate(is_ord)]
    if exo and missing != "listwise":
        raise OptionError(f"{source}: missing = \"{missing}\" with ordered variables and "
                          f"observed covariates ({', '.join(exo)}, lavaan's conditional.x) is "
                          "not supported; use listwise deletion.")
    keep = ~np.isnan(values).all(axis=1)
    if missing == "listwise":
        keep = ~np.isnan(values).any(axis=1)
    labels, idx = split_groups(keep, groups)
    if exo:
        y = [j for j, v in enumerate(observed) if v not in exo]
        x = [observed.index(v) for v in exo]
        ynames = [observed[j] for j in y]
        stats = [conditional_stats(values[rows][:, y], ynames, [is_ord[j] for j in y],
                                   values[rows][:, x], exo, levels=[levels[j] for j in y],
                                   group=lab)
                 for lab, rows in zip(labels or (None,), idx)]
    else:
        stats = [ordinal_stats(values[rows], observed, is_ord, missing=missing, levels=levels,
                               group=lab)
                 for lab, rows in zip(labels or (None,), idx)]
    return fit_ordinal(syntax, stats, estimator=estimator, parameterization=parameterization,
                       group_equal=group_equal, labels=labels, source=source, missing=missing,
                       id_cat=id_cat, group_partial=group_partial, std_lv=std_lv,
                       orthogonal=orthogonal, compute_modindices=compute_modindices)


def _stats_cov(s) -> np.ndarray:
    """Covariance matrix of the latent responses from ordinal statistics: correlations scaled
    by the standard deviations of the continuous variables."""
    sd = np.sqrt(np.asarray(s.variances, float))
    return np.asarray(s.correlations, float) * np.outer(sd, sd)


def _stats_moments(s) -> SampleMoments:
    """Moments of (latent responses, covariates) from ordinal statistics, for starting
    values and the fixed.x rows: the responses' (residual) covariances and means (0 for
    ordered ones), the covariates' sample means and covariances (divisor n), no cross
    covariances."""
    mean = np.where(np.asarray(s.ordered), 0.0, np.asarray(s.means, float))
    cov = _stats_cov(s)
    if not getattr(s, "exo_names", ()):
        return SampleMoments(n=int(s.n), mean=mean, cov=cov)
    p, k = cov.shape[0], len(s.exo_names)
    full = np.zeros((p + k, p + k))
    full[:p, :p] = cov
    full[p:, p:] = s.exo_cov
    return SampleMoments(n=int(s.n), mean=np.concatenate([mean, s.exo_mean]), cov=full)


def _ordinal_starts(model, theta0, stats, layouts):
    """Thresholds start at their sample values, free scaling factors at 1."""
    theta = theta0.copy()
    for s, lay in zip(stats, layouts):
        th = np.asarray(s.thresholds, float)
        k = 0
        # the threshold entries of the layout are in the statistics' order
        ordered_entries = np.flatnonzero(lay.ordered[lay.th_var])
        for pos, par in zip(ordered_entries, lay.th_par[ordered_entries]):
            if par >= 0:
                theta[par] = th[k]
            k += 1
        free_delta = lay.delta_par[lay.delta_par >= 0]
        theta[free_delta] = 1.0
    return theta


def _ordinal_report_model(model, objective, theta, layouts, parameterization, moments=None):
    """The compiled model with the fixed residual variances of the ordered latent responses
    set to their implied values (delta: 1/d^2 minus the explained variance), so that
    standardized values and R-squared come out as lavaan reports them."""
    from .model import compile_partable

    if parameterization != "delta":
        return model
    pt = model.partable.copy()
    where = {(lhs, int(g)): k for k, (op, lhs, rhs, g) in enumerate(zip(
        pt["op"].tolist(), pt["lhs"].tolist(), pt["rhs"].tolist(), pt["group"].tolist()))
        if op == "~~" and lhs == rhs}
    ustart = pt["ustart"].to_numpy(dtype=float).copy()
    for g, lay in enumerate(layouts):
        # the variance of y* (given the covariates with conditional.x) the model explains
        sigma0, _, _ = objective.reduced_form(theta, g)
        d = objective.scaling_factors(theta, g)
        pos = np.arange(len(lay.ordered)) if lay.y_idx is None else lay.y_idx
        for i in np.flatnonzero(lay.ordered):
            k = where[(model.observed[pos[i]], g + 1)]
            explained = sigma0[i, i] - ustart[k]
            ustart[k] = 1.0 / d[pos[i]] ** 2 - explained
    pt["ustart"] = ustart
    return compile_partable(pt, model.observed, model.latent, ngroups=model.ngroups,
                            meanstructure=True, syntax=model.syntax, ov_x=model.ov_x,
                            moments=moments)


def _ordinal_residual_variances(model, objective, layouts):
    """The residual variances of the ordered y* in the delta parameterization as functions
    of the parameters, 1/Delta_i^2 minus the variance the model explains (given the
    covariates with conditional.x), for a batch of parameter vectors: the function
    :func:`riskmodel_sem.sem.standardize.standardized_solution` differentiates."""
    pt = model.partable
    fixed = {(lhs, int(g)): float(u) for op, lhs, rhs, g, u in zip(
        pt["op"], pt["lhs"], pt["rhs"], pt["group"], pt["ustart"]) if op == "~~" and lhs == rhs}

    def variances(thetas):
        out = {}
        for g, lay in enumerate(layouts):
            pos = np.arange(len(lay.ordered)) if lay.y_idx is None else lay.y_idx
            o = np.flatnonzero(lay.ordered)
            base = np.array([fixed[(model.observed[pos[i]], g + 1)] for i in o])
            vals = np.empty((len(thetas), len(o)))
            for b, th in enumerate(thetas):
                sigma0, _, _ = objective.reduced_form(th, g)
                d = objective.scaling_factors(th, g)
                vals[b] = 1.0 / d[pos[o]] ** 2 - (np.diag(sigma0)[o] - base)
            out[g] = (pos[o], vals)
        return out
    return variances


def _ordinal_estimates(model, report, objective, theta, vcov, layouts, labels):
    """parameterEstimates rows in lavaan's order, with threshold and scaling rows."""
    pt = model.partable
    rows = pt[~pt["op"].isin([":=", "==", "<", ">"])]
    core = _estimate_table(report, theta, vcov, labels)
    std = standardize.standardized_solution(
        report, theta, vcov, core,
        _ordinal_residual_variances(model, objective, layouts) if report is not model else None)
    core = pd.concat([core, std], axis=1)
    n_core = int((rows["op"].isin(["=~", "~", "~~", "~1"])).sum())
    core_rows, defined_rows = core.iloc[:n_core], core.iloc[n_core:]
    key = ["lhs", "op", "rhs"] + (["group"] if model.ngroups > 1 else [])
    core_idx = {tuple(r): i for i, r in enumerate(core_rows[key].itertuples(index=False))}
    se_all = np.sqrt(np.clip(np.diag(vcov), 0, None))
    out = []
    crit = norm_ppf(0.975)
    deltas = [objective.scaling_factors(theta, g) for g in range(model.ngroups)]
    # the standard deviation of each y* in the reporting model (with covariates: including
    # the variance they explain), which standardizes the thresholds
    sds = [np.sqrt(np.diag(report.implied(theta, g)[0])) for g in range(model.ngroups)]
    position = {v: i for i, v in enumerate(model.observed)}
    core_records = core_rows.to_dict("records")
    for r in rows.itertuples(index=False):
        k = (r.lhs, r.op, r.rhs) + ((int(r.group),) if model.ngroups > 1 else ())
        if r.op in ("=~", "~", "~~", "~1"):
            out.append(core_records[core_idx[k]])
            continue
        g = int(r.group) - 1
        f = int(r.free)
        d = deltas[g][position[r.lhs]]
        if r.op == "|":
            est = theta[f - 1] if f > 0 else float(r.ustart)
            # standardized by the sd of the latent response (1/d without covariates)
            std_lv, std_all = est, est / sds[g][position[r.lhs]]
        else:  # ~*~
            est = d
            std_lv, std_all = est, 1.0
        se = se_all[f - 1] if f > 0 else 0.0
        row = {"lhs": r.lhs, "op": r.op, "rhs": r.rhs, "label": r.label, "est": est,
               "se": se}
        if model.ngroups > 1:
            row["group"] = int(r.group)
        z = est / se if f > 0 and se > 0 else math.nan
        row.update(z=z, pvalue=2.0 * norm_sf(abs(z)) if f > 0 and se > 0 else math.nan,
                   ci_lower=est - crit * se, ci_upper=est + crit * se,
                   std_lv=std_lv, std_all=std_all, std_nox=std_all, se_std_all=math.nan)
        out.append(row)
    table = pd.DataFrame(out)
    if len(defined_rows):
        table = pd.concat([table, defined_rows], ignore_index=True)
    return table.reset_index(drop=True)
