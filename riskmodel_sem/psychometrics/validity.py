"""Construct validity: HTMT, Fornell-Larcker, KMO, Bartlett, EFA and common-method checks.

* :func:`htmt` is the heterotrait-monotrait ratio of ``semTools::htmt``: HTMT with arithmetic
  means (Henseler et al. 2015, ``htmt2 = FALSE``) or HTMT2 with geometric means (Roemer et al.
  2021, semTools' default).
* :func:`fornell_larcker` sets the square root of each factor's AVE against its latent
  correlations.
* :func:`kmo` and :func:`bartlett` are ``psych::KMO`` and ``psych::cortest.bartlett``.
* :func:`efa` runs Horn's parallel analysis (seeded) and an exploratory factor analysis.
* :func:`harman` and :func:`one_factor_cfa` are the usual common-method-variance checks.

Result style: :func:`kmo`, :func:`bartlett`, :func:`efa`, :func:`harman` and
:func:`one_factor_cfa` return frozen dataclasses (:class:`KMOResult`, :class:`BartlettResult`,
:class:`EFAResult`, :class:`HarmanResult`, :class:`OneFactorResult`) with ``to_dict()``
(JSON-ready, NaN as None). Each names the row of the thresholds table that judges it in
``criterion`` (None for the EFA, which has no verdict) and the number judged in
``criterion_value``; the threshold and the verdict are
:mod:`riskmodel_sem.workflow.thresholds`' and :mod:`riskmodel_sem.workflow.validation`'s.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from .._json import json_value
from ..errors import ModelError, OptionError, SurveyDataError
from ..sem.comparison import difference_test
from ..sem.distributions import chi2_sf
from ..sem.estimation import FitResult, fit_model
from ..sem.polychoric import polychoric_matrix
from .screening import em_moments

__all__ = [
    "correlation_matrix",
    "ordered_columns",
    "htmt",
    "htmt_bootstrap",
    "fornell_larcker",
    "latent_correlations",
    "KMOResult",
    "kmo",
    "BartlettResult",
    "bartlett",
    "EFAResult",
    "parallel_analysis",
    "efa",
    "HarmanResult",
    "harman",
    "OneFactorResult",
    "one_factor_cfa",
]


def ordered_columns(columns: Sequence[str], ordered) -> list[str]:
    """The ordered columns among ``columns``: ``ordered`` is None / False (none), True or
    ``"all"`` (all, as lavaan's ``ordered = TRUE``) or a list of names (which must be
    columns)."""
    cols = [str(c) for c in columns]
    if ordered is None or ordered is False:
        return []
    if ordered is True or (isinstance(ordered, str) and ordered.lower() == "all"):
        return cols
    names = [ordered] if isinstance(ordered, str) else [str(v) for v in ordered]
    unknown = [v for v in names if v not in cols]
    if unknown:
        raise OptionError(f"ordered= names {', '.join(unknown)}, which "
                          f"{'is' if len(unknown) == 1 else 'are'} not among the items.")
    return [c for c in cols if c in names]


def correlation_matrix(data: pd.DataFrame, missing: str = "listwise", *,
                       ordered=None) -> pd.DataFrame:
    """Pearson, or with ``ordered`` polychoric / polyserial, correlations of the columns.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric columns (NaN = missing).
    missing : {"listwise", "pairwise", "fiml"}
        ``"listwise"``: complete rows (``lavaan::lavCor(missing = "listwise")``);
        ``"pairwise"``: pairwise-complete rows (``cor(use = "pairwise")``);
        ``"fiml"`` (or ``"ml"``): the EM (saturated-model ML) covariance
        (``lavCor(missing = "ml")``; not with ordered columns).
    ordered : None, True, "all" or list of str
        Columns to treat as ordered (see :func:`ordered_columns`); their correlations are
        lavaan's two-step polychoric (with another ordered column) and polyserial (with a
        continuous one) estimates, as ``lavCor(data, ordered = ...)``
        (:func:`riskmodel_sem.sem.polychoric.polychoric_matrix`).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    OptionError
        For an unknown ``missing``.
    SurveyDataError
        With fewer than two usable rows.
    """
    x = data.apply(pd.to_numeric, errors="coerce").astype(float)
    cols = list(x.columns)
    ords = ordered_columns(cols, ordered)
    if ords:
        if missing not in ("listwise", "pairwise"):
            raise OptionError(f"Polychoric correlations need missing='listwise' or 'pairwise' "
                              f"(as lavaan's lavCor with ordered variables), not {missing!r}.")
        r = polychoric_matrix(x.to_numpy(), [str(c) for c in cols],
                              [str(c) in ords for c in cols], missing=missing)
        return pd.DataFrame(r, index=cols, columns=cols)
    if missing == "listwise":
        x = x.dropna()
        if len(x) < 2:
            raise SurveyDataError("Fewer than two complete rows: correlations cannot be "
                                  "computed listwise.")
        r = np.corrcoef(x.to_numpy(), rowvar=False)
    elif missing == "pairwise":
        r = x.corr().to_numpy()
    elif missing in ("fiml", "ml"):
        _, cov, _ = em_moments(x.to_numpy())
        sd = np.sqrt(np.diag(cov))
        r = cov / np.outer(sd, sd)
    else:
        raise OptionError(f"Unknown missing-data rule {missing!r}; use listwise, pairwise or "
                          "fiml.")
    return pd.DataFrame(np.atleast_2d(r), index=cols, columns=cols)


def _constructs(constructs) -> dict[str, list[str]]:
    if hasattr(constructs, "constructs"):  # a Spec
        return {c.code: list(c.item_codes) for c in constructs.constructs}
    if isinstance(constructs, Mapping):
        return {str(k): list(v) for k, v in constructs.items()}
    raise TypeError("Constructs must be a mapping {construct: [items]} or a Spec.")


def htmt(data: pd.DataFrame | None, constructs, *, geometric: bool = True,
         missing: str = "listwise", corr: pd.DataFrame | None = None,
         absolute: bool = True, ordered=None) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations (HTMT or HTMT2).

    Parameters
    ----------
    data : pandas.DataFrame or None
        Item answers; ignored when ``corr`` is given.
    constructs : mapping or Spec
        ``{construct: [items]}`` (or a Spec, whose first-order constructs are used).
    geometric : bool, default True
        ``True``: HTMT2 (geometric means, Roemer et al. 2021; semTools' default
        ``htmt2 = TRUE``). ``False``: the original HTMT (arithmetic means, Henseler et al.
        2015; ``htmt2 = FALSE``).
    missing : {"listwise", "pairwise", "fiml"}
        How the item correlations are computed (see :func:`correlation_matrix`).
    corr : pandas.DataFrame, optional
        An item correlation matrix to use instead of ``data``.
    absolute : bool, default True
        Use absolute correlations (semTools' ``absolute = TRUE``; always for HTMT2).
    ordered : None, True, "all" or list of str
        Items to treat as ordered: their correlations are polychoric (semTools'
        ``htmt(..., ordered = ...)``, which calls ``lavCor``); see :func:`correlation_matrix`.

    Returns
    -------
    pandas.DataFrame
        Symmetric construct-by-construct matrix with ones on the diagonal.

    Notes
    -----
    With ``r`` the item correlations, ``m_ij`` the (arithmetic or geometric) mean of the
    correlations between items of constructs i and j, and ``m_ii`` that of the correlations
    among items of i (off-diagonal): ``HTMT_ij = m_ij / sqrt(m_ii m_jj)``. Matches
    ``semTools::htmt(model, data, htmt2 = TRUE/FALSE, ordered = ...)`` (semTools 0.5.6).

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing
    discriminant validity in variance-based structural equation modeling. Journal of the
    Academy of Marketing Science, 43, 115-135. doi:10.1007/s11747-014-0403-8

    Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2 - an improved criterion for
    assessing discriminant validity in structural equation modeling. Industrial Management &
    Data Systems, 121, 2637-2650. doi:10.1108/IMDS-02-2021-0082
    """
    groups = _constructs(constructs)
    items = [i for v in groups.values() for i in v]
    if corr is None:
        if data is None:
            raise ValueError("Give the data or a correlation matrix.")
        absent = [i for i in items if i not in data.columns]
        if absent:
            raise SurveyDataError(f"The data have no column(s) {', '.join(absent)}.")
        corr = correlation_matrix(data[items], missing, ordered=ordered)
    r = corr.loc[items, items].to_numpy(dtype=float).copy()
    if absolute or geometric:
        r = np.abs(r)
    np.fill_diagonal(r, np.nan)
    r = pd.DataFrame(r, index=items, columns=items)

    def mean(block: np.ndarray) -> float:
        vals = block[~np.isnan(block)]
        if vals.size == 0:
            return float("nan")
        if geometric:
            with np.errstate(divide="ignore"):
                return float(np.exp(np.mean(np.log(vals))))
        return float(np.mean(vals))

    names = list(groups)
    within = {f: mean(r.loc[groups[f], groups[f]].to_numpy()) for f in names}
    out = np.empty((len(names), len(names)))
    for a, fa in enumerate(names):
        for b, fb in enumerate(names):
            between = mean(r.loc[groups[fa], groups[fb]].to_numpy())
            out[a, b] = between / math.sqrt(within[fa] * within[fb])
    return pd.DataFrame(out, index=names, columns=names)


