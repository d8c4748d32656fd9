"""The one module that talks to semopy.

riskmodel-sem estimates on its own core (:mod:`riskmodel_sem.sem.estimation`); semopy serves as an
independent implementation for the user's cross-check (``riskmodel-sem fit ... --crosscheck
semopy``, :func:`crosscheck_semopy`), for cross-checks in the tests and as the baseline of the
benchmarks. semopy is imported lazily, only when one of these functions runs. semopy 2.3.11
seeds the global NumPy random state at import and its optimizer reuses the last fit's values,
so every call here builds a fresh ``semopy.Model`` and restores the random state.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import OptionError

__all__ = ["CrossCheck", "crosscheck_semopy", "check_crosscheck_options", "semopy_estimates",
           "semopy_model", "CROSSCHECK_ENGINES"]

#: Engines ``--crosscheck`` accepts.
CROSSCHECK_ENGINES = ("semopy",)

#: Parameter kinds compared: loadings, regressions, variances and covariances.
_COMPARED_OPS = ("=~", "~", "~~")

_OPS = {"~": "~", "~~": "~~"}


def _strip_definitions(syntax: str) -> str:
    """semopy does not understand ``:=`` definitions or lavaan's ``~ 1``; drop those lines."""
    keep = []
    for line in syntax.splitlines():
        code = line.split("#", 1)[0]
        if ":=" in code or code.replace(" ", "").endswith("~1"):
            continue
        keep.append(line)
    return "\n".join(keep)


def semopy_model(syntax: str):
    """A fresh ``semopy.Model`` for lavaan syntax without ``:=`` lines."""
    state = np.random.get_state()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import semopy

            return semopy.Model(_strip_definitions(syntax))
    finally:
        np.random.set_state(state)


def semopy_estimates(syntax: str, data: pd.DataFrame) -> pd.DataFrame:
    """Fit with semopy (ML, its default "MLW" objective) and return lavaan-style rows.

    Returns
    -------
    pandas.DataFrame
        Columns lhs, op, rhs, est in lavaan's orientation (semopy writes loadings as
        ``x1 ~ visual``; they become ``visual =~ x1``).
    """
    return _semopy_fit(syntax, data)[0]


