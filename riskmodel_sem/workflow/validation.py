"""Measurement validation: screening, reliability, validity and the CFA, with verdicts.

:func:`validate` is the one entry point behind ``riskmodel-sem validate``. It screens the
answers (:mod:`riskmodel_sem.psychometrics.screening`), fits the correlated first-order factors model
(``Spec.measurement_syntax()``) and, when the spec has dimensions, the second-order model,
then computes reliability (:mod:`riskmodel_sem.psychometrics.reliability`) and validity
(:mod:`riskmodel_sem.psychometrics.validity`) and judges each criterion against a published threshold.
Everything lands in one immutable :class:`ValidationResult`; reports only format it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..psychometrics import reliability as rel
from ..psychometrics import validity as val
from .._json import json_value, records
from ..errors import DataQualityWarning, ModelError, OptionError, SurveyDataError
from ..sem.estimation import FitResult, check_options, fit_model, resolve_estimator
from ..psychometrics.screening import ScreeningResult, item_frame, item_statistics, screen
from ..survey.spec import Spec
from .thresholds import CRITERIA, VALIDATION_CRITERIA, judged_measure, passes

__all__ = ["ValidationResult", "validate", "THRESHOLDS", "VERDICT_COLUMNS"]

#: Thresholds of the verdicts, ``{criterion: {value, direction, source}}``: the validation
#: criteria of the one thresholds table (:data:`riskmodel_sem.workflow.thresholds.CRITERIA`) in
#: the plain form stored in :attr:`ValidationResult.thresholds`. ``direction`` is ">=" (pass
#: when value >= threshold), ">", "<", "<=" or "abs<" (pass when |value| < threshold).
THRESHOLDS = {name: CRITERIA[name].as_dict() for name in VALIDATION_CRITERIA}

#: Columns of :attr:`ValidationResult.verdicts`.
VERDICT_COLUMNS = ["criterion", "target", "value", "threshold", "direction", "source", "passed"]

_RELIABILITY_COLUMNS = ["construct", "n_items", "n_obs", "alpha", "alpha_ci_lower",
                        "alpha_ci_upper", "alpha_std", "omega", "cr", "ave"]
_ITEM_COLUMNS = ["item", "construct", "n", "mean", "sd", "skew", "kurtosis", "citc",
                 "alpha_if_deleted", "loading_std"]


@dataclass(frozen=True)
class ValidationResult:
    """Everything ``riskmodel-sem validate`` computes (immutable).

    Attributes
    ----------
    screening : ScreeningResult
        Item and respondent screening, normality and missing-data patterns.
    cfa : FitResult
        The correlated first-order factors model (``spec.measurement_syntax()``).
    second_order : FitResult or None
        The second-order model (first-order factors on the spec's dimensions), if any.
    reliability : pandas.DataFrame
        Per construct: construct, n_items, n_obs, alpha, alpha_ci_lower, alpha_ci_upper
        (Feldt), alpha_std, omega (compRelSEM), cr (standardized), ave (semTools).
    higher_order : pandas.DataFrame
        Per dimension: dimension, omega (``compRelSEM(fit, higher = ...)``), and the
        standardized second-order loadings' minimum; empty without dimensions.
    alpha : dict
        ``{construct: AlphaResult}`` with psych's full output.
    ordinal_alpha : dict
        ``{construct: OrdinalAlphaResult}`` when the items are ordered (``ordered=``):
        Zumbo et al.'s ordinal alpha, psych's alpha of the polychoric correlations; the
        reliability table then has an ``alpha_ordinal`` column.
    items : pandas.DataFrame
        Per item: item, construct, n, mean, sd, skew, kurtosis, citc, alpha_if_deleted,
        loading_std.
    htmt, htmt2, fornell_larcker : pandas.DataFrame
        Construct-by-construct matrices: HTMT (Henseler et al. 2015, arithmetic means), HTMT2
        (Roemer et al. 2021, geometric means; semTools' default), and sqrt(AVE) on the
        diagonal with latent correlations off it. With ordered items HTMT and HTMT2 use
        polychoric correlations (``semTools::htmt(..., ordered = ...)``).
    kmo : KMOResult
        ``overall`` and ``items`` (MSA per item).
    bartlett : BartlettResult
        chisq, df, pvalue, n.
    efa : EFAResult
        Parallel analysis and the rotated EFA.
    harman : HarmanResult
        First-component share of the item variance.
    one_factor : OneFactorResult
        The one-factor CFA's fit and its chi-square difference test against ``cfa``.
    verdicts : pandas.DataFrame
        One row per judged criterion (:data:`VERDICT_COLUMNS`); ``target`` is the construct,
        item, construct pair ("A~B") or "model".
    rows_used : dict
        Rows behind each analysis.
    thresholds : dict
        :data:`THRESHOLDS` as used.
    options : dict
        missing, estimator, drop_flagged, seed, id_column, duration.
    warnings : tuple of str
    """

    screening: ScreeningResult
    cfa: FitResult
    second_order: FitResult | None
    reliability: pd.DataFrame
    higher_order: pd.DataFrame
    alpha: dict
    items: pd.DataFrame
    htmt: pd.DataFrame
    htmt2: pd.DataFrame
    fornell_larcker: pd.DataFrame
    kmo: val.KMOResult
    bartlett: val.BartlettResult
    efa: val.EFAResult
    harman: val.HarmanResult
    one_factor: val.OneFactorResult
    verdicts: pd.DataFrame
    rows_used: dict
    thresholds: dict
    options: dict
    warnings: tuple[str, ...] = field(default=())
    htmt_ci: pd.DataFrame = field(default_factory=pd.DataFrame)
    ordinal_alpha: dict = field(default_factory=dict)

    @property
    def all_passed(self) -> bool:
        """True when every verdict passed."""
        return bool(self.verdicts["passed"].all())

    def summary(self) -> str:
        """Reliability, convergent and discriminant validity and the verdicts as text, then the
        measurement model's lavaan-style summary."""
        from ..sem.summary import table_text

        parts = [table_text("Reliability and convergent validity",
                            self.reliability.set_index("construct")
                            if "construct" in self.reliability.columns else self.reliability),
                 table_text("Fornell-Larcker (diagonal: sqrt(AVE))", self.fornell_larcker),
                 table_text("HTMT", self.htmt)]
        if len(self.verdicts):
            parts.append(table_text("Verdicts", self.verdicts))
        if self.cfa is not None:
            parts.append("Measurement model (CFA):\n" + self.cfa.summary())
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        from ..sem.summary import summary_html

        return summary_html(self.summary())

    def to_dict(self) -> dict:
        """JSON-ready results (NaN as None).

        Top-level keys (issue 4, item 5): ``reliability`` ``{construct: {alpha,
        alpha_ci_lower, alpha_ci_upper, alpha_std, omega, cr, ave}}``, ``items`` (records of
        item, construct, n, mean, sd, skew, kurtosis, citc, alpha_if_deleted, loading_std),
        ``htmt``, ``htmt2`` and ``fornell_larcker`` (nested construct -> construct maps),
        ``kmo``, ``bartlett``, ``efa``, ``normality`` and ``screening`` (with
        ``respondents``: id, flagged, reasons and the indicators). Everything else
        (``verdicts``, ``rows_used``, ``harman``, ``one_factor``, ``omega_higher_order``,
        the CFA's fit measures, thresholds and options) is under ``validation``.
        """
        relmap = {}
        keys = ["alpha", "alpha_ci_lower", "alpha_ci_upper", "alpha_std", "omega", "cr", "ave"]
        if "alpha_ordinal" in self.reliability.columns:
            keys.append("alpha_ordinal")
        for rec in self.reliability.to_dict(orient="records"):
            relmap[rec["construct"]] = {k: json_value(rec[k]) for k in keys}
        items = [{k: json_value(rec[k]) for k in _ITEM_COLUMNS}
                 for rec in self.items.to_dict(orient="records")]
        return {
            "reliability": relmap,
            "items": items,
            "htmt": _matrix(self.htmt),
            "htmt2": _matrix(self.htmt2),
            **({"htmt_ci": records(self.htmt_ci)} if len(self.htmt_ci) else {}),
            "fornell_larcker": _matrix(self.fornell_larcker),
            "kmo": self.kmo.to_dict(),
            "bartlett": self.bartlett.to_dict(),
            "efa": self.efa.to_dict(),
            "normality": {k: json_value(v) for k, v in self.screening.normality.items()},
            "screening": self.screening.to_dict(),
            "validation": {
                "options": {k: json_value(v) for k, v in self.options.items()},
                "rows_used": {k: json_value(v) if not isinstance(v, dict)
                              else {kk: json_value(vv) for kk, vv in v.items()}
                              for k, v in self.rows_used.items()},
                "verdicts": [{k: json_value(v) for k, v in rec.items()}
                             for rec in self.verdicts.to_dict(orient="records")],
                "all_passed": self.all_passed,
                "omega_higher_order": {r["dimension"]: json_value(r["omega"]) for r in
                                       self.higher_order.to_dict(orient="records")},
                "harman": self.harman.to_dict(),
                "one_factor": self.one_factor.to_dict(),
                "ordinal_alpha": {c: json_value(a.to_dict())
                                  for c, a in self.ordinal_alpha.items() if a is not None},
                "estimator_recommendation": {
                    k: json_value(self.screening.normality.get(k)) for k in (
                        "recommendation", "reason", "recommendation_source")},
                "measurement_fit": {k: json_value(v) for k, v in self.cfa.fit.items()},
                "second_order_fit": (None if self.second_order is None else
                                     {k: json_value(v) for k, v in self.second_order.fit.items()}),
                "thresholds": json_value(self.thresholds),
                "warnings": list(self.warnings),
            },
        }


def _matrix(df: pd.DataFrame) -> dict:
    return {str(r): {str(c): json_value(df.loc[r, c]) for c in df.columns} for r in df.index}


class _Verdicts:
    def __init__(self, thresholds: dict) -> None:
        self.thr = thresholds
        self.rows: list[dict] = []

    def add(self, criterion: str, target: str, value, threshold=None) -> None:
        spec = self.thr[criterion]
        t = spec["value"] if threshold is None else threshold
        v = None if value is None else float(value)
        self.rows.append({"criterion": criterion, "target": target, "value": v,
                          "threshold": None if t is None else float(t),
                          "direction": spec["direction"], "source": spec["source"],
                          "passed": passes(v, t, spec["direction"])})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=VERDICT_COLUMNS)


def _second_order_syntax(spec: Spec) -> str | None:
    dims = [d for d in spec.dimensions if len(d.factors) >= 2]
    if not dims:
        return None
    lines = [spec.measurement_syntax().rstrip("\n"), "# second-order dimensions"]
    lines += [f"{d.code} =~ " + " + ".join(d.factors) for d in dims]
    return "\n".join(lines) + "\n"


def validate(survey, spec: Spec, *, missing: str = "listwise", estimator: str | None = None,
             id_column: str | None = None, duration: str | None = None,
             drop_flagged: bool = False, seed: int = 20231, n_iter: int = 100,
             ordered=None, bootstrap: int = 0) -> ValidationResult:
    """Validate the measurement model: screening, reliability, validity and the CFA.

    Parameters
    ----------
    survey : SurveyData or pandas.DataFrame
        The answers (see :func:`riskmodel_sem.psychometrics.screening.item_frame`).
    spec : Spec
        YAML spec or a spec loaded from a ``.lav`` file (constructs from its ``=~`` lines).
    missing : {"listwise", "fiml"}
        ``"listwise"``: every analysis uses the rows that answered all construct items.
        ``"fiml"``: the CFAs use full-information ML; alpha uses pairwise covariances on all
        rows (psych's default), HTMT, KMO, Bartlett and the EFA use the EM correlation
        matrix (``lavCor(missing = "ml")``).
    estimator : {"ML", "MLR", "WLSMV", "ULSMV", "DWLS", "ULS"}
        Estimator of the CFAs.
    id_column, duration : str, optional
        Respondent-id and completion-time columns (screening).
    drop_flagged : bool, default False
        Leave out the respondents flagged by screening from all analyses after screening.
    seed : int
        Seed of the parallel analysis.
    n_iter : int
        Random data sets of the parallel analysis.
    bootstrap : int, default 0
        With a number of draws, bootstrap percentile intervals of HTMT
        (:func:`riskmodel_sem.psychometrics.validity.htmt_bootstrap`, seeded by ``seed``;
        listwise data only), shown beside HTMT in the reports as SmartPLS prints them.
    ordered : None, True, "all" or list of str
        Items to treat as ordered (lavaan's ``ordered =``): each construct whose items are
        all ordered also gets Zumbo et al.'s ordinal alpha (``alpha_ordinal``), and HTMT /
        HTMT2 use polychoric correlations (listwise, or pairwise with ``missing="fiml"``),
        as ``semTools::htmt(..., ordered = ...)``. KMO, Bartlett, the EFA and Harman's test
        keep Pearson correlations.

    Returns
    -------
    ValidationResult

    Raises
    ------
    OptionError
        For an unknown ``missing`` or ``estimator``.
    SurveyDataError
        If items are missing from the data or too few rows remain.
    ModelError
        If the measurement model cannot be estimated.

    Notes
    -----
    Reference numbers matched (see ``tests/test_measurement.py``): ``psych::alpha``,
    ``semTools::compRelSEM``, ``semTools::AVE`` and ``semTools::htmt`` (with
    ``htmt2 = TRUE`` and ``FALSE``). The one-factor model is tested against the measurement
    model with a chi-square difference (Satorra-Bentler scaled for MLR).

    Examples
    --------
    >>> spec = load_spec("specs/gcrm.yaml")                             # doctest: +SKIP
    >>> res = validate(read_survey("surveys/gcrm_synthetic.xlsx", spec), spec)  # doctest: +SKIP
    >>> res.reliability[["construct", "alpha", "cr"]].round(2).head(2)  # doctest: +SKIP
    """
    estimator, ordered = resolve_estimator(estimator, ordered)
    estimator, missing = check_options(estimator, missing)
    constructs = {c.code: list(c.item_codes) for c in spec.constructs if c.items}
    if not constructs:
        raise SurveyDataError("The spec has no constructs with items to validate.")
    notes: list[str] = []  # everything the result reports
    own: list[str] = []    # the remarks made here (stages warn for themselves)

    scr = screen(survey, spec, id_column=id_column, duration=duration)
    notes.extend(scr.warnings)

    items, _, _ = item_frame(survey, spec, id_column=id_column)
    cols = [i for v in constructs.values() for i in v]
    frame = items[cols]
    keep = np.ones(len(frame), dtype=bool)
    n_dropped = 0
    if drop_flagged:
        keep &= ~scr.respondents["flagged"].to_numpy()
        n_dropped = int((~keep).sum())
    any_answer = frame.notna().any(axis=1).to_numpy()
    keep &= any_answer
    data = frame[keep].reset_index(drop=True)
    complete = data.dropna().reset_index(drop=True)
    analysis = complete if missing == "listwise" else data
    if len(analysis) < len(cols) + 1:
        where = getattr(survey, "source", None)
        why = []
        if n_dropped:
            why.append(f"{n_dropped} of {len(frame)} rows were dropped as flagged by screening "
                       "(--drop-flagged)")
        if missing == "listwise" and len(complete) < len(data):
            why.append(f"{len(data) - len(complete)} incomplete row(s) were left out (listwise)")
        raise SurveyDataError(
            (f"{where}: " if where else "")
            + f"Only {len(analysis)} usable rows for {len(cols)} items"
            + (f" ({'; '.join(why)})" if why else "")
            + "; validation needs at least " + str(len(cols) + 1)
            + (". Leave out --drop-flagged or check the screening thresholds." if n_dropped
               else ". Collect more answers or remove items from the spec."))
    if missing == "listwise" and len(complete) < len(data):
        own.append(f"{len(data) - len(complete)} row(s) with missing answers were left out "
                     "(listwise); the FIML option (--missing fiml) keeps them.")

    def fit(syntax: str, source: str, mi: bool) -> FitResult:
        return fit_model(syntax, analysis, estimator=estimator, missing=missing,
                         source=source, compute_modindices=mi,
                         ordered=None if ordered is None else (
                             ordered if ordered is True else
                             tuple(v for v in ordered if v in cols) or None))

    cfa = fit(spec.measurement_syntax(), "measurement model", True)
    notes.extend(cfa.warnings)

    second = None
    higher_rows = []
    so_syntax = _second_order_syntax(spec)
    if so_syntax is not None:
        try:
            second = fit(so_syntax, "second-order model", False)
            notes.extend(second.warnings)
            dims = [d.code for d in spec.dimensions if len(d.factors) >= 2]
            hom = rel.omega_higher_order(second, dims)
            est = second.estimates
            for d in dims:
                lo = est[(est["op"] == "=~") & (est["lhs"] == d)]["std_all"]
                higher_rows.append({"dimension": d, "omega": hom[d],
                                    "min_loading_std": float(lo.min()),
                                    "n_factors": int(len(lo))})
        except ModelError as exc:
            own.append(f"The second-order model could not be estimated ({exc}); "
                         "higher-order omegas are left out.")
    higher = pd.DataFrame(higher_rows, columns=["dimension", "omega", "min_loading_std",
                                                "n_factors"])

    # reliability ------------------------------------------------------------------------
    alpha_rows = complete if missing == "listwise" else data
    ords = val.ordered_columns(cols, ordered)
    poly_missing = "listwise" if missing == "listwise" else "pairwise"
    ordinal_alphas: dict = {}
    omegas = rel.omega(cfa)
    aves = rel.ave(cfa)
    crs = rel.composite_reliability(cfa)
    alphas: dict = {}
    rel_rows = []
    for c, its in constructs.items():
        a = None
        if len(its) >= 2:
            try:
                a = rel.cronbach_alpha(alpha_rows[its])
            except SurveyDataError as exc:
                own.append(f"{c}: {exc}")
        alphas[c] = a
        oa = None
        if ords and len(its) >= 2 and all(i in ords for i in its):
            try:
                oa = rel.ordinal_alpha(alpha_rows[its], missing=poly_missing)
            except (SurveyDataError, ModelError, OptionError) as exc:
                own.append(f"{c}: ordinal alpha: {exc}")
            ordinal_alphas[c] = oa
        rel_rows.append({
            "construct": c, "n_items": len(its), "n_obs": a.n_obs if a else len(alpha_rows),
            "alpha": a.alpha if a else np.nan,
            "alpha_ci_lower": a.alpha_ci_lower if a else np.nan,
            "alpha_ci_upper": a.alpha_ci_upper if a else np.nan,
            "alpha_std": a.alpha_std if a else np.nan,
            "omega": omegas.get(c, np.nan), "cr": crs.get(c, np.nan), "ave": aves.get(c, np.nan),
            "alpha_ordinal": oa.alpha if oa is not None else np.nan})
    rel_columns = list(_RELIABILITY_COLUMNS)
    if ords:
        rel_columns.insert(rel_columns.index("alpha_std") + 1, "alpha_ordinal")
    reliability = pd.DataFrame(rel_rows, columns=rel_columns)

    # items --------------------------------------------------------------------------------
    desc = item_statistics(alpha_rows[cols], spec).set_index("item")
    est = cfa.estimates
    load = est[(est["op"] == "=~")].set_index(["lhs", "rhs"])["std_all"]
    item_rows = []
    for c, its in constructs.items():
        a = alphas[c]
        at = a.items.set_index("item") if a is not None else None
        for i in its:
            item_rows.append({
                "item": i, "construct": c, "n": int(desc.loc[i, "n"]),
                "mean": desc.loc[i, "mean"], "sd": desc.loc[i, "sd"],
                "skew": desc.loc[i, "skew"], "kurtosis": desc.loc[i, "kurtosis"],
                "citc": at.loc[i, "citc"] if at is not None else np.nan,
                "alpha_if_deleted": at.loc[i, "alpha_if_deleted"] if at is not None else np.nan,
                "loading_std": float(load.get((c, i), np.nan))})
    items_tab = pd.DataFrame(item_rows, columns=_ITEM_COLUMNS)

    # validity -----------------------------------------------------------------------------
    corr_missing = "listwise" if missing == "listwise" else "fiml"
    corr = val.correlation_matrix(analysis[cols], corr_missing)
    n_corr = len(analysis)
    htmt_corr = corr
    if ords:
        htmt_corr = val.correlation_matrix(alpha_rows[cols], poly_missing, ordered=ords)
    htmt1 = val.htmt(None, constructs, geometric=False, corr=htmt_corr)
    htmt2 = val.htmt(None, constructs, geometric=True, corr=htmt_corr)
    htmt_ci = (val.htmt_bootstrap(analysis[cols], constructs, n_boot=int(bootstrap), seed=seed)
               if bootstrap and missing == "listwise" and not ords else pd.DataFrame())
    fl = val.fornell_larcker(cfa, aves)
    kmo_res = val.kmo(corr)
    bart = val.bartlett(corr, n_corr)
    efa_res = val.efa(corr, n_corr, n_iter=n_iter, seed=seed)
    harm = val.harman(corr)
    one = val.one_factor_cfa(analysis, cols, cfa, estimator=estimator, missing=missing)
    own.extend(one.warnings)

    # verdicts -----------------------------------------------------------------------------
    thr = {k: dict(v) for k, v in THRESHOLDS.items()}
    v = _Verdicts(thr)
    for rec in reliability.to_dict(orient="records"):
        c = rec["construct"]
        for crit in ("alpha", "alpha_ordinal", "omega", "cr", "ave"):
            if crit in rec and not (isinstance(rec[crit], float) and math.isnan(rec[crit])):
                v.add(crit, c, rec[crit])
    for rec in higher.to_dict(orient="records"):
        v.add("omega_higher_order", rec["dimension"], rec["omega"])
    for rec in items_tab.to_dict(orient="records"):
        v.add("loading_std", rec["item"], rec["loading_std"])
        if not math.isnan(rec["citc"]):
            v.add("citc", rec["item"], rec["citc"])
        v.add("skew", rec["item"], rec["skew"])
        v.add("kurtosis", rec["item"], rec["kurtosis"])
    names = list(fl.index)
    for f in names:
        others = [abs(fl.loc[f, g]) for g in names if g != f]
        if others:
            v.add("fornell_larcker", f, fl.loc[f, f], threshold=max(others))
    cnames = list(htmt1.index)
    for a_i, fa in enumerate(cnames):
        for fb in cnames[a_i + 1:]:
            pair = f"{fa}~{fb}"
            v.add("htmt", pair, htmt1.loc[fa, fb])
            v.add("htmt_liberal", pair, htmt1.loc[fa, fb])
            v.add("htmt2", pair, htmt2.loc[fa, fb])
            v.add("htmt2_liberal", pair, htmt2.loc[fa, fb])
    v.add(kmo_res.criterion, "model", kmo_res.criterion_value)
    for i, msa in kmo_res.items.items():
        v.add("kmo_item", str(i), msa)
    for res in (bart, harm, one):
        v.add(res.criterion, "model", res.criterion_value)
    for crit in ("cfi", "tli", "rmsea"):
        v.add(crit, "model", cfa.fit.get(judged_measure(crit, cfa.estimator, cfa.fit)))
    v.add("srmr", "model", cfa.fit.get("srmr"))
    verdicts = v.frame()

    recommended = scr.normality.get("recommendation")
    if recommended and recommended != estimator:
        own.append(f"Screening recommends {recommended} (this run used {estimator}): "
                   f"{scr.normality['reason']}")

    rows_used = {
        "screened": scr.n_rows,
        "flagged": scr.n_flagged,
        "dropped_flagged": n_dropped,
        "no_answer": int((~any_answer).sum()),
        "analysis": int(len(analysis)),
        "complete": int(len(complete)),
        "cfa": int(cfa.n_obs),
        "second_order": None if second is None else int(second.n_obs),
        "one_factor": int(one.n_obs),
        "alpha": int(len(alpha_rows)),
        "correlations": int(n_corr),
    }
    options = {"missing": missing, "estimator": estimator, "drop_flagged": bool(drop_flagged),
               "seed": int(seed), "n_iter": int(n_iter), "id_column": id_column,
               "duration": duration, "ordered": list(ords)}
    for msg in dict.fromkeys(own):
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
    notes.extend(own)
    return ValidationResult(
        screening=scr, cfa=cfa, second_order=second, reliability=reliability,
        higher_order=higher, alpha=alphas, items=items_tab, htmt=htmt1, htmt2=htmt2,
        fornell_larcker=fl, kmo=kmo_res,
        bartlett=bart, efa=efa_res, harman=harm, one_factor=one, verdicts=verdicts,
        rows_used=rows_used, thresholds=thr, options=options,
        warnings=tuple(dict.fromkeys(notes)), htmt_ci=htmt_ci, ordinal_alpha=ordinal_alphas)