def htmt_bootstrap(data: pd.DataFrame, constructs, *, n_boot: int, seed: int,
                   level: float = 0.95, geometric: bool = False) -> pd.DataFrame:
    """Bootstrap percentile intervals of HTMT (or HTMT2), as SmartPLS reports them.

    Parameters
    ----------
    data : pandas.DataFrame
        Item answers; rows with a missing answer to any construct item are left out.
    constructs : mapping or Spec
        ``{construct: [items]}`` (see :func:`htmt`).
    n_boot : int
        Number of bootstrap samples (rows drawn with replacement).
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same intervals.
    level : float
        Confidence level of the two-sided percentile interval.
    geometric : bool
        HTMT2 instead of HTMT.

    Returns
    -------
    pandas.DataFrame
        One row per pair of constructs (lower triangle, in the constructs' order): ``row``,
        ``column``, ``htmt`` (the sample value), ``ci_lower``, ``ci_upper``, ``n_boot`` (draws
        with a finite value).

    Notes
    -----
    Each draw recomputes the item correlations of a resample of the complete rows and
    HTMT from them (:func:`htmt`); the bounds are the percentile interval of the draws
    (:func:`riskmodel_sem.sem.bootstrap.percentile_ci`, boot's interpolation). Henseler et al.
    (2015, section 4.2) test discriminant validity by whether the interval's upper bound stays
    below 1 (HTMT_inference); SmartPLS prints the percentile interval beside HTMT.
    """
    from ..sem._blas import one_blas_thread
    from ..sem.bootstrap import percentile_ci

    groups = _constructs(constructs)
    items = [i for v in groups.values() for i in v]
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise SurveyDataError(f"The data have no column(s) {', '.join(absent)}.")
    x = data[items].dropna().to_numpy(dtype=float)
    names = list(groups)
    pairs = [(a, b) for a in range(len(names)) for b in range(a)]
    point = htmt(None, groups, geometric=geometric,
                 corr=pd.DataFrame(np.corrcoef(x, rowvar=False), index=items, columns=items))
    # block means of |r| (or of log |r| for HTMT2) as B' R B with B the item-by-construct
    # indicator matrix and a zero diagonal: one matrix product per draw
    member = np.zeros((len(items), len(names)))
    start = 0
    for k, f in enumerate(names):
        member[start:start + len(groups[f]), k] = 1.0
        start += len(groups[f])
    sizes = member.sum(axis=0)
    counts = np.outer(sizes, sizes) - np.diag(sizes)
    rows = np.array([a for a, _ in pairs], dtype=int)
    cols = np.array([b for _, b in pairs], dtype=int)
    rng = np.random.default_rng(seed)
    draws = np.full((n_boot, len(pairs)), np.nan)
    n = len(x)
    with one_blas_thread():  # threaded BLAS is 4x slower on these small products
        for k in range(n_boot):
            sample = x[rng.integers(0, n, n)]
            with np.errstate(invalid="ignore", divide="ignore"):
                r = np.abs(np.corrcoef(sample, rowvar=False))
                if not np.all(np.isfinite(r)):
                    continue
                np.fill_diagonal(r, 0.0)
                if geometric:
                    r = np.log(r)
                    np.fill_diagonal(r, 0.0)
                m = member.T @ r @ member / counts
                if geometric:
                    m = np.exp(m)
                within = np.diag(m)
                draws[k] = m[rows, cols] / np.sqrt(within[rows] * within[cols])
    lo, hi = percentile_ci(draws, None, level)
    return pd.DataFrame({"row": [names[a] for a, _ in pairs],
                         "column": [names[b] for _, b in pairs],
                         "htmt": [float(point.iloc[a, b]) for a, b in pairs],
                         "ci_lower": np.asarray(lo, dtype=float),
                         "ci_upper": np.asarray(hi, dtype=float),
                         "n_boot": np.isfinite(draws).sum(axis=0)})


