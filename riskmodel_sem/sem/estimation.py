"""Maximum-likelihood estimation on the compiled model, with lavaan's statistics.

The discrepancy minimized is lavaan's normal-theory ML function (times two)

    F = sum_g (n_g / N) [log|Sigma_g| + tr(S_g Sigma_g^{-1}) - log|S_g| - p
                         + (ybar_g - mu_g)' Sigma_g^{-1} (ybar_g - mu_g)],

with S_g the covariance matrix with divisor n_g (``likelihood = "normal"``). It is minimized by
Fisher scoring with step halving, from lavaan-like starting values, until the largest gradient
element is below 1e-9, which is tighter than lavaan's nlminb defaults. Standard errors come
from the expected information, ``vcov = I(theta)^{-1} / N`` (lavaan's ``information =
"expected"``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy import stats

from ._blas import one_blas_thread
from .._json import json_value, records
from ..errors import (ConvergenceWarning, HeywoodWarning, IdentificationWarning, ModelError,
                     OptionError)
from .model import CompiledModel, SampleMoments, compile_model

__all__ = [
    "FitResult",
    "fit_model",
    "check_options",
    "model_data",
    "sample_moments",
    "ESTIMATE_COLUMNS",
    "MODINDEX_COLUMNS",
]

ESTIMATE_COLUMNS = ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower",
                    "ci_upper", "std_lv", "std_all"]
MODINDEX_COLUMNS = ["lhs", "op", "rhs", "mi", "epc", "sepc_all"]


@dataclass(frozen=True)
class FitResult:
    """Results of one fitted model (immutable; DataFrames are copies owned by the result).

    Attributes
    ----------
    estimates : pandas.DataFrame
        lavaan's ``parameterEstimates(fit, standardized = TRUE)`` with snake_case columns
        (``ESTIMATE_COLUMNS``, plus ``group`` for several groups, plus ``se_std_all``).
    fit : dict
        lavaan's ``fitMeasures`` with "." replaced by "_".
    r2 : dict
        R-squared of every endogenous variable (observed indicators and latent outcomes).
    modindices : pandas.DataFrame
        Modification indices (``MODINDEX_COLUMNS``), sorted decreasingly.
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
    warnings: tuple[str, ...] = ()
    heywood: tuple[str, ...] = ()
    model: CompiledModel | None = field(default=None, repr=False, compare=False)
    theta: np.ndarray | None = field(default=None, repr=False, compare=False)
    vcov: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """JSON-ready dictionary with the keys of DESIGN.md §3."""
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
        }


# ------------------------------------------------------------------------------------------
# sample moments
# ------------------------------------------------------------------------------------------

def sample_moments(values: np.ndarray) -> SampleMoments:
    """Mean and covariance (divisor n) of complete rows; raises ModelError if not positive
    definite."""
    n = values.shape[0]
    mean = values.mean(axis=0)
    centered = values - mean
    cov = centered.T @ centered / n
    return SampleMoments(n=n, mean=mean, cov=cov)


def _check_pd(cov: np.ndarray, names, what: str) -> None:
    eig = np.linalg.eigvalsh(cov)
    if eig.min() <= 1e-10 * max(eig.max(), 1.0):
        variances = np.diag(cov)
        zero = [names[i] for i in np.flatnonzero(variances <= 1e-12)]
        hint = (f" Item(s) without variance: {', '.join(zero)}." if zero else
                " Some items are linear combinations of others (duplicated or summed columns).")
        raise ModelError(f"The sample covariance matrix of {what} is not positive definite."
                         + hint)


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
# objective, gradient and information
# ------------------------------------------------------------------------------------------

def _group_terms(model: CompiledModel, theta, mom: SampleMoments, g: int):
    sigma, mu = model.implied(theta, g)
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    logdet = 2.0 * np.log(np.diag(chol)).sum()
    inv = np.linalg.inv(sigma)
    return sigma, mu, inv, logdet


