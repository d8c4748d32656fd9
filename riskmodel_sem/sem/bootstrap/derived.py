"""Derived quantities (standardized loadings, total effects) evaluated in every draw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...errors import ModelError

__all__ = ["Derived", "spec_quantities", "DerivedEvaluator", "derived_values"]


# ------------------------------------------------------------------------------------------
# derived quantities (standardized loadings, total effects) evaluated in every draw
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Derived:
    """A quantity computed from the parameters in every draw: ``sum(coef * term)``.

    Attributes
    ----------
    name : str
        Name shown in the ``lhs`` column (op ``:=``).
    expression : str
        Human-readable definition shown in the ``rhs`` column.
    terms : tuple of (coef, kind, lhs, op, rhs)
        ``kind`` is ``"est"`` (the unstandardized value of the model row ``lhs op rhs``),
        ``"std_all"`` (its completely standardized value; ``=~`` and ``~`` rows) or
        ``"total"`` (the total effect of ``rhs`` on ``lhs``, op ``"~"``) or ``"total_std"``
        (that total effect times sd(rhs) / sd(lhs)).
    """

    name: str
    expression: str
    terms: tuple[tuple[float, str, str, str, str], ...]


def _path_products(partable, cause: str, outcome: str) -> list[list[str]]:
    """Every directed path cause -> ... -> outcome through the regressions, as label lists."""
    regs = partable[partable["op"] == "~"]
    by_rhs: dict[str, list[tuple[str, str]]] = {}
    for r in regs.itertuples():
        name = r.label if r.label else f"{r.lhs}~{r.rhs}"
        by_rhs.setdefault(r.rhs, []).append((r.lhs, name))
    out: list[list[str]] = []

    def walk(node, labels, seen):
        if node == outcome and labels:
            out.append(labels)
            return
        for nxt, name in by_rhs.get(node, []):
            if nxt not in seen:
                walk(nxt, labels + [name], seen | {nxt})

    walk(cause, [], {cause})
    return out


def spec_quantities(spec, model) -> tuple[Derived, ...]:
    """The derived quantities a spec's hypotheses and effects need, for one compiled model.

    Parameters
    ----------
    spec : riskmodel_sem.survey.spec.Spec
    model : riskmodel_sem.sem.model.CompiledModel
        The model the spec was fitted with (its parameter table decides which paths exist).

    Returns
    -------
    tuple of Derived
        For each ``loading_order`` hypothesis and each other indicator, ``<id>_<strongest>_<other>``
        = std_all(dimension =~ strongest) - std_all(dimension =~ other); for each effect of
        the spec, ``total_<cause>_<outcome>`` = the total effect of the effect's first construct
        on its last (when at least one path connects them).
    """
    pt = model.partable
    loads = {(r.lhs, r.rhs) for r in pt[pt["op"] == "=~"].itertuples()}
    out: list[Derived] = []
    for h in getattr(spec, "hypotheses", ()):
        if h.kind != "loading_order":
            continue
        dim = h.dimension or h.lhs
        best = h.strongest or h.rhs
        for other in h.others:
            if (dim, best) in loads and (dim, other) in loads:
                out.append(Derived(
                    f"{h.id}_{best}_{other}",
                    f"std_all({dim}=~{best}) - std_all({dim}=~{other})",
                    ((1.0, "std_all", dim, "=~", best), (-1.0, "std_all", dim, "=~", other)),
                ))
    seen = set()
    for e in getattr(spec, "effects", ()):
        cause, outcome = e.path[0], e.path[-1]
        if (cause, outcome) in seen or cause == outcome:
            continue
        paths = _path_products(pt, cause, outcome)
        if not paths:
            continue
        seen.add((cause, outcome))
        expr = " + ".join("*".join(p) for p in paths)
        out.append(Derived(f"total_{cause}_{outcome}", expr,
                           ((1.0, "total", outcome, "~", cause),)))
    return tuple(out)


class DerivedEvaluator:
    """Evaluates a tuple of :class:`Derived` from the RAM matrices (A, S) quickly.

    Parameters
    ----------
    model : CompiledModel
    derived : sequence of Derived

    Raises
    ------
    ModelError
        When a term names a row that is not in the model or an unknown kind.

    Notes
    -----
    Calling it with (A, S) of group 1 gives ``sum(coef * term)`` per quantity (with stacks
    of B matrices, one row per draw), with E =
    (I - A)^-1: ``est`` terms read A or S, ``total`` terms E (lavaan's total effects), and
    ``std_all``/``total_std`` terms are multiplied by sd(cause) / sd(outcome) from
    diag(E S E') (lavaan's ``std.all``).
    """

    def __init__(self, model, derived: Sequence[Derived]):
        index = {v: i for i, v in enumerate(model.observed + model.latent)}
        self.names = tuple(d.name for d in derived)
        self.p = len(model.observed)
        terms = []
        for d in derived:
            for coef, kind, lhs, op, rhs in d.terms:
                if lhs not in index or rhs not in index:
                    raise ModelError(f"The derived quantity {d.name} uses {lhs} {op} {rhs}, "
                                     "which is not in the model.")
                if op == "=~":
                    i, j, mat = index[rhs], index[lhs], "A"
                elif op == "~":
                    i, j, mat = index[lhs], index[rhs], "A"
                elif op == "~~":
                    i, j, mat = index[lhs], index[rhs], "S"
                else:
                    raise ModelError(f"The derived quantity {d.name} uses op {op!r}; use =~, ~ "
                                     "or ~~.")
                if kind in ("total", "total_std"):
                    mat = "E"
                elif kind not in ("est", "std_all"):
                    raise ModelError(f"Unknown kind {kind!r} in derived quantity {d.name}.")
                if kind == "std_all" and mat != "A":
                    raise ModelError(f"The derived quantity {d.name}: std_all terms need an "
                                     "=~ or ~ row.")
                terms.append((float(coef), kind, "ASE".index(mat), i, j))
        self.n_terms = len(terms)
        self.coef = np.array([t[0] for t in terms])
        self.std = np.array([t[1] in ("std_all", "total_std") for t in terms], dtype=bool)
        self.mat = np.array([t[2] for t in terms], dtype=np.intp)
        self.rows = np.array([t[3] for t in terms], dtype=np.intp)
        self.cols = np.array([t[4] for t in terms], dtype=np.intp)
        owner = np.repeat(np.arange(len(derived)), [len(d.terms) for d in derived])
        self.sums = (owner[:, None] == np.arange(len(derived))).astype(float)  # term -> sum
        self.needs_sd = bool(self.std.any())

    def __call__(self, A, S) -> np.ndarray:
        """The quantities at one (A, S), or one row per draw for stacks (B, n, n)."""
        A, S = np.asarray(A, dtype=float), np.asarray(S, dtype=float)
        if A.ndim == 2:
            return self(A[None], S[None])[0]
        n = A.shape[-1]
        E = np.linalg.inv(np.eye(n) - A)
        vals = np.empty((A.shape[0], self.n_terms))
        for code, M in enumerate((A, S, E)):
            sel = self.mat == code
            if sel.any():
                vals[:, sel] = M[:, self.rows[sel], self.cols[sel]]
        if self.needs_sd:
            # sd of every variable: sqrt(diag(E S E')), the model-implied (std.all) scale
            sd = np.sqrt(np.clip(((E @ S) * E).sum(axis=-1), 0, None))
            std = self.std
            vals[:, std] *= sd[:, self.cols[std]] / sd[:, self.rows[std]]
        return (vals * self.coef) @ self.sums


def derived_values(model, theta, derived: Sequence[Derived]) -> np.ndarray:
    """Values of derived quantities at a parameter vector (group 1 of the model).

    Parameters
    ----------
    model : riskmodel_sem.sem.model.CompiledModel
    theta : numpy.ndarray
        Free parameters.
    derived : sequence of Derived

    Returns
    -------
    numpy.ndarray
        One value per derived quantity. ``std_all`` terms use the model-implied standard
        deviations (lavaan's ``std.all``); ``total`` terms are entries of (I - A)^-1, the sum
        over all directed paths of the products of their coefficients (lavaan's total effect).
    """
    if not derived:
        return np.zeros(0)
    A, S, _ = model.matrices(np.asarray(theta, dtype=float), 0)
    return DerivedEvaluator(model, derived)(A, S)