def latent_correlations(fit: FitResult) -> pd.DataFrame:
    """Model-implied correlations of the latent variables (``lavInspect(fit, "cor.lv")``)."""
    if fit.model is None or fit.theta is None:
        raise ModelError("The fit result holds no compiled model; refit with fit_model.")
    full, _ = fit.model.implied(fit.theta, 0, all_vars=True)
    p = len(fit.model.observed)
    cov = full[p:, p:]
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        cor = cov / np.outer(sd, sd)
    lat = list(fit.model.latent)
    return pd.DataFrame(cor, index=lat, columns=lat)


def fornell_larcker(fit: FitResult, ave_values: Mapping[str, float]) -> pd.DataFrame:
    """Fornell-Larcker matrix: sqrt(AVE) on the diagonal, latent correlations off it.

    Parameters
    ----------
    fit : FitResult
        The measurement model (first-order factors).
    ave_values : mapping
        AVE per factor (:func:`riskmodel_sem.psychometrics.reliability.ave`); factors without an AVE are
        left out.

    Returns
    -------
    pandas.DataFrame
        Factor-by-factor matrix. Discriminant validity holds for a factor when its diagonal
        entry exceeds the absolute correlations in its row and column.

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Journal of Marketing Research, 18, 39-50.
    doi:10.2307/3151312
    """
    cor = latent_correlations(fit)
    names = [f for f in cor.index if f in ave_values]
    out = cor.loc[names, names].copy()
    for f in names:
        v = ave_values[f]
        out.loc[f, f] = math.sqrt(v) if v is not None and v >= 0 else float("nan")
    return out


