"""The one table of published thresholds behind every verdict, sheet and page.

Each :class:`Threshold` names a criterion, its cut-off, the direction that passes, the
publication it comes from and the verdict words in Chinese and English. The verdicts of
:func:`riskmodel_sem.workflow.validation.validate`, the Excel workbook and the HTML page all
judge numbers with :data:`CRITERIA`; nothing else in the package keeps a cut-off of its own
(screening's respondent flags, which are rules rather than verdicts, are documented in
:mod:`riskmodel_sem.psychometrics.screening`).

Examples
--------
>>> CRITERIA["cfi"].passes(0.97)
True
>>> CRITERIA["rmsea"].describe()
'≤ 0.06'
>>> CRITERIA["htmt"].word(False, "zh")
'不达标'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

__all__ = ["Threshold", "CRITERIA", "VALIDATION_CRITERIA", "FIT_INDEX_CRITERIA",
           "COLUMN_CRITERIA", "criterion", "fit_criterion", "passes", "f2_size"]

#: Directions: pass when ``value >= t``, ``> t``, ``< t``, ``<= t`` or ``|value| < t``.
DIRECTIONS = (">=", ">", "<", "<=", "abs<")
_SYMBOLS = {">=": "≥", ">": ">", "<": "<", "<=": "≤", "abs<": "|x| <"}

_PASS_FAIL = (("zh", "达标", "不达标"), ("en", "pass", "fail"))
_GOOD_POOR = (("zh", "良好", "不达标"), ("en", "good", "poor"))
_PASS_POOR = (("zh", "达标", "不达标"), ("en", "pass", "poor"))


def passes(value, threshold, direction: str) -> bool:
    """True when ``value`` meets ``threshold`` in ``direction``; False for a missing or
    non-finite value or threshold.

    Raises
    ------
    ValueError
        For a direction not in :data:`DIRECTIONS`.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"Unknown threshold direction {direction!r}; use one of "
                         f"{', '.join(DIRECTIONS)}.")
    if value is None or threshold is None:
        return False
    value = float(value)
    if not math.isfinite(value):
        return False
    if direction == ">=":
        return value >= threshold
    if direction == ">":
        return value > threshold
    if direction == "<":
        return value < threshold
    if direction == "<=":
        return value <= threshold
    return abs(value) < threshold


@dataclass(frozen=True)
class Threshold:
    """One criterion of the table.

    Attributes
    ----------
    criterion : str
        Name used in verdicts (``ValidationResult.verdicts["criterion"]``).
    value : float or None
        The cut-off; None when each target brings its own (Fornell-Larcker).
    direction : {">=", ">", "<", "<=", "abs<"}
        What passes.
    source : str
        The publication, with DOI where there is one.
    words : tuple of (language, pass word, fail word)
        Verdict words in ``"zh"`` and ``"en"``.
    """

    criterion: str
    value: float | None
    direction: str
    source: str
    words: tuple[tuple[str, str, str], ...] = _PASS_FAIL

    def passes(self, value, threshold: float | None = None) -> bool:
        """Whether ``value`` passes (against ``threshold`` instead of :attr:`value` if given)."""
        return passes(value, self.value if threshold is None else threshold, self.direction)

    def word(self, passed: bool, lang: str) -> str:
        """The verdict word for ``passed`` in ``lang`` (``"zh"`` or ``"en"``)."""
        for language, good, bad in self.words:
            if language == lang:
                return good if passed else bad
        raise ValueError(f"No verdict words in language {lang!r} for {self.criterion}.")

    def describe(self) -> str:
        """The rule as shown in reports, e.g. ``"≥ 0.95"`` or ``"|x| < 2"``."""
        symbol = _SYMBOLS[self.direction]
        if self.value is None:
            return symbol
        return f"{symbol} {self.value:.2f}" if self.value < 1 else f"{symbol} {self.value:g}"

    def as_dict(self) -> dict:
        """``{value, direction, source}``, the form stored in ``ValidationResult.thresholds``
        and ``results.json``."""
        return {"value": self.value, "direction": self.direction, "source": self.source}


_HAIR = ("Hair, Black, Babin & Anderson (2019), Multivariate Data Analysis, 8th ed.")
_HU_BENTLER = "Hu & Bentler (1999), SEM 6, 1-55, doi:10.1080/10705519909540118"

