"""The report's tables, built once from an Analysis and rendered by both Excel and HTML.

A :class:`Sheet` (one worksheet, one section of the page) holds :class:`Table` objects: a title,
a note on method and thresholds, typed columns and raw cell values, and the cells that fail a
published threshold. Building the tables selects, orders, names and compares given numbers with
thresholds; it computes no statistic: every number comes from a result object.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..workflow.thresholds import (COLUMN_CRITERIA, CRITERIA, FIT_INDEX_CRITERIA, fit_criterion,
                                   judged_measure)
from .numbers import key_kind
from .tabular import Column, Figure, Sheet, Table, cell_value
from .labels import (column_header, element_name, localized, name_text, spec_title, text,
                     warning_text)

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from ..survey.spec import Spec
    from ..psychometrics.validity import EFAResult
    from ..workflow.analysis import Analysis

__all__ = ["Column", "Table", "Figure", "Sheet", "build_sheets", "fit_verdict", "cell_value",
           "run_warnings"]

#: Columns holding p-values (shown as "<.001").
P_COLUMNS = frozenset({"pvalue", "p", "p_value", "pval", "bartlett_p", "chisq_pvalue",
                       "pvalue_diff", "p_diff", "pvalue_lrt"})
#: Words (lower case) that mark a failure in a verdict-like column: the fail words of the
#: thresholds table and the negative answers results give ("not supported", "no", ...).
FAIL_WORDS = frozenset({crit.word(False, lang).lower() for crit in CRITERIA.values()
                        for lang in ("zh", "en")}
                       | {"failed", "no", "false", "not supported", "否", "不支持", "reject",
                          "rejected"})
#: Columns of estimates: never shown as integers, even when every value is whole.
_EST_KEYS = frozenset({"est", "se", "z", "ci_lower", "ci_upper", "std_lv", "mi", "epc",
                       "sepc_all", "mean", "sd", "min", "max", "median", "value"})
#: At most this many modification indices are listed (those passing the table's
#: ``modindex`` criterion, largest first).
MAX_MI_ROWS = 100


def _kind(name: str, series: pd.Series) -> str:
    """Kind of a result column (:mod:`riskmodel_sem.report.numbers`): p-values, statistics
    bounded by 1, counts (also a float column holding only whole numbers, such as group codes
    or durations), other numbers, text."""
    known = key_kind(name, "")
    if known == "p":
        return "p"
    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        if known:
            return known
        vals = series.to_numpy(dtype=float)
        vals = vals[np.isfinite(vals)]
        if len(vals) and np.all(vals == np.round(vals)) and str(name).lower() not in _EST_KEYS:
            return "int"
        return "num"
    if series.dtype == object and len(series) and all(
            isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
            or x is None for x in series):
        return known or "auto"
    return "text"


def _bool_text(v: Any, lang: str) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return text("yes" if v else "no", lang)
    return v


def _fails_bound(v: Any, value: Any, direction: str) -> bool:
    """True when ``v`` misses the threshold ``value`` in ``direction`` (>=, >, <=, <, abs<)."""
    v = cell_value(v)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or value is None:
        return False
    try:
        value = float(value)
    except (TypeError, ValueError):
        return False
    ok = {">=": v >= value, ">": v > value, "<=": v <= value, "<": v < value,
          "abs<": abs(v) < value, "abs<=": abs(v) <= value}.get(direction)
    return ok is False


def _truthy(v: Any) -> bool:
    v = cell_value(v)
    return bool(v) if isinstance(v, (bool, int, float)) else False


def frame_table(df: pd.DataFrame, tid: str, title: str, note: str, lang: str,
                index_name: str | None = None,
                bounds: dict[str, tuple[Any, str]] | None = None) -> Table:
    """Make a table of a result DataFrame: known columns get their header, flags are applied.

    A meaningful index (not 0..n-1) becomes the first column. Cells fail when a column is
    judged by a criterion of the thresholds table (``COLUMN_CRITERIA``: alpha, omega, cr, ave,
    kmo, msa, loading_std, citc, skew, kurtosis; ``bounds`` adds or overrides
    ``{column: (value, direction)}``) and the value misses it, or when a verdict-like column
    (passed, ok, supported, verdict) says no.
    """
    df = df.copy()
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
        first = df.columns[0]
        if index_name is not None:
            df = df.rename(columns={first: index_name})
        elif first == "index":
            df = df.rename(columns={first: "name"})
    df.columns = [str(c) for c in df.columns]
    cols = [Column(c, column_header(c, lang), _kind(c, df[c])) for c in df.columns]
    rows = [[name_text(cell_value(_bool_text(v, lang)), lang) for v in rec]
            for rec in df.itertuples(index=False)]
    if "verdict" in df.columns:  # the verdict words of the results, in the report's language
        j = list(df.columns).index("verdict")
        words = {"supported": text("supported", lang), "not supported": text("not_supported", lang)}
        for row in rows:
            if isinstance(row[j], str):
                row[j] = words.get(row[j].strip().lower(), row[j])
    fails: set[tuple[int, int]] = set()
    rules = {col: _rule(name) for col, name in COLUMN_CRITERIA.items()}
    rules.update(bounds or {})
    for j, c in enumerate(df.columns):
        low = c.lower()
        rule = rules.get(low)
        for i, v in enumerate(df[c].tolist()):
            if rule is not None and _fails_bound(v, *rule):
                fails.add((i, j))
            elif low in ("passed", "ok", "supported", "pass", "flagged", "out_of_scale",
                         "above_zero") and (
                    (low in ("flagged", "out_of_scale") and _truthy(v))
                    or (low not in ("flagged", "out_of_scale") and (v is False or v is np.False_))):
                fails.add((i, j))
            elif low in ("verdict", "passed", "supported", "result", "above_zero") and isinstance(v, str) \
                    and v.strip().lower() in FAIL_WORDS:
                fails.add((i, j))
    return Table(tid, title, note, cols, rows, fails)


def _rule(name: str) -> tuple[Any, str]:
    """``(value, direction)`` of criterion ``name`` of the thresholds table."""
    return CRITERIA[name].value, CRITERIA[name].direction


def matrix_table(df: pd.DataFrame, tid: str, title: str, note: str, lang: str,
                 mode: str) -> Table:
    """A square matrix (HTMT or Fornell–Larcker) with failures flagged.

    ``mode="htmt"`` flags off-diagonal values that miss the ``htmt`` criterion of the
    thresholds table (< 0.85); ``mode="fl"`` flags an off-diagonal
    correlation whose absolute value exceeds the diagonal value (√AVE) of its row or column.
    """
    names = [str(x) for x in df.index]
    cols = [Column("construct", column_header("construct", lang), "text")]
    cols += [Column(str(c), str(c), "num") for c in df.columns]
    vals = df.to_numpy(dtype=float)
    rows, fails = [], set()
    colpos = {str(c): j for j, c in enumerate(df.columns)}
    for i, rname in enumerate(names):
        row: list[Any] = [rname]
        for j, cname in enumerate(df.columns):
            v = vals[i, j]
            row.append(None if math.isnan(v) else float(v))
            if math.isnan(v) or str(cname) == rname:
                continue
            if mode == "htmt" and not CRITERIA["htmt"].passes(v):
                fails.add((i, j + 1))
            elif mode == "fl":
                di = vals[i, colpos[rname]] if rname in colpos else math.nan
                jj = names.index(str(cname)) if str(cname) in names else None
                dj = vals[jj, j] if jj is not None else math.nan
                if (not math.isnan(di) and abs(v) > di) or (not math.isnan(dj) and abs(v) > dj):
                    fails.add((i, j + 1))
        rows.append(row)
    return Table(tid, title, note, cols, rows, fails)


def fit_verdict(key: str, value: float | None, lang: str) -> tuple[str, str, str, bool] | None:
    """Threshold text, verdict word, source and failure flag for a fit index, or None.

    Compares a given number with the criterion of the thresholds table that judges the fit
    measure ``key`` (:func:`riskmodel_sem.workflow.thresholds.fit_criterion`); None for a
    measure without one.
    """
    crit = fit_criterion(key)
    if crit is None:
        return None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return crit.describe(), "", crit.source, False
    ok = crit.passes(value)
    return crit.describe(), crit.word(ok, lang), crit.source, not ok


def _fit_note(lang: str) -> str:
    """The fit sheet's note, with the rules of the thresholds table."""
    labels = {"cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR", "chisq_df": "χ²/df"}
    names = dict.fromkeys(FIT_INDEX_CRITERIA.values())
    rules = ("；" if lang == "zh" else "; ").join(
        f"{labels.get(n, n)} {CRITERIA[n].describe()}" for n in names)
    return text("fit_note", lang).format(rules=rules)


