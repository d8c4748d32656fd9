"""The tables a journal prints, built from the result objects: one function per table.

Each function returns a :class:`~riskmodel_sem.report.tables.Table` (or None when the analysis
lacks the stage) made of three things: the rows taken from result objects, a column spec
(key, header, kind of number) and the texts of :mod:`riskmodel_sem.report.labels`. The same
tables fill the workbook, the page and the Word document; nothing here computes a statistic
(the only arithmetic is choosing which given number goes in which cell).

Tables: :func:`measurement_table` (construct, item, standardized λ, SE, z, p, α, CR, AVE, ω),
:func:`thresholds_table` (the thresholds of ordered items), :func:`fit_table` (χ², df, χ²/df,
CFI, TLI, RMSEA [90% CI], SRMR, GFI, AGFI, NFI, IFI with thresholds and sources; with WLSMV
and ULSMV also the scaled-shifted χ² and the scaled and robust indices), :func:`fornell_larcker_table` and :func:`htmt_table` (lower
triangles), :func:`paths_table` (hypotheses with their statements), :func:`r2_table` (R² and
f²), :func:`indirect_table`, :func:`comparison_table`, :func:`nested_tests_table` and
:func:`invariance_table`; :func:`methods_paragraph` is the methods text (the estimator and
why).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..workflow.thresholds import CRITERIA, f2_size, fit_criterion
from .labels import TEXT, column_header, element_name, localized, text
from .numbers import DASH, format_number
from .tabular import Column, Table, cell_value

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from ..sem.estimation import FitResult
    from ..workflow.analysis import Analysis

__all__ = ["PAPER_TABLES", "paper_tables", "measurement_table", "fit_table", "fit_table_rows",
           "thresholds_table", "methods_paragraph", "methods_table",
           "fornell_larcker_table", "htmt_table", "paths_table", "r2_table", "indirect_table",
           "comparison_table", "nested_tests_table", "invariance_table", "ci_text", "describe"]


def _t(key: str, lang: str) -> str:
    return text(key, lang)


#: The text keys of each language (the methods text of an estimator without one is left out).
_TEXT_KEYS = {lang: frozenset(keys) for lang, keys in TEXT.items()}


def _num(v: Any) -> float | None:
    v = cell_value(v)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def ci_text(lo: Any, hi: Any, kind: str = "num") -> str:
    """An interval as papers print it: ``"[.081, .214]"`` (``""`` when a bound is missing)."""
    lo, hi = _num(lo), _num(hi)
    if lo is None or hi is None:
        return ""
    return f"[{format_number(lo, kind)}, {format_number(hi, kind)}]"


def describe(crit) -> str:
    """A criterion of the thresholds table as papers print it: ``"≥ .95"``, ``"≤ 3"``."""
    symbol = crit.describe().split(" ")[0] if crit.value is not None else crit.describe()
    if crit.value is None:
        return symbol
    if crit.direction == "abs<":
        symbol = "|x| <"
    kind = "std" if abs(crit.value) < 1 else "int" if float(crit.value).is_integer() else "num"
    return f"{symbol} {format_number(crit.value, kind, decimals=2)}"


def _named(spec, code: str, lang: str) -> str:
    name = element_name(spec, code, lang)
    return f"{code} {name}".strip() if name and name != code else code


# ---------------------------------------------------------------------------------------------
# measurement
# ---------------------------------------------------------------------------------------------

def _measurement_fit(a: Analysis) -> tuple[FitResult | None, str]:
    """The fit whose loadings the measurement table shows, and its description key."""
    if a.validation is not None and a.validation.cfa is not None:
        return a.validation.cfa, "model_cfa"
    return a.fit, "model_hypothesized"


def measurement_table(a: Analysis, lang: str) -> Table | None:
    """Construct, item, standardized λ, SE, z, p, α, CR, AVE and ω in one table.

    λ, SE, z and p come from the measurement model (the CFA of correlated first-order factors
    of the validation, else the hypothesized model), α, ω, CR and AVE from the reliability
    table of the validation; the marker loading of each factor is fixed (SE, z, p "—").
    Second-order loadings (dimensions on their factors) follow, from the second-order CFA
    when the validation has one.
    """
    fit, which = _measurement_fit(a)
    if fit is None:
        return None
    spec = a.spec
    rel = None
    if a.validation is not None and len(a.validation.reliability):
        rel = a.validation.reliability.set_index("construct")
    cols = [Column("construct", column_header("construct", lang)),
            Column("item", column_header("item", lang)),
            Column("std_all", "λ", "std"), Column("se", column_header("se", lang), "num"),
            Column("z", "z", "num"), Column("pvalue", "p", "p"),
            Column("alpha", "α", "std"), Column("cr", "CR", "std"),
            Column("ave", "AVE", "std"), Column("omega", "ω", "std")]
    est = fit.estimates
    if "group" in est.columns:
        est = est[est["group"] == est["group"].iloc[0]]
    load = est[est["op"] == "=~"]
    latent = set(fit.latent)
    rows: list[list[Any]] = []
    fails: set[tuple[int, int]] = set()
    kinds: dict[tuple[int, int], str] = {}
    sections = [(load[~load["rhs"].isin(latent)], rel, "first")]
    second = None
    if a.validation is not None and a.validation.second_order is not None:
        e2 = a.validation.second_order.estimates
        second = e2[(e2["op"] == "=~") & e2["rhs"].isin(set(a.validation.second_order.latent))]
    elif len(load[load["rhs"].isin(latent)]):
        second = load[load["rhs"].isin(latent)]
    if second is not None and len(second):
        ho = None
        if a.validation is not None and len(a.validation.higher_order):
            ho = a.validation.higher_order.set_index("dimension")
        sections.append((second, ho, "second"))
    for frame, reltab, level in sections:
        previous = None
        for _, r in frame.iterrows():
            first_row = r["lhs"] != previous
            previous = r["lhs"]
            row: list[Any] = [_named(spec, r["lhs"], lang) if first_row else "", r["rhs"],
                              cell_value(r.get("std_all"))]
            fixed = not (_num(r.get("se")) or 0) > 0
            i = len(rows)
            if fixed:
                row += [None, None, None]
                kinds.update({(i, 3): "fixed", (i, 4): "fixed", (i, 5): "fixed"})
            else:
                row += [cell_value(r.get(k)) for k in ("se", "z", "pvalue")]
            for k in ("alpha", "cr", "ave", "omega"):
                v = None
                if first_row and reltab is not None and r["lhs"] in reltab.index \
                        and k in reltab.columns:
                    v = cell_value(reltab.at[r["lhs"], k])
                row.append(v)
            lam = _num(row[2])
            if lam is not None and not CRITERIA["loading_std"].passes(lam):
                fails.add((i, 2))
            for j, k in ((6, "alpha"), (7, "cr"), (8, "ave"), (9, "omega")):
                crit = "omega_higher_order" if (level == "second" and k == "omega") else k
                if row[j] is not None and not CRITERIA[crit].passes(row[j]):
                    fails.add((i, j))
            rows.append(row)
    if not rows:
        return None
    note = _t("measurement_note", lang).format(model=_t(which, lang))
    if second is not None and len(second):
        note += " " + _t("measurement_note_second", lang)
    return Table("measurement", _t("measurement_title", lang), note, cols, rows, fails, kinds)


# ---------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------

#: Rows of the fit table: (fit measure, label); ``rmsea`` carries its 90% interval.
FIT_TABLE_ROWS = (("chisq", "χ²"), ("df", "df"), ("pvalue", "p"), ("chisq_df", "χ²/df"),
                  ("chisq_scaled", "χ² (scaled)"), ("chisq_scaling_factor", "c"),
                  ("cfi", "CFI"), ("tli", "TLI"), ("cfi_robust", "CFI (robust)"),
                  ("tli_robust", "TLI (robust)"), ("rmsea", "RMSEA [90% CI]"),
                  ("rmsea_robust", "RMSEA (robust)"), ("srmr", "SRMR"), ("gfi", "GFI"),
                  ("agfi", "AGFI"), ("nfi", "NFI"), ("ifi", "IFI"))

#: Estimators whose model test is lavaan's mean- and variance-adjusted (scaled-shifted) one.
SCALED_SHIFTED = ("WLSMV", "ULSMV")

#: Rows of the fit table of a WLSMV / ULSMV fit, as Mplus and lavaan users read them: the
#: naive χ² and indices, the scaled-shifted χ² with its p and the indices from it (lavaan's
#: ``.scaled``, what Mplus prints), and Savalei's (2021) robust ones (lavaan's ``.robust``);
#: labels are text keys (None: the label is the same in every language).
ORDINAL_FIT_ROWS = (("chisq", None), ("df", None), ("pvalue", None), ("chisq_df", None),
                    ("chisq_scaled", "fit_chisq_scaled_shifted"),
                    ("pvalue_scaled", "fit_pvalue_scaled_shifted"),
                    ("chisq_scaling_factor", None),
                    ("cfi", None), ("cfi_scaled", "fit_cfi_scaled"),
                    ("cfi_robust", "fit_cfi_robust"), ("tli", None),
                    ("tli_scaled", "fit_tli_scaled"), ("tli_robust", "fit_tli_robust"),
                    ("rmsea", None), ("rmsea_scaled", "fit_rmsea_scaled"),
                    ("rmsea_robust", "fit_rmsea_robust"), ("srmr", None), ("gfi", None),
                    ("agfi", None), ("nfi", None), ("ifi", None))

#: RMSEA rows printed with their 90% interval, and the suffix of its bounds.
_RMSEA_CI = {"rmsea": ""}
_ORDINAL_RMSEA_CI = {"rmsea": "", "rmsea_scaled": "_scaled", "rmsea_robust": "_robust"}


def fit_table_rows(estimator: str, lang: str) -> tuple[tuple[str, str], ...]:
    """(fit measure, label) of the fit table's rows for a fit by ``estimator``:
    :data:`ORDINAL_FIT_ROWS` for WLSMV and ULSMV, :data:`FIT_TABLE_ROWS` otherwise."""
    if estimator not in SCALED_SHIFTED:
        return FIT_TABLE_ROWS
    plain = dict(FIT_TABLE_ROWS)
    return tuple((key, _t(label, lang) if label else plain[key])
                 for key, label in ORDINAL_FIT_ROWS)


def fit_table(a: Analysis, lang: str) -> Table | None:
    """Fit indices of the measurement and the hypothesized model with thresholds, verdicts
    and sources (χ²/df from :func:`riskmodel_sem.sem.comparison.fit_table`)."""
    from ..sem.comparison import fit_table as engine_fit_table

    models = []
    if a.validation is not None and a.validation.cfa is not None:
        models.append((_t("model_cfa_short", lang), a.validation.cfa))
    if a.fit is not None and not (models and models[0][1].syntax == a.fit.syntax):
        models.append((_t("model_hypothesized_short", lang), a.fit))
    if not models:
        return None
    frames = [engine_fit_table({"m": f}, f.estimator).iloc[0] for _, f in models]
    cols = [Column("index", _t("index", lang)), Column("threshold", _t("threshold", lang))]
    for k, (name, _) in enumerate(models):
        cols += [Column(f"value_{k}", name, "auto"),
                 Column(f"verdict_{k}", f"{_t('verdict', lang)} ({name})")]
    cols.append(Column("source", _t("source", lang)))
    rows, fails, kinds = [], set(), {}
    estimator = models[-1][1].estimator
    with_ci = _ORDINAL_RMSEA_CI if estimator in SCALED_SHIFTED else _RMSEA_CI
    for key, label in fit_table_rows(estimator, lang):
        values = []
        for (_, f), frame in zip(models, frames):
            v = frame.get(key) if key in frame.index else f.fit.get(key)
            values.append(_num(v))
        if all(v is None for v in values):
            continue
        crit = fit_criterion(key)
        i = len(rows)
        row: list[Any] = [label, describe(crit) if crit is not None else ""]
        for k, ((_, f), v) in enumerate(zip(models, values)):
            j = 2 + 2 * k
            if key in with_ci and v is not None:
                lo = f.fit.get(f"rmsea_ci_lower{with_ci[key]}")
                hi = f.fit.get(f"rmsea_ci_upper{with_ci[key]}")
                row.append(f"{format_number(v, 'std')} {ci_text(lo, hi, 'std')}".strip())
            else:
                row.append(v)
                kinds[(i, j)] = {"df": "int", "pvalue": "p", "pvalue_scaled": "p",
                                 "chisq": "num", "chisq_scaled": "num", "chisq_df": "num",
                                 "chisq_scaling_factor": "num"}.get(key, "std")
            if crit is not None and v is not None:
                ok = crit.passes(v)
                row.append(crit.word(ok, lang))
                if not ok:
                    fails.update({(i, j), (i, j + 1)})
            else:
                row.append("")
        row.append(crit.source if crit is not None else "")
        rows.append(row)
    note = _t("fit_table_note", lang)
    return Table("fit_indices", _t("fit_table_title", lang), note, cols, rows, fails, kinds)


# ---------------------------------------------------------------------------------------------
# thresholds of ordered items
# ---------------------------------------------------------------------------------------------

def thresholds_table(a: Analysis, lang: str) -> Table | None:
    """The thresholds of the ordered items of the hypothesized model (lavaan's ``|`` rows of
    ``parameterEstimates``): item, threshold (t1, t2, ...), estimate, SE, z and p; None for a
    fit without ordered items."""
    fit = a.fit if a.fit is not None else (a.validation.cfa if a.validation is not None
                                           else None)
    if fit is None or not len(fit.estimates):
        return None
    est = fit.estimates
    th = est[est["op"] == "|"]
    if not len(th):
        return None
    grp = "group" in th.columns and len(fit.group_labels) > 1
    cols = ([Column("group", column_header("group", lang))] if grp else []) + [
        Column("item", column_header("item", lang)),
        Column("item_name", column_header("item_name", lang)),
        Column("threshold", _t("threshold_label", lang)),
        Column("est", column_header("est", lang), "num"),
        Column("se", column_header("se", lang), "num"),
        Column("z", column_header("z", lang), "num"),
        Column("pvalue", column_header("pvalue", lang), "p")]
    rows = []
    for r in th.itertuples(index=False):
        row: list[Any] = []
        if grp:
            row.append(fit.group_labels[int(r.group) - 1])
        name = element_name(a.spec, r.lhs, lang)
        row += [r.lhs, "" if name == r.lhs else name, r.rhs, cell_value(r.est),
                cell_value(r.se), cell_value(r.z), cell_value(r.pvalue)]
        rows.append(row)
    return Table("ordinal_thresholds", _t("thresholds_title", lang),
                 _t("thresholds_note", lang), cols, rows)


def methods_paragraph(a: Analysis, lang: str) -> str:
    """The methods text: the estimator and why (:class:`~riskmodel_sem.workflow.estimator.
    EstimatorChoice`: the screening's advice and its source, the user's choice or the
    default) and, with a bootstrap, how its intervals were drawn; empty without a fit."""
    choice = a.estimator_choice
    fit = a.fit if a.fit is not None else (a.validation.cfa if a.validation is not None
                                           else None)
    if choice is None and fit is None:
        return ""
    estimator = choice.estimator if choice is not None else fit.estimator
    key = f"methods_estimator_{estimator}"
    n_ordered = choice.n_ordered if choice is not None else 0
    parts = [_t(key, lang).format(n_ordered=n_ordered)] if key in _TEXT_KEYS[lang] else []
    if choice is not None:
        why = advice = ""
        if choice.recommended is not None:
            k = choice.min_categories_rule
            if choice.rule == "symmetric_categories":
                why = _t("methods_why_symmetric_categories", lang).format(k=k)
            else:
                sep = "；" if lang == "zh" else "; "
                bits = []
                if choice.n_few_categories:
                    bits.append(_t("methods_why_few_categories", lang).format(
                        n_few=choice.n_few_categories, n_items=choice.n_items, k=k))
                if choice.n_asymmetric:
                    bits.append(_t("methods_why_asymmetric", lang).format(
                        n_asym=choice.n_asymmetric, n_items=choice.n_items))
                why = sep.join(bits)
            advice = _t("methods_wlsmv_advice" if choice.recommended == "WLSMV"
                        else "methods_mlr_advice", lang)
        source = _t("methods_source_short", lang)
        if choice.chosen_by == "screening" and choice.recommended is not None:
            parts.append(_t("methods_by_screening", lang).format(why=why, advice=advice,
                                                                 source=source))
        else:
            parts.append(_t("methods_by_user" if choice.chosen_by == "user"
                            else "methods_by_default", lang))
            if choice.recommended is not None:
                which = "methods_advice_same" if choice.follows_advice else "methods_advice_other"
                parts.append(_t(which, lang).format(recommended=choice.recommended, why=why,
                                                    advice=advice, source=source))
    boot = a.structural.bootstrap if a.structural is not None else None
    if boot is not None:
        ordinal = fit is not None and (fit.estimates["op"] == "|").any()
        parts.append(_t("methods_bootstrap", lang).format(
            b=int(boot.n), ordinal=_t("methods_bootstrap_ordinal", lang) if ordinal else ""))
    return ("" if lang == "zh" else " ").join(parts)


def methods_table(a: Analysis, lang: str) -> Table | None:
    """The methods text as a one-cell table (the workbook's and the page's summary)."""
    paragraph = methods_paragraph(a, lang)
    if not paragraph:
        return None
    return Table("methods", _t("methods_title", lang), _t("methods_table_note", lang),
                 [Column("methods", _t("methods_title", lang))], [[paragraph]])


# ---------------------------------------------------------------------------------------------
# discriminant validity
# ---------------------------------------------------------------------------------------------

def fornell_larcker_table(a: Analysis, lang: str) -> Table | None:
    """Lower triangle of the factor correlations with √AVE in bold on the diagonal
    (Fornell & Larcker, 1981); a correlation above either √AVE is flagged."""
    v = a.validation
    if v is None or not len(v.fornell_larcker):
        return None
    m = v.fornell_larcker
    names = [str(x) for x in m.index]
    cols = [Column("construct", column_header("construct", lang))]
    cols += [Column(n, n, "std") for n in names]
    vals = m.to_numpy(dtype=float)
    rows, fails, bold = [], set(), set()
    for i, n in enumerate(names):
        row: list[Any] = [_named(a.spec, n, lang)]
        for j in range(len(names)):
            if j > i or math.isnan(vals[i, j]):
                row.append(None)
                continue
            row.append(float(vals[i, j]))
            if i == j:
                bold.add((i, j + 1))
            elif abs(vals[i, j]) > vals[i, i] or abs(vals[i, j]) > vals[j, j]:
                fails.add((i, j + 1))
        rows.append(row)
    tab = Table("fornell_larcker_paper", _t("fl_title", lang), _t("fl_paper_note", lang), cols,
                rows, fails)
    tab.bold = bold
    return tab


def htmt_table(a: Analysis, lang: str) -> Table | None:
    """Lower triangle of HTMT, each value with its bootstrap percentile interval when the
    validation computed one (as SmartPLS prints it); values ≥ .85 are flagged."""
    v = a.validation
    if v is None or not len(v.htmt):
        return None
    m = v.htmt
    ci = getattr(v, "htmt_ci", None)
    names = [str(x) for x in m.index]
    vals = m.to_numpy(dtype=float)
    with_ci = ci is not None and len(ci)
    cols = [Column("construct", column_header("construct", lang))]
    cols += [Column(n, n, "text" if with_ci else "std") for n in names[:-1]]
    rows, fails = [], set()
    lookup = {}
    if with_ci:
        for r in ci.itertuples():
            lookup[(str(r.row), str(r.column))] = (r.ci_lower, r.ci_upper)
    for i, n in enumerate(names):
        if i == 0:
            continue
        row: list[Any] = [_named(a.spec, n, lang)]
        for j in range(len(names) - 1):
            if j >= i or math.isnan(vals[i, j]):
                row.append(None)
                continue
            x = float(vals[i, j])
            if with_ci:
                lo, hi = lookup.get((n, names[j]), lookup.get((names[j], n), (None, None)))
                row.append(f"{format_number(x, 'std')} {ci_text(lo, hi, 'std')}".strip())
            else:
                row.append(x)
            if not CRITERIA["htmt"].passes(x):
                fails.add((len(rows), j + 1))
        rows.append(row)
    key = "htmt_paper_note_ci" if with_ci else "htmt_paper_note"
    return Table("htmt_paper", _t("htmt_title", lang), _t(key, lang), cols, rows, fails)


# ---------------------------------------------------------------------------------------------
# structural model
# ---------------------------------------------------------------------------------------------

def _ci_method(method: str, lang: str) -> str:
    key = {"bootstrap percentile": "ci_boot_perc", "Wald": "ci_wald",
           "delta method Wald": "ci_delta", "bootstrap bca.simple": "ci_boot_bc"}.get(method)
    return _t(key, lang) if key else method


def _verdict_word(verdict: str, lang: str) -> str:
    key = {"supported": "supported", "not supported": "not_supported",
           "opposite sign": "opposite_sign", "not in model": "not_in_model"}.get(str(verdict))
    return _t(key, lang) if key else str(verdict)


def paths_table(a: Analysis, lang: str) -> Table | None:
    """One row per hypothesis: id, the statement of the spec, path, β, b, SE, z, p, the 95%
    interval with its method and the verdict. A loading-order hypothesis shows the difference
    of standardized loadings of its weakest contrast (β column; b, SE, z, p of that
    difference are its delta-method values)."""
    st = a.structural
    if st is None or not len(st.hypotheses):
        return None
    spec = a.spec
    statements = {h.id: localized(h, lang) for h in spec.hypotheses}
    level = int(round(100 * st.level))
    cols = [Column("id", _t("hypothesis", lang)), Column("statement", _t("statement", lang)),
            Column("path", column_header("path", lang)), Column("beta", "β", "std"),
            Column("b", "b", "num"), Column("se", column_header("se", lang), "num"),
            Column("z", "z", "num"), Column("pvalue", "p", "p"),
            Column("ci", f"{level}% CI"), Column("ci_method", _t("ci_method", lang)),
            Column("verdict", _t("verdict", lang))]
    rows, fails, kinds = [], set(), {}
    contrasts = st.contrasts
    for h in st.hypotheses.itertuples():
        i = len(rows)
        if h.kind == "loading_order":
            mine = contrasts[contrasts["id"] == h.id] if len(contrasts) else contrasts
            if len(mine):
                weakest = mine.loc[mine["ci_lower"].astype(float).idxmin()]
                path = (f"λ({h.lhs}→{weakest['strongest']}) − λ({h.lhs}→{weakest['other']})")
                row = [h.id, statements.get(h.id, ""), path, cell_value(weakest["est"]), None,
                       cell_value(weakest["se"]), cell_value(weakest["z"]),
                       cell_value(weakest["pvalue"]),
                       ci_text(weakest["ci_lower"], weakest["ci_upper"], "std"),
                       _ci_method(str(weakest["ci_method"]), lang)]
                kinds[(i, 4)] = "fixed"
            else:
                row = [h.id, statements.get(h.id, ""), f"{h.lhs} =~ {h.rhs}"] + [None] * 7
        else:
            row = [h.id, statements.get(h.id, ""), f"{h.rhs} → {h.lhs}",
                   cell_value(h.std_all), cell_value(h.est), cell_value(h.se), cell_value(h.z),
                   cell_value(h.pvalue), ci_text(h.ci_lower, h.ci_upper),
                   _ci_method(str(h.ci_method), lang)]
        row.append(_verdict_word(h.verdict, lang))
        if h.verdict != "supported":
            fails.add((i, 10))
        rows.append(row)
    return Table("paths_paper", _t("paths_table_title", lang), _t("paths_table_note", lang),
                 cols, rows, fails, kinds)


def r2_table(a: Analysis, lang: str) -> Table | None:
    """R² of each endogenous construct and f² of each of its predictors (with Cohen's
    size word)."""
    st = a.structural
    if st is None or not st.r2:
        return None
    f2 = st.f2 if st.f2 is not None else pd.DataFrame()
    cols = [Column("construct", column_header("construct", lang)), Column("r2", "R²", "std"),
            Column("predictor", _t("predictor", lang)), Column("f2", "f²", "num"),
            Column("size", _t("effect_size", lang))]
    rows = []
    for lhs, r2 in st.r2.items():
        mine = f2[f2["lhs"] == lhs] if len(f2) else f2
        if not len(mine):
            rows.append([_named(a.spec, lhs, lang), cell_value(r2), "", None, ""])
            continue
        for k, r in enumerate(mine.itertuples()):
            size = f2_size(r.f2)
            rows.append([_named(a.spec, lhs, lang) if k == 0 else "",
                         cell_value(r2) if k == 0 else None, _named(a.spec, r.rhs, lang),
                         cell_value(r.f2), _t(f"f2_{size}", lang) if size else ""])
    return Table("r2_f2", _t("r2_table_title", lang), _t("r2_table_note", lang), cols, rows)


def indirect_table(a: Analysis, lang: str) -> Table | None:
    """Indirect and total effects: b with its delta-method interval, and with a bootstrap the
    percentile and bias-corrected intervals; β with its bootstrap percentile interval."""
    st = a.structural
    if st is None or not len(st.indirect):
        return None
    ind = st.indirect
    boot = "ci_lower_perc" in ind.columns
    level = int(round(100 * st.level))
    cols = [Column("effect", column_header("effect", lang)),
            Column("path", column_header("path", lang)), Column("kind", _t("effect_kind", lang)),
            Column("b", "b", "num"), Column("se", column_header("se", lang), "num"),
            Column("pvalue", "p", "p"),
            Column("ci_delta", f"{level}% CI ({_t('ci_delta', lang)})")]
    if boot:
        cols += [Column("ci_perc", f"{level}% CI ({_t('ci_boot_perc', lang)})"),
                 Column("ci_bc", f"{level}% CI ({_t('ci_boot_bc', lang)})")]
    cols.append(Column("beta", "β", "std"))
    if boot:
        cols.append(Column("beta_ci", f"β {level}% CI ({_t('ci_boot_perc', lang)})"))
    rows = []
    for r in ind.itertuples():
        path = str(r.path).replace(" -> ", " → ").replace("(total)", "").strip()
        kind = _t({"indirect": "effect_indirect", "total": "effect_total"}.get(
            r.kind, "effect_defined"), lang)
        row = [r.id, path, kind, cell_value(r.est), cell_value(r.se), cell_value(r.pvalue),
               ci_text(r.ci_lower, r.ci_upper)]
        if boot:
            row += [ci_text(r.ci_lower_perc, r.ci_upper_perc), ci_text(r.ci_lower_bc, r.ci_upper_bc)]
        row.append(cell_value(r.std_all))
        if boot:
            row.append(ci_text(getattr(r, "std_ci_lower_perc", None),
                               getattr(r, "std_ci_upper_perc", None), "std"))
        rows.append(row)
    note = _t("indirect_table_note_boot" if boot else "indirect_table_note", lang)
    if boot and st.bootstrap is not None:
        note = note.format(draws=getattr(st.bootstrap, "n_boot", len(st.bootstrap.draws)))
    return Table("indirect_paper", _t("indirect", lang), note, cols, rows)


# ---------------------------------------------------------------------------------------------
# comparison and invariance
# ---------------------------------------------------------------------------------------------

def comparison_table(a: Analysis, lang: str) -> Table | None:
    """Fit of each model: χ², df, χ²/df, CFI, TLI, RMSEA, SRMR, AIC, BIC, their weights and
    ΔCFI against the reference model."""
    c = a.comparison
    if c is None or not len(c.models):
        return None
    alts = {x.id: localized(x, lang) for x in a.spec.alternatives}
    m = c.models
    keys = [("chisq", "num"), ("df", "int"), ("chisq_df", "num"), ("cfi", "std"),
            ("tli", "std"), ("rmsea", "std"), ("srmr", "std"), ("aic", "num"), ("bic", "num"),
            ("aic_weight", "std"), ("bic_weight", "std"), ("delta_cfi", "std")]
    keys = [(k, kind) for k, kind in keys if k in m.columns]
    cols = [Column("model", column_header("model", lang)),
            Column("description", column_header("description", lang))]
    cols += [Column(k, column_header(k, lang), kind) for k, kind in keys]
    rows, fails = [], set()
    for i, r in enumerate(m.itertuples()):
        row = [r.name, alts.get(str(r.name), "")]
        for j, (k, _) in enumerate(keys):
            v = cell_value(getattr(r, k))
            row.append(v)
            crit = fit_criterion(k)
            if crit is not None and v is not None and not crit.passes(v):
                fails.add((i, j + 2))
        rows.append(row)
    note = _t("comparison_table_note", lang).format(reference=c.reference)
    return Table("comparison_paper", _t("comparison", lang), note, cols, rows, fails)


def nested_tests_table(a: Analysis, lang: str) -> Table | None:
    """Nested-model tests: restricted and general model, Δχ², Δdf, p, ΔCFI, method."""
    c = a.comparison
    if c is None or not len(c.tests):
        return None
    cfi = dict(zip(c.models["name"], c.models["cfi"])) if "cfi" in c.models.columns else {}
    cols = [Column("model_a", column_header("model_a", lang)),
            Column("model_b", column_header("model_b", lang)),
            Column("chisq_diff", "Δχ²", "num"), Column("df_diff", "Δdf", "int"),
            Column("pvalue", "p", "p"), Column("cfi_diff", "ΔCFI", "std"),
            Column("method", column_header("method", lang))]
    rows = []
    for r in c.tests.itertuples():
        ca, cb = _num(cfi.get(r.model_a)), _num(cfi.get(r.model_b))
        method = {"lrt": _t("method_lrt", lang),
                  "satorra.bentler.2001": _t("method_sb2001", lang)}.get(str(r.method), r.method)
        rows.append([r.model_a, r.model_b, cell_value(r.chisq_diff), cell_value(r.df_diff),
                     cell_value(r.pvalue), (ca - cb) if ca is not None and cb is not None
                     else None, method])
    return Table("nested_paper", _t("comparison_tests", lang), _t("nested_note", lang), cols,
                 rows)


_LEVELS = ("configural", "thresholds", "metric", "scalar", "strict")


def invariance_table(a: Analysis, lang: str) -> Table | None:
    """Each invariance level: χ², df, CFI, RMSEA, SRMR, their changes, the χ² difference test
    and whether Chen's (2007) criteria are met; the note gives N per group, the criteria
    checked and the concluding sentence."""
    inv = a.invariance
    if inv is None or not len(inv.models):
        return None
    m = inv.models
    tests = inv.tests
    test_of = {}
    if len(tests):
        for r in tests.itertuples():
            test_of[str(r.model_a)] = r
    keys = [("chisq", "num"), ("df", "int"), ("cfi", "std"), ("rmsea", "std"),
            ("srmr", "std"), ("delta_cfi", "std"), ("delta_rmsea", "std"),
            ("delta_srmr", "std")]
    keys = [(k, kind) for k, kind in keys if k in m.columns]
    cols = [Column("model", _t("invariance_level", lang))]
    cols += [Column(k, column_header(k, lang), kind) for k, kind in keys]
    cols += [Column("chisq_diff", "Δχ²", "num"), Column("df_diff", "Δdf", "int"),
             Column("pvalue", "p", "p"), Column("chen_ok", _t("chen_ok", lang))]
    rows, fails = [], set()
    for i, r in enumerate(m.itertuples()):
        name = str(r.name)
        row = [_t(f"level_{name}", lang) if name in _LEVELS else name]
        row += [cell_value(getattr(r, k)) for k, _ in keys]
        t = test_of.get(name)
        row += ([cell_value(t.chisq_diff), cell_value(t.df_diff), cell_value(t.pvalue)]
                if t is not None else [None, None, None])
        ok = getattr(r, "chen_ok", None)
        ok = cell_value(ok)
        row.append("" if ok is None or i == 0 else _t("yes" if ok else "no", lang))
        if ok is False and i > 0:
            fails.add((i, len(row) - 1))
        rows.append(row)
    note = _invariance_note(a, lang)
    return Table("invariance_paper", _t("invariance", lang), note, cols, rows, fails)


def _invariance_note(a: Analysis, lang: str) -> str:
    inv = a.invariance
    sep = "，" if lang == "zh" else ", "
    sizes = getattr(inv, "group_sizes", None)
    labels = list(inv.group_labels)
    if sizes is not None and len(sizes) == len(labels):
        groups = sep.join(f"{g} (N = {int(n)})" for g, n in zip(labels, sizes))
    else:
        groups = sep.join(str(g) for g in labels)
    crit = inv.criteria or {}
    parts = []
    for key, label in (("delta_cfi", "ΔCFI"), ("delta_rmsea", "ΔRMSEA"), ("delta_srmr", "ΔSRMR")):
        v = crit.get(key)
        if isinstance(v, dict):
            v = sep.join(f"{_t('level_' + k, lang) if k in _LEVELS else k} {format_number(x, 'std')}"
                         for k, x in v.items() if _num(x) is not None)
        elif _num(v) is not None:
            v = format_number(_num(v), "std")
        if v:
            parts.append(f"{label}: {v}")
    names = [str(x) for x in inv.models["name"]]
    failed = inv.failed_level
    if failed is None:
        last = names[-1] if names else ""
        conclusion = _t("invariance_holds", lang).format(
            level=_t(f"level_{last}", lang) if last in _LEVELS else last)
    else:
        k = names.index(failed) if failed in names else 0
        held = names[k - 1] if k > 0 else None
        conclusion = _t("invariance_fails", lang).format(
            failed=_t(f"level_{failed}", lang) if failed in _LEVELS else failed,
            held=(_t(f"level_{held}", lang) if held in _LEVELS else held) if held
            else _t("none", lang))
    return _t("invariance_paper_note", lang).format(
        group=inv.group, groups=groups, criteria=("; ".join(parts) or DASH),
        conclusion=conclusion)


#: The paper tables, in the order the Word document prints them.
PAPER_TABLES = (measurement_table, thresholds_table, fit_table, fornell_larcker_table,
                htmt_table, paths_table, r2_table, indirect_table, comparison_table,
                nested_tests_table, invariance_table)


def paper_tables(a: Analysis, lang: str) -> list[Table]:
    """Every paper table the analysis has results for, in :data:`PAPER_TABLES` order."""
    out = []
    for make in PAPER_TABLES:
        tab = make(a, lang)
        if tab is not None and tab.rows:
            out.append(tab)
    return out
