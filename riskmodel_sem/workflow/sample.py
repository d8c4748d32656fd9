"""The sample: who answered, which rows screening dropped, and whether N is large enough.

Three small results that every analysing command can attach to its
:class:`~riskmodel_sem.workflow.analysis.Analysis`:

* :func:`clean` drops the respondents that screening flagged (``--drop-flagged``) and records
  each dropped row with its reasons (:class:`Cleaning`; the rows go to ``cleaned.xlsx``);
* :func:`describe_sample` counts every demographic column's answers, with percentages, as
  papers report them (:class:`SampleDescription`);
* :func:`sample_size_advice` judges N against the usual rules of thumb, N >= 200 (Kline, 2016)
  and at least 5 respondents per free parameter (Bentler & Chou, 1987), and says so
  (:class:`SampleSizeAdvice`).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._json import json_value
from ..errors import DataQualityWarning

__all__ = ["Cleaning", "clean", "SampleDescription", "describe_sample", "SampleSizeAdvice",
           "sample_size_advice", "SampleReport", "MIN_N", "MIN_N_PER_PARAMETER",
           "SAMPLE_SIZE_SOURCES", "REASON_TEXT"]

#: Smallest N without a warning.
MIN_N = 200
#: Smallest number of respondents per free parameter without a warning.
MIN_N_PER_PARAMETER = 5
#: The sources of the two rules.
SAMPLE_SIZE_SOURCES = (
    "Kline, R. B. (2016). Principles and Practice of Structural Equation Modeling (4th ed.), "
    "ch. 1 and 9: N < 100 is small, 100-200 medium, 200 or more is the typical SEM sample.",
    "Bentler, P. M., & Chou, C.-P. (1987). Practical issues in structural modeling. "
    "Sociological Methods & Research, 16(1), 78-117, doi:10.1177/0049124187016001004: at "
    "least 5 cases per free parameter (10 for non-normal data).",
)
#: Plain words for the screening rules' names (``ScreeningResult.respondents["reasons"]``).
REASON_TEXT = {
    "missing": "more than half of the items unanswered",
    "longstring": "the same answer in a long run of items",
    "irv": "almost no variation across the answers",
    "mahalanobis": "multivariate outlier (Mahalanobis p < .001)",
    "duplicate": "answers identical to another respondent's",
    "speeder": "completed in under half the median time",
}


# ---------------------------------------------------------------------------------------------
# dropping flagged rows
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cleaning:
    """The respondents screening flagged and, with ``drop_flagged``, dropped.

    Attributes
    ----------
    n_rows : int
        Respondents read.
    n_flagged : int
        Respondents flagged by screening.
    n_dropped : int
        Respondents left out of the analyses (``n_flagged`` with ``drop_flagged``, else 0).
    drop_flagged : bool
    duration : str or None
        The completion-time column screening used.
    reasons : dict
        ``{rule: number of flagged respondents}`` (one respondent may have several).
    flagged : pandas.DataFrame
        One row per flagged respondent: ``position`` (0-based in the data), ``row`` (as a
        spreadsheet shows it), ``id``, ``reasons`` ("longstring, duplicate") and ``dropped``.
    """

    n_rows: int
    n_flagged: int
    n_dropped: int
    drop_flagged: bool
    duration: str | None
    reasons: dict
    flagged: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())

    @property
    def dropped_positions(self) -> np.ndarray:
        """0-based positions of the dropped rows in the data as read."""
        f = self.flagged
        return f.loc[f["dropped"], "position"].to_numpy(dtype=int)

    def to_dict(self) -> dict:
        """JSON-ready: ``{"cleaning": {n_rows, n_flagged, n_dropped, drop_flagged,
        duration, reasons, flagged: [{row, id, reasons, dropped}]}}``."""
        return {"cleaning": {
            "n_rows": int(self.n_rows), "n_flagged": int(self.n_flagged),
            "n_dropped": int(self.n_dropped), "drop_flagged": bool(self.drop_flagged),
            "duration": self.duration,
            "reasons": {k: int(v) for k, v in self.reasons.items()},
            "flagged": [{"row": int(r["row"]), "id": json_value(r["id"]),
                         "reasons": r["reasons"], "dropped": bool(r["dropped"])}
                        for r in self.flagged.to_dict(orient="records")],
        }}


def clean(survey, screening, *, drop_flagged: bool, duration: str | None = None):
    """Drop the flagged respondents (with ``drop_flagged``) and record why.

    Parameters
    ----------
    survey : riskmodel_sem.survey.readers.SurveyData
        The data as read.
    screening : riskmodel_sem.psychometrics.screening.ScreeningResult
        Screening of the same rows.
    drop_flagged : bool
        Leave the flagged respondents out; otherwise only record them.
    duration : str, optional
        The completion-time column screening used (recorded).

    Returns
    -------
    (SurveyData, Cleaning)
        The data without the dropped rows (all of them when nothing is dropped) and the
        record.
    """
    resp = screening.respondents
    flagged = resp[resp["flagged"]]
    first = int(getattr(survey, "first_row", 2))
    table = pd.DataFrame({
        "position": flagged["row"].to_numpy(dtype=int),
        "row": flagged["row"].to_numpy(dtype=int) + first,
        "id": flagged["id"].to_numpy(),
        "reasons": [", ".join(r) for r in flagged["reasons"]],
        "dropped": np.full(len(flagged), bool(drop_flagged)),
    })
    counts: dict[str, int] = {}
    for reasons in flagged["reasons"]:
        for r in reasons:
            counts[r] = counts.get(r, 0) + 1
    n_drop = len(flagged) if drop_flagged else 0
    notes = []
    if n_drop:
        shown = ", ".join(f"{REASON_TEXT.get(k, k)}: {v}" for k, v in counts.items())
        notes.append(f"{n_drop} of {len(resp)} respondents flagged by screening were dropped "
                     f"(--drop-flagged; {shown}); {len(resp) - n_drop} remain.")
        for msg in notes:
            warnings.warn(msg, DataQualityWarning, stacklevel=2)
    record = Cleaning(n_rows=int(len(resp)), n_flagged=int(len(flagged)), n_dropped=n_drop,
                      drop_flagged=bool(drop_flagged), duration=duration, reasons=counts,
                      flagged=table, warnings=tuple(notes))
    if not n_drop:
        return survey, record
    keep = np.ones(len(survey.data), dtype=bool)
    keep[table["position"].to_numpy(dtype=int)] = False

    def rows(obj):
        return obj[keep].reset_index(drop=True)

    cleaned = dataclasses.replace(survey, data=rows(survey.data), ids=rows(survey.ids),
                                  extra=rows(survey.extra))
    return cleaned, record


# ---------------------------------------------------------------------------------------------
# sample description
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SampleDescription:
    """Counts and percentages of every demographic column.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per answer of each column: ``variable`` (the header), ``category``, ``n``,
        ``percent`` (of the respondents analysed, blank answers included) and
        ``valid_percent`` (of those who answered the question). Blank answers are the
        category ``None`` at the end of their variable.
    n : int
        Respondents described.
    """

    table: pd.DataFrame
    n: int

    def to_dict(self) -> dict:
        out: dict = {}
        for rec in self.table.to_dict(orient="records"):
            out.setdefault(str(rec["variable"]), []).append(
                {"category": None if pd.isna(rec["category"]) else rec["category"],
                 "n": int(rec["n"]),
                 "percent": json_value(rec["percent"]),
                 "valid_percent": json_value(rec["valid_percent"])})
        return {"n": int(self.n), "variables": out}


def _category(v):
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def describe_sample(extra: pd.DataFrame, columns) -> SampleDescription:
    """Frequencies of the demographic columns, in order of first appearance of each answer
    (numeric codes in increasing order).

    Parameters
    ----------
    extra : pandas.DataFrame
        The survey's non-item columns (``SurveyData.extra``) of the respondents analysed.
    columns : sequence of str
        The columns to describe (each must be a column of ``extra``).

    Returns
    -------
    SampleDescription
    """
    n = len(extra)
    rows = []
    for col in columns:
        values = [_category(v) for v in extra[col]]
        present = [v for v in values if v is not None and not (isinstance(v, float) and v != v)]
        cats = list(dict.fromkeys(present))
        if cats and all(isinstance(c, (int, float)) for c in cats):
            cats.sort()
        counts = pd.Series(present, dtype=object).value_counts(sort=False) if present else {}
        for c in cats:
            k = int(counts[c])
            rows.append({"variable": col, "category": str(c), "n": k,
                         "percent": 100.0 * k / n if n else np.nan,
                         "valid_percent": 100.0 * k / len(present)})
        blank = n - len(present)
        if blank:
            rows.append({"variable": col, "category": None, "n": blank,
                         "percent": 100.0 * blank / n, "valid_percent": np.nan})
    table = pd.DataFrame(rows, columns=["variable", "category", "n", "percent",
                                        "valid_percent"])
    return SampleDescription(table=table, n=n)


# ---------------------------------------------------------------------------------------------
# sample-size advice
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SampleSizeAdvice:
    """N against the rules of thumb for SEM.

    Attributes
    ----------
    n : int
        Respondents the hypothesized model used.
    n_free : int
        Its free parameters.
    ratio : float
        ``n / n_free``.
    small_n : bool
        ``n < MIN_N``.
    low_ratio : bool
        ``ratio < MIN_N_PER_PARAMETER``.
    planned_n : int or None
        The N a power analysis asked for, when one was given.
    messages : tuple of str
        What the report says (empty when neither rule is broken and no plan is given).
    sources : tuple of str
        :data:`SAMPLE_SIZE_SOURCES`.
    """

    n: int
    n_free: int
    ratio: float
    small_n: bool
    low_ratio: bool
    planned_n: int | None = None
    messages: tuple[str, ...] = ()
    sources: tuple[str, ...] = SAMPLE_SIZE_SOURCES

    @property
    def warnings(self) -> tuple[str, ...]:
        """The messages that are warnings (a broken rule)."""
        return self.messages if (self.small_n or self.low_ratio) else ()

    def to_dict(self) -> dict:
        return {"n": int(self.n), "n_free": int(self.n_free), "ratio": json_value(self.ratio),
                "min_n": MIN_N, "min_n_per_parameter": MIN_N_PER_PARAMETER,
                "small_n": bool(self.small_n), "low_ratio": bool(self.low_ratio),
                "planned_n": self.planned_n, "messages": list(self.messages),
                "sources": list(self.sources)}


def sample_size_advice(n: int, n_free: int, *, planned_n: int | None = None,
                       power_command: bool = False) -> SampleSizeAdvice:
    """Judge N against N >= 200 (Kline, 2016) and >= 5 respondents per free parameter
    (Bentler & Chou, 1987); warn (:class:`~riskmodel_sem.errors.DataQualityWarning`) when a
    rule is broken.

    Parameters
    ----------
    n : int
        Respondents the model used.
    n_free : int
        Free parameters of the model (lavaan's ``npar``).
    planned_n : int, optional
        The N a power analysis asked for; cited in the message.
    power_command : bool
        Whether ``riskmodel-sem power`` is available to point to.

    Returns
    -------
    SampleSizeAdvice

    Notes
    -----
    These are rules of thumb, not power: the N a model needs depends on its size, the
    loadings and the effects to detect (MacCallum, Browne & Sugawara, 1996; Wolf et al., 2013),
    which a power analysis answers.
    """
    ratio = n / n_free if n_free else float("inf")
    small, low = n < MIN_N, ratio < MIN_N_PER_PARAMETER
    messages = []
    if small or low:
        broken = []
        if small:
            broken.append(f"N = {n} is below {MIN_N} (Kline 2016)")
        if low:
            broken.append(f"N per free parameter is {ratio:.1f} ({n} / {n_free}), below "
                          f"{MIN_N_PER_PARAMETER} (Bentler & Chou 1987)")
        text = ("Small sample for SEM: " + "; ".join(broken) + ". Estimates and fit indices "
                "may be unstable and tests may lack power")
        if planned_n is not None:
            text += f"; the power analysis asked for N = {planned_n}"
        elif power_command:
            text += "; 'riskmodel-sem power --spec SPEC' gives the N this model needs"
        messages.append(text + ".")
    elif planned_n is not None and n < planned_n:
        messages.append(f"N = {n} is below the N = {planned_n} the power analysis asked for.")
    advice = SampleSizeAdvice(n=int(n), n_free=int(n_free), ratio=float(ratio),
                              small_n=bool(small), low_ratio=bool(low), planned_n=planned_n,
                              messages=tuple(messages))
    for msg in messages:
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
    return advice


@dataclass(frozen=True)
class SampleReport:
    """The sample stage of an Analysis: description and sample-size advice (either may be
    None)."""

    description: SampleDescription | None = None
    advice: SampleSizeAdvice | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.advice.warnings if self.advice is not None else ()

    def to_dict(self) -> dict:
        return {"sample": {
            "description": None if self.description is None else self.description.to_dict(),
            "size": None if self.advice is None else self.advice.to_dict()}}
