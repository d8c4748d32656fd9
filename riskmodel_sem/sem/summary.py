"""lavaan-style text summary of a fit (``summary(fit, fit.measures = TRUE, standardized = TRUE)``).

Only formats numbers the fit already holds (:class:`~riskmodel_sem.sem.estimation.FitResult`):
the estimator and sample, the test statistics of the user and baseline models, the fit
indices, and the parameter estimates grouped as lavaan prints them (Latent Variables,
Regressions, Covariances, Intercepts, Thresholds, Variances, Defined Parameters, R-Square).
"""

from __future__ import annotations

from html import escape
from typing import Any
from .._json import number_or_none as _num

#: A :class:`~riskmodel_sem.sem.estimation.FitResult` (not imported: estimation imports this
#: module for ``FitResult.summary()``).
FitResult = Any

__all__ = ["summary_text", "summary_html", "table_text"]

_W = 54  # width of the "label ... value" lines, as lavaan's



def _line(label: str, *values: Any, decimals: int = 3) -> str:
    cells = []
    for v in values:
        if isinstance(v, str):
            cells.append(f"{v:>14}" if len(values) > 1 else v)
            continue
        f = _num(v)
        if f is None:
            cells.append(" " * 14 if len(values) > 1 else "")
        elif float(f).is_integer() and decimals == 0:
            cells.append(f"{int(f):>14d}" if len(values) > 1 else str(int(f)))
        else:
            cells.append(f"{f:>14.{decimals}f}" if len(values) > 1 else f"{f:.{decimals}f}")
    if len(values) == 1:
        return f"  {label:<{_W - 2 - len(cells[0])}}{cells[0]:>{len(cells[0])}}"
    return f"  {label:<40}" + "".join(cells)


def _fit_sections(fit: FitResult) -> list[str]:
    f = fit.fit
    scaled = _num(f.get("chisq_scaled")) is not None
    out = []

    def row(label, key, key_scaled=None, decimals=3):
        if scaled and key_scaled:
            out.append(_line(label, f.get(key), f.get(key_scaled), decimals=decimals))
        elif _num(f.get(key)) is not None:
            out.append(_line(label, f.get(key), decimals=decimals))

    out.append("Model Test User Model:")
    if scaled:
        out.append(f"  {'':<40}{'Standard':>14}{'Scaled':>14}")
    row("Test Statistic", "chisq", "chisq_scaled")
    row("Degrees of freedom", "df", "df_scaled", decimals=0)
    row("P-value (Chi-square)", "pvalue", "pvalue_scaled")
    if scaled:
        out.append(_line("Scaling correction factor", "", f.get("chisq_scaling_factor")))
    if _num(f.get("baseline_chisq")) is not None:
        out += ["", "Model Test Baseline Model:", ""]
        row("Test statistic", "baseline_chisq", "baseline_chisq_scaled")
        row("Degrees of freedom", "baseline_df", "baseline_df_scaled", decimals=0)
        row("P-value", "baseline_pvalue", "baseline_pvalue_scaled")
    out += ["", "User Model versus Baseline Model:", ""]
    row("Comparative Fit Index (CFI)", "cfi", "cfi_scaled")
    row("Tucker-Lewis Index (TLI)", "tli", "tli_scaled")
    if scaled and _num(f.get("cfi_robust")) is not None:
        out += ["", _line("Robust Comparative Fit Index (CFI)", "", f.get("cfi_robust")),
                _line("Robust Tucker-Lewis Index (TLI)", "", f.get("tli_robust"))]
    out += ["", "Loglikelihood and Information Criteria:", ""]
    row("Loglikelihood user model (H0)", "logl")
    row("Loglikelihood unrestricted model (H1)", "unrestricted_logl")
    out.append("")
    row("Akaike (AIC)", "aic")
    row("Bayesian (BIC)", "bic")
    row("Sample-size adjusted Bayesian (SABIC)", "bic2")
    out += ["", "Root Mean Square Error of Approximation:", ""]
    row("RMSEA", "rmsea", "rmsea_scaled")
    row("90 Percent confidence interval - lower", "rmsea_ci_lower", "rmsea_ci_lower_scaled")
    row("90 Percent confidence interval - upper", "rmsea_ci_upper", "rmsea_ci_upper_scaled")
    row("P-value H_0: RMSEA <= 0.050", "rmsea_pvalue", "rmsea_pvalue_scaled")
    row("P-value H_0: RMSEA >= 0.080", "rmsea_notclose_pvalue", "rmsea_notclose_pvalue_scaled")
    if scaled and _num(f.get("rmsea_robust")) is not None:
        out += ["", _line("Robust RMSEA", "", f.get("rmsea_robust"))]
    out += ["", "Standardized Root Mean Square Residual:", ""]
    row("SRMR", "srmr")
    return out


_SECTIONS = (("=~", "Latent Variables:"), ("~", "Regressions:"), ("~~cov", "Covariances:"),
             ("~1", "Intercepts:"), ("|", "Thresholds:"), ("~~var", "Variances:"),
             (":=", "Defined Parameters:"))


def _value(v: Any, width: int = 9) -> str:
    f = _num(v)
    return " " * width if f is None else f"{f:>{width}.3f}"


