"""Synthetic surveys drawn from a spec's population values.

The latent structure is a standardized linear model: exogenous top-level latent variables
(dimensions, or first-order factors that belong to no dimension) are multivariate normal with
unit variances and the spec's correlations; endogenous ones follow the structural regressions
with residual variances that make their variance 1; first-order factors are second-order
loading times dimension plus residual (variance ``1 - loading**2``); items are loading times
factor plus residual. Continuous responses are cut at the thresholds into ``min..max``.

All randomness comes from ``numpy.random.default_rng(seed)``; the same seed gives the same
frame and the same workbook bytes.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import OptionError, SpecError
from ..outputs import reproducible_package, write_bytes
from ..limits import MAX_SIMULATED_RESPONDENTS
from .spec import Spec, load_spec

__all__ = ["simulate_survey", "population_covariance", "write_synthetic_xlsx", "run_simulate",
           "FIXED_TIMESTAMP"]

#: Timestamp written into generated workbooks (properties and zip entries) for identical bytes.
FIXED_TIMESTAMP = _dt.datetime(2023, 6, 2, 0, 0, 0)

_DISTRICTS = ("祖庙街道", "石湾镇街道", "张槎街道")
_DISTRICT_P = (0.40, 0.35, 0.25)


def _check_args(n: int, seed: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise OptionError(f"The number of respondents must be a positive integer, got {n!r}.")
    if n > MAX_SIMULATED_RESPONDENTS:
        raise OptionError(f"The number of respondents must be at most "
                          f"{MAX_SIMULATED_RESPONDENTS}, got {n}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OptionError(f"The seed must be a non-negative integer, got {seed!r}.")


@dataclass(frozen=True)
class _Structure:
    """The standardized structure of the top-level latent variables of a spec's population.

    ``exog`` are drawn jointly through ``chol``; ``steps`` generate the endogenous ones in
    causal order, each as ``(lhs, rhs names, coefficients, residual variance)``; ``cov`` is
    the implied covariance of every pair of top-level latents.
    """

    exog: tuple
    chol: np.ndarray
    steps: tuple
    cov: dict


def _latent_structure(spec: Spec) -> _Structure:
    """Exogenous correlations and the causal order of the structural regressions."""
    pop = spec.population
    in_dim = {f for d in spec.dimensions for f in d.factors}
    top = list(spec.dimension_codes) + [c for c in spec.construct_codes if c not in in_dim]
    regs = {lhs: dict(rhs) for lhs, rhs in pop.regressions.items()}
    for lhs, rhs in regs.items():
        for name in (lhs, *rhs):
            if name not in top:
                raise SpecError(f"{spec.source}: Simulation supports regressions among top-level "
                                f"latent variables only; {name} is a first-order factor of a "
                                "dimension.")
    exog = [t for t in top if t not in regs]
    # implied covariance matrix of the top-level latents, filled in as they are generated
    cov: dict[tuple[str, str], float] = {}
    for a in exog:
        for b in exog:
            cov[a, b] = 1.0 if a == b else 0.0
    for a, b, r in pop.covariances:
        cov[a, b] = cov[b, a] = r
    s_exog = np.array([[cov[a, b] for b in exog] for a in exog])
    try:
        chol = np.linalg.cholesky(s_exog) if exog else np.zeros((0, 0))
    except np.linalg.LinAlgError:
        raise SpecError(f"{spec.source}: population.covariances: The correlations among "
                        "exogenous latent variables are not positive definite.") from None
    steps = []
    done = set(exog)
    pending = [t for t in top if t in regs]
    while pending:
        ready = [t for t in pending if all(r in done for r in regs[t])]
        if not ready:
            raise SpecError(f"{spec.source}: structural: The regressions among "
                            f"{', '.join(pending)} form a cycle; simulation needs a recursive "
                            "model.")
        for lhs in ready:
            rhs = list(regs[lhs])
            b = np.array([regs[lhs][r] for r in rhs])
            s = np.array([[cov[a, c] for c in rhs] for a in rhs])
            explained = float(b @ s @ b)
            resid = 1.0 - explained
            if resid <= 0:
                raise SpecError(f"{spec.source}: population.regressions.{lhs}: The coefficients "
                                f"explain {explained:.4f} of the variance of {lhs}; they must "
                                "explain less than 1.")
            steps.append((lhs, tuple(rhs), b, resid))
            known = list({k[0] for k in cov})
            for other in known:
                c = float(sum(bk * cov[r, other] for bk, r in zip(b, rhs)))
                cov[lhs, other] = cov[other, lhs] = c
            cov[lhs, lhs] = 1.0
            done.add(lhs)
            pending.remove(lhs)
    return _Structure(tuple(exog), chol, tuple(steps), cov)


def _latent_scores(spec: Spec, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw the top-level latent variables (exogenous, then endogenous in causal order)."""
    st = _latent_structure(spec)
    z = rng.standard_normal((n, len(st.exog))) @ st.chol.T
    scores = {name: z[:, k] for k, name in enumerate(st.exog)}
    for lhs, rhs, b, resid in st.steps:
        scores[lhs] = (sum(bk * scores[r] for bk, r in zip(b, rhs))
                       + np.sqrt(resid) * rng.standard_normal(n))
    return scores


