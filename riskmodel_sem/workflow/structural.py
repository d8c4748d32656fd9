"""Structural analysis: hypothesis verdicts, indirect and total effects, R² of constructs.

Takes a fitted hypothesized model (``estimation.fit_model``), its spec and optionally a
bootstrap (``bootstrap.bootstrap``) and judges every hypothesis of the spec:

* a path hypothesis ``lhs ~ rhs`` with an expected sign is *supported* when the path is
  significant (Wald p < 1 - level; with a bootstrap, when the bootstrap percentile CI excludes
  zero) and its sign matches, *opposite sign* when it is significant the other way and *not
  supported* otherwise;
* a ``loading_order`` hypothesis ("FIN is the strongest indicator of GIV") is tested on the
  differences std_all(GIV =~ FIN) - std_all(GIV =~ other): *supported* when the CI of every
  difference lies above zero (bootstrap percentile CI, or without a bootstrap the Wald CI from
  delta-method SEs), *opposite sign* when some difference lies wholly below zero.

Indirect effects are the model's ``:=`` rows (a spec's effects become ``:=`` rows named by the
effect id, e.g. ``PLT_SOL_GIV := H2*H5``); total effects of each effect's first construct on
its last are added as the entries of (I - A)^-1 (the sum over every directed path of the
products of its coefficients), with delta-method SEs and, with a bootstrap, bootstrap CIs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..sem.bootstrap import (BootstrapResult, Derived, DerivedEvaluator, bca_simple_ci,
                             bootstrap_se, percentile_ci, spec_quantities)
from ..sem.numdiff import central_jacobian
from ..sem.distributions import norm_ppf, norm_sf
from ..errors import ModelError
from .._json import json_value, records

__all__ = ["StructuralResult", "analyze", "effect_sizes", "HYPOTHESIS_COLUMNS",
           "EFFECT_COLUMNS", "F2_COLUMNS"]

#: Columns of :attr:`StructuralResult.hypotheses` (the JSON ``hypotheses`` records).
HYPOTHESIS_COLUMNS = ["id", "kind", "lhs", "op", "rhs", "est", "std_all", "se", "z", "pvalue",
                      "ci_lower", "ci_upper", "ci_method", "expected_sign", "supported",
                      "verdict", "test"]
#: Columns of :attr:`StructuralResult.indirect` without a bootstrap.
EFFECT_COLUMNS = ["id", "kind", "path", "expression", "est", "se", "z", "pvalue", "ci_lower",
                  "ci_upper", "std_all"]
_BOOT_COLUMNS = ["se_boot", "ci_lower_perc", "ci_upper_perc", "ci_lower_bc", "ci_upper_bc",
                 "std_ci_lower_perc", "std_ci_upper_perc"]
#: Columns of :attr:`StructuralResult.f2`.
F2_COLUMNS = ["lhs", "rhs", "label", "r2_included", "r2_excluded", "f2"]


@dataclass(frozen=True)
class StructuralResult:
    """Hypotheses, effects and R² of one fitted structural model (immutable).

    Attributes
    ----------
    hypotheses : pandas.DataFrame
        ``HYPOTHESIS_COLUMNS``, one row per hypothesis of the spec (per hypothesis and group,
        with ``group`` and ``group_label`` after ``id``, in a multi-group fit). ``se``, ``z`` and
        ``pvalue`` are the ML (Wald) values; ``ci_lower``/``ci_upper`` the interval the verdict
        uses (``ci_method``). For a loading-order hypothesis ``est``/``std_all`` are those of
        the strongest indicator's loading and the test columns those of its weakest contrast.
    contrasts : pandas.DataFrame
        The loading-order differences: id, name, dimension, strongest, other, est (difference
        of standardized loadings), se, z, pvalue, ci_lower, ci_upper, ci_method, above_zero.
    indirect : pandas.DataFrame
        ``EFFECT_COLUMNS`` (plus the bootstrap SE and percentile and bca.simple bounds when a
        bootstrap was given): the ``:=`` parameters (kind ``indirect`` for the spec's effects,
        ``defined`` for other definitions) and the total effects (kind ``total``). In a
        multi-group fit (``group`` and ``group_label`` after ``kind``) each effect once per
        group (``PLT_SOL_GIV_g1``) and its difference between each pair of groups (kind
        ``difference``, ``PLT_SOL_GIV_g1_g2``, group label ``"男 - 女"``), totals per group.
    r2 : dict
        R² of the latent variables that are regressed on others (the endogenous constructs);
        keyed ``SOL.g1``, ``SOL.g2``, ... in a multi-group fit (as ``FitResult.r2``).
    bootstrap : BootstrapResult or None
    boot_ci : pandas.DataFrame or None
        The bootstrap CI table, completed with the derived quantities (loading differences,
        total effects) computed from the draws when the bootstrap did not carry them.
    level : float
    f2 : pandas.DataFrame
        ``F2_COLUMNS``: Cohen's f² of every predictor of every endogenous construct
        (:func:`effect_sizes`); empty when the data were not given to :func:`analyze`.
    """

    hypotheses: pd.DataFrame
    contrasts: pd.DataFrame
    indirect: pd.DataFrame
    r2: dict
    bootstrap: BootstrapResult | None = field(default=None, repr=False)
    boot_ci: pd.DataFrame | None = field(default=None, repr=False)
    level: float = 0.95
    f2: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=F2_COLUMNS))

    def summary(self) -> str:
        """Hypotheses, loading contrasts, indirect and total effects, R² and f² as text."""
        from ..sem.summary import table_text

        hyp = self.hypotheses.set_index("id")[[c for c in ("lhs", "op", "rhs", "std_all", "est",
                                                           "pvalue", "ci_lower", "ci_upper",
                                                           "ci_method", "verdict")]]
        eff = self.indirect.set_index("id").drop(columns=["expression"], errors="ignore")
        return "\n".join([table_text("Hypotheses", hyp),
                          table_text("Loading contrasts", self.contrasts),
                          table_text("Indirect and total effects", eff),
                          table_text("R-Square", self.r2),
                          table_text("f-squared", self.f2)])

    def _repr_html_(self) -> str:
        from ..sem.summary import summary_html

        return summary_html(self.summary())

    def to_dict(self) -> dict:
        """JSON-ready ``{hypotheses, contrasts, indirect, structural_r2, f2, bootstrap}``."""
        boot = None
        if self.bootstrap is not None:
            boot = self.bootstrap.to_dict()
            if self.boot_ci is not None:
                boot["ci"] = records(self.boot_ci)
        return {
            "hypotheses": records(self.hypotheses),
            "contrasts": records(self.contrasts),
            "indirect": records(self.indirect),
            "structural_r2": json_value(self.r2),
            "f2": records(self.f2),
            "bootstrap": boot,
        }


def _jacobian(model, theta, quantities, h: float = 1e-6, group: int = 0) -> np.ndarray:
    """Central-difference Jacobian of derived quantities with respect to theta
    (:func:`riskmodel_sem.sem.numdiff.central_jacobian`), in group ``group`` (0-based); the
    2q shifted parameter vectors are evaluated as one stack of matrices."""
    ev = DerivedEvaluator(model, quantities)
    # C order, as the column-by-column Jacobian was: the delta-method sums run in that order
    return np.ascontiguousarray(central_jacobian(
        lambda t: ev(*model.matrices_batch(t, group)[:2]), theta, h=h, vectorized=True))


def _wald(est, se, level):
    crit = norm_ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    p = 2.0 * norm_sf(np.abs(z))
    return z, p, est - crit * se, est + crit * se


def _boot_derived(model, boot: BootstrapResult, quantities, group: int = 0) -> np.ndarray:
    """Draws of the derived quantities: taken from the bootstrap when it carries them,
    otherwise computed from the drawn parameter vectors (in group ``group``, 0-based)."""
    names = list(boot.names)
    q = model.n_free
    start = boot.draws.shape[1]
    out = np.full((boot.draws.shape[0], len(quantities)), np.nan)
    missing = []
    for j, d in enumerate(quantities):
        if d.name in names[start:]:
            out[:, j] = boot.derived_draws[:, names.index(d.name) - start]
        else:
            missing.append(j)
    if missing:
        ev = DerivedEvaluator(model, [quantities[j] for j in missing])
        ok = np.all(np.isfinite(boot.draws[:, :q]), axis=1)
        if ok.any():
            A, S, _ = model.matrices_batch(boot.draws[ok, :q], group)
            out[np.ix_(ok, missing)] = ev(A, S)
    return out


def _verdict(significant: bool, est: float, sign: str) -> tuple[bool, str]:
    if not significant or not np.isfinite(est):
        return False, "not supported"
    if sign == "none" or (sign == "+" and est > 0) or (sign == "-" and est < 0):
        return True, "supported"
    return False, "opposite sign"


def _boot_row(boot_ci, name, op=":=", rhs=None, group=None):
    if boot_ci is None:
        return None
    sel = (boot_ci["lhs"] == name) & (boot_ci["op"] == op)
    if rhs is not None:
        sel &= boot_ci["rhs"] == rhs
    if group is not None and "group" in boot_ci.columns:
        sel &= boot_ci["group"] == group
    return boot_ci[sel].iloc[0] if sel.any() else None


def _group_block(fit, spec, bootstrap, boot_ci, level, alpha, g, tag):
    """Hypotheses, loading contrasts and total effects of group ``g`` (0-based; the whole
    model for a single group). Returns ``(hypotheses, contrasts, totals, boot_rows)`` as
    lists of records; ``tag`` (group number and label) is put in front of every record, and
    the derived quantities of a multi-group model are named with the suffix ``_g<k>``."""
    model = fit.model
    theta = np.asarray(fit.theta, dtype=float)
    vcov = np.asarray(fit.vcov, dtype=float)
    G = model.ngroups
    suffix = f"_g{g + 1}" if G > 1 else ""
    est_tab = fit.estimates
    pt = model.partable
    if G > 1:
        est_tab = est_tab[est_tab["group"] == g + 1]
        view = SimpleNamespace(partable=pt[pt["group"] == g + 1])
    else:
        view = model
    quantities = spec_quantities(spec, view) if spec is not None else ()
    quantities = tuple(Derived(d.name + suffix, d.expression, d.terms) for d in quantities)
    # totals also in standardized form, evaluated alongside (not bootstrapped separately)
    std_totals = tuple(Derived(d.name + "_std", d.expression,
                               tuple((c, "total_std", lhs, op, rhs)
                                     for c, _k, lhs, op, rhs in d.terms))
                       for d in quantities if d.name.startswith("total_"))
    A, S, _ = model.matrices(theta, g)
    q_est = DerivedEvaluator(model, quantities)(A, S) if quantities else np.zeros(0)
    q_std = DerivedEvaluator(model, std_totals)(A, S) if std_totals else np.zeros(0)
    if quantities:
        jac = _jacobian(model, theta, quantities, group=g)
        q_se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0, None))
    else:
        q_se = np.zeros(0)
    q_z, q_p, q_lo, q_hi = _wald(q_est, q_se, level)
    q_index = {d.name: j for j, d in enumerate(quantities)}

    q_boot = None
    boot_rows = []
    if bootstrap is not None and quantities:
        draws_q = _boot_derived(model, bootstrap, quantities, g)
        se_b = bootstrap_se(draws_q, ddof=1)
        lo_p, hi_p = percentile_ci(draws_q, q_est, level)
        lo_b, hi_b = bca_simple_ci(draws_q, q_est, level)
        q_boot = dict(se=se_b, lo_p=lo_p, hi_p=hi_p, lo_b=lo_b, hi_b=hi_b)
        have = set(boot_ci.loc[boot_ci["op"] == ":=", "lhs"])
        boot_rows = [{"lhs": d.name, "op": ":=", "rhs": d.expression, "label": d.name,
                      "est": q_est[j], "se": se_b[j], "ci_lower_perc": lo_p[j],
                      "ci_upper_perc": hi_p[j], "ci_lower_bc": lo_b[j], "ci_upper_bc": hi_b[j]}
                     for j, d in enumerate(quantities) if d.name not in have]

    # ---- hypotheses ----
    hyp_rows, contrast_rows = [], []
    position: dict = {}  # (lhs, op, rhs) -> the first such row of the estimates
    for k, key in enumerate(zip(est_tab["lhs"], est_tab["op"], est_tab["rhs"])):
        position.setdefault(key, k)
    for h in getattr(spec, "hypotheses", ()) if spec is not None else ():
        if h.kind == "path":
            at = position.get((h.lhs, "~", h.rhs))
            row = dict(id=h.id, **tag, kind="path", lhs=h.lhs, op="~", rhs=h.rhs,
                       expected_sign=h.sign, test=f"{h.lhs} ~ {h.rhs}")
            if at is None:
                row.update(est=np.nan, std_all=np.nan, se=np.nan, z=np.nan, pvalue=np.nan,
                           ci_lower=np.nan, ci_upper=np.nan, ci_method="", supported=None,
                           verdict="not in model")
                hyp_rows.append(row)
                continue
            r = est_tab.iloc[at]
            row.update(est=r["est"], std_all=r["std_all"], se=r["se"], z=r["z"],
                       pvalue=r["pvalue"])
            br = _boot_row(boot_ci, h.lhs, "~", h.rhs, group=g + 1 if G > 1 else None)
            if br is not None:
                lo, hi, method = br["ci_lower_perc"], br["ci_upper_perc"], "bootstrap percentile"
                significant = bool(lo > 0 or hi < 0)
            else:
                lo, hi, method = r["ci_lower"], r["ci_upper"], "Wald"
                significant = bool(r["pvalue"] < alpha)
            supported, verdict = _verdict(significant, r["est"], h.sign)
            row.update(ci_lower=lo, ci_upper=hi, ci_method=method, supported=supported,
                       verdict=verdict)
            hyp_rows.append(row)
        elif h.kind == "loading_order":
            dim = h.dimension or h.lhs
            best = h.strongest or h.rhs
            at = position.get((dim, "=~", best))
            have_q = [o for o in h.others if f"{h.id}_{best}_{o}{suffix}" in q_index]
            row = dict(id=h.id, **tag, kind="loading_order", lhs=dim, op="=~", rhs=best,
                       expected_sign="+",
                       test="; ".join(f"std_all({dim}=~{best}) - std_all({dim}=~{o})"
                                      for o in h.others))
            if at is None or not have_q:
                row.update(est=np.nan, std_all=np.nan, se=np.nan, z=np.nan, pvalue=np.nan,
                           ci_lower=np.nan, ci_upper=np.nan, ci_method="", supported=None,
                           verdict="not in model")
                hyp_rows.append(row)
                continue
            crows = []
            for o in have_q:
                name = f"{h.id}_{best}_{o}{suffix}"
                j = q_index[name]
                if q_boot is not None:
                    lo, hi, method = q_boot["lo_p"][j], q_boot["hi_p"][j], "bootstrap percentile"
                else:
                    lo, hi, method = q_lo[j], q_hi[j], "delta method Wald"
                crows.append(dict(id=h.id, **tag, name=name, dimension=dim, strongest=best,
                                  other=o, est=q_est[j], se=q_se[j], z=q_z[j], pvalue=q_p[j],
                                  ci_lower=lo, ci_upper=hi, ci_method=method,
                                  above_zero=bool(lo > 0)))
            contrast_rows.extend(crows)
            weakest = min(crows, key=lambda c: c["ci_lower"])
            if all(c["ci_lower"] > 0 for c in crows):
                supported, verdict = True, "supported"
            elif any(c["ci_upper"] < 0 for c in crows):
                supported, verdict = False, "opposite sign"
            else:
                supported, verdict = False, "not supported"
            r = est_tab.iloc[at]
            row.update(est=r["est"], std_all=r["std_all"], se=weakest["se"], z=weakest["z"],
                       pvalue=weakest["pvalue"], ci_lower=weakest["ci_lower"],
                       ci_upper=weakest["ci_upper"], ci_method=weakest["ci_method"],
                       supported=supported, verdict=verdict)
            hyp_rows.append(row)

    # ---- total effects ----
    totals = []
    std_index = {d.name[:-4]: j for j, d in enumerate(std_totals)}
    std_draws = (_boot_derived(model, bootstrap, std_totals, g)
                 if q_boot is not None and std_totals else None)
    for d in quantities:
        if not d.name.startswith("total_"):
            continue
        j = q_index[d.name]
        _, _, outcome, _, cause = d.terms[0]
        row = dict(id=d.name, kind="total", **tag, path=f"{cause} -> {outcome} (total)",
                   expression=d.expression, est=q_est[j], se=q_se[j], z=q_z[j],
                   pvalue=q_p[j], ci_lower=q_lo[j], ci_upper=q_hi[j],
                   std_all=q_std[std_index[d.name]])
        if q_boot is not None:
            row.update(se_boot=q_boot["se"][j], ci_lower_perc=q_boot["lo_p"][j],
                       ci_upper_perc=q_boot["hi_p"][j], ci_lower_bc=q_boot["lo_b"][j],
                       ci_upper_bc=q_boot["hi_b"][j])
            k = std_index[d.name]
            lo_s, hi_s = percentile_ci(std_draws[:, k:k + 1], np.array([row["std_all"]]), level)
            row.update(std_ci_lower_perc=lo_s[0], std_ci_upper_perc=hi_s[0])
        totals.append(row)
    return hyp_rows, contrast_rows, totals, boot_rows


def analyze(fit, spec, bootstrap: BootstrapResult | None = None, *,
            level: float | None = None, data: pd.DataFrame | None = None) -> StructuralResult:
    """Judge the spec's hypotheses and compute indirect and total effects.

    Parameters
    ----------
    fit : riskmodel_sem.sem.estimation.FitResult
        The fitted model (normally ``spec.model_syntax()``).
    spec : riskmodel_sem.survey.spec.Spec
        Its hypotheses and effects (a spec loaded from a ``.lav`` file has none; its ``:=``
        rows are still reported).
    bootstrap : BootstrapResult, optional
        Draws of the same fit; its percentile CIs then decide significance.
    level : float, optional
        Confidence level (default: the bootstrap's, else 0.95).
    data : pandas.DataFrame, optional
        The rows the model was fitted to; when given, Cohen's f² of every structural path is
        computed by refitting the model without it (:func:`effect_sizes`).

    Returns
    -------
    StructuralResult

    Raises
    ------
    ModelError
        When the fit holds no compiled model.

    Notes
    -----
    Delta-method SEs use ``vcov`` and a central-difference Jacobian: for ``:=`` rows they are
    those of ``fit.estimates`` (lavaan's ``parameterEstimates``); for standardized-loading
    differences and total effects se = sqrt(J V J'). Total effects equal lavaan's
    ``c + a*b``-style definitions (e.g. ``total := c + a*b`` in the Political Democracy
    model).
    """
    if fit.model is None or fit.theta is None:
        raise ModelError("The fit holds no compiled model; refit it with fit_model().")
    model = fit.model
    if level is None:
        level = bootstrap.level if bootstrap is not None else 0.95
    alpha = 1.0 - level
    G = model.ngroups
    names = tuple(fit.group_labels) if len(fit.group_labels) == G else tuple(
        str(g) for g in range(1, G + 1))
    boot_ci = bootstrap.ci.copy() if bootstrap is not None else None
    hyp_rows, contrast_rows, total_rows, boot_extra = [], [], [], []
    for g in range(G):
        tag = {} if G == 1 else {"group": g + 1, "group_label": names[g]}
        block = _group_block(fit, spec, bootstrap, boot_ci, level, alpha, g, tag)
        hyp_rows += block[0]
        contrast_rows += block[1]
        total_rows += block[2]
        boot_extra += block[3]
    if boot_extra:
        boot_ci = pd.concat([boot_ci, pd.DataFrame(boot_extra)], ignore_index=True)
    lead = [] if G == 1 else ["group", "group_label"]
    hypotheses = pd.DataFrame(hyp_rows, columns=HYPOTHESIS_COLUMNS[:1] + lead
                              + HYPOTHESIS_COLUMNS[1:])
    contrasts = pd.DataFrame(contrast_rows, columns=["id"] + lead + [
        "name", "dimension", "strongest", "other", "est", "se", "z", "pvalue",
        "ci_lower", "ci_upper", "ci_method", "above_zero"])

    # ---- indirect, defined and total effects ----
    effects = {e.id: e for e in getattr(spec, "effects", ())} if spec is not None else {}
    per_group = {}
    if G > 1:  # the per-group definitions and differences of model_syntax(ngroups=G)
        for e in effects.values():
            for k in range(1, G + 1):
                per_group[f"{e.id}_g{k}"] = (e, "indirect", k, names[k - 1])
                for m in range(k + 1, G + 1):
                    per_group[f"{e.id}_g{k}_g{m}"] = (e, "difference", None,
                                                     f"{names[k - 1]} - {names[m - 1]}")
    est_all = fit.estimates
    std_paths = (_std_indirect_draws(model, bootstrap, [e.path for e in effects.values()])
                 if bootstrap is not None and G == 1 else {})  # (group 1's matrices)
    eff_rows = []
    for r in est_all[est_all["op"] == ":="].itertuples():
        e = effects.get(r.lhs)
        kind, grp, glabel = ("indirect" if e is not None else "defined"), None, ""
        if r.lhs in per_group:
            e, kind, grp, glabel = per_group[r.lhs]
        row = dict(id=r.lhs, kind=kind,
                   path=" -> ".join(e.path) if e is not None else r.rhs, expression=r.rhs,
                   est=r.est, se=r.se, z=r.z, pvalue=r.pvalue, ci_lower=r.ci_lower,
                   ci_upper=r.ci_upper, std_all=r.std_all)
        if G > 1:
            row.update(group=grp, group_label=glabel)
        br = _boot_row(boot_ci, r.lhs)
        if br is not None:
            row.update(se_boot=br["se"], ci_lower_perc=br["ci_lower_perc"],
                       ci_upper_perc=br["ci_upper_perc"], ci_lower_bc=br["ci_lower_bc"],
                       ci_upper_bc=br["ci_upper_bc"])
            draws_std = std_paths.get(tuple(e.path)) if e is not None else None
            if draws_std is not None:
                lo_s, hi_s = percentile_ci(draws_std[:, None], np.array([r.std_all]), level)
                row.update(std_ci_lower_perc=lo_s[0], std_ci_upper_perc=hi_s[0])
        eff_rows.append(row)
    eff_rows += total_rows
    columns = (EFFECT_COLUMNS[:2] + lead + EFFECT_COLUMNS[2:]
               + (_BOOT_COLUMNS if bootstrap is not None else []))
    indirect = pd.DataFrame(eff_rows, columns=columns)
    if G > 1:
        indirect["group"] = indirect["group"].astype("Int64")

    # ---- R² of the endogenous constructs ----
    pt = model.partable
    endo = [v for v in dict.fromkeys(pt.loc[pt["op"] == "~", "lhs"]) if v in model.latent]
    keys = endo if G == 1 else [f"{v}.g{g}" for g in range(1, G + 1) for v in endo]
    r2 = {v: float(fit.r2[v]) for v in keys if v in fit.r2}

    f2 = effect_sizes(fit, data) if data is not None else pd.DataFrame(columns=F2_COLUMNS)
    return StructuralResult(hypotheses=hypotheses, contrasts=contrasts, indirect=indirect,
                            r2=r2, bootstrap=bootstrap, boot_ci=boot_ci, level=float(level),
                            f2=f2)


def _std_indirect_draws(model, boot: BootstrapResult, paths) -> dict:
    """Bootstrap draws of standardized indirect effects: for each path ``(x, m, ..., y)``, in
    every draw, the product of the completely standardized coefficients of its steps
    (lavaan's ``std.all`` of a ``:=`` product of path labels), computed for all paths in one
    pass. Paths with a step that is not a regression of the model are left out."""
    pt = model.partable
    regs = {(r.lhs, r.rhs) for r in pt[pt["op"] == "~"].itertuples()}
    steps = {tuple(path): list(zip(path[:-1], path[1:])) for path in paths}
    steps = {path: st for path, st in steps.items()
             if st and all((b, a) in regs for a, b in st)}
    column = {st: j for j, st in enumerate(dict.fromkeys(s for st in steps.values()
                                                         for s in st))}
    if not column:
        return {}
    quantities = tuple(Derived(f"std_{b}_{a}", f"std_all({b}~{a})",
                               ((1.0, "std_all", b, "~", a),)) for a, b in column)
    draws = _boot_derived(model, boot, quantities)
    return {path: np.prod(draws[:, [column[s] for s in st]], axis=1)
            for path, st in steps.items()}


def effect_sizes(fit, data: pd.DataFrame) -> pd.DataFrame:
    """Cohen's f² of every structural path into an endogenous latent variable.

    Parameters
    ----------
    fit : riskmodel_sem.sem.estimation.FitResult
        The fitted model (single group).
    data : pandas.DataFrame
        The rows it was fitted to.

    Returns
    -------
    pandas.DataFrame
        ``F2_COLUMNS``: ``lhs`` (the endogenous construct), ``rhs`` (the predictor), ``label``,
        ``r2_included`` (R² of ``lhs`` in the model), ``r2_excluded`` (R² of ``lhs`` when the
        model is refitted with the path ``lhs ~ rhs`` fixed at 0) and ``f2``.

    Notes
    -----
    f² = (R²_included − R²_excluded) / (1 − R²_included) (Cohen, 1988, p. 410), with
    R²_excluded from refitting the whole model without the predictor's path, as SmartPLS
    computes f² (Hair, Hult, Ringle & Sarstedt, 2022, A Primer on PLS-SEM, 3rd ed., ch. 6).
    ML and MLR refits compute only the estimates, starting from the full model's, on data
    selected once for all of them (:func:`riskmodel_sem.sem.estimation.refit_without`).
    Cohen's benchmarks: .02 small, .15 medium, .35 large (``f2_*`` of the thresholds table).
    Multi-group fits, fits that did not converge and refits that fail give NaN.
    """
    from ..sem.estimation import fit_model, fix_parameter, refit_without

    model = fit.model
    if model is None:
        return pd.DataFrame(columns=F2_COLUMNS)
    pt = model.partable
    regs = pt[(pt["op"] == "~") & pt["lhs"].isin(model.latent)]
    multi = "group" in pt.columns and pt.loc[pt["group"] > 0, "group"].nunique() > 1
    r2_in = {idx: float(fit.r2.get(lhs, np.nan)) for idx, lhs in zip(regs.index, regs["lhs"])}
    dropped = [idx for idx, free in zip(regs.index, regs["free"])
               if not multi and free > 0 and np.isfinite(r2_in[idx])]
    refits = dict.fromkeys(dropped)
    if fit.estimator in ("ML", "MLR") and fit.theta is not None:
        # only the estimates, from the full model's (ML and MLR share them), on data
        # prepared once for all the reduced models
        try:
            refits.update(zip(dropped, refit_without(fit, data, dropped, source="f2 refit")))
        except (ModelError, ValueError, np.linalg.LinAlgError):
            pass
    else:
        for idx in dropped:
            try:
                refits[idx] = fit_model(fix_parameter(pt, idx)[0], data,
                                        estimator=fit.estimator, missing=fit.missing,
                                        compute_modindices=False, source="f2 refit")
            except (ModelError, ValueError, np.linalg.LinAlgError):
                pass
    rows = []
    for idx, r in regs.iterrows():
        refit = refits.get(idx)
        r2_out = (float(refit.r2.get(r["lhs"], np.nan))
                  if refit is not None and refit.converged else np.nan)
        f2 = ((r2_in[idx] - r2_out) / (1.0 - r2_in[idx])
              if np.isfinite(r2_out) and r2_in[idx] < 1 else np.nan)
        rows.append(dict(lhs=r["lhs"], rhs=r["rhs"], label=r["label"] or "",
                         r2_included=r2_in[idx], r2_excluded=r2_out, f2=f2))
    return pd.DataFrame(rows, columns=F2_COLUMNS)
