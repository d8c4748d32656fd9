"""Data screening: item distributions, careless responding, outliers, normality, missingness.

The screening stage looks at the coded item answers before any model is fitted. It describes
each item (n, missing, mean, sd, skewness and kurtosis with their standard errors, answers
outside the scale), each respondent (missing answers, longstring, intra-individual response
variability, Mahalanobis distance, duplicated answer vectors, speeding) and the sample as a
whole (Mardia's multivariate skewness and kurtosis, missing-data patterns).

Respondents are *flagged* with the reasons, never dropped here: ``measurement.validate``
drops flagged rows only when asked to (``drop_flagged=True``). Every flagging rule, with its
threshold and its source, is recorded in :attr:`ScreeningResult.thresholds`.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._json import json_value
from ..errors import DataQualityWarning, OptionError, SurveyDataError
from ..sem.distributions import chi2_sf, norm_sf
from ..sem.em import em_estimate
from ..survey.spec import Spec
from ..survey.readers import SurveyData

__all__ = [
    "RECOMMENDATION_SOURCE",
    "ScreeningResult",
    "screen",
    "item_frame",
    "em_moments",
    "item_statistics",
    "longstring",
    "irv",
    "mahalanobis",
    "mardia",
    "missing_patterns",
    "FLAG_RULES",
]

#: Default flagging rules: value, description and source of each (see :func:`screen`).
FLAG_RULES = {
    "missing_share": {
        "value": 0.5,
        "rule": "more than this share of the items unanswered",
        "source": "Hair, Black, Babin & Anderson (2019), Multivariate Data Analysis, 8th ed., "
                  "ch. 2: cases missing more than 50% of the items are candidates for deletion",
    },
    "longstring_share": {
        "value": 0.5,
        "rule": "longest run of identical consecutive answers >= this share of the items "
                "(at least 2 answers long)",
        "source": "Curran (2016), J. Exp. Soc. Psychol. 66, 4-19, doi:10.1016/j.jesp.2015.07.006: "
                  "a run of half the scale length or longer",
    },
    "irv_range_share": {
        "value": 0.1,
        "rule": "intra-individual response SD < this share of the scale range (max - min)",
        "source": "Dunn, Heggestad, Shanock & Theilgard (2018), J. Bus. Psychol. 33, 105-121, "
                  "doi:10.1007/s10869-016-9479-0: near-zero IRV marks invariant responding",
    },
    "mahalanobis_p": {
        "value": 0.001,
        "rule": "Mahalanobis D^2 against chi-square(df = items answered) with p below this",
        "source": "Tabachnick & Fidell (2019), Using Multivariate Statistics, 7th ed., ch. 4: "
                  "multivariate outliers at p < .001",
    },
    "duplicate": {
        "value": True,
        "rule": "answer vector identical to another respondent's (all copies flagged)",
        "source": "Curran (2016): duplicate records as a data-quality check",
    },
    "speed_fraction": {
        "value": 0.5,
        "rule": "completion time below this fraction of the median completion time",
        "source": "Greszki, Meyer & Schoen (2015), Public Opin. Q. 79, 471-503, "
                  "doi:10.1093/poq/nfu058: speeders relative to the median duration",
    },
}

#: Cut-offs for the univariate and multivariate normality summaries.
NORMALITY_RULES = {
    "abs_skew": {"value": 2.0, "source": "Finney & DiStefano (2013), in Hancock & Mueller (eds.), "
                                         "Structural Equation Modeling: A Second Course, 2nd ed., "
                                         "439-492: |skewness| > 2 is strongly non-normal (West, "
                                         "Finch & Curran 1995)"},
    "abs_kurtosis": {"value": 7.0, "source": "Finney & DiStefano (2013): |excess kurtosis| > 7 "
                                             "is strongly non-normal (West, Finch & Curran 1995)"},
    "mardia_alpha": {"value": 0.05, "source": "Mardia (1970), Biometrika 57, 519-530, "
                                              "doi:10.1093/biomet/57.3.519"},
    "min_categories": {"value": 5, "source": "Rhemtulla, Brosseau-Liard & Savalei (2012), "
                                             "Psychological Methods 17, 354-373, "
                                             "doi:10.1037/a0029315: with fewer than five answer "
                                             "categories, or asymmetric thresholds, categorical "
                                             "estimation (WLSMV) beats robust ML"},
    "max_ordinal_categories": {"value": 7, "source": "Rhemtulla, Brosseau-Liard & Savalei "
                                                     "(2012) compared 2 to 7 categories; items "
                                                     "with more distinct answers are treated "
                                                     "as continuous"},
}

#: Where the estimator recommendation comes from (shown with it in results and reports).
RECOMMENDATION_SOURCE = ("Rhemtulla, Brosseau-Liard & Savalei (2012), Psychological Methods 17, "
                         "354-373, doi:10.1037/a0029315; Finney & DiStefano (2013), Non-normal "
                         "and categorical data in structural equation modeling, 439-492")


@dataclass(frozen=True)
class ScreeningResult:
    """Result of :func:`screen`.

    Attributes
    ----------
    items : pandas.DataFrame
        One row per item: item, construct, n, missing, mean, sd, skew, skew_se, kurtosis
        (excess), kurtosis_se, min, max, out_of_scale.
    respondents : pandas.DataFrame
        One row per respondent in file order: row (0-based), id, n_missing, longstring, irv,
        mahalanobis_d2, mahalanobis_df, mahalanobis_p, duplicate, duration (NaN without a
        duration column), speeder, flagged, reasons (tuple of rule names).
    normality : dict
        Mardia's multivariate skewness (``skew_b1p``, ``skew_statistic``, ``skew_df``,
        ``skew_p``) and kurtosis (``kurtosis_b2p``, ``kurtosis_z``, ``kurtosis_p``),
        ``n`` (complete rows used), counts of items beyond the univariate cut-offs, the fewest
        answer categories of an item, and the ``recommendation`` (``"WLSMV"`` or ``"MLR"``)
        with its ``reason`` and ``recommendation_source``.
    missing_patterns : pandas.DataFrame
        One row per pattern of missing answers: pattern ("1" answered, "0" missing, in item
        order), n_rows, n_missing_items, missing_items; most frequent first.
    thresholds : dict
        The flagging and normality rules used: ``{rule: {value, rule, source}}``.
    n_rows : int
        Number of respondents screened.
    n_flagged : int
        Number of flagged respondents.
    warnings : tuple of str
        Remarks on the data (also emitted as :class:`DataQualityWarning`).
    """

    items: pd.DataFrame
    respondents: pd.DataFrame
    normality: dict
    missing_patterns: pd.DataFrame
    thresholds: dict
    n_rows: int
    n_flagged: int
    warnings: tuple[str, ...] = field(default=())

    @property
    def flagged_rows(self) -> np.ndarray:
        """0-based positions of the flagged respondents."""
        return self.respondents.loc[self.respondents["flagged"], "row"].to_numpy()

    def to_dict(self) -> dict:
        """JSON-ready dictionary (NaN as None; reasons as lists)."""
        resp = []
        for rec in self.respondents.to_dict(orient="records"):
            out = {k: json_value(v) for k, v in rec.items() if k != "reasons"}
            out["reasons"] = list(rec["reasons"])
            resp.append(out)
        return {
            "n_rows": self.n_rows,
            "n_flagged": self.n_flagged,
            "items": [{k: json_value(v) for k, v in r.items()}
                      for r in self.items.to_dict(orient="records")],
            "respondents": resp,
            "normality": {k: json_value(v) for k, v in self.normality.items()},
            "missing_patterns": [{k: json_value(v) for k, v in r.items()}
                                 for r in self.missing_patterns.to_dict(orient="records")],
            "thresholds": {k: dict(v) for k, v in self.thresholds.items()},
            "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------------------------

def item_frame(survey, spec: Spec, id_column: str | None = None
               ) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Return (items, ids, extra) from a SurveyData or a DataFrame.

    Parameters
    ----------
    survey : SurveyData or pandas.DataFrame
        A survey read by :func:`riskmodel_sem.survey.readers.read_survey` (items already coded and
        reverse-keyed items recoded), or a frame of answers as respondents gave them with one
        column per spec item (as :func:`riskmodel_sem.survey.simulate.simulate_survey` returns):
        reverse-keyed items are then recoded as ``min + max - x``, like ``read_survey`` does.
    spec : Spec
        The model spec naming the items.
    id_column : str, optional
        Column holding respondent ids (DataFrame input; by default ``id`` if present, else
        1..n).

    Returns
    -------
    items : pandas.DataFrame
        Float columns named by item code, in spec order, with a 0..n-1 index.
    ids : pandas.Series
        Respondent ids.
    extra : pandas.DataFrame
        The other columns (durations, groups, ...).

    Raises
    ------
    SurveyDataError
        If a spec item or the id column is missing, or an answer is not numeric.
    """
    codes = list(spec.item_codes)
    if isinstance(survey, SurveyData):
        items = survey.data[codes].astype(float).reset_index(drop=True)
        ids = survey.ids.reset_index(drop=True)
        extra = survey.extra.reset_index(drop=True)
        if id_column is not None and id_column != ids.name:
            if id_column not in extra.columns:
                raise SurveyDataError(f"The survey has no id column {id_column!r}.")
            ids = extra[id_column].rename(id_column)
            extra = extra.drop(columns=[id_column])
        return items, ids, extra
    if not isinstance(survey, pd.DataFrame):
        raise TypeError("The survey must be a SurveyData or a pandas DataFrame.")
    frame = survey.reset_index(drop=True)
    missing = [c for c in codes if c not in frame.columns]
    if missing:
        raise SurveyDataError(f"The data have no column(s) for item(s) {', '.join(missing)}.")
    items = pd.DataFrame(index=frame.index)
    for c in codes:
        col = pd.to_numeric(frame[c], errors="coerce")
        bad = col.isna() & frame[c].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise SurveyDataError(f"Item {c}, row {i + 1}: answer {frame[c].iloc[i]!r} is not "
                                  "a number.")
        col = col.astype(float)
        if spec.item(c).reverse and spec.scale is not None:
            col = spec.scale.min + spec.scale.max - col
        items[c] = col
    if id_column is not None:
        if id_column not in frame.columns:
            raise SurveyDataError(f"The data have no id column {id_column!r}.")
        ids = frame[id_column].rename(id_column)
    elif "id" in frame.columns and "id" not in codes:
        ids = frame["id"].rename("id")
        id_column = "id"
    else:
        ids = pd.Series(np.arange(1, len(frame) + 1), name="id")
    extra = frame.drop(columns=[c for c in [*codes, id_column] if c in frame.columns])
    return items, ids, extra