_TABLE = (
    Threshold("alpha", 0.70, ">=", "Nunnally (1978), Psychometric Theory, 2nd ed.: alpha >= .70"),
    Threshold("alpha_ordinal", 0.70, ">=",
              "Gadermann, Guhn & Zumbo (2012), PARE 17(3), doi:10.7275/n560-j767: ordinal "
              "alpha is read with alpha's cut-off, >= .70"),
    Threshold("omega", 0.70, ">=", f"{_HAIR}: construct reliability >= .70"),
    Threshold("omega_higher_order", 0.70, ">=",
              "Hair et al. (2019): construct reliability >= .70"),
    Threshold("cr", 0.70, ">=",
              "Hair et al. (2019); Fornell & Larcker (1981), JMR 18, 39-50: CR >= .70"),
    Threshold("ave", 0.50, ">=",
              "Fornell & Larcker (1981), JMR 18, 39-50, doi:10.2307/3151312: AVE >= .50"),
    Threshold("loading_std", 0.50, ">=",
              "Hair et al. (2019): standardized loadings >= .50 acceptable, >= .70 ideal"),
    Threshold("citc", 0.30, ">=", "Nunnally & Bernstein (1994), Psychometric Theory, 3rd ed.: "
                                  "corrected item-total correlation >= .30"),
    Threshold("skew", 2.0, "abs<", "West, Finch & Curran (1995): |skewness| < 2"),
    Threshold("kurtosis", 7.0, "abs<", "West, Finch & Curran (1995): |excess kurtosis| < 7"),
    Threshold("fornell_larcker", None, ">",
              "Fornell & Larcker (1981): sqrt(AVE) exceeds the construct's correlations with "
              "every other construct"),
    Threshold("htmt", 0.85, "<", "Henseler, Ringle & Sarstedt (2015), JAMS 43, 115-135, "
                                 "doi:10.1007/s11747-014-0403-8: HTMT < .85 (conservative)"),
    Threshold("htmt_liberal", 0.90, "<", "Henseler et al. (2015): HTMT < .90 (liberal)"),
    Threshold("htmt2", 0.85, "<", "Roemer, Schuberth & Henseler (2021), IMDS 121, 2637-2650, "
                                  "doi:10.1108/IMDS-02-2021-0082: HTMT2 < .85 (conservative)"),
    Threshold("htmt2_liberal", 0.90, "<", "Roemer et al. (2021): HTMT2 < .90 (liberal)"),
    Threshold("kmo", 0.60, ">=", "Kaiser (1974), Psychometrika 39, 31-36; Tabachnick & Fidell "
                                 "(2019): KMO >= .60"),
    Threshold("kmo_item", 0.50, ">=", "Kaiser (1974): item MSA below .50 is unacceptable"),
    Threshold("bartlett", 0.05, "<", "Bartlett (1951), Biometrika 38, 337-344: sphericity "
                                     "rejected at p < .05"),
    Threshold("harman", 0.50, "<", "Podsakoff, MacKenzie, Lee & Podsakoff (2003), JAP 88, "
                                   "879-903: the first unrotated factor explains less than 50% "
                                   "of the variance"),
    Threshold("one_factor_cfa", 0.05, "<", "Podsakoff et al. (2003): the one-factor model fits "
                                           "significantly worse than the measurement model "
                                           "(p < .05)"),
    Threshold("cfi", 0.95, ">=", f"{_HU_BENTLER}: CFI >= .95", _GOOD_POOR),
    Threshold("tli", 0.95, ">=", "Hu & Bentler (1999): TLI >= .95", _GOOD_POOR),
    Threshold("rmsea", 0.06, "<=", "Hu & Bentler (1999): RMSEA <= .06", _GOOD_POOR),
    Threshold("srmr", 0.08, "<=", "Hu & Bentler (1999): SRMR <= .08", _PASS_POOR),
    Threshold("chisq_df", 3.0, "<=", "Kline (2016), Principles and Practice of Structural "
                                     "Equation Modeling, 4th ed.: chi-square/df <= 3",
              _PASS_POOR),
    Threshold("gfi", 0.90, ">=", "Jöreskog & Sörbom (1984), LISREL VI User's Guide; Gefen, "
                                 "Straub & Boudreau (2000), CAIS 4(7), "
                                 "doi:10.17705/1CAIS.00407: GFI >= .90", _PASS_POOR),
    Threshold("agfi", 0.80, ">=", "Gefen, Straub & Boudreau (2000), CAIS 4(7), "
                                  "doi:10.17705/1CAIS.00407: AGFI >= .80", _PASS_POOR),
    Threshold("nfi", 0.90, ">=", "Bentler & Bonett (1980), Psychological Bulletin 88, 588-606, "
                                 "doi:10.1037/0033-2909.88.3.588: NFI >= .90", _PASS_POOR),
    Threshold("ifi", 0.90, ">=", "Bollen (1989), Sociological Methods & Research 17, 303-316, "
                                 "doi:10.1177/0049124189017003004: IFI >= .90", _PASS_POOR),
    Threshold("f2_small", 0.02, ">=", "Cohen (1988), Statistical Power Analysis for the "
                                      "Behavioral Sciences, 2nd ed., p. 413: f² >= .02 small",
              (("zh", "小", "可忽略"), ("en", "small", "negligible"))),
    Threshold("f2_medium", 0.15, ">=", "Cohen (1988), p. 413: f² >= .15 medium",
              (("zh", "中", "小"), ("en", "medium", "small"))),
    Threshold("f2_large", 0.35, ">=", "Cohen (1988), p. 413: f² >= .35 large",
              (("zh", "大", "中"), ("en", "large", "medium"))),
    Threshold("modindex", 3.84, ">=", "Sörbom (1989), Psychometrika 54, 371-384: a "
                                      "modification index of 3.84 or more (chi-square(1) at "
                                      "p < .05) is worth a look",
              (("zh", "列出", "不列出"), ("en", "listed", "not listed"))),
)