def _estimate_lines(fit: FitResult, est) -> list[str]:
    std = "std_all" in est.columns
    head = "Estimate  Std.Err  z-value  P(>|z|)" + ("   Std.lv  Std.all" if std else "")
    out: list[str] = []
    latent = set(fit.latent)
    endo = set(est.loc[est["op"] == "~", "lhs"]) | {
        r for r in est.loc[est["op"] == "=~", "rhs"]}
    for key, title in _SECTIONS:
        if key == "~~cov":
            rows = est[(est["op"] == "~~") & (est["lhs"] != est["rhs"])]
        elif key == "~~var":
            rows = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])]
        else:
            rows = est[est["op"] == key]
        if not len(rows):
            continue
        out += ["", title, f"{'':<19}{head}"]
        last_lhs = None
        for r in rows.itertuples():
            label = str(getattr(r, "label", "") or "")
            if label.startswith(".p"):
                label = ""
            if key in ("=~", "~", "~~cov"):
                if r.lhs != last_lhs:
                    out.append(f"  {r.lhs} {r.op}")
                    last_lhs = r.lhs
                name = f"    {r.rhs}"
            elif key == ":=":
                name = f"    {r.lhs}"
            elif key == "|":
                name = f"    {r.lhs}|{r.rhs}"
            else:
                dot = "." if (r.lhs in endo or r.lhs not in latent) and key != ":=" else " "
                name = f"   {dot}{r.lhs}"
            if label and key != ":=":
                name = f"{name} ({label})"
            fixed = not (_num(getattr(r, "se", None)) or 0) > 0
            cells = _value(r.est)
            if fixed:
                cells += " " * 27
            else:
                cells += _value(r.se) + _value(r.z) + _value(r.pvalue)
            if std:
                cells += _value(getattr(r, "std_lv", None)) + _value(getattr(r, "std_all", None))
            out.append(f"{name:<19}{cells}".rstrip())
    return out


def summary_text(fit: FitResult, fit_measures: bool = True) -> str:
    """The fit as lavaan's ``summary(fit, fit.measures = TRUE, standardized = TRUE)`` prints it.

    Parameters
    ----------
    fit : FitResult
    fit_measures : bool
        Include the fit indices (CFI, TLI, information criteria, RMSEA, SRMR).

    Returns
    -------
    str
        Plain text; numbers with three decimals as lavaan prints them.
    """
    f = fit.fit
    est = fit.estimates
    status = "ended normally" if fit.converged else "did NOT end normally"
    lines = [f"riskmodel-sem (lavaan rules) {status} after {fit.iterations} iterations", "",
             _line("Estimator", fit.estimator),
             _line("Number of model parameters", f.get("npar"), decimals=0), ""]
    groups = list(fit.group_labels) if fit.group_labels else []
    if groups:
        lines.append(_line("Number of observations per group:", ""))
        sizes = f.get("group_n") or {}
        for g in groups:
            n = sizes.get(g) if isinstance(sizes, dict) else None
            lines.append(_line(f"  {g}", n if n is not None else "", decimals=0))
    else:
        lines.append(_line("Number of observations", fit.n_obs, decimals=0))
    if fit.missing != "listwise":
        lines.append(_line("Missing data", fit.missing))
    lines.append("")
    if fit_measures:
        lines += _fit_sections(fit)
    else:
        lines.append("Model Test User Model:")
        lines += [_line("Test statistic", f.get("chisq")),
                  _line("Degrees of freedom", f.get("df"), decimals=0),
                  _line("P-value (Chi-square)", f.get("pvalue"))]
    lines += ["", "Parameter Estimates:", "",
              _line("Standard errors", "Robust.huber.white" if fit.estimator == "MLR"
                    else "Standard"),
              _line("Information", "Observed" if fit.estimator == "MLR" else "Expected")]
    if "group" in est.columns and groups:
        for k, g in enumerate(groups, start=1):
            lines += ["", "", f"Group {k} [{g}]:"]
            lines += _estimate_lines(fit, est[est["group"] == k])
        defined = est[est["op"] == ":="]
        if len(defined):
            lines += _estimate_lines(fit, defined)
    else:
        lines += _estimate_lines(fit, est)
    if fit.r2:
        lines += ["", "R-Square:", f"{'':<19}{'Estimate':>9}"]
        lines += [f"    {k:<15}{_value(v)}" for k, v in fit.r2.items()]
    return "\n".join(lines) + "\n"


def summary_html(text: str) -> str:
    """A summary text as HTML for notebooks (``_repr_html_``): preformatted and escaped."""
    return f"<pre style=\"font-size: 12px; line-height: 1.3\">{escape(text)}</pre>"


def table_text(title: str, frame) -> str:
    """A titled table (a DataFrame, or a dict of scalars) as plain text, three decimals."""
    import pandas as pd

    if isinstance(frame, dict):
        frame = pd.DataFrame({"value": pd.Series(frame, dtype=object)})
    if frame is None or not len(frame):
        return f"{title}:\n  (none)\n"
    body = frame.to_string(float_format=lambda v: f"{v:.3f}")
    return f"{title}:\n" + "\n".join("  " + line for line in body.splitlines()) + "\n"