@dataclass(frozen=True)
class KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy.

    Attributes
    ----------
    overall : float
        The overall KMO (judged by the ``kmo`` criterion).
    items : pandas.Series
        MSA of each item, indexed by item (judged by ``kmo_item``).
    """

    overall: float
    items: pd.Series
    criterion: ClassVar[str] = "kmo"

    @property
    def criterion_value(self) -> float:
        """The number the ``kmo`` criterion judges: :attr:`overall`."""
        return self.overall

    def to_dict(self) -> dict:
        """``{overall, items: {item: msa}}``."""
        return {"overall": json_value(self.overall),
                "items": {str(k): json_value(v) for k, v in self.items.items()}}


def kmo(corr: pd.DataFrame) -> KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy (overall and per item).

    Parameters
    ----------
    corr : pandas.DataFrame
        Item correlation matrix (positive definite).

    Returns
    -------
    KMOResult
        ``overall`` and ``items`` (the MSA of each item).

    Raises
    ------
    SurveyDataError
        If the correlation matrix is singular.

    Notes
    -----
    With the partial correlations ``q_ij = -R^{-1}_ij / sqrt(R^{-1}_ii R^{-1}_jj)``:
    ``KMO = sum_{i!=j} r_ij^2 / (sum_{i!=j} r_ij^2 + sum_{i!=j} q_ij^2)`` and ``MSA_i`` the
    same sums over row i. Matches ``psych::KMO``.

    References
    ----------
    Kaiser, H. F. (1974). An index of factorial simplicity. Psychometrika, 39, 31-36.
    doi:10.1007/BF02291575
    """
    r = corr.to_numpy(dtype=float)
    try:
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        raise SurveyDataError("The item correlation matrix is singular; KMO cannot be "
                              "computed.") from None
    d = np.sqrt(np.diag(inv))
    q = -inv / np.outer(d, d)
    r2 = r ** 2
    q2 = q ** 2
    np.fill_diagonal(r2, 0.0)
    np.fill_diagonal(q2, 0.0)
    overall = float(r2.sum() / (r2.sum() + q2.sum()))
    per = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return KMOResult(overall=overall, items=pd.Series(per, index=corr.index, name="msa"))