# ---------------------------------------------------------------------------------------------
# sheets
# ---------------------------------------------------------------------------------------------

_FIT_ROWS = (
    ("chisq", "χ²"), ("df", "df"), ("pvalue", "p (χ²)"), ("chisq_df", "χ²/df"),
    ("chisq_scaled", "χ² (scaled)"), ("df_scaled", "df (scaled)"),
    ("pvalue_scaled", "p (χ² scaled)"), ("chisq_scaling_factor", "scaling factor"),
    ("cfi", "CFI"), ("tli", "TLI"), ("cfi_robust", "CFI (robust)"), ("tli_robust", "TLI (robust)"),
    ("rmsea", "RMSEA"), ("rmsea_ci_lower", "RMSEA 90% CI lower"),
    ("rmsea_ci_upper", "RMSEA 90% CI upper"), ("rmsea_pvalue", "RMSEA p (≤ .05)"),
    ("rmsea_robust", "RMSEA (robust)"), ("srmr", "SRMR"), ("gfi", "GFI"), ("agfi", "AGFI"),
    ("nfi", "NFI"), ("ifi", "IFI"), ("logl", "logL"), ("aic", "AIC"), ("bic", "BIC"),
    ("bic2", "SABIC"), ("npar", "npar"),
)


_FIT_KEYS = {label: key for key, label in _FIT_ROWS}


def _name(spec: Spec, code: str, lang: str) -> str:
    return element_name(spec, code, lang)


def _summary_sheet(a: Analysis, lang: str) -> Sheet:
    t = lambda k: text(k, lang)  # noqa: E731
    spec, opts = a.spec, a.options or {}
    kv: list[list[Any]] = [[t("command"), name_text(a.command, lang)],
                           [t("spec"), spec_title(spec, lang)]]
    if a.survey is not None:
        # the file name only: the same report whichever folder the data was read from
        kv.append([t("data_file"), Path(a.survey.source).name])
        if a.survey.sheet:
            kv.append([t("sheet"), a.survey.sheet])
        kv.append([t("n_rows"), int(len(a.survey.data))])
    if a.cleaning is not None and a.cleaning.drop_flagged:
        reasons = ", ".join(f"{text(f'reason_{k}', lang)}: {v}"
                            for k, v in a.cleaning.reasons.items())
        kv.append([t("rows_dropped"), f"{a.cleaning.n_dropped} / {a.cleaning.n_rows}"
                   + (f" ({reasons})" if reasons else "")])
    fit = a.fit
    if fit is not None:
        kv += [[t("n_used"), int(fit.n_obs)], [t("estimator"), fit.estimator],
               [t("missing"), name_text(fit.missing, lang)], [t("converged"), t("yes" if fit.converged else "no")]]
    for key in ("bootstrap", "seed", "group"):
        if opts.get(key) not in (None, "", 0):
            kv.append([t(key), name_text(cell_value(opts[key]), lang)])
    fails: set[tuple[int, int]] = set()
    if fit is not None:
        parts, bad = [], False
        for index, label in (("chisq_df", "χ²/df"), ("cfi", "CFI"), ("tli", "TLI"),
                             ("rmsea", "RMSEA"), ("srmr", "SRMR")):
            key = judged_measure(index, fit.estimator, fit.fit)
            if key != index:
                label = f"{label} ({t('fit_version' + key[len(index):])})"
            v = cell_value(fit.fit.get(key))
            ver = fit_verdict(key, v, lang)
            if v is None or ver is None:
                continue
            parts.append(f"{label} {v:.3f} ({ver[1]})")
            bad = bad or ver[3]
        if parts:
            kv.append([t("fit_overall"), "; ".join(parts)])
            if bad:
                fails.add((len(kv) - 1, 1))
    hyp = a.structural.hypotheses if a.structural is not None else None
    if hyp is not None and "supported" in hyp.columns and len(hyp):
        n_sup = int(sum(bool(x) for x in hyp["supported"] if x is not None and x is not np.nan))
        kv.append([t("hypotheses_supported"), f"{n_sup} / {len(hyp)}"])
    check = a.crosscheck
    if check is not None:
        kv.append([t("crosscheck"), f"{check.max_abs_diff:.2g} ({check.engine} {check.version}: "
                   f"{check.parameter}; n = {check.n_compared})"])
    cols = [Column("key", t("key")), Column("value", t("value"), "auto")]
    tables = [Table("summary", t("summary"), t("summary_note"), cols, kv, fails)]
    from .paper import methods_table

    methods = methods_table(a, lang)
    if methods is not None:
        tables.append(methods)
    if a.validation is not None and len(a.validation.verdicts):
        tables.append(_verdict_glance(a.validation.verdicts, lang))
    warns = run_warnings(a)
    if warns:
        tables.append(Table("warnings", t("warnings"), t("warnings_note"),
                            [Column("warning", t("warnings"))],
                            [[warning_text(w, lang)] for w in warns]))
    return Sheet("summary", t("summary"), tables)


