"""Comparing specifications: nested tests, equivalent models and measurement invariance.

:func:`compare` fits several models on the same rows and puts their fit side by side; pairs of
nested models get a chi-square difference test (the likelihood-ratio test under ML, the
Satorra-Bentler (2001) scaled difference under MLR, as lavaan's ``lavTestLRT``), every model
gets Akaike and Schwarz weights, and models with the same fit and the same degrees of freedom
are named as equivalent: the data cannot tell them apart.

:func:`invariance` fits the configural, metric, scalar and strict models of a multi-group
factor model as one likelihood with equality constraints across groups (lavaan's
``group.equal``), tests each step against the one before it, applies Chen's (2007) criteria to
the changes in CFI and RMSEA and, for the first step that fails, ranks the constraints whose
release helps most (partial invariance).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from .._json import json_value, records
from ..progress import progress_bar
from ..errors import ModelError, OptionError, RiskModelWarning
from .categorical import satorra_2000
from .estimation import FitResult, check_options, fit_model, resolve_estimator
from .data import prepare
from .distributions import chi2_sf
from .fitmeasures import score_test
from .objective import MLObjective, group_data
from .syntax import equal_kind, parse_syntax, variable_roles

__all__ = [
    "ComparisonResult",
    "InvarianceResult",
    "compare",
    "fit_table",
    "invariance",
    "difference_test",
    "nested_in",
    "INVARIANCE_LEVELS",
    "ORDINAL_INVARIANCE_LEVELS",
    "ordinal_release_keys",
    "ordinal_score_tests",
    "CHEN_2007",
]

#: The invariance levels and the ``group.equal`` kinds each adds (lavaan / semTools naming).
INVARIANCE_LEVELS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}
_NEW_KIND = {"metric": "loadings", "scalar": "intercepts", "strict": "residuals"}
_ORDINAL_NEW_KIND = {"thresholds": "thresholds", "metric": "loadings", "scalar": "intercepts"}

#: Ordered items (Wu & Estabrook 2016, as ``semTools::measEq.syntax(ID.cat =
#: "Wu.Estabrook.2016")``): thresholds first, then loadings, then intercepts.
ORDINAL_INVARIANCE_LEVELS = {
    "configural": (),
    "thresholds": ("thresholds",),
    "metric": ("thresholds", "loadings"),
    "scalar": ("thresholds", "loadings", "intercepts"),
}

#: Chen (2007) cut-offs for the change in fit from one invariance step to the next:
#: ``(delta_cfi_min, delta_rmsea_max, delta_srmr_max)`` by total sample size and step.
CHEN_2007 = {
    "large": {"metric": (-0.010, 0.015, 0.030), "scalar": (-0.010, 0.015, 0.010),
              "strict": (-0.010, 0.015, 0.010)},
    "small": {"metric": (-0.005, 0.010, 0.025), "scalar": (-0.005, 0.010, 0.005),
              "strict": (-0.005, 0.010, 0.005)},
}

_TABLE_COLUMNS = ["name", "npar", "chisq", "df", "pvalue", "chisq_df", "cfi", "tli", "rmsea",
                  "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "aic", "bic"]
_ROBUST_COLUMNS = ["chisq_scaled", "df_scaled", "pvalue_scaled", "chisq_scaling_factor",
                   "cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust",
                   "rmsea_ci_upper_robust"]
TEST_COLUMNS = ["model_a", "model_b", "chisq_diff", "df_diff", "pvalue", "method",
                "scaling_factor", "rmsea_diff", "basis"]


# ------------------------------------------------------------------------------------------
# result objects
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ComparisonResult:
    """Side-by-side fit of several models on the same rows.

    Attributes
    ----------
    models : pandas.DataFrame
        One row per model: ``name, npar, chisq, df, pvalue, chisq_df, cfi, tli, rmsea,
        rmsea_ci_lower, rmsea_ci_upper, srmr, aic, bic, delta_cfi, delta_rmsea, aic_weight,
        bic_weight`` (plus the scaled and robust measures under MLR).
    fits : dict of str to FitResult
        The fitted models by name, in the order given.
    tests : pandas.DataFrame
        One row per nested pair: ``model_a`` (the restricted model) nested in ``model_b``,
        ``chisq_diff``, ``df_diff``, ``pvalue``, ``method`` (``"lrt"`` or
        ``"satorra.bentler.2001"``), ``scaling_factor`` (c_d of the scaled test),
        ``rmsea_diff`` (RMSEA of the difference, ML only) and ``basis`` (how the nesting was
        found: ``"parameters"``, ``"factor_merge"``, ``"saturated_factors"`` or
        ``"declared"``).
    equivalent : list of list of str
        Groups of models with the same df and the same chi-square (to optimizer precision).
    reference : str
        The model that ``delta_cfi`` and ``delta_rmsea`` are taken against.
    n_obs : int
        Rows used by every model.
    estimator, missing : str
    warnings : tuple of str
    """

    models: pd.DataFrame
    fits: dict = field(repr=False)
    tests: pd.DataFrame
    equivalent: list
    reference: str
    n_obs: int
    estimator: str
    missing: str
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        """The models' fit, the nested tests and the equivalent models as text."""
        from .summary import table_text

        eq = "\n".join("  " + " = ".join(g) for g in self.equivalent) or "  (none)"
        return "\n".join([table_text(f"Models (N = {self.n_obs}, reference {self.reference})",
                                     self.models.set_index("name")),
                          table_text("Nested model tests", self.tests),
                          "Equivalent models:\n" + eq + "\n"])

    def _repr_html_(self) -> str:
        from .summary import summary_html

        return summary_html(self.summary())

    def to_dict(self) -> dict:
        """JSON-ready dictionary: ``models`` [{name, fit}], ``tests``, ``equivalent``."""
        return {
            "estimator": self.estimator,
            "missing": self.missing,
            "n_obs": int(self.n_obs),
            "reference": self.reference,
            "models": [{"name": name, "fit": json_value(dict(fit.fit))}
                       for name, fit in self.fits.items()],
            "table": records(self.models),
            "tests": records(self.tests),
            "equivalent": [list(g) for g in self.equivalent],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class InvarianceResult:
    """Measurement invariance across groups, step by step.

    Attributes
    ----------
    models : pandas.DataFrame
        One row per level (``configural``, ``metric``, ``scalar``, ``strict``) with the columns
        of :class:`ComparisonResult` plus ``delta_cfi``, ``delta_rmsea``, ``delta_srmr``
        (change from the previous level) and ``chen_ok`` (Chen's 2007 criteria met).
    fits : dict of str to FitResult
    tests : pandas.DataFrame
        Each level against the previous one (``model_a`` the constrained level).
    criteria : dict
        The cut-offs used (``delta_cfi``, ``delta_rmsea``, ``delta_srmr`` per level) and the
        sample-size class (``"large"`` when N > 300).
    failed_level : str or None
        The first level whose test is significant at ``alpha`` or whose changes fail Chen's
        criteria.
    partial : pandas.DataFrame
        For ``failed_level``: one row per equality constraint of the kind that level adds
        (``lhs, op, rhs``), the score test of releasing it across groups (``score``,
        ``df``, ``pvalue``) and, for the most promising ones, the refitted model with that
        constraint released (``chisq``, ``df_model``, ``cfi``, ``rmsea``, ``delta_cfi``,
        ``delta_rmsea``, ``chen_ok``), sorted by ``score``.
    group : str
    group_labels : tuple of str
    n_obs : int
    estimator, missing : str
    warnings : tuple of str
    """

    models: pd.DataFrame
    fits: dict = field(repr=False)
    tests: pd.DataFrame
    criteria: dict
    failed_level: str | None
    partial: pd.DataFrame
    group: str
    group_labels: tuple[str, ...]
    n_obs: int
    estimator: str
    missing: str
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        """The invariance levels, their tests and the first level that fails, as text."""
        from .summary import table_text

        failed = self.failed_level or "none"
        return "\n".join([table_text(f"Invariance across {self.group} "
                                     f"({', '.join(map(str, self.group_labels))})",
                                     self.models.set_index("name")),
                          table_text("Tests", self.tests),
                          f"First level that fails: {failed}\n"])

    def _repr_html_(self) -> str:
        from .summary import summary_html

        return summary_html(self.summary())

    def to_dict(self) -> dict:
        """JSON-ready dictionary: ``models`` [{name, fit}], ``tests``, plus the criteria and the
        partial-invariance search."""
        return {
            "estimator": self.estimator,
            "missing": self.missing,
            "group": self.group,
            "group_labels": list(self.group_labels),
            "n_obs": int(self.n_obs),
            "models": [{"name": name, "fit": json_value(dict(fit.fit))}
                       for name, fit in self.fits.items()],
            "table": records(self.models),
            "tests": records(self.tests),
            "equivalent": [],
            "criteria": json_value(self.criteria),
            "failed_level": self.failed_level,
            "partial": records(self.partial),
            "warnings": list(self.warnings),
        }


# ------------------------------------------------------------------------------------------
# difference tests
# ------------------------------------------------------------------------------------------

def difference_test(restricted: FitResult, general: FitResult, method: str = "auto") -> dict:
    """Chi-square difference test of a restricted model against a more general one.

    Parameters
    ----------
    restricted, general : FitResult
        Fits of the nested (more df) and the nesting model, on the same rows.
    method : {"auto", "lrt", "satorra.bentler.2001", "satorra.2000"}
        ``"auto"``: the scaled difference when both fits are MLR, Satorra's (2000)
        scaled-shifted difference when both are WLSMV or ULSMV
        (:func:`riskmodel_sem.sem.categorical.satorra_2000`), the likelihood-ratio test
        otherwise (lavaan's ``lavTestLRT`` default).

    Returns
    -------
    dict
        ``chisq_diff``, ``df_diff``, ``pvalue``, ``method``, ``scaling_factor`` (c_d, NaN for
        the plain test) and ``rmsea_diff``.

    Raises
    ------
    OptionError
        For an unknown method, or a scaled test on fits without scaling factors.

    Notes
    -----
    Likelihood-ratio test: ``T = T0 - T1`` on ``m = df0 - df1`` degrees of freedom, with the
    RMSEA of the difference ``sqrt(G) sqrt(max(T - m, 0) / (N m))`` that lavaan 0.6.14 prints.
    Satorra-Bentler (2001): ``c_d = (df0 c0 - df1 c1) / m`` from the scaling factors c0, c1 of
    the two MLR fits (c1 = 1 when df1 = 0), ``T_d = (T0 - T1) / c_d`` with T the standard
    statistics; a negative c_d gives NaN, as lavaan. Matches ``lavaan::lavTestLRT`` (methods
    ``"default"`` and ``"satorra.bentler.2001"``).

    References
    ----------
    Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for
    moment structure analysis. Psychometrika, 66(4), 507-514. doi:10.1007/BF02296192
    """
    t0, t1 = float(restricted.fit["chisq"]), float(general.fit["chisq"])
    r0, r1 = int(restricted.fit["df"]), int(general.fit["df"])
    m = r0 - r1
    if method == "auto":
        robust_ordinal = ("WLSMV", "ULSMV")
        method = ("satorra.bentler.2001"
                  if restricted.estimator == "MLR" and general.estimator == "MLR" else
                  "satorra.2000" if (restricted.estimator in robust_ordinal
                                     and general.estimator in robust_ordinal) else "lrt")
    if method == "satorra.2000":
        if restricted.ordinal is None or general.ordinal is None:
            raise OptionError("Satorra's (2000) difference test needs fits with ordered "
                              "variables (WLSMV or ULSMV).")
        out = satorra_2000(restricted.ordinal, general.ordinal, restricted.theta,
                           general.theta, t0, t1, m)
        out["rmsea_diff"] = math.nan
        return out
    out = {"chisq_diff": t0 - t1, "df_diff": m, "pvalue": math.nan, "method": method,
           "scaling_factor": math.nan, "rmsea_diff": math.nan}
    if method == "lrt":
        if m > 0:
            out["pvalue"] = float(chi2_sf(t0 - t1, m))
            n = restricted.n_obs
            ngroups = restricted.model.ngroups if restricted.model is not None else 1
            out["rmsea_diff"] = math.sqrt(ngroups) * math.sqrt(max(t0 - t1 - m, 0.0) / (n * m))
        return out
    if method != "satorra.bentler.2001":
        raise OptionError(f"Unknown difference-test method {method!r}; use lrt, "
                          "satorra.bentler.2001 or satorra.2000.")
    c0 = restricted.fit.get("chisq_scaling_factor")
    c1 = general.fit.get("chisq_scaling_factor")
    if c0 is None or (c1 is None and r1 > 0):
        raise OptionError("The scaled difference test needs MLR fits (chisq_scaling_factor).")
    if r1 == 0:
        c1 = 1.0
    if m == 0:
        return out
    cd = (r0 * float(c0) - r1 * float(c1)) / m
    if not cd > 0:
        out["chisq_diff"] = math.nan
        return out
    out["scaling_factor"] = cd
    out["chisq_diff"] = (t0 - t1) / cd
    out["pvalue"] = float(chi2_sf(out["chisq_diff"], m))
    return out


# ------------------------------------------------------------------------------------------
# nesting from the parameter tables
# ------------------------------------------------------------------------------------------

def _rows(fit: FitResult) -> pd.DataFrame:
    pt = fit.model.partable
    rows = pt[pt["op"].isin(["=~", "~", "~~", "~1"]) & (pt["exo"] == 0)].copy()
    swap = (rows["op"] == "~~") & (rows["lhs"] > rows["rhs"])
    rows.loc[swap, ["lhs", "rhs"]] = rows.loc[swap, ["rhs", "lhs"]].to_numpy()
    return rows


def _key(r) -> tuple:
    return (r.lhs, r.op, r.rhs, int(r.group))


def _parameter_nested(a: FitResult, b: FitResult) -> bool:
    """True when every free parameter of ``a`` is free in ``b``, every equality of ``b`` holds
    in ``a`` and every non-zero fixed value of ``b`` is fixed to the same value in ``a``."""
    ra, rb = _rows(a), _rows(b)
    free_a = {_key(r): int(r.free) for r in ra.itertuples() if r.free > 0}
    free_b = {_key(r): int(r.free) for r in rb.itertuples() if r.free > 0}
    if not set(free_a) <= set(free_b):
        return False
    fixed_a = {_key(r): float(r.ustart) for r in ra.itertuples() if r.free == 0}
    for r in rb.itertuples():
        if r.free == 0 and r.ustart != 0 and fixed_a.get(_key(r)) != float(r.ustart):
            return False
    # equalities of b must hold in a
    groups_b: dict[int, list] = {}
    for k, f in free_b.items():
        groups_b.setdefault(f, []).append(k)
    for keys in groups_b.values():
        if len(keys) > 1:
            in_a = [free_a.get(k) for k in keys]
            present = [x for x in in_a if x is not None]
            if present and (len(present) != len(keys) or len(set(present)) > 1):
                return False
    return True


def _cfa_structure(fit: FitResult):
    """For a single-group first-order CFA return (factor -> indicator set, residual rows);
    None when the model has regressions, higher-order factors, cross-loadings or fixed
    factor covariances."""
    if fit.model.ngroups != 1:
        return None
    rows = _rows(fit)
    observed = set(fit.observed)
    latent = list(fit.latent)
    if (rows["op"] == "~").any():
        return None
    load = rows[rows["op"] == "=~"]
    if not set(load["rhs"]) <= observed or load["rhs"].duplicated().any():
        return None
    factors = {f: frozenset(load.loc[load["lhs"] == f, "rhs"]) for f in latent}
    cov = rows[(rows["op"] == "~~")]
    lv_cov = {(r.lhs, r.rhs) for r in cov.itertuples() if r.lhs in factors and r.free > 0}
    for i, f in enumerate(latent):
        for g in latent[i:]:
            key = (f, g) if f <= g else (g, f)
            if key not in lv_cov:
                return None
    residual = frozenset((r.lhs, r.rhs, r.free > 0) for r in cov.itertuples()
                         if r.lhs in observed)
    return factors, residual


def _factor_merge(a: FitResult, b: FitResult) -> bool:
    """``a``'s factors are unions of ``b``'s (``b`` with some factor correlations fixed to one
    is ``a``), both correlated first-order CFAs of the same items."""
    sa, sb = _cfa_structure(a), _cfa_structure(b)
    if sa is None or sb is None or sa[1] != sb[1]:
        return False
    blocks_a = list(sa[0].values())
    if set().union(*blocks_a) != set().union(*sb[0].values()):
        return False
    return all(any(block <= big for big in blocks_a) for block in sb[0].values()) and \
        len(blocks_a) < len(sb[0])


def _saturated_factors(a: FitResult, b: FitResult) -> bool:
    """``b`` is a CFA whose factor covariances are all free and ``a`` keeps ``b``'s
    measurement part (same loadings, same residual terms) while structuring the covariances
    of those factors (second-order factors, regressions)."""
    sb = _cfa_structure(b)
    if sb is None or a.model.ngroups != 1 or set(a.observed) != set(b.observed):
        return False
    ra, rb = _rows(a), _rows(b)
    observed = set(b.observed)

    def measurement(rows):
        load = rows[(rows["op"] == "=~") & rows["rhs"].isin(observed)]
        res = rows[(rows["op"] == "~~") & rows["lhs"].isin(observed)]
        return ({(r.lhs, r.rhs, r.free > 0, None if r.free > 0 else float(r.ustart))
                 for r in load.itertuples()},
                {(r.lhs, r.rhs, r.free > 0) for r in res.itertuples()})

    if measurement(ra) != measurement(rb):
        return False
    # a's first-order factors are exactly b's factors, and a adds no direct paths to items
    first_a = set(ra.loc[(ra["op"] == "=~") & ra["rhs"].isin(observed), "lhs"])
    if first_a != set(sb[0]):
        return False
    if ((ra["op"] == "~") & ra["lhs"].isin(observed)).any():
        return False
    return True


def nested_in(a: FitResult, b: FitResult) -> str | None:
    """How ``a`` is nested in ``b``, or None when no rule shows it.

    Parameters
    ----------
    a, b : FitResult
        Fits on the same rows and the same observed variables.

    Returns
    -------
    str or None
        ``"parameters"`` (a's free parameters are a subset of b's, with b's equality
        constraints and fixed values kept), ``"factor_merge"`` (both correlated first-order
        factor models, a's factors unions of b's: b with those factor correlations fixed to
        one), ``"saturated_factors"`` (b's factor covariances are unrestricted and a only
        structures them) or None. ``a`` must have more degrees of freedom than ``b``.

    Notes
    -----
    lavaan's ``lavTestLRT`` does not check nesting; these rules only admit pairs for which the
    difference test is valid by construction (Bentler & Satorra 2010 give the general
    condition).
    """
    if (set(a.observed) != set(b.observed) or a.n_obs != b.n_obs
            or a.model.ngroups != b.model.ngroups or not a.fit["df"] > b.fit["df"]):
        return None
    if _parameter_nested(a, b):
        return "parameters"
    if _factor_merge(a, b):
        return "factor_merge"
    if _saturated_factors(a, b):
        return "saturated_factors"
    return None


# ------------------------------------------------------------------------------------------
# compare
# ------------------------------------------------------------------------------------------

def _model_variables(syntax: str, source: str) -> tuple[str, ...]:
    return variable_roles(parse_syntax(syntax, source)).observed


def _common_rows(data: pd.DataFrame, variables: dict[str, tuple[str, ...]], missing: str,
                 extra: tuple[str, ...] = ()) -> pd.DataFrame:
    union = list(dict.fromkeys(v for vs in variables.values() for v in vs))
    absent = [v for v in union + list(extra) if v not in data.columns]
    if absent:
        raise ModelError(f"The data have no column(s) {', '.join(absent)}.")
    values = data[union].apply(pd.to_numeric, errors="coerce")
    present = values.notna()
    if missing == "listwise":
        keep = present.all(axis=1)
    else:  # fiml: every model must see at least one answer of the row
        keep = pd.Series(True, index=data.index)
        for vs in variables.values():
            keep &= present[list(vs)].any(axis=1)
    for col in extra:
        keep &= data[col].notna()
    return data.loc[keep]


def fit_table(fits: dict[str, FitResult], estimator: str = "ML") -> pd.DataFrame:
    """One row per fitted model: ``name, npar, chisq, df, pvalue, chisq_df, cfi, tli, rmsea,
    rmsea_ci_lower, rmsea_ci_upper, srmr, aic, bic`` (plus the scaled and robust measures
    under MLR); ``chisq_df`` is χ²/df (Kline, 2016), NaN when df = 0."""
    return _fit_table(fits, estimator)


def _fit_table(fits: dict[str, FitResult], estimator: str) -> pd.DataFrame:
    rows = []
    for name, res in fits.items():
        f = res.fit
        row = {"name": name}
        for col in _TABLE_COLUMNS[1:]:
            if col == "chisq_df":
                row[col] = f["chisq"] / f["df"] if f["df"] > 0 else math.nan
            else:
                row[col] = f.get(col, math.nan)
        if estimator in ("MLR", "WLSMV", "ULSMV"):
            for col in _ROBUST_COLUMNS:
                row[col] = f.get(col, math.nan)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["df"] = table["df"].astype(int)
    table["npar"] = table["npar"].astype(int)
    return table


def _weights(values: np.ndarray) -> np.ndarray:
    """Akaike-type weights exp(-delta/2) / sum exp(-delta/2) (Wagenmakers & Farrell 2004)."""
    values = np.asarray(values, float)
    ok = np.isfinite(values)
    out = np.full(len(values), np.nan)
    if ok.any():
        d = values[ok] - values[ok].min()
        w = np.exp(-0.5 * d)
        out[ok] = w / w.sum()
    return out


def _cfi_rmsea_keys(estimator: str, fit: dict) -> tuple[str, str, str]:
    if estimator in ("WLSMV", "ULSMV"):
        # the scaled indices: available for every ordinal model (lavaan's robust ones are NA
        # with free scaling factors, e.g. equal thresholds across groups)
        return "cfi_scaled", "rmsea_scaled", "srmr"
    if estimator == "MLR" and "cfi_robust" in fit and "rmsea_robust" in fit:
        return "cfi_robust", "rmsea_robust", "srmr"
    return "cfi", "rmsea", "srmr"


def _equivalent_groups(fits: dict[str, FitResult], rtol: float) -> list[list[str]]:
    names = list(fits)
    parent = {n: n for n in names}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in combinations(names, 2):
        fa, fb = fits[a], fits[b]
        if (fa.fit["df"] == fb.fit["df"] and set(fa.observed) == set(fb.observed)
                and fa.n_obs == fb.n_obs
                and abs(fa.fit["chisq"] - fb.fit["chisq"])
                < rtol * max(abs(fa.fit["chisq"]), abs(fb.fit["chisq"]), 1.0)):
            parent[find(b)] = find(a)
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(find(n), []).append(n)
    return [g for g in groups.values() if len(g) > 1]


def compare(
    data: pd.DataFrame,
    syntaxes: dict[str, str],
    estimator: str | None = None,
    missing: str = "listwise",
    declared_nesting=(),
    reference: str | None = None,
    equivalence_rtol: float = 1e-6,
    ordered=None,
    progress: bool | None = None,
) -> ComparisonResult:
    """Fit several models on the same rows and compare them.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses (columns named as the models' observed variables).
    syntaxes : dict of str to str
        Model name -> lavaan syntax, in the order of the table.
    estimator : {"ML", "MLR", "WLSMV", "ULSMV", "DWLS", "ULS"}
    missing : {"listwise", "fiml", "pairwise"}
        ``"listwise"`` keeps the rows complete on every model's variables; ``"fiml"`` and
        ``"pairwise"`` keep the rows with at least one answer on each model's variables.
    ordered : True or sequence of str, optional
        Ordered items (lavaan's ``ordered =``); nested WLSMV/ULSMV fits are then tested with
        Satorra's (2000) scaled-shifted difference (``lavTestLRT``'s default for them).
    declared_nesting : iterable of (str, str)
        Extra ``(restricted, general)`` pairs known to be nested (e.g. ``nested_in`` of a
        spec's alternatives) that the parameter tables cannot show.
    reference : str, optional
        Model that ``delta_cfi`` and ``delta_rmsea`` are taken against; default the first.
    equivalence_rtol : float
        Models with the same df whose chi-squares differ by less than this fraction are
        equivalent.
    progress : bool, optional
        Show a bar over the models on stderr (default: on a terminal, see
        :func:`riskmodel_sem.progress.progress_enabled`).

    Returns
    -------
    ComparisonResult

    Raises
    ------
    OptionError
        For fewer than two models, unknown names in ``declared_nesting`` or ``reference``, or
        an unknown estimator.
    ModelError
        When a model cannot be fitted or the data lack its variables.

    Notes
    -----
    Nested pairs come from :func:`nested_in` and ``declared_nesting``; their tests follow
    :func:`difference_test` (``lavTestLRT``). ``aic_weight`` and ``bic_weight`` are
    ``exp(-delta_i / 2) / sum_j exp(-delta_j / 2)`` over the models fitted to the same
    variables and rows as the reference (others get NaN and a note: their likelihoods are of
    other data), the usual evidence for non-nested models. Under MLR, ``delta_cfi`` and ``delta_rmsea`` use the robust CFI and
    RMSEA when the fits provide them. ``delta_x = x_model - x_reference``.

    References
    ----------
    Wagenmakers, E.-J., & Farrell, S. (2004). AIC model selection using Akaike weights.
    Psychonomic Bulletin & Review, 11(1), 192-196. doi:10.3758/BF03206482

    MacCallum, R. C., Wegener, D. T., Uchino, B. N., & Fabrigar, L. R. (1993). The problem of
    equivalent models in applications of covariance structure analysis. Psychological
    Bulletin, 114(1), 185-199. doi:10.1037/0033-2909.114.1.185
    """
    estimator, ordered = resolve_estimator(estimator, ordered)
    estimator, missing = check_options(estimator, missing)
    if len(syntaxes) < 2:
        raise OptionError("A comparison needs at least two models.")
    names = list(syntaxes)
    reference = names[0] if reference is None else reference
    if reference not in syntaxes:
        raise OptionError(f"The reference model {reference!r} is not among the models.")
    declared = [tuple(p) for p in declared_nesting]
    for pair in declared:
        unknown = [x for x in pair if x not in syntaxes]
        if unknown:
            raise OptionError(f"Declared nesting names unknown model(s) {', '.join(unknown)}.")
    variables = {n: _model_variables(s, n) for n, s in syntaxes.items()}
    rows = _common_rows(data, variables, missing)
    fits = {}
    with progress_bar(len(syntaxes), "Models", unit="model", enabled=progress) as bar:
        for n, s in syntaxes.items():
            bar.set_postfix_str(str(n))
            fits[n] = fit_model(s, rows, estimator=estimator, missing=missing, source=n,
                                compute_modindices=False,
                                ordered=_model_ordered(ordered, variables[n]))
            bar.update(1)
    notes = [w for f in fits.values() for w in f.warnings]
    n_used = {f.n_obs for f in fits.values()}
    if len(n_used) > 1:
        notes.append("The models were fitted on different numbers of rows "
                     f"({', '.join(str(n) for n in sorted(n_used))}); tests are not valid.")

    table = _fit_table(fits, estimator)
    k_cfi, k_rmsea, _ = _cfi_rmsea_keys(estimator, fits[reference].fit)
    ref = fits[reference].fit
    table["delta_cfi"] = [fits[n].fit.get(k_cfi, math.nan) - ref.get(k_cfi, math.nan)
                          for n in names]
    table["delta_rmsea"] = [fits[n].fit.get(k_rmsea, math.nan) - ref.get(k_rmsea, math.nan)
                            for n in names]
    # information criteria compare likelihoods of the same data: weights only among the models
    # on the reference's variables and rows
    same = [set(variables[n]) == set(variables[reference])
            and fits[n].n_obs == fits[reference].n_obs for n in names]
    for key in ("aic", "bic"):
        w = np.full(len(names), math.nan)
        w[same] = _weights(table[key].to_numpy()[same])
        table[f"{key}_weight"] = w
    if not all(same):
        others = [n for n, s in zip(names, same) if not s]
        notes.append(f"AIC and BIC weights are computed only among the models on the same "
                     f"variables and rows as {reference}; {', '.join(others)} use other data, "
                     "so their likelihoods are not comparable and they have no weight.")

    tests = []
    for a, b in combinations(names, 2):
        for restricted, general in ((a, b), (b, a)):
            fr, fg = fits[restricted], fits[general]
            basis = nested_in(fr, fg)
            if basis is None and (restricted, general) in declared:
                if fr.fit["df"] > fg.fit["df"]:
                    basis = "declared"
                else:
                    notes.append(f"{restricted} is declared nested in {general} but does not "
                                 "have more degrees of freedom; no test.")
            if basis is None:
                continue
            res = difference_test(fr, fg)
            tests.append({"model_a": restricted, "model_b": general, **res, "basis": basis})
    tests.sort(key=lambda t: (names.index(t["model_b"]), names.index(t["model_a"])))
    tests_df = pd.DataFrame(tests, columns=TEST_COLUMNS)
    equivalent = _equivalent_groups(fits, equivalence_rtol)
    return ComparisonResult(models=table, fits=fits, tests=tests_df, equivalent=equivalent,
                            reference=reference, n_obs=int(next(iter(fits.values())).n_obs),
                            estimator=estimator, missing=missing,
                            warnings=tuple(dict.fromkeys(notes)))


# ------------------------------------------------------------------------------------------
# invariance
# ------------------------------------------------------------------------------------------

def _model_ordered(ordered, variables):
    """The ordered items of one model: all (True) or those of the list it uses."""
    if ordered is None or ordered is True:
        return ordered
    return tuple(v for v in ordered if v in variables) or None


def _chen_criteria(n: int) -> tuple[str, dict]:
    size = "large" if n > 300 else "small"
    return size, CHEN_2007[size]


def _chen_ok(level: str, d_cfi: float, d_rmsea: float, criteria: dict) -> bool:
    cfi_min, rmsea_max, _ = criteria[level]
    return bool(d_cfi >= cfi_min - 1e-12 and d_rmsea <= rmsea_max + 1e-12)


def invariance(
    data: pd.DataFrame,
    syntax: str,
    group: str,
    estimator: str | None = None,
    missing: str = "listwise",
    levels=("configural", "metric", "scalar", "strict"),
    alpha: float = 0.05,
    partial_refits: int = 3,
    ordered=None,
    progress: bool | None = None,
) -> InvarianceResult:
    """Configural, metric, scalar and strict invariance across the groups of a column.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses and the group column.
    syntax : str
        lavaan syntax of the (single-group) factor model.
    group : str
        Column holding the groups; rows without a group are left out. Group order is the order
        of first appearance, as lavaan.
    estimator : {"ML", "MLR", "WLSMV", "ULSMV", "DWLS", "ULS"}, optional
        Default ML, or WLSMV with ``ordered``.
    missing : {"listwise", "fiml", "pairwise"}
    levels : sequence of str
        Levels to fit, in order, from ``configural``, ``metric`` (equal loadings), ``scalar``
        (+ equal intercepts, latent means free in groups 2..G) and ``strict`` (+ equal residual
        variances). With ordered items: ``configural``, ``thresholds``, ``metric`` (+ equal
        loadings) and ``scalar`` (+ equal intercepts of the latent responses), identified as
        Wu & Estabrook (2016) and ``semTools::measEq.syntax(ID.cat = "Wu.Estabrook.2016")``
        (:data:`ORDINAL_INVARIANCE_LEVELS`); the steps are tested with Satorra's (2000)
        scaled-shifted difference, as ``lavTestLRT`` does for WLSMV.
    alpha : float
        Level of the difference tests.
    partial_refits : int
        How many of the best-scoring releases to refit for the partial-invariance search.
    ordered : True or sequence of str, optional
        Ordered items (lavaan's ``ordered =``).
    progress : bool, optional
        Show a bar over the levels on stderr (default: on a terminal).

    Returns
    -------
    InvarianceResult

    Raises
    ------
    OptionError
        For unknown levels or options, or a group column with fewer than two groups.
    ModelError
        When a model cannot be fitted.

    Notes
    -----
    Each level is one multi-group likelihood (lavaan ``cfa(..., group = , group.equal = )``);
    the steps are tested with :func:`difference_test` as ``lavTestLRT(configural, metric,
    scalar)``. Chen's (2007) criteria: invariance is kept when ``delta_cfi >= -0.010`` and
    ``delta_rmsea <= 0.015`` (N > 300; ``-0.005`` and ``0.010`` otherwise); ``delta_srmr`` is
    reported beside them (cut-offs 0.030 for loadings, 0.010 for intercepts and residuals, in
    ``criteria``). Under MLR the robust CFI and RMSEA are used when available. Partial
    invariance: for each constraint of the failing level, the score (Lagrange multiplier)
    test of freeing that parameter in all groups, ``LM = N d' I^{-1} d`` with d the gradient
    of lavaan's ``fmin`` and I the expected information of the released model at the
    constrained estimates (lavaan's ``lavTestScore`` for the corresponding constraints; with
    FIML the releases are refitted instead); the best ones are refitted with
    the constraint released (lavaan's ``group.partial``). With ordered items the candidates
    are those of the failing Wu & Estabrook level (:func:`ordinal_release_keys`: each
    threshold, each loading other than the marker, or each latent-response intercept of
    groups 2..G), scored by :func:`ordinal_score_tests` (lavaan's univariate
    ``lavTestScore`` of the equality constraints, the modification index of an intercept)
    and refitted with ``group_partial`` under the same identification; the refits are
    tested against the previous level with Satorra's (2000) difference test.

    References
    ----------
    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
    invariance. Structural Equation Modeling, 14(3), 464-504. doi:10.1080/10705510701301834

    Byrne, B. M., Shavelson, R. J., & Muthen, B. (1989). Testing for the equivalence of factor
    covariance and mean structures: the issue of partial measurement invariance. Psychological
    Bulletin, 105(3), 456-466. doi:10.1037/0033-2909.105.3.456
    """
    estimator, ordered = resolve_estimator(estimator, ordered)
    missing = str(missing).lower()
    all_levels = INVARIANCE_LEVELS if ordered is None else ORDINAL_INVARIANCE_LEVELS
    if ordered is not None and tuple(levels) == tuple(INVARIANCE_LEVELS):
        levels = tuple(ORDINAL_INVARIANCE_LEVELS)
    levels = tuple(levels)
    unknown = [lv for lv in levels if lv not in all_levels]
    if unknown:
        raise OptionError(f"Unknown invariance level(s) {', '.join(unknown)}"
                          + (" for ordered items" if ordered is not None else "")
                          + f"; use {', '.join(all_levels)}.")
    if not levels:
        raise OptionError("Give at least one invariance level.")
    order = list(all_levels)
    if [order.index(lv) for lv in levels] != sorted(order.index(lv) for lv in levels):
        raise OptionError("Invariance levels must be in the order "
                          f"{', '.join(all_levels)}.")
    if group not in data.columns:
        raise OptionError(f"The data have no group column {group!r}.")
    variables = {"model": _model_variables(syntax, "model")}
    rows = _common_rows(data, variables, missing, extra=(group,))
    n_groups = rows[group].astype(str).nunique()
    if n_groups < 2:
        raise OptionError(f"The group column {group!r} has fewer than two groups.")

    fits: dict[str, FitResult] = {}
    with progress_bar(len(levels), "Invariance", unit="model", enabled=progress) as bar:
        for lv in levels:
            bar.set_postfix_str(lv)
            fits[lv] = fit_model(syntax, rows, estimator=estimator, missing=missing,
                                 group=group, group_equal=all_levels[lv], source=lv,
                                 compute_modindices=False, ordered=ordered,
                                 id_cat="lavaan" if ordered is None else "Wu.Estabrook.2016")
            bar.update(1)
    notes = [w for f in fits.values() for w in f.warnings]
    n = next(iter(fits.values())).n_obs
    size, criteria = _chen_criteria(n)
    if ordered is not None:
        # equal thresholds are judged as equal intercepts are (Chen's intercept cut-offs)
        criteria = dict(criteria, thresholds=criteria["scalar"])
    table = _fit_table(fits, estimator)
    k_cfi, k_rmsea, k_srmr = _cfi_rmsea_keys(estimator, next(iter(fits.values())).fit)
    d_cfi, d_rmsea, d_srmr, ok = [math.nan], [math.nan], [math.nan], [None]
    tests = []
    failed = None
    for prev, lv in zip(levels, levels[1:]):
        fp, fl = fits[prev].fit, fits[lv].fit
        d_cfi.append(fl[k_cfi] - fp[k_cfi])
        d_rmsea.append(fl[k_rmsea] - fp[k_rmsea])
        d_srmr.append(fl[k_srmr] - fp[k_srmr])
        ok.append(_chen_ok(lv, d_cfi[-1], d_rmsea[-1], criteria))
        res = difference_test(fits[lv], fits[prev])
        tests.append({"model_a": lv, "model_b": prev, **res, "basis": "group_equal"})
        if failed is None and (not ok[-1] or (res["pvalue"] < alpha)):
            failed = lv
    table["delta_cfi"] = d_cfi
    table["delta_rmsea"] = d_rmsea
    table["delta_srmr"] = d_srmr
    table["chen_ok"] = ok
    tests_df = pd.DataFrame(tests, columns=TEST_COLUMNS)
    partial = pd.DataFrame()
    if failed is not None and failed in (_NEW_KIND if ordered is None else _ORDINAL_NEW_KIND):
        prev = levels[levels.index(failed) - 1]
        partial = _partial_search(syntax, rows, group, fits[failed], fits[prev], failed,
                                  estimator, missing, criteria, partial_refits, k_cfi, k_rmsea,
                                  ordered=ordered)
    return InvarianceResult(
        models=table, fits=fits, tests=tests_df,
        criteria={"sample_size": size, "n": int(n),
                  "cutoffs": {lv: {"delta_cfi": c[0], "delta_rmsea": c[1], "delta_srmr": c[2]}
                              for lv, c in criteria.items()},
                  "alpha": alpha, "measures": [k_cfi, k_rmsea, k_srmr]},
        failed_level=failed, partial=partial, group=group,
        group_labels=next(iter(fits.values())).group_labels, n_obs=int(n),
        estimator=estimator, missing=missing, warnings=tuple(dict.fromkeys(notes)),
    )


# ------------------------------------------------------------------------------------------
# partial invariance
# ------------------------------------------------------------------------------------------

def _equal_keys(fit: FitResult, kind: str) -> list[tuple[str, str, str]]:
    """(lhs, op, rhs) of the parameters of ``kind`` that are equal across groups."""
    pt = fit.model.partable
    roles = variable_roles(parse_syntax(fit.syntax))
    rows = pt[(pt["free"] > 0) & pt["op"].isin(["=~", "~", "~~", "~1"])]
    # group.equal parameters carry lavaan's plabel (".p2."); user labels are left alone
    shared = rows[rows["free"].duplicated(keep=False) & rows["label"].str.startswith(".p")]
    keys = []
    for r in shared[shared["group"] == 1].to_dict("records"):
        if equal_kind(r, roles) == kind:
            keys.append((r["lhs"], r["op"], r["rhs"]))
    return list(dict.fromkeys(keys))


def _score_tests(rows, group, fit: FitResult, keys):
    """Score test of releasing each key across groups, at the constrained estimates.

    Notes
    -----
    With d = dF/dtheta / 2 (lavaan's fmin gradient) and I the unit expected information of
    the released model, both at the constrained estimates, the joint score test of the
    released rows (:func:`riskmodel_sem.sem.fitmeasures.score_test`) on df = (released -
    constrained) free parameters (``lavTestScore(..., release = )``).
    """
    theta_c = fit.theta
    index_c = {(r.lhs, r.op, r.rhs, r.group): int(r.free)
               for r in fit.model.partable.itertuples() if r.free > 0}
    out = []
    for key in keys:
        table = release_parameters(fit.model.partable, [key])
        released, moments, values, _ = prepare(table, rows, group=group)
        theta = np.zeros(released.n_free)
        for r in released.partable.itertuples():
            if r.free > 0:
                theta[r.free - 1] = theta_c[index_c[(r.lhs, r.op, r.rhs, r.group)] - 1]
        objective = MLObjective(released, [group_data(v) for v in values])
        _, grad = objective.value_grad(theta)
        keys_ = {key, (key[2], key[1], key[0])} if key[1] == "~~" else {key}
        tested = sorted({int(r.free) - 1 for r in released.partable.itertuples()
                         if r.free > 0 and (r.lhs, r.op, r.rhs) in keys_})
        test = score_test(0.5 * grad[tested], objective.expected_information(theta),
                          objective.n, tested)
        lm = test["lm"]
        df = released.n_free - fit.model.n_free
        out.append({"lhs": key[0], "op": key[1], "rhs": key[2], "score": lm, "df": df,
                    "pvalue": float(chi2_sf(lm, df))})
    return out


def ordinal_release_keys(fit: FitResult, kind: str) -> list[tuple[str, str, str]]:
    """The parameters a partial-invariance search of an ordinal fit (Wu & Estabrook's
    levels) can release, as (lhs, op, rhs): each threshold held equal across groups
    (``"thresholds"``), each equal loading (``"loadings"``), or each intercept of a latent
    response fixed at 0 in groups 2..G (``"intercepts"``: at the scalar level of Wu &
    Estabrook the intercepts are fixed and the latent means free)."""
    pt = fit.ordinal.model.partable
    if kind == "thresholds":
        th = pt[(pt["op"] == "|") & (pt["free"] > 0)]
        shared = th[th["free"].duplicated(keep=False) & (th["group"] == 1)]
        return [(r.lhs, "|", r.rhs) for r in shared.itertuples()]
    if kind == "intercepts":
        model = fit.ordinal.model
        ordered = [v for v, o in zip(model.observed, fit.ordinal.layouts[0].ordered) if o]
        rows = pt[(pt["op"] == "~1") & pt["lhs"].isin(ordered) & (pt["group"] > 1)
                  & (pt["free"] == 0)]
        return list(dict.fromkeys((r.lhs, "~1", "") for r in rows.itertuples()))
    return _equal_keys(fit, kind)


def ordinal_score_tests(fit: FitResult, keys) -> list[dict]:
    """Score tests of releasing each key of an ordinal (WLSMV, ULSMV, DWLS, ULS) multi-group
    fit, at its estimates.

    Parameters
    ----------
    fit : FitResult
        A fit with ordered items (``fit.ordinal`` set).
    keys : sequence of (lhs, op, rhs)
        From :func:`ordinal_release_keys`: a threshold or loading held equal across groups is
        given its own parameter in every group; a fixed intercept of a latent response is
        freed in groups 2..G.

    Returns
    -------
    list of dict
        ``lhs, op, rhs, score, df, pvalue`` per key (NaN when the released model is not
        identified, e.g. a threshold of an item with two thresholds under Wu & Estabrook's
        identification).

    Notes
    -----
    The released model is compiled with the parameters the key frees; with d the derivative
    of lavaan's fmin (half the DWLS/ULS discrepancy, :class:`CategoricalObjective`) and I its
    expected information sum_g (n_g/N) Delta_g' W_g Delta_g, both at the constrained
    estimates, the score statistic is N d_t' V^-1 d_t on df = (released - constrained) free
    parameters, V the information of the released parameters t given the others
    (:func:`riskmodel_sem.sem.fitmeasures.score_test`). With two groups a released
    equality is lavaan's univariate ``lavTestScore(fit)`` test of that ``==`` constraint, and
    a freed intercept is its modification index.
    """
    from .model import compile_partable

    objective = fit.ordinal
    model = objective.model
    theta = fit.theta
    pt = model.partable
    free = pt["free"].to_numpy(int)
    value = np.where(free > 0, theta[np.maximum(free, 1) - 1],
                     pt["ustart"].to_numpy(float))
    out = []
    for key in keys:
        table = pt.copy()
        if key[1] == "~1":
            hit = ((table["lhs"] == key[0]) & (table["op"] == "~1") & (table["group"] > 1)
                   & (table["free"] == 0)).to_numpy()
            numbers = table["free"].to_numpy().copy()
            numbers[hit] = numbers.max() + 1 + np.arange(hit.sum())
            table["free"] = numbers
            table = release_parameters(table, ())
        else:
            table = release_parameters(table, (key,))
        rel_free = table["free"].to_numpy(int)
        released = compile_partable(table, model.observed, model.latent,
                                    ngroups=model.ngroups, meanstructure=True,
                                    syntax=model.syntax, ov_x=())
        theta_r = np.zeros(released.n_free)
        theta_r[rel_free[rel_free > 0] - 1] = value[rel_free > 0]
        rel_obj = objective.with_model(released)
        _, grad = rel_obj.value_grad(theta_r)
        tested = sorted({int(f) - 1 for f, l, o, r in zip(rel_free, table["lhs"], table["op"],
                                                         table["rhs"])
                         if f > 0 and (l, o, r) == key})
        df = released.n_free - model.n_free
        try:
            test = score_test(0.5 * grad[tested], rel_obj.unit_information(theta_r),
                              objective.n, tested)
            lm = max(test["lm"], 0.0)  # rounding below 0 where the release changes nothing
        except np.linalg.LinAlgError:
            lm = math.nan
        ok = np.isfinite(lm) and df > 0
        out.append({"lhs": key[0], "op": key[1], "rhs": key[2], "score": lm if ok else math.nan,
                    "df": df, "pvalue": float(chi2_sf(lm, df)) if ok else math.nan})
    return out


def release_parameters(partable: pd.DataFrame, release) -> pd.DataFrame:
    """The parameter table with the across-group equality of each (lhs, op, rhs) in
    ``release`` removed: every group's row gets its own free parameter (and loses its
    equality label); free parameters are renumbered 1..q in table order (lavaan's
    ``group.partial``).

    Parameters
    ----------
    partable : pandas.DataFrame
        A (multi-group) parameter table as the syntax module builds it.
    release : iterable of (lhs, op, rhs)

    Returns
    -------
    pandas.DataFrame
        A new table (the input is not modified), ready for
        :func:`riskmodel_sem.sem.estimation.fit_model`.
    """
    pt = partable.copy()
    keys = set()
    for lhs, op, rhs in release:
        keys.add((lhs, op, rhs))
        if op == "~~":
            keys.add((rhs, op, lhs))
    hit = np.array([(r.lhs, r.op, r.rhs) in keys and r.free > 0 for r in pt.itertuples()],
                   dtype=bool)
    free = pt["free"].to_numpy().copy()
    # released rows get fresh numbers, then all numbers are made consecutive in order
    nxt = int(free.max()) + 1
    for i in np.flatnonzero(hit):
        free[i] = nxt
        nxt += 1
    order = {}
    for f in free:
        if f > 0 and f not in order:
            order[f] = len(order) + 1
    pt["free"] = [order.get(f, 0) if f > 0 else 0 for f in free]
    labels = pt["label"].to_numpy().copy()
    labels[hit] = ""
    pt["label"] = labels
    # an equality label left on a single row is no longer shown
    counts = pt.loc[pt["free"] > 0, "free"].value_counts()
    pt["label"] = [("" if (isinstance(lab, str) and lab.startswith(".p") and f > 0
                           and counts.get(f, 0) < 2) else lab)
                   for lab, f in zip(pt["label"], pt["free"])]
    return pt


def _partial_search(syntax, rows, group, failed_fit, prev_fit, level, estimator, missing,
                    criteria, refits, k_cfi, k_rmsea, ordered=None) -> pd.DataFrame:
    if ordered is not None:
        kind = _ORDINAL_NEW_KIND[level]
        keys = ordinal_release_keys(failed_fit, kind)
    else:
        kind = _NEW_KIND[level]
        keys = _equal_keys(failed_fit, kind)
    columns = ["lhs", "op", "rhs", "score", "df", "pvalue", "chisq", "df_model", "cfi",
               "rmsea", "delta_cfi", "delta_rmsea", "chen_ok", "chisq_diff", "df_diff",
               "pvalue_diff"]
    if not keys:
        return pd.DataFrame(columns=columns)
    group_equal = (INVARIANCE_LEVELS if ordered is None else ORDINAL_INVARIANCE_LEVELS)[level]
    if ordered is not None:
        scored = ordinal_score_tests(failed_fit, keys)
        scored.sort(key=lambda d: -d["score"] if np.isfinite(d["score"]) else math.inf)
        to_refit = [(d["lhs"], d["op"], d["rhs"]) for d in scored[:max(0, refits)]
                    if np.isfinite(d["score"])]
    elif missing == "listwise":
        scored = _score_tests(rows, group, failed_fit, keys)
        scored.sort(key=lambda d: -d["score"])
        to_refit = [(d["lhs"], d["op"], d["rhs"]) for d in scored[:max(0, refits)]]
    else:
        scored = [{"lhs": k[0], "op": k[1], "rhs": k[2], "score": math.nan, "df": math.nan,
                   "pvalue": math.nan} for k in keys]
        to_refit = keys
    refit = {}
    for key in to_refit:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RiskModelWarning)
            if ordered is not None:
                # the level's model with the parameter released (lavaan's group.partial),
                # identified as Wu & Estabrook (2016)
                res = fit_model(syntax, rows, estimator=estimator, missing=missing, group=group,
                                group_equal=group_equal, group_partial=("".join(key),),
                                ordered=ordered, id_cat="Wu.Estabrook.2016",
                                source=f"{level} without {''.join(key)}",
                                compute_modindices=False)
            else:
                table = release_parameters(failed_fit.model.partable, (key,))
                res = fit_model(table, rows, estimator=estimator, missing=missing, group=group,
                                source=f"{level} without {''.join(key)}",
                                compute_modindices=False)
        d_cfi = res.fit[k_cfi] - prev_fit.fit[k_cfi]
        d_rmsea = res.fit[k_rmsea] - prev_fit.fit[k_rmsea]
        test = difference_test(res, prev_fit)
        refit[key] = {"chisq": res.fit["chisq"], "df_model": int(res.fit["df"]),
                      "cfi": res.fit[k_cfi], "rmsea": res.fit[k_rmsea], "delta_cfi": d_cfi,
                      "delta_rmsea": d_rmsea, "chen_ok": _chen_ok(level, d_cfi, d_rmsea,
                                                                  criteria),
                      "chisq_diff": test["chisq_diff"], "df_diff": test["df_diff"],
                      "pvalue_diff": test["pvalue"]}
    out = []
    for d in scored:
        key = (d["lhs"], d["op"], d["rhs"])
        out.append({**d, **refit.get(key, {})})
    table = pd.DataFrame(out).reindex(columns=columns)
    if missing != "listwise" and ordered is None:
        table = table.sort_values("chisq", kind="stable")
    return table.reset_index(drop=True)