@dataclass(frozen=True)
class BartlettResult:
    """Bartlett's test of sphericity.

    Attributes
    ----------
    chisq : float
    df : int
    pvalue : float
        Judged by the ``bartlett`` criterion.
    n : int
        Respondents behind the correlation matrix.
    """

    chisq: float
    df: int
    pvalue: float
    n: int
    criterion: ClassVar[str] = "bartlett"

    @property
    def criterion_value(self) -> float:
        """The number the ``bartlett`` criterion judges: :attr:`pvalue`."""
        return self.pvalue

    def to_dict(self) -> dict:
        """``{chisq, df, pvalue, n}``."""
        return {"chisq": json_value(self.chisq), "df": int(self.df),
                "pvalue": json_value(self.pvalue), "n": int(self.n)}


def bartlett(corr: pd.DataFrame, n_obs: int) -> BartlettResult:
    """Bartlett's test of sphericity (H0: the correlation matrix is an identity matrix).

    Returns
    -------
    BartlettResult
        ``chisq = -(n - 1 - (2p + 5)/6) log|R|``, ``df = p(p - 1)/2``, ``pvalue``, ``n``.

    Notes
    -----
    Matches ``psych::cortest.bartlett(R, n)``.

    References
    ----------
    Bartlett, M. S. (1951). The effect of standardization on a chi-square approximation in
    factor analysis. Biometrika, 38, 337-344. doi:10.2307/2332580
    """
    r = corr.to_numpy(dtype=float)
    p = r.shape[0]
    sign, logdet = np.linalg.slogdet(r)
    if sign <= 0:
        raise SurveyDataError("The item correlation matrix is not positive definite; "
                              "Bartlett's test cannot be computed.")
    chisq = -logdet * (n_obs - 1 - (2 * p + 5) / 6.0)
    df = p * (p - 1) / 2.0
    return BartlettResult(chisq=float(chisq), df=int(df),
                          pvalue=float(chi2_sf(chisq, df)), n=int(n_obs))