def _discrepancy(model, theta, moments, logdet_s, with_grad=False):
    """F (as above) and optionally its gradient; None when Sigma is not positive definite."""
    total_n = sum(m.n for m in moments)
    f = 0.0
    grad = np.zeros(model.n_free) if with_grad else None
    p = len(model.observed)
    for g, mom in enumerate(moments):
        terms = _group_terms(model, theta, mom, g)
        if terms is None:
            return None
        sigma, mu, inv, logdet = terms
        w = mom.n / total_n
        fg = logdet + np.sum(mom.cov * inv) - logdet_s[g] - p
        d = mom.mean - mu
        if model.meanstructure:
            fg += d @ inv @ d
        f += w * fg
        if with_grad:
            dd = np.outer(d, d) if model.meanstructure else 0.0
            G = inv @ (sigma - mom.cov - dd) @ inv
            g_mu = -2.0 * inv @ d if model.meanstructure else None
            grad += w * model.gradient_matrices(theta, G, g_mu, g)
    return (f, grad) if with_grad else f


def _expected_information(model, theta, moments):
    """Unit expected information of the ML discrepancy, sum_g (n_g/N) I_g, with
    I_g[k, l] = 1/2 tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l) + dmu_k' Sigma^-1 dmu_l
    (see :meth:`CompiledModel.expected_information`)."""
    total_n = sum(m.n for m in moments)
    info = np.zeros((model.n_free, model.n_free))
    for g, mom in enumerate(moments):
        info += (mom.n / total_n) * model.expected_information(theta, g)
    return info


def _optimize(model, theta, moments, logdet_s, max_iter=500, tol=1e-9):
    """Fisher scoring with step halving. Returns (theta, iterations, converged, fmin)."""
    current = _discrepancy(model, theta, moments, logdet_s, with_grad=True)
    if current is None:
        raise ModelError("The starting values give a non-positive-definite implied covariance "
                         "matrix; give start values in the model syntax.")
    f, grad = current
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        info = _expected_information(model, theta, moments)
        try:
            step = -np.linalg.solve(2.0 * info, grad)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(2.0 * info, grad, rcond=None)[0]
        alpha = 1.0
        accepted = False
        for _ in range(40):
            trial = theta + alpha * step
            res = _discrepancy(model, trial, moments, logdet_s, with_grad=True)
            if res is not None and res[0] <= f + 1e-4 * alpha * float(grad @ step) + 1e-15:
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            # fall back to a gradient step when scoring fails (far from the optimum)
            trial = theta - 1e-3 * grad
            res = _discrepancy(model, trial, moments, logdet_s, with_grad=True)
            if res is None or res[0] > f:
                break
        theta, (f_new, grad) = trial, res
        small_change = abs(f - f_new) < 1e-15 * max(1.0, abs(f))
        f = f_new
        if np.max(np.abs(grad)) < tol or (small_change and np.max(np.abs(grad)) < 1e-6):
            converged = True
            break
    return theta, it, converged, f


# ------------------------------------------------------------------------------------------
# the public entry point
# ------------------------------------------------------------------------------------------