def run_warnings(a: Analysis) -> list[str]:
    """The warnings a report shows: the run's, then any a stage recorded that the run's list
    lacks (an Analysis built by hand), each once."""
    texts = list(a.warnings)
    for stage in a.stage_warnings().values():
        texts.extend(stage)
    return list(dict.fromkeys(texts))


def _dict_table(d: dict, tid: str, title: str, note: str, lang: str,
                bounds: dict[str, tuple[Any, str]] | None = None) -> Table | None:
    """A dict as a table: scalars as key/value rows, a dict of dicts as one row per key."""
    if not d:
        return None
    if all(isinstance(x, dict) for x in d.values()):
        df = pd.DataFrame.from_dict({k: {kk: cell_value(vv) if not isinstance(vv, (dict, list))
                                         else str(vv) for kk, vv in x.items()}
                                     for k, x in d.items()}, orient="index")
        df.index.name = "name"
        return frame_table(df, tid, title, note, lang, index_name="name")
    rows, fails, kinds = [], set(), {}
    for k, x in d.items():
        if isinstance(x, (dict, list, tuple, pd.DataFrame, np.ndarray)):
            continue
        key = str(k).lower().rsplit(".", 1)[-1]
        if key in P_COLUMNS or key.endswith("_p"):
            kinds[(len(rows), 1)] = "p"
        elif isinstance(cell_value(x), (int, float)):
            kinds[(len(rows), 1)] = key_kind(key, "auto")
        rows.append([column_header(str(k), lang), name_text(cell_value(_bool_text(x, lang)), lang)])
        rule = (bounds or {}).get(str(k))
        if rule is not None and _fails_bound(x, *rule):
            fails.add((len(rows) - 1, 1))
    if not rows:
        return None
    return Table(tid, title, note, [Column("key", text("key", lang)),
                                    Column("value", text("value", lang), "auto")], rows, fails,
                 kinds)


def _stage_tables(obj: Any, prefix: str, lang: str, skip: tuple[str, ...] = (),
                  note: str = "", bounds: dict[str, tuple[Any, str]] | None = None,
                  scalars: bool = False, info_title: str = "") -> list[Table]:
    """Tables of every DataFrame and dict held by a result object, in field order.

    With ``scalars`` the object's plain fields (text and numbers) come first as a key/value
    table.
    """
    out: list[Table] = []
    if obj is None:
        return out
    if isinstance(obj, pd.DataFrame):
        return [frame_table(obj, prefix, prefix, note, lang, bounds=bounds)] if len(obj) else []
    plain = []
    for n in (f.name for f in dataclasses.fields(obj)):
        if n in skip or n == "warnings":
            continue
        v = getattr(obj, n)
        title = column_header(n, lang) if column_header(n, lang) != n else n.replace("_", " ")
        tid = f"{prefix}_{n}"
        if isinstance(v, pd.Series):
            v = v.to_frame()
        if isinstance(v, pd.DataFrame):
            if len(v):
                out.append(frame_table(v, tid, title, note, lang, bounds=bounds))
        elif isinstance(v, dict):
            tab = _dict_table(v, tid, title, note, lang, bounds)
            if tab is not None:
                out.append(tab)
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            out.extend(_stage_tables(v, tid, lang, note=note, bounds=bounds))
        elif isinstance(v, (str, int, float, np.integer, np.floating)) or (
                isinstance(v, tuple) and all(isinstance(x, str) for x in v)):
            plain.append([column_header(n, lang), name_text(cell_value(_bool_text(v, lang)), lang)])
    if scalars and plain:
        out.insert(0, Table(f"{prefix}_info", info_title or prefix.replace("_", " "), note,
                            [Column("key", text("key", lang)),
                             Column("value", text("value", lang), "auto")], plain))
    return out