# ---------------------------------------------------------------------------------------------
# exploratory factor analysis
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EFAResult:
    """Parallel analysis and exploratory factor analysis.

    Attributes
    ----------
    eigenvalues : numpy.ndarray
        Eigenvalues of the item correlation matrix, decreasing.
    random_eigenvalues : numpy.ndarray
        The 95th percentile of the eigenvalues of random normal data of the same size.
    n_factors : int
        Factors retained by parallel analysis.
    loadings : pandas.DataFrame
        Rotated pattern loadings (items x ``F1..Fk``) plus ``communality`` and
        ``primary_factor``.
    method, rotation : str
    n_iter, seed, n_obs : int
    quantile : float
        Quantile of the random eigenvalues that parallel analysis compares with.
    """

    eigenvalues: np.ndarray
    random_eigenvalues: np.ndarray
    n_factors: int
    loadings: pd.DataFrame
    method: str
    rotation: str
    n_iter: int
    seed: int
    n_obs: int
    quantile: float = 0.95
    #: No threshold judges an EFA (it is reported, not passed or failed).
    criterion: ClassVar[str | None] = None

    @property
    def criterion_value(self) -> None:
        """None: no criterion judges the EFA."""
        return None

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        lcols = [c for c in self.loadings.columns if c not in ("communality", "primary_factor")]
        return {
            "n_factors": int(self.n_factors),
            "method": self.method,
            "rotation": self.rotation,
            "n_obs": int(self.n_obs),
            "parallel_analysis": {"n_iter": int(self.n_iter), "seed": int(self.seed),
                                  "quantile": self.quantile,
                                  "eigenvalues": [float(v) for v in self.eigenvalues],
                                  "random_eigenvalues": [float(v) for v in
                                                         self.random_eigenvalues]},
            "loadings": {str(i): {c: _num(row[c]) for c in lcols}
                         for i, row in self.loadings.iterrows()},
            "communality": {str(i): _num(v) for i, v in self.loadings["communality"].items()}
            if "communality" in self.loadings else {},
            "primary_factor": {str(i): v for i, v in self.loadings["primary_factor"].items()}
            if "primary_factor" in self.loadings else {},
        }


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def parallel_analysis(n_obs: int, n_vars: int, eigenvalues: np.ndarray, *, n_iter: int = 100,
                      seed: int = 20231, quantile: float = 0.95) -> tuple[int, np.ndarray]:
    """Horn's parallel analysis on principal-component eigenvalues.

    Parameters
    ----------
    n_obs, n_vars : int
        Size of the data.
    eigenvalues : ndarray
        Observed eigenvalues of the correlation matrix, decreasing.
    n_iter : int
        Number of random data sets.
    seed : int
        Seed for ``numpy.random.default_rng``.
    quantile : float
        Quantile of the random eigenvalues to beat (0.95: Glorfeld 1995).

    Returns
    -------
    n_factors : int
        Number of leading observed eigenvalues above the random quantile.
    random : ndarray
        The random-eigenvalue quantiles.

    Notes
    -----
    The correlation matrix of ``n_obs`` independent standard-normal rows is that of its
    centred cross-product matrix, which is Wishart(n_obs - 1, I). Each random set draws that
    matrix directly by Bartlett's decomposition (``A`` lower triangular, ``A_ii^2 ~
    chi2(n_obs - 1 - i)``, ``A_ij ~ N(0, 1)`` below the diagonal, ``W = A A'``): the same
    distribution of eigenvalues as simulating the data (``psych::fa.parallel``), at a cost that
    does not grow with the number of respondents.

    References
    ----------
    Bartlett, M. S. (1933). On the theory of statistical regression. Proceedings of the Royal
    Society of Edinburgh, 53, 260-283.

    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    Psychometrika, 30, 179-185. doi:10.1007/BF02289447

    Glorfeld, L. W. (1995). An improvement on Horn's parallel analysis methodology.
    Educational and Psychological Measurement, 55, 377-393. doi:10.1177/0013164495055003002
    """
    if n_iter < 1:
        raise OptionError("Parallel analysis needs at least one random data set.")
    rng = np.random.default_rng(seed)
    df = n_obs - 1
    if df >= n_vars:  # Bartlett decomposition: W = A A' ~ Wishart(n - 1, I), O(p^3) per set
        a = np.tril(rng.standard_normal((n_iter, n_vars, n_vars)), k=-1)
        idx = np.arange(n_vars)
        a[:, idx, idx] = np.sqrt(rng.chisquare(df - idx, size=(n_iter, n_vars)))
        w = a @ a.transpose(0, 2, 1)
        d = np.sqrt(np.einsum("tii->ti", w))
        corr = w / (d[:, :, None] * d[:, None, :])
    else:  # fewer rows than variables: simulate the data themselves
        corr = np.stack([np.corrcoef(rng.standard_normal((n_obs, n_vars)), rowvar=False)
                         for _ in range(n_iter)])
    sims = np.sort(np.linalg.eigvalsh(corr), axis=1)[:, ::-1]
    random = np.quantile(sims, quantile, axis=0)
    above = eigenvalues > random
    n_f = int(np.argmin(above)) if not above.all() else int(n_vars)
    return n_f, random