def _categorized_covariance(rho: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Covariance of the category counts #{k: x > tau_k} of standard normals with correlations
    ``rho`` (see :func:`population_covariance`)."""
    from scipy.special import ndtr

    nodes, weights = np.polynomial.legendre.leggauss(40)
    h = -tau[:, None, None]                 # P(x > tau_k) = Phi(-tau_k)
    k = -tau[None, :, None]
    marg = ndtr(-tau)
    iu, ju = np.triu_indices(rho.shape[0], 1)
    r = rho[iu, ju][:, None, None, None]
    # Plackett: the bivariate density integrated over the correlation from 0 to r
    t = 0.5 * r * (nodes + 1.0)
    s2 = 1.0 - t * t
    dens = np.exp(-(h * h - 2 * t * h * k + k * k) / (2 * s2)) / (2 * np.pi * np.sqrt(s2))
    joint = ndtr(h[..., 0]) * ndtr(k[..., 0]) + 0.5 * r[..., 0] * (dens * weights).sum(axis=-1)
    outer = np.outer(marg, marg)
    out = np.empty_like(rho, dtype=float)
    out[iu, ju] = out[ju, iu] = (joint - outer).sum(axis=(1, 2))
    np.fill_diagonal(out, float((ndtr(np.minimum(h[..., 0], k[..., 0])) - outer).sum()))
    return out


def population_covariance(spec: Spec, categorized: bool = False) -> pd.DataFrame:
    """The population covariance matrix of the item responses :func:`simulate_survey` draws.

    Parameters
    ----------
    spec : Spec
        A spec with a ``population`` block.
    categorized : bool, default False
        False: the continuous responses (``continuous=True``; a correlation matrix). True: the
        answers cut into ``min..max`` at the population thresholds.

    Returns
    -------
    pandas.DataFrame
        Items by items, in spec order, with reverse-keyed items in the latent's direction (as
        the survey reader recodes them).

    Notes
    -----
    Continuous responses: cov(x_i, x_j) = lambda_i lambda_j cov(f_i, f_j) and var(x_i) = 1,
    where first-order factors of a dimension d have cov(f_c, f_c') = gamma_c gamma_c'
    cov(d, d') and cov(f_c, t) = gamma_c cov(d, t) through their second-order loadings gamma.

    Answers ``v = min + #{k: x > tau_k}``: with rho = cov(x_i, x_j),
    cov(v_i, v_j) = sum_k sum_l [Phi2(-tau_k, -tau_l; rho) - Phi(-tau_k) Phi(-tau_l)], the
    bivariate normal probabilities by Plackett's (1954) identity
    Phi2(h, k; rho) = Phi(h) Phi(k) + int_0^rho phi2(h, k; r) dr (Gauss-Legendre, 1e-12).
    """
    if spec.population is None:
        raise SpecError(f"{spec.source}: The spec has no population values.")
    pop = spec.population
    cov = _latent_structure(spec).cov
    in_dim = {f: d.code for d in spec.dimensions for f in d.factors}

    def top(c):  # (top-level latent, loading on it)
        return (in_dim[c], pop.second_order[in_dim[c]][c]) if c in in_dim else (c, 1.0)

    def factor_cov(a, b):
        if a == b:
            return 1.0
        (ta, ga), (tb, gb) = top(a), top(b)
        return ga * gb * cov[ta, tb]

    items = [i for i in spec.items if i.construct]
    if len(items) != len(spec.items):
        raise SpecError(f"{spec.source}: Every item needs a factor to be simulated.")
    lam = np.array([pop.loadings[i.construct][i.code] for i in items])
    fc = np.array([[factor_cov(a.construct, b.construct) for b in items] for a in items])
    sigma = np.outer(lam, lam) * fc
    np.fill_diagonal(sigma, 1.0)
    if categorized:
        sigma = _categorized_covariance(sigma, np.asarray(pop.thresholds, dtype=float))
    codes = [i.code for i in items]
    return pd.DataFrame(sigma, index=codes, columns=codes)


def simulate_survey(spec: Spec, n: int, seed: int, continuous: bool = False,
                    recoded: bool = False) -> pd.DataFrame:
    """Draw a synthetic survey from the spec's population values.

    Parameters
    ----------
    spec : Spec
        A spec with a ``population`` block.
    n : int
        Number of respondents.
    seed : int
        Seed for ``numpy.random.default_rng``; the same seed gives the same frame.
    continuous : bool, default False
        Return the standardized continuous responses instead of the answers cut into
        ``min..max`` (for checking the generator).
    recoded : bool, default False
        Return reverse-keyed items in the latent's direction, as the survey reader recodes
        them, instead of as a respondent answers them (for fitting the draws directly).

    Returns
    -------
    pandas.DataFrame
        Column ``id`` (1..n) then one column per item in spec order: integers ``min..max`` as a
        respondent would answer (reverse-keyed items reversed), or floats if ``continuous``.

    Raises
    ------
    SpecError
        If the spec has no population values, its regressions are cyclic or explain a
        variance of 1 or more, or the exogenous correlations are not positive definite.
    OptionError
        If ``n`` or ``seed`` is not a positive / non-negative integer.

    Notes
    -----
    Random numbers are drawn in a fixed order: exogenous latents (n x k, correlated through
    the Cholesky factor), each endogenous latent's residual in causal order, the first-order
    factor residuals, then the item residuals. A reverse-keyed item is generated on the
    latent's direction and reported reversed (``min + max - answer``; ``-x`` if continuous),
    so that reading the survey recodes it back.

    Examples
    --------
    >>> spec = load_spec("specs/gcrm.yaml")               # doctest: +SKIP
    >>> simulate_survey(spec, 5, seed=1).shape             # doctest: +SKIP
    (5, 34)
    """
    _check_args(n, seed)
    if spec.population is None:
        raise SpecError(f"{spec.source}: The spec has no population values to simulate from.")
    pop = spec.population
    rng = np.random.default_rng(seed)
    scores = _latent_scores(spec, n, rng)
    in_dim = {f: d.code for d in spec.dimensions for f in d.factors}
    sub = [c for c in spec.construct_codes if c in in_dim]
    e_f = rng.standard_normal((n, len(sub)))
    factors: dict[str, np.ndarray] = {}
    for k, c in enumerate(sub):
        lam = pop.second_order[in_dim[c]][c]
        factors[c] = lam * scores[in_dim[c]] + np.sqrt(1 - lam * lam) * e_f[:, k]
    for c in spec.construct_codes:
        if c not in factors:
            factors[c] = scores[c]
    items = [i for i in spec.items if i.construct]
    if len(items) != len(spec.items):
        raise SpecError(f"{spec.source}: Every item needs a factor to be simulated.")
    e_x = rng.standard_normal((n, len(items)))
    out: dict[str, np.ndarray] = {"id": np.arange(1, n + 1)}
    lo = spec.scale.min if spec.scale is not None else 1
    hi = spec.scale.max if spec.scale is not None else len(pop.thresholds) + 1
    thr = np.asarray(pop.thresholds)
    for k, item in enumerate(items):
        lam = pop.loadings[item.construct][item.code]
        x = lam * factors[item.construct] + np.sqrt(1 - lam * lam) * e_x[:, k]
        flip = item.reverse and not recoded
        if continuous:
            out[item.code] = -x if flip else x
        else:
            v = lo + np.digitize(x, thr).astype(np.int64)
            out[item.code] = (lo + hi - v) if flip else v
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------

def _export_frame(spec: Spec, n: int, seed: int, text_fraction: float,
                  missing_cells: int) -> pd.DataFrame:
    answers = simulate_survey(spec, n, seed)
    codes = list(spec.item_codes)
    # decorations come from a second stream so the answers equal simulate_survey(spec, n, seed)
    rng = np.random.default_rng([seed, 1])
    cells = np.array(answers[codes].to_numpy(), dtype=object)
    n_text = int(round(text_fraction * n))
    text_rows = np.sort(rng.choice(n, size=min(n_text, n), replace=False))
    if spec.scale is not None and spec.scale.labels:
        lang = spec.language
        for i in text_rows:
            for j in range(len(codes)):
                try:
                    cells[i, j] = spec.scale.label(int(cells[i, j]), lang)
                except KeyError:
                    pass
    k = min(missing_cells, cells.size)
    flat = np.sort(rng.choice(cells.size, size=k, replace=False))
    for f in flat:
        cells[f // len(codes), f % len(codes)] = None
    start = _dt.datetime(2023, 6, 2, 8, 0, 0)
    gaps = rng.exponential(120.0, size=n).round().astype(int) + 1
    times = [start + _dt.timedelta(seconds=int(s)) for s in np.cumsum(gaps)]
    duration = np.clip(rng.lognormal(np.log(240), 0.45, size=n).round(), 40, None).astype(int)
    gender = np.where(rng.random(n) < 0.5, "男", "女")
    district = rng.choice(np.array(_DISTRICTS), size=n, p=_DISTRICT_P)
    meta = pd.DataFrame({
        "序号": np.arange(1, n + 1),
        "提交答卷时间": [t.strftime("%Y-%m-%d %H:%M:%S") for t in times],
        "所用时间": duration,
        "性别": gender,
        "街道": district,
    })
    items = pd.DataFrame(cells, columns=codes)
    return pd.concat([meta, items], axis=1)


def write_synthetic_xlsx(spec: Spec, n: int, seed: int, out_path: str | Path,
                         text_fraction: float = 0.15, missing_cells: int = 20) -> Path:
    """Write a synthetic survey as a questionnaire-platform (Wenjuanxing-like) export.

    Parameters
    ----------
    spec : Spec
        A spec with population values.
    n : int
        Number of respondents.
    seed : int
        Seed; the same seed gives byte-identical files.
    out_path : str or Path
        The ``.xlsx`` file to write (atomically: a temporary file in the same folder is
        renamed over it).
    text_fraction : float, default 0.15
        Share of respondents (chosen by the seed) whose answers are written as scale labels in
        the spec's language ("同意") instead of numbers.
    missing_cells : int, default 20
        Number of item answers (chosen by the seed) left empty.

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    SpecError, OptionError
        As :func:`simulate_survey`; OptionError also for a bad ``text_fraction`` or
        ``missing_cells``.
    OutputError
        If the file cannot be written.

    Notes
    -----
    Sheet ``Sheet1`` holds 序号 (respondent id), 提交答卷时间 (submit time), 所用时间 (duration in
    seconds), 性别 (男/女), 街道 (district, three values) and the items, one column per item
    code; the item answers equal ``simulate_survey(spec, n, seed)`` apart from the text and
    missing cells. Sheet ``codebook`` lists item, factor, dimension, zh, en and reverse.
    Workbook properties and zip entries carry :data:`FIXED_TIMESTAMP`.
    """
    import openpyxl

    if not 0 <= text_fraction <= 1:
        raise OptionError(f"text_fraction must lie in [0, 1], got {text_fraction!r}.")
    if isinstance(missing_cells, bool) or not isinstance(missing_cells, int) or missing_cells < 0:
        raise OptionError(f"missing_cells must be a non-negative integer, got {missing_cells!r}.")
    frame = _export_frame(spec, n, seed, text_fraction, missing_cells)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([v.item() if isinstance(v, np.generic) else v for v in row])
    cb = wb.create_sheet("codebook")
    cb.append(["item", "factor", "dimension", "zh", "en", "reverse"])
    for item in spec.items:
        cb.append([item.code, item.construct, spec.dimension_of(item.construct) or "",
                   item.zh, item.en, bool(item.reverse)])
    props = wb.properties
    props.creator = "riskmodel-sem"
    props.lastModifiedBy = "riskmodel-sem"
    props.title = f"Synthetic survey: {spec.name}, n={n}, seed={seed}"
    props.created = FIXED_TIMESTAMP
    props.modified = FIXED_TIMESTAMP
    buf = io.BytesIO()
    wb.save(buf)
    return write_bytes(Path(out_path), reproducible_package(buf.getvalue(), FIXED_TIMESTAMP))


def run_simulate(spec_path: str | Path, n: int, seed: int, out_path: str | Path) -> Path:
    """Load a spec and write a synthetic survey (what ``riskmodel-sem simulate`` does).

    Parameters
    ----------
    spec_path : str or Path
        YAML spec with population values.
    n : int
        Number of respondents.
    seed : int
        Seed for the random numbers.
    out_path : str or Path
        ``.xlsx`` (questionnaire-platform export, see :func:`write_synthetic_xlsx`) or
        ``.csv`` (``id`` and the item answers as numbers, UTF-8).

    Returns
    -------
    Path
        The file written (whole or not at all).

    Raises
    ------
    SpecError
        If the spec is invalid or has no population values.
    OptionError
        If ``n``, ``seed`` or the output extension is invalid.
    OutputError
        If the file cannot be written.

    Examples
    --------
    >>> run_simulate("specs/gcrm.yaml", 600, 20230602,
    ...              "surveys/gcrm_synthetic.xlsx")         # doctest: +SKIP
    PosixPath('surveys/gcrm_synthetic.xlsx')
    """
    out = Path(out_path)
    ext = out.suffix.lower()
    if ext not in (".xlsx", ".csv"):
        raise OptionError(f"{out}: The output must be an .xlsx or .csv file.")
    _check_args(n, seed)
    spec = load_spec(spec_path)
    if ext == ".xlsx":
        return write_synthetic_xlsx(spec, n, seed, out)
    frame = simulate_survey(spec, n, seed)
    payload = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return write_bytes(out, payload)