def fit_model(
    syntax: str,
    data: pd.DataFrame,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    group: str | None = None,
    group_equal: tuple[str, ...] = (),
    source: str = "model",
    compute_modindices: bool = True,
) -> FitResult:
    """Fit a lavaan-syntax model by maximum likelihood and compute lavaan's statistics.

    Parameters
    ----------
    syntax : str
        lavaan model syntax (``=~``, ``~``, ``~~``, ``~1``, ``:=``, labels, fixed values).
    data : pandas.DataFrame
        Numeric columns named as the model's observed variables (extra columns are ignored).
    estimator : {"ML", "MLR"}
        ``"ML"``: expected-information SEs and the likelihood-ratio test (lavaan's ``sem()``
        default).
    missing : {"listwise", "fiml"}
        How rows with missing answers are handled.
    group : str, optional
        Column defining groups for a multi-group fit.
    group_equal : tuple of str
        lavaan's ``group.equal``.
    source : str
        Name of the model for messages.
    compute_modindices : bool
        Compute modification indices (the most expensive statistic for large models).

    Returns
    -------
    FitResult

    Raises
    ------
    ModelError
        When the data cannot support the model (too few rows, non-positive-definite covariance,
        unknown variables, not identified).
    OptionError
        For an unknown estimator or missing-data method.

    Notes
    -----
    Point estimates, standard errors, ``fitMeasures``, ``parameterEstimates(standardized =
    TRUE)``, ``lavInspect(fit, "r2")`` and ``modindices`` match lavaan 0.6.14 (see the fidelity
    table in the README).

    Examples
    --------
    >>> res = fit_model("visual =~ x1 + x2 + x3", hs)  # doctest: +SKIP
    >>> round(res.fit["cfi"], 3)  # doctest: +SKIP
    1.0
    """
    estimator, missing = check_options(estimator, missing)
    with one_blas_thread():
        if estimator != "ML" or missing != "listwise":
            from . import robust  # MLR and FIML live in their own module
            return robust.fit_robust(syntax, data, estimator=estimator, missing=missing,
                                     group=group, group_equal=group_equal, source=source,
                                     compute_modindices=compute_modindices)
        return _fit_ml(syntax, data, group=group, group_equal=group_equal, source=source,
                       compute_modindices=compute_modindices)


def check_options(estimator, missing) -> tuple[str, str]:
    """Normalized ``(estimator, missing)``; OptionError for anything but ML/MLR and
    listwise/fiml."""
    estimator, missing = str(estimator).upper(), str(missing).lower()
    if estimator not in ("ML", "MLR"):
        raise OptionError(f"Unknown estimator {estimator!r}; use ML or MLR.")
    if missing not in ("listwise", "fiml"):
        raise OptionError(f"Unknown missing-data method {missing!r}; use listwise or fiml.")
    return estimator, missing


def model_data(syntax, data, group=None, source="model"):
    """The model's observed variables as a float array, in lavaan's order (first appearance in
    the syntax), with the group column's values as strings (rows without a group dropped).

    Returns ``(roles, observed, values, groups)``; ``groups`` is None without a group column.
    """
    from .syntax import parse_syntax, variable_roles

    roles = variable_roles(parse_syntax(syntax, source))
    missing_cols = [v for v in roles.observed if v not in data.columns]
    if missing_cols:
        raise ModelError(f"{source}: the data have no column(s) {', '.join(missing_cols)}.")
    observed = list(roles.observed)
    frame = data[observed + ([group] if group else [])]
    if group:
        frame = frame[frame[group].notna()]
    sub = frame[observed]
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
           for t in sub.dtypes):
        values = sub.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = sub.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if np.isinf(values).any():
        raise ModelError(f"{source}: the data contain infinite values.")
    groups = frame[group].to_numpy().astype(str) if group else None
    return roles, observed, values, groups


def split_groups(keep, groups) -> tuple[tuple[str, ...], list[np.ndarray]]:
    """Group labels in order of first appearance among the kept rows, and each group's row
    indices (one group of all kept rows without a group column)."""
    if groups is None:
        return (), [np.flatnonzero(keep)]
    labels = tuple(dict.fromkeys(groups[keep]))
    return labels, [np.flatnonzero(keep & (groups == lab)) for lab in labels]


def prepare(syntax, data, *, group=None, group_equal=(), meanstructure=False, source="model"):
    """Select and clean the data for a model; return (model, moments, values, labels)."""
    _, observed, values, groups = model_data(syntax, data, group, source)
    labels, groups_idx = split_groups(~np.isnan(values).any(axis=1), groups)
    moments = []
    for idx in groups_idx:
        if len(idx) < len(observed) + 1:
            raise ModelError(
                f"{source}: only {len(idx)} complete rows{' in a group' if group else ''} for "
                f"{len(observed)} observed variables; the model needs more rows."
            )
        mom = sample_moments(values[idx])
        _check_pd(mom.cov, observed, "the data")
        moments.append(mom)
    model = compile_model(syntax, observed, meanstructure=meanstructure or bool(group),
                          ngroups=len(moments), group_equal=group_equal, moments=moments,
                          source=source)
    return model, moments, [values[idx] for idx in groups_idx], labels