def efa(corr: pd.DataFrame, n_obs: int, *, n_factors: int | None = None, n_iter: int = 100,
        seed: int = 20231, rotation: str = "oblimin") -> EFAResult:
    """Parallel analysis and a principal-axis EFA with rotation.

    Parameters
    ----------
    corr : pandas.DataFrame
        Item correlation matrix.
    n_obs : int
        Number of respondents behind ``corr``.
    n_factors : int, optional
        Factors to extract; by default the number parallel analysis retains (at least 1).
    n_iter, seed : int
        Parallel analysis settings (the same seed gives the same numbers).
    rotation : str
        A rotation known to statsmodels (``"oblimin"``, psych's default; ``"promax"``;
        ``"varimax"``; ``"none"``).

    Returns
    -------
    EFAResult

    Notes
    -----
    Principal-axis factoring with squared multiple correlations as starting communalities
    (``statsmodels.multivariate.factor.Factor(method = "pa")``), as ``psych::fa(fm = "pa")``.
    Each item's ``primary_factor`` is the factor with its largest absolute loading.
    """
    r = corr.to_numpy(dtype=float)
    p = r.shape[0]
    eig = np.sort(np.linalg.eigvalsh(r))[::-1]
    n_pa, random = parallel_analysis(n_obs, p, eig, n_iter=n_iter, seed=seed)
    k = n_pa if n_factors is None else int(n_factors)
    k = max(1, min(k, p - 1))
    from statsmodels.multivariate.factor import Factor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = Factor(corr=r, n_factor=k, method="pa", nobs=n_obs).fit(maxiter=500, tol=1e-8)
        if k > 1 and rotation != "none":
            res.rotate(rotation)
    lam = np.asarray(res.loadings, dtype=float).copy()
    lam *= np.where(lam.sum(axis=0) < 0, -1.0, 1.0)  # reflect factors to positive sums (psych)
    cols = [f"F{j + 1}" for j in range(k)]
    tab = pd.DataFrame(lam, index=list(corr.index), columns=cols)
    tab["communality"] = np.asarray(res.communality)
    tab["primary_factor"] = [cols[j] for j in np.argmax(np.abs(lam), axis=1)]
    return EFAResult(eigenvalues=eig, random_eigenvalues=random, n_factors=int(n_pa),
                     loadings=tab, method="pa", rotation=rotation if k > 1 else "none",
                     n_iter=int(n_iter), seed=int(seed), n_obs=int(n_obs))


# ---------------------------------------------------------------------------------------------
# common-method variance
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HarmanResult:
    """Harman's single-factor test.

    Attributes
    ----------
    first_eigenvalue : float
    share : float
        First eigenvalue / number of items (judged by the ``harman`` criterion).
    n_items : int
    method : str
    """

    first_eigenvalue: float
    share: float
    n_items: int
    method: str = "unrotated principal components"
    criterion: ClassVar[str] = "harman"

    @property
    def criterion_value(self) -> float:
        """The number the ``harman`` criterion judges: :attr:`share`."""
        return self.share

    def to_dict(self) -> dict:
        """``{first_eigenvalue, share, n_items, method}``."""
        return {"first_eigenvalue": json_value(self.first_eigenvalue),
                "share": json_value(self.share), "n_items": int(self.n_items),
                "method": self.method}


def harman(corr: pd.DataFrame) -> HarmanResult:
    """Harman's single-factor test: variance share of the first unrotated component.

    Returns
    -------
    HarmanResult
        ``first_eigenvalue``, ``share`` (= first eigenvalue / number of items) and
        ``n_items``. A share of 0.50 or more suggests common-method variance.

    References
    ----------
    Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003). Common method
    biases in behavioral research. Journal of Applied Psychology, 88, 879-903.
    doi:10.1037/0021-9010.88.5.879
    """
    r = corr.to_numpy(dtype=float)
    ev = float(np.linalg.eigvalsh(r)[-1])
    return HarmanResult(first_eigenvalue=ev, share=ev / r.shape[0], n_items=int(r.shape[0]))