#: Every criterion, by name.
CRITERIA: Mapping[str, Threshold] = MappingProxyType({t.criterion: t for t in _TABLE})

#: The criteria that :func:`riskmodel_sem.workflow.validation.validate` judges, in its order.
VALIDATION_CRITERIA = ("alpha", "alpha_ordinal", "omega", "omega_higher_order", "cr", "ave", "loading_std",
                       "citc", "skew", "kurtosis", "fornell_larcker", "htmt", "htmt_liberal",
                       "htmt2", "htmt2_liberal", "kmo", "kmo_item", "bartlett", "harman",
                       "one_factor_cfa", "cfi", "tli", "rmsea", "srmr")

#: Fit measures (lavaan's names) judged in reports, and their criterion: the robust
#: indices are judged by the same cut-offs.
FIT_INDEX_CRITERIA: Mapping[str, str] = MappingProxyType({
    "cfi": "cfi", "cfi_robust": "cfi", "cfi_scaled": "cfi", "tli": "tli", "tli_robust": "tli",
    "tli_scaled": "tli", "rmsea": "rmsea", "rmsea_robust": "rmsea", "rmsea_scaled": "rmsea",
    "srmr": "srmr", "chisq_df": "chisq_df", "gfi": "gfi",
    "agfi": "agfi", "nfi": "nfi", "ifi": "ifi"})

#: Result columns judged cell by cell in report tables, and their criterion.
COLUMN_CRITERIA: Mapping[str, str] = MappingProxyType({
    "alpha": "alpha", "omega": "omega", "cr": "cr", "ave": "ave", "kmo": "kmo",
    "msa": "kmo_item", "loading_std": "loading_std", "citc": "citc", "skew": "skew",
    "kurtosis": "kurtosis"})


def criterion(name: str) -> Threshold:
    """The criterion ``name`` of :data:`CRITERIA`.

    Raises
    ------
    KeyError
        Naming the criterion when the table has no such entry.
    """
    try:
        return CRITERIA[name]
    except KeyError:
        raise KeyError(f"No threshold for criterion {name!r}.") from None


def fit_criterion(measure: str) -> Threshold | None:
    """The criterion that judges the fit measure ``measure`` (``"cfi_robust"`` -> CFI's), or
    None for a measure without a published cut-off."""
    name = FIT_INDEX_CRITERIA.get(measure)
    return None if name is None else CRITERIA[name]


def judged_measure(index: str, estimator: str, fit: Mapping) -> str:
    """lavaan's name of the version of fit index ``index`` (``"cfi"``, ``"tli"``,
    ``"rmsea"``) that verdicts judge: the robust one for MLR (Brosseau-Liard & Savalei 2014),
    the scaled one for WLSMV and ULSMV (what Mplus reports and lavaan's ``summary`` prints in
    its Scaled column), the standard one otherwise or when that version is missing."""
    suffix = {"MLR": "_robust", "WLSMV": "_scaled", "ULSMV": "_scaled"}.get(str(estimator))
    if suffix is not None:
        value = fit.get(index + suffix)
        if value is not None and math.isfinite(float(value)):
            return index + suffix
    return index


def f2_size(f2) -> str | None:
    """Cohen's label of an effect size f²: ``"large"``, ``"medium"``, ``"small"`` or
    ``"negligible"`` (criteria ``f2_large``, ``f2_medium``, ``f2_small``); None when missing."""
    if f2 is None or not math.isfinite(float(f2)):
        return None
    for name, word in (("f2_large", "large"), ("f2_medium", "medium"), ("f2_small", "small")):
        if CRITERIA[name].passes(f2):
            return word
    return "negligible"