def _semopy_fit(syntax: str, data: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """semopy's estimates (see :func:`semopy_estimates`) and its number of free parameters."""
    model = semopy_model(syntax)
    latent = set()
    for line in _strip_definitions(syntax).splitlines():
        code = line.split("#", 1)[0]
        if "=~" in code:
            latent.add(code.split("=~")[0].strip())
    state = np.random.get_state()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(data)
            table = model.inspect()
    finally:
        np.random.set_state(state)
    rows = []
    for r in table.itertuples(index=False):
        lhs, op, rhs, est = r[0], r[1], r[2], float(r[3])
        if op == "~" and rhs in latent and lhs not in latent | {""} or (
                op == "~" and rhs in latent and lhs in latent and _is_loading(syntax, rhs, lhs)):
            rows.append((rhs, "=~", lhs, est))
        else:
            rows.append((lhs, op, rhs, est))
    return pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est"]), len(model.param_vals)


def _is_loading(syntax: str, factor: str, indicator: str) -> bool:
    for line in syntax.splitlines():
        code = line.split("#", 1)[0]
        if "=~" in code and code.split("=~")[0].strip() == factor:
            terms = [t.split("*")[-1].strip() for t in code.split("=~")[1].split("+")]
            if indicator in terms:
                return True
    return False


@dataclass(frozen=True)
class CrossCheck:
    """The same model refitted by an independent implementation, compared with our estimates.

    Attributes
    ----------
    engine : str
        ``"semopy"``.
    version : str
        The engine's version.
    max_abs_diff : float
        Largest absolute difference ``max |est_ours - est_engine|`` over the compared free
        parameters (matched by lhs, op, rhs; ``~~`` in either order).
    parameter : str
        The parameter where the difference is largest, as ``"lhs op rhs"``.
    n_compared : int
        Number of free parameters compared.
    note : str
        What was compared and how much difference to expect.
    """

    engine: str
    version: str
    max_abs_diff: float
    parameter: str
    n_compared: int
    note: str

    def to_dict(self) -> dict:
        """JSON-ready: engine, version, max_abs_diff, parameter, n_compared, note."""
        return {"engine": self.engine, "version": self.version,
                "max_abs_diff": self.max_abs_diff, "parameter": self.parameter,
                "n_compared": self.n_compared, "note": self.note}


def check_crosscheck_options(engine: str, *, missing: str = "listwise", group=None,
                             estimator: str = "ML") -> None:
    """Raise OptionError when a cross-check with ``engine`` cannot be made for these options.

    semopy 2.3.11 has no FIML fit statistics worth comparing and fits groups separately
    without equality constraints (DESIGN.md §2), so ``--missing fiml`` and ``--group`` are
    refused; ML and MLR share their estimates, so both can be checked.
    """
    if engine not in CROSSCHECK_ENGINES:
        raise OptionError(f"--crosscheck {engine!r} is not supported; use one of: "
                          f"{', '.join(CROSSCHECK_ENGINES)}.")
    if missing != "listwise":
        raise OptionError("--crosscheck semopy needs --missing listwise: semopy's full-"
                          "information ML differs from lavaan's, so the estimates would not be "
                          "comparable.")
    if group is not None:
        raise OptionError("--crosscheck semopy cannot be combined with --group: semopy fits "
                          "groups separately, without lavaan's multi-group model.")
    if str(estimator).upper() not in ("ML", "MLR"):
        raise OptionError(f"--crosscheck semopy needs --estimator ML or MLR, got {estimator}.")


def _free_rows(fit) -> pd.DataFrame:
    """Our free loadings, regressions, variances and covariances (lhs, op, rhs, est)."""
    est = fit.estimates
    table = getattr(fit.model, "partable", None)
    if table is not None and "free" in table.columns:
        free = table[(table["free"] > 0) & table["op"].isin(_COMPARED_OPS)]
        keys = set(zip(free["lhs"], free["op"], free["rhs"]))
        mask = [k in keys for k in zip(est["lhs"], est["op"], est["rhs"])]
        rows = est[mask]
    else:  # without the compiled model: fixed parameters have a zero standard error
        rows = est[est["op"].isin(_COMPARED_OPS) & (est["se"].fillna(0) > 0)]
    return rows[["lhs", "op", "rhs", "est"]].reset_index(drop=True)


def crosscheck_semopy(fit, data: pd.DataFrame) -> CrossCheck:
    """Refit ``fit``'s model with semopy and compare the free estimates.

    semopy's default ML objective ("MLW", the same discrepancy function as lavaan's ML) is
    minimized with its default SLSQP optimizer on the complete rows of the model's observed
    variables, the rows our listwise fit used. Loadings, regressions, variances and covariances
    are matched by (lhs, op, rhs); means, intercepts and ``:=`` definitions are not compared
    (semopy's model without mean structure has none).

    Parameters
    ----------
    fit : riskmodel_sem.sem.estimation.FitResult
        A single-group ML or MLR fit with ``missing="listwise"``.
    data : pandas.DataFrame
        The data the model was fitted to (extra columns are ignored).

    Returns
    -------
    CrossCheck

    Raises
    ------
    OptionError
        For FIML or multi-group fits (see :func:`check_crosscheck_options`), when semopy fails
        on the model, reads it with another number of free parameters, or its estimates lack
        one of our free parameters.
    """
    check_crosscheck_options("semopy", missing=fit.missing,
                             group=fit.group_labels if len(fit.group_labels) > 1 else None,
                             estimator=fit.estimator)
    observed = list(fit.observed)
    frame = data[observed].apply(pd.to_numeric, errors="coerce").dropna()
    ours = _free_rows(fit)
    try:
        theirs, n_free = _semopy_fit(fit.syntax, frame)
    except Exception as exc:  # semopy's own errors have no common base class
        raise OptionError(f"semopy could not fit this model ({type(exc).__name__}: "
                          f"{str(exc).strip() or 'no message'}); leave out --crosscheck.") from exc
    table = getattr(fit.model, "partable", None)
    ours_free = None
    if table is not None and "free" in table.columns:  # semopy's model has no means
        ours_free = table.loc[(table["free"] > 0) & (table["op"] != "~1"), "free"].nunique()
    if ours_free is not None and n_free != ours_free:
        raise OptionError(f"semopy reads this model with {n_free} free parameters, "
                          f"riskmodel-sem (as lavaan) with {ours_free}: the syntax means "
                          "something else to semopy (NA*, fixed values or constraints), so the "
                          "estimates cannot be compared.")
    lookup = {}
    for r in theirs.itertuples(index=False):
        lookup[(r.lhs, r.op, r.rhs)] = r.est
        if r.op == "~~":
            lookup.setdefault((r.rhs, r.op, r.lhs), r.est)
    worst, where, missing_rows = -1.0, "", []
    for r in ours.itertuples(index=False):
        other = lookup.get((r.lhs, r.op, r.rhs))
        if other is None:
            missing_rows.append(f"{r.lhs} {r.op} {r.rhs}")
            continue
        diff = abs(float(r.est) - float(other))
        if math.isnan(diff):
            diff = math.inf
        if diff > worst:
            worst, where = diff, f"{r.lhs} {r.op} {r.rhs}"
    if missing_rows:
        raise OptionError("semopy's solution lacks the parameter(s) "
                          f"{', '.join(missing_rows[:5])}; this model cannot be cross-checked "
                          "with semopy.")
    import semopy  # already imported by semopy_model; only for its version

    note = (f"semopy {semopy.__version__} refitted the model by ML (objective MLW, default "
            f"SLSQP optimizer) on the same {len(frame)} complete rows; compared: the "
            f"{len(ours)} free loadings, regressions, variances and covariances (means and := "
            "definitions are not). semopy's optimizer stops early, so differences in the third "
            "significant digit are expected; larger ones point to a different model or a fit "
            "that did not converge.")
    return CrossCheck(engine="semopy", version=str(semopy.__version__),
                      max_abs_diff=float(max(worst, 0.0)), parameter=where,
                      n_compared=len(ours), note=note)