def _verdict_glance(verdicts: pd.DataFrame, lang: str) -> Table:
    """One row per criterion: threshold, passed / total, the targets that fail, source."""
    t = lambda k: text(k, lang)  # noqa: E731
    cols = [Column("criterion", column_header("check", lang)),
            Column("threshold", t("threshold")), Column("passed", column_header("passed", lang)),
            Column("failed", t("failed_targets")), Column("source", t("source"))]
    rows, fails = [], set()
    for crit, g in verdicts.groupby("criterion", sort=False):
        thrs = {cell_value(x) for x in g["threshold"]} if "threshold" in g.columns else {None}
        thr = thrs.pop() if len(thrs) == 1 else None  # per-target thresholds are not listed
        direction = str(g["direction"].iloc[0]) if "direction" in g.columns else ""
        direction = {"abs<": "|x| <", "abs<=": "|x| ≤", ">=": "≥", "<=": "≤"}.get(direction, direction)
        thr_txt = f"{direction} {thr:g}" if isinstance(thr, (int, float)) and not isinstance(
            thr, bool) else direction
        passed = [bool(x) for x in g["passed"] if cell_value(x) is not None]
        bad = [str(x) for x, ok in zip(g.get("target", g.index), g["passed"])
               if cell_value(ok) is False]
        listed = ", ".join(bad[:12]) + (" …" if len(bad) > 12 else "")
        rows.append([name_text(str(crit), lang), thr_txt.strip(), f"{sum(passed)} / {len(passed)}", listed,
                     str(g["source"].iloc[0]) if "source" in g.columns else ""])
        if bad:
            fails.add((len(rows) - 1, 2))
            fails.add((len(rows) - 1, 3))
    return Table("verdicts_glance", t("verdicts_title"), t("verdicts_note"), cols, rows, fails)


def _validation_sheets(a: Analysis, lang: str) -> list[Sheet]:
    v = a.validation
    t = lambda k: text(k, lang)  # noqa: E731
    if v is None:
        return []
    sheets = []
    scr = v.screening
    tabs = _stage_tables(scr, "screening", lang, note=t("screening_note"),
                         skip=("respondents",))
    if len(scr.respondents):  # every respondent, flagged ones highlighted
        resp = scr.respondents
        if "row" in resp.columns and a.survey is not None:  # rows as the user's file numbers them
            first = 1 if str(a.survey.source).lower().endswith(".sav") else 2
            resp = resp.assign(row=resp["row"].astype(int) + first)
        tabs.append(frame_table(resp, "screening_respondents", name_text("respondents", lang),
                                t("screening_note"), lang))
    if tabs:
        sheets.append(Sheet("screening", t("screening"), tabs))
    items = v.items
    if len(items):
        sheets.append(Sheet("items", t("items"), [frame_table(items, "items", t("items"),
                                                              t("items_note"), lang)]))
    rel = v.reliability
    tabs = []
    if len(rel):
        tabs.append(frame_table(rel, "reliability", t("reliability"), t("reliability_note"),
                                lang, index_name="construct"))
    ho = v.higher_order
    if len(ho):
        tabs.append(frame_table(ho, "reliability_higher_order", t("second_order"),
                                t("reliability_note"), lang,
                                bounds={"omega": _rule("omega_higher_order")}))
    if tabs:
        sheets.append(Sheet("reliability", t("reliability"), tabs))
    from .paper import fornell_larcker_table, htmt_table

    tabs = [tab for tab in (fornell_larcker_table(a, lang), htmt_table(a, lang)) if tab is not None]
    for attr, tid, title, note, mode in (("htmt2", "htmt2", "htmt2_title", "htmt2_note", "htmt"),):
        m = getattr(v, attr)  # one of the three matrices named above
        if len(m):
            tabs.append(matrix_table(m, tid, t(title), t(note), lang, mode))
    tab = _dict_table({"overall": v.kmo.overall}, "kmo", t("kmo_title"), t("kmo_note"), lang,
                      {"overall": _rule(v.kmo.criterion)})
    if tab is not None:
        tabs.append(tab)
    if len(v.kmo.items):
        df = pd.DataFrame({"item": [str(i) for i in v.kmo.items.index],
                           "msa": [cell_value(x) for x in v.kmo.items]})
        tabs.append(frame_table(df, "kmo_items", "MSA", t("kmo_note"), lang))
    bart = v.bartlett
    tab = _dict_table({"chisq": bart.chisq, "df": bart.df, "pvalue": bart.pvalue, "n": bart.n},
                      "bartlett", "Bartlett", t("kmo_note"), lang)
    if tab is not None:
        tab.cell_kinds.update({(i, 1): "p" for i, r in enumerate(tab.rows) if r[0] == "pvalue"})
        tabs.append(tab)
    tabs.extend(_efa_tables(v.efa, lang))
    for tid, res in (("harman", v.harman), ("one_factor", v.one_factor)):
        flat = {}
        for k, x in res.to_dict().items():  # nested parts (fit, test) as "fit.chisq", ...
            if isinstance(x, dict):
                flat.update({f"{k}.{kk}": xx for kk, xx in x.items()})
            else:
                flat[k] = x
        tab = _dict_table({k: x for k, x in flat.items() if k != "syntax"}, tid,
                          t(f"{tid}_title"), t("validity"), lang)
        if tab is not None:
            tabs.append(tab)
    verdicts = v.verdicts
    if len(verdicts):
        tabs.append(frame_table(verdicts, "verdicts", t("verdicts_title"), t("verdicts_note"),
                                lang))
    if tabs:
        sheets.append(Sheet("validity", t("validity"), tabs))
    return sheets


def _efa_tables(efa: EFAResult, lang: str) -> list[Table]:
    t = lambda k: text(k, lang)  # noqa: E731
    info = {"n_factors": efa.n_factors, "method": efa.method, "rotation": efa.rotation,
            "n_iter": efa.n_iter, "seed": efa.seed, "n_obs": efa.n_obs,
            "quantile": efa.quantile}
    out = [_dict_table(info, "efa_info", t("efa_title"), t("efa_note"), lang)]
    ev = efa.eigenvalues
    if len(ev):
        df = pd.DataFrame({"factor": np.arange(1, len(ev) + 1), "eigenvalue": np.asarray(ev)})
        if len(efa.random_eigenvalues) == len(ev):
            df["random_eigenvalue"] = np.asarray(efa.random_eigenvalues)
        out.append(frame_table(df, "efa_eigenvalues", t("efa_title"), t("efa_note"), lang))
    if len(efa.loadings):
        out.append(frame_table(efa.loadings, "efa_loadings", t("efa_title"), t("efa_note"),
                               lang, index_name="item"))
    return out


