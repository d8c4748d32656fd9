"""Numbers as papers print them (APA 7th ed., section 6.36): the one formatter of every report.

The HTML page, the Excel workbook and the Word document show each number through this module,
so that the same cell reads the same everywhere:

* three decimals (``"0.123"``); no negative zero (``-0.0004`` is ``"0.000"``);
* statistics that cannot exceed 1 in absolute value (p-values, correlations, standardized
  estimates, R², reliability coefficients, CFI, TLI, RMSEA, SRMR, ...) have no leading zero
  (``".962"``, ``"-.304"``);
* p-values are ``".002"`` or ``"< .001"``;
* counts, degrees of freedom and codes are integers (``"478"``, not ``"478.000"``);
* fixed parameters (a marker loading) show ``"—"`` for their standard error, test and interval.

Kinds of a cell: ``"text"``, ``"num"`` (three decimals), ``"std"`` (three decimals without a
leading zero), ``"p"``, ``"int"``, ``"fixed"`` (``"—"``) and ``"auto"`` (an int as ``"int"``, a
float as ``"num"``).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["KINDS", "BOUNDED_KEYS", "INTEGER_KEYS", "DASH", "format_cell", "format_number",
           "format_p", "excel_format", "excel_value", "key_kind"]

#: Kinds of cells.
KINDS = ("text", "num", "std", "p", "int", "fixed", "auto")
#: What a fixed parameter shows in place of its standard error, test and interval.
DASH = "—"
#: Result columns and fit measures (lavaan's names, "." as "_") bounded by 1 in absolute value.
BOUNDED_KEYS = frozenset({
    "std_all", "std_lv_bounded", "std_nox", "loading_std", "lambda_std", "beta", "std_est",
    "r2", "r_squared", "alpha", "alpha_std", "alpha_ci_lower", "alpha_ci_upper", "omega",
    "omega_total", "omega_h", "cr", "ave", "sqrt_ave", "citc", "kmo", "msa", "cfi", "tli",
    "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "gfi", "agfi", "nfi", "ifi", "rfi",
    "pnfi", "cfi_robust", "tli_robust", "rmsea_robust", "cfi_scaled", "tli_scaled",
    "rmsea_scaled", "srmr_bentler", "cfi_diff", "delta_cfi", "rmsea_diff", "delta_rmsea",
    "aic_weight", "bic_weight", "correlation", "r", "std_ci_lower", "std_ci_upper",
    "std_all_ci_lower", "std_all_ci_upper"}) | frozenset(
    {"pvalue", "p", "p_value", "rmsea_pvalue", "pvalue_scaled", "pvalue_lrt", "chisq_pvalue"})
#: Result columns that hold counts, degrees of freedom or codes.
INTEGER_KEYS = frozenset({"n", "df", "df_diff", "df_scaled", "npar", "n_obs", "n_items",
                          "n_missing", "ntotal", "row", "line", "group", "n_rows", "n_used",
                          "iterations", "seed", "bootstrap", "n_iter", "n_factors", "count",
                          "draws", "step", "rank", "n_groups", "baseline_df"})


def key_kind(key: str, default: str = "num") -> str:
    """The kind of a number named ``key`` (a result column or fit measure): ``"p"``,
    ``"std"``, ``"int"`` or ``default``."""
    k = str(key).lower()
    if k in ("pvalue", "p", "p_value", "pval", "chisq_pvalue", "bartlett_p", "pvalue_diff",
             "p_diff", "pvalue_lrt") or k.endswith("_pvalue"):
        return "p"
    if k in BOUNDED_KEYS:
        return "std"
    if k in INTEGER_KEYS or k.startswith("n_"):
        return "int"
    return default


def _zero(v: float, decimals: int) -> float:
    """``v`` with a value that rounds to zero made +0 (no ``"-0.000"``)."""
    return 0.0 if round(v, decimals) == 0 else v


def format_p(p: float, decimals: int = 3) -> str:
    """A p-value as APA prints it: ``".002"``, ``"< .001"``, ``"1.000"`` for 1."""
    if p < 10 ** -decimals:
        return "< ." + "0" * (decimals - 1) + "1"
    s = f"{p:.{decimals}f}"
    return s[1:] if s.startswith("0.") else s


def format_number(value: float, kind: str = "num", decimals: int = 3) -> str:
    """Format one number of kind ``"num"``, ``"std"``, ``"p"`` or ``"int"``.

    Examples
    --------
    >>> format_number(-0.0004, "num"), format_number(0.9617, "std"), format_number(-0.3, "std")
    ('0.000', '.962', '-.300')
    >>> format_number(0.0004, "p"), format_number(478.0, "int")
    ('< .001', '478')
    """
    if isinstance(value, bool):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if kind == "p":
        return format_p(v, decimals)
    if kind == "int" or (kind == "auto" and isinstance(value, int)):
        if v.is_integer():
            return str(int(v))
    v = _zero(v, decimals)
    s = f"{v:.{decimals}f}"
    if kind == "std" and abs(v) < 1:
        s = s.replace("0.", ".", 1)
    return s


def format_cell(value: Any, kind: str = "text") -> str:
    """Format one table cell for the page or the Word document.

    Parameters
    ----------
    value : float, int, str, bool or None
    kind : str
        One of :data:`KINDS`; a ``"fixed"`` cell shows :data:`DASH` whatever its value.

    Returns
    -------
    str
        ``""`` for a missing value.
    """
    if kind == "fixed":
        return DASH
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return format_number(value, kind if kind != "text" else "auto")
    return str(value)


#: Excel number formats by kind (the cell keeps the full number; only the display rounds).
_EXCEL = {"num": "0.000", "std": "#.000;-#.000;.000", "p": '[<0.001]"< .001";#.000',
          "int": "0", "auto": "0.000"}


def excel_format(kind: str, value: Any = None) -> str:
    """The Excel number format showing a number of ``kind`` as :func:`format_number` does."""
    if kind == "auto" and isinstance(value, int) and not isinstance(value, bool):
        return "0"
    if kind == "int" and isinstance(value, float) and not value.is_integer():
        return _EXCEL["num"]
    return _EXCEL.get(kind, _EXCEL["num"])


def excel_value(value: Any, kind: str) -> Any:
    """The value stored in a workbook cell: ``"—"`` for a fixed parameter, a number that
    rounds to zero stored as 0 (so that Excel shows no ``"-0.000"``), else ``value``."""
    if kind == "fixed":
        return DASH
    if isinstance(value, float) and not isinstance(value, bool) and math.isfinite(value) \
            and kind != "p":
        return _zero(value, 3)
    return value