# ---------------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------------

def item_statistics(items: pd.DataFrame, spec: Spec | None = None) -> pd.DataFrame:
    """Describe each item: n, missing, mean, sd, skewness and kurtosis with SEs, range.

    Parameters
    ----------
    items : pandas.DataFrame
        Numeric item answers (NaN = missing).
    spec : Spec, optional
        Gives each item's construct and the scale for counting out-of-scale answers.

    Returns
    -------
    pandas.DataFrame
        Columns item, construct, n, missing, mean, sd, skew, skew_se, kurtosis, kurtosis_se,
        min, max, out_of_scale (NaN when the spec has no scale).

    Notes
    -----
    ``skew`` is the adjusted Fisher-Pearson coefficient
    ``G1 = g1 sqrt(n(n-1)) / (n-2)`` and ``kurtosis`` the adjusted excess kurtosis
    ``G2 = ((n+1) g2 + 6)(n-1) / ((n-2)(n-3))`` (SPSS, Excel, ``e1071::skewness(type = 2)``),
    with ``SE(G1) = sqrt(6n(n-1) / ((n-2)(n+1)(n+3)))`` and
    ``SE(G2) = 2 SE(G1) sqrt((n^2-1) / ((n-3)(n+5)))``. ``sd`` uses the divisor n - 1.

    References
    ----------
    Joanes, D. N., & Gill, C. A. (1998). Comparing measures of sample skewness and kurtosis.
    The Statistician, 47, 183-189. doi:10.1111/1467-9884.00122
    """
    rows = []
    lo = spec.scale.min if spec is not None and spec.scale is not None else None
    hi = spec.scale.max if spec is not None and spec.scale is not None else None
    for c in items.columns:
        x = items[c].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        n = len(x)
        construct = ""
        if spec is not None:
            try:
                construct = spec.item(c).construct
            except KeyError:
                construct = ""
        rec = {"item": c, "construct": construct, "n": n, "missing": int(len(items) - n),
               "mean": float(np.mean(x)) if n else np.nan,
               "sd": float(np.std(x, ddof=1)) if n > 1 else np.nan,
               "skew": np.nan, "skew_se": np.nan, "kurtosis": np.nan, "kurtosis_se": np.nan,
               "min": float(np.min(x)) if n else np.nan,
               "max": float(np.max(x)) if n else np.nan,
               "out_of_scale": (int(np.sum((x < lo) | (x > hi))) if lo is not None
                                else np.nan)}
        if n > 3 and np.ptp(x) > 0:
            dev = x - x.mean()
            m2, m3, m4 = (np.mean(dev ** k) for k in (2, 3, 4))
            # adjusted Fisher-Pearson G1 and G2 (SPSS, psych::describe type 2,
            # scipy.stats.skew/kurtosis with bias=False)
            rec["skew"] = float(math.sqrt(n * (n - 1)) / (n - 2) * m3 / m2 ** 1.5)
            rec["kurtosis"] = float((n - 1) / ((n - 2) * (n - 3))
                                    * ((n + 1) * (m4 / m2 ** 2 - 3) + 6))
            ses = math.sqrt(6.0 * n * (n - 1) / ((n - 2) * (n + 1) * (n + 3)))
            rec["skew_se"] = ses
            rec["kurtosis_se"] = 2.0 * ses * math.sqrt((n * n - 1.0) / ((n - 3) * (n + 5)))
        rows.append(rec)
    return pd.DataFrame(rows, columns=["item", "construct", "n", "missing", "mean", "sd", "skew",
                                       "skew_se", "kurtosis", "kurtosis_se", "min", "max",
                                       "out_of_scale"])