def _fit_ml(syntax, data, *, group, group_equal, source, compute_modindices):
    model, moments, _, labels = prepare(syntax, data, group=group, group_equal=group_equal,
                                        source=source)
    logdet_s = [np.linalg.slogdet(m.cov)[1] for m in moments]
    theta0 = _start_values(model, moments)
    theta, iterations, converged, fmin2 = _optimize(model, theta0, moments, logdet_s)
    info = _expected_information(model, theta, moments)
    return assemble(model, moments, theta, info, fmin2, iterations, converged,
                    estimator="ML", missing="listwise", labels=labels, source=source,
                    compute_modindices=compute_modindices)


def assemble(model, moments, theta, info, fmin2, iterations, converged, *, estimator, missing,
             labels, source, compute_modindices, vcov=None, test_extra=None, logl=None,
             unrestricted_logl=None, baseline=None):
    """Build a FitResult from a converged parameter vector (shared by ML, MLR and FIML)."""
    from . import fitmeasures, standardize

    total_n = sum(m.n for m in moments)
    notes: list[str] = []
    if not converged:
        msg = f"{source}: the optimizer did not converge; estimates are not trustworthy."
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        notes.append(msg)
    sym = (info + info.T) / 2
    smallest = float(np.linalg.eigvalsh(sym).min()) if sym.size else 1.0
    if smallest < 1e-10 * max(1.0, float(np.abs(sym).max(initial=0.0))):
        # lavaan reports NA here too: standard errors of a model that is not (empirically)
        # identified are meaningless, however large they come out
        vcov = np.full_like(info, np.nan)
        msg = (f"{source}: the information matrix is singular (smallest eigenvalue "
               f"{smallest:.2e}); the model is probably not identified, so standard errors, "
               "z, p and confidence intervals are not reported.")
        warnings.warn(msg, IdentificationWarning, stacklevel=3)
        notes.append(msg)
    elif vcov is None:
        vcov = np.linalg.inv(info) / total_n
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
                                   unrestricted_logl=unrestricted_logl, baseline=baseline)
    r2 = standardize.r_squared(model, theta)
    mi = (fitmeasures.modification_indices(model, moments, theta)
          if compute_modindices and model.ngroups == 1 and missing == "listwise"
          else pd.DataFrame(columns=MODINDEX_COLUMNS))
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
        group_labels=labels,
        warnings=tuple(notes),
        heywood=tuple(heywood),
        model=model,
        theta=theta,
        vcov=vcov,
    )


def _estimate_table(model: CompiledModel, theta, vcov, labels) -> pd.DataFrame:
    """Parameter estimates with SEs, z, p and 95% Wald CIs; ``:=`` rows by the delta method."""
    from .defined import defined_parameters

    pt = model.partable
    rows = pt[pt["op"].isin(["=~", "~", "~~", "~1"])]
    se = np.zeros(len(rows))
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
        table.insert(3, "group", rows["group"].to_numpy())
    defined = defined_parameters(model, theta, vcov)
    if len(defined):
        table = pd.concat([table, defined], ignore_index=True)
    free_mask = np.concatenate([rows["free"].to_numpy() > 0, np.ones(len(defined), bool)])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(free_mask & (table["se"].to_numpy() > 0),
                     table["est"].to_numpy() / table["se"].to_numpy(), np.nan)
    table["z"] = z
    table["pvalue"] = 2.0 * stats.norm.sf(np.abs(z))
    crit = stats.norm.ppf(0.975)
    table["ci_lower"] = table["est"] - crit * table["se"]
    table["ci_upper"] = table["est"] + crit * table["se"]
    return table