@dataclass(frozen=True)
class OneFactorResult:
    """The one-factor CFA and its chi-square difference test against the measurement model.

    Attributes
    ----------
    syntax : str
        The one-factor model.
    fit : dict
        Its fit measures (chisq, df, pvalue, cfi, tli, rmsea, srmr, aic, bic and, for MLR,
        the scaled and robust ones).
    converged : bool
    n_obs : int
    warnings : tuple of str
        Warnings of the one-factor fit.
    chisq_diff, df_diff, pvalue : float, int, float
        The difference test (``pvalue`` is judged by the ``one_factor_cfa`` criterion).
    method : str
        ``"chisq difference"`` or ``"satorra.bentler.2001"``.
    """

    syntax: str
    fit: dict
    converged: bool
    n_obs: int
    warnings: tuple[str, ...]
    chisq_diff: float
    df_diff: int
    pvalue: float
    method: str
    criterion: ClassVar[str] = "one_factor_cfa"

    @property
    def criterion_value(self) -> float:
        """The number the ``one_factor_cfa`` criterion judges: the test's :attr:`pvalue`."""
        return self.pvalue

    def to_dict(self) -> dict:
        """``{syntax, fit, converged, n_obs, warnings, test: {chisq_diff, df_diff, pvalue,
        method}}``."""
        return {"syntax": self.syntax, "fit": json_value(self.fit),
                "converged": bool(self.converged), "n_obs": int(self.n_obs),
                "warnings": list(self.warnings),
                "test": {"chisq_diff": json_value(self.chisq_diff),
                         "df_diff": int(self.df_diff), "pvalue": json_value(self.pvalue),
                         "method": self.method}}


def one_factor_cfa(data: pd.DataFrame, items: Sequence[str], measurement: FitResult, *,
                   estimator: str = "ML", missing: str = "listwise") -> OneFactorResult:
    """Fit all items on one factor and compare it with the measurement model.

    Parameters
    ----------
    data : pandas.DataFrame
        Item answers (the rows the measurement model used).
    items : sequence of str
        All items.
    measurement : FitResult
        The correlated-factors measurement model (nested: the one-factor model fixes all
        factor correlations to one).
    estimator, missing : str
        As for :func:`riskmodel_sem.sem.estimation.fit_model`.

    Returns
    -------
    OneFactorResult
        ``syntax``, ``fit`` (chisq, df, pvalue, cfi, tli, rmsea, srmr, aic, bic),
        ``converged``, ``n_obs``, ``warnings`` and the test: ``chisq_diff``, ``df_diff``,
        ``pvalue`` and ``method``: :func:`riskmodel_sem.sem.comparison.difference_test`, as
        ``lavTestLRT(one, measurement)`` (``"chisq difference"`` for ML, the Satorra-Bentler
        (2001) scaled difference for MLR, Satorra's (2000) for WLSMV and ULSMV).

    References
    ----------
    Podsakoff, P. M., et al. (2003). Journal of Applied Psychology, 88, 879-903.

    Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for
    moment structure analysis. Psychometrika, 66, 507-514. doi:10.1007/BF02296192
    """
    name = "common_factor"
    while name in items:
        name = "_" + name
    syntax = f"{name} =~ " + " + ".join(items) + "\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        one = fit_model(syntax, data, estimator=estimator, missing=missing,
                        source="one-factor model", compute_modindices=False)
    keys = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic",
            "chisq_scaled", "chisq_scaling_factor", "cfi_robust", "tli_robust", "rmsea_robust")
    fit = {k: one.fit.get(k) for k in keys if k in one.fit}
    test = difference_test(one, measurement)
    diff, dd, pval = test["chisq_diff"], int(test["df_diff"]), test["pvalue"]
    method = {"lrt": "chisq difference"}.get(test["method"], test["method"])
    return OneFactorResult(syntax=syntax, fit=fit, converged=bool(one.converged),
                           n_obs=int(one.n_obs),
                           warnings=tuple(str(w.message) for w in caught),
                           chisq_diff=float(diff), df_diff=int(dd), pvalue=pval, method=method)