def longstring(values: np.ndarray) -> np.ndarray:
    """Longest run of identical consecutive answers per respondent (row).

    Parameters
    ----------
    values : ndarray, shape (n, k)
        Answers in questionnaire order; NaN (missing) breaks a run.

    Returns
    -------
    ndarray of int
        Run lengths (0 for a row with no answer).

    Notes
    -----
    Matches ``careless::longstring`` (Yentes & Wilhelm) for complete rows.

    References
    ----------
    Johnson, J. A. (2005). Ascertaining the validity of individual protocols from web-based
    personality inventories. J. Res. Pers., 39, 103-129. doi:10.1016/j.jrp.2004.09.009
    """
    values = np.asarray(values, dtype=float)
    n, k = values.shape
    out = np.zeros(n, dtype=int)
    if k == 0:
        return out
    run = (~np.isnan(values[:, 0])).astype(int)
    best = run.copy()
    for j in range(1, k):
        same = (values[:, j] == values[:, j - 1])
        answered = ~np.isnan(values[:, j])
        run = np.where(same, run + 1, answered.astype(int))
        best = np.maximum(best, run)
    out[:] = best
    return out


def irv(values: np.ndarray) -> np.ndarray:
    """Intra-individual response variability: the SD (divisor k - 1) of each row's answers.

    Notes
    -----
    Matches ``careless::irv`` (missing answers ignored; NaN with fewer than two answers).

    References
    ----------
    Dunn, A. M., Heggestad, E. D., Shanock, L. R., & Theilgard, N. (2018). Intra-individual
    response variability as an indicator of insufficient effort responding. J. Bus. Psychol.,
    33, 105-121. doi:10.1007/s10869-016-9479-0
    """
    values = np.asarray(values, dtype=float)
    cnt = np.sum(~np.isnan(values), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(values, axis=1, ddof=1)
    sd[cnt < 2] = np.nan
    return sd


def em_moments(values: np.ndarray, max_iter: int = 1000, tol: float = 1e-10
               ) -> tuple[np.ndarray, np.ndarray, int]:
    """Maximum-likelihood mean and covariance of incomplete multivariate-normal data (EM).

    Parameters
    ----------
    values : ndarray, shape (n, p)
        Data with NaN for missing values; rows with no value are ignored.
    max_iter : int
        Maximum number of EM iterations.
    tol : float
        Convergence criterion on the largest absolute change of a mean or covariance element.

    Returns
    -------
    mean : ndarray (p,)
    cov : ndarray (p, p)
        Covariance with divisor n (the ML estimate), as lavaan's saturated (h1) model under
        ``missing = "ml"`` (``lavInspect(fit, "sampstat")``).
    iterations : int

    Raises
    ------
    SurveyDataError
        If a variable has no observed value.

    Notes
    -----
    The engine's EM (:func:`riskmodel_sem.sem.em.em_estimate`, lavaan's
    ``lav_mvnorm_missing_h1_estimate_moments``) with this function's tolerance: E step per
    missing-data pattern ``E[x_m | x_o] = mu_m + S_mo S_oo^{-1}(x_o - mu_o)`` and the
    conditional covariance ``S_mm - S_mo S_oo^{-1} S_om`` added to the cross-products; M step
    the completed means and cross-products. With complete data it returns the sample mean and
    the covariance with divisor n in one step.

    References
    ----------
    Dempster, Laird & Rubin (1977). J. R. Stat. Soc. B, 39, 1-38.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.all(np.isnan(x), axis=1)]
    if np.any(np.isnan(x).all(axis=0)):
        raise SurveyDataError("A variable has no observed value; its moments cannot be "
                              "estimated.")
    res = em_estimate(x, tol=tol, max_iter=max_iter)
    return res.mean, (res.cov + res.cov.T) / 2.0, res.iterations


def mahalanobis(values: np.ndarray, mean: np.ndarray, cov: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Squared Mahalanobis distance of each row, on the items it answered.

    Parameters
    ----------
    values : ndarray (n, p)
        Data, NaN for missing answers.
    mean, cov : ndarray
        Centre and covariance (complete data: the sample mean and covariance; incomplete data:
        the EM estimates).

    Returns
    -------
    d2, df, p : ndarray
        ``D^2 = (x_o - mu_o)' S_oo^{-1} (x_o - mu_o)`` over the answered items ``o``,
        ``df`` = number of answered items, and the upper-tail chi-square p-value
        (NaN for rows with no answer).

    Notes
    -----
    Matches ``stats::mahalanobis`` (with ``cov(x)``) for complete data.
    """
    x = np.asarray(values, dtype=float)
    n, p = x.shape
    d2 = np.full(n, np.nan)
    df = np.sum(~np.isnan(x), axis=1)
    miss = np.isnan(x)
    keys, inverse = np.unique(miss, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    for g, m in enumerate(keys):
        o = ~m
        if not o.any():
            continue
        idx = np.flatnonzero(inverse == g)
        xc = x[np.ix_(idx, np.flatnonzero(o))] - mean[o]
        sol = np.linalg.solve(cov[np.ix_(o, o)], xc.T).T
        d2[idx] = np.sum(xc * sol, axis=1)
    pval = np.where(df > 0, chi2_sf(d2, np.maximum(df, 1)), np.nan)
    return d2, df, pval


def mardia(values: np.ndarray) -> dict:
    """Mardia's multivariate skewness and kurtosis with their tests (complete rows).

    Parameters
    ----------
    values : ndarray (n, p)
        Complete data (rows with missing values must be removed first).

    Returns
    -------
    dict
        ``n``, ``p``, ``skew_b1p``, ``skew_statistic`` (``n b1p / 6``), ``skew_df``
        (``p(p+1)(p+2)/6``), ``skew_p``, ``kurtosis_b2p``, ``kurtosis_z``
        (``(b2p - p(p+2)) / sqrt(8p(p+2)/n)``), ``kurtosis_p`` (two-sided).

    Notes
    -----
    With ``S`` the covariance with divisor n and ``d_ij = (x_i - xbar)' S^{-1} (x_j - xbar)``:
    ``b1p = sum_ij d_ij^3 / n^2`` and ``b2p = sum_i d_ii^2 / n``. Matches ``psych::mardia``
    (``b1p``, ``skew``, ``p.skew``, ``b2p``, ``kurtosis``, ``p.kurt``). When ``n > p^2`` the double
    sum is computed as ``sum_klm T_klm^2`` over the third-moment tensor of the whitened data
    ``z = L^{-1}(x - xbar)`` (``S = L L'``), linear in n instead of quadratic.

    References
    ----------
    Mardia, K. V. (1970). Measures of multivariate skewness and kurtosis with applications.
    Biometrika, 57, 519-530. doi:10.1093/biomet/57.3.519
    """
    x = np.asarray(values, dtype=float)
    n, p = x.shape
    xc = x - x.mean(axis=0)
    s = xc.T @ xc / n
    w = np.linalg.solve(s, xc.T)  # p x n
    b1 = 0.0
    if n <= p * p:  # the n x n matrix d in row blocks: n^2 p operations
        step = max(1, 4_000_000 // max(n, 1))
        for start in range(0, n, step):
            block = xc[start:start + step] @ w  # rows of d
            b1 += float(np.sum(block ** 3))
    else:  # sum_ij d_ij^3 = sum_klm T_klm^2 with T_klm = sum_i z_ik z_il z_im: n p^3 operations
        z = np.linalg.solve(np.linalg.cholesky(s), xc.T).T  # z_i' z_j = d_ij
        ku, lu = np.triu_indices(p)
        tensor = np.zeros((len(ku), p))  # T_klm for k <= l
        step = max(1, 2_000_000 // len(ku))
        for start in range(0, n, step):
            zb = z[start:start + step]
            tensor += (zb[:, ku] * zb[:, lu]).T @ zb
        weight = np.where(ku == lu, 1.0, 2.0)  # T_klm = T_lkm
        b1 = float(weight @ np.sum(tensor * tensor, axis=1))
    b1p = b1 / n ** 2
    dii = np.sum(xc * w.T, axis=1)
    b2p = float(np.sum(dii ** 2) / n)
    skew_stat = n * b1p / 6.0
    skew_df = p * (p + 1) * (p + 2) / 6.0
    kz = (b2p - p * (p + 2)) / math.sqrt(8.0 * p * (p + 2) / n)
    return {"n": int(n), "p": int(p), "skew_b1p": b1p, "skew_statistic": skew_stat,
            "skew_df": skew_df, "skew_p": float(chi2_sf(skew_stat, skew_df)),
            "kurtosis_b2p": b2p, "kurtosis_z": kz,
            "kurtosis_p": float(2.0 * norm_sf(abs(kz)))}


def missing_patterns(items: pd.DataFrame) -> pd.DataFrame:
    """Table of missing-data patterns (as ``mice::md.pattern``), most frequent first.

    Returns
    -------
    pandas.DataFrame
        pattern ("1" answered / "0" missing per item, in column order), n_rows,
        n_missing_items, missing_items (comma-separated item codes).
    """
    mask = items.isna().to_numpy()
    cols = list(items.columns)
    if len(mask) == 0:
        return pd.DataFrame(columns=["pattern", "n_rows", "n_missing_items", "missing_items"])
    keys, counts = np.unique(mask, axis=0, return_counts=True)
    rows = []
    for key, cnt in zip(keys, counts):
        rows.append({"pattern": "".join("0" if m else "1" for m in key), "n_rows": int(cnt),
                     "n_missing_items": int(key.sum()),
                     "missing_items": ", ".join(c for c, m in zip(cols, key) if m)})
    out = pd.DataFrame(rows)
    return out.sort_values(["n_rows", "n_missing_items"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# the stage
# ---------------------------------------------------------------------------------------------

def screen(survey, spec: Spec, *, id_column: str | None = None, duration: str | None = None,
           rules: dict | None = None) -> ScreeningResult:
    """Screen survey answers: items, careless respondents, outliers, normality, missingness.

    Parameters
    ----------
    survey : SurveyData or pandas.DataFrame
        Coded answers (see :func:`item_frame` for DataFrame input).
    spec : Spec
        The model spec (items, constructs, scale).
    id_column : str, optional
        Column of respondent ids.
    duration : str, optional
        Column of completion times: numbers in any unit (speeding is judged relative to the
        median) or platform texts such as "218秒" / "3分38秒" (read as seconds).
    rules : dict, optional
        Overrides of the default rule values in :data:`FLAG_RULES`, e.g.
        ``{"mahalanobis_p": 0.0001}``.

    Returns
    -------
    ScreeningResult

    Raises
    ------
    SurveyDataError
        If items or the duration/id column are missing, or no respondent answered.
    OptionError
        For an unknown rule name or an invalid rule value.

    Notes
    -----
    A respondent is flagged, with the rule's name among ``reasons``, when

    * ``missing``: more than ``missing_share`` (0.5) of the items are unanswered;
    * ``longstring``: the longest run of identical consecutive answers (item order of the
      spec) is at least ``longstring_share`` (half) of the items and at least 2;
    * ``irv``: the SD of the respondent's answers is below ``irv_range_share`` (0.1) times the
      scale range (not applied when the spec has no common scale, as for a lavaan file);
    * ``mahalanobis``: ``D^2`` on the answered items has a chi-square p-value below
      ``mahalanobis_p`` (.001). Centre and covariance are the sample mean and ML covariance of
      all respondents (EM estimates when answers are missing);
    * ``duplicate``: the complete answer vector equals another respondent's (all copies);
    * ``speeder``: the duration is below ``speed_fraction`` (0.5) of the median duration.

    Nothing is dropped. Mardia's tests use the complete rows. The estimator recommendation is
    WLSMV (items ordered) when some item has fewer than five answer categories, or an item
    with at most seven categories has |skew| > 2 or |excess kurtosis| > 7 (Rhemtulla,
    Brosseau-Liard & Savalei 2012; Finney & DiStefano 2013), and MLR otherwise; the result
    names the rule and its sources (``reason``, ``recommendation_source``).

    Examples
    --------
    >>> res = screen(simulate_survey(spec, 600, seed=1), spec)   # doctest: +SKIP
    >>> res.n_flagged                                              # doctest: +SKIP
    0
    """
    thr = {k: dict(v) for k, v in FLAG_RULES.items()}
    for key, value in (rules or {}).items():
        if key not in thr:
            raise OptionError(f"Unknown screening rule {key!r} (known: {', '.join(thr)}).")
        if key != "duplicate" and (not isinstance(value, (int, float)) or value < 0):
            raise OptionError(f"Screening rule {key!r} needs a non-negative number, got "
                              f"{value!r}.")
        thr[key]["value"] = value
    for key, v in NORMALITY_RULES.items():
        thr[key] = {"value": v["value"], "rule": key.replace("_", " "), "source": v["source"]}

    items, ids, extra = item_frame(survey, spec, id_column=id_column)
    values = items.to_numpy(dtype=float)
    n, k = values.shape
    if n == 0:
        raise SurveyDataError("The survey has no respondents to screen.")
    notes: list[str] = []
    item_tab = item_statistics(items, spec)

    n_missing = np.sum(np.isnan(values), axis=1)
    ls = longstring(values)
    iv = irv(values)
    # IRV compares answers across items, which needs one common scale (not so for a
    # lavaan-file spec, whose variables each keep their own scale).
    scale_range = float(spec.scale.max - spec.scale.min) if spec.scale is not None else None

    answered = n_missing < k
    d2 = np.full(n, np.nan)
    dfm = np.zeros(n, dtype=int)
    pm = np.full(n, np.nan)
    if answered.sum() > k:
        try:
            mu, cov, _ = em_moments(values[answered])
            if np.linalg.eigvalsh(cov).min() <= 1e-12 * max(1.0, np.trace(cov)):
                raise np.linalg.LinAlgError
            d2, dfm, pm = mahalanobis(values, mu, cov)
        except (np.linalg.LinAlgError, SurveyDataError):
            notes.append("Mahalanobis distances were not computed: the item covariance matrix "
                         "is singular.")
    else:
        notes.append("Mahalanobis distances were not computed: fewer respondents than items.")

    complete = ~np.isnan(values).any(axis=1)
    dup = np.zeros(n, dtype=bool)
    if complete.any():
        keyframe = pd.DataFrame(values[complete])
        dup[complete] = keyframe.duplicated(keep=False).to_numpy()

    dur = np.full(n, np.nan)
    speeder = np.zeros(n, dtype=bool)
    if duration is not None:
        if duration not in extra.columns:
            raise SurveyDataError(f"The survey has no duration column {duration!r}.")
        dur = np.array([_duration_value(v) for v in extra[duration]], dtype=float)
        if np.all(np.isnan(dur)):
            raise SurveyDataError(f"The duration column {duration!r} holds no numbers.")
        med = float(np.nanmedian(dur))
        speeder = ~np.isnan(dur) & (dur < thr["speed_fraction"]["value"] * med)
        thr["speed_fraction"]["median_duration"] = med

    ls_cut = max(2, math.ceil(thr["longstring_share"]["value"] * k))
    thr["longstring_share"]["cutoff"] = ls_cut
    if scale_range is not None:
        irv_cut = thr["irv_range_share"]["value"] * scale_range
        thr["irv_range_share"]["cutoff"] = irv_cut
    else:
        irv_cut = -np.inf
        thr["irv_range_share"]["cutoff"] = None
        thr["irv_range_share"]["applied"] = False
        thr["irv_range_share"]["note"] = ("Not applied: the spec has no common answer scale "
                                          "(lavaan model file).")
    checks = {
        "missing": n_missing > thr["missing_share"]["value"] * k,
        "longstring": ls >= ls_cut,
        "irv": ~np.isnan(iv) & (iv < irv_cut),
        "mahalanobis": ~np.isnan(pm) & (pm < thr["mahalanobis_p"]["value"]),
        "duplicate": dup if thr["duplicate"]["value"] else np.zeros(n, dtype=bool),
        "speeder": speeder,
    }
    reasons = [tuple(name for name, hit in checks.items() if hit[i]) for i in range(n)]
    flagged = np.array([bool(r) for r in reasons])
    respondents = pd.DataFrame({
        "row": np.arange(n), "id": ids.to_numpy(), "n_missing": n_missing.astype(int),
        "longstring": ls, "irv": iv, "mahalanobis_d2": d2, "mahalanobis_df": dfm,
        "mahalanobis_p": pm, "duplicate": dup, "duration": dur, "speeder": speeder,
        "flagged": flagged, "reasons": reasons,
    })

    n_categories = np.array([np.unique(col[~np.isnan(col)]).size for col in values.T])
    normality = _normality(values[complete], item_tab, thr, n_categories)
    patterns = missing_patterns(items)

    n_flag = int(flagged.sum())
    if n_flag:
        counts = {name: int(hit.sum()) for name, hit in checks.items() if hit.any()}
        notes.append(f"{n_flag} of {n} respondents are flagged ("
                     + ", ".join(f"{k_}: {v}" for k_, v in counts.items())
                     + "); they are kept unless flagged rows are dropped.")
    oos = item_tab["out_of_scale"].fillna(0).sum()
    if oos:
        notes.append(f"{int(oos)} answers lie outside the scale.")
    for msg in notes:
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
    return ScreeningResult(items=item_tab, respondents=respondents, normality=normality,
                           missing_patterns=patterns, thresholds=thr, n_rows=n,
                           n_flagged=n_flag, warnings=tuple(notes))


_DURATION_RE = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*(?:小时|时|h))?\s*"
                          r"(?:(\d+(?:\.\d+)?)\s*(?:分钟|分|min|m))?\s*"
                          r"(?:(\d+(?:\.\d+)?)\s*(?:秒钟|秒|sec|s))?\s*$", re.IGNORECASE)


def _duration_value(v) -> float:
    """A completion time as a number: numbers as they are, questionnaire-platform texts such
    as "218秒", "3分38秒" or "1h 2min" in seconds; NaN when unreadable."""
    if v is None or isinstance(v, bool):
        return float("nan")
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    text = str(v).strip()
    try:
        return float(text)
    except ValueError:
        pass
    m = _DURATION_RE.match(text)
    if not m or not any(m.groups()):
        return float("nan")
    h, mi, se = (float(g) if g else 0.0 for g in m.groups())
    return 3600.0 * h + 60.0 * mi + se


def _normality(complete_values: np.ndarray, item_tab: pd.DataFrame, thr: dict,
               n_categories: np.ndarray) -> dict:
    out: dict = {}
    n, p = complete_values.shape
    sd_ok = n > p and np.all(np.std(complete_values, axis=0) > 0)
    if sd_ok:
        try:
            out.update(mardia(complete_values))
        except np.linalg.LinAlgError:
            sd_ok = False
    if not sd_ok:
        out.update({"n": int(n), "p": int(p), "skew_b1p": np.nan, "skew_statistic": np.nan,
                    "skew_df": np.nan, "skew_p": np.nan, "kurtosis_b2p": np.nan,
                    "kurtosis_z": np.nan, "kurtosis_p": np.nan})
    skewed = item_tab["skew"].abs().to_numpy() > thr["abs_skew"]["value"]
    kurtotic = item_tab["kurtosis"].abs().to_numpy() > thr["abs_kurtosis"]["value"]
    out["n_items_abs_skew_ge_2"] = int(
        (item_tab["skew"].abs() >= thr["abs_skew"]["value"]).sum())
    out["n_items_abs_kurtosis_ge_7"] = int(
        (item_tab["kurtosis"].abs() >= thr["abs_kurtosis"]["value"]).sum())
    cats = np.asarray(n_categories, dtype=int)
    ordinal = cats <= thr["max_ordinal_categories"]["value"]
    few = ordinal & (cats < thr["min_categories"]["value"])
    asym = ordinal & (skewed | kurtotic)
    out["min_categories"] = int(cats.min()) if cats.size else 0
    out["n_items_few_categories"] = int(few.sum())
    out["n_ordinal_items_asymmetric"] = int(asym.sum())
    out["recommendation_source"] = RECOMMENDATION_SOURCE
    items = [str(v) for v in item_tab["item"]]
    alpha = thr["mardia_alpha"]["value"]

    def named(mask):
        names = [i for i, m in zip(items, mask) if m]
        return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    reasons = []
    if few.any():
        reasons.append(f"{int(few.sum())} item(s) have fewer than "
                       f"{thr['min_categories']['value']} answer categories ({named(few)})")
    if asym.any():
        reasons.append(f"{int(asym.sum())} ordinal item(s) have strongly asymmetric answers "
                       f"(|skew| > {thr['abs_skew']['value']:g} or |kurtosis| > "
                       f"{thr['abs_kurtosis']['value']:g}: {named(asym)})")
    if reasons:
        out["recommendation"] = "WLSMV"
        out["reason"] = ("; ".join(reasons) + ": treat the items as ordered and use WLSMV "
                         "(polychoric correlations, robust standard errors, mean- and "
                         "variance-adjusted test), as Rhemtulla, Brosseau-Liard & Savalei "
                         "(2012) and Finney & DiStefano (2013) advise.")
        return out
    out["recommendation"] = "MLR"
    why = []
    if not math.isnan(out["kurtosis_p"]) and out["kurtosis_p"] < alpha:
        why.append(f"Mardia's multivariate kurtosis is significant (z = "
                   f"{out['kurtosis_z']:.2f}, p = {out['kurtosis_p']:.3g})")
    if (skewed | kurtotic).any():
        why.append(f"{int((skewed | kurtotic).sum())} item(s) with |skew| > 2 or |kurtosis| > 7")
    if not ordinal.any():
        what = "the answers are continuous (more than 7 distinct values per item)"
    else:
        what = (f"every item has at least {thr['min_categories']['value']} categories and no "
                "ordinal item is strongly asymmetric")
    out["reason"] = (what + ("; " + "; ".join(why) if why else "") + ": use MLR (robust "
                     "standard errors and the Yuan-Bentler scaled test), which Rhemtulla, "
                     "Brosseau-Liard & Savalei (2012) found as good as WLSMV with five or more "
                     "roughly symmetric categories and which guards against non-normality.")
    return out
