"""The one module that talks to semopy.

riskmodel-sem estimates on its own core (:mod:`riskmodel_sem.sem.estimation`); semopy serves as an
independent implementation for cross-checks in the tests and as the baseline of the benchmarks.
semopy 2.3.11 seeds the global NumPy random state at import and its optimizer reuses the last
fit's values, so every call here builds a fresh ``semopy.Model`` and restores the random state.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["semopy_estimates", "semopy_model"]

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
    return pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est"])


def _is_loading(syntax: str, factor: str, indicator: str) -> bool:
    for line in syntax.splitlines():
        code = line.split("#", 1)[0]
        if "=~" in code and code.split("=~")[0].strip() == factor:
            terms = [t.split("*")[-1].strip() for t in code.split("=~")[1].split("+")]
            if indicator in terms:
                return True
    return False