def _fit_sheet(a: Analysis, lang: str) -> Sheet | None:
    fit = a.fit
    if fit is None:
        return None
    t = lambda k: text(k, lang)  # noqa: E731
    cols = [Column("index", t("index")), Column("value", t("value"), "auto"),
            Column("threshold", t("threshold")), Column("verdict", t("verdict")),
            Column("source", t("source"))]
    from .paper import fit_table, fit_table_rows

    paper = fit_table(a, lang)
    shown = {k for k, _ in fit_table_rows(fit.estimator, lang)} | {"rmsea_ci_lower",
                                                                    "rmsea_ci_upper"}
    rows, fails = [], set()
    kinds: dict[tuple[int, int], str] = {}
    for key, label in _FIT_ROWS:
        if key not in fit.fit or (paper is not None and key in shown):
            continue
        v = cell_value(fit.fit[key])
        if key in ("df", "npar", "df_scaled") and isinstance(v, float) and v.is_integer():
            v = int(v)
        ver = fit_verdict(key, v, lang)
        label = column_header(key, lang) if key == "npar" else label
        if key in ("pvalue", "rmsea_pvalue", "pvalue_scaled"):
            row = [label, v, "", "", ""]
        else:
            row = [label, v] + (list(ver[:3]) if ver else ["", "", ""])
        if ver and ver[3]:
            fails.add((len(rows), 1))
            fails.add((len(rows), 3))
        kinds[(len(rows), 1)] = key_kind(key, "auto")
        rows.append(row)
    for (i, j), kind in list(kinds.items()):
        if kind == "auto":
            kinds[(i, j)] = key_kind(_FIT_KEYS.get(rows[i][0], ""), "auto")
    tabs = [paper] if paper is not None else []
    if rows:
        tabs.append(Table("fit", t("fit_other") if paper is not None else t("fit"),
                          _fit_note(lang), cols, rows, fails, kinds))
    return Sheet("fit", t("fit"), tabs)


def _measurement_sheet(a: Analysis, lang: str) -> Sheet | None:
    from .paper import measurement_table

    tab = measurement_table(a, lang)
    return None if tab is None else Sheet("measurement", text("measurement", lang), [tab])


def _thresholds_sheet(a: Analysis, lang: str) -> Sheet | None:
    """The thresholds of the ordered items (:func:`~riskmodel_sem.report.paper.thresholds_table`)."""
    from .paper import thresholds_table

    tab = thresholds_table(a, lang)
    return None if tab is None else Sheet("ordinal_thresholds", text("thresholds_sheet", lang),
                                         [tab])


def _est_columns(lang: str, extra: tuple[str, ...] = ()) -> list[Column]:
    kinds = {"est": "num", "se": "num", "z": "num", "pvalue": "p", "ci_lower": "num",
             "ci_upper": "num", "std_all": "num", "r2": "num"}
    keys = list(extra) + ["est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all"]
    return [Column(k, column_header(k, lang), kinds.get(k, "text")) for k in keys]


def _loadings_sheet(a: Analysis, lang: str) -> Sheet | None:
    fit = a.fit
    if fit is None:
        return None
    est = fit.estimates
    load = est[est["op"] == "=~"]
    if not len(load):
        return None
    grp = "group" in load.columns
    head = (["group"] if grp else []) + ["factor", "factor_name", "item", "item_name", "level"]
    cols = [Column(k, column_header("kind" if k == "level" else k, lang)) for k in head]
    cols += _est_columns(lang) + [Column("r2", "R²", "num")]
    latent = set(fit.latent)
    rows, fails = [], set()
    spec = a.spec
    for _, r in load.iterrows():
        level = text("second_order" if r["rhs"] in latent else "first_order", lang)
        row = ([_group_text(a, r)] if grp else []) + [
            r["lhs"], _name(spec, r["lhs"], lang), r["rhs"], _name(spec, r["rhs"], lang), level]
        row += [cell_value(r.get(k)) for k in ("est", "se", "z", "pvalue", "ci_lower",
                                                "ci_upper", "std_all")]
        row.append(cell_value(fit.r2.get(r["rhs"])) if not grp else None)
        std = cell_value(r.get("std_all"))
        if std is not None and not CRITERIA["loading_std"].passes(std):
            fails.add((len(rows), len(head) + 6))
        rows.append(row)
    return Sheet("loadings", text("loadings", lang),
                 [Table("loadings", text("loadings", lang), text("loadings_note", lang), cols,
                        rows, fails)])


def _group_text(a: Analysis, row) -> str:
    """A parameter row's group as the data write it, with its size: ``女 (n = 302)``."""
    fit = a.fit
    g = int(row["group"]) if row.get("group") is not None else 0
    if fit is None or not 1 <= g <= len(fit.group_labels):
        return str(cell_value(row.get("group_label")) or "")
    n = fit.group_n[g - 1] if g <= len(fit.group_n) else None
    return f"{fit.group_labels[g - 1]} (n = {n})" if n is not None else fit.group_labels[g - 1]


def _groups_sheet(a: Analysis, lang: str) -> Sheet | None:
    """The comparison of the groups: their sizes, the path differences with their tests, the
    omnibus test, the metric-invariance test beside them, and the paths held equal."""
    mg = a.groups
    if mg is None:
        return None
    t = lambda k: text(k, lang)  # noqa: E731
    spec = a.spec
    sizes = pd.DataFrame({"group": range(1, len(mg.group_labels) + 1),
                          "group_label": list(mg.group_labels), "n": list(mg.group_n)})
    tabs = [frame_table(sizes, "groups", t("groups_title"),
                        t("groups_note").format(column=mg.group), lang)]
    diffs = mg.path_differences
    if len(diffs):
        shown = diffs.copy()
        shown.insert(0, "path", [_arrow(spec, r.lhs, r.rhs, lang) for r in diffs.itertuples()])
        hyp = {(h.lhs, h.rhs): h.id for h in spec.hypotheses if h.kind == "path"}
        shown["label"] = [hyp.get((r.lhs, r.rhs), r.label) for r in diffs.itertuples()]
        shown = shown.drop(columns=["lhs", "op", "rhs", "group_a", "group_b"])
        equal = ", ".join(mg.group_equal) or t("no_equal")
        tabs.append(frame_table(shown, "path_differences", t("path_differences"),
                                t("path_differences_note").format(equal=equal), lang))
    if mg.omnibus and mg.omnibus.get("df_diff"):
        tab = _dict_table({k: mg.omnibus[k] for k in ("chisq_diff", "df_diff", "pvalue",
                                                      "method")},
                          "path_differences_omnibus", t("omnibus_title"),
                          t("path_differences_note").format(
                              equal=", ".join(mg.group_equal) or t("no_equal")), lang)
        if tab is not None:
            tabs.append(tab)
    if mg.metric:
        keys = ("chisq_diff", "df_diff", "pvalue", "method", "cfi_free", "cfi_equal",
                "delta_cfi", "rmsea_free", "rmsea_equal", "delta_rmsea")
        tab = _dict_table({k: mg.metric.get(k) for k in keys}, "metric_invariance",
                          t("metric_title"), t("metric_note"), lang)
        if tab is not None:
            tabs.append(tab)
    if len(mg.equal):
        eq = mg.equal.copy()
        eq.insert(0, "path", [_arrow(spec, r.lhs, r.rhs, lang) for r in eq.itertuples()])
        tabs.append(frame_table(eq.drop(columns=["lhs", "op", "rhs"]), "equal_paths",
                                t("equal_paths_title"), t("equal_paths_note"), lang))
    return Sheet("groups", t("groups"), tabs)


def _arrow(spec: Spec, lhs: str, rhs: str, lang: str, op: str = "~") -> str:
    a = _name(spec, rhs, lang)
    b = _name(spec, lhs, lang)
    left = f"{rhs} {a}".strip()
    right = f"{lhs} {b}".strip()
    return f"{left} → {right}" if op == "~" else f"{left} ↔ {right}"


def _paths_sheet(a: Analysis, lang: str) -> Sheet | None:
    t = lambda k: text(k, lang)  # noqa: E731
    tables = []
    spec = a.spec
    if a.fit is not None:
        est = a.fit.estimates
        reg = est[est["op"] == "~"]
        if len(reg):
            grp = "group" in reg.columns
            cols = ([Column("group", column_header("group", lang))] if grp else []) + [
                Column("path", column_header("path", lang)),
                Column("label", column_header("label", lang))] + _est_columns(lang)
            rows, fails = [], set()
            for _, r in reg.iterrows():
                row = ([_group_text(a, r)] if grp else []) + [
                    _arrow(spec, r["lhs"], r["rhs"], lang), cell_value(r.get("label")) or ""]
                row += [cell_value(r.get(k)) for k in ("est", "se", "z", "pvalue", "ci_lower",
                                                        "ci_upper", "std_all")]
                rows.append(row)
            tables.append(Table("paths", t("paths"), t("paths_note"), cols, rows, fails))
    from .paper import paths_table, r2_table

    hyp = a.structural.hypotheses if a.structural is not None else None
    if hyp is not None and len(hyp):
        tables.insert(0, paths_table(a, lang))
        r2 = r2_table(a, lang)
        if r2 is not None:
            tables.insert(1, r2)
        con = a.structural.contrasts
        if len(con):
            tables.append(frame_table(con, "contrasts", t("contrasts_title"),
                                      t("contrasts_note"), lang))
    elif spec.hypotheses and a.fit is not None:
        est = a.fit.estimates
        cols = [Column("id", column_header("id", lang)), Column("path", column_header("path", lang)),
                Column("sign", column_header("sign", lang)),
                Column("description", column_header("description", lang)),
                Column("est", column_header("est", lang), "num"),
                Column("std_all", column_header("std_all", lang), "num"),
                Column("pvalue", "p", "p")]
        rows = []
        for h in spec.hypotheses:
            desc = localized(h, lang, fallback=lang == "zh")
            if h.kind == "path":
                m = est[(est["op"] == "~") & (est["lhs"] == h.lhs) & (est["rhs"] == h.rhs)]
                vals = ([cell_value(m.iloc[0][k]) for k in ("est", "std_all", "pvalue")]
                        if len(m) else [None, None, None])
                rows.append([h.id, _arrow(spec, h.lhs, h.rhs, lang), h.sign, desc] + vals)
            else:
                rows.append([h.id, f"{h.strongest} > {', '.join(h.others)} ({h.dimension})",
                             h.sign, desc, None, None, None])
        tables.append(Table("hypotheses", t("hypotheses_title"), t("hypotheses_note"), cols, rows))
    if not tables:
        return None
    return Sheet("paths", t("paths"), tables)


def _indirect_sheet(a: Analysis, lang: str) -> Sheet | None:
    t = lambda k: text(k, lang)  # noqa: E731
    from .paper import indirect_table

    ind = a.structural.indirect if a.structural is not None else None
    if ind is not None and len(ind):
        return Sheet("indirect", t("indirect"), [indirect_table(a, lang)])
    if a.fit is None:
        return None
    est = a.fit.estimates
    d = est[est["op"] == ":="]
    if not len(d):
        return None
    cols = [Column("effect", column_header("effect", lang)), Column("rhs", column_header("rhs", lang))]
    cols += _est_columns(lang)
    rows = [[r["lhs"], r["rhs"]] + [cell_value(r.get(k)) for k in
                                    ("est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all")]
            for _, r in d.iterrows()]
    return Sheet("indirect", t("indirect"),
                 [Table("indirect", t("indirect"), t("indirect_note"), cols, rows)])


def _comparison_sheet(a: Analysis, lang: str) -> Sheet | None:
    c = a.comparison
    if c is None:
        return None
    t = lambda k: text(k, lang)  # noqa: E731
    from .paper import comparison_table, nested_tests_table

    tabs = [tab for tab in (comparison_table(a, lang), nested_tests_table(a, lang))
            if tab is not None]
    eq = c.equivalent
    if eq:
        rows = []
        for pair in eq:
            pair = tuple(pair) if not isinstance(pair, str) else (pair,)
            rows.append([" ≡ ".join(str(p) for p in pair),
                         t("equivalent_models_warning").format(
                             models=("、" if lang == "zh" else ", ").join(str(p) for p in pair))])
        tabs.append(Table("comparison_equivalent", t("comparison_equivalent"), t("comparison_note"),
                          [Column("model", column_header("model", lang)),
                           Column("note", t("note_label"))], rows))
    skip = ("models", "tests", "equivalent", "fits")
    tabs.extend(_stage_tables(c, "comparison", lang, skip=skip, note=t("comparison_note"),
                              scalars=True, info_title=t("options_title")))
    return Sheet("comparison", t("comparison"), tabs) if tabs else None


def _invariance_sheet(a: Analysis, lang: str) -> Sheet | None:
    if a.invariance is None:
        return None
    from .paper import invariance_table

    paper = invariance_table(a, lang)
    tabs = _stage_tables(a.invariance, "invariance", lang, skip=("fits", "models", "tests"),
                         note=text("invariance_note", lang), scalars=True,
                         info_title=text("options_title", lang))
    if paper is not None:
        tabs.insert(0, paper)
    if not tabs:
        return None
    return Sheet("invariance", text("invariance", lang), tabs)


def _mi_sheet(a: Analysis, lang: str) -> Sheet | None:
    if a.fit is None or a.fit.modindices is None or not len(a.fit.modindices):
        return None
    mi = a.fit.modindices.drop(columns=["sepc_lv", "sepc_nox"], errors="ignore")  # the
    # sheet shows MI, EPC and the completely standardized EPC, as papers report them
    mi = mi[[CRITERIA["modindex"].passes(x) for x in mi["mi"]]].head(MAX_MI_ROWS)
    t = text("modindices", lang)
    if not len(mi):
        tab = Table("modindices", t, text("modindices_note", lang),
                    [Column("note", text("note_label", lang))], [[text("none", lang)]])
        return Sheet("modindices", t, [tab])
    cols = [Column("parameter", text("parameter", lang)), Column("mi", column_header("mi", lang), "num"),
            Column("epc", column_header("epc", lang), "num"),
            Column("sepc_all", column_header("sepc_all", lang), "std")]
    rows = [[parameter_text(r.lhs, r.op, r.rhs, lang), cell_value(r.mi), cell_value(r.epc),
             cell_value(getattr(r, "sepc_all", None))] for r in mi.itertuples()]
    return Sheet("modindices", t, [Table("modindices", t, text("modindices_note", lang), cols,
                                         rows)])


def parameter_text(lhs: str, op: str, rhs: str, lang: str) -> str:
    """A parameter in words: ``"GIV → FIN1 (loading)"``, ``"FIN1 ↔ FIN2 (covariance)"``,
    ``"PLT → GIV (path)"``; other operators keep lavaan's syntax."""
    if op == "=~":
        return f"{lhs} → {rhs} ({text('param_loading', lang)})"
    if op == "~":
        return f"{rhs} → {lhs} ({text('param_path', lang)})"
    if op == "~~":
        key = "param_variance" if lhs == rhs else "param_covariance"
        return f"{lhs} ↔ {rhs} ({text(key, lang)})" if lhs != rhs else f"{lhs} ({text(key, lang)})"
    return f"{lhs} {op} {rhs}"


def power_sentence(p, lang: str) -> str:
    """The methods-section sentence of a power analysis, in the report's language."""
    t = lambda k: text(k, lang)  # noqa: E731
    fmt = lambda v: f"{v:.2f}".lstrip("0") if isinstance(v, float) else str(v)  # noqa: E731
    req = lambda n: t("power_more_than") if n is None else f"{int(n):,}"  # noqa: E731
    paths = p.paths_required.merge(p.paths[["label", "kind"]].drop_duplicates(), on="label")
    paths = paths[paths["kind"] == "path"]
    if len(paths):
        worst = paths.assign(order=paths["n_required"].fillna(10 ** 9)).sort_values("order").iloc[-1]
        weakest = t("power_sentence_weakest").format(p_label=worst["label"],
                                                     p_n=req(worst["n_required"]),
                                                     p_target=fmt(p.target))
    else:
        weakest = t("power_sentence_none")
    return t("power_sentence").format(p_df=p.df, p_alpha=fmt(p.alpha), p_target=fmt(p.target),
                                      p_n_close=req(p.n_required_close),
                                      p_n_not=req(p.n_required_notclose), p_weakest=weakest)


def _power_sheet(a: Analysis, lang: str) -> Sheet | None:
    p = a.power
    if p is None:
        return None
    t = lambda k: text(k, lang)  # noqa: E731
    required = pd.concat([
        pd.DataFrame({"label": [t("power_series_close"), t("power_series_notclose")],
                      "n_required": [p.n_required_close, p.n_required_notclose]}),
        p.paths_required], ignore_index=True)
    tabs = [
        Table("power_methods", t("power_methods"), t("power_methods_note"),
              [Column("text", t("power_methods"))], [[power_sentence(p, lang)]]),
        frame_table(required, "power_required", t("power_required"),
                    t("power_required_note"), lang),
        frame_table(p.rmsea, "power_rmsea", t("power_rmsea"), t("power_rmsea_note"), lang),
        frame_table(p.paths.assign(kind=[name_text(k, lang) for k in p.paths["kind"]]),
                    "power_paths", t("power_paths"), t("power_paths_note"), lang),
    ]
    if p.monte_carlo is not None:
        tabs.append(frame_table(p.monte_carlo, "power_mc", t("power_mc"), t("power_mc_note"),
                                lang))
        tabs.append(frame_table(p.monte_carlo_chisq, "power_mc_chisq", t("power_mc_chisq"),
                                t("power_mc_chisq_note"), lang))
    return Sheet("power", t("power"), tabs)


def _sample_sheet(a: Analysis, lang: str) -> Sheet | None:
    """Sample description, sample-size advice and the respondents screening flagged."""
    t = lambda k: text(k, lang)  # noqa: E731
    sample, cleaning = a.sample, a.cleaning
    tabs: list[Table] = []
    desc = sample.description if sample is not None else None
    if desc is not None and len(desc.table):
        cols = [Column(k, column_header(k, lang), kind) for k, kind in
                (("variable", "text"), ("category", "text"), ("n", "int"), ("percent", "num"),
                 ("valid_percent", "num"))]
        rows = [[r["variable"], t("missing_category") if pd.isna(r["category"]) else r["category"],
                 int(r["n"]), cell_value(r["percent"]), cell_value(r["valid_percent"])]
                for r in desc.table.to_dict(orient="records")]
        tabs.append(Table("sample_description", t("sample_table"), t("sample_table_note"),
                          cols, rows))
    advice = sample.advice if sample is not None else None
    if advice is not None:
        kv: list[list[Any]] = [[t("sample_n"), int(advice.n)], [t("sample_npar"), int(advice.n_free)],
                               [t("sample_ratio"), cell_value(advice.ratio)]]
        fails = set()
        if advice.small_n:
            fails.add((0, 1))
        if advice.low_ratio:
            fails.add((2, 1))
        if advice.planned_n is not None:
            kv.append([t("sample_planned"), int(advice.planned_n)])
        kv.append([t("sample_advice"), " ".join(advice.messages) or t("sample_ok")])
        kv.append([t("sample_sources"), " ".join(advice.sources)])
        tabs.append(Table("sample_size", t("sample_size"), t("sample_size_note"),
                          [Column("key", t("key")), Column("value", t("value"), "auto")],
                          kv, fails))
    if cleaning is not None:
        kv = [[t("cleaning_read"), int(cleaning.n_rows)],
              [t("cleaning_flagged"), int(cleaning.n_flagged)],
              [t("cleaning_dropped"), int(cleaning.n_dropped)],
              [t("cleaning_kept"), int(cleaning.n_rows - cleaning.n_dropped)]]
        kv += [[t("cleaning_reason_count").format(reason=t(f"reason_{k}")), int(v)]
               for k, v in cleaning.reasons.items()]
        tabs.append(Table("cleaning", t("cleaning"), t("cleaning_note"),
                          [Column("key", t("key")), Column("value", t("value"), "auto")], kv))
        if len(cleaning.flagged):
            sep = "；" if lang == "zh" else "; "
            rows = [[int(r["row"]), cell_value(r["id"]),
                     sep.join(t(f"reason_{c.strip()}") for c in r["reasons"].split(",")),
                     t("yes" if r["dropped"] else "no")]
                    for r in cleaning.flagged.to_dict(orient="records")]
            cols = [Column(k, column_header(k, lang), kind) for k, kind in
                    (("row", "int"), ("id", "auto"), ("reasons", "text"), ("dropped", "text"))]
            tabs.append(Table("flagged_respondents", t("flagged_title"), t("flagged_note"),
                              cols, rows))
    return Sheet("sample", t("sample"), tabs) if tabs else None


def _spec_sheet(a: Analysis, lang: str) -> Sheet:
    t = lambda k: text(k, lang)  # noqa: E731
    syntax = a.fit.syntax if a.fit is not None and a.fit.syntax else a.spec.model_syntax()
    lines = syntax.rstrip("\n").split("\n")
    tabs = [Table("syntax", t("syntax_title"), t("specification_note"),
                  [Column("line", t("line"), "int"), Column("syntax", t("syntax"))],
                  [[i + 1, s] for i, s in enumerate(lines)])]
    cb = a.survey.codebook if a.survey is not None else None
    if cb is None or not len(cb):
        cb = pd.DataFrame([{"item": i.code, "construct": i.construct, "zh": i.zh, "en": i.en,
                            "reverse": bool(i.reverse)} for i in a.spec.items])
    tabs.append(frame_table(cb.reset_index(drop=True), "codebook", t("codebook_title"),
                            t("specification_note"), lang))
    return Sheet("specification", t("specification"), tabs)


def build_sheets(analysis: Analysis, lang: str) -> list[Sheet]:
    """Build every sheet that the analysis has results for, in the report's order.

    Parameters
    ----------
    analysis : riskmodel_sem.workflow.analysis.Analysis
    lang : {"zh", "en"}

    Returns
    -------
    list of Sheet
        Summary, Screening, Items, Reliability, Validity, Measurement, Thresholds (ordered
        items), Fit, Loadings, Paths and
        Hypotheses, Groups (a multi-group fit's path differences), Indirect effects, Model comparison, Invariance, Modification indices and
        Specification; sheets whose stage is missing are left out.
    """
    sheets = [_summary_sheet(analysis, lang)]
    for make in (_sample_sheet, _power_sheet):
        s = make(analysis, lang)
        if s is not None:
            sheets.append(s)
    sheets += _validation_sheets(analysis, lang)
    for make in (_measurement_sheet, _thresholds_sheet, _fit_sheet, _loadings_sheet,
                 _paths_sheet, _groups_sheet,
                 _indirect_sheet, _comparison_sheet, _invariance_sheet, _mi_sheet):
        s = make(analysis, lang)
        if s is not None:
            sheets.append(s)
    sheets.append(_spec_sheet(analysis, lang))
    _unique_ids(sheets)
    return sheets


def _unique_ids(sheets: list[Sheet]) -> None:
    seen: set[str] = set()
    for s in sheets:
        for tab in s.tables:
            base = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in tab.id) or "t"
            if not base[0].isalpha():
                base = "t_" + base
            tid, k = base, 2
            while tid.lower() in seen:
                tid, k = f"{base}_{k}", k + 1
            seen.add(tid.lower())
            tab.id = tid
